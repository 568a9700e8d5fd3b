// Concurrency of the registry and the session writer, run under TSan in CI
// (shared/cases/broadcast.md, case-10): many publisher threads outside the
// io_context, one subscriber whose own messages the server answers at the
// same time.
#include "../ws_test_client.hpp"

#include <switchboard/registry.hpp>
#include <switchboard/server.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace sb = switchboard;
using sb::detail::ws::event;
using sb::detail::ws::opcode;

sb::registry* channels = nullptr;

boost::asio::awaitable<void> echo_session(sb::websocket& ws) {
    while (auto message = co_await ws.read()) {
        ws.send_text("echo:" + message->data);
    }
}

boost::asio::awaitable<sb::reply> subscribe(sb::request&) {
    sb::websocket_limits limits;
    // Every message must arrive: room for the whole burst.
    limits.max_outbound_bytes = 64 * 1024 * 1024;
    co_return sb::reply::upgrade(sb::websocket_upgrade(echo_session)
                                     .send_first("subscribed")
                                     .join(*channels, "K")
                                     .limits(limits));
}

// Reads nothing for a while, then echoes everything: meanwhile the server's
// reader must stop at the inbound limit, and start again as the function
// reads.
boost::asio::awaitable<void> late_echo_session(sb::websocket& ws) {
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    pause.expires_after(std::chrono::milliseconds(300));
    co_await pause.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_await echo_session(ws);
}

boost::asio::awaitable<sb::reply> late_reader(sb::request&) {
    sb::websocket_limits limits;
    limits.max_inbound_messages = 4;
    co_return sb::reply::upgrade(sb::websocket_upgrade(late_echo_session).limits(limits));
}

// A subscriber whose writes may wait only briefly for the peer.
boost::asio::awaitable<sb::reply> impatient_subscriber(sb::request&) {
    sb::websocket_limits limits;
    limits.max_outbound_bytes = std::size_t{256} * 1024 * 1024;
    limits.send_timeout = std::chrono::milliseconds(300);
    limits.close_timeout = std::chrono::milliseconds(300);
    co_return sb::reply::upgrade(
        sb::websocket_upgrade(echo_session).join(*channels, "S").limits(limits));
}

// The same subscription with no session function.
boost::asio::awaitable<sb::reply> feed(sb::request&) {
    sb::websocket_limits limits;
    limits.max_outbound_bytes = 64 * 1024 * 1024;
    co_return sb::reply::upgrade(sb::websocket_upgrade::send_only()
                                     .send_first("subscribed")
                                     .join(*channels, "F")
                                     .limits(limits));
}

using route_handler = boost::asio::awaitable<sb::reply> (*)(sb::request&);

/// `threads` threads, each publishing "T:N" to `key` for N from 0 to per_thread - 1.
std::vector<std::thread> start_publishers(sb::registry& registry, const std::string& key,
                                          int threads, int per_thread) {
    std::vector<std::thread> publishers;
    for (int t = 0; t < threads; ++t) {
        publishers.emplace_back([&registry, key, t, per_thread] {
            for (int n = 0; n < per_thread; ++n) {
                registry.publish(key, std::to_string(t) + ":" + std::to_string(n));
            }
        });
    }
    return publishers;
}

/// The publisher T and the number N of a "T:N" message.
std::pair<int, int> publisher_and_number(const std::string& text) {
    const auto colon = text.find(':');
    return {std::stoi(text.substr(0, colon)), std::stoi(text.substr(colon + 1))};
}

// A server on two threads with one GET route and one registry, which the
// route reaches through `channels`.
struct fanout_server {
    fanout_server(const std::string& path, route_handler handler)
        : server(one_route(path, handler), two_threads())
        , registry(server.context()) {
        channels = &registry;
        server.start();
    }

    static sb::router one_route(const std::string& path, route_handler handler) {
        sb::router routes;
        routes.get(path, handler);
        return routes;
    }

    static sb::server_options two_threads() {
        sb::server_options options;
        options.threads = 2;
        return options;
    }

    sb::server server;
    sb::registry registry;
};

