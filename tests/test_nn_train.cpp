// Training helpers: batching covers every index once per epoch and is seeded; flags parse,
// reject unknown flags with the list of valid ones and bad values clearly; NaN/Inf checks name
// the step and the tensor; the CSV logger writes what it is given; progress lines are plain.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "nn/train.h"

using namespace minirec;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
std::string temp_dir() { return "/tmp/minirec_test_train_" + std::to_string(static_cast<long>(getpid())); }
}  // namespace

TEST_SUITE("nn") {

TEST_CASE("make_batches: every index once per epoch, seeded, drop_last") {
    Rng rng(11);
    auto e1 = make_batches(103, 10, rng);
    auto e2 = make_batches(103, 10, rng);
    REQUIRE(e1.size() == 11);
    CHECK(e1.back().size() == 3);
    for (const auto* epoch : {&e1, &e2}) {
        std::vector<int> count(103, 0);
        for (const auto& b : *epoch)
            for (int i : b) ++count[static_cast<size_t>(i)];
        for (int c : count) CHECK(c == 1);
    }
    CHECK(e1 != e2);  // a new order each epoch
    Rng again(11);
    CHECK(make_batches(103, 10, again) == e1);  // same seed, same batches
    Rng r3(1);
    CHECK(make_batches(103, 10, r3, true, true).size() == 10);
    Rng r4(1);
    auto ordered = make_batches(std::vector<int>{7, 8, 9}, 2, r4, false);
    CHECK(ordered == std::vector<std::vector<int>>{{7, 8}, {9}});
    CHECK_THROWS_AS(make_batches(5, 0, r4), ArgumentError);
}

TEST_CASE("check_finite names the step and what went wrong") {
    CHECK_NOTHROW(check_finite(0.5, 3));
    CHECK_THROWS_WITH_AS(check_finite(NAN, 17), doctest::Contains("step 17: loss is nan"), NonFiniteError);
    CHECK_THROWS_WITH_AS(check_finite(INFINITY, 2, "aux loss"), doctest::Contains("step 2: aux loss is inf"), NonFiniteError);
    Var w = parameter(Tensor(Shape{2, 3}, 1.0f));
    NamedParams named = {{"mlp.0.weight", w}};
    CHECK_NOTHROW(check_finite(named, 1));
    Tensor g(Shape{2, 3}, 0.0f);
    g[4] = INFINITY;
    g[5] = NAN;
    w.accumulate_grad(g);
    CHECK_THROWS_WITH_AS(check_finite(named, 9),
                         "step 9: gradient of 'mlp.0.weight' [2,3] has inf at element 4 (and 1 more non-finite elements)",
                         NonFiniteError);
    w.value_mut()[0] = NAN;
    CHECK_THROWS_WITH_AS(check_finite(named, 9), doctest::Contains("value of 'mlp.0.weight' [2,3] has nan at element 0"),
                         NonFiniteError);
}

TEST_CASE("CsvLogger writes a header and rows, creating the directory") {
    const std::string dir = temp_dir() + "/sub";
    const std::string path = dir + "/log.csv";
    {
        CsvLogger log(path, {"epoch", "loss", "note"});
        log.row(std::vector<double>{1, 0.25, 3});
        log.row(std::vector<std::string>{"2", "0.125", "has, comma"});
        CHECK_THROWS_AS(log.row(std::vector<double>{1}), ArgumentError);
    }
    CHECK(slurp(path) == "epoch,loss,note\n1,0.25,3\n2,0.125,\"has, comma\"\n");
    std::remove(path.c_str());
    std::remove(dir.c_str());
    std::remove(temp_dir().c_str());
}

TEST_CASE("replicate statistics: mean, min and sample standard deviation over a vector") {
    struct Rep {
        double auc;
        int rows;
    };
    const std::vector<Rep> reps = {{0.70, 10}, {0.76, 20}, {0.73, 30}};
    auto auc = [](const Rep& r) { return r.auc; };
    CHECK(mean_over(reps, auc) == doctest::Approx(0.73));
    CHECK(mean_over(reps, [](const Rep& r) { return r.rows; }) == doctest::Approx(20.0));   // ints too
    CHECK(min_over(reps, auc) == 0.70);
    CHECK(stdev_over(reps, auc) == doctest::Approx(0.03));
    const std::vector<Rep> one = {{0.5, 1}};
    CHECK(stdev_over(one, auc) == 0.0);
    CHECK(min_over(std::vector<Rep>{}, auc) > 1e299);
    CHECK(mean_over(std::vector<Rep>{}, auc) == 0.0);
    // Replicate seeds: fixed by (seed, r), different across r and across seeds.
    CHECK(replicate_seed(42, 0) == replicate_seed(42, 0));
    CHECK(replicate_seed(42, 0) != replicate_seed(42, 1));
    CHECK(replicate_seed(42, 1) != replicate_seed(43, 1));
}

TEST_CASE("Progress prints plain lines when not a terminal") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    Progress p(2, 4, Progress::Mode::lines, f, 0.0);  // interval 0: a line per step
    p.start_epoch(1);
    p.step(1.0, 32);
    p.step(0.5, 32);
    CHECK(p.epoch_loss() == doctest::Approx(0.75));
    p.end_epoch();
    std::rewind(f);
    char buf[512] = {0};
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    const std::string out(buf, n);
    CHECK(out.find("epoch 2/2  step 1/4  loss 1.0000") != std::string::npos);
    CHECK(out.find("epoch 2/2  step 2/4  loss 0.7500") != std::string::npos);
    CHECK(out.find("(epoch done)") != std::string::npos);
    CHECK(out.find('\r') == std::string::npos);
    CHECK(out.find("ex/s") != std::string::npos);
    Progress q(1, 1, Progress::Mode::automatic, f == nullptr ? stderr : nullptr);
    CHECK(q.mode() == Progress::Mode::quiet);
}

}  // TEST_SUITE
