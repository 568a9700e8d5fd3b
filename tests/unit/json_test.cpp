#include <switchboard/json.hpp>

#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace json_test_types {

enum class priority { low, normal, urgent };
BOOST_DESCRIBE_ENUM(priority, low, normal, urgent)

struct person {
    std::uint64_t id = 0;
    std::string name;

    bool operator==(const person&) const = default;
};
BOOST_DESCRIBE_STRUCT(person, (), (id, name))

struct task {
    std::string name;
    priority level = priority::normal;
    std::optional<std::string> note;
    std::vector<std::string> tags;

    bool operator==(const task&) const = default;
};
BOOST_DESCRIBE_STRUCT(task, (), (name, level, note, tags))

struct project {
    std::string name;
    person owner;
    std::vector<task> tasks;
    std::map<std::string, std::int32_t> limits;
    std::optional<double> budget;
    bool archived = false;

    bool operator==(const project&) const = default;
};
BOOST_DESCRIBE_STRUCT(project, (), (name, owner, tasks, limits, budget, archived))

struct counter {
    std::uint8_t count = 0;
};
BOOST_DESCRIBE_STRUCT(counter, (), (count))

struct message {
    std::string msg;
};
BOOST_DESCRIBE_STRUCT(message, (), (msg))

struct reading {
    std::optional<std::int32_t> value;
    float ratio = 0;
};
BOOST_DESCRIBE_STRUCT(reading, (), (value, ratio))

struct named_person : person {
    std::string title;
};
BOOST_DESCRIBE_STRUCT(named_person, (person), (title))

// Stands for a type that brings its own Boost.JSON conversion.
struct celsius {
    double degrees = 0;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const celsius& c) {
    if (c.degrees < -273.15)
        throw std::invalid_argument("below absolute zero");
    v = c.degrees;
}

celsius tag_invoke(const boost::json::value_to_tag<celsius>&, const boost::json::value& v) {
    const celsius c{v.as_double()};
    if (c.degrees < -273.15)
        throw std::invalid_argument("below absolute zero");
    return c;
}

struct weather {
    celsius temperature;
};
BOOST_DESCRIBE_STRUCT(weather, (), (temperature))

} // namespace json_test_types

