// What a client WebSocket connection delivered from its first message to its end, for tests
// against peers that misbehave on purpose (peers/raw_ws_peer.py, peers/ws_conformance_peer.py).
#pragma once

#include "support.hpp"

#include <switchboard/client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {

struct ws_outcome {
    std::vector<std::string> messages;
    std::vector<bool> binary; // one per message
    ws_close_status status;
    std::vector<std::string> errors; // what on_error was told, "message: detail"
};

/// Connects, reads every message until the end, and records how it ended. A failed connect
/// throws its client_error.
inline boost::asio::awaitable<void> read_all(std::string url, std::shared_ptr<ws_outcome> out,
                                             ws_connect_options o) {
    auto ws = co_await websocket_client::connect(co_await boost::asio::this_coro::executor, url,
                                                 std::move(o));
    ws_listener l;
    l.on_error = [out](std::error_code ec, std::string_view detail) {
        out->errors.push_back(ec.message() + ": " + std::string(detail));
    };
    ws.add_listener(l);
    for (;;) {
        auto m = co_await ws.read();
        if (!m) {
            break;
        }
        out->messages.push_back(m->data);
        out->binary.push_back(m->binary);
    }
    out->status = co_await ws.closed();
}

inline ws_outcome read_everything(const std::string& url, ws_connect_options o = {}) {
    auto out = std::make_shared<ws_outcome>();
    run_async(read_all(url, out, std::move(o)));
    return *out;
}

} // namespace switchboard::test
