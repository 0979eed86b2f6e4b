// The streaming CTR readers (datasets/ctr_logs.h) on logs written here: both Criteo formats,
// --rows, the split by row order, hand-checked hashing and normalisation, Ali-CCP's three files,
// and corrupted copies whose errors name the file and the line.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "datasets/ctr_logs.h"
#include "tests/ctr_fixtures.h"

using namespace minirec;
using namespace minirec::datasets;

namespace {
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
HashedCriteo read_text(const std::string& text, const CtrLogOptions& o = {}) {
    std::istringstream in(text);
    return read_criteo_hashed(in, "day.txt", o);
}
}  // namespace

TEST_SUITE("datasets") {
TEST_CASE("ctr logs: FNV-1a hashing and the log-square transform, by hand") {
    CHECK(fnv1a32("") == 2166136261u);                  // the offset basis
    CHECK(fnv1a32("a") == 3826002220u);                 // 0xe40c292c, the published test vector
    CHECK(fnv1a32("C1:a") == 2664503880u);              // computed by hand (Python) from the formula
    CHECK(hash_bucket("C1", "a", 1000) == 1 + int(2664503880u % 999));   // = 52
    CHECK(hash_bucket("C1", "05db9164", 1000) == 14);
    CHECK(hash_bucket("C1", "", 1000) == 0);            // missing: its own id
    CHECK(hash_bucket("C2", "a", 1000) != hash_bucket("C1", "a", 1000));   // the field is part of the key
    CHECK(log_square(0, true) == 0.0f);
    CHECK(log_square(-1, false) == -1.0f);
    CHECK(log_square(2, false) == 2.0f);                // z <= 2 is kept
    CHECK(log_square(3, false) == doctest::Approx(1.2069490));    // ln(3)^2
    CHECK(log_square(100, false) == doctest::Approx(21.2075924)); // ln(100)^2
}

TEST_CASE("ctr logs: Criteo TSV and CSV give the same ids; --rows; split 80/10/10 by row order") {
    const HashedCriteo tsv = read_text(fixtures::criteo_text(300, false));
    const HashedCriteo csv = read_text(fixtures::criteo_text(300, true));
    CHECK(tsv.format == CriteoFormat::TsvNoHeader);
    CHECK(csv.format == CriteoFormat::CsvWithHeader);
    REQUIRE(tsv.n == 300);
    CHECK(tsv.ids == csv.ids);                          // "12.0" in the CSV is the integer 12
    CHECK(tsv.labels == csv.labels);
    CHECK(tsv.dense == csv.dense);
    CHECK(tsv.ids.size() == 300u * 39u);
    CHECK(tsv.dense.size() == 300u * 13u);
    CHECK(tsv.n_train == 240);
    CHECK(tsv.n_valid == 270);
    for (int32_t id : tsv.ids) CHECK((id >= 0 && id < 1000));
    for (long r = 0; r < tsv.n; ++r) {                  // C1 is one of the fixture's six values
        bool known = false;
        for (char k = '0'; k < '6'; ++k) known |= tsv.ids[size_t(r) * 39 + 13] == hash_bucket("C1", std::string("c1v") + k, 1000);
        CHECK(known);
    }
    CtrLogOptions few;
    few.max_rows = 50, few.buckets = 64;
    const HashedCriteo head = read_text(fixtures::criteo_text(300, true), few);
    CHECK(head.n == 50);
    CHECK(std::vector<float>(head.labels) == std::vector<float>(tsv.labels.begin(), tsv.labels.begin() + 50));
    CHECK(head.n_train == 40);
    for (int32_t id : head.ids) CHECK((id >= 0 && id < 64));
}

TEST_CASE("ctr logs: one hand-written Criteo row") {
    std::string row = "1\t3\t\t-1\t0\t100";
    for (int i = 5; i < 13; ++i) row += "\t1";
    row += "\ta";
    for (int c = 1; c < 26; ++c) row += "\t";
    const HashedCriteo d = read_text(row + "\n");
    REQUIRE(d.n == 1);
    CHECK(d.labels[0] == 1.0f);
    CHECK(d.ids[0] == 5 + 1);                           // 3: 5 + floor(ln(3)^2)
    CHECK(d.ids[1] == 0);                               // missing
    CHECK(d.ids[2] == 1);                               // negative
    CHECK(d.ids[3] == 2);                               // zero
    CHECK(d.ids[4] == 5 + 21);                          // 100: 5 + floor(ln(100)^2)
    CHECK(d.ids[13] == 52);                             // C1 = "a"
    CHECK(d.ids[14] == 0);                              // C2 missing
    CHECK(d.dense[0] == doctest::Approx(1.2069490));
    CHECK(d.dense[1] == 0.0f);
    CHECK(d.missing_cells == 1 + 25);
    CHECK(d.n_train == 1);                              // floor(0.1) = 0 validation and test rows
}

TEST_CASE("ctr logs: a corrupted Criteo copy names the file and the line") {
    const std::string good = fixtures::criteo_text(200, true);
    auto err = [](const std::string& text) { return error_of([&] { read_text(text); }); };
    CHECK(contains(err(fixtures::replace_line(good, 57, "1,2,3")), "day.txt line 57: expected 40 comma-separated fields, got 3"));
    const size_t a = good.find('\n') + 1, b = good.find('\n', a);
    const std::string bad_label = "2" + good.substr(a + 1, b - a - 1);
    CHECK(contains(err(fixtures::replace_line(good, 9, bad_label)), "day.txt line 9: label: expected 0 or 1, got '2'"));
    CHECK(contains(err(fixtures::replace_line(good, 1, "label,I1")), "day.txt line 1: header"));
    CHECK(contains(err(fixtures::replace_line(good, 30, "")), "day.txt line 30: empty line"));
    CHECK(contains(err(""), "day.txt: file is empty"));
    CHECK(contains(err(fixtures::criteo_text(0, true)), "no data rows"));
    CHECK(contains(error_of([] { load_criteo_hashed("/nonexistent/day_0", {}); }), "/nonexistent/day_0: cannot open"));
    CHECK(err(fixtures::replace_line(good, 250, "1,2,3")).empty());   // past the end: nothing to replace
}

TEST_CASE("ctr logs: Ali-CCP's three files, hashed fields, and errors with file and line") {
    const std::string dir = fixtures::write_ali_ccp(fixtures::temp_dir("aliccp_reader"), 120, 40);
    AliCcpOptions o;
    o.slots = 16, o.items = 50;
    const AliCcp d = load_ali_ccp(dir, o);
    CHECK(d.n == 200);
    CHECK(d.n_train == 120);
    CHECK(d.n_valid == 160);
    CHECK(d.f.x.shape() == Shape{200, 2 + 16});        // D508, D702, then 16 slots
    for (int r = 0; r < 200; ++r) {
        float slots = 0;
        for (int k = 2; k < 18; ++k) slots += d.f.x[size_t(r) * 18 + size_t(k)];
        CHECK(slots == 4.0f);                           // 101, 124, 206, 301: one count each (205 is the item)
        CHECK(d.f.purchase[size_t(r)] <= d.f.click[size_t(r)]);
        CHECK(d.f.daction[size_t(r)] == 0.0f);
        CHECK((d.f.item[size_t(r)] >= 1 && d.f.item[size_t(r)] < 50));
    }
    std::istringstream one("click,purchase,205,D1\n1,1,7,0.5");
    AliCcp h;
    read_ali_ccp(one, "one.csv", o, h);
    CHECK(h.f.item[0] == hash_bucket("205", "7", 50));
    CHECK(h.f.x[0] == 0.5f);
    const std::string text = fixtures::ali_ccp_text(30, 5);
    auto err = [&](const std::string& t) {
        return error_of([&] { std::istringstream in(t); AliCcp a; read_ali_ccp(in, "val.csv", o, a); });
    };
    CHECK(contains(err(fixtures::replace_line(text, 12, "1,0,3")), "val.csv line 12: expected 9 comma-separated fields, got 3"));
    CHECK(contains(err(fixtures::replace_line(text, 5, "0,1,1,1,1,1,1,0.5,0")), "val.csv line 5: a purchase without a click"));
    CHECK(contains(err(fixtures::replace_line(text, 7, "1,0,1,1,1,1,1,abc,0")), "val.csv line 7: D508"));
    CHECK(contains(err(fixtures::replace_line(text, 1, "label,I1")), "val.csv line 1: header"));
    fixtures::write_file(dir + "/ali_ccp_test_sample.csv", fixtures::replace_line(fixtures::ali_ccp_text(40, 3), 33, "2,0,1,1,1,1,1,0,0"));
    CHECK(contains(error_of([&] { load_ali_ccp(dir, o); }), "ali_ccp_test_sample.csv line 33: click and purchase must be 0 or 1"));
}
}  // TEST_SUITE
