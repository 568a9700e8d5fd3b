#include <switchboard/detail/ws_frame.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using switchboard::detail::ws::close_payload;
using switchboard::detail::ws::encode_frame;
using switchboard::detail::ws::encode_header;
using switchboard::detail::ws::event;
using switchboard::detail::ws::frame_parser;
using switchboard::detail::ws::opcode;
using switchboard::detail::ws::role;
using switchboard::detail::ws::utf8_validator;
using switchboard::detail::ws::valid_close_code;
using switchboard::detail::ws::valid_utf8;
namespace close_code = switchboard::detail::ws::close_code;

using key = std::array<unsigned char, 4>;
using events = std::vector<std::string>;

constexpr std::size_t default_max = std::size_t{1} << 20;

// "89 FE 00 7E" -> the four bytes. Spaces are ignored.
std::string hex(std::string_view text) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        throw std::invalid_argument("bad hex digit in test input");
    };

    std::string bytes;
    int high = -1;
    for (const char c : text) {
        if (c == ' ') {
            continue;
        }
        if (high < 0) {
            high = digit(c);
        } else {
            bytes.push_back(static_cast<char>(high * 16 + digit(c)));
            high = -1;
        }
    }
    if (high >= 0) {
        throw std::invalid_argument("odd number of hex digits in test input");
    }
    return bytes;
}

std::string repeat(char c, std::size_t n) {
    return std::string(n, c);
}

// Builds a frame the naive way, byte by byte, so the parser is checked against code that shares
// nothing with encode_frame. `first` is the whole first byte (FIN, RSV, opcode).
std::string frame(unsigned first, std::string_view payload, const key* mask) {
    std::string out(1, static_cast<char>(first));
    const unsigned mask_bit = mask != nullptr ? 0x80 : 0;
    const std::uint64_t size = payload.size();
    if (size < 126) {
        out.push_back(static_cast<char>(mask_bit | size));
    } else if (size < 65536) {
        out.push_back(static_cast<char>(mask_bit | 126));
        out.push_back(static_cast<char>(size >> 8));
        out.push_back(static_cast<char>(size & 0xFF));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((size >> shift) & 0xFF));
        }
    }
    if (mask != nullptr) {
        out.append(reinterpret_cast<const char*>(mask->data()), 4);
    }
    for (std::size_t i = 0; i < payload.size(); ++i) {
        const unsigned char k = mask != nullptr ? (*mask)[i % 4] : 0;
        out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ k));
    }
    return out;
}

std::string describe(const event& ev) {
    switch (ev.what) {
    case event::kind::need_more:
        return "need_more";
    case event::kind::message:
        return (ev.type == opcode::text     ? "text:"
                : ev.type == opcode::binary ? "binary:"
                                            : "message?:") +
               ev.payload;
    case event::kind::ping:
        return "ping:" + ev.payload;
    case event::kind::pong:
        return "pong:" + ev.payload;
    case event::kind::close:
        return "close:" + std::to_string(ev.code) + ":" + ev.payload;
    case event::kind::error:
        return "error:" + std::to_string(ev.code);
    }
    return "kind?";
}

std::string error(std::uint16_t code) {
    return "error:" + std::to_string(code);
}

struct outcome {
    events seen;
    std::size_t consumed = 0;
};

// Drives the parser the way a connection would: each piece is offered until the parser reports
// need_more, and everything stops at the first close or error. Checks on the way what must hold
// after every call.
outcome run(frame_parser& parser, const std::vector<std::string_view>& pieces,
            std::size_t max_message) {
    outcome out;
    event ev;
    for (std::string_view piece : pieces) {
        while (true) {
            const std::size_t used = parser.parse(piece, ev);
            EXPECT_LE(used, piece.size());
            piece.remove_prefix(std::min(used, piece.size()));
            out.consumed += used;
            EXPECT_LE(parser.buffered(), max_message);

            if (ev.what == event::kind::need_more) {
                EXPECT_TRUE(piece.empty()) << "need_more before the input was consumed";
                EXPECT_TRUE(ev.payload.empty() && ev.reason.empty() && ev.code == 0);
                break;
            }
            out.seen.push_back(describe(ev));

            if (ev.what == event::kind::error) {
                EXPECT_FALSE(ev.reason.empty());
                EXPECT_LE(ev.reason.size(), 123u);
                for (const char c : ev.reason) {
                    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "reason must be our plain ASCII";
                }
                EXPECT_TRUE(ev.payload.empty());
            } else {
                EXPECT_TRUE(ev.reason.empty());
            }

            if (ev.what == event::kind::error || ev.what == event::kind::close) {
                // Finished: nothing more is consumed and the same event comes back.
                event again;
                EXPECT_EQ(parser.parse(hex("81 80 00 00 00 00"), again), 0u);
                EXPECT_EQ(describe(again), describe(ev));
                EXPECT_EQ(again.reason, ev.reason);
                return out;
            }
            if (used == 0) {
                ADD_FAILURE() << "an event consumed no bytes";
                return out;
            }
        }
    }
    return out;
}

outcome run_whole(role r, std::string_view input, std::size_t max_message = default_max,
                  std::size_t overhead = 64) {
    frame_parser parser(r, max_message, overhead);
    return run(parser, {input}, max_message);
}

outcome run_bytes(role r, std::string_view input, std::size_t max_message = default_max,
                  std::size_t overhead = 64) {
    std::vector<std::string_view> pieces;
    pieces.reserve(input.size());
    for (std::size_t i = 0; i < input.size(); ++i) {
        pieces.push_back(input.substr(i, 1));
    }
    frame_parser parser(r, max_message, overhead);
    return run(parser, pieces, max_message);
}

outcome run_chunks(role r, std::string_view input, std::mt19937& rng,
                   std::size_t max_message = default_max, std::size_t overhead = 64) {
    std::uniform_int_distribution<std::size_t> size(0, 300);
    std::vector<std::string_view> pieces;
    while (!input.empty()) {
        const std::size_t n = std::min(size(rng), input.size());
        pieces.push_back(input.substr(0, n));
        input.remove_prefix(n);
    }
    frame_parser parser(r, max_message, overhead);
    return run(parser, pieces, max_message);
}

// Every cut position for small inputs; for big ones the positions near both ends and a spread
// in between, which still crosses every header field and mask phase.
std::vector<std::size_t> cut_points(std::size_t size) {
    std::vector<std::size_t> cuts;
    for (std::size_t cut = 1; cut < size; ++cut) {
        if (size <= 4096 || cut < 64 || size - cut < 64 || cut % 997 == 0) {
            cuts.push_back(cut);
        }
    }
    return cuts;
}

