// The tutorials' kit: strict flags (--quick never overrides what the user typed), the report's
// tables, and the claims function (Student's t interval and verdicts).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "tutorials/common/claims.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;

namespace {
std::string read_all(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
std::string scratch() { return "/tmp/minirec_test_common_" + std::to_string(long(getpid())); }
}  // namespace

TEST_SUITE("tutorials_common") {

TEST_CASE("flags: defaults, both syntaxes, chapter flags") {
    Flags f("ch07_demo", "A demo.");
    int epochs = 3, hidden = 64;
    float lr = 0.01f;
    bool tied = false;
    f.add("epochs", &epochs, "passes", at_least(1));
    f.add("hidden", &hidden, "hidden size");
    f.add("lr", &lr, "learning rate", above(0.0));
    f.add("tied", &tied, "tie the embeddings");
    CHECK(f.parse({"--seed", "7", "--quick", "--epochs=5", "--hidden=32", "--lr", "0.5", "--tied=false"}));
    CHECK(f.seed == 7);
    CHECK(f.quick);
    CHECK(epochs == 5);
    CHECK(f.given("epochs"));
    CHECK(f.given("tied"));
    CHECK_FALSE(f.given("out"));
    CHECK(hidden == 32);
    CHECK(lr == 0.5f);
    CHECK_FALSE(tied);
    const std::string h = f.help();
    CHECK(h.find("--hidden VALUE") != std::string::npos);
    CHECK(h.find("usage: ch07_demo") != std::string::npos);
    CHECK(h.find("(default 5; at least 1)") != std::string::npos);
    Flags g("x", "y");
    int e = 9;
    g.add("epochs", &e, "passes");
    CHECK_FALSE(g.parse({"--epochs", "2", "--help"}));   // --help: nothing parsed, caller prints help
    CHECK(e == 9);
}

TEST_CASE("flags: only registered flags exist; values are parsed strictly") {
    Flags f("prog", "d");
    int hidden = 1;
    double lr = 0.1;
    f.add("hidden", &hidden, "h", at_least(1));
    f.add("lr", &lr, "l", above(0.0));
    CHECK_THROWS_WITH_AS(f.parse({"--data", "/x"}),
                         "unknown flag --data (this chapter takes --hidden, --lr, --out, --quick, --seed, --help)", FlagError);
    CHECK_THROWS_AS(f.parse({"--epochs", "3"}), FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--hidden", "ten"}), "--hidden: expected an integer, got 'ten'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--hidden", "3x"}), "--hidden: expected an integer, got '3x'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--hidden", " 3"}), "--hidden: expected an integer, got ' 3'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--hidden", "0"}), "--hidden: expected a value at least 1, got '0'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--lr", "0"}), "--lr: expected a value above 0, got '0'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--lr", "nan"}), "--lr: expected a finite number, got 'nan'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--seed=-1"}), "--seed: expected a non-negative integer, got '-1'", FlagError);
    // A leading space, as a script's quoting can produce, must not wrap round to 2^64 - 1.
    CHECK_THROWS_WITH_AS(f.parse({"--seed", " -1"}), "--seed: expected a non-negative integer, got ' -1'", FlagError);
    CHECK_THROWS_AS(f.parse({"--seed", "+5"}), FlagError);
    CHECK_THROWS_AS(f.parse({"--seed", "99999999999999999999999"}), FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--quick=maybe"}), "--quick: expected true or false, got 'maybe'", FlagError);
    CHECK_THROWS_WITH_AS(f.parse({"--hidden"}), "--hidden: missing value", FlagError);
    CHECK_THROWS_AS(f.parse({"data.csv"}), FlagError);
    CHECK_THROWS_AS(f.add("hidden", &hidden, "again"), std::logic_error);
}

TEST_CASE("flags: --quick sets the quick configuration first; what the user typed wins and is checked") {
    struct Options { int epochs = 20, worlds = 8; };
    Options o;
    Flags f("prog", "d");
    f.add("epochs", &o.epochs, "passes", at_least(1));
    f.add("worlds", &o.worlds, "worlds", at_least(2));
    f.on_quick([&] { o.epochs = 2, o.worlds = 3; });
    CHECK(f.parse({"--epochs", "7", "--quick"}));      // order on the line does not matter
    CHECK(o.epochs == 7);
    CHECK(o.worlds == 3);
    Options p;
    Flags g("prog", "d");
    g.add("epochs", &p.epochs, "passes", at_least(1));
    g.on_quick([&] { p.epochs = 2; });
    CHECK_THROWS_AS(g.parse({"--quick", "--epochs", "-3"}), FlagError);   // refused, not replaced
}

TEST_CASE("flags: --out is created and proven writable before any work; check() runs after parsing") {
    Flags f("prog", "d");
    const std::string dir = scratch() + "/a/b";
    CHECK(f.parse({"--out", dir}));
    CHECK(f.out == dir);
    std::remove((dir).c_str());
    Flags g("prog", "d");
    CHECK_THROWS_WITH_AS(g.parse({"--out", "/proc/minirec/x"}), doctest::Contains("--out /proc/minirec/x: cannot create"),
                         FlagError);
    const std::string file = scratch() + "_file";
    std::ofstream(file) << "x";
    Flags h("prog", "d");
    CHECK_THROWS_AS(h.parse({"--out", file}), FlagError);
    std::remove(file.c_str());
    Flags k("prog", "d");
    int a = 1, b = 2;
    k.add("a", &a, "a");
    k.add("b", &b, "b");
    k.check([&] { if (a >= b) throw FlagError("--a must be below --b"); });
    CHECK_THROWS_WITH_AS(k.parse({"--a", "5"}), "--a must be below --b", FlagError);
}

TEST_CASE("guarded_main turns every exception into a line and an exit code") {
    CHECK(guarded_main("p", [] { return 0; }) == 0);
    CHECK(guarded_main("p", []() -> int { throw FlagError("--x: bad"); }) == 2);
    CHECK(guarded_main("p", []() -> int { throw std::runtime_error("disk full"); }) == 1);
    CHECK(guarded_main("p", []() -> int { throw 3; }) == 1);
}

TEST_CASE("Student's t: the table's quantiles and the interval of known data") {
    CHECK(t_quantile95(1) == doctest::Approx(6.314));
    CHECK(t_quantile95(4) == doctest::Approx(2.132));
    CHECK(t_quantile95(30) == doctest::Approx(1.697));
    CHECK(t_quantile95(60) == doctest::Approx(1.671).epsilon(0.002));
    CHECK(t_quantile95(120) == doctest::Approx(1.658).epsilon(0.002));
    CHECK(t_quantile95(100000) == doctest::Approx(1.645).epsilon(0.001));
    // d = 1, 2, 3, 4, 5: mean 3, s = sqrt(2.5), half-width 2.132 * sqrt(2.5 / 5).
    const Interval ci = t_interval90({1, 2, 3, 4, 5});
    CHECK(ci.n == 5);
    CHECK(ci.mean == doctest::Approx(3.0));
    CHECK(ci.hi - ci.mean == doctest::Approx(2.132 * std::sqrt(0.5)));
    CHECK(ci.mean - ci.lo == doctest::Approx(2.132 * std::sqrt(0.5)));
    const Interval one = t_interval90({0.3});
    CHECK(one.n == 1);
    CHECK(std::isinf(one.lo));
}

TEST_CASE("verdicts: holds above the margin, fails below zero, inconclusive otherwise") {
    CHECK(judge(t_interval90({0.10, 0.11, 0.12, 0.09, 0.10}), 0.05) == Verdict::holds);
    CHECK(judge(t_interval90({0.10, 0.11, 0.12, 0.09, 0.10}), 0.095) == Verdict::inconclusive);   // lo below margin
    CHECK(judge(t_interval90({-0.10, -0.11, -0.12, -0.09, -0.10}), 0.0) == Verdict::fails);
    CHECK(judge(t_interval90({0.2, -0.1, 0.3, -0.2, 0.1}), 0.0) == Verdict::inconclusive);
    CHECK(judge(t_interval90({1.0}), 0.0) == Verdict::inconclusive);    // one world decides nothing
    CHECK(judge(t_interval90({0.0, 0.0, 0.0}), 0.0) == Verdict::inconclusive);   // +0.0000 is not a yes
}

// Prints the claims through a report into `dir` (its CSV files) and returns what it printed.
static std::string print_claims(const Claims& c, const std::string& dir) {
    check_output_dir(dir);
    std::FILE* s = std::tmpfile();
    {
        Report r(dir, s);
        c.print(r);
    }
    std::rewind(s);
    std::string out;
    for (int ch; (ch = std::fgetc(s)) != EOF;) out += char(ch);
    std::fclose(s);
    return out;
}

TEST_CASE("claims table: one row per claim; a quick run shows no verdicts") {
    Claims c;
    c.add({"A beats B", "main", "Table 2", {0.10, 0.11, 0.12, 0.09, 0.10}, 0.01, 3});
    c.add({"A beats B", "control", "—", {0.01, -0.02, 0.0, 0.01, -0.01}, 0.01, 3});
    c.add_sanity("the oracle beats every model", true, "0.91 vs 0.85");
    const Table t = c.table();
    REQUIRE(t.rows.size() == 2);
    CHECK(t.rows[0][3] == "+0.104 [+0.093, +0.115], n = 5");
    CHECK(t.rows[0][5] == "**holds**");
    CHECK(t.rows[1][5] == "inconclusive");
    CHECK(c.count("main") == std::vector<int>{1, 0, 0});
    CHECK(c.count() == std::vector<int>{1, 0, 1});
    CHECK(c.find("A beats B", "control").diffs.size() == 5);
    c.quick = true;
    CHECK(c.table().rows[0][5] == "—");
    const std::string dir = scratch() + "_claims";
    print_claims(c, dir);
    const std::string csv = read_all(dir + "/claims.csv");
    CHECK(csv.rfind("claim,world,the paper reports,", 0) == 0);
    CHECK(read_all(dir + "/sanity_checks.csv").find("the oracle beats every model,0.91 vs 0.85,yes") != std::string::npos);
}

TEST_CASE("claims on one real data set: no verdicts, and the run says why (not 'quick run')") {
    Claims c;
    c.add({"A beats B", "MovieLens-100k", "Table 2", {0.10, 0.11, 0.12}, 0.01, 3});
    c.one_dataset = true;
    CHECK(c.table().rows[0][5] == "—");
    const std::string out = print_claims(c, scratch() + "_one_dataset");
    CHECK(out.find("One data set: the n runs differ only in initialisation") != std::string::npos);
    CHECK(out.find("Claims: paired differences over runs on one data set") != std::string::npos);
    CHECK(out.find("quick run") == std::string::npos);
}

TEST_CASE("tables: Markdown and CSV of the same rows; a wrong row is an error naming the table") {
    Table t("taus", {"ranking", "tau"});
    t.add({"raw CTR", "0.412"}).add({"COEC, \"random\" bucket", "0.7"});
    CHECK(t.markdown() == "| ranking | tau |\n|---|---|\n| raw CTR | 0.412 |\n| COEC, \"random\" bucket | 0.7 |\n");
    CHECK(t.csv() == "ranking,tau\nraw CTR,0.412\n\"COEC, \"\"random\"\" bucket\",0.7\n");
    CHECK_THROWS_WITH_AS(t.add({"x"}), "table 'taus': a row of 1 cells for 2 columns", std::invalid_argument);
    CHECK(num("%+.4f", 0.01234) == "+0.0123");
    const std::string wide = num("%100.2f", 1.5);   // longer than the fast path's buffer
    CHECK(wide.size() == 100);
}

}  // TEST_SUITE
