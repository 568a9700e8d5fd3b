#include <switchboard/detail/route_table.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::string_literals;

namespace switchboard::detail {

// Readable failure output: without these GoogleTest prints enums as numbers and structs as
// raw bytes.
void PrintTo(match_status status, std::ostream* os) {
    switch (status) {
    case match_status::found:
        *os << "found";
        return;
    case match_status::not_found:
        *os << "not_found";
        return;
    case match_status::method_not_allowed:
        *os << "method_not_allowed";
        return;
    case match_status::bad_request:
        *os << "bad_request";
        return;
    }
    *os << "match_status(" << static_cast<int>(status) << ")";
}

void PrintTo(const path_param& param, std::ostream* os) {
    *os << "{" << testing::PrintToString(param.name) << ", " << testing::PrintToString(param.value)
        << "}";
}

} // namespace switchboard::detail

namespace {

using switchboard::detail::match_status;
using switchboard::detail::parse_query;
using switchboard::detail::path_param;
using switchboard::detail::percent_decode;
using switchboard::detail::percent_encode;
using switchboard::detail::route_match;
using switchboard::detail::route_table;

struct route_spec {
    std::string method;
    std::string pattern;
};

// One request and everything match() must say about it. Fields left out default to what a
// not_found answer carries, so a row asserts the whole result, not just the status.
struct route_case {
    std::string method;
    std::string path;
    match_status status;
    std::size_t route = 0;
    std::vector<path_param> params = {};
    std::string allow = {};
};

route_table make_table(const std::vector<route_spec>& specs) {
    route_table table;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        // The cases name routes by index, so the indices must be the registration order.
        EXPECT_EQ(table.add(specs[i].method, specs[i].pattern), i);
    }
    return table;
}

void expect_matches(const route_table& table, const std::vector<route_case>& cases) {
    for (const route_case& c : cases) {
        SCOPED_TRACE(c.method + " " + testing::PrintToString(c.path));
        const route_match m = table.match(c.method, c.path);
        EXPECT_EQ(m.status, c.status);
        EXPECT_EQ(m.route, c.route);
        EXPECT_EQ(m.params, c.params);
        EXPECT_EQ(m.allow, c.allow);
        EXPECT_EQ(m.error, "");
    }
}

constexpr auto found = match_status::found;
constexpr auto not_found = match_status::not_found;
constexpr auto not_allowed = match_status::method_not_allowed;
constexpr auto bad_request = match_status::bad_request;

TEST(route_table, literal_beats_parameter_when_registered_later) {
    const auto table = make_table({{"GET", "/jobs/:jobid"}, {"GET", "/jobs/overview"}});
    expect_matches(table,
                   {
                       {"GET", "/jobs/overview", found, 1, {}, "GET, HEAD"},
                       {"GET", "/jobs/42", found, 0, {{"jobid", "42"}}, "GET, HEAD"},
                       {"GET", "/jobs/OVERVIEW", found, 0, {{"jobid", "OVERVIEW"}}, "GET, HEAD"},
                       {"GET", "/jobs/overview2", found, 0, {{"jobid", "overview2"}}, "GET, HEAD"},
                       {"GET", "/jobs/overvie", found, 0, {{"jobid", "overvie"}}, "GET, HEAD"},
                   });
}

TEST(route_table, literal_beats_parameter_when_registered_first) {
    const auto table = make_table({{"GET", "/jobs/overview"}, {"GET", "/jobs/:jobid"}});
    expect_matches(table, {
                              {"GET", "/jobs/overview", found, 0, {}, "GET, HEAD"},
                              {"GET", "/jobs/42", found, 1, {{"jobid", "42"}}, "GET, HEAD"},
                          });
}

TEST(route_table, literal_segment_compared_after_decoding_request_segment) {
    const auto table = make_table({{"GET", "/jobs/:jobid"}, {"GET", "/jobs/overview"}});
    expect_matches(
        table, {
                   {"GET", "/jobs/over%76iew", found, 1, {}, "GET, HEAD"},
                   {"GET", "/jobs/%6F%76%65%72%76%69%65%77", found, 1, {}, "GET, HEAD"},
                   // A decoded '/' can never equal a literal, so the parameter takes it.
                   {"GET", "/jobs/overview%2F", found, 0, {{"jobid", "overview/"}}, "GET, HEAD"},
                   {"GET", "/jobs/over%2576iew", found, 0, {{"jobid", "over%76iew"}}, "GET, HEAD"},
               });
}

TEST(route_table, backtracks_to_parameter_when_literal_branch_dead_ends) {
    const auto table = make_table({
        {"GET", "/a/:x/c"},
        {"GET", "/a/b/d"},
        {"GET", "/a/:x/:y/z"},
        {"GET", "/a/b/c/w"},
    });
    expect_matches(table, {
                              {"GET", "/a/b/c", found, 0, {{"x", "b"}}, "GET, HEAD"},
                              {"GET", "/a/b/d", found, 1, {}, "GET, HEAD"},
                              {"GET", "/a/q/c", found, 0, {{"x", "q"}}, "GET, HEAD"},
                              {"GET", "/a/b/e", not_found},
                              {"GET", "/a/b/c/z", found, 2, {{"x", "b"}, {"y", "c"}}, "GET, HEAD"},
                              {"GET", "/a/b/c/w", found, 3, {}, "GET, HEAD"},
                              {"GET", "/a/b/c/v", not_found},
                          });
}

