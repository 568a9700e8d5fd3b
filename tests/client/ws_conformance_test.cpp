// RFC 6455 conformance of the client, in the spirit of the Autobahn testsuite's groups 1-7 and 9
// (that suite needs Python 2): peers/ws_conformance_peer.py completes the 101 and sends the frames
// each case names. Each test checks both sides: what the client delivered to the program, and what
// it put on the wire (its close code and its pongs), which the peer reports on stderr.
#include "support.hpp"
#include "ws_outcome.hpp"

#include <switchboard/client.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
using namespace std::chrono_literals;
using sb::test::ws_outcome;

std::string hex_of(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

class client_conformance : public ::testing::Test {
protected:
    ws_outcome run(const std::string& path, sb::ws_connect_options o = {}) {
        return sb::test::read_everything("ws://127.0.0.1:" + std::to_string(peer_.port) + path,
                                         std::move(o));
    }

    /// What the client sent back in case `path`: "close=CODE pongs=HEX,...".
    std::string wire(const std::string& path) {
        const auto prefix = "case=" + path + " ";
        const auto line = peer_.process.err_line(prefix, 10s);
        return line ? line->substr(prefix.size()) : "no report from the peer";
    }

    /// The client must fail the connection with `code` after delivering `delivered`, tell its
    /// listeners once, and send that code in its close frame without answering any ping.
    void expect_failure(const std::string& path, std::uint16_t code,
                        std::vector<std::string> delivered = {}, sb::ws_connect_options o = {}) {
        SCOPED_TRACE(path);
        const auto out = run(path, std::move(o));
        EXPECT_EQ(out.messages, delivered);
        EXPECT_EQ(out.status.code, code) << out.status.reason;
        EXPECT_EQ(out.errors.size(), 1U);
        EXPECT_EQ(wire(path), "close=" + std::to_string(code) + " pongs=");
    }

    sb::test::peer peer_{
        {SWITCHBOARD_PYTHON_PATH, std::string(SWITCHBOARD_PEERS_DIR) + "/ws_conformance_peer.py"}};
};

// Group 1: framing.

TEST_F(client_conformance, payloads_at_every_length_boundary_are_delivered_exactly) {
    const auto out = run("/lengths");
    const std::vector<std::size_t> sizes{0, 125, 126, 127, 65535, 65536};
    ASSERT_EQ(out.messages.size(), 2 * sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        SCOPED_TRACE(sizes[i]);
        EXPECT_EQ(out.messages[i], std::string(sizes[i], 'a'));
        EXPECT_FALSE(out.binary[i]);
        const auto& binary = out.messages[sizes.size() + i];
        ASSERT_EQ(binary.size(), sizes[i]);
        for (std::size_t j = 0; j < binary.size(); ++j) {
            ASSERT_EQ(static_cast<unsigned char>(binary[j]), j % 256) << j;
        }
        EXPECT_TRUE(out.binary[sizes.size() + i]);
    }
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(wire("/lengths"), "close=1000 pongs=");
}

// RFC 6455 5.2 asks the sender for the minimal length encoding and names no duty for the
// receiver; the client accepts a longer encoding of a length (docs/websocket.md).
TEST_F(client_conformance, non_minimal_length_encodings_are_accepted) {
    const auto out = run("/length-forms");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"short", "short", std::string(200, 'b')}));
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_TRUE(out.errors.empty());
}

// Group 2: pings and pongs.

TEST_F(client_conformance, ping_of_125_bytes_is_answered_with_the_same_payload) {
    const auto out = run("/ping-125");
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_EQ(wire("/ping-125"), "close=1000 pongs=" + hex_of(std::string(125, 'p')));
}

TEST_F(client_conformance, ping_of_126_bytes_fails_with_1002_unanswered) {
    expect_failure("/ping-126", 1002);
}

TEST_F(client_conformance, ping_between_fragments_is_answered_and_the_message_arrives_whole) {
    const auto out = run("/ping-between-fragments");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"Hello"}));
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_EQ(wire("/ping-between-fragments"), "close=1000 pongs=" + hex_of("p1"));
}

TEST_F(client_conformance, an_unsolicited_pong_is_ignored) {
    const auto out = run("/unsolicited-pong");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"after"}));
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_TRUE(out.errors.empty());
}

// Group 3: reserved bits, on every kind of frame.

TEST_F(client_conformance, reserved_bits_fail_with_1002) {
    for (int rsv = 1; rsv <= 7; ++rsv) {
        expect_failure("/rsv/" + std::to_string(rsv) + "/1", 1002);
    }
    for (const char* path : {"/rsv/4/2", "/rsv/4/9", "/rsv/2/10", "/rsv/1/8"}) {
        expect_failure(path, 1002);
    }
    expect_failure("/rsv-on-continuation", 1002);
}

