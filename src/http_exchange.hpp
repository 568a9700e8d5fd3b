// The socket-free half of serving HTTP: what to make of a parsed request
// head, which route runs, how a reply becomes a response. The connection
// coroutine (http_connection.cpp) only moves bytes and keeps deadlines; the
// HTTP fuzz target drives these functions directly.
#pragma once

#include <switchboard/router.hpp>
#include <switchboard/server.hpp>

#include <switchboard/detail/route_table.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <vector>

namespace switchboard::detail {

namespace http = boost::beast::http;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

/// An answer decided before (or instead of) running a handler.
struct early_answer {
    early_answer(int s, std::string m, std::string a = {})
        : status(s)
        , message(std::move(m))
        , allow(std::move(a)) {}

    int status;
    std::string message;
    /// Extra header, such as Allow for a 405.
    std::string allow;
};

/// Checks what the head alone can settle: version, Host, body framing,
/// Expect. Anything ambiguous is refused, since a proxy in front of us might
/// read the framing differently (request smuggling).
std::optional<early_answer> check_head(const http::request_header<>& head);

/// Finds the route for a head. On success returns the match; otherwise the
/// answer to send (404, 405 with Allow, 400 for a bad target, 204 with Allow
/// for OPTIONS without its own route).
struct routing {
    route_match match;
    field_list query;
    std::optional<early_answer> answer;
    const route_entry* entry = nullptr;
};
routing route_head(const router& routes, const http::request_header<>& head);

/// For a state-changing request (every method but GET, HEAD, OPTIONS and
/// TRACE) that carries an Origin: 403 unless the route's allowed origins,
/// or else the server's, allow it, compared as the WebSocket handshake
/// compares them (origin_allowed). A browser sends Origin with such
/// requests, and a page on another site must not make them with the
/// visitor's cookies; a request without Origin is not from a browser page.
std::optional<early_answer> check_origin(const http::request_header<>& head,
                                         const route_entry& entry, const server_options& options);

/// Whether the request carries a body at all (Content-Length > 0 or chunked).
bool expects_body(const http::request_header<>& head);

/// Moves a parsed request into the handler's view of it.
request make_request(http_request&& req, routing&& routed, std::string remote,
                     const server_options& options);

/// Runs the handler and turns whatever it throws into a reply: http_error
/// keeps its status and messages, anything else is logged and becomes a 500
/// that tells the client nothing about the cause.
boost::asio::awaitable<reply> invoke(const route_entry& entry, request& req);

/// The response for a reply. `head_only` drops the body but keeps its
/// Content-Length, as HEAD requires.
http_response make_response(const reply& r, unsigned version, bool head_only, bool keep_alive,
                            const server_options& options);

http_response make_error_response(const early_answer& a, unsigned version, bool keep_alive,
                                  const server_options& options);

} // namespace switchboard::detail
