#include <switchboard/json.hpp>

#include "text.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <new>
#include <system_error>
#include <vector>

namespace switchboard {

namespace detail {
namespace {

// A client reads numbers, not Boost.JSON's three storage kinds.
std::string_view kind_name(const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::null:
        return "null";
    case boost::json::kind::bool_:
        return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
        return "number";
    case boost::json::kind::string:
        return "string";
    case boost::json::kind::array:
        return "array";
    case boost::json::kind::object:
        return "object";
    }
    return "unknown";
}

// Long enough to recognise a key, short enough that a hostile one cannot bloat the message.
constexpr std::size_t max_quoted_bytes = 64;

// Copies text a client sent into a message: cut at a UTF-8 boundary, with quotes, backslashes
// and control characters escaped, so the message stays one short printable line.
void append_client_text(std::string& out, std::string_view text, char quote) {
    const std::string_view shown = detail::utf8_prefix(text, max_quoted_bytes);
    out += quote;
    for (const char c : shown) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == quote || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7F) {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        } else {
            out += c;
        }
    }
    out += quote;
    if (shown.size() < text.size())
        out += "...";
}

// Keys that look like identifiers read best as `a.b`; anything else is bracketed so that a key
// holding '.', '[' or nothing at all cannot be mistaken for a path.
bool is_plain_key(std::string_view key) {
    return !key.empty() && key.size() <= max_quoted_bytes &&
           std::all_of(key.begin(), key.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
           });
}

void append_path(std::string& out, const decode_context& at) {
    if (at.parent() == nullptr)
        return;
    append_path(out, *at.parent());

    if (at.kind() == decode_context::step::element) {
        out += '[';
        out += std::to_string(at.index());
        out += ']';
    } else if (is_plain_key(at.key())) {
        if (!out.empty())
            out += '.';
        out += at.key();
    } else {
        out += '[';
        append_client_text(out, at.key(), '"');
        out += ']';
    }
}

std::string path_text(const decode_context& at) {
    std::string out;
    append_path(out, at);
    return out;
}

// Opens every type error: the root is "body" because a client thinks of the request body, not
// of an empty path.
std::string place(const decode_context& at) {
    if (at.parent() == nullptr)
        return "body";
    return "field '" + path_text(at) + "'";
}

std::string double_text(double d) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
    if (ec != std::errc())
        return "number";
    return std::string(buffer, end);
}

std::string number_text(const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::int64:
        return std::to_string(v.get_int64());
    case boost::json::kind::uint64:
        return std::to_string(v.get_uint64());
    case boost::json::kind::double_:
        return double_text(v.get_double());
    default:
        return std::string(kind_name(v));
    }
}

// Past 2^53 a double no longer holds every whole number, so the digits the client wrote may
// already be lost; such a value is not trusted as an integer.
constexpr double max_exact_double = 9007199254740992.0;

bool is_whole(double d) {
    return std::isfinite(d) && std::trunc(d) == d;
}

bool is_exact_whole(double d) {
    return is_whole(d) && std::fabs(d) <= max_exact_double;
}

// A whole double past 2^53 that would fit the type gets its own message: the range is not
// what is wrong, the notation is.
bool fits_if_exact(double d, double min, double max) {
    return is_whole(d) && !is_exact_whole(d) && d >= min && d < max + 1.0;
}

[[noreturn]] void throw_integer_mismatch(const decode_context& at, const std::string& min,
                                         const std::string& max, const boost::json::value& got,
                                         bool only_inexact) {
    if (only_inexact)
        throw json_error(place(at) +
                         ": expected integer written without fraction or exponent, "
                         "got " +
                         number_text(got));
    throw json_error(place(at) + ": expected integer in range [" + min + ", " + max + "], got " +
                     number_text(got));
}

} // namespace

void throw_kind_mismatch(const decode_context& at, std::string_view expected,
                         const boost::json::value& got) {
    throw json_error(place(at) + ": expected " + std::string(expected) + ", got " +
                     std::string(kind_name(got)));
}

void throw_missing_field(const decode_context& field) {
    throw json_error("missing field '" + path_text(field) + "'");
}

