// The first demo (tutorials/demo_ctr.h): the model's shapes, and what the demo promises, asserted
// on its --quick configuration (100,000 rows, 2 epochs, about half a second a run) for 3 seeds:
// the loss falls, the test AUC is clearly above chance and not far below the oracle's, and a seed
// gives the same numbers twice. Not asserted: the default run's numbers (book/demo_ctr.md shows them).
#include <doctest/doctest.h>

#include <iterator>
#include <vector>

#include "tutorials/demo_ctr.h"

using namespace minirec;

namespace {
// Over seeds 1..15 of the quick configuration we saw (the margins below leave room beyond these):
//   mean loss of the first 100 steps minus that of the last 100:  0.054 .. 0.103  (we ask > 0.03)
//   epoch 1 mean loss minus epoch 2 mean loss:                    0.028 .. 0.059  (we ask > 0.01)
//   test AUC:                                                     0.749 .. 0.814  (we ask > 0.70)
//   oracle AUC minus model AUC on the test rows:                  0.052 .. 0.106  (we ask < 0.15)
//   constant-rate logloss minus model logloss on the test rows:   0.085 .. 0.155  (we ask > 0.04)
constexpr uint64_t kSeeds[] = {1, 2, 3};

demo::Results quick_run(uint64_t seed) {
    demo::Options o = demo::quick_options(seed);
    o.progress = false;
    return demo::run(o);
}

// One quick run per seed, shared by the test cases below.
const demo::Results& report(size_t i) {
    static const std::vector<demo::Results> reports = [] {
        std::vector<demo::Results> r;
        for (uint64_t s : kSeeds) r.push_back(quick_run(s));
        return r;
    }();
    return reports[i];
}
}  // namespace

TEST_SUITE("demo") {

TEST_CASE("CtrModel: one logit per row, and the parameters of its three parts") {
    datasets::CtrOptions co;
    co.n = 50;
    const datasets::CtrData d = datasets::synthetic_ctr(co);
    Rng rng(7);
    demo::CtrModel model(d, 8, 64, rng);
    const Var logits = model(d, {0, 3, 4, 9, 49});
    CHECK(logits.shape() == Shape{5});
    // Field tables (100 + 50 + 20 + 200 + 10 + 30) x 8 and tags 40 x 8; the MLP takes
    // 6 x 8 + 8 + 1 = 57 inputs: 57 x 64 + 64, 64 x 32 + 32, 32 x 1 + 1.
    long n = 0;
    for (const Var& p : model.parameters()) n += long(p.value().size());
    CHECK(n == 410 * 8 + 40 * 8 + (57 * 64 + 64) + (64 * 32 + 32) + (32 + 1));
    // Probabilities, in the rows' order, the same as one row at a time.
    const std::vector<float> p = demo::predict(model, d, {0, 3, 4, 9, 49});
    REQUIRE(p.size() == 5);
    CHECK(p[3] == doctest::Approx(demo::predict(model, d, {9})[0]).epsilon(1e-5));
    for (float x : p) CHECK((x > 0.0f && x < 1.0f));
}

TEST_CASE("the training loss falls") {
    for (size_t i = 0; i < std::size(kSeeds); ++i) {
        CAPTURE(kSeeds[i]);
        const demo::Results& r = report(i);
        REQUIRE(r.epoch_loss.size() == 2);
        REQUIRE(r.curve_loss.size() >= 2);
        CHECK(r.epoch_loss[1] < r.epoch_loss[0] - 0.01);
        CHECK(r.curve_loss.back() < r.curve_loss.front() - 0.03);
    }
}

TEST_CASE("test AUC clearly above chance and not far below the oracle's") {
    for (size_t i = 0; i < std::size(kSeeds); ++i) {
        CAPTURE(kSeeds[i]);
        const demo::Metrics& t = report(i).test;
        CHECK(t.auc > 0.70);
        CHECK(t.auc > t.oracle_auc - 0.15);
        // The oracle ranks by the true probabilities: a model above it would mean a leak of test labels.
        CHECK(t.auc < t.oracle_auc);
        // Better calibrated than predicting the training click rate for every row.
        CHECK(t.logloss < report(i).constant_logloss - 0.04);
    }
}

TEST_CASE("the same seed gives the same run twice") {
    const demo::Results again = quick_run(kSeeds[0]);
    const demo::Results& r = report(0);
    CHECK(again.epoch_loss == r.epoch_loss);
    CHECK(again.curve_loss == r.curve_loss);
    CHECK(again.test.auc == r.test.auc);
    CHECK(again.test.logloss == r.test.logloss);
    CHECK(again.train.auc == r.train.auc);
    // And another seed gives another run (the seed reaches the data, the model and the shuffle).
    CHECK(report(1).test.auc != r.test.auc);
}

}  // TEST_SUITE
