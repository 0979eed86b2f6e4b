// libFuzzer target for the streaming CTR readers (datasets/ctr_logs.h): the first byte picks the
// Criteo or the Ali-CCP reader and a few options, the rest is the file; only DataError may escape.
// Built and run by `make fuzz` (corpus: tests/fuzz/corpus_ctr_logs).
#include <cstdint>
#include <sstream>
#include <string>

#include "datasets/ctr_logs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
    try {
        if (data[0] % 2 == 0) {
            minirec::datasets::CtrLogOptions o;
            o.max_rows = data[0] % 7, o.buckets = 8 + data[0] % 50;
            minirec::datasets::to_ctr_data(minirec::datasets::read_criteo_hashed(in, "fuzz", o));
        } else {
            minirec::datasets::AliCcpOptions o;
            o.slots = 1 + data[0] % 9, o.items = 2 + data[0] % 11;
            minirec::datasets::AliCcp d;
            minirec::datasets::read_ali_ccp(in, "fuzz", o, d);
        }
    } catch (const minirec::datasets::DataError&) {
    }
    return 0;
}