void throw_unknown_enum_value(const decode_context& at, std::string_view got) {
    // The allowed names are left out: an enum may have many, and the API docs list them.
    std::string message = place(at) + ": unknown value ";
    append_client_text(message, got, '\'');
    throw json_error(message);
}

void rethrow_decode_failure(const decode_context& at, const std::exception& e) {
    // Running out of memory is the server's trouble, not a bad request.
    if (dynamic_cast<const json_error*>(&e) != nullptr || dynamic_cast<const std::bad_alloc*>(&e))
        throw;

    // A system_error's what() carries Boost's source location, which a client has no use for.
    if (const auto* failure = dynamic_cast<const boost::system::system_error*>(&e))
        throw json_error(place(at) + ": " + failure->code().message());
    throw json_error(place(at) + ": " + e.what());
}

void throw_unnamed_enum_value(std::string_view number) {
    throw json_error("cannot encode enum value " + std::string(number) + ": it has no name");
}

void rethrow_encode_failure(const std::exception& e) {
    if (dynamic_cast<const json_error*>(&e) != nullptr || dynamic_cast<const std::bad_alloc*>(&e))
        throw;
    if (const auto* failure = dynamic_cast<const boost::system::system_error*>(&e))
        throw json_error("cannot encode value: " + failure->code().message());
    throw json_error(std::string("cannot encode value: ") + e.what());
}

void check_unknown_fields(const boost::json::object& object,
                          std::span<const std::string_view> known, const decode_context& at) {
    if (at.options().allow_unknown_fields)
        return;

    // Structs have few members, so a scan beats building a set for every object.
    for (const boost::json::key_value_pair& entry : object) {
        const std::string_view key(entry.key().data(), entry.key().size());
        if (std::find(known.begin(), known.end(), key) == known.end())
            throw json_error("unknown field '" + path_text(at.member(key)) + "'");
    }
}

bool decode_bool(const boost::json::value& v, const decode_context& at) {
    if (!v.is_bool())
        throw_kind_mismatch(at, "boolean", v);
    return v.get_bool();
}

std::int64_t decode_signed(const boost::json::value& v, const decode_context& at, std::int64_t min,
                           std::int64_t max) {
    switch (v.kind()) {
    case boost::json::kind::int64:
        if (v.get_int64() >= min && v.get_int64() <= max)
            return v.get_int64();
        break;
    case boost::json::kind::uint64:
        // max is never negative, so the cast keeps its value.
        if (v.get_uint64() <= static_cast<std::uint64_t>(max))
            return static_cast<std::int64_t>(v.get_uint64());
        break;
    case boost::json::kind::double_:
        // Within 2^53 both bounds and the value convert to double and back without loss.
        if (is_exact_whole(v.get_double()) && v.get_double() >= static_cast<double>(min) &&
            v.get_double() <= static_cast<double>(max))
            return static_cast<std::int64_t>(v.get_double());
        break;
    default:
        break;
    }
    const bool only_inexact =
        v.is_double() &&
        fits_if_exact(v.get_double(), static_cast<double>(min), static_cast<double>(max));
    throw_integer_mismatch(at, std::to_string(min), std::to_string(max), v, only_inexact);
}

std::uint64_t decode_unsigned(const boost::json::value& v, const decode_context& at,
                              std::uint64_t max) {
    switch (v.kind()) {
    case boost::json::kind::int64:
        if (v.get_int64() >= 0 && static_cast<std::uint64_t>(v.get_int64()) <= max)
            return static_cast<std::uint64_t>(v.get_int64());
        break;
    case boost::json::kind::uint64:
        if (v.get_uint64() <= max)
            return v.get_uint64();
        break;
    case boost::json::kind::double_:
        if (is_exact_whole(v.get_double()) && v.get_double() >= 0.0 &&
            v.get_double() <= static_cast<double>(max))
            return static_cast<std::uint64_t>(v.get_double());
        break;
    default:
        break;
    }
    const bool only_inexact =
        v.is_double() && fits_if_exact(v.get_double(), 0.0, static_cast<double>(max));
    throw_integer_mismatch(at, "0", std::to_string(max), v, only_inexact);
}

