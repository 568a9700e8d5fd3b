// Method + path pattern to handler.
#pragma once

#include <switchboard/json.hpp>
#include <switchboard/reply.hpp>
#include <switchboard/request.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// A route handler: one coroutine that reads the request and answers.
using handler = std::function<boost::asio::awaitable<reply>(request&)>;

struct route_options {
    /// How the route decodes JSON bodies (unknown fields are rejected unless
    /// allow_unknown_fields is set).
    decode_options json{};
    /// A body limit for this route instead of the server's, in bytes.
    std::optional<std::size_t> body_limit{};
    /// Origins allowed to send this route state-changing requests (every method but GET,
    /// HEAD, OPTIONS and TRACE), instead of server_options::allowed_origins; {"*"} opens the
    /// route to any site, for a public API that does its own CORS. A request from another
    /// origin gets 403 before its body is read; one without Origin (not a browser) passes.
    std::optional<std::vector<std::string>> allowed_origins{};
};

namespace detail {
class route_table;
struct route_entry {
    handler run;
    route_options options;
};
} // namespace detail

/// The routing table. Patterns are `/literal/:param/literal`, optionally
/// ending in `*rest`, which takes the rest of the path. A literal segment
/// beats a parameter whatever the order routes were added in. Matching works
/// on the encoded path, so `%2F` inside a segment never splits it; parameters
/// are percent-decoded exactly once. HEAD is answered by the GET route of a
/// pattern (without a body) unless the pattern has its own HEAD route.
///
/// Build the router before handing it to a server; it is not changed after.
class router {
public:
    router();
    router(router&&) noexcept;
    router& operator=(router&&) noexcept;
    ~router();

    /// Adds a route. Throws std::invalid_argument for a malformed pattern or
    /// a (method, pattern) pair that is already there.
    router& add(std::string_view method, std::string_view pattern, handler h,
                route_options options = {});

    router& get(std::string_view pattern, handler h, route_options options = {});
    router& post(std::string_view pattern, handler h, route_options options = {});
    router& put(std::string_view pattern, handler h, route_options options = {});
    router& patch(std::string_view pattern, handler h, route_options options = {});
    router& del(std::string_view pattern, handler h, route_options options = {});

    const detail::route_table& table() const noexcept { return *table_; }
    const detail::route_entry& entry(std::size_t index) const { return entries_.at(index); }

private:
    std::unique_ptr<detail::route_table> table_;
    std::vector<detail::route_entry> entries_;
};

} // namespace switchboard
