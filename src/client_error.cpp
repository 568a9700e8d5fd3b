#include <switchboard/client.hpp>

namespace switchboard {

namespace {

class client_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "switchboard.client"; }

    std::string message(int value) const override {
        switch (static_cast<client_errc>(value)) {
        case client_errc::bad_url:
            return "bad URL";
        case client_errc::unsupported_scheme:
            return "URL scheme not supported";
        case client_errc::invalid_request:
            return "request cannot be sent";
        case client_errc::connect_timeout:
            return "connect timed out";
        case client_errc::request_timeout:
            return "request timed out";
        case client_errc::handshake_timeout:
            return "WebSocket handshake timed out";
        case client_errc::connection_closed:
            return "connection closed before the response was complete";
        case client_errc::header_too_large:
            return "response head too large";
        case client_errc::body_too_large:
            return "response body too large";
        case client_errc::bad_response:
            return "malformed HTTP response";
        case client_errc::http_status:
            return "error status from the server";
        case client_errc::not_json:
            return "response body is not JSON";
        case client_errc::unexpected_json:
            return "response JSON does not fit the expected type";
        case client_errc::upgrade_refused:
            return "WebSocket upgrade refused";
        case client_errc::handshake_failed:
            return "invalid WebSocket handshake response";
        case client_errc::handshake_closed:
            return "connection closed during the WebSocket handshake";
        case client_errc::not_open:
            return "WebSocket is not open";
        case client_errc::protocol_error:
            return "WebSocket protocol error from the server";
        case client_errc::idle_timeout:
            return "WebSocket peer silent past the idle timeout";
        case client_errc::send_timeout:
            return "WebSocket send timed out";
        case client_errc::tls_handshake_failed:
            return "TLS handshake failed";
        case client_errc::certificate_rejected:
            return "server certificate rejected";
        case client_errc::bad_tls_options:
            return "TLS trust store cannot be loaded";
        }
        return "unknown client error";
    }
};

} // namespace

const std::error_category& client_category() noexcept {
    static const client_category_impl instance;
    return instance;
}

std::error_code make_error_code(client_errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}

struct client_error::details {
    std::string message;
    int status;
    std::vector<std::string> errors;
    std::string body;
};

client_error::client_error(std::error_code code, std::string message, int status,
                           std::vector<std::string> errors, std::string body)
    : std::system_error(code)
    , details_(std::make_shared<const details>(
          details{std::move(message), status, std::move(errors), std::move(body)})) {
}

const char* client_error::what() const noexcept {
    return details_->message.c_str();
}

int client_error::status() const noexcept {
    return details_->status;
}

const std::vector<std::string>& client_error::errors() const noexcept {
    return details_->errors;
}

const std::string& client_error::body() const noexcept {
    return details_->body;
}

} // namespace switchboard
