// Chapter 66: the models' shapes and their probability identities, the expected AUC, and the claims
// judged on a small configuration of the tutorial's experiment (tutorials/ch66_esm2.h) for master
// seeds 1, 2 and 3: 3 worlds at buy scales 4 and 0.25, 12,000 training and 4,000 test impressions,
// 3 epochs, main and control world (about 6.7 s of CPU on a shared "AMD EPYC"). ESM2 does not beat
// ESMM here (book/ch66_esm2.md), so its claims are asserted as the measured bounds.
#include <doctest/doctest.h>

#include "tutorials/ch66_esm2.h"

using namespace minirec;
using namespace minirec::ch66;

namespace {
ch66::Options small_options(uint64_t seed) {
    ch66::Options o;
    o.worlds = 3, o.buy_scales = {4.0, 0.25}, o.train_rows = 12000, o.test_rows = 4000, o.epochs = 3;
    o.seed = seed, o.verbose = false;
    return o;
}
}  // namespace

TEST_SUITE("ch66") {

TEST_CASE("models: shapes and the funnel's probability identities") {
    ConversionOptions o;
    Rng rng(5);
    ESMM esmm(o, rng);
    ESM2 esm2(o, rng);
    NaiveCVR naive(o, rng);
    const Tensor x = Tensor::normal({6, o.input}, rng);
    const Ids item = {0, 1, 2, 3, 199, 7};
    const ConversionOutput a = esmm.forward(x, item), b = esm2.forward(x, item), c = naive.forward(x, item);
    CHECK(a.p_ctcvr.shape() == Shape{6, 1});
    CHECK(c.p_cvr.shape() == Shape{6, 1});
    for (size_t i = 0; i < 6; ++i) {
        CHECK(a.p_ctcvr.value()[i] == doctest::Approx(a.p_ctr.value()[i] * a.p_cvr.value()[i]));
        const float y2 = b.p_daction.value()[i];
        CHECK(b.p_ctavr.value()[i] == doctest::Approx(b.p_ctr.value()[i] * y2));
        CHECK(b.p_ctcvr.value()[i] == doctest::Approx(b.p_ctr.value()[i] * b.p_cvr.value()[i]));
        CHECK(b.p_ctavr.value()[i] <= b.p_ctr.value()[i]);     // a D-Action needs a click
        CHECK(b.p_ctcvr.value()[i] <= b.p_ctr.value()[i]);     // and so does a purchase
        CHECK(b.p_cvr.value()[i] > 0.0f);
        CHECK(b.p_cvr.value()[i] < 1.0f);
    }
}

TEST_CASE("every ESM2 tower receives gradients from the entire-space loss") {
    ConversionOptions o;
    Rng rng(7);
    ESM2 model(o, rng);
    datasets::FunnelData f = datasets::funnel({.n = 2000, .seed = 3, .ctr = 0.3, .daction_rate = 0.3,
                                               .buy_after_daction = 0.5, .buy_after_oaction = 0.1});
    std::vector<int> rows(2000);
    for (int i = 0; i < 2000; ++i) rows[size_t(i)] = i;
    const ch66::Batch b = ch66::make_batch(f, rows);
    const Var loss = ch66::loss_of(model, model.forward(b.x, b.item), b);
    backward(loss);
    for (const auto& p : model.named_parameters()) {
        double s = 0.0;
        for (size_t i = 0; i < p.second.grad().size(); ++i) s += std::fabs(p.second.grad()[i]);
        CHECK_MESSAGE(s > 0.0, p.first);
    }
}

TEST_CASE("expected AUC: soft labels, ties and the hard-label case") {
    // Hard labels: the ordinary AUC. Scores 1 < 2 < 3 with labels 0, 1, 0: one of two pairs right.
    CHECK(ch66::expected_auc({1, 2, 3}, {0, 1, 0}) == doctest::Approx(0.5));
    CHECK(ch66::expected_auc({1, 2, 3}, {0, 0, 1}) == doctest::Approx(1.0));
    CHECK(ch66::expected_auc({1, 1, 1}, {0, 1, 0.5f}) == doctest::Approx(0.5));
    // Scores equal to the true probabilities rank best; reversed, worst: AUC(p) + AUC(-p) = 1.
    const std::vector<float> p = {0.1f, 0.4f, 0.2f, 0.9f, 0.05f};
    std::vector<float> neg;
    for (float v : p) neg.push_back(-v);
    CHECK(ch66::expected_auc(p, p) + ch66::expected_auc(neg, p) == doctest::Approx(1.0));
    CHECK(ch66::expected_auc(p, p) > 0.5);
}

TEST_CASE("claims: ESMM beats the naive model in both worlds; ESM2 does not beat ESMM") {
    const std::string vs_naive = "ESMM's CVR AUC above the naive CVR model's, mean over all purchase rates";
    const std::string vs_esmm = "ESM2's CVR AUC above ESMM's, mean over all purchase rates";
    const std::string trend = "ESM2's lead over ESMM grows as purchases get sparser (slope per halving)";
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const ch66::Options o = small_options(seed);
        const Claims c = ch66::judge(o, ch66::run_experiment(o));
        // With 12,000 impressions and 3 worlds the intervals are wide: ESMM's gain over the naive
        // model is positive in every seed (main world lowest mean 0.035, control 0.013) but does not
        // always clear the margin; it holds in the default run.
        CHECK(c.find(vs_naive, "main").verdict() != Verdict::fails);
        CHECK(c.find(vs_naive, "main").interval().mean > 0.02);
        CHECK(c.find(vs_naive, "control").verdict() != Verdict::fails);
        CHECK(c.find(vs_naive, "control").interval().mean > 0.0);
        // ESM2 over ESMM: never holds; the measured means stay below 0.015 (main) and 0.025 (control)
        // over rates, and below 0.008 per halving for the slope, so the bounds are 0.03 and 0.01.
        for (const char* world : {"main", "control"}) {
            CAPTURE(world);
            CHECK(c.find(vs_esmm, world).verdict() != Verdict::holds);
            CHECK(c.find(vs_esmm, world).interval().mean < 0.03);
            CHECK(c.find(trend, world).verdict() != Verdict::holds);
            CHECK(c.find(trend, world).interval().mean < 0.01);
        }
    }
}

}  // TEST_SUITE
