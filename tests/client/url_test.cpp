// URLs and targets: what the client sends is what the server's router reads back.
#include "client_net.hpp"

#include <switchboard/client.hpp>
#include <switchboard/detail/route_table.hpp>
#include <switchboard/params.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;

sb::client_errc url_error(std::string_view url) {
    try {
        sb::parse_url(url);
    } catch (const sb::client_error& e) {
        return static_cast<sb::client_errc>(e.code().value());
    }
    ADD_FAILURE() << "parse_url accepted " << url;
    return {};
}

TEST(client_url, parse_url_splits_scheme_host_port_and_target) {
    auto u = sb::parse_url("http://127.0.0.1:8080/jobs/7?tag=a%20b");
    EXPECT_EQ(u.scheme, "http");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 8080);
    EXPECT_EQ(u.target, "/jobs/7?tag=a%20b");
    EXPECT_EQ(u.authority(), "127.0.0.1:8080");
    EXPECT_EQ(u.host_header(), "127.0.0.1:8080");
}

TEST(client_url, parse_url_defaults_port_and_target_by_scheme) {
    EXPECT_EQ(sb::parse_url("http://localhost").port, 80);
    EXPECT_EQ(sb::parse_url("ws://localhost").port, 80);
    EXPECT_EQ(sb::parse_url("https://localhost").port, 443);
    EXPECT_EQ(sb::parse_url("wss://localhost").port, 443);
    EXPECT_EQ(sb::parse_url("http://localhost").target, "/");
    EXPECT_EQ(sb::parse_url("http://localhost?x=1").target, "/?x=1");
    EXPECT_EQ(sb::parse_url("HTTP://localhost/").scheme, "http");
}

TEST(client_url, parse_url_drops_the_fragment_and_keeps_encoding) {
    auto u = sb::parse_url("ws://h:1/a%2Fb/c?q=%26#frag");
    EXPECT_EQ(u.target, "/a%2Fb/c?q=%26");
}

TEST(client_url, parse_url_unbrackets_ipv6_and_host_header_brackets_it) {
    auto u = sb::parse_url("http://[::1]:9000/x");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.authority(), "[::1]:9000");
    EXPECT_EQ(u.host_header(), "[::1]:9000");
    EXPECT_EQ(sb::parse_url("http://[::1]/").host_header(), "[::1]");
}

TEST(client_url, host_header_leaves_out_the_default_port) {
    EXPECT_EQ(sb::parse_url("http://example.test:80/").host_header(), "example.test");
    EXPECT_EQ(sb::parse_url("ws://example.test:8080/").host_header(), "example.test:8080");
}

