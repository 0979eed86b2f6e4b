// Chapter 68: the models' shapes and parameter budgets, the world's label correlation, and the
// paper's claims on its synthetic data, judged over master seeds 1-3 in a small configuration of
// the tutorial's own experiment (tutorials/ch68_mmoe.h). Not asserted (the default run judges
// them, book/ch68_mmoe.md): trainability (spread over restarts), MMoE against OMoE at rho = 0.5,
// the degradation and the gates, which need more worlds than the test's budget allows.
#include <doctest/doctest.h>

#include <cmath>

#include "tutorials/ch68_mmoe.h"

using namespace minirec;
using namespace minirec::ch68;

namespace {
// A small configuration of the tutorial's experiment: rho 0.5 (main) and 1.0 (control), 3 worlds,
// one run of 500 steps per world and model, for master seeds 1, 2, 3 (4 to 7 s of CPU on the
// shared machine of book/ch68_mmoe.md); the claims are judged by the tutorial's own judge(). The
// figures in the comments below are from these runs (book/ch68_mmoe.md has the default run: 12
// worlds, 2 restarts of 2,000 steps).
ch68::Options small(uint64_t seed) {
    ch68::Options o;
    o.rhos = {0.5, 1.0};
    o.worlds = 3;
    o.restarts = 1;             // no spread: trainability is judged by the default run only
    o.run.steps = 500;
    o.run.eval_every = 500;     // only the final loss matters here
    o.run.test_rows = 500;
    o.pearson_rows = 2000;
    o.verbose = false;
    o.seed = seed;
    return o;
}
const std::vector<Claims>& small_claims() {
    static const std::vector<Claims> claims = [] {
        std::vector<Claims> out;
        for (uint64_t seed : {1, 2, 3}) {
            const ch68::Options o = small(seed);
            out.push_back(ch68::judge(o, ch68::run_experiment(o)));
        }
        return out;
    }();
    return claims;
}
}  // namespace

TEST_SUITE("ch68") {

TEST_CASE("models: output shapes, gates are distributions, budgets as in the paper") {
    MultiTaskOptions o;
    o.input = 100;
    CHECK(matched_bottom_hidden(o) == 113);   // the paper's 13056 / (100 + 8 x 2)
    o.input = 16;
    CHECK(matched_bottom_hidden(o) == 72);    // ours: 2304 / (16 + 8 x 2)

    Rng rng(3);
    SharedBottom sb(o, rng);
    OMoE omoe(o, rng);
    MMoE mmoe(o, rng);
    // Weights and biases: bottom 16x72+72, towers 2 x (72x8+8 + 8+1); experts 16x128+128,
    // towers 2 x (16x8+8 + 8+1), one gate 16x8 (OMoE) or two (MMoE).
    CHECK(count_parameters(sb.named_parameters()) == 1224 + 2 * 593);
    CHECK(count_parameters(omoe.named_parameters()) == 2176 + 2 * 145 + 128);
    CHECK(count_parameters(mmoe.named_parameters()) == 2176 + 2 * 145 + 2 * 128);

    const Var x = constant(Tensor::normal({5, 16}, rng));
    for (const MultiTaskOutput& out : {sb.forward(x), omoe.forward(x), mmoe.forward(x)}) {
        REQUIRE(out.y.size() == 2);
        CHECK(out.y[1].shape() == Shape{5, 1});
        for (const Var& g : out.gates) {
            CHECK(g.shape() == Shape{5, 8});
            for (int b = 0; b < 5; ++b) {
                double s = 0.0;
                for (int e = 0; e < 8; ++e) s += g.value()[size_t(b) * 8 + e];
                CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
            }
        }
    }
    CHECK(mmoe.forward(x).gates.size() == 2);
    CHECK(omoe.forward(x).gates.size() == 1);
}

TEST_CASE("MMoE gates receive gradients and the experiment is reproducible") {
    ch68::Options o;
    o.rhos = {0.5};
    o.worlds = 1;
    o.run.steps = 40;
    o.run.eval_every = 20;
    o.run.test_rows = 100;
    o.pearson_rows = 500;
    o.verbose = false;
    const ch68::Results a = ch68::run_experiment(o), b = ch68::run_experiment(o);
    for (int m = 0; m < ch68::kNumModels; ++m)
        CHECK(a.cells[0][size_t(m)].final_loss == b.cells[0][size_t(m)].final_loss);
    // Gates start equal (W_g = 0), so any distance between them is learned.
    CHECK(a.cells[0][ch68::kMMoE].gate_tv[0] > 0.0);
}

TEST_CASE("world: with alpha_i = 0.2 i the label correlation spans a wide range as rho goes 0 -> 1") {
    ch68::Options o;
    o.pearson_rows = 4000;
    auto pearson = [&](double rho) { return label_pearson(rho, o.model.input, o.alpha_scale, o.pearson_rows, o.seed); };
    const double p0 = pearson(0.0), p5 = pearson(0.5), p9 = pearson(0.9), p1 = pearson(1.0);
    CHECK(std::fabs(p0) < 0.05);
    CHECK(p5 > 0.15);              // 0.24 in the default run: low, but not none
    CHECK(p5 < 0.35);
    CHECK(p9 > 0.65);              // 0.76
    CHECK(p1 > 0.99);
}

TEST_CASE("claims over master seeds 1-3 (small configuration)") {
    for (const Claims& c : small_claims()) {
        // Hold in every seed (log loss ratios +0.44 to +1.18).
        CHECK(c.find("OMoE's test loss below Shared-Bottom's (log ratio)").verdict() == Verdict::holds);
        CHECK(c.find("OMoE's test loss below Shared-Bottom's (log ratio)", "control").verdict() == Verdict::holds);
        CHECK(c.find("MMoE's test loss below Shared-Bottom's (log ratio)", "control").verdict() == Verdict::holds);
        // The headline holds in seeds 1 and 2 (+0.93, +1.00) and is inconclusive in seed 3 (+0.27,
        // one MMoE run stuck on a plateau): asserted as the measured bound.
        const Claim& headline = c.find("MMoE's test loss below Shared-Bottom's (log ratio)");
        CHECK(headline.verdict() != Verdict::fails);
        CHECK(headline.interval().mean > 0.25);
        // With identical tasks a second gate buys nothing: MMoE is not better than OMoE (means
        // -0.06 to -0.38 here; the default run says "fails").
        CHECK(c.find("MMoE's test loss below OMoE's (log ratio)", "control").interval().mean < 0.0);
    }
}

}  // TEST_SUITE
