// The server end-to-end tests talk to. Prints "port=N" once it listens, then
// serves until SIGINT/SIGTERM. Limits come from the command line so a test
// can make them small.
#include <switchboard/log.hpp>
#include <switchboard/registry.hpp>
#include <switchboard/server.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
using boost::asio::awaitable;

struct item {
    std::string name;
    int count = 0;
    std::optional<std::vector<std::string>> tags;
};
BOOST_DESCRIBE_STRUCT(item, (), (name, count, tags))

struct job_view {
    std::string route;
    std::int64_t jobid = 0;
};
BOOST_DESCRIBE_STRUCT(job_view, (), (route, jobid))

struct text_view {
    std::string value;
    std::vector<std::string> values;
};
BOOST_DESCRIBE_STRUCT(text_view, (), (value, values))

awaitable<sb::reply> health(sb::request&) {
    co_return sb::reply::raw(200, "text/plain", "ok");
}

awaitable<sb::reply> echo(sb::request& req) {
    co_return sb::reply::json(req.json<item>());
}

/// Any JSON at all, through the server's body path (depth limit included).
awaitable<sb::reply> any_json(sb::request& req) {
    co_return sb::reply::json(req.json<boost::json::value>());
}

awaitable<sb::reply> overview(sb::request&) {
    co_return sb::reply::json(job_view{"overview", 0});
}

awaitable<sb::reply> job(sb::request& req) {
    co_return sb::reply::json(job_view{"job", req.param<std::int64_t>("jobid")});
}

awaitable<sb::reply> file(sb::request& req) {
    co_return sb::reply::json(text_view{std::string(req.param("name")), {}});
}

awaitable<sb::reply> query(sb::request& req) {
    co_return sb::reply::json(text_view{"", req.query_all<std::string>("tag")});
}

awaitable<sb::reply> slow(sb::request& req) {
    auto ms = req.query<int>("ms").value_or(500);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(ms));
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return sb::reply::json(text_view{"slow", {}});
}

awaitable<sb::reply> boom(sb::request&) {
    throw std::runtime_error("secret detail of the failure");
    co_return sb::reply();
}

awaitable<sb::reply> teapot(sb::request&) {
    throw sb::http_error(418, std::vector<std::string>{"short and stout", "tip me over"});
    co_return sb::reply();
}

struct seq_message {
    std::int64_t seq = 0;
};
BOOST_DESCRIBE_STRUCT(seq_message, (), (seq))

struct subscribed {
    std::string type;
    std::int64_t job = 0;
};
BOOST_DESCRIBE_STRUCT(subscribed, (), (type, job))

struct count_view {
    std::size_t subscribers = 0;
};
BOOST_DESCRIBE_STRUCT(count_view, (), (subscribers))

struct stats_view {
    std::uint64_t published = 0;
    std::uint64_t enqueued = 0;
    std::uint64_t dropped = 0;
    std::uint64_t cut_off = 0;
};
BOOST_DESCRIBE_STRUCT(stats_view, (), (published, enqueued, dropped, cut_off))

/// The registry and the WebSocket limits every WebSocket route here uses.
struct channels {
    sb::registry* events = nullptr;
    sb::websocket_limits limits;
};
channels hub;

std::string job_key(std::int64_t id) {
    return "job-" + std::to_string(id);
}

/// The Flink proposal's scenario: after "subscribed", every {"seq": n} the
/// client sends is answered with {"seq": n + 1}; publishes arrive between.
awaitable<void> job_session(sb::websocket& ws) {
    while (auto message = co_await ws.read_json<seq_message>()) {
        if (message->seq == std::numeric_limits<decltype(message->seq)>::max()) {
            ws.close(1008, "seq is out of range");
            break;
        }
        ws.send_json(seq_message{message->seq + 1});
    }
}

awaitable<sb::reply> subscribe_job(sb::request& req) {
    auto job = req.param<std::int64_t>("jobid");
    if (job == 404) {
        co_return sb::reply::error(404, "no job 404");
    }
    auto token = sb::websocket_upgrade(job_session)
                     .send_first_json(subscribed{"subscribed", job})
                     .join(*hub.events, job_key(job))
                     .limits(hub.limits);
    co_return sb::reply::upgrade(std::move(token));
}

/// The same subscription with no session function: the server only sends.
awaitable<sb::reply> feed_job(sb::request& req) {
    auto job = req.param<std::int64_t>("jobid");
    co_return sb::reply::upgrade(sb::websocket_upgrade::send_only()
                                     .send_first_json(subscribed{"subscribed", job})
                                     .join(*hub.events, job_key(job))
                                     .limits(hub.limits));
}

