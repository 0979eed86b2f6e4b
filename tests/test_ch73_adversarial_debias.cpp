// Chapter 73: the adversarial network's losses (the covariance penalty by value and by finite
// differences), the two disjoint optimizer groups, the simulated ad log (datasets/ch73_feedback_log.h)
// in its main and control settings, and the claims' verdicts at master seeds 1-3 of a small
// configuration of the tutorial's experiment (tutorials/ch73_adversarial_debias.h).
#include <doctest/doctest.h>

#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch73_adversarial_debias.h"

using namespace minirec;

namespace {
// A small configuration of the tutorial's experiment: 6 worlds per cell of 2,500 lists of 300 ads,
// lambda 3; about 3 s of CPU per master seed on an AMD EPYC (shared, loaded machine).
ch73::Options small(uint64_t seed) {
    ch73::Options o;
    o.worlds = 6;
    o.lambdas = {3.0};
    o.world.items = 300;
    o.world.train_lists = o.world.history_lists = 2500;
    o.world.test_lists = 1000;
    o.verbose = false;
    o.seed = seed;
    return o;
}

bool changed(const Tensor& a, const Tensor& b) {
    for (size_t k = 0; k < a.size(); ++k)
        if (a[k] != b[k]) return true;
    return false;
}
}  // namespace

