// The driver of one WebSocket connection: a reader and a writer coroutine on
// the connection's strand, around the socket-free frame codec.
#pragma once

#include "outbox.hpp"
#include "ring.hpp"
#include "server_impl.hpp"

#include <switchboard/detail/ws_frame.hpp>
#include <switchboard/registry.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::detail {

/// Wakes one coroutine waiting on the same strand. A notify that comes
/// while nobody waits is kept for the next wait.
class async_event {
public:
    explicit async_event(const asio::any_io_executor& executor)
        : timer_(executor) {}

    asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline);
    asio::awaitable<void> wait() {
        return wait_until(std::chrono::steady_clock::time_point::max());
    }
    void notify();

private:
    asio::steady_timer timer_;
    bool signalled_ = false;
};

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
    using clock = std::chrono::steady_clock;

    ws_session(tcp::socket& socket, const websocket_limits& limits, std::string subprotocol,
               std::string_view leftover, std::uint64_t connection_id, std::string target);

    /// Makes the outbox, so that keys can be joined before the 101.
    void start();
    /// Starts the reader and the writer; they hold the session alive.
    void launch();
    /// Waits until the reader and the writer have both ended.
    asio::awaitable<void> finished();

    asio::awaitable<std::optional<ws_message>> read();
    bool send(ws::opcode op, std::string_view payload);
    void close(std::uint16_t code, std::string_view reason);
    void join(registry& channels, std::string key);

    const std::shared_ptr<outbox>& box() const noexcept { return box_; }
    std::string_view subprotocol() const noexcept { return subprotocol_; }
    /// The request target of the handshake, for the logs.
    std::string_view target() const noexcept { return target_; }
    bool is_open() const noexcept { return !close_requested_ && !close_received_ && !ended_; }
    const ws_close_status& status() const noexcept { return status_; }

private:
    static asio::awaitable<void> run_reader(std::shared_ptr<ws_session> self);
    static asio::awaitable<void> run_writer(std::shared_ptr<ws_session> self);
    asio::awaitable<void> reader();
    asio::awaitable<void> writer();
    void handle(ws::event& ev);
    void fail(std::uint16_t code, std::string reason);
    void heartbeat(clock::time_point now);
    clock::time_point next_heartbeat() const;
    void stopped_one();
    void arm_write_deadline(std::chrono::milliseconds after);

    tcp::socket& socket_;
    websocket_limits limits_;
    std::string subprotocol_;
    std::uint64_t id_;
    std::string target_;
    ws::frame_parser parser_;
    beast::flat_buffer in_;
    std::shared_ptr<outbox> box_;
    std::vector<registry::subscription> subscriptions_;

    ring<ws_message> inbound_;
    async_event inbound_ready_;
    async_event reader_resume_;
    async_event writer_wake_;
    async_event done_;
    asio::steady_timer write_deadline_;
    bool writing_ = false;

    std::optional<std::string> pending_pong_;
    bool ping_due_ = false;
    bool ping_outstanding_ = false;
    std::optional<close_request> close_requested_;
    bool close_sent_ = false;
    bool close_received_ = false;
    bool failed_ = false;
    bool reader_done_ = false;
    bool writer_done_ = false;
    bool ended_ = false;
    clock::time_point last_heard_;
    clock::time_point close_deadline_ = clock::time_point::max();
    ws_close_status status_;
};

/// The HTTP side of an accepted upgrade: the handshake checks, the session
/// with its keys joined, the 101. Gives the session, not yet running, or
/// nullptr when the upgrade was refused (the refusal has been written).
asio::awaitable<std::shared_ptr<ws_session>> open_websocket(server_core& core, connection& conn,
                                                            beast::flat_buffer& leftover,
                                                            const request& req,
                                                            const websocket_upgrade& token);

/// Runs an opened session: the session function, then the close. By then
/// the HTTP state of the connection (buffers, parser, request) is gone.
asio::awaitable<void> run_websocket(connection& conn, std::shared_ptr<ws_session> session,
                                    websocket_upgrade::session_function run);

} // namespace switchboard::detail