double decode_double(const boost::json::value& v, const decode_context& at) {
    if (!v.is_number())
        throw_kind_mismatch(at, "number", v);

    // The parser turns a number such as 1e400 into infinity, which has no JSON form to send
    // back: refuse it here rather than fail later when encoding.
    const double d = v.to_number<double>();
    if (!std::isfinite(d))
        throw json_error(place(at) + ": expected number within double range, got " +
                         double_text(d));
    return d;
}

float decode_float(const boost::json::value& v, const decode_context& at) {
    const double d = decode_double(v, at);
    // Below FLT_MAX plus half an ulp a double rounds to a finite float; FLT_MAX's own shortest
    // text, 3.4028235e38 (what encode_float writes for it), lies in that half ulp.
    if (std::fabs(d) >= 0x1.ffffffp127)
        throw json_error(place(at) + ": expected number within float range, got " + double_text(d));
    return static_cast<float>(d);
}

std::string decode_string(const boost::json::value& v, const decode_context& at) {
    if (!v.is_string())
        throw_kind_mismatch(at, "string", v);
    return std::string(v.get_string().data(), v.get_string().size());
}

const boost::json::object& expect_object(const boost::json::value& v, const decode_context& at) {
    if (!v.is_object())
        throw_kind_mismatch(at, "object", v);
    return v.get_object();
}

const boost::json::array& expect_array(const boost::json::value& v, const decode_context& at) {
    if (!v.is_array())
        throw_kind_mismatch(at, "array", v);
    return v.get_array();
}

boost::json::value encode_double(double d) {
    // Boost.JSON 1.81 would write these as Infinity and NaN, which no JSON parser accepts.
    if (!std::isfinite(d))
        throw json_error("cannot encode " + double_text(d) + " as JSON");
    return d;
}

boost::json::value encode_float(float f) {
    if (!std::isfinite(f))
        throw json_error("cannot encode " + double_text(f) + " as JSON");

    // Widening 0.1f gives 0.100000001490116...; going through the float's shortest decimal
    // gives the double a client would have written, and it narrows back to the same float.
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, f);
    double d = f;
    if (ec == std::errc())
        std::from_chars(buffer, end, d);
    return d;
}

const boost::json::value* find_non_finite(const boost::json::value& root) {
    // Iterative, so that a deep tree built in code cannot overflow the stack.
    std::vector<const boost::json::value*> pending{&root};
    while (!pending.empty()) {
        const auto* v = pending.back();
        pending.pop_back();
        if (v->is_double() && !std::isfinite(v->get_double()))
            return v;
        if (const auto* a = v->if_array())
            for (const auto& item : *a)
                pending.push_back(&item);
        if (const auto* o = v->if_object())
            for (const auto& member : *o)
                pending.push_back(&member.value());
    }
    return nullptr;
}

std::string serialize_checked(const boost::json::value& v) {
    // Boost.JSON would write Infinity or NaN, which no JSON parser accepts.
    if (const auto* bad = find_non_finite(v))
        throw json_error("cannot encode " + double_text(bad->get_double()) + " as JSON");
    return boost::json::serialize(v);
}

boost::json::value parse_json_into(std::string_view text, std::size_t max_depth,
                                   boost::json::storage_ptr storage) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::parser parser(boost::json::storage_ptr(), options);
    parser.reset(std::move(storage));

    // write() also fails on an incomplete text and on anything after the value; what it
    // returns is where it stopped, which is where the error is.
    boost::json::error_code ec;
    const std::size_t offset = parser.write(text.data(), text.size(), ec);
    if (ec == boost::json::error::too_deep)
        throw json_error("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    if (ec)
        throw json_error("invalid JSON at offset " + std::to_string(offset) + ": " + ec.message());
    auto tree = parser.release();
    // A number too large for a double parses as infinity; refusing it here
    // keeps it out of every reply and publish built from this tree.
    if (find_non_finite(tree))
        throw json_error("number out of range");
    return tree;
}

} // namespace detail

boost::json::value parse_json(std::string_view text, std::size_t max_depth) {
    return detail::parse_json_into(text, max_depth, boost::json::storage_ptr());
}

} // namespace switchboard
