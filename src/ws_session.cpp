#include "ws_session.hpp"

#include "header_text.hpp"
#include "ws_handshake.hpp"

#include <switchboard/log.hpp>
#include <switchboard/reply.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/write.hpp>

#include <cstring>

#include <algorithm>
#include <cctype>
#include <span>
#include <stdexcept>

namespace switchboard {

namespace detail {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A writer sends everything that piled up, up to these bounds, copied into
// runs of at most write_chunk bytes, one system call each: batches grow
// under load and stay small when the line is quiet (bench/README.md).
constexpr std::size_t batch_frames = 512;
constexpr std::size_t batch_bytes = std::size_t{256} * 1024;
constexpr std::size_t write_chunk = std::size_t{64} * 1024;
constexpr std::size_t read_chunk = std::size_t{16} * 1024;
// Batch vectors longer than this are freed when the writer goes idle.
constexpr std::size_t kept_batch = 64;

std::uint16_t sendable_code(std::uint16_t code) {
    return ws::valid_close_code(code) ? code : ws::close_code::normal;
}

// The peek and the timer wait stay pending for as long as a session is
// idle. Asio's per-thread cache (what std::allocator means to Asio) would
// hand them whatever freed block it holds if it is large enough, often a
// coroutine frame twice their size; this allocator gives them their size.
template <class T>
struct exact_allocator {
    using value_type = T;
    exact_allocator() = default;
    template <class U>
    exact_allocator(const exact_allocator<U>&) noexcept {} // NOLINT: converts like std::allocator
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
    friend bool operator==(exact_allocator, exact_allocator) noexcept { return true; }
};

template <class Handler>
auto exact_size(Handler handler) {
    return asio::bind_allocator(exact_allocator<void>(), std::move(handler));
}

// One read buffer per thread, shared by every session the thread runs: a
// session holds no read buffer of its own while it waits, and an idle
// subscriber would otherwise keep most of its memory there. Only used
// between a read and the parse that follows it, in one handler; a session's
// next handler may run on another thread, so each fetches it anew.
std::span<char> read_scratch() {
    thread_local std::vector<char> scratch(read_chunk);
    return scratch;
}

// Where a batch is copied to be sent in one call; shared by the sessions a
// thread runs, since it is only used between the copy and the send.
std::span<char> write_scratch() {
    thread_local std::vector<char> scratch(write_chunk);
    return scratch;
}

// Sends buffers[0..] through the thread's scratch with non-blocking calls
// while the socket takes them whole. Returns the index of the first buffer
// not copied; bytes copied but not taken are left in `unsent`. A buffer
// larger than the scratch stops the copying: it is sent from where it is.
std::size_t send_now(socket_type& socket, const std::vector<asio::const_buffer>& buffers,
                     std::string& unsent, boost::system::error_code& ec) {
    auto scratch = write_scratch();
    std::size_t next = 0;
    while (next < buffers.size()) {
        std::size_t copied = 0;
        auto end = next;
        while (end < buffers.size() && copied + buffers[end].size() <= scratch.size()) {
            std::memcpy(scratch.data() + copied, buffers[end].data(), buffers[end].size());
            copied += buffers[end].size();
            ++end;
        }
        if (end == next) {
            break;
        }
        auto sent = socket.write_some(asio::buffer(scratch.data(), copied), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            ec = {};
            sent = 0;
        }
        if (ec) {
            return next;
        }
        next = end;
        if (sent < copied) {
            unsent.assign(scratch.data() + sent, copied - sent);
            break;
        }
    }
    return next;
}

// The end of a connection's WebSocket mode, however the session ran.
void websocket_ended(connection& conn, const ws_session& session) {
    conn.graceful_stop = nullptr;
    log(log_level::debug, "websocket_closed id={} code={} reason=\"{}\"", conn.id,
        session.status().code, session.status().reason);
}

std::string gap_notice(std::uint64_t missed) {
    return ws::encode_frame(ws::opcode::text,
                            "{\"type\":\"gap\",\"missed\":" + std::to_string(missed) + "}");
}

} // namespace

struct ws_session::write_state {
    outbox::batch batch;
    std::string control;
    std::string gap;
    std::string close_frame;
    std::vector<asio::const_buffer> buffers;
    std::vector<asio::const_buffer> rest;
    std::string unsent;
};

// One write state per thread waits for the next writer to wake, so that a
// session going quiet and another waking reuse the same buffers instead of
// each keeping its own or making them at every wake.
std::unique_ptr<ws_session::write_state>& ws_session::spare_write_state() {
    thread_local std::unique_ptr<write_state> spare;
    return spare;
}

ws_session::ws_session(connection& conn, const websocket_limits& limits)
    : socket_(conn.socket)
    , limits_(limits)
    , id_(conn.id)
    , timer_(conn.executor)
    , last_heard_(clock::now()) {
}

ws_session::~ws_session() = default;

void ws_session::start() {
    // Registry threads wake the writer through the strand; a weak pointer,
    // since a wake may arrive after the session is gone. The writer runs two
    // hops after the wake rather than one, so that the reads and fan-outs
    // already queued on the thread run first and their frames land in the
    // same batch (bench/README.md, "Paced latency and the wake").
    std::weak_ptr<ws_session> weak = shared_from_this();
    auto executor = timer_.get_executor();
    box_ =
        std::make_shared<outbox>(limits_.max_outbound_bytes, limits_.on_overflow, [weak, executor] {
            asio::post(executor, [weak, executor] {
                asio::post(executor, [weak] {
                    if (auto self = weak.lock()) {
                        self->write_pending();
                    }
                });
            });
        });
}

void ws_session::launch(std::string_view leftover) {
    // The writer first tries to send without waiting, and a read follows a
    // peek that saw bytes: neither may block the thread.
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    launched_ = true;

    // Frames a client sent right behind its handshake arrived with it.
    if (!parse(leftover)) {
        draining_ = true;
    }

    // The first messages were queued before the 101.
    write_pending();
    read_next();
    arm_timer();
}

ws_session::timer_type& ws_session::function_wake() {
    if (!function_wake_) {
        function_wake_ =
            std::make_unique<timer_type>(timer_.get_executor(), clock::time_point::max());
    }
    return *function_wake_;
}

void ws_session::wake_function() {
    if (function_wake_) {
        function_wake_->cancel();
    }
}

void ws_session::stopped_one() {
    // The writer may stop twice (a linger that ends as the reader does).
    if (reader_done_ && writer_done_ && !ended_) {
        ended_ = true;
        wake_function();
        if (owner_ != nullptr) {
            subscriptions_.clear();
            websocket_ended(*conn_, *this);
            owner_->finished(conn_->id);
        }
    }
}

void ws_session::send_only(server_core& core, std::shared_ptr<connection> conn) {
    owner_ = &core;
    conn_ = std::move(conn);
}

asio::awaitable<void> ws_session::finished() {
    while (!(reader_done_ && writer_done_)) {
        co_await function_wake().async_wait(use_tuple);
    }
    // Leave every channel now rather than when the last reference goes.
    subscriptions_.clear();
}

asio::awaitable<std::optional<ws_message>> ws_session::read() {
    for (;;) {
        if (inbound_ && !inbound_->empty()) {
            auto message = inbound_->pop_front();
            if (reading_paused_) {
                read_next();
            }
            co_return message;
        }
        if (close_requested_ || close_received_ || reader_done_) {
            co_return std::nullopt;
        }
        co_await function_wake().async_wait(use_tuple);
    }
}

bool ws_session::send(ws::opcode op, std::string_view payload) {
    if (!is_open()) {
        return false;
    }
    const shared_frame frame = std::make_shared<const std::string>(ws::encode_frame(op, payload));
    const auto counts = box_->push_all(std::span(&frame, 1));
    if (counts.cut_off != nullptr) {
        log(log_level::warn, "websocket_cut_off id={} reason=\"{}\"", id_, counts.cut_off);
    }
    // Queued as it is: not refused, not cut off, and nothing dropped for it.
    return counts.queued == 1 && counts.dropped == 0;
}

void ws_session::close(std::uint16_t code, std::string_view reason) {
    if (close_requested_ || close_received_ || ended_) {
        return;
    }
    close_requested_ =
        std::make_unique<close_request>(close_request{sendable_code(code), std::string(reason)});
    status_ = {close_requested_->code, close_requested_->reason};
    box_->shut();
    // Nothing published from now on can be sent: leave the channels at
    // once, so counts drop without waiting for the peer's TCP close.
    subscriptions_.clear();
    if (writing_) {
        // A write stuck on a peer that does not read gets only the close
        // timeout from now on.
        write_deadline_ = clock::now() + limits_.close_timeout;
        arm_timer();
    }
    write_pending();
    wake_function();
    if (reading_paused_) {
        read_next();
    }
}

void ws_session::fail(std::uint16_t code, std::string reason) {
    log(log_level::debug, "websocket_failed id={} code={} reason=\"{}\"", id_, code, reason);
    failed_ = true;
    close(code, reason);
}

void ws_session::join(registry& channels, std::string key) {
    if (!is_open()) {
        return; // a closing session would only be cut off again
    }
    // Joined once however often it is asked: a publish reaches a session once.
    for (const auto& joined : subscriptions_) {
        if (joined.is_for(channels, key)) {
            return;
        }
    }
    subscriptions_.push_back(channels.join(box_, std::move(key)));
}

void ws_session::handle(ws::event& ev) {
    switch (ev.what) {
    case ws::event::kind::need_more:
        break;
    case ws::event::kind::message:
        if (close_requested_) {
            break; // closing: what arrives now is discarded, as RFC 6455 5.5.1 allows
        }
        if (owner_ != nullptr) { // send-only
            close(ws::close_code::unsupported_data, "this endpoint only sends");
            break;
        }
        if (!inbound_) {
            inbound_ = std::make_unique<ring<ws_message>>();
        }
        inbound_->push_back({ev.type == ws::opcode::binary, std::move(ev.payload)});
        wake_function();
        break;
    case ws::event::kind::ping:
        // Only the latest ping needs an answer (RFC 6455 5.5.3), so a ping
        // flood costs one pending pong, not a queue of them.
        if (!pending_pong_) {
            pending_pong_ = std::make_unique<std::string>();
        }
        *pending_pong_ = std::move(ev.payload);
        write_pending();
        break;
    case ws::event::kind::pong:
        ping_outstanding_ = false;
        break;
    case ws::event::kind::close:
        close_received_ = true;
        if (!close_requested_) {
            status_ = {ev.code, ev.payload};
            // Echo the peer's code; a close without one gets one without.
            close_requested_ = std::make_unique<close_request>(close_request{ev.code, {}});
            box_->shut();
            subscriptions_.clear();
        }
        write_pending();
        wake_function();
        break;
    case ws::event::kind::error:
        fail(ev.code, ev.reason);
        break;
    }
}

// Parses bytes as they come; false once a close or an error ends parsing.
bool ws_session::parse(std::string_view data) {
    if (data.empty()) {
        return true;
    }
    if (!parser_) {
        parser_ = std::make_unique<ws::frame_parser>(ws::role::server, limits_.max_message);
    }
    while (!data.empty()) {
        ws::event ev;
        data.remove_prefix(parser_->parse(data, ev));
        if (ev.what == ws::event::kind::need_more) {
            break;
        }
        // Only a finished message or control frame counts as hearing from the
        // peer, not bytes: a peer that trickles one byte of a frame at a time
        // would otherwise hold its session forever (case-20). A peer sending
        // a long fragmented message stays alive by answering pings between
        // its fragments.
        last_heard_ = clock::now();
        handle(ev);
        if (ev.what == ws::event::kind::close || ev.what == ws::event::kind::error) {
            return false;
        }
    }
    if (parser_->at_rest()) {
        parser_.reset();
    }
    return true;
}

void ws_session::read_next() {
    if (reader_done_) {
        return;
    }
    // Closing: frames are still parsed (handle() throws data messages away),
    // so that the peer's answering close ends the handshake at once rather
    // than after close_timeout. Once the parser is done (a close or an
    // error), what the peer still sends is read and thrown away until it
    // closes its side or the writer gives up: closing with unread data would
    // reset the connection and could destroy our close frame unread.
    //
    // Backpressure: when the session function falls behind, stop reading
    // and let TCP slow the peer down; read() picks up again. Never while
    // closing: nobody reads the queue any more.
    reading_paused_ = !draining_ && !close_requested_ && inbound_ &&
                      inbound_->size() >= limits_.max_inbound_messages;
    if (reading_paused_) {
        return;
    }
    // Waits until the socket has bytes to read (or has failed) without
    // lending it a buffer: a one-byte peek. Unlike a plain readiness wait, a
    // receive first tries the socket under the reactor's lock, so bytes
    // that arrived just before the wait cannot be missed.
    socket_.async_receive(
        asio::buffer(&probe_, 1), tcp::socket::message_peek,
        exact_size([self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            self->on_readable(ec);
        }));
}

void ws_session::on_readable(boost::system::error_code ec) {
    std::size_t n = 0;
    auto scratch = read_scratch();
    if (!ec) {
        n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
    }
    if (ec) {
        if (!draining_) {
            if (!close_requested_) {
                status_ = {ws::close_code::abnormal, {}};
            }
            box_->shut();
            subscriptions_.clear();
        }
        reader_stopped();
        return;
    }
    if (!draining_) {
        if (!parse(std::string_view(scratch.data(), n))) {
            draining_ = true;
        }
    }
    read_next();
}

void ws_session::reader_stopped() {
    reader_done_ = true;
    reading_paused_ = false;
    write_pending();
    wake_function();
    stopped_one();
}

ws_session::clock::time_point ws_session::next_heartbeat() const {
    auto idle_at = last_heard_ + limits_.idle_timeout;
    if (ping_outstanding_) {
        return idle_at;
    }
    return std::min(idle_at, last_heard_ + limits_.ping_interval);
}

void ws_session::heartbeat(clock::time_point now) {
    if (now >= last_heard_ + limits_.idle_timeout) {
        log(log_level::debug, "websocket_idle id={}", id_);
        close(ws::close_code::going_away, "idle timeout");
    } else if (!ping_outstanding_ && now >= last_heard_ + limits_.ping_interval) {
        ping_due_ = true;
    }
}

void ws_session::arm_timer() {
    if (writer_done_) {
        return;
    }
    clock::time_point due;
    if (lingering_) {
        due = linger_until_;
    } else if (writing_) {
        due = write_deadline_;
    } else if (close_sent_) {
        due = close_deadline_;
    } else {
        due = next_heartbeat();
    }
    if (due >= timer_at_) {
        return; // it fires first, and on_timer looks again
    }
    timer_at_ = due;
    timer_.expires_at(due);
    // A wait that was cancelled, or that completed just before being
    // replaced, still runs its handler: the generation tells it is stale.
    timer_.async_wait(exact_size(
        [self = weak_from_this(), generation = ++timer_generation_](boost::system::error_code ec) {
            auto s = self.lock();
            if (!ec && s && generation == s->timer_generation_) {
                s->on_timer();
            }
        }));
}

void ws_session::on_timer() {
    timer_at_ = clock::time_point::max();
    auto now = clock::now();
    if (lingering_) {
        if (now >= linger_until_) {
            writer_stopped();
            return;
        }
    } else if (writing_) {
        if (now >= write_deadline_) {
            // The peer stopped taking data: the write fails, and its
            // handler ends the writer.
            boost::system::error_code ignored;
            socket_.close(ignored);
            return;
        }
    } else {
        if (!close_sent_) {
            heartbeat(now);
        }
        // Sends a ping or a close, or ends the writer past the close
        // deadline.
        write_pending();
    }
    arm_timer();
}

// What the writer sends next, in order: control frames, a gap notice, data
// frames, a close frame; out_->buffers points into them.
void ws_session::collect() {
    auto& out = *out_;
    out.control.clear();
    out.gap.clear();
    out.close_frame.clear();
    out.buffers.clear();
    out.batch.frames.clear();

    // Control frames go first: a pong is owed as soon as practical. Nothing
    // follows our close frame, so a ping that arrives after it goes
    // unanswered (RFC 6455 5.5.1).
    if (pending_pong_ && close_sent_) {
        pending_pong_.reset();
    }
    if (pending_pong_) {
        out.control += ws::encode_frame(ws::opcode::pong, *pending_pong_);
        pending_pong_.reset();
    }
    if (ping_due_) {
        out.control += ws::encode_frame(ws::opcode::ping, {});
        ping_due_ = false;
        ping_outstanding_ = true;
    }
    if (!close_sent_ && !reader_done_) {
        box_->take(out.batch, batch_frames, batch_bytes);
        if (out.batch.missed > 0) {
            out.gap = gap_notice(out.batch.missed);
        }
        if (out.batch.close && !close_requested_) {
            // Asked by the registry (close of a key) or by the overflow
            // policy (a slow subscriber).
            close(out.batch.close->code, out.batch.close->reason);
        }
        bool drained = out.batch.frames.size() < batch_frames && box_->queued_bytes() == 0;
        if (close_requested_ && (drained || failed_ || out.batch.close)) {
            out.close_frame = ws::encode_frame(
                ws::opcode::close,
                close_requested_->code == ws::close_code::no_status
                    ? std::string()
                    : ws::close_payload(close_requested_->code, close_requested_->reason));
            if (failed_) {
                // The peer broke the protocol: it gets the reason, not more
                // data.
                out.batch.frames.clear();
                out.gap.clear();
            }
        }
    }

    if (!out.control.empty()) {
        out.buffers.emplace_back(asio::buffer(out.control));
    }
    if (!out.gap.empty()) {
        out.buffers.emplace_back(asio::buffer(out.gap));
    }
    for (const auto& frame : out.batch.frames) {
        out.buffers.emplace_back(asio::buffer(*frame));
    }
    if (!out.close_frame.empty()) {
        out.buffers.emplace_back(asio::buffer(out.close_frame));
    }
}

void ws_session::write_pending() {
    // Called whenever there may be something to send. A call made while a
    // write is in flight, or from inside this loop (a close it asks for),
    // is covered: the loop collects again before it stops.
    if (!launched_ || writing_ || writer_done_ || collecting_) {
        return;
    }
    if (lingering_) {
        if (reader_done_) {
            writer_stopped();
        }
        return;
    }

    collecting_ = true;
    take_write_state();
    auto& out = *out_;
    for (;;) {
        collect();
        if (out.buffers.empty()) {
            if (reader_done_ && (close_sent_ || !close_received_)) {
                linger(); // the peer is gone, or has answered our close
            } else if (close_sent_) {
                if (close_received_ || clock::now() >= close_deadline_) {
                    linger();
                }
            } else {
                wrote_at_once_ = false;
                give_back_write_state();
            }
            break;
        }

        // First without waiting: the batch copied into one contiguous run
        // and sent with one call while the socket takes it. Asio hands at
        // most 16 buffers to one sendmsg, so a gathered write of small
        // frames would cost a system call per 16 of them. A write that
        // completed at once is followed by one that may wait, so a writer
        // that is always fed still lets the other sessions of its thread
        // run.
        boost::system::error_code ec;
        std::size_t next = 0;
        if (!wrote_at_once_) {
            next = send_now(socket_, out.buffers, out.unsent, ec);
        }
        wrote_at_once_ = !ec && next == out.buffers.size() && out.unsent.empty();
        if (!ec && !wrote_at_once_) {
            // What the socket did not take goes out in one gathered write,
            // which waits; a peer that stops reading must not hold the
            // writer forever.
            out.rest.clear();
            if (!out.unsent.empty()) {
                out.rest.emplace_back(asio::buffer(out.unsent));
            }
            out.rest.insert(out.rest.end(), out.buffers.begin() + static_cast<std::ptrdiff_t>(next),
                            out.buffers.end());
            writing_ = true;
            write_deadline_ = clock::now() + (out.close_frame.empty() && !close_requested_
                                                  ? limits_.send_timeout
                                                  : limits_.close_timeout);
            asio::async_write(
                socket_, out.rest,
                [self = shared_from_this()](boost::system::error_code written, std::size_t) {
                    self->on_written(written);
                });
            break;
        }
        if (!after_write(ec)) {
            break;
        }
    }
    collecting_ = false;
    arm_timer();
}

void ws_session::take_write_state() {
    if (out_) {
        return;
    }
    auto& spare = spare_write_state();
    out_ = spare ? std::move(spare) : std::make_unique<write_state>();
}

void ws_session::give_back_write_state() {
    if (!out_ || writing_) {
        return;
    }
    // A burst may have left the vectors 8 KiB each: the thread keeps one
    // set, at a size an ordinary wake needs.
    if (out_->batch.frames.capacity() > kept_batch) {
        out_->batch.frames = {};
        out_->buffers = {};
        out_->rest = {};
    }
    out_->batch.frames.clear();
    out_->batch.close.reset();
    out_->unsent.clear();
    out_->unsent.shrink_to_fit();
    auto& spare = spare_write_state();
    if (!spare) {
        spare = std::move(out_);
    }
    out_.reset();
}

void ws_session::on_written(boost::system::error_code ec) {
    writing_ = false;
    out_->unsent.clear();
    if (after_write(ec)) {
        write_pending();
    }
}

// False when the writer has ended or lingers.
bool ws_session::after_write(boost::system::error_code ec) {
    if (ec) {
        if (!close_requested_ && !close_received_) {
            status_ = {ws::close_code::abnormal, {}};
        }
        linger();
        return false;
    }
    if (!out_->close_frame.empty()) {
        close_sent_ = true;
        close_deadline_ = clock::now() + limits_.close_timeout;
        if (close_received_ || failed_) {
            linger();
            return false;
        }
    }
    return true;
}

void ws_session::linger() {
    // The server closes TCP first (RFC 6455 7.1.1). Shut down our side and
    // let the reader drain until the peer closes, within the close timeout.
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    lingering_ = true;
    linger_until_ = clock::now() + limits_.close_timeout;
    if (reader_done_) {
        writer_stopped();
    } else {
        arm_timer();
    }
}

void ws_session::writer_stopped() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    writer_done_ = true;
    give_back_write_state();
    ++timer_generation_;
    timer_.cancel();
    wake_function();
    stopped_one();
}

