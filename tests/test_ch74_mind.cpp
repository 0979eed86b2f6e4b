// Chapter 74: MIND's pieces against their formulas (squash, eq. 9, one-capsule routing, padding,
// label-aware attention, the K independent poolings), finite-difference gradients through the
// dynamic routing and through the poolings, and the
// claims' verdicts (and measured bounds where the paper's claim fails here) at master seeds 1-3 of a
// small configuration of the tutorial's experiment, main and control cells.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "tests/gradcheck.h"
#include "tests/movielens_genre_fixture.h"
#include "tutorials/common/next_item_report.h"
#include "tutorials/ch74_mind.h"

using namespace minirec;
using namespace minirec::ch74;

namespace {
// The claims at master seeds 1-3 of a small configuration: both cells (main and control, one
// interest per user), 3 worlds of 3,000 training users each, 3 epochs; about 10 s of CPU for the
// three seeds (g++ -O2, AMD EPYC; 14-17 s wall on the loaded machine).
Options small(uint64_t seed) {
    Options o;
    o.worlds = 3;
    o.control = true;
    o.world.train_users = 3000, o.world.test_users = 500;
    o.epochs = 3;
    o.verbose = false;
    o.seed = seed;
    return o;
}

Histories two_users() {
    return pad_histories({{1, 2, 3, 4, 5}, {6, 7}});
}
}  // namespace

