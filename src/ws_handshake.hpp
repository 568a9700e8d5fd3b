// The server side of the opening handshake (RFC 6455 4.2), without sockets.
#pragma once

#include "http_exchange.hpp"

#include <switchboard/request.hpp>
#include <switchboard/websocket.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::detail {

/// Why an upgrade is refused, as the client will be told; nullopt when the
/// request is a valid handshake for `token` (Origin included).
/// `extra` receives headers the refusal needs (426 names what to use).
std::optional<early_answer> check_upgrade(const request& req, const websocket_upgrade& token,
                                          const std::vector<std::string>& server_origins,
                                          std::vector<std::pair<std::string, std::string>>& extra);

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
std::string accept_key(std::string_view key);

/// The 101 response bytes.
std::string switching_protocols(const request& req, const websocket_upgrade& token,
                                const std::string& server_header);

/// True when `origin` may open the socket: exact scheme, host and port after
/// normalising case and default ports, never a prefix or substring match.
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed);

} // namespace switchboard::detail
