// Chapter 71: the FM and PAL's loss against their formulas, and the claims' verdicts at master
// seeds 1-3 of a small configuration of the tutorial's experiment (tutorials/ch71_pal.h).
#include <doctest/doctest.h>

#include <cmath>

#include "tutorials/ch71_pal.h"

using namespace minirec;
using namespace minirec::ch71;

namespace {
// A small configuration of the tutorial's experiment: ranker bias 2 and the control, 5 worlds each
// of 6,000 lists, 3 epochs; about 3 s of CPU per master seed on an AMD EPYC (shared machine).
ch71::Options small(uint64_t seed) {
    ch71::Options o;
    o.ranker_biases = {2.0};
    o.worlds = 5;
    o.data.num_lists = 6000;
    o.epochs = 3;
    o.verbose = false;
    o.seed = seed;
    return o;
}
}  // namespace

TEST_SUITE("ch71") {

TEST_CASE("FM: first-order sum plus every pairwise inner product") {
    Rng rng(5);
    FM fm(7, 3, rng, false);               // nn/factorization.h, as chapter 71 uses it
    fm.w.table.value_mut() = Tensor::normal({7, 1}, rng);
    const Ids ids = {0, 3, 6, 1, 2, 5};                    // two rows of three fields
    const Var z = fm(ids, 3);
    REQUIRE(z.shape() == Shape{2, 1});
    const Tensor &w = fm.w.table.value(), &v = fm.v.table.value();
    for (int b = 0; b < 2; ++b) {
        double want = 0.0;
        for (int f = 0; f < 3; ++f) want += w[size_t(ids[size_t(b * 3 + f)])];
        for (int f = 0; f < 3; ++f)
            for (int g = f + 1; g < 3; ++g)
                for (int d = 0; d < 3; ++d)
                    want += double(v[size_t(ids[size_t(b * 3 + f)]) * 3 + d]) * v[size_t(ids[size_t(b * 3 + g)]) * 3 + d];
        CHECK(z.value()[size_t(b)] == doctest::Approx(want).epsilon(1e-5));
    }
}

TEST_CASE("the world's truth: true_relevance is each logged row's rel; ranking by it scores NDCG 1") {
    datasets::PositionBiasOptions o;
    o.num_users = 20, o.num_items = 30, o.num_lists = 50;
    const datasets::PositionBiasData d = datasets::position_bias_logs(o);
    const std::vector<double> rel = datasets::true_relevance(d);
    REQUIRE(rel.size() == size_t(20 * 30));
    for (const datasets::ShownItem& s : d.rows)
        CHECK(rel[size_t(s.user) * 30 + size_t(s.item)] == doctest::Approx(s.relevance).epsilon(1e-6));
    double top = 0.0, worst_top = 0.0;
    CHECK(datasets::ndcg_by_truth(rel, rel, 20, 10, &top) == doctest::Approx(1.0));
    std::vector<double> reversed(rel.size());
    for (size_t k = 0; k < rel.size(); ++k) reversed[k] = -rel[k];
    CHECK(datasets::ndcg_by_truth(reversed, rel, 20, 10, &worst_top) < 0.9);
    CHECK(worst_top < top);
}

TEST_CASE("PAL: the loss is the cross-entropy of bCTR = ProbSeen x pCTR, and both modules get gradients") {
    Rng rng(2);
    const PalFields f{4, 5, 3};
    PAL pal(f, 2, rng);
    pal.seen.table.value_mut() = Tensor({3, 1}, {1.0f, 0.0f, -1.0f});
    const Ids user_item = {0, f.item(1), 3, f.item(4)}, positions = {0, 2};
    const Tensor y({2, 1}, {1.0f, 0.0f});
    const Var a = pal.seen_logit(positions), c = pal.ctr_logit(user_item);
    const Var loss = pal_loss(a, c, y);
    double want = 0.0;
    for (int b = 0; b < 2; ++b) {
        const double p = ch71::sigmoid(a.value()[size_t(b)]) * ch71::sigmoid(c.value()[size_t(b)]);
        want -= (y[size_t(b)] > 0 ? std::log(p) : std::log(1.0 - p)) / 2.0;
    }
    CHECK(loss.item() == doctest::Approx(want).epsilon(1e-5));
    backward(loss);
    const Tensor& g = pal.seen.table.grad();
    CHECK(g[0] < 0.0f);                  // a click at slot 1: raise ProbSeen there
    CHECK(g[2] > 0.0f);                  // no click at slot 3: lower it
    CHECK(g[1] == 0.0f);                 // slot 2 was not in the batch
}

TEST_CASE("claims over worlds at three master seeds") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const ch71::Options o = small(seed);
        const ch71::Results r = ch71::run_experiment(o);
        const Claims c = ch71::judge(o, r);
        const std::string best = "PAL's NDCG@10 above position as feature at its validation-chosen slot",
                          slot1 = "PAL's NDCG@10 above position as feature at slot 1",
                          unaware = "PAL's NDCG@10 above the position-unaware model",
                          offline = "position as feature (chosen slot) has the higher AUC on held-out logs";
        const std::string main = "main, ranker bias 2";
        auto mean = [&](const std::string& claim, const std::string& world) { return c.find(claim, world).interval().mean; };
        // Main, measured at master seeds 1-6 (holds at all six): PAL beats the baseline at its chosen
        // slot (+0.11 to +0.29), at slot 1 (+0.15 to +0.37) and the unaware model (+0.041 to +0.072),
        // as in the default run. A clang++ -O3 build gives the same figures at seeds 1-3 to 4 digits.
        for (const std::string& x : {best, slot1, unaware}) CHECK_MESSAGE(c.find(x, main).verdict() == Verdict::holds, x);
        // The offline AUC gap changes sign with training length: +0.007 to +0.014 here (holds), the
        // default run's -0.0038 (fails). Asserted as the measured bound.
        CHECK(mean(offline, main) > 0.003);
        CHECK(mean(offline, main) < 0.025);
        // Control (no position effect): PAL loses to the unaware model (-0.080 to -0.058, fails at all
        // six seeds; -0.016 in the default run). PAL's lead over the chosen-slot baseline (+0.07 to
        // +0.11 here, holds) is an artefact of the short training: the default run's is -0.004,
        // inconclusive; asserted as a bound. No offline AUC gap holds (-0.006 to -0.002).
        CHECK(c.find(unaware, "control").verdict() == Verdict::fails);
        CHECK(mean(best, "control") > 0.02);
        CHECK(mean(best, "control") < 0.15);
        CHECK(c.find(offline, "control").verdict() != Verdict::holds);
    }
}

}  // TEST_SUITE
