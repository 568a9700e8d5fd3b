#include <switchboard/registry.hpp>

#include "outbox.hpp"

#include <switchboard/detail/ws_frame.hpp>
#include <switchboard/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace switchboard {

namespace detail {

namespace asio = boost::asio;

/// Publishes waiting for their shard's strand, in the order they were made:
/// frames[i] goes to keys[i]. Kept apart so that a run of publishes to one
/// key is a span of the frames as they are.
struct publish_queue {
    std::vector<std::string> keys;
    std::vector<shared_frame> frames;

    void swap(publish_queue& other) noexcept {
        keys.swap(other.keys);
        frames.swap(other.frames);
    }
    void clear() noexcept {
        keys.clear();
        frames.clear();
    }
};

/// One slice of the keys. The strand orders the fan-outs of its keys; the
/// mutex lets joins, leaves and counts from any thread see a consistent
/// map without waiting for the strand.
struct registry_shard {
    explicit registry_shard(asio::io_context& context)
        : strand(asio::make_strand(context)) {}

    asio::strand<asio::io_context::executor_type> strand;
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::shared_ptr<outbox>>> keys;

    /// Publishes not yet fanned out; one drain is posted for all of them.
    std::mutex pending_mutex;
    publish_queue pending;
    bool drain_posted = false;
    /// The drain's working copy, kept for its capacity (strand only).
    publish_queue draining;
};

struct registry_core : std::enable_shared_from_this<registry_core> {
    registry_core(asio::io_context& context, std::size_t shard_count) {
        shards.reserve(std::max<std::size_t>(1, shard_count));
        for (std::size_t i = 0; i < std::max<std::size_t>(1, shard_count); ++i) {
            shards.push_back(std::make_unique<registry_shard>(context));
        }
    }

    registry_shard& shard_for(std::string_view key) {
        return *shards[std::hash<std::string_view>{}(key) % shards.size()];
    }

    /// Gives every subscriber of `key` the frames, in order. A run of
    /// frames to one key goes to each subscriber's queue in one push: under
    /// a burst, that touches each of 5000 queues once instead of once per
    /// message.
    void fan_out(registry_shard& shard, const std::string& key,
                 std::span<const shared_frame> frames) {
        std::lock_guard lock(shard.mutex);
        auto it = shard.keys.find(key);
        if (it == shard.keys.end()) {
            return;
        }
        std::uint64_t queued = 0;
        for (const auto& box : it->second) {
            const auto counts = box->push_all(frames);
            queued += counts.queued;
            if (counts.dropped > 0) {
                dropped.fetch_add(counts.dropped, std::memory_order_relaxed);
            }
            if (counts.cut_off != nullptr) {
                cut_off.fetch_add(1, std::memory_order_relaxed);
                log(log_level::warn, "subscriber_cut_off key=\"{}\" reason=\"{}\"", key,
                    counts.cut_off);
            }
        }
        enqueued.fetch_add(queued, std::memory_order_relaxed);
    }

    /// Fans out what was published since the last drain, in publish order:
    /// each run of consecutive publishes to one key in one fan_out.
    void drain(registry_shard& shard) {
        auto& batch = shard.draining;
        {
            std::lock_guard lock(shard.pending_mutex);
            batch.swap(shard.pending);
            shard.drain_posted = false;
        }
        const std::span<const shared_frame> frames(batch.frames);
        for (std::size_t i = 0; i < batch.keys.size();) {
            auto end = i + 1;
            while (end < batch.keys.size() && batch.keys[end] == batch.keys[i]) {
                ++end;
            }
            fan_out(shard, batch.keys[i], frames.subspan(i, end - i));
            i = end;
        }
        batch.clear();
    }

    void publish(std::string_view key, shared_frame frame) {
        published.fetch_add(1, std::memory_order_relaxed);
        auto& shard = shard_for(key);
        bool post = false;
        {
            std::lock_guard lock(shard.pending_mutex);
            shard.pending.keys.emplace_back(key);
            shard.pending.frames.push_back(std::move(frame));
            post = !shard.drain_posted;
            shard.drain_posted = true;
        }
        if (post) {
            asio::post(shard.strand, [self = shared_from_this(), &shard] { self->drain(shard); });
        }
    }

