// The client against servers we did not write: aiohttp (REST), Python's websockets and Node's
// ws (WebSocket), and a raw socket server for the bytes around a 101 (case-39, case-40).
#include "support.hpp"
#include "ws_outcome.hpp"

#include <switchboard/client.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using sb::test::peer;
using sb::test::run_async;

const std::string peers_dir = SWITCHBOARD_PEERS_DIR;

peer python_peer(const std::string& script) {
    return peer({SWITCHBOARD_PYTHON_PATH, peers_dir + "/" + script});
}

peer node_peer() {
    const std::string node = SWITCHBOARD_NODE_PATH;
    if (node.empty() || !std::filesystem::exists(SWITCHBOARD_NODE_MODULES "/ws")) {
        throw std::runtime_error("node or the npm package ws is missing: run scripts/setup.sh");
    }
    return peer({node, peers_dir + "/ws_peer.mjs"},
                {"SWITCHBOARD_NODE_MODULES=" SWITCHBOARD_NODE_MODULES});
}

std::string http_base(const peer& p) {
    return "http://127.0.0.1:" + std::to_string(p.port);
}

std::string ws_base(const peer& p) {
    return "ws://127.0.0.1:" + std::to_string(p.port);
}

sb::http_client_options with_base(std::string url) {
    sb::http_client_options o;
    o.base_url = std::move(url);
    return o;
}

struct peer_item {
    int id = 0;
    std::string name;
    std::vector<std::string> tags;
};
BOOST_DESCRIBE_STRUCT(peer_item, (), (id, name, tags))

struct new_item {
    std::string name;
    int count = 0;
};
BOOST_DESCRIBE_STRUCT(new_item, (), (name, count))

struct created_item {
    std::string name;
    int count = 0;
    bool created = false;
};
BOOST_DESCRIBE_STRUCT(created_item, (), (name, count, created))

struct echoed_path {
    std::string name;
    std::vector<std::vector<std::string>> query;
};
BOOST_DESCRIBE_STRUCT(echoed_path, (), (name, query))

struct parts_view {
    std::vector<int> parts;
};
BOOST_DESCRIBE_STRUCT(parts_view, (), (parts))

struct count_view {
    int count = 0;
};
BOOST_DESCRIBE_STRUCT(count_view, (), (count))

// aiohttp

awaitable<void> aiohttp_typed(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    const auto target = sb::make_target("/items/:id", {{"id", 7}});
    auto got = co_await client.get<peer_item>(target);
    EXPECT_EQ(got.id, 7);
    EXPECT_EQ(got.name, "item-7");
    EXPECT_EQ(got.tags, (std::vector<std::string>{"a", "b"}));

    const new_item bolt{"bolt", 12};
    auto made = co_await client.post<created_item>("/items", bolt);
    EXPECT_EQ(made.name, "bolt");
    EXPECT_EQ(made.count, 12);
    EXPECT_TRUE(made.created);

    auto raw = co_await client.request<sb::client_response>("POST", "/items", bolt);
    EXPECT_EQ(raw.status, 201);

    co_await client.del(target);
}

TEST(client_aiohttp, typed_get_post_and_delete) {
    auto p = python_peer("rest_peer.py");
    run_async(aiohttp_typed(http_base(p)));
}

awaitable<void> aiohttp_errors(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    auto missing = co_await client.try_request<peer_item>("GET", "/missing");
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code(), sb::client_errc::http_status);
    EXPECT_EQ(missing.error().status(), 404);
    EXPECT_EQ(missing.error().errors(),
              (std::vector<std::string>{"no such item", "try another id"}));

    auto gateway = co_await client.try_request("GET", "/gateway");
    CO_ASSERT_FALSE(gateway.has_value());
    EXPECT_EQ(gateway.error().status(), 502);
    EXPECT_TRUE(gateway.error().errors().empty());
    EXPECT_EQ(gateway.error().body(), "<h1>upstream is down</h1>");

    auto text = co_await client.try_request("GET", "/text");
    CO_ASSERT_FALSE(text.has_value());
    EXPECT_EQ(text.error().code(), sb::client_errc::not_json);
    EXPECT_EQ(text.error().body(), "just words, no JSON");
}

TEST(client_aiohttp, error_bodies_and_text_replies_carry_what_the_server_said) {
    auto p = python_peer("rest_peer.py");
    run_async(aiohttp_errors(http_base(p)));
}

awaitable<void> aiohttp_chunked_and_params(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    auto chunked = co_await client.get<parts_view>("/chunked");
    EXPECT_EQ(chunked.parts, (std::vector<int>{1, 2, 3}));

    const std::string name = "a b%c?d";
    const auto target = sb::make_target("/files/:name", {{"name", name}}, {{"k", "v&w"}});
    auto echoed = co_await client.get<echoed_path>(target);
    EXPECT_EQ(echoed.name, name);
    EXPECT_EQ(echoed.query, (std::vector<std::vector<std::string>>{{"k", "v&w"}}));
}

