// Socket plumbing shared by the REST and the WebSocket client: connecting within a deadline,
// and deadlines that end a wait on the coroutine's own strand.
#pragma once

#include <switchboard/client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

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

/// Resolves `url`'s host and connects to it within `timeout`, on the calling coroutine's
/// executor, with TCP_NODELAY set (requests and frames are written whole, so Nagle would only
/// delay them). Throws client_error: connect_timeout, or the resolver's or the socket's error,
/// with "connect to host:port" in what().
asio::awaitable<tcp::socket> open_socket(const url_parts& url, std::chrono::milliseconds timeout);

} // namespace switchboard::detail::net
