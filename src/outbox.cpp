#include "outbox.hpp"

namespace switchboard::detail {

outbox::outbox(std::size_t max_bytes, overflow_policy policy, std::function<void()> wake)
    : max_bytes_(max_bytes)
    , policy_(policy)
    , wake_(std::move(wake)) {
}

outbox::push_counts outbox::push_all(std::span<const shared_frame> frames) {
    push_counts counts;
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        bool pushed = false;
        for (const auto& frame : frames) {
            if (!push_locked(frame, counts)) {
                break;
            }
            pushed = true;
        }
        // A cut-off counts too: the writer has a close to send.
        wake = (pushed || counts.cut_off != nullptr) && !wake_pending_;
        wake_pending_ = wake_pending_ || wake;
    }
    if (wake) {
        wake_();
    }
    return counts;
}

bool outbox::push_locked(const shared_frame& frame, push_counts& counts) {
    if (shut_) {
        return false;
    }
    const auto size = frame->size();
    if (bytes_ + size <= max_bytes_) {
        bytes_ += size;
        frames_.push_back(frame);
        ++counts.queued;
        return true;
    }
    if (policy_ != overflow_policy::drop_oldest) {
        cut_off(size > max_bytes_ ? "message larger than the outbound limit"
                                  : "subscriber too slow",
                counts);
        return false;
    }
    if (size > max_bytes_) {
        // No amount of dropping makes room: this one goes, the queue stays.
        ++missed_;
        ++counts.dropped;
        return true;
    }
    while (bytes_ + size > max_bytes_) {
        bytes_ -= frames_.pop_front()->size();
        ++missed_;
        ++counts.dropped;
    }
    bytes_ += size;
    frames_.push_back(frame);
    ++counts.queued;
    return true;
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