TEST(client_url, parse_url_refuses_what_is_not_an_absolute_url_with_a_host) {
    EXPECT_EQ(url_error("127.0.0.1:8080/jobs"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("localhost:8080/jobs"), sb::client_errc::unsupported_scheme);
    EXPECT_EQ(url_error("/jobs/7"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("http//127.0.0.1/"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("http:///path"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("http://exa mple/"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error(""), sb::client_errc::bad_url);
}

TEST(client_url, parse_url_refuses_bad_ports_and_user_info) {
    EXPECT_EQ(url_error("http://h:0/"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("http://h:65536/"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("http://h:99999999999999999999/"), sb::client_errc::bad_url);
    EXPECT_EQ(url_error("http://user:secret@h/"), sb::client_errc::bad_url);
}

TEST(client_url, a_refused_url_with_a_password_is_shown_without_it) {
    try {
        sb::parse_url("http://user:secret@h:8080/x");
        ADD_FAILURE() << "user info was accepted";
    } catch (const sb::client_error& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.find("secret"), std::string::npos) << message;
        EXPECT_NE(message.find("h:8080/x"), std::string::npos) << message;
    }
}

TEST(client_url, parse_url_refuses_other_schemes_as_unsupported) {
    EXPECT_EQ(url_error("ftp://h/"), sb::client_errc::unsupported_scheme);
    EXPECT_EQ(url_error("file:///etc/passwd"), sb::client_errc::unsupported_scheme);
}

TEST(client_url, bad_url_message_quotes_the_url_with_control_characters_escaped) {
    try {
        sb::parse_url("http://h\n/");
        FAIL() << "accepted";
    } catch (const sb::client_error& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("\\x0a"), std::string::npos) << e.what();
    }
}

TEST(client_target, make_target_encodes_a_path_parameter_as_one_segment) {
    EXPECT_EQ(sb::make_target("/jobs/:jobid/subscribe", {{"jobid", 7}}), "/jobs/7/subscribe");
    EXPECT_EQ(sb::make_target("/files/:name", {{"name", "a b/c?d#e%f"}}),
              "/files/a%20b%2Fc%3Fd%23e%25f");
}

TEST(client_target, make_target_catch_all_keeps_its_slashes_as_separators) {
    EXPECT_EQ(sb::make_target("/static/*path", {{"path", "css/a b.css"}}), "/static/css/a%20b.css");
}

TEST(client_target, make_target_appends_query_parameters_encoded_and_in_order) {
    EXPECT_EQ(sb::make_target("/query", {}, {{"tag", "x&y"}, {"tag", "z=1"}, {"n", 3}}),
              "/query?tag=x%26y&tag=z%3D1&n=3");
    EXPECT_EQ(sb::make_target("/q", {}, {{"text", "a+b c"}}), "/q?text=a%2Bb%20c");
}

TEST(client_target, make_target_writes_numbers_and_booleans_as_the_server_reads_them) {
    EXPECT_EQ(sb::make_target("/:a/:b/:c/:d/:e", {{"a", -12},
                                                  {"b", std::uint64_t{18446744073709551615ULL}},
                                                  {"c", true},
                                                  {"d", 0.1},
                                                  {"e", std::int8_t{-3}}}),
              "/-12/18446744073709551615/true/0.1/-3");

    double back = 0;
    ASSERT_TRUE(sb::parse_param(sb::url_param("x", 0.1).value, back));
    EXPECT_EQ(back, 0.1);
}

TEST(client_target, make_target_refuses_missing_unknown_and_empty_parameters) {
    EXPECT_THROW(sb::make_target("/jobs/:jobid"), std::invalid_argument);
    EXPECT_THROW(sb::make_target("/jobs/:jobid", {{"jobid", 1}, {"jobId", 2}}),
                 std::invalid_argument);
    EXPECT_THROW(sb::make_target("/jobs/:jobid", {{"jobid", ""}}), std::invalid_argument);
    EXPECT_THROW(sb::make_target("/a/*rest/b", {{"rest", "x"}}), std::invalid_argument);
}

TEST(client_target, make_target_refuses_patterns_that_are_not_paths) {
    EXPECT_THROW(sb::make_target("jobs"), std::invalid_argument);
    EXPECT_THROW(sb::make_target("/jobs?x=1"), std::invalid_argument);
    EXPECT_THROW(sb::make_target("/jobs#top"), std::invalid_argument);
    EXPECT_THROW(sb::make_target("/jo bs"), std::invalid_argument);
}

// Whatever text a parameter holds, the server's router hands the handler exactly that text.
TEST(client_target, make_target_round_trips_through_the_servers_route_table) {
    sb::detail::route_table table;
    table.add("GET", "/jobs/:jobid/files/*path");
    const std::vector<std::string> values = {
        "plain",     "with space", "slash/inside", "%2F already encoded",
        "plus+sign", "q?mark",     "hash#tag",     "unicode \xc3\xa9\xe2\x82\xac",
        "dots..",    "~tilde_-."};
    for (const auto& v : values) {
        const auto target = sb::make_target("/jobs/:jobid/files/*path",
                                            {{"jobid", v}, {"path", "dir/" + v + "/end"}});
        const auto match = table.match("GET", target);
        ASSERT_EQ(match.status, sb::detail::match_status::found) << target;
        ASSERT_EQ(match.params.size(), 2U);
        EXPECT_EQ(match.params[0].value, v) << target;
        EXPECT_EQ(match.params[1].value, "dir/" + v + "/end") << target;
    }
}

TEST(client_target, query_values_round_trip_through_the_servers_query_parser) {
    const std::string tricky = "a&b=c+d %25 \xc3\xa9";
    const auto target = sb::make_target("/q", {}, {{"k", tricky}});
    const auto query = target.substr(target.find('?') + 1);
    const auto fields = sb::detail::parse_query(query);
    ASSERT_TRUE(fields.has_value());
    ASSERT_EQ(fields->size(), 1U);
    EXPECT_EQ(fields->at(0).first, "k");
    EXPECT_EQ(fields->at(0).second, tricky);
}

// What decides whether SNI is sent and which certificate check runs (shared case 36).
TEST(client_url, ip_literals_are_told_from_host_names_as_parse_url_gives_them) {
    using sb::detail::net::is_ip_literal;
    EXPECT_TRUE(is_ip_literal(sb::parse_url("https://127.0.0.1:8443/").host));
    EXPECT_TRUE(is_ip_literal(sb::parse_url("https://[::1]:8443/").host));
    EXPECT_TRUE(is_ip_literal(sb::parse_url("wss://[2001:db8::7]/").host));
    EXPECT_FALSE(is_ip_literal(sb::parse_url("https://good.test/").host));
    EXPECT_FALSE(is_ip_literal(sb::parse_url("https://localhost/").host));
    EXPECT_FALSE(is_ip_literal("1.2.3")) << "not an address, so a name as far as TLS goes";
    EXPECT_TRUE(sb::detail::net::uses_tls("https"));
    EXPECT_TRUE(sb::detail::net::uses_tls("wss"));
    EXPECT_FALSE(sb::detail::net::uses_tls("http"));
    EXPECT_FALSE(sb::detail::net::uses_tls("ws"));
}

} // namespace
