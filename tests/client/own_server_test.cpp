// The client against Switchboard's own server, in-process, over real loopback sockets.
#include "own_server.hpp"
#include "support.hpp"

#include <switchboard/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

namespace {

namespace sb = switchboard;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using sb::test::item;
using sb::test::own_server;
using sb::test::run_async;
using sb::test::text_view;

struct wrong_shape {
    std::string missing_field;
};
BOOST_DESCRIBE_STRUCT(wrong_shape, (), (missing_field))

sb::http_client_options with_base(std::string url) {
    sb::http_client_options o;
    o.base_url = std::move(url);
    return o;
}

sb::http_client_options base(const own_server& server) {
    return with_base(server.url(""));
}

sb::test::seq_message seq_for(int n) {
    return {n};
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(d);
    co_await timer.async_wait(asio::use_awaitable);
}

// Waits, bounded, until `key` of the server's registry has `n` subscribers.
void wait_subscribers(own_server& server, std::string_view key, std::size_t n) {
    for (int i = 0; i < 500 && server.events().subscriber_count(key) != n; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(server.events().subscriber_count(key), n);
}

// A port nothing listens on: bound once by us, then closed.
std::uint16_t closed_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

/// A server that accepts connections and never says anything: the client's deadlines must end
/// every wait on it. Runs its own thread until destroyed.
class silent_server {
public:
    silent_server()
        : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~silent_server() {
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

private:
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
            if (!ec) {
                held_.push_back(std::move(s));
                accept();
            }
        });
    }

    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::vector<asio::ip::tcp::socket> held_;
    std::thread thread_;
};

// REST

awaitable<void> typed_round_trip(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    const item sent{"widget", 3, std::vector<std::string>{"a", "b"}};
    const auto echoed = co_await client.post<item>("/items", sent);
    EXPECT_EQ(echoed, sent);

    const auto target = sb::make_target("/items/:id", {{"id", 42}});
    const auto got = co_await client.get<item>(target);
    EXPECT_EQ(got, (item{"item-42", 42, std::nullopt}));

    const auto other = sb::make_target("/items/:id", {{"id", 5}});
    const auto raw = co_await client.get(other);
    EXPECT_EQ(raw.at("count").as_int64(), 5);
}

TEST(client_rest, typed_round_trip_with_described_structs) {
    own_server server;
    run_async(typed_round_trip(server.url("")));
}

awaitable<void> parameters_arrive_decoded(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    const std::string tricky = "a b/c%d?e#f/\xc3\xa9";
    const auto target = sb::make_target("/files/*path", {{"path", tricky}});
    auto file = co_await client.get<text_view>(target);
    EXPECT_EQ(file.value, tricky);

    const auto with_query = sb::make_target("/query", {}, {{"tag", "x&y"}, {"tag", "1+1=2"}});
    auto q = co_await client.get<text_view>(with_query);
    EXPECT_EQ(q.values, (std::vector<std::string>{"x&y", "1+1=2"}));
}

TEST(client_rest, path_and_query_parameters_arrive_decoded_exactly_once) {
    own_server server;
    run_async(parameters_arrive_decoded(server.url("")));
}

awaitable<void> error_status(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    try {
        co_await client.get<item>("/teapot");
        ADD_FAILURE() << "no exception";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::http_status);
        EXPECT_EQ(e.status(), 418);
        EXPECT_EQ(e.errors(), (std::vector<std::string>{"short and stout", "tip me over"}));
        EXPECT_EQ(std::string(e.what()), "GET /teapot: HTTP 418: short and stout; tip me over");
        EXPECT_NE(e.body().find("tip me over"), std::string::npos);
    }

    auto result = co_await client.try_request<item>("GET", "/teapot");
    CO_ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().status(), 418);

    auto missing = co_await client.try_request<item>("GET", "/no/such/route");
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().status(), 404);
    EXPECT_FALSE(missing.error().errors().empty());
}

TEST(client_rest, a_non_2xx_answer_throws_with_status_and_the_servers_errors) {
    own_server server;
    run_async(error_status(server.url("")));
}

