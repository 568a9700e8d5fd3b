#include "ws_handshake.hpp"

#include "header_text.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace switchboard::detail {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::size_t header_count(const request& req, std::string_view name) {
    return static_cast<std::size_t>(
        std::count_if(req.headers().begin(), req.headers().end(),
                      [&](const auto& field) { return iequals(field.first, name); }));
}

/// A key is the base64 of 16 bytes: 22 alphabet characters and "==".
bool valid_key(std::string_view key) {
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    auto is_b64 = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    };
    if (!std::all_of(key.begin(), key.begin() + 22, is_b64)) {
        return false;
    }
    // The last character carries 2 bits of the 16th byte and 4 zero bits.
    static constexpr std::string_view last_ok = "AQgw";
    return last_ok.find(key[21]) != std::string_view::npos;
}

struct origin_parts {
    std::string scheme;
    std::string host;
    std::string port;
};

std::string default_port(std::string_view scheme) {
    if (scheme == "https" || scheme == "wss") {
        return "443";
    }
    return "80";
}

/// Splits "host[:port]" (IPv6 in brackets) and fills the default port.
std::optional<origin_parts> split_authority(std::string scheme, std::string_view authority) {
    origin_parts parts;
    parts.scheme = std::move(scheme);
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = authority.substr(0, close + 1);
        auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return std::nullopt;
            }
            port = rest.substr(1);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos ||
        !std::all_of(port.begin(), port.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
        return std::nullopt;
    }
    parts.host = lower(host);
    parts.port = port.empty() ? default_port(parts.scheme) : std::string(port);
    return parts;
}

std::optional<origin_parts> parse_origin(std::string_view origin) {
    auto sep = origin.find("://");
    if (sep == std::string_view::npos) {
        return std::nullopt;
    }
    auto scheme = lower(origin.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
        return std::nullopt;
    }
    auto authority = origin.substr(sep + 3);
    // An Origin is scheme://host[:port] and nothing else; allow-list
    // entries may end in "/".
    if (!authority.empty() && authority.back() == '/') {
        authority.remove_suffix(1);
    }
    return split_authority(std::move(scheme), authority);
}

} // namespace

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed) {
    if (!allowed.empty()) {
        if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) {
            return true;
        }
        if (origin == "null") {
            return std::find(allowed.begin(), allowed.end(), "null") != allowed.end();
        }
        auto theirs = parse_origin(origin);
        if (!theirs) {
            return false;
        }
        return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
            auto ours = parse_origin(entry);
            return ours && ours->scheme == theirs->scheme && ours->host == theirs->host &&
                   ours->port == theirs->port;
        });
    }

    // Same origin: the page was served by this server, under the Host the
    // browser put in the handshake.
    auto theirs = parse_origin(origin);
    if (!theirs) {
        return false;
    }
    auto ours = split_authority(theirs->scheme, host);
    return ours && ours->host == theirs->host && ours->port == theirs->port;
}

std::string accept_key(std::string_view key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input(key);
    input += guid;
    std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
    std::array<unsigned char, 32> encoded{};
    int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest.size()));
    return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

std::optional<early_answer> check_upgrade(const request& req, const websocket_upgrade& token,
                                          const std::vector<std::string>& server_origins,
                                          std::vector<std::pair<std::string, std::string>>& extra) {
    if (req.method() != "GET") {
        return early_answer{400, "a WebSocket upgrade must use GET"};
    }

    auto upgrade = header_tokens(req.headers(), "Upgrade");
    if (!has_token(upgrade, "websocket")) {
        // A plain request to a WebSocket-only route: say what it needs.
        extra.emplace_back("Upgrade", "websocket");
        extra.emplace_back("Connection", "Upgrade, close");
        return early_answer{426, "this route needs a WebSocket upgrade"};
    }
    if (req.version() != 11) {
        return early_answer{400, "a WebSocket upgrade needs HTTP/1.1"};
    }
    if (!has_token(header_tokens(req.headers(), "Connection"), "upgrade")) {
        return early_answer{400, "the Connection header must contain \"upgrade\""};
    }
    auto version = req.header("Sec-WebSocket-Version");
    if (header_count(req, "Sec-WebSocket-Version") != 1 || trim_ows(*version) != "13") {
        extra.emplace_back("Sec-WebSocket-Version", "13");
        return early_answer{426, "unsupported WebSocket version; this server speaks 13"};
    }
    auto key = req.header("Sec-WebSocket-Key");
    if (header_count(req, "Sec-WebSocket-Key") != 1 || !valid_key(trim_ows(*key))) {
        return early_answer{400, "missing or malformed Sec-WebSocket-Key"};
    }

    if (auto origin = req.header("Origin")) {
        const auto& allowed = token.origins() ? *token.origins() : server_origins;
        if (header_count(req, "Origin") != 1 ||
            !origin_allowed(trim_ows(*origin), req.header("Host").value_or(""), allowed)) {
            return early_answer{403, "origin not allowed"};
        }
    }

    const auto& chosen = token.chosen_subprotocol();
    if (!chosen.empty() &&
        !has_token(header_tokens(req.headers(), "Sec-WebSocket-Protocol"), chosen)) {
        // The handler picked something the client did not offer: a bug in
        // the route, not in the request.
        return early_answer{500, "internal server error"};
    }
    return std::nullopt;
}

std::string switching_protocols(const request& req, const websocket_upgrade& token,
                                const std::string& server_header) {
    std::string out = "HTTP/1.1 101 Switching Protocols\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: ";
    out += accept_key(trim_ows(req.header("Sec-WebSocket-Key").value_or("")));
    out += "\r\n";
    if (!token.chosen_subprotocol().empty()) {
        out += "Sec-WebSocket-Protocol: " + token.chosen_subprotocol() + "\r\n";
    }
    if (!server_header.empty()) {
        out += "Server: " + server_header + "\r\n";
    }
    out += "\r\n";
    return out;
}

} // namespace switchboard::detail