// The input must give exactly `expected` whether it arrives at once, cut in two anywhere, or
// one byte at a time.
void expect_events(role r, std::string_view input, const events& expected,
                   std::size_t max_message = default_max, std::size_t overhead = 64) {
    EXPECT_EQ(run_whole(r, input, max_message, overhead).seen, expected) << "fed at once";

    for (const std::size_t cut : cut_points(input.size())) {
        frame_parser parser(r, max_message, overhead);
        const auto seen = run(parser, {input.substr(0, cut), input.substr(cut)}, max_message).seen;
        if (seen != expected) {
            ADD_FAILURE() << "cut at byte " << cut << ": got " << testing::PrintToString(seen)
                          << ", want " << testing::PrintToString(expected);
            break;
        }
    }

    EXPECT_EQ(run_bytes(r, input, max_message, overhead).seen, expected) << "byte at a time";
}

struct row {
    const char* name;
    role side;
    std::string input;
    events expected;
};

void expect_rows(const std::vector<row>& rows, std::size_t max_message = default_max,
                 std::size_t overhead = 64) {
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        expect_events(r.side, r.input, r.expected, max_message, overhead);
    }
}

const std::string zero_mask = hex("00 00 00 00");

// Frames as the cases write them: masked with an all-zero key, so the payload reads in clear.
std::string masked(std::string_view header_hex, std::string_view payload = {}) {
    return hex(header_hex) + zero_mask + std::string(payload);
}

// RFC 6455 section 5.7

TEST(ws_frame, rfc_examples_decode) {
    expect_rows({
        {"unmasked text to a client", role::client, hex("81 05 48 65 6C 6C 6F"), {"text:Hello"}},
        {"masked text to a server",
         role::server,
         hex("81 85 37 FA 21 3D 7F 9F 4D 51 58"),
         {"text:Hello"}},
        {"fragmented unmasked text",
         role::client,
         hex("01 03 48 65 6C 80 02 6C 6F"),
         {"text:Hello"}},
        {"unmasked ping", role::client, hex("89 05 48 65 6C 6C 6F"), {"ping:Hello"}},
        {"masked pong", role::server, hex("8A 85 37 FA 21 3D 7F 9F 4D 51 58"), {"pong:Hello"}},
        {"256 bytes with a 16-bit length",
         role::client,
         hex("82 7E 01 00") + repeat('z', 256),
         {"binary:" + repeat('z', 256)}},
        {"64 KiB with a 64-bit length",
         role::client,
         hex("82 7F 00 00 00 00 00 01 00 00") + repeat('q', 65536),
         {"binary:" + repeat('q', 65536)}},
    });
}

TEST(ws_frame, parser_is_at_rest_only_between_frames_outside_a_message) {
    frame_parser parser(role::server, default_max);
    auto feed = [&](std::string_view data) {
        std::vector<event::kind> seen;
        for (;;) {
            event ev;
            data.remove_prefix(parser.parse(data, ev));
            if (ev.what == event::kind::need_more) {
                return seen;
            }
            seen.push_back(ev.what);
            if (ev.what == event::kind::close || ev.what == event::kind::error) {
                return seen; // finished: it would report the same event again
            }
        }
    };
    EXPECT_TRUE(parser.at_rest());
    const auto hello = masked("81 85", "Hello");
    feed(hello.substr(0, 1));
    EXPECT_FALSE(parser.at_rest()) << "half a header";
    feed(hello.substr(1, 5));
    EXPECT_FALSE(parser.at_rest()) << "a header without its payload";
    EXPECT_EQ(feed(hello.substr(6)), std::vector{event::kind::message});
    EXPECT_TRUE(parser.at_rest());

    EXPECT_TRUE(feed(masked("01 83", "Hel")).empty());
    EXPECT_FALSE(parser.at_rest()) << "inside a fragmented message";
    EXPECT_EQ(feed(masked("89 80")), std::vector{event::kind::ping});
    EXPECT_FALSE(parser.at_rest()) << "a ping between fragments";
    EXPECT_EQ(feed(masked("80 82", "lo")), std::vector{event::kind::message});
    EXPECT_TRUE(parser.at_rest());

    EXPECT_EQ(feed(masked("88 82", "\x03\xe8")), std::vector{event::kind::close});
    EXPECT_FALSE(parser.at_rest()) << "finished after a close";
}

TEST(ws_frame, rfc_examples_encode) {
    const key rfc_key{0x37, 0xFA, 0x21, 0x3D};
    EXPECT_EQ(encode_frame(opcode::text, "Hello"), hex("81 05 48 65 6C 6C 6F"));
    EXPECT_EQ(encode_frame(opcode::text, "Hello", true, &rfc_key),
              hex("81 85 37 FA 21 3D 7F 9F 4D 51 58"));
    EXPECT_EQ(encode_frame(opcode::text, "Hel", false), hex("01 03 48 65 6C"));
    EXPECT_EQ(encode_frame(opcode::continuation, "lo"), hex("80 02 6C 6F"));
    EXPECT_EQ(encode_frame(opcode::ping, "Hello"), hex("89 05 48 65 6C 6C 6F"));
    EXPECT_EQ(encode_frame(opcode::pong, "Hello", true, &rfc_key),
              hex("8A 85 37 FA 21 3D 7F 9F 4D 51 58"));
    EXPECT_EQ(encode_header(opcode::binary, 256), hex("82 7E 01 00"));
    EXPECT_EQ(encode_header(opcode::binary, 65536), hex("82 7F 00 00 00 00 00 01 00 00"));
}

// case-06: reserved bits and opcodes

TEST(ws_frame, reserved_bits_are_protocol_error) {
    const std::string hello = "Hello";
    expect_rows({
        {"RSV1 on text", role::server, masked("C1 85", hello), {error(1002)}},
        {"RSV2 on text", role::server, masked("A1 85", hello), {error(1002)}},
        {"RSV3 on text", role::server, masked("91 85", hello), {error(1002)}},
        {"all three on text", role::server, masked("F1 85", hello), {error(1002)}},
        {"RSV1 on ping", role::server, masked("C9 80"), {error(1002)}},
        {"RSV1 on binary", role::server, masked("C2 85", hello), {error(1002)}},
        {"RSV1 on a continuation",
         role::server,
         masked("01 83", "Hel") + masked("C0 82", "lo"),
         {error(1002)}},
        {"RSV1 to a client", role::client, hex("C1 05") + hello, {error(1002)}},
        {"refused from the first byte alone", role::server, hex("C1"), {error(1002)}},
    });
}