asio::awaitable<std::shared_ptr<ws_session>> open_websocket(server_core& core, connection& conn,
                                                            http_stream& stream, const request& req,
                                                            const websocket_upgrade& token) {
    const auto& options = core.options;
    std::vector<std::pair<std::string, std::string>> extra;
    if (auto refusal = check_upgrade(req, token, options.allowed_origins, extra)) {
        log(log_level::debug, "upgrade_refused id={} status={} reason=\"{}\"", conn.id,
            refusal->status, refusal->message);
        auto res = make_error_response(*refusal, req.version(), false, options);
        for (const auto& [name, value] : extra) {
            res.set(name, value);
        }
        stream.expires_after(options.write_timeout);
        co_await http::async_write(stream, res, use_tuple);
        co_return nullptr;
    }

    auto session = std::make_shared<ws_session>(conn, token.session_limits());
    session->start();

    // Join before the 101 leaves: once the client can see it is
    // subscribed, every later publish reaches it, behind the first messages.
    for (const auto& text : token.first_messages()) {
        session->send(ws::opcode::text, text);
    }
    for (const auto& key : token.keys()) {
        session->join(*key.channels, key.key);
    }

    auto response = switching_protocols(req, token, options.server_header);
    stream.expires_after(options.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(response), use_tuple);
    stream.expires_never();
    if (ec) {
        co_return nullptr;
    }
    // The session drives the bare socket: the stream's timers stay behind
    // with the HTTP stage.
    conn.socket = std::move(stream.socket());
    conn.http = nullptr;
    log(log_level::debug, "websocket_open id={} target={}", conn.id, req.target());
    co_return session;
}

