// WebSocket sessions: the upgrade token a handler returns, and the session
// object its coroutine then drives.
//
// A handler validates the request like any REST call and either answers
// with an error (the client sees an ordinary response, never a 101) or
// returns `reply::upgrade(token)`. The server then checks the handshake
// (RFC 6455 4.2.1), the Origin, joins the token's keys, sends the 101, and
// runs the token's session function in the connection's coroutine:
//
//     co_return sb::reply::upgrade(
//         sb::websocket_upgrade(std::bind_front(job_session, job_id))
//             .join(events, key_of(job_id)));
//
// Keys are joined before the 101 is written, so every publish made after a
// client has seen the 101 reaches it.
#pragma once

#include <switchboard/json.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

class registry;
class request;
class websocket;

namespace detail {
class ws_session;
}

/// What happens when a session's outbound queue would pass
/// websocket_limits::max_outbound_bytes (a subscriber that reads too slowly).
enum class overflow_policy {
    /// Close with 1013 (try again later), reason "subscriber too slow".
    close_try_again_later,
    /// Close with 1008 (policy violation), reason "subscriber too slow".
    close_policy_violation,
    /// Drop the oldest queued messages; before the next message that is
    /// sent, the subscriber gets the text message
    /// `{"type":"gap","missed":N}` saying how many it lost.
    drop_oldest,
};