TEST(ws_frame, reserved_opcodes_are_protocol_error) {
    std::vector<row> rows;
    for (const char* first : {"83", "84", "85", "86", "87", "8B", "8C", "8D", "8E", "8F", "03"}) {
        rows.push_back({first, role::server, masked(std::string(first) + " 80"), {error(1002)}});
        rows.push_back({first, role::server, hex(first), {error(1002)}});
    }
    expect_rows(rows);
}

TEST(ws_frame, message_before_reserved_bits_is_delivered_first) {
    expect_rows({
        {"Autobahn 3.2 style",
         role::server,
         masked("81 85", "Hello") + masked("C1 85", "Hello") + masked("81 85", "Hello"),
         {"text:Hello", error(1002)}},
    });
}

// case-01: control frames are capped at 125 bytes

TEST(ws_frame, oversized_ping_is_protocol_error) {
    expect_rows({
        {"ping of 126", role::server, masked("89 FE 00 7E", repeat('a', 126)), {error(1002)}},
        {"refused before the payload arrives", role::server, hex("89 FE"), {error(1002)}},
        {"ping with a 64-bit length",
         role::server,
         masked("89 FF 00 00 00 00 00 00 00 7E", repeat('a', 126)),
         {error(1002)}},
        {"ping of 126 to a client",
         role::client,
         hex("89 7E 00 7E") + repeat('a', 126),
         {error(1002)}},
    });
}

TEST(ws_frame, oversized_pong_is_protocol_error) {
    expect_rows({
        {"pong of 126", role::server, masked("8A FE 00 7E", repeat('a', 126)), {error(1002)}},
        {"refused before the payload arrives", role::server, hex("8A FE"), {error(1002)}},
    });
}

TEST(ws_frame, oversized_close_is_protocol_error) {
    expect_rows({
        {"close of 126",
         role::server,
         masked("88 FE 00 7E", hex("03 E8") + repeat('a', 124)),
         {error(1002)}},
        {"refused before the payload arrives", role::server, hex("88 FE"), {error(1002)}},
    });
}

TEST(ws_frame, ping_of_125_bytes_is_delivered_whole) {
    const std::string payload = repeat('a', 125);
    expect_rows({
        {"boundary ping", role::server, masked("89 FD", payload), {"ping:" + payload}},
        {"boundary pong", role::server, masked("8A FD", payload), {"pong:" + payload}},
    });

    // The pong echoing it uses the short length form.
    EXPECT_EQ(encode_frame(opcode::pong, payload), hex("8A 7D") + payload);
}

TEST(ws_frame, ping_inside_fragmented_message_is_delivered_alone) {
    const key k{0x12, 0x34, 0x56, 0x78};
    expect_rows({
        {"case-01 test 3",
         role::server,
         masked("01 83", "Hel") + masked("89 82", "p1") + masked("80 82", "lo"),
         {"ping:p1", "text:Hello"}},
        {"pong and ping between three fragments, real masks",
         role::server,
         frame(0x02, "ab", &k) + frame(0x8A, "x", &k) + frame(0x00, "cd", &k) +
             frame(0x89, "", &k) + frame(0x80, "ef", &k),
         {"pong:x", "ping:", "binary:abcdef"}},
        {"UTF-8 sequence split around a ping",
         role::server,
         masked("01 82", hex("E2 82")) + masked("89 80") + masked("80 81", hex("AC")),
         {"ping:", "text:" + hex("E2 82 AC")}},
        {"close inside a fragmented message",
         role::server,
         masked("01 83", "Hel") + masked("88 82", hex("03 E8")),
         {"close:1000:"}},
    });

    // The ping does not disturb what is held for the message.
    frame_parser parser(role::server, default_max);
    event ev;
    const std::string first = masked("01 83", "Hel") + masked("89 82", "p1");
    EXPECT_EQ(parser.parse(first, ev), first.size());
    EXPECT_EQ(describe(ev), "ping:p1");
    EXPECT_EQ(parser.buffered(), 3u);
}

TEST(ws_frame, fragmented_control_frame_is_protocol_error) {
    expect_rows({
        {"ping without FIN", role::server, masked("09 80"), {error(1002)}},
        {"pong without FIN", role::server, masked("0A 80"), {error(1002)}},
        {"close without FIN", role::server, masked("08 82", hex("03 E8")), {error(1002)}},
        {"refused from the first byte", role::server, hex("09"), {error(1002)}},
    });
}

// Masking direction

TEST(ws_frame, unmasked_frame_to_server_is_protocol_error) {
    expect_rows({
        {"unmasked text", role::server, hex("81 05") + "Hello", {error(1002)}},
        {"unmasked ping", role::server, hex("89 00"), {error(1002)}},
        {"refused from the second byte", role::server, hex("81 05"), {error(1002)}},
        {"after a good message",
         role::server,
         masked("81 82", "ok") + hex("81 02") + "no",
         {"text:ok", error(1002)}},
    });
}

TEST(ws_frame, masked_frame_to_client_is_protocol_error) {
    expect_rows({
        {"masked text", role::client, masked("81 85", "Hello"), {error(1002)}},
        {"masked pong", role::client, masked("8A 80"), {error(1002)}},
        {"refused from the second byte", role::client, hex("81 85"), {error(1002)}},
    });
}

// case-05: fragmentation state

TEST(ws_frame, fragmented_message_then_single_frame_message) {
    expect_rows({
        {"case-05",
         role::server,
         masked("01 83", "Hel") + masked("80 82", "lo") + masked("81 85", "World"),
         {"text:Hello", "text:World"}},
        {"binary in three fragments, then text",
         role::server,
         masked("02 81", "a") + masked("00 81", "b") + masked("80 81", "c") + masked("81 81", "d"),
         {"binary:abc", "text:d"}},
        {"all fragments empty",
         role::server,
         masked("01 80") + masked("00 80") + masked("80 80") + masked("82 80"),
         {"text:", "binary:"}},
        {"empty single frame", role::server, masked("81 80"), {"text:"}},
    });
}

TEST(ws_frame, continuation_without_message_is_protocol_error) {
    expect_rows({
        {"final continuation first", role::server, masked("80 82", "lo"), {error(1002)}},
        {"non-final continuation first", role::server, masked("00 82", "lo"), {error(1002)}},
        {"continuation after a finished message",
         role::server,
         masked("81 82", "hi") + masked("80 82", "lo"),
         {"text:hi", error(1002)}},
    });
}

TEST(ws_frame, new_message_inside_fragmented_message_is_protocol_error) {
    expect_rows({
        {"text inside text",
         role::server,
         masked("01 83", "Hel") + masked("81 85", "World"),
         {error(1002)}},
        {"binary inside text",
         role::server,
         masked("01 83", "Hel") + masked("02 80"),
         {error(1002)}},
        {"text inside binary", role::server, masked("02 81", "x") + masked("81 80"), {error(1002)}},
    });
}

