#include "client_ws.hpp"

#include <switchboard/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

// g++ 12 inlines a coroutine's frame allocation and release into its caller and then takes
// Asio's frame operator new and operator delete for a mismatched pair (GCC bug 109224, a false
// positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace switchboard {

namespace detail {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 16 * 1024;
// A writer sends what piled up in one gathered write, up to this many bytes.
constexpr std::size_t batch_bytes = 256 * 1024;

void throw_if_cancelled(const asio::cancellation_state& state) {
    if (state.cancelled() != asio::cancellation_type::none) {
        throw boost::system::system_error(asio::error::operation_aborted);
    }
}

// The exception for a handshake that did not end in a usable connection.
client_error handshake_error(const wire::upgrade_reader& reader, const std::string& where) {
    const auto& res = reader.response();
    if (reader.current() == wire::upgrade_reader::state::refused) {
        auto errors = wire::errors_from_body(res.body);
        std::string message =
            fmt::format("connect to {}: upgrade refused with HTTP {}", where, res.status);
        for (std::size_t i = 0; i < errors.size(); ++i) {
            message += i == 0 ? ": " : "; ";
            message += errors[i];
        }
        return client_error(client_errc::upgrade_refused, wire::capped(message, 1024), res.status,
                            std::move(errors), res.body);
    }
    return client_error(reader.error(),
                        fmt::format("connect to {}: {}", where, reader.error_detail()), res.status);
}

} // namespace

// ws_wakeup

ws_wakeup::ws_wakeup(const asio::any_io_executor& executor)
    : timer_(executor) {
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
}

asio::awaitable<void> ws_wakeup::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (!signalled_) {
        timer_.expires_at(deadline);
        co_await timer_.async_wait(use_tuple);
    }
    signalled_ = false;
}

asio::awaitable<void> ws_wakeup::wait() {
    if (!signalled_) {
        co_await timer_.async_wait(use_tuple);
    }
    signalled_ = false;
}

void ws_wakeup::notify() {
    signalled_ = true;
    timer_.cancel();
}

// Connecting

asio::awaitable<std::shared_ptr<websocket_client::owner>>
ws_client_state::connect(asio::any_io_executor executor, std::string url,
                         ws_connect_options options) {
    const auto parts = parse_url(url);
    const auto where = wire::shown_url(parts);
    if (parts.scheme != "ws" && parts.scheme != "wss") {
        throw client_error(client_errc::unsupported_scheme,
                           "connect to " + where +
                               ": websocket_client needs a ws:// or wss:// URL");
    }
    net::check_resolve_entries(options.resolve);

    const auto key = wire::new_websocket_key();
    const auto request =
        wire::upgrade_request_text(parts, key, options.subprotocols, options.headers);
    auto tls = net::uses_tls(parts.scheme) ? net::make_tls_context(options.tls) : nullptr;
    auto stream =
        co_await net::open_stream(parts, options.connect_timeout, options.resolve, std::move(tls));

    // The whole handshake, both directions, within one deadline: a server that answers one
    // byte at a time does not extend it.
    net::deadline limit(executor);
    limit.arm(options.handshake_timeout, [&stream] { stream.close(); });

    wire::upgrade_reader reader(key, options.subprotocols, options.max_handshake_header,
                                options.max_error_body);
    auto [write_ec, written] = co_await stream.write(asio::buffer(request));
    std::array<char, 4096> chunk{};
    boost::system::error_code read_ec = write_ec;
    while (!read_ec && reader.current() == wire::upgrade_reader::state::reading) {
        auto [ec, n] = co_await stream.read_some(asio::buffer(chunk));
        if (ec == asio::error::eof) {
            reader.feed_eof();
            break;
        }
        read_ec = ec;
        reader.feed(std::string_view(chunk.data(), n));
    }
    const bool timed_out = limit.expired();
    limit.disarm();

    if (reader.current() == wire::upgrade_reader::state::reading) {
        // The answer ends here, complete or not: a refusal whose body was still coming is
        // reported with what arrived of it, anything else by why it stopped.
        reader.feed_eof();
        if (reader.current() != wire::upgrade_reader::state::refused) {
            if (timed_out) {
                throw client_error(client_errc::handshake_timeout,
                                   fmt::format("connect to {}: no handshake answer within {} ms",
                                               where, options.handshake_timeout.count()));
            }
            throw client_error(client_errc::handshake_closed,
                               fmt::format("connect to {}: {}", where, read_ec.message()));
        }
    }
    if (reader.current() != wire::upgrade_reader::state::upgraded) {
        auto error = handshake_error(reader, where);
        log(log_level::debug, "client_upgrade_failed url={} what=\"{}\"", where, error.what());
        throw error;
    }

    auto leftover = reader.take_leftover();
    auto state = std::make_shared<ws_client_state>(executor, std::move(stream), std::move(options),
                                                   reader.subprotocol(), leftover, where);
    state->launch();
    log(log_level::debug, "client_websocket_open url={} subprotocol={}", where,
        state->subprotocol());
    co_return std::make_shared<websocket_client::owner>(std::move(state));
}

