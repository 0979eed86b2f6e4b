// Chapter 68: the models' shapes and parameter budgets, and the paper's claims on its synthetic data,
// asserted on a quick configuration of the tutorial's own experiment (tutorials/ch68_mmoe.h).
// Not asserted (the tutorial reports them): Shared-Bottom's degradation, the full ordering of models.
#include <doctest/doctest.h>

#include "tutorials/ch68_mmoe.h"

using namespace minirec;
using namespace minirec::ch68;

namespace {
// The four claims on a quick budget: rho in {0.5, 1.0}, OMoE and MMoE, 10 runs of 1500
// steps per cell (about 10 s at -O2), run once and shared by the four test cases below. Over
// master seeds 1..10 the worst seed still had an MMoE/OMoE median ratio of 0.88, a degradation gap
// of 0.17 and a gate-TV gap of 0.078 (book/ch68_mmoe.md); with 8 runs of 1000 steps one seed in
// nine failed all three claims, so we do not go smaller.
const ch68::StudyReport& quick_study() {
    static const ch68::StudyReport report = [] {
        ch68::StudyOptions o;
        o.rhos = {0.5, 1.0};
        o.runs = 10;
        o.steps = 1500;
        o.eval_every = 500;         // only the final loss matters here
        o.test_rows = 500;
        o.pearson_rows = 2000;
        o.shared_bottom = false;
        o.verbose = false;
        o.seed = 1;
        return ch68::run_study(o);
    }();
    return report;
}
double median_loss(int rho_index, int model) {
    return quick_study().cells[size_t(rho_index)][size_t(model)].quantile_loss(0.5);
}
constexpr int kOMoE = 1, kMMoE = 2, kRho05 = 0, kRho10 = 1;
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

TEST_CASE("MMoE gates receive gradients and the study is reproducible") {
    ch68::StudyOptions o;
    o.rhos = {0.5};
    o.runs = 1;
    o.steps = 40;
    o.eval_every = 20;
    o.test_rows = 100;
    o.verbose = false;
    const ch68::StudyReport a = ch68::run_study(o), b = ch68::run_study(o);
    for (int m = 0; m < ch68::kNumModels; ++m)
        CHECK(a.cells[0][size_t(m)].final_loss == b.cells[0][size_t(m)].final_loss);
    // Gates start equal (W_g = 0), so any distance between them is learned.
    CHECK(a.cells[0][2].gate_tv[0] > 0.0);
}

TEST_CASE("claim: the label correlation rises with rho") {
    const std::vector<double>& p = quick_study().pearson;  // at rho = 0, 0.2, ..., 0.9, 1.0
    for (size_t i = 1; i < p.size(); ++i) CHECK(p[i] > p[i - 1] - 0.02);
    CHECK(p.back() > 0.95);
    CHECK(p.back() - p.front() > 0.9);
}

TEST_CASE("claim: at rho = 0.5, MMoE's median final loss is below OMoE's") {
    CHECK(median_loss(kRho05, kMMoE) < 0.95 * median_loss(kRho05, kOMoE));
}

TEST_CASE("claim: OMoE degrades more than MMoE from rho = 1.0 to 0.5") {
    const double d_omoe = median_loss(kRho05, kOMoE) - median_loss(kRho10, kOMoE);
    const double d_mmoe = median_loss(kRho05, kMMoE) - median_loss(kRho10, kMMoE);
    CHECK(d_omoe > d_mmoe + 0.1);
}

TEST_CASE("claim: the two tasks' gates differ more at rho = 0.5 than at rho = 1.0") {
    const ch68::StudyReport& rep = quick_study();
    CHECK(quantile(rep.cells[kRho05][kMMoE].gate_tv, 0.5) > quantile(rep.cells[kRho10][kMMoE].gate_tv, 0.5) + 0.03);
}

}  // TEST_SUITE
