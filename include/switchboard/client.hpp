// The client side of Switchboard: typed REST requests over reused keep-alive connections,
// WebSocket connections read by a coroutine or by listeners, and a reconnect loop with jittered
// backoff. docs/client.md is the guide; this header is the reference.
//
// https:// and wss:// go over TLS (OpenSSL), with the server's certificate checked against the
// system's trust store and the URL's host name unless tls_options says otherwise.
//
// Asynchronous operations, once for the whole header:
// - Every operation is an awaitable; it completes on the executor of the coroutine that awaits
//   it, whatever executor the client object was made with.
// - Arguments are taken by value or copied before the first suspension, so temporaries passed to
//   an operation need not outlive it.
// - Every network wait has a deadline (the *_timeout options); none waits forever.
// - Failures throw client_error (a std::system_error), except where a function says otherwise.
//   Passing arguments that can never be sent (a header with CR or LF, text that is not UTF-8, a
//   close code that may not go on the wire) throws std::invalid_argument.
// - Optional arguments are overloads, not default arguments: g++ 12 destroys an aggregate
//   temporary made inside a co_await expression twice, and a defaulted options struct would be
//   one (see docs/client.md, "g++ 12").
#pragma once

#include <switchboard/json.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace switchboard {

/// Header fields in order, as (name, value) pairs.
using header_list = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------
// Errors

/// What a client operation failed with, beside the system errors of the socket itself (such as
/// connection_refused), which are reported with their own codes. Messages are short and fixed;
/// what the peer sent is kept apart, in client_error.
enum class client_errc {
    bad_url = 1,        ///< the URL does not parse, or has no host
    unsupported_scheme, ///< not http(s):// for http_client, not ws(s):// for websocket_client
    invalid_request,    ///< the body has no JSON form
    connect_timeout,    ///< resolving and connecting took longer than connect_timeout
    request_timeout,    ///< the response was not complete within request_timeout
    handshake_timeout,  ///< the WebSocket handshake was not complete within handshake_timeout
    connection_closed,  ///< the server closed the connection before the response was complete
    header_too_large,   ///< the response head passed its limit
    body_too_large,     ///< the response body passed max_response_body
    bad_response,       ///< the response is not valid HTTP/1.1
    http_status,        ///< the server answered with a status outside 2xx
    not_json,           ///< a 2xx answer whose body is not JSON
    unexpected_json,    ///< a 2xx answer whose JSON does not fit the response type
    upgrade_refused,    ///< the server answered the WebSocket handshake with something but 101
    handshake_failed,   ///< a 101 that breaks RFC 6455 (wrong Sec-WebSocket-Accept, ...)
    handshake_closed,   ///< the server closed the connection during the WebSocket handshake
    not_open,           ///< the WebSocket is closing or closed
    protocol_error,     ///< the server broke the WebSocket protocol; we closed the connection
    idle_timeout,       ///< the WebSocket peer was silent past idle_timeout
    send_timeout,       ///< the WebSocket peer did not take our data within send_timeout
    /// The TLS handshake failed for another reason than the certificate (the server does not
    /// speak TLS, no common protocol version or cipher, an alert); OpenSSL's reason is in
    /// what(). Nothing of the request was sent.
    tls_handshake_failed,
    /// The server's certificate was refused: untrusted, expired, or not for the URL's host (a
    /// DNS name, or the IP address for an IP literal); OpenSSL's reason is in what(). Nothing
    /// of the request was sent.
    certificate_rejected,
    /// tls_options names a CA file or directory that cannot be loaded, or the system's trust
    /// store cannot be.
    bad_tls_options,
};

const std::error_category& client_category() noexcept;
std::error_code make_error_code(client_errc e) noexcept;

/// The one exception type of every client operation.
///
/// code() is a client_errc or the system error of the socket (connection_refused, ...). What the
/// server said is kept beside it: status() and errors() for an HTTP answer, body() for its text
/// (at most max_error_body bytes). what() is one line fit for a log or a terminal, for example
/// "GET http://127.0.0.1:8080/jobs/9: HTTP 404: no job 9".
///
/// Copies share their text, so copying never throws.
class client_error : public std::system_error {
public:
    client_error(std::error_code code, std::string message, int status = 0,
                 std::vector<std::string> errors = {}, std::string body = {});

    const char* what() const noexcept override;