ws_client_state::ws_client_state(asio::any_io_executor strand, net::stream stream,
                                 ws_connect_options options, std::string subprotocol,
                                 std::string_view leftover, std::string where)
    : strand_(std::move(strand))
    , stream_(std::move(stream))
    , options_(std::move(options))
    , subprotocol_(std::move(subprotocol))
    , where_(std::move(where))
    , parser_(ws::role::client, options_.max_message)
    , inbound_ready_(strand_)
    , reader_resume_(strand_)
    , writer_wake_(strand_)
    , room_(strand_)
    , done_(strand_)
    , write_deadline_(strand_)
    , last_heard_(clock::now()) {
    // Frames the server sent right behind its 101 arrived with it (case-39).
    if (!leftover.empty()) {
        auto space = in_.prepare(leftover.size());
        std::memcpy(space.data(), leftover.data(), leftover.size());
        in_.commit(leftover.size());
    }
}

void ws_client_state::launch() {
    auto report = [where = where_](const char* part) {
        return [where, part](const std::exception_ptr& e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log(log_level::error, "client_websocket_{}_failed url={} what=\"{}\"", part, where,
                    ex.what());
            }
        };
    };
    asio::co_spawn(strand_, run_reader(shared_from_this()), report("reader"));
    asio::co_spawn(strand_, run_writer(shared_from_this()), report("writer"));
}

asio::awaitable<void> ws_client_state::run_reader(std::shared_ptr<ws_client_state> self) {
    co_await self->reader();
}

asio::awaitable<void> ws_client_state::run_writer(std::shared_ptr<ws_client_state> self) {
    co_await self->writer();
}

// The program's side

asio::awaitable<std::optional<ws_message>> ws_client_state::read() {
    auto cancellation = co_await asio::this_coro::cancellation_state;
    for (;;) {
        throw_if_cancelled(cancellation);
        if (!inbound_.empty()) {
            auto message = std::move(inbound_.front());
            inbound_.pop_front();
            reader_resume_.notify();
            co_return message;
        }
        // Once either side has started closing, no message will queue any more. (With a
        // message listener none queues at all, and a reader waits for the end.)
        if (closing()) {
            co_return std::nullopt;
        }
        co_await inbound_ready_.wait();
    }
}

asio::awaitable<void> ws_client_state::send(ws::opcode op, std::string payload) {
    auto cancellation = co_await asio::this_coro::cancellation_state;
    const std::size_t size = payload.size() + 14;
    for (;;) {
        throw_if_cancelled(cancellation);
        if (closing()) {
            throw client_error(
                client_errc::not_open,
                fmt::format("send to {}: the WebSocket is closing or closed", where_));
        }
        // A message larger than the whole allowance still goes, alone in the queue.
        if (outbound_bytes_ == 0 || outbound_bytes_ + size <= options_.max_outbound_bytes) {
            break;
        }
        co_await room_.wait();
    }

    const auto mask = masks_.next();
    outbound_.push_back(ws::encode_frame(op, payload, true, &mask));
    outbound_bytes_ += outbound_.back().size();
    writer_wake_.notify();
}