namespace {

using namespace json_test_types;
using switchboard::decode_json;
using switchboard::decode_options;
using switchboard::encode_json;
using switchboard::from_json;
using switchboard::json_error;
using switchboard::parse_json;
using switchboard::to_json;

// Returns what() of the json_error that decoding `text` as T throws, or a marker that fails
// any comparison with a real message.
template <class T>
std::string decode_error(std::string_view text, const decode_options& options = {},
                         std::size_t max_depth = 32) {
    try {
        decode_json<T>(text, options, max_depth);
    } catch (const json_error& e) {
        return e.what();
    }
    return "<no error>";
}

std::string parse_error(std::string_view text, std::size_t max_depth = 32) {
    try {
        parse_json(text, max_depth);
    } catch (const json_error& e) {
        return e.what();
    }
    return "<no error>";
}

template <class T>
std::string encode_error(const T& value) {
    try {
        encode_json(value);
    } catch (const json_error& e) {
        return e.what();
    }
    return "<no error>";
}

project sample_project() {
    project p;
    p.name = "switchboard";
    p.owner = {7, "ada"};
    p.tasks = {{"parse", priority::urgent, "strict", {"json", "utf-8"}},
               {"route", priority::low, std::nullopt, {}}};
    p.limits = {{"memory", 512}, {"cpu", -2}};
    p.budget = 1.5;
    p.archived = true;
    return p;
}

TEST(json, round_trips_nested_described_structs) {
    const project original = sample_project();

    const std::string text = encode_json(original);

    EXPECT_EQ(text, R"({"name":"switchboard","owner":{"id":7,"name":"ada"},"tasks":[)"
                    R"({"name":"parse","level":"urgent","note":"strict","tags":["json","utf-8"]},)"
                    R"({"name":"route","level":"low","tags":[]}],)"
                    R"("limits":{"cpu":-2,"memory":512},"budget":1.5E0,"archived":true})");
    EXPECT_EQ(decode_json<project>(text), original);
}

TEST(json, encodes_members_of_described_base_first) {
    named_person p;
    p.id = 3;
    p.name = "grace";
    p.title = "rear admiral";

    const std::string text = encode_json(p);

    EXPECT_EQ(text, R"({"id":3,"name":"grace","title":"rear admiral"})");
    const auto back = decode_json<named_person>(text);
    EXPECT_EQ(back.id, 3u);
    EXPECT_EQ(back.name, "grace");
    EXPECT_EQ(back.title, "rear admiral");
}

TEST(json, names_path_of_wrong_kind) {
    const std::string text = R"({"name":"p","owner":{"id":1,"name":"a"},"tasks":[)"
                             R"({"name":"a","level":"low","tags":[]},)"
                             R"({"name":"b","level":"low","tags":[]},)"
                             R"({"name":5,"level":"low","tags":[]}]})";

    EXPECT_EQ(decode_error<project>(text), "field 'tasks[2].name': expected string, got number");
}

TEST(json, names_body_when_root_has_wrong_kind) {
    EXPECT_EQ(decode_error<person>("[]"), "body: expected object, got array");
    EXPECT_EQ(decode_error<std::vector<int>>("{}"), "body: expected array, got object");
    EXPECT_EQ(decode_error<bool>("1"), "body: expected boolean, got number");
    EXPECT_EQ(decode_error<std::string>("null"), "body: expected string, got null");
    EXPECT_EQ(decode_error<double>("\"1\""), "body: expected number, got string");
    EXPECT_EQ(decode_error<std::int16_t>("true"),
              "body: expected integer in range [-32768, 32767], got boolean");
}

TEST(json, names_element_of_root_array) {
    EXPECT_EQ(decode_error<std::vector<person>>(R"([{"id":1,"name":"a"},{"id":2}])"),
              "missing field '[1].name'");
    EXPECT_EQ(decode_error<std::vector<std::vector<int>>>("[[1],[2,\"x\"]]"),
              "field '[1][1]': expected integer in range [-2147483648, 2147483647], got string");
}

TEST(json, reports_missing_field) {
    EXPECT_EQ(decode_error<person>(R"({"id":1})"), "missing field 'name'");
    EXPECT_EQ(decode_error<project>(R"({"name":"p","owner":{"name":"a"}})"),
              "missing field 'owner.id'");
}

TEST(json, rejects_null_for_non_optional_member) {
    EXPECT_EQ(decode_error<message>(R"({"msg":null})"), "field 'msg': expected string, got null");
}

TEST(json, rejects_unknown_field_by_default) {
    EXPECT_EQ(decode_error<person>(R"({"id":1,"nmae":"a"})"), "unknown field 'nmae'");
    EXPECT_EQ(decode_error<project>(R"({"name":"p","owner":{"id":1,"name":"a","x":0}})"),
              "unknown field 'owner.x'");
}

TEST(json, accepts_unknown_field_when_allowed) {
    const decode_options lenient{.allow_unknown_fields = true};

    const auto p = decode_json<person>(R"({"id":1,"name":"a","nmae":"b","extra":[1]})", lenient);

    EXPECT_EQ(p, (person{1, "a"}));
    EXPECT_EQ(decode_error<person>(R"({"id":1,"nmae":"a"})", lenient), "missing field 'name'");
}

TEST(json, quotes_keys_that_are_not_identifiers) {
    using limits = std::map<std::string, int>;

    EXPECT_EQ(
        decode_error<limits>(R"({"a.b":"x"})"),
        R"(field '["a.b"]': expected integer in range [-2147483648, 2147483647], got string)");
    EXPECT_EQ(decode_error<limits>(R"({"":null})"),
              R"(field '[""]': expected integer in range [-2147483648, 2147483647], got null)");
    EXPECT_EQ(decode_error<person>(R"({"new\nline \"q\"":1})"),
              R"(unknown field '["new\u000aline \"q\""]')");
}

TEST(json, cuts_long_client_text_in_messages) {
    const std::string key(1000, 'k');

    EXPECT_EQ(decode_error<person>(R"({")" + key + R"(":1})"),
              "unknown field '[\"" + std::string(64, 'k') + "\"...]'");
    EXPECT_EQ(decode_error<priority>('"' + key + '"'),
              "body: unknown value '" + std::string(64, 'k') + "'...");

    // "é" is two bytes; the cut falls between them and must back off to keep UTF-8 whole.
    const std::string accents = std::string(63, 'a') + "\xC3\xA9" + "tail";
    EXPECT_EQ(decode_error<priority>('"' + accents + '"'),
              "body: unknown value '" + std::string(63, 'a') + "'...");
}