    /// The HTTP status of the answer, 0 when there was none.
    int status() const noexcept;
    /// The server's `{"errors": [...]}` list; empty when the body had none.
    const std::vector<std::string>& errors() const noexcept;
    /// The body of the answer (capped), or the text that did not decode.
    const std::string& body() const noexcept;

private:
    struct details;
    std::shared_ptr<const details> details_;
};

// ---------------------------------------------------------------------------------------------
// URLs and targets

/// A parsed http://, https://, ws:// or wss:// URL.
struct url_parts {
    std::string scheme; ///< lower case
    std::string host;   ///< a name, an IPv4 address, or an IPv6 address without brackets
    std::uint16_t port = 0;
    std::string target; ///< path and query as sent, still percent-encoded; "/" at least

    /// "host:port" (IPv6 in brackets): what errors name; with the scheme, the key connections
    /// are reused by.
    std::string authority() const;
    /// The Host header: the port is left out when it is the scheme's default.
    std::string host_header() const;
};

/// Parses an absolute URL. The fragment is dropped; user info ("user:pass@") is refused so that
/// credentials never travel in a URL.
///
/// @throws client_error with client_errc::bad_url.
url_parts parse_url(std::string_view url);

/// One path or query parameter for make_target. Numbers and booleans are written the way the
/// server's typed parameters read them back.
struct url_param {
    url_param(std::string n, std::string_view v);
    url_param(std::string n, const char* v);
    url_param(std::string n, const std::string& v);
    url_param(std::string n, bool v);
    url_param(std::string n, double v);
    template <std::integral T>
    requires(!std::same_as<T, bool>) url_param(std::string n, T v)
        : name(std::move(n))
        , value(std::to_string(v)) {}

    std::string name;
    std::string value;
};

/// Builds a request target from a route pattern, the way the server's router reads it:
///
///     make_target("/jobs/:jobid/files/*path", {{"jobid", 7}, {"path", "a b/c.txt"}},
///                 {{"tag", "x&y"}})
///     == "/jobs/7/files/a%20b/c.txt?tag=x%26y"
///
/// A ":name" value is percent-encoded whole, so '/' inside it stays in its segment; a "*name"
/// value (last segment only) keeps its '/' as separators and has each piece encoded. Query
/// names and values are encoded and appended in order. Literal segments are copied as written.
///
/// @throws std::invalid_argument for a pattern that does not start with '/' or holds '?', '#',
/// a space or a control character; a parameter the pattern has and `params` lacks, or the
/// reverse; an empty value.
std::string make_target(std::string_view pattern, const std::vector<url_param>& params,
                        const std::vector<url_param>& query);
std::string make_target(std::string_view pattern, const std::vector<url_param>& params);
std::string make_target(std::string_view pattern);

// ---------------------------------------------------------------------------------------------
// Connecting: TLS and where a host name leads

/// How https:// and wss:// connections are secured. By default the server's certificate must
/// chain to the system's trust store, be valid now, and name the URL's host (a DNS name in its
/// subjectAltName, or the address itself for an IP literal); SNI carries the host name, and is
/// left out for an IP literal. TLS 1.2 is the oldest version offered.
struct tls_options {
    /// A PEM file of CA certificates to trust. When ca_file or ca_dir is set, only these are
    /// trusted (a private trust store) and the system's store is not loaded.
    std::string ca_file{};
    /// A directory of CA certificates named by their subject hash (`openssl rehash`).
    std::string ca_dir{};
    /// Accepts any certificate from anyone: the connection is encrypted but not authenticated,
    /// so whoever sits between client and server can read and change everything. For a test
    /// server only. Every connection made this way logs a warning.
    bool insecure_skip_certificate_verification = false;
};

/// Where to connect for a host name instead of asking the resolver, like curl's --resolve. The
/// URL's host still goes into the Host header, the SNI and the certificate check, so a server
/// can be reached at a given address while its certificate is checked for its real name.
struct resolve_entry {
    std::string host;    ///< as in URLs, compared case-insensitively
    std::string address; ///< an IPv4 or IPv6 address (no brackets); std::invalid_argument if not
};

// ---------------------------------------------------------------------------------------------
// REST

/// A body type for "nothing": as a request body nothing is sent; as a response type any 2xx
/// answer is accepted and its body ignored.
struct no_body {};

