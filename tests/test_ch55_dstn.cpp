// Chapter 55: DSTN's three reductions of auxiliary ads against their formulas and finite
// differences (padding included), the world's planted structure, and the claims' verdicts on three
// master seeds of a small configuration of the tutorial's experiment (tutorials/ch55_dstn.h). The
// paper's DSTN-S > DSTN-P fails here and is asserted as measured (book/ch55_dstn.md).
#include <doctest/doctest.h>

#include <cmath>

#include "datasets/ch55_ad_context.h"
#include "tests/gradcheck.h"
#include "tutorials/ch55_dstn.h"

using namespace minirec;
using namespace minirec::ch55;

namespace {
// Each master seed: 3 worlds of 5,000 training and 3,000 test impressions, 3 epochs. The whole
// suite ch55 took 4.1 s of CPU (AMD EPYC, shared machine).
Options small_options(uint64_t seed) {
    Options o;
    o.worlds = 3, o.data.rows = 5000, o.data.test_rows = 3000, o.epochs = 3, o.seed = seed;
    return o;
}

// Two rows, target ad 1 (category 1); one kind of auxiliary ads with T = 3 slots, the second row
// padded after one ad.
DstnBatch tiny_batch() {
    DstnBatch b;
    b.B = 2;
    b.ad = {1, 1}, b.cat = {1, 1};
    for (int k = 0; k < kNumAux; ++k) {
        b.aux[k].T = 3;
        b.aux[k].ids = {2, 3, 4, 5, 0, 0};
        b.aux[k].cats = {0, 1, 0, 1, 0, 0};
        b.aux[k].mask = Tensor({2, 3}, {1, 1, 1, 1, 0, 0});
    }
    return b;
}

DstnOptions tiny_options() {
    DstnOptions o;
    o.ads = 6, o.categories = 2, o.dim = 2, o.attention_hidden = 3, o.hidden = {4};
    return o;
}
}  // namespace

