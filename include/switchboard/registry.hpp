// The channel registry: sessions join keys (a job id, a room), and a publish
// reaches every session on that key once, in order.
#pragma once

#include <switchboard/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace switchboard {

namespace detail {
struct registry_core;
class outbox;
} // namespace detail

struct registry_options {
    /// Keys are spread over this many shards, each with its own strand, so
    /// a hot key does not serialise the others.
    std::size_t shards = 16;
};

/// The longest name valid_channel_name() accepts, in bytes.
inline constexpr std::size_t max_channel_name = 128;

/// The rule valid_channel_name() applies, worded for a client: short enough for the reason of a
/// close frame, so a 400 body and a WebSocket close can both carry it.
inline constexpr std::string_view channel_name_rule =
    "channel names are 1-128 characters of A-Z a-z 0-9 - _ . ~ in segments separated by one /, "
    "none of them . or ..";

/// Whether a channel name a client chose is safe to use as a registry key, or anywhere a key
/// might later become a path, a Redis channel or a log field: 1 to max_channel_name bytes of
/// ASCII letters, digits, `-`, `_`, `.` and `~`, in segments separated by single `/`, with no
/// segment empty, `.` or `..`.
///
/// "job/7", "prices/EUR-USD" and "room.lobby" pass. "../admin", "a/../b", "/a", "a/", "a//b",
/// "%2e%2e" (no `%`: a name is never decoded a second time), "", spaces, control characters and
/// anything outside ASCII do not.
///
/// The registry itself takes any key, since the keys an application builds (like "job/" + id)
/// are its own business: check the ones that come from a client, and refuse the request (400)
/// or close the session (1008) with channel_name_rule when this is false.
bool valid_channel_name(std::string_view name) noexcept;

/// Counters since the registry was made; read them at any time.
struct registry_stats {
    std::uint64_t published = 0; ///< publish calls
    std::uint64_t enqueued = 0;  ///< messages queued for a subscriber
    std::uint64_t dropped = 0;   ///< messages dropped for slow subscribers (drop_oldest)
    std::uint64_t cut_off = 0;   ///< subscribers closed for being too slow
};

/// Thread safety: every member may be called from any thread, also from
/// threads that do not run the io_context. Publishing never blocks on a
/// subscriber: the message is framed once, and each subscriber's queue gets
/// a reference to the same bytes. The messages of one key reach each of its
/// subscribers in the order of the publish calls that a thread made; calls
/// from different threads interleave in some order, the same for everyone.
class registry {
public:
    explicit registry(boost::asio::io_context& context, registry_options options = {});
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;
    /// Sessions still joined simply stop receiving; they keep working.
    ~registry();

    /// Publishes a text message; it must be valid UTF-8, since a browser
    /// fails the whole connection on a text frame that is not
    /// (std::invalid_argument otherwise).
    void publish(std::string_view key, std::string_view text);
    void publish_binary(std::string_view key, std::string_view data);

    template <class T>
    void publish_json(std::string_view key, const T& value) {
        publish(key, encode_json(value));
    }

    /// Closes every session on `key` with `code` and `reason`.
    void close(std::string_view key, std::uint16_t code, std::string_view reason);

    /// Sessions joined to `key` now.
    std::size_t subscriber_count(std::string_view key) const;
    /// Keys with at least one session.
    std::size_t key_count() const;
    registry_stats stats() const;

    /// For the session code: joins an outbox to a key; the returned handle
    /// leaves when destroyed.
    class subscription;
    subscription join(std::shared_ptr<detail::outbox> box, std::string key);

private:
    std::shared_ptr<detail::registry_core> core_;
};

class registry::subscription {
public:
    subscription() = default;
    subscription(subscription&&) noexcept;
    subscription& operator=(subscription&&) noexcept;
    ~subscription();

    /// Whether this is the subscription to `key` of `channels`.
    bool is_for(const registry& channels, std::string_view key) const noexcept;

private:
    friend class registry;
    std::weak_ptr<detail::registry_core> core_;
    std::shared_ptr<detail::outbox> box_;
    std::string key_;
};

} // namespace switchboard
