// Typed path and query parameters.
//
// `request::param<T>` and `request::query<T>` turn the decoded text of a
// parameter into a T. Built in: std::string, bool ("true"/"false"/"1"/"0"),
// every integer type (decimal, the whole text, range-checked) and double.
// A type of your own takes part by declaring, in its namespace,
//
//     bool parse_param(std::string_view text, my_type& out);
//
// which returns false for text that is not a valid my_type. A value that does
// not parse becomes a 400 for the client, never a 500.
#pragma once

#include <charconv>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace switchboard {

bool parse_param(std::string_view text, std::string& out);
bool parse_param(std::string_view text, bool& out);
bool parse_param(std::string_view text, double& out);

template <std::integral T>
requires(!std::same_as<T, bool>) bool parse_param(std::string_view text, T& out) {
    // from_chars accepts a leading '-' for signed types only and no '+' or
    // spaces, which is the strictness a URL parameter wants.
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end && !text.empty();
}

namespace detail {

template <class T>
concept param_parsable = requires(std::string_view text, T& out) {
    { parse_param(text, out) } -> std::convertible_to<bool>;
};

/// What the client is told a value should have been.
template <class T>
constexpr std::string_view param_kind() {
    if constexpr (std::same_as<T, bool>) {
        return "a boolean";
    } else if constexpr (std::integral<T> && std::is_signed_v<T>) {
        return "an integer";
    } else if constexpr (std::integral<T>) {
        return "a non-negative integer";
    } else if constexpr (std::floating_point<T>) {
        return "a number";
    } else {
        return "a valid value";
    }
}

template <param_parsable T>
std::optional<T> parse_param_as(std::string_view text) {
    T value{};
    if (!parse_param(text, value)) {
        return std::nullopt;
    }
    return value;
}

} // namespace detail
} // namespace switchboard
