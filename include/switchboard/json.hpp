#ifndef SWITCHBOARD_JSON_HPP
#define SWITCHBOARD_JSON_HPP

#include <switchboard/detail/json_codec.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace switchboard {

/// Thrown when text is not JSON, is nested too deep, or does not fit the target type, and by
/// the encoders for a value that has no JSON form.
///
/// `what()` is a short message fit to show a client. It names the place, "body" for the root or
/// a path such as `field 'tasks[2].name'`, and what was expected, for example
/// "field 'count': expected integer in range [0, 255], got 300" or "missing field 'owner.id'".
/// Text the client sent (keys, enum names) appears at most 64 bytes long, with control
/// characters escaped.
class json_error : public std::runtime_error {
public:
    using runtime_error::runtime_error;
};

/// How strictly `from_json` and `decode_json` read an object into a described struct.
struct decode_options {
    /// Unknown keys in an object decoded into a described struct are an error unless this is
    /// true. Maps and Boost.JSON objects take any key regardless.
    bool allow_unknown_fields = false;
};

/// Parses one JSON text.
///
/// Strict RFC 8259: no comments, no trailing commas, nothing but whitespace after the value, and
/// invalid UTF-8 is rejected, as are lone UTF-16 surrogate escapes such as `"\ud800"`. Nesting
/// deeper than `max_depth` arrays and objects is rejected before it costs memory or stack. A
/// number too large for a double parses as infinity; the number decoders reject it.
///
/// The result uses the default memory resource.
///
/// @throws json_error "invalid JSON at offset N: reason" or "JSON nested deeper than N levels".
boost::json::value parse_json(std::string_view text, std::size_t max_depth = 32);

/// Converts a JSON value to `T`.
///
/// Supported `T`, nested freely:
/// - `bool`, `std::string`;
/// - every integer type, range-checked. A JSON number written with a fraction or exponent is
///   accepted when its value is a whole number of magnitude at most 2^53, where a double is
///   still exact (`3.0`, `1e2`); other non-integers are rejected;
/// - `float`, `double`, `long double`: any JSON number that fits the type;
/// - `std::optional<U>`: JSON null decodes to `std::nullopt`, and so does a missing key when
///   the optional is a struct member;
/// - `std::vector<U>` from an array;
/// - `std::map<std::string, U>` and `std::unordered_map<std::string, U>` from an object;
/// - `boost::json::value`, `object`, `array`, `string`, copied into the default memory resource;
/// - enums described with `BOOST_DESCRIBE_ENUM`, from the enumerator's name;
/// - default-constructible structs described with `BOOST_DESCRIBE_STRUCT`, from an object with
///   a key per public member (members of described bases included). A missing key is an error
///   unless the member is an optional; unknown keys are an error unless `options` allows them.
///
/// Any other type goes to `boost::json::value_to`, so the type's own `tag_invoke` applies; an
/// exception it throws becomes a `json_error` naming the place.
///
/// @throws json_error when `v` does not fit `T`.
template <class T>
T from_json(const boost::json::value& v, const decode_options& options = {}) {
    const detail::decode_context body(options);
    return detail::decode<T>(v, body);
}

/// Converts `value` to JSON, the reverse of `from_json`.
///
/// An empty optional is left out when it is a struct member and is null elsewhere. Integers
/// become int64 or uint64 by signedness. A float is written with the shortest digits that read
/// back as the same float (`0.1f` as 0.1, not 0.100000001). Other types go to
/// `boost::json::value_from`.
///
/// @throws json_error for a NaN or infinite number, an enum value with no described name, or an
/// exception from `value_from`.
template <class T>
boost::json::value to_json(const T& value) {
    return detail::encode(value);
}

/// `parse_json` followed by `from_json`.
///
/// @throws json_error as either of them does.
template <class T>
T decode_json(std::string_view text, const decode_options& options = {},
              std::size_t max_depth = 32) {
    // The parsed tree dies as soon as T is built, so an arena freed at once beats the heap.
    boost::json::monotonic_resource arena;
    const boost::json::value tree = detail::parse_json_into(text, max_depth, &arena);
    return from_json<T>(tree, options);
}

/// `to_json` followed by `boost::json::serialize`; a non-finite number
/// anywhere throws json_error, since JSON cannot carry it. Control characters in strings are
/// escaped, NUL as `\u0000`, so a string holding one round-trips.
///
/// @throws json_error as `to_json` does.
template <class T>
std::string encode_json(const T& value) {
    return detail::serialize_checked(to_json(value));
}

} // namespace switchboard

#endif