// Length field

TEST(ws_frame, length_with_top_bit_is_protocol_error) {
    const std::size_t unbounded = std::numeric_limits<std::size_t>::max();
    for (const char* header : {"82 FF 80 00 00 00 00 00 00 00", "82 FF FF FF FF FF FF FF FF FF",
                               "80 FF 80 00 00 00 00 00 00 05"}) {
        SCOPED_TRACE(header);
        // Refused once the length is in, before the mask key.
        expect_events(role::server, hex(header), {error(1002)}, unbounded);
    }
    expect_events(role::client, hex("81 7F 80 00 00 00 00 00 00 01"), {error(1002)}, unbounded);
}

TEST(ws_frame, non_minimal_length_is_accepted) {
    expect_rows({
        {"16-bit length of 5", role::server, masked("81 FE 00 05", "Hello"), {"text:Hello"}},
        {"64-bit length of 5",
         role::server,
         masked("81 FF 00 00 00 00 00 00 00 05", "Hello"),
         {"text:Hello"}},
        {"64-bit length of 0", role::client, hex("82 7F 00 00 00 00 00 00 00 00"), {"binary:"}},
    });
}

// Size limits (case-03, case-04)

TEST(ws_frame, single_frame_message_may_use_whole_limit) {
    expect_events(role::server, masked("82 8A", repeat('b', 10)), {"binary:" + repeat('b', 10)},
                  10);
    expect_events(role::server, masked("82 80"), {"binary:"}, 0);
}

TEST(ws_frame, frame_over_limit_is_too_big_from_its_header) {
    // The length byte alone decides; neither mask key nor payload is waited for.
    expect_events(role::server, hex("82 8B"), {error(1009)}, 10);
    expect_events(role::server, hex("81 FE 01 00"), {error(1009)}, 255);
    expect_events(role::server, hex("81 FF 7F FF FF FF FF FF FF FF"), {error(1009)}, default_max);
    expect_events(role::client, hex("82 01"), {error(1009)}, 0);
    expect_events(role::server, masked("82 8B", repeat('b', 11)), {error(1009)}, 10);
}

TEST(ws_frame, fragments_are_charged_overhead_against_limit) {
    // Limit 100, overhead 10: 50 + (10 + 40) fits exactly; one byte more does not.
    const std::string opening = masked("01 B2", repeat('x', 50));
    expect_events(role::server, opening + masked("80 A8", repeat('y', 40)),
                  {"text:" + repeat('x', 50) + repeat('y', 40)}, 100, 10);
    expect_events(role::server, opening + hex("80 A9"), {error(1009)}, 100, 10);

    // An empty continuation still costs its overhead.
    expect_events(role::server, masked("01 DA", repeat('x', 90)) + masked("80 80"),
                  {"text:" + repeat('x', 90)}, 100, 10);
    expect_events(role::server, masked("01 DB", repeat('x', 91)) + hex("80 80"), {error(1009)}, 100,
                  10);

    // The charge starts again with each message.
    expect_events(
        role::server,
        masked("01 B2", repeat('x', 50)) + masked("80 A8", repeat('y', 40)) +
            masked("01 B2", repeat('x', 50)) + masked("80 A8", repeat('y', 40)),
        {"text:" + repeat('x', 50) + repeat('y', 40), "text:" + repeat('x', 50) + repeat('y', 40)},
        100, 10);
}

// Feeds `input` in one call, then byte by byte, and checks that the parser stops with 1009
// after exactly `expected_consumed` bytes, holding `expected_buffered` bytes.
void expect_refused_after(std::string_view input, std::size_t max_message, std::size_t overhead,
                          std::size_t expected_consumed, std::size_t expected_buffered) {
    {
        frame_parser parser(role::server, max_message, overhead);
        event ev;
        EXPECT_EQ(parser.parse(input, ev), expected_consumed);
        EXPECT_EQ(describe(ev), error(1009));
        EXPECT_EQ(parser.buffered(), expected_buffered);
    }
    {
        frame_parser parser(role::server, max_message, overhead);
        event ev;
        std::size_t consumed = 0;
        while (consumed < input.size()) {
            consumed += parser.parse(input.substr(consumed, 1), ev);
            if (ev.what != event::kind::need_more) {
                break;
            }
        }
        EXPECT_EQ(consumed, expected_consumed);
        EXPECT_EQ(describe(ev), error(1009));
        EXPECT_EQ(parser.buffered(), expected_buffered);
    }
}

TEST(ws_frame, many_one_byte_fragments_are_too_big) {
    // case-04: "x", then 200,000 one-byte continuations, never FIN. With a 64 KiB limit and an
    // overhead of 64, 1 + 65 * 1008 fits and the 1009th continuation is refused at its length.
    std::string input = masked("01 81", "x");
    const std::string one = masked("00 81", "x");
    for (int i = 0; i < 200000; ++i) {
        input += one;
    }
    expect_refused_after(input, 65536, 64, 7 + 1008 * 7 + 2, 1 + 1008);
}

TEST(ws_frame, many_empty_fragments_are_too_big) {
    // case-04: empty continuations are charged too, so they cannot spin the parser forever:
    // 1 + 64 * 1023 fits, the 1024th is refused.
    std::string input = masked("01 81", "x");
    const std::string empty = masked("00 80");
    for (int i = 0; i < 200000; ++i) {
        input += empty;
    }
    expect_refused_after(input, 65536, 64, 7 + 1023 * 6 + 2, 1);
}

TEST(ws_frame, zero_overhead_still_charges_empty_fragments) {
    // An overhead of 0 is taken as 1: 100 empty continuations fit a limit of 100, not 101.
    std::string input = masked("01 80");
    for (int i = 0; i < 200; ++i) {
        input += masked("00 80");
    }
    expect_refused_after(input, 100, 0, 6 + 100 * 6 + 2, 0);
}

TEST(ws_frame, continuation_flood_is_too_big) {
    // case-03: 65,535-byte fragments against a 1 MiB limit. The opening frame and 14
    // continuations fit (65,535 + 14 * 65,599); the 15th continuation is refused from its
    // 4-byte length, before its mask key.
    const std::string payload = repeat('a', 65535);
    std::string input = masked("01 FE FF FF", payload);
    for (int i = 0; i < 20; ++i) {
        input += masked("00 FE FF FF", payload);
    }
    const std::size_t frame_size = 8 + 65535;
    expect_refused_after(input, default_max, 64, 15 * frame_size + 4, 15 * 65535);
}

// Text must be UTF-8

