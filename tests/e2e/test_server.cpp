// The server end-to-end tests talk to. Prints "port=N" once it listens, then
// serves until SIGINT/SIGTERM. Limits come from the command line so a test
// can make them small.
#include <switchboard/log.hpp>
#include <switchboard/server.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <cstdio>
#include <iostream>
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

    sb::router routes;
    routes.get("/health", health)
        .post("/echo", echo)
        .post("/echo/lenient", echo, lenient)
        .post("/echo/small", echo, small_body)
        .get("/jobs/:jobid", job)
        .get("/jobs/overview", overview)
        .get("/files/:name", file)
        .get("/query", query)
        .get("/slow", slow)
        .get("/boom", boom)
        .get("/teapot", teapot);

    sb::server server(std::move(routes), options);
    server.start();
    std::cout << "port=" << server.port() << std::endl;
    server.run_until_signal();
    return 0;
}
