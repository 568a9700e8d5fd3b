// switchboard-demo: a live job-events service built on Switchboard's public
// API only, the way an application would use it.
//
//   GET    /                       a page that lists jobs and shows events live
//   POST   /jobs {"name": "..."}   create a job (201)
//   GET    /jobs                   list jobs
//   GET    /jobs/:jobid            one job, or 404
//   POST   /jobs/:jobid/events     publish a JSON object to the job's subscribers (202)
//   GET    /jobs/:jobid/subscribe  WebSocket: {"type":"subscribed"}, then the job's events
//   DELETE /jobs/:jobid            remove a job; its subscribers are closed (1000, "job removed")
//   GET    /health                 200 while the server runs
#include "page.hpp"

#include <switchboard/log.hpp>
#include <switchboard/registry.hpp>
#include <switchboard/server.hpp>
#include <switchboard/websocket.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
using boost::asio::awaitable;

struct new_job {
    std::string name;
};
BOOST_DESCRIBE_STRUCT(new_job, (), (name))

struct job {
    std::int64_t id = 0;
    std::string name;
    std::string state;
};
BOOST_DESCRIBE_STRUCT(job, (), (id, name, state))

struct job_list {
    std::vector<job> jobs;
};
BOOST_DESCRIBE_STRUCT(job_list, (), (jobs))

struct published {
    std::int64_t seq = 0;
    std::size_t subscribers = 0;
};
BOOST_DESCRIBE_STRUCT(published, (), (seq, subscribers))

struct job_event {
    std::int64_t job = 0;
    std::int64_t seq = 0;
    boost::json::object event;
};
BOOST_DESCRIBE_STRUCT(job_event, (), (job, seq, event))

struct subscribed {
    std::string type;
    std::int64_t job = 0;
};
BOOST_DESCRIBE_STRUCT(subscribed, (), (type, job))

struct ping {
    std::string type;
    std::int64_t n = 0;
};
BOOST_DESCRIBE_STRUCT(ping, (), (type, n))

struct health {
    std::string status;
};
BOOST_DESCRIBE_STRUCT(health, (), (status))

std::string key_of(std::int64_t id) {
    return "job/" + std::to_string(id);
}

/// The jobs and their channels, shared by every handler on every thread.
class job_service {
public:
    explicit job_service(sb::registry& events)
        : events_(events) {}

    job create(std::string name) {
        std::lock_guard lock(mutex_);
        auto id = next_id_++;
        auto& entry = jobs_[id];
        entry.info = job{id, std::move(name), "created"};
        return entry.info;
    }

    std::optional<job> find(std::int64_t id) const {
        std::lock_guard lock(mutex_);
        auto it = jobs_.find(id);
        if (it == jobs_.end()) {
            return std::nullopt;
        }
        return it->second.info;
    }

    job_list list() const {
        std::lock_guard lock(mutex_);
        job_list all;
        for (const auto& [id, entry] : jobs_) {
            all.jobs.push_back(entry.info);
        }
        return all;
    }

    /// Numbers the event and publishes it under the lock, so that the order
    /// of sequence numbers is the order subscribers see; the registry never
    /// blocks, so the lock is short.
    std::optional<published> publish(std::int64_t id, boost::json::object event) {
        std::lock_guard lock(mutex_);
        auto it = jobs_.find(id);
        if (it == jobs_.end()) {
            return std::nullopt;
        }
        auto& entry = it->second;
        if (auto state = event.if_contains("state"); state && state->is_string()) {
            entry.info.state = std::string(state->get_string());
        }
        auto seq = ++entry.last_seq;
        events_.publish_json(key_of(id), job_event{id, seq, std::move(event)});
        return published{seq, events_.subscriber_count(key_of(id))};
    }

    bool remove(std::int64_t id) {
        std::lock_guard lock(mutex_);
        if (jobs_.erase(id) == 0) {
            return false;
        }
        events_.close(key_of(id), 1000, "job removed");
        return true;
    }

    sb::registry& events() noexcept { return events_; }

private:
    struct job_entry {
        job info;
        std::int64_t last_seq = 0;
    };

    sb::registry& events_;
    mutable std::mutex mutex_;
    std::map<std::int64_t, job_entry> jobs_;
    std::int64_t next_id_ = 1;
};

job_service* service = nullptr;

std::int64_t existing_job(sb::request& req) {
    auto id = req.param<std::int64_t>("jobid");
    if (!service->find(id)) {
        throw sb::http_error(404, "no job with id " + std::to_string(id));
    }
    return id;
}

awaitable<sb::reply> create_job(sb::request& req) {
    auto body = req.json<new_job>();
    if (body.name.empty() || body.name.size() > 200) {
        co_return sb::reply::error(400, "field 'name': must be 1 to 200 bytes");
    }
    co_return sb::reply::json(service->create(std::move(body.name)), 201);
}

awaitable<sb::reply> list_jobs(sb::request&) {
    co_return sb::reply::json(service->list());
}

awaitable<sb::reply> get_job(sb::request& req) {
    co_return sb::reply::json(*service->find(existing_job(req)));
}

awaitable<sb::reply> post_event(sb::request& req) {
    auto id = existing_job(req);
    auto event = req.json<boost::json::value>();
    if (!event.is_object()) {
        co_return sb::reply::error(400, "body: expected a JSON object");
    }
    auto result = service->publish(id, std::move(event.get_object()));
    if (!result) {
        co_return sb::reply::error(404, "no job with id " + std::to_string(id));
    }
    co_return sb::reply::json(*result, 202);
}

