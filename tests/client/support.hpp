// What the client's end-to-end tests share: child processes (peers and the command-line tool)
// started and stopped by their own pid, and a watchdog for coroutine tests.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace switchboard::test {

using namespace std::chrono_literals;

/// A child process with pipes on its stdin, stdout and stderr. The destructor ends it (SIGTERM,
/// then SIGKILL after two seconds) and reaps it. If this process dies without running
/// destructors (a crash, ctest's timeout), the kernel kills the child too (PR_SET_PDEATHSIG),
/// so no server is left behind on a loopback port.
///
/// Make it on the thread that will outlive it: the kernel watches the thread, not the process.
class child_process {
public:
    explicit child_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& extra_env = {}) {
        // Everything the child needs is built before fork(): after it, only async-signal-safe
        // calls are allowed, since other threads of this process may hold locks.
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        std::vector<std::string> env_strings;
        for (char** e = environ; *e != nullptr; ++e) {
            env_strings.emplace_back(*e);
        }
        env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
        std::vector<char*> env;
        for (auto& e : env_strings) {
            env.push_back(e.data());
        }
        env.push_back(nullptr);

        int in[2];
        int out[2];
        int err[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
            ::pipe2(err, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe failed");
        }
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(127); // the parent died before the signal was armed
            }
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            ::execve(args[0], args.data(), env.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        ::close(err[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        stderr_ = err[0];
        if (pid_ < 0) {
            throw std::runtime_error("cannot start " + argv.at(0));
        }
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    ~child_process() {
        stop();
        for (int fd : {stdin_, stdout_, stderr_}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    pid_t pid() const noexcept { return pid_; }

    /// The next line on stdout, without its newline; nullopt at EOF or after `timeout`.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = out_.find('\n'); nl != std::string::npos) {
                auto line = out_.substr(0, nl);
                out_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(left)) {
                return std::nullopt;
            }
        }
    }

    /// The first complete line on stderr that starts with `prefix`, without its newline;
    /// nullopt if none has come within `timeout`. Lines stay in err() for later calls.
    std::optional<std::string> err_line(std::string_view prefix,
                                        std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            std::size_t start = 0;
            for (auto end = err_.find('\n'); end != std::string::npos;
                 start = end + 1, end = err_.find('\n', start)) {
                const std::string_view line(err_.data() + start, end - start);
                if (line.starts_with(prefix)) {
                    return std::string(line);
                }
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || (stdout_ < 0 && stderr_ < 0)) {
                return std::nullopt;
            }
            pump(left);
        }
    }

    /// Waits for the exit within `timeout`, collecting output. The exit status, or -1 when it
    /// had to be killed or died by a signal.
    int wait(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (stdout_ >= 0 || stderr_ >= 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                break;
            }
            pump(left);
        }
        return reap(deadline);
    }

    /// Sends SIGTERM (or `sig`) and waits, bounded; SIGKILL if it will not go.
    void stop(int sig = SIGTERM) {
        if (pid_ <= 0 || exited_) {
            return;
        }
        if (stdin_ >= 0) {
            ::close(stdin_);
            stdin_ = -1;
        }
        ::kill(pid_, sig);
        reap(std::chrono::steady_clock::now() + 2s);
        // What it wrote before it ended is still in the pipes.
        for (int i = 0; i < 100 && (stdout_ >= 0 || stderr_ >= 0); ++i) {
            pump(10ms);
        }
    }

    void signal(int sig) {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, sig);
        }
    }

    const std::string& out() const noexcept { return out_; }
    const std::string& err() const noexcept { return err_; }