TEST_SUITE("ch74") {

TEST_CASE("squash keeps the direction and maps |z| to |z|^2 / (1 + |z|^2)") {
    const Var u = squash(constant(Tensor({2, 2}, {3.0f, 4.0f, 0.0f, 0.0f})));
    CHECK(u.value()[0] == doctest::Approx(25.0 / 26.0 * 0.6).epsilon(1e-5));
    CHECK(u.value()[1] == doctest::Approx(25.0 / 26.0 * 0.8).epsilon(1e-5));
    CHECK(u.value()[2] == 0.0f);                     // a zero vector stays zero (no NaN)
    CHECK(u.value()[3] == 0.0f);
}

TEST_CASE("eq. 9: K'_u = max(1, min(K, log2 |I_u|))") {
    CHECK(adaptive_interests(1, 4) == 1);
    CHECK(adaptive_interests(3, 4) == 1);
    CHECK(adaptive_interests(4, 4) == 2);
    CHECK(adaptive_interests(8, 4) == 3);
    CHECK(adaptive_interests(15, 4) == 3);
    CHECK(adaptive_interests(16, 4) == 4);
    CHECK(adaptive_interests(1000, 4) == 4);
    CHECK(adaptive_interests(1000, 1) == 1);
}

TEST_CASE("routing with one capsule: u = squash(sum_i S e_i) whatever the iterations") {
    Rng rng(3);
    MindOptions o;
    o.items = 10, o.dim = 3, o.interests = 1, o.iterations = 3, o.hidden = 0;
    MIND m(o, rng);
    const Histories h = two_users();
    const Var u = m.route(h, m.capsule_mask(h));                         // (2, 1, 3)
    REQUIRE(u.shape() == Shape{2, 1, 3});
    const Tensor &E = m.items.table.value(), &S = m.S.value();
    for (int b = 0; b < 2; ++b) {
        double z[3] = {0, 0, 0}, n2 = 0;
        for (int t = 0; t < h.len[size_t(b)]; ++t)
            for (int d = 0; d < 3; ++d)
                for (int c = 0; c < 3; ++c) z[d] += double(E[size_t(h.ids[size_t(b * h.T + t)] * 3 + c)]) * S[size_t(c * 3 + d)];
        for (double x : z) n2 += x * x;
        for (int d = 0; d < 3; ++d)
            CHECK(u.value()[size_t(b * 3 + d)] == doctest::Approx(n2 / (1 + n2) * z[d] / std::sqrt(n2)).epsilon(1e-4));
    }
}

TEST_CASE("routing: padding changes nothing, inactive capsules stay zero, weights sum to 1 per behaviour") {
    Rng rng(4);
    MindOptions o;
    o.items = 10, o.dim = 4, o.interests = 4, o.hidden = 8;
    MIND m(o, rng);
    const Histories both = two_users(), alone = pad_histories({{6, 7}});
    Tensor w;
    const Var V = m.interests(both, m.capsule_mask(both), &w);           // (2, 4, 4)
    const Var V1 = m.interests(alone, m.capsule_mask(alone));            // (1, 4, 4)
    for (size_t x = 0; x < 16; ++x) CHECK(V.value()[16 + x] == doctest::Approx(V1.value()[x]).epsilon(1e-5));
    // User 1 has 5 behaviours: K' = 2, so capsules 3 and 4 are zero; user 2 has 2: K' = 1.
    for (int k = 2; k < 4; ++k)
        for (int d = 0; d < 4; ++d) CHECK(V.value()[size_t(k * 4 + d)] == 0.0f);
    for (int t = 0; t < 5; ++t) {
        double s = 0;
        for (int k = 0; k < 4; ++k) s += w[size_t(t * 4 + k)];
        CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }
    for (int k = 0; k < 4; ++k) CHECK(w[size_t((5 + 3) * 4 + k)] == 0.0f);   // user 2's padding
}

TEST_CASE("eq. 10: p = 0 averages the active interests, hard attention picks the closest one") {
    const Tensor active({1, 1, 3}, {1.0f, 1.0f, 0.0f});
    const Var V = constant(Tensor({1, 3, 2}, {1.0f, 0.0f, 0.0f, 2.0f, 9.0f, 9.0f}));
    const Var e = constant(Tensor({1, 2}, {0.0f, 1.0f}));
    const Var avg = label_aware_attention(V, e, active, 0.0f);
    CHECK(avg.value()[0] == doctest::Approx(0.5));
    CHECK(avg.value()[1] == doctest::Approx(1.0));
    const Var hard = label_aware_attention(V, e, active, -1.0f);       // the third is inactive
    CHECK(hard.value()[0] == 0.0f);
    CHECK(hard.value()[1] == 2.0f);
    const Var p2 = label_aware_attention(V, e, active, 2.0f);          // weights e^0, e^4
    const double a = 1.0 / (1.0 + std::exp(4.0));
    CHECK(p2.value()[0] == doctest::Approx(a).epsilon(1e-5));
    CHECK(p2.value()[1] == doctest::Approx(2.0 * (1.0 - a)).epsilon(1e-5));
}

TEST_CASE("gradients through dynamic routing, the ReLU layer and label-aware attention match finite differences") {
    Rng rng(9);
    MindOptions o;
    o.items = 8, o.dim = 3, o.interests = 3, o.iterations = 3, o.hidden = 4, o.routing_std = 1.0f;
    MIND m(o, rng);
    const Histories h = pad_histories({{0, 1, 2, 3, 4}, {5, 6, 7, 1}});
    const Tensor active = m.capsule_mask(h);
    const Ids target = {2, 6};
    testing::GradCheckOptions g;
    g.eps = 1e-2f;
    const float worst = testing::grad_check(
        [&](const std::vector<Var>& xs) {
            m.items.table = xs[0];
            m.S = xs[1];
            const Var V = m.interests(h, active);
            return label_aware_attention(V, m.items(target), active, 1.0f);
        },
        {Tensor::normal({8, 3}, rng, 0.0f, 0.7f), Tensor::normal({3, 3}, rng, 0.0f, 0.7f)}, g, "MIND");
    CHECK(worst <= 1.0f);
}

TEST_CASE("K independent poolings: each interest's weights sum to 1 over the behaviours, padding changes nothing") {
    Rng rng(5);
    MindOptions o;
    o.items = 10, o.dim = 4, o.interests = 4, o.hidden = 0, o.independent = true;
    MIND m(o, rng);
    const Histories both = two_users(), alone = pad_histories({{6, 7}});
    Tensor w;
    const Var V = m.interests(both, m.capsule_mask(both), &w);           // (2, 4, 4), w (2, T, 4)
    const Var V1 = m.interests(alone, m.capsule_mask(alone));
    for (size_t x = 0; x < 16; ++x) CHECK(V.value()[16 + x] == doctest::Approx(V1.value()[x]).epsilon(1e-5));
    // User 1: 5 behaviours, K' = 2. Its 2 active interests each spread weight 1 over the 5
    // behaviours, with mass 5 / 2 in z_k; the inactive ones are 0.
    for (int k = 0; k < 4; ++k) {
        double s = 0;
        for (int t = 0; t < 5; ++t) s += w[size_t(t * 4 + k)];
        CHECK(s == doctest::Approx(k < 2 ? 1.0 : 0.0).epsilon(1e-5));
    }
    const Tensor &E = m.items.table.value(), &S = m.S.value(), &Q = m.Q.value();
    double z[4] = {0, 0, 0, 0}, n2 = 0, a[5], total = 0;                // interest 0 of user 1 by hand
    for (int t = 0; t < 5; ++t) {
        double se[4] = {0, 0, 0, 0}, q = 0;
        for (int d = 0; d < 4; ++d)
            for (int c = 0; c < 4; ++c) se[d] += double(E[size_t(both.ids[size_t(t)] * 4 + c)]) * S[size_t(c * 4 + d)];
        for (int d = 0; d < 4; ++d) q += Q[size_t(d)] * se[d];
        a[t] = std::exp(q), total += a[t];
        for (int d = 0; d < 4; ++d) z[d] += a[t] * se[d];
    }
    for (double& x : z) x *= 2.5 / total, n2 += x * x;
    for (int d = 0; d < 4; ++d) CHECK(V.value()[size_t(d)] == doctest::Approx(n2 / (1 + n2) * z[d] / std::sqrt(n2)).epsilon(1e-4));
}

TEST_CASE("gradients through K independent poolings (items, S, the queries Q) match finite differences") {
    Rng rng(10);
    MindOptions o;
    o.items = 8, o.dim = 3, o.interests = 3, o.hidden = 4, o.independent = true;
    MIND m(o, rng);
    const Histories h = pad_histories({{0, 1, 2, 3, 4}, {5, 6, 7, 1}});
    const Tensor active = m.capsule_mask(h);
    const Ids target = {2, 6};
    testing::GradCheckOptions g;
    g.eps = 1e-2f;
    const float worst = testing::grad_check(
        [&](const std::vector<Var>& xs) {
            m.items.table = xs[0], m.S = xs[1], m.Q = xs[2];
            return label_aware_attention(m.interests(h, active), m.items(target), active, 1.0f);
        },
        {Tensor::normal({8, 3}, rng, 0.0f, 0.7f), Tensor::normal({3, 3}, rng, 0.0f, 0.7f), Tensor::normal({3, 3}, rng, 0.0f, 0.7f)},
        g, "MIND pools");
    CHECK(worst <= 1.0f);
}

TEST_CASE("claims over worlds at three master seeds") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Options o = small(seed);
        const Experiment e = run_experiment(o);
        const Claims c = judge(o, e);
        auto claim = [&](const char* prefix, const char* world = "main") -> const Claim& {
            for (const Claim& x : c.rows)
                if (x.world == world && x.claim.rfind(prefix, 0) == 0) return x;
            throw std::runtime_error(std::string("no claim ") + prefix + " in " + world);
        };
        auto mean = [&](const char* prefix, const char* world = "main") { return claim(prefix, world).interval().mean; };
        // Measured under g++ at seeds 1, 2, 3 (Recall@20 differences, 3 worlds of 3,000 users):
        // MIND K = 4 (p = 2) vs mean pooling -0.048, -0.083, -0.034; MIND with one interest vs mean
        // pooling +0.051, +0.003, +0.029; K = 4 vs K = 1 -0.098, -0.086, -0.063; p = 2 vs p = 0
        // -0.041, -0.077, -0.043; hard vs p = 2 -0.022, -0.013, -0.061; 3 routing iterations vs 1
        // -0.025, -0.049, -0.004; routing vs K independent poolings +0.056, +0.007, +0.020. clang++
        // gave the same to three decimals (e.g. +0.0559 against +0.0560). The paper's orderings
        // of K, p and r are not reproduced here: asserted as measured bounds.
        CHECK(claim("MIND with one interest above").verdict() != Verdict::fails);
        for (const char* x : {"MIND with K = 4 above", "label-aware attention: p = 2", "label-aware attention: hard",
                              "MIND (K = 4, p = 2) above", "dynamic routing"})
            CHECK_MESSAGE(claim(x).verdict() != Verdict::holds, x);
        CHECK(mean("MIND (K = 4, p = 2) above") < 0.005);
        CHECK(mean("MIND with K = 4 above") < 0.0);
        CHECK(mean("label-aware attention: p = 2") < 0.0);
        CHECK(mean("label-aware attention: hard") < 0.005);
        CHECK(mean("dynamic routing") < 0.01);
        CHECK(claim("B2I routing above K independent").verdict() != Verdict::fails);
        CHECK(mean("B2I routing above K independent") > -0.005);
        // The routing still groups behaviours by planted cluster: its Rand index rises in every world
        // (smallest rise 0.041).
        for (const Results& w : e.main) CHECK(w.results[kP2].rand_index > w.results[kP2].rand_index_untrained + 0.02);

        // The control cell (one interest per user). The default run (8 worlds of 10,000 users, 4
        // epochs; book/ch74_mind.md) decides: hard above p = 2 fails (-0.064), 3 routing iterations
        // above 1 fails (-0.016), B2I routing above K poolings holds (+0.123), the other four
        // inconclusive (K = 4 vs mean pooling -0.011, one interest vs mean pooling -0.006, K = 4 vs
        // K = 1 -0.005, p = 2 vs p = 0 +0.020). Here, at seeds 1, 2, 3 (g++ -O2, AMD EPYC), some
        // worlds train badly and the intervals span up to +-0.46: K = 4 vs mean pooling -0.117,
        // -0.121 (fails), -0.023; one interest vs mean pooling +0.025, +0.064, +0.045; K = 4 vs
        // K = 1 -0.142, -0.185, -0.068; p = 2 vs p = 0 +0.072, -0.052, +0.018; hard vs p = 2
        // -0.058, -0.056, -0.117; 3 iterations vs 1 -0.015, -0.088, +0.049; B2I vs poolings
        // +0.042, +0.027, -0.014, every one inconclusive but the one marked. Neither 3,000 users
        // with 5 epochs nor 5,000 with 3 (about as long as this cell again) settled them: the
        // default's inconclusive verdicts are asserted where all three seeds give them, the rest
        // (K = 4 vs mean pooling, and the three the default decides) as measured bounds.
        for (const char* x : {"MIND with one interest above", "MIND with K = 4 above", "label-aware attention: p = 2"})
            CHECK_MESSAGE(claim(x, "control").verdict() == Verdict::inconclusive, x);
        CHECK(claim("MIND (K = 4, p = 2) above", "control").verdict() != Verdict::holds);
        CHECK(mean("MIND (K = 4, p = 2) above", "control") < 0.0);
        CHECK(claim("label-aware attention: hard", "control").verdict() != Verdict::holds);
        CHECK(mean("label-aware attention: hard", "control") < -0.03);
        CHECK(claim("dynamic routing", "control").verdict() != Verdict::holds);
        CHECK(mean("dynamic routing", "control") < 0.08);
        CHECK(claim("B2I routing above K independent", "control").verdict() != Verdict::fails);
        CHECK(mean("B2I routing above K independent", "control") > -0.04);
    }
}