asio::awaitable<ws_close_status> ws_client_state::close(std::uint16_t code, std::string reason) {
    request_close(code, std::move(reason));
    while (!ended_) {
        co_await done_.wait();
    }
    co_return status();
}

asio::awaitable<ws_close_status> ws_client_state::closed() {
    while (!ended_) {
        co_await done_.wait();
    }
    co_return status();
}

void ws_client_state::abandon() {
    request_close(ws::close_code::going_away, {});
}

bool ws_client_state::has_message_listener() const {
    for (const auto& [id, listener] : listeners_) {
        if (listener.on_message) {
            return true;
        }
    }
    return false;
}

// A listener added late learns what it missed, in the order it happened: the messages still
// queued, then the failure, then the end.
void ws_client_state::attach(std::uint64_t id, ws_listener listener) {
    const bool takes_messages = static_cast<bool>(listener.on_message);
    listeners_.emplace_back(id, std::move(listener));
    if (takes_messages) {
        while (!inbound_.empty()) {
            auto message = std::move(inbound_.front());
            inbound_.pop_front();
            deliver(std::move(message));
        }
        reader_resume_.notify();
        inbound_ready_.notify();
    }

    auto it = std::find_if(listeners_.begin(), listeners_.end(),
                           [id](const auto& entry) { return entry.first == id; });
    if (it == listeners_.end()) {
        return; // a callback removed it
    }
    if (failure_ && it->second.on_error) {
        notify_error(it->second);
    }
    if (ended_) {
        // Told at once and dropped, as finish() does with the others. Looked up again: the
        // error callback may have removed it.
        it = std::find_if(listeners_.begin(), listeners_.end(),
                          [id](const auto& entry) { return entry.first == id; });
        if (it == listeners_.end()) {
            return;
        }
        auto told = std::move(it->second);
        listeners_.erase(it);
        if (told.on_close) {
            notify_close(told, status());
        }
    }
}

void ws_client_state::notify_error(const ws_listener& listener) {
    auto callback = listener.on_error;
    const auto failure = *failure_;
    try {
        callback(failure.first, failure.second);
    } catch (const std::exception& e) {
        log(log_level::error, "client_listener_failed url={} what=\"{}\"", where_, e.what());
    }
}

void ws_client_state::notify_close(const ws_listener& listener, const ws_close_status& s) {
    auto callback = listener.on_close;
    try {
        callback(s.code, s.reason);
    } catch (const std::exception& e) {
        log(log_level::error, "client_listener_failed url={} what=\"{}\"", where_, e.what());
    }
}

// A callback may add or remove listeners (on the strand, so at once) while this runs: go by a
// snapshot of the ids and look each one up again.
template <class F>
void ws_client_state::for_each_listener(F&& f) {
    std::vector<std::uint64_t> ids;
    ids.reserve(listeners_.size());
    for (const auto& entry : listeners_) {
        ids.push_back(entry.first);
    }
    for (const auto id : ids) {
        auto it = std::find_if(listeners_.begin(), listeners_.end(),
                               [id](const auto& entry) { return entry.first == id; });
        if (it != listeners_.end()) {
            f(it->second); // f copies the callback it calls, which may remove the listener
        }
    }
}

void ws_client_state::detach(std::uint64_t id) {
    std::erase_if(listeners_, [id](const auto& entry) { return entry.first == id; });
}