private:
    // Moves what is readable into out_ and err_. False at EOF on stdout.
    bool pump(std::chrono::milliseconds timeout) {
        std::vector<pollfd> fds;
        if (stdout_ >= 0) {
            fds.push_back({stdout_, POLLIN, 0});
        }
        if (stderr_ >= 0) {
            fds.push_back({stderr_, POLLIN, 0});
        }
        if (fds.empty()) {
            return false;
        }
        if (::poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) {
            return stdout_ >= 0;
        }
        for (const auto& p : fds) {
            if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            char buf[4096];
            const auto n = ::read(p.fd, buf, sizeof buf);
            auto& sink = p.fd == stdout_ ? out_ : err_;
            if (n > 0) {
                sink.append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(p.fd);
                (p.fd == stdout_ ? stdout_ : stderr_) = -1;
            }
        }
        return stdout_ >= 0;
    }

    int reap(std::chrono::steady_clock::time_point deadline) {
        if (exited_) {
            return status_;
        }
        for (;;) {
            int raw = 0;
            const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
                return status_;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &raw, 0);
                exited_ = true;
                status_ = -1;
                return status_;
            }
            std::this_thread::sleep_for(10ms);
        }
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int stderr_ = -1;
    std::string out_;
    std::string err_;
    bool exited_ = false;
    int status_ = -1;
};

/// A peer server that prints "port=N" on its first line.
struct peer {
    explicit peer(const std::vector<std::string>& argv, const std::vector<std::string>& env = {})
        : process(argv, env) {
        auto line = process.read_line(20s);
        if (!line || !line->starts_with("port=")) {
            process.stop();
            throw std::runtime_error("peer " + argv.back() +
                                     " did not report its port; stderr: " + process.err());
        }
        port = static_cast<std::uint16_t>(std::stoi(line->substr(5)));
    }

    child_process process;
    std::uint16_t port = 0;
};

/// The certificates of peers/make_certs.sh (a test CA; good, other, expired, ip and rogue
/// certificates with their keys), made once per test program with the openssl tool in a fresh
/// temporary directory, which is removed when the program ends. Returns the directory.
inline const std::string& test_certificates(const std::string& peers_dir) {
    struct made {
        made(const std::string& script) {
            std::string pattern =
                (std::filesystem::temp_directory_path() / "switchboard-certs-XXXXXX").string();
            if (::mkdtemp(pattern.data()) == nullptr) {
                throw std::runtime_error("mkdtemp failed");
            }
            dir = pattern;
            child_process run({"/bin/bash", script, dir});
            if (run.wait(30s) != 0) {
                throw std::runtime_error("make_certs.sh failed (is openssl installed?): " +
                                         run.err());
            }
        }
        made(const made&) = delete;
        made& operator=(const made&) = delete;
        ~made() {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
        std::string dir;
    };
    static const made certificates(peers_dir + "/make_certs.sh");
    return certificates.dir;
}

/// A port that was free a moment ago, for a server that cannot be told to pick its own (the
/// openssl tool).
inline std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    if (!bound) {
        throw std::runtime_error("no free loopback port");
    }
    return ntohs(address.sin_port);
}

/// Runs a coroutine on a fresh io_context and fails the test if it has not finished within
/// `limit`; an exception it throws fails the test with its message.
inline void run_async(boost::asio::awaitable<void> task, std::chrono::seconds limit = 30s) {
    boost::asio::io_context io;
    bool done = false;
    std::exception_ptr error;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    io.run_for(limit);
    if (!done) {
        ADD_FAILURE() << "the test coroutine did not finish within " << limit.count() << " s";
        return;
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

} // namespace switchboard::test

// ASSERT_* leaves a function with `return`, which a coroutine may not use: these end the
// coroutine with co_return instead, after recording the failure.
#define CO_ASSERT_TRUE(condition)                                                                  \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            ADD_FAILURE() << "expected true: " #condition;                                         \
            co_return;                                                                             \
        }                                                                                          \
    } while (false)

#define CO_ASSERT_FALSE(condition) CO_ASSERT_TRUE(!(condition))

#define CO_ASSERT_EQ(a, b)                                                                         \
    do {                                                                                           \
        EXPECT_EQ(a, b);                                                                           \
        if (!((a) == (b))) {                                                                       \
            co_return;                                                                             \
        }                                                                                          \
    } while (false)
