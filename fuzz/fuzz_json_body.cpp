// Bytes as a JSON request body, into decode_json for described types with nested structs, a
// described base, optionals, vectors, maps, enums and a free-form boost::json::value.
//
// What decodes must encode and decode back to an equal value: the server answers with what it
// decoded, so a value it accepts but cannot send back (or sends back changed) is a bug. What
// does not decode must fail with a json_error whose message is fit to show the client.
#include "fuzz_check.hpp"

#include <switchboard/detail/ws_frame.hpp>
#include <switchboard/json.hpp>

#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>
#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace fuzz_json {

enum class stage { draft, active, archived };
BOOST_DESCRIBE_ENUM(stage, draft, active, archived)

struct point {
    std::int32_t x = 0;
    std::int32_t y = 0;
    bool operator==(const point&) const = default;
};
BOOST_DESCRIBE_STRUCT(point, (), (x, y))

struct person {
    std::string id;
    std::optional<std::string> email;
    bool operator==(const person&) const = default;
};
BOOST_DESCRIBE_STRUCT(person, (), (id, email))

struct task {
    std::string title;
    bool done = false;
    std::uint8_t weight = 0;
    std::optional<double> estimate;
    float ratio = 0;
    std::vector<point> path;
    bool operator==(const task&) const = default;
};
BOOST_DESCRIBE_STRUCT(task, (), (title, done, weight, estimate, ratio, path))

struct revisioned {
    std::uint64_t revision = 0;
    bool operator==(const revisioned&) const = default;
};
BOOST_DESCRIBE_STRUCT(revisioned, (), (revision))

struct project : revisioned {
    std::string name;
    stage status = stage::draft;
    std::optional<stage> previous;
    person lead;
    std::vector<task> tasks;
    std::map<std::string, std::int64_t> counters;
    std::unordered_map<std::string, std::vector<float>> series;
    std::optional<std::vector<std::optional<std::int16_t>>> sparse;
    std::optional<boost::json::value> extra;
    bool operator==(const project&) const = default;
};
BOOST_DESCRIBE_STRUCT(project, (revisioned),
                      (name, status, previous, lead, tasks, counters, series, sparse, extra))

} // namespace fuzz_json

namespace {

namespace sb = switchboard;

// Boost.JSON 1.81 parses some numbers one unit in the last place away from the nearest double
// (boostorg/json#599; 1.83 adds parse_options::numbers = number_precision::precise), so text
// that encodes a double exactly may read back one ulp off. The round trip therefore compares
// floating-point numbers to within one ulp of their own type and everything else exactly.
template <class F>
bool within_one_ulp(F a, F b) {
    return a == b || std::nextafter(a, b) == b;
}

bool same_json(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_double() && b.is_double()) {
        return within_one_ulp(a.get_double(), b.get_double());
    }
    if (a.is_array() && b.is_array()) {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_json);
    }
    if (a.is_object() && b.is_object()) {
        const auto& x = a.get_object();
        const auto& y = b.get_object();
        return x.size() == y.size() && std::all_of(x.begin(), x.end(), [&](const auto& entry) {
                   const auto* other = y.if_contains(entry.key());
                   return other != nullptr && same_json(entry.value(), *other);
               });
    }
    return a == b;
}

template <class T>
bool same_value(const T& a, const T& b) {
    namespace d = sb::detail;
    if constexpr (std::is_floating_point_v<T>) {
        return within_one_ulp(a, b);
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
        return same_json(a, b);
    } else if constexpr (d::is_optional<T>::value) {
        return a.has_value() == b.has_value() && (!a || same_value(*a, *b));
    } else if constexpr (d::is_vector<T>::value) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](const auto& x, const auto& y) { return same_value(x, y); });
    } else if constexpr (d::is_string_map<T>::value) {
        return a.size() == b.size() && std::all_of(a.begin(), a.end(), [&](const auto& entry) {
                   const auto other = b.find(entry.first);
                   return other != b.end() && same_value(entry.second, other->second);
               });
    } else if constexpr (d::is_described_struct<T>) {
        bool same = true;
        boost::mp11::mp_for_each<d::public_members<T>>(
            [&](auto member) { same = same && same_value(a.*member.pointer, b.*member.pointer); });
        return same;
    } else {
        return a == b;
    }
}

/// A message the server would put into a 400 body: one line of valid UTF-8.
void check_message(std::string_view message) {
    SWITCHBOARD_FUZZ_CHECK(!message.empty());
    SWITCHBOARD_FUZZ_CHECK(sb::detail::ws::valid_utf8(message));
    for (char c : message) {
        SWITCHBOARD_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
    }
}

template <class T>
std::optional<T> try_decode(std::string_view text, const sb::decode_options& options,
                            std::string& error) {
    try {
        return sb::decode_json<T>(text, options);
    } catch (const sb::json_error& e) {
        error = e.what();
        check_message(error);
        return std::nullopt;
    }
}

template <class T>
void check_type(std::string_view text) {
    for (const bool allow_unknown : {false, true}) {
        sb::decode_options options;
        options.allow_unknown_fields = allow_unknown;

        std::string error;
        const auto decoded = try_decode<T>(text, options, error);

        // decode_json parses into an arena; parse_json then from_json uses the heap. Both must
        // say the same.
        std::string heap_error;
        std::optional<T> from_heap;
        try {
            from_heap = sb::from_json<T>(sb::parse_json(text), options);
        } catch (const sb::json_error& e) {
            heap_error = e.what();
        }
        SWITCHBOARD_FUZZ_CHECK(decoded == from_heap);
        SWITCHBOARD_FUZZ_CHECK(error == heap_error);

        if (!decoded) {
            continue;
        }
        // Encoding writes every known field and nothing else, so it reads back strictly.
        const std::string encoded = sb::encode_json(*decoded);
        std::string again_error;
        const auto again = try_decode<T>(encoded, sb::decode_options{}, again_error);
        if (!again) {
            std::fprintf(stderr, "encoded: %s\nerror: %s\n", encoded.c_str(), again_error.c_str());
        }
        SWITCHBOARD_FUZZ_CHECK(again.has_value());
        SWITCHBOARD_FUZZ_CHECK(same_value(*again, *decoded));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_type<fuzz_json::project>(text);
    check_type<std::vector<fuzz_json::task>>(text);
    return 0;
}
