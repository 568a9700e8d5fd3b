// The command-line tool end to end, against the test server binary (and the raw peer for a
// close code the test server does not send).
#include "support.hpp"

#include <switchboard/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

namespace sb = switchboard;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using sb::test::child_process;
using sb::test::peer;
using sb::test::run_async;

struct result {
    int status;
    std::string out;
    std::string err;
};

result cli(std::vector<std::string> args) {
    args.insert(args.begin(), SWITCHBOARD_CLI_PATH);
    child_process p(args);
    const int status = p.wait(20s);
    return {status, p.out(), p.err()};
}

peer test_server() {
    return peer({SWITCHBOARD_TEST_SERVER_PATH});
}

std::string http(const peer& p, std::string_view target) {
    return "http://127.0.0.1:" + std::to_string(p.port) + std::string(target);
}

std::string ws(const peer& p, std::string_view target) {
    return "ws://127.0.0.1:" + std::to_string(p.port) + std::string(target);
}

asio::awaitable<void> post_text(std::string url, std::string body) {
    sb::http_client client(co_await asio::this_coro::executor);
    sb::client_request req;
    req.method = "POST";
    req.url = std::move(url);
    req.body = std::move(body);
    const auto res = co_await client.send(std::move(req));
    EXPECT_EQ(res.status / 100, 2) << res.body;
}

asio::awaitable<void> get_text(std::string url, std::shared_ptr<std::string> out) {
    sb::http_client client(co_await asio::this_coro::executor);
    *out = (co_await client.request<sb::client_response>("GET", url)).body;
}

asio::awaitable<void> delete_at(std::string url) {
    sb::http_client client(co_await asio::this_coro::executor);
    co_await client.del<sb::no_body>(url);
}

std::string fetch(const std::string& url) {
    auto out = std::make_shared<std::string>();
    run_async(get_text(url, out));
    return *out;
}

