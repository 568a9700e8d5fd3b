// Switchboard's own server, in-process, with the routes the client's tests talk to.
#pragma once

#include <switchboard/client.hpp>
#include <switchboard/registry.hpp>
#include <switchboard/server.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::test {

struct item {
    std::string name;
    int count = 0;
    std::optional<std::vector<std::string>> tags;

    bool operator==(const item&) const = default;
};
BOOST_DESCRIBE_STRUCT(item, (), (name, count, tags))

struct text_view {
    std::string value;
    std::vector<std::string> values;
};
BOOST_DESCRIBE_STRUCT(text_view, (), (value, values))

struct seq_message {
    std::int64_t seq = 0;
};
BOOST_DESCRIBE_STRUCT(seq_message, (), (seq))

/// What the server's sessions saw when they ended, for tests of how the client closes.
struct session_log {
    std::mutex mutex;
    std::vector<ws_close_status> ended;

    void add(ws_close_status s) {
        std::lock_guard lock(mutex);
        ended.push_back(std::move(s));
    }

    void clear() {
        std::lock_guard lock(mutex);
        ended.clear();
    }

    /// The first ended session's status, waiting up to `limit` for one.
    std::optional<ws_close_status> first(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard lock(mutex);
                if (!ended.empty()) {
                    return ended.front();
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return std::nullopt;
    }
};

namespace own {

using boost::asio::awaitable;

inline registry*& events() {
    static registry* r = nullptr;
    return r;
}

inline session_log& sessions() {
    static session_log log;
    return log;
}

inline websocket_limits& limits() {
    static websocket_limits l;
    return l;
}

inline awaitable<reply> create_item(request& req) {
    co_return reply::json(req.json<item>(), 201);
}

inline awaitable<reply> get_item(request& req) {
    const auto id = req.param<int>("id");
    co_return reply::json(item{"item-" + std::to_string(id), id, std::nullopt});
}

inline awaitable<reply> files(request& req) {
    co_return reply::json(text_view{std::string(req.param("path")), {}});
}

inline awaitable<reply> query(request& req) {
    co_return reply::json(text_view{"", req.query_all<std::string>("tag")});
}

inline awaitable<reply> teapot(request&) {
    throw http_error(418, std::vector<std::string>{"short and stout", "tip me over"});
    co_return reply();
}

inline awaitable<reply> text(request&) {
    co_return reply::raw(200, "text/plain", "plain words");
}

inline awaitable<reply> whoami(request& req) {
    co_return reply::json(text_view{std::string(req.remote()), {}});
}

inline awaitable<reply> slow(request& req) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(req.query<int>("ms").value_or(500)));
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return reply::json(text_view{"slow", {}});
}

inline awaitable<reply> big(request& req) {
    co_return reply::raw(200, "application/json",
                         "\"" + std::string(req.query<std::size_t>("size").value_or(10), 'x') +
                             "\"");
}

inline awaitable<reply> publish(request& req) {
    events()->publish("job-" + std::string(req.param("id")), req.body());
    co_return reply::json(text_view{"published", {}}, 202);
}

inline awaitable<reply> subscribers(request& req) {
    const auto n = events()->subscriber_count("job-" + std::string(req.param("id")));
    co_return reply::json(text_view{std::to_string(n), {}});
}

inline awaitable<reply> remove_job(request& req) {
    events()->close("job-" + std::string(req.param("id")), 1000, "job removed");
    co_return reply();
}

// "close:CODE:REASON" closes with that code; anything else comes back with its own type.
inline awaitable<void> echo_session(websocket& ws) {
    while (auto message = co_await ws.read()) {
        if (!message->binary && message->data.starts_with("close:")) {
            const auto rest = std::string_view(message->data).substr(6);
            const auto colon = rest.find(':');
            ws.close(static_cast<std::uint16_t>(std::stoi(std::string(rest.substr(0, colon)))),
                     colon == std::string_view::npos ? "" : rest.substr(colon + 1));
        } else if (message->binary) {
            ws.send_binary(message->data);
        } else {
            ws.send_text(message->data);
        }
    }
    sessions().add(ws.status());
}

inline awaitable<reply> echo_socket(request& req) {
    websocket_upgrade token(echo_session);
    token.limits(limits());
    for (const auto& offered : offered_subprotocols(req)) {
        if (offered == "chat.v1") {
            token.subprotocol(offered);
        }
    }
    co_return reply::upgrade(std::move(token));
}

// The Flink scenario: {"seq": n} is answered with {"seq": n + 1}; publishes arrive between.
inline awaitable<void> job_session(websocket& ws) {
    while (auto message = co_await ws.read_json<seq_message>()) {
        ws.send_json(seq_message{message->seq + 1});
    }
    sessions().add(ws.status());
}

inline awaitable<reply> subscribe_job(request& req) {
    const auto id = req.param<int>("id");
    if (id == 404) {
        co_return reply::error(404, "no job 404");
    }
    co_return reply::upgrade(
        websocket_upgrade(job_session)
            .send_first(R"({"type":"subscribed","job":)" + std::to_string(id) + "}")
            .join(*events(), "job-" + std::to_string(id))
            .limits(limits()));
}

inline router routes() {
    router r;
    r.post("/items", create_item)
        .get("/items/:id", get_item)
        .get("/files/*path", files)
        .get("/query", query)
        .get("/teapot", teapot)
        .get("/text", text)
        .get("/whoami", whoami)
        .get("/slow", slow)
        .get("/big", big)
        .post("/jobs/:id/publish", publish)
        .get("/jobs/:id/subscribers", subscribers)
        .del("/jobs/:id/subscribers", remove_job)
        .get("/jobs/:id/subscribe", subscribe_job)
        .get("/ws/echo", echo_socket);
    return r;
}

} // namespace own

/// The server with its registry; one per test.
class own_server {
public:
    explicit own_server(server_options options = {}, websocket_limits limits = {})
        : server_(own::routes(), with_defaults(options))
        , events_(server_.context()) {
        own::events() = &events_;
        own::limits() = limits;
        own::sessions().clear();
        server_.start();
    }

    ~own_server() {
        server_.stop();
        server_.wait();
        own::events() = nullptr;
    }

    std::uint16_t port() const { return server_.port(); }
    std::string url(std::string_view target) const {
        return "http://127.0.0.1:" + std::to_string(port()) + std::string(target);
    }
    std::string ws_url(std::string_view target) const {
        return "ws://127.0.0.1:" + std::to_string(port()) + std::string(target);
    }
    registry& events() { return events_; }
    server& get() { return server_; }

private:
    static server_options with_defaults(server_options o) {
        o.threads = 2;
        return o;
    }

    server server_;
    registry events_;
};

} // namespace switchboard::test
