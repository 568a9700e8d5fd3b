// Errors a handler raises and the codes Switchboard's own operations report.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace switchboard {

/// An error with an HTTP status and messages meant for the client. Thrown from
/// a handler (or from request helpers such as `request::param`), it becomes a
/// response `{"errors": [...]}` with that status. Use it only for text the
/// client may see; anything else a handler throws becomes a generic 500.
class http_error : public std::runtime_error {
public:
    http_error(int status, std::string message);
    http_error(int status, std::vector<std::string> messages);

    int status() const noexcept { return status_; }
    const std::vector<std::string>& messages() const noexcept { return messages_; }

private:
    int status_;
    std::vector<std::string> messages_;
};

/// Conditions Switchboard's asynchronous operations end with. The messages are
/// short and stable; text a peer sent is never part of them.
enum class error {
    header_timeout = 1, ///< the request head did not arrive within its deadline
    body_timeout,       ///< the request body did not arrive within its deadline
    idle_timeout,       ///< a keep-alive connection stayed silent too long
    write_timeout,      ///< the peer did not take a response within its deadline
    server_stopping,    ///< the server is shutting down
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(error e) noexcept;

} // namespace switchboard

template <>
struct std::is_error_code_enum<switchboard::error> : std::true_type {};