TEST(ws_frame, invalid_utf8_is_invalid_payload) {
    expect_rows({
        {"bare continuation byte", role::server, masked("81 81", hex("80")), {error(1007)}},
        {"overlong slash", role::server, masked("81 82", hex("C0 AF")), {error(1007)}},
        {"overlong 3-byte", role::server, masked("81 83", hex("E0 80 AF")), {error(1007)}},
        {"surrogate", role::server, masked("81 83", hex("ED A0 80")), {error(1007)}},
        {"above U+10FFFF", role::server, masked("81 84", hex("F4 90 80 80")), {error(1007)}},
        {"FF", role::server, masked("81 81", hex("FF")), {error(1007)}},
        {"to a client", role::client, hex("81 02 C3 28"), {error(1007)}},
        {"in a continuation",
         role::server,
         masked("01 82", "ok") + masked("80 82", hex("ED B0")),
         {error(1007)}},
    });
}

TEST(ws_frame, invalid_utf8_fails_before_later_fragments) {
    expect_rows({
        // Only the first fragment has arrived, and it is not even complete.
        {"first fragment", role::server, masked("01 83", hex("48 FF")), {error(1007)}},
        {"inside a single frame",
         role::server,
         masked("81 FE 01 00", "Hello" + hex("ED A0")),
         {error(1007)}},
        {"after a good fragment",
         role::server,
         masked("01 83", "Hel") + masked("00 83", hex("6C F5")),
         {error(1007)}},
    });
}

TEST(ws_frame, text_ending_inside_code_point_is_invalid_payload) {
    expect_rows({
        {"single frame", role::server, masked("81 82", hex("E2 82")), {error(1007)}},
        {"last fragment",
         role::server,
         masked("01 81", "a") + masked("80 81", hex("F0")),
         {error(1007)}},
        {"code point split over fragments is fine",
         role::server,
         masked("01 82", hex("E2 82")) + masked("80 81", hex("AC")),
         {"text:" + hex("E2 82 AC")}},
        {"four-byte code point one byte per fragment",
         role::server,
         masked("01 81", hex("F0")) + masked("00 81", hex("9D")) + masked("00 81", hex("84")) +
             masked("80 81", hex("9E")),
         {"text:" + hex("F0 9D 84 9E")}},
    });
}

TEST(ws_frame, binary_is_not_checked_as_utf8) {
    expect_rows({
        {"binary FF FE", role::server, masked("82 82", hex("FF FE")), {"binary:" + hex("FF FE")}},
        {"ping with invalid UTF-8",
         role::server,
         masked("89 82", hex("ED A0")),
         {"ping:" + hex("ED A0")}},
    });
}

// Close frames

TEST(ws_frame, close_frame_is_decoded) {
    const key k{0xA1, 0xB2, 0xC3, 0xD4};
    expect_rows({
        {"empty close", role::server, masked("88 80"), {"close:1005:"}},
        {"code only", role::server, masked("88 82", hex("03 E8")), {"close:1000:"}},
        {"code and reason",
         role::server,
         frame(0x88, hex("03 E9") + "bye", &k),
         {"close:1001:bye"}},
        {"UTF-8 reason",
         role::client,
         hex("88 05 0F A0 C3 A9 21"),
         {"close:4000:" + hex("C3 A9 21")}},
        {"reason of 123 bytes",
         role::server,
         masked("88 FD", hex("0B B8") + repeat('r', 123)),
         {"close:3000:" + repeat('r', 123)}},
    });
}

TEST(ws_frame, close_with_one_byte_is_protocol_error) {
    expect_rows({
        {"1-byte close", role::server, masked("88 81", hex("03")), {error(1002)}},
        {"refused from the header", role::server, hex("88 81"), {error(1002)}},
    });
}

TEST(ws_frame, close_with_invalid_code_is_protocol_error) {
    for (const unsigned code :
         {0u, 999u, 1004u, 1005u, 1006u, 1015u, 1016u, 1100u, 2000u, 2999u, 5000u, 65535u}) {
        SCOPED_TRACE(code);
        std::string payload;
        payload.push_back(static_cast<char>(code >> 8));
        payload.push_back(static_cast<char>(code & 0xFF));
        expect_events(role::server, masked("88 82", payload), {error(1002)});
    }
}

TEST(ws_frame, close_with_valid_code_is_delivered) {
    for (const unsigned code : {1000u, 1001u, 1002u, 1003u, 1007u, 1008u, 1009u, 1010u, 1011u,
                                1012u, 1013u, 1014u, 3000u, 3999u, 4000u, 4999u}) {
        SCOPED_TRACE(code);
        std::string payload;
        payload.push_back(static_cast<char>(code >> 8));
        payload.push_back(static_cast<char>(code & 0xFF));
        expect_events(role::server, masked("88 82", payload),
                      {"close:" + std::to_string(code) + ":"});
    }
}

TEST(ws_frame, close_with_invalid_reason_is_invalid_payload) {
    expect_rows({
        {"FF in reason", role::server, masked("88 84", hex("03 E8 61 FF")), {error(1007)}},
        {"reason ends inside a code point",
         role::server,
         masked("88 83", hex("03 E8 C3")),
         {error(1007)}},
        {"surrogate in reason", role::client, hex("88 05 03 E8 ED A0 80"), {error(1007)}},
    });
}

TEST(ws_frame, parser_is_finished_after_close_or_error) {
    // run() checks that the final event repeats; here also that real frames after it are
    // ignored rather than parsed.
    frame_parser parser(role::server, default_max);
    event ev;
    const std::string close = masked("88 85", hex("03 E8") + "bye");
    EXPECT_EQ(parser.parse(close + masked("81 82", "hi"), ev), close.size());
    EXPECT_EQ(describe(ev), "close:1000:bye");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(parser.parse(masked("81 82", "hi"), ev), 0u);
        EXPECT_EQ(describe(ev), "close:1000:bye");
    }

    frame_parser failed(role::server, default_max);
    EXPECT_EQ(failed.parse(hex("C1 85") + masked("81 82", "hi"), ev), 1u);
    EXPECT_EQ(describe(ev), error(1002));
    const std::string reason = ev.reason;
    EXPECT_EQ(failed.parse(masked("81 82", "hi"), ev), 0u);
    EXPECT_EQ(describe(ev), error(1002));
    EXPECT_EQ(ev.reason, reason);
    EXPECT_EQ(failed.parse({}, ev), 0u);
    EXPECT_EQ(describe(ev), error(1002));
}

