// A session's outbound queue: references to frames that are already
// encoded, shared by every subscriber of a publish. Filled from any thread
// (publishers, through the registry) and drained by the session's writer.
#pragma once

#include "ring.hpp"

#include <switchboard/websocket.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace switchboard::detail {

/// A complete frame on the wire (header and payload). Server frames are
/// not masked, so one encoding serves every subscriber.
using shared_frame = std::shared_ptr<const std::string>;

struct close_request {
    std::uint16_t code = 1000;
    std::string reason;
};

class outbox {
public:
    /// `wake` is called (outside the lock) when the writer may be asleep
    /// and there is new work; it must only schedule, never write.
    outbox(std::size_t max_bytes, overflow_policy policy, std::function<void()> wake);

    /// What push_all did with the frames.
    struct push_counts {
        std::size_t queued = 0;
        /// Frames dropped under drop_oldest: older ones to make room, or a
        /// frame that alone passes the bound. Each reaches the subscriber as
        /// part of a gap notice.
        std::size_t dropped = 0;
        /// Why the subscriber was cut off, when it was.
        const char* cut_off = nullptr;
    };

    /// Thread-safe: queues the frames in order under one lock, applying the
    /// overflow policy to each that would pass the byte bound, and wakes the
    /// writer at most once. A publisher's burst reaches each subscriber this
    /// way, so the cost of touching a subscriber's queue is paid once per
    /// burst instead of once per message (bench/README.md).
    push_counts push_all(std::span<const shared_frame> frames);

    /// Thread-safe: asks the writer to close after what is queued.
    void request_close(std::uint16_t code, std::string reason);

    /// Refuses every later push (the session is closing).
    void shut();

    struct batch {
        std::vector<shared_frame> frames;
        std::uint64_t missed = 0;
        std::optional<close_request> close;
    };

    /// Moves up to `max_frames` frames (and at most about `max_bytes`) into
    /// `out`, with what was dropped since the last take and any close that
    /// has been asked for (every take reports it again). When it leaves the
    /// queue empty, the next push wakes the writer again.
    void take(batch& out, std::size_t max_frames, std::size_t max_bytes);

    std::size_t queued_bytes() const;

private:
    /// False once the outbox refuses frames (shut, or cut off).
    bool push_locked(const shared_frame& frame, push_counts& counts);
    void cut_off(const char* reason, push_counts& counts);

    mutable std::mutex mutex_;
    ring<shared_frame> frames_;
    std::size_t bytes_ = 0;
    std::size_t max_bytes_;
    overflow_policy policy_;
    std::uint64_t missed_ = 0;
    /// Rare, so kept out of line: every idle subscriber has an outbox.
    std::unique_ptr<close_request> close_;
    bool shut_ = false;
    bool wake_pending_ = false;
    std::function<void()> wake_;
};

} // namespace switchboard::detail
