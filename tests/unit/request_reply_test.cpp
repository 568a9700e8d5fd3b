// The handler contract without sockets: typed parameters, body decoding,
// replies, logging.
#include <switchboard/log.hpp>
#include <switchboard/reply.hpp>
#include <switchboard/request.hpp>

#include <boost/describe/class.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

namespace {

namespace sb = switchboard;

struct point {
    int x = 0;
    int y = 0;
};
BOOST_DESCRIBE_STRUCT(point, (), (x, y))

/// A parameter type of the application's own: "job-<number>".
struct job_ref {
    int number = 0;
};

bool parse_param(std::string_view text, job_ref& out) {
    if (!text.starts_with("job-")) {
        return false;
    }
    return sb::parse_param(text.substr(4), out.number);
}

sb::request make(std::string body, sb::field_list params = {}, sb::field_list query = {}) {
    sb::request::parts p;
    p.method = "POST";
    p.target = "/points/7?x=1";
    p.headers = {{"Content-Type", "application/json"}, {"X-Twice", "a"}, {"x-twice", "b"}};
    p.body = std::move(body);
    p.path_params = std::move(params);
    p.query_params = std::move(query);
    return sb::request(std::move(p));
}

int status_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const sb::http_error& e) {
        return e.status();
    }
    return 0;
}

TEST(request, header_lookup_is_case_insensitive_and_takes_the_first) {
    auto req = make("");
    EXPECT_EQ(req.header("content-type"), "application/json");
    EXPECT_EQ(req.header("X-TWICE"), "a");
    EXPECT_FALSE(req.header("missing").has_value());
    EXPECT_EQ(req.path(), "/points/7");
}

TEST(request, typed_path_parameter_parses_integers) {
    auto req = make("", {{"id", "42"}, {"neg", "-3"}});
    EXPECT_EQ(req.param<int>("id"), 42);
    EXPECT_EQ(req.param<long long>("neg"), -3);
    EXPECT_EQ(req.param<std::string>("id"), "42");
}

TEST(request, typed_parameter_that_does_not_parse_is_400_with_reason) {
    auto req = make("", {{"id", "4x"}, {"big", "300"}, {"neg", "-1"}});
    try {
        (void)req.param<int>("id");
        FAIL() << "no exception";
    } catch (const sb::http_error& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(e.messages().at(0), "path parameter 'id': expected an integer, got '4x'");
    }
    EXPECT_EQ(status_of([&] { (void)req.param<std::uint8_t>("big"); }), 400);
    EXPECT_EQ(status_of([&] { (void)req.param<unsigned>("neg"); }), 400);
}

TEST(request, parameter_of_an_application_type_uses_its_parse_param) {
    auto req = make("", {{"good", "job-12"}, {"bad", "task-12"}});
    EXPECT_EQ(req.param<job_ref>("good").number, 12);
    try {
        (void)req.param<job_ref>("bad");
        FAIL() << "no exception";
    } catch (const sb::http_error& e) {
        EXPECT_EQ(e.messages().at(0),
                  "path parameter 'bad': expected a valid value, got 'task-12'");
    }
}

TEST(request, unknown_path_parameter_name_is_a_programming_error) {
    auto req = make("", {{"id", "1"}});
    EXPECT_THROW((void)req.param("jobid"), std::out_of_range);
}

TEST(request, long_bad_parameter_is_shortened_in_the_message) {
    auto req = make("", {{"id", std::string(1000, '9') + "x"}});
    try {
        (void)req.param<int>("id");
        FAIL() << "no exception";
    } catch (const sb::http_error& e) {
        EXPECT_LT(e.messages().at(0).size(), 150U);
    }
}

TEST(request, query_parameters_keep_repeats_in_order) {
    auto req = make("", {}, {{"tag", "a"}, {"n", "5"}, {"tag", "b"}, {"flag", "true"}});
    EXPECT_EQ(req.query("tag"), "a");
    EXPECT_EQ(req.query_all("tag"), (std::vector<std::string_view>{"a", "b"}));
    EXPECT_EQ(req.query<int>("n"), 5);
    EXPECT_EQ(req.query<bool>("flag"), true);
    EXPECT_FALSE(req.query<int>("missing").has_value());
    EXPECT_EQ(status_of([&] { (void)req.query<int>("tag"); }), 400);
}

TEST(request, json_body_decodes_into_a_described_struct) {
    auto p = make(R"({"x": 3, "y": -4})").json<point>();
    EXPECT_EQ(p.x, 3);
    EXPECT_EQ(p.y, -4);
}

