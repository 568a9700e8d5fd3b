// The one assertion the fuzz targets use. assert() would vanish from the RelWithDebInfo builds
// the fuzzers run in (NDEBUG); a failed check must abort in every build, so that libFuzzer
// keeps the input and the replay test fails.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace switchboard::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, condition);
    std::abort();
}

} // namespace switchboard::fuzz

// A macro rather than a function with std::source_location, which clang 14 cannot compile
// against libstdc++ 12.
#define SWITCHBOARD_FUZZ_CHECK(condition)                                                          \
    ((condition) ? void() : ::switchboard::fuzz::check_failed(#condition, __FILE__, __LINE__))
