// Switchboard's one logging hook.
//
// The library never prints on its own: every line goes to the sink the
// application installs, and nothing is formatted unless the line's level is
// enabled. Lines are `event key=value key=value`, so they can be grepped and
// parsed without a schema.
//
// Thread safety: set_log_sink may be called at any time from any thread; the
// sink itself may be called concurrently from every thread that runs the
// library's work, so it must be thread-safe.
#pragma once

#include <fmt/core.h>

#include <atomic>
#include <functional>
#include <string_view>

namespace switchboard {

enum class log_level { trace, debug, info, warn, error, off };

/// Returns "trace", "debug", "info", "warn", "error" or "off".
std::string_view to_string(log_level level) noexcept;

using log_sink = std::function<void(log_level level, std::string_view line)>;

/// Installs `sink` for every line at `min_level` or above. An empty sink (the
/// default) turns logging off.
void set_log_sink(log_sink sink, log_level min_level = log_level::info);

/// A sink that writes each line to stderr with a timestamp and the level.
log_sink stderr_log_sink();

namespace detail {

extern std::atomic<log_level> log_threshold;
void write_log(log_level level, fmt::string_view format, fmt::format_args args);

} // namespace detail

inline bool log_enabled(log_level level) noexcept {
    return level >= detail::log_threshold.load(std::memory_order_relaxed);
}

/// Formats and emits one line if `level` is enabled. By convention the format
/// starts with an event name and continues with key=value pairs.
template <class... Args>
void log(log_level level, fmt::format_string<Args...> format, Args&&... args) {
    if (!log_enabled(level)) {
        return;
    }
    detail::write_log(level, format, fmt::make_format_args(args...));
}

} // namespace switchboard
