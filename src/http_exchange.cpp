#include "http_exchange.hpp"

#include "header_text.hpp"
#include "ws_handshake.hpp"

#include <switchboard/log.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <exception>
#include <string_view>

namespace switchboard::detail {

namespace {

using boost::beast::iequals;

std::vector<std::string_view> split_list(std::string_view list) {
    std::vector<std::string_view> items;
    append_list_items(list, items);
    return items;
}

std::optional<early_answer> check_transfer_encoding(const http::request_header<>& head) {
    if (head.count(http::field::transfer_encoding) > 1) {
        return early_answer{400, "more than one Transfer-Encoding header"};
    }
    if (head.version() < 11) {
        return early_answer{400, "Transfer-Encoding is not allowed in HTTP/1.0"};
    }
    if (head.count(http::field::content_length) > 0) {
        return early_answer{400, "Content-Length together with Transfer-Encoding"};
    }

    // Only a lone "chunked" delimits a request body we can read; any other
    // coding in front of it is one we do not decode, and without chunked
    // last the body has no length at all.
    auto codings = split_list(head[http::field::transfer_encoding]);
    if (codings.empty() || !iequals(codings.back(), "chunked")) {
        return early_answer{400, "Transfer-Encoding must end with chunked"};
    }
    if (codings.size() > 1) {
        bool chunked_twice = std::any_of(codings.begin(), codings.end() - 1,
                                         [](std::string_view c) { return iequals(c, "chunked"); });
        if (chunked_twice) {
            return early_answer{400, "chunked applied more than once"};
        }
        return early_answer{501, "unsupported transfer coding"};
    }
    return std::nullopt;
}

} // namespace

std::optional<early_answer> check_head(const http::request_header<>& head) {
    if (head.version() != 10 && head.version() != 11) {
        return early_answer{505, "only HTTP/1.0 and HTTP/1.1 are supported"};
    }

    // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host; a server
    // answers 400 to none or several.
    auto hosts = head.count(http::field::host);
    if (hosts > 1) {
        return early_answer{400, "more than one Host header"};
    }
    if (hosts == 0 && head.version() == 11) {
        return early_answer{400, "missing Host header"};
    }

    if (head.count(http::field::content_length) > 1) {
        return early_answer{400, "more than one Content-Length header"};
    }
    if (head.count(http::field::transfer_encoding) > 0) {
        if (auto answer = check_transfer_encoding(head)) {
            return answer;
        }
    }

    auto expect = head.find(http::field::expect);
    if (expect != head.end() && (head.count(http::field::expect) > 1 ||
                                 !iequals(trim_ows(expect->value()), "100-continue"))) {
        return early_answer{417, "only Expect: 100-continue is supported"};
    }
    return std::nullopt;
}

std::optional<early_answer> check_origin(const http::request_header<>& head,
                                         const route_entry& entry, const server_options& options) {
    // RFC 9110 9.2.1: these are the safe methods, which must not change state.
    const auto method = head.method();
    if (method == http::verb::get || method == http::verb::head || method == http::verb::options ||
        method == http::verb::trace) {
        return std::nullopt;
    }

    const auto origins = head.count(http::field::origin);
    if (origins == 0) {
        return std::nullopt;
    }
    const auto& allowed =
        entry.options.allowed_origins ? *entry.options.allowed_origins : options.allowed_origins;
    if (origins > 1 || !origin_allowed(trim_ows(head[http::field::origin]),
                                       trim_ows(head[http::field::host]), allowed)) {
        return early_answer{403, "origin not allowed"};
    }
    return std::nullopt;
}

bool expects_body(const http::request_header<>& head) {
    if (head.count(http::field::transfer_encoding) > 0) {
        return true;
    }
    auto length = head.find(http::field::content_length);
    return length != head.end() && trim_ows(length->value()) != "0";
}

routing route_head(const router& routes, const http::request_header<>& head) {
    routing result;
    std::string_view target = head.target();
    if (target.empty() || target.front() != '/') {
        result.answer = early_answer{400, "request target must be an absolute path"};
        return result;
    }

    auto question = target.find('?');
    auto path = target.substr(0, question);
    if (question != std::string_view::npos) {
        auto query = parse_query(target.substr(question + 1));
        if (!query) {
            result.answer = early_answer{400, "bad percent-encoding in query"};
            return result;
        }
        result.query = std::move(*query);
    }

    std::string_view method = head.method_string();
    result.match = routes.table().match(method, path);
    switch (result.match.status) {
    case match_status::found:
        result.entry = &routes.entry(result.match.route);
        break;
    case match_status::not_found:
        result.answer = early_answer{404, "no route for this path"};
        break;
    case match_status::method_not_allowed:
        if (method == "OPTIONS") {
            result.answer = early_answer{204, {}, result.match.allow};
        } else {
            result.answer = early_answer{405, "method not allowed", result.match.allow};
        }
        break;
    case match_status::bad_request:
        result.answer = early_answer{400, result.match.error};
        break;
    }
    return result;
}

request make_request(http_request&& req, routing&& routed, std::string remote,
                     const server_options& options) {
    request::parts p;
    p.method = std::string(req.method_string());
    p.target = std::string(req.target());
    p.version = req.version();
    p.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
    for (const auto& field : req) {
        p.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    p.body = std::move(req.body());
    p.path_params.reserve(routed.match.params.size());
    for (auto& param : routed.match.params) {
        p.path_params.emplace_back(std::move(param.name), std::move(param.value));
    }
    p.query_params = std::move(routed.query);
    p.remote = std::move(remote);
    p.json_options = routed.entry->options.json;
    p.json_max_depth = options.json_max_depth;
    return request(std::move(p));
}

boost::asio::awaitable<reply> invoke(const route_entry& entry, request& req) {
    try {
        co_return co_await entry.run(req);
    } catch (const http_error& e) {
        co_return reply::error(e.status(), e.messages());
    } catch (const std::exception& e) {
        log(log_level::error, "handler_failed method={} target={} what=\"{}\"", req.method(),
            req.target(), e.what());
    }
    co_return reply::error(500, "internal server error");
}

namespace {

void set_common(http_response& res, unsigned status, bool keep_alive,
                const server_options& options) {
    res.result(status);
    if (!options.server_header.empty()) {
        res.set(http::field::server, options.server_header);
    }
    res.keep_alive(keep_alive);
}

} // namespace

http_response make_response(const reply& r, unsigned version, bool head_only, bool keep_alive,
                            const server_options& options) {
    http_response res;
    res.version(version);
    set_common(res, static_cast<unsigned>(r.status()), keep_alive, options);
    for (const auto& [name, value] : r.headers()) {
        res.insert(name, value);
    }

    // 1xx, 204 and 304 never carry a body (RFC 9110 6.4.1).
    int status = r.status();
    bool bodiless = status < 200 || status == 204 || status == 304;
    if (bodiless) {
        return res;
    }
    if (!r.content_type().empty()) {
        res.set(http::field::content_type, r.content_type());
    }
    res.content_length(r.body().size());
    if (!head_only) {
        res.body() = r.body();
    }
    return res;
}

http_response make_error_response(const early_answer& a, unsigned version, bool keep_alive,
                                  const server_options& options) {
    reply r = a.status == 204 ? reply() : reply::error(a.status, a.message);
    auto res = make_response(r, version, false, keep_alive, options);
    if (!a.allow.empty()) {
        res.set(http::field::allow, a.allow);
    }
    return res;
}

} // namespace switchboard::detail
