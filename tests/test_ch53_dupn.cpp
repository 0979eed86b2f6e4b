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
// The claims' configuration: the tutorial's world shrunk to 500 training and 300 new users, 6 CTR
// rows per user, T = 10; DUPN halved (d = 4, H = 8); 3 epochs, 25 fine-tuning steps, 4 worlds per
// master seed. About 10 s of CPU for the three seeds.
Options small_options(uint64_t seed) {
    Options o;
    o.world.users = 500, o.world.transfer_users = 300, o.world.ctr_rows_per_user = 6, o.world.length = 10;
    o.dim = 4, o.hidden = 8, o.epochs = 3, o.worlds = 4, o.ft_steps = 25, o.seed = seed, o.verbose = false;
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

// Measured at this configuration (g++ -O2), master seeds 1, 2, 3, against the default run (5 worlds
// of 2,000 users, d = 8, H = 16; book/ch53_dupn.md):
//   attention on buys - clicks       +0.058 +0.035 +0.022  holds at each seed   default +0.206 holds
//   CTR cost (multi - single)        -0.058 -0.061 -0.070  fails, inconcl., fails  default -0.212 fails
//   cause (aux x 0.1 - aux x 1)      +0.055 +0.039 +0.027  holds, holds, inconcl.  default +0.203 holds
//   RT multi - single, main          +0.099 +0.109 +0.067                      default +0.046 inconclusive
//   ... main minus control           +0.156 +0.146 +0.170                      default +0.253
//   FT - RS, main                    +0.034 +0.057 +0.075                      default +0.106 holds
//   RA - RS, main                    +0.024 +0.047 +0.048                      default +0.143 holds
//   RS - RT, main                    -0.057 -0.058 -0.058                      default -0.104 fails
//   RS - RT, control                 +0.050 +0.089 +0.061                      default +0.078 holds
// Not asserted, because this size reverses the default run: RA - RS on the control task (-0.043,
// -0.016, -0.080 here; +0.085 holds there) and FT - RA on the main task (+0.010, +0.010, +0.027
// here; -0.036 fails there). Only the attention reaches its default verdict at every seed here;
// the others are asserted as bounds at about half the smallest measured figure. The same
// assertions pass in a clang++ -O2 build (checked; its per-seed figures were not recorded).
TEST_CASE("claims over three master seeds: verdicts where they hold at this size, measured bounds elsewhere") {
    for (uint64_t seed : {1, 2, 3}) {
        const Options o = small_options(seed);
        const Claims c = judge(o, run_experiment(o));
        auto mean = [&](const char* claim, const char* world = "main") { return c.find(claim, world).interval().mean; };
        const char* rt = "multi-task representation, frozen (RT), transfers better than single-task";
        const char* rs_rt = "RT ends below RS (RS - RT)";
        const char* ctr = "multi-task CTR AUC above single-task's";
        CHECK(c.find("attention weighs buys over random clicks (mean weight per step, buy - click)").verdict() == Verdict::holds);
        CHECK(c.find(ctr).verdict() != Verdict::holds);
        CHECK(mean(ctr) < -0.03);
        CHECK(mean("the cost's cause: auxiliary losses weighted down raise the multi-task CTR AUC") > 0.01);
        CHECK(mean(rt) > 0.03);
        CHECK(mean(rt) - mean(rt, "control") > 0.08);
        CHECK(mean("FT beats training on the new task alone (RS)") > 0.015);
        CHECK(mean("RA beats training on the new task alone (RS)") > 0.0);
        CHECK(mean(rs_rt) < -0.02);
        CHECK(mean(rs_rt, "control") > 0.02);
    }
}

}  // TEST_SUITE