awaitable<void> not_json(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    auto text = co_await client.try_request("GET", "/text");
    CO_ASSERT_FALSE(text.has_value());
    EXPECT_EQ(text.error().code(), sb::client_errc::not_json);
    EXPECT_EQ(text.error().body(), "plain words");
    EXPECT_EQ(text.error().status(), 200);

    auto shape = co_await client.try_request<wrong_shape>("GET", "/items/1");
    CO_ASSERT_FALSE(shape.has_value());
    EXPECT_EQ(shape.error().code(), sb::client_errc::unexpected_json);
    EXPECT_NE(std::string(shape.error().what()).find("missing_field"), std::string::npos)
        << shape.error().what();

    // The raw answer and a body nobody wants are always fine.
    auto whole = co_await client.request<sb::client_response>("GET", "/text");
    EXPECT_EQ(whole.body, "plain words");
    EXPECT_EQ(whole.header("Content-Type"), "text/plain");
    co_await client.request<sb::no_body>("GET", "/text");
}

TEST(client_rest, a_2xx_that_is_not_json_or_not_the_type_carries_the_text) {
    own_server server;
    run_async(not_json(server.url("")));
}

awaitable<void> keep_alive(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    std::set<std::string> remotes;
    for (int i = 0; i < 5; ++i) {
        remotes.insert((co_await client.get<text_view>("/whoami")).value);
    }
    EXPECT_EQ(remotes.size(), 1U) << "the server saw more than one client port";
    const auto stats = client.stats();
    EXPECT_EQ(stats.connections_opened, 1U);
    EXPECT_EQ(stats.reused, 4U);
    EXPECT_EQ(stats.requests, 5U);
    EXPECT_EQ(stats.idle, 1U);
}

TEST(client_rest, keep_alive_sends_every_request_on_one_connection) {
    own_server server;
    run_async(keep_alive(server.url("")));
    EXPECT_LE(server.get().connection_count(), 1U);
}

awaitable<void> one_request(sb::http_client& client, std::atomic<int>& ok) {
    const auto target = sb::make_target("/items/:id", {{"id", 9}});
    auto got = co_await client.get<item>(target);
    if (got.count == 9) {
        ++ok;
    }
}

TEST(client_rest, concurrent_requests_from_several_threads_all_complete) {
    own_server server;
    asio::io_context io;
    sb::http_client client(io.get_executor(), base(server));
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    for (int i = 0; i < 32; ++i) {
        asio::co_spawn(io, one_request(client, ok), [&](std::exception_ptr e) {
            if (e) {
                ++failed;
            }
        });
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] { io.run_for(20s); });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 32);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(client.stats().requests, 32U);
    EXPECT_LE(client.stats().idle, client.options().max_idle_per_host);
}

awaitable<void> slow_response(std::string base_url) {
    sb::http_client_options o;
    o.base_url = base_url;
    o.request_timeout = 200ms;
    sb::http_client client(co_await asio::this_coro::executor, o);
    const auto started = std::chrono::steady_clock::now();
    auto result = co_await client.try_request("GET", "/slow?ms=3000");
    CO_ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), sb::client_errc::request_timeout) << result.error().what();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(client.stats().idle, 0U) << "a timed-out connection must not be reused";
}

TEST(client_rest, request_timeout_ends_a_response_that_comes_too_late) {
    own_server server;
    run_async(slow_response(server.url("")));
}

struct cancel_outcome {
    bool finished = false;
    std::error_code code;
};

// Sends one request and notes how it ended; spawned with a cancellation slot.
awaitable<void> get_once(std::shared_ptr<sb::http_client> client, std::string target,
                         std::shared_ptr<cancel_outcome> out) {
    try {
        co_await client->get(target);
    } catch (const std::system_error& e) {
        out->code = e.code();
    }
    out->finished = true;
}

