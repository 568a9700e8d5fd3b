#include <switchboard/request.hpp>

#include "text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace switchboard {

namespace {

using detail::iequals;

// Parameter text goes back to the client inside an error message: keep it
// short so a huge value does not become a huge response.
std::string excerpt(std::string_view text) {
    constexpr std::size_t max_shown = 64;
    if (text.size() <= max_shown) {
        return std::string(text);
    }
    return std::string(detail::utf8_prefix(text, max_shown)) + "...";
}

} // namespace

request::request(parts p)
    : p_(std::move(p)) {
}

std::string_view request::path() const noexcept {
    std::string_view target = p_.target;
    return target.substr(0, target.find('?'));
}

std::optional<std::string_view> request::header(std::string_view name) const {
    for (const auto& [key, value] : p_.headers) {
        if (iequals(key, name)) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::string_view request::param(std::string_view name) const {
    for (const auto& [key, value] : p_.path_params) {
        if (key == name) {
            return value;
        }
    }
    throw std::out_of_range(fmt::format("route has no path parameter '{}'", name));
}

std::optional<std::string_view> request::query(std::string_view name) const {
    for (const auto& [key, value] : p_.query_params) {
        if (key == name) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> request::query_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& [key, value] : p_.query_params) {
        if (key == name) {
            values.emplace_back(value);
        }
    }
    return values;
}

const std::string& request::require_body() const {
    if (p_.body.empty()) {
        throw http_error(400, "body: expected JSON, got an empty body");
    }
    return p_.body;
}

void request::bad_param(std::string_view where, std::string_view name, std::string_view text,
                        std::string_view kind) {
    throw http_error(
        400, fmt::format("{} '{}': expected {}, got '{}'", where, name, kind, excerpt(text)));
}

bool parse_param(std::string_view text, std::string& out) {
    out.assign(text);
    return true;
}

bool parse_param(std::string_view text, bool& out) {
    if (text == "true" || text == "1") {
        out = true;
        return true;
    }
    if (text == "false" || text == "0") {
        out = false;
        return true;
    }
    return false;
}

bool parse_param(std::string_view text, double& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end && !text.empty() && std::isfinite(out);
}

} // namespace switchboard