TEST_SUITE("ch55") {

TEST_CASE("pooling sums the real ads of a kind and ignores padding") {
    Rng rng(1);
    DSTN m(tiny_options(), Variant::pooling, rng);
    const DstnBatch b = tiny_batch();
    const Var xt = m.embed(b.ad, b.cat, {2});
    const Tensor r = m.reduce(kClicked, xt, b.aux[kClicked]).value();            // (2, 4)
    const Tensor x = m.embed(b.aux[kClicked].ids, b.aux[kClicked].cats, {2, 3}).value();   // (2, 3, 4)
    for (int d = 0; d < 4; ++d) {
        CHECK(r[size_t(d)] == doctest::Approx(x[size_t(d)] + x[size_t(4 + d)] + x[size_t(8 + d)]));
        CHECK(r[size_t(4 + d)] == doctest::Approx(x[size_t(12 + d)]));            // only the real ad
    }
}

TEST_CASE("self-attention weights sum to 1 over the real ads; interactive weights are exp(.) and unnormalised") {
    Rng rng(2);
    const DstnBatch b = tiny_batch();
    for (Variant v : {Variant::self_attention, Variant::interactive}) {
        DSTN m(tiny_options(), v, rng);
        std::vector<Var> w;
        const Var z = m.forward(b, &w);
        REQUIRE(z.shape() == Shape{2, 1});
        const Tensor& a = w[kContext].value();                                    // (2, 3)
        CHECK(a[4] == 0.0f);                                                      // padding
        CHECK(a[5] == 0.0f);
        for (int i = 0; i < 4; ++i) CHECK(a[size_t(i)] > 0.0f);
        if (v == Variant::self_attention) {
            CHECK(a[0] + a[1] + a[2] == doctest::Approx(1.0));
            CHECK(a[3] == doctest::Approx(1.0));
        } else {
            // a_i = exp(h' ReLU(W [x_t; x_i] + b_1) + b_2), by hand for row 1, slot 0.
            NoGrad no_grad;
            const Var xt = m.embed({1}, {1}, {1}), xi = m.embed({5}, {1}, {1});
            const double s = m.inter_h[kContext](relu(m.inter_w[kContext](concat({xt, xi}, 1)))).item();
            CHECK(a[3] == doctest::Approx(std::exp(s)).epsilon(1e-4));
        }
    }
}

TEST_CASE("every DSTN variant has the gradient of its forward pass") {
    for (Variant v : {Variant::pooling, Variant::self_attention, Variant::interactive}) {
        Rng rng(3);
        DSTN m(tiny_options(), v, rng);
        const DstnBatch b = tiny_batch();
        // Differentiate the logits with respect to the two embedding tables.
        const Tensor ad = m.ad_emb.table.value(), cat = m.cat_emb.table.value();
        const float worst = testing::grad_check(
            [&](const std::vector<Var>& x) {
                DSTN copy = m;
                copy.ad_emb.table = x[0], copy.cat_emb.table = x[1];
                return copy.forward(b);
            },
            {ad, cat});
        CHECK(worst <= 1.0f);
    }
}

TEST_CASE("the world: same-category clicked ads raise the click rate; the control world ignores auxiliary ads") {
    datasets::AdContextOptions o;
    o.rows = 20000, o.test_rows = 0;
    const datasets::AdContextLog log = datasets::simulate_ad_context(o);
    double clicks[2] = {}, n[2] = {};
    for (const datasets::AdImpression& im : log.train) {
        const int k = im.same[datasets::kClickedAds] > 0 ? 1 : 0;
        clicks[k] += im.click, n[k] += 1;
    }
    CHECK(clicks[1] / n[1] > clicks[0] / n[0] + 0.1);
    o.aux_signal = false;
    const datasets::AdContextLog control = datasets::simulate_ad_context(o);
    for (const datasets::AdImpression& im : control.train)
        REQUIRE(im.prob == doctest::Approx(datasets::sigmoid(o.bias + control.quality[size_t(im.ad)])).epsilon(1e-5));
}

// Verdicts over master seeds 1, 2, 3 of small_options (3 worlds each). Over master seeds 1..5 we
// measured these mean differences (book/ch55_dstn.md): DSTN-I - DNN +0.039 to +0.049 and DSTN-P -
// DNN +0.032 to +0.053 (both hold on every seed); DSTN-I - DSTN-S +0.017 to +0.027; DSTN-S - DSTN-P
// -0.012 to -0.028; in the control world DSTN-I - DNN -0.029 to -0.042 (fails on every seed).
TEST_CASE("claims: DSTN-I and DSTN-P beat the DNN; DSTN-I leads DSTN-S; DSTN-S does not beat DSTN-P") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Options o = small_options(seed);
        Results r;
        for (int i = 0; i < o.worlds; ++i) r.cell[0].push_back(run_world(o, false, replicate_seed(o.seed, i)));
        const Claims c = judge(o, r);
        CHECK(c.find("DSTN-I's AUC above the DNN's (headline)").verdict() == Verdict::holds);
        CHECK(c.find("DSTN-P's AUC above the DNN's (auxiliary ads help)").verdict() == Verdict::holds);
        // Three small worlds are too few for a verdict on DSTN-I vs DSTN-S; its mean lead is asserted.
        CHECK(c.find("DSTN-I's AUC above DSTN-S's").interval().mean > 0.01);
        // The paper's DSTN-S > DSTN-P fails here: the softmax hides how many similar ads there are.
        CHECK(c.find("DSTN-S's AUC above DSTN-P's").interval().mean < 0.0);
    }
}

TEST_CASE("claims, control world: with auxiliary ads carrying nothing, DSTN loses to the DNN (it overfits them)") {
    const Options o = small_options(1);
    Results r;
    for (int i = 0; i < o.worlds; ++i) r.cell[1].push_back(run_world(o, true, replicate_seed(o.seed, i)));
    CHECK(judge(o, r).find("DSTN-I's AUC above the DNN's (headline)", "control").verdict() == Verdict::fails);
}

}  // TEST_SUITE
