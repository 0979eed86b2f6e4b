// (The sequential fixture, with sessions and forward walks, is tests/movielens_fixture.h.)
// A small MovieLens-100k folder (u.data, u.item, u.user) that a test writes itself under /tmp, so that
// the chapters' --data paths are tested without ../shared. User u prefers genre u % 5 (70% of her
// ratings), item i has genre i % 5 (and Drama when i % 7 == 0); ratings 1..5, times increasing
// per user. corrupt() replaces one line of one file (for the bad-input tests). Removed at scope end.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "tutorials/common/next_item_report.h"

namespace minirec {

struct MovieLensGenreFixture {
    std::string dir;
    MovieLensGenreFixture(const std::string& name, int users = 40, int items = 150, int per_user = 12, uint64_t seed = 1)
        : dir("/tmp/minirec_fixture_" + name + "_" + std::to_string(getpid())) {
        mkdir(dir.c_str(), 0755);
        Rng rng(seed);
        std::ostringstream data, item, user;
        const char* occupations[] = {"student", "engineer", "writer", "other"};
        for (int u = 0; u < users; ++u) {
            user << u + 1 << '|' << 18 + (u * 7) % 50 << '|' << (u % 2 ? 'F' : 'M') << '|' << occupations[u % 4] << '|' << 10000 + u << '\n';
            std::set<int> rated;
            while (int(rated.size()) < per_user) {
                const int i = rng.uniform() < 0.7f ? (rng.randint(items / 5) * 5 + u % 5) % items : rng.randint(items);
                if (!rated.insert(i).second) continue;
                data << u + 1 << '\t' << i + 1 << '\t' << 1 + rng.randint(5) << '\t' << 880000000 + u * 1000 + int(rated.size()) * 3600 << '\n';
            }
        }
        for (int i = 0; i < items; ++i) {
            item << i + 1 << "|Movie " << i + 1 << " (1995)|01-Jan-1995||";
            for (int g = 0; g < 19; ++g) item << '|' << (g == 1 + i % 5 || (g == 8 && i % 7 == 0) ? 1 : 0);
            item << '\n';
        }
        write("u.data", data.str()), write("u.item", item.str()), write("u.user", user.str());
    }
    ~MovieLensGenreFixture() {
        for (const char* f : {"u.data", "u.item", "u.user"}) std::remove((dir + "/" + f).c_str());
        rmdir(dir.c_str());
    }
    void write(const std::string& file, const std::string& text) const { std::ofstream(dir + "/" + file, std::ios::binary) << text; }
    // Line `line` (1-based) of `file` becomes `text`.
    void corrupt(const std::string& file, int line, const std::string& text) const {
        std::ifstream in(dir + "/" + file);
        std::string out, l;
        for (int n = 1; std::getline(in, l); ++n) out += (n == line ? text : l) + "\n";
        write(file, out);
    }
};

// What --data says of the folder `dir` while the flags are checked: the FlagError's text ("" when
// the folder loads), and in *used whether the chapter's loader callback ran.
inline std::string data_flag_error(const std::string& dir, bool* used) {
    Flags flags("test", "test");
    std::string path;
    *used = false;
    add_movielens_flag(flags, &path, [used](const datasets::MovieLens100k&) { *used = true; });
    try {
        flags.parse({"--data", dir});
    } catch (const FlagError& e) {
        return e.what();
    }
    return "";
}

}  // namespace minirec
