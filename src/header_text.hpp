// Small text helpers for header values, shared by the server's HTTP and WebSocket handshake
// code and the client's.
#pragma once

#include "text.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::detail {

/// Strips optional whitespace (space and tab) from both ends.
inline std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

/// Appends the non-empty, trimmed items of a comma-separated header value.
inline void append_list_items(std::string_view list, std::vector<std::string_view>& items) {
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = trim_ows(list.substr(0, comma));
        if (!item.empty()) {
            items.push_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
}

/// Every comma-separated, trimmed, non-empty token of every field named `name` (any case).
inline std::vector<std::string_view>
header_tokens(const std::vector<std::pair<std::string, std::string>>& fields,
              std::string_view name) {
    std::vector<std::string_view> tokens;
    for (const auto& [key, value] : fields) {
        if (iequals(key, name)) {
            append_list_items(value, tokens);
        }
    }
    return tokens;
}

/// Whether `wanted` is among `tokens`, compared without regard to case.
inline bool has_token(const std::vector<std::string_view>& tokens, std::string_view wanted) {
    return std::any_of(tokens.begin(), tokens.end(),
                       [&](std::string_view t) { return iequals(t, wanted); });
}

} // namespace switchboard::detail
