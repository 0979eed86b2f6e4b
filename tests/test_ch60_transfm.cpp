// Chapter 60: TransFM's linear-time pairwise term against the naive O(F^2) sum and by finite
// differences, a worked example of eq. 1, and the claims that reproduce on a quick configuration
// of the tutorial's experiment (tutorials/ch60_transfm.h). Not asserted (the book reports it):
// TransFM beating FM, which did not reproduce here (book/ch60_transfm.md).
#include <doctest/doctest.h>

#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch60_transfm.h"

using namespace minirec;

namespace {
// 500 users, 500 items, 3 worlds, 10 epochs (about 3 s of CPU at -O2), run once for the claims.
// Over master seeds 1..3 of this configuration (9 worlds) the smallest per-world AUC gain of
// TransFM from the categories was 0.152, and of TransFM + categories over TransRec 0.120.
const ch60::Level& quick_level() {
    static const ch60::StudyReport report = [] {
        ch60::StudyOptions o;
        o.items = {500};
        o.data.num_users = 500;
        o.replicates = 3;
        o.epochs = 10;
        o.verbose = false;
        o.seed = 1;
        return ch60::run_study(o);
    }();
    return report.levels[0];
}
}  // namespace

TEST_SUITE("ch60") {

TEST_CASE("TransFM: the linear-time pairwise term equals the naive sum over field pairs") {
    Rng rng(4);
    for (int F : {1, 2, 3, 5}) {
        const Var e = constant(Tensor::normal({3, F, 4}, rng)), t = constant(Tensor::normal({3, F, 4}, rng));
        const Var fast = ch60::pairwise_linear(e, t), slow = ch60::pairwise_naive(e, t);
        REQUIRE(fast.shape() == Shape{3});
        REQUIRE(slow.shape() == Shape{3});
        for (int b = 0; b < 3; ++b) CHECK(fast.value()[size_t(b)] == doctest::Approx(slow.value()[size_t(b)]).epsilon(1e-4));
        if (F == 1) CHECK(fast.value()[0] == 0.0f);
    }
}

TEST_CASE("TransFM: gradients of the linear-time pairwise term match finite differences") {
    Rng rng(8);
    const std::vector<Tensor> inputs = {Tensor::uniform({2, 4, 3}, rng, -1.0f, 1.0f), Tensor::uniform({2, 4, 3}, rng, -1.0f, 1.0f)};
    const float worst = testing::grad_check([](const std::vector<Var>& x) { return ch60::pairwise_linear(x[0], x[1]); },
                                            inputs, {}, "TransFM pairwise_linear");
    CHECK(worst <= 1.0f);
}

TEST_CASE("TransFM eq. 1, a worked example: w0 + w_a + w_b + |v_a + v'_a - v_b|^2, and it is directed") {
    Rng rng(1);
    ch60::TransFM m(2, 2, rng);
    m.w0.value_mut() = Tensor::full({1}, 0.5f);
    m.w.table.value_mut() = Tensor({2, 1}, {0.25f, -1.0f});
    m.v.table.value_mut() = Tensor({2, 2}, {1.0f, 0.0f, 0.0f, 2.0f});
    m.trans.table.value_mut() = Tensor({2, 2}, {0.0f, 1.0f, 1.0f, 0.0f});
    // Field order (a = 0, b = 1): |(1, 0) + (0, 1) - (0, 2)|^2 = 1 + 1 = 2 -> 0.5 + 0.25 - 1 + 2.
    CHECK(m({0, 1}, 2).value()[0] == doctest::Approx(1.75f));
    // Order (b, a): |(0, 2) + (1, 0) - (1, 0)|^2 = 4 -> 3.75: the translation makes eq. 1 directed.
    CHECK(m({1, 0}, 2).value()[0] == doctest::Approx(3.75f));
    m.sign = -1.0f;                                     // the "closer is stronger" variant
    CHECK(m({0, 1}, 2).value()[0] == doctest::Approx(-2.25f));
}

TEST_CASE("the five feature blocks do not overlap") {
    const ch60::Vocab v{3, 4, 2};
    const Ids category = {0, 1, 1, 0};
    Ids ids;
    v.row(ids, 2, 3, 1, category, true);
    CHECK(ids == Ids{2, 3 + 3, 3 + 4 + 0, 3 + 4 + 2 + 1, 3 + 8 + 2 + 1});
    CHECK(v.size() == 3 + 8 + 4);
    ids.clear();
    v.row(ids, 0, 0, 3, category, false);
    CHECK(ids == Ids{0, 3, 3 + 4 + 2 + 3});
}

TEST_CASE("claim: content features (item categories) improve TransFM, in every world") {
    for (const ch60::Replicate& r : quick_level().reps) CHECK(r.auc[ch60::kTransFMCat] > r.auc[ch60::kTransFM] + 0.08);
}

TEST_CASE("claim: TransFM with categories beats TransRec, in every world") {
    for (const ch60::Replicate& r : quick_level().reps) CHECK(r.auc[ch60::kTransFMCat] > r.auc[ch60::kTransRec] + 0.05);
}

}  // TEST_SUITE
