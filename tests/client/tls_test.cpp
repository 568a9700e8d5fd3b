// https:// and wss:// against servers we did not write (shared case 36): a Python ssl server
// that reports the SNI it got and every byte that reached it after the handshake, and
// `openssl s_server` choosing its certificate by SNI. The certificates are made at test time by
// peers/make_certs.sh; everything runs on loopback, with good.test pointed at 127.0.0.1 by the
// client's resolve option.
#include "support.hpp"

#include <switchboard/client.hpp>
#include <switchboard/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::awaitable;
using sb::test::child_process;
using sb::test::peer;
using sb::test::run_async;

const std::string peers_dir = SWITCHBOARD_PEERS_DIR;

const std::string& certs() {
    return sb::test::test_certificates(peers_dir);
}

// The Python TLS peer serving certificate `name` (good, other, expired, ip, rogue).
peer tls_peer(const std::string& name, bool ipv6 = false) {
    std::vector<std::string> argv{SWITCHBOARD_PYTHON_PATH,
                                  peers_dir + "/tls_peer.py",
                                  "--cert",
                                  certs() + "/" + name + ".pem",
                                  "--key",
                                  certs() + "/" + name + ".key"};
    if (ipv6) {
        argv.emplace_back("--ipv6");
    }
    return peer(argv);
}

// The line the peer prints when a connection ends: handshake, SNI, bytes after the handshake.
std::string connection_report(peer& p) {
    return p.process.read_line(10s).value_or("(no report from the peer)");
}

// Trusts the test CA only, and finds good.test at 127.0.0.1.
sb::tls_options test_trust() {
    sb::tls_options tls;
    tls.ca_file = certs() + "/ca.pem";
    return tls;
}

std::vector<sb::resolve_entry> good_test_on_loopback() {
    return {{"good.test", "127.0.0.1"}};
}

sb::http_client_options https_options() {
    sb::http_client_options o;
    o.tls = test_trust();
    o.resolve = good_test_on_loopback();
    o.connect_timeout = 10s;
    return o;
}

sb::ws_connect_options wss_options() {
    sb::ws_connect_options o;
    o.tls = test_trust();
    o.resolve = good_test_on_loopback();
    return o;
}

std::string url(const std::string& scheme, const std::string& host, const peer& p,
                const std::string& target) {
    const auto shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return scheme + "://" + shown + ":" + std::to_string(p.port) + target;
}

// Log lines at warn and above, for the tests that expect one.
class captured_log {
public:
    captured_log() {
        sb::set_log_sink(
            [lines = lines_](sb::log_level, std::string_view line) {
                std::lock_guard lock(lines->mutex);
                lines->text += std::string(line) + "\n";
            },
            sb::log_level::warn);
    }
    captured_log(const captured_log&) = delete;
    captured_log& operator=(const captured_log&) = delete;
    ~captured_log() { sb::set_log_sink(nullptr); }

    std::string text() const {
        std::lock_guard lock(lines_->mutex);
        return lines_->text;
    }

private:
    struct shared {
        std::mutex mutex;
        std::string text;
    };
    std::shared_ptr<shared> lines_ = std::make_shared<shared>();
};

// A certificate the client must refuse, and why OpenSSL says it does.
struct refusal {
    std::string certificate;
    std::string host; // what the URL names; good.test is found at 127.0.0.1
    std::string reason;
};

const std::vector<refusal>& refusals() {
    static const std::vector<refusal> cases{
        {"other", "good.test", "hostname mismatch"},
        {"expired", "good.test", "certificate has expired"},
        {"rogue", "good.test", "self-signed certificate"},
        {"good", "127.0.0.1", "IP address mismatch"},
    };
    return cases;
}

// https://

awaitable<void> https_get(std::string target, std::shared_ptr<boost::json::value> out) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    for (int i = 0; i < 3; ++i) {
        *out = co_await client.get(target);
    }
    EXPECT_EQ(client.stats().connections_opened, 1U) << "TLS connections are kept alive too";
}

TEST(client_tls, https_succeeds_with_the_right_certificate_and_sends_the_host_name_as_sni) {
    auto p = tls_peer("good");
    auto body = std::make_shared<boost::json::value>();
    run_async(https_get(url("https", "good.test", p, "/hello"), body));
    EXPECT_EQ(body->at("sni"), "good.test");
    EXPECT_EQ(body->at("path"), "/hello");
    const auto report = connection_report(p);
    EXPECT_TRUE(report.starts_with("conn handshake=ok sni=good.test")) << report;
    EXPECT_NE(report.find("requests=3"), std::string::npos) << report;
}

awaitable<void> https_ca_dir(std::string target) {
    auto o = https_options();
    o.tls = {};
    o.tls.ca_dir = certs() + "/ca-dir";
    sb::http_client client(co_await asio::this_coro::executor, o);
    auto body = co_await client.get(target);
    EXPECT_EQ(body.at("sni"), "good.test");
}

TEST(client_tls, a_hashed_ca_directory_is_a_private_trust_store_too) {
    auto p = tls_peer("good");
    run_async(https_ca_dir(url("https", "good.test", p, "/")));
}