void ws_client_state::deliver(ws_message message) {
    if (!has_message_listener()) {
        inbound_.push_back(std::move(message));
        inbound_ready_.notify();
        return;
    }
    for_each_listener([&](const ws_listener& listener) {
        if (!listener.on_message) {
            return;
        }
        auto callback = listener.on_message; // survives the listener removing itself
        try {
            callback(message);
        } catch (const std::exception& e) {
            log(log_level::error, "client_listener_failed url={} what=\"{}\"", where_, e.what());
            request_close(ws::close_code::internal_error, "listener failed");
        }
    });
}

// State changes

ws_close_status ws_client_state::status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
}

void ws_client_state::set_status(ws_close_status s) {
    std::lock_guard lock(status_mutex_);
    status_ = std::move(s);
}

void ws_client_state::wake_everyone() {
    inbound_ready_.notify();
    reader_resume_.notify();
    writer_wake_.notify();
    room_.notify();
}

void ws_client_state::request_close(std::uint16_t code, std::string reason) {
    if (closing()) {
        return;
    }
    close_requested_ = close_request{code, std::move(reason)};
    open_.store(false, std::memory_order_release);
    if (writing_) {
        // A write stuck on a server that does not read gets only the close timeout from now.
        arm_write_deadline(options_.close_timeout);
    }
    wake_everyone();
}

// The connection ends by our decision without waiting for the server's close frame: the server
// broke the protocol, went silent, or stopped taking data. `send_code` is the close frame to
// send on the way out, if the socket is still worth writing to.
void ws_client_state::fail(std::error_code error, std::string detail, ws_close_status s,
                           std::optional<std::uint16_t> send_code) {
    log(log_level::debug, "client_websocket_failed url={} error=\"{}\" detail=\"{}\"", where_,
        error.message(), detail);
    if (!failure_ && !ended_) {
        failure_.emplace(error, detail);
        for_each_listener([&](const ws_listener& listener) {
            if (listener.on_error) {
                notify_error(listener);
            }
        });
    }
    if (!failed_) {
        set_status(std::move(s)); // the first failure is the one that ended the connection
    }
    failed_ = true;
    if (!close_requested_ && send_code) {
        close_requested_ = close_request{*send_code, detail};
    }
    if (!close_requested_) {
        close_sent_ = true; // nothing will be sent: the writer only has to end
    }
    open_.store(false, std::memory_order_release);
    wake_everyone();
}

void ws_client_state::handle(ws::event& ev) {
    switch (ev.what) {
    case ws::event::kind::need_more:
        break;
    case ws::event::kind::message:
        if (close_requested_) {
            break; // closing: what arrives now is discarded, as RFC 6455 5.5.1 allows
        }
        deliver({ev.type == ws::opcode::binary, std::move(ev.payload)});
        break;
    case ws::event::kind::ping:
        // Only the latest ping needs an answer (RFC 6455 5.5.3).
        pending_pong_ = std::move(ev.payload);
        writer_wake_.notify();
        break;
    case ws::event::kind::pong:
        ping_outstanding_ = false;
        break;
    case ws::event::kind::close:
        close_received_ = true;
        set_status({ev.code, ev.payload});
        if (!close_requested_) {
            // Echo the server's code; a close without one is answered without one.
            close_requested_ = close_request{ev.code, {}};
            open_.store(false, std::memory_order_release);
        }
        wake_everyone();
        break;
    case ws::event::kind::error:
        fail(client_errc::protocol_error, ev.reason, {ev.code, ev.reason}, ev.code);
        break;
    }
}

// The reader

void ws_client_state::parse_buffered() {
    while (in_.size() > 0 && !close_received_ && !failed_) {
        if (inbound_.size() >= options_.max_inbound_messages && !close_requested_) {
            return; // backpressure: leave the rest in the buffer until read() catches up
        }
        ws::event ev;
        const auto* data = static_cast<const char*>(in_.data().data());
        const auto used = parser_.parse(std::string_view(data, in_.size()), ev);
        in_.consume(used);
        if (ev.what == ws::event::kind::need_more) {
            return;
        }
        // A finished frame, not a byte, is hearing from the server: one that trickles a frame
        // byte by byte must not keep the connection alive forever.
        last_heard_ = clock::now();
        handle(ev);
    }
}

