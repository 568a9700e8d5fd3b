// What the two WebSocket frame targets share: reading the input's setup prefix, feeding the
// frames to a frame_parser in different cuts, checking each event against the parser's
// contract, and encoding the events back into frames.
//
// An input is four setup bytes, then the frames:
//   byte 0     the parser's limits: bits 0-2 pick max_message, bits 3-4 fragment_overhead;
//   bytes 1-2  where the second feeding cuts the frames in two (big-endian, modulo size + 1);
//   byte 3     the piece size of the third feeding, minus one.
#pragma once

#include "fuzz_check.hpp"

#include <switchboard/detail/ws_frame.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::fuzz {

namespace ws = detail::ws;

struct frame_setup {
    std::size_t max_message = 0;
    std::size_t fragment_overhead = 0;
    std::size_t cut = 0;
    std::size_t stride = 1;
    std::array<unsigned char, 4> mask{};
    std::string_view frames;
};

inline std::optional<frame_setup> read_frame_setup(const std::uint8_t* data, std::size_t size) {
    if (size < 4) {
        return std::nullopt;
    }

    // Limits around the edges that matter: none at all, one byte, the control frame size, the
    // 7- and 16-bit length encodings, and a size no fuzz input reaches.
    static constexpr std::array<std::size_t, 8> max_messages{0,   1,    2,      125,
                                                             126, 1000, 0xFFFF, 1 << 20};
    static constexpr std::array<std::size_t, 4> overheads{0, 1, 16, 64};

    frame_setup setup;
    setup.max_message = max_messages[data[0] & 0x07];
    setup.fragment_overhead = overheads[(data[0] >> 3) & 0x03];
    setup.frames = std::string_view(reinterpret_cast<const char*>(data + 4), size - 4);
    setup.cut = ((std::size_t{data[1]} << 8) | data[2]) % (setup.frames.size() + 1);
    setup.stride = std::size_t{data[3]} + 1;
    setup.mask = {data[0], data[1], data[2], data[3]};
    return setup;
}

/// One event as reported, comparable.
struct frame_event {
    ws::event::kind what = ws::event::kind::need_more;
    ws::opcode type = ws::opcode::text;
    std::string payload;
    std::uint16_t code = 0;
    std::string reason;

    bool operator==(const frame_event&) const = default;
};

inline frame_event record(const ws::event& ev) {
    return {ev.what, ev.type, ev.payload, ev.code, ev.reason};
}

inline bool is_final(ws::event::kind what) {
    return what == ws::event::kind::close || what == ws::event::kind::error;
}

inline bool printable_ascii(std::string_view text) {
    for (char c : text) {
        if (c < 0x20 || c > 0x7E) {
            return false;
        }
    }
    return true;
}

/// The promises of ws_frame.hpp about one event, whatever the input.
inline void check_event(const ws::event& ev, const frame_setup& setup) {
    using kind = ws::event::kind;
    if (ev.what != kind::message) {
        SWITCHBOARD_FUZZ_CHECK(ev.type == ws::opcode::text);
    }
    if (ev.what != kind::error) {
        SWITCHBOARD_FUZZ_CHECK(ev.reason.empty());
    }

    switch (ev.what) {
    case kind::need_more:
        SWITCHBOARD_FUZZ_CHECK(ev.payload.empty() && ev.code == 0);
        break;
    case kind::message:
        SWITCHBOARD_FUZZ_CHECK(ev.type == ws::opcode::text || ev.type == ws::opcode::binary);
        SWITCHBOARD_FUZZ_CHECK(ev.payload.size() <= setup.max_message);
        SWITCHBOARD_FUZZ_CHECK(ev.type == ws::opcode::binary || ws::valid_utf8(ev.payload));
        SWITCHBOARD_FUZZ_CHECK(ev.code == 0);
        break;
    case kind::ping:
    case kind::pong:
        SWITCHBOARD_FUZZ_CHECK(ev.payload.size() <= 125 && ev.code == 0);
        break;
    case kind::close:
        if (ev.code == ws::close_code::no_status) {
            SWITCHBOARD_FUZZ_CHECK(ev.payload.empty());
        } else {
            SWITCHBOARD_FUZZ_CHECK(ws::valid_close_code(ev.code));
            SWITCHBOARD_FUZZ_CHECK(ev.payload.size() <= 123 && ws::valid_utf8(ev.payload));
        }
        break;
    case kind::error:
        SWITCHBOARD_FUZZ_CHECK(ev.code == ws::close_code::protocol_error ||
                               ev.code == ws::close_code::invalid_payload ||
                               ev.code == ws::close_code::too_big);
        SWITCHBOARD_FUZZ_CHECK(ev.payload.empty());
        // The reason goes into our own close frame as it is.
        SWITCHBOARD_FUZZ_CHECK(!ev.reason.empty() && ev.reason.size() <= 123);
        SWITCHBOARD_FUZZ_CHECK(printable_ascii(ev.reason));
        SWITCHBOARD_FUZZ_CHECK(ws::close_payload(ev.code, ev.reason).size() ==
                               2 + ev.reason.size());
        break;
    }
}