awaitable<void> https_refused(std::string target, std::string reason) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    auto got = co_await client.try_request("GET", target);
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), sb::client_errc::certificate_rejected) << got.error().what();
    EXPECT_NE(std::string(got.error().what()).find(reason), std::string::npos)
        << got.error().what();
}

// Each refusal against its own peer: the client fails with the reason, and the peer saw the
// handshake fail and no byte after it.
void expect_refusals(const std::string& scheme,
                     awaitable<void> (*attempt)(std::string target, std::string reason)) {
    for (const auto& r : refusals()) {
        SCOPED_TRACE(r.certificate + " certificate for " + r.host);
        auto p = tls_peer(r.certificate);
        run_async(attempt(url(scheme, r.host, p, "/secret"), r.reason));
        const auto report = connection_report(p);
        EXPECT_TRUE(report.starts_with("conn handshake=failed")) << report;
        EXPECT_NE(report.find("request_bytes=0"), std::string::npos) << report;
        if (r.host == "127.0.0.1") {
            EXPECT_NE(report.find("sni=-"), std::string::npos) << "SNI sent for an IP: " << report;
        }
    }
}

TEST(client_tls, https_refuses_wrong_expired_untrusted_and_ip_certificates_before_sending) {
    expect_refusals("https", https_refused);
}

awaitable<void> https_default_trust(std::string target) {
    sb::http_client_options o;
    o.resolve = good_test_on_loopback(); // no ca_file: the system's store, which lacks our CA
    sb::http_client client(co_await asio::this_coro::executor, o);
    auto got = co_await client.try_request("GET", target);
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), sb::client_errc::certificate_rejected) << got.error().what();
}

TEST(client_tls, verification_is_on_by_default_against_the_system_trust_store) {
    auto p = tls_peer("good");
    run_async(https_default_trust(url("https", "good.test", p, "/")));
    EXPECT_NE(connection_report(p).find("request_bytes=0"), std::string::npos);
}

awaitable<void> https_ip(std::string target) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    auto body = co_await client.get(target);
    EXPECT_EQ(body.at("sni"), "") << "SNI must not carry an IP address";
}

TEST(client_tls, an_ip_literal_is_checked_against_the_ip_san_and_gets_no_sni) {
    auto v4 = tls_peer("ip");
    run_async(https_ip(url("https", "127.0.0.1", v4, "/")));
    auto v6 = tls_peer("ip", true);
    run_async(https_ip(url("https", "::1", v6, "/")));
}

awaitable<void> https_insecure(std::string target) {
    auto o = https_options();
    o.tls = {};
    o.tls.insecure_skip_certificate_verification = true;
    sb::http_client client(co_await asio::this_coro::executor, o);
    auto body = co_await client.get(target);
    EXPECT_EQ(body.at("sni"), "good.test");
}

TEST(client_tls, the_insecure_opt_out_accepts_a_bad_certificate_and_says_so) {
    captured_log log;
    auto p = tls_peer("rogue");
    run_async(https_insecure(url("https", "good.test", p, "/")));
    EXPECT_NE(log.text().find("certificate verification is off"), std::string::npos) << log.text();
}

awaitable<void> schemes_apart(std::string tls_url, std::string plain_url) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    co_await client.get(tls_url);
    // The same host and port over http:// must not ride on the kept-alive TLS connection: it
    // opens a plain one, which the TLS server cannot answer.
    auto plain = co_await client.try_request("GET", plain_url);
    EXPECT_FALSE(plain.has_value());
    EXPECT_EQ(client.stats().connections_opened, 2U);
}

TEST(client_tls, pooled_connections_are_kept_apart_by_scheme) {
    auto p = tls_peer("good");
    run_async(schemes_apart(url("https", "good.test", p, "/"), url("http", "good.test", p, "/")));
}

awaitable<void> https_cut(std::string target) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    auto got = co_await client.try_request<sb::client_response>("GET", target);
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), sb::client_errc::connection_closed) << got.error().what();
    EXPECT_NE(std::string(got.error().what()).find("close_notify"), std::string::npos)
        << got.error().what();
}

TEST(client_tls, a_body_cut_without_close_notify_is_not_taken_for_complete) {
    auto p = tls_peer("good");
    run_async(https_cut(url("https", "good.test", p, "/cut")));
}

awaitable<void> https_to_plain(std::string target) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    auto got = co_await client.try_request("GET", target);
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), sb::client_errc::tls_handshake_failed) << got.error().what();
}

awaitable<void> bad_ca_file() {
    auto o = https_options();
    o.tls.ca_file = certs() + "/missing.pem";
    sb::http_client client(co_await asio::this_coro::executor, o);
    auto got = co_await client.try_request("GET", "https://good.test:1/");
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), sb::client_errc::bad_tls_options) << got.error().what();
}