// One coroutine for the whole connection after the HTTP stage: the session
// function runs inside it, so an idle subscriber holds this frame, the
// function's and its read's. A send-only session holds none of them: the
// coroutine ends at the launch and the session owns the connection.
asio::awaitable<bool> serve_connection(server_core& core, std::shared_ptr<connection> conn) {
    auto upgraded = co_await serve_http(core, conn);
    if (!upgraded) {
        co_return false;
    }
    auto session = upgraded->session;
    auto run = std::move(upgraded->run);
    auto subprotocol = std::move(upgraded->subprotocol);
    auto target = std::move(upgraded->target);

    std::weak_ptr<ws_session> weak = session;
    conn->graceful_stop = [weak] {
        if (auto s = weak.lock()) {
            s->close(ws::close_code::going_away, "server shutting down");
        }
    };
    if (conn->stopping) {
        session->close(ws::close_code::going_away, "server shutting down");
    }

    if (!run) {
        session->send_only(core, conn);
    }
    session->launch(upgraded->leftover);
    upgraded.reset();
    if (!run) {
        co_return true;
    }

    websocket ws(session, std::move(subprotocol));
    try {
        co_await run(ws);
    } catch (const std::exception& e) {
        log(log_level::error, "websocket_session_failed id={} target={} what=\"{}\"", conn->id,
            target, e.what());
        session->close(ws::close_code::internal_error, "internal error");
    }
    session->close(ws::close_code::normal, {});
    co_await session->finished();
    websocket_ended(*conn, *session);
    co_return false;
}

} // namespace detail