TEST(route_table, leftmost_difference_decides_specificity) {
    const auto table = make_table({
        {"GET", "/s/*rest"},
        {"GET", "/s/:a/:b"},
        {"GET", "/s/:a/lit"},
        {"GET", "/s/x/*rest"},
    });
    expect_matches(table, {
                              // Literal "x" in the second segment outranks everything to its right.
                              {"GET", "/s/x/lit", found, 3, {{"rest", "lit"}}, "GET, HEAD"},
                              {"GET", "/s/y/lit", found, 2, {{"a", "y"}}, "GET, HEAD"},
                              {"GET", "/s/y/z", found, 1, {{"a", "y"}, {"b", "z"}}, "GET, HEAD"},
                              {"GET", "/s/x/a/b", found, 3, {{"rest", "a/b"}}, "GET, HEAD"},
                              {"GET", "/s/y/z/w", found, 0, {{"rest", "y/z/w"}}, "GET, HEAD"},
                              {"GET", "/s/y", found, 0, {{"rest", "y"}}, "GET, HEAD"},
                              {"GET", "/s/x", found, 0, {{"rest", "x"}}, "GET, HEAD"},
                              {"GET", "/s/", not_found},
                              {"GET", "/s", not_found},
                          });
}

TEST(route_table, catch_all_decodes_each_segment_and_joins_with_slash) {
    const auto table = make_table({{"GET", "/static/*path"}, {"GET", "/*all"}});
    expect_matches(
        table,
        {
            {"GET", "/static/css/site.css", found, 0, {{"path", "css/site.css"}}, "GET, HEAD"},
            {"GET", "/static/a%2Fb/c", found, 0, {{"path", "a/b/c"}}, "GET, HEAD"},
            {"GET", "/static/%252f/x", found, 0, {{"path", "%2f/x"}}, "GET, HEAD"},
            {"GET", "/static/caf%C3%A9", found, 0, {{"path", "caf\xC3\xA9"}}, "GET, HEAD"},
            // The catch-all never takes an empty segment, wherever it is.
            {"GET", "/static/a/", not_found},
            {"GET", "/static//a", not_found},
            {"GET", "/static/a//b", not_found},
            {"GET", "/static/", not_found},
            {"GET", "/", not_found},
            {"GET", "/static", found, 1, {{"all", "static"}}, "GET, HEAD"},
        });
}

TEST(route_table, encoded_slash_never_splits_a_segment) {
    const auto table = make_table({
        {"GET", "/api/files/:name"},
        {"GET", "/api/files/:name/meta"},
        {"GET", "/api/files/a/b"},
    });
    expect_matches(table,
                   {
                       {"GET", "/api/files/a%2fb", found, 0, {{"name", "a/b"}}, "GET, HEAD"},
                       {"GET", "/api/files/a%2Fb", found, 0, {{"name", "a/b"}}, "GET, HEAD"},
                       {"GET", "/api/files/a/b", found, 2, {}, "GET, HEAD"},
                       {"GET", "/api/files/x%2Fmeta", found, 0, {{"name", "x/meta"}}, "GET, HEAD"},
                       {"GET", "/api/files/x/meta", found, 1, {{"name", "x"}}, "GET, HEAD"},
                   });
}

TEST(route_table, parameter_decoded_exactly_once) {
    const auto table = make_table({{"GET", "/k/:key"}});
    expect_matches(table,
                   {
                       {"GET", "/k/%2525", found, 0, {{"key", "%25"}}, "GET, HEAD"},
                       {"GET", "/k/%252f", found, 0, {{"key", "%2f"}}, "GET, HEAD"},
                       {"GET", "/k/a+b", found, 0, {{"key", "a+b"}}, "GET, HEAD"},
                       {"GET", "/k/%20", found, 0, {{"key", " "}}, "GET, HEAD"},
                       {"GET", "/k/caf\xC3\xA9", found, 0, {{"key", "caf\xC3\xA9"}}, "GET, HEAD"},
                   });
}

// case-24 (CVE-2020-17519): whatever the encoding, a traversal attempt stays inside the one
// segment it was sent in, is decoded once, and never selects another route.
TEST(route_table, case_24_traversal_inputs_stay_in_their_segment) {
    const auto table = make_table({
        {"GET", "/api/files/:name"},
        {"GET", "/api/tree/*path"},
        {"GET", "/etc/passwd"},
    });
    expect_matches(
        table, {
                   {"GET",
                    "/api/files/..%252f..%252f..%252fetc%252fpasswd",
                    found,
                    0,
                    {{"name", "..%2f..%2f..%2fetc%2fpasswd"}},
                    "GET, HEAD"},
                   {"GET",
                    "/api/files/..%2f..%2fetc%2fpasswd",
                    found,
                    0,
                    {{"name", "../../etc/passwd"}},
                    "GET, HEAD"},
                   {"GET",
                    "/api/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                    found,
                    0,
                    {{"name", "../../etc/passwd"}},
                    "GET, HEAD"},
                   {"GET",
                    "/api/files/..%5c..%5cetc%5cpasswd",
                    found,
                    0,
                    {{"name", "..\\..\\etc\\passwd"}},
                    "GET, HEAD"},
                   {"GET", "/api/files/a%2fb", found, 0, {{"name", "a/b"}}, "GET, HEAD"},
                   {"GET", "/api/files/../../etc/passwd", not_found},
                   {"GET", "/api/files/%2e%2e/%2e%2e/etc/passwd", not_found},
                   {"GET", "/api/files//etc/passwd", not_found},
                   {"GET", "/api/files/", not_found},
                   {"GET",
                    "/api/tree/../../etc/passwd",
                    found,
                    1,
                    {{"path", "../../etc/passwd"}},
                    "GET, HEAD"},
                   {"GET", "/api/tree//etc/passwd", not_found},
                   {"GET", "/api/tree/a/..%252f/b", found, 1, {{"path", "a/..%2f/b"}}, "GET, HEAD"},
                   {"GET", "/etc/passwd", found, 2, {}, "GET, HEAD"},
               });
}

