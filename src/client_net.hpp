// Socket plumbing shared by the REST and the WebSocket client: connecting (TCP, then TLS for
// https:// and wss://) within a deadline, the stream both clients read and write, and deadlines
// that end a wait on the coroutine's own strand.
//
// Asio's ssl headers stay in client_net.cpp: the stream hides whether TLS is underneath, so the
// drivers compile without them.
#pragma once

#include <switchboard/client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

namespace switchboard::detail::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Runs a callback when a time has passed, unless disarmed first.
///
/// The timer must run on the strand of the coroutine that owns what the callback touches (make
/// it from `co_await this_coro::executor` in a coroutine spawned on a strand), so the callback
/// never races with that coroutine. It may fire after the coroutine's frame is gone; disarming,
/// which the destructor does, makes it a no-op then.
class deadline {
public:
    explicit deadline(const asio::any_io_executor& executor);
    deadline(const deadline&) = delete;
    deadline& operator=(const deadline&) = delete;
    ~deadline();

    void arm(std::chrono::milliseconds after, std::function<void()> on_expiry);
    void disarm();
    bool expired() const noexcept;

private:
    struct state {
        std::function<void()> on_expiry;
        bool expired = false;
    };

    asio::steady_timer timer_;
    std::shared_ptr<state> state_;
};

/// Whether a URL of this scheme is spoken over TLS.
bool uses_tls(std::string_view scheme) noexcept;

/// Whether a URL's host is an IPv4 or IPv6 address rather than a name.
bool is_ip_literal(std::string_view host) noexcept;

/// The trust store and checks of tls_options, made into an OpenSSL context once and shared by
/// every connection that uses them. Opaque here, so that only client_net.cpp sees OpenSSL.
class tls_context;

/// Builds the context: TLS 1.2 at least, the CA file or directory or else the system's trust
/// store, and peer verification unless the options turn it off. Throws client_error
/// (bad_tls_options, with OpenSSL's reason) when a CA file or directory cannot be loaded.
std::shared_ptr<const tls_context> make_tls_context(const tls_options& options);

/// (error, bytes transferred), as Asio reports it.
using io_result = std::tuple<boost::system::error_code, std::size_t>;

/// One connection to a server, plain TCP or TLS over TCP. Reads and writes complete on the
/// awaiting coroutine's executor; one read and one write may be in flight at once (the
/// WebSocket client's reader and writer), as for a socket.
class stream {
public:
    stream(stream&&) noexcept;
    stream& operator=(stream&&) noexcept;
    ~stream();

    bool is_tls() const noexcept;

    /// Some bytes, at most the buffer's size. A server that ends a TLS connection without
    /// close_notify gives asio::ssl::error::stream_truncated rather than eof: what it sent may
    /// have been cut short by someone else.
    asio::awaitable<io_result> read_some(asio::mutable_buffer buffer);
    /// All of the buffers, in order.
    asio::awaitable<io_result> write(std::span<const asio::const_buffer> buffers);
    asio::awaitable<io_result> write(asio::const_buffer buffer);

    /// Whether an idle connection can still carry a request: the server closed it when a
    /// non-blocking peek sees its FIN (or its close_notify), and bytes nobody asked for mean the
    /// framing is lost.
    bool still_usable();
    /// Half-closes TCP: the server reads the end of the connection. Over TLS no close_notify is
    /// sent first (that would need a write racing the one that may be in flight); the
    /// application protocol has already said where its data ends.
    void shutdown_send();
    /// Closes the TCP socket at once; whatever waits on the stream completes with an error.
    void close();

    struct impl; // what the stream is made of; client_net.cpp alone sees inside

private:
    friend asio::awaitable<stream> open_stream(const url_parts&, std::chrono::milliseconds,
                                               const std::vector<resolve_entry>&,
                                               std::shared_ptr<const tls_context>);
    explicit stream(std::unique_ptr<impl> state);

    std::unique_ptr<impl> impl_;
};

/// Resolves `url`'s host (or takes its address from `resolve`) and connects, with TCP_NODELAY
/// (requests and frames are written whole, so Nagle would only delay them), then does the TLS
/// handshake when `tls` is given: all of it within `timeout`, on the calling coroutine's
/// executor. The handshake sets SNI to the host name (not for an IP literal) and checks the
/// certificate for it, so nothing is written for the caller before the server proved who it
/// is.
///
/// Throws client_error: connect_timeout, certificate_rejected, tls_handshake_failed, or the
/// resolver's or the socket's error, with "connect to host:port" in what(); and
/// std::invalid_argument for a `resolve` address that is not an IP address.
asio::awaitable<stream> open_stream(const url_parts& url, std::chrono::milliseconds timeout,
                                    const std::vector<resolve_entry>& resolve,
                                    std::shared_ptr<const tls_context> tls);

/// Throws std::invalid_argument for an entry whose address is not an IPv4 or IPv6 address or
/// whose host is empty: what a client's constructor checks before anything connects.
void check_resolve_entries(const std::vector<resolve_entry>& resolve);

} // namespace switchboard::detail::net