TEST(json, converts_value_already_parsed) {
    const boost::json::value v = {{"id", 9}, {"name", "lin"}, {"extra", nullptr}};

    EXPECT_EQ(from_json<person>(v, {.allow_unknown_fields = true}), (person{9, "lin"}));
    EXPECT_THROW(from_json<person>(v), json_error);
    EXPECT_EQ(to_json(person{9, "lin"}), boost::json::value({{"id", 9}, {"name", "lin"}}));
}

TEST(json, decodes_optional_missing_null_and_present) {
    EXPECT_EQ(decode_json<reading>(R"({"ratio":1})").value, std::nullopt);
    EXPECT_EQ(decode_json<reading>(R"({"value":null,"ratio":1})").value, std::nullopt);
    EXPECT_EQ(decode_json<reading>(R"({"value":42,"ratio":1})").value, 42);
    EXPECT_EQ(decode_json<std::optional<int>>("null"), std::nullopt);
    EXPECT_EQ(decode_json<std::optional<int>>("5"), 5);
    EXPECT_EQ(decode_error<reading>(R"({"value":"42","ratio":1})"),
              "field 'value': expected integer in range [-2147483648, 2147483647], got string");
}

TEST(json, encodes_empty_optional_as_omitted_member_and_null_elsewhere) {
    EXPECT_EQ(encode_json(reading{std::nullopt, 0.5f}), R"({"ratio":5E-1})");
    EXPECT_EQ(encode_json(reading{3, 0.5f}), R"({"value":3,"ratio":5E-1})");
    EXPECT_EQ(encode_json(std::optional<int>()), "null");
    EXPECT_EQ(encode_json(std::vector<std::optional<int>>{1, std::nullopt}), "[1,null]");
    EXPECT_EQ(encode_json(std::map<std::string, std::optional<int>>{{"a", std::nullopt}}),
              R"({"a":null})");
}

TEST(json, checks_integer_range) {
    EXPECT_EQ(decode_error<counter>(R"({"count":300})"),
              "field 'count': expected integer in range [0, 255], got 300");
    EXPECT_EQ(decode_error<counter>(R"({"count":-1})"),
              "field 'count': expected integer in range [0, 255], got -1");
    EXPECT_EQ(decode_json<counter>(R"({"count":255})").count, 255);
    EXPECT_EQ(decode_error<std::int8_t>("-129"),
              "body: expected integer in range [-128, 127], got -129");
    EXPECT_EQ(decode_json<std::int8_t>("-128"), -128);
    EXPECT_EQ(decode_error<std::int64_t>("9223372036854775808"),
              "body: expected integer in range [-9223372036854775808, 9223372036854775807], got "
              "9223372036854775808");
}

TEST(json, round_trips_int64_and_uint64_extremes) {
    constexpr auto int_min = std::numeric_limits<std::int64_t>::min();
    constexpr auto int_max = std::numeric_limits<std::int64_t>::max();
    constexpr auto uint_max = std::numeric_limits<std::uint64_t>::max();

    EXPECT_EQ(encode_json(int_min), "-9223372036854775808");
    EXPECT_EQ(encode_json(uint_max), "18446744073709551615");
    EXPECT_EQ(decode_json<std::int64_t>(encode_json(int_min)), int_min);
    EXPECT_EQ(decode_json<std::int64_t>(encode_json(int_max)), int_max);
    EXPECT_EQ(decode_json<std::uint64_t>(encode_json(uint_max)), uint_max);

    // One past uint64 reaches the decoder as the double 2^64, whose shortest form is its digits.
    EXPECT_EQ(decode_error<std::uint64_t>("18446744073709551616"),
              "body: expected integer in range [0, 18446744073709551615], got "
              "18446744073709551616");
}

