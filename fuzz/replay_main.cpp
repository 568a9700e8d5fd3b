// A main() for a fuzz target without libFuzzer: runs LLVMFuzzerTestOneInput once over each
// file named on the command line, and over every regular file below each directory named, so
// a crash a fuzzer found can be reproduced under any compiler and a debugger, and so that every
// corpus replays as an ordinary test.
//
//     switchboard-replay-<name> [file-or-directory...]
//
// Each file's name is printed before it runs: when an input crashes the program, the last
// line says which one it was.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool collect(const fs::path& path, std::vector<fs::path>& files) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
            if (entry.is_regular_file()) {
                files.push_back(entry.path());
            }
        }
    } else if (fs::is_regular_file(path, ec)) {
        files.push_back(path);
    } else {
        std::fprintf(stderr, "replay: no such file or directory: %s\n", path.c_str());
        return false;
    }
    if (ec) {
        std::fprintf(stderr, "replay: cannot read %s: %s\n", path.c_str(), ec.message().c_str());
        return false;
    }
    return true;
}

bool replay(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot open %s\n", file.c_str());
        return false;
    }
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
    std::printf("replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    std::fflush(stdout);

    // A copy of exactly the file's size, so that ASan sees a read past the end of the input.
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    auto* data = input.empty() ? nullptr : input.data();
    LLVMFuzzerTestOneInput(data, input.size());
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<fs::path> files;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        ok = collect(argv[i], files) && ok;
    }
    // Directory order depends on the file system; a sorted run reads the same everywhere.
    std::sort(files.begin(), files.end());

    for (const auto& file : files) {
        ok = replay(file) && ok;
    }
    std::printf("replay: %zu inputs run\n", files.size());
    if (files.empty()) {
        std::fprintf(stderr, "replay: nothing to run\n");
        return 1;
    }
    return ok ? 0 : 1;
}
