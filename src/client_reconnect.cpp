// Reconnecting: the jittered backoff schedule and the loop that follows it.
#include "client_wire.hpp"

#include <switchboard/detail/ws_frame.hpp>

#include <switchboard/client.hpp>
#include <switchboard/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

namespace switchboard {

namespace asio = boost::asio;

// backoff

namespace {

// splitmix64: small, fast and well mixed; the seed is what must be unpredictable, so that two
// clients never share a schedule.
std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint64_t random_seed() {
    std::uint64_t seed = 0;
    detail::wire::random_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
    return seed;
}

} // namespace

backoff::backoff(backoff_options options, std::uint64_t seed)
    : options_(options)
    , state_(seed != 0 ? seed : random_seed()) {
}

std::chrono::milliseconds backoff::uniform(double low_ms, double high_ms) {
    const double unit = static_cast<double>(next_random(state_) >> 11) * 0x1.0p-53;
    return std::chrono::milliseconds(static_cast<std::int64_t>(low_ms + (high_ms - low_ms) * unit));
}

std::chrono::milliseconds backoff::next_delay(std::uint16_t close_code) {
    const auto initial = static_cast<double>(options_.initial.count());
    const auto cap = static_cast<double>(options_.max.count());

    // "Try again later" is the server asking for room: skip a step of the schedule.
    const bool later = close_code == detail::ws::close_code::try_again_later;
    if (later) {
        ++failures_;
    }
    const unsigned n = failures_++;

    if (n == 0) {
        return uniform(std::min(initial, cap), std::min(3 * initial, cap));
    }
    // The exponent is bounded so that a long outage cannot overflow the double.
    const double grown = 3 * initial * std::pow(options_.factor, std::min(n, 64U));
    double ceiling = std::min(cap, grown);
    double low = ceiling / 2;
    if (later) {
        low = std::max(low, std::min(cap, 5 * initial));
        ceiling = std::max(ceiling, low);
    }
    return uniform(low, ceiling);
}

void backoff::connected_for(std::chrono::milliseconds lasted) {
    if (lasted >= options_.stable_after) {
        failures_ = 0;
    }
}

// ws_reconnector

namespace detail {

namespace {

// Closes that another attempt can get past: the server went away, restarted, was overloaded,
// or the connection broke. Anything else would only meet the same answer again.
bool retryable_close(std::uint16_t code) {
    switch (code) {
    case ws::close_code::going_away:
    case ws::close_code::no_status:
    case ws::close_code::abnormal:
    case ws::close_code::internal_error:
    case ws::close_code::service_restart:
    case ws::close_code::try_again_later:
    case 1014: // bad gateway
        return true;
    default:
        return false;
    }
}

bool retryable_error(const client_error& e) {
    if (e.code().category() != client_category()) {
        return true; // refused, reset, unreachable: the server or the network may come back
    }
    switch (static_cast<client_errc>(e.code().value())) {
    case client_errc::connect_timeout:
    case client_errc::handshake_timeout:
    case client_errc::handshake_closed:
        return true;
    case client_errc::upgrade_refused:
        return e.status() == 408 || e.status() == 429 || e.status() >= 500;
    default:
        return false;
    }
}

} // namespace

class ws_reconnector_state : public std::enable_shared_from_this<ws_reconnector_state> {
public:
    ws_reconnector_state(asio::any_io_executor executor, std::string target, reconnect_options o)
        : strand(asio::make_strand(executor))
        , url(std::move(target))
        , options(std::move(o))
        , schedule(options.backoff)
        , sleep(strand) {}

    asio::awaitable<ws_close_status> run();
    void stop();

    std::optional<websocket_client> current() const {
        std::lock_guard lock(mutex);
        return live;
    }

    asio::any_io_executor strand;
    const std::string url;
    const reconnect_options options;
    backoff schedule;
    asio::steady_timer sleep;

    // Set before run(), read on the strand.
    std::vector<ws_listener> listeners;
    std::function<asio::awaitable<void>(websocket_client&, bool)> on_open;
    std::function<void(std::string_view, std::chrono::milliseconds)> on_retry;

    bool stopping = false; // on the strand
    bool running = false;
    std::atomic<unsigned> connections{0};

private:
    void set_live(std::optional<websocket_client> connection) {
        std::lock_guard lock(mutex);
        live = std::move(connection);
    }

