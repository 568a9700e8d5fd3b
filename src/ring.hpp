// A FIFO queue that allocates nothing until its first push, for the queues
// every connection carries and an idle one never uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace switchboard::detail {

/// A ring rather than a std::deque, which allocates a map and a 512-byte
/// block as soon as it is made. A drained ring longer than `kept_slots` is
/// freed, so a queue that once held a long backlog does not keep its
/// memory; shorter rings are kept, so a steady stream does not allocate on
/// every batch.
template <class T>
class ring {
public:
    static constexpr std::size_t kept_slots = 64;

    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    T& front() noexcept { return slots_[head_]; }
    const T& front() const noexcept { return slots_[head_]; }

    void push_back(T value) {
        if (count_ == slots_.size()) {
            std::vector<T> grown(std::max<std::size_t>(8, slots_.size() * 2));
            for (std::size_t i = 0; i < count_; ++i) {
                grown[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
            }
            slots_ = std::move(grown);
            head_ = 0;
        }
        slots_[(head_ + count_) & (slots_.size() - 1)] = std::move(value);
        ++count_;
    }

    T pop_front() noexcept {
        T value = std::move(slots_[head_]);
        slots_[head_] = T();
        head_ = (head_ + 1) & (slots_.size() - 1);
        if (--count_ == 0) {
            head_ = 0;
            if (slots_.size() > kept_slots) {
                slots_ = {};
            }
        }
        return value;
    }

    void clear() noexcept {
        for (auto& slot : slots_) {
            slot = T();
        }
        head_ = 0;
        count_ = 0;
        if (slots_.size() > kept_slots) {
            slots_ = {};
        }
    }

private:
    std::vector<T> slots_; // a power of two long, or empty
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

} // namespace switchboard::detail