TEST(route_table, dot_segments_match_literally_and_never_climb) {
    const auto table = make_table({
        {"GET", "/files/:x"},
        {"GET", "/secret"},
        {"GET", "/files/:x/:y"},
    });
    expect_matches(
        table,
        {
            {"GET", "/files/..", found, 0, {{"x", ".."}}, "GET, HEAD"},
            {"GET", "/files/.", found, 0, {{"x", "."}}, "GET, HEAD"},
            {"GET", "/files/%2e%2e", found, 0, {{"x", ".."}}, "GET, HEAD"},
            {"GET", "/files/../secret", found, 2, {{"x", ".."}, {"y", "secret"}}, "GET, HEAD"},
            {"GET", "/files/./a", found, 2, {{"x", "."}, {"y", "a"}}, "GET, HEAD"},
            {"GET", "/files/..%2fsecret", found, 0, {{"x", "../secret"}}, "GET, HEAD"},
            {"GET", "/../secret", not_found},
            {"GET", "/./secret", not_found},
        });
}

TEST(route_table, empty_segments_are_significant) {
    const auto table = make_table({
        {"GET", "/jobs"},
        {"GET", "/jobs/"},
        {"GET", "/:name"},
        {"GET", "/"},
        {"GET", "/x/:a/y"},
    });
    expect_matches(table, {
                              {"GET", "/jobs", found, 0, {}, "GET, HEAD"},
                              {"GET", "/jobs/", found, 1, {}, "GET, HEAD"},
                              {"GET", "/etc", found, 2, {{"name", "etc"}}, "GET, HEAD"},
                              {"GET", "/", found, 3, {}, "GET, HEAD"},
                              {"GET", "/x/a/y", found, 4, {{"a", "a"}}, "GET, HEAD"},
                              {"GET", "//etc", not_found},
                              {"GET", "//", not_found},
                              {"GET", "/jobs//", not_found},
                              {"GET", "/etc/", not_found},
                              {"GET", "/x//y", not_found},
                          });
}

TEST(route_table, most_specific_pattern_having_the_method_wins) {
    const auto table = make_table({
        {"GET", "/m/:id"},
        {"DELETE", "/m/:id"},
        {"POST", "/m/special"},
        {"GET", "/m/*rest"},
    });
    const std::string all = "DELETE, GET, HEAD, POST";
    expect_matches(table, {
                              {"GET", "/m/special", found, 0, {{"id", "special"}}, all},
                              {"POST", "/m/special", found, 2, {}, all},
                              {"DELETE", "/m/special", found, 1, {{"id", "special"}}, all},
                              {"PUT", "/m/special", not_allowed, 0, {}, all},
                              {"POST", "/m/other", not_allowed, 0, {}, "DELETE, GET, HEAD"},
                              {"DELETE", "/m/a/b", not_allowed, 0, {}, "GET, HEAD"},
                              {"GET", "/m/a/b", found, 3, {{"rest", "a/b"}}, "GET, HEAD"},
                          });
}

TEST(route_table, head_falls_back_to_get_of_the_same_pattern) {
    const auto table = make_table({
        {"GET", "/g"},
        {"HEAD", "/h/:id"},
        {"GET", "/h/:id"},
        {"GET", "/k/lit"},
        {"HEAD", "/k/:p"},
        {"HEAD", "/only"},
        {"POST", "/p"},
    });
    expect_matches(table,
                   {
                       {"HEAD", "/g", found, 0, {}, "GET, HEAD"},
                       {"HEAD", "/h/1", found, 1, {{"id", "1"}}, "GET, HEAD"},
                       {"GET", "/h/1", found, 2, {{"id", "1"}}, "GET, HEAD"},
                       // The more specific pattern's GET outranks a less specific explicit HEAD.
                       {"HEAD", "/k/lit", found, 3, {}, "GET, HEAD"},
                       {"HEAD", "/k/x", found, 4, {{"p", "x"}}, "HEAD"},
                       {"GET", "/k/x", not_allowed, 0, {}, "HEAD"},
                       {"GET", "/only", not_allowed, 0, {}, "HEAD"},
                       {"HEAD", "/p", not_allowed, 0, {}, "POST"},
                   });
}