asio::awaitable<void> ws_client_state::reader() {
    for (;;) {
        parse_buffered();
        if (close_received_ || failed_) {
            break;
        }
        if (inbound_.size() >= options_.max_inbound_messages && !close_requested_) {
            co_await reader_resume_.wait_until(clock::time_point::max());
            continue;
        }

        auto [ec, n] = co_await stream_.read_some(in_.prepare(read_chunk));
        if (ec) {
            if (failed_) {
                // Already reported; the writer closed the socket on its way out.
            } else if (!close_requested_) {
                fail(ec, "connection lost", {ws::close_code::abnormal, {}}, std::nullopt);
            } else {
                set_status({ws::close_code::abnormal, {}}); // our close got no answer
            }
            reader_done_ = true;
            wake_everyone();
            co_return;
        }
        in_.commit(n);
    }

    // The close frames are exchanged (or we failed the connection): the server closes TCP first
    // (RFC 6455 7.1.1). Read and discard until it does, or until the writer gives up waiting and
    // closes the socket; closing with unread data would reset the connection.
    in_.consume(in_.size());
    std::array<char, 4096> sink{};
    for (;;) {
        auto [ec, n] = co_await stream_.read_some(asio::buffer(sink));
        if (ec) {
            break;
        }
    }
    reader_done_ = true;
    wake_everyone();
}

// The writer

ws_client_state::clock::time_point ws_client_state::next_heartbeat() const {
    auto at = clock::time_point::max();
    if (options_.idle_timeout.count() > 0) {
        at = last_heard_ + options_.idle_timeout;
    }
    if (options_.ping_interval.count() > 0 && !ping_outstanding_) {
        at = std::min(at, last_heard_ + options_.ping_interval);
    }
    return at;
}

void ws_client_state::heartbeat(clock::time_point now) {
    if (options_.idle_timeout.count() > 0 && now >= last_heard_ + options_.idle_timeout) {
        fail(client_errc::idle_timeout, "idle timeout", {ws::close_code::abnormal, "idle timeout"},
             ws::close_code::going_away);
    } else if (options_.ping_interval.count() > 0 && !ping_outstanding_ &&
               now >= last_heard_ + options_.ping_interval) {
        ping_due_ = true;
    }
}

void ws_client_state::arm_write_deadline(std::chrono::milliseconds after) {
    write_deadline_.expires_after(after);
    write_deadline_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
        auto s = self.lock();
        if (!ec && s && s->writing_) {
            s->write_timed_out_ = true;
            s->stream_.close();
        }
    });
}

