// Chapter 51: EGES's weighted aggregation and the skip-gram loss against finite differences and
// their formulas, and the chapter's claims judged over paired worlds on a small configuration of
// the tutorial's experiment (tutorials/ch51_cold_start.h), for three master seeds.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch51_cold_start.h"

using namespace minirec;
using namespace minirec::ch51;

namespace {
// The claims' configuration: 3 worlds of 600 users, 2 epochs of 20,000 pairs, main world only, per master seed.
Options small_options(uint64_t seed) {
    Options o;
    o.worlds = 3, o.data.num_users = 600, o.epochs = 2, o.pairs_per_epoch = 20000, o.seed = seed, o.control = false;
    return o;
}

ItemFields tiny_fields() {
    ItemFields f;
    f.names = {"id", "tag", "keywords"};
    f.vocab = {3, 2, 4};
    f.ids = {{{0}, {1}, {2}}, {{0}, {1}, {1}}, {{0, 1}, {2}, {1, 3}}};
    return f;
}
}  // namespace

TEST_SUITE("ch51") {

TEST_CASE("smoothed CTR and cosine: worked examples") {
    // 3 clicks in 10 impressions, shrunk with m = 10 towards a prior of 0.1: (3 + 1) / 20 = 0.2.
    CHECK(smoothed_ctr(3, 10, 0.1, 10) == doctest::Approx(0.2));
    CHECK(smoothed_ctr(0, 0, 0.1, 10) == doctest::Approx(0.1));   // never seen: the prior
    const float a[] = {1, 0, 1}, b[] = {1, 1, 0}, z[] = {0, 0, 0};
    CHECK(cosine(a, b, 3) == doctest::Approx(0.5));
    CHECK(cosine(a, z, 3) == 0.0);
}

TEST_CASE("group popularity and profile cosine: worked examples") {
    // Two groups, two items; m = 2. Group 0 saw item 0 twice and clicked once: (1 + 2 * 0.1) / 4.
    GroupCounts c(2, 2);
    c.add(0, 0, 1.0), c.add(0, 0, 0.0), c.add(1, 1, 1.0);
    const std::vector<double> prior = {0.1, 0.5};
    const std::vector<float> s = group_popularity(c, {{0}, {0, 1}}, prior, 2.0);   // (U = 2, N = 2)
    CHECK(s[0] == doctest::Approx(0.3));                          // group 0, item 0
    CHECK(s[1] == doctest::Approx(0.5));                          // never seen: the prior
    CHECK(s[2] == doctest::Approx((0.3 + 0.1) / 2));              // mean over groups 0 and 1
    CHECK(s[3] == doctest::Approx((0.5 + (1 + 1.0) / 3) / 2));
    // Items (1, 0), (0, 1), (1, 1); user 0 clicked items 0 and 2: profile (2, 1).
    const std::vector<float> v = {1, 0, 0, 1, 1, 1};
    const std::vector<float> p = profile_cosine({{0, 2}, {}}, v, 2);
    CHECK(p[0] == doctest::Approx(2 / std::sqrt(5.0)));
    CHECK(p[1] == doctest::Approx(1 / std::sqrt(5.0)));
    CHECK(p[2] == doctest::Approx(3 / std::sqrt(10.0)));
    CHECK(p[3] == 0.0f);                                          // no clicks, no profile
}

TEST_CASE("eq. 5: EGES aggregation has the gradient of its formula") {
    Rng rng(3);
    const Tensor a = Tensor::normal({2, 3}, rng), e = Tensor::normal({2, 3, 4}, rng);
    const float worst = testing::grad_check([](const std::vector<Var>& x) { return eges_aggregate(x[0], x[1]); }, {a, e});
    CHECK(worst <= 1.0f);
}

TEST_CASE("eq. 6 with negatives: skip-gram loss value and gradient") {
    Rng rng(4);
    const Tensor h = Tensor::normal({2, 3}, rng), zp = Tensor::normal({2, 3}, rng), zn = Tensor::normal({2, 2, 3}, rng);
    const Var loss = skipgram_loss(constant(h), constant(zp), constant(zn));
    double want = 0.0;
    for (int b = 0; b < 2; ++b) {
        auto dot = [&](const float* z) {
            double s = 0.0;
            for (int d = 0; d < 3; ++d) s += double(h[size_t(b * 3 + d)]) * z[d];
            return s;
        };
        want -= std::log(1.0 / (1.0 + std::exp(-dot(zp.data() + b * 3)))) / 2.0;
        for (int k = 0; k < 2; ++k) want -= std::log(1.0 / (1.0 + std::exp(dot(zn.data() + (b * 2 + k) * 3)))) / 2.0;
    }
    CHECK(loss.item() == doctest::Approx(want).epsilon(1e-5));
    const float worst = testing::grad_check([](const std::vector<Var>& x) { return skipgram_loss(x[0], x[1], x[2]); }, {h, zp, zn});
    CHECK(worst <= 1.0f);
}

TEST_CASE("EGES: zero weights give GES's plain average, cold items average their side information") {
    Rng rng(5);
    const ItemFields f = tiny_fields();
    const EGES eges(f, 4, 2, Aggregation::eges, rng);
    EGES ges = eges;
    ges.mode = Aggregation::ges;
    const Ids items = {0, 2};
    const Tensor he = eges.embed(f, items).value(), hg = ges.embed(f, items).value();
    for (size_t i = 0; i < he.size(); ++i) CHECK(he[i] == doctest::Approx(hg[i]));
    // Item 2, cold: (W_tag[1] + (W_kw[1] + W_kw[3]) / 2) / 2.
    const Tensor hc = eges.embed_cold(f, {2}).value();
    const Tensor &wt = eges.field[1].table.value(), &wk = eges.field[2].table.value();
    for (int d = 0; d < 2; ++d)
        CHECK(hc[size_t(d)] == doctest::Approx((wt[size_t(2 + d)] + (wk[size_t(2 + d)] + wk[size_t(6 + d)]) / 2) / 2));
    // BGE uses the id row alone.
    EGES bge = eges;
    bge.mode = Aggregation::bge;
    const Tensor hb = bge.embed(f, {1}).value(), wid = eges.field[0].table.value();
    CHECK(hb[0] == doctest::Approx(wid[2]));
    CHECK(hb[1] == doctest::Approx(wid[3]));
}

TEST_CASE("EGES scores: Z_u' H_v with warm items through embed, cold ones through embed_cold") {
    Rng rng(6);
    const ItemFields f = tiny_fields();
    EGES m(f, 4, 2, Aggregation::eges, rng);
    m.attention.table = parameter(Tensor::normal({3, 3}, rng));
    const std::vector<float> side = m.mean_side_weights({0, 1});                  // over warm items 0, 1
    const Tensor a = m.weights({0, 1});
    CHECK(side[0] == doctest::Approx((a[1] + a[4]) / (a[1] + a[4] + a[2] + a[5])));
    CHECK(side[0] + side[1] == doctest::Approx(1.0));
    const Tensor S = m.scores(f, {false, false, true}, &side);                    // (C = 4, N = 3)
    REQUIRE(S.shape() == Shape{4, 3});
    const Tensor warm = m.embed(f, {1}).value(), cold = m.embed_cold(f, {2}, &side).value();
    const Tensor& Z = m.context.table.value();
    for (int u = 0; u < 4; ++u) {
        CHECK(S[size_t(u * 3 + 1)] == doctest::Approx(Z[size_t(u * 2)] * warm[0] + Z[size_t(u * 2 + 1)] * warm[1]));
        CHECK(S[size_t(u * 3 + 2)] == doctest::Approx(Z[size_t(u * 2)] * cold[0] + Z[size_t(u * 2 + 1)] * cold[1]));
    }
}

// Measured at this configuration for master seeds 1, 2, 3 (share of the oracle's lift): the three
// new-user claims held for every seed (+0.116..+0.128, +0.301..+0.327, +0.212..+0.249); EGES's
// id weight rose from the rarest to the most frequent fifth of warm items (+0.016, +0.022, +0.017:
// holds; in the default run, with 10 epochs, it falls -- book/ch51_cold_start.md); EGES's cold
// embedding beat a random order by +0.086, +0.079, +0.076 (holds, holds, inconclusive); GES beat
// BGE by +0.033, +0.055, +0.025 (one holds); EGES against GES +0.042, +0.005, +0.003 (inconclusive
// for every seed). We assert what held at every seed, and the measured state of the others.
TEST_CASE("claims over three master seeds") {
    for (uint64_t seed : {1, 2, 3}) {
        const Options o = small_options(seed);
        const Claims c = judge(o, run_experiment(o));
        for (const Claim& x : c.rows) {
            const Interval ci = x.interval();
            MESSAGE("seed " << seed << " " << x.claim << ": " << ci.mean << " [" << ci.lo << ", " << ci.hi << "] "
                            << std::string(verdict_name(x.verdict())));
        }
        for (const char* u : {"new users: popularity above random", "new users: popularity in demographic cell above popularity",
                              "new users: popularity among same interest tags above popularity",
                              "EGES's weight on the id higher on the most frequent fifth of warm items than on the rarest"})
            CHECK_MESSAGE(c.find(u).verdict() == Verdict::holds, u);
        CHECK(c.find("new items: EGES's cold embedding (side information alone) above popularity (a random order for "
                     "never-shown items)").interval().mean > 0.05);
        CHECK(c.find("new items: GES above BGE (id only)").interval().mean > 0.01);
        CHECK(c.find("new items: EGES above GES").verdict() == Verdict::inconclusive);
    }
}

}  // TEST_SUITE
