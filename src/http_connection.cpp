// The HTTP/1.1 keep-alive loop of one connection.
//
// Requests are read one at a time and answered before the next is parsed,
// so pipelined requests are answered in order without extra bookkeeping;
// their bytes wait in the read buffer, whose size is bounded.
#include "http_exchange.hpp"
#include "server_impl.hpp"
#include "ws_session.hpp"

#include <switchboard/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace switchboard::detail {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Why reading a request failed, as the client will be told.
std::optional<early_answer> read_failure(boost::system::error_code ec, bool in_head) {
    if (ec == beast::error::timeout) {
        return early_answer{408, in_head ? "request head timed out" : "request body timed out"};
    }
    if (ec == http::error::header_limit) {
        return early_answer{431, "request head too large"};
    }
    if (ec == http::error::buffer_overflow) {
        return in_head ? early_answer{431, "request head too large"}
                       : early_answer{413, "request body too large"};
    }
    if (ec == http::error::body_limit) {
        return early_answer{413, "request body too large"};
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor || ec == http::error::partial_message) {
        return std::nullopt; // the peer is gone (or we are stopping): nobody to answer
    }
    // Beast's parser errors are fixed texts of its own, never the peer's
    // bytes, so they can go back to the client as they are.
    return early_answer{400, "malformed request: " + ec.message()};
}

/// A deadline for reading a request that cancels the read but leaves the
/// socket open, so the client can still be told 408. (tcp_stream's own
/// timeout closes the socket, which leaves nothing to answer on.)
class read_deadline {
public:
    explicit read_deadline(const strand_type& executor)
        : timer_(executor) {}

    void arm(clock::time_point at, http_stream& stream) {
        stream.expires_never();
        fired_ = false;
        // A timer that fired just as the read completed still runs its
        // handler later; the generation tells it that it is stale.
        auto generation = ++generation_;
        timer_.expires_at(at);
        timer_.async_wait([this, generation, &stream](boost::system::error_code ec) {
            if (ec || generation != generation_) {
                return;
            }
            fired_ = true;
            boost::system::error_code ignored;
            stream.socket().cancel(ignored);
        });
    }

    void disarm() {
        ++generation_;
        timer_.cancel();
    }

    bool fired() const noexcept { return fired_; }

private:
    asio::basic_waitable_timer<clock, asio::wait_traits<clock>, strand_type> timer_;
    std::uint64_t generation_ = 0;
    bool fired_ = false;
};

class http_loop {
public:
    http_loop(server_core& core, std::shared_ptr<connection> conn)
        : core_(core)
        , options_(core.options)
        , conn_(std::move(conn))
        , stream_(std::move(conn_->socket))
        , buffer_(read_buffer_limit(core.options))
        , deadline_(stream_.get_executor()) {
        conn_->http = &stream_;
    }

    http_loop(const http_loop&) = delete;
    http_loop& operator=(const http_loop&) = delete;
    ~http_loop() { conn_->http = nullptr; }

    /// Serves requests until the connection ends or is upgraded; gives
    /// the session to run in the second case.
    asio::awaitable<std::optional<websocket_handoff>> run() {
        bool first = true;
        while (!conn_->stopping) {
            if (!co_await wait_for_request(first)) {
                break;
            }
            first = false;
            if (!co_await serve_one()) {
                break;
            }
        }
        if (upgraded_) {
            co_return std::move(upgraded_);
        }
        co_await close_gracefully();
        co_return std::nullopt;
    }

private:
    static std::size_t read_buffer_limit(const server_options& options) {
        // The head must fit whole; bodies stream through the parser, and
        // pipelined requests beyond this wait in the kernel, not in memory.
        return options.header_limit + 16 * 1024;
    }

