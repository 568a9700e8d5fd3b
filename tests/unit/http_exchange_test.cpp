// The socket-free HTTP decisions, fed bytes through Beast's parser.
#include "http_exchange.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

namespace {

namespace sb = switchboard;
namespace http = boost::beast::http;
using sb::detail::check_head;

/// Parses a request head; returns false when Beast itself refuses it.
bool parse_head(std::string_view raw, http::request_parser<http::string_body>& parser) {
    parser.eager(false);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    return !ec || ec == http::error::need_more;
}

/// The status check_head answers for a head, 0 when it lets it through, -1
/// when Beast's parser already refused it (which the server answers with 400).
int verdict(std::string_view raw) {
    http::request_parser<http::string_body> parser;
    if (!parse_head(raw, parser)) {
        return -1;
    }
    auto answer = check_head(parser.get());
    return answer ? answer->status : 0;
}

boost::asio::awaitable<sb::reply> ok(sb::request&) {
    co_return sb::reply();
}

TEST(check_head, accepts_plain_requests) {
    EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    EXPECT_EQ(verdict("GET / HTTP/1.0\r\n\r\n"), 0);
    EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                      "Content-Length: 3\r\n\r\n"),
              0);
}

TEST(check_head, refuses_ambiguous_framing) {
    // Either Beast or check_head must refuse each; never both let it through.
    const char* cases[] = {
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
        "Transfer-Encoding: chunked, something\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
    };
    for (const char* raw : cases) {
        int v = verdict(raw);
        EXPECT_TRUE(v == -1 || v == 400) << raw << " gave " << v;
    }
}

TEST(check_head, answers_unsupported_codings_expectations_and_versions) {
    EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
              501);
    EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: x\r\nExpect: x\r\n\r\n"), 417);
    EXPECT_EQ(verdict("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
}

TEST(route_head, answers_404_405_options_and_bad_targets) {
    sb::router routes;
    routes.get("/jobs/:id", ok).post("/jobs", ok);

    auto route = [&](std::string_view raw) {
        http::request_parser<http::string_body> parser;
        EXPECT_TRUE(parse_head(raw, parser));
        return sb::detail::route_head(routes, parser.get());
    };

    auto found = route("GET /jobs/7?x=1&x=2 HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(found.entry, &routes.entry(0));
    EXPECT_EQ(found.query.size(), 2U);

    EXPECT_EQ(route("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").answer->status, 404);
    auto not_allowed = route("PUT /jobs/7 HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(not_allowed.answer->status, 405);
    EXPECT_EQ(not_allowed.answer->allow, "GET, HEAD");
    EXPECT_EQ(route("OPTIONS /jobs HTTP/1.1\r\nHost: x\r\n\r\n").answer->status, 204);
    EXPECT_EQ(route("GET /jobs/%zz HTTP/1.1\r\nHost: x\r\n\r\n").answer->status, 400);
    EXPECT_EQ(route("GET /jobs/1?a=%2 HTTP/1.1\r\nHost: x\r\n\r\n").answer->status, 400);
    EXPECT_EQ(route("GET http://x/jobs/1 HTTP/1.1\r\nHost: x\r\n\r\n").answer->status, 400);
}

TEST(make_response, head_keeps_length_but_drops_body) {
    sb::server_options options;
    auto r = sb::reply::raw(200, "text/plain", "hello");
    auto res = sb::detail::make_response(r, 11, true, true, options);
    EXPECT_EQ(res[http::field::content_length], "5");
    EXPECT_TRUE(res.body().empty());
    EXPECT_EQ(res[http::field::server], "switchboard");
}

TEST(make_response, no_content_has_no_body_headers) {
    sb::server_options options;
    options.server_header.clear();
    auto res = sb::detail::make_response(sb::reply(), 11, false, false, options);
    EXPECT_EQ(res.result_int(), 204U);
    EXPECT_EQ(res.count(http::field::content_length), 0U);
    EXPECT_EQ(res.count(http::field::server), 0U);
    EXPECT_FALSE(res.keep_alive());
}

} // namespace
