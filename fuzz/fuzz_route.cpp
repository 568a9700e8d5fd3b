// Route patterns and request targets into route_table, and the percent-coding helpers
// (percent_decode, percent_encode, parse_query) the server and the client share.
//
// The input's first byte picks a built-in pattern set (its value modulo 4; 0 is none). The rest
// is lines: "+METHOD /pattern" adds a route, "METHOD /target" or "/target" (GET) is a request.
// Lines without '+' may come before, between and after patterns, so a request is matched
// against the routes added so far.
//
// Beyond "no crash", each request checks what route_table.hpp promises: a bad path is refused
// whatever the routes; parameters are the decoded segments, bound in pattern order; Allow is
// sorted and consistent with the status; and matching depends only on the decoded segments, so
// the path re-encoded segment by segment matches exactly the same way.
#include "fuzz_check.hpp"

#include <switchboard/detail/route_table.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace detail = switchboard::detail;
using detail::match_status;

struct route_info {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments; // the pattern's, after the leading '/'
};

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(at + 1);
    }
}

bool is_parameter(std::string_view segment) {
    return !segment.empty() && (segment[0] == ':' || segment[0] == '*');
}

class routes_under_test {
public:
    void add(std::string_view method, std::string_view pattern) {
        std::size_t index = 0;
        try {
            index = table_.add(method, pattern);
        } catch (const std::invalid_argument&) {
            return;
        }
        SWITCHBOARD_FUZZ_CHECK(index == routes_.size());
        route_info info{std::string(method), std::string(pattern), {}};
        for (auto segment : split(pattern.substr(1), '/')) {
            info.segments.emplace_back(segment);
        }
        routes_.push_back(std::move(info));

        // The same pair again is refused, and leaves the table as it was.
        bool refused = false;
        try {
            table_.add(method, pattern);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        SWITCHBOARD_FUZZ_CHECK(refused);

        // A path made from the pattern reaches a route with this method (this one, or one
        // more specific).
        const auto m = table_.match(method, example_path(routes_.back()));
        SWITCHBOARD_FUZZ_CHECK(m.status == match_status::found);
        SWITCHBOARD_FUZZ_CHECK(serves(routes_[m.route], method));
    }

    void request(std::string_view method, std::string_view target) {
        const auto question = target.find('?');
        const auto path = target.substr(0, question);
        check_match(method, path);
        if (question != std::string_view::npos) {
            check_query(target.substr(question + 1));
        }
        check_percent_coding(target);
    }

private:
    /// HEAD is answered by a GET route of a pattern at least as specific.
    static bool serves(const route_info& route, std::string_view method) {
        return route.method == method || (method == "HEAD" && route.method == "GET");
    }

    static std::string example_path(const route_info& route) {
        std::string path;
        for (const auto& segment : route.segments) {
            path += '/';
            path += is_parameter(segment) ? std::string("v") : segment;
        }
        return path;
    }

    void check_match(std::string_view method, std::string_view path) const {
        const auto m = table_.match(method, path);

        // Whether a path is acceptable does not depend on the routes.
        const auto bare = empty_.match(method, path);
        SWITCHBOARD_FUZZ_CHECK((m.status == match_status::bad_request) ==
                               (bare.status == match_status::bad_request));
        if (m.status == match_status::bad_request) {
            SWITCHBOARD_FUZZ_CHECK(m.error == bare.error && !m.error.empty());
            SWITCHBOARD_FUZZ_CHECK(m.allow.empty() && m.params.empty());
            return;
        }
        SWITCHBOARD_FUZZ_CHECK(bare.status == match_status::not_found && m.error.empty());

        const auto allowed = check_allow(m.allow);
        auto is_allowed = [&](std::string_view name) {
            return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
        };
        switch (m.status) {
        case match_status::found: {
            SWITCHBOARD_FUZZ_CHECK(m.route < routes_.size());
            const auto& route = routes_[m.route];
            SWITCHBOARD_FUZZ_CHECK(serves(route, method));
            SWITCHBOARD_FUZZ_CHECK(is_allowed(route.method));
            check_binding(route, path, m.params);
            break;
        }
        case match_status::method_not_allowed:
            SWITCHBOARD_FUZZ_CHECK(!allowed.empty() && m.params.empty());
            SWITCHBOARD_FUZZ_CHECK(!is_allowed(method));
            break;
        case match_status::not_found:
            SWITCHBOARD_FUZZ_CHECK(allowed.empty() && m.params.empty());
            break;
        case match_status::bad_request:
            break;
        }

        // Only the decoded segments count: the canonical spelling of the same path matches
        // the same way.
        std::string canonical;
        for (auto segment : split(path.substr(1), '/')) {
            const auto decoded = detail::percent_decode(segment);
            SWITCHBOARD_FUZZ_CHECK(decoded.has_value());
            canonical += '/';
            canonical += detail::percent_encode(*decoded);
        }
        const auto c = table_.match(method, canonical);
        SWITCHBOARD_FUZZ_CHECK(c.status == m.status && c.route == m.route);
        SWITCHBOARD_FUZZ_CHECK(c.params == m.params && c.allow == m.allow);
    }

    /// Allow is "A, B, C": sorted, no repeats, only registered methods, HEAD wherever GET is.
    std::vector<std::string_view> check_allow(std::string_view allow) const {
        std::vector<std::string_view> names;
        if (allow.empty()) {
            return names;
        }
        while (true) {
            const auto comma = allow.find(", ");
            names.push_back(allow.substr(0, comma));
            if (comma == std::string_view::npos) {
                break;
            }
            allow.remove_prefix(comma + 2);
        }
        SWITCHBOARD_FUZZ_CHECK(
            std::adjacent_find(names.begin(), names.end(), std::greater_equal<>()) == names.end());
        for (auto name : names) {
            const bool registered =
                std::any_of(routes_.begin(), routes_.end(),
                            [&](const route_info& r) { return r.method == name; });
            SWITCHBOARD_FUZZ_CHECK(registered || name == "HEAD");
        }
        const bool get = std::find(names.begin(), names.end(), "GET") != names.end();
        const bool head = std::find(names.begin(), names.end(), "HEAD") != names.end();
        SWITCHBOARD_FUZZ_CHECK(!get || head);
        return names;
    }

    /// Each parameter is its request segment decoded once; a catch-all takes the decoded rest.
    static void check_binding(const route_info& route, std::string_view path,
                              const std::vector<detail::path_param>& params) {
        const auto raw = split(path.substr(1), '/');
        std::size_t next_param = 0;
        for (std::size_t i = 0; i < route.segments.size(); ++i) {
            const std::string_view segment = route.segments[i];
            SWITCHBOARD_FUZZ_CHECK(i < raw.size());
            if (!is_parameter(segment)) {
                SWITCHBOARD_FUZZ_CHECK(detail::percent_decode(raw[i]) == std::string(segment));
                continue;
            }

            SWITCHBOARD_FUZZ_CHECK(next_param < params.size());
            const auto& param = params[next_param++];
            SWITCHBOARD_FUZZ_CHECK(param.name == segment.substr(1));
            SWITCHBOARD_FUZZ_CHECK(!param.value.empty());
            if (segment[0] == ':') {
                SWITCHBOARD_FUZZ_CHECK(detail::percent_decode(raw[i]) == param.value);
                continue;
            }
            // The catch-all is last and takes every remaining segment, none of them empty.
            SWITCHBOARD_FUZZ_CHECK(i + 1 == route.segments.size());
            const auto offset = static_cast<std::size_t>(raw[i].data() - path.data());
            SWITCHBOARD_FUZZ_CHECK(detail::percent_decode(path.substr(offset)) == param.value);
            for (std::size_t j = i; j < raw.size(); ++j) {
                SWITCHBOARD_FUZZ_CHECK(!raw[j].empty());
            }
            SWITCHBOARD_FUZZ_CHECK(next_param == params.size());
            return;
        }
        SWITCHBOARD_FUZZ_CHECK(route.segments.size() == raw.size());
        SWITCHBOARD_FUZZ_CHECK(next_param == params.size());
    }

    static void check_query(std::string_view query) {
        const auto fields = detail::parse_query(query);

        // A query fails exactly when one of its escapes is malformed.
        SWITCHBOARD_FUZZ_CHECK(fields.has_value() == detail::percent_decode(query).has_value());
        if (!fields) {
            return;
        }

        std::string encoded;
        for (const auto& [name, value] : *fields) {
            if (!encoded.empty()) {
                encoded += '&';
            }
            encoded += detail::percent_encode(name) + '=' + detail::percent_encode(value);
        }
        SWITCHBOARD_FUZZ_CHECK(detail::parse_query(encoded) == fields);
    }

    static void check_percent_coding(std::string_view text) {
        const std::string encoded = detail::percent_encode(text);
        for (std::size_t i = 0; i < encoded.size(); ++i) {
            const char c = encoded[i];
            const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                    c == '~';
            if (unreserved) {
                continue;
            }
            SWITCHBOARD_FUZZ_CHECK(c == '%' && i + 2 < encoded.size());
            for (const char h : encoded.substr(i + 1, 2)) {
                SWITCHBOARD_FUZZ_CHECK((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'));
            }
            i += 2;
        }
        SWITCHBOARD_FUZZ_CHECK(detail::percent_decode(encoded) == std::string(text));
        SWITCHBOARD_FUZZ_CHECK(detail::percent_decode(encoded, true) == std::string(text));

        // '+' is the only difference the query flavour makes.
        const auto plain = detail::percent_decode(text);
        const auto query = detail::percent_decode(text, true);
        SWITCHBOARD_FUZZ_CHECK(plain.has_value() == query.has_value());
        if (plain && text.find('+') == std::string_view::npos) {
            SWITCHBOARD_FUZZ_CHECK(plain == query);
        }
    }

    detail::route_table table_;
    const detail::route_table empty_;
    std::vector<route_info> routes_;
};

using pattern_set = std::vector<std::pair<std::string_view, std::string_view>>;

// A REST API; literals, parameters and catch-alls competing for the same paths; and methods
// beyond the usual, with HEAD and OPTIONS routes of their own.
const pattern_set& builtin_set(std::size_t which) {
    static const std::vector<pattern_set> sets{
        {},
        {{"GET", "/"},
         {"GET", "/jobs"},
         {"POST", "/jobs"},
         {"GET", "/jobs/:id"},
         {"DELETE", "/jobs/:id"},
         {"GET", "/jobs/:id/logs"},
         {"GET", "/jobs/:id/logs/*rest"},
         {"GET", "/jobs/"},
         {"GET", "/files/*path"},
         {"PUT", "/users/:user/keys/:key"},
         {"GET", "/users/me"}},
        {{"GET", "/a/:x/c"},
         {"GET", "/a/b/:y"},
         {"GET", "/a/b/c/"},
         {"GET", "/:p/:q"},
         {"POST", "/*all"},
         {"GET", "/a/*rest"},
         {"PATCH", "/a/b"},
         {"GET", "/a/b/c"},
         {"PUT", "/:only"}},
        {{"OPTIONS", "/"},
         {"HEAD", "/h"},
         {"GET", "/h"},
         {"VERSION-CONTROL", "/v/:id"},
         {"M_SEARCH", "/v/:id"},
         {"PURGE", "/cache/*key"},
         {"GET", "/!$&'()*+,;=:@-._~/x"}},
    };
    return sets[which];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }

    routes_under_test routes;
    for (const auto& [method, pattern] : builtin_set(data[0] % 4)) {
        routes.add(method, pattern);
    }

    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    for (std::string_view line : split(text, '\n')) {
        const bool is_pattern = !line.empty() && line[0] == '+';
        if (is_pattern) {
            line.remove_prefix(1);
        }
        const auto space = line.find(' ');
        const auto method =
            space == std::string_view::npos ? std::string_view("GET") : line.substr(0, space);
        const auto rest = space == std::string_view::npos ? line : line.substr(space + 1);
        if (is_pattern) {
            routes.add(method, rest);
        } else {
            routes.request(method, rest);
        }
    }
    return 0;
}
