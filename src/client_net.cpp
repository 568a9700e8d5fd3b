#include "client_net.hpp"

#include <switchboard/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace switchboard::detail::net {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

} // namespace

deadline::deadline(const asio::any_io_executor& executor)
    : timer_(executor)
    , state_(std::make_shared<state>()) {
}

deadline::~deadline() {
    disarm();
}

void deadline::arm(std::chrono::milliseconds after, std::function<void()> on_expiry) {
    disarm();
    // A fresh state per arming: a handler of an earlier arming that is already queued holds the
    // old state, whose callback is gone.
    state_ = std::make_shared<state>();
    state_->on_expiry = std::move(on_expiry);
    timer_.expires_after(after);
    timer_.async_wait([s = state_](boost::system::error_code ec) {
        if (ec || !s->on_expiry) {
            return;
        }
        s->expired = true;
        auto callback = std::move(s->on_expiry);
        s->on_expiry = nullptr;
        callback();
    });
}

void deadline::disarm() {
    state_->on_expiry = nullptr;
    timer_.cancel();
}

bool deadline::expired() const noexcept {
    return state_->expired;
}

asio::awaitable<tcp::socket> open_socket(const url_parts& url, std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    tcp::socket socket(executor);
    const auto where = url.authority();

    deadline limit(executor);
    limit.arm(timeout, [&resolver, &socket] {
        resolver.cancel();
        boost::system::error_code ignored;
        socket.close(ignored);
    });

    auto [resolve_ec, endpoints] =
        co_await resolver.async_resolve(url.host, std::to_string(url.port), use_tuple);
    boost::system::error_code ec = resolve_ec;
    if (!ec && !limit.expired()) {
        auto [connect_ec, endpoint] = co_await asio::async_connect(socket, endpoints, use_tuple);
        ec = connect_ec;
    }
    const bool timed_out = limit.expired();
    limit.disarm();

    if (timed_out) {
        throw client_error(
            client_errc::connect_timeout,
            fmt::format("connect to {}: timed out after {} ms", where, timeout.count()));
    }
    if (ec) {
        log(log_level::debug, "client_connect_failed to={} error=\"{}\"", where, ec.message());
        throw client_error(ec, fmt::format("connect to {}: {}", where, ec.message()));
    }

    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    co_return socket;
}

} // namespace switchboard::detail::net
