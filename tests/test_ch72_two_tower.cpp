// Chapter 72: the streaming frequency estimator on streams whose answer we know, the two-tower
// model's shapes, and the claims' verdicts at master seeds 1-3 of a small configuration of the
// tutorial's experiment (tutorials/ch72_two_tower.h), about 6 s of CPU on an AMD EPYC (shared
// machine). Not asserted: the head share of the top 10 (reported by the tutorial).
#include <doctest/doctest.h>

#include <cmath>

#include "tutorials/ch72_two_tower.h"

using namespace minirec;
using namespace minirec::ch72;

namespace {
FrequencyEstimatorOptions exact(double alpha) {
    FrequencyEstimatorOptions o;
    o.buckets = 16;
    o.collision_free = true;
    o.alpha = alpha;
    return o;
}

// A small configuration of the tutorial's experiment (tutorials/ch72_two_tower.h): 5 worlds per
// cell; a stream of 2,000 steps per phase; 200 items, 3,200 rows of which 2,800 train, 2 epochs.
Options small(uint64_t seed) {
    Options o;
    o.worlds = 5;
    o.seed = seed;
    o.verbose = false;
    o.frequency.steps_per_phase = 2000, o.frequency.recovery_window = 600;
    o.retrieval.catalogue.num_items = 200, o.retrieval.catalogue.n = 3200, o.retrieval.train_rows = 2800, o.retrieval.train.epochs = 2;
    return o;
}
}  // namespace