TEST(fanout, eight_publisher_threads_and_echoes_arrive_once_in_order) {
    constexpr int threads = 8;
    constexpr int per_thread = 10'000;
    constexpr int echoes = 1'000;

    fanout_server fixture("/k", subscribe);
    auto& server = fixture.server;
    auto& registry = fixture.registry;

    sb::test::ws_test_client client(server.port(), "/k");
    ASSERT_EQ(client.status_line(), "HTTP/1.1 101 Switching Protocols");
    auto first = client.next();
    ASSERT_TRUE(first);
    ASSERT_EQ(first->payload, "subscribed");
    ASSERT_EQ(registry.subscriber_count("K"), 1U);

    auto publishers = start_publishers(registry, "K", threads, per_thread);
    std::thread sender([&client] {
        for (int n = 0; n < echoes; ++n) {
            client.send(opcode::text, std::to_string(n));
        }
    });

    std::map<int, int> next_of_thread;
    int next_echo = 0;
    int published = 0;
    while (published < threads * per_thread || next_echo < echoes) {
        auto ev = client.next(std::chrono::seconds(30));
        ASSERT_TRUE(ev) << "stalled after " << published << " publishes, " << next_echo
                        << " echoes";
        ASSERT_EQ(ev->what, event::kind::message);
        const auto& text = ev->payload;
        if (text.starts_with("echo:")) {
            ASSERT_EQ(text, "echo:" + std::to_string(next_echo));
            ++next_echo;
            continue;
        }
        const auto [t, n] = publisher_and_number(text);
        ASSERT_EQ(n, next_of_thread[t]) << "publisher " << t << " out of order or duplicated";
        ++next_of_thread[t];
        ++published;
    }
    for (auto& p : publishers) {
        p.join();
    }
    sender.join();

    EXPECT_EQ(published, threads * per_thread);
    EXPECT_EQ(next_echo, echoes);
    EXPECT_EQ(registry.stats().published, static_cast<std::uint64_t>(threads * per_thread));
    EXPECT_EQ(registry.stats().cut_off, 0U);
    EXPECT_FALSE(client.next(std::chrono::milliseconds(100)).has_value()) << "an extra message";

    client.send(opcode::close, sb::detail::ws::close_payload(1000, ""));
    auto closing = client.next();
    ASSERT_TRUE(closing);
    EXPECT_EQ(closing->what, event::kind::close);
    for (int i = 0; i < 500 && registry.subscriber_count("K") != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(registry.subscriber_count("K"), 0U);
    EXPECT_EQ(registry.key_count(), 0U);
}

TEST(fanout, publishing_while_sessions_come_and_go_is_race_free) {
    fanout_server fixture("/k", subscribe);
    auto& server = fixture.server;
    auto& registry = fixture.registry;

    std::atomic<bool> done{false};
    std::thread publisher([&] {
        while (!done.load()) {
            registry.publish("K", "tick");
        }
    });
    for (int i = 0; i < 30; ++i) {
        sb::test::ws_test_client client(server.port(), "/k");
        ASSERT_EQ(client.next()->payload, "subscribed");
        ASSERT_EQ(client.next()->payload, "tick");
    }
    done = true;
    publisher.join();
    for (int i = 0; i < 500 && registry.key_count() != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(registry.key_count(), 0U);
}

TEST(fanout, send_only_feeds_get_every_message_in_order_while_others_come_and_go) {
    constexpr int threads = 4;
    constexpr int per_thread = 5'000;
    fanout_server fixture("/f", feed);
    auto& server = fixture.server;
    auto& registry = fixture.registry;

    std::vector<std::unique_ptr<sb::test::ws_test_client>> feeds;
    for (int i = 0; i < 3; ++i) {
        feeds.push_back(std::make_unique<sb::test::ws_test_client>(server.port(), "/f"));
        ASSERT_EQ(feeds.back()->next()->payload, "subscribed");
    }
    auto publishers = start_publishers(registry, "F", threads, per_thread);
    // Feeds that end every way a feed ends, on the server's two threads while the
    // publishers run: a close from the client, a message (1003), a dropped connection.
    std::thread churn([&server] {
        for (int i = 0; i < 30; ++i) {
            sb::test::ws_test_client passing(server.port(), "/f");
            if (i % 3 == 0) {
                passing.send(opcode::close, sb::detail::ws::close_payload(1000, ""));
            } else if (i % 3 == 1) {
                passing.send(opcode::text, "hello?");
            }
        }
    });

    for (auto& client : feeds) {
        std::map<int, int> next_of_thread;
        for (int received = 0; received < threads * per_thread; ++received) {
            auto ev = client->next(std::chrono::seconds(30));
            ASSERT_TRUE(ev) << "stalled after " << received << " messages";
            ASSERT_EQ(ev->what, event::kind::message);
            const auto [t, n] = publisher_and_number(ev->payload);
            ASSERT_EQ(n, next_of_thread[t]) << "publisher " << t << " out of order or repeated";
            ++next_of_thread[t];
        }
    }
    for (auto& p : publishers) {
        p.join();
    }
    churn.join();
    for (int i = 0; i < 500 && registry.subscriber_count("F") != 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(registry.subscriber_count("F"), 3U) << "a passing feed stayed joined";
    EXPECT_EQ(registry.stats().cut_off, 0U);
    // The three left open are closed by the server's stop, in the fixture's destructor.
}

TEST(fanout, a_session_that_reads_late_gets_every_message_in_order_past_the_inbound_limit) {
    constexpr int messages = 2000;
    fanout_server fixture("/late", late_reader);
    auto& server = fixture.server;

    sb::test::ws_test_client client(server.port(), "/late");
    ASSERT_EQ(client.status_line(), "HTTP/1.1 101 Switching Protocols");
    for (int n = 0; n < messages; ++n) {
        client.send(opcode::text, std::to_string(n));
    }
    for (int n = 0; n < messages; ++n) {
        auto ev = client.next(std::chrono::seconds(30));
        ASSERT_TRUE(ev) << "stalled after " << n << " echoes";
        ASSERT_EQ(ev->what, event::kind::message);
        ASSERT_EQ(ev->payload, "echo:" + std::to_string(n));
    }
}

TEST(fanout, a_peer_that_stops_reading_is_dropped_after_the_send_timeout) {
    fanout_server fixture("/s", impatient_subscriber);
    auto& server = fixture.server;
    auto& registry = fixture.registry;

    // The client never reads: once the socket buffers are full, the
    // server's write waits, and must give up after the send timeout.
    sb::test::ws_test_client client(server.port(), "/s");
    ASSERT_EQ(client.status_line(), "HTTP/1.1 101 Switching Protocols");
    ASSERT_EQ(registry.subscriber_count("S"), 1U);
    const std::string payload(64 * 1024, 'x');
    for (int n = 0; n < 400; ++n) {
        registry.publish("S", payload);
    }
    for (int i = 0; i < 1000 && registry.subscriber_count("S") != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(registry.subscriber_count("S"), 0U) << "still joined 10 s after the writes stalled";
    EXPECT_EQ(registry.stats().cut_off, 0U) << "closed by the queue bound, not the timeout";
}

} // namespace