TEST(client_tls, a_plain_server_a_missing_ca_file_and_a_bad_resolve_entry_are_clear_errors) {
    // aiohttp speaks plain HTTP: it answers a ClientHello with a 400, which is no TLS.
    peer plain({SWITCHBOARD_PYTHON_PATH, peers_dir + "/rest_peer.py"});
    run_async(https_to_plain(url("https", "good.test", plain, "/")));
    run_async(bad_ca_file());

    sb::http_client_options o;
    o.resolve = {{"good.test", "localhost"}};
    asio::io_context io;
    EXPECT_THROW(sb::http_client(io.get_executor(), o), std::invalid_argument)
        << "a resolve entry needs an IP address";
}

// A server that takes the TCP connection and never answers the ClientHello.
awaitable<void> silent_tls(bool websocket) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::acceptor silent(executor, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = std::to_string(silent.local_endpoint().port());
    std::string what;
    try {
        if (websocket) {
            auto o = wss_options();
            o.connect_timeout = 300ms;
            co_await sb::websocket_client::connect(executor, "wss://good.test:" + port + "/", o);
        } else {
            auto o = https_options();
            o.connect_timeout = 300ms;
            sb::http_client client(executor, o);
            co_await client.get("https://good.test:" + port + "/");
        }
        ADD_FAILURE() << "connected to a server that never answered";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::connect_timeout) << e.what();
        what = e.what();
    }
    // Only the 300 ms deadline can end it this way (run_async's watchdog catches a hang); no
    // wall-clock bound, which a loaded machine would break.
    EXPECT_NE(what.find("TLS handshake timed out after 300 ms"), std::string::npos) << what;
}

TEST(client_tls, connect_timeout_bounds_the_tls_handshake) {
    run_async(silent_tls(false));
    run_async(silent_tls(true));
}

// Retries while s_server is still starting (it cannot report its port: it is given one).
awaitable<void> get_from_s_server(std::string target, std::shared_ptr<std::string> out) {
    sb::http_client client(co_await asio::this_coro::executor, https_options());
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto got = co_await client.try_request<sb::client_response>("GET", target);
        if (got.has_value()) {
            *out = got->body;
            co_return;
        }
        if (got.error().code() != std::errc::connection_refused) {
            ADD_FAILURE() << got.error().what();
            co_return;
        }
        asio::steady_timer pause(co_await asio::this_coro::executor, 100ms);
        co_await pause.async_wait(asio::use_awaitable);
    }
    ADD_FAILURE() << "s_server did not start";
}

// openssl s_server with two certificates: other.test for any client, good.test only for one
// that sends SNI good.test. Being answered with the good one proves that the name was sent.
TEST(client_tls, an_sni_routed_server_gives_the_certificate_for_the_name_sent) {
    const auto port = std::to_string(sb::test::free_loopback_port());
    child_process server({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert",
                          certs() + "/other.pem", "-key", certs() + "/other.key", "-servername",
                          "good.test", "-cert2", certs() + "/good.pem", "-key2",
                          certs() + "/good.key", "-www", "-quiet"});
    auto body = std::make_shared<std::string>();
    run_async(get_from_s_server("https://good.test:" + port + "/", body));
    EXPECT_NE(body->find("Ciphers"), std::string::npos) << *body;
}

// wss://

awaitable<void> wss_echo(std::string target) {
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, target,
                                                     wss_options());
    co_await ws.send_text("over tls");
    auto m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "over tls");
    const std::string large(60'000, 'x'); // several TLS records; the peer's frames stop at 64 KiB
    co_await ws.send_text(large);
    m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data, large);
    const auto status = co_await ws.close();
    EXPECT_EQ(status.code, 1000);
}

TEST(client_wss, echo_over_tls_with_the_host_name_as_sni) {
    auto p = tls_peer("good");
    run_async(wss_echo(url("wss", "good.test", p, "/echo")));
    const auto report = connection_report(p);
    EXPECT_TRUE(report.starts_with("conn handshake=ok sni=good.test")) << report;
}

awaitable<void> wss_refused(std::string target, std::string reason) {
    try {
        co_await sb::websocket_client::connect(co_await asio::this_coro::executor, target,
                                               wss_options());
        ADD_FAILURE() << "connected to " << target;
    } catch (const sb::client_error& e) {
        EXPECT_EQ(e.code(), sb::client_errc::certificate_rejected) << e.what();
        EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
}

TEST(client_wss, refuses_wrong_expired_untrusted_and_ip_certificates_before_the_upgrade) {
    expect_refusals("wss", wss_refused);
}

awaitable<void> wss_insecure(std::string target) {
    auto o = wss_options();
    o.tls = {};
    o.tls.insecure_skip_certificate_verification = true;
    auto ws = co_await sb::websocket_client::connect(co_await asio::this_coro::executor, target, o);
    co_await ws.send_text("anyone");
    auto m = co_await ws.read();
    CO_ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "anyone");
    co_await ws.close();
}

TEST(client_wss, the_insecure_opt_out_accepts_a_bad_certificate_and_says_so) {
    captured_log log;
    auto p = tls_peer("expired");
    run_async(wss_insecure(url("wss", "good.test", p, "/echo")));
    EXPECT_NE(log.text().find("certificate verification is off"), std::string::npos) << log.text();
}

} // namespace
