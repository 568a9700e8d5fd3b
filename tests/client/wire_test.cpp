// The client's protocol logic fed bytes directly: requests, responses, the 101 and the bytes
// behind it (case-39, case-40), masks.
#include "client_wire.hpp"

#include <switchboard/detail/ws_frame.hpp>

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
namespace wire = switchboard::detail::wire;
namespace ws = switchboard::detail::ws;
using reader = wire::response_reader;
using upgrade = wire::upgrade_reader;

// "81 05 48" -> the bytes. Spaces are ignored.
std::string hex(std::string_view text) {
    std::string bytes;
    std::string digits;
    for (char c : text) {
        if (c != ' ') {
            digits.push_back(c);
        }
    }
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
        bytes.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    return bytes;
}

void feed_bytewise(reader& r, std::string_view data) {
    for (char c : data) {
        r.feed(std::string_view(&c, 1));
    }
}

const sb::url_parts local{"http", "127.0.0.1", 8080, "/jobs/7?x=1"};

// Requests

TEST(client_request_text, has_host_accept_type_and_length) {
    auto text = wire::request_text("POST", local, "switchboard", {}, {}, R"({"a":1})");
    EXPECT_EQ(text, "POST /jobs/7?x=1 HTTP/1.1\r\n"
                    "Host: 127.0.0.1:8080\r\n"
                    "User-Agent: switchboard\r\n"
                    "Accept: application/json\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: 7\r\n"
                    "\r\n"
                    R"({"a":1})");
}

TEST(client_request_text, get_without_body_sends_no_length_and_post_sends_zero) {
    auto get = wire::request_text("GET", local, "", {}, {}, "");
    EXPECT_EQ(get.find("Content-Length"), std::string::npos) << get;
    EXPECT_EQ(get.find("Content-Type"), std::string::npos) << get;
    auto post = wire::request_text("POST", local, "", {}, {}, "");
    EXPECT_NE(post.find("Content-Length: 0\r\n"), std::string::npos) << post;
}

