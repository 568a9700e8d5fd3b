// URLs and request targets for the client.
#include <switchboard/client.hpp>
#include <switchboard/detail/route_table.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace switchboard {

namespace {

std::uint16_t default_port(std::string_view scheme) {
    return scheme == "https" || scheme == "wss" ? 443 : 80;
}

// The URL as it goes into an error message: it is the caller's own text, but it may still hold
// control characters or be very long, neither of which belongs in a one-line message.
std::string quoted(std::string_view text) {
    constexpr std::size_t shown = 200;
    std::string out = "'";
    for (const char c : text.substr(0, shown)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out.push_back(c);
        }
    }
    out += text.size() > shown ? "...'" : "'";
    return out;
}

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
    throw client_error(client_errc::bad_url, fmt::format("bad URL {}: {}", quoted(url), why));
}

bool is_control_or_space(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7F;
}

} // namespace

std::string url_parts::authority() const {
    if (host.find(':') != std::string::npos) {
        return fmt::format("[{}]:{}", host, port);
    }
    return fmt::format("{}:{}", host, port);
}

std::string url_parts::host_header() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    const bool default_port_used = port == default_port(scheme);
    if (ipv6) {
        return default_port_used ? fmt::format("[{}]", host) : fmt::format("[{}]:{}", host, port);
    }
    return default_port_used ? host : fmt::format("{}:{}", host, port);
}

url_parts parse_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        bad_url(url, "not an absolute URL");
    }
    const boost::urls::url_view& u = *parsed;

    url_parts parts;
    switch (u.scheme_id()) {
    case boost::urls::scheme::http:
        parts.scheme = "http";
        break;
    case boost::urls::scheme::https:
        parts.scheme = "https";
        break;
    case boost::urls::scheme::ws:
        parts.scheme = "ws";
        break;
    case boost::urls::scheme::wss:
        parts.scheme = "wss";
        break;
    default:
        throw client_error(
            client_errc::unsupported_scheme,
            fmt::format("bad URL {}: scheme must be http, https, ws or wss", quoted(url)));
    }

    if (!u.has_authority() || u.encoded_host().empty()) {
        bad_url(url, "no host");
    }
    if (u.has_userinfo()) {
        // The message must not repeat a password on stderr or in a log.
        boost::urls::url shown(u);
        shown.remove_userinfo();
        bad_url(shown.buffer(), "user info is not supported; send credentials in a header");
    }
    if (u.host_type() == boost::urls::host_type::ipvfuture) {
        bad_url(url, "IPvFuture hosts are not supported");
    }
    parts.host = u.host_address();
    if (std::any_of(parts.host.begin(), parts.host.end(), is_control_or_space)) {
        bad_url(url, "host holds a space or a control character");
    }

    parts.port = default_port(parts.scheme);
    if (u.has_port() && !u.port().empty()) {
        const std::string_view text = u.port();
        unsigned value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
            bad_url(url, "port must be 1-65535");
        }
        parts.port = static_cast<std::uint16_t>(value);
    }

    parts.target = u.encoded_path();
    if (parts.target.empty()) {
        parts.target.push_back('/');
    }
    if (u.has_query()) {
        parts.target += "?";
        parts.target += u.encoded_query();
    }
    return parts;
}

url_param::url_param(std::string n, std::string_view v)
    : name(std::move(n))
    , value(v) {
}

url_param::url_param(std::string n, const char* v)
    : url_param(std::move(n), std::string_view(v)) {
}

url_param::url_param(std::string n, const std::string& v)
    : url_param(std::move(n), std::string_view(v)) {
}

url_param::url_param(std::string n, bool v)
    : name(std::move(n))
    , value(v ? "true" : "false") {
}

// fmt's "{}" writes the shortest text that reads back as the same double, which is what the
// server's parse_param (std::from_chars) expects.
url_param::url_param(std::string n, double v)
    : name(std::move(n))
    , value(fmt::format("{}", v)) {
}

std::string make_target(std::string_view pattern) {
    return make_target(pattern, std::vector<url_param>(), std::vector<url_param>());
}

std::string make_target(std::string_view pattern, const std::vector<url_param>& params) {
    return make_target(pattern, params, std::vector<url_param>());
}

std::string make_target(std::string_view pattern, const std::vector<url_param>& params,
                        const std::vector<url_param>& query) {
    if (pattern.empty() || pattern.front() != '/') {
        throw std::invalid_argument("target pattern must start with '/'");
    }
    if (std::any_of(pattern.begin(), pattern.end(),
                    [](char c) { return c == '?' || c == '#' || is_control_or_space(c); })) {
        throw std::invalid_argument(
            "target pattern must not hold '?', '#', spaces or control characters");
    }

    auto value_of = [&](std::string_view name) -> const std::string& {
        auto it = std::find_if(params.begin(), params.end(),
                               [&](const url_param& p) { return p.name == name; });
        if (it == params.end()) {
            throw std::invalid_argument(fmt::format("missing path parameter '{}'", name));
        }
        if (it->value.empty()) {
            // The router never binds an empty segment: the request could only 404.
            throw std::invalid_argument(fmt::format("path parameter '{}' is empty", name));
        }
        return it->value;
    };

    std::string target;
    std::vector<std::string_view> used;
    std::string_view rest = pattern.substr(1);
    for (;;) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        const bool last = slash == std::string_view::npos;
        target.push_back('/');

        if (!segment.empty() && segment.front() == ':') {
            const auto name = segment.substr(1);
            target += detail::percent_encode(value_of(name));
            used.push_back(name);
        } else if (!segment.empty() && segment.front() == '*') {
            if (!last) {
                throw std::invalid_argument("a catch-all parameter must be the last segment");
            }
            const auto name = segment.substr(1);
            std::string_view value = value_of(name);
            // Each piece is one segment of the path; '/' between them is kept as the separator.
            for (;;) {
                const auto cut = value.find('/');
                target += detail::percent_encode(value.substr(0, cut));
                if (cut == std::string_view::npos) {
                    break;
                }
                target.push_back('/');
                value.remove_prefix(cut + 1);
            }
            used.push_back(name);
        } else {
            target += segment;
        }

        if (last) {
            break;
        }
        rest.remove_prefix(slash + 1);
    }

    // A parameter the pattern does not have is most likely a typo in its name.
    for (const auto& p : params) {
        if (std::find(used.begin(), used.end(), p.name) == used.end()) {
            throw std::invalid_argument(
                fmt::format("parameter '{}' does not appear in the pattern", p.name));
        }
    }

    char separator = '?';
    for (const auto& q : query) {
        target.push_back(separator);
        target += detail::percent_encode(q.name);
        target.push_back('=');
        target += detail::percent_encode(q.value);
        separator = '&';
    }
    return target;
}

} // namespace switchboard
