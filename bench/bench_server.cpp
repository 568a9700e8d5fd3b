// switchboard-bench-server: the fan-out protocol of the load tool, written
// with Switchboard's public API only, the way an application would.
//
//   GET /health                   200, body "ok"
//   GET /topics/:key/subscribe    WebSocket: every payload published to key, as text
//   GET /publish                  WebSocket: each text message "key payload" publishes payload
//
// Keys come from clients, so both routes check them with valid_channel_name: a bad one gets
// 400 before the upgrade, or closes the publisher with 1008.
//
// bench/run.sh runs it beside a Node `ws` server that speaks the same
// protocol (bench/peers/server.js).
#include <switchboard/log.hpp>
#include <switchboard/registry.hpp>
#include <switchboard/server.hpp>
#include <switchboard/websocket.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sb = switchboard;
using boost::asio::awaitable;

sb::registry* channels = nullptr;

/// A subscriber that keeps up must never be cut off by a flood: the load
/// tool sends its whole burst before the server has fanned most of it out,
/// so a queue holds up to one burst. Frames are shared, so the bound costs
/// 16 bytes of queue per queued message, not the message itself. Past it
/// the subscriber is closed (1013): the load tool then reports the missing
/// messages, so an overflow is never mistaken for speed.
sb::websocket_limits subscriber_limits() {
    sb::websocket_limits limits;
    limits.max_outbound_bytes = 64 * 1024 * 1024;
    limits.on_overflow = sb::overflow_policy::close_try_again_later;
    return limits;
}

awaitable<void> publisher_session(sb::websocket& ws) {
    while (auto message = co_await ws.read()) {
        if (message->binary) {
            ws.close(1003, "expected text \"key payload\"");
            co_return;
        }
        std::string_view text = message->data;
        auto space = text.find(' ');
        if (space == std::string_view::npos || space == 0) {
            ws.close(1008, "expected \"key payload\"");
            co_return;
        }
        const auto key = text.substr(0, space);
        if (!sb::valid_channel_name(key)) {
            ws.close(1008, sb::channel_name_rule);
            co_return;
        }
        channels->publish(key, text.substr(space + 1));
    }
}

awaitable<sb::reply> subscribe(sb::request& req) {
    auto key = std::string(req.param("key"));
    if (!sb::valid_channel_name(key)) {
        co_return sb::reply::error(400, std::string(sb::channel_name_rule));
    }
    // Subscribers only listen: a send-only session runs no coroutine while
    // it waits, which is most of an idle subscriber's memory.
    co_return sb::reply::upgrade(sb::websocket_upgrade::send_only()
                                     .join(*channels, std::move(key))
                                     .limits(subscriber_limits()));
}

awaitable<sb::reply> publish(sb::request&) {
    co_return sb::reply::upgrade(sb::websocket_upgrade(publisher_session));
}

awaitable<sb::reply> health(sb::request&) {
    co_return sb::reply::raw(200, "text/plain", "ok");
}

void usage(std::ostream& out) {
    out << "usage: switchboard-bench-server --port P [--threads N] [--verbose]\n"
           "  --port P      port on 127.0.0.1 (0 picks a free one, printed as port=N)\n"
           "  --threads N   threads running the server (default 1: the bench pins it to one "
           "core)\n";
}

} // namespace

int main(int argc, char** argv) {
    sb::server_options options;
    options.threads = 1;
    // The idle workload holds 10,000 subscribers and the flood ones a few
    // publishers on top; the default connection cap would refuse them.
    options.max_connections = 100'000;
    bool port_given = false;
    auto level = sb::log_level::warn;

    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        bool has_value = i + 1 < args.size();
        // The next argument as a whole number within [low, high], or exit 2:
        // stoul would take "-1" or "70000" and wrap them into a port.
        auto in_range = [&](unsigned low, unsigned high) {
            unsigned value = 0;
            const auto& text = args[++i];
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc{} || end != text.data() + text.size() || value < low ||
                value > high) {
                std::cerr << "switchboard-bench-server: " << arg << " takes " << low << " to "
                          << high << ", not '" << text << "'\n";
                std::exit(2);
            }
            return value;
        };
        if (arg == "--port" && has_value) {
            options.port = static_cast<std::uint16_t>(in_range(0, 65535));
            port_given = true;
        } else if (arg == "--threads" && has_value) {
            options.threads = in_range(1, 1024);
        } else if (arg == "--verbose") {
            level = sb::log_level::debug;
        } else if (arg == "--help" || arg == "-h") {
            usage(std::cout);
            return 0;
        } else {
            std::cerr << "switchboard-bench-server: unknown or incomplete option '" << arg << "'\n";
            usage(std::cerr);
            return 2;
        }
    }
    if (!port_given) {
        usage(std::cerr);
        return 2;
    }
    sb::set_log_sink(sb::stderr_log_sink(), level);

    sb::router routes;
    routes.get("/health", health).get("/topics/:key/subscribe", subscribe).get("/publish", publish);

    try {
        sb::server server(std::move(routes), options);
        sb::registry registry(server.context());
        channels = &registry;
        server.start();
        std::cout << "port=" << server.port() << std::endl;
        server.run_until_signal();
        auto stats = registry.stats();
        std::cout << "published=" << stats.published << " enqueued=" << stats.enqueued
                  << " dropped=" << stats.dropped << " cut_off=" << stats.cut_off << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "switchboard-bench-server: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
