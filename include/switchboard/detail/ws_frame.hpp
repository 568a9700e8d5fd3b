#ifndef SWITCHBOARD_DETAIL_WS_FRAME_HPP
#define SWITCHBOARD_DETAIL_WS_FRAME_HPP

// RFC 6455 framing without sockets: a parser that turns received bytes into whole messages and
// control frames, the encoders for what we send, and an incremental UTF-8 validator. The
// connection driver owns the socket and the write queue; everything here works on bytes only,
// so it can be unit-tested and fuzzed byte by byte.
//
// No extension is ever negotiated, so RSV1-3 must be zero in every frame.
//
// Thread safety: the free functions may run concurrently; a frame_parser or utf8_validator
// belongs to one connection and must not be used from two threads at once.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::detail::ws {

enum class opcode : std::uint8_t {
    continuation = 0,
    text = 1,
    binary = 2,
    close = 8,
    ping = 9,
    pong = 10
};

// Which end of the connection the parser sits at. A server requires every frame from the peer
// to be masked; a client requires that none is.
enum class role { server, client };

namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005; // never sent: stands for "close had no code"
inline constexpr std::uint16_t abnormal = 1006;  // never sent: the connection dropped
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t mandatory_extension = 1010;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;
inline constexpr std::uint16_t try_again_later = 1013;
} // namespace close_code

// What one call to frame_parser::parse produced.
struct event {
    enum class kind { need_more, message, ping, pong, close, error };

    kind what = kind::need_more;

    // text or binary, for a message; reset to text for every other kind.
    opcode type = opcode::text;

    // The message data; the ping or pong payload; the reason of a received close (valid UTF-8,
    // possibly empty). Empty for need_more and error.
    std::string payload;

    // For a received close, its code (1005 when the frame had no payload). For an error, the
    // close code to fail the connection with (1002, 1007 or 1009). Zero otherwise.
    std::uint16_t code = 0;

    // For an error only: a short, fixed reason of our own wording, at most 123 bytes of ASCII,
    // so it can go into our close frame as is. It never quotes the peer's bytes.
    std::string reason;
};

// Incremental UTF-8 validator (RFC 3629): overlong forms, surrogates (U+D800-U+DFFF) and code
// points above U+10FFFF are invalid. The input may be split anywhere, even inside a code point.
class utf8_validator {
public:
    // Returns false as soon as the bytes fed so far cannot be the start of valid UTF-8, and
    // keeps returning false until reset().
    bool feed(std::string_view bytes) noexcept;

    // True when nothing invalid was fed and no code point is left open.
    bool complete() const noexcept { return !failed_ && need_ == 0; }

    void reset() noexcept;

private:
    // Continuation bytes still owed by the open code point, and the range the next one must
    // fall in; the range is narrower than 80-BF only right after E0, ED, F0 and F4.
    std::uint8_t need_ = 0;
    std::uint8_t low_ = 0x80;
    std::uint8_t high_ = 0xBF;
    bool failed_ = false;
};

bool valid_utf8(std::string_view text) noexcept;

// Turns the bytes one end of a WebSocket connection receives into events: whole data messages
// (fragments joined, masks removed, text checked as UTF-8), pings, pongs, a close, or the error
// the connection must be failed with.
//
// Memory: the parser holds the message being assembled (never more than max_message bytes), at
// most one control frame payload (125 bytes) and one frame header (14 bytes); nothing else
// grows. Feeding the input one byte at a time yields the same events as feeding it at once.
//
// Checks are made in the order the bytes arrive, and each as early as the bytes allow: a bad
// header is refused before its payload arrives, and invalid UTF-8 before the rest of the
// message arrives.
class frame_parser {
public:
    // `max_message` bounds a whole (possibly fragmented) data message. Each continuation frame
    // is charged its payload plus `fragment_overhead` bytes against that bound, the frame that
    // opens a message only its payload; a message made of many tiny or empty fragments is thus
    // refused long before it could pin memory or spin the CPU, while an unfragmented message
    // may use the whole bound. A `fragment_overhead` of 0 is taken as 1, so that empty
    // continuations always count.
    frame_parser(role r, std::size_t max_message, std::size_t fragment_overhead = 64);