awaitable<sb::reply> publish_job(sb::request& req) {
    auto job = req.param<std::int64_t>("jobid");
    auto body = req.json<boost::json::value>();
    hub.events->publish(job_key(job), boost::json::serialize(body));
    co_return sb::reply::json(count_view{hub.events->subscriber_count(job_key(job))}, 202);
}

awaitable<sb::reply> close_job(sb::request& req) {
    auto job = req.param<std::int64_t>("jobid");
    hub.events->close(job_key(job), 1000, "job removed");
    co_return sb::reply();
}

awaitable<sb::reply> count_job(sb::request& req) {
    auto job = req.param<std::int64_t>("jobid");
    co_return sb::reply::json(count_view{hub.events->subscriber_count(job_key(job))});
}

awaitable<sb::reply> registry_stats(sb::request&) {
    auto s = hub.events->stats();
    co_return sb::reply::json(stats_view{s.published, s.enqueued, s.dropped, s.cut_off});
}

/// Echoes every message with its own type; "close:CODE:REASON" closes.
awaitable<void> echo_session(sb::websocket& ws) {
    while (auto message = co_await ws.read()) {
        if (!message->binary && message->data.starts_with("close:")) {
            auto rest = std::string_view(message->data).substr(6);
            auto colon = rest.find(':');
            ws.close(static_cast<std::uint16_t>(std::stoi(std::string(rest.substr(0, colon)))),
                     colon == std::string_view::npos ? "" : rest.substr(colon + 1));
        } else if (!message->data.empty() && message->data == "throw") {
            throw std::runtime_error("session failed on purpose");
        } else if (message->binary) {
            ws.send_binary(message->data);
        } else {
            ws.send_text(message->data);
        }
    }
}

awaitable<sb::reply> echo_socket(sb::request& req) {
    sb::websocket_upgrade token(echo_session);
    token.limits(hub.limits);
    // Prefer the client's order among what we speak.
    for (const auto& offered : sb::offered_subprotocols(req)) {
        if (offered == "chat.v1" || offered == "chat.v2") {
            token.subprotocol(offered);
            break;
        }
    }
    co_return sb::reply::upgrade(std::move(token));
}

/// What /ws/record sessions read, for tests that must see what reached a
/// session function.
std::mutex recorded_mutex;
std::vector<std::string> recorded;

awaitable<void> record_session(sb::websocket& ws) {
    while (auto message = co_await ws.read()) {
        std::lock_guard lock(recorded_mutex);
        recorded.push_back(message->data);
    }
}

awaitable<sb::reply> record_socket(sb::request&) {
    co_return sb::reply::upgrade(sb::websocket_upgrade(record_session));
}

awaitable<sb::reply> recorded_messages(sb::request&) {
    std::lock_guard lock(recorded_mutex);
    co_return sb::reply::json(text_view{"", recorded});
}

awaitable<sb::reply> partner_socket(sb::request&) {
    sb::websocket_upgrade token(echo_session);
    token.allow_origins({"https://partner.example", "http://localhost:3000"});
    co_return sb::reply::upgrade(std::move(token));
}

/// Channels named by the client (case-24): checked with valid_channel_name
/// in the path of a subscribe or publish, and in subscribe messages.
std::string checked_channel(sb::request& req) {
    auto name = std::string(req.param("name"));
    if (!sb::valid_channel_name(name)) {
        throw sb::http_error(400, std::string(sb::channel_name_rule));
    }
    return "channel:" + name;
}

struct channel_view {
    std::string type;
    std::string channel;
};
BOOST_DESCRIBE_STRUCT(channel_view, (), (type, channel))

awaitable<sb::reply> subscribe_channel(sb::request& req) {
    auto key = checked_channel(req);
    co_return sb::reply::upgrade(sb::websocket_upgrade(job_session)
                                     .send_first_json(channel_view{"subscribed", key})
                                     .join(*hub.events, key)
                                     .limits(hub.limits));
}

awaitable<sb::reply> publish_channel(sb::request& req) {
    auto key = checked_channel(req);
    hub.events->publish(key, boost::json::serialize(req.json<boost::json::value>()));
    co_return sb::reply::json(count_view{hub.events->subscriber_count(key)}, 202);
}

struct subscribe_message {
    std::string subscribe;
};
BOOST_DESCRIBE_STRUCT(subscribe_message, (), (subscribe))

