// Chapter 66: the models' shapes and their probability identities, the expected AUC, and the claim
// that holds robustly on a quick configuration of the tutorial's experiment (tutorials/ch66_esm2.h).
// Not asserted (the tutorial reports it, and it did not hold over seeds): ESM2 beating ESMM when
// purchases are sparse. See book/ch66_esm2.md.
#include <doctest/doctest.h>

#include "tutorials/ch66_esm2.h"

using namespace minirec;
using namespace minirec::ch66;

namespace {
// The tutorial's --quick: buy scales 4 and 0.25, 30000 training rows, 2 runs, 4 epochs (about 1.5 s
// at -O2). Over master seeds 1..8 the smallest mean-CVR-AUC gap over the naive model was 0.028 at
// scale 4 and 0.15 at scale 0.25, so we assert 0.01 and 0.08.
const ch66::StudyReport& quick_study() {
    static const ch66::StudyReport report = [] {
        ch66::StudyOptions o;
        o.buy_scales = {4.0, 0.25};
        o.train_rows = 30000;
        o.test_rows = 10000;
        o.runs = 2;
        o.seed = 1;
        o.verbose = false;
        return ch66::run_study(o);
    }();
    return report;
}
double cvr_auc(int scale, int model) {
    return quick_study().cells[size_t(scale)][size_t(model)].mean(&ch66::Evaluation::cvr_auc);
}
constexpr int kNaive = 0, kESMM = 1, kESM2 = 2;
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

TEST_CASE("ESMM and ESM2 beat the naive click-space CVR model over the entire space") {
    CHECK(cvr_auc(0, kESMM) > cvr_auc(0, kNaive) + 0.01);
    CHECK(cvr_auc(0, kESM2) > cvr_auc(0, kNaive) + 0.01);
    CHECK(cvr_auc(1, kESMM) > cvr_auc(1, kNaive) + 0.08);    // sparse purchases: the gap widens
    CHECK(cvr_auc(1, kESM2) > cvr_auc(1, kNaive) + 0.08);
    CHECK(cvr_auc(1, kESMM) - cvr_auc(1, kNaive) > cvr_auc(0, kESMM) - cvr_auc(0, kNaive));
}

}  // TEST_SUITE
