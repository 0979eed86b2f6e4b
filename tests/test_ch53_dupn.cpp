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
// master seed. About 6 s of CPU for the three seeds (g++ -O2, AMD EPYC; 10-17 s wall on the
// loaded machine).
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
    const Behaviours batch = behaviours(datasets::shop_batch(a, {0, 5, 9}));
    const Var rep = net.represent(batch, &w);
    CHECK(rep.shape() == Shape{3, 6 + 4});   // [attention summary (H) ; user vector (d)]
    for (int r = 0; r < 3; ++r) {
        double s = 0.0;
        for (int t = 0; t < wo.length; ++t) s += w.value()[size_t(r * wo.length + t)];
        CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }
}

// Every claim at this configuration (g++ -O2, AMD EPYC), master seeds 1, 2, 3 (H holds, F fails,
// I inconclusive), against the default run (5 worlds of 2,000 users, d = 8, H = 16; book/ch53_dupn.md):
//   claim                        world     seeds 1, 2, 3                       default
//   attention: buys - clicks     main      +0.058 H  +0.035 H  +0.022 H         +0.206 holds
//   CTR cost (multi - single)    main      -0.058 F  -0.061 I  -0.070 F         -0.212 fails
//   cause (aux x 0.1 - aux x 1)  main      +0.055 H  +0.039 H  +0.027 I         +0.203 holds
//   RT multi - single            main      +0.099 H  +0.109 I  +0.068 I         +0.046 inconclusive
//   ... main minus control                 +0.156    +0.146    +0.170           +0.253
//   FT multi - single            main      +0.045 I  +0.036 H  +0.076 H         -0.005 inconclusive
//   FT - RS                      main      +0.034 I  +0.057 I  +0.075 H         +0.106 holds
//   RS - RT                      main      -0.057 I  -0.059 I  -0.058 I         -0.104 fails
//   RA - RS                      main      +0.024 I  +0.047 I  +0.048 H         +0.143 holds
//   FT - RA                      main      +0.010 I  +0.010 I  +0.027 I         -0.036 fails
//   RT multi - single            control   -0.057 I  -0.037 I  -0.103 F         -0.207 fails
//   FT multi - single            control   -0.053 I  -0.049 I  -0.100 F         -0.044 fails
//   FT - RS                      control   -0.033 I  -0.053 F  -0.059 F         +0.031 inconclusive
//   RS - RT                      control   +0.050 H  +0.089 H  +0.061 I         +0.078 holds
//   RA - RS                      control   -0.043 F  -0.016 I  -0.080 F         +0.085 holds
//   FT - RA                      control   +0.010 I  -0.037 I  +0.021 I         -0.054 fails
// Only the attention reaches its default verdict at every seed. 6 worlds per seed (1.5 times as
// long) settle the CTR cost and RS - RT (main) at every seed, but 5 or 6 still leave FT - RS and
// RA - RS (main) inconclusive at some seed (means +0.019 to +0.073 and +0.029 to +0.056); a batch
// of 32 or 64 (more steps, 2-3 times as long) does not settle them either. 1,500 training users
// (4 worlds, the rest as here) does: FT - RS +0.148, +0.123, +0.107 and RA - RS +0.100, +0.131,
// +0.147, all hold, as do the CTR cost, its cause, the attention, and RT multi - single in
// control fails and FT - RS in control is inconclusive at every seed (7 of the 15 default
// verdicts) -- but it takes 11.7 s of CPU (17.6 s wall on the loaded machine) for the three seeds,
// over this suite's budget; 1,250 users, or 1,500 with 2 epochs or 3 worlds, lose FT - RS at a seed. So the other claims are asserted as measured bounds: where this size agrees in sign
// with the default, at about half the smallest measured figure; where it reverses the default
// (FT multi - single in main, FT - RA in main, FT - RS and RA - RS in control: RA and RS get few
// steps on 300 new users), as a band about 0.04 either side of the measured figures, so that a
// change that moves them toward the default, or further away, is noticed.
TEST_CASE("claims over three master seeds: verdicts where they hold at this size, measured bounds elsewhere") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Options o = small_options(seed);
        const Claims c = judge(o, run_experiment(o));
        auto claim = [&](const char* name, const char* world = "main") -> const Claim& { return c.find(name, world); };
        auto mean = [&](const char* name, const char* world = "main") { return claim(name, world).interval().mean; };
        const char* rt = "multi-task representation, frozen (RT), transfers better than single-task";
        const char* ft_multi = "fine-tuned (FT), multi-task DUPN beats single-task DUPN";
        const char* ft_rs = "FT beats training on the new task alone (RS)";
        const char* rs_rt = "RT ends below RS (RS - RT)";
        const char* ra_rs = "RA beats training on the new task alone (RS)";
        const char* ft_ra = "FT above RA (FT - RA)";
        const char* ctr = "multi-task CTR AUC above single-task's";
        const char* cause = "the cost's cause: auxiliary losses weighted down raise the multi-task CTR AUC";
        CHECK(claim("attention weighs buys over random clicks (mean weight per step, buy - click)").verdict() == Verdict::holds);
        CHECK(claim(ctr).verdict() != Verdict::holds);
        CHECK(mean(ctr) < -0.03);
        CHECK(claim(cause).verdict() != Verdict::fails);
        CHECK(mean(cause) > 0.01);
        // The main task.
        CHECK(mean(rt) > 0.03);
        CHECK(mean(rt) - mean(rt, "control") > 0.08);
        CHECK(claim(ft_rs).verdict() != Verdict::fails);
        CHECK(mean(ft_rs) > 0.015);
        CHECK(claim(rs_rt).verdict() != Verdict::holds);
        CHECK(mean(rs_rt) < -0.02);
        CHECK(claim(ra_rs).verdict() != Verdict::fails);
        CHECK(mean(ra_rs) > 0.01);
        CHECK(mean(ft_multi) > -0.01);   // reversed here (default -0.005): band
        CHECK(mean(ft_multi) < 0.12);
        CHECK(claim(ft_ra).verdict() != Verdict::holds);   // reversed here (default -0.036 fails): band
        CHECK(mean(ft_ra) > -0.03);
        CHECK(mean(ft_ra) < 0.07);
        // The control task.
        CHECK(claim(rt, "control").verdict() != Verdict::holds);
        CHECK(mean(rt, "control") < -0.015);
        CHECK(claim(ft_multi, "control").verdict() != Verdict::holds);
        CHECK(mean(ft_multi, "control") < -0.02);
        CHECK(claim(rs_rt, "control").verdict() != Verdict::fails);
        CHECK(mean(rs_rt, "control") > 0.02);
        CHECK(claim(ft_rs, "control").verdict() != Verdict::holds);   // reversed here (default +0.031): band
        CHECK(mean(ft_rs, "control") > -0.10);
        CHECK(mean(ft_rs, "control") < 0.01);
        CHECK(claim(ra_rs, "control").verdict() != Verdict::holds);   // reversed here (default +0.085 holds): band
        CHECK(mean(ra_rs, "control") > -0.12);
        CHECK(mean(ra_rs, "control") < 0.025);
        CHECK(claim(ft_ra, "control").verdict() != Verdict::holds);   // default -0.054 fails; inconclusive here
        CHECK(mean(ft_ra, "control") > -0.08);
        CHECK(mean(ft_ra, "control") < 0.06);
    }
}

}  // TEST_SUITE