TEST(client_request_text, later_headers_replace_earlier_ones_by_name) {
    auto text = wire::request_text("POST", local, "ua", {{"X-Trace", "1"}, {"accept", "*/*"}},
                                   {{"x-trace", "2"}, {"Content-Type", "text/plain"}}, "hi");
    EXPECT_NE(text.find("Accept: */*\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("X-Trace: 2\r\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("X-Trace: 1"), std::string::npos) << text;
    EXPECT_NE(text.find("Content-Type: text/plain\r\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("application/json\r\nContent-Type"), std::string::npos) << text;
}

TEST(client_request_text, refuses_a_header_value_that_would_start_a_new_line) {
    EXPECT_THROW(wire::request_text("GET", local, "", {}, {{"X-A", "1\r\nX-Injected: 1"}}, ""),
                 std::invalid_argument);
    EXPECT_THROW(wire::request_text("GET", local, "", {}, {{"X-A", "1\nb"}}, ""),
                 std::invalid_argument);
    EXPECT_THROW(wire::request_text("GET", local, "", {}, {{"Bad Name", "1"}}, ""),
                 std::invalid_argument);
    EXPECT_THROW(wire::request_text("GE T", local, "", {}, {}, ""), std::invalid_argument);
}

TEST(client_request_text, refuses_fields_the_client_owns) {
    for (const char* name : {"Host", "content-length", "Transfer-Encoding", "Connection"}) {
        EXPECT_THROW(wire::request_text("GET", local, "", {}, {{name, "x"}}, ""),
                     std::invalid_argument)
            << name;
    }
}

TEST(client_request_text, only_safe_methods_and_put_delete_are_idempotent) {
    EXPECT_TRUE(wire::idempotent("GET"));
    EXPECT_TRUE(wire::idempotent("PUT"));
    EXPECT_TRUE(wire::idempotent("DELETE"));
    EXPECT_FALSE(wire::idempotent("POST"));
    EXPECT_FALSE(wire::idempotent("PATCH"));
}

TEST(client_upgrade_request, has_the_rfc6455_fields_and_offered_subprotocols) {
    sb::url_parts u{"ws", "::1", 9000, "/jobs/7/subscribe?since=3"};
    auto text = wire::upgrade_request_text(u, "dGhlIHNhbXBsZSBub25jZQ==", {"chat.v2", "chat.v1"},
                                           {{"Authorization", "Bearer x"}});
    EXPECT_EQ(text, "GET /jobs/7/subscribe?since=3 HTTP/1.1\r\n"
                    "Host: [::1]:9000\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n"
                    "Authorization: Bearer x\r\n"
                    "\r\n");
}

TEST(client_upgrade_request, refuses_handshake_fields_and_bad_subprotocols) {
    sb::url_parts u{"ws", "h", 80, "/"};
    EXPECT_THROW(wire::upgrade_request_text(u, "k", {}, {{"Sec-WebSocket-Key", "x"}}),
                 std::invalid_argument);
    EXPECT_THROW(wire::upgrade_request_text(u, "k", {}, {{"upgrade", "h2c"}}),
                 std::invalid_argument);
    EXPECT_THROW(wire::upgrade_request_text(u, "k", {"a b"}, {}), std::invalid_argument);
    EXPECT_THROW(wire::upgrade_request_text(u, "k", {"a", "a"}, {}), std::invalid_argument);
    EXPECT_THROW(wire::upgrade_request_text(u, "k", {""}, {}), std::invalid_argument);
}

TEST(client_upgrade_request, keys_are_base64_of_16_fresh_bytes) {
    std::set<std::string> keys;
    for (int i = 0; i < 100; ++i) {
        auto key = wire::new_websocket_key();
        ASSERT_EQ(key.size(), 24U);
        EXPECT_EQ(key.substr(22), "==");
        keys.insert(key);
    }
    EXPECT_EQ(keys.size(), 100U);
}

// Error bodies

TEST(client_error_body, reads_the_errors_list_and_a_single_error) {
    EXPECT_EQ(wire::errors_from_body(R"({"errors":["a","b"]})"),
              (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(wire::errors_from_body(R"({"error":"only one"})"),
              (std::vector<std::string>{"only one"}));
}

TEST(client_error_body, ignores_bodies_that_are_not_an_errors_object) {
    EXPECT_TRUE(wire::errors_from_body("<h1>502</h1>").empty());
    EXPECT_TRUE(wire::errors_from_body(R"(["a"])").empty());
    EXPECT_TRUE(wire::errors_from_body(R"({"errors":"not a list"})").empty());
    EXPECT_EQ(wire::errors_from_body(R"({"errors":[1,"text",{"x":1}]})"),
              (std::vector<std::string>{"text"}));
}

TEST(client_error_body, caps_how_many_messages_and_how_long) {
    std::string body = R"({"errors":[)";
    for (int i = 0; i < 100; ++i) {
        if (i > 0) {
            body.push_back(',');
        }
        body.push_back('"');
        body.append(1000, 'x');
        body.push_back('"');
    }
    body += "]}";
    auto errors = wire::errors_from_body(body);
    EXPECT_EQ(errors.size(), 32U);
    EXPECT_EQ(errors.front().size(), 512U);
}

TEST(client_error_body, a_long_message_is_cut_between_characters_not_inside_one) {
    // 511 ASCII bytes and then a two-byte character: a cut at 512 bytes would keep half of it.
    const std::string message = std::string(511, 'x') + "\u00e9\u00e9\u00e9";
    auto errors = wire::errors_from_body(R"({"errors":[")" + message + R"("]})");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors.front(), std::string(511, 'x'));

    // A three-byte character straddling the limit goes whole, the text before it stays.
    const std::string euro = std::string(510, 'y') + "\xE2\x82\xAC" + "z";
    EXPECT_EQ(wire::capped(euro, 512), std::string(510, 'y'));
    EXPECT_EQ(wire::capped(euro, 513), euro.substr(0, 513));
    EXPECT_EQ(wire::capped("short", 512), "short");
}

// Responses

TEST(client_response_reader, reads_a_content_length_body_fed_one_byte_at_a_time) {
    reader r(8192, 1024, reader::body_mode::limit);
    feed_bytewise(r, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "11\r\n\r\n{\"a\":[1,2]}");
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.response().status, 200);
    EXPECT_EQ(r.response().reason, "OK");
    EXPECT_EQ(r.response().body, R"({"a":[1,2]})");
    EXPECT_EQ(r.response().header("content-type"), "application/json");
    EXPECT_TRUE(r.reusable());
}

TEST(client_response_reader, reads_a_chunked_body) {
    reader r(8192, 1024, reader::body_mode::limit);
    r.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab");
    EXPECT_FALSE(r.done());
    r.feed("cd\r\n3;ext=1\r\nefg\r\n0\r\n\r\n");
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.response().body, "abcdefg");
    EXPECT_TRUE(r.reusable());
}

TEST(client_response_reader, reads_an_unframed_body_until_eof_and_does_not_reuse) {
    reader r(8192, 1024, reader::body_mode::limit);
    r.feed("HTTP/1.1 200 OK\r\n\r\nall of it");
    EXPECT_FALSE(r.done());
    r.feed_eof();
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.response().body, "all of it");
    EXPECT_FALSE(r.reusable());
}

TEST(client_response_reader, skips_interim_responses) {
    reader r(8192, 1024, reader::body_mode::limit);
    r.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
           "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.response().status, 201);
    EXPECT_FALSE(r.response().header("Link").has_value());
    EXPECT_EQ(r.response().body, "{}");
}

TEST(client_response_reader, no_body_for_head_204_and_304_whatever_the_length_says) {
    reader head(8192, 1024, reader::body_mode::limit, true);
    head.feed("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n");
    EXPECT_TRUE(head.done());
    EXPECT_TRUE(head.reusable());

    reader empty(8192, 1024, reader::body_mode::limit);
    empty.feed("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
    EXPECT_TRUE(empty.done());
    EXPECT_EQ(empty.response().body, "");
}

TEST(client_response_reader, refuses_a_declared_length_over_the_limit_before_reading_it) {
    reader r(8192, 1024, reader::body_mode::limit);
    r.feed("HTTP/1.1 200 OK\r\nContent-Length: 2147483647\r\n\r\n");
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), sb::client_errc::body_too_large);
    EXPECT_LT(r.response().body.capacity(), 4096U);
}

