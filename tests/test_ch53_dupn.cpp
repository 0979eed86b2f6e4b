// Chapter 53: DUPN's attention net against its formula and by finite differences, its shapes,
// and the chapter's claims judged over paired worlds on a small configuration of the tutorial's
// experiment (tutorials/ch53_dupn.h), for three master seeds.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch53_dupn.h"

using namespace minirec;
using namespace minirec::ch53;

namespace {
// The claims' configuration: the tutorial's world shrunk to 300 training and 300 new users, 2
// epochs, 30 fine-tuning steps, 3 worlds per master seed.
Options small_options(uint64_t seed) {
    Options o;
    o.world.users = 300, o.world.transfer_users = 300;
    o.epochs = 2, o.worlds = 3, o.ft_steps = 30, o.seed = seed;
    return o;
}
}  // namespace

TEST_SUITE("ch53") {

TEST_CASE("attention net: a_t = softmax_t(v^T tanh(W_h h_t + W_q q + W_u u + b)), rep = sum_t a_t h_t") {
    Rng rng(3);
    const AttentionNet att(3, 2, 2, 4, rng);
    const Tensor h = Tensor::normal({2, 5, 3}, rng), q = Tensor::normal({2, 2}, rng), u = Tensor::normal({2, 2}, rng);
    Var a;
    const Var rep = att(constant(h), constant(q), constant(u), &a);
    REQUIRE(rep.shape() == Shape{2, 3});
    REQUIRE(a.shape() == Shape{2, 5});
    const Tensor &Wh = att.w_h.weight.value(), &bh = att.w_h.bias.value(), &Wq = att.w_q.weight.value(),
                 &Wu = att.w_u.weight.value(), &v = att.v.weight.value();
    for (int b = 0; b < 2; ++b) {
        double score[5], total = 0.0;
        for (int t = 0; t < 5; ++t) {
            score[t] = 0.0;
            for (int k = 0; k < 4; ++k) {
                double z = bh[size_t(k)];
                for (int i = 0; i < 3; ++i) z += double(h[size_t((b * 5 + t) * 3 + i)]) * Wh[size_t(i * 4 + k)];
                for (int i = 0; i < 2; ++i) z += double(q[size_t(b * 2 + i)]) * Wq[size_t(i * 4 + k)] + double(u[size_t(b * 2 + i)]) * Wu[size_t(i * 4 + k)];
                score[t] += std::tanh(z) * v[size_t(k)];
            }
            total += std::exp(score[t]);
        }
        for (int i = 0; i < 3; ++i) {
            double want = 0.0;
            for (int t = 0; t < 5; ++t) want += std::exp(score[t]) / total * h[size_t((b * 5 + t) * 3 + i)];
            CHECK(rep.value()[size_t(b * 3 + i)] == doctest::Approx(want).epsilon(1e-4));
        }
        CHECK(a.value()[size_t(b * 5)] == doctest::Approx(std::exp(score[0]) / total).epsilon(1e-4));
    }
}

TEST_CASE("attention net: gradients match finite differences") {
    Rng rng(4);
    const AttentionNet att(3, 2, 2, 4, rng);
    const std::vector<Tensor> inputs = {Tensor::normal({2, 4, 3}, rng), Tensor::normal({2, 2}, rng), Tensor::normal({2, 2}, rng),
                                        att.w_h.weight.value(), att.v.weight.value()};
    const float worst = testing::grad_check(
        [&](const std::vector<Var>& x) {
            AttentionNet a = att;
            a.w_h.weight = x[3];
            a.v.weight = x[4];
            return a(x[0], x[1], x[2]);
        },
        inputs, {}, "ch53 attention net");
    CHECK(worst <= 1.0f);
}

TEST_CASE("DUPN: shapes; the attention weights of a row sum to 1") {
    WorldOptions wo;                 // the world's own tests are in the datasets suite (trait_shop)
    wo.users = 20, wo.transfer_users = 8;
    const World a = datasets::trait_shop(wo);
    Rng rng(1);
    const DUPN net(dupn_options(a, 4, 6), rng);
    Var w;
    const Batch batch = gather(a, {0, 5, 9});
    const Var rep = net.represent(batch.x, &w);
    CHECK(rep.shape() == Shape{3, 6 + 4});   // [attention summary (H) ; user vector (d)]
    for (int r = 0; r < 3; ++r) {
        double s = 0.0;
        for (int t = 0; t < wo.length; ++t) s += w.value()[size_t(r * wo.length + t)];
        CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }
}

// Measured at this configuration for master seeds 1, 2, 3: attention on buys over clicks +0.017,
// +0.026, +0.036 per step (holds, holds, inconclusive); the CTR cost -0.048, -0.010, -0.022 (fails
// for seed 1, inconclusive otherwise); the frozen transfer's multi - single +0.050, +0.148, +0.021
// on the main task against -0.027, -0.021, -0.077 on the control task. The default run (5 worlds of
// 2,000 users, book/ch53_dupn.md) has the attention holding, the CTR cost failing and the frozen
// transfer +0.046 (main) against -0.207 (control). We assert the directions that held at every seed.
TEST_CASE("claims over three master seeds: attention on buys, the CTR cost and the transfer's dependence on the task") {
    for (uint64_t seed : {1, 2, 3}) {
        const Options o = small_options(seed);
        const Claims c = judge(o, run_experiment(o));
        for (const Claim& x : c.rows) {
            const Interval ci = x.interval();
            MESSAGE("seed " << seed << " " << x.world << " " << x.claim << ": " << ci.mean << " [" << ci.lo << ", " << ci.hi << "] "
                            << std::string(verdict_name(x.verdict())));
        }
        const char* rt = "multi-task representation, frozen (RT), transfers better than single-task";
        CHECK(c.find("attention weighs buys over random clicks (mean weight per step, buy - click)").interval().mean > 0.01);
        CHECK(c.find("multi-task CTR AUC above single-task's").interval().mean < 0.0);
        CHECK(c.find(rt, "main").interval().mean > c.find(rt, "control").interval().mean);
    }
}

}  // TEST_SUITE
