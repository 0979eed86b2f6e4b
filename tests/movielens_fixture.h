// A small MovieLens-100k-format folder written by a test into its own temp dir (never ../shared):
// u.user, u.item and u.data with a few hundred ratings. Each user rates 8-19 distinct items, mostly
// walking forward through the catalogue (item + 1..3), one rating a minute, with a two-day pause
// every 3-6 ratings (sessions for a time-gap cut). corrupt() damages one line of one file, so a
// test can check that the loader names the file and the line. The folder is removed at the end.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"

namespace minirec {
namespace testing {

struct MovieLensFixture {
    std::string dir;
    int users = 0, items = 0, ratings = 0;

    explicit MovieLensFixture(int num_users = 40, int num_items = 150, uint64_t seed = 1) : users(num_users), items(num_items) {
        char tmpl[] = "/tmp/minirec_ml_fixture_XXXXXX";
        dir = mkdtemp(tmpl);
        std::ostringstream user, item, data;
        const char* occupations[] = {"student", "engineer", "writer", "other"};
        for (int u = 1; u <= users; ++u)
            user << u << "|" << 18 + u % 40 << "|" << (u % 3 ? 'M' : 'F') << "|" << occupations[u % 4] << "|" << 10000 + u << "\n";
        for (int i = 1; i <= items; ++i) {
            item << i << "|Movie " << i << " (1995)|01-Jan-1995||http://example.org/" << i;
            for (int g = 0; g < 19; ++g) item << "|" << (g == i % 19 ? 1 : 0);
            item << "\n";
        }
        Rng rng(seed);
        for (int u = 1; u <= users; ++u) {
            const int n = 8 + rng.randint(12);
            std::vector<char> seen(size_t(items) + 1, 0);
            int it = 1 + rng.randint(items), until_pause = 3 + rng.randint(4);
            long t = 880000000L + 5000L * u;
            for (int k = 0; k < n; ++k) {
                while (seen[size_t(it)]) it = it % items + 1;
                seen[size_t(it)] = 1;
                data << u << "\t" << it << "\t" << 1 + rng.randint(5) << "\t" << t << "\n";
                ++ratings;
                it = (it + rng.randint(3)) % items + 1;
                t += --until_pause > 0 ? 60 : 2 * 86400;
                if (until_pause <= 0) until_pause = 3 + rng.randint(4);
            }
        }
        write("u.user", user.str());
        write("u.item", item.str());
        write("u.data", data.str());
    }
    ~MovieLensFixture() {
        for (const char* f : {"u.user", "u.item", "u.data"}) std::remove((dir + "/" + f).c_str());
        std::remove(dir.c_str());
    }
    MovieLensFixture(const MovieLensFixture&) = delete;
    MovieLensFixture& operator=(const MovieLensFixture&) = delete;

    void write(const std::string& file, const std::string& text) const { std::ofstream(dir + "/" + file, std::ios::binary) << text; }

    // Replaces line `line` (1-based) of `file` with `text`.
    void corrupt(const std::string& file, int line, const std::string& text) const {
        std::ifstream in(dir + "/" + file, std::ios::binary);
        std::ostringstream out;
        std::string l;
        for (int n = 1; std::getline(in, l); ++n) out << (n == line ? text : l) << "\n";
        in.close();
        write(file, out.str());
    }
};

}  // namespace testing
}  // namespace minirec
