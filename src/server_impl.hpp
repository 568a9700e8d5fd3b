// The server's shared state, seen by the accept loop and every connection.
#pragma once

#include <switchboard/router.hpp>
#include <switchboard/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// A connection's strand, by its own type rather than any_io_executor: the
/// socket, the stream and the timers that hold it, and every operation
/// pending on them, are smaller (an idle subscriber keeps a read and a
/// timer wait pending for as long as it is connected; bench/README.md).
using strand_type = asio::strand<asio::io_context::executor_type>;
using socket_type = asio::basic_stream_socket<tcp, strand_type>;
using http_stream = beast::basic_stream<tcp, strand_type>;

/// One accepted connection. Everything but the id is touched only on the
/// connection's strand (`executor`).
struct connection {
    connection(socket_type accepted, std::uint64_t number)
        : executor(accepted.get_executor())
        , socket(std::move(accepted))
        , id(number) {}

    strand_type executor;
    /// The socket. While the connection speaks HTTP it lives in the HTTP
    /// stage's stream (`http`); an upgrade moves it back here for the
    /// session, so that the stream's timers go with the HTTP stage.
    socket_type socket;
    http_stream* http = nullptr;
    std::uint64_t id;
    std::string remote;
    /// Waiting for the next request: nothing would be lost by closing now.
    bool idle = false;
    bool stopping = false;
    /// Set while the connection is a WebSocket: how that mode closes
    /// gracefully (a close frame with 1001) instead of the HTTP way.
    std::function<void()> graceful_stop;

    /// Called on the strand when the server stops gracefully.
    void request_stop();
    /// Called on the strand when the shutdown deadline has passed.
    void force_close();
};

/// Runs one connection until it ends: the HTTP stage, then the session if
/// a route upgraded it. True when it handed the connection to a send-only
/// session, which then tells the server when the connection has ended.
/// Defined in ws_session.cpp.
asio::awaitable<bool> serve_connection(struct server_core& core, std::shared_ptr<connection> conn);

struct server_core {
    server_core(router r, server_options o);

    router routes;
    server_options options;
    asio::io_context context;
    tcp::acceptor acceptor;
    asio::steady_timer force_timer;
    std::vector<std::thread> threads;
    std::atomic<std::uint16_t> bound_port{0};

    std::mutex mutex;
    std::condition_variable all_done;
    std::unordered_map<std::uint64_t, std::weak_ptr<connection>> connections;
    std::uint64_t next_id = 1;
    std::atomic<std::size_t> open_count{0};
    bool accepting = false;
    bool stopping = false;
    bool accept_loop_running = false;

    asio::awaitable<void> accept_loop();
    void launch(socket_type socket);
    void finished(std::uint64_t id);
    void begin_stop();
    void maybe_finish_locked();
};

} // namespace switchboard::detail