asio::awaitable<void> ws_client_state::writer() {
    std::string control;
    std::string close_frame;
    std::vector<std::string> batch;
    std::vector<asio::const_buffer> buffers;

    for (;;) {
        control.clear();
        close_frame.clear();
        batch.clear();
        buffers.clear();

        // Control frames go first: a pong is owed as soon as practical.
        if (pending_pong_ && !close_sent_) {
            const auto mask = masks_.next();
            control += ws::encode_frame(ws::opcode::pong, *pending_pong_, true, &mask);
            pending_pong_.reset();
        }
        if (ping_due_ && !close_sent_ && !close_requested_) {
            const auto mask = masks_.next();
            control += ws::encode_frame(ws::opcode::ping, {}, true, &mask);
            ping_due_ = false;
            ping_outstanding_ = true;
        }
        if (!close_sent_ && !failed_) {
            std::size_t bytes = 0;
            while (!outbound_.empty() && (batch.empty() || bytes < batch_bytes)) {
                bytes += outbound_.front().size();
                batch.push_back(std::move(outbound_.front()));
                outbound_.pop_front();
            }
        }
        if (close_requested_ && !close_sent_ && (outbound_.empty() || failed_)) {
            const auto& request = *close_requested_;
            const auto payload = request.code == ws::close_code::no_status
                                     ? std::string()
                                     : ws::close_payload(request.code, request.reason);
            const auto mask = masks_.next();
            close_frame = ws::encode_frame(ws::opcode::close, payload, true, &mask);
        }

        if (!control.empty()) {
            buffers.emplace_back(asio::buffer(control));
        }
        for (const auto& frame : batch) {
            buffers.emplace_back(asio::buffer(frame));
        }
        if (!close_frame.empty()) {
            buffers.emplace_back(asio::buffer(close_frame));
        }

        if (buffers.empty()) {
            if (close_sent_) {
                if (reader_done_ || failed_ || clock::now() >= close_deadline_) {
                    break;
                }
                co_await writer_wake_.wait_until(close_deadline_);
                continue;
            }
            if (reader_done_) {
                break; // the server is gone
            }
            co_await writer_wake_.wait_until(next_heartbeat());
            heartbeat(clock::now());
            continue;
        }

        // A server that stops reading must not hold the writer forever.
        writing_ = true;
        arm_write_deadline(close_requested_ ? options_.close_timeout : options_.send_timeout);
        auto [ec, n] = co_await stream_.write(buffers);
        writing_ = false;
        write_deadline_.cancel();
        for (const auto& frame : batch) {
            outbound_bytes_ -= frame.size();
        }
        room_.notify();

        if (ec) {
            if (write_timed_out_) {
                fail(client_errc::send_timeout, "send timeout",
                     {ws::close_code::abnormal, "send timeout"}, std::nullopt);
            } else if (!close_received_ && !failed_) {
                fail(ec, "connection lost", {ws::close_code::abnormal, {}}, std::nullopt);
            }
            break;
        }
        if (!close_frame.empty()) {
            close_sent_ = true;
            close_deadline_ = clock::now() + options_.close_timeout;
            if (failed_) {
                break;
            }
        }
    }

    // Give the server the close timeout to close TCP first, then close it ourselves.
    if (!close_received_ || failed_) {
        stream_.shutdown_send();
    }
    const auto linger_until = std::min(close_deadline_, clock::now() + options_.close_timeout);
    while (!reader_done_ && clock::now() < linger_until) {
        co_await writer_wake_.wait_until(linger_until);
    }
    stream_.close();
    while (!reader_done_) {
        co_await writer_wake_.wait_until(clock::time_point::max());
    }
    writer_done_ = true;
    finish();
}

void ws_client_state::finish() {
    ended_ = true;
    open_.store(false, std::memory_order_release);
    outbound_.clear();
    outbound_bytes_ = 0;

    const auto s = status();
    log(log_level::debug, "client_websocket_closed url={} code={} reason=\"{}\"", where_, s.code,
        s.reason);
    // Listeners are dropped once told, which also breaks any cycle through a listener that
    // holds a handle to this connection.
    auto told = std::move(listeners_);
    listeners_.clear();
    for (const auto& [id, listener] : told) {
        if (listener.on_close) {
            notify_close(listener, s);
        }
    }
    wake_everyone();
    done_.notify();
}

} // namespace detail

// websocket_client

struct websocket_client::owner {
    explicit owner(std::shared_ptr<detail::ws_client_state> s)
        : state(std::move(s)) {}
    owner(const owner&) = delete;
    owner& operator=(const owner&) = delete;

    ~owner() {
        // The reader and writer keep the state alive; this only asks them to close.
        boost::asio::dispatch(state->strand(), [s = state] { s->abandon(); });
    }

    std::shared_ptr<detail::ws_client_state> state;
};