// Integral doubles are accepted up to 2^53, where a double still holds every whole number, so
// a client that writes 3.0 or 1e2 is served; beyond that the digits may already be gone.
TEST(json, accepts_integral_double_only_when_exact) {
    EXPECT_EQ(decode_json<int>("3.0"), 3);
    EXPECT_EQ(decode_json<std::uint8_t>("1e2"), 100);
    EXPECT_EQ(decode_json<std::int64_t>("-9007199254740992.0"), -9007199254740992);

    EXPECT_EQ(decode_error<int>("3.5"),
              "body: expected integer in range [-2147483648, 2147483647], got 3.5");
    EXPECT_EQ(decode_error<std::uint8_t>("256.0"),
              "body: expected integer in range [0, 255], got 256");
    EXPECT_EQ(decode_error<std::int64_t>("1e16"),
              "body: expected integer written without fraction or exponent, got 1e+16");
    EXPECT_EQ(decode_error<std::int32_t>("1e16"),
              "body: expected integer in range [-2147483648, 2147483647], got 1e+16");
}

TEST(json, decodes_any_number_as_floating_point) {
    EXPECT_EQ(decode_json<double>("2"), 2.0);
    EXPECT_EQ(decode_json<double>("18446744073709551615"), 18446744073709551615.0);
    EXPECT_EQ(decode_json<double>("-0.25"), -0.25);
    EXPECT_EQ(decode_json<float>("0.1"), 0.1f);
}

TEST(json, rejects_numbers_beyond_floating_point_range) {
    // Past double's range the parser itself refuses the text (see
    // refuses_numbers_that_overflow_a_double); a tree built in code still
    // gets the field-level message.
    EXPECT_EQ(decode_error<double>("1e400"), "number out of range");
    EXPECT_EQ(decode_error<double>("-1e400"), "number out of range");
    try {
        (void)switchboard::from_json<double>(
            boost::json::value(std::numeric_limits<double>::infinity()));
        FAIL() << "infinity accepted";
    } catch (const switchboard::json_error& e) {
        EXPECT_STREQ(e.what(), "body: expected number within double range, got inf");
    }
    EXPECT_EQ(decode_error<float>("1e39"), "body: expected number within float range, got 1e+39");
}

TEST(json, encodes_float_with_its_shortest_digits) {
    EXPECT_EQ(encode_json(0.1f), "1E-1");
    EXPECT_EQ(decode_json<float>(encode_json(0.1f)), 0.1f);
    EXPECT_EQ(encode_json(0.1), "1E-1");
}

// Found by fuzz_json_body: FLT_MAX encoded as 3.4028235E38, which is above FLT_MAX as a double,
// and decoding refused it as out of float range.
TEST(json, float_max_round_trips_through_its_shortest_text) {
    constexpr float max = std::numeric_limits<float>::max();
    EXPECT_EQ(decode_json<float>(encode_json(max)), max);
    EXPECT_EQ(decode_json<float>(encode_json(-max)), -max);
    EXPECT_EQ(decode_json<float>("3.4028235e38"), max);
    EXPECT_EQ(decode_json<std::vector<float>>("[3.40282356e38]"), std::vector<float>{max});
    // Past 2^128 - 2^103, halfway from FLT_MAX to 2^128, a float would be infinite. (The message
    // quotes the parsed double, which Boost.JSON 1.81 may read one ulp off.)
    const std::string past = decode_error<float>("3.40282357e38");
    EXPECT_EQ(past.rfind("body: expected number within float range, got 3.40282357", 0), 0U)
        << past;
}

TEST(json, refuses_to_encode_non_finite_numbers) {
    EXPECT_EQ(encode_error(std::numeric_limits<double>::infinity()), "cannot encode inf as JSON");
    EXPECT_EQ(encode_error(-std::numeric_limits<float>::infinity()), "cannot encode -inf as JSON");
    EXPECT_EQ(encode_error(std::vector<double>{1.0, std::nan("")}), "cannot encode nan as JSON");
}

TEST(json, round_trips_enum_by_name) {
    EXPECT_EQ(encode_json(priority::urgent), R"("urgent")");
    EXPECT_EQ(decode_json<priority>(R"("low")"), priority::low);
    EXPECT_EQ(decode_error<priority>("1"), "body: expected string, got number");
    EXPECT_EQ(decode_error<task>(R"({"name":"a","level":"bogus","tags":[]})"),
              "field 'level': unknown value 'bogus'");
    EXPECT_EQ(decode_error<priority>(R"("LOW")"), "body: unknown value 'LOW'");
}

TEST(json, refuses_to_encode_enum_value_without_name) {
    EXPECT_EQ(encode_error(static_cast<priority>(7)), "cannot encode enum value 7: it has no name");
}