TEST(route_table, method_not_allowed_lists_sorted_union_with_head) {
    const auto table = make_table({
        {"PUT", "/r/:id"},
        {"GET", "/r/:id"},
        {"PATCH", "/r/x"},
        {"DELETE", "/r/*rest"},
        {"VERSION-CONTROL", "/r/:id"},
        {"POST", "/other"},
    });
    expect_matches(
        table,
        {
            {"POST", "/r/x", not_allowed, 0, {}, "DELETE, GET, HEAD, PATCH, PUT, VERSION-CONTROL"},
            {"POST", "/r/y", not_allowed, 0, {}, "DELETE, GET, HEAD, PUT, VERSION-CONTROL"},
            {"POST", "/r/y/z", not_allowed, 0, {}, "DELETE"},
            // Methods are case-sensitive tokens (RFC 9110).
            {"get", "/r/y", not_allowed, 0, {}, "DELETE, GET, HEAD, PUT, VERSION-CONTROL"},
            {"", "/r/y", not_allowed, 0, {}, "DELETE, GET, HEAD, PUT, VERSION-CONTROL"},
            {"GET",
             "/r/x",
             found,
             1,
             {{"id", "x"}},
             "DELETE, GET, HEAD, PATCH, PUT, VERSION-CONTROL"},
            {"GET", "/nope", not_found},
            {"POST", "/r", not_found},
        });
}

TEST(route_table, bad_request_for_malformed_or_unsafe_paths_whatever_the_routes) {
    const auto table = make_table({{"GET", "/:a"}, {"GET", "/*rest"}});
    struct bad_case {
        std::string path;
        std::string error;
    };
    const std::vector<bad_case> cases = {
        {"", "path must start with '/'"},
        {"jobs", "path must start with '/'"},
        {"*", "path must start with '/'"},
        {"%2Fjobs", "path must start with '/'"},
        {"/%", "bad percent-encoding in path"},
        {"/%4", "bad percent-encoding in path"},
        {"/%zz", "bad percent-encoding in path"},
        {"/%4g", "bad percent-encoding in path"},
        {"/a%", "bad percent-encoding in path"},
        {"/a/b/c/d/e/%", "bad percent-encoding in path"},
        {"/ok/%%41", "bad percent-encoding in path"},
        {"/a%00b", "NUL byte in path"},
        {"/a\0b"s, "invalid character in path"},
        {"/a b", "invalid character in path"},
        {"/a\tb", "invalid character in path"},
        {"/a\r\nb", "invalid character in path"},
        {"/a\x7F", "invalid character in path"},
        {"/%FF", "invalid UTF-8 in path"},
        {"/\xFF", "invalid UTF-8 in path"},
        {"/%C0%AF", "invalid UTF-8 in path"},       // overlong '/'
        {"/..%c0%af..", "invalid UTF-8 in path"},   // overlong '/'
        {"/%E0%80%AF", "invalid UTF-8 in path"},    // overlong '/'
        {"/%ED%A0%80", "invalid UTF-8 in path"},    // surrogate
        {"/%F4%90%80%80", "invalid UTF-8 in path"}, // above U+10FFFF
        {"/%C3", "invalid UTF-8 in path"},          // truncated
        {"/%C3/%A9", "invalid UTF-8 in path"},      // split by a segment boundary
        {"/\xC3%2F\xA9", "invalid UTF-8 in path"},  // split by a decoded '/'
    };
    for (const bad_case& c : cases) {
        SCOPED_TRACE(testing::PrintToString(c.path));
        for (const char* method : {"GET", "POST"}) {
            const route_match m = table.match(method, c.path);
            EXPECT_EQ(m.status, bad_request);
            EXPECT_EQ(m.error, c.error);
            EXPECT_EQ(m.route, 0U);
            EXPECT_EQ(m.params, std::vector<path_param>{});
            EXPECT_EQ(m.allow, "");
        }
    }

    // The same checks apply to an empty table: the answer must not depend on the routes.
    EXPECT_EQ(route_table{}.match("GET", "/%").status, bad_request);
    EXPECT_EQ(route_table{}.match("GET", "/ok").status, not_found);
}

TEST(route_table, valid_utf8_is_accepted_raw_or_encoded) {
    const auto table = make_table({{"GET", "/:a"}});
    expect_matches(table,
                   {
                       {"GET", "/%C3%A9", found, 0, {{"a", "\xC3\xA9"}}, "GET, HEAD"},
                       {"GET", "/\xE2\x82\xAC", found, 0, {{"a", "\xE2\x82\xAC"}}, "GET, HEAD"},
                       {"GET", "/%F0%9F%98%80", found, 0, {{"a", "\xF0\x9F\x98\x80"}}, "GET, HEAD"},
                       {"GET", "/%F4%8F%BF%BF", found, 0, {{"a", "\xF4\x8F\xBF\xBF"}}, "GET, HEAD"},
                       {"GET", "/%EF%BF%BD", found, 0, {{"a", "\xEF\xBF\xBD"}}, "GET, HEAD"},
                       // Other control characters are the handler's business, not routing's.
                       {"GET", "/%0A", found, 0, {{"a", "\n"}}, "GET, HEAD"},
                   });
}

TEST(route_table, add_returns_registration_index) {
    route_table table;
    EXPECT_EQ(table.add("GET", "/a"), 0U);
    EXPECT_EQ(table.add("POST", "/a"), 1U);
    EXPECT_EQ(table.add("GET", "/a/:x"), 2U);
    EXPECT_EQ(table.add("GET", "/"), 3U);
    EXPECT_EQ(table.match("POST", "/a").route, 1U);
}

