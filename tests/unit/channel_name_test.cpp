// valid_channel_name: the one pattern for channel names a client chooses (case-24).
#include <switchboard/registry.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using switchboard::valid_channel_name;

TEST(valid_channel_name, accepts_segments_of_the_allowed_characters) {
    for (const char* name : {"a", "job/7", "prices/EUR-USD", "room.lobby", "a~b_c-d", "...", "a..b",
                             ".hidden", "v1/x/y/z"}) {
        EXPECT_TRUE(valid_channel_name(name)) << name;
    }
    EXPECT_TRUE(valid_channel_name(std::string(switchboard::max_channel_name, 'x')));
}

TEST(valid_channel_name, refuses_relative_steps_and_empty_segments) {
    for (const char* name :
         {"..", ".", "../admin", "a/../b", "a/./b", "a/..", "./a", "/a", "a/", "a//b", "/", ""}) {
        EXPECT_FALSE(valid_channel_name(name)) << name;
    }
}

TEST(valid_channel_name, refuses_encodings_separators_controls_and_non_ascii) {
    for (const char* name : {"%2e%2e", "a%2fb", "..\\admin", "a b", "a\tb", "a\nb", "a\x7f", "a:b",
                             "a?b", "a#b", "caf\xc3\xa9", "a\xff"}) {
        EXPECT_FALSE(valid_channel_name(name)) << name;
    }
    EXPECT_FALSE(valid_channel_name(std::string("a\0b", 3)));
}

TEST(valid_channel_name, refuses_a_name_one_byte_over_the_limit) {
    EXPECT_FALSE(valid_channel_name(std::string(switchboard::max_channel_name + 1, 'x')));
    EXPECT_FALSE(valid_channel_name(std::string(10000, 'x')));
}

TEST(valid_channel_name, the_rule_fits_the_reason_of_a_close_frame) {
    EXPECT_LE(switchboard::channel_name_rule.size(), 123U);
}

} // namespace
