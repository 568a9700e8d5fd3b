// Small text helpers for header values, shared by the HTTP and WebSocket
// handshake code.
#pragma once

#include <string_view>
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

} // namespace switchboard::detail
