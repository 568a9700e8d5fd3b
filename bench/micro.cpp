// switchboard-micro-bench: the pieces a request or a publish goes through,
// each timed alone with Google Benchmark.
//
//   route/*         route_table::match on a table shaped like a small REST API
//   json/*          encode_json and decode_json of a typical request body
//   frame/*         encode_frame for the sizes the fan-out bench publishes
//   publish/N       registry::publish to N in-process subscribers, fanned out
//                   and drained (items/s is deliveries per second)
#include "outbox.hpp"

#include <switchboard/detail/route_table.hpp>
#include <switchboard/detail/ws_frame.hpp>
#include <switchboard/json.hpp>
#include <switchboard/registry.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/describe/class.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
namespace ws = switchboard::detail::ws;

// ---- routing ---------------------------------------------------------------

sb::detail::route_table api_routes() {
    sb::detail::route_table table;
    for (const char* pattern : {"/", "/health", "/metrics", "/jobs", "/jobs/:jobid",
                                "/jobs/:jobid/events", "/jobs/:jobid/subscribe", "/users",
                                "/users/:id", "/users/:id/settings", "/static/*path"}) {
        table.add("GET", pattern);
    }
    table.add("POST", "/jobs");
    table.add("POST", "/jobs/:jobid/events");
    table.add("DELETE", "/jobs/:jobid");
    return table;
}

void route_literal(benchmark::State& state) {
    auto table = api_routes();
    for (auto _ : state) {
        auto match = table.match("GET", "/health");
        benchmark::DoNotOptimize(match);
    }
}
BENCHMARK(route_literal)->Name("route/literal");

void route_with_parameter(benchmark::State& state) {
    auto table = api_routes();
    for (auto _ : state) {
        auto match = table.match("GET", "/jobs/12345/subscribe");
        benchmark::DoNotOptimize(match);
    }
}
BENCHMARK(route_with_parameter)->Name("route/parameter");

void route_escaped_catch_all(benchmark::State& state) {
    auto table = api_routes();
    for (auto _ : state) {
        auto match = table.match("GET", "/static/css/site%20main.css");
        benchmark::DoNotOptimize(match);
    }
}
BENCHMARK(route_escaped_catch_all)->Name("route/catch_all_escaped");

void route_not_found(benchmark::State& state) {
    auto table = api_routes();
    for (auto _ : state) {
        auto match = table.match("GET", "/nothing/here");
        benchmark::DoNotOptimize(match);
    }
}
BENCHMARK(route_not_found)->Name("route/not_found");

// ---- JSON ------------------------------------------------------------------

struct step {
    std::string name;
    std::int64_t duration_ms = 0;
    bool done = false;
};
BOOST_DESCRIBE_STRUCT(step, (), (name, duration_ms, done))

/// A body the size of a typical REST call: a few scalars, an optional, a
/// list of strings and a short list of objects.
struct job_update {
    std::int64_t id = 0;
    std::string name;
    std::string state;
    double progress = 0;
    std::optional<std::string> note;
    std::vector<std::string> tags;
    std::vector<step> steps;
};
BOOST_DESCRIBE_STRUCT(job_update, (), (id, name, state, progress, note, tags, steps))

job_update sample_update() {
    return {
        42,
        "nightly-build",
        "running",
        0.625,
        "retrying the flaky step",
        {"ci", "linux", "release"},
        {{"checkout", 812, true}, {"compile", 95'310, true}, {"test", 0, false}},
    };
}

void json_encode(benchmark::State& state) {
    auto value = sample_update();
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = sb::encode_json(value);
        bytes += text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(json_encode)->Name("json/encode");

void json_decode(benchmark::State& state) {
    auto text = sb::encode_json(sample_update());
    for (auto _ : state) {
        auto value = sb::decode_json<job_update>(text);
        benchmark::DoNotOptimize(value);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(json_decode)->Name("json/decode");

// ---- framing ---------------------------------------------------------------

void frame_encode(benchmark::State& state) {
    std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    for (auto _ : state) {
        auto frame = ws::encode_frame(ws::opcode::text, payload);
        benchmark::DoNotOptimize(frame);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(frame_encode)->Name("frame/encode")->Arg(64)->Arg(1024)->Arg(64 * 1024);

void frame_parse_masked(benchmark::State& state) {
    // What the server does with a publisher's message: unmask and check UTF-8.
    std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    const std::array<unsigned char, 4> mask{0x11, 0x22, 0x33, 0x44};
    auto frame = ws::encode_frame(ws::opcode::text, payload, true, &mask);
    ws::frame_parser parser(ws::role::server, 1 << 20);
    ws::event ev;
    for (auto _ : state) {
        parser.parse(frame, ev);
        benchmark::DoNotOptimize(ev.payload.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(frame_parse_masked)->Name("frame/parse_masked")->Arg(64)->Arg(1024);

// ---- registry publish --------------------------------------------------------

/// Subscribers as the session code makes them: an outbox joined to a key.
/// The wake does nothing; the benchmark drains the outboxes itself, as each
/// session's writer would.
void registry_publish(benchmark::State& state) {
    const auto subscribers = static_cast<std::size_t>(state.range(0));
    boost::asio::io_context context(1);
    sb::registry channels(context);

    std::vector<std::shared_ptr<sb::detail::outbox>> boxes;
    std::vector<sb::registry::subscription> joined;
    for (std::size_t i = 0; i < subscribers; ++i) {
        boxes.push_back(std::make_shared<sb::detail::outbox>(
            std::size_t{1} << 20, sb::overflow_policy::close_try_again_later, [] {}));
        joined.push_back(channels.join(boxes.back(), "room"));
    }

    const std::string payload(64, 'x');
    sb::detail::outbox::batch batch;
    for (auto _ : state) {
        channels.publish("room", payload);
        context.restart();
        context.poll();
        for (const auto& box : boxes) {
            box->take(batch, 512, 256 * 1024);
            benchmark::DoNotOptimize(batch.frames.data());
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * subscribers));
    if (channels.stats().enqueued != state.iterations() * subscribers) {
        state.SkipWithError("a subscriber missed a message");
    }
}
BENCHMARK(registry_publish)->Name("publish")->Arg(1)->Arg(100)->Arg(10'000);

} // namespace

BENCHMARK_MAIN();
