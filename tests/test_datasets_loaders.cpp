// Tests of the file loaders with small files written here: good input, CRLF, missing final
// newline, Latin-1, and every kind of bad input (each must name file and line). Tests never read
// the real files in ../shared/datasets: the tutorials do, with --data.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/stat.h>

#include "datasets/criteo.h"
#include "datasets/movielens.h"
#include "datasets/retrieval.h"
#include "datasets/splits.h"

using namespace minirec;
using namespace minirec::datasets;

namespace {

// A file under /tmp that is removed when the test ends.
struct TempFile {
    std::string path;
    TempFile(const std::string& name, const std::string& bytes) : path("/tmp/minirec_test_" + name) {
        std::ofstream(path, std::ios::binary) << bytes;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

// The message of the DataError that `f` throws ("" if it throws nothing).
template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string criteo_header() {
    std::string h = "label";
    for (int i = 1; i <= 13; ++i) h += ",I" + std::to_string(i);
    for (int i = 1; i <= 26; ++i) h += ",C" + std::to_string(i);
    return h;
}

// A Criteo row: label, ints (empty string = missing), cats; joined by sep.
std::string criteo_row(char sep, const std::string& label, const std::string& int_value, const std::string& cat) {
    std::string r = label;
    for (int i = 0; i < 13; ++i) r += sep + int_value;
    for (int i = 0; i < 26; ++i) r += sep + cat;
    return r;
}

}  // namespace

TEST_SUITE("datasets") {

TEST_CASE("text reader: CRLF, missing final newline, strict numbers, CSV quotes") {
    auto lines = split_lines("a\r\nb\nc");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "a");
    CHECK(lines[2] == "c");
    CHECK(split_lines("a\n").size() == 1);
    Where w{"f.txt", 3};
    CHECK(parse_int("-12", w, "x") == -12);
    CHECK(contains(error_of([&] { parse_int("12x", w, "rating"); }), "f.txt line 3: rating: expected an integer, got '12x'"));
    CHECK(contains(error_of([&] { parse_int("", w, "x"); }), "empty field"));
    CHECK(contains(error_of([&] { parse_double("nan", w, "x"); }), "not a finite number"));
    auto f = split_csv("1,\"American President, The (1995)\",\"a \"\"b\"\"\"", ',', w);
    REQUIRE(f.size() == 3);
    CHECK(f[1] == "American President, The (1995)");
    CHECK(f[2] == "a \"b\"");
    CHECK(contains(error_of([&] { split_csv("1,\"open", ',', w); }), "unterminated"));
    CHECK(latin1_to_utf8("Mis\xe9rables") == "Mis\xc3\xa9rables");
}

TEST_CASE("u.data: good file with CRLF and no final newline") {
    TempFile f("u.data", "1\t10\t5\t881250949\r\n2\t3\t3\t891717742\r\n1\t3\t4\t878887116");
    Ratings r = load_ml_ratings(f.path);
    REQUIRE(r.rows.size() == 3);
    CHECK(r.num_users == 2);
    CHECK(r.num_items == 10);
    CHECK(r.rows[0].item == 9);       // 0-based
    CHECK(r.rows[2].time == 878887116);
    CHECK(r.report.lines_skipped == 0);
}

TEST_CASE("u.data: errors name file, line and problem") {
    auto err = [](const std::string& text) { return error_of([&] { parse_ml_ratings(text, "u.data"); }); };
    CHECK(contains(err("1\t2\t3\t4\n1\t2\t3\n"), "u.data line 2: expected 4 tab-separated fields, got 3"));
    CHECK(contains(err("1\t2\tfive\t4\n"), "u.data line 1: rating: expected a number, got 'five'"));
    CHECK(contains(err("1\t2\t9\t4\n"), "u.data line 1: rating: 9 is outside 1..5"));
    CHECK(contains(err("0\t2\t3\t4\n"), "u.data line 1: user: id 0 out of range"));
    CHECK(contains(err("1\t-4\t3\t4\n"), "item: id -4 out of range"));
    CHECK(contains(err("1\t2\t3\t4\n\n1\t2\t3\t4\n"), "u.data line 2: empty line"));
    CHECK(contains(err(""), "u.data: file is empty"));
    CHECK(contains(error_of([] { load_ml_ratings("/nonexistent/u.data"); }), "/nonexistent/u.data: cannot open file"));
}

TEST_CASE("u.data: skip_bad_lines counts and reports instead of stopping") {
    Ratings r = parse_ml_ratings("1\t2\t3\t4\nbad line\n2\t2\t3\t4\n", "u.data", {.skip_bad_lines = true});
    CHECK(r.rows.size() == 2);
    CHECK(r.report.lines_skipped == 1);
    REQUIRE(r.report.problems.size() == 1);
    CHECK(contains(r.report.problems[0], "line 2"));
    CHECK(contains(r.report.summary(), "1 bad lines skipped"));
    CHECK(contains(error_of([] { parse_ml_ratings("x\ny\n", "u.data", {.skip_bad_lines = true}); }), "no usable rows"));
}

TEST_CASE("u.item: Latin-1 titles, genre flags, repeated titles, bad rows") {
    std::string flags = "|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1";
    TempFile f("u.item", "1|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x" + flags + "\n" +
                             "2|Chasing Amy (1997)|01-Jan-1997||" + flags + "\n" +
                             "3|Chasing Amy (1997)|01-Jan-1997||" + flags);
    std::vector<Movie> m = load_ml_items(f.path);
    REQUIRE(m.size() == 3);
    CHECK(m[0].title == "Mis\xc3\xa9rables, Les (1995)");
    CHECK(m[1].title == m[2].title);   // titles repeat; ids are the key
    CHECK(m[0].genres[1] == 1);
    CHECK(m[0].genres[18] == 1);
    CHECK(m[0].genres[0] == 0);
    CHECK(contains(error_of([&] { parse_ml_items("1|t|d||u" + flags + "|0\n", "u.item"); }),
                   "u.item line 1: expected 24 '|'-separated fields, got 25"));
    CHECK(contains(error_of([&] { parse_ml_items("1|t|d||u" + flags.substr(0, flags.size() - 1) + "x\n", "u.item"); }),
                   "genre flag 18: expected 0 or 1"));
    CHECK(contains(error_of([&] { parse_ml_items("2|t|d||u" + flags + "\n", "u.item"); }), "out of order"));
}

TEST_CASE("u.user and the cross-check of a whole folder") {
    CHECK(parse_ml_users("1|24|M|technician|85711\n2|53|F|other|T8H1N", "u.user")[1].zip == "T8H1N");
    CHECK(contains(error_of([] { parse_ml_users("1|24|X|technician|85711\n", "u.user"); }), "gender"));
    CHECK(contains(error_of([] { parse_ml_users("1|old|M|technician|85711\n", "u.user"); }), "age: expected an integer"));
    mkdir("/tmp/minirec_test_ml", 0755);
    std::string flags = "|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0";
    TempFile item("ml/u.item", "1|A (1995)|||" + flags + "\n2|B (1995)|||" + flags + "\n");
    TempFile user("ml/u.user", "1|24|M|technician|85711\n");
    {
        TempFile data("ml/u.data", "1\t2\t4\t100\n1\t1\t3\t200\n");
        MovieLens100k ml = load_movielens_100k("/tmp/minirec_test_ml");
        CHECK(ml.ratings.num_items == 2);
        CHECK(ml.ratings.num_users == 1);
    }
    TempFile data("ml/u.data", "1\t2\t4\t100\n1\t3\t3\t200\n");
    CHECK(contains(error_of([] { load_movielens_100k("/tmp/minirec_test_ml"); }), "item 3 is not in u.item (2 movies)"));
}

TEST_CASE("movielens_retrieval: a time cut, relevant = new test items, training items excluded") {
    mkdir("/tmp/minirec_test_mlr", 0755);
    const std::string none = "|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0", action = "|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0";
    TempFile item("mlr/u.item", "1|A (1995)|||" + action + "\n2|B (1995)|||" + none + "\n3|C (1995)|||" + none +
                                    "\n4|D (1995)|||" + action + "\n");
    TempFile user("mlr/u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n3|30|M|writer|32067\n");
    // Five training rows (times 100-500), then three test rows: user 1 rates item 3 (new) and
    // item 2 again, user 2 rates item 4 (new); user 3 has nothing in test.
    TempFile data("mlr/u.data", "1\t1\t5\t100\n1\t2\t4\t200\n2\t1\t3\t300\n2\t3\t4\t400\n3\t4\t5\t500\n"
                                "1\t3\t4\t600\n1\t2\t5\t700\n2\t4\t2\t800\n");
    const RetrievalData d = movielens_retrieval("/tmp/minirec_test_mlr", 0.375);
    CHECK(d.num_items == 4);
    CHECK(d.num_query_ids == 3);
    CHECK(d.train == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(d.test == std::vector<int>{5, 6});
    CHECK(d.query_ids == Ids{0, 0, 1, 1, 2, 0, 1});
    CHECK(d.positive == Ids{0, 1, 0, 2, 3, 2, 3});
    CHECK(d.test_relevant == std::vector<Ids>{{2}, {3}});              // item 2 again is not new
    CHECK(d.exclude == std::vector<Ids>{{0, 1}, {0, 2}});
    CHECK(d.item_prob[0] == doctest::Approx(0.4));
    CHECK(d.item_prob[3] == doctest::Approx(0.2));
    CHECK(d.query_features.shape() == Shape{7, 0});
    CHECK(d.item_features.shape() == Shape{4, 19});
    CHECK(d.item_features[size_t(3) * 19 + 1] == 1.0f);                  // D is an action film
    CHECK(d.item_features[size_t(2) * 19 + 1] == 0.0f);
    CHECK(d.noise_var == 0.0);                                          // no Bayes ranking on real data
}

TEST_CASE("user-item sequence format") {
    Sequences s = parse_user_item_sequences("1 5\n1 7\n3\t2\n", "seq.txt");
    REQUIRE(s.items.size() == 3);
    CHECK(s.items[0] == Ids{4, 6});
    CHECK(s.items[1].empty());
    CHECK(s.items[2] == Ids{1});
    CHECK(contains(error_of([] { parse_user_item_sequences("1 5 7\n", "seq.txt"); }), "seq.txt line 1: expected 'user item'"));
}

TEST_CASE("splits: leave-one-out, time order, implicit feedback, eval negatives") {
    std::vector<Rating> rows = {{0, 0, 5, 10}, {0, 1, 2, 30}, {0, 2, 4, 20}, {1, 0, 3, 5}, {1, 3, 4, 5}, {2, 4, 5, 1}};
    Split loo = leave_one_out(rows);
    REQUIRE(loo.test.size() == 2);           // user 2 has one row and stays in train
    CHECK(loo.test[0].item == 1);             // user 0's latest
    CHECK(loo.test[1].item == 3);             // user 1: equal times, the later row
    CHECK(loo.train.size() == 4);
    Split t = time_ordered_split(rows, 0.5);
    REQUIRE(t.test.size() == 3);
    CHECK(t.train.back().time <= t.test.front().time);
    CHECK(t.test.back().time == 30);
    long dropped = 0;
    auto implicit = to_implicit(rows, 4.0f, &dropped);
    CHECK(implicit.size() == 4);
    CHECK(dropped == 2);
    CHECK(implicit[0].value == 1.0f);
    auto seq = user_sequences(rows, 3);
    CHECK(seq[0] == Ids{0, 2, 1});
    auto neg = sample_eval_negatives(loo.test, rows, 50, 10, 7);
    REQUIRE(neg.size() == 2);
    for (int32_t i : neg[0]) CHECK((i != 0 && i != 1 && i != 2));
    CHECK(neg == sample_eval_negatives(loo.test, rows, 50, 10, 7));
    CHECK(neg != sample_eval_negatives(loo.test, rows, 50, 10, 8));
    CHECK_THROWS_AS(sample_eval_negatives(loo.test, rows, 5, 3, 7), ArgumentError);
}

TEST_CASE("criteo: CSV with header and TSV without, buckets and vocabularies") {
    std::string csv = criteo_header() + "\n" + criteo_row(',', "1", "260.0", "68fd1e64") + "\n" +
                      criteo_row(',', "0", "", "68fd1e64") + "\n" + criteo_row(',', "0", "-1", "") + "\n" +
                      criteo_row(',', "1", "0", "80e26c9b");   // no final newline
    CriteoRaw raw = parse_criteo(csv, "sample.csv");
    CHECK(raw.format == CriteoFormat::CsvWithHeader);
    REQUIRE(raw.rows.size() == 4);
    CHECK(raw.rows[0].ints[0] == 260);
    CHECK(raw.rows[1].int_missing[5]);
    CHECK(raw.missing_cells == 13 + 26);
    CriteoData d = encode_criteo(raw, fit_criteo_encoder(raw, 2));
    CHECK(d.labels == std::vector<float>{1, 0, 0, 1});
    CHECK(d.fields[0] == criteo_int_bucket(260, false));
    CHECK(d.fields[39 + 0] == 0);             // missing integer
    CHECK(d.fields[2 * 39 + 0] == 1);         // negative
    CHECK(d.fields[3 * 39 + 0] == 2);         // zero
    CHECK(d.fields[13] == 2);                 // the frequent value
    CHECK(d.fields[2 * 39 + 13] == 0);        // missing categorical
    CHECK(d.fields[3 * 39 + 13] == 1);        // seen once < min_count 2: "other"
    CHECK(d.rare_to_other == 26);
    CHECK(d.field_sizes[13] == 3);
    CHECK(d.dense.shape() == Shape{4, 13});
    CHECK(criteo_int_bucket(3, false) == 5 + 1);   // floor(ln(3)^2) = 1

    std::string tsv = criteo_row('\t', "0", "7", "a") + "\r\n" + criteo_row('\t', "1", "", "b") + "\r\n";
    CriteoRaw t = parse_criteo(tsv, "day_0");
    CHECK(t.format == CriteoFormat::TsvNoHeader);
    CHECK(t.rows.size() == 2);
    CHECK(t.rows[1].cats[25] == "b");
}

TEST_CASE("criteo: malformed input") {
    auto err = [](const std::string& text) { return error_of([&] { parse_criteo(text, "c.txt"); }); };
    CHECK(contains(err(criteo_row('\t', "1", "1", "a").substr(2) + "\n"), "c.txt line 1"));
    CHECK(contains(err(criteo_row('\t', "2", "1", "a")), "c.txt line 1: label: expected 0 or 1, got '2'"));
    CHECK(contains(err(criteo_row('\t', "1", "1.5", "a")), "I1: expected a whole number"));
    CHECK(contains(err(criteo_row('\t', "1", "x", "a")), "I1: expected an integer, got 'x'"));
    CHECK(contains(err(criteo_header() + "\n1,2,3\n"), "c.txt line 2: expected 40 comma-separated fields, got 3"));
    CHECK(contains(err("label,I1,I2\n"), "c.txt line 1: header"));
    CHECK(contains(err(criteo_header() + "\n"), "no data rows"));
    CHECK(contains(err(""), "file is empty"));
    CriteoRaw r = parse_criteo(criteo_row('\t', "1", "1", "a") + "\nbroken\n", "c.txt", {.skip_bad_lines = true});
    CHECK(r.rows.size() == 1);
    CHECK(r.report.lines_skipped == 1);
}

}  // TEST_SUITE