// Waits, bounded, until the test server counts `n` subscribers on job `id`.
void wait_subscribers(const peer& server, int id, int n) {
    const auto url = http(server, "/jobs/" + std::to_string(id) + "/subscribers");
    const auto expected = R"({"subscribers":)" + std::to_string(n) + "}";
    for (int i = 0; i < 500 && fetch(url) != expected; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(fetch(url), expected);
}

TEST(client_cli, subscribe_count_3_prints_exactly_the_three_published_messages_in_order) {
    auto server = test_server();
    // The route greets every subscriber with {"type":"subscribed",...} before anything
    // published; --skip 1 leaves the greeting out, so the three lines are the publishes.
    child_process sub({SWITCHBOARD_CLI_PATH, "subscribe", ws(server, "/jobs/9/subscribe"), "--skip",
                       "1", "--count", "3"});
    wait_subscribers(server, 9, 1);
    for (int i = 1; i <= 3; ++i) {
        run_async(post_text(http(server, "/jobs/9/publish"), R"({"n":)" + std::to_string(i) + "}"));
    }
    // A fourth publish must not show up: the tool has exited, or exits after three lines.
    run_async(post_text(http(server, "/jobs/9/publish"), R"({"n":4})"));

    EXPECT_EQ(sub.wait(20s), 0) << sub.err();
    EXPECT_EQ(sub.out(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    EXPECT_EQ(sub.err(), "");
    wait_subscribers(server, 9, 0);
}

TEST(client_cli, subscribe_prints_the_greeting_too_without_skip) {
    auto server = test_server();
    child_process sub(
        {SWITCHBOARD_CLI_PATH, "subscribe", ws(server, "/jobs/4/subscribe"), "--count", "2"});
    wait_subscribers(server, 4, 1);
    run_async(post_text(http(server, "/jobs/4/publish"), R"({"n":1})"));
    EXPECT_EQ(sub.wait(20s), 0) << sub.err();
    EXPECT_EQ(sub.out(), "{\"type\":\"subscribed\",\"job\":4}\n{\"n\":1}\n");
}

TEST(client_cli, subscribe_exits_0_on_a_normal_close_and_says_so_on_stderr) {
    auto server = test_server();
    child_process sub({SWITCHBOARD_CLI_PATH, "subscribe", ws(server, "/jobs/5/subscribe")});
    wait_subscribers(server, 5, 1);
    run_async(delete_at(http(server, "/jobs/5/subscribers")));
    EXPECT_EQ(sub.wait(20s), 0) << sub.err();
    EXPECT_EQ(sub.err(), "switchboard: connection closed: 1000 job removed\n");
}

TEST(client_cli, subscribe_exits_4_when_the_server_closes_with_another_code) {
    auto raw = peer({SWITCHBOARD_PYTHON_PATH, SWITCHBOARD_PEERS_DIR "/raw_ws_peer.py"});
    const auto r = cli({"subscribe", ws(raw, "/close-4000")});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.out, "one\n");
    EXPECT_EQ(r.err, "switchboard: connection closed: 4000 scenario over\n");
}

TEST(client_cli, send_delivers_the_messages_in_order_then_closes_properly) {
    auto server = test_server();
    const auto r = cli({"send", ws(server, "/ws/record"), "first", "second message", "third"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
    std::string recorded;
    for (int i = 0; i < 100; ++i) {
        recorded = fetch(http(server, "/ws/recorded"));
        if (recorded.find("third") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(recorded, R"({"value":"","values":["first","second message","third"]})");
}

TEST(client_cli, get_and_post_print_the_body_and_exit_0) {
    auto server = test_server();
    const auto got = cli({"get", http(server, "/jobs/7")});
    EXPECT_EQ(got.status, 0) << got.err;
    EXPECT_EQ(got.out, "{\"route\":\"job\",\"jobid\":7}\n");

    const auto posted = cli({"post", http(server, "/echo"), R"({"name":"n","count":2})"});
    EXPECT_EQ(posted.status, 0) << posted.err;
    EXPECT_EQ(posted.out, "{\"name\":\"n\",\"count\":2}\n");
}

TEST(client_cli, a_non_2xx_exits_3_with_the_status_and_errors_on_stderr) {
    auto server = test_server();
    const auto r = cli({"get", http(server, "/teapot")});
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("HTTP 418"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("short and stout; tip me over"), std::string::npos) << r.err;

    const auto bad = cli({"post", http(server, "/echo"), R"({"name":"n"})"});
    EXPECT_EQ(bad.status, 3);
    EXPECT_NE(bad.err.find("HTTP 400"), std::string::npos) << bad.err;
}

TEST(client_cli, usage_errors_and_bad_urls_exit_1_with_a_clear_message) {
    const auto bad_url = cli({"get", "http//127.0.0.1/x"});
    EXPECT_EQ(bad_url.status, 1);
    EXPECT_NE(bad_url.err.find("bad URL 'http//127.0.0.1/x'"), std::string::npos) << bad_url.err;

    const auto bad_json = cli({"post", "http://127.0.0.1:1/x", "{not json"});
    EXPECT_EQ(bad_json.status, 1);
    EXPECT_NE(bad_json.err.find("JSON"), std::string::npos) << bad_json.err;

    const auto unknown = cli({"fetch", "http://127.0.0.1:1/"});
    EXPECT_EQ(unknown.status, 1);
    EXPECT_NE(unknown.err.find("unknown command 'fetch'"), std::string::npos) << unknown.err;
    EXPECT_NE(unknown.err.find("--help"), std::string::npos) << unknown.err;

    const auto wrong_scheme = cli({"subscribe", "http://127.0.0.1:1/x"});
    EXPECT_EQ(wrong_scheme.status, 1);
    EXPECT_NE(wrong_scheme.err.find("ws://"), std::string::npos) << wrong_scheme.err;

    EXPECT_EQ(cli({}).status, 1);
    EXPECT_EQ(cli({"get"}).status, 1);
    EXPECT_EQ(cli({"subscribe", "ws://127.0.0.1:1/", "--count", "x"}).status, 1);
}

TEST(client_cli, a_refused_connection_and_a_refused_upgrade_exit_2) {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto closed = std::to_string(a.local_endpoint().port());
    a.close();
    const auto refused = cli({"get", "http://127.0.0.1:" + closed + "/x"});
    EXPECT_EQ(refused.status, 2);
    EXPECT_NE(refused.err.find("Connection refused"), std::string::npos) << refused.err;

    auto server = test_server();
    const auto upgrade = cli({"subscribe", ws(server, "/jobs/404/subscribe")});
    EXPECT_EQ(upgrade.status, 2);
    EXPECT_NE(upgrade.err.find("upgrade refused with HTTP 404: no job 404"), std::string::npos)
        << upgrade.err;
}

TEST(client_cli, ctrl_c_closes_the_subscription_properly_and_exits_130) {
    auto server = test_server();
    child_process sub({SWITCHBOARD_CLI_PATH, "subscribe", ws(server, "/jobs/6/subscribe")});
    wait_subscribers(server, 6, 1);
    sub.signal(SIGINT);
    EXPECT_EQ(sub.wait(20s), 130) << sub.err();
    wait_subscribers(server, 6, 0);
}

// https:// and wss:// against the Python TLS peer, with the certificates of make_certs.sh.
peer tls_peer(const std::string& certificate) {
    const auto& dir = sb::test::test_certificates(SWITCHBOARD_PEERS_DIR);
    return peer({SWITCHBOARD_PYTHON_PATH, SWITCHBOARD_PEERS_DIR "/tls_peer.py", "--cert",
                 dir + "/" + certificate + ".pem", "--key", dir + "/" + certificate + ".key"});
}

std::string good_test(const peer& p, const std::string& scheme, std::string_view target) {
    return scheme + "://good.test:" + std::to_string(p.port) + std::string(target);
}

TEST(client_cli, https_and_wss_with_a_private_ca_and_a_resolve_entry) {
    const auto ca = sb::test::test_certificates(SWITCHBOARD_PEERS_DIR) + "/ca.pem";
    auto p = tls_peer("good");
    const auto got = cli(
        {"get", good_test(p, "https", "/x"), "--cacert", ca, "--resolve", "good.test:127.0.0.1"});
    EXPECT_EQ(got.status, 0) << got.err;
    EXPECT_NE(got.out.find(R"("sni": "good.test")"), std::string::npos) << got.out;

    const auto sent = cli({"send", good_test(p, "wss", "/echo"), "hello", "--cacert", ca,
                           "--resolve", "good.test:127.0.0.1"});
    EXPECT_EQ(sent.status, 0) << sent.err;

    const auto untrusted =
        cli({"get", good_test(p, "https", "/x"), "--resolve", "good.test:127.0.0.1"});
    EXPECT_EQ(untrusted.status, 2);
    EXPECT_NE(untrusted.err.find("certificate rejected"), std::string::npos) << untrusted.err;

    const auto no_file = cli({"get", good_test(p, "https", "/x"), "--cacert", ca + ".missing",
                              "--resolve", "good.test:127.0.0.1"});
    EXPECT_EQ(no_file.status, 1);
    EXPECT_NE(no_file.err.find("CA file"), std::string::npos) << no_file.err;
}

TEST(client_cli, the_insecure_flag_connects_to_a_bad_certificate_and_warns) {
    auto p = tls_peer("expired");
    const auto got = cli({"get", good_test(p, "https", "/x"), "--resolve", "good.test:127.0.0.1",
                          "--insecure-skip-certificate-verification"});
    EXPECT_EQ(got.status, 0) << got.err;
    EXPECT_NE(got.err.find("warning: --insecure-skip-certificate-verification"), std::string::npos)
        << got.err;
}

TEST(client_cli, help_names_every_command_option_and_exit_status) {
    const auto r = cli({"--help"});
    EXPECT_EQ(r.status, 0);
    for (const char* word : {"get URL", "post URL JSON", "subscribe WS_URL", "send WS_URL",
                             "--count", "--skip", "--header", "--protocol", "--timeout", "--cacert",
                             "--capath", "--resolve", "--insecure-skip-certificate-verification",
                             "https://", "wss://", "exit status", "130", "examples"}) {
        EXPECT_NE(r.out.find(word), std::string::npos) << word;
    }
}

} // namespace