TEST(client_aiohttp, chunked_bodies_and_encoded_parameters) {
    auto p = python_peer("rest_peer.py");
    run_async(aiohttp_chunked_and_params(http_base(p)));
}

awaitable<void> aiohttp_keep_alive(std::string base_url) {
    sb::http_client client(co_await asio::this_coro::executor, with_base(base_url));
    for (int i = 0; i < 5; ++i) {
        const auto target = sb::make_target("/items/:id", {{"id", i}});
        co_await client.get<peer_item>(target);
    }
    const auto seen = co_await client.get<count_view>("/connections");
    EXPECT_EQ(seen.count, 1) << "aiohttp saw more than one client connection";
    EXPECT_EQ(client.stats().connections_opened, 1U);
}

TEST(client_aiohttp, keep_alive_uses_one_connection_for_several_requests) {
    auto p = python_peer("rest_peer.py");
    run_async(aiohttp_keep_alive(http_base(p)));
}

// WebSocket peers: the same checks against each

awaitable<void> ws_echo(std::string url, std::string expected_subprotocol) {
    sb::ws_connect_options o;
    o.subprotocols = {"chat.v1"};
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url, o);
    EXPECT_EQ(ws.subprotocol(), expected_subprotocol);
    co_await ws.send_text("hello peer");
    auto m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_FALSE(m->binary);
    EXPECT_EQ(m->data, "hello peer");

    const std::string blob("\x00\x10\x80\xff", 4);
    co_await ws.send_binary(blob);
    m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_TRUE(m->binary);
    EXPECT_EQ(m->data, blob);

    const std::string large(200'000, 'z');
    co_await ws.send_text(large);
    m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data, large);

    const auto status = co_await ws.close(1000, "bye");
    EXPECT_EQ(status.code, 1000) << status.reason;
}

awaitable<void> ws_server_close(std::string url, std::uint16_t code, std::string reason) {
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
    auto seen = std::make_shared<std::vector<std::string>>();
    sb::ws_listener l;
    l.on_close = [seen](std::uint16_t c, std::string_view r) {
        seen->push_back(std::to_string(c) + " " + std::string(r));
    };
    ws.add_listener(l);
    const auto end = co_await ws.read();
    EXPECT_FALSE(end);
    const auto status = co_await ws.closed();
    EXPECT_EQ(status.code, code);
    EXPECT_EQ(status.reason, reason);
    EXPECT_EQ(*seen, (std::vector<std::string>{std::to_string(code) + " " + reason}));
}

awaitable<void> ws_refused(std::string url, std::string body) {
    try {
        co_await sb::websocket_client::connect(co_await asio::this_coro::executor, url);
        ADD_FAILURE() << "connected";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::upgrade_refused);
        EXPECT_EQ(e.status(), 403);
        EXPECT_EQ(e.body(), body);
    }
}

TEST(client_python_websockets, echo_of_text_binary_and_a_large_message) {
    auto p = python_peer("websockets_peer.py");
    run_async(ws_echo(ws_base(p) + "/chat", "chat.v1"));
}

TEST(client_python_websockets, a_server_initiated_close_reports_its_code) {
    auto p = python_peer("websockets_peer.py");
    run_async(ws_server_close(ws_base(p) + "/close", 4001, "peer says bye"));
}

TEST(client_python_websockets, a_refused_upgrade_carries_403_and_the_body) {
    auto p = python_peer("websockets_peer.py");
    run_async(ws_refused(ws_base(p) + "/forbidden", "forbidden by the python peer\n"));
}

TEST(client_node_ws, echo_of_text_binary_and_a_large_message) {
    auto p = node_peer();
    run_async(ws_echo(ws_base(p) + "/chat", "chat.v1"));
}

TEST(client_node_ws, a_server_initiated_close_reports_its_code) {
    auto p = node_peer();
    run_async(ws_server_close(ws_base(p) + "/close", 4002, "node says bye"));
}

TEST(client_node_ws, a_refused_upgrade_carries_403_and_the_body) {
    auto p = node_peer();
    run_async(ws_refused(ws_base(p) + "/forbidden", "forbidden by the node peer\n"));
}

// The raw peer

using outcome = sb::test::ws_outcome;

outcome run_raw(const peer& p, std::string path, sb::ws_connect_options o = {}) {
    return sb::test::read_everything(ws_base(p) + path, std::move(o));
}

// The client_error a connect to `path` fails with.
sb::client_error connect_error(const peer& p, std::string path, sb::ws_connect_options o = {}) {
    auto out = std::make_shared<outcome>();
    try {
        run_async(sb::test::read_all(ws_base(p) + path, out, o));
    } catch (const sb::client_error& e) {
        EXPECT_TRUE(out->messages.empty()) << "nothing may be delivered";
        return e;
    }
    throw std::runtime_error("connected to " + path);
}

