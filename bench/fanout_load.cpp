// switchboard-fanout-load: opens subscribers and publishers against a server
// that speaks the bench protocol (bench/bench_server.cpp, bench/peers/server.js),
// publishes a bounded number of timestamped messages, and reports how fast
// and how completely they fanned out.
//
// Loopback only: it connects to 127.0.0.1 and nowhere else. Every phase is
// bounded by --time-limit, after which the tool reports what it saw and
// exits by itself. Exit status: 0 when every subscriber got every message
// exactly once and in order; 1 on gaps, duplicates, missing or malformed
// messages; 2 on bad options; 3 when the server could not be reached.
//
// One thread runs everything, so the bench can pin the tool to one core.
#include <switchboard/detail/ws_frame.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace ws = switchboard::detail::ws;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Payload layout, all ASCII so it is valid text: publisher (4 hex digits),
// sequence number within the publisher's messages to that key (8 hex
// digits), send time in steady-clock nanoseconds (16 hex digits), then
// filler up to --size.
constexpr std::size_t publisher_digits = 4;
constexpr std::size_t sequence_digits = 8;
constexpr std::size_t time_digits = 16;
constexpr std::size_t payload_header = publisher_digits + sequence_digits + time_digits;

struct options {
    std::uint16_t port = 0;
    std::size_t subscribers = 1000;
    std::size_t keys = 1;
    std::size_t publishers = 1;
    std::size_t messages = 1000; // per publisher
    std::size_t size = 64;
    double rate = 0; // deliveries per second over all subscribers; 0 floods
    double time_limit = 60;
    double ready_wait = 10;
    double settle = 0.5;
    std::size_t connect_parallel = 128;
    int server_pid = 0;
};

void usage(std::ostream& out) {
    out << "usage: switchboard-fanout-load --port P [options]\n"
           "  --subscribers N     subscriber connections (default 1000)\n"
           "  --keys K            spread the subscribers over K keys, round robin (default 1)\n"
           "  --publishers P      publisher connections (default 1)\n"
           "  --messages M        messages per publisher, sent to the keys in turn (default "
           "1000; 0: connect, measure memory, publish nothing)\n"
           "  --size S            payload bytes per message, at least 28 (default 64)\n"
           "  --rate R            deliveries per second over all subscribers (default: flood)\n"
           "  --time-limit SEC    bound on the whole run (default 60)\n"
           "  --ready-wait SEC    how long to wait for GET /health to answer (default 10)\n"
           "  --settle SEC        pause before reading memory after connecting (default 0.5)\n"
           "  --connect-parallel C  handshakes in flight while connecting (default 128)\n"
           "  --server-pid PID    report server CPU per delivery and memory per subscriber\n";
}

std::optional<options> parse_options(int argc, char** argv) {
    options o;
    bool port_given = false;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            usage(std::cout);
            std::exit(0);
        }
        if (i + 1 >= args.size()) {
            std::cerr << "switchboard-fanout-load: unknown or incomplete option '" << arg << "'\n";
            return std::nullopt;
        }
        const auto& value = args[++i];
        try {
            if (arg == "--port") {
                o.port = static_cast<std::uint16_t>(std::stoul(value));
                port_given = true;
            } else if (arg == "--subscribers") {
                o.subscribers = std::stoul(value);
            } else if (arg == "--keys") {
                o.keys = std::stoul(value);
            } else if (arg == "--publishers") {
                o.publishers = std::stoul(value);
            } else if (arg == "--messages") {
                o.messages = std::stoul(value);
            } else if (arg == "--size") {
                o.size = std::stoul(value);
            } else if (arg == "--rate") {
                o.rate = std::stod(value);
            } else if (arg == "--time-limit") {
                o.time_limit = std::stod(value);
            } else if (arg == "--ready-wait") {
                o.ready_wait = std::stod(value);
            } else if (arg == "--settle") {
                o.settle = std::stod(value);
            } else if (arg == "--connect-parallel") {
                o.connect_parallel = std::stoul(value);
            } else if (arg == "--server-pid") {
                o.server_pid = std::stoi(value);
            } else {
                std::cerr << "switchboard-fanout-load: unknown option '" << arg << "'\n";
                return std::nullopt;
            }
        } catch (const std::exception&) {
            std::cerr << "switchboard-fanout-load: bad value for " << arg << "\n";
            return std::nullopt;
        }
    }
    if (!port_given || o.port == 0) {
        std::cerr << "switchboard-fanout-load: --port is required\n";
        return std::nullopt;
    }
    if (o.subscribers == 0 || o.keys == 0 || o.keys > o.subscribers || o.publishers == 0 ||
        o.publishers > 0xffff || o.size < payload_header || o.size > 1024 * 1024 || o.rate < 0 ||
        o.time_limit <= 0 || o.connect_parallel == 0) {
        std::cerr << "switchboard-fanout-load: options out of range (1 <= keys <= subscribers, "
                     "1 <= publishers <= 65535, 28 <= size <= 1 MiB)\n";
        return std::nullopt;
    }
    return o;
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
            .count());
}