TEST(client_response_reader, refuses_a_chunked_body_that_grows_past_the_limit) {
    reader r(8192, 10, reader::body_mode::limit);
    r.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678");
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), sb::client_errc::body_too_large);
}

TEST(client_response_reader, truncation_keeps_the_first_bytes_and_completes) {
    reader r(8192, 5, reader::body_mode::truncate);
    r.feed("HTTP/1.1 403 Forbidden\r\nContent-Length: 2147483647\r\n\r\nabcdefgh");
    ASSERT_TRUE(r.done());
    EXPECT_TRUE(r.body_truncated());
    EXPECT_EQ(r.response().body, "abcde");
    EXPECT_FALSE(r.reusable());
}

// Found by fuzz_client_response: after a truncated body, bytes that came in a later read were
// kept as leftover, bytes that came in the same read were not.
TEST(client_response_reader, a_truncated_body_leaves_nothing_behind_however_it_arrives) {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n";
    const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const auto& [name, response] : std::vector<std::pair<std::string, std::string>>{
             {"read to the end", head + std::string(40, 'x')},
             {"chunked", chunked_head + "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"},
             {"with a length", "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n" +
                                   std::string(30, 'y') + "HTTP/1.1 204 No Content\r\n\r\n"}}) {
        for (std::size_t cut = 0; cut <= response.size(); ++cut) {
            SCOPED_TRACE(name + ", cut at " + std::to_string(cut));
            reader r(8192, 5, reader::body_mode::truncate);
            r.feed(response.substr(0, cut));
            r.feed(response.substr(cut));
            r.feed_eof();
            ASSERT_TRUE(r.done());
            EXPECT_TRUE(r.body_truncated());
            EXPECT_EQ(r.response().body.size(), 5U);
            EXPECT_FALSE(r.reusable());
            EXPECT_EQ(r.take_leftover(), "");
        }
    }
}

TEST(client_response_reader, a_head_over_the_limit_is_header_too_large) {
    reader r(256, 1024, reader::body_mode::limit);
    r.feed("HTTP/1.1 200 OK\r\nX-Big: " + std::string(1000, 'x'));
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), sb::client_errc::header_too_large);
}