TEST_F(client_conformance, the_message_before_a_frame_with_reserved_bits_is_delivered_first) {
    expect_failure("/good-then-rsv", 1002, {"Hello"});
}

// Group 4: reserved opcodes, data and control.

TEST_F(client_conformance, reserved_opcodes_fail_with_1002) {
    for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
        expect_failure("/opcode/" + std::to_string(op), 1002);
    }
    expect_failure("/good-then-opcode", 1002, {"Hello"});
    expect_failure("/opcode-inside-fragments", 1002);
}

// Group 5: fragmentation.

TEST_F(client_conformance, fragmented_messages_arrive_whole_and_the_state_resets_after_each) {
    const auto out = run("/fragments");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"fragmented", "binary", "World"}));
    EXPECT_EQ(out.binary, (std::vector<bool>{false, true, false}));
    EXPECT_EQ(out.status.code, 1000);
}

TEST_F(client_conformance, fragmented_control_frames_fail_with_1002) {
    for (const char* path :
         {"/fragmented-control/9", "/fragmented-control/10", "/fragmented-control/8"}) {
        expect_failure(path, 1002);
    }
}

TEST_F(client_conformance, a_continuation_without_a_message_fails_with_1002) {
    expect_failure("/continuation-first", 1002);
}

TEST_F(client_conformance, a_new_message_while_one_is_fragmented_fails_with_1002) {
    expect_failure("/data-while-fragmented", 1002);
}

// Group 6: UTF-8.

TEST_F(client_conformance, invalid_utf8_text_fails_with_1007) {
    // A bad continuation, an encoded surrogate, past U+10FFFF, a stray continuation byte, an
    // overlong form, a byte never used, and text ending inside a code point.
    for (const char* bytes : {"c328", "eda080", "f4908080", "80", "c0af", "fe", "6f6bc3"}) {
        expect_failure(std::string("/utf8-invalid/") + bytes, 1007);
    }
    expect_failure("/utf8-invalid-across-fragments", 1007);
}

// The peer never sends the rest of the message: only a client that checks as bytes arrive
// closes at all.
TEST_F(client_conformance, invalid_utf8_fails_fast_before_the_message_ends) {
    expect_failure("/utf8-fail-fast", 1007);
}

TEST_F(client_conformance, code_points_split_across_fragments_at_every_byte_are_fine) {
    const auto out = run("/utf8-split");
    EXPECT_EQ(out.messages, std::vector<std::string>(16, "κόσμε€𝄞"));
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_TRUE(out.errors.empty());
}

// Group 7: the closing handshake.

TEST_F(client_conformance, valid_close_codes_are_echoed) {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                     3999, 4000, 4999}) {
        const auto path = "/close/" + std::to_string(code);
        SCOPED_TRACE(path);
        const auto out = run(path);
        EXPECT_EQ(out.status.code, code);
        EXPECT_EQ(out.status.reason, "bye");
        EXPECT_TRUE(out.errors.empty());
        EXPECT_EQ(wire(path), "close=" + std::to_string(code) + " pongs=");
    }
}

TEST_F(client_conformance, close_codes_not_allowed_on_the_wire_fail_with_1002) {
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        expect_failure("/close/" + std::to_string(code), 1002);
    }
}

TEST_F(client_conformance, bad_close_payloads_fail_and_an_empty_one_is_answered_empty) {
    expect_failure("/close-payload/03", 1002);       // one byte: half a code
    expect_failure("/close-payload/03e8c328", 1007); // 1000 with an invalid UTF-8 reason

    const auto out = run("/close-payload");
    EXPECT_EQ(out.status.code, 1005);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(wire("/close-payload"), "close=empty pongs=");
}

TEST_F(client_conformance, nothing_after_the_servers_close_is_delivered) {
    const auto out = run("/close-then-data");
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(out.status.code, 1000);
    EXPECT_EQ(wire("/close-then-data"), "close=1000 pongs=");
}

// Group 9: limits, and many messages.

TEST_F(client_conformance, a_message_over_max_message_fails_with_1009) {
    sb::ws_connect_options o;
    o.max_message = 1000;
    const auto at_limit = run("/binary/1000", o);
    EXPECT_EQ(at_limit.messages, (std::vector<std::string>{std::string(1000, 'x')}));
    EXPECT_EQ(at_limit.status.code, 1000);

    expect_failure("/binary/1001", 1009, {}, o);
    expect_failure("/too-big-fragmented", 1009, {}, o);
}

TEST_F(client_conformance, a_thousand_small_messages_in_one_write_arrive_in_order) {
    const auto out = run("/many");
    ASSERT_EQ(out.messages.size(), 1000U);
    for (std::size_t i = 0; i < out.messages.size(); ++i) {
        ASSERT_EQ(out.messages[i], std::to_string(i));
    }
    EXPECT_EQ(out.status.code, 1000);
}

} // namespace