awaitable<void> cancelled_request(std::string base_url) {
    auto executor = co_await asio::this_coro::executor;
    auto client = std::make_shared<sb::http_client>(executor, with_base(base_url));
    co_await client->get("/items/1"); // a kept connection, so that a retry would be possible

    auto out = std::make_shared<cancel_outcome>();
    asio::cancellation_signal cancel;
    asio::co_spawn(executor, get_once(client, "/slow?ms=3000", out),
                   asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
    co_await sleep_for(100ms);
    cancel.emit(asio::cancellation_type::terminal);
    co_await sleep_for(300ms);
    EXPECT_TRUE(out->finished);
    EXPECT_EQ(out->code, std::errc::operation_canceled) << out->code.message();
    const auto stats = client->stats();
    EXPECT_EQ(stats.retried, 0U) << "a cancelled request was sent again";
    EXPECT_EQ(stats.idle, 0U) << "a cancelled exchange left its connection in the pool";
}

TEST(client_rest, a_cancelled_request_ends_at_once_and_is_not_retried) {
    own_server server;
    run_async(cancelled_request(server.url("")));
}

awaitable<void> silent_http(std::uint16_t port) {
    sb::http_client_options o;
    o.request_timeout = 300ms;
    sb::http_client client(co_await asio::this_coro::executor, o);
    const auto started = std::chrono::steady_clock::now();
    auto result =
        co_await client.try_request("GET", "http://127.0.0.1:" + std::to_string(port) + "/");
    CO_ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), sb::client_errc::request_timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(client_rest, a_silent_server_ends_in_request_timeout) {
    silent_server silent;
    run_async(silent_http(silent.port()));
}

awaitable<void> refused(std::uint16_t port) {
    sb::http_client client(co_await asio::this_coro::executor);
    auto result =
        co_await client.try_request("GET", "http://127.0.0.1:" + std::to_string(port) + "/x");
    CO_ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), std::errc::connection_refused) << result.error().what();
    EXPECT_NE(std::string(result.error().what()).find("connect to 127.0.0.1:"), std::string::npos);
}

TEST(client_rest, a_closed_port_is_connection_refused) {
    run_async(refused(closed_port()));
}

awaitable<void> body_limit(std::string base_url) {
    sb::http_client_options o;
    o.base_url = base_url;
    o.max_response_body = 1000;
    sb::http_client client(co_await asio::this_coro::executor, o);
    auto big = co_await client.try_request<std::string>("GET", "/big?size=100000");
    CO_ASSERT_FALSE(big.has_value());
    EXPECT_EQ(big.error().code(), sb::client_errc::body_too_large);
    auto small = co_await client.request<std::string>("GET", "/big?size=900");
    EXPECT_EQ(small.size(), 900U);
}

TEST(client_rest, a_body_over_the_limit_is_refused) {
    own_server server;
    run_async(body_limit(server.url("")));
}

awaitable<void> stale_connection(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    co_await client.get<text_view>("/whoami");
    co_await sleep_for(600ms); // the server's idle timeout closes the kept connection
    co_await client.get<text_view>("/whoami");
    EXPECT_EQ(client.stats().connections_opened, 2U);
}

TEST(client_rest, a_connection_the_server_closed_is_not_reused) {
    sb::server_options o;
    o.idle_timeout = 200ms;
    own_server server(o);
    run_async(stale_connection(server.url("")));
}

awaitable<void> bad_targets(std::string base_url) {
    sb::http_client plain(co_await asio::this_coro::executor);
    auto no_base = co_await plain.try_request("GET", "/items/1");
    CO_ASSERT_FALSE(no_base.has_value());
    EXPECT_EQ(no_base.error().code(), sb::client_errc::bad_url);

    auto ws = co_await plain.try_request("GET", "ws://127.0.0.1:1/");
    CO_ASSERT_FALSE(ws.has_value());
    EXPECT_EQ(ws.error().code(), sb::client_errc::unsupported_scheme);

    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    bool refused = false;
    try {
        sb::header_list bad{{"X-Bad", "a\r\nInjected: 1"}};
        co_await client.get("/items/1", bad);
    } catch (const std::invalid_argument&) {
        refused = true;
    }
    EXPECT_TRUE(refused) << "a header value with CR LF was sent";
}

TEST(client_rest, bad_urls_and_headers_fail_before_anything_is_sent) {
    own_server server;
    run_async(bad_targets(server.url("")));
}

// WebSocket