TEST(request, bad_json_body_is_400_naming_the_problem) {
    try {
        (void)make(R"({"x": "3", "y": 1})").json<point>();
        FAIL() << "no exception";
    } catch (const sb::http_error& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(e.messages().at(0).find("'x'"), std::string::npos) << e.messages().at(0);
    }
    EXPECT_EQ(status_of([] { (void)make("").json<point>(); }), 400);
    EXPECT_EQ(status_of([] { (void)make("{").json<point>(); }), 400);
    EXPECT_EQ(status_of([] { (void)make(R"({"x":1,"y":2,"z":3})").json<point>(); }), 400);
}

TEST(reply, json_reply_has_status_type_and_body) {
    auto r = sb::reply::json(point{1, 2}, 201);
    EXPECT_EQ(r.status(), 201);
    EXPECT_EQ(r.content_type(), "application/json");
    EXPECT_EQ(boost::json::parse(r.body()), boost::json::parse(R"({"x":1,"y":2})"));
    EXPECT_FALSE(r.is_upgrade());
}

TEST(reply, default_reply_is_204_without_body) {
    sb::reply r;
    EXPECT_EQ(r.status(), 204);
    EXPECT_TRUE(r.body().empty());
}

TEST(reply, error_reply_has_the_errors_list) {
    auto r = sb::reply::error(404, "no \"job\" 7");
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(r.body(), R"({"errors":["no \"job\" 7"]})");
}

TEST(reply, header_injection_is_refused) {
    sb::reply r;
    EXPECT_THROW(r.header("X-A", "1\r\nSet-Cookie: x=1"), std::invalid_argument);
    EXPECT_THROW(r.header("Bad Name", "1"), std::invalid_argument);
    EXPECT_THROW(r.header("content-length", "1"), std::invalid_argument);
    r.header("X-Request-Id", "abc");
    ASSERT_EQ(r.headers().size(), 1U);
}

TEST(reply, status_outside_three_digits_is_refused) {
    EXPECT_THROW(sb::reply::error(42, "x"), std::invalid_argument);
    EXPECT_THROW(sb::reply::raw(1000, "text/plain", ""), std::invalid_argument);
}

/// Counts how often it is formatted, to prove disabled levels cost nothing.
struct counted {
    int* count;
};

} // namespace

template <>
struct fmt::formatter<counted> : fmt::formatter<int> {
    auto format(const counted& c, format_context& ctx) const {
        ++*c.count;
        return fmt::formatter<int>::format(*c.count, ctx);
    }
};

namespace {

TEST(log, lines_below_the_level_are_never_formatted) {
    std::mutex m;
    std::vector<std::string> lines;
    sb::set_log_sink(
        [&](sb::log_level, std::string_view line) {
            std::lock_guard lock(m);
            lines.emplace_back(line);
        },
        sb::log_level::warn);
    int formatted = 0;
    sb::log(sb::log_level::debug, "quiet value={}", counted{&formatted});
    sb::log(sb::log_level::warn, "loud value={}", counted{&formatted});
    sb::set_log_sink(nullptr);
    sb::log(sb::log_level::error, "after value={}", counted{&formatted});

    EXPECT_EQ(formatted, 1);
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0], "loud value=1");
}

} // namespace

namespace {

// Found by fuzz_http_request: a 400 quoting a client's bytes cut them inside
// a character, and the error body was not valid UTF-8.
TEST(reply, error_body_is_valid_utf8_whatever_the_message) {
    auto body = sb::error_body({std::string("bad \xff\xfe value \xc3"), "caf\xc3\xa9"});
    EXPECT_EQ(body,
              "{\"errors\":[\"bad \xef\xbf\xbd\xef\xbf\xbd value \xef\xbf\xbd\",\"caf\xc3\xa9\"]}");
}

TEST(request, long_bad_parameter_is_cut_at_a_character_boundary) {
    sb::request::parts p;
    p.path_params = {{"id", std::string(63, 'a') + "\xc3\xa9" + "zzz"}};
    sb::request req(std::move(p));
    try {
        (void)req.param<int>("id");
        FAIL() << "no exception";
    } catch (const sb::http_error& e) {
        EXPECT_NE(e.messages().at(0).find(std::string(63, 'a') + "...'"), std::string::npos)
            << e.messages().at(0);
    }
}

// Found by fuzz_http_request: a control character in a reply header value.
TEST(reply, header_with_any_control_character_is_refused) {
    sb::reply r;
    EXPECT_THROW(r.header("X-A", "a\x03"
                                 "b"),
                 std::invalid_argument);
    EXPECT_THROW(r.header("X-A", "a\x7f"), std::invalid_argument);
    r.header("X-A", "tab\tis fine");
    EXPECT_EQ(r.headers().size(), 1U);
}

} // namespace
