#include <switchboard/detail/route_table.hpp>

#include <algorithm>
#include <stdexcept>

namespace switchboard::detail {

namespace {

constexpr std::size_t npos = std::string_view::npos;

// Method sets are 64-bit masks so that match() can union them without allocating.
constexpr std::size_t max_methods = 64;

std::uint64_t bit(std::uint8_t method) {
    return std::uint64_t{1} << method;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The byte encoded by the escape starting at text[i] == '%', or -1 when it is malformed.
int escape_at(std::string_view text, std::size_t i) {
    if (text.size() - i < 3) {
        return -1;
    }
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) {
        return -1;
    }
    return high * 16 + low;
}

bool append_decoded(std::string& out, std::string_view text, bool plus_is_space) {
    out.reserve(out.size() + text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            const int decoded = escape_at(text, i);
            if (decoded < 0) {
                return false;
            }
            c = static_cast<char>(decoded);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out.push_back(c);
    }
    return true;
}

// Compares the decoded form of `raw` with `literal` without materialising it, so literal
// lookups during matching cost no allocation.
bool decodes_to(std::string_view raw, std::string_view literal) {
    if (literal.size() > raw.size()) {
        return false;
    }

    std::size_t j = 0;
    for (std::size_t i = 0; i < raw.size(); ++i, ++j) {
        char c = raw[i];
        if (c == '%') {
            const int decoded = escape_at(raw, i);
            if (decoded < 0) {
                return false;
            }
            c = static_cast<char>(decoded);
            i += 2;
        }
        if (j == literal.size() || literal[j] != c) {
            return false;
        }
    }
    return j == literal.size();
}

bool is_alpha(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_unreserved(char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 3986 pchar without '%': a pattern literal is compared with decoded text, so an escape
// in it would be ambiguous.
bool is_literal_char(char c) {
    return is_unreserved(c) || std::string_view("!$&'()*+,;=:@").find(c) != npos;
}

bool is_name(std::string_view name) {
    if (name.empty() || is_digit(name[0])) {
        return false;
    }
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

// Upper-case letters, with '-' and '_' allowed after the first so that WebDAV-style methods
// such as "VERSION-CONTROL" can be routed.
bool is_method(std::string_view method) {
    if (method.empty() || method[0] < 'A' || method[0] > 'Z') {
        return false;
    }
    return std::all_of(method.begin(), method.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; });
}

// Strict RFC 3629 validation fed one byte at a time. Overlong forms are refused on purpose:
// "%C0%AF" is the classic disguise of '/' that lenient decoders turned into traversal.
class utf8_checker {
public:
    bool feed(unsigned char b) {
        if (pending_ > 0) {
            if (b < low_ || b > high_) {
                return false;
            }
            --pending_;
            low_ = 0x80;
            high_ = 0xBF;
            return true;
        }

        // The bounds on the second byte are what rule out overlongs, surrogates and code
        // points above U+10FFFF.
        if (b < 0x80) {
            return true;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            pending_ = 1;
        } else if (b == 0xE0) {
            pending_ = 2;
            low_ = 0xA0;
        } else if (b == 0xED) {
            pending_ = 2;
            high_ = 0x9F;
        } else if (b >= 0xE1 && b <= 0xEF) {
            pending_ = 2;
        } else if (b == 0xF0) {
            pending_ = 3;
            low_ = 0x90;
        } else if (b == 0xF4) {
            pending_ = 3;
            high_ = 0x8F;
        } else if (b >= 0xF1 && b <= 0xF3) {
            pending_ = 3;
        } else {
            return false;
        }
        return true;
    }

    bool complete() const { return pending_ == 0; }

private:
    int pending_ = 0;
    unsigned char low_ = 0x80;
    unsigned char high_ = 0xBF;
};

// What one pass over the raw path establishes before any route is tried: whether the path is
// acceptable at all, and where its last empty segment starts (so that a catch-all can tell in
// constant time whether the rest of the path has one).
struct path_scan {
    const char* error = nullptr;
    std::size_t last_empty_segment = npos;
};

path_scan scan_path(std::string_view path) {
    path_scan scan;
    if (path.empty() || path[0] != '/') {
        scan.error = "path must start with '/'";
        return scan;
    }

    utf8_checker utf8;
    std::size_t begin = 1;
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            // Segments are validated separately: a '/' in the middle of a sequence breaks it.
            if (!utf8.complete()) {
                scan.error = "invalid UTF-8 in path";
                return scan;
            }
            if (i == begin) {
                scan.last_empty_segment = begin;
            }
            begin = i + 1;
            continue;
        }

        auto c = static_cast<unsigned char>(path[i]);
        if (c <= 0x20 || c == 0x7F) {
            scan.error = "invalid character in path";
            return scan;
        }
        if (c == '%') {
            const int decoded = escape_at(path, i);
            if (decoded < 0) {
                scan.error = "bad percent-encoding in path";
                return scan;
            }
            if (decoded == 0) {
                scan.error = "NUL byte in path";
                return scan;
            }
            c = static_cast<unsigned char>(decoded);
            i += 2;
        }
        if (!utf8.feed(c)) {
            scan.error = "invalid UTF-8 in path";
            return scan;
        }
    }
    return scan;
}

// The segment of `path` starting at `begin`, and where the next one starts (npos when none).
std::pair<std::string_view, std::size_t> segment_at(std::string_view path, std::size_t begin) {
    const std::size_t slash = path.find('/', begin);
    if (slash == npos) {
        return {path.substr(begin), npos};
    }
    return {path.substr(begin, slash - begin), slash + 1};
}

[[noreturn]] void reject_pattern(std::string_view pattern, std::string_view reason) {
    std::string message = "invalid route pattern \"";
    message.append(pattern).append("\": ").append(reason);
    throw std::invalid_argument(message);
}

} // namespace

// The state of one match() call, threaded through the depth-first walk of the trie.
struct route_table::search {
    std::string_view path;
    std::size_t last_empty_segment = npos;
    std::optional<std::uint8_t> wanted;
    std::optional<std::uint8_t> fallback; // GET, when the request is HEAD
    std::uint64_t methods = 0;            // union over every pattern matching the path
    std::optional<std::size_t> winner;

