// libFuzzer target for the Criteo parser and encoder: parse, fit, encode; only DataError may
// escape. Build and run (from the project root):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_criteo.cpp \
//     datasets/text_reader.cpp datasets/movielens.cpp datasets/criteo.cpp core/*.cpp -o /tmp/fuzz_criteo
#include <cstdint>
#include <string>

#include "datasets/criteo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        auto raw = minirec::datasets::parse_criteo(text, "fuzz", {.skip_bad_lines = size % 2 == 1});
        auto enc = minirec::datasets::fit_criteo_encoder(raw, 1 + static_cast<int>(size % 3));
        minirec::datasets::encode_criteo(raw, enc);
    } catch (const minirec::datasets::DataError&) {
    }
    return 0;
}
