// Small click logs in the real formats, written by the tests themselves (tests never read
// ../shared/datasets): Criteo as TSV or CSV, and the three Ali-CCP CSV files. The label depends on
// C1 (and, for Ali-CCP, on field 205), so a model has something to learn. Also: a copy of a file
// with one line replaced, to check that errors name the file and the line.
#pragma once
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace minirec {
namespace fixtures {

inline uint64_t lcg(uint64_t& s) { return (s = s * 6364136223846793005ull + 1442695040888963407ull) >> 33; }

// `rows` Criteo rows; csv: with the label,I1..C26 header, else tab-separated without one.
inline std::string criteo_text(int rows, bool csv, uint64_t seed = 7) {
    const char sep = csv ? ',' : '\t';
    std::ostringstream out;
    if (csv) {
        out << "label";
        for (int i = 1; i <= 13; ++i) out << ",I" << i;
        for (int c = 1; c <= 26; ++c) out << ",C" << c;
        out << "\n";
    }
    for (int r = 0; r < rows; ++r) {
        const int c1 = int(lcg(seed) % 6);
        const bool click = lcg(seed) % 100 < (c1 < 2 ? 75u : 15u);
        out << (click ? "1" : "0");
        for (int i = 0; i < 13; ++i) {
            const uint64_t v = lcg(seed) % 50;
            out << sep;
            if (v > 5) out << (v == 49 ? "-1" : std::to_string(v * (i + 1)) + (csv && i == 2 ? ".0" : ""));
        }
        for (int c = 0; c < 26; ++c) {
            out << sep;
            if (c == 0) out << "c1v" << c1;
            else if (lcg(seed) % 10) out << std::hex << (lcg(seed) % 40) * 2654435761u % 0xffffffffu << std::dec;
        }
        out << "\n";
    }
    return out.str();
}

// Ali-CCP: the real header's kind of columns (ids, 205 = item, D dense), `rows` impressions.
inline std::string ali_ccp_text(int rows, uint64_t seed) {
    std::ostringstream out;
    out << "click,purchase,101,124,205,206,301,D508,D702";
    for (int r = 0; r < rows; ++r) {
        const int item = int(lcg(seed) % 8);
        const bool click = lcg(seed) % 100 < (item < 3 ? 60u : 10u);
        const bool buy = click && lcg(seed) % 100 < (item == 0 ? 70u : 20u);
        out << "\n" << click << "," << buy << "," << lcg(seed) % 30 << "," << lcg(seed) % 2 << "," << item << ","
            << item % 3 << "," << lcg(seed) % 4 << "," << double(lcg(seed) % 1000) / 1000 << "," << 0.0;
    }
    return out.str();   // like the real files: no newline after the last row
}

inline void write_file(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// A fresh directory under /tmp for one test.
inline std::string temp_dir(const std::string& name) {
    const std::string dir = "/tmp/minirec_test_" + name;
    mkdir(dir.c_str(), 0755);
    return dir;
}

// The directory `dir` with the three Ali-CCP files, train_rows + 2 x test_rows impressions.
inline std::string write_ali_ccp(const std::string& dir, int train_rows, int test_rows) {
    write_file(dir + "/ali_ccp_train_sample.csv", ali_ccp_text(train_rows, 1));
    write_file(dir + "/ali_ccp_val_sample.csv", ali_ccp_text(test_rows, 2));
    write_file(dir + "/ali_ccp_test_sample.csv", ali_ccp_text(test_rows, 3));
    return dir;
}

// `text` with line `line` (1-based) replaced by `with`.
inline std::string replace_line(const std::string& text, int line, const std::string& with) {
    std::istringstream in(text);
    std::string out, l;
    for (int i = 1; std::getline(in, l); ++i) out += (i == line ? with : l) + "\n";
    return out;
}

}  // namespace fixtures
}  // namespace minirec