TEST(json, round_trips_string_maps) {
    const std::unordered_map<std::string, std::vector<bool>> flags{{"on", {true, false}}};
    EXPECT_EQ(encode_json(flags), R"({"on":[true,false]})");
    EXPECT_EQ((decode_json<std::unordered_map<std::string, std::vector<bool>>>(encode_json(flags))),
              flags);

    EXPECT_EQ((decode_error<std::map<std::string, person>>(R"({"x":{"id":-1,"name":"a"}})")),
              "field 'x.id': expected integer in range [0, 18446744073709551615], got -1");
}

TEST(json, passes_boost_json_types_through) {
    const auto value = decode_json<boost::json::value>(R"({"a":[1,"two",null]})");
    EXPECT_EQ(boost::json::serialize(value), R"({"a":[1,"two",null]})");

    const auto object = decode_json<boost::json::object>(R"({"k":true})");
    EXPECT_EQ(object.at("k"), true);
    EXPECT_EQ(decode_json<boost::json::array>("[1,2]").size(), 2u);
    EXPECT_EQ(decode_json<boost::json::string>(R"("s")"), "s");
    EXPECT_EQ(decode_error<boost::json::object>("[]"), "body: expected object, got array");
    EXPECT_EQ(decode_error<boost::json::array>("{}"), "body: expected array, got object");

    EXPECT_EQ(encode_json(object), R"({"k":true})");
    EXPECT_EQ(to_json(value), value);
}

TEST(json, falls_back_to_tag_invoke_and_names_its_failure) {
    EXPECT_EQ(encode_json(weather{{21.5}}), R"({"temperature":2.15E1})");
    EXPECT_EQ(decode_json<weather>(R"({"temperature":-3.5})").temperature.degrees, -3.5);

    EXPECT_EQ(decode_error<weather>(R"({"temperature":-300.0})"),
              "field 'temperature': below absolute zero");
    // value::as_double throws a system_error; only its message reaches the client, not the
    // source location Boost adds to what().
    EXPECT_EQ(decode_error<weather>(R"({"temperature":"warm"})"),
              "field 'temperature': not a double");
    EXPECT_EQ(encode_error(celsius{-300}), "cannot encode value: below absolute zero");
}

TEST(json, reports_invalid_json_with_offset) {
    EXPECT_EQ(parse_error(R"({"count": 1, "x" 2})"), "invalid JSON at offset 17: syntax error");
    EXPECT_EQ(decode_error<counter>(R"({"count": 1, "x" 2})"),
              "invalid JSON at offset 17: syntax error");
    EXPECT_EQ(parse_error(""), "invalid JSON at offset 0: incomplete JSON");
    EXPECT_EQ(parse_error(R"({"a":)"), "invalid JSON at offset 5: incomplete JSON");
    EXPECT_EQ(parse_error("[1] x"), "invalid JSON at offset 4: extra data");
    EXPECT_EQ(boost::json::serialize(parse_json("  [1]\n\t ")), "[1]");
}

TEST(json, rejects_comments_and_trailing_commas) {
    EXPECT_EQ(parse_error("[1,]"), "invalid JSON at offset 3: syntax error");
    EXPECT_EQ(parse_error(R"({"a":1,})"), "invalid JSON at offset 7: syntax error");
    EXPECT_EQ(parse_error("// note\n1"), "invalid JSON at offset 0: syntax error");
    EXPECT_EQ(parse_error("1 /* note */"), "invalid JSON at offset 2: extra data");
}

TEST(json, accepts_nesting_up_to_max_depth) {
    const std::string depth_32 = std::string(32, '[') + std::string(32, ']');
    const std::string depth_33 = std::string(33, '[') + std::string(33, ']');

    EXPECT_EQ(boost::json::serialize(parse_json(depth_32)), depth_32);
    EXPECT_EQ(parse_error(depth_33), "JSON nested deeper than 32 levels");
    EXPECT_EQ(boost::json::serialize(parse_json(depth_33, 33)), depth_33);
    EXPECT_EQ(parse_error(depth_33, 10), "JSON nested deeper than 10 levels");
    EXPECT_EQ(decode_error<boost::json::value>(depth_33), "JSON nested deeper than 32 levels");
    EXPECT_EQ(boost::json::serialize(decode_json<boost::json::value>(depth_33, {}, 33)), depth_33);
}