TEST_CASE("--data: next_item_data cuts each user's training items into (last max_history items, next item)") {
    datasets::NextItemSplit split;
    split.num_items = 10;
    split.users.push_back({0, {1, 2, 3, 4, 5}, 6, 7});
    split.users.push_back({1, {8, 9}, 1, 2});
    const World w = datasets::next_item_data(split, 3, 2);
    CHECK(w.opt.items() == 10);
    REQUIRE(w.train.size() == 4);   // user 0: items at positions 2, 3, 4; user 1: at position 1
    CHECK(w.train[0].history == Ids{1, 2});
    CHECK(w.train[0].targets == Ids{3});
    CHECK(w.train[2].history == Ids{3, 4});
    CHECK(w.train[2].targets == Ids{5});
    CHECK(w.train[3].history == Ids{8});
    CHECK(w.train[3].targets == Ids{9});
    REQUIRE(w.test.size() == 2);
    CHECK(w.test[0].history == Ids{5, 6});   // the validation item is history for the test item
    CHECK(w.test[0].targets == Ids{7});
    CHECK(w.test[1].history == Ids{9, 1});
}

TEST_CASE("--data: every model and popularity get finite metrics; a corrupted u.item is refused with its line") {
    const MovieLensGenreFixture fx("ch74_run", 40, 150, 14);
    Options o;
    o.worlds = 2, o.epochs = 1, o.batch = 64, o.verbose = false;
    const RealData real = datasets::next_item_world(datasets::load_movielens_100k(fx.dir), 50, 50, 7);
    o.world = real.data.opt;
    const Experiment e = run_experiment(o, &real);
    REQUIRE(e.main.size() == 2);
    CHECK(e.control.empty());
    std::vector<datasets::NextItemQuality> all = {e.popularity};
    for (const Results& w : e.main)
        for (const Result& r : w.results) all.push_back(r.q);
    CHECK(all.size() == 1 + 2 * o.specs.size());
    for (const datasets::NextItemQuality& q : all) {
        CHECK(q.users == 40);
        for (double x : {q.hr, q.ndcg, q.mrr, q.hr_full, q.ndcg_full, q.mrr_full}) CHECK((std::isfinite(x) && x >= 0 && x <= 1));
        CHECK(q.mrr > 0);
    }
    const Claims c = judge(o, e);
    CHECK(c.find("MIND (K = 4, p = 2) above mean pooling (YouTube DNN), HR@10 (full ranking)", "ML-100k").diffs.size() == 2);
    fx.corrupt("u.item", 5, "5|Movie 5 (1995)|01-Jan-1995||");   // too few fields
    bool used = false;
    const std::string error = data_flag_error(fx.dir, &used);
    MESSAGE(error);
    CHECK(error.find("u.item line 5") != std::string::npos);
    CHECK(!used);
}

}  // TEST_SUITE