awaitable<void> echo(std::string url) {
    sb::ws_connect_options o;
    o.subprotocols = {"chat.v9", "chat.v1"};
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url, o);
    EXPECT_EQ(ws.subprotocol(), "chat.v1");
    EXPECT_TRUE(ws.is_open());

    co_await ws.send_text("hello");
    auto m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_FALSE(m->binary);
    EXPECT_EQ(m->data, "hello");

    const std::string blob("\x00\x01\xff binary", 10);
    co_await ws.send_binary(blob);
    m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_TRUE(m->binary);
    EXPECT_EQ(m->data, blob);

    // Built before the co_await: g++ 12 destroys an aggregate temporary inside one twice.
    const item as_json{"json", 1, std::nullopt};
    co_await ws.send_json(as_json);
    const auto decoded = co_await ws.read_json<item>();
    EXPECT_EQ(decoded, (item{"json", 1, std::nullopt}));

    const std::string large(300'000, 'L');
    co_await ws.send_text(large);
    m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data.size(), large.size());

    bool refused = false;
    try {
        co_await ws.send_text(std::string("\xff\xfe"));
    } catch (const std::invalid_argument&) {
        refused = true;
    }
    EXPECT_TRUE(refused) << "invalid UTF-8 was sent as text";
    const auto status = co_await ws.close();
    EXPECT_EQ(status.code, 1000);
}

TEST(client_websocket, echo_of_text_binary_json_and_a_large_message) {
    sb::websocket_limits limits;
    limits.max_message = 1 << 20;
    own_server server({}, limits);
    run_async(echo(server.ws_url("/ws/echo")));
}

awaitable<void> server_closes(std::string url, std::shared_ptr<std::vector<std::string>> log) {
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
    sb::ws_listener listener;
    listener.on_close = [log](std::uint16_t code, std::string_view reason) {
        log->push_back("close " + std::to_string(code) + " " + std::string(reason));
    };
    listener.on_error = [log](std::error_code, std::string_view) {
        log->push_back("error");
    };
    ws.add_listener(listener);

    co_await ws.send_text("close:4001:bye now");
    const auto after_close = co_await ws.read();
    EXPECT_FALSE(after_close);
    const auto status = co_await ws.closed();
    EXPECT_EQ(status.code, 4001);
    EXPECT_EQ(status.reason, "bye now");
    EXPECT_FALSE(ws.is_open());
    bool refused = false;
    try {
        co_await ws.send_text("late");
    } catch (const sb::client_error& e) {
        refused = e.code() == sb::client_errc::not_open;
    }
    EXPECT_TRUE(refused) << "a send after the close did not fail with not_open";
}

TEST(client_websocket, a_close_from_the_server_reaches_read_and_listeners_with_its_code) {
    own_server server;
    auto log = std::make_shared<std::vector<std::string>>();
    run_async(server_closes(server.ws_url("/ws/echo"), log));
    EXPECT_EQ(*log, (std::vector<std::string>{"close 4001 bye now"}));
}

awaitable<void> client_closes(std::string url) {
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
    co_await ws.send_text("last words");
    const auto status = co_await ws.close(4000, "done here");
    // The server echoes the code of our close frame, which proves it received it.
    EXPECT_EQ(status.code, 4000);
    const auto again = co_await ws.close(1000);
    EXPECT_EQ(again.code, 4000) << "a second close changes nothing";
}

TEST(client_websocket, close_performs_the_closing_handshake) {
    own_server server;
    run_async(client_closes(server.ws_url("/ws/echo")));
    auto seen = sb::test::own::sessions().first(5s);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->code, 4000);
    EXPECT_EQ(seen->reason, "done here");
}

awaitable<void> listeners_in_order(std::string url, std::shared_ptr<std::vector<std::string>> log) {
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
    for (const char* name : {"first", "second"}) {
        sb::ws_listener l;
        l.on_message = [log, name](const sb::ws_message& m) {
            log->push_back(std::string(name) + ":" + m.data);
        };
        ws.add_listener(l);
    }
    for (int i = 0; i < 50; ++i) {
        co_await ws.send_text(std::to_string(i));
    }
    co_await ws.send_text("close:1000:");
    const auto end = co_await ws.read();
    EXPECT_FALSE(end) << "with a message listener, read() only sees the end";
    co_await ws.closed();
}

TEST(client_websocket, every_listener_gets_every_message_in_arrival_order) {
    own_server server;
    auto log = std::make_shared<std::vector<std::string>>();
    run_async(listeners_in_order(server.ws_url("/ws/echo"), log));
    std::vector<std::string> expected;
    for (int i = 0; i < 50; ++i) {
        expected.push_back("first:" + std::to_string(i));
        expected.push_back("second:" + std::to_string(i));
    }
    EXPECT_EQ(*log, expected);
}

