// The server: accepts connections, runs the HTTP keep-alive loop of each on
// its own strand, and hands requests to the router.
#pragma once

#include <switchboard/router.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace switchboard {

/// Every limit has a default fit for a public server; the HTTP status a
/// client gets when it passes one is named beside it.
struct server_options {
    std::string address = "127.0.0.1";
    /// 0 picks a free port; server::port() tells which.
    std::uint16_t port = 0;
    /// Threads running the io_context; 0 means one per core.
    unsigned threads = 0;

    /// Request line and headers, in bytes (431).
    std::size_t header_limit = std::size_t{8} * 1024;
    /// Request body, in bytes (413); a route may set its own.
    std::size_t body_limit = std::size_t{1024} * 1024;
    /// Nesting of JSON bodies (400).
    std::size_t json_max_depth = 32;
    /// From the first byte of a request to the end of its head (408, then
    /// close). A total deadline: sending one byte a second does not extend it.
    std::chrono::milliseconds head_timeout{10'000};
    /// From the end of the head to the end of the body (408, then close).
    std::chrono::milliseconds body_timeout{30'000};
    /// How long a keep-alive connection may wait for its next request (closed
    /// without a response); also the wait for a new connection's first byte.
    std::chrono::milliseconds idle_timeout{60'000};
    /// How long a client may take to accept a response before it is cut off.
    std::chrono::milliseconds write_timeout{30'000};
    /// Open connections; past this a new one gets 503 and is closed.
    std::size_t max_connections = 10'000;
    /// On stop(): how long requests in flight may take to finish before the
    /// remaining connections are closed by force.
    std::chrono::milliseconds shutdown_timeout{5'000};
    /// Origins allowed to open WebSockets and to send state-changing
    /// requests (every method but GET, HEAD, OPTIONS and TRACE) on any
    /// route; "*" allows any. Empty means same origin only: the Origin must
    /// name the host and port of the request's Host. Other origins get 403.
    /// A request without Origin (not a browser) always passes. A route
    /// overrides it with websocket_upgrade::allow_origins and
    /// route_options::allowed_origins. See docs/http.md, "Origin".
    std::vector<std::string> allowed_origins{};
    /// The Server header of every response; empty sends none.
    std::string server_header = "switchboard";
};

/// Thread safety: start(), stop(), wait() and port() may be called from any
/// thread; stop() may also be called from a handler. The destructor stops and
/// waits, so it must not run on one of the server's own threads.
class server {
public:
    explicit server(router routes, server_options options = {});
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server();

    /// Binds, listens and starts the threads. Throws std::system_error when
    /// the address cannot be bound. Does nothing when already started.
    void start();

    /// The bound port (after start()).
    std::uint16_t port() const noexcept;

    /// Stops gracefully and returns at once: stops accepting, lets requests
    /// in flight finish, closes idle connections, and after shutdown_timeout
    /// closes whatever is left. Idempotent.
    void stop();

    /// Blocks until every connection has ended and every thread has returned.
    void wait();

    /// start() (unless started), stop() on SIGINT or SIGTERM, then wait().
    void run_until_signal();

    /// Number of open connections, for monitoring and tests.
    std::size_t connection_count() const noexcept;

    /// The io_context the server runs on, for timers and registries of the
    /// application's own.
    boost::asio::io_context& context() noexcept;

    const server_options& options() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace switchboard
