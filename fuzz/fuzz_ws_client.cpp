// Bytes a server sends after the 101, into the client's frame parser: the same codec as
// fuzz_ws_frames in the other role, where every frame must be unmasked. The input starts with
// four setup bytes (see ws_frame_check.hpp).
//
// The client's parsing of the handshake response is not covered yet: the client is still being
// written, and its response parser gets a target of its own once it exists.
#include "ws_frame_check.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    switchboard::fuzz::check_frames(switchboard::detail::ws::role::client, data, size);
    return 0;
}
