// libFuzzer target for the MovieLens and sequence parsers: any input must either parse or throw
// DataError, never crash, hang or trip a sanitizer. Build and run (from the project root):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_movielens.cpp \
//     datasets/text_reader.cpp datasets/movielens.cpp core/error.cpp -o /tmp/fuzz_ml && /tmp/fuzz_ml -max_total_time=60
#include <cstdint>
#include <string>

#include "datasets/movielens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        // The first byte picks the parser, so one corpus exercises all four.
        switch (data[0] % 4) {
            case 0: minirec::datasets::parse_ml_ratings(text, "fuzz", {.skip_bad_lines = (data[0] & 4) != 0}); break;
            case 1: minirec::datasets::parse_ml_items(text, "fuzz"); break;
            case 2: minirec::datasets::parse_ml_users(text, "fuzz"); break;
            default: minirec::datasets::parse_user_item_sequences(text, "fuzz"); break;
        }
    } catch (const minirec::datasets::DataError&) {
    }
    return 0;
}
