// Chapter 66: the models' shapes and their probability identities, the expected AUC, and the claims
// judged on a small configuration of the tutorial's experiment (tutorials/ch66_esm2.h) for master
// seeds 1, 2 and 3: 4 worlds at buy scales 1 and 0.25, 16,000 training and 5,333 test impressions,
// 3 epochs, main and control world (about 10 s of CPU for the three seeds on a shared "AMD EPYC").
// ESMM's lead over the naive model holds there in the main world, and is asserted as a verdict; ESM2
// does not beat ESMM in the default run (book/ch66_esm2.md), so its claims are asserted as bounds.
#include <doctest/doctest.h>

#include "core/metrics.h"
#include "tests/ctr_fixtures.h"
#include "tutorials/ch66_esm2.h"

using namespace minirec;
using namespace minirec::ch66;

namespace {
ch66::Options small_options(uint64_t seed) {
    ch66::Options o;
    o.worlds = 4, o.buy_scales = {1.0, 0.25}, o.train_rows = 16000, o.test_rows = 5333, o.epochs = 3;
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
    const datasets::FunnelBatch b = datasets::funnel_batch(f, rows);
    const Var loss = model.loss(model.forward(b.x, b.item), b.click, b.daction, b.purchase);
    backward(loss);
    for (const auto& p : model.named_parameters()) {
        double s = 0.0;
        for (size_t i = 0; i < p.second.grad().size(); ++i) s += std::fabs(p.second.grad()[i]);
        CHECK_MESSAGE(s > 0.0, p.first);
    }
}

TEST_CASE("expected AUC: soft labels, ties and the hard-label case") {
    // Hard labels: the ordinary AUC. Scores 1 < 2 < 3 with labels 0, 1, 0: one of two pairs right.
    CHECK(expected_auc({1, 2, 3}, {0, 1, 0}) == doctest::Approx(0.5));
    CHECK(expected_auc({1, 2, 3}, {0, 0, 1}) == doctest::Approx(1.0));
    CHECK(expected_auc({1, 1, 1}, {0, 1, 0.5f}) == doctest::Approx(0.5));
    // Scores equal to the true probabilities rank best; reversed, worst: AUC(p) + AUC(-p) = 1.
    const std::vector<float> p = {0.1f, 0.4f, 0.2f, 0.9f, 0.05f};
    std::vector<float> neg;
    for (float v : p) neg.push_back(-v);
    CHECK(expected_auc(p, p) + expected_auc(neg, p) == doctest::Approx(1.0));
    CHECK(expected_auc(p, p) > 0.5);
}

// Measured with g++ (make) for master seeds 1 to 6 of this configuration (mean [90% interval]):
//   ESMM over naive, main:    +0.071 [+0.010, +0.132], +0.161 [+0.066, +0.256], +0.169 [+0.056, +0.283],
//                             +0.108, +0.115, +0.054: holds for all six seeds.
//   ESMM over naive, control: +0.027 [-0.003, +0.057], +0.077, +0.075, +0.049, +0.061, +0.041: holds
//                             for seeds 2, 3 and 5, inconclusive for 1, 4 and 6; never fails.
//   ESM2 over ESMM, over rates (main / control): seeds 1-3 +0.024 / +0.027, +0.010 / +0.010,
//                             -0.005 / -0.006, all inconclusive; but seeds 4 and 6 hold in the main
//                             world (+0.035, +0.042): at this size the verdict depends on the seed.
//   ESM2's slope per halving (main / control): seeds 1-3 -0.012 / -0.004, -0.017 / -0.010,
//                             -0.010 / -0.003, inconclusive; seed 4 holds (+0.042 main).
// The default run (5 worlds of 60,000 impressions, four scales) finds ESM2 over ESMM inconclusive,
// so for seeds 1-3 we assert the measured state (not holds, means below 0.04 and 0.01) with room
// for clang++'s different float order. (The library and this configuration built with clang++ -O3
// gave the same figures to four decimals for seeds 1-3, 9.1 s of CPU.)
TEST_CASE("claims: ESMM beats the naive model (holds, main world); ESM2 does not beat ESMM (measured bounds)") {
    const std::string vs_naive = "ESMM's CVR AUC above the naive CVR model's, mean over all purchase rates";
    const std::string vs_esmm = "ESM2's CVR AUC above ESMM's, mean over all purchase rates";
    const std::string trend = "ESM2's lead over ESMM grows as purchases get sparser (slope per halving)";
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const ch66::Options o = small_options(seed);
        const Claims c = ch66::judge(o, ch66::run_experiment(o));
        for (const Claim& x : c.rows) {
            const Interval ci = x.interval();
            MESSAGE(x.world << ": " << x.claim << ": " << ci.mean << " [" << ci.lo << ", " << ci.hi << "] "
                            << std::string(verdict_name(x.verdict())));
        }
        CHECK(c.find(vs_naive, "main").diffs.size() == 4);
        CHECK(c.find(vs_naive, "main").verdict() == Verdict::holds);
        // The control world's gain is the same selection bias, smaller: never fails, mean above 0.01.
        CHECK(c.find(vs_naive, "control").verdict() != Verdict::fails);
        CHECK(c.find(vs_naive, "control").interval().mean > 0.01);
        for (const char* world : {"main", "control"}) {
            CAPTURE(world);
            CHECK(c.find(vs_esmm, world).verdict() != Verdict::holds);
            CHECK(c.find(vs_esmm, world).interval().mean < 0.04);
            CHECK(c.find(trend, world).verdict() != Verdict::holds);
            CHECK(c.find(trend, world).interval().mean < 0.01);
        }
    }
}

