#include "server_impl.hpp"

#include <switchboard/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <exception>

namespace switchboard {

namespace detail {

namespace {

unsigned thread_count(const server_options& options) {
    if (options.threads != 0) {
        return options.threads;
    }
    return std::max(1U, std::thread::hardware_concurrency());
}

std::string describe_exception(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

// Past max_connections a client still deserves an answer rather than a
// silent reset. The socket is fresh, so its send buffer takes the few bytes
// of a 503 without blocking; a client that is not reading loses nothing
// by the close.
void refuse(socket_type& socket) {
    static const std::string response = [] {
        auto body = error_body({"too many connections"});
        return "HTTP/1.1 503 Service Unavailable\r\n"
               "Content-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    }();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(response), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
}

} // namespace

void connection::request_stop() {
    stopping = true;
    if (graceful_stop) {
        graceful_stop();
    } else if (idle && http) {
        // Nothing is in flight: waking the idle read ends the connection.
        http->cancel();
    }
}

void connection::force_close() {
    auto& live = http ? http->socket() : socket;
    boost::system::error_code ec;
    live.shutdown(tcp::socket::shutdown_both, ec);
    live.close(ec);
}

server_core::server_core(router r, server_options o)
    : routes(std::move(r))
    , options(std::move(o))
    , context(static_cast<int>(thread_count(options)))
    , acceptor(asio::make_strand(context))
    , force_timer(acceptor.get_executor()) {
}

asio::awaitable<void> server_core::accept_loop() {
    asio::steady_timer backoff(acceptor.get_executor());
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(context),
                                                           asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            // Out of descriptors and the like: retrying at once would spin
            // on the same error, so give closing connections a moment.
            log(log_level::warn, "accept_failed error=\"{}\"", ec.message());
            backoff.expires_after(std::chrono::milliseconds(50));
            co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        launch(std::move(socket));
    }
}

void server_core::launch(socket_type socket) {
    if (open_count.load() >= options.max_connections) {
        log(log_level::warn, "connection_refused reason=max_connections limit={}",
            options.max_connections);
        refuse(socket);
        return;
    }

    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    auto remote = socket.remote_endpoint(ec);

    std::shared_ptr<connection> conn;
    {
        std::lock_guard lock(mutex);
        if (stopping) {
            return;
        }
        conn = std::make_shared<connection>(std::move(socket), next_id++);
        connections.emplace(conn->id, conn);
        open_count.fetch_add(1);
    }
    if (!ec) {
        conn->remote = remote.address().to_string() + ":" + std::to_string(remote.port());
    }

    auto id = conn->id;
    auto executor = conn->executor;
    asio::co_spawn(executor, serve_connection(*this, std::move(conn)),
                   [this, id](const std::exception_ptr& e, bool handed_off) {
                       if (e) {
                           log(log_level::error, "connection_failed id={} what=\"{}\"", id,
                               describe_exception(e));
                       }
                       if (!handed_off) {
                           finished(id);
                       }
                   });
}

void server_core::finished(std::uint64_t id) {
    std::lock_guard lock(mutex);
    connections.erase(id);
    open_count.fetch_sub(1);
    maybe_finish_locked();
}

void server_core::maybe_finish_locked() {
    if (!stopping || !connections.empty() || accept_loop_running) {
        return;
    }
    force_timer.cancel();
    // Everything the server started has ended; work the application left
    // on the context (its own timers) ends with the server.
    context.stop();
    all_done.notify_all();
}

void server_core::begin_stop() {
    std::lock_guard lock(mutex);
    if (stopping) {
        return;
    }
    stopping = true;
    if (bound_port.load() != 0) {
        log(log_level::info, "server_stopping port={} connections={}", bound_port.load(),
            connections.size());
    }

    asio::post(acceptor.get_executor(), [this] {
        boost::system::error_code ec;
        acceptor.close(ec);
    });
    for (auto& [id, weak] : connections) {
        if (auto conn = weak.lock()) {
            asio::post(conn->executor, [conn] { conn->request_stop(); });
        }
    }

    force_timer.expires_after(options.shutdown_timeout);
    force_timer.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        std::lock_guard held(mutex);
        log(log_level::warn, "server_forcing_stop connections={}", connections.size());
        for (auto& [id, weak] : connections) {
            if (auto conn = weak.lock()) {
                asio::post(conn->executor, [conn] { conn->force_close(); });
            }
        }
        // A handler that ignores its closed socket (a long sleep, say) must
        // not keep the process alive: give closing a moment, then end the
        // context; its destructor destroys whatever coroutines remain.
        force_timer.expires_after(std::chrono::seconds(1));
        force_timer.async_wait([this](boost::system::error_code again) {
            if (!again) {
                context.stop();
            }
        });
    });
    maybe_finish_locked();
}

} // namespace detail

