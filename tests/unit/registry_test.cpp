// The registry's fan-out, in process: publishes that pile up before the shard's strand runs
// are fanned out together, and what a subscriber sees must not change because of that.
#include "outbox.hpp"

#include <switchboard/detail/ws_frame.hpp>
#include <switchboard/registry.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace sb = switchboard;
namespace ws = switchboard::detail::ws;
using sb::detail::outbox;

/// An outbox as a session makes one, counting its wakes instead of waking a writer.
struct subscriber {
    explicit subscriber(std::size_t max_bytes = std::size_t{1} << 20,
                        sb::overflow_policy policy = sb::overflow_policy::close_try_again_later)
        : box(std::make_shared<outbox>(max_bytes, policy, [this] { ++wakes; })) {}

    /// The payloads of the text frames queued so far, in order.
    std::vector<std::string> texts() {
        outbox::batch batch;
        box->take(batch, 100'000, std::size_t{1} << 30);
        missed += batch.missed;
        closed = closed || batch.close.has_value();
        std::vector<std::string> out;
        for (const auto& frame : batch.frames) {
            ws::frame_parser parser(ws::role::client, 1 << 20);
            ws::event ev;
            parser.parse(*frame, ev);
            out.push_back(ev.payload);
        }
        return out;
    }

    int wakes = 0;
    std::uint64_t missed = 0;
    bool closed = false;
    std::shared_ptr<outbox> box;
};

TEST(registry, a_burst_reaches_each_subscriber_once_in_order_with_one_wake) {
    boost::asio::io_context context(1);
    sb::registry channels(context);
    std::vector<std::unique_ptr<subscriber>> subs;
    std::vector<sb::registry::subscription> joined;
    for (int i = 0; i < 3; ++i) {
        subs.push_back(std::make_unique<subscriber>());
        joined.push_back(channels.join(subs.back()->box, "room"));
    }
    std::vector<std::string> sent;
    for (int n = 0; n < 100; ++n) {
        sent.push_back(std::to_string(n));
        channels.publish("room", sent.back());
    }
    context.run();
    for (auto& sub : subs) {
        EXPECT_EQ(sub->texts(), sent);
        EXPECT_EQ(sub->wakes, 1);
    }
    EXPECT_EQ(channels.stats().published, 100U);
    EXPECT_EQ(channels.stats().enqueued, 300U);
}

TEST(registry, publishes_to_keys_of_one_shard_keep_their_order_across_keys) {
    boost::asio::io_context context(1);
    sb::registry channels(context, {.shards = 1});
    subscriber both;
    subscriber only_b;
    auto a = channels.join(both.box, "a");
    auto b = channels.join(both.box, "b");
    auto b2 = channels.join(only_b.box, "b");
    for (const char* key : {"a", "a", "b", "a", "b", "b", "nobody", "a"}) {
        channels.publish(key, key);
    }
    context.run();
    EXPECT_EQ(both.texts(), (std::vector<std::string>{"a", "a", "b", "a", "b", "b", "a"}));
    EXPECT_EQ(only_b.texts(), (std::vector<std::string>{"b", "b", "b"}));

    // Publishes made while a fan-out runs go out after it, and close() after the publishes
    // made before it.
    channels.publish("a", "late");
    channels.close("a", 1000, "done");
    context.restart();
    context.run();
    EXPECT_EQ(both.texts(), std::vector<std::string>{"late"});
    EXPECT_TRUE(both.closed);
}

TEST(registry, a_burst_past_the_bound_counts_what_was_dropped_or_cut_off) {
    const std::size_t frame = ws::encode_frame(ws::opcode::text, "0123456789").size();
    boost::asio::io_context context(1);
    sb::registry channels(context);
    subscriber dropping(4 * frame, sb::overflow_policy::drop_oldest);
    subscriber cut(4 * frame, sb::overflow_policy::close_try_again_later);
    auto d = channels.join(dropping.box, "room");
    auto c = channels.join(cut.box, "room");
    for (int n = 0; n < 10; ++n) {
        channels.publish("room", "012345678" + std::to_string(n));
    }
    context.run();

    const auto kept = dropping.texts();
    EXPECT_EQ(kept,
              (std::vector<std::string>{"0123456786", "0123456787", "0123456788", "0123456789"}));
    EXPECT_EQ(dropping.missed, 6U);
    EXPECT_TRUE(cut.texts().empty());
    EXPECT_TRUE(cut.closed);

    const auto stats = channels.stats();
    EXPECT_EQ(stats.dropped, 6U);
    EXPECT_EQ(stats.cut_off, 1U);
    // The dropping subscriber queued all ten; the cut one its first four, then nothing.
    EXPECT_EQ(stats.enqueued, 14U);
}

TEST(registry, a_message_larger_than_the_whole_bound_is_dropped_or_cuts_off_saying_so) {
    const std::string big(100, 'x');
    const std::size_t bound = ws::encode_frame(ws::opcode::text, "small").size() * 2;
    boost::asio::io_context context(1);
    sb::registry channels(context);
    subscriber dropping(bound, sb::overflow_policy::drop_oldest);
    subscriber cut(bound, sb::overflow_policy::close_policy_violation);
    auto d = channels.join(dropping.box, "room");
    auto c = channels.join(cut.box, "room");
    channels.publish("room", "small");
    channels.publish("room", big);
    context.run();

    // No amount of dropping makes room for it: it goes alone, the queue stays, and it is
    // counted once, as dropped, not as queued.
    EXPECT_EQ(dropping.texts(), std::vector<std::string>{"small"});
    EXPECT_EQ(dropping.missed, 1U);
    EXPECT_TRUE(cut.texts().empty());
    outbox::batch batch;
    cut.box->take(batch, 10, 1 << 20);
    ASSERT_TRUE(batch.close.has_value());
    EXPECT_EQ(batch.close->code, 1008);
    EXPECT_EQ(batch.close->reason, "message larger than the outbound limit");
    EXPECT_EQ(channels.stats().dropped, 1U);
    EXPECT_EQ(channels.stats().cut_off, 1U);
    EXPECT_EQ(channels.stats().enqueued, 2U);
}

TEST(registry, room_to_spare_counts_nothing_as_dropped) {
    boost::asio::io_context context(1);
    sb::registry channels(context);
    subscriber sub(std::size_t{1} << 20, sb::overflow_policy::drop_oldest);
    auto joined = channels.join(sub.box, "room");
    for (int n = 0; n < 300; ++n) {
        channels.publish("room", std::string(1000, 'y'));
    }
    context.run();
    EXPECT_EQ(sub.texts().size(), 300U);
    EXPECT_EQ(sub.missed, 0U);
    EXPECT_EQ(channels.stats().dropped, 0U);
}

} // namespace