TEST(ws_frame, empty_input_needs_more) {
    frame_parser parser(role::server, default_max);
    event ev;
    ev.payload = "stale";
    ev.code = 7;
    EXPECT_EQ(parser.parse({}, ev), 0u);
    EXPECT_EQ(describe(ev), "need_more");
    EXPECT_TRUE(ev.payload.empty());
    EXPECT_EQ(ev.code, 0);
}

TEST(ws_frame, ping_and_pong_payloads_are_delivered_as_is) {
    const key k{0xFF, 0x00, 0x80, 0x7F};
    expect_rows({
        {"unsolicited pong", role::server, frame(0x8A, "abc", &k), {"pong:abc"}},
        {"empty ping", role::server, masked("89 80"), {"ping:"}},
        {"binary bytes in a ping",
         role::server,
         frame(0x89, hex("00 FF 80 7F 0A"), &k),
         {"ping:" + hex("00 FF 80 7F 0A")}},
        {"ping flood is just pings",
         role::client,
         hex("89 01 31 89 01 32 89 01 33"),
         {"ping:1", "ping:2", "ping:3"}},
    });
}

// Encoding

std::string text_of_length(std::size_t size) {
    // Two-byte code points make the UTF-8 check do real work; ASCII pads to the exact length.
    std::string text;
    while (text.size() + 2 <= size && text.size() % 10 != 8) {
        text += hex("C3 A9");
        if (text.size() + 1 <= size) {
            text += 'a';
        }
    }
    while (text.size() + 2 <= size) {
        text += text.size() % 7 == 0 ? hex("C3 A9") : "bc";
    }
    if (text.size() < size) {
        text += 'z';
    }
    return text;
}

TEST(ws_frame, encoded_header_sizes) {
    struct expectation {
        std::size_t size;
        const char* header;
    };
    for (const auto& [size, header] : std::vector<expectation>{
             {0, "82 00"},
             {125, "82 7D"},
             {126, "82 7E 00 7E"},
             {127, "82 7E 00 7F"},
             {65535, "82 7E FF FF"},
             {65536, "82 7F 00 00 00 00 00 01 00 00"},
             {100000, "82 7F 00 00 00 00 00 01 86 A0"},
         }) {
        SCOPED_TRACE(size);
        const std::string payload(size, 'p');
        EXPECT_EQ(encode_header(opcode::binary, size), hex(header));
        EXPECT_EQ(encode_frame(opcode::binary, payload), hex(header) + payload);

        // Masked: the same with the mask bit, then the key.
        const key k{1, 2, 3, 4};
        std::string masked_header = hex(header);
        masked_header[1] = static_cast<char>(masked_header[1] | 0x80);
        const std::string encoded = encode_frame(opcode::binary, payload, true, &k);
        ASSERT_EQ(encoded.size(), masked_header.size() + 4 + size);
        EXPECT_EQ(encoded.substr(0, masked_header.size()), masked_header);
        EXPECT_EQ(encoded.substr(masked_header.size(), 4), hex("01 02 03 04"));
    }
    EXPECT_EQ(encode_header(opcode::text, 5, false), hex("01 05"));
    EXPECT_EQ(encode_header(opcode::continuation, 5), hex("80 05"));
}

TEST(ws_frame, encoded_frames_round_trip_in_both_roles) {
    std::mt19937 rng(6455);
    std::uniform_int_distribution<int> byte(0, 255);
    for (const std::size_t size : {0, 125, 126, 127, 65535, 65536, 100000}) {
        SCOPED_TRACE(size);
        std::string binary(size, '\0');
        for (char& c : binary) {
            c = static_cast<char>(byte(rng));
        }
        const std::string text = text_of_length(size);
        ASSERT_EQ(text.size(), size);
        ASSERT_TRUE(valid_utf8(text));

        const key k{static_cast<unsigned char>(byte(rng)), static_cast<unsigned char>(byte(rng)),
                    static_cast<unsigned char>(byte(rng)), static_cast<unsigned char>(byte(rng))};
        const std::string from_client = encode_frame(opcode::text, text, true, &k) +
                                        encode_frame(opcode::binary, binary, true, &k);
        const std::string from_server =
            encode_frame(opcode::text, text) + encode_frame(opcode::binary, binary);
        const events expected{"text:" + text, "binary:" + binary};

        // The client masks and the server parser unmasks; the other way round nothing is
        // masked.
        EXPECT_EQ(from_client, frame(0x81, text, &k) + frame(0x82, binary, &k));
        EXPECT_EQ(run_whole(role::server, from_client).seen, expected);
        EXPECT_EQ(run_bytes(role::server, from_client).seen, expected);
        EXPECT_EQ(run_chunks(role::server, from_client, rng).seen, expected);
        EXPECT_EQ(run_whole(role::client, from_server).seen, expected);
        EXPECT_EQ(run_bytes(role::client, from_server).seen, expected);
        EXPECT_EQ(run_chunks(role::client, from_server, rng).seen, expected);

        // Each role refuses the other's frames.
        EXPECT_EQ(run_whole(role::client, from_client).seen, events{error(1002)});
        EXPECT_EQ(run_whole(role::server, from_server).seen, events{error(1002)});
    }
}

TEST(ws_frame, encoded_fragments_and_controls_round_trip) {
    const key k{9, 8, 7, 6};
    const std::string input =
        encode_frame(opcode::text, "Hel", false, &k) + encode_frame(opcode::ping, "p1", true, &k) +
        encode_frame(opcode::continuation, "lo", true, &k) +
        encode_frame(opcode::close, close_payload(close_code::going_away, "bye"), true, &k);
    expect_events(role::server, input, {"ping:p1", "text:Hello", "close:1001:bye"});
}

TEST(ws_frame, encoder_refuses_invalid_control_frames) {
    // case-01 test 4: never an extended-length or fragmented control frame.
    const std::string big(126, 'a');
    const key k{1, 2, 3, 4};
    EXPECT_THROW(encode_frame(opcode::ping, big), std::invalid_argument);
    EXPECT_THROW(encode_frame(opcode::ping, big, true, &k), std::invalid_argument);
    EXPECT_THROW(encode_frame(opcode::pong, big), std::invalid_argument);
    EXPECT_THROW(encode_frame(opcode::close, big), std::invalid_argument);
    EXPECT_THROW(encode_frame(opcode::ping, "x", false), std::invalid_argument);
    EXPECT_THROW(encode_header(opcode::ping, 126), std::invalid_argument);
    EXPECT_THROW(encode_header(opcode::close, 2, false), std::invalid_argument);
    EXPECT_THROW(encode_frame(static_cast<opcode>(3), "x"), std::invalid_argument);
    EXPECT_THROW(encode_header(static_cast<opcode>(0xB), 0), std::invalid_argument);

    EXPECT_EQ(encode_frame(opcode::ping, std::string(125, 'a')).size(), 127u);
    EXPECT_NO_THROW(encode_header(opcode::binary, 1u << 20, false));
}

