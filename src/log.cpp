#include <switchboard/log.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

namespace switchboard {

namespace detail {

std::atomic<log_level> log_threshold{log_level::off};

namespace {

// The sink is replaced rarely and read on every enabled line: readers take a
// copy of the shared_ptr under the lock and call the sink outside it, so a
// slow sink never serialises the library behind this mutex.
std::mutex sink_mutex;
std::shared_ptr<const log_sink> current_sink;

} // namespace

void write_log(log_level level, fmt::string_view format, fmt::format_args args) {
    std::shared_ptr<const log_sink> sink;
    {
        std::lock_guard lock(sink_mutex);
        sink = current_sink;
    }
    if (!sink) {
        return;
    }
    fmt::memory_buffer line;
    fmt::vformat_to(std::back_inserter(line), format, args);
    (*sink)(level, std::string_view(line.data(), line.size()));
}

} // namespace detail

std::string_view to_string(log_level level) noexcept {
    switch (level) {
    case log_level::trace:
        return "trace";
    case log_level::debug:
        return "debug";
    case log_level::info:
        return "info";
    case log_level::warn:
        return "warn";
    case log_level::error:
        return "error";
    case log_level::off:
        break;
    }
    return "off";
}

void set_log_sink(log_sink sink, log_level min_level) {
    std::shared_ptr<const log_sink> next;
    if (sink) {
        next = std::make_shared<const log_sink>(std::move(sink));
    }
    std::lock_guard lock(detail::sink_mutex);
    detail::current_sink = std::move(next);
    detail::log_threshold.store(detail::current_sink ? min_level : log_level::off,
                                std::memory_order_relaxed);
}

log_sink stderr_log_sink() {
    return [](log_level level, std::string_view line) {
        auto now = std::chrono::system_clock::now();
        auto text =
            fmt::format("{:%Y-%m-%dT%H:%M:%S} {} {}\n",
                        std::chrono::floor<std::chrono::milliseconds>(now), to_string(level), line);
        std::fwrite(text.data(), 1, text.size(), stderr);
    };
}

} // namespace switchboard
