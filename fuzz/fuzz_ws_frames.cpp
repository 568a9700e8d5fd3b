// Bytes a client sends after the handshake, into the server's frame parser: framing, masking,
// fragmentation, control frames between fragments, UTF-8 checks, close codes and the message
// limit. The input starts with four setup bytes (see ws_frame_check.hpp).
//
// The target is the socket-free codec, not a whole server session: ws_session reads from a
// tcp::socket, so driving it would need a real connection. What the session adds on top of
// the codec (answering pings, the closing handshake, timeouts) is covered by the e2e tests.
#include "ws_frame_check.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    switchboard::fuzz::check_frames(switchboard::detail::ws::role::server, data, size);
    return 0;
}