void put_hex(char* out, std::uint64_t value, std::size_t digits) {
    constexpr std::string_view hex = "0123456789abcdef";
    for (std::size_t i = digits; i-- > 0;) {
        out[i] = hex[value & 0xf];
        value >>= 4;
    }
}

std::optional<std::uint64_t> get_hex(std::string_view text) {
    std::uint64_t value = 0;
    for (char c : text) {
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return std::nullopt;
        }
        value = (value << 4) | digit;
    }
    return value;
}

/// Latencies in buckets of 1/64 of a power of two (under 1.6% error), so
/// millions of samples cost a fixed 32 KiB.
class latency_histogram {
public:
    void record(std::uint64_t ns) {
        ++counts_[index(ns)];
        ++total_;
        max_ = std::max(max_, ns);
    }

    std::uint64_t count() const noexcept { return total_; }
    std::uint64_t max() const noexcept { return max_; }

    /// The upper edge of the bucket that holds the q-quantile.
    std::uint64_t quantile(double q) const {
        if (total_ == 0) {
            return 0;
        }
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
        rank = std::clamp<std::uint64_t>(rank, 1, total_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                return std::min(upper_edge(i), max_);
            }
        }
        return max_;
    }

private:
    static constexpr std::size_t exact = 128;
    static constexpr std::size_t per_octave = 64;

    static std::size_t index(std::uint64_t v) {
        if (v < exact) {
            return static_cast<std::size_t>(v);
        }
        auto shift = static_cast<std::size_t>(std::bit_width(v)) - 7;
        return exact + (shift - 1) * per_octave + static_cast<std::size_t>((v >> shift) - 64);
    }

    static std::uint64_t upper_edge(std::size_t i) {
        if (i < exact) {
            return i;
        }
        auto shift = (i - exact) / per_octave + 1;
        auto top = (i - exact) % per_octave + 64;
        return ((top + 1) << shift) - 1;
    }

    std::array<std::uint64_t, exact + 58 * per_octave> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

/// /proc figures of the server, for CPU per delivery and memory per subscriber.
struct process_sample {
    double user_seconds = 0;
    double system_seconds = 0;
    // From /proc/PID/task/*/schedstat, in nanoseconds: time on a CPU (stat's
    // figures come in 10 ms ticks, too coarse for a short run) and time spent
    // runnable but waiting for a CPU, which shows how busy the machine was.
    double cpu_seconds = 0;
    double waiting_seconds = 0;
    std::int64_t rss_bytes = 0;
};

