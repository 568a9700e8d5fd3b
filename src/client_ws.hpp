// The driver of one client WebSocket connection: a reader and a writer coroutine on the
// connection's strand, around the socket-free frame codec and handshake reader.
#pragma once

#include "client_net.hpp"
#include "client_wire.hpp"

#include <switchboard/client.hpp>
#include <switchboard/detail/ws_frame.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::detail {

namespace asio = boost::asio;

/// Wakes coroutines waiting on the same strand; a timer's cancel underneath. Every waiter
/// rechecks what it waits for after waking, since a wake may be meant for another waiter.
///
/// wait() may have any number of waiters. wait_until() is for a single waiter: setting the
/// timer's expiry would cancel every other wait. A notify that comes while nobody waits makes
/// the next wait return at once.
class ws_wakeup {
public:
    explicit ws_wakeup(const asio::any_io_executor& executor);

    asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline);
    asio::awaitable<void> wait();
    void notify();

private:
    asio::steady_timer timer_;
    bool signalled_ = false;
};

class ws_client_state : public std::enable_shared_from_this<ws_client_state> {
public:
    using clock = std::chrono::steady_clock;

    /// The handshake, then the connection, on `strand`. Gives the handle's shared part rather
    /// than a websocket_client, since co_spawn needs a result it can default-construct.
    static asio::awaitable<std::shared_ptr<websocket_client::owner>>
    connect(asio::any_io_executor strand, std::string url, ws_connect_options options);

    ws_client_state(asio::any_io_executor strand, net::stream stream, ws_connect_options options,
                    std::string subprotocol, std::string_view leftover, std::string where);

    /// Starts the reader and the writer; they hold the state alive until the connection ends.
    void launch();

    // On the strand only.
    asio::awaitable<std::optional<ws_message>> read();
    asio::awaitable<void> send(ws::opcode op, std::string payload);
    asio::awaitable<ws_close_status> close(std::uint16_t code, std::string reason);
    asio::awaitable<ws_close_status> closed();
    void attach(std::uint64_t id, ws_listener listener);
    void detach(std::uint64_t id);
    /// The last handle went: close with 1001 unless closing already.
    void abandon();

    // From any thread.
    const asio::any_io_executor& strand() const noexcept { return strand_; }
    const std::string& subprotocol() const noexcept { return subprotocol_; }
    bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
    ws_close_status status() const;
    std::uint64_t next_listener_id() noexcept { return ++listener_ids_; }

private:
    static asio::awaitable<void> run_reader(std::shared_ptr<ws_client_state> self);
    static asio::awaitable<void> run_writer(std::shared_ptr<ws_client_state> self);
    asio::awaitable<void> reader();
    asio::awaitable<void> writer();

    void parse_buffered();
    void handle(ws::event& ev);
    void deliver(ws_message message);
    template <class F>
    void for_each_listener(F&& f);
    void notify_error(const ws_listener& listener);
    void notify_close(const ws_listener& listener, const ws_close_status& s);
    void request_close(std::uint16_t code, std::string reason);
    void fail(std::error_code error, std::string detail, ws_close_status status,
              std::optional<std::uint16_t> send_code);
    void set_status(ws_close_status status);
    void heartbeat(clock::time_point now);
    clock::time_point next_heartbeat() const;
    void arm_write_deadline(std::chrono::milliseconds after);
    void wake_everyone();
    void finish();
    /// Either side has started closing, or the connection failed: nothing more is sent or
    /// queued for reading.
    bool closing() const noexcept { return close_requested_.has_value() || failed_ || ended_; }
    bool has_message_listener() const;

    asio::any_io_executor strand_;
    net::stream stream_;
    const ws_connect_options options_;
    const std::string subprotocol_;
    const std::string where_; // "ws://host:port/path" for messages and logs

    ws::frame_parser parser_;
    boost::beast::flat_buffer in_;
    wire::mask_source masks_;

    std::deque<ws_message> inbound_;
    std::deque<std::string> outbound_; // encoded, masked frames
    std::size_t outbound_bytes_ = 0;

    ws_wakeup inbound_ready_; // readers: a message, or the end
    ws_wakeup reader_resume_; // the reader: room in inbound_, or closing
    ws_wakeup writer_wake_;   // the writer: something to send, or closing
    ws_wakeup room_;          // senders: room in outbound_, or closing
    ws_wakeup done_;          // close() and closed(): the end
    asio::steady_timer write_deadline_;
    bool writing_ = false;
    bool write_timed_out_ = false;

    std::optional<std::string> pending_pong_;
    bool ping_due_ = false;
    bool ping_outstanding_ = false;
    clock::time_point last_heard_;

    struct close_request {
        std::uint16_t code;
        std::string reason;
    };
    std::optional<close_request> close_requested_;
    bool close_sent_ = false;
    bool close_received_ = false;
    bool failed_ = false; // we fail the connection: no waiting for the server's close frame
    // The failure that ended the connection, kept for listeners added after it happened.
    std::optional<std::pair<std::error_code, std::string>> failure_;
    bool reader_done_ = false;
    bool writer_done_ = false;
    bool ended_ = false;
    clock::time_point close_deadline_ = clock::time_point::max();

    std::vector<std::pair<std::uint64_t, ws_listener>> listeners_;
    std::atomic<std::uint64_t> listener_ids_{0};

    std::atomic<bool> open_{true};
    mutable std::mutex status_mutex_;
    ws_close_status status_; // written on the strand, read from anywhere
};

} // namespace switchboard::detail