TEST(route_table, add_rejects_malformed_pattern_with_reason) {
    struct bad_pattern {
        std::string pattern;
        std::string message;
    };
    const std::string empty_inside = "it has an empty segment before its end";
    const std::string bad_name = "a parameter name must match [A-Za-z_][A-Za-z0-9_]*";
    const std::string bad_char =
        "a literal segment may hold only RFC 3986 path characters other than '%'";
    const std::string dots = "'.' and '..' cannot be literal segments";
    const std::vector<bad_pattern> cases = {
        {"", "it must start with '/'"},
        {"jobs", "it must start with '/'"},
        {":id", "it must start with '/'"},
        {"//", empty_inside},
        {"/jobs//x", empty_inside},
        {"/:", bad_name},
        {"/*", bad_name},
        {"/:1abc", bad_name},
        {"/:a-b", bad_name},
        {"/:a:b", bad_name},
        {"/x/:", bad_name},
        {"/*rest/x", "a catch-all must be the last segment"},
        {"/*rest/", "a catch-all must be the last segment"},
        {"/a/./b", dots},
        {"/..", dots},
        {"/a%20b", bad_char},
        {"/over%76iew", bad_char},
        {"/a b", bad_char},
        {"/a?b", bad_char},
        {"/a#b", bad_char},
        {"/caf\xC3\xA9", bad_char},
        {"/:a/:a", "a parameter name is used twice"},
        {"/:a/x/*a", "a parameter name is used twice"},
    };
    for (const bad_pattern& c : cases) {
        SCOPED_TRACE(testing::PrintToString(c.pattern));
        route_table table;
        try {
            table.add("GET", c.pattern);
            ADD_FAILURE() << "no exception";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(e.what(), "invalid route pattern \"" + c.pattern + "\": " + c.message);
        }
    }
}

TEST(route_table, add_accepts_every_documented_pattern_form) {
    const auto table = make_table({
        {"GET", "/"},
        {"GET", "/jobs/"},
        {"GET", "/a:b/@c/x*y/!$&'()+,;=~"},
        {"GET", "/*rest"},
        {"GET", "/x/:_a1/*B_2"},
        {"GET", "/x/..a/.b"},
    });
    expect_matches(table,
                   {
                       {"GET", "/a:b/@c/x*y/!$&'()+,;=~", found, 2, {}, "GET, HEAD"},
                       {"GET",
                        "/a%3Ab/%40c/x%2Ay/%21%24%26%27%28%29%2B%2C%3B%3D%7E",
                        found,
                        2,
                        {},
                        "GET, HEAD"},
                       {"GET", "/x/1/2/3", found, 4, {{"_a1", "1"}, {"B_2", "2/3"}}, "GET, HEAD"},
                       {"GET", "/x/..a/.b", found, 5, {}, "GET, HEAD"},
                   });
}

TEST(route_table, add_rejects_malformed_method) {
    for (const std::string& method :
         {""s, "get"s, "Get"s, "G ET"s, "-GET"s, "_GET"s, "GET\r\n"s, "G1"s, "*"s}) {
        SCOPED_TRACE(testing::PrintToString(method));
        route_table table;
        try {
            table.add(method, "/a");
            ADD_FAILURE() << "no exception";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(e.what(), "invalid route method \"" + method +
                                    "\": it must be an upper-case token such as \"GET\"");
        }
    }
}

TEST(route_table, add_rejects_duplicate_even_when_parameter_names_differ) {
    route_table table;
    table.add("GET", "/jobs/:id");
    table.add("POST", "/jobs/:jobid");
    table.add("GET", "/files/*path");
    table.add("GET", "/jobs/:id/*rest");

    struct duplicate {
        std::string method;
        std::string pattern;
        std::size_t first;
    };
    for (const duplicate& d : std::vector<duplicate>{
             {"GET", "/jobs/:id", 0},
             {"GET", "/jobs/:jobid", 0},
             {"POST", "/jobs/:x", 1},
             {"GET", "/files/*other", 2},
             {"GET", "/jobs/:a/*b", 3},
         }) {
        SCOPED_TRACE(d.method + " " + d.pattern);
        try {
            table.add(d.method, d.pattern);
            ADD_FAILURE() << "no exception";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(e.what(), "route \"" + d.method + " " + d.pattern + "\" repeats route " +
                                    std::to_string(d.first) +
                                    " (patterns differing only in parameter names are the same)");
        }
    }

    // Same shape with another kind of segment is a different pattern.
    EXPECT_EQ(table.add("GET", "/jobs/*id"), 4U);
    EXPECT_EQ(table.add("GET", "/files/:name"), 5U);
    EXPECT_EQ(table.add("HEAD", "/jobs/:x"), 6U);
}

TEST(route_table, failed_add_leaves_table_unchanged) {
    route_table table;
    table.add("GET", "/a/:x");
    EXPECT_THROW(table.add("GET", "/a/:y"), std::invalid_argument);
    EXPECT_THROW(table.add("PATCH", "/a/:x/:x"), std::invalid_argument);
    EXPECT_THROW(table.add("PATCH", "/b//c"), std::invalid_argument);
    EXPECT_THROW(table.add("patch", "/b"), std::invalid_argument);

    // Neither the rejected method nor the rejected pattern left anything behind.
    expect_matches(table, {
                              {"GET", "/a/1", found, 0, {{"x", "1"}}, "GET, HEAD"},
                              {"PATCH", "/a/1", not_allowed, 0, {}, "GET, HEAD"},
                              {"GET", "/b", not_found},
                              {"GET", "/b/", not_found},
                          });
    EXPECT_EQ(table.add("PATCH", "/a/:z"), 1U);
}