struct server::impl : detail::server_core {
    using server_core::server_core;
};

server::server(router routes, server_options options)
    : impl_(std::make_shared<impl>(std::move(routes), std::move(options))) {
}

server::~server() {
    stop();
    wait();
}

void server::start() {
    auto& core = *impl_;
    namespace asio = boost::asio;
    using detail::tcp;
    if (core.acceptor.is_open() || !core.threads.empty()) {
        return; // already started
    }

    // Errors leave as std::system_error naming the step and the address,
    // the type the header promises, not Boost's own exception.
    auto where = core.options.address + ":" + std::to_string(core.options.port);
    auto fail = [&](boost::system::error_code ec, const char* step) {
        boost::system::error_code ignored;
        core.acceptor.close(ignored);
        throw std::system_error(ec, std::string(step) + " " + where);
    };
    boost::system::error_code ec;
    auto address = asio::ip::make_address(core.options.address, ec);
    if (ec) {
        fail(ec, "bad address");
    }
    tcp::endpoint endpoint(address, core.options.port);
    if (core.acceptor.open(endpoint.protocol(), ec); ec) {
        fail(ec, "open");
    }
    core.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (core.acceptor.bind(endpoint, ec); ec) {
        fail(ec, "bind");
    }
    if (core.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        fail(ec, "listen");
    }
    core.bound_port = core.acceptor.local_endpoint().port();

    {
        std::lock_guard lock(core.mutex);
        core.accept_loop_running = true;
    }
    asio::co_spawn(core.acceptor.get_executor(), core.accept_loop(),
                   [&core](const std::exception_ptr& e) {
                       if (e) {
                           log(log_level::error, "accept_loop_failed what=\"{}\"",
                               detail::describe_exception(e));
                       }
                       std::lock_guard lock(core.mutex);
                       core.accept_loop_running = false;
                       core.maybe_finish_locked();
                   });

    auto count = detail::thread_count(core.options);
    for (unsigned i = 0; i < count; ++i) {
        core.threads.emplace_back([&core] {
            for (;;) {
                try {
                    core.context.run();
                    return;
                } catch (const std::exception& e) {
                    log(log_level::error, "io_thread_exception what=\"{}\"", e.what());
                }
            }
        });
    }
    log(log_level::info, "server_started address={} port={} threads={}", core.options.address,
        core.bound_port.load(), count);
}

std::uint16_t server::port() const noexcept {
    return impl_->bound_port.load();
}

void server::stop() {
    impl_->begin_stop();
}

void server::wait() {
    for (auto& t : impl_->threads) {
        if (t.joinable()) {
            t.join();
        }
    }
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping && !impl_->threads.empty()) {
        impl_->threads.clear();
        log(log_level::info, "server_stopped port={}", impl_->bound_port.load());
    }
}

void server::run_until_signal() {
    boost::asio::signal_set signals(impl_->context, SIGINT, SIGTERM);
    signals.async_wait([this](boost::system::error_code ec, int signal) {
        if (!ec) {
            log(log_level::info, "signal_received signal={}", signal);
            stop();
        }
    });
    start();
    wait();
}

std::size_t server::connection_count() const noexcept {
    return impl_->open_count.load();
}

boost::asio::io_context& server::context() noexcept {
    return impl_->context;
}

const server_options& server::options() const noexcept {
    return impl_->options;
}

} // namespace switchboard