websocket_upgrade::websocket_upgrade(session_function run)
    : run_(std::move(run)) {
    if (!run_) {
        throw std::invalid_argument("websocket_upgrade needs a session function");
    }
}

websocket_upgrade websocket_upgrade::send_only() {
    return websocket_upgrade();
}

websocket_upgrade& websocket_upgrade::subprotocol(std::string name) {
    auto is_token_char = [](unsigned char c) {
        return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                      std::string_view::npos;
    };
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
        throw std::invalid_argument("subprotocol must be a non-empty token");
    }
    subprotocol_ = std::move(name);
    return *this;
}

websocket_upgrade& websocket_upgrade::join(registry& channels, std::string key) {
    keys_.push_back({&channels, std::move(key)});
    return *this;
}

websocket_upgrade& websocket_upgrade::limits(const websocket_limits& l) {
    limits_ = l;
    return *this;
}

websocket_upgrade& websocket_upgrade::send_first(std::string text) {
    if (!detail::ws::valid_utf8(text)) {
        throw std::invalid_argument("text message is not valid UTF-8");
    }
    first_.push_back(std::move(text));
    return *this;
}

websocket_upgrade& websocket_upgrade::allow_origins(std::vector<std::string> origins) {
    origins_ = std::move(origins);
    return *this;
}