TEST(route_table, add_rejects_a_65th_method) {
    route_table table;
    table.add("GET", "/"); // brings HEAD along: two methods
    for (char a = 'A'; a <= 'Z'; ++a) {
        for (char b = 'A'; b <= 'Z'; ++b) {
            if ((a - 'A') * 26 + (b - 'A') >= 62) {
                break;
            }
            table.add(std::string{'X', a, b}, "/");
        }
    }
    EXPECT_THROW(table.add("ONE-MORE", "/"), std::invalid_argument);
    EXPECT_EQ(table.add("XAA", "/x"), 63U);
    EXPECT_EQ(table.match("XCJ", "/").route, 62U);
    EXPECT_EQ(table.match("ONE-MORE", "/").status, not_allowed);
}

TEST(route_table, long_path_is_matched_in_one_pass) {
    // 100 routes and a path of about a megabyte: a matcher that rescans the path per route or
    // per segment would make this test crawl.
    route_table table;
    for (int i = 0; i < 96; ++i) {
        table.add("GET", "/r" + std::to_string(i) + "/:a/:b");
    }
    table.add("GET", "/r7/*rest");
    table.add("GET", "/r7/x/*rest");
    table.add("POST", "/*all");
    table.add("GET", "/r7/:a/:b/:c");

    std::string path = "/r7/x";
    std::string expected;
    for (int i = 0; i < 200000; ++i) {
        path += "/ab%2F";
        expected += i == 0 ? "ab/" : "/ab/";
    }

    const route_match m = table.match("GET", path);
    EXPECT_EQ(m.status, found);
    EXPECT_EQ(m.route, 97U);
    ASSERT_EQ(m.params.size(), 1U);
    EXPECT_EQ(m.params[0].name, "rest");
    EXPECT_EQ(m.params[0].value, expected);
    EXPECT_EQ(m.allow, "GET, HEAD, POST");

    path += "/";
    EXPECT_EQ(table.match("GET", path).status, not_found);
    path += "%";
    EXPECT_EQ(table.match("GET", path).status, bad_request);
}

// A second, deliberately naive matcher (split, decode, rank every route, sort) that the trie
// must agree with on every input. It shares nothing with the implementation but
// percent_decode.
class reference_router {
public:
    explicit reference_router(std::vector<route_spec> routes)
        : routes_(std::move(routes)) {}

    route_match match(const std::string& method, const std::string& path) const {
        const std::vector<std::string> raw = split(path.substr(1));

        struct candidate {
            std::vector<int> rank; // per segment: 2 literal, 1 parameter, 0 catch-all
            std::size_t route;
            std::vector<path_param> params;
        };
        std::vector<candidate> matching;
        std::set<std::string> allow;
        for (std::size_t i = 0; i < routes_.size(); ++i) {
            candidate c{{}, i, {}};
            if (try_match(split(routes_[i].pattern.substr(1)), raw, c.rank, c.params)) {
                allow.insert(routes_[i].method);
                matching.push_back(std::move(c));
            }
        }

        route_match result;
        if (matching.empty()) {
            return result;
        }
        if (allow.count("GET") != 0) {
            allow.insert("HEAD");
        }
        for (const std::string& m : allow) {
            result.allow += (result.allow.empty() ? "" : ", ") + m;
        }

        std::stable_sort(matching.begin(), matching.end(),
                         [](const candidate& a, const candidate& b) { return a.rank > b.rank; });
        result.status = match_status::method_not_allowed;
        for (std::size_t i = 0; i < matching.size(); ++i) {
            // Routes of equal rank that match the same path are one pattern.
            std::map<std::string, std::size_t> by_method;
            std::size_t j = i;
            for (; j < matching.size() && matching[j].rank == matching[i].rank; ++j) {
                by_method[routes_[matching[j].route].method] = j;
            }
            auto chosen = by_method.find(method);
            if (chosen == by_method.end() && method == "HEAD") {
                chosen = by_method.find("GET");
            }
            if (chosen != by_method.end()) {
                result.status = match_status::found;
                result.route = matching[chosen->second].route;
                result.params = matching[chosen->second].params;
                return result;
            }
            i = j - 1;
        }
        return result;
    }

private:
    static std::vector<std::string> split(const std::string& text) {
        std::vector<std::string> parts(1);
        for (const char c : text) {
            if (c == '/') {
                parts.emplace_back();
            } else {
                parts.back() += c;
            }
        }
        return parts;
    }

    static bool try_match(const std::vector<std::string>& pattern,
                          const std::vector<std::string>& raw, std::vector<int>& rank,
                          std::vector<path_param>& params) {
        for (std::size_t i = 0; i < pattern.size(); ++i) {
            const std::string& p = pattern[i];
            if (!p.empty() && p[0] == '*') {
                std::string joined;
                if (i == raw.size()) {
                    return false;
                }
                for (std::size_t k = i; k < raw.size(); ++k) {
                    if (raw[k].empty()) {
                        return false;
                    }
                    joined += (k == i ? "" : "/") + *percent_decode(raw[k]);
                }
                rank.push_back(0);
                params.push_back({p.substr(1), joined});
                return true;
            }
            if (i == raw.size()) {
                return false;
            }
            if (!p.empty() && p[0] == ':') {
                if (raw[i].empty()) {
                    return false;
                }
                rank.push_back(1);
                params.push_back({p.substr(1), *percent_decode(raw[i])});
            } else {
                if (percent_decode(raw[i]) != p) {
                    return false;
                }
                rank.push_back(2);
            }
        }
        return pattern.size() == raw.size();
    }

