// What a handler answers with.
#pragma once

#include <switchboard/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard {

class websocket_upgrade;

/// A handler's answer: a body with a status (JSON unless said otherwise), an
/// error (`{"errors": [...]}`), or a WebSocket upgrade.
///
/// Errors can also be thrown as http_error; both produce the same response.
class reply {
public:
    /// 204 No Content.
    reply();

    /// `body` converted with to_json (a described struct, a container, a
    /// boost::json::value...), with `status` (200 unless said otherwise).
    template <class T>
    static reply json(const T& body, int status = 200) {
        return raw(status, "application/json", encode_json(body));
    }

    static reply error(int status, std::string message);
    static reply error(int status, const std::vector<std::string>& messages);

    /// A body that is not JSON, such as a page or plain text.
    static reply raw(int status, std::string content_type, std::string body);

    /// Switch the connection to WebSocket; see websocket.hpp.
    static reply upgrade(websocket_upgrade token);

    /// Adds a response header. Content-Type, Content-Length, Connection and
    /// Server are set by Switchboard and cannot be added here.
    reply& header(std::string name, std::string value);

    int status() const noexcept { return status_; }
    const std::string& content_type() const noexcept { return content_type_; }
    const std::string& body() const noexcept { return body_; }
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
        return headers_;
    }

    bool is_upgrade() const noexcept { return upgrade_ != nullptr; }
    /// The upgrade token, or nullptr for an ordinary reply.
    websocket_upgrade* upgrade_token() const noexcept { return upgrade_.get(); }

private:
    int status_ = 204;
    std::string content_type_;
    std::string body_;
    std::vector<std::pair<std::string, std::string>> headers_;
    std::shared_ptr<websocket_upgrade> upgrade_;
};

/// The JSON text of an error body, `{"errors":["..."]}`.
std::string error_body(const std::vector<std::string>& messages);

} // namespace switchboard
