// Chapter 63: SDM's pieces against their formulas (user-attention pooling, eq. 11's gate, the
// item embedding of eq. 2), finite-difference gradients through the whole user tower, the planted
// world (ordered sessions) and its exact oracle, and the chapter's verdicts on a small
// configuration over three master seeds.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "tests/gradcheck.h"
#include "tests/movielens_fixture.h"
#include "tutorials/ch63_sdm.h"

using namespace minirec;
using namespace minirec::ch63;

namespace {
SdmOptions tiny(Fusion f) {
    SdmOptions o;
    o.items = 6, o.categories = 2, o.shops = 3, o.profiles = 2, o.field_dim = 2, o.heads = 2, o.fusion = f;
    return o;
}
Catalogue tiny_catalogue() { return {{0, 0, 0, 1, 1, 1}, {0, 1, 2, 0, 1, 2}}; }

}  // namespace

TEST_SUITE("ch63") {

TEST_CASE("attention pooling: softmax of key . query over the real keys, padding gets nothing") {
    const Var keys = constant(Tensor({1, 3, 2}, {1.0f, 0.0f, 0.0f, 1.0f, 5.0f, 5.0f}));
    const Var query = constant(Tensor({1, 2}, {2.0f, 0.0f}));
    const Tensor mask({1, 3}, {1.0f, 1.0f, 0.0f});
    Var w;
    const Var z = attention_pool(keys, query, mask, &w);
    const double a = std::exp(2.0) / (std::exp(2.0) + 1.0);
    CHECK(w.value()[0] == doctest::Approx(a).epsilon(1e-5));
    CHECK(w.value()[2] == 0.0f);
    CHECK(z.value()[0] == doctest::Approx(a).epsilon(1e-5));
    CHECK(z.value()[1] == doctest::Approx(1.0 - a).epsilon(1e-5));
}

TEST_CASE("eq. 2: an item is the concat of its id, category and shop embeddings") {
    Rng rng(1);
    SDM m(tiny(Fusion::gated), tiny_catalogue(), rng);
    const Var e = m.items({4});
    REQUIRE(e.shape() == Shape{1, 6});
    CHECK(e.value()[0] == m.item_id.table.value()[8]);
    CHECK(e.value()[2] == m.category.table.value()[2]);   // item 4: category 1
    CHECK(e.value()[4] == m.shop.table.value()[2]);       // item 4: shop 1
}

TEST_CASE("eq. 11: o = (1 - G) p + G s with G = sigmoid(W [e_u, s, p] + b)") {
    Rng rng(2);
    SDM gated(tiny(Fusion::gated), tiny_catalogue(), rng);
    const Padded session = pad({{1, 2}, {4}}), past = pad({{0, 3, 5}, {2, 2}});
    const Ids profiles = {0, 1};
    Var G;
    const Var o = gated.user(profiles, session, past, &G);
    const Var e_u = gated.profile(profiles);
    const Var s = gated.short_term(session, e_u), p = gated.long_term_vector(past, e_u);
    const Var want_G = sigmoid(gated.gate(concat({e_u, s, p}, 1)));
    for (size_t x = 0; x < o.size(); ++x) {
        CHECK(G.value()[x] == doctest::Approx(want_G.value()[x]).epsilon(1e-5));
        const double g = G.value()[x];
        CHECK(o.value()[x] == doctest::Approx((1 - g) * p.value()[x] + g * s.value()[x]).epsilon(1e-4));
    }
}

TEST_CASE("gradients through the user tower (LSTM, self-attention, user attention, long-term sets, gate) match finite differences") {
    Rng rng(3);
    SDM m(tiny(Fusion::gated), tiny_catalogue(), rng);
    const Padded session = pad({{1, 2, 0}, {4}}), past = pad({{0, 3, 5}, {2, 2}});
    const Ids profiles = {0, 1};
    testing::GradCheckOptions g;
    g.eps = 1e-2f;
    const float worst = testing::grad_check(
        [&](const std::vector<Var>& xs) {
            m.item_id.table = xs[0];
            m.shop.table = xs[1];
            m.profile.table = xs[2];
            return m.user(profiles, session, past);
        },
        {Tensor::normal({6, 2}, rng, 0.0f, 0.5f), Tensor::normal({3, 2}, rng, 0.0f, 0.5f),
         Tensor::normal({2, 6}, rng, 0.0f, 0.5f)},
        g, "SDM user tower");
    CHECK(worst <= 1.0f);
}

TEST_CASE("the planted world: deterministic, ordered sessions, and the oracle's probabilities sum to 1") {
    datasets::SessionOptions o;
    o.train_users = 20, o.test_users = 200;
    const datasets::SessionWorld a = datasets::session_world(o), b = datasets::session_world(o);
    int switched = 0;
    for (size_t i = 0; i < a.test.size(); ++i) {
        const datasets::SessionUser& u = a.test[i];
        CHECK(u.session == b.test[i].session);
        CHECK(u.past == b.test[i].past);
        CHECK(u.target == b.test[i].target);
        CHECK(a.category[size_t(u.session.back())] == u.intent);   // the next item follows the LAST item's category
        CHECK(a.category[size_t(u.target)] == u.intent);
        switched += a.category[size_t(u.session.front())] != u.intent;
        const std::vector<double> p = datasets::next_item_probabilities(a, u);
        CHECK(std::accumulate(p.begin(), p.end(), 0.0) == doctest::Approx(1.0));
        CHECK(p[size_t(u.target)] > 0.0);
    }
    CHECK(switched > 50);                                          // order matters: the first item often misleads
    o.drifters = false;
    for (const datasets::SessionUser& u : datasets::session_world(o).test) CHECK(!u.drifter);
    o.profiles = 1;
    CHECK_THROWS(datasets::session_world(o));
}

namespace {
const std::vector<Claims>& judged_small() {
    static const std::vector<Claims> all = [] {
        std::vector<Claims> out;
        for (uint64_t seed : {1, 2, 3}) {
            Options o = quick_options();
            o.worlds = 3;
            o.world.train_users = 1000, o.world.test_users = 500, o.epochs = 4;
            o.control = false;
            o.verbose = false;
            o.seed = seed;
            out.push_back(judge(o, run_experiment(o)));
        }
        return out;
    }();
    return all;
}
}  // namespace

// Measured on this configuration (main world only; tutorial: --train-users 1000 --test-users 500
// --epochs 4 --worlds 3 --seed S, its main rows): the models are undertrained here, and the gate
// does not beat add, nor the short-term vector alone. The default run is on book/ch63_sdm.md.
TEST_CASE("verdicts over three master seeds: the gate's lead is bounded; it leans on the session for drifters") {
    for (const Claims& c : judged_small()) {
        REQUIRE(c.rows.size() == 4);
        const Claim& add = c.find("the gated fusion's HR@10 above add's");
        CHECK(add.verdict() != Verdict::holds);
        CHECK(add.interval().mean < 0.005);                           // measured -0.0287 .. -0.0033
        CHECK(c.find("the gated fusion's HR@10 above concat's").interval().mean < 0.03);   // -0.0047 .. +0.0167
        const Claim& longterm = c.find("long-term preference helps: gated above short-term only");
        CHECK(longterm.verdict() != Verdict::holds);
        CHECK(longterm.interval().mean < 0.0);                        // measured -0.0367 .. -0.0220
        CHECK(c.find("the gate leans on the session (larger G) for drifters than for loyal users").interval().mean > 0.005);   // +0.009 .. +0.018
        for (const Claims::Sanity& s : c.sanity) CHECK(s.ok);
    }
}

TEST_CASE("sessions by a time gap: lengths by hand") {
    using datasets::TimedItem;
    const std::vector<std::vector<TimedItem>> h = {{{0, 5, 0}, {1, 5, 60}, {2, 5, 7260}, {3, 5, 7300}, {4, 5, 7400}}, {{5, 3, 10}}};
    const datasets::SessionLengths a = datasets::session_lengths(h, 3600);   // sessions 2, 3 and 1
    CHECK(a.sessions == 3u);
    CHECK(a.mean == doctest::Approx(2.0));
    CHECK(a.median == 2);
    CHECK(a.single == doctest::Approx(1.0 / 3));
    CHECK(datasets::session_lengths(h, 100000).sessions == 2u);
}

// The --data path on a MovieLens-format fixture the test writes itself (40 users, 150 items, one
// rating a minute with two-day pauses): the examples' sessions never cross a pause, the test
// examples follow the split, every model and popularity get finite metrics, and a damaged u.data
// is refused with its file and line.
TEST_CASE("--data: MovieLens-format fixture, sessions by the gap, finite metrics; a damaged file names its line") {
    const testing::MovieLensFixture fx;
    const datasets::MovieLens100k ml = datasets::load_movielens_100k(fx.dir);
    const datasets::NextItemSplit s = datasets::movielens_next_item(fx.dir);
    const datasets::SessionWorld w = datasets::movielens_sessions(ml, s, 3600, 10, 50);
    REQUIRE(w.test.size() == s.users.size());
    CHECK(w.category.size() == 150u);
    for (size_t b = 0; b < s.users.size(); ++b) {
        CHECK(w.test[b].target == s.users[b].test);
        CHECK(!w.test[b].session.empty());
        CHECK(!w.test[b].past.empty());
        CHECK(int(w.test[b].session.size()) <= 6);                    // the fixture pauses every 3-6 ratings
    }
    Options o;
    o.worlds = 2, o.epochs = 1, o.field_dim = 4, o.negatives = 8, o.batch = 64, o.verbose = false;
    const std::vector<RealRun> runs = run_real(o, w, s);
    REQUIRE(runs.size() == 2u);
    for (const RealRun& run : runs)
        for (const datasets::NextItemQuality& q : run) {
            for (double v : {q.hr, q.ndcg, q.mrr, q.hr_full, q.ndcg_full, q.mrr_full}) CHECK((std::isfinite(v) && v >= 0 && v <= 1));
            CHECK(q.hr >= q.hr_full);
        }
    CHECK(judge_real(runs).find("the gated fusion's NDCG@10 above add (o = s + p)'s", "MovieLens-100k").diffs.size() == 2u);
    fx.corrupt("u.data", 9, "1\t2\t3");
    try {
        datasets::load_movielens_100k(fx.dir);
        FAIL("a damaged u.data was accepted");
    } catch (const datasets::DataError& e) {
        CHECK(std::string(e.what()).find("u.data line 9") != std::string::npos);
    }
}

}  // TEST_SUITE
