#include "client_wire.hpp"

#include "header_text.hpp"
#include "ws_handshake.hpp"

#include <switchboard/json.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace switchboard::detail::wire {

namespace http = boost::beast::http;

namespace {

bool is_token_char(unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return is_token_char(static_cast<unsigned char>(c));
    });
}

// A field we write must not let its value start a new line: that would let whoever chose the
// value add fields or a whole request of their own.
void check_field(std::string_view name, std::string_view value) {
    if (!is_token(name)) {
        throw std::invalid_argument("header name is not a token");
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        throw std::invalid_argument("header value holds CR, LF or NUL");
    }
}

bool is_any_of(std::string_view name, std::initializer_list<std::string_view> names) {
    return std::any_of(names.begin(), names.end(),
                       [&](std::string_view n) { return iequals(name, n); });
}

// Adds or replaces a field by name, keeping the position of the first one.
void set_field(header_list& fields, std::string_view name, std::string_view value) {
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const auto& field) { return iequals(field.first, name); });
    if (it == fields.end()) {
        fields.emplace_back(name, value);
        return;
    }
    it->second = value;
    fields.erase(std::remove_if(std::next(it), fields.end(),
                                [&](const auto& field) { return iequals(field.first, name); }),
                 fields.end());
}

void append_fields(std::string& out, const header_list& fields) {
    for (const auto& [name, value] : fields) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

} // namespace

std::string capped(std::string_view text, std::size_t limit) {
    return std::string(utf8_prefix(text, limit));
}

std::string shown_url(const url_parts& url) {
    return url.scheme + "://" + url.authority() + url.target;
}

// Requests

std::string request_text(std::string_view method, const url_parts& url, std::string_view user_agent,
                         const header_list& defaults, const header_list& headers,
                         std::string_view body) {
    if (!is_token(method)) {
        throw std::invalid_argument("HTTP method is not a token");
    }

    header_list fields;
    fields.emplace_back("Host", url.host_header());
    if (!user_agent.empty()) {
        fields.emplace_back("User-Agent", user_agent);
    }
    fields.emplace_back("Accept", "application/json");
    if (!body.empty()) {
        fields.emplace_back("Content-Type", "application/json");
    }
    for (const header_list* list : {&defaults, &headers}) {
        for (const auto& [name, value] : *list) {
            check_field(name, value);
            if (is_any_of(name, {"Host", "Content-Length", "Transfer-Encoding", "Connection"})) {
                throw std::invalid_argument("header '" + name + "' is set by the client");
            }
            set_field(fields, name, value);
        }
    }
    // Servers may refuse a POST without a length (411) even when it has no body.
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        fields.emplace_back("Content-Length", std::to_string(body.size()));
    }

    std::string out;
    out.reserve(256 + body.size());
    out += method;
    out += ' ';
    out += url.target;
    out += " HTTP/1.1\r\n";
    append_fields(out, fields);
    out += "\r\n";
    out += body;
    return out;
}

bool idempotent(std::string_view method) noexcept {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
           method == "OPTIONS" || method == "TRACE";
}

std::string upgrade_request_text(const url_parts& url, std::string_view key,
                                 const std::vector<std::string>& subprotocols,
                                 const header_list& headers) {
    for (std::size_t i = 0; i < subprotocols.size(); ++i) {
        if (!is_token(subprotocols[i])) {
            throw std::invalid_argument("subprotocol is not a token");
        }
        if (std::find(subprotocols.begin(), subprotocols.begin() + static_cast<long>(i),
                      subprotocols[i]) != subprotocols.begin() + static_cast<long>(i)) {
            throw std::invalid_argument("subprotocol offered twice");
        }
    }
    for (const auto& [name, value] : headers) {
        check_field(name, value);
        if (is_any_of(name, {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                             "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
                             "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept", "Content-Length",
                             "Transfer-Encoding"})) {
            throw std::invalid_argument("header '" + name + "' belongs to the handshake");
        }
    }

    std::string out = "GET " + url.target + " HTTP/1.1\r\n";
    out += "Host: " + url.host_header() + "\r\n";
    out += "Upgrade: websocket\r\n";
    out += "Connection: Upgrade\r\n";
    out += "Sec-WebSocket-Key: ";
    out += key;
    out += "\r\n";
    out += "Sec-WebSocket-Version: 13\r\n";
    if (!subprotocols.empty()) {
        out += "Sec-WebSocket-Protocol: ";
        for (std::size_t i = 0; i < subprotocols.size(); ++i) {
            out += i == 0 ? "" : ", ";
            out += subprotocols[i];
        }
        out += "\r\n";
    }
    append_fields(out, headers);
    out += "\r\n";
    return out;
}

std::string new_websocket_key() {
    std::array<unsigned char, 16> nonce{};
    random_bytes(nonce.data(), nonce.size());
    return base64(nonce.data(), nonce.size());
}