std::vector<std::string> offered_subprotocols(const request& req) {
    std::vector<std::string> offered;
    for (const auto& [name, value] : req.headers()) {
        if (name.size() != 22 || !boost::beast::iequals(name, "Sec-WebSocket-Protocol")) {
            continue;
        }
        std::vector<std::string_view> items;
        detail::append_list_items(value, items);
        offered.insert(offered.end(), items.begin(), items.end());
    }
    return offered;
}

reply reply::upgrade(websocket_upgrade token) {
    reply r;
    r.status_ = 101;
    r.upgrade_ = std::make_shared<websocket_upgrade>(std::move(token));
    return r;
}

websocket::websocket(std::shared_ptr<detail::ws_session> session, std::string subprotocol)
    : session_(std::move(session))
    , subprotocol_(std::move(subprotocol)) {
}

boost::asio::awaitable<std::optional<ws_message>> websocket::read() {
    return session_->read();
}

bool websocket::send_text(std::string_view text) {
    if (!detail::ws::valid_utf8(text)) {
        throw std::invalid_argument("text message is not valid UTF-8");
    }
    return session_->send(detail::ws::opcode::text, text);
}

bool websocket::send_binary(std::string_view data) {
    return session_->send(detail::ws::opcode::binary, data);
}

void websocket::close(std::uint16_t code, std::string_view reason) {
    session_->close(code, reason);
}

void websocket::join(registry& channels, std::string key) {
    session_->join(channels, std::move(key));
}

std::string_view websocket::subprotocol() const noexcept {
    return subprotocol_;
}

bool websocket::is_open() const noexcept {
    return session_->is_open();
}

const ws_close_status& websocket::status() const noexcept {
    return session_->status();
}

} // namespace switchboard