/// After "subscribed", the job's events arrive from the registry; the loop
/// answers the client's pings.
awaitable<void> job_session(sb::websocket& ws) {
    while (auto message = co_await ws.read_json<ping>(sb::decode_options{true})) {
        if (message->type != "ping") {
            continue;
        }
        // n + 1 must not overflow on a client's largest number.
        if (message->n == std::numeric_limits<std::int64_t>::max()) {
            ws.close(1008, "n is out of range");
            break;
        }
        ws.send_json(ping{"pong", message->n + 1});
    }
}

awaitable<sb::reply> subscribe(sb::request& req) {
    auto id = existing_job(req);
    co_return sb::reply::upgrade(sb::websocket_upgrade(job_session)
                                     .send_first_json(subscribed{"subscribed", id})
                                     .join(service->events(), key_of(id)));
}

awaitable<sb::reply> delete_job(sb::request& req) {
    auto id = req.param<std::int64_t>("jobid");
    if (!service->remove(id)) {
        co_return sb::reply::error(404, "no job with id " + std::to_string(id));
    }
    co_return sb::reply();
}

awaitable<sb::reply> get_health(sb::request&) {
    co_return sb::reply::json(health{"ok"});
}

awaitable<sb::reply> get_page(sb::request&) {
    co_return sb::reply::raw(200, "text/html; charset=utf-8", std::string(demo::page));
}

/// --simulate: a few jobs that report progress every second.
awaitable<void> simulate(std::vector<std::int64_t> ids) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (int tick = 1;; ++tick) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(boost::asio::use_awaitable);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            auto percent = static_cast<std::int64_t>((tick * (i + 1) * 7) % 101);
            boost::json::object event;
            event["state"] = percent == 100 ? "done" : "running";
            event["progress"] = percent;
            service->publish(ids[i], std::move(event));
        }
    }
}

void usage(std::ostream& out) {
    out << "usage: switchboard-demo [options]\n"
           "  --address A          address to listen on (default 127.0.0.1)\n"
           "  --port P             port to listen on (default 8080; 0 picks a free one)\n"
           "  --threads N          threads serving requests (default: one per core)\n"
           "  --simulate           create demo jobs that report progress every second\n"
           "  --max-connections N  open connections before new ones get 503 (default 10000)\n"
           "  --body-limit BYTES   largest request body (default 1048576)\n"
           "  --verbose            log at debug level\n";
}

/// A whole decimal number in [low, high], or nothing: "-5" or "70000" for a port must not
/// become some other number.
std::optional<std::uint64_t> number_in(const std::string& text, std::uint64_t low,
                                       std::uint64_t high) {
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value < low || value > high) {
        return std::nullopt;
    }
    return value;
}

} // namespace

int main(int argc, char** argv) {
    sb::server_options options;
    options.port = 8080;
    auto level = sb::log_level::info;
    bool simulated = false;

    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        const bool has_value = i + 1 < args.size();
        // Options that take a number, with the range each accepts.
        auto number = [&](std::uint64_t low, std::uint64_t high) {
            const auto value = number_in(args[++i], low, high);
            if (!value) {
                std::cerr << "switchboard-demo: " << arg << " takes a whole number from " << low
                          << " to " << high << ", not '" << args[i] << "'\n";
                std::exit(2);
            }
            return *value;
        };
        if (arg == "--address" && has_value) {
            options.address = args[++i];
        } else if (arg == "--port" && has_value) {
            options.port = static_cast<std::uint16_t>(number(0, 65535));
        } else if (arg == "--threads" && has_value) {
            options.threads = static_cast<unsigned>(number(1, 1024));
        } else if (arg == "--max-connections" && has_value) {
            options.max_connections = number(1, 1'000'000);
        } else if (arg == "--body-limit" && has_value) {
            options.body_limit = number(0, std::uint64_t{1} << 40);
        } else if (arg == "--simulate") {
            simulated = true;
        } else if (arg == "--verbose") {
            level = sb::log_level::debug;
        } else if (arg == "--help" || arg == "-h") {
            usage(std::cout);
            return 0;
        } else {
            std::cerr << "switchboard-demo: unknown or incomplete option '" << arg << "'\n";
            usage(std::cerr);
            return 2;
        }
    }
    sb::set_log_sink(sb::stderr_log_sink(), level);

    sb::router routes;
    routes.get("/", get_page)
        .get("/health", get_health)
        .post("/jobs", create_job)
        .get("/jobs", list_jobs)
        .get("/jobs/:jobid", get_job)
        .del("/jobs/:jobid", delete_job)
        .post("/jobs/:jobid/events", post_event)
        .get("/jobs/:jobid/subscribe", subscribe);

    try {
        sb::server server(std::move(routes), options);
        sb::registry events(server.context());
        job_service jobs(events);
        service = &jobs;

        server.start();
        if (simulated) {
            std::vector<std::int64_t> ids;
            for (const char* name : {"nightly-build", "data-import", "report"}) {
                ids.push_back(jobs.create(name).id);
            }
            // Runs on the server's context, so stopping the server ends it.
            boost::asio::co_spawn(server.context(), simulate(std::move(ids)),
                                  [](const std::exception_ptr& e) {
                                      if (e) {
                                          sb::log(sb::log_level::error, "simulation_stopped");
                                      }
                                  });
        }
        // The first line is for people; "port=N" lets scripts and tests find
        // the port when it was 0.
        // An IPv6 address goes in brackets in a URL.
        const bool v6 = options.address.find(':') != std::string::npos;
        const std::string host = v6 ? "[" + options.address + "]" : options.address;
        std::cout << "switchboard-demo: open http://" << host << ":" << server.port()
                  << "/ in a browser (Ctrl-C stops it)\nport=" << server.port() << std::endl;
        server.run_until_signal();
    } catch (const std::exception& e) {
        std::cerr << "switchboard-demo: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
