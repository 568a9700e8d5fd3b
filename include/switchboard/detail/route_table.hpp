#ifndef SWITCHBOARD_DETAIL_ROUTE_TABLE_HPP
#define SWITCHBOARD_DETAIL_ROUTE_TABLE_HPP

// Routing decisions without sockets: which registered route a (method, raw path) pair selects,
// plus the percent-coding helpers the server and the client share. Everything here works on
// bytes only, so it can be unit-tested and fuzzed directly.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::detail {

enum class match_status { found, not_found, method_not_allowed, bad_request };

// One bound parameter. `value` is the request segment percent-decoded exactly once, so a
// double-encoded "%252f" arrives as the three characters "%2f", never as '/'.
struct path_param {
    std::string name;
    std::string value;

    bool operator==(const path_param&) const = default;
};

struct route_match {
    match_status status = match_status::not_found;

    // The index add() returned for the selected route; meaningful only when found.
    std::size_t route = 0;

    // The selected route's parameters in pattern order; empty unless found.
    std::vector<path_param> params;

    // Sorted, comma-separated methods of every pattern that matches the path, with HEAD listed
    // whenever GET is. Filled for found and method_not_allowed, empty otherwise.
    std::string allow;

    // A short, fixed reason for bad_request. It never quotes the request, so it is safe to send
    // back to the client as is.
    std::string error;
};

// Maps (method, path) to the routes registered with add().
//
// Patterns are split at '/'. Each segment is a literal, a parameter ":name", or, as the last
// segment only, a catch-all "*name" that takes one or more remaining segments and joins their
// decoded values with '/'. Names match [A-Za-z_][A-Za-z0-9_]*. "/" is the root, and a trailing
// '/' is a significant empty last segment ("/jobs/" is not "/jobs"). Literal segments are plain
// RFC 3986 path characters without '%' (they are compared with the decoded request segment) and
// may not be "." or "..", which clients normalise away before sending.
//
// Matching:
// - The request path is split at raw '/' only, so "%2F" stays inside its segment.
// - When several patterns match, the more specific one is preferred: segments are compared from
//   the left and literal beats parameter beats catch-all. The most specific pattern that has the
//   request method wins; HEAD falls back to GET on a pattern without HEAD.
// - An empty segment never binds a parameter, and a catch-all never takes an empty segment, so a
//   bound value is never empty and never starts with '/' because of "//".
// - "." and ".." are ordinary segments: they match parameters and never climb.
// - A path that does not start with '/', holds a malformed escape, a raw control character or
//   space, or a segment that decodes to NUL or invalid UTF-8 is a bad_request, whichever routes
//   exist.
//
// Thread safety: match() is const and may run concurrently from any number of threads; add()
// must not run concurrently with anything, so register every route before serving.
class route_table {
public:
    route_table();

    // Registers `pattern` for `method` (an upper-case token such as "GET") and returns the new
    // route's index, counting from 0 in registration order. Throws std::invalid_argument for a
    // malformed method or pattern, a parameter name repeated within the pattern, or a (method,
    // pattern) pair already registered, where patterns differing only in parameter names count
    // as the same. The table is unchanged when it throws.
    std::size_t add(std::string_view method, std::string_view pattern);

    // `raw_path` is the path of the request target exactly as received: still percent-encoded,
    // without the query. Allocates only the returned strings.
    route_match match(std::string_view method, std::string_view raw_path) const;

private:
    enum class segment_kind : std::uint8_t { literal, parameter, catch_all };

    struct segment {
        segment_kind kind;
        std::string text; // the literal, or the parameter's name
    };

    struct endpoint {
        std::uint8_t method;
        std::size_t route;
    };

    struct literal_edge {
        std::string text;
        std::uint32_t child;
    };

    static constexpr std::uint32_t no_node = UINT32_MAX;

    struct node {
        std::vector<literal_edge> literals;
        std::uint32_t parameter = no_node;
        std::uint32_t catch_all = no_node;
        std::vector<endpoint> endpoints; // routes whose pattern ends here
        std::uint64_t methods = 0;       // one bit per method id in `endpoints`
    };

    struct search;

    static std::vector<segment> parse_pattern(std::string_view pattern);
    std::optional<std::uint8_t> method_id(std::string_view method) const;
    std::uint8_t intern_method(std::string_view method);
    std::uint32_t find_node(const std::vector<segment>& pattern) const;
    std::uint32_t insert_node(const std::vector<segment>& pattern);
    void visit(std::uint32_t id, std::size_t begin, search& s) const;
    std::vector<path_param> bind(std::size_t route, std::string_view raw_path) const;
    std::string allow_list(std::uint64_t methods) const;

    std::vector<node> nodes_; // nodes_[0] is the root, before the first segment
    std::vector<std::vector<segment>> routes_;
    std::vector<std::string> methods_;          // indexed by method id
    std::vector<std::uint8_t> methods_by_name_; // method ids in Allow order
};

// Decodes every "%XX" once. Returns nullopt for a '%' not followed by two hex digits. With
// `plus_is_space` (query strings only) '+' becomes ' '. The result may hold any byte, NUL
// included; callers that need text must check it.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// Encodes every byte except the RFC 3986 unreserved ones (ALPHA DIGIT - . _ ~) as "%XX" with
// upper-case hex, so the result is safe as one path segment or one query name or value.
std::string percent_encode(std::string_view text);

// Splits a raw query (without the '?') at '&' and each piece at its first '=', decoding both
// sides with plus_is_space. Keeps order and repeats; "b" and "c=" both give an empty value;
// empty pieces ("a=1&&b=2") are skipped. Returns nullopt when any escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>>
parse_query(std::string_view raw_query);

} // namespace switchboard::detail

#endif