    std::vector<route_spec> routes_;
};

TEST(route_table, agrees_with_reference_router_on_generated_paths) {
    const std::vector<route_spec> specs = {
        {"GET", "/"},
        {"GET", "/a"},
        {"POST", "/a/"},
        {"GET", "/a/:x"},
        {"PUT", "/a/:x"},
        {"GET", "/a/b"},
        {"HEAD", "/a/b"},
        {"DELETE", "/a/b/c"},
        {"GET", "/a/:x/c"},
        {"GET", "/a/b/:y"},
        {"POST", "/a/:x/:y"},
        {"GET", "/a/*rest"},
        {"PATCH", "/a/b/*rest"},
        {"GET", "/:p/b"},
        {"HEAD", "/:p/:q"},
        {"GET", "/b/..%"},
        {"GET", "/.b/c"},
        {"OPTIONS", "/*all"},
        {"GET", "/c/:x/:y/:z/*w"},
        {"GET", "/c/b/b/b/b"},
    };
    // "..%" is not a valid literal; the table refuses it, so the reference must not see it.
    std::vector<route_spec> accepted;
    route_table table;
    for (const route_spec& s : specs) {
        try {
            EXPECT_EQ(table.add(s.method, s.pattern), accepted.size());
            accepted.push_back(s);
        } catch (const std::invalid_argument&) {
            EXPECT_EQ(s.pattern, "/b/..%");
        }
    }
    const reference_router reference(accepted);

    // Pieces chosen to hit literals, their encoded forms, dots, empty segments and '%2F'.
    const std::vector<std::string> pieces = {
        "a",   "b", "c", "%61", "%62", ".",      "..",   ".b",    "%2E", "%2F",
        "%2f", "",  "x", "%25", "+",   "%C3%A9", "b%2F", "a%2Fb", "ab",
    };
    const std::vector<std::string> methods = {"GET",    "HEAD",  "POST",    "PUT",
                                              "DELETE", "PATCH", "OPTIONS", "TRACE"};

    std::mt19937 rng(12345); // fixed seed: a failure must be reproducible
    const auto random_segment = [&] {
        // Mostly one piece, sometimes two, sometimes none (an empty segment).
        std::string segment;
        const std::size_t parts = rng() % 8 == 0 ? 0 : 1 + (rng() % 4 == 0 ? 1 : 0);
        for (std::size_t p = 0; p < parts; ++p) {
            segment += pieces[rng() % pieces.size()];
        }
        return segment;
    };

    // Purely random paths rarely reach the deeper routes, so most paths start from a registered
    // pattern: literals kept or escaped, parameters and catch-alls filled at random.
    const auto path_from_pattern = [&](const std::string& pattern) {
        std::string path;
        std::size_t begin = 1;
        while (begin != std::string::npos) {
            const std::size_t slash = pattern.find('/', begin);
            const std::string segment = pattern.substr(begin, slash - begin);
            begin = slash == std::string::npos ? slash : slash + 1;
            if (!segment.empty() && segment[0] == ':') {
                path += '/' + random_segment();
            } else if (!segment.empty() && segment[0] == '*') {
                for (std::size_t k = 0, n = 1 + rng() % 3; k < n; ++k) {
                    path += '/' + random_segment();
                }
            } else {
                path += '/' + (rng() % 4 == 0 ? percent_encode(segment) : segment);
            }
        }
        if (rng() % 5 == 0) {
            path += '/' + random_segment();
        }
        return path;
    };

    std::map<match_status, std::size_t> statuses;
    std::set<std::size_t> routes_found;
    for (int n = 0; n < 10000; ++n) {
        std::string path;
        if (rng() % 4 != 0) {
            path = path_from_pattern(accepted[rng() % accepted.size()].pattern);
        } else {
            for (std::size_t s = 0, count = 1 + rng() % 5; s < count; ++s) {
                path += '/' + random_segment();
            }
        }
        const std::string& method = methods[rng() % methods.size()];

        SCOPED_TRACE(method + " " + path);
        const route_match got = table.match(method, path);
        const route_match want = reference.match(method, path);
        ASSERT_EQ(got.status, want.status);
        ASSERT_EQ(got.route, want.route);
        ASSERT_EQ(got.params, want.params);
        ASSERT_EQ(got.allow, want.allow);
        ++statuses[got.status];
        if (got.status == found) {
            routes_found.insert(got.route);
        }
    }

    // Guard against a generator that drifts into producing only one kind of answer.
    EXPECT_GT(statuses[found], 1000U);
    EXPECT_GT(statuses[not_allowed], 1000U);
    EXPECT_GT(statuses[not_found], 1000U);
    EXPECT_EQ(routes_found.size(), accepted.size());
}