std::optional<process_sample> sample_process(int pid) {
    if (pid <= 0) {
        return std::nullopt;
    }
    process_sample s;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return std::nullopt;
    }
    // The command name may hold spaces; the fields after it are plain.
    auto close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) {
        f.push_back(field);
    }
    // utime and stime are fields 14 and 15 of stat(5); f starts at field 3.
    if (f.size() < 13) {
        return std::nullopt;
    }
    auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    s.user_seconds = std::stod(f[11]) / tick;
    s.system_seconds = std::stod(f[12]) / tick;

    s.cpu_seconds = s.user_seconds + s.system_seconds;
    std::error_code ec;
    std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task", ec);
    if (!ec) {
        double on_cpu = 0;
        for (const auto& task : tasks) {
            std::ifstream schedstat(task.path() / "schedstat");
            double running = 0;
            double waiting = 0;
            if (schedstat >> running >> waiting) {
                on_cpu += running / 1e9;
                s.waiting_seconds += waiting / 1e9;
            }
        }
        if (on_cpu > 0) {
            s.cpu_seconds = on_cpu;
        }
    }

    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rss_bytes = std::stoll(line.substr(6)) * 1024;
        }
    }
    return s;
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string key_name(std::size_t k) {
    // Appending rather than "k" + to_string(k): g++ 12 gives a false
    // -Wrestrict on the latter at -O3 (GCC bug 105329).
    std::string name = "k";
    name += std::to_string(k);
    return name;
}

struct subscriber {
    explicit subscriber(asio::io_context& context, std::size_t k, std::size_t publishers)
        : socket(context)
        , parser(ws::role::client, 16 * 1024 * 1024)
        , next(publishers, 0)
        , key(k) {}

    tcp::socket socket;
    ws::frame_parser parser;
    std::vector<std::uint32_t> next; // next sequence number expected from each publisher
    std::size_t key;
    bool open = false;
};

struct publisher {
    explicit publisher(asio::io_context& context)
        : socket(context) {}

    tcp::socket socket;
    std::uint64_t sent = 0;
};

/// Everything the run counts. One thread touches it, so nothing is atomic.
struct run_state {
    explicit run_state(asio::io_context& c, const options& o)
        : context(c)
        , opts(o)
        , wake(c)
        , scratch(256 * 1024) {}

    asio::io_context& context;
    const options& opts;
    asio::steady_timer wake; // the driver sleeps on it; the last delivery cancels it
    std::vector<char> scratch;
    std::vector<std::unique_ptr<subscriber>> subscribers;
    std::vector<std::unique_ptr<publisher>> publishers;
    std::vector<std::uint64_t> per_key; // messages each publisher sends to each key
    clock_type::time_point deadline;

    std::size_t connected = 0;
    std::size_t connect_failures = 0;
    std::size_t receivers_running = 0;
    std::uint64_t expected = 0;
    std::uint64_t delivered = 0; // first arrivals
    std::uint64_t gaps = 0;      // messages skipped over by a later one
    std::uint64_t duplicates = 0;
    std::uint64_t malformed = 0;
    std::uint64_t server_closes = 0;
    std::uint16_t last_close_code = 0;
    std::uint64_t first_send_ns = 0;
    std::uint64_t last_delivery_ns = 0;
    bool finished = false;
    latency_histogram latency;

    void message(subscriber& sub, std::string_view payload, std::uint64_t arrived_ns);
    void bytes(subscriber& sub, std::string_view data, std::uint64_t arrived_ns);
};

void run_state::message(subscriber& sub, std::string_view payload, std::uint64_t arrived_ns) {
    if (payload.size() != opts.size) {
        ++malformed;
        return;
    }
    auto pub = get_hex(payload.substr(0, publisher_digits));
    auto seq = get_hex(payload.substr(publisher_digits, sequence_digits));
    auto sent = get_hex(payload.substr(publisher_digits + sequence_digits, time_digits));
    if (!pub || !seq || !sent || *pub >= sub.next.size()) {
        ++malformed;
        return;
    }

    // Messages from one publisher to one key must arrive once each, in order.
    auto& next = sub.next[*pub];
    if (*seq < next) {
        ++duplicates;
        return;
    }
    gaps += *seq - next;
    next = static_cast<std::uint32_t>(*seq + 1);
    ++delivered;
    latency.record(arrived_ns > *sent ? arrived_ns - *sent : 0);
    last_delivery_ns = arrived_ns;

    if (delivered + gaps == expected) {
        finished = true;
        wake.cancel();
    }
}

