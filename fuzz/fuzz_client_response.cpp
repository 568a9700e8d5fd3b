// Bytes a server sends back, into the client's socket-free readers (src/client_wire.hpp): an
// HTTP response into response_reader, the answer to an opening handshake into upgrade_reader,
// and, after a valid 101, the bytes behind it into the client's frame parser; also the error
// list the client takes out of an error body.
//
// An input is three setup bytes, then the server's bytes:
//   byte 0     bit 0: the request was HEAD; bit 1: bodies are truncated, not refused;
//   bytes 1-2  where the second feeding cuts the bytes in two (big-endian, modulo size + 1).
//
// Each reader is fed the bytes whole and cut in two, then the end of the connection, and the
// two must end the same way.
#include "fuzz_check.hpp"
#include "ws_frame_check.hpp"

#include "client_wire.hpp"

#include <switchboard/client.hpp>
#include <switchboard/detail/ws_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sb = switchboard;
namespace wire = sb::detail::wire;
namespace ws = sb::detail::ws;

constexpr std::size_t max_header = 2048;
constexpr std::size_t max_body = 1024;
constexpr std::size_t max_error_body = 256;
constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";

struct response_outcome {
    bool done = false;
    bool failed = false;
    std::error_code error;
    std::string detail;
    int status = 0;
    sb::header_list headers;
    std::string body;
    bool truncated = false;
    bool reusable = false;
    std::string leftover;

    bool operator==(const response_outcome&) const = default;
};

bool printable_ascii(std::string_view text) {
    for (const char c : text) {
        if (c < 0x20 || c > 0x7E) {
            return false;
        }
    }
    return true;
}

response_outcome read_response(std::string_view first, std::string_view second, bool head,
                               wire::response_reader::body_mode mode) {
    wire::response_reader reader(max_header, max_body, mode, head);
    reader.feed(first);
    reader.feed(second);
    reader.feed_eof();

    response_outcome out{
        reader.done(),          reader.failed(),          reader.error(),
        reader.error_detail(),  reader.response().status, reader.response().headers,
        reader.response().body, reader.body_truncated(),  reader.reusable(),
        reader.take_leftover()};
    SWITCHBOARD_FUZZ_CHECK(out.done != out.failed);
    SWITCHBOARD_FUZZ_CHECK(out.body.size() <= max_body);
    SWITCHBOARD_FUZZ_CHECK(printable_ascii(out.detail));
    if (out.failed) {
        SWITCHBOARD_FUZZ_CHECK(out.error == sb::client_errc::connection_closed ||
                               out.error == sb::client_errc::header_too_large ||
                               out.error == sb::client_errc::body_too_large ||
                               out.error == sb::client_errc::bad_response);
        SWITCHBOARD_FUZZ_CHECK(!out.detail.empty() && !out.reusable);
        return out;
    }

    // Interim answers are skipped, and what has no body has none; a status is in RFC 9110's
    // range.
    SWITCHBOARD_FUZZ_CHECK(out.status >= 100 && out.status <= 599);
    SWITCHBOARD_FUZZ_CHECK(out.status / 100 != 1 || out.status == 101);
    if (head || out.status == 101 || out.status == 204 || out.status == 304) {
        SWITCHBOARD_FUZZ_CHECK(out.body.empty());
    }
    SWITCHBOARD_FUZZ_CHECK(!out.truncated || mode == wire::response_reader::body_mode::truncate);
    SWITCHBOARD_FUZZ_CHECK(!out.reusable || out.leftover.empty());
    return out;
}

struct upgrade_outcome {
    wire::upgrade_reader::state state = wire::upgrade_reader::state::reading;
    std::error_code error;
    std::string detail;
    int status = 0;
    std::string subprotocol;
    std::string leftover;

    bool operator==(const upgrade_outcome&) const = default;
};