/// Feeds `pieces` in order to a fresh parser, as a connection's reads would deliver them, and
/// returns every event up to the parser's final one (or the end of the input). Checks the
/// contract of parse() on the way.
inline std::vector<frame_event> parse_pieces(ws::role role, const frame_setup& setup,
                                             const std::vector<std::string_view>& pieces) {
    ws::frame_parser parser(role, setup.max_message, setup.fragment_overhead);
    std::vector<frame_event> events;
    ws::event ev;
    for (std::string_view rest : pieces) {
        while (true) {
            const std::size_t used = parser.parse(rest, ev);
            SWITCHBOARD_FUZZ_CHECK(used <= rest.size());
            SWITCHBOARD_FUZZ_CHECK(parser.buffered() <= setup.max_message);
            check_event(ev, setup);
            rest.remove_prefix(used);
            if (ev.what == ws::event::kind::need_more) {
                SWITCHBOARD_FUZZ_CHECK(rest.empty());
                break;
            }
            events.push_back(record(ev));

            if (is_final(ev.what)) {
                // A finished parser takes nothing more and repeats its last word.
                ws::event again;
                SWITCHBOARD_FUZZ_CHECK(parser.parse(rest, again) == 0);
                SWITCHBOARD_FUZZ_CHECK(record(again) == events.back());
                return events;
            }
        }
    }
    return events;
}

/// The three ways the same bytes are fed: whole, cut in two, and in pieces of `stride`.
inline std::vector<frame_event> parse_three_ways(ws::role role, const frame_setup& setup) {
    const std::string_view frames = setup.frames;
    const auto whole = parse_pieces(role, setup, {frames});

    const auto halves =
        parse_pieces(role, setup, {frames.substr(0, setup.cut), frames.substr(setup.cut)});
    SWITCHBOARD_FUZZ_CHECK(halves == whole);

    std::vector<std::string_view> pieces;
    for (std::size_t at = 0; at < frames.size(); at += setup.stride) {
        pieces.push_back(frames.substr(at, setup.stride));
    }
    SWITCHBOARD_FUZZ_CHECK(parse_pieces(role, setup, pieces) == whole);
    return whole;
}

/// Encodes the events (all but an error, which has no frame) back into frames as the peer of
/// `role` would send them: masked to a server, unmasked to a client.
inline std::string encode_events(ws::role role, const frame_setup& setup,
                                 const std::vector<frame_event>& events) {
    const auto* mask = role == ws::role::server ? &setup.mask : nullptr;
    std::string out;
    for (const auto& ev : events) {
        switch (ev.what) {
        case ws::event::kind::message:
            out += ws::encode_frame(ev.type, ev.payload, true, mask);
            break;
        case ws::event::kind::ping:
            out += ws::encode_frame(ws::opcode::ping, ev.payload, true, mask);
            break;
        case ws::event::kind::pong:
            out += ws::encode_frame(ws::opcode::pong, ev.payload, true, mask);
            break;
        case ws::event::kind::close: {
            std::string payload;
            if (ev.code != ws::close_code::no_status) {
                payload = ws::close_payload(ev.code, ev.payload);
                // A valid reason of at most 123 bytes survives whole.
                SWITCHBOARD_FUZZ_CHECK(payload.size() == 2 + ev.payload.size());
            }
            out += ws::encode_frame(ws::opcode::close, payload, true, mask);
            break;
        }
        case ws::event::kind::need_more:
        case ws::event::kind::error:
            break;
        }
    }
    return out;
}

/// Everything a frame target checks about one input, for the parser at `role`.
inline void check_frames(ws::role role, const std::uint8_t* data, std::size_t size) {
    const auto setup = read_frame_setup(data, size);
    if (!setup) {
        return;
    }

    const auto events = parse_three_ways(role, *setup);

    // What was understood, said again by our own encoder, is understood the same way.
    std::vector<frame_event> expected = events;
    if (!expected.empty() && expected.back().what == ws::event::kind::error) {
        expected.pop_back();
    }
    const std::string again = encode_events(role, *setup, expected);
    SWITCHBOARD_FUZZ_CHECK(parse_pieces(role, *setup, {again}) == expected);

    // The incremental UTF-8 validator agrees with itself across any cut.
    ws::utf8_validator utf8;
    const bool split_ok = utf8.feed(setup->frames.substr(0, setup->cut)) &&
                          utf8.feed(setup->frames.substr(setup->cut)) && utf8.complete();
    SWITCHBOARD_FUZZ_CHECK(split_ok == ws::valid_utf8(setup->frames));
}

} // namespace switchboard::fuzz