    mutable std::mutex mutex;
    std::optional<websocket_client> live;
};

namespace {

asio::awaitable<void> close_for_stop(websocket_client connection) {
    co_await connection.close(ws::close_code::normal, {});
}

void spawn_close(const asio::any_io_executor& strand, websocket_client connection) {
    // Bounded by close_timeout; run() sees it end through closed(), so it is not left behind.
    asio::co_spawn(strand, close_for_stop(std::move(connection)), [](const std::exception_ptr& e) {
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log(log_level::debug, "client_reconnector_close_failed what=\"{}\"", ex.what());
        }
    });
}

} // namespace

asio::awaitable<ws_close_status> ws_reconnector_state::run() {
    using clock = std::chrono::steady_clock;
    if (running) {
        throw std::logic_error("ws_reconnector::run() is already running");
    }
    // However run() ends (a return, a permanent failure, an exception from on_open), it may be
    // run again.
    struct running_flag {
        bool& flag;
        ~running_flag() { flag = false; }
    };
    running = true;
    const running_flag guard{running};

    ws_close_status last;
    unsigned failed_attempts = 0;
    while (!stopping) {
        std::string why;
        std::uint16_t code = ws::close_code::abnormal;
        std::optional<client_error> failure;
        std::optional<websocket_client> link;
        try {
            link = co_await websocket_client::connect(strand, url, options.connect);
        } catch (const client_error& e) {
            failure = e;
        }

        if (link) {
            failed_attempts = 0;
            const bool reconnected = connections.fetch_add(1) > 0;
            set_live(link);
            if (stopping) {
                spawn_close(strand, *link);
            }
            const auto started = clock::now();
            if (on_open && !stopping) {
                co_await on_open(*link, reconnected);
            }
            for (const auto& listener : listeners) {
                link->add_listener(listener);
            }
            last = co_await link->closed();
            set_live(std::nullopt);
            schedule.connected_for(
                std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started));
            if (stopping || !retryable_close(last.code)) {
                break;
            }
            why = fmt::format("closed {}: {}", last.code, last.reason);
            code = last.code;
        } else {
            if (stopping) {
                break;
            }
            ++failed_attempts;
            if (!retryable_error(*failure) ||
                (options.max_attempts != 0 && failed_attempts >= options.max_attempts)) {
                throw *failure;
            }
            why = failure->what();
        }

        const auto delay = schedule.next_delay(code);
        log(log_level::info, "client_reconnect_wait url={} delay_ms={} why=\"{}\"", url,
            delay.count(), why);
        if (on_retry) {
            on_retry(why, delay);
        }
        sleep.expires_after(delay);
        co_await sleep.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return last;
}

void ws_reconnector_state::stop() {
    if (stopping) {
        return;
    }
    stopping = true;
    sleep.cancel();
    if (auto link = current()) {
        spawn_close(strand, *link);
    }
}

} // namespace detail

namespace {

asio::awaitable<ws_close_status> run_on_strand(std::shared_ptr<detail::ws_reconnector_state> s) {
    co_return co_await s->run();
}

} // namespace

ws_reconnector::ws_reconnector(boost::asio::any_io_executor executor, std::string url,
                               reconnect_options options)
    : state_(std::make_shared<detail::ws_reconnector_state>(std::move(executor), std::move(url),
                                                            std::move(options))) {
}

ws_reconnector::ws_reconnector(boost::asio::any_io_executor executor, std::string url)
    : ws_reconnector(std::move(executor), std::move(url), reconnect_options()) {
}

ws_reconnector::~ws_reconnector() {
    stop();
}

void ws_reconnector::add_listener(ws_listener listener) {
    auto s = state_;
    asio::dispatch(s->strand, [s, l = std::move(listener)]() mutable {
        s->listeners.push_back(std::move(l));
    });
}

void ws_reconnector::on_open(
    std::function<boost::asio::awaitable<void>(websocket_client&, bool reconnected)> callback) {
    auto s = state_;
    asio::dispatch(s->strand,
                   [s, c = std::move(callback)]() mutable { s->on_open = std::move(c); });
}

void ws_reconnector::on_retry(
    std::function<void(std::string_view why, std::chrono::milliseconds delay)> callback) {
    auto s = state_;
    asio::dispatch(s->strand,
                   [s, c = std::move(callback)]() mutable { s->on_retry = std::move(c); });
}

boost::asio::awaitable<ws_close_status> ws_reconnector::run() {
    return asio::co_spawn(state_->strand, run_on_strand(state_), asio::use_awaitable);
}

void ws_reconnector::stop() {
    auto s = state_;
    asio::dispatch(s->strand, [s] { s->stop(); });
}

std::optional<websocket_client> ws_reconnector::current() const {
    return state_->current();
}

boost::asio::awaitable<void> ws_reconnector::send_text(std::string text) {
    auto link = state_->current();
    if (!link) {
        throw client_error(client_errc::not_open,
                           fmt::format("send to {}: not connected (reconnecting)", state_->url));
    }
    return link->send_text(std::move(text));
}

unsigned ws_reconnector::connections() const noexcept {
    return state_->connections.load();
}

} // namespace switchboard