TEST(client_raw_peer, frames_in_the_101_segment_are_delivered_and_the_ping_answered_case39) {
    auto p = python_peer("raw_ws_peer.py");
    const auto out = run_raw(p, "/hello-ping");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"Hello", "pong ok"}));
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_TRUE(out.errors.empty());
}

TEST(client_raw_peer, the_same_bytes_dribbled_one_per_send_give_the_same_result_case39) {
    auto p = python_peer("raw_ws_peer.py");
    const auto out = run_raw(p, "/dribble");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"Hello", "pong ok"}));
    EXPECT_EQ(out.status.code, 1000);
}

TEST(client_raw_peer, a_masked_server_frame_closes_with_1002_case39) {
    auto p = python_peer("raw_ws_peer.py");
    const auto out = run_raw(p, "/masked");
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(out.status.code, 1002);
    ASSERT_EQ(out.errors.size(), 1U);
    EXPECT_NE(out.errors[0].find("masked frame from a server"), std::string::npos) << out.errors[0];
    p.process.stop();
    EXPECT_NE(p.process.err().find("client closed with 1002"), std::string::npos)
        << p.process.err();
}

TEST(client_raw_peer, a_wrong_accept_is_a_handshake_error_and_nothing_is_delivered_case39) {
    auto p = python_peer("raw_ws_peer.py");
    const auto e = connect_error(p, "/wrong-accept");
    EXPECT_EQ(e.code(), sb::client_errc::handshake_failed);
    EXPECT_NE(std::string(e.what()).find("Sec-WebSocket-Accept"), std::string::npos) << e.what();
}

TEST(client_raw_peer, a_101_that_declares_a_body_still_upgrades_case40) {
    auto p = python_peer("raw_ws_peer.py");
    for (const char* path : {"/cl-huge", "/chunked-101", "/cl-zero"}) {
        const auto out = run_raw(p, path);
        EXPECT_EQ(out.messages, (std::vector<std::string>{"after the 101"})) << path;
        EXPECT_EQ(out.status.code, 1000) << path;
    }
}

TEST(client_raw_peer, a_200_with_json_is_a_refusal_with_its_status_and_body_case40) {
    auto p = python_peer("raw_ws_peer.py");
    const auto e = connect_error(p, "/json-200");
    EXPECT_EQ(e.code(), sb::client_errc::upgrade_refused);
    EXPECT_EQ(e.status(), 200);
    EXPECT_EQ(e.body(), R"({"hello":"not an upgrade"})");
}

TEST(client_raw_peer, a_401_is_a_refusal_with_the_servers_errors_case40) {
    auto p = python_peer("raw_ws_peer.py");
    const auto e = connect_error(p, "/unauthorized");
    EXPECT_EQ(e.status(), 401);
    EXPECT_EQ(e.errors(), (std::vector<std::string>{"token required"}));
}

TEST(client_raw_peer, a_huge_refusal_body_is_capped_not_an_error_case40) {
    auto p = python_peer("raw_ws_peer.py");
    sb::ws_connect_options o;
    o.max_error_body = 100;
    const auto e = connect_error(p, "/big-refusal", o);
    EXPECT_EQ(e.code(), sb::client_errc::upgrade_refused);
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.body(), std::string(100, 'x'));
}

TEST(client_raw_peer, a_close_before_the_answer_is_handshake_closed) {
    auto p = python_peer("raw_ws_peer.py");
    EXPECT_EQ(connect_error(p, "/close-early").code(), sb::client_errc::handshake_closed);
}

TEST(client_raw_peer, no_answer_or_half_an_answer_is_a_handshake_timeout) {
    auto p = python_peer("raw_ws_peer.py");
    sb::ws_connect_options o;
    o.handshake_timeout = 300ms;
    for (const char* path : {"/silent", "/half-head"}) {
        const auto started = std::chrono::steady_clock::now();
        EXPECT_EQ(connect_error(p, path, o).code(), sb::client_errc::handshake_timeout) << path;
        EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << path;
    }
}

// "/trickle" sends a byte every 100 ms but never finishes a frame: only finished frames count as
// hearing from the server (case-20 seen from the client).
TEST(client_raw_peer, a_server_gone_quiet_or_trickling_trips_the_idle_timeout) {
    auto p = python_peer("raw_ws_peer.py");
    sb::ws_connect_options o;
    o.ping_interval = 100ms;
    o.idle_timeout = 300ms;
    o.close_timeout = 200ms;
    for (const char* path : {"/goes-quiet", "/trickle"}) {
        const auto started = std::chrono::steady_clock::now();
        const auto out = run_raw(p, path, o);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << path;
        EXPECT_EQ(out.status.code, 1006) << path;
        EXPECT_EQ(out.status.reason, "idle timeout") << path;
        ASSERT_EQ(out.errors.size(), 1U) << path;
        EXPECT_NE(out.errors[0].find("idle"), std::string::npos) << out.errors[0];
    }
}

} // namespace