TEST_SUITE("ch73") {

TEST_CASE("batch covariance and the predictor loss: values and finite-difference gradients") {
    const Tensor z({4, 1}, {0.5f, -1.0f, 2.0f, 0.0f});
    const Tensor b({4, 1}, {1.0f, 0.0f, 3.0f, -2.0f});
    // means 0.375 and 0.5; cov = mean((z - 0.375)(b - 0.5)) = (0.0625 + 0.6875 + 4.0625 + 0.9375) / 4
    CHECK(ch73::batch_covariance(constant(z), b).item() == doctest::Approx(5.75 / 4));
    const Tensor logit({4, 1}, {0.2f, -0.4f, 1.0f, 0.3f}), y({4, 1}, {1.0f, 0.0f, 1.0f, 0.0f});
    const double lambda = 2.5;
    const double bce = bce_with_logits(constant(logit), y).item();
    CHECK(ch73::predictor_loss(constant(logit), y, constant(z), b, lambda).item() ==
          doctest::Approx(bce + lambda * std::pow(5.75 / 4, 2)).epsilon(1e-5));
    CHECK(testing::grad_check([&](const std::vector<Var>& x) { return ch73::predictor_loss(x[0], y, x[1], b, lambda); },
                              {logit, z}) <= 1.0f);
    CHECK(testing::grad_check([&](const std::vector<Var>& x) { return ch73::adversary_loss(x[0], b); }, {z}) <= 1.0f);
}

TEST_CASE("the whole network: gradients of L_Y reach base, prediction and bypass by finite differences") {
    Rng rng(6);
    ch73::AdversarialOptions o;
    o.features = 3, o.hidden = 4, o.representation = 2;
    const ch73::AdversarialNet base_net(o, rng);
    const Tensor x = Tensor::normal({5, 3}, rng), b = Tensor::normal({5, 1}, rng);
    const Tensor y({5, 1}, {1.0f, 0.0f, 0.0f, 1.0f, 1.0f});
    auto f = [&](const std::vector<Var>& p) {
        ch73::AdversarialNet net = base_net;
        net.base.linears[0].weight = p[1];
        net.bypass.weight = p[2];
        const Var z_a = net.representation(p[0]);
        return ch73::predictor_loss(net.click_logit(z_a, constant(b)), y, net.bias_prediction(z_a), b, 4.0);
    };
    CHECK(testing::grad_check(f, {x, base_net.base.linears[0].weight.value(), base_net.bypass.weight.value()}) <= 1.0f);
}

TEST_CASE("two optimizers over disjoint groups: each step moves only its own networks") {
    Rng rng(8);
    ch73::AdversarialOptions o;
    o.features = 3;
    ch73::AdversarialNet net(o, rng);
    Adam predictor(vars_of(net.predictor_parameters()), AdamOptions{});
    Adam adversary(vars_of(net.adversary_parameters()), AdamOptions{});
    for (const auto& p : net.predictor_parameters())
        for (const auto& q : net.adversary_parameters()) CHECK(p.second.node() != q.second.node());
    const Var x = constant(Tensor::normal({6, 3}, rng));
    const Tensor b = Tensor::normal({6, 1}, rng), y({6, 1}, {1, 0, 1, 0, 0, 1});
    const Tensor base_before = net.base.linears[0].weight.value(), bias_before = net.bias.linears[0].weight.value();
    // Adversary step: Z_A detached, so the base gets no gradient and does not move.
    adversary.zero_grad();
    predictor.zero_grad();
    backward(ch73::adversary_loss(net.bias_prediction(detach(net.representation(x))), b));
    CHECK_FALSE(net.base.linears[0].weight.has_grad());
    adversary.step();
    CHECK_FALSE(changed(net.base.linears[0].weight.value(), base_before));
    CHECK(changed(net.bias.linears[0].weight.value(), bias_before));
    // Predictor step: the adversary receives a gradient through the penalty but is not stepped.
    const Tensor bias_mid = net.bias.linears[0].weight.value();
    predictor.zero_grad();
    const Var z_a = net.representation(x);
    backward(ch73::predictor_loss(net.click_logit(z_a, constant(b)), y, net.bias_prediction(z_a), b, 10.0));
    predictor.step();
    CHECK_FALSE(changed(net.bias.linears[0].weight.value(), bias_mid));
    CHECK(changed(net.base.linears[0].weight.value(), base_before));
}

TEST_CASE("world: deterministic; the historical CTR carries the legacy error, slot CTR falls with the slot") {
    ch73::WorldOptions o;
    o.history_lists = o.train_lists = 3000, o.test_lists = 10;
    const ch73::World a = ch73::make_world(o, 4), b = ch73::make_world(o, 4);
    CHECK(a.truth == b.truth);
    CHECK(a.slot_ctr == b.slot_ctr);
    bool same = a.train.size() == b.train.size();
    for (size_t k = 0; same && k < a.train.size(); ++k) same = a.train[k].item == b.train[k].item && a.train[k].click == b.train[k].click;
    CHECK(same);
    std::vector<float> hist(size_t(a.items));
    for (int i = 0; i < a.items; ++i) hist[size_t(i)] = a.x[size_t(i) * a.features + size_t(a.features - 1)];
    CHECK(ch73::pearson(hist, a.legacy) > 0.3);    // the feedback loop: past slots live in the feature
    CHECK(ch73::pearson(hist, a.truth) > 0.3);     // and so does relevance
    for (int s = 1; s < a.slots; ++s) CHECK(a.slot_ctr[size_t(s)] < a.slot_ctr[size_t(s - 1)] * 1.05);
    CHECK(a.slot_ctr[0] > 3.0 * a.slot_ctr[size_t(a.slots - 1)]);
    // The events as inputs: each row is its ad's features and its slot's standardised b.
    const ch73::Batch bt = ch73::gather(a, a.train, {0, 5});
    for (int j = 0; j < 2; ++j) {
        const ch73::Event& e = a.train[size_t(j == 0 ? 0 : 5)];
        CHECK(bt.x[size_t(j * a.features)] == a.x[size_t(e.item * a.features)]);
        CHECK(bt.b[size_t(j)] == doctest::Approx(a.bias(e.slot)));
        CHECK(bt.click[size_t(j)] == e.click);
        CHECK(ch73::without_history(bt.x)[size_t(j * a.features + a.features - 1)] == 0.0f);
    }
    // Ranking by the truth itself gives the most relevant top ads.
    const std::vector<float> by_truth(a.truth.begin(), a.truth.end());
    CHECK(ch73::top_relevance(by_truth, a.truth, 50) > ch73::top_relevance(hist, a.truth, 50));
    const double main_corr = ch73::pearson(hist, a.truth);
    o.legacy_std = 0.0;   // the control: no per-ad error, so the feature reads relevance only
    const ch73::World c = ch73::make_world(o, 4);
    for (int i = 0; i < c.items; ++i) hist[size_t(i)] = c.x[size_t(i) * c.features + size_t(c.features - 1)];
    CHECK(ch73::pearson(hist, c.truth) > main_corr + 0.1);
    for (double k : c.legacy) CHECK(k == 0.0);
}

TEST_CASE("claims over worlds at three master seeds") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const ch73::Options o = small(seed);
        const Claims c = ch73::judge(o, ch73::run_experiment(o));
        const std::string adv = "adversarial, lambda 3";
        const std::string bypass = adv + " ranks by true relevance better than position as a feature",
                          plain = adv + " ranks by true relevance better than the plain model without the historical CTR",
                          naive = adv + " ranks by true relevance better than the naive model",
                          top = adv + ": more relevant top 10% than position as a feature",
                          probe = adv + ": less position readable from Z_A than with position as a feature (probe R^2)";
        auto mean = [&](const std::string& claim, const char* world) { return c.find(claim, world).interval().mean; };
        // Measured at master seeds 1-6 of this size. Main world: better than naive (+0.075 to +0.117)
        // and than the content-only model (+0.053 to +0.089), both hold at all six, as in the default
        // run. Less position in Z_A (+0.11 to +0.17) holds at five of six (seed 1: interval from
        // +0.037, margin 0.05): asserted as never failing with the mean above 0.08. The headline, better
        // than position as a feature, is -0.043 to +0.073 here (fails at seed 2, never holds; the
        // default run's +0.0156 is inconclusive): asserted never to hold, mean below 0.1. The top 10%
        // (-0.014 to +0.038) holds at one seed: asserted never to fail. A clang++ -O3 build gives the
        // same verdicts at seeds 1-3 and the same means to 3 digits.
        for (const std::string& x : {naive, plain}) CHECK_MESSAGE(c.find(x).verdict() == Verdict::holds, x);
        CHECK(c.find(probe).verdict() != Verdict::fails);
        CHECK(mean(probe, "main") > 0.08);
        CHECK(c.find(bypass).verdict() != Verdict::holds);
        CHECK(mean(bypass, "main") < 0.1);
        CHECK(c.find(top).verdict() != Verdict::fails);
        // Control (no per-ad error): no position to remove (probe within 0.003 of the bypass's), no gain
        // over the bypass or the naive model (never holds at six seeds); the content-only model still
        // loses (+0.056 to +0.088, holds at all six, as in the default run).
        for (const std::string& x : {bypass, naive, top, probe}) CHECK_MESSAGE(c.find(x, "control").verdict() != Verdict::holds, x);
        CHECK(std::fabs(mean(probe, "control")) < 0.01);
        CHECK(c.find(plain, "control").verdict() == Verdict::holds);
    }
}

}  // TEST_SUITE