upgrade_outcome read_upgrade(std::string_view first, std::string_view second) {
    using state = wire::upgrade_reader::state;
    wire::upgrade_reader reader(key, {"chat.v1", "chat.v2"}, max_header, max_error_body);
    reader.feed(first);
    // A driver stops feeding the reader once it has decided; what it read beyond that is
    // still its own.
    std::string_view unread = second;
    if (reader.current() == state::reading) {
        reader.feed(second);
        unread = {};
    }
    reader.feed_eof();

    upgrade_outcome out{reader.current(),         reader.error(),       reader.error_detail(),
                        reader.response().status, reader.subprotocol(), reader.take_leftover()};
    // Only the bytes behind a valid 101 mean something: the first frames.
    out.leftover = out.state == state::upgraded ? out.leftover + std::string(unread) : "";
    SWITCHBOARD_FUZZ_CHECK(out.state != state::reading);
    SWITCHBOARD_FUZZ_CHECK(printable_ascii(out.detail));
    switch (out.state) {
    case state::upgraded:
        SWITCHBOARD_FUZZ_CHECK(out.status == 101 && !out.error);
        SWITCHBOARD_FUZZ_CHECK(out.subprotocol.empty() || out.subprotocol == "chat.v1" ||
                               out.subprotocol == "chat.v2");
        break;
    case state::refused:
        SWITCHBOARD_FUZZ_CHECK(out.status != 101);
        SWITCHBOARD_FUZZ_CHECK(reader.response().body.size() <= max_error_body);
        break;
    case state::failed:
        SWITCHBOARD_FUZZ_CHECK(out.error == sb::client_errc::handshake_failed ||
                               out.error == sb::client_errc::handshake_closed);
        SWITCHBOARD_FUZZ_CHECK(!out.detail.empty());
        break;
    case state::reading:
        break;
    }
    return out;
}

/// The frames behind a 101, as the client's session would read them.
void read_frames(std::string_view bytes) {
    sb::fuzz::frame_setup setup;
    setup.max_message = 1000;
    setup.fragment_overhead = 64;
    ws::frame_parser parser(ws::role::client, setup.max_message, setup.fragment_overhead);
    ws::event ev;
    while (true) {
        const std::size_t used = parser.parse(bytes, ev);
        sb::fuzz::check_event(ev, setup);
        bytes.remove_prefix(used);
        if (ev.what == ws::event::kind::need_more || sb::fuzz::is_final(ev.what)) {
            return;
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) {
        return 0;
    }
    const bool head = (data[0] & 0x01) != 0;
    const auto mode = (data[0] & 0x02) != 0 ? wire::response_reader::body_mode::truncate
                                            : wire::response_reader::body_mode::limit;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 3), size - 3);
    const std::size_t cut = ((std::size_t{data[1]} << 8) | data[2]) % (bytes.size() + 1);

    const auto whole = read_response(bytes, {}, head, mode);
    const auto split = read_response(bytes.substr(0, cut), bytes.substr(cut), head, mode);

    // How the bytes arrive changes two things in Beast 1.81's parser, so the comparison leaves
    // them out. A head in one piece gets the limit once for its status line and once more for
    // its fields, a head in pieces once in all: a head between one and two limits long is read
    // or refused depending on its arrival. And a malformed head (a CR without LF) that comes in
    // pieces is only parsed once its blank line is in, so the end of the connection fails it
    // as closed rather than malformed: failures agree that they fail, successes in full.
    const bool near_limit = whole.error == sb::client_errc::header_too_large ||
                            split.error == sb::client_errc::header_too_large;
    SWITCHBOARD_FUZZ_CHECK(near_limit || split.failed == whole.failed);
    SWITCHBOARD_FUZZ_CHECK(near_limit || whole.failed || split == whole);

    // What the client shows of an error body: a few short messages, each valid UTF-8.
    const auto messages = wire::errors_from_body(whole.body);
    SWITCHBOARD_FUZZ_CHECK(messages.size() <= 32);
    for (const auto& message : messages) {
        SWITCHBOARD_FUZZ_CHECK(message.size() <= 512);
        SWITCHBOARD_FUZZ_CHECK(ws::valid_utf8(message));
    }

    using state = wire::upgrade_reader::state;
    const auto upgrade = read_upgrade(bytes, {});
    const auto upgrade_split = read_upgrade(bytes.substr(0, cut), bytes.substr(cut));
    SWITCHBOARD_FUZZ_CHECK(near_limit || upgrade_split.state == upgrade.state);
    SWITCHBOARD_FUZZ_CHECK(near_limit || upgrade.state == state::failed ||
                           upgrade_split == upgrade);
    if (upgrade.state == state::upgraded) {
        read_frames(upgrade.leftover);
    }
    return 0;
}