TEST(client_response_reader, eof_before_the_end_is_connection_closed) {
    reader nothing(8192, 1024, reader::body_mode::limit);
    nothing.feed_eof();
    EXPECT_EQ(nothing.error(), sb::client_errc::connection_closed);
    EXPECT_FALSE(nothing.got_some());

    reader mid_head(8192, 1024, reader::body_mode::limit);
    mid_head.feed("HTTP/1.1 200 OK\r\nContent-");
    mid_head.feed_eof();
    EXPECT_EQ(mid_head.error(), sb::client_errc::connection_closed);
    EXPECT_TRUE(mid_head.got_some());

    reader mid_body(8192, 1024, reader::body_mode::limit);
    mid_body.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    mid_body.feed_eof();
    EXPECT_EQ(mid_body.error(), sb::client_errc::connection_closed);
}

TEST(client_response_reader, malformed_status_line_is_bad_response) {
    reader r(8192, 1024, reader::body_mode::limit);
    r.feed("HTTP/1.1 2000 Way OK\r\n\r\n");
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error(), sb::client_errc::bad_response);

    reader garbage(8192, 1024, reader::body_mode::limit);
    garbage.feed("SSH-2.0-OpenSSH_9.2\r\n");
    EXPECT_TRUE(garbage.failed());
}