awaitable<void> backlog_first(std::string url, std::string publish_url,
                              std::shared_ptr<std::vector<std::string>> log) {
    auto executor = co_await asio::this_coro::executor;
    auto ws = co_await sb::websocket_client::connect(executor, url);
    sb::http_client client(executor);
    for (int i = 1; i <= 3; ++i) {
        co_await client.post<text_view>(publish_url, seq_for(i));
    }
    co_await sleep_for(200ms); // everything has arrived and queued
    sb::ws_listener l;
    l.on_message = [log](const sb::ws_message& m) {
        log->push_back(m.data);
    };
    ws.add_listener(l);
    co_await client.post<text_view>(publish_url, seq_for(4));
    co_await sleep_for(200ms);
    co_await ws.close();
}

TEST(client_websocket, messages_queued_before_a_listener_reach_it_first_and_in_order) {
    own_server server;
    auto log = std::make_shared<std::vector<std::string>>();
    run_async(
        backlog_first(server.ws_url("/jobs/5/subscribe"), server.url("/jobs/5/publish"), log));
    EXPECT_EQ(*log, (std::vector<std::string>{R"({"type":"subscribed","job":5})", R"({"seq":1})",
                                              R"({"seq":2})", R"({"seq":3})", R"({"seq":4})"}));
}

awaitable<void> refused_upgrade(std::string url) {
    try {
        co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
        ADD_FAILURE() << "connected";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::upgrade_refused);
        EXPECT_EQ(e.status(), 404);
        EXPECT_EQ(e.errors(), (std::vector<std::string>{"no job 404"}));
        EXPECT_NE(e.body().find("no job 404"), std::string::npos);
    }
}

TEST(client_websocket, a_refused_upgrade_carries_the_status_and_body) {
    own_server server;
    run_async(refused_upgrade(server.ws_url("/jobs/404/subscribe")));
}

awaitable<void> flink(std::string url, std::string publish_url, own_server* server) {
    auto executor = co_await asio::this_coro::executor;
    auto ws = co_await sb::websocket_client::connect(executor, url);
    auto first = co_await ws.read();
    CO_ASSERT_TRUE(first);
    EXPECT_EQ(first->data, R"({"type":"subscribed","job":7})");
    EXPECT_EQ(server->events().subscriber_count("job-7"), 1U);

    sb::http_client client(executor);
    co_await client.post<text_view>(publish_url, seq_for(42));
    const auto published = co_await ws.read_json<sb::test::seq_message>();
    CO_ASSERT_TRUE(published);
    EXPECT_EQ(published->seq, 42);
    co_await ws.send_json(seq_for(43));
    const auto answer = co_await ws.read_json<sb::test::seq_message>();
    CO_ASSERT_TRUE(answer);
    EXPECT_EQ(answer->seq, 44);
    const auto closed = co_await ws.close();
    EXPECT_EQ(closed.code, 1000);
}

TEST(client_websocket, subscribe_publish_42_answer_43_get_44) {
    own_server server;
    run_async(flink(server.ws_url("/jobs/7/subscribe"), server.url("/jobs/7/publish"), &server));
}

awaitable<void> quiet_reader(std::string url) {
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
    // The server pings every 100 ms and drops a peer silent for 400 ms: only the automatic
    // pongs keep this connection alive while nobody reads.
    co_await sleep_for(1500ms);
    EXPECT_TRUE(ws.is_open());
    co_await ws.send_text("still here");
    auto m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "still here");
    co_await ws.close();
}

TEST(client_websocket, pings_are_answered_without_anybody_reading) {
    sb::websocket_limits limits;
    limits.ping_interval = 100ms;
    limits.idle_timeout = 400ms;
    own_server server({}, limits);
    run_async(quiet_reader(server.ws_url("/ws/echo")));
}

awaitable<void> abandon(std::string url) {
    {
        auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
        auto copy = ws;
        co_await copy.send_text("one");
    }
    co_await sleep_for(500ms); // the close runs in the background, bounded by close_timeout
}

TEST(client_websocket, dropping_the_last_handle_closes_with_1001) {
    own_server server;
    run_async(abandon(server.ws_url("/ws/echo")));
    auto seen = sb::test::own::sessions().first(5s);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->code, 1001);
}

