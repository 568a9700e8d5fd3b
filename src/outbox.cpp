#include "outbox.hpp"

namespace switchboard::detail {

outbox::outbox(std::size_t max_bytes, overflow_policy policy, std::function<void()> wake)
    : max_bytes_(max_bytes)
    , policy_(policy)
    , wake_(std::move(wake)) {
}

outbox::push_result outbox::push(const shared_frame& frame, push_counts& counts) {
    push_result result{};
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        result = push_locked(frame, counts);
        if (result == push_result::closed) {
            return result;
        }
        wake = !wake_pending_;
        wake_pending_ = true;
    }
    if (wake) {
        wake_();
    }
    return result;
}

outbox::push_counts outbox::push_all(std::span<const shared_frame> frames) {
    push_counts counts;
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        for (const auto& frame : frames) {
            if (push_locked(frame, counts) == push_result::closed) {
                break;
            }
            wake = true;
        }
        wake = wake && !wake_pending_;
        wake_pending_ = wake_pending_ || wake;
    }
    if (wake) {
        wake_();
    }
    return counts;
}

outbox::push_result outbox::push_locked(const shared_frame& frame, push_counts& counts) {
    if (shut_) {
        return push_result::closed;
    }
    const auto size = frame->size();
    if (bytes_ + size <= max_bytes_) {
        bytes_ += size;
        frames_.push_back(frame);
        ++counts.queued;
        return push_result::queued;
    }
    if (policy_ != overflow_policy::drop_oldest) {
        cut_off(size > max_bytes_ ? "message larger than the outbound limit"
                                  : "subscriber too slow",
                counts);
        return push_result::cut_off;
    }
    if (size > max_bytes_) {
        // No amount of dropping makes room: this one goes, the queue stays.
        ++missed_;
        ++counts.dropped;
        return push_result::dropped_older;
    }
    while (bytes_ + size > max_bytes_) {
        bytes_ -= frames_.pop_front()->size();
        ++missed_;
        ++counts.dropped;
    }
    bytes_ += size;
    frames_.push_back(frame);
    ++counts.queued;
    return push_result::dropped_older;
}

void outbox::cut_off(const char* reason, push_counts& counts) {
    // Free the backlog now: the session is going away and its memory should
    // not wait for a peer that does not read.
    frames_.clear();
    bytes_ = 0;
    shut_ = true;
    auto code = policy_ == overflow_policy::close_policy_violation ? 1008 : 1013;
    close_ =
        std::make_unique<close_request>(close_request{static_cast<std::uint16_t>(code), reason});
    counts.cut_off = reason;
}

void outbox::request_close(std::uint16_t code, std::string reason) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (close_) {
            return;
        }
        close_ = std::make_unique<close_request>(close_request{code, std::move(reason)});
        wake = !wake_pending_;
        wake_pending_ = true;
    }
    if (wake) {
        wake_();
    }
}

void outbox::shut() {
    std::lock_guard lock(mutex_);
    shut_ = true;
}

void outbox::take(batch& out, std::size_t max_frames, std::size_t max_bytes) {
    out.frames.clear();
    out.missed = 0;
    std::lock_guard lock(mutex_);
    std::size_t taken = 0;
    while (!frames_.empty() && out.frames.size() < max_frames && taken < max_bytes) {
        taken += frames_.front()->size();
        out.frames.push_back(frames_.pop_front());
    }
    bytes_ -= taken;
    out.missed = missed_;
    missed_ = 0;
    if (close_) {
        out.close = *close_;
    } else {
        out.close.reset();
    }
    if (frames_.empty()) {
        wake_pending_ = false;
    }
}

std::size_t outbox::queued_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

} // namespace switchboard::detail