std::vector<std::string> errors_from_body(std::string_view body) {
    constexpr std::size_t max_messages = 32;
    constexpr std::size_t max_length = 512;

    boost::json::value tree;
    try {
        tree = parse_json(body, 8);
    } catch (const json_error&) {
        return {};
    }
    const auto* object = tree.if_object();
    if (object == nullptr) {
        return {};
    }

    std::vector<std::string> messages;
    if (const auto* list = object->if_contains("errors"); list != nullptr && list->is_array()) {
        for (const auto& item : list->get_array()) {
            if (messages.size() == max_messages) {
                break;
            }
            if (const auto* text = item.if_string()) {
                messages.push_back(capped(*text, max_length));
            }
        }
    } else if (const auto* one = object->if_contains("error"); one != nullptr && one->is_string()) {
        messages.push_back(capped(one->get_string(), max_length));
    }
    return messages;
}

// response_reader

class response_reader::parser final : public http::basic_parser<false> {
public:
    explicit parser(response_reader& owner)
        : owner_(owner) {}

private:
    using error_code = boost::system::error_code;

    void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int,
                         error_code& ec) override {
        ec = http::error::bad_method; // unreachable: this parser reads responses only
    }

    void on_response_impl(int code, boost::beast::string_view reason, int version,
                          error_code& ec) override {
        // Beast takes any three digits; RFC 9110 gives status codes the range 100-599, and a
        // code outside it has no class a client could fall back on, so the answer is malformed.
        if (code < 100 || code > 599) {
            ec = http::error::bad_status;
            return;
        }
        owner_.response_.status = code;
        owner_.response_.reason.assign(reason.data(), reason.size());
        owner_.version_ = static_cast<unsigned>(version);
    }

    void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value,
                       error_code&) override {
        owner_.response_.headers.emplace_back(std::string(name.data(), name.size()),
                                              std::string(value.data(), value.size()));
    }

    void on_header_impl(error_code& ec) override {
        // Refused as soon as the head is in, before a byte of the body is waited for, so a huge
        // declared length costs nothing. A response that has no body (1xx, 204, 304, the answer
        // to HEAD) is done already, whatever its Content-Length says.
        const auto length = is_done() ? boost::none : content_length();
        if (length && *length > owner_.max_body_ && owner_.mode_ == body_mode::limit) {
            ec = http::error::body_limit;
        }
    }

    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        if (length) {
            owner_.response_.body.reserve(
                static_cast<std::size_t>(std::min<std::uint64_t>(*length, owner_.max_body_)));
        }
    }

    std::size_t on_body_impl(boost::beast::string_view data, error_code& ec) override {
        return owner_.take_body(std::string_view(data.data(), data.size()), ec);
    }

    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view data,
                                   error_code& ec) override {
        return owner_.take_body(std::string_view(data.data(), data.size()), ec);
    }

    void on_finish_impl(error_code&) override {}

    response_reader& owner_;
};

response_reader::response_reader(std::size_t max_header, std::size_t max_body, body_mode mode,
                                 bool head_request)
    : max_header_(max_header)
    , max_body_(max_body)
    , mode_(mode)
    , head_request_(head_request) {
    start_parser();
}

response_reader::~response_reader() = default;

void response_reader::start_parser() {
    parser_ = std::make_unique<parser>(*this);
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(max_header_, UINT32_MAX)));
    // Our own take_body enforces the limit, so that truncation is possible too.
    parser_->body_limit(boost::none);
    parser_->eager(true);
    if (head_request_) {
        parser_->skip(true);
    }
    response_ = client_response{};
}

bool response_reader::header_done() const noexcept {
    return done_ || parser_->is_header_done();
}

void response_reader::feed(std::string_view data) {
    got_some_ = got_some_ || !data.empty();
    if (truncated_) {
        // The rest of a body that was cut short: never read, however it arrives.
        return;
    }
    pending_.append(data);
    parse();
}

std::size_t response_reader::take_body(std::string_view data, boost::system::error_code& ec) {
    auto& body = response_.body;
    if (data.size() <= max_body_ - body.size()) {
        body.append(data);
        return data.size();
    }
    if (mode_ == body_mode::limit) {
        ec = http::error::body_limit;
        return 0;
    }
    // Truncating: keep what fits and stop the parser; the rest of the body is never read.
    body.append(data.substr(0, max_body_ - body.size()));
    truncated_ = true;
    ec = http::error::body_limit;
    return data.size();
}

void response_reader::parse() {
    while (!done_ && !failed() && !pending_.empty()) {
        boost::system::error_code ec;
        const auto used = parser_->put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);

        if (ec == http::error::need_more) {
            return;
        }
        if (ec == http::error::body_limit && truncated_) {
            // What follows in the buffer is more of the same body (a later chunk, the
            // bytes of a body read to the end of the connection): not a next response.
            pending_.clear();
            done_ = true;
            return;
        }
        if (ec == http::error::body_limit) {
            fail(client_errc::body_too_large, "response body too large");
            return;
        }
        if (ec == http::error::header_limit) {
            fail(client_errc::header_too_large, "response head too large");
            return;
        }
        if (ec) {
            // The parser's messages are fixed texts of its own, never the peer's bytes.
            fail(client_errc::bad_response, "malformed response: " + ec.message());
            return;
        }
        if (!parser_->is_done()) {
            continue;
        }

        const int status = response_.status;
        if (status / 100 == 1 && status != 101) {
            // An interim answer (100 Continue, 103 Early Hints): the real one follows.
            start_parser();
            continue;
        }
        done_ = true;
    }
}