// Reads once and notes how the read ended; spawned with a cancellation slot.
awaitable<void> read_once(sb::websocket_client ws, std::shared_ptr<cancel_outcome> out) {
    try {
        co_await ws.read();
    } catch (const boost::system::system_error& e) {
        out->code = e.code();
    }
    out->finished = true;
}

awaitable<void> cancelled_read(std::string url) {
    auto executor = co_await asio::this_coro::executor;
    auto ws = co_await sb::websocket_client::connect(executor, url);

    auto out = std::make_shared<cancel_outcome>();
    asio::cancellation_signal cancel;
    asio::co_spawn(executor, read_once(ws, out),
                   asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
    co_await sleep_for(100ms);
    cancel.emit(asio::cancellation_type::terminal);
    co_await sleep_for(100ms);
    EXPECT_TRUE(out->finished);
    EXPECT_EQ(out->code, std::errc::operation_canceled) << out->code.message();

    co_await ws.send_text("after the cancel");
    auto m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "after the cancel");
    co_await ws.close();
}

TEST(client_websocket, a_cancelled_read_loses_no_message) {
    own_server server;
    run_async(cancelled_read(server.ws_url("/ws/echo")));
}

awaitable<void> backpressure(std::string url) {
    sb::ws_connect_options o;
    o.max_inbound_messages = 4;
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url, o);
    constexpr int n = 2000;
    for (int i = 0; i < n; ++i) {
        co_await ws.send_text(std::to_string(i));
    }
    for (int i = 0; i < n; ++i) {
        auto m = co_await ws.read();
        CO_ASSERT_TRUE(m);
        CO_ASSERT_EQ(m->data, std::to_string(i));
    }
    co_await ws.close();
}

TEST(client_websocket, a_slow_reader_gets_every_message_in_order_with_a_small_inbound_queue) {
    own_server server;
    run_async(backpressure(server.ws_url("/ws/echo")));
}

awaitable<void> silent_handshake(std::uint16_t port) {
    sb::ws_connect_options o;
    o.handshake_timeout = 300ms;
    const auto started = std::chrono::steady_clock::now();
    try {
        co_await sb::websocket_client::connect(co_await asio::this_coro::executor,
                                               "ws://127.0.0.1:" + std::to_string(port) + "/", o);
        ADD_FAILURE() << "connected";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::handshake_timeout) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(client_websocket, a_silent_server_ends_in_handshake_timeout) {
    silent_server silent;
    run_async(silent_handshake(silent.port()));
}

// Reconnecting

struct reconnect_log {
    std::mutex mutex;
    std::vector<std::string> messages;
    std::vector<bool> opens;
    std::vector<std::string> retries;

    std::size_t message_count() {
        std::lock_guard lock(mutex);
        return messages.size();
    }
};

awaitable<void> note_open(std::shared_ptr<reconnect_log> log, sb::websocket_client&,
                          bool reconnected) {
    std::lock_guard lock(log->mutex);
    log->opens.push_back(reconnected);
    co_return;
}

sb::reconnect_options quick_reconnect() {
    sb::reconnect_options o;
    o.backoff.initial = 20ms;
    o.backoff.max = 200ms;
    return o;
}

TEST(client_reconnect, resubscribes_after_the_server_restarts_and_reports_the_gap) {
    auto log = std::make_shared<reconnect_log>();
    std::uint16_t port = 0;
    asio::io_context io;
    auto first = std::make_unique<own_server>();
    port = first->port();
    sb::ws_reconnector client(io.get_executor(),
                              "ws://127.0.0.1:" + std::to_string(port) + "/jobs/3/subscribe",
                              quick_reconnect());
    client.on_open(std::bind_front(note_open, log));
    client.on_retry([log](std::string_view why, std::chrono::milliseconds) {
        std::lock_guard lock(log->mutex);
        log->retries.emplace_back(why);
    });
    sb::ws_listener listener;
    listener.on_message = [log](const sb::ws_message& m) {
        std::lock_guard lock(log->mutex);
        log->messages.push_back(m.data);
    };
    client.add_listener(listener);

    std::optional<sb::ws_close_status> ended;
    asio::co_spawn(io, client.run(), [&](std::exception_ptr e, sb::ws_close_status s) {
        if (!e) {
            ended = s;
        }
    });
    std::thread runner([&] { io.run_for(30s); });

    wait_subscribers(*first, "job-3", 1);
    first->events().publish("job-3", "before");
    for (int i = 0; i < 300 && log->message_count() < 2; ++i) {
        std::this_thread::sleep_for(10ms);
    }

    // The server goes away: its sessions get 1001, and new connections are refused for a while.
    first.reset();
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(client.current().has_value()) << "no connection during the gap";

    sb::server_options same_port;
    same_port.port = port;
    own_server second(same_port);
    wait_subscribers(second, "job-3", 1);
    second.events().publish("job-3", "after");
    for (int i = 0; i < 300 && log->message_count() < 4; ++i) {
        std::this_thread::sleep_for(10ms);
    }

    client.stop();
    runner.join();
    ASSERT_TRUE(ended.has_value());
    std::lock_guard lock(log->mutex);
    EXPECT_EQ(log->opens, (std::vector<bool>{false, true}));
    EXPECT_EQ(log->messages,
              (std::vector<std::string>{R"({"type":"subscribed","job":3})", "before",
                                        R"({"type":"subscribed","job":3})", "after"}));
    ASSERT_FALSE(log->retries.empty());
    EXPECT_EQ(log->retries.front().substr(0, 11), "closed 1001");
    EXPECT_EQ(client.connections(), 2U);
}

awaitable<void> send_during_gap(std::string url) {
    sb::ws_reconnector client(co_await asio::this_coro::executor, url, quick_reconnect());
    try {
        co_await client.send_text("nobody is there");
        ADD_FAILURE() << "sent without a connection";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::not_open);
    }
}