    std::vector<std::unique_ptr<registry_shard>> shards;
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> enqueued{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> cut_off{0};
};

} // namespace detail

bool valid_channel_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_channel_name) {
        return false;
    }

    // Segment by segment: each is non-empty, of allowed characters, and not a relative step.
    auto allowed = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '~';
    };
    for (;;) {
        const auto slash = name.find('/');
        const auto segment = name.substr(0, slash);
        if (segment.empty() || segment == "." || segment == ".." ||
            !std::all_of(segment.begin(), segment.end(), allowed)) {
            return false;
        }
        if (slash == std::string_view::npos) {
            return true;
        }
        name.remove_prefix(slash + 1);
    }
}

registry::registry(boost::asio::io_context& context, registry_options options)
    : core_(std::make_shared<detail::registry_core>(context, options.shards)) {
}

registry::~registry() = default;

void registry::publish(std::string_view key, std::string_view text) {
    if (!detail::ws::valid_utf8(text)) {
        throw std::invalid_argument("text message is not valid UTF-8");
    }
    core_->publish(key, std::make_shared<const std::string>(
                            detail::ws::encode_frame(detail::ws::opcode::text, text)));
}

void registry::publish_binary(std::string_view key, std::string_view data) {
    core_->publish(key, std::make_shared<const std::string>(
                            detail::ws::encode_frame(detail::ws::opcode::binary, data)));
}

void registry::close(std::string_view key, std::uint16_t code, std::string_view reason) {
    auto& shard = core_->shard_for(key);
    boost::asio::post(shard.strand,
                      [core = core_, &shard, k = std::string(key), code, r = std::string(reason)] {
                          std::lock_guard lock(shard.mutex);
                          auto it = shard.keys.find(k);
                          if (it == shard.keys.end()) {
                              return;
                          }
                          for (const auto& box : it->second) {
                              box->request_close(code, r);
                          }
                      });
}

std::size_t registry::subscriber_count(std::string_view key) const {
    auto& shard = core_->shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.keys.find(std::string(key));
    return it == shard.keys.end() ? 0 : it->second.size();
}

std::size_t registry::key_count() const {
    std::size_t count = 0;
    for (const auto& shard : core_->shards) {
        std::lock_guard lock(shard->mutex);
        count += shard->keys.size();
    }
    return count;
}

registry_stats registry::stats() const {
    registry_stats s;
    s.published = core_->published.load(std::memory_order_relaxed);
    s.enqueued = core_->enqueued.load(std::memory_order_relaxed);
    s.dropped = core_->dropped.load(std::memory_order_relaxed);
    s.cut_off = core_->cut_off.load(std::memory_order_relaxed);
    return s;
}

registry::subscription registry::join(std::shared_ptr<detail::outbox> box, std::string key) {
    auto& shard = core_->shard_for(key);
    {
        std::lock_guard lock(shard.mutex);
        shard.keys[key].push_back(box);
    }
    subscription handle;
    handle.core_ = core_;
    handle.box_ = std::move(box);
    handle.key_ = std::move(key);
    return handle;
}

registry::subscription::subscription(subscription&&) noexcept = default;

bool registry::subscription::is_for(const registry& channels, std::string_view key) const noexcept {
    // Compares owners, without locking the weak pointer.
    const bool same_registry =
        !core_.owner_before(channels.core_) && !channels.core_.owner_before(core_);
    return same_registry && key_ == key;
}

registry::subscription& registry::subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        subscription gone(std::move(*this));
        core_ = std::move(other.core_);
        box_ = std::move(other.box_);
        key_ = std::move(other.key_);
    }
    return *this;
}

registry::subscription::~subscription() {
    auto core = core_.lock();
    if (!core || !box_) {
        return;
    }
    auto& shard = core->shard_for(key_);
    std::lock_guard lock(shard.mutex);
    auto it = shard.keys.find(key_);
    if (it == shard.keys.end()) {
        return;
    }
    auto& boxes = it->second;
    auto found = std::find(boxes.begin(), boxes.end(), box_);
    if (found != boxes.end()) {
        *found = std::move(boxes.back());
        boxes.pop_back();
    }
    if (boxes.empty()) {
        shard.keys.erase(it);
    }
}

} // namespace switchboard