/// A request as sent by http_client::send.
struct client_request {
    std::string method = "GET";
    /// An absolute http:// or https:// URL, or a target starting with '/' that goes to
    /// options.base_url.
    std::string url;
    /// Sent after the fields the client sets itself (Host, User-Agent, Accept, Content-Type,
    /// Content-Length); a field of the same name given here replaces the client's, except
    /// Host, Content-Length, Transfer-Encoding and Connection, which the client owns.
    header_list headers;
    /// Sent as is. When it is not empty and no Content-Type is given, application/json.
    std::string body;
};

/// A response as received.
struct client_response {
    int status = 0;
    std::string reason;
    header_list headers;
    std::string body;

    /// The first header of that name (compared case-insensitively).
    std::optional<std::string_view> header(std::string_view name) const;
};

/// Every limit of http_client, with its default.
struct http_client_options {
    /// Where targets ("/jobs/7") go: "http://host:port" or "https://host:port". Absolute URLs
    /// ignore it.
    std::string base_url;
    /// Resolving the host, opening the TCP connection and, for https://, the TLS handshake.
    std::chrono::milliseconds connect_timeout{10'000};
    /// From the first byte of the request to the last byte of the response: a total deadline,
    /// so a server that trickles its answer does not extend it.
    std::chrono::milliseconds request_timeout{30'000};
    /// Status line and header fields of a response (client_errc::header_too_large).
    std::size_t max_response_header = 16 * 1024;
    /// Response body (client_errc::body_too_large), checked against Content-Length before
    /// anything is read and against what arrives otherwise.
    std::size_t max_response_body = 8 * 1024 * 1024;
    /// How much of a body client_error keeps for body().
    std::size_t max_error_body = 4 * 1024;
    /// Idle connections kept per scheme, host and port for reuse.
    std::size_t max_idle_per_host = 8;
    /// An idle connection older than this is closed instead of reused. Shorter than the
    /// server's own idle timeout (60 s by default), so that the client rarely picks one the
    /// server is closing.
    std::chrono::milliseconds idle_timeout{30'000};
    /// How responses are decoded: unknown fields are allowed by default, so that a server may
    /// add fields without breaking its clients.
    decode_options json{.allow_unknown_fields = true};
    std::size_t json_max_depth = 32;
    /// Sent with every request, before the request's own headers.
    header_list headers{};
    std::string user_agent = "switchboard";
    /// Certificate checks and trust store for https:// URLs.
    tls_options tls{};
    /// Addresses to use for given host names instead of resolving them.
    std::vector<resolve_entry> resolve{};
};

/// A value or the client_error that stands in its place: what http_client::try_request gives
/// instead of throwing.
template <class T>
class client_result {
public:
    client_result(T value)
        : v_(std::in_place_index<0>, std::move(value)) {}
    client_result(client_error error)
        : v_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// The value; throws the error when there is none.
    T& value() & {
        rethrow_if_error();
        return std::get<0>(v_);
    }
    const T& value() const& {
        rethrow_if_error();
        return std::get<0>(v_);
    }
    T&& value() && {
        rethrow_if_error();
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    T* operator->() { return &value(); }

    /// The error. Precondition: !has_value().
    const client_error& error() const { return std::get<1>(v_); }

private:
    void rethrow_if_error() const {
        if (!has_value()) {
            throw std::get<1>(v_);
        }
    }

    std::variant<T, client_error> v_;
};

class http_client;

namespace detail {

struct http_client_state;

/// What a typed call needs to decode its answer, copied into the call.
struct decode_settings {
    decode_options json;
    std::size_t max_depth = 32;
    std::size_t max_error_body = 4096;
};

boost::asio::awaitable<client_response> send_request(std::shared_ptr<http_client_state> state,
                                                     client_request req);

/// The client_error for a non-2xx answer, carrying the status, the server's errors list and
/// the text of the body; nullopt for a 2xx.
std::optional<client_error> status_error(const client_request& req, const client_response& res,
                                         std::size_t max_error_body);

client_error decode_error(const client_request& req, const client_response& res,
                          std::size_t max_error_body, bool parsed, std::string_view why);

client_error invalid_request_error(const client_request& req, std::string_view why);

template <class T>
client_result<T> decode_response(const client_request& req, client_response res,
                                 const decode_settings& settings) {
    if (auto error = status_error(req, res, settings.max_error_body)) {
        return std::move(*error);
    }
    if constexpr (std::same_as<T, no_body>) {
        return no_body{};
    } else if constexpr (std::same_as<T, client_response>) {
        return res;
    } else {
        boost::json::value tree;
        try {
            tree = parse_json(res.body, settings.max_depth);
        } catch (const json_error& e) {
            return decode_error(req, res, settings.max_error_body, false, e.what());
        }
        try {
            return from_json<T>(tree, settings.json);
        } catch (const json_error& e) {
            return decode_error(req, res, settings.max_error_body, true, e.what());
        }
    }
}

template <class T>
boost::asio::awaitable<client_result<T>> typed_call(std::shared_ptr<http_client_state> state,
                                                    client_request req, decode_settings settings,
                                                    std::optional<std::string> encode_failure) {
    if (encode_failure) {
        co_return invalid_request_error(req, *encode_failure);
    }
    try {
        auto res = co_await send_request(std::move(state), req);
        co_return decode_response<T>(req, std::move(res), settings);
    } catch (const client_error& e) {
        co_return e;
    }
}

template <class T>
boost::asio::awaitable<T> typed_call_or_throw(std::shared_ptr<http_client_state> state,
                                              client_request req, decode_settings settings,
                                              std::optional<std::string> encode_failure) {
    auto result = co_await typed_call<T>(std::move(state), std::move(req), settings,
                                         std::move(encode_failure));
    co_return std::move(result).value();
}

} // namespace detail

/// Counters of an http_client, for monitoring and tests.
struct http_client_stats {
    std::uint64_t requests = 0;           ///< requests started
    std::uint64_t connections_opened = 0; ///< TCP connections opened
    std::uint64_t reused = 0;             ///< requests sent on a kept-alive connection
    std::uint64_t retried = 0;            ///< idempotent requests retried on a new connection
    std::size_t idle = 0;                 ///< connections idle in the pool right now
};

/// A REST client: JSON bodies in and out, keep-alive connections reused per scheme, host and port
/// (a TLS connection is never reused for http:// or the reverse).
///
///     sb::http_client_options options;
///     options.base_url = "http://127.0.0.1:8080";
///     sb::http_client client(io.get_executor(), options);
///
///     const auto target = sb::make_target("/jobs/:id", {{"id", 7}});
///     auto job = co_await client.get<job_view>(target);
///     const new_job nightly{"nightly"};
///     auto made = co_await client.post<job_view>("/jobs", nightly);
///
/// Typed calls: `Body` is encoded with encode_json (a described struct, a container, a
/// boost::json::value...) and sent as application/json, or nothing for no_body. `Response` is
/// decoded from the body with options.json: any type from_json takes, boost::json::value (the
/// default), no_body to ignore the body, or client_response for the whole answer.
///
/// A 2xx answer becomes the Response. Anything else throws client_error:
/// - http_status for a non-2xx answer, with status(), the server's errors() and body();
/// - not_json / unexpected_json for a 2xx body that is not JSON / does not fit Response, with
///   the text in body();
/// - certificate_rejected / tls_handshake_failed for an https:// server whose TLS handshake
///   failed, before any byte of the request was sent;
/// - the limits' and timeouts' codes, and the socket's own errors (connection_refused, ...).
/// try_request gives the same outcome as a client_result instead of throwing.
///
/// Connections: one request at a time per connection, and a connection goes back to the pool
/// only after a complete response that allows keep-alive. A request that fails on a reused
/// connection before any byte of the answer arrived (the server closed it meanwhile) is sent
/// again once on a new connection when its method is idempotent (GET, HEAD, PUT, DELETE,
/// OPTIONS); a POST or PATCH is never sent twice.
///
/// Thread safety: every member may be called from any thread and any coroutine, concurrently;
/// each request runs on a strand of its own. Destroying the client closes the idle connections;
/// requests still running finish on their own connections, which then close.
///
/// Cancellation: a request whose awaiting coroutine is cancelled closes its connection, is not
/// sent again, and fails with client_error(operation_aborted).
class http_client {
public:
    explicit http_client(boost::asio::any_io_executor executor);
    http_client(boost::asio::any_io_executor executor, http_client_options options);
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    ~http_client();

    /// Sends `req` and returns the answer whatever its status. Throws client_error only when no
    /// complete answer arrived (or it passed a limit).
    boost::asio::awaitable<client_response> send(client_request req);

    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> request(std::string_view method, std::string_view url,
                                             const Body& body, header_list headers) {
        auto [req, failure] = prepare(method, url, body, std::move(headers));
        return detail::typed_call_or_throw<Response>(state_, std::move(req), settings(),
                                                     std::move(failure));
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> request(std::string_view method, std::string_view url,
                                             const Body& body) {
        return request<Response>(method, url, body, header_list());
    }
    template <class Response = boost::json::value>
    boost::asio::awaitable<Response> request(std::string_view method, std::string_view url) {
        return request<Response>(method, url, no_body(), header_list());
    }

    /// request() without exceptions for client failures: the value, or the client_error that
    /// request() would have thrown.
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<client_result<Response>>
    try_request(std::string_view method, std::string_view url, const Body& body,
                header_list headers) {
        auto [req, failure] = prepare(method, url, body, std::move(headers));
        return detail::typed_call<Response>(state_, std::move(req), settings(), std::move(failure));
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<client_result<Response>>
    try_request(std::string_view method, std::string_view url, const Body& body) {
        return try_request<Response>(method, url, body, header_list());
    }
    template <class Response = boost::json::value>
    boost::asio::awaitable<client_result<Response>> try_request(std::string_view method,
                                                                std::string_view url) {
        return try_request<Response>(method, url, no_body(), header_list());
    }

    template <class Response = boost::json::value>
    boost::asio::awaitable<Response> get(std::string_view url, header_list headers) {
        return request<Response>("GET", url, no_body(), std::move(headers));
    }
    template <class Response = boost::json::value>
    boost::asio::awaitable<Response> get(std::string_view url) {
        return request<Response>("GET", url, no_body(), header_list());
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> post(std::string_view url, const Body& body,
                                          header_list headers) {
        return request<Response>("POST", url, body, std::move(headers));
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> post(std::string_view url, const Body& body) {
        return request<Response>("POST", url, body, header_list());
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> put(std::string_view url, const Body& body,
                                         header_list headers) {
        return request<Response>("PUT", url, body, std::move(headers));
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> put(std::string_view url, const Body& body) {
        return request<Response>("PUT", url, body, header_list());
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> patch(std::string_view url, const Body& body,
                                           header_list headers) {
        return request<Response>("PATCH", url, body, std::move(headers));
    }
    template <class Response = boost::json::value, class Body>
    boost::asio::awaitable<Response> patch(std::string_view url, const Body& body) {
        return request<Response>("PATCH", url, body, header_list());
    }
    template <class Response = no_body>
    boost::asio::awaitable<Response> del(std::string_view url, header_list headers) {
        return request<Response>("DELETE", url, no_body(), std::move(headers));
    }
    template <class Response = no_body>
    boost::asio::awaitable<Response> del(std::string_view url) {
        return request<Response>("DELETE", url, no_body(), header_list());
    }

    http_client_stats stats() const;
    const http_client_options& options() const noexcept;

    /// Closes every idle connection now.
    void close_idle();

private:
    template <class Body>
    static std::pair<client_request, std::optional<std::string>>
    prepare(std::string_view method, std::string_view url, const Body& body, header_list headers) {
        client_request req{std::string(method), std::string(url), std::move(headers), {}};
        if constexpr (!std::same_as<Body, no_body>) {
            try {
                req.body = encode_json(body);
            } catch (const json_error& e) {
                return {std::move(req), std::string(e.what())};
            }
        }
        return {std::move(req), std::nullopt};
    }

    detail::decode_settings settings() const;

    std::shared_ptr<detail::http_client_state> state_;
};

// ---------------------------------------------------------------------------------------------
// WebSocket

/// Every limit of a WebSocket client connection, with its default.
struct ws_connect_options {
    /// Offered in Sec-WebSocket-Protocol, in order of preference. The server may pick one or
    /// none; subprotocol() tells which.
    std::vector<std::string> subprotocols{};
    /// Extra handshake fields, such as Authorization or Origin. The fields of the handshake
    /// itself (Upgrade, Connection, Sec-WebSocket-*, Host) cannot be set here.
    header_list headers{};
    /// Resolving the host, opening the TCP connection and, for wss://, the TLS handshake.
    std::chrono::milliseconds connect_timeout{10'000};
    /// From sending the handshake to the end of the server's answer.
    std::chrono::milliseconds handshake_timeout{10'000};
    /// Status line and header fields of the server's answer.
    std::size_t max_handshake_header = 16 * 1024;
    /// How much of the body of a refused upgrade client_error keeps.
    std::size_t max_error_body = 4 * 1024;
    /// Largest message accepted, fragments included; a larger one closes with 1009.
    std::size_t max_message = 16 * 1024 * 1024;
    /// Messages received and not yet read; past it the client stops reading from the socket
    /// until read() catches up, and TCP slows the server down.
    std::size_t max_inbound_messages = 256;
    /// Bytes queued for sending; a send waits while the queue is above this.
    std::size_t max_outbound_bytes = 4 * 1024 * 1024;
    /// Send a ping after this long without hearing from the server (0: never).
    std::chrono::milliseconds ping_interval{20'000};
    /// Fail with client_errc::idle_timeout (status 1006) after this long without hearing from
    /// the server, pongs included (0: never). Catches a server that vanished without a FIN.
    std::chrono::milliseconds idle_timeout{60'000};
    /// How long the closing handshake may take: the server's close frame, then its TCP close.
    std::chrono::milliseconds close_timeout{5'000};
    /// How long one write may wait for the server to take data.
    std::chrono::milliseconds send_timeout{30'000};
    /// Certificate checks and trust store for wss:// URLs.
    tls_options tls{};
    /// Addresses to use for given host names instead of resolving them.
    std::vector<resolve_entry> resolve{};
};

/// Callbacks for a WebSocket client connection; any of them may be empty.
///
/// They run on the connection's strand, one at a time: messages in the order they arrived, each
/// given to every listener in the order the listeners were added. They must not block; to
/// answer, start a coroutine or use the connection's awaitable operations from one. An
/// exception from a callback is logged and closes the connection with 1011.
struct ws_listener {
    std::function<void(const ws_message&)> on_message;
    /// Once, when the connection has ended, with the status that status() then reports.
    std::function<void(std::uint16_t code, std::string_view reason)> on_close;
    /// Before on_close, when the connection ends by a failure rather than a closing handshake:
    /// the server broke the protocol (client_errc::protocol_error, and we closed with 1002,
    /// 1007 or 1009), went silent (idle_timeout), did not take our data (send_timeout), or the
    /// TCP connection broke (its system error). `detail` is our own short wording.
    std::function<void(std::error_code error, std::string_view detail)> on_error;
};

namespace detail {
class ws_client_state;
}

/// A WebSocket connection to a server (RFC 6455, client side).
///
///     auto ws = co_await sb::websocket_client::connect(executor, "ws://127.0.0.1:8080/jobs/7");
///     const hello greeting{"client"};
///     co_await ws.send_json(greeting);
///     while (auto message = co_await ws.read()) {
///         std::cout << message->data << '\n';
///     }
///     std::cout << "closed with " << ws.status().code << '\n';
///
/// Messages reach the program one of two ways. By default they queue for read(). Once a
/// listener with an on_message callback is added, every message goes to the listeners instead,
/// those that were queued first, so that nothing is lost or reordered; read() then returns
/// nullopt once the connection ends.
///
/// Underneath, one reader and one writer run on the connection's strand: pings are answered,
/// frames are masked with a fresh key from OpenSSL's CSPRNG, the server's frames are checked
/// (a masked one, for instance, closes the connection with 1002), and the closing handshake is
/// done whether or not anybody reads.
///
/// A websocket_client is a handle: copies share the connection. When the last handle goes
/// while the connection is open, it is closed with 1001 (going away) in the background,
/// within close_timeout.
///
/// Thread safety: every member may be called from any thread and any coroutine; the
/// operations run on the connection's strand. Two concurrent read() calls each get a different
/// message; concurrent sends are queued in the order they reach the strand.
class websocket_client {
public:
    /// Connects to a ws:// or wss:// URL ("wss://host:port/path?query"), does the TLS handshake
    /// for wss:// (see tls_options), and completes the opening handshake. The connection's strand
    /// is made from `executor`.
    ///
    /// Fails with client_error, never hangs:
    /// - upgrade_refused: any answer but 101; status() and body() (capped) hold the answer;
    /// - handshake_failed: a 101 that is wrong (Sec-WebSocket-Accept, Upgrade, Connection, an
    ///   extension or subprotocol we did not offer); nothing the server sent is delivered;
    /// - handshake_closed: the server closed the connection before its answer was complete;
    /// - certificate_rejected, tls_handshake_failed: wss:// only, before anything is sent;
    /// - handshake_timeout, connect_timeout, and the socket's own errors.
    /// Frames that arrive right behind the 101, even in the same TCP segment, are delivered.
    static boost::asio::awaitable<websocket_client>
    connect(boost::asio::any_io_executor executor, std::string url, ws_connect_options options);
    static boost::asio::awaitable<websocket_client> connect(boost::asio::any_io_executor executor,
                                                            std::string url);

    /// The next message, or nullopt once the connection has ended and every queued message was
    /// read (status() then says how it ended). A cancelled read throws operation_aborted and
    /// loses no message.
    boost::asio::awaitable<std::optional<ws_message>> read();

    /// The next message decoded from JSON into T; nullopt as read(). A message that is not JSON
    /// of that shape throws json_error and is consumed; the connection stays open.
    template <class T>
    boost::asio::awaitable<std::optional<T>> read_json(decode_options options) {
        return read_json_of<T>(read(), options);
    }
    template <class T>
    boost::asio::awaitable<std::optional<T>> read_json() {
        return read_json_of<T>(read(), decode_options());
    }

    /// Queues a message; completes once it is queued, after waiting while more than
    /// max_outbound_bytes are queued. Throws client_error(not_open) when the connection is
    /// closing or closed, and std::invalid_argument for text that is not valid UTF-8.
    boost::asio::awaitable<void> send_text(std::string text);
    boost::asio::awaitable<void> send_binary(std::string data);

    template <class T>
    boost::asio::awaitable<void> send_json(const T& value) {
        return send_text(encode_json(value));
    }

    /// Sends what is queued, then the close frame, waits for the server's close frame and for
    /// it to close TCP (within close_timeout), and returns how the connection ended: the code
    /// and reason the server answered with, normally our own code, or 1006 when it did not
    /// answer in time. Calling it again, or on a closed connection, returns the same status.
    ///
    /// Codes that may not be sent (1005, 1006, 1015, outside 1000-4999) throw
    /// std::invalid_argument; the reason is cut to 123 bytes at a UTF-8 boundary.
    boost::asio::awaitable<ws_close_status> close(std::uint16_t code, std::string reason);
    boost::asio::awaitable<ws_close_status> close(std::uint16_t code);
    boost::asio::awaitable<ws_close_status> close();

    /// Waits until the connection has ended, however it ends, and returns status().
    boost::asio::awaitable<ws_close_status> closed();

    /// Adds a listener and returns its id. See ws_listener and the class comment.
    std::uint64_t add_listener(ws_listener listener);
    void remove_listener(std::uint64_t id);

    /// The subprotocol the server chose; empty when none.
    const std::string& subprotocol() const noexcept;
    /// False from the moment either side starts closing.
    bool is_open() const noexcept;
    /// How the connection ended: the close frame received when the server closed first, the
    /// server's answer to ours, our code when we failed the connection, 1006 when TCP broke
    /// without a close frame. {1006, ""} while the connection is open.
    ws_close_status status() const;

private:
    friend class detail::ws_client_state;
    struct owner;
    explicit websocket_client(std::shared_ptr<owner> handle);

    template <class T>
    static boost::asio::awaitable<std::optional<T>>
    read_json_of(boost::asio::awaitable<std::optional<ws_message>> next, decode_options options) {
        auto message = co_await std::move(next);
        if (!message) {
            co_return std::nullopt;
        }
        co_return decode_json<T>(message->data, options);
    }

    detail::ws_client_state& state() const noexcept;

    std::shared_ptr<owner> handle_;
};

// ---------------------------------------------------------------------------------------------
// Reconnecting

/// The delays between reconnection attempts: exponential, with jitter, capped.
struct backoff_options {
    /// The scale of the first delay: a random 1 to 3 times this, so that clients that lost the
    /// same server do not come back at the same moment.
    std::chrono::milliseconds initial{1'000};
    /// Each failed attempt multiplies the ceiling by this much.
    double factor = 2.0;
    /// No delay is longer than this.
    std::chrono::milliseconds max{30'000};
    /// A connection that stayed up this long starts the schedule over.
    std::chrono::milliseconds stable_after{30'000};
};

/// The reconnection schedule, without sockets or clocks of its own.
///
/// Delay n (counting from 0) is a random value in [1, 3] x initial for n = 0, and in
/// [ceiling / 2, ceiling] for n > 0, where ceiling = min(max, 3 x initial x factor^n). Half of
/// the ceiling is always waited, so a refused server never sees a tight loop, and the other half
/// is spread at random. A close with 1013 (try again later) counts as two failures and waits at
/// least 5 x initial. Not thread-safe.
class backoff {
public:
    /// `seed` 0 draws a seed from OpenSSL's CSPRNG; tests pass their own.
    explicit backoff(backoff_options options = {}, std::uint64_t seed = 0);

    /// The delay before the next attempt, after a failure or a close with `close_code`.
    std::chrono::milliseconds next_delay(std::uint16_t close_code = 1006);
    /// Reports a connection that stayed up for `lasted`; a stable one resets the schedule.
    void connected_for(std::chrono::milliseconds lasted);
    void reset() noexcept { failures_ = 0; }
    unsigned failures() const noexcept { return failures_; }

private:
    std::chrono::milliseconds uniform(double low_ms, double high_ms);

    backoff_options options_;
    std::uint64_t state_;
    unsigned failures_ = 0;
};

/// What a reconnecting client does between connections.
struct reconnect_options {
    ws_connect_options connect{};
    backoff_options backoff{};
    /// Consecutive failed attempts before run() gives up and throws the last error; 0: never.
    unsigned max_attempts = 0;
};

namespace detail {
class ws_reconnector_state;
}

/// A WebSocket client that reconnects after the connection is lost. The contract (case-14 and
/// case-37 of the shared cases):
///
/// - Reconnects after a drop (1006), a close without a code (1005), 1001, 1011, 1012, 1013,
///   1014, a connect or handshake timeout, a refused or reset TCP connection, and an upgrade
///   refused with 408, 429 or 5xx, waiting as `backoff` says. Stops (run() returns or throws)
///   after a normal close (1000) or what the same request would only meet again: 1002, 1003,
///   1007-1010, any 4xxx, any other refusal, a bad URL or handshake, a refused certificate or a
///   failed TLS handshake.
/// - Resubscribes: each connection opens the same URL (the route joins its keys) and then runs
///   on_open, which can send whatever else a subscription needs.
/// - Reports the gap: messages the server sent while there was no connection are lost, and
///   on_open is told with `reconnected` = true that one happened. No replay: the server keeps
///   no history to replay from.
/// - Never buffers: sending while there is no connection fails at once with not_open.
///
/// Thread safety: every member may be called from any thread; the work runs on a strand.
class ws_reconnector {
public:
    ws_reconnector(boost::asio::any_io_executor executor, std::string url,
                   reconnect_options options);
    ws_reconnector(boost::asio::any_io_executor executor, std::string url);
    ws_reconnector(const ws_reconnector&) = delete;
    ws_reconnector& operator=(const ws_reconnector&) = delete;
    ~ws_reconnector();

    /// Listeners for every connection; add them before run(). on_close and on_error are called
    /// for each connection that ends.
    void add_listener(ws_listener listener);

    /// Called after each successful connect, before any message reaches the listeners.
    void on_open(
        std::function<boost::asio::awaitable<void>(websocket_client&, bool reconnected)> callback);

    /// Called before each wait with why the last connection ended or the last attempt failed
    /// ("closed 1012: restarting", or a client_error's what()) and how long the wait is.
    void
    on_retry(std::function<void(std::string_view why, std::chrono::milliseconds delay)> callback);

    /// Connects and keeps reconnecting until stop(), or until the server ends things in a way
    /// retrying cannot fix. Returns the last close status; throws the last client_error when
    /// max_attempts ran out or the connect failure is permanent.
    boost::asio::awaitable<ws_close_status> run();

    /// Closes the current connection with 1000 and ends run(). Idempotent.
    void stop();

    /// The current connection, or nullopt during a gap.
    std::optional<websocket_client> current() const;

    /// Sends on the current connection; client_error(not_open) during a gap.
    boost::asio::awaitable<void> send_text(std::string text);

    /// Successful connections so far (1 after the first, 2 after one reconnect, ...).
    unsigned connections() const noexcept;

private:
    std::shared_ptr<detail::ws_reconnector_state> state_;
};

} // namespace switchboard

template <>
struct std::is_error_code_enum<switchboard::client_errc> : std::true_type {};