    // Called for matching patterns in decreasing specificity, so the first one that has the
    // method is the one to use; later ones still contribute to the Allow list.
    void offer(const node& n) {
        methods |= n.methods;
        if (winner) {
            return;
        }
        for (const auto& method : {wanted, fallback}) {
            if (!method) {
                continue;
            }
            for (const endpoint& e : n.endpoints) {
                if (e.method == *method) {
                    winner = e.route;
                    return;
                }
            }
        }
    }
};

route_table::route_table()
    : nodes_(1) {
}

std::vector<route_table::segment> route_table::parse_pattern(std::string_view pattern) {
    if (pattern.empty() || pattern[0] != '/') {
        reject_pattern(pattern, "it must start with '/'");
    }

    std::vector<segment> segments;
    std::size_t begin = 1;
    while (begin != npos) {
        const auto [text, next] = segment_at(pattern, begin);
        begin = next;

        // Only a trailing empty segment means something ("/" or "/jobs/"); "a//b" is a typo.
        if (text.empty()) {
            if (next != npos) {
                reject_pattern(pattern, "it has an empty segment before its end");
            }
            segments.push_back({segment_kind::literal, {}});
            continue;
        }

        if (text[0] == ':' || text[0] == '*') {
            const std::string_view name = text.substr(1);
            if (!is_name(name)) {
                reject_pattern(pattern, "a parameter name must match [A-Za-z_][A-Za-z0-9_]*");
            }
            if (text[0] == '*' && next != npos) {
                reject_pattern(pattern, "a catch-all must be the last segment");
            }
            for (const segment& earlier : segments) {
                if (earlier.kind != segment_kind::literal && earlier.text == name) {
                    reject_pattern(pattern, "a parameter name is used twice");
                }
            }
            const auto kind = text[0] == ':' ? segment_kind::parameter : segment_kind::catch_all;
            segments.push_back({kind, std::string(name)});
            continue;
        }

        // Clients remove dot segments before sending, so such a route could never be reached.
        if (text == "." || text == "..") {
            reject_pattern(pattern, "'.' and '..' cannot be literal segments");
        }
        if (!std::all_of(text.begin(), text.end(), is_literal_char)) {
            reject_pattern(pattern, "a literal segment may hold only RFC 3986 path characters "
                                    "other than '%'");
        }
        segments.push_back({segment_kind::literal, std::string(text)});
    }
    return segments;
}

std::optional<std::uint8_t> route_table::method_id(std::string_view method) const {
    for (std::size_t id = 0; id < methods_.size(); ++id) {
        if (methods_[id] == method) {
            return static_cast<std::uint8_t>(id);
        }
    }
    return std::nullopt;
}

std::uint8_t route_table::intern_method(std::string_view method) {
    if (const auto id = method_id(method)) {
        return *id;
    }

    const auto id = static_cast<std::uint8_t>(methods_.size());
    methods_.emplace_back(method);
    const auto position = std::lower_bound(
        methods_by_name_.begin(), methods_by_name_.end(), method,
        [this](std::uint8_t other, std::string_view name) { return methods_[other] < name; });
    methods_by_name_.insert(position, id);
    return id;
}

std::uint32_t route_table::find_node(const std::vector<segment>& pattern) const {
    std::uint32_t id = 0;
    for (const segment& seg : pattern) {
        const node& n = nodes_[id];
        if (seg.kind == segment_kind::parameter) {
            id = n.parameter;
        } else if (seg.kind == segment_kind::catch_all) {
            id = n.catch_all;
        } else {
            const auto edge =
                std::find_if(n.literals.begin(), n.literals.end(),
                             [&](const literal_edge& e) { return e.text == seg.text; });
            id = edge == n.literals.end() ? no_node : edge->child;
        }
        if (id == no_node) {
            return no_node;
        }
    }
    return id;
}

std::uint32_t route_table::insert_node(const std::vector<segment>& pattern) {
    std::uint32_t id = 0;
    for (const segment& seg : pattern) {
        // Indices, not references: emplace_back below may move every node.
        std::uint32_t child = no_node;
        if (seg.kind == segment_kind::parameter) {
            child = nodes_[id].parameter;
        } else if (seg.kind == segment_kind::catch_all) {
            child = nodes_[id].catch_all;
        } else {
            for (const literal_edge& e : nodes_[id].literals) {
                if (e.text == seg.text) {
                    child = e.child;
                }
            }
        }

        if (child == no_node) {
            child = static_cast<std::uint32_t>(nodes_.size());
            nodes_.emplace_back();
            if (seg.kind == segment_kind::parameter) {
                nodes_[id].parameter = child;
            } else if (seg.kind == segment_kind::catch_all) {
                nodes_[id].catch_all = child;
            } else {
                nodes_[id].literals.push_back({seg.text, child});
            }
        }
        id = child;
    }
    return id;
}

std::size_t route_table::add(std::string_view method, std::string_view pattern) {
    if (!is_method(method)) {
        std::string message = "invalid route method \"";
        message.append(method).append("\": it must be an upper-case token such as \"GET\"");
        throw std::invalid_argument(message);
    }
    std::vector<segment> segments = parse_pattern(pattern);

    // Every check happens before the first change, so a rejected add() leaves no trace.
    const auto known_method = method_id(method);
    const std::uint32_t existing = find_node(segments);
    if (known_method && existing != no_node) {
        for (const endpoint& e : nodes_[existing].endpoints) {
            if (e.method == *known_method) {
                std::string message = "route \"";
                message.append(method).append(" ").append(pattern);
                message.append("\" repeats route ").append(std::to_string(e.route));
                message.append(" (patterns differing only in parameter names are the same)");
                throw std::invalid_argument(message);
            }
        }
    }
    const bool needs_head = method == "GET" && !method_id("HEAD");
    if (methods_.size() + (known_method ? 0 : 1) + (needs_head ? 1 : 0) > max_methods) {
        throw std::invalid_argument("route_table supports at most 64 distinct methods");
    }

    // HEAD is interned with GET so that it has a place in the sorted Allow list.
    const std::uint8_t id = intern_method(method);
    if (needs_head) {
        intern_method("HEAD");
    }
    const std::uint32_t target = insert_node(segments);
    const std::size_t route = routes_.size();
    routes_.push_back(std::move(segments));
    nodes_[target].endpoints.push_back({id, route});
    nodes_[target].methods |= bit(id);
    return route;
}

// Walks the trie depth-first with literal, then parameter, then catch-all children. That order
// reaches matching patterns from the most specific to the least, and it is also the
// backtracking: a literal branch that dead-ends simply returns and the parameter branch is
// tried. Each node is visited at most once and the recursion is as deep as the longest pattern,
// whatever the path.
void route_table::visit(std::uint32_t id, std::size_t begin, search& s) const {
    const node& n = nodes_[id];
    if (begin == npos) {
        s.offer(n);
        return;
    }

    const auto [raw, next] = segment_at(s.path, begin);
    for (const literal_edge& e : n.literals) {
        if (decodes_to(raw, e.text)) {
            visit(e.child, next, s);
            break;
        }
    }
    if (n.parameter != no_node && !raw.empty()) {
        visit(n.parameter, next, s);
    }
    if (n.catch_all != no_node && (s.last_empty_segment == npos || s.last_empty_segment < begin)) {
        s.offer(nodes_[n.catch_all]);
    }
}

std::vector<path_param> route_table::bind(std::size_t route, std::string_view raw_path) const {
    const std::vector<segment>& pattern = routes_[route];
    std::vector<path_param> params;
    params.reserve(static_cast<std::size_t>(
        std::count_if(pattern.begin(), pattern.end(),
                      [](const segment& seg) { return seg.kind != segment_kind::literal; })));

    std::size_t begin = 1;
    for (const segment& seg : pattern) {
        // Decoding the raw rest in one go equals decoding each segment and joining with '/',
        // because a raw '/' decodes to itself.
        if (seg.kind == segment_kind::catch_all) {
            path_param& param = params.emplace_back(path_param{seg.text, {}});
            append_decoded(param.value, raw_path.substr(begin), false);
            break;
        }

        const auto [raw, next] = segment_at(raw_path, begin);
        if (seg.kind == segment_kind::parameter) {
            path_param& param = params.emplace_back(path_param{seg.text, {}});
            append_decoded(param.value, raw, false);
        }
        begin = next;
    }
    return params;
}

std::string route_table::allow_list(std::uint64_t methods) const {
    if (const auto get = method_id("GET"); get && (methods & bit(*get)) != 0) {
        methods |= bit(*method_id("HEAD"));
    }

    std::string allow;
    for (const std::uint8_t id : methods_by_name_) {
        if ((methods & bit(id)) == 0) {
            continue;
        }
        if (!allow.empty()) {
            allow.append(", ");
        }
        allow.append(methods_[id]);
    }
    return allow;
}

route_match route_table::match(std::string_view method, std::string_view raw_path) const {
    route_match result;

    // A path the server could never serve correctly is refused before routing, so that the
    // answer does not depend on which routes happen to exist.
    const path_scan scan = scan_path(raw_path);
    if (scan.error != nullptr) {
        result.status = match_status::bad_request;
        result.error = scan.error;
        return result;
    }

    search s;
    s.path = raw_path;
    s.last_empty_segment = scan.last_empty_segment;
    s.wanted = method_id(method);
    if (method == "HEAD") {
        s.fallback = method_id("GET");
    }
    visit(0, 1, s);

    if (s.methods == 0) {
        return result;
    }
    result.allow = allow_list(s.methods);
    if (!s.winner) {
        result.status = match_status::method_not_allowed;
        return result;
    }
    result.status = match_status::found;
    result.route = *s.winner;
    result.params = bind(*s.winner, raw_path);
    return result;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    if (!append_decoded(out, text, plus_is_space)) {
        return std::nullopt;
    }
    return out;
}

std::string percent_encode(std::string_view text) {
    static constexpr std::string_view hex = "0123456789ABCDEF";

    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (is_unreserved(c)) {
            out.push_back(c);
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        out.push_back('%');
        out.push_back(hex[byte >> 4]);
        out.push_back(hex[byte & 0x0F]);
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>>
parse_query(std::string_view raw_query) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t begin = 0;
    while (begin != npos) {
        const std::size_t amp = raw_query.find('&', begin);
        const std::string_view piece = raw_query.substr(begin, amp == npos ? npos : amp - begin);
        begin = amp == npos ? npos : amp + 1;
        if (piece.empty()) {
            continue;
        }

        const std::size_t equals = piece.find('=');
        auto& [name, value] = fields.emplace_back();
        if (!append_decoded(name, piece.substr(0, equals), true)) {
            return std::nullopt;
        }
        if (equals != npos && !append_decoded(value, piece.substr(equals + 1), true)) {
            return std::nullopt;
        }
    }
    return fields;
}

} // namespace switchboard::detail