struct websocket_limits {
    /// Largest message accepted from the peer, fragments included (1009).
    std::size_t max_message = std::size_t{1024} * 1024;
    /// Bytes queued for the peer and not yet written; past it the policy
    /// applies.
    std::size_t max_outbound_bytes = std::size_t{1024} * 1024;
    overflow_policy on_overflow = overflow_policy::close_try_again_later;
    /// Messages received and not yet read by the session function; past it
    /// the server stops reading from the socket until the function catches
    /// up (TCP pushes back on the peer).
    std::size_t max_inbound_messages = 256;
    /// Send a ping after this long without hearing from the peer.
    std::chrono::milliseconds ping_interval{20'000};
    /// Close (1001, "idle timeout") after this long without hearing from the
    /// peer; pings it answers count as hearing from it.
    std::chrono::milliseconds idle_timeout{60'000};
    /// How long to wait for the peer's close frame, and for a blocked write
    /// when closing, before the TCP connection is closed.
    std::chrono::milliseconds close_timeout{5'000};
    /// How long one write may wait for the peer to take data.
    std::chrono::milliseconds send_timeout{30'000};
};

/// One message from the peer.
struct ws_message {
    bool binary = false;
    std::string data;
};

/// How a session ended: the close code and reason received or sent.
/// 1006 (abnormal) when the connection dropped without a close frame.
struct ws_close_status {
    std::uint16_t code = 1006;
    std::string reason;
};

/// The decision to upgrade, returned by a handler through reply::upgrade.
class websocket_upgrade {
public:
    /// The session function runs after the 101 and owns the connection
    /// until it returns; the session then closes with 1000 if it is still
    /// open. An exception from it closes the session with 1011.
    using session_function = std::function<boost::asio::awaitable<void>(websocket&)>;

    explicit websocket_upgrade(session_function run);

    /// An upgrade with no session function, for a client that only listens:
    /// the session sends its first messages and what its keys receive,
    /// answers pings, and ends when the peer, the registry or the server
    /// closes it. A data message from the peer closes it with 1003. Nothing
    /// runs on its behalf while it waits, so it holds about half the memory
    /// of a session whose function waits in read() (bench/README.md).
    static websocket_upgrade send_only();

    /// The subprotocol to answer with. It must be one the client offered
    /// (see offered_subprotocols); when the client offered none, none is
    /// echoed. A client that offered some and gets none may close, as
    /// RFC 6455 lets it: the route decides whether to upgrade anyway.
    websocket_upgrade& subprotocol(std::string name);

    /// Joins `key` of `channels` before the 101 is written.
    websocket_upgrade& join(registry& channels, std::string key);

    websocket_upgrade& limits(const websocket_limits& l);

    /// A text message queued before the keys are joined, so the client
    /// gets it before anything published to them (a "subscribed" notice).
    /// Must be valid UTF-8 (std::invalid_argument otherwise).
    websocket_upgrade& send_first(std::string text);

    template <class T>
    websocket_upgrade& send_first_json(const T& value) {
        return send_first(encode_json(value));
    }

    /// Origins allowed to open this socket, such as "https://app.example"
    /// ("*" allows any, "null" allows the opaque origin). Overrides the
    /// server's list. With neither, only the server's own origin (the Host
    /// the request names) is allowed. A request without Origin (not a
    /// browser) is always allowed: authenticate such clients with a token.
    websocket_upgrade& allow_origins(std::vector<std::string> origins);

    struct key_to_join {
        registry* channels;
        std::string key;
    };
    /// Empty for a send_only() upgrade.
    const session_function& run() const noexcept { return run_; }
    const std::string& chosen_subprotocol() const noexcept { return subprotocol_; }
    const std::vector<key_to_join>& keys() const noexcept { return keys_; }
    const websocket_limits& session_limits() const noexcept { return limits_; }
    const std::vector<std::string>& first_messages() const noexcept { return first_; }
    const std::optional<std::vector<std::string>>& origins() const noexcept { return origins_; }

private:
    websocket_upgrade() = default;

    session_function run_;
    std::string subprotocol_;
    std::vector<key_to_join> keys_;
    std::vector<std::string> first_;
    websocket_limits limits_;
    std::optional<std::vector<std::string>> origins_;
};

/// The subprotocols a client offered in Sec-WebSocket-Protocol, in order.
std::vector<std::string> offered_subprotocols(const request& req);

/// The session function's view of an upgraded connection.
///
/// Not thread-safe: use it from the session function only (it runs on the
/// connection's strand). To reach a session from elsewhere, publish to a key
/// it joined. One reader and one writer run underneath: pings are answered
/// and the closing handshake is done whether or not the function reads.
class websocket {
public:
    websocket(std::shared_ptr<detail::ws_session> session, std::string subprotocol);

    /// The next message, or nullopt once the session is closing or closed
    /// (then status() says why). Completes on the connection's strand.
    boost::asio::awaitable<std::optional<ws_message>> read();

    /// The next message decoded from JSON into T. A message that is not
    /// valid JSON of that shape closes the session with 1007 and a reason
    /// naming the problem, and gives nullopt.
    template <class T>
    boost::asio::awaitable<std::optional<T>> read_json(decode_options options = {}) {
        for (;;) {
            auto message = co_await read();
            if (!message) {
                co_return std::nullopt;
            }
            try {
                co_return decode_json<T>(message->data, options);
            } catch (const json_error& e) {
                close(1007, e.what());
            }
        }
    }

    /// Queues a text message; it must be valid UTF-8 (std::invalid_argument
    /// otherwise). False when the session is closing, or when queueing it
    /// passed the outbound limit (the overflow policy then applied).
    bool send_text(std::string_view text);
    bool send_binary(std::string_view data);

    template <class T>
    bool send_json(const T& value) {
        return send_text(encode_json(value));
    }

    /// Starts the closing handshake. read() then gives nullopt. The reason
    /// is cut to 123 bytes at a UTF-8 boundary; codes a peer may not
    /// receive (1005, 1006, 1015, out of range) are sent as 1000.
    void close(std::uint16_t code = 1000, std::string_view reason = {});

    /// Joins another key; leaving is automatic when the session ends.
    void join(registry& channels, std::string key);

    std::string_view subprotocol() const noexcept;
    bool is_open() const noexcept;
    const ws_close_status& status() const noexcept;

private:
    std::shared_ptr<detail::ws_session> session_;
    std::string subprotocol_;
};

} // namespace switchboard