/// Joins every channel the client names in {"subscribe": NAME}; a bad name
/// closes the session with 1008 and the rule.
awaitable<void> channels_session(sb::websocket& ws) {
    while (auto message = co_await ws.read_json<subscribe_message>()) {
        if (!sb::valid_channel_name(message->subscribe)) {
            ws.close(1008, sb::channel_name_rule);
            co_return;
        }
        auto key = "channel:" + message->subscribe;
        ws.join(*hub.events, key);
        ws.send_json(channel_view{"subscribed", key});
    }
}

awaitable<sb::reply> channels_socket(sb::request&) {
    co_return sb::reply::upgrade(sb::websocket_upgrade(channels_session).limits(hub.limits));
}

long arg_value(const std::vector<std::string>& args, std::string_view name, long fallback) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == name) {
            return std::stol(args[i + 1]);
        }
    }
    return fallback;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    sb::server_options options;
    options.threads = static_cast<unsigned>(arg_value(args, "--threads", 2));
    options.header_limit = static_cast<std::size_t>(arg_value(args, "--header-limit", 8192));
    options.body_limit = static_cast<std::size_t>(arg_value(args, "--body-limit", 1 << 20));
    options.head_timeout = std::chrono::milliseconds(arg_value(args, "--head-timeout-ms", 10000));
    options.body_timeout = std::chrono::milliseconds(arg_value(args, "--body-timeout-ms", 10000));
    options.idle_timeout = std::chrono::milliseconds(arg_value(args, "--idle-timeout-ms", 60000));
    options.max_connections = static_cast<std::size_t>(arg_value(args, "--max-connections", 10000));
    options.shutdown_timeout =
        std::chrono::milliseconds(arg_value(args, "--shutdown-timeout-ms", 5000));
    if (arg_value(args, "--verbose", 0) != 0) {
        sb::set_log_sink(sb::stderr_log_sink(), sb::log_level::debug);
    }

    sb::route_options lenient;
    lenient.json.allow_unknown_fields = true;
    sb::route_options small_body;
    small_body.body_limit = 16;
    // State-changing requests from other sites: any for a public API, a
    // partner's only for another route (docs/http.md, "Origin").
    sb::route_options public_api;
    public_api.allowed_origins = std::vector<std::string>{"*"};
    sb::route_options partner_only;
    partner_only.allowed_origins = std::vector<std::string>{"https://partner.example"};

    hub.limits.max_message = static_cast<std::size_t>(arg_value(args, "--ws-max-message", 65536));
    hub.limits.max_outbound_bytes =
        static_cast<std::size_t>(arg_value(args, "--ws-max-outbound", 1 << 20));
    hub.limits.on_overflow = static_cast<sb::overflow_policy>(arg_value(args, "--ws-policy", 0));
    hub.limits.ping_interval = std::chrono::milliseconds(arg_value(args, "--ws-ping-ms", 20000));
    hub.limits.idle_timeout = std::chrono::milliseconds(arg_value(args, "--ws-idle-ms", 60000));
    hub.limits.close_timeout = std::chrono::milliseconds(arg_value(args, "--ws-close-ms", 2000));

    sb::router routes;
    routes.get("/health", health)
        .get("/jobs/:jobid/subscribe", subscribe_job)
        .get("/jobs/:jobid/feed", feed_job)
        .post("/jobs/:jobid/publish", publish_job)
        .del("/jobs/:jobid/subscribers", close_job)
        .get("/jobs/:jobid/subscribers", count_job)
        .get("/stats", registry_stats)
        .get("/ws/echo", echo_socket)
        .get("/ws/partner", partner_socket)
        .get("/ws/record", record_socket)
        .get("/ws/recorded", recorded_messages)
        .post("/echo", echo)
        .post("/echo/lenient", echo, lenient)
        .post("/echo/small", echo, small_body)
        .post("/echo/public", echo, public_api)
        .put("/echo/partner", echo, partner_only)
        .get("/channels/:name/subscribe", subscribe_channel)
        .post("/channels/:name/publish", publish_channel)
        .get("/ws/channels", channels_socket)
        .post("/json/any", any_json)
        .get("/jobs/:jobid", job)
        .get("/jobs/overview", overview)
        .get("/files/:name", file)
        .get("/query", query)
        .get("/slow", slow)
        .get("/boom", boom)
        .get("/teapot", teapot);

    sb::server server(std::move(routes), options);
    sb::registry events(server.context());
    hub.events = &events;
    server.start();
    std::cout << "port=" << server.port() << std::endl;
    server.run_until_signal();
    return 0;
}
