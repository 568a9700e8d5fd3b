// switchboard-demo: a small job-events service built on Switchboard's public
// API only, the way an application would use it.
//
//   POST /jobs {"name": "..."}     create a job (201)
//   GET  /jobs                     list jobs
//   GET  /jobs/:jobid              one job, or 404
//   DELETE /jobs/:jobid            remove a job
//   GET  /health                   200 while the server runs
#include <switchboard/log.hpp>
#include <switchboard/server.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
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

struct health {
    std::string status;
};
BOOST_DESCRIBE_STRUCT(health, (), (status))

/// The jobs, shared by every handler on every thread.
class job_store {
public:
    job create(std::string name) {
        std::lock_guard lock(mutex_);
        job j{next_id_++, std::move(name), "created"};
        jobs_.emplace(j.id, j);
        return j;
    }

    std::optional<job> find(std::int64_t id) const {
        std::lock_guard lock(mutex_);
        auto it = jobs_.find(id);
        if (it == jobs_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

    bool remove(std::int64_t id) {
        std::lock_guard lock(mutex_);
        return jobs_.erase(id) > 0;
    }

    job_list list() const {
        std::lock_guard lock(mutex_);
        job_list all;
        for (const auto& [id, j] : jobs_) {
            all.jobs.push_back(j);
        }
        return all;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::int64_t, job> jobs_;
    std::int64_t next_id_ = 1;
};

job_store store;

awaitable<sb::reply> create_job(sb::request& req) {
    auto body = req.json<new_job>();
    if (body.name.empty()) {
        co_return sb::reply::error(400, "field 'name': must not be empty");
    }
    co_return sb::reply::json(store.create(std::move(body.name)), 201);
}

awaitable<sb::reply> list_jobs(sb::request&) {
    co_return sb::reply::json(store.list());
}

awaitable<sb::reply> get_job(sb::request& req) {
    auto id = req.param<std::int64_t>("jobid");
    auto found = store.find(id);
    if (!found) {
        co_return sb::reply::error(404, "no job with id " + std::to_string(id));
    }
    co_return sb::reply::json(*found);
}

awaitable<sb::reply> delete_job(sb::request& req) {
    auto id = req.param<std::int64_t>("jobid");
    if (!store.remove(id)) {
        co_return sb::reply::error(404, "no job with id " + std::to_string(id));
    }
    co_return sb::reply();
}

awaitable<sb::reply> get_health(sb::request&) {
    co_return sb::reply::json(health{"ok"});
}

void usage(std::ostream& out) {
    out << "usage: switchboard-demo [--address A] [--port P] [--threads N] [--verbose]\n"
           "  --address A   address to listen on (default 127.0.0.1)\n"
           "  --port P      port to listen on (default 8080; 0 picks a free one)\n"
           "  --threads N   threads serving requests (default: one per core)\n"
           "  --verbose     log at debug level\n";
}

} // namespace

int main(int argc, char** argv) {
    sb::server_options options;
    options.port = 8080;
    auto level = sb::log_level::info;

    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        bool has_value = i + 1 < args.size();
        try {
            if (arg == "--address" && has_value) {
                options.address = args[++i];
            } else if (arg == "--port" && has_value) {
                options.port = static_cast<std::uint16_t>(std::stoul(args[++i]));
            } else if (arg == "--threads" && has_value) {
                options.threads = static_cast<unsigned>(std::stoul(args[++i]));
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
        } catch (const std::exception&) {
            std::cerr << "switchboard-demo: bad value for " << arg << "\n";
            return 2;
        }
    }
    sb::set_log_sink(sb::stderr_log_sink(), level);

    sb::router routes;
    routes.get("/health", get_health)
        .post("/jobs", create_job)
        .get("/jobs", list_jobs)
        .get("/jobs/:jobid", get_job)
        .del("/jobs/:jobid", delete_job);

    try {
        sb::server server(std::move(routes), options);
        server.start();
        std::cout << "switchboard-demo listening on http://" << options.address << ":"
                  << server.port() << "/  (Ctrl-C stops it)" << std::endl;
        server.run_until_signal();
    } catch (const std::exception& e) {
        std::cerr << "switchboard-demo: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