void run_state::bytes(subscriber& sub, std::string_view data, std::uint64_t arrived_ns) {
    ws::event ev;
    while (!data.empty()) {
        auto used = sub.parser.parse(data, ev);
        data.remove_prefix(used);
        switch (ev.what) {
        case ws::event::kind::need_more:
            return;
        case ws::event::kind::message:
            message(sub, ev.payload, arrived_ns);
            break;
        case ws::event::kind::ping: {
            // Keep the session alive past the server's ping interval.
            static const std::array<unsigned char, 4> mask{0x12, 0x34, 0x56, 0x78};
            auto pong = ws::encode_frame(ws::opcode::pong, ev.payload, true, &mask);
            boost::system::error_code ignored;
            asio::write(sub.socket, asio::buffer(pong), ignored);
            break;
        }
        case ws::event::kind::pong:
            break;
        case ws::event::kind::close:
        case ws::event::kind::error:
            ++server_closes;
            last_close_code = ev.code;
            sub.open = false;
            return;
        }
    }
}

/// Reads whatever a subscriber has into the shared scratch buffer: an idle
/// subscriber then holds no read buffer of its own, only its parser.
asio::awaitable<void> receive(run_state& run, subscriber& sub) {
    while (sub.open) {
        auto [ec] = co_await sub.socket.async_wait(tcp::socket::wait_read, use_tuple);
        if (ec) {
            break;
        }
        // Readiness comes on edges: bytes left behind after a full buffer
        // would wait for the next arrival, so read until a short read.
        for (;;) {
            boost::system::error_code read_ec;
            auto n = sub.socket.read_some(asio::buffer(run.scratch), read_ec);
            if (read_ec == asio::error::would_block) {
                break;
            }
            if (read_ec) {
                sub.open = false;
                break;
            }
            run.bytes(sub, std::string_view(run.scratch.data(), n), now_ns());
            if (n < run.scratch.size() || !sub.open) {
                break;
            }
        }
    }
    sub.open = false;
    --run.receivers_running;
}

/// Connects and upgrades `path`; bytes that came behind the 101 go to
/// `leftover`.
asio::awaitable<bool> open_websocket(tcp::socket& socket, std::uint16_t port, std::string path,
                                     std::string& leftover) {
    tcp::endpoint server(asio::ip::address_v4::loopback(), port);
    auto [cec] = co_await socket.async_connect(server, use_tuple);
    if (cec) {
        co_return false;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);

    auto request = "GET " + path +
                   " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: c3dpdGNoYm9hcmQgYmVuYw==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n";
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(request), use_tuple);
    if (wec) {
        co_return false;
    }

    std::string head;
    std::array<char, 1024> chunk{};
    for (;;) {
        auto end = head.find("\r\n\r\n");
        if (end != std::string::npos) {
            leftover = head.substr(end + 4);
            co_return head.rfind("HTTP/1.1 101", 0) == 0;
        }
        if (head.size() > 16 * 1024) {
            co_return false;
        }
        auto [rec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
        if (rec) {
            co_return false;
        }
        head.append(chunk.data(), n);
    }
}

