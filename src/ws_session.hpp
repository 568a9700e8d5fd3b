// The driver of one WebSocket connection: a reader and a writer on the
// connection's strand, around the socket-free frame codec.
#pragma once

#include "outbox.hpp"
#include "ring.hpp"
#include "server_impl.hpp"

#include <switchboard/detail/ws_frame.hpp>
#include <switchboard/registry.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::detail {

/// One WebSocket connection after its 101.
///
/// The reader and the writer are chains of completion handlers rather than
/// coroutines, and one timer serves every deadline: an idle subscriber then
/// holds one pending receive and one pending timer wait, not two coroutine
/// stacks and a timer per thing it might wait for (bench/README.md). Every
/// member runs on the connection's strand.
class ws_session : public std::enable_shared_from_this<ws_session> {
public:
    using clock = std::chrono::steady_clock;
    /// Holds the strand by type (server_impl.hpp): smaller, and so is each wait.
    using timer_type = asio::basic_waitable_timer<clock, asio::wait_traits<clock>, strand_type>;

    /// Drives `conn.socket`, which the connection gets back before launch().
    ws_session(connection& conn, const websocket_limits& limits);
    ~ws_session();

    /// Makes the outbox, so that keys can be joined before the 101.
    void start();
    /// Starts reading, writing and the heartbeat; pending operations hold
    /// the session alive. `leftover` is what the client sent right behind
    /// its handshake.
    void launch(std::string_view leftover);
    /// Waits until the reader and the writer have both ended.
    asio::awaitable<void> finished();
    /// For a session with no session function: data messages from the peer
    /// close it with 1003, and the session holds its connection and tells
    /// the server when it has ended. Called before launch().
    void send_only(server_core& core, std::shared_ptr<connection> conn);

    asio::awaitable<std::optional<ws_message>> read();
    bool send(ws::opcode op, std::string_view payload);
    void close(std::uint16_t code, std::string_view reason);
    void join(registry& channels, std::string key);

    bool is_open() const noexcept { return !close_requested_ && !close_received_ && !ended_; }
    const ws_close_status& status() const noexcept { return status_; }

private:
    // The reader: at most one receive pending.
    void read_next();
    void on_readable(boost::system::error_code ec);
    bool parse(std::string_view data);
    void handle(ws::event& ev);
    void reader_stopped();

    // The writer: at most one write in flight.
    void write_pending();
    void collect();
    void on_written(boost::system::error_code ec);
    void take_write_state();
    void give_back_write_state();
    bool after_write(boost::system::error_code ec);
    void linger();
    void writer_stopped();

    // The one timer.
    void arm_timer();
    void on_timer();

    timer_type& function_wake();
    void wake_function();
    void fail(std::uint16_t code, std::string reason);
    void heartbeat(clock::time_point now);
    clock::time_point next_heartbeat() const;
    void stopped_one();

    socket_type& socket_;
    websocket_limits limits_;
    std::uint64_t id_;
    /// Made when bytes come and dropped when they end between frames: an
    /// idle session holds no parser (its control-frame buffer alone is 125
    /// bytes).
    std::unique_ptr<ws::frame_parser> parser_;
    std::shared_ptr<outbox> box_;
    std::vector<registry::subscription> subscriptions_;

    /// Made by the first message: a send-only session never has one.
    std::unique_ptr<ring<ws_message>> inbound_;
    /// Wakes the session function in read() and finished(). It never
    /// expires: a wake cancels the wait, and the waiter looks again at what
    /// it waits for, so a wake with nobody waiting needs no memory. Made by
    /// the first wait: a send-only session never has one.
    std::unique_ptr<timer_type> function_wake_;

    /// The heartbeat, the send deadline, the close deadline and the linger
    /// after shutting down our side: whichever comes first. It is re-armed
    /// only to fire earlier; firing early costs one look at the clock.
    timer_type timer_;
    clock::time_point timer_at_ = clock::time_point::max();
    std::uint64_t timer_generation_ = 0;

    char probe_ = 0;
    bool launched_ = false;
    bool reading_paused_ = false;
    bool draining_ = false;

    /// What the writer collects and sends (ws_session.cpp). Only a session
    /// that is writing holds one; an idle one hands it to its thread for the
    /// next writer, so quiet subscribers keep no empty buffers.
    struct write_state;
    static std::unique_ptr<write_state>& spare_write_state();
    std::unique_ptr<write_state> out_;
    bool collecting_ = false;
    bool writing_ = false;
    bool wrote_at_once_ = false;
    bool lingering_ = false;
    clock::time_point write_deadline_;
    clock::time_point linger_until_;

    /// Out of line, as is the close request: rare, and every idle session
    /// would otherwise carry their room.
    std::unique_ptr<std::string> pending_pong_;
    bool ping_due_ = false;
    bool ping_outstanding_ = false;
    std::unique_ptr<close_request> close_requested_;
    bool close_sent_ = false;
    bool close_received_ = false;
    bool failed_ = false;
    bool reader_done_ = false;
    bool writer_done_ = false;
    bool ended_ = false;
    clock::time_point last_heard_;
    clock::time_point close_deadline_ = clock::time_point::max();
    ws_close_status status_;
    /// Set by send_only(), and only then: a send-only session outlives its
    /// connection's coroutine and keeps the connection (its socket) until
    /// the session goes, since handlers already queued may still look at it.
    server_core* owner_ = nullptr;
    std::shared_ptr<connection> conn_;
};

/// What the HTTP stage hands to the session of an upgraded connection:
/// nothing of the HTTP state goes with it.
struct websocket_handoff {
    std::shared_ptr<ws_session> session;
    websocket_upgrade::session_function run;
    std::string subprotocol;
    std::string leftover;
    /// The request target of the handshake, for the logs.
    std::string target;
};

/// The HTTP stage of a connection (http_connection.cpp): serves requests
/// until the connection ends or is upgraded, and gives the opened session
/// in the second case. It runs as a coroutine of its own, so that its frames
/// (the read buffer, the parser, the request, the reply) are freed before
/// the session starts.
asio::awaitable<std::optional<websocket_handoff>> serve_http(server_core& core,
                                                             std::shared_ptr<connection> conn);

/// The HTTP side of an accepted upgrade: the handshake checks, the session
/// with its keys joined, the 101. Moves the socket from `stream` back to
/// the connection and gives the session, not yet running; nullptr when the
/// upgrade was refused (the refusal has been written).
asio::awaitable<std::shared_ptr<ws_session>> open_websocket(server_core& core, connection& conn,
                                                            http_stream& stream, const request& req,
                                                            const websocket_upgrade& token);

} // namespace switchboard::detail