// close_payload

TEST(ws_frame, close_payload_caps_reason_at_utf8_boundary) {
    EXPECT_EQ(close_payload(close_code::normal, ""), hex("03 E8"));
    EXPECT_EQ(close_payload(close_code::going_away, "bye"), hex("03 E9") + "bye");
    EXPECT_EQ(close_payload(4999, "x"), hex("13 87") + "x");

    // case-01 test 4: a 124-byte reason is cut to 123, so the frame stays at 125.
    EXPECT_EQ(close_payload(close_code::normal, repeat('r', 124)), hex("03 E8") + repeat('r', 123));
    EXPECT_EQ(close_payload(close_code::normal, repeat('r', 123)), hex("03 E8") + repeat('r', 123));

    // A code point that would straddle byte 123 is dropped whole.
    const std::string e_acute = hex("C3 A9");
    const std::string euro = hex("E2 82 AC");
    const std::string clef = hex("F0 9D 84 9E");
    EXPECT_EQ(close_payload(1000, repeat('a', 122) + e_acute), hex("03 E8") + repeat('a', 122));
    EXPECT_EQ(close_payload(1000, repeat('a', 121) + e_acute),
              hex("03 E8") + repeat('a', 121) + e_acute);
    EXPECT_EQ(close_payload(1000, repeat('a', 121) + euro), hex("03 E8") + repeat('a', 121));
    EXPECT_EQ(close_payload(1000, repeat('a', 122) + euro), hex("03 E8") + repeat('a', 122));
    EXPECT_EQ(close_payload(1000, repeat('a', 120) + euro + "z"),
              hex("03 E8") + repeat('a', 120) + euro);
    EXPECT_EQ(close_payload(1000, repeat('a', 120) + clef), hex("03 E8") + repeat('a', 120));
    EXPECT_EQ(close_payload(1000, repeat('a', 119) + clef), hex("03 E8") + repeat('a', 119) + clef);
    std::string many_euros;
    for (int i = 0; i < 60; ++i) {
        many_euros += euro;
    }
    EXPECT_EQ(close_payload(1000, many_euros), hex("03 E8") + many_euros.substr(0, 123));

    // Invalid UTF-8 is never sent: only the valid prefix is kept.
    EXPECT_EQ(close_payload(1000, "ab" + hex("FF") + "cd"), hex("03 E8") + "ab");
    EXPECT_EQ(close_payload(1000, "ab" + hex("ED A0 80")), hex("03 E8") + "ab");

    // Every payload it makes is one the parser accepts.
    for (std::size_t n = 100; n < 140; ++n) {
        const std::string p = close_payload(3001, repeat('a', n % 4) + many_euros);
        ASSERT_LE(p.size(), 125u);
        const auto seen = run_whole(role::client, encode_frame(opcode::close, p)).seen;
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].rfind("close:3001:", 0), 0u);
    }
}

TEST(ws_frame, close_payload_refuses_reserved_codes) {
    for (const std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2000, 5000}) {
        SCOPED_TRACE(code);
        EXPECT_THROW(close_payload(code, ""), std::invalid_argument);
    }
}

TEST(ws_frame, valid_close_code_ranges) {
    for (unsigned code = 0; code <= 65535; ++code) {
        const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                              (code >= 3000 && code <= 4999);
        ASSERT_EQ(valid_close_code(static_cast<std::uint16_t>(code)), expected) << code;
    }
    EXPECT_TRUE(valid_close_code(close_code::normal));
    EXPECT_TRUE(valid_close_code(close_code::try_again_later));
    EXPECT_FALSE(valid_close_code(close_code::no_status));
    EXPECT_FALSE(valid_close_code(close_code::abnormal));
}

// UTF-8 validator

struct utf8_row {
    const char* bytes; // hex
    int fails_at;      // index of the byte that makes it invalid; -1 if none
    bool complete;     // valid as a whole
};

const std::vector<utf8_row>& utf8_rows() {
    static const std::vector<utf8_row> rows{
        // Valid, including the first and last code point of every length.
        {"", -1, true},
        {"48 65 6C 6C 6F", -1, true},
        {"CE BA E1 BD B9 CF 83 CE BC CE B5", -1, true},
        {"00", -1, true},
        {"7F", -1, true},
        {"C2 80", -1, true},
        {"DF BF", -1, true},
        {"E0 A0 80", -1, true},
        {"ED 9F BF", -1, true},
        {"EE 80 80", -1, true},
        {"EF BF BD", -1, true},
        {"EF BF BF", -1, true},
        {"F0 90 80 80", -1, true},
        {"F3 BF BF BF", -1, true},
        {"F4 8F BF BF", -1, true},
        {"61 E2 82 AC 62 F0 9D 84 9E", -1, true},
        {"61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 CE BA 61 62 63 64 65 66 67 68", -1, true},
        // Cut inside a code point: not invalid yet, not complete.
        {"C2", -1, false},
        {"E0 A0", -1, false},
        {"E2 82", -1, false},
        {"F0 90 80", -1, false},
        {"F4 8F BF", -1, false},
        {"CE BA E1 BD", -1, false},
        // Invalid, failing at the first byte that rules it out.
        {"80", 0, false},
        {"BF", 0, false},
        {"61 80", 1, false},
        {"C0 80", 0, false},
        {"C0 AF", 0, false},
        {"C1 BF", 0, false},
        {"C2 41", 1, false},
        {"E0 80 80", 1, false},
        {"E0 9F BF", 1, false},
        {"ED A0 80", 1, false},
        {"ED BF BF", 1, false},
        {"ED A0 80 ED B0 80", 1, false},
        {"F0 80 80 80", 1, false},
        {"F0 8F BF BF", 1, false},
        {"F4 90 80 80", 1, false},
        {"F5 80 80 80", 0, false},
        {"F8 88 80 80 80", 0, false},
        {"FC 84 80 80 80 80", 0, false},
        {"FE", 0, false},
        {"FF", 0, false},
        {"E2 82 41", 2, false},
        {"E2 82 AC AC", 3, false},
        {"48 65 6C 6C 6F 20 C3 28", 7, false},
        {"CE BA E1 BD B9 CF 83 CE BC CE B5 ED A0 80 65 64 69 74 65 64", 12, false},
        {"61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 71 FF", 17, false},
    };
    return rows;
}

