// The REST client: one exchange at a time per connection, connections kept per scheme, host and
// port.
#include "client_net.hpp"
#include "client_wire.hpp"
#include "text.hpp"

#include <switchboard/client.hpp>
#include <switchboard/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

// g++ 12 inlines a coroutine's frame allocation and release into its caller and then takes
// Asio's frame operator new and operator delete for a mismatched pair (GCC bug 109224, a false
// positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace switchboard {

namespace detail {

namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

constexpr std::size_t read_chunk = 16 * 1024;

struct pooled_connection {
    explicit pooled_connection(net::stream s)
        : stream(std::move(s)) {}

    net::stream stream;
    clock::time_point idle_since = clock::now();
};

} // namespace

struct http_client_state {
    http_client_state(asio::any_io_executor ex, http_client_options o)
        : executor(std::move(ex))
        , options(std::move(o)) {
        if (!options.base_url.empty()) {
            base = parse_url(options.base_url);
        }
        net::check_resolve_entries(options.resolve);
    }

    asio::any_io_executor executor;
    const http_client_options options;
    std::optional<url_parts> base;

    // The TLS context, made on the first https:// request: loading the system's trust store
    // costs milliseconds that a client of http:// only should not pay.
    std::shared_ptr<const net::tls_context> tls_context() {
        std::lock_guard lock(mutex);
        if (!tls) {
            tls = net::make_tls_context(options.tls);
        }
        return tls;
    }

    std::mutex mutex;
    std::shared_ptr<const net::tls_context> tls;
    std::unordered_map<std::string, std::vector<std::unique_ptr<pooled_connection>>> idle;

    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> opened{0};
    std::atomic<std::uint64_t> reused{0};
    std::atomic<std::uint64_t> retried{0};

    url_parts target_url(std::string_view url) const {
        if (!url.empty() && url.front() == '/') {
            if (!base) {
                throw client_error(client_errc::bad_url,
                                   fmt::format("bad URL '{}': a target needs options.base_url",
                                               wire::capped(url, 200)));
            }
            url_parts parts = *base;
            parts.target = std::string(url);
            return parts;
        }
        return parse_url(url);
    }

    std::unique_ptr<pooled_connection> take(const std::string& key) {
        const auto now = clock::now();
        std::lock_guard lock(mutex);
        auto found = idle.find(key);
        if (found == idle.end()) {
            return nullptr;
        }
        // Newest first: it is the least likely to have been closed by the server.
        auto& list = found->second;
        while (!list.empty()) {
            auto conn = std::move(list.back());
            list.pop_back();
            if (now - conn->idle_since < options.idle_timeout && conn->stream.still_usable()) {
                return conn;
            }
        }
        return nullptr;
    }

    void give_back(const std::string& key, std::unique_ptr<pooled_connection> conn) {
        conn->idle_since = clock::now();
        std::lock_guard lock(mutex);
        auto& list = idle[key];
        if (list.size() >= options.max_idle_per_host) {
            list.erase(list.begin()); // the oldest goes
        }
        list.push_back(std::move(conn));
    }

    std::size_t idle_count() {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& [key, list] : idle) {
            n += list.size();
        }
        return n;
    }
};

