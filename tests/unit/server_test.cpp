// The server's lifecycle in-process: ports, stop, and what a stop leaves.
#include <switchboard/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>

namespace {

namespace sb = switchboard;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<sb::reply> ok(sb::request&) {
    co_return sb::reply::raw(200, "text/plain", "ok");
}

sb::router routes() {
    sb::router r;
    r.get("/ok", ok);
    return r;
}

std::string roundtrip(std::uint16_t port, std::string_view raw) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(socket, asio::buffer(raw));
    std::string out;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(out), ec);
    return out;
}

/// Runs `f` and fails the test if it takes longer than `limit`.
template <class F>
void within(std::chrono::seconds limit, F f) {
    auto done = std::async(std::launch::async, f);
    ASSERT_EQ(done.wait_for(limit), std::future_status::ready) << "timed out";
    done.get();
}

TEST(server, port_zero_binds_a_free_port_and_reports_it) {
    sb::server s(routes());
    s.start();
    EXPECT_NE(s.port(), 0);
    auto out = roundtrip(s.port(), "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\nok")) << out;
}

TEST(server, bind_failure_throws) {
    sb::server first(routes());
    first.start();
    sb::server_options options;
    options.port = first.port();
    sb::server second(routes(), options);
    EXPECT_THROW(second.start(), std::system_error);
}

TEST(server, stop_closes_idle_connections_and_wait_returns) {
    sb::server_options options;
    options.threads = 2;
    sb::server s(routes(), options);
    s.start();

    asio::io_context io;
    tcp::socket idle(io);
    idle.connect({asio::ip::make_address("127.0.0.1"), s.port()});
    for (int i = 0; i < 100 && s.connection_count() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(s.connection_count(), 1U);

    within(std::chrono::seconds(3), [&] {
        s.stop();
        s.wait();
    });
    EXPECT_EQ(s.connection_count(), 0U);

    char byte = 0;
    boost::system::error_code ec;
    idle.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST(server, destructor_without_start_does_not_hang) {
    within(std::chrono::seconds(3), [] { sb::server s(routes()); });
}

TEST(server, stop_is_idempotent_and_callable_before_wait) {
    within(std::chrono::seconds(3), [] {
        sb::server s(routes());
        s.start();
        s.stop();
        s.stop();
        s.wait();
        s.wait();
    });
}

} // namespace