TEST(json, rejects_deep_nesting_without_crash) {
    const std::string opened(100000, '[');

    EXPECT_EQ(parse_error(opened), "JSON nested deeper than 32 levels");
    EXPECT_EQ(parse_error(std::string(100000, '{')), "invalid JSON at offset 1: syntax error");
    EXPECT_EQ(parse_error(R"({"a":)" + opened), "JSON nested deeper than 32 levels");

    // Boost.JSON parses without recursion, so even a raised limit only runs out of input.
    EXPECT_EQ(parse_error(opened, 1000000), "invalid JSON at offset 100000: incomplete JSON");
}

// case-33: a value nested far deeper than the parser allows, built in code (so the depth limit
// never saw it), goes through the encoder and the destructor without exhausting the stack.
TEST(json, encodes_and_destroys_a_value_built_10000_deep) {
    constexpr std::size_t depth = 10000;
    auto root = std::make_unique<boost::json::value>(boost::json::array());
    auto* inner = &root->as_array();
    for (std::size_t i = 1; i < depth; ++i) {
        inner = &inner->emplace_back(boost::json::array()).as_array();
    }

    const auto text = switchboard::encode_json(*root);
    EXPECT_EQ(text, std::string(depth, '[') + std::string(depth, ']'));
    root.reset();
}

TEST(json, rejects_invalid_utf8) {
    EXPECT_EQ(parse_error("{\"msg\":\"\xC3\x28\"}"), "invalid JSON at offset 8: syntax error");
    EXPECT_EQ(decode_error<message>("{\"msg\":\"\xC3\x28\"}"),
              "invalid JSON at offset 8: syntax error");
    EXPECT_EQ(parse_error("\"\xED\xA0\x80\""), "invalid JSON at offset 1: syntax error");
}

TEST(json, keeps_escaped_nul_in_string) {
    const message m = decode_json<message>(R"({"msg":"a\u0000b"})");

    ASSERT_EQ(m.msg.size(), 3u);
    EXPECT_EQ(m.msg, std::string("a\0b", 3));
    EXPECT_EQ(encode_json(m), R"({"msg":"a\u0000b"})");
}

// Boost.JSON 1.81 has no option for invalid UTF-16: a high surrogate escape must be followed by
// a low one, and a low one may not come first. It fails where the pair breaks, so a lone high
// surrogate is reported at the closing quote as a plain syntax error.
TEST(json, rejects_lone_surrogate_escape) {
    EXPECT_EQ(parse_error(R"("\ud800")"), "invalid JSON at offset 7: syntax error");
    EXPECT_EQ(parse_error(R"("\ud800x")"), "invalid JSON at offset 7: syntax error");
    EXPECT_EQ(parse_error(R"("\udc00")"), "invalid JSON at offset 7: illegal trailing surrogate");
    EXPECT_EQ(parse_error(R"("\ud800\u0041")"),
              "invalid JSON at offset 9: illegal trailing surrogate");

    EXPECT_EQ(decode_json<std::string>(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");
}

// Boost.JSON keeps the last of repeated keys; a validator must look at the same value the
// handler later reads, so this is pinned here.
TEST(json, keeps_last_of_duplicate_keys) {
    EXPECT_EQ(decode_json<person>(R"({"id":1,"name":"a","id":2})"), (person{2, "a"}));
}

TEST(json, encodes_control_characters_escaped) {
    EXPECT_EQ(encode_json(std::string("tab\t\x01")), R"("tab\t\u0001")");
}

} // namespace

// JSONTestSuite's i_number_huge_exp family: a number past double's range
// parsed as infinity and was echoed as the non-JSON text Infinity.
TEST(json, refuses_numbers_that_overflow_a_double) {
    for (const char* text : {"[1.5e+9999]", "[-1e+9999]", "{\"a\":[[-123123e100000]]}"}) {
        try {
            (void)switchboard::parse_json(text);
            FAIL() << text << " was accepted";
        } catch (const switchboard::json_error& e) {
            EXPECT_STREQ(e.what(), "number out of range");
        }
    }
    EXPECT_EQ(switchboard::encode_json(switchboard::parse_json("[123.456e-789]")), "[0E0]");
}

TEST(json, refuses_to_encode_non_finite_numbers_in_a_value) {
    boost::json::value v = {
        {"deep", boost::json::array{1, std::numeric_limits<double>::infinity()}}};
    EXPECT_THROW((void)switchboard::encode_json(v), switchboard::json_error);
}
