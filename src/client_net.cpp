#include "client_net.hpp"
#include "client_wire.hpp"
#include "text.hpp"

#include <switchboard/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace switchboard::detail::net {

namespace {

namespace ssl = asio::ssl;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::optional<asio::ip::address> resolved_by_entry(const std::vector<resolve_entry>& resolve,
                                                   std::string_view host) {
    for (const auto& entry : resolve) {
        if (iequals(entry.host, host)) {
            return asio::ip::make_address(entry.address);
        }
    }
    return std::nullopt;
}

[[noreturn]] void bad_tls_options(std::string_view what, const std::string& path,
                                  std::string_view why) {
    throw client_error(
        client_errc::bad_tls_options,
        fmt::format("TLS options: cannot load {} '{}': {}", what, wire::capped(path, 200), why));
}

} // namespace

// deadline

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

// TLS settings

bool uses_tls(std::string_view scheme) noexcept {
    return scheme == "https" || scheme == "wss";
}

bool is_ip_literal(std::string_view host) noexcept {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

class tls_context {
public:
    explicit tls_context(const tls_options& options)
        : context(ssl::context::tls_client)
        , verify(!options.insecure_skip_certificate_verification) {
        SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);

        // A CA file or directory is a private trust store: the system's is left out, so a
        // test or an internal service trusts exactly what it names.
        boost::system::error_code ec;
        if (options.ca_file.empty() && options.ca_dir.empty()) {
            context.set_default_verify_paths(ec);
            if (ec) {
                bad_tls_options("the system's trust store", "default", ec.message());
            }
        }
        if (!options.ca_file.empty()) {
            context.load_verify_file(options.ca_file, ec);
            if (ec) {
                bad_tls_options("CA file", options.ca_file, ec.message());
            }
        }
        if (!options.ca_dir.empty()) {
            // OpenSSL looks into the directory only during a handshake; a wrong path would
            // surface there as an untrusted certificate.
            std::error_code missing;
            if (!std::filesystem::is_directory(options.ca_dir, missing)) {
                bad_tls_options("CA directory", options.ca_dir, "not a directory");
            }
            context.add_verify_path(options.ca_dir, ec);
            if (ec) {
                bad_tls_options("CA directory", options.ca_dir, ec.message());
            }
        }
        context.set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
    }

    // SSL_new takes a non-const SSL_CTX; after construction the context is only read, which
    // OpenSSL allows from any number of threads.
    mutable ssl::context context;
    const bool verify;
};

std::shared_ptr<const tls_context> make_tls_context(const tls_options& options) {
    return std::make_shared<const tls_context>(options);
}

// stream

struct stream::impl {
    explicit impl(tcp::socket s)
        : plain(std::move(s)) {}

    tcp::socket& socket() { return tls ? tls->next_layer() : plain; }
    void start_tls(std::shared_ptr<const tls_context> settings, const std::string& host);
    client_error handshake_error(const std::string& where, boost::system::error_code ec);

    // Before the handshake the socket lives here; start_tls moves it into `tls`.
    tcp::socket plain;
    std::shared_ptr<const tls_context> context; // outlives `tls`, declared before it
    std::optional<ssl::stream<tcp::socket>> tls;
    // Over TLS each write_some takes one buffer: gathered buffers are joined here first, so
    // that a batch of frames becomes a few TLS records rather than one per frame.
    std::string joined;
};