TEST_SUITE("ch72") {

TEST_CASE("estimator: a regular item's gap is learned exactly; repeats in a batch count") {
    StreamingFrequencyEstimator est(exact(0.1));
    for (int t = 1; t <= 60; ++t) est.observe(t % 4 == 0 ? Ids{3, 5, 5} : Ids{5, 5});
    CHECK(est.step() == 60);
    CHECK(est.gap(3) == doctest::Approx(4.0));           // seen every 4th step from the start
    CHECK(est.probability(3) == doctest::Approx(0.25));
    // Item 5 is twice in every batch: gaps 1, 0, 1, 0, ... average 1/2, so p -> 2 = B q.
    CHECK(est.probability(5) == doctest::Approx(2.0).epsilon(0.1));
    CHECK(est.probability(7) == 0.0);                    // never seen
}

TEST_CASE("estimator: B from 0 gives alpha t at the first sighting; the default starts at the gap") {
    FrequencyEstimatorOptions o = exact(0.01);
    o.first_gap_start = false;
    StreamingFrequencyEstimator paper(o), ours(exact(0.01));
    for (int t = 1; t <= 50; ++t) {
        paper.observe(t == 50 ? Ids{2} : Ids{});
        ours.observe(t == 50 ? Ids{2} : Ids{});
    }
    CHECK(paper.gap(2) == doctest::Approx(0.5));         // alpha (t - 0) = 0.01 x 50
    CHECK(ours.gap(2) == doctest::Approx(50.0));
}

TEST_CASE("estimator: more hash functions never raise an estimate; the stale rule lets items fade") {
    FrequencyEstimatorOptions o;
    o.buckets = 8;                                       // 40 items in 8 slots: many collisions
    o.alpha = 0.05;
    StreamingFrequencyEstimator one(o);
    o.hashes = 4;                                        // the same first hash function, plus three
    StreamingFrequencyEstimator four(o);
    Rng rng(5);
    for (int t = 0; t < 500; ++t) {
        Ids batch;
        for (int i = 0; i < 6; ++i) batch.push_back(rng.randint(40));
        one.observe(batch);
        four.observe(batch);
    }
    for (int y = 0; y < 40; ++y) CHECK(four.probability(y) <= one.probability(y));

    FrequencyEstimatorOptions s = exact(0.1);
    StreamingFrequencyEstimator paper(s);
    s.stale_aware = true;
    StreamingFrequencyEstimator fading(s);
    for (int t = 1; t <= 100; ++t) {                     // item 1 every 2nd step, then never again
        paper.observe(t <= 40 && t % 2 == 0 ? Ids{1} : Ids{});
        fading.observe(t <= 40 && t % 2 == 0 ? Ids{1} : Ids{});
    }
    CHECK(paper.probability(1) == doctest::Approx(0.5));    // stuck at its old rate
    CHECK(fading.probability(1) == doctest::Approx(1.0 / 60)); // 1 / (t - A) = 1 / (100 - 40)
}

TEST_CASE("two-tower: unit-length towers, a (B, B) score matrix, gradients reach both towers") {
    Rng rng(3);
    TwoTowerOptions o;
    o.query.features = 6;
    o.item.features = 4;
    o.item.ids = 10;
    TwoTower model(o, rng);
    const Ids items = {1, 4, 4, 9, 0};
    const Var u = model.u(constant(Tensor::normal({5, 6}, rng)), {});
    const Var v = model.v(constant(Tensor::normal({5, 4}, rng)), items);
    REQUIRE(u.shape() == Shape{5, 32});
    for (int b = 0; b < 5; ++b) {
        double n = 0.0;
        for (int k = 0; k < 32; ++k) n += double(v.value()[size_t(b) * 32 + k]) * v.value()[size_t(b) * 32 + k];
        CHECK(n == doctest::Approx(1.0).epsilon(1e-5));
    }
    const Var s = TwoTower::scores(u, v);
    CHECK(s.shape() == Shape{5, 5});
    const Tensor log_q({5}, {-1.f, -2.f, -2.f, -3.f, -0.5f});
    InBatchSoftmaxOptions lo;
    lo.temperature = 0.1f;
    lo.log_q = &log_q;
    lo.item_ids = &items;
    backward(in_batch_softmax_loss(s, lo));
    for (const auto& p : model.named_parameters()) {
        double g = 0.0;
        for (float x : p.second.grad().vec()) g += std::fabs(x);
        CHECK_MESSAGE(g > 0.0, p.first);
    }
}

TEST_CASE("claims over worlds at three master seeds") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Options o = small(seed);
        const Claims c = judge(o, run_experiment(o));
        const std::string r10 = "corrected (streaming) beats plain, Recall@10", r50 = "corrected (streaming) beats plain, Recall@50",
                          near = "the streaming estimate is within 0.05 Recall@10 of the true q (0.05 - gap)",
                          pop = "corrected (streaming) beats popularity, Recall@10",
                          h2 = "2 hash functions: lower steady error than 1 at the same total slots (relative)",
                          h4 = "4 hash functions: lower steady error than 2 at the same total slots (relative)",
                          fast = "alpha 0.1 recovers faster than alpha 0.01 after the switch (relative error)",
                          low = "alpha 0.01 has lower steady error than alpha 0.1 (relative)";
        auto verdict = [&](const std::string& claim, const char* world) { return c.find(claim, world).verdict(); };
        auto mean = [&](const std::string& claim, const char* world) { return c.find(claim, world).interval().mean; };
        // Main world, seeds 1-3: R@10 +0.040 to +0.044, the estimate within 0.05 of the oracle arm,
        // popularity far behind, the estimator's four claims: all hold. R@50 +0.0015 to +0.0135 is
        // inconclusive at this size (it holds in the default run).
        for (const std::string& x : {r10, near, pop, h2, h4, fast, low}) CHECK_MESSAGE(verdict(x, "main") == Verdict::holds, x);
        CHECK(verdict(r50, "main") != Verdict::fails);
        CHECK(mean(r50, "main") > 0.0);
        // Control (uniform popularity; mid-phase window; 64,000 slots): the correction does not help
        // (R@10 -0.028 to -0.012, R@50 -0.008 to -0.005), a large alpha is worse where nothing
        // switched, and a 4th hash function gains nothing (+0.0002 to +0.0051) where collisions are rare.
        for (const std::string& x : {r10, r50, h2, h4, fast}) CHECK_MESSAGE(verdict(x, "control") != Verdict::holds, x);
        CHECK(mean(r10, "control") < 0.005);
        CHECK(mean(r50, "control") < 0.005);
        CHECK(verdict(fast, "control") == Verdict::fails);
        CHECK(mean(h4, "control") < 0.02);
        for (const std::string& x : {near, pop, low}) CHECK_MESSAGE(verdict(x, "control") == Verdict::holds, x);
    }
}

}  // TEST_SUITE
