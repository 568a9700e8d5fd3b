#include <switchboard/reply.hpp>

#include <switchboard/detail/ws_frame.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace switchboard {

namespace {

bool is_reserved_header(std::string_view name) {
    static constexpr std::string_view reserved[] = {"content-type", "content-length", "connection",
                                                    "server", "transfer-encoding"};
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::find(std::begin(reserved), std::end(reserved), lower) != std::end(reserved);
}

/// Keeps valid UTF-8 as it is and replaces every byte that does not start or
/// continue a valid sequence with U+FFFD, so that an error body stays JSON a
/// strict client can read even when a message quotes what a client sent.
std::string valid_utf8_copy(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = c < 0x80                ? 1
                        : c >= 0xC2 && c < 0xE0 ? 2
                        : c >= 0xE0 && c < 0xF0 ? 3
                        : c >= 0xF0 && c < 0xF5 ? 4
                                                : 0;
        if (n > 0 && i + n <= text.size() && detail::ws::valid_utf8(text.substr(i, n))) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

} // namespace

reply::reply() = default;

reply reply::error(int status, std::string message) {
    return error(status, std::vector<std::string>{std::move(message)});
}

reply reply::error(int status, const std::vector<std::string>& messages) {
    return raw(status, "application/json", error_body(messages));
}

reply reply::raw(int status, std::string content_type, std::string body) {
    if (status < 100 || status > 999) {
        throw std::invalid_argument("reply status must be a three-digit code");
    }
    reply r;
    r.status_ = status;
    r.content_type_ = std::move(content_type);
    r.body_ = std::move(body);
    return r;
}

reply& reply::header(std::string name, std::string value) {
    // A bad name or a CR/LF in a value would let a handler (or text it
    // copied from a client) split the response into two.
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
        throw std::invalid_argument("reply header name is not a valid token");
    }
    // Control characters (tab aside) are refused too: a response holding one
    // is refused by the serializer, or split by a lenient peer.
    bool control = std::any_of(value.begin(), value.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\t') || u == 0x7F;
    });
    if (control) {
        throw std::invalid_argument("reply header value contains a control character");
    }
    if (is_reserved_header(name)) {
        throw std::invalid_argument("reply header '" + name + "' is set by the server");
    }
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
}

std::string error_body(const std::vector<std::string>& messages) {
    boost::json::array errors;
    for (const auto& m : messages) {
        errors.emplace_back(valid_utf8_copy(m));
    }
    boost::json::object body;
    body["errors"] = std::move(errors);
    return boost::json::serialize(body);
}

} // namespace switchboard
