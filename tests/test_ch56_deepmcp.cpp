// Chapter 56: DeepMCP's subnets against their formulas (by hand and by finite differences), the
// synthetic ad log, and the paper's headline claim on three master seeds of a small configuration
// of the tutorial's experiment (tutorials/ch56_deepmcp.h): it does not reproduce, and the test
// asserts its measured bound (book/ch56_deepmcp.md).
#include <doctest/doctest.h>

#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch56_deepmcp.h"

using namespace minirec;
using namespace minirec::ch56;

namespace {
// The main world at master seeds 1, 2, 3, each with 3 worlds of 20,000 impressions, 3 epochs.
// The whole suite ch56 took 4.9 s of CPU (AMD EPYC, shared machine).
Options small_options(uint64_t seed) {
    Options o;
    o.worlds = 3, o.world.n = 20000, o.epochs = 3, o.seed = seed;
    return o;
}
const std::vector<Results>& small_runs() {
    static const std::vector<Results> runs = [] {
        std::vector<Results> v;
        for (uint64_t seed : {1, 2, 3}) {
            const Options o = small_options(seed);
            Results r;
            for (int i = 0; i < o.worlds; ++i) r.cell[0].push_back(run_world(o, false, replicate_seed(o.seed, i)));
            v.push_back(r);
        }
        return v;
    }();
    return runs;
}
double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
}  // namespace

TEST_SUITE("ch56") {

TEST_CASE("skip-gram loss (eq. 6): by hand, and its gradient by finite differences") {
    Rng rng(6);
    const Tensor t = Tensor::normal({2, 3}, rng), c = Tensor::normal({2, 3}, rng), n = Tensor::normal({2, 2, 3}, rng);
    const Var loss = skip_gram_loss(constant(t), constant(c), constant(n));
    double want = 0.0;
    for (int p = 0; p < 2; ++p) {
        double pos = 0.0;
        for (int d = 0; d < 3; ++d) pos += double(t.at({p, d})) * c.at({p, d});
        want -= std::log(sigmoid(pos)) / 2.0;
        for (int q = 0; q < 2; ++q) {
            double neg = 0.0;
            for (int d = 0; d < 3; ++d) neg += double(t.at({p, d})) * n.at({p, q, d});
            want -= std::log(sigmoid(-neg)) / 2.0;
        }
    }
    CHECK(loss.item() == doctest::Approx(want).epsilon(1e-5));
    CHECK(testing::grad_check([](const std::vector<Var>& x) { return skip_gram_loss(x[0], x[1], x[2]); }, {t, c, n}, {},
                              "skip_gram_loss") <= 1.0f);
}

TEST_CASE("DeepMCP: shapes, the matching score is v_u . v_a, and serving reads only the prediction subnet") {
    Rng rng(2);
    DeepMCPOptions o;
    o.vocabulary = 20;
    o.dim = 3;
    o.hidden = {5};
    o.match_dim = 4;
    DeepMCP m(o, rng);
    const Ids rows = {0, 5, 10, 15, 1, 6, 11, 16}, users = {0, 5, 1, 6}, ads = {10, 15, 11, 16};
    const Var z = m.predict_logit(rows);
    REQUIRE(z.shape() == Shape{2, 1});
    const Var s = m.match_logit(users, ads);
    REQUIRE(s.shape() == Shape{2, 1});
    const Var vu = tanh(m.user_tower(m.flat(users, 2))), va = tanh(m.ad_tower(m.flat(ads, 2)));
    for (int b = 0; b < 2; ++b) {
        double dot = 0.0;
        for (int k = 0; k < 4; ++k) dot += double(vu.value().at({b, k})) * va.value().at({b, k});
        CHECK(s.value()[size_t(b)] == doctest::Approx(dot).epsilon(1e-5));
    }
    CHECK(m.ad_representation(ads).shape() == Shape{2, 4});
    // Changing the matching and correlation towers leaves the served prediction unchanged.
    m.user_tower.linears[0].weight.value_mut().fill(0.5f);
    m.corr_tower.linears[0].weight.value_mut().fill(-0.5f);
    const Var z2 = m.predict_logit(rows);
    for (int b = 0; b < 2; ++b) CHECK(z2.value()[size_t(b)] == z.value()[size_t(b)]);
}

TEST_CASE("the world: deterministic, click sequences from the training rows and the history") {
    WorldOptions o;
    o.n = 3000;
    o.users = 50;
    o.ads = 80;
    o.seed = 4;
    const World a = datasets::make_mcp_world(o), b = datasets::make_mcp_world(o);
    CHECK(a.user == b.user);
    CHECK(a.labels == b.labels);
    CHECK(a.clicked == b.clicked);
    size_t clicks_train = 0, in_sequences = 0;
    for (int r = 0; r < a.n_train; ++r) clicks_train += a.labels[size_t(r)] > 0.5f;
    for (const Ids& s : a.clicked) in_sequences += s.size();
    CHECK(in_sequences > clicks_train);          // the history adds clicks the CTR log does not keep
    o.history = 0.0;
    const World c = datasets::make_mcp_world(o);
    size_t c_train = 0, c_seq = 0;
    for (int r = 0; r < c.n_train; ++r) c_train += c.labels[size_t(r)] > 0.5f;
    for (const Ids& s : c.clicked) c_seq += s.size();
    CHECK(c_seq == c_train);                     // without history: exactly the training clicks
    // Pairs within the window: a sequence of 3 gives 2 + 2 + 2 ordered pairs with window 2.
    World tiny;
    tiny.clicked = {{7, 8, 9}};
    CHECK(skip_gram_pairs(tiny, 2).size() == 6);
    CHECK(skip_gram_pairs(tiny, 1).size() == 4);
}

TEST_CASE("claims runs, sanity: the subnets learn their relations: the matching score alone ranks test clicks") {
    for (const Results& r : small_runs())
        for (const WorldResult& w : r.cell[0]) {
            CHECK(w.models[kDeepMP].match_auc > 0.7);
            CHECK(w.models[kDeepMCP].match_auc > 0.7);
            for (int m = 0; m < kNumModels; ++m) CHECK(w.models[m].auc > 0.7);   // every prediction subnet learns
        }
}

// Over master seeds 1..5 of small_options we measured the mean difference DeepMCP - DNN at -0.0003
// to -0.0096 AUC (never holds; book/ch56_deepmcp.md), DeepMP - DNN +0.0004 to -0.0102, DeepCP - DNN
// +0.0011 to -0.0050. The paper's +0.01 does not reproduce; we assert the measured bound so that a
// change that makes the subnets help (or hurt more) is noticed.
TEST_CASE("claims: the subnets do not raise the prediction subnet's AUC here (measured bound)") {
    for (size_t k = 0; k < small_runs().size(); ++k) {
        CAPTURE(k);
        const Claims c = judge(small_options(1), small_runs()[k]);
        const Claim& head = c.find("DeepMCP's AUC above the DNN's (headline)");
        CHECK(head.verdict() != Verdict::holds);
        CHECK(head.interval().mean < 0.003);
        CHECK(head.interval().mean > -0.015);
    }
}

}  // TEST_SUITE