/// One of --connect-parallel workers: takes the next subscriber not yet
/// connected until none is left or time is up.
asio::awaitable<void> connect_subscribers(run_state& run, std::size_t& next_index) {
    while (next_index < run.subscribers.size() && clock_type::now() < run.deadline) {
        auto& sub = *run.subscribers[next_index++];
        std::string leftover;
        auto path = "/topics/" + key_name(sub.key) + "/subscribe";
        if (!co_await open_websocket(sub.socket, run.opts.port, path, leftover)) {
            ++run.connect_failures;
            continue;
        }
        sub.socket.non_blocking(true);
        sub.open = true;
        ++run.connected;
        ++run.receivers_running;
        if (!leftover.empty()) {
            run.bytes(sub, leftover, now_ns());
        }
        asio::co_spawn(run.context, receive(run, sub), [](const std::exception_ptr& e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
}

/// Masked frames of "key payload" for messages [first, last) of publisher
/// `p`, stamped with the time they are handed to the socket.
void append_messages(run_state& run, std::size_t p, std::uint64_t first, std::uint64_t last,
                     std::mt19937& random, std::string& out) {
    auto stamp = now_ns();
    std::string text;
    for (auto j = first; j < last; ++j) {
        auto k = j % run.opts.keys;
        auto seq = j / run.opts.keys;
        text = key_name(k);
        text += ' ';
        auto start = text.size();
        text.resize(start + run.opts.size, '.');
        put_hex(text.data() + start, p, publisher_digits);
        put_hex(text.data() + start + publisher_digits, seq, sequence_digits);
        put_hex(text.data() + start + publisher_digits + sequence_digits, stamp, time_digits);

        auto word = random();
        std::array<unsigned char, 4> mask{};
        std::memcpy(mask.data(), &word, mask.size());
        out += ws::encode_frame(ws::opcode::text, text, true, &mask);
    }
}

/// Sends publisher p's messages: in chunks of about 16 KiB as fast as the
/// socket takes them, or on a schedule when a rate is given (messages that
/// fall due together go in one write).
asio::awaitable<void> publish(run_state& run, std::size_t p) {
    auto& pub = *run.publishers[p];
    std::mt19937 random(static_cast<std::uint32_t>(p * 7919 + 17));
    std::string out;
    const auto total = run.opts.messages;
    const auto chunk = std::max<std::size_t>(1, 16 * 1024 / (run.opts.size + 16));

    // Messages per second for this publisher: each reaches subscribers / keys
    // subscribers.
    double per_second = 0;
    if (run.opts.rate > 0) {
        auto fan = static_cast<double>(run.opts.subscribers) / static_cast<double>(run.opts.keys);
        per_second = run.opts.rate / fan / static_cast<double>(run.opts.publishers);
    }
    asio::steady_timer timer(run.context);
    auto start = clock_type::now();

    while (pub.sent < total && clock_type::now() < run.deadline) {
        auto last = std::min<std::uint64_t>(total, pub.sent + chunk);
        if (per_second > 0) {
            auto due = [&](std::uint64_t j) {
                return start +
                       std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(static_cast<double>(j) / per_second));
            };
            timer.expires_at(due(pub.sent));
            co_await timer.async_wait(use_tuple);
            auto now = clock_type::now();
            last = pub.sent + 1;
            while (last < total && due(last) <= now) {
                ++last;
            }
        }
        out.clear();
        append_messages(run, p, pub.sent, last, random, out);
        auto [ec, n] = co_await asio::async_write(pub.socket, asio::buffer(out), use_tuple);
        if (ec) {
            std::cerr << "switchboard-fanout-load: publisher " << p << ": " << ec.message() << "\n";
            co_return;
        }
        pub.sent = last;
    }
}

asio::awaitable<bool> server_ready(asio::io_context& context, std::uint16_t port,
                                   clock_type::time_point until) {
    asio::steady_timer pause(context);
    for (;;) {
        tcp::socket socket(context);
        auto [cec] =
            co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, use_tuple);
        if (!cec) {
            std::string request =
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            auto [wec, w] = co_await asio::async_write(socket, asio::buffer(request), use_tuple);
            std::string response;
            std::array<char, 512> chunk{};
            while (!wec && response.size() < 4096) {
                auto [rec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
                response.append(chunk.data(), n);
                if (rec) {
                    break;
                }
            }
            auto body = response.find("\r\n\r\n");
            if (response.rfind("HTTP/1.1 200", 0) == 0 && body != std::string::npos &&
                response.substr(body + 4) == "ok") {
                co_return true;
            }
        }
        if (clock_type::now() >= until) {
            co_return false;
        }
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(use_tuple);
    }
}

/// Sleeps on run.wake until `until`; a cancel (the last delivery) ends it early.
asio::awaitable<void> sleep_until(run_state& run, clock_type::time_point until) {
    run.wake.expires_at(until);
    co_await run.wake.async_wait(use_tuple);
}

void close_all(run_state& run) {
    // An abortive close leaves no TIME_WAIT behind on the tool's side, so
    // back-to-back runs do not run out of loopback ports.
    boost::system::error_code ignored;
    for (auto& sub : run.subscribers) {
        if (sub->socket.is_open()) {
            sub->socket.set_option(asio::socket_base::linger(true, 0), ignored);
            sub->socket.close(ignored);
        }
    }
    for (auto& pub : run.publishers) {
        if (pub->socket.is_open()) {
            pub->socket.set_option(asio::socket_base::linger(true, 0), ignored);
            pub->socket.close(ignored);
        }
    }
}

struct report {
    double connect_seconds = 0;
    double seconds = 0;
    std::optional<process_sample> before_connect;
    std::optional<process_sample> after_connect;
    std::optional<process_sample> before_publish;
    std::optional<process_sample> after_publish;
    double tool_cpu_seconds = 0;
    double tool_waiting_seconds = 0;
    bool reached = false;
};

asio::awaitable<void> drive(run_state& run, report& out) {
    const auto& o = run.opts;
    auto begin = clock_type::now();
    auto ready_until =
        std::min(run.deadline, begin + std::chrono::duration_cast<clock_type::duration>(
                                           std::chrono::duration<double>(o.ready_wait)));
    if (!co_await server_ready(run.context, o.port, ready_until)) {
        std::cerr << "switchboard-fanout-load: no \"ok\" from GET /health on 127.0.0.1:" << o.port
                  << "\n";
        co_return;
    }
    out.reached = true;

    // Subscribers first, so memory per idle subscriber is what they add.
    out.before_connect = sample_process(o.server_pid);
    for (std::size_t i = 0; i < o.subscribers; ++i) {
        run.subscribers.push_back(
            std::make_unique<subscriber>(run.context, i % o.keys, o.publishers));
    }
    auto connect_start = clock_type::now();
    std::size_t next_index = 0;
    std::size_t workers = std::min(o.connect_parallel, o.subscribers);
    std::size_t workers_done = 0;
    for (std::size_t w = 0; w < workers; ++w) {
        asio::co_spawn(run.context, connect_subscribers(run, next_index),
                       [&run, &workers_done, workers](const std::exception_ptr& e) {
                           if (e) {
                               std::rethrow_exception(e);
                           }
                           if (++workers_done == workers) {
                               run.wake.cancel();
                           }
                       });
    }
    while (workers_done < workers && clock_type::now() < run.deadline) {
        co_await sleep_until(run, run.deadline);
    }
    out.connect_seconds = std::chrono::duration<double>(clock_type::now() - connect_start).count();
    if (run.connected < o.subscribers) {
        std::cerr << "switchboard-fanout-load: only " << run.connected << " of " << o.subscribers
                  << " subscribers connected (" << run.connect_failures << " failed)\n";
        co_return;
    }

    auto settle_until = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                std::chrono::duration<double>(o.settle));
    while (clock_type::now() < settle_until) {
        co_await sleep_until(run, settle_until);
    }
    out.after_connect = sample_process(o.server_pid);
    if (o.messages == 0) {
        co_return;
    }

    for (std::size_t p = 0; p < o.publishers; ++p) {
        run.publishers.push_back(std::make_unique<publisher>(run.context));
        std::string leftover;
        if (!co_await open_websocket(run.publishers.back()->socket, o.port, "/publish", leftover)) {
            std::cerr << "switchboard-fanout-load: publisher " << p << " could not connect\n";
            co_return;
        }
    }

    // What every subscriber should get: each publisher sends message j to
    // key j % keys.
    run.per_key.assign(o.keys, 0);
    for (std::size_t k = 0; k < o.keys; ++k) {
        run.per_key[k] = o.messages / o.keys + (k < o.messages % o.keys ? 1 : 0);
    }
    for (const auto& sub : run.subscribers) {
        run.expected += run.per_key[sub->key] * o.publishers;
    }

    out.before_publish = sample_process(o.server_pid);
    auto tool_cpu_before = own_cpu_seconds();
    auto tool_before = sample_process(getpid());
    run.first_send_ns = now_ns();
    for (std::size_t p = 0; p < o.publishers; ++p) {
        asio::co_spawn(run.context, publish(run, p), [](const std::exception_ptr& e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
    while (!run.finished && clock_type::now() < run.deadline && run.receivers_running > 0) {
        co_await sleep_until(run, run.deadline);
    }
    out.after_publish = sample_process(o.server_pid);
    out.tool_cpu_seconds = own_cpu_seconds() - tool_cpu_before;
    if (auto tool_after = sample_process(getpid()); tool_before && tool_after) {
        out.tool_waiting_seconds = tool_after->waiting_seconds - tool_before->waiting_seconds;
    }
    auto end_ns = run.finished ? run.last_delivery_ns : now_ns();
    out.seconds = static_cast<double>(end_ns - run.first_send_ns) / 1e9;
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

int print_report(const run_state& run, const report& r) {
    const auto& o = run.opts;
    std::cout << "switchboard-fanout-load: " << o.subscribers << " subscribers on " << o.keys
              << (o.keys == 1 ? " key, " : " keys, ") << o.publishers << " publisher(s), "
              << o.messages << " messages of " << o.size << " B each, "
              << (o.rate > 0 ? "paced at " + fixed(o.rate, 0) + " deliveries/s" : "flood") << "\n";
    if (!r.reached) {
        return 3;
    }
    std::cout << "connected " << run.connected << " subscribers in " << fixed(r.connect_seconds, 2)
              << " s\n";

    std::ostringstream result;
    result << "RESULT subscribers=" << o.subscribers << " keys=" << o.keys
           << " publishers=" << o.publishers << " messages=" << o.messages << " size=" << o.size
           << " rate=" << fixed(o.rate, 0);

    std::int64_t rss_per_sub = -1;
    if (r.before_connect && r.after_connect) {
        auto delta = r.after_connect->rss_bytes - r.before_connect->rss_bytes;
        rss_per_sub = delta / static_cast<std::int64_t>(o.subscribers);
        std::cout << "server rss: " << r.before_connect->rss_bytes / 1024 << " KiB before, "
                  << r.after_connect->rss_bytes / 1024
                  << " KiB with the subscribers: " << rss_per_sub << " bytes per idle subscriber\n";
    }
    result << " rss_per_subscriber=" << rss_per_sub;

    bool clean = run.connected == o.subscribers;
    if (o.messages > 0) {
        auto missing = run.expected - std::min(run.expected, run.delivered + run.gaps);
        auto per_second = r.seconds > 0 ? static_cast<double>(run.delivered) / r.seconds : 0.0;
        std::cout << "delivered " << run.delivered << " of " << run.expected << " in "
                  << fixed(r.seconds, 3) << " s: " << fixed(per_second, 0) << " deliveries/s\n";
        auto us = [&](std::uint64_t ns) {
            return fixed(static_cast<double>(ns) / 1000.0, 1);
        };
        std::cout << "latency us: p50 " << us(run.latency.quantile(0.5)) << ", p99 "
                  << us(run.latency.quantile(0.99)) << ", p99.9 " << us(run.latency.quantile(0.999))
                  << ", max " << us(run.latency.max()) << "\n";
        std::cout << "gaps " << run.gaps << ", duplicates " << run.duplicates << ", missing "
                  << missing << ", malformed " << run.malformed << ", closed by the server "
                  << run.server_closes;
        if (run.server_closes > 0) {
            std::cout << " (last code " << run.last_close_code << ")";
        }
        std::cout << "\n";

        double cpu_per = -1;
        double waiting_share = -1;
        if (r.before_publish && r.after_publish && run.delivered > 0) {
            const auto& a = *r.before_publish;
            const auto& b = *r.after_publish;
            auto per = [&](double s) {
                return s * 1e6 / static_cast<double>(run.delivered);
            };
            auto user = b.user_seconds - a.user_seconds;
            auto sys = b.system_seconds - a.system_seconds;
            auto cpu = b.cpu_seconds - a.cpu_seconds;
            cpu_per = per(cpu);
            waiting_share =
                r.seconds > 0 ? 100 * (b.waiting_seconds - a.waiting_seconds) / r.seconds : 0.0;
            std::cout << "server cpu: " << fixed(cpu, 3) << " s, " << fixed(cpu_per, 3)
                      << " us per delivery (user " << fixed(per(user), 3) << ", system "
                      << fixed(per(sys), 3) << ", from 10 ms ticks); runnable but waiting for a "
                      << "CPU " << fixed(waiting_share, 0) << "% of the run\n";
        }
        auto tool_share = r.seconds > 0 ? 100.0 * r.tool_cpu_seconds / r.seconds : 0.0;
        auto tool_waiting = r.seconds > 0 ? 100.0 * r.tool_waiting_seconds / r.seconds : 0.0;
        std::cout << "load tool cpu: " << fixed(tool_share, 0)
                  << "% of one core, waiting for a CPU " << fixed(tool_waiting, 0) << "% of the run"
                  << (tool_share > 90 ? " (near saturation: the figure may be the tool's limit)"
                                      : "")
                  << "\n";

        result << " delivered=" << run.delivered << " expected=" << run.expected
               << " seconds=" << fixed(r.seconds, 4) << " per_second=" << fixed(per_second, 0)
               << " p50_us=" << us(run.latency.quantile(0.5))
               << " p99_us=" << us(run.latency.quantile(0.99))
               << " p999_us=" << us(run.latency.quantile(0.999))
               << " max_us=" << us(run.latency.max()) << " gaps=" << run.gaps
               << " duplicates=" << run.duplicates << " missing=" << missing
               << " malformed=" << run.malformed << " server_closes=" << run.server_closes
               << " cpu_us_per_delivery=" << fixed(cpu_per, 3)
               << " server_waiting_pct=" << fixed(waiting_share, 0)
               << " tool_cpu_pct=" << fixed(tool_share, 0)
               << " tool_waiting_pct=" << fixed(tool_waiting, 0);
        clean = clean && run.gaps == 0 && run.duplicates == 0 && missing == 0 && run.malformed == 0;
    }
    std::cout << result.str() << std::endl;
    return clean ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    auto parsed = parse_options(argc, argv);
    if (!parsed) {
        usage(std::cerr);
        return 2;
    }
    const auto& o = *parsed;

    asio::io_context context(1);
    run_state run(context, o);
    auto limit = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(o.time_limit));
    run.deadline = clock_type::now() + limit;

    report r;
    bool drove = false;
    asio::co_spawn(context, drive(run, r), [&](const std::exception_ptr& e) {
        drove = true;
        close_all(run);
        if (e) {
            std::rethrow_exception(e);
        }
    });
    // The hard bound: whatever is still pending a little after the time
    // limit is abandoned.
    context.run_for(limit + std::chrono::seconds(2));
    if (!drove) {
        // Closing every socket ends the coroutines still waiting on them.
        std::cerr << "switchboard-fanout-load: time limit passed\n";
        close_all(run);
        context.restart();
        context.run_for(std::chrono::seconds(1));
    }
    return print_report(run, r);
}
