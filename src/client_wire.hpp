// The client's protocol logic without sockets: the bytes of a request and of a WebSocket
// handshake, the reading of a response from bytes as they arrive, the checks on a 101, and the
// masks. The drivers (client_http.cpp, client_ws.cpp) only move bytes and keep deadlines, so
// everything here can be unit-tested and fuzzed byte by byte.
#pragma once

#include <switchboard/client.hpp>

#include <boost/system/error_code.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace switchboard::detail::wire {

/// The text of one HTTP/1.1 request: the client's own fields (Host, User-Agent, Accept,
/// Content-Type when there is a body), then `defaults`, then `headers`; a later field replaces
/// an earlier one of the same name. Content-Length is written for a body and for POST, PUT and
/// PATCH. Throws std::invalid_argument for a method that is not a token, a field name that is
/// not one, a value holding CR, LF or NUL, and the fields the client owns (Host,
/// Content-Length, Transfer-Encoding, Connection).
std::string request_text(std::string_view method, const url_parts& url, std::string_view user_agent,
                         const header_list& defaults, const header_list& headers,
                         std::string_view body);

/// Whether a request may be sent twice without changing its effect (RFC 9110 9.2.2).
bool idempotent(std::string_view method) noexcept;

/// The opening handshake of a WebSocket connection (RFC 6455 4.1). Throws
/// std::invalid_argument for a subprotocol that is not a token or is offered twice, and for
/// extra fields that are malformed or belong to the handshake itself.
std::string upgrade_request_text(const url_parts& url, std::string_view key,
                                 const std::vector<std::string>& subprotocols,
                                 const header_list& headers);

/// A fresh Sec-WebSocket-Key: the base64 of 16 bytes from OpenSSL's CSPRNG.
std::string new_websocket_key();

/// The server's messages in an error body: the strings of `{"errors": [...]}`, or the one of
/// `{"error": "..."}`; empty for anything else. At most 32 messages of at most 512 bytes each,
/// so a hostile body cannot make the error itself large.
std::vector<std::string> errors_from_body(std::string_view body);

/// Reads one HTTP/1.x response from bytes as they arrive.
///
/// Interim 1xx responses other than 101 are skipped, as RFC 9110 15.2 asks. A 1xx, 204 or 304
/// never has a body, whatever Content-Length or Transfer-Encoding says (so a 101 that declares
/// a Content-Length is complete after its head). The response to a HEAD has no body either.
///
/// Memory: the reader holds at most one head (max_header) and the body (max_body), plus the
/// part of the last input it could not use yet.
class response_reader {
public:
    /// What happens to a body longer than max_body: the limit fails the response with
    /// body_too_large; truncation keeps the first max_body bytes, and the response is complete
    /// once they are in (what a refused upgrade's body needs).
    enum class body_mode { limit, truncate };

    response_reader(std::size_t max_header, std::size_t max_body, body_mode mode,
                    bool head_request = false);
    // The parser calls back into the reader, so the reader stays where it was made.
    response_reader(const response_reader&) = delete;
    response_reader& operator=(const response_reader&) = delete;
    ~response_reader();

    /// Takes the next bytes received. After done() or failed() nothing more is consumed:
    /// further bytes are kept for leftover().
    void feed(std::string_view data);
    /// The peer closed its side: completes a body that runs to the end of the connection, and
    /// fails anything else that is not complete with connection_closed.
    void feed_eof();

    bool header_done() const noexcept;
    bool done() const noexcept { return done_; }
    bool failed() const noexcept { return static_cast<bool>(error_); }
    /// Whether any byte of a response has arrived.
    bool got_some() const noexcept { return got_some_; }

    /// connection_closed, header_too_large, body_too_large or bad_response.
    std::error_code error() const noexcept { return error_; }
    /// A short wording of our own (or the HTTP parser's) for error(); never the peer's bytes.
    const std::string& error_detail() const noexcept { return error_detail_; }

    client_response& response() noexcept { return response_; }
    const client_response& response() const noexcept { return response_; }
    unsigned version() const noexcept { return version_; }
    bool body_truncated() const noexcept { return truncated_; }

    /// Whether the connection can carry another request: HTTP/1.1 without "Connection: close"
    /// (or 1.0 with keep-alive), a body delimited by its length or chunks, nothing left over.
    bool reusable() const noexcept;

    /// Bytes received after the end of the response: the first frames behind a 101.
    std::string take_leftover();

private:
    class parser;
    friend class parser;

    void start_parser();
    void parse();
    std::size_t take_body(std::string_view data, boost::system::error_code& ec);
    void fail(client_errc code, std::string detail);

    std::size_t max_header_;
    std::size_t max_body_;
    body_mode mode_;
    bool head_request_;
    std::unique_ptr<parser> parser_;
    std::string pending_; // input not yet consumed by the parser
    client_response response_;
    unsigned version_ = 11;
    bool done_ = false;
    bool got_some_ = false;
    bool truncated_ = false;
    std::error_code error_;
    std::string error_detail_;
};

/// Reads the server's answer to an opening handshake and checks it (RFC 6455 4.1).
class upgrade_reader {
public:
    enum class state {
        reading,  ///< more bytes are needed
        upgraded, ///< a valid 101: frames follow, starting with leftover()
        refused,  ///< any other status: response() holds it, its body truncated
        failed,   ///< an invalid 101, a malformed answer, or a close before the end
    };

    upgrade_reader(std::string_view key, std::vector<std::string> offered, std::size_t max_header,
                   std::size_t max_error_body);

    void feed(std::string_view data);
    void feed_eof();

    state current() const noexcept { return state_; }
    /// handshake_failed or handshake_closed, for state::failed.
    std::error_code error() const noexcept { return error_; }
    const std::string& error_detail() const noexcept { return detail_; }
    const client_response& response() const noexcept { return reader_.response(); }
    /// The subprotocol the server chose, for state::upgraded; empty when none.
    const std::string& subprotocol() const noexcept { return subprotocol_; }
    std::string take_leftover() { return reader_.take_leftover(); }

private:
    void settle();
    std::optional<std::string> check_101();

    std::string expected_accept_;
    std::vector<std::string> offered_;
    response_reader reader_;
    state state_ = state::reading;
    std::error_code error_;
    std::string detail_;
    std::string subprotocol_;
};

/// Masking keys for client frames (RFC 6455 5.3): drawn from OpenSSL's CSPRNG, a batch at a
/// time so that a frame costs no system call, and never reused.
class mask_source {
public:
    std::array<unsigned char, 4> next();

private:
    std::array<unsigned char, 256> pool_{};
    std::size_t used_ = pool_.size();
};

/// Fills `out` from OpenSSL's CSPRNG; throws std::runtime_error when it cannot.
void random_bytes(unsigned char* out, std::size_t size);

/// At most `limit` bytes of `text`, cut at a character boundary: what an error keeps of a
/// peer's text.
std::string capped(std::string_view text, std::size_t limit);

/// "scheme://host:port/target", the URL as error messages and logs show it.
std::string shown_url(const url_parts& url);

} // namespace switchboard::detail::wire