TEST(route_table, survives_arbitrary_bytes) {
    route_table table;
    table.add("GET", "/");
    table.add("GET", "/:a");
    table.add("GET", "/a/*rest");
    table.add("POST", "/:a/:b/c");

    const std::vector<std::string> errors = {"path must start with '/'",
                                             "bad percent-encoding in path", "NUL byte in path",
                                             "invalid character in path", "invalid UTF-8 in path"};
    const std::string alphabet = "/%/a.2F0\xC3\xA9\xFF\x80\x00 "s;

    std::mt19937 rng(777);
    for (int n = 0; n < 50000; ++n) {
        std::string bytes;
        const std::size_t length = rng() % 24;
        for (std::size_t i = 0; i < length; ++i) {
            // Half the bytes from a hostile alphabet, half anything at all.
            bytes +=
                rng() % 2 == 0 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
        }
        const std::string method = rng() % 4 == 0 ? bytes : "GET";

        const route_match m = table.match(method, bytes);
        SCOPED_TRACE(testing::PrintToString(bytes));
        if (m.status == bad_request) {
            ASSERT_NE(std::find(errors.begin(), errors.end(), m.error), errors.end());
        } else {
            ASSERT_EQ(m.error, "");
        }
        if (m.status == found) {
            ASSERT_LT(m.route, 4U);
            for (const path_param& p : m.params) {
                ASSERT_FALSE(p.value.empty());
                ASSERT_EQ(p.value.find('\0'), std::string::npos);
            }
        } else {
            ASSERT_TRUE(m.params.empty());
        }
    }
}

TEST(percent_decode, decodes_each_escape_once) {
    struct decode_case {
        std::string text;
        bool plus_is_space;
        std::optional<std::string> expected;
    };
    const std::vector<decode_case> cases = {
        {"", false, ""},
        {"abc", false, "abc"},
        {"%41", false, "A"},
        {"%4a%4A", false, "JJ"},
        {"%2F", false, "/"},
        {"%252f", false, "%2f"},
        {"%25252f", false, "%252f"},
        {"a+b", false, "a+b"},
        {"a+b", true, "a b"},
        {"%2B", true, "+"},
        {"%20+", true, "  "},
        {"%00", false, "\0"s},
        {"%FF", false, "\xFF"},
        {"%", false, std::nullopt},
        {"%4", false, std::nullopt},
        {"%zz", false, std::nullopt},
        {"%4g", false, std::nullopt},
        {"%g4", false, std::nullopt},
        {"%%41", false, std::nullopt},
        {"abc%", true, std::nullopt},
        {"ok%2", true, std::nullopt},
    };
    for (const decode_case& c : cases) {
        SCOPED_TRACE(testing::PrintToString(c.text) + (c.plus_is_space ? " +" : ""));
        EXPECT_EQ(percent_decode(c.text, c.plus_is_space), c.expected);
    }
}

TEST(percent_encode, keeps_only_unreserved_characters) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", ""},
        {"AZaz09-._~", "AZaz09-._~"},
        {"a b", "a%20b"},
        {"a/b", "a%2Fb"},
        {"%", "%25"},
        {"+", "%2B"},
        {"..%2f", "..%252f"},
        {"caf\xC3\xA9", "caf%C3%A9"},
        {"\0"s, "%00"},
        {"?#[]@!$&'()*,;=:", "%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2C%3B%3D%3A"},
    };
    for (const auto& [text, expected] : cases) {
        EXPECT_EQ(percent_encode(text), expected) << testing::PrintToString(text);
    }
}

TEST(percent_encode, round_trips_every_byte) {
    std::string all;
    for (int b = 0; b < 256; ++b) {
        all += static_cast<char>(b);
    }
    const std::string encoded = percent_encode(all);
    EXPECT_EQ(encoded.size(), 66U + 190U * 3U); // 66 unreserved bytes stay as they are
    EXPECT_EQ(percent_decode(encoded), all);
    EXPECT_EQ(percent_decode(encoded, true), all);

    // An encoded value is always exactly one segment that routes back to the original.
    route_table table;
    table.add("GET", "/k/:key");
    const route_match m = table.match("GET", "/k/" + percent_encode("../a/b%2f"));
    EXPECT_EQ(m.status, found);
    EXPECT_EQ(m.params, (std::vector<path_param>{{"key", "../a/b%2f"}}));
}

TEST(parse_query, splits_pairs_in_order_and_decodes_with_plus_as_space) {
    using fields = std::vector<std::pair<std::string, std::string>>;
    struct query_case {
        std::string raw;
        std::optional<fields> expected;
    };
    const std::vector<query_case> cases = {
        {"", fields{}},
        {"a=1&a=2&b&c=", fields{{"a", "1"}, {"a", "2"}, {"b", ""}, {"c", ""}}},
        {"a=1&&b=2&", fields{{"a", "1"}, {"b", "2"}}},
        {"&", fields{}},
        {"=x", fields{{"", "x"}}},
        {"=", fields{{"", ""}}},
        {"a=b=c", fields{{"a", "b=c"}}},
        {"q=a+b%2Bc", fields{{"q", "a b+c"}}},
        {"na+me=v%20w", fields{{"na me", "v w"}}},
        {"a=%26b&c=%3D", fields{{"a", "&b"}, {"c", "="}}},
        {"k=%252f", fields{{"k", "%2f"}}},
        {"a=%", std::nullopt},
        {"%zz=1", std::nullopt},
        {"a=1&b=%4", std::nullopt},
        {"a=1&%=2", std::nullopt},
    };
    for (const query_case& c : cases) {
        SCOPED_TRACE(testing::PrintToString(c.raw));
        EXPECT_EQ(parse_query(c.raw), c.expected);
    }
}

} // namespace
