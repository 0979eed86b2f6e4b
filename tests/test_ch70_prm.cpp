// Chapter 70: PRM's pieces against their definitions (the list loss by hand, a gradient check
// through the encoder, the position embedding's role), and the paper's claim on lists whose clicks
// interact, asserted on a quick configuration of the tutorial's experiment (tutorials/ch70_prm.h).
// Not asserted (it does not reproduce robustly in a quick run, book/ch70_prm.md): that PRM beats the
// initial ranker's own order, and the PV and position ablations.
#include <doctest/doctest.h>

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
// The tutorial's --quick world (5,000 lists, 500 for test, 10 epochs) for master seeds 1-3, run once.
// Over master seeds 1..8 the per-world gap PRM - pointwise in expected clicks@4 was +0.0059,
// +0.0089, +0.0209, +0.0058, -0.0033, +0.0047, +0.0032, +0.0060: positive in 7 of 8 worlds, and
// the mean over any 3 of them at least +0.0015. So only the 3-world mean is asserted, and only
// its sign: the effect is real but small in a quick run (book/ch70_prm.md).
const StudyReport& quick_report() {
    static const StudyReport report = [] {
        StudyReport all;
        for (uint64_t seed = 1; seed <= 3; ++seed) {
            StudyOptions o;
            o.replicates = 1;
            o.data.num_requests = 5000;
            o.test_requests = 500;
            o.seed = seed;
            o.verbose = false;
            all.reps.push_back(run_study(o).reps[0]);
        }
        return all;
    }();
    return report;
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
    Pointwise pw(4, 8, rng);
    CHECK(pw(constant(x2), constant(pv)).value()[0] == pw(constant(x), constant(pv)).value()[0]);
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

TEST_CASE("the greedy oracle and the judge agree with the true click model") {
    datasets::SlateOptions o;
    o.num_requests = 3;
    o.num_candidates = 6;
    o.seed = 2;
    const datasets::SlateData d = datasets::slates(o);
    const datasets::SlateRequest& q = d.requests[0];
    const Ids best = greedy_oracle(d, q);
    double at_k = 0.0, all = 0.0, topics = 0.0;
    judge(d, q, best, 2, &at_k, &all, &topics);
    const std::vector<double> a = datasets::slate_item_click_probs(d, q, best);
    CHECK(at_k == doctest::Approx(a[0] + a[1]));
    CHECK(a[0] == doctest::Approx(*std::max_element(q.relevance.begin(), q.relevance.end())).epsilon(1e-6));
}

TEST_CASE("claim: PRM's re-ranked top 4 earns more true clicks than a pointwise re-ranker's (mean of 3 worlds)") {
    const StudyReport& r = quick_report();
    CHECK(r.mean([](const Replicate& w) { return w.clicks_at_k[kPRM] - w.clicks_at_k[kPointwise]; }) > 0.0);
}

}  // TEST_SUITE