// Points the TLS layer at `host`: SNI for a name (RFC 6066 3 forbids an address there), and
// the name or the address the certificate must carry.
void stream::impl::start_tls(std::shared_ptr<const tls_context> settings, const std::string& host) {
    tls.emplace(std::move(plain), settings->context);
    context = std::move(settings);

    SSL* handle = tls->native_handle();
    const bool ip = is_ip_literal(host);
    if (!ip && SSL_set_tlsext_host_name(handle, host.c_str()) != 1) {
        throw client_error(client_errc::tls_handshake_failed,
                           fmt::format("connect to {}: cannot set SNI", wire::capped(host, 200)));
    }
    if (!context->verify) {
        return;
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    int set = 0;
    if (ip) {
        set = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        set = X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    }
    if (set != 1) {
        throw client_error(
            client_errc::tls_handshake_failed,
            fmt::format("connect to {}: host cannot be checked against a certificate",
                        wire::capped(host, 200)));
    }
}

// The exception for a failed handshake: the certificate check's own reason when that is what
// failed, OpenSSL's error otherwise.
client_error stream::impl::handshake_error(const std::string& where, boost::system::error_code ec) {
    const long verdict = SSL_get_verify_result(tls->native_handle());
    if (context->verify && verdict != X509_V_OK) {
        return client_error(client_errc::certificate_rejected,
                            fmt::format("connect to {}: certificate rejected: {}", where,
                                        X509_verify_cert_error_string(verdict)));
    }
    const auto why = ec == asio::error::eof || ec == ssl::error::stream_truncated
                         ? std::string("the server closed the connection")
                         : ec.message();
    return client_error(client_errc::tls_handshake_failed,
                        fmt::format("connect to {}: TLS handshake failed: {}", where, why));
}

stream::stream(std::unique_ptr<impl> state)
    : impl_(std::move(state)) {
}

stream::stream(stream&&) noexcept = default;
stream& stream::operator=(stream&&) noexcept = default;
stream::~stream() = default;

bool stream::is_tls() const noexcept {
    return impl_->tls.has_value();
}

asio::awaitable<io_result> stream::read_some(asio::mutable_buffer buffer) {
    if (impl_->tls) {
        co_return co_await impl_->tls->async_read_some(buffer, use_tuple);
    }
    co_return co_await impl_->plain.async_read_some(buffer, use_tuple);
}

asio::awaitable<io_result> stream::write(std::span<const asio::const_buffer> buffers) {
    if (!impl_->tls) {
        co_return co_await asio::async_write(impl_->plain, buffers, use_tuple);
    }
    if (buffers.size() == 1) {
        co_return co_await asio::async_write(*impl_->tls, buffers.front(), use_tuple);
    }
    impl_->joined.clear();
    for (const auto& b : buffers) {
        impl_->joined.append(static_cast<const char*>(b.data()), b.size());
    }
    auto result = co_await asio::async_write(*impl_->tls, asio::buffer(impl_->joined), use_tuple);
    impl_->joined.clear();
    co_return result;
}

asio::awaitable<io_result> stream::write(asio::const_buffer buffer) {
    co_return co_await write(std::span<const asio::const_buffer>(&buffer, 1));
}

bool stream::still_usable() {
    auto& socket = impl_->socket();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) {
        return false;
    }
    char byte = 0;
    socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    boost::system::error_code ignored;
    socket.non_blocking(false, ignored);
    return ec == asio::error::would_block;
}

void stream::shutdown_send() {
    boost::system::error_code ignored;
    impl_->socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void stream::close() {
    boost::system::error_code ignored;
    impl_->socket().close(ignored);
}

// Connecting

void check_resolve_entries(const std::vector<resolve_entry>& resolve) {
    for (const auto& entry : resolve) {
        if (entry.host.empty() || !is_ip_literal(entry.address)) {
            throw std::invalid_argument(
                fmt::format("resolve entry '{}' -> '{}': needs a host and an IP address",
                            wire::capped(entry.host, 200), wire::capped(entry.address, 200)));
        }
    }
}

asio::awaitable<stream> open_stream(const url_parts& url, std::chrono::milliseconds timeout,
                                    const std::vector<resolve_entry>& resolve,
                                    std::shared_ptr<const tls_context> tls) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto s = std::make_unique<stream::impl>(tcp::socket(executor));
    const auto fixed = resolved_by_entry(resolve, url.host);
    const auto where =
        fixed ? fmt::format("{} ({})", url.authority(), fixed->to_string()) : url.authority();

    // One deadline from the first lookup to the end of the TLS handshake.
    deadline limit(executor);
    limit.arm(timeout, [&resolver, &s] {
        resolver.cancel();
        boost::system::error_code ignored;
        s->socket().close(ignored);
    });
    auto timed_out = [&](std::string_view step) {
        return client_error(
            client_errc::connect_timeout,
            fmt::format("connect to {}: {} timed out after {} ms", where, step, timeout.count()));
    };

    boost::system::error_code ec;
    if (fixed) {
        const tcp::endpoint endpoint(*fixed, url.port);
        auto [connect_ec] = co_await s->plain.async_connect(endpoint, use_tuple);
        ec = connect_ec;
    } else {
        auto [resolve_ec, endpoints] =
            co_await resolver.async_resolve(url.host, std::to_string(url.port), use_tuple);
        ec = resolve_ec;
        if (!ec && !limit.expired()) {
            auto [connect_ec, endpoint] =
                co_await asio::async_connect(s->plain, endpoints, use_tuple);
            ec = connect_ec;
        }
    }
    if (limit.expired()) {
        throw timed_out("connecting");
    }
    if (ec) {
        log(log_level::debug, "client_connect_failed to={} error=\"{}\"", where, ec.message());
        throw client_error(ec, fmt::format("connect to {}: {}", where, ec.message()));
    }
    boost::system::error_code ignored;
    s->plain.set_option(tcp::no_delay(true), ignored);

    if (tls) {
        s->start_tls(std::move(tls), url.host);
        if (!s->context->verify) {
            log(log_level::warn,
                "client_tls_unverified to={} warning=\"certificate verification is off "
                "(insecure_skip_certificate_verification): the server is not authenticated\"",
                where);
        }
        auto [handshake_ec] = co_await s->tls->async_handshake(ssl::stream_base::client, use_tuple);
        if (limit.expired()) {
            throw timed_out("TLS handshake");
        }
        if (handshake_ec) {
            auto error = s->handshake_error(where, handshake_ec);
            log(log_level::debug, "client_tls_failed to={} what=\"{}\"", where, error.what());
            throw error;
        }
    }
    limit.disarm();
    co_return stream(std::move(s));
}

} // namespace switchboard::detail::net
