// Chapter 70: PRM's pieces against their definitions (the list loss by hand, a gradient check
// through the encoder, the position embedding's role), and the paper's claim on lists whose clicks
// interact, judged over master seeds 1-3 in a small configuration of the tutorial's experiment
// (tutorials/ch70_prm.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch70_prm.h"

using namespace minirec;
using namespace minirec::ch70;

namespace {
PRMOptions tiny_options() {
    PRMOptions p;
    p.features = 3;
    p.pv_dim = 1;
    p.list_len = 4;
    p.dim = 4;
    p.heads = 2;
    return p;
}
// A small configuration of the tutorial's experiment for master seeds 1, 2, 3 (main world only):
// 2 worlds of 2,000 lists, 4 epochs, 3 to 5 s of CPU on a shared machine; judged by the
// tutorial's own judge(). The figures below are from these runs (book/ch70_prm.md has the
// default run).
const std::vector<Claims>& small_claims() {
    static const std::vector<Claims> claims = [] {
        std::vector<Claims> out;
        for (uint64_t seed = 1; seed <= 3; ++seed) {
            Options o;
            o.worlds = 2;
            o.data.num_requests = 2000;
            o.test_requests = 500;
            o.epochs = 4;
            o.control = false;
            o.seed = seed;
            o.verbose = false;
            out.push_back(judge(o, run_experiment(o)));
        }
        return out;
    }();
    return claims;
}
}  // namespace

TEST_SUITE("ch70") {

TEST_CASE("[loss]: the list loss is -sum_i y_i log softmax_i, averaged over lists") {
    const Tensor z({2, 3}, {1.0f, 0.0f, -1.0f, 0.5f, 0.5f, 2.0f});
    const Tensor y({2, 3}, {1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f});   // the second list has no click
    const Var loss = list_softmax_loss(constant(z), y);
    const double lse = std::log(std::exp(1.0) + std::exp(0.0) + std::exp(-1.0));
    const double want = (-(1.0 - lse) - (-1.0 - lse)) / 2.0;
    CHECK(loss.item() == doctest::Approx(want).epsilon(1e-5));
}

TEST_CASE("PRM: shapes, gradients by finite differences, and scores that depend on the other items") {
    Rng rng(3);
    PRM prm(tiny_options(), rng);
    Rng data(9);
    const Tensor x = Tensor::normal({2, 4, 3}, data), pv = Tensor::normal({2, 4, 1}, data);
    const Var z = prm(constant(x), constant(pv));
    REQUIRE(z.shape() == Shape{2, 4});
    // d logits / d (x, pv) through projection, position embedding, self-attention, feed-forward
    const float worst = testing::grad_check([&](const std::vector<Var>& in) { return prm(in[0], in[1]); }, {x, pv});
    CHECK(worst <= 1.0f);
    // Changing item 3 changes item 0's score (cross-item attention); the pointwise model cannot.
    Tensor x2 = x;
    x2[3 * 3] += 1.0f;
    const Var z2 = prm(constant(x2), constant(pv));
    CHECK(std::fabs(z2.value()[0] - z.value()[0]) > 1e-6f);
    const Var pos = constant(Tensor({2, 4, 4}));
    Pointwise pw(3 + 1 + 4, 8, rng);
    CHECK(pw(constant(x2), constant(pv), pos).value()[0] == pw(constant(x), constant(pv), pos).value()[0]);
    // DLCM reads the list too: item 3 changes item 0's score through the GRU's final state.
    DLCM dlcm(4, 8, rng);
    REQUIRE(dlcm(constant(x), constant(pv)).shape() == Shape{2, 4});
    Tensor x3 = x;   // all of item 3's features (a ReLU may hide a change in one)
    for (int f = 0; f < 3; ++f) x3[size_t(3 * 3 + f)] += 2.0f;
    CHECK(std::fabs(dlcm(constant(x3), constant(pv)).value()[0] - dlcm(constant(x), constant(pv)).value()[0]) > 1e-6f);
}

TEST_CASE("PRM without PE is permutation-equivariant; with PE it is not") {
    Rng rng(4);
    PRMOptions o = tiny_options();
    o.use_position = false;
    PRM no_pe(o, rng);
    Rng data(5);
    const Tensor x = Tensor::normal({1, 4, 3}, data), pv = Tensor::normal({1, 4, 1}, data);
    Tensor xs = x, pvs = pv;   // swap items 0 and 2
    for (int f = 0; f < 3; ++f) std::swap(xs[size_t(0 * 3 + f)], xs[size_t(2 * 3 + f)]);
    std::swap(pvs[0], pvs[2]);
    const Tensor a = no_pe(constant(x), constant(pv)).value(), b = no_pe(constant(xs), constant(pvs)).value();
    CHECK(a[0] == doctest::Approx(b[2]).epsilon(1e-5));
    CHECK(a[2] == doctest::Approx(b[0]).epsilon(1e-5));
    CHECK(a[1] == doctest::Approx(b[1]).epsilon(1e-5));
}

TEST_CASE("world: the initial ranker sorts by relevance when it has no noise, and the greedy oracle starts with the best item") {
    datasets::SlateOptions o;
    o.num_requests = 3;
    o.num_candidates = 6;
    o.seed = 2;
    const datasets::SlateData d = datasets::slates(o);
    const datasets::SlateRequest& q = d.requests[0];
    Rng rng(1);
    const datasets::ListRow row = datasets::make_row(d, q, o, 0.0, rng);
    for (size_t p = 1; p < row.order.size(); ++p)
        CHECK(q.relevance[size_t(row.order[p - 1])] >= q.relevance[size_t(row.order[p])]);
    CHECK(row.x.size() == size_t(6 * datasets::feature_dim(o)));
    const Ids best = datasets::greedy_oracle(d, q);
    const std::vector<double> a = datasets::slate_item_click_probs(d, q, best);
    CHECK(a[0] == doctest::Approx(*std::max_element(q.relevance.begin(), q.relevance.end())).epsilon(1e-6));
    CHECK(a.size() == 6);
}

TEST_CASE("claims over master seeds 1-3 (small configuration, main world)") {
    for (const Claims& c : small_claims()) {
        // Holds in every seed (+0.37 to +0.38 expected clicks@4): without the position the model
        // loses the initial ranker's knowledge of item quality.
        CHECK(c.find("PE helps: PRM beats PRM without position embedding").verdict() == Verdict::holds);
        // Ahead on average in every seed (+0.0029 to +0.0066) but inconclusive with 2 worlds.
        CHECK(c.find("PRM beats a pointwise scorer trained with the same list loss").interval().mean > 0.002);
        // At this size the paper's headline does not show: PRM is not ahead of DLCM by the 0.005
        // margin (-0.0033 to +0.0025 here); with 16,000 lists (the default run) it holds, +0.0085.
        CHECK(c.find("PRM beats DLCM (clicks@4)").interval().mean < 0.005);
        // Nor does PV's gain (-0.0000 to +0.0053 here; +0.0069, inconclusive, in the default run).
        CHECK(c.find("PV helps: PRM beats PRM-BASE (no PV)").verdict() != Verdict::holds);
    }
}

}  // TEST_SUITE