TEST(client_response_reader, a_status_outside_100_to_599_is_bad_response) {
    for (const std::string_view status : {"011", "099", "600", "999"}) {
        reader r(8192, 1024, reader::body_mode::limit);
        r.feed("HTTP/1.1 " + std::string(status) + " Odd\r\nContent-Length: 0\r\n\r\n");
        ASSERT_TRUE(r.failed()) << status;
        EXPECT_EQ(r.error(), sb::client_errc::bad_response) << status;
    }
    reader edge(8192, 1024, reader::body_mode::limit);
    edge.feed("HTTP/1.1 599 Edge\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(edge.done());
    EXPECT_EQ(edge.response().status, 599);
}

TEST(client_response_reader, keep_alive_follows_version_and_connection) {
    auto reusable = [](std::string_view text) {
        reader r(8192, 1024, reader::body_mode::limit);
        r.feed(text);
        return r.done() && r.reusable();
    };
    EXPECT_TRUE(reusable("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    EXPECT_FALSE(reusable("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    EXPECT_FALSE(reusable("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    EXPECT_TRUE(reusable("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
    // Bytes after the response nobody asked for: the framing can no longer be trusted.
    EXPECT_FALSE(reusable("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n"));
}

// The 101 and what follows it

const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string good_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; // RFC 6455 1.3

std::string head_101(std::string_view extra = "", std::string_view accept = good_accept) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           std::string(accept) + "\r\n" + std::string(extra) + "\r\n";
}

// The messages and pings a client would see in `bytes`.
std::vector<std::string> frames_in(const std::string& bytes) {
    ws::frame_parser parser(ws::role::client, 1 << 20);
    std::vector<std::string> seen;
    std::string_view rest = bytes;
    for (;;) {
        ws::event ev;
        rest.remove_prefix(parser.parse(rest, ev));
        if (ev.what == ws::event::kind::need_more) {
            return seen;
        }
        switch (ev.what) {
        case ws::event::kind::message:
            seen.push_back("message:" + ev.payload);
            break;
        case ws::event::kind::ping:
            seen.push_back("ping:" + ev.payload);
            break;
        case ws::event::kind::error:
            seen.push_back("error:" + std::to_string(ev.code));
            return seen;
        default:
            seen.push_back("other");
            return seen;
        }
    }
}

TEST(client_upgrade_reader, frames_in_the_same_segment_as_the_101_are_kept_case39) {
    upgrade u(key, {}, 8192, 1024);
    u.feed(head_101() + hex("81 05 48 65 6C 6C 6F") + hex("89 00"));
    ASSERT_EQ(u.current(), upgrade::state::upgraded) << u.error_detail();
    EXPECT_EQ(frames_in(u.take_leftover()), (std::vector<std::string>{"message:Hello", "ping:"}));
}

TEST(client_upgrade_reader, the_same_bytes_one_at_a_time_give_the_same_result_case39) {
    upgrade u(key, {}, 8192, 1024);
    const auto bytes = head_101() + hex("81 05 48 65 6C 6C 6F") + hex("89 00");
    std::string after;
    for (char c : bytes) {
        if (u.current() == upgrade::state::upgraded) {
            after.push_back(c);
        } else {
            u.feed(std::string_view(&c, 1));
        }
    }
    ASSERT_EQ(u.current(), upgrade::state::upgraded);
    EXPECT_EQ(frames_in(u.take_leftover() + after),
              (std::vector<std::string>{"message:Hello", "ping:"}));
}

TEST(client_upgrade_reader, a_masked_server_frame_behind_the_101_fails_with_1002_case39) {
    upgrade u(key, {}, 8192, 1024);
    const std::array<unsigned char, 4> mask{1, 2, 3, 4};
    u.feed(head_101() + ws::encode_frame(ws::opcode::text, "x", true, &mask));
    ASSERT_EQ(u.current(), upgrade::state::upgraded);
    EXPECT_EQ(frames_in(u.take_leftover()), (std::vector<std::string>{"error:1002"}));
}

TEST(client_upgrade_reader, a_wrong_accept_fails_and_nothing_is_delivered_case39) {
    upgrade u(key, {}, 8192, 1024);
    u.feed(head_101("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + hex("81 05 48 65 6C 6C 6F"));
    ASSERT_EQ(u.current(), upgrade::state::failed);
    EXPECT_EQ(u.error(), sb::client_errc::handshake_failed);
    EXPECT_EQ(u.error_detail(), "wrong Sec-WebSocket-Accept");
}

TEST(client_upgrade_reader, a_101_declaring_content_length_switches_after_its_head_case40) {
    for (const char* framing : {"Content-Length: 2147483647\r\n", "Transfer-Encoding: chunked\r\n",
                                "Content-Length: 0\r\n"}) {
        upgrade u(key, {}, 8192, 1024);
        u.feed(head_101(framing) + hex("81 05 48 65 6C 6C 6F"));
        ASSERT_EQ(u.current(), upgrade::state::upgraded) << framing << u.error_detail();
        EXPECT_EQ(frames_in(u.take_leftover()), (std::vector<std::string>{"message:Hello"}))
            << framing;
    }
}

TEST(client_upgrade_reader, a_200_with_json_is_refused_with_its_status_and_body_case40) {
    upgrade u(key, {}, 8192, 1024);
    u.feed("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
           R"({"hello":"x"})");
    ASSERT_EQ(u.current(), upgrade::state::refused);
    EXPECT_EQ(u.response().status, 200);
    EXPECT_EQ(u.response().body, R"({"hello":"x"})");
}

TEST(client_upgrade_reader, a_401_keeps_www_authenticate_and_the_body_case40) {
    upgrade u(key, {}, 8192, 1024);
    u.feed("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"jobs\"\r\n"
           "Content-Length: 4\r\n\r\nnope");
    ASSERT_EQ(u.current(), upgrade::state::refused);
    EXPECT_EQ(u.response().status, 401);
    EXPECT_EQ(u.response().header("www-authenticate"), "Bearer realm=\"jobs\"");
    EXPECT_EQ(u.response().body, "nope");
}

TEST(client_upgrade_reader, a_refusal_body_is_capped_not_a_limit_error_case40) {
    upgrade u(key, {}, 8192, 16);
    u.feed("HTTP/1.1 403 Forbidden\r\nContent-Length: 2147483647\r\n\r\n" + std::string(100, 'x'));
    ASSERT_EQ(u.current(), upgrade::state::refused);
    EXPECT_EQ(u.response().body, std::string(16, 'x'));
}

TEST(client_upgrade_reader, a_refusal_cut_short_by_eof_is_still_a_refusal) {
    upgrade u(key, {}, 8192, 1024);
    u.feed("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\nbusy");
    EXPECT_EQ(u.current(), upgrade::state::reading);
    u.feed_eof();
    ASSERT_EQ(u.current(), upgrade::state::refused);
    EXPECT_EQ(u.response().status, 503);
    EXPECT_EQ(u.response().body, "busy");
}

TEST(client_upgrade_reader, a_101_without_upgrade_or_connection_fails) {
    upgrade no_upgrade(key, {}, 8192, 1024);
    no_upgrade.feed("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " +
                    good_accept + "\r\n\r\n");
    EXPECT_EQ(no_upgrade.current(), upgrade::state::failed);

    upgrade no_connection(key, {}, 8192, 1024);
    no_connection.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Sec-WebSocket-Accept: " +
                       good_accept + "\r\n\r\n");
    EXPECT_EQ(no_connection.current(), upgrade::state::failed);

    upgrade old(key, {}, 8192, 1024);
    auto head = head_101();
    head.replace(0, 8, "HTTP/1.0");
    old.feed(head);
    EXPECT_EQ(old.current(), upgrade::state::failed);
}

TEST(client_upgrade_reader, tokens_are_compared_without_case_and_in_lists) {
    upgrade u(key, {}, 8192, 1024);
    u.feed("HTTP/1.1 101 Switching Protocols\r\nUPGRADE: WebSocket\r\n"
           "connection: keep-alive, UPGRADE\r\nSec-WebSocket-Accept:  " +
           good_accept + " \r\n\r\n");
    EXPECT_EQ(u.current(), upgrade::state::upgraded) << u.error_detail();
}

TEST(client_upgrade_reader, a_subprotocol_or_extension_we_did_not_offer_fails) {
    upgrade ext(key, {}, 8192, 1024);
    ext.feed(head_101("Sec-WebSocket-Extensions: permessage-deflate\r\n"));
    EXPECT_EQ(ext.current(), upgrade::state::failed);

    upgrade unoffered(key, {"chat.v1"}, 8192, 1024);
    unoffered.feed(head_101("Sec-WebSocket-Protocol: chat.v9\r\n"));
    EXPECT_EQ(unoffered.current(), upgrade::state::failed);

    upgrade two(key, {"a", "b"}, 8192, 1024);
    two.feed(head_101("Sec-WebSocket-Protocol: a, b\r\n"));
    EXPECT_EQ(two.current(), upgrade::state::failed);

    upgrade chosen(key, {"a", "b"}, 8192, 1024);
    chosen.feed(head_101("Sec-WebSocket-Protocol: b\r\n"));
    ASSERT_EQ(chosen.current(), upgrade::state::upgraded);
    EXPECT_EQ(chosen.subprotocol(), "b");

    upgrade none_chosen(key, {"a"}, 8192, 1024);
    none_chosen.feed(head_101());
    ASSERT_EQ(none_chosen.current(), upgrade::state::upgraded);
    EXPECT_EQ(none_chosen.subprotocol(), "");
}

TEST(client_upgrade_reader, eof_before_the_answer_is_handshake_closed) {
    upgrade u(key, {}, 8192, 1024);
    u.feed("HTTP/1.1 101 Swi");
    u.feed_eof();
    ASSERT_EQ(u.current(), upgrade::state::failed);
    EXPECT_EQ(u.error(), sb::client_errc::handshake_closed);
}

TEST(client_upgrade_reader, a_head_over_the_limit_fails_without_growing) {
    upgrade u(key, {}, 512, 1024);
    u.feed("HTTP/1.1 101 Switching Protocols\r\nX: " + std::string(100000, 'a'));
    ASSERT_EQ(u.current(), upgrade::state::failed);
    EXPECT_EQ(u.error(), sb::client_errc::handshake_failed);
}

// Masks

TEST(client_mask_source, keys_are_fresh_and_spread_over_all_bytes) {
    wire::mask_source masks;
    std::set<std::uint32_t> seen;
    std::array<int, 256> counts{};
    constexpr int n = 4096;
    for (int i = 0; i < n; ++i) {
        const auto m = masks.next();
        seen.insert(std::uint32_t{m[0]} << 24 | std::uint32_t{m[1]} << 16 |
                    std::uint32_t{m[2]} << 8 | m[3]);
        for (auto b : m) {
            ++counts[b];
        }
    }
    // Birthday bound: 4096 random 32-bit keys collide with probability about 0.2 %.
    EXPECT_GE(seen.size(), static_cast<std::size_t>(n - 2));
    // 16384 bytes over 256 values: 64 each on average; a fixed or counter-like source would
    // leave values out or pile them up.
    for (int c : counts) {
        EXPECT_GT(c, 20);
        EXPECT_LT(c, 130);
    }
}

} // namespace
