// Loaders for the MovieLens-100k files (u.data, u.item, u.user) and the "user item" sequence
// format. Ids become 0-based (file id - 1). Deliberately left out: ML-1M's "::" files.
//
// Behaviour: every line must be well formed; a bad line throws DataError naming the file, the
// line and what was wrong, unless skip_bad_lines is set, in which case we count and report it
// (LoadReport) and print one summary line to stderr. Lines may end in CRLF and the last line
// may lack its newline. u.item is Latin-1; we convert titles to UTF-8.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/text_reader.h"

namespace minirec {
namespace datasets {

struct LoadOptions {
    bool skip_bad_lines = false;   // count and report bad lines instead of stopping at the first
};

// One rating or interaction. `value` is the rating (or 1 for implicit feedback).
struct Rating {
    int32_t user = 0, item = 0;    // 0-based
    float value = 0.0f;
    int64_t time = 0;              // Unix seconds
};

struct Ratings {
    std::vector<Rating> rows;      // in file order
    int num_users = 0;             // max user id + 1
    int num_items = 0;             // max item id + 1
    LoadReport report;
};

// u.data: "user \t item \t rating \t timestamp", ids >= 1, rating within [1, 5].
Ratings parse_ml_ratings(const std::string& text, const std::string& name, const LoadOptions& opts = {});
Ratings load_ml_ratings(const std::string& path, const LoadOptions& opts = {});

struct Movie {
    int32_t id = 0;                // 0-based
    std::string title;             // UTF-8 (converted from Latin-1); titles repeat, ids do not
    std::string release_date;      // may be empty
    std::string url;               // may be empty
    std::array<uint8_t, 19> genres{};  // flags in u.genre order (unknown, Action, ..., Western)
};
// u.item: 24 '|'-separated fields; ids must be 1..n in order without gaps.
std::vector<Movie> parse_ml_items(const std::string& text, const std::string& name);
std::vector<Movie> load_ml_items(const std::string& path);

struct User {
    int32_t id = 0;                // 0-based
    int age = 0;
    char gender = '?';             // 'M' or 'F'
    std::string occupation;
    std::string zip;               // not always numeric (Canadian codes)
};
// u.user: 5 '|'-separated fields; ids must be 1..n in order without gaps.
std::vector<User> parse_ml_users(const std::string& text, const std::string& name);
std::vector<User> load_ml_users(const std::string& path);

// The three files of a folder, cross-checked: every rating's user and item must exist.
struct MovieLens100k {
    Ratings ratings;
    std::vector<Movie> movies;
    std::vector<User> users;
};
MovieLens100k load_movielens_100k(const std::string& dir, const LoadOptions& opts = {});

// "user item" per line (space or tab separated, ids >= 1), in time order within a user, as in
// the SASRec / BERT4Rec files. Returns each user's item sequence (0-based ids); users with no
// lines have empty sequences.
struct Sequences {
    std::vector<Ids> items;        // items[user] = that user's items in file order
    int num_items = 0;
    LoadReport report;
};
Sequences parse_user_item_sequences(const std::string& text, const std::string& name, const LoadOptions& opts = {});
Sequences load_user_item_sequences(const std::string& path, const LoadOptions& opts = {});

}  // namespace datasets
}  // namespace minirec