    // Consumes a prefix of `data` (possibly all of it, possibly none) and fills `ev` with at
    // most one event; every field of `ev` is overwritten, and the capacity of ev.payload is
    // reused. Returns the number of bytes consumed. Call again with the rest until it reports
    // need_more; need_more always means that all of `data` was consumed.
    //
    // Data payloads are unmasked straight into the message being assembled; control frames are
    // delivered whole, even between the fragments of a data message, which then continues.
    //
    // After an error event, or after a close event, the parser is finished: further calls
    // consume nothing and report the same event again.
    std::size_t parse(std::string_view data, event& ev);

    // Bytes held for the message being assembled.
    std::size_t buffered() const noexcept { return message_.size(); }

    // Between two frames and outside a fragmented message: a new parser would carry on the same
    // way, so a caller may drop this one until more bytes come.
    bool at_rest() const noexcept {
        return state_ == state::header && header_size_ == 0 && !in_message_;
    }

private:
    enum class state : std::uint8_t { header, payload, finished };

    bool take_header(std::string_view data, std::size_t& used);
    bool check_first_byte();
    bool check_second_byte();
    bool check_length();
    void take_payload(std::string_view data, std::size_t& used);
    bool end_frame(event& ev);
    bool end_control_frame(event& ev);
    void fail(std::uint16_t code, const char* reason);
    void report_final(event& ev) const;

    role role_;
    std::size_t max_message_;
    std::size_t fragment_overhead_;
    state state_ = state::header;

    // The frame being read.
    std::array<unsigned char, 14> header_{};
    std::uint8_t header_size_ = 0;
    std::uint8_t header_need_ = 2; // grows once the second byte tells the header's length
    bool fin_ = false;
    opcode op_ = opcode::continuation;
    std::array<unsigned char, 4> mask_{};
    bool masked_ = false;
    std::uint64_t remaining_ = 0; // payload bytes of this frame not yet received
    std::size_t mask_phase_ = 0;  // payload bytes of this frame received, modulo 4

    // The data message being assembled.
    bool in_message_ = false;
    opcode message_type_ = opcode::text;
    std::string message_;
    std::uint64_t charged_ = 0; // payload plus per-fragment overhead, never above max_message_
    utf8_validator utf8_;

    // The control frame being read; also keeps a received close for report_final().
    std::array<char, 125> control_{};
    std::uint8_t control_size_ = 0;

    // How the parser finished: a close or an error.
    event::kind final_kind_ = event::kind::need_more;
    std::uint16_t final_code_ = 0;
    const char* final_reason_ = "";
};

// Encodes one frame. With a mask (the client role must send one, fresh and unpredictable, with
// every frame) the payload is masked with it. Throws std::invalid_argument for an opcode outside
// the enumeration, and for a control frame that is fragmented or longer than 125 bytes, rather
// than emit a frame the peer must reject.
std::string encode_frame(opcode op, std::string_view payload, bool fin = true,
                         const std::array<unsigned char, 4>* mask = nullptr);

// The header of an unmasked frame (2, 4 or 10 bytes), for writers that keep the payload
// elsewhere. Throws like encode_frame.
std::string encode_header(opcode op, std::size_t payload_size, bool fin = true);

// A close frame payload: the 2-byte code, then the longest prefix of `reason` that is valid
// UTF-8 and at most 123 bytes long, so a cut never splits a code point. Throws
// std::invalid_argument for a code valid_close_code() rejects, since the peer would have to
// fail the connection over it.
std::string close_payload(std::uint16_t code, std::string_view reason);

// Whether a close frame may carry `code`: 1000-1003, 1007-1014 and 3000-4999.
bool valid_close_code(std::uint16_t code) noexcept;

} // namespace switchboard::detail::ws

#endif
