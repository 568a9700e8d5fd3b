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

/// One accepted connection. Everything but the id is touched only on the
/// connection's strand (the stream's executor).
struct connection {
    connection(tcp::socket socket, std::uint64_t number)
        : stream(std::move(socket))
        , id(number) {}

    beast::tcp_stream stream;
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

/// Runs one connection until it ends; defined in http_connection.cpp.
asio::awaitable<void> serve_connection(struct server_core& core, std::shared_ptr<connection> conn);

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
    void launch(tcp::socket socket);
    void finished(std::uint64_t id);
    void begin_stop();
    void maybe_finish_locked();
};

} // namespace switchboard::detail