    /// Waits, within the idle timeout, until bytes of the next request have
    /// arrived. False when the connection should end quietly.
    asio::awaitable<bool> wait_for_request(bool first) {
        if (buffer_.size() > 0) {
            first_byte_ = clock::now();
            co_return true;
        }
        conn_->idle = true;
        stream_.expires_after(options_.idle_timeout);
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_tuple);
        conn_->idle = false;
        if (ec) {
            if (ec == beast::error::timeout) {
                log(log_level::debug, "connection_idle_closed id={} first_request={}", conn_->id,
                    first);
            }
            co_return false;
        }
        buffer_.commit(n);
        first_byte_ = clock::now();
        co_return true;
    }

    /// Reads, routes and answers one request. False when the connection must
    /// not carry another one.
    asio::awaitable<bool> serve_one() {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
        parser.body_limit(boost::none);

        // A total deadline from the first byte: trickling bytes does not
        // extend it.
        deadline_.arm(first_byte_ + options_.head_timeout, stream_);
        auto [head_ec, head_n] =
            co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
        deadline_.disarm();
        if (deadline_.fired()) {
            head_ec = beast::error::timeout;
        }
        if (head_ec) {
            co_await answer_failure(read_failure(head_ec, true));
            co_return false;
        }
        const auto& head = parser.get();

        auto early = check_head(head);
        auto routed = route_head(core_.routes, head);
        if (!early && routed.answer) {
            early = routed.answer;
        }
        if (!early) {
            early = check_origin(head, *routed.entry, options_);
        }
        if (!early) {
            // Content-Length is checked here rather than by the parser, so
            // that a route's own limit applies; chunked bodies are counted
            // by the parser as they arrive.
            auto limit = routed.entry->options.body_limit.value_or(options_.body_limit);
            parser.body_limit(limit);
            if (parser.content_length().value_or(0) > limit) {
                early = early_answer{413, "request body too large"};
            }
        }
        if (early) {
            // The body was not read, so the connection cannot find where the
            // next request starts: answer and close, unless there is no body.
            bool keep = !expects_body(head) && head.keep_alive() && !conn_->stopping &&
                        is_keepable(early->status);
            co_await write(make_error_response(*early, head.version(), keep, options_));
            co_return keep;
        }

        if (!parser.is_done()) {
            if (!co_await read_body(parser)) {
                co_return false;
            }
        }

        auto req_version = head.version();
        bool head_only = head.method() == http::verb::head;
        bool client_keep_alive = parser.get().keep_alive();
        const route_entry& entry = *routed.entry;
        auto req = make_request(parser.release(), std::move(routed), conn_->remote, options_);
        auto result = co_await invoke(entry, req);

        if (result.is_upgrade()) {
            const auto& token = *result.upgrade_token();
            auto session = co_await open_websocket(core_, *conn_, stream_, req, token);
            if (session) {
                // Frames a client sent right behind its handshake came with it.
                upgraded_ = websocket_handoff{
                    std::move(session), token.run(), token.chosen_subprotocol(),
                    std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size()),
                    std::string(req.target())};
            }
            co_return false;
        }
        bool keep = client_keep_alive && !conn_->stopping;
        co_await write(make_response(result, req_version, head_only, keep, options_));
        co_return keep;
    }

    static bool is_keepable(int status) {
        // After these the framing of what follows cannot be trusted.
        return status != 400 && status != 408 && status != 413 && status != 431 && status != 417 &&
               status != 501 && status != 505;
    }

    asio::awaitable<bool> read_body(http::request_parser<http::string_body>& parser) {
        const auto& head = parser.get();
        if (head.count(http::field::expect) > 0 && head.version() == 11 && buffer_.size() == 0) {
            static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
            stream_.expires_after(options_.write_timeout);
            auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(interim), use_tuple);
            if (ec) {
                co_return false;
            }
        }

        deadline_.arm(clock::now() + options_.body_timeout, stream_);
        auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
        deadline_.disarm();
        if (deadline_.fired()) {
            ec = beast::error::timeout;
        }
        if (ec) {
            co_await answer_failure(read_failure(ec, false));
            co_return false;
        }
        co_return true;
    }

    asio::awaitable<void> answer_failure(std::optional<early_answer> answer) {
        if (!answer) {
            co_return;
        }
        log(log_level::debug, "request_refused id={} status={} reason=\"{}\"", conn_->id,
            answer->status, answer->message);
        co_await write(make_error_response(*answer, 11, false, options_));
    }

    asio::awaitable<void> write(http_response res) {
        stream_.expires_after(options_.write_timeout);
        auto [ec, n] = co_await http::async_write(stream_, res, use_tuple);
        if (ec) {
            log(log_level::debug, "response_write_failed id={} error=\"{}\"", conn_->id,
                ec.message());
        }
    }

    /// Ends the connection so that the last response survives: shut down
    /// our side, then read (and discard) what the client still sends for a
    /// short while, since closing with unread data makes the kernel send a
    /// reset that can destroy the response before the client reads it.
    asio::awaitable<void> close_gracefully() {
        boost::system::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) {
            co_return;
        }
        stream_.expires_after(std::chrono::seconds(1));
        std::size_t drained = 0;
        std::array<char, 4096> sink{};
        while (drained < 256 * 1024) {
            auto [rec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
            if (rec) {
                break;
            }
            drained += n;
        }
        stream_.socket().close(ec);
    }

    server_core& core_;
    const server_options& options_;
    std::shared_ptr<connection> conn_;
    http_stream stream_;
    beast::flat_buffer buffer_;
    read_deadline deadline_;
    clock::time_point first_byte_;
    std::optional<websocket_handoff> upgraded_;
};

} // namespace

asio::awaitable<std::optional<websocket_handoff>> serve_http(server_core& core,
                                                             std::shared_ptr<connection> conn) {
    http_loop loop(core, std::move(conn));
    co_return co_await loop.run();
}

} // namespace switchboard::detail
