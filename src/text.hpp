// Small text helpers shared by the server, the WebSocket code and the client, so that each
// comparison and each cut is done one way everywhere.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace switchboard::detail {

/// Case-insensitive comparison of ASCII text (header names, tokens, schemes). Locale-free on
/// purpose: HTTP's case rules are ASCII's, whatever the process locale says.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    constexpr auto fold = [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return fold(x) == fold(y); });
}

/// At most `limit` bytes of `text`, shortened further so the cut never falls inside a UTF-8
/// character: a message quoting a peer's text must stay valid UTF-8 to travel in JSON or in a
/// WebSocket close reason. Text that was not valid UTF-8 to begin with is not repaired here.
inline std::string_view utf8_prefix(std::string_view text, std::size_t limit) noexcept {
    if (text.size() <= limit) {
        return text;
    }
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return text.substr(0, cut);
}

} // namespace switchboard::detail