TEST(ws_frame, utf8_validator_split_at_every_byte) {
    for (const utf8_row& r : utf8_rows()) {
        SCOPED_TRACE(r.bytes);
        const std::string bytes = hex(r.bytes);
        const bool invalid = r.fails_at >= 0;

        EXPECT_EQ(valid_utf8(bytes), r.complete);

        for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
            utf8_validator v;
            const bool first = v.feed(std::string_view(bytes).substr(0, cut));
            const bool second = first && v.feed(std::string_view(bytes).substr(cut));
            EXPECT_EQ(first, !invalid || static_cast<std::size_t>(r.fails_at) >= cut) << cut;
            EXPECT_EQ(second, !invalid) << cut;
            EXPECT_EQ(v.complete(), r.complete) << cut;
        }

        // Byte by byte, the failure shows at exactly the offending byte and then sticks.
        utf8_validator v;
        int failed_at = -1;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (!v.feed(bytes.substr(i, 1)) && failed_at < 0) {
                failed_at = static_cast<int>(i);
            }
        }
        EXPECT_EQ(failed_at, r.fails_at);
        if (invalid) {
            EXPECT_FALSE(v.feed("a"));
            EXPECT_FALSE(v.complete());
        }

        v.reset();
        EXPECT_TRUE(v.complete());
        EXPECT_TRUE(v.feed("ok"));
        EXPECT_TRUE(v.complete());
    }
}

TEST(ws_frame, utf8_validator_finds_bad_byte_at_every_offset) {
    // Covers the word-at-a-time ASCII path at every alignment.
    for (std::size_t offset = 0; offset < 40; ++offset) {
        for (const char* bad : {"FF", "80", "C3 28", "ED A0 80"}) {
            std::string text = repeat('a', offset) + hex(bad) + repeat('b', 20);
            EXPECT_FALSE(valid_utf8(text)) << offset << " " << bad;
        }
        EXPECT_TRUE(valid_utf8(repeat('a', offset) + hex("F0 9D 84 9E") + repeat('b', offset)));
        EXPECT_FALSE(valid_utf8(repeat('a', offset) + hex("F0 9D 84")));
    }
}

TEST(ws_frame, utf8_validator_on_every_code_point) {
    // Encodes every scalar value by the book and checks it passes; surrogates must fail.
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x11000 ? 1 : 97)) {
        std::string s;
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xC0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            s += static_cast<char>(0xE0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            s += static_cast<char>(0xF0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        }
        const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        ASSERT_EQ(valid_utf8(s), !surrogate) << std::hex << cp;
    }
    EXPECT_TRUE(valid_utf8(hex("F4 8F BF BF")));
    EXPECT_FALSE(valid_utf8(hex("F4 90 80 80")));
}

// Property: however the input is cut, the events are the same

std::string random_stream(std::mt19937& rng, role sender_of) {
    std::uniform_int_distribution<int> percent(0, 99);
    std::uniform_int_distribution<int> byte(0, 255);
    auto fresh_key = [&] {
        return key{static_cast<unsigned char>(byte(rng)), static_cast<unsigned char>(byte(rng)),
                   static_cast<unsigned char>(byte(rng)), static_cast<unsigned char>(byte(rng))};
    };
    auto random_bytes = [&](std::size_t n) {
        std::string s(n, '\0');
        for (char& c : s) {
            c = static_cast<char>(byte(rng));
        }
        return s;
    };
    auto random_text = [&](std::size_t n) {
        static const char* const pieces[] = {
            "a", "Z", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E", "\xED\x9F\xBF"};
        std::string s;
        while (s.size() < n) {
            s += pieces[static_cast<std::size_t>(percent(rng)) % 7];
        }
        return s;
    };

    std::string out;
    const int frames = 1 + percent(rng) % 12;
    for (int i = 0; i < frames; ++i) {
        const key k = fresh_key();
        const key* mask = sender_of == role::server ? &k : nullptr;
        const int pick = percent(rng);
        std::string f;
        if (pick < 40) {
            // A message in 1-4 fragments, maybe with a ping in between.
            const bool text = percent(rng) < 60;
            const int parts = 1 + percent(rng) % 4;
            for (int part = 0; part < parts; ++part) {
                const std::size_t n = static_cast<std::size_t>(percent(rng)) * 3;
                const unsigned op = part == 0 ? (text ? 1 : 2) : 0;
                const unsigned fin = part == parts - 1 ? 0x80 : 0;
                f += frame(fin | op, text ? random_text(n) : random_bytes(n), mask);
                if (percent(rng) < 20) {
                    f += frame(0x89, random_bytes(static_cast<std::size_t>(percent(rng))), mask);
                }
            }
        } else if (pick < 60) {
            f = frame(0x89 + static_cast<unsigned>(percent(rng) % 2),
                      random_bytes(static_cast<std::size_t>(percent(rng)) + 26 * (pick % 2)), mask);
        } else if (pick < 65) {
            f = frame(0x88, close_payload(1000, random_text(10)), mask);
        } else if (pick < 80) {
            // A big frame, near or over the limit used below.
            f = frame(0x82, random_bytes(3000 + static_cast<std::size_t>(percent(rng)) * 20), mask);
        } else {
            f = random_bytes(static_cast<std::size_t>(percent(rng)) % 20);
        }

        // Corrupt a byte now and then, so that every kind of error turns up.
        if (!f.empty() && percent(rng) < 25) {
            f[static_cast<std::size_t>(byte(rng)) % f.size()] ^=
                static_cast<char>(1 << (percent(rng) % 8));
        }
        out += f;
    }
    return out;
}

TEST(ws_frame, random_streams_give_same_events_however_cut) {
    std::mt19937 rng(20240);
    std::size_t with_error = 0;
    std::size_t with_message = 0;
    for (int i = 0; i < 1500; ++i) {
        const role side = i % 2 == 0 ? role::server : role::client;
        const std::string input = random_stream(rng, side);
        const std::size_t max_message = 4096;
        SCOPED_TRACE(i);

        const outcome whole = run_whole(side, input, max_message, 16);
        ASSERT_EQ(run_bytes(side, input, max_message, 16).seen, whole.seen);
        ASSERT_EQ(run_chunks(side, input, rng, max_message, 16).seen, whole.seen);
        ASSERT_EQ(run_chunks(side, input, rng, max_message, 16).seen, whole.seen);

        for (const std::string& e : whole.seen) {
            with_error += e.rfind("error:", 0) == 0 ? 1 : 0;
            with_message += e.rfind("text:", 0) == 0 || e.rfind("binary:", 0) == 0 ? 1 : 0;
        }
    }
    // The generator must reach both sides of the parser for this test to mean anything.
    EXPECT_GT(with_error, 200u);
    EXPECT_GT(with_message, 500u);
}

} // namespace
