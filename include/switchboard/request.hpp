// The request a handler receives.
#pragma once

#include <switchboard/error.hpp>
#include <switchboard/json.hpp>
#include <switchboard/params.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard {

using field_list = std::vector<std::pair<std::string, std::string>>;

/// One parsed HTTP request, with its route's path parameters.
///
/// Path and query parameters are percent-decoded exactly once. The object
/// lives as long as the handler's coroutine, so string_views into it stay
/// valid for the whole handler (also across an upgrade).
class request {
public:
    struct parts {
        std::string method;
        std::string target;
        unsigned version = 11;
        field_list headers;
        std::string body;
        field_list path_params;
        field_list query_params;
        std::string remote;
        decode_options json_options;
        std::size_t json_max_depth = 32;
    };

    request() = default;
    explicit request(parts p);

    /// The method as sent, upper case ("GET", "POST", ...).
    std::string_view method() const noexcept { return p_.method; }
    /// 11 for HTTP/1.1, 10 for HTTP/1.0.
    unsigned version() const noexcept { return p_.version; }
    /// The request target as sent, still percent-encoded.
    std::string_view target() const noexcept { return p_.target; }
    /// The target without its query, still percent-encoded.
    std::string_view path() const noexcept;
    /// The peer's address and port, "127.0.0.1:53122".
    std::string_view remote() const noexcept { return p_.remote; }
    const std::string& body() const noexcept { return p_.body; }

    /// The first header of that name (compared case-insensitively).
    std::optional<std::string_view> header(std::string_view name) const;
    const field_list& headers() const noexcept { return p_.headers; }

    /// The decoded text of a path parameter. Asking for a name the route's
    /// pattern does not have is a programming error and throws
    /// std::out_of_range (a 500).
    std::string_view param(std::string_view name) const;

    /// A path parameter as T; text that is not a T throws http_error 400.
    template <detail::param_parsable T>
    T param(std::string_view name) const {
        return convert<T>("path parameter", name, param(name));
    }

    /// The first value of a query parameter, if present.
    std::optional<std::string_view> query(std::string_view name) const;

    /// The first value of a query parameter as T; present but not a T throws
    /// http_error 400.
    template <detail::param_parsable T>
    std::optional<T> query(std::string_view name) const {
        auto text = query(name);
        if (!text) {
            return std::nullopt;
        }
        return convert<T>("query parameter", name, *text);
    }

    /// Every value of a repeated query parameter, in order.
    std::vector<std::string_view> query_all(std::string_view name) const;

    template <detail::param_parsable T>
    std::vector<T> query_all(std::string_view name) const {
        std::vector<T> values;
        for (auto text : query_all(name)) {
            values.push_back(convert<T>("query parameter", name, text));
        }
        return values;
    }

    const field_list& path_params() const noexcept { return p_.path_params; }
    const field_list& query_params() const noexcept { return p_.query_params; }

    /// The body decoded into T with the route's JSON options and the server's
    /// depth limit. Malformed JSON, an empty body or a body of the wrong shape
    /// throws http_error 400 saying what was wrong.
    template <class T>
    T json() const {
        try {
            return decode_json<T>(require_body(), p_.json_options, p_.json_max_depth);
        } catch (const json_error& e) {
            throw http_error(400, e.what());
        }
    }

private:
    const std::string& require_body() const;
    [[noreturn]] static void bad_param(std::string_view where, std::string_view name,
                                       std::string_view text, std::string_view kind);

    template <class T>
    static T convert(std::string_view where, std::string_view name, std::string_view text) {
        if (auto value = detail::parse_param_as<T>(text)) {
            return std::move(*value);
        }
        bad_param(where, name, text, detail::param_kind<T>());
    }

    parts p_;
};

} // namespace switchboard