TEST_CASE("--data: the naive model and ESMM on generated Ali-CCP files; a corrupted copy names file and line") {
    // 400 train, 100 val and 100 test impressions written here (clicks planted on items 0-2, purchases
    // on item 0), 3 initialisations of 30 epochs at batch 64 (the default 4 epochs of 256 rows are 8
    // Adam steps on 400 rows: nothing is learnt, AUCs near 0.5).
    const std::string dir = fixtures::write_ali_ccp(fixtures::temp_dir("ch66"), 400, 100);
    const datasets::AliCcp d = datasets::load_ali_ccp(dir);
    Options o;
    o.worlds = 3, o.buy_scales = {1.0}, o.epochs = 30, o.batch = 64, o.lr = 1e-2, o.verbose = false;
    const Results r = run_experiment(o, &d);
    CHECK(r.cells[1].empty());
    REQUIRE(r.cells[0].size() == 1);
    const Cell &naive = r.cells[0][0][0], &esmm = r.cells[0][0][1];
    REQUIRE(naive.runs.size() == 3);
    REQUIRE(esmm.runs.size() == 3);
    CHECK(r.cells[0][0][2].runs.empty());               // no ESM2: no D-Action label
    for (int k = 0; k < 3; ++k) {
        const Evaluation &n = naive.runs[size_t(k)], &e = esmm.runs[size_t(k)];
        CHECK(n.cvr_auc > 0.6);                         // measured 0.687 .. 0.717 (clicked test rows)
        CHECK(e.cvr_auc > 0.6);                         // measured 0.727 .. 0.763
        CHECK(e.ctr_auc > 0.62);                        // measured 0.706 .. 0.727
        CHECK(e.ctcvr_auc > 0.7);                       // measured 0.825 .. 0.833
        CHECK(std::isnan(n.ctcvr_auc));
    }
    const Claims c = judge(o, r);
    CHECK(c.rows.size() == 1);
    fixtures::write_file(dir + "/ali_ccp_val_sample.csv", fixtures::replace_line(fixtures::ali_ccp_text(100, 2), 77, "0,0,1"));
    try {
        datasets::load_ali_ccp(dir);
        FAIL("no error");
    } catch (const datasets::DataError& e) {
        CHECK(std::string(e.what()).find(dir + "/ali_ccp_val_sample.csv line 77: expected 9 comma-separated fields, got 3") != std::string::npos);
    }
}

}  // TEST_SUITE