namespace {

// How one attempt on one connection ended.
struct attempt {
    std::optional<client_response> response;
    std::optional<client_error> error;
    bool reusable = false;
    // Nothing of an answer arrived: the request may not have reached the server's handler, so
    // an idempotent one may be sent again.
    bool nothing_received = false;
};

asio::awaitable<attempt> exchange_on(pooled_connection& conn, const std::string& text,
                                     std::string_view method, const std::string& where,
                                     const http_client_options& options) {
    auto executor = co_await asio::this_coro::executor;
    net::deadline limit(executor);
    limit.arm(options.request_timeout, [&conn] { conn.stream.close(); });

    attempt result;
    auto timed_out = [&] {
        return client_error(client_errc::request_timeout,
                            fmt::format("{}: no complete response within {} ms", where,
                                        options.request_timeout.count()));
    };

    auto [write_ec, written] = co_await conn.stream.write(asio::buffer(text));
    if (write_ec) {
        result.nothing_received = true;
        result.error =
            limit.expired()
                ? timed_out()
                : client_error(write_ec, fmt::format("{}: {}", where, write_ec.message()));
        co_return result;
    }

    wire::response_reader reader(options.max_response_header, options.max_response_body,
                                 wire::response_reader::body_mode::limit, method == "HEAD");
    std::array<char, read_chunk> chunk{};
    while (!reader.done() && !reader.failed()) {
        auto [ec, n] = co_await conn.stream.read_some(asio::buffer(chunk));
        if (limit.expired()) {
            result.error = timed_out();
            co_return result;
        }
        if (ec == asio::error::eof) {
            reader.feed_eof();
            break;
        }
        if (ec == asio::ssl::error::stream_truncated) {
            // The TLS connection ended without close_notify: whoever cut it may have cut the
            // answer too, so a body that runs to the end of the connection is not complete.
            result.nothing_received = !reader.got_some();
            result.error = client_error(
                client_errc::connection_closed,
                fmt::format("{}: the server closed the TLS connection without close_notify "
                            "before the response was complete",
                            where));
            co_return result;
        }
        if (ec) {
            result.nothing_received = !reader.got_some();
            result.error = client_error(ec, fmt::format("{}: {}", where, ec.message()));
            co_return result;
        }
        reader.feed(std::string_view(chunk.data(), n));
    }
    limit.disarm();

    if (reader.failed()) {
        result.nothing_received = !reader.got_some();
        result.error =
            client_error(reader.error(), fmt::format("{}: {}", where, reader.error_detail()));
        co_return result;
    }
    result.reusable = reader.reusable();
    result.response = std::move(reader.response());
    co_return result;
}

// One request from start to end, on a strand of its own.
asio::awaitable<client_response> run_request(std::shared_ptr<http_client_state> state,
                                             client_request req) {
    const auto url = state->target_url(req.url);
    const auto where = req.method + " " + wire::shown_url(url);
    if (url.scheme != "http" && url.scheme != "https") {
        throw client_error(client_errc::unsupported_scheme,
                           where + ": http_client speaks http:// and https://; use "
                                   "websocket_client for ws:// and wss://");
    }
    const bool tls = net::uses_tls(url.scheme);

    const auto text = wire::request_text(req.method, url, state->options.user_agent,
                                         state->options.headers, req.headers, req.body);
    // The scheme is part of the key: a TLS connection must never carry an http:// request, nor
    // a plain one an https:// request.
    const auto key = url.scheme + "://" + url.authority();
    ++state->requests;

    for (int round = 0;; ++round) {
        std::optional<attempt> outcome;
        std::unique_ptr<pooled_connection> conn;
        bool reused = false;
        try {
            // A retry never takes a pooled connection: the pool may hold more that went stale
            // at the same moment (a server restart closes them all).
            conn = round == 0 ? state->take(key) : nullptr;
            reused = conn != nullptr;
            if (reused) {
                ++state->reused;
            } else {
                auto context = tls ? state->tls_context() : nullptr;
                conn = std::make_unique<pooled_connection>(
                    co_await net::open_stream(url, state->options.connect_timeout,
                                              state->options.resolve, std::move(context)));
                ++state->opened;
            }
            outcome = co_await exchange_on(*conn, text, req.method, where, state->options);
        } catch (const boost::system::system_error& e) {
            // Asio's own cancellation of the awaiting coroutine: reported like every other
            // failure of a request.
            throw client_error(e.code(), fmt::format("{}: {}", where, e.code().message()));
        }
        if (outcome->response) {
            log(log_level::debug, "client_response method={} url={} status={} reused={}",
                req.method, wire::shown_url(url), outcome->response->status, reused);
            if (outcome->reusable) {
                state->give_back(key, std::move(conn));
            }
            co_return std::move(*outcome->response);
        }

        const auto& code = outcome->error->code();
        const bool retry = round == 0 && reused && outcome->nothing_received &&
                           code != client_errc::request_timeout &&
                           code != std::errc::operation_canceled && wire::idempotent(req.method);
        if (!retry) {
            throw *outcome->error;
        }
        log(log_level::debug, "client_retry method={} url={} error=\"{}\"", req.method,
            wire::shown_url(url), outcome->error->what());
        ++state->retried;
    }
}

} // namespace

asio::awaitable<client_response> send_request(std::shared_ptr<http_client_state> state,
                                              client_request req) {
    auto strand = asio::make_strand(state->executor);
    return asio::co_spawn(strand, run_request(std::move(state), std::move(req)),
                          asio::use_awaitable);
}

std::optional<client_error> status_error(const client_request& req, const client_response& res,
                                         std::size_t max_error_body) {
    if (res.status >= 200 && res.status < 300) {
        return std::nullopt;
    }
    auto errors = wire::errors_from_body(res.body);
    std::string message = fmt::format("{} {}: HTTP {}", req.method, req.url, res.status);
    std::string joined;
    for (const auto& e : errors) {
        joined += joined.empty() ? "" : "; ";
        joined += e;
    }
    if (!joined.empty()) {
        message += ": " + wire::capped(joined, 1024);
    }
    return client_error(client_errc::http_status, std::move(message), res.status, std::move(errors),
                        wire::capped(res.body, max_error_body));
}

client_error decode_error(const client_request& req, const client_response& res,
                          std::size_t max_error_body, bool parsed, std::string_view why) {
    const auto code = parsed ? client_errc::unexpected_json : client_errc::not_json;
    return client_error(code,
                        fmt::format("{} {}: HTTP {}: {}: {}", req.method, req.url, res.status,
                                    make_error_code(code).message(), why),
                        res.status, {}, wire::capped(res.body, max_error_body));
}

client_error invalid_request_error(const client_request& req, std::string_view why) {
    return client_error(client_errc::invalid_request,
                        fmt::format("{} {}: body cannot be sent: {}", req.method, req.url, why));
}

} // namespace detail

http_client::http_client(boost::asio::any_io_executor executor)
    : http_client(std::move(executor), http_client_options()) {
}

http_client::http_client(boost::asio::any_io_executor executor, http_client_options options)
    : state_(std::make_shared<detail::http_client_state>(std::move(executor), std::move(options))) {
}

http_client::~http_client() {
    close_idle();
}

boost::asio::awaitable<client_response> http_client::send(client_request req) {
    return detail::send_request(state_, std::move(req));
}

http_client_stats http_client::stats() const {
    http_client_stats s;
    s.requests = state_->requests.load();
    s.connections_opened = state_->opened.load();
    s.reused = state_->reused.load();
    s.retried = state_->retried.load();
    s.idle = state_->idle_count();
    return s;
}

const http_client_options& http_client::options() const noexcept {
    return state_->options;
}

void http_client::close_idle() {
    std::lock_guard lock(state_->mutex);
    state_->idle.clear();
}

detail::decode_settings http_client::settings() const {
    return {state_->options.json, state_->options.json_max_depth, state_->options.max_error_body};
}

std::optional<std::string_view> client_response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (detail::iequals(key, name)) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

} // namespace switchboard
