// MovieLens-100k and "user item" sequence loaders with file:line errors and skip counting.
// Deliberately left out: ML-1M/20M formats and genre names (u.genre's order is in the header).
#include "datasets/movielens.h"

#include <iostream>

namespace minirec {
namespace datasets {

namespace {

// Runs `parse_line` on every non-empty line. A DataError on a line either propagates or, with
// skip_bad_lines, is counted in the report. Blank lines are counted as problems too: a blank
// line in the middle of u.data is a sign of a damaged file.
template <class F>
void for_each_line(const std::string& text, const std::string& name, const LoadOptions& opts,
                   LoadReport& report, F parse_line) {
    if (text.empty()) data_fail({name, 0}, "file is empty");
    std::vector<std::string> lines = split_lines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
        Where where{name, static_cast<long>(i + 1)};
        ++report.lines_read;
        try {
            if (lines[i].empty()) data_fail(where, "empty line");
            parse_line(lines[i], where);
            ++report.rows_kept;
        } catch (const DataError& e) {
            if (!opts.skip_bad_lines) throw;
            report.skip(where, e.what());
        }
    }
    if (report.lines_skipped > 0) std::cerr << name << ": " << report.summary() << "\n";
    if (report.rows_kept == 0) data_fail({name, 0}, "no usable rows");
}

std::vector<std::string> expect_fields(const std::string& line, char sep, size_t n, const Where& where,
                                       const char* sep_name) {
    std::vector<std::string> f = split_fields(line, sep);
    if (f.size() != n)
        data_fail(where, "expected " + std::to_string(n) + " " + sep_name + "-separated fields, got " +
                             std::to_string(f.size()));
    return f;
}

int32_t parse_id(const std::string& field, const Where& where, const char* what) {
    int64_t v = parse_int(field, where, what);
    if (v < 1 || v > 10000000) data_fail(where, std::string(what) + ": id " + field + " out of range (1..10000000)");
    return static_cast<int32_t>(v - 1);
}

}  // namespace

Ratings parse_ml_ratings(const std::string& text, const std::string& name, const LoadOptions& opts) {
    Ratings r;
    for_each_line(text, name, opts, r.report, [&](const std::string& line, const Where& where) {
        auto f = expect_fields(line, '\t', 4, where, "tab");
        Rating row;
        row.user = parse_id(f[0], where, "user");
        row.item = parse_id(f[1], where, "item");
        double v = parse_double(f[2], where, "rating");
        if (v < 1.0 || v > 5.0) data_fail(where, "rating: " + f[2] + " is outside 1..5");
        row.value = static_cast<float>(v);
        row.time = parse_int(f[3], where, "timestamp");
        r.rows.push_back(row);
        r.num_users = std::max(r.num_users, row.user + 1);
        r.num_items = std::max(r.num_items, row.item + 1);
    });
    return r;
}

Ratings load_ml_ratings(const std::string& path, const LoadOptions& opts) {
    return parse_ml_ratings(read_file(path), path, opts);
}

std::vector<Movie> parse_ml_items(const std::string& text, const std::string& name) {
    std::vector<Movie> movies;
    LoadReport report;
    for_each_line(text, name, {}, report, [&](const std::string& line, const Where& where) {
        auto f = expect_fields(line, '|', 24, where, "'|'");
        Movie m;
        m.id = parse_id(f[0], where, "movie id");
        if (m.id != static_cast<int32_t>(movies.size()))
            data_fail(where, "movie id " + f[0] + " out of order (expected " + std::to_string(movies.size() + 1) + ")");
        m.title = latin1_to_utf8(f[1]);
        m.release_date = f[2];
        m.url = latin1_to_utf8(f[4]);
        for (int g = 0; g < 19; ++g) {
            const std::string& flag = f[5 + g];
            if (flag != "0" && flag != "1") data_fail(where, "genre flag " + std::to_string(g) + ": expected 0 or 1, got '" + flag + "'");
            m.genres[g] = flag == "1";
        }
        movies.push_back(std::move(m));
    });
    return movies;
}

std::vector<Movie> load_ml_items(const std::string& path) { return parse_ml_items(read_file(path), path); }

std::vector<User> parse_ml_users(const std::string& text, const std::string& name) {
    std::vector<User> users;
    LoadReport report;
    for_each_line(text, name, {}, report, [&](const std::string& line, const Where& where) {
        auto f = expect_fields(line, '|', 5, where, "'|'");
        User u;
        u.id = parse_id(f[0], where, "user id");
        if (u.id != static_cast<int32_t>(users.size()))
            data_fail(where, "user id " + f[0] + " out of order (expected " + std::to_string(users.size() + 1) + ")");
        int64_t age = parse_int(f[1], where, "age");
        if (age < 0 || age > 150) data_fail(where, "age " + f[1] + " out of range");
        u.age = static_cast<int>(age);
        if (f[2] != "M" && f[2] != "F") data_fail(where, "gender: expected M or F, got '" + f[2] + "'");
        u.gender = f[2][0];
        u.occupation = f[3];
        u.zip = f[4];
        users.push_back(std::move(u));
    });
    return users;
}

std::vector<User> load_ml_users(const std::string& path) { return parse_ml_users(read_file(path), path); }

MovieLens100k load_movielens_100k(const std::string& dir, const LoadOptions& opts) {
    MovieLens100k ml;
    ml.movies = load_ml_items(join_path(dir, "u.item"));
    ml.users = load_ml_users(join_path(dir, "u.user"));
    const std::string data_path = join_path(dir, "u.data");
    ml.ratings = load_ml_ratings(data_path, opts);
    // Cross-check: ids in u.data must exist in u.item and u.user. We cannot name the line after
    // the fact, so we search for the first offending row and report its position.
    for (size_t i = 0; i < ml.ratings.rows.size(); ++i) {
        const Rating& r = ml.ratings.rows[i];
        if (r.item >= static_cast<int32_t>(ml.movies.size()))
            data_fail({data_path, 0}, "row " + std::to_string(i + 1) + ": item " + std::to_string(r.item + 1) +
                                          " is not in u.item (" + std::to_string(ml.movies.size()) + " movies)");
        if (r.user >= static_cast<int32_t>(ml.users.size()))
            data_fail({data_path, 0}, "row " + std::to_string(i + 1) + ": user " + std::to_string(r.user + 1) +
                                          " is not in u.user (" + std::to_string(ml.users.size()) + " users)");
    }
    ml.ratings.num_users = static_cast<int>(ml.users.size());
    ml.ratings.num_items = static_cast<int>(ml.movies.size());
    return ml;
}

Sequences parse_user_item_sequences(const std::string& text, const std::string& name, const LoadOptions& opts) {
    Sequences s;
    for_each_line(text, name, opts, s.report, [&](const std::string& line, const Where& where) {
        std::string norm = line;
        for (char& ch : norm)
            if (ch == '\t') ch = ' ';
        auto f = split_fields(norm, ' ');
        if (f.size() != 2) data_fail(where, "expected 'user item', got " + std::to_string(f.size()) + " fields");
        int32_t user = parse_id(f[0], where, "user");
        int32_t item = parse_id(f[1], where, "item");
        if (user >= static_cast<int32_t>(s.items.size())) s.items.resize(user + 1);
        s.items[user].push_back(item);
        s.num_items = std::max(s.num_items, item + 1);
    });
    return s;
}

Sequences load_user_item_sequences(const std::string& path, const LoadOptions& opts) {
    return parse_user_item_sequences(read_file(path), path, opts);
}

}  // namespace datasets
}  // namespace minirec
