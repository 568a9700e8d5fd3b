// The reconnect schedule (case-37) and the small value types of the client API.
#include <switchboard/client.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

namespace {

namespace sb = switchboard;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

sb::backoff_options schedule(ms initial, double factor, ms max, ms stable_after = 30'000ms) {
    sb::backoff_options o;
    o.initial = initial;
    o.factor = factor;
    o.max = max;
    o.stable_after = stable_after;
    return o;
}

TEST(client_backoff, first_delay_is_one_to_three_times_the_initial_delay) {
    for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
        sb::backoff b({}, seed);
        const auto d = b.next_delay();
        EXPECT_GE(d, 1000ms);
        EXPECT_LE(d, 3000ms);
    }
}

TEST(client_backoff, delays_grow_exponentially_up_to_the_cap_and_never_below_half) {
    sb::backoff b(schedule(1000ms, 2.0, 30'000ms), 42);
    b.next_delay();
    for (unsigned n = 1; n < 40; ++n) {
        const auto ceiling = std::min(30'000.0, 3000.0 * std::pow(2.0, n));
        const auto d = static_cast<double>(b.next_delay().count());
        EXPECT_GE(d, ceiling / 2 - 1) << "attempt " << n;
        EXPECT_LE(d, ceiling) << "attempt " << n;
    }
    EXPECT_EQ(b.failures(), 40U);
}

TEST(client_backoff, a_stable_connection_starts_over_and_a_short_one_does_not) {
    sb::backoff b(schedule(100ms, 2.0, 10'000ms, 5'000ms), 7);
    for (int i = 0; i < 6; ++i) {
        b.next_delay();
    }
    b.connected_for(1'000ms);
    EXPECT_EQ(b.failures(), 6U);
    EXPECT_GE(b.next_delay(), 5'000ms);

    b.connected_for(5'000ms);
    EXPECT_EQ(b.failures(), 0U);
    EXPECT_LE(b.next_delay(), 300ms);
}

TEST(client_backoff, try_again_later_waits_longer_than_an_ordinary_drop) {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        sb::backoff later({}, seed);
        const auto d = later.next_delay(1013);
        EXPECT_GE(d, 5'000ms);
        EXPECT_EQ(later.failures(), 2U);
    }
}

TEST(client_backoff, delays_stay_within_the_cap_after_very_many_failures) {
    sb::backoff b(schedule(1000ms, 10.0, 30'000ms), 3);
    for (int i = 0; i < 10'000; ++i) {
        ASSERT_LE(b.next_delay(i % 2 ? 1013 : 1006), 30'000ms);
    }
}

TEST(client_backoff, a_zero_seed_draws_a_different_schedule_per_client) {
    std::vector<ms> firsts;
    for (int i = 0; i < 50; ++i) {
        firsts.push_back(sb::backoff().next_delay());
    }
    std::sort(firsts.begin(), firsts.end());
    EXPECT_GT(std::unique(firsts.begin(), firsts.end()) - firsts.begin(), 40);
}

// case-37: 500 clients lose the same server at the same moment. Their attempts, replayed on
// the schedule each one follows while the server stays away, must be spread out: no 100 ms
// window may hold more than 20 % of the clients' attempts at any round.
TEST(client_backoff, five_hundred_clients_do_not_stampede_a_restarting_server) {
    constexpr int clients = 500;
    constexpr int rounds = 8;
    std::vector<sb::backoff> schedules;
    std::vector<ms> at(clients, 0ms);
    for (int i = 0; i < clients; ++i) {
        schedules.emplace_back(sb::backoff_options{}, 0);
    }

    for (int round = 0; round < rounds; ++round) {
        std::map<long, int> buckets;
        for (int i = 0; i < clients; ++i) {
            at[i] += schedules[i].next_delay(round == 0 ? 1012 : 1006);
            ++buckets[at[i].count() / 100];
        }
        const auto busiest = std::max_element(buckets.begin(), buckets.end(), [](auto a, auto b) {
                                 return a.second < b.second;
                             })->second;
        EXPECT_LE(busiest, clients / 5) << "round " << round;
    }

    // Everyone has come back within the cap plus its jitter.
    for (int i = 0; i < clients; ++i) {
        sb::backoff fresh({}, static_cast<std::uint64_t>(i + 1));
        EXPECT_LE(fresh.next_delay(), 30'000ms);
    }
}

TEST(client_result, holds_a_value_or_the_error_it_would_have_thrown) {
    sb::client_result<int> good(7);
    ASSERT_TRUE(good);
    EXPECT_EQ(*good, 7);

    sb::client_result<int> bad(sb::client_error(sb::client_errc::http_status, "GET /x: HTTP 404",
                                                404, {"no x"}, R"({"errors":["no x"]})"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().status(), 404);
    EXPECT_EQ(bad.error().errors(), (std::vector<std::string>{"no x"}));
    EXPECT_THROW(bad.value(), sb::client_error);
}

TEST(client_error, keeps_the_code_apart_from_what_the_peer_said) {
    sb::client_error e(sb::client_errc::http_status, "GET /x: HTTP 500: boom", 500, {"boom"},
                       "body text");
    EXPECT_EQ(e.code(), sb::client_errc::http_status);
    EXPECT_EQ(e.code().message(), "error status from the server");
    EXPECT_STREQ(e.what(), "GET /x: HTTP 500: boom");
    EXPECT_EQ(e.body(), "body text");

    const sb::client_error copy = e;
    EXPECT_STREQ(copy.what(), e.what());
    EXPECT_EQ(&copy.body(), &e.body()) << "copies share their text";
}

TEST(client_error, every_code_has_a_short_fixed_message) {
    for (int v = 1; v <= static_cast<int>(sb::client_errc::bad_tls_options); ++v) {
        const auto text = sb::make_error_code(static_cast<sb::client_errc>(v)).message();
        EXPECT_FALSE(text.empty());
        EXPECT_NE(text, "unknown client error") << v;
        EXPECT_LT(text.size(), 60U);
    }
    EXPECT_STREQ(sb::client_category().name(), "switchboard.client");
}

} // namespace
