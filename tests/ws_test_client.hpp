// A blocking WebSocket client for the C++ tests, on plain POSIX sockets so
// that a reader thread and a writer thread can share it without data races
// in the client itself (TSan then only watches the server).
#pragma once

#include <switchboard/detail/ws_frame.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

namespace switchboard::test {

class ws_test_client {
public:
    /// Connects to 127.0.0.1:port and upgrades `path`; throws on failure.
    ws_test_client(std::uint16_t port, const std::string& path, std::size_t max_message = 1 << 24)
        : parser_(detail::ws::role::client, max_message) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("connect failed");
        }
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        write_all("GET " + path +
                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n");
        std::string head;
        while (head.find("\r\n\r\n") == std::string::npos) {
            if (!fill(head)) {
                throw std::runtime_error("closed during handshake");
            }
        }
        auto end = head.find("\r\n\r\n") + 4;
        status_line_ = head.substr(0, head.find("\r\n"));
        pending_ = head.substr(end);
    }

    ws_test_client(const ws_test_client&) = delete;
    ws_test_client& operator=(const ws_test_client&) = delete;
    ~ws_test_client() { ::close(fd_); }

    const std::string& status_line() const { return status_line_; }

    /// Sends one masked frame; safe to call from one thread while another
    /// reads.
    void send(detail::ws::opcode op, std::string_view payload) {
        std::array<unsigned char, 4> mask{};
        for (auto& b : mask) {
            b = static_cast<unsigned char>(rng_());
        }
        write_all(detail::ws::encode_frame(op, payload, true, &mask));
    }

    /// The next event (message, ping, pong, close), or nullopt when the
    /// connection ended or `timeout` passed without one.
    std::optional<detail::ws::event>
    next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        for (;;) {
            while (!pending_.empty()) {
                detail::ws::event ev;
                auto used = parser_.parse(pending_, ev);
                pending_.erase(0, used);
                if (ev.what != detail::ws::event::kind::need_more) {
                    return ev;
                }
                if (used == 0) {
                    break;
                }
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
                return std::nullopt;
            }
            if (!fill(pending_)) {
                return std::nullopt;
            }
        }
    }

    int fd() const noexcept { return fd_; }

private:
    bool fill(std::string& into) {
        std::array<char, 65536> chunk{};
        auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
        if (n <= 0) {
            return false;
        }
        into.append(chunk.data(), static_cast<std::size_t>(n));
        return true;
    }

    void write_all(std::string_view data) {
        while (!data.empty()) {
            auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                throw std::runtime_error("send failed");
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    int fd_ = -1;
    detail::ws::frame_parser parser_;
    std::string pending_;
    std::string status_line_;
    std::minstd_rand rng_{std::random_device{}()};
};

} // namespace switchboard::test