TEST(client_reconnect, sending_without_a_connection_fails_at_once) {
    run_async(send_during_gap("ws://127.0.0.1:" + std::to_string(closed_port()) + "/"));
}

awaitable<void> normal_close_ends(std::string url, own_server* server) {
    auto executor = co_await asio::this_coro::executor;
    sb::ws_reconnector client(executor, url, quick_reconnect());
    // The server removes the job (close 1000) once the client is subscribed.
    auto closer = [](own_server* s) -> void {
        for (int i = 0; i < 500 && s->events().subscriber_count("job-8") == 0; ++i) {
            std::this_thread::sleep_for(10ms);
        }
        s->events().close("job-8", 1000, "job removed");
    };
    std::thread t(closer, server);
    const auto status = co_await client.run();
    t.join();
    EXPECT_EQ(status.code, 1000);
    EXPECT_EQ(status.reason, "job removed");
    EXPECT_EQ(client.connections(), 1U);
}

TEST(client_reconnect, a_normal_close_from_the_server_ends_run) {
    own_server server;
    run_async(normal_close_ends(server.ws_url("/jobs/8/subscribe"), &server));
}

awaitable<void> gives_up(std::string url) {
    auto o = quick_reconnect();
    o.max_attempts = 3;
    sb::ws_reconnector client(co_await asio::this_coro::executor, url, o);
    std::vector<std::string> retries;
    client.on_retry(
        [&retries](std::string_view why, std::chrono::milliseconds) { retries.emplace_back(why); });
    try {
        co_await client.run();
        ADD_FAILURE() << "run() returned";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), std::errc::connection_refused);
    }
    EXPECT_EQ(retries.size(), 2U) << "three attempts, two waits between them";
}

TEST(client_reconnect, a_refused_port_is_retried_until_max_attempts) {
    run_async(gives_up("ws://127.0.0.1:" + std::to_string(closed_port()) + "/"));
}

awaitable<void> permanent_refusal(std::string url) {
    sb::ws_reconnector client(co_await asio::this_coro::executor, url, quick_reconnect());
    try {
        co_await client.run();
        ADD_FAILURE() << "run() returned";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::upgrade_refused);
        EXPECT_EQ(e.status(), 404);
    }
    EXPECT_EQ(client.connections(), 0U);
}

TEST(client_reconnect, a_refusal_retrying_cannot_fix_is_not_retried) {
    own_server server;
    run_async(permanent_refusal(server.ws_url("/jobs/404/subscribe")));
}

} // namespace