void response_reader::feed_eof() {
    if (done_ || failed()) {
        return;
    }
    if (!parser_->is_header_done()) {
        fail(client_errc::connection_closed, got_some_
                                                 ? "connection closed inside the response head"
                                                 : "connection closed before any response");
        return;
    }
    boost::system::error_code ec;
    parser_->put_eof(ec);
    if (ec || !parser_->is_done()) {
        fail(client_errc::connection_closed, "connection closed inside the response body");
        return;
    }
    done_ = true;
}

void response_reader::fail(client_errc code, std::string detail) {
    error_ = code;
    error_detail_ = std::move(detail);
}

bool response_reader::reusable() const noexcept {
    return done_ && !failed() && !truncated_ && pending_.empty() && parser_->keep_alive() &&
           !parser_->need_eof();
}

std::string response_reader::take_leftover() {
    return std::exchange(pending_, std::string());
}

// upgrade_reader

upgrade_reader::upgrade_reader(std::string_view key, std::vector<std::string> offered,
                               std::size_t max_header, std::size_t max_error_body)
    : expected_accept_(accept_key(key))
    , offered_(std::move(offered))
    , reader_(max_header, max_error_body, response_reader::body_mode::truncate) {
}

void upgrade_reader::feed(std::string_view data) {
    if (state_ != state::reading) {
        return;
    }
    reader_.feed(data);
    settle();
}

void upgrade_reader::feed_eof() {
    if (state_ != state::reading) {
        return;
    }
    reader_.feed_eof();
    settle();
}

void upgrade_reader::settle() {
    if (reader_.failed()) {
        // A refusal whose body was cut short is still a refusal: its status is what matters.
        if (reader_.header_done() && reader_.response().status != 101) {
            state_ = state::refused;
            return;
        }
        state_ = state::failed;
        error_ = reader_.error() == client_errc::connection_closed ? client_errc::handshake_closed
                                                                   : client_errc::handshake_failed;
        detail_ = reader_.error_detail();
        return;
    }
    if (!reader_.done()) {
        return;
    }
    if (reader_.response().status != 101) {
        state_ = state::refused;
        return;
    }
    if (auto problem = check_101()) {
        state_ = state::failed;
        error_ = client_errc::handshake_failed;
        detail_ = std::move(*problem);
        return;
    }
    state_ = state::upgraded;
}

// RFC 6455 4.1, the client's checks of the server's handshake; a failure means the connection
// must be failed before a single frame is read.
std::optional<std::string> upgrade_reader::check_101() {
    const auto& headers = reader_.response().headers;
    if (reader_.version() != 11) {
        return "101 response is not HTTP/1.1";
    }

    auto has = [&](std::string_view name, std::string_view token) {
        return has_token(header_tokens(headers, name), token);
    };
    if (!has("Upgrade", "websocket")) {
        return "101 response without \"Upgrade: websocket\"";
    }
    if (!has("Connection", "upgrade")) {
        return "101 response without \"Connection: upgrade\"";
    }

    std::vector<std::string_view> accepts;
    for (const auto& [name, value] : headers) {
        if (iequals(name, "Sec-WebSocket-Accept")) {
            accepts.push_back(trim_ows(value));
        }
    }
    if (accepts.size() != 1 || accepts.front() != expected_accept_) {
        return "wrong Sec-WebSocket-Accept";
    }

    if (!header_tokens(headers, "Sec-WebSocket-Extensions").empty()) {
        return "server chose an extension we did not offer";
    }

    const auto chosen = header_tokens(headers, "Sec-WebSocket-Protocol");
    if (chosen.size() > 1) {
        return "server chose more than one subprotocol";
    }
    if (chosen.size() == 1) {
        if (std::find(offered_.begin(), offered_.end(), chosen.front()) == offered_.end()) {
            return "server chose a subprotocol we did not offer";
        }
        subprotocol_ = std::string(chosen.front());
    }
    return std::nullopt;
}

// Masks and randomness

void random_bytes(unsigned char* out, std::size_t size) {
    if (RAND_bytes(out, static_cast<int>(size)) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
}

std::array<unsigned char, 4> mask_source::next() {
    if (used_ + 4 > pool_.size()) {
        random_bytes(pool_.data(), pool_.size());
        used_ = 0;
    }
    std::array<unsigned char, 4> mask{};
    std::copy_n(pool_.begin() + static_cast<long>(used_), 4, mask.begin());
    used_ += 4;
    return mask;
}

} // namespace switchboard::detail::wire