namespace {

namespace asio = boost::asio;

// Named coroutines that carry their state by value: each operation hops onto the connection's
// strand through co_spawn (see TOOLCHAIN.md on g++ 12 and capturing coroutine lambdas).
asio::awaitable<std::optional<ws_message>>
read_on_strand(std::shared_ptr<detail::ws_client_state> s) {
    co_return co_await s->read();
}

asio::awaitable<void> send_on_strand(std::shared_ptr<detail::ws_client_state> s,
                                     detail::ws::opcode op, std::string payload) {
    co_await s->send(op, std::move(payload));
}

asio::awaitable<ws_close_status> close_on_strand(std::shared_ptr<detail::ws_client_state> s,
                                                 std::uint16_t code, std::string reason) {
    co_return co_await s->close(code, std::move(reason));
}

asio::awaitable<ws_close_status> closed_on_strand(std::shared_ptr<detail::ws_client_state> s) {
    co_return co_await s->closed();
}

} // namespace

websocket_client::websocket_client(std::shared_ptr<owner> handle)
    : handle_(std::move(handle)) {
}

detail::ws_client_state& websocket_client::state() const noexcept {
    return *handle_->state;
}

boost::asio::awaitable<websocket_client>
websocket_client::connect(boost::asio::any_io_executor executor, std::string url,
                          ws_connect_options options) {
    asio::any_io_executor strand = asio::make_strand(executor);
    auto handle = co_await asio::co_spawn(
        strand, detail::ws_client_state::connect(strand, std::move(url), std::move(options)),
        asio::use_awaitable);
    co_return websocket_client(std::move(handle));
}

boost::asio::awaitable<websocket_client>
websocket_client::connect(boost::asio::any_io_executor executor, std::string url) {
    return connect(std::move(executor), std::move(url), ws_connect_options());
}

boost::asio::awaitable<std::optional<ws_message>> websocket_client::read() {
    return asio::co_spawn(state().strand(), read_on_strand(handle_->state), asio::use_awaitable);
}

boost::asio::awaitable<void> websocket_client::send_text(std::string text) {
    if (!detail::ws::valid_utf8(text)) {
        throw std::invalid_argument("text message is not valid UTF-8");
    }
    return asio::co_spawn(state().strand(),
                          send_on_strand(handle_->state, detail::ws::opcode::text, std::move(text)),
                          asio::use_awaitable);
}

boost::asio::awaitable<void> websocket_client::send_binary(std::string data) {
    return asio::co_spawn(
        state().strand(),
        send_on_strand(handle_->state, detail::ws::opcode::binary, std::move(data)),
        asio::use_awaitable);
}

boost::asio::awaitable<ws_close_status> websocket_client::close(std::uint16_t code,
                                                                std::string reason) {
    if (!detail::ws::valid_close_code(code)) {
        throw std::invalid_argument("close code may not be sent");
    }
    return asio::co_spawn(state().strand(),
                          close_on_strand(handle_->state, code, std::move(reason)),
                          asio::use_awaitable);
}

boost::asio::awaitable<ws_close_status> websocket_client::close(std::uint16_t code) {
    return close(code, std::string());
}

boost::asio::awaitable<ws_close_status> websocket_client::close() {
    return close(detail::ws::close_code::normal, std::string());
}

boost::asio::awaitable<ws_close_status> websocket_client::closed() {
    return asio::co_spawn(state().strand(), closed_on_strand(handle_->state), asio::use_awaitable);
}

std::uint64_t websocket_client::add_listener(ws_listener listener) {
    auto s = handle_->state;
    const auto id = s->next_listener_id();
    asio::dispatch(s->strand(),
                   [s, id, l = std::move(listener)]() mutable { s->attach(id, std::move(l)); });
    return id;
}

void websocket_client::remove_listener(std::uint64_t id) {
    auto s = handle_->state;
    asio::dispatch(s->strand(), [s, id] { s->detach(id); });
}

const std::string& websocket_client::subprotocol() const noexcept {
    return state().subprotocol();
}

bool websocket_client::is_open() const noexcept {
    return state().is_open();
}

ws_close_status websocket_client::status() const {
    return state().status();
}

} // namespace switchboard
