// Chapter 51: the world's planted structure (datasets/ch51_item_graph.h), sessions, the item graph
// and its weighted walks on worked examples, the hand-written SGNS step of BGE / GES / EGES against
// finite differences, and the chapter's claims judged over paired worlds on a small configuration
// of the tutorial's experiment (tutorials/ch51_cold_start.h), for three master seeds.
#include <doctest/doctest.h>

#include <array>
#include <cmath>

#include "tests/movielens_genre_fixture.h"
#include "tutorials/ch51_cold_start.h"
#include "tutorials/common/next_item_report.h"

using namespace minirec;
using namespace minirec::ch51;

namespace {
// The claims' configuration: 3 worlds per cell of 400 items and 600 users, 5 walks per node.
Options small_options(uint64_t seed) {
    Options o;
    o.worlds = 3, o.data.items = 400, o.data.users = 600, o.sgns.walks_per_node = 5, o.seed = seed;
    return o;
}

SideInfo tiny_side() {
    SideInfo s;
    s.vocab = {3, 2, 4};
    s.value = {{0, 1, 2}, {0, 1, 1}, {3, 2, 0}};
    return s;
}
}  // namespace

TEST_SUITE("ch51") {

TEST_CASE("world: category and shop reveal the cluster in the main world, not in the control") {
    for (bool informative : {true, false}) {
        datasets::ItemGraphOptions o;
        o.informative_side = informative;
        const datasets::ItemGraphWorld w = datasets::item_graph_world(o);
        double same_category = 0, same_shop = 0, cold = 0;
        for (int i = 0; i < o.items; ++i) {
            same_category += w.category[size_t(i)] == w.cluster[size_t(i)] / (o.clusters / o.categories);
            same_shop += w.shop[size_t(i)] % o.clusters == w.cluster[size_t(i)];
            cold += w.cold[size_t(i)];
        }
        same_category /= o.items, same_shop /= o.items, cold /= o.items;
        if (informative) {
            CHECK(same_category == 1.0);
            CHECK(same_shop == doctest::Approx(0.8 + 0.2 / 40).epsilon(0.05));   // fidelity + chance
        } else {
            CHECK(same_category == doctest::Approx(0.1).epsilon(0.3));            // chance: 1 / categories
            CHECK(same_shop == doctest::Approx(1.0 / 40).epsilon(0.5));
        }
        CHECK(cold == doctest::Approx(0.05).epsilon(0.3));
        // Sessions are recovered by the one-hour cut; consecutive clicks share a cluster with
        // probability stay^2 plus chance (0.95^2 = 0.90); the top tenth of items draws over half the clicks.
        double pairs = 0, same = 0, clicks = 0;
        std::vector<double> per_item(size_t(o.items), 0.0);
        for (const std::vector<datasets::Click>& log : w.logs)
            for (const std::vector<int>& s : datasets::cut_sessions(log)) {
                REQUIRE(int(s.size()) >= o.min_clicks);
                REQUIRE(int(s.size()) <= o.max_clicks);
                for (size_t k = 0; k < s.size(); ++k) {
                    per_item[size_t(s[k])] += 1.0, clicks += 1.0;
                    if (k > 0) pairs += 1.0, same += w.cluster[size_t(s[k - 1])] == w.cluster[size_t(s[k])];
                }
            }
        CHECK(same / pairs > 0.88);
        CHECK(same / pairs < 0.93);
        std::sort(per_item.rbegin(), per_item.rend());
        double top = 0;
        for (int i = 0; i < o.items / 10; ++i) top += per_item[size_t(i)];
        CHECK(top / clicks > 0.5);
    }
}

TEST_CASE("sessions, edge counts and the CSR graph: worked example") {
    const std::vector<datasets::Click> log = {{4, 0}, {5, 100}, {4, 200}, {5, 5000}, {5, 5100}, {6, 5200}};
    const std::vector<std::vector<int>> s = datasets::cut_sessions(log);   // gap 4800 s > 1 hour
    REQUIRE(s.size() == 2);
    CHECK(s[0] == std::vector<int>{4, 5, 4});
    CHECK(s[1] == std::vector<int>{5, 5, 6});
    const std::vector<datasets::Edge> e = datasets::count_edges({{4, 5, 4}, {5, 5, 6}, {4, 5}});
    REQUIRE(e.size() == 3);   // 4->5 twice, 5->4 once, 5->6 once; the self-loop 5->5 is dropped
    CHECK((e[0].from == 4 && e[0].to == 5 && e[0].weight == 2.0));
    CHECK((e[1].from == 5 && e[1].to == 4 && e[1].weight == 1.0));
    CHECK((e[2].from == 5 && e[2].to == 6 && e[2].weight == 1.0));
    const datasets::ItemGraph g = datasets::make_graph(7, e);
    CHECK(g.begin[4] == 0);
    CHECK(g.begin[5] == 1);
    CHECK(g.begin[6] == 3);
    CHECK(g.out_weight(5) == 2.0);
    CHECK(g.out_weight(6) == 0.0);
}

TEST_CASE("weighted walks: transitions in proportion to edge weights, stop at a node without out-edges") {
    // 0 -> 1 (weight 3), 0 -> 2 (weight 1), 1 -> 0 (weight 1); 2 has no out-edges.
    const datasets::ItemGraph g = datasets::make_graph(3, {{0, 1, 3.0}, {0, 2, 1.0}, {1, 0, 1.0}});
    Rng rng(7);
    double from0 = 0, to1 = 0;
    for (const std::vector<int>& walk : random_walks(g, 2000, 10, rng)) {
        CHECK(walk.size() >= 2);
        for (size_t k = 1; k < walk.size(); ++k) {
            CHECK(walk[k - 1] != 2);   // nothing leaves 2
            if (walk[k - 1] == 0) from0 += 1, to1 += walk[k] == 1;
            if (walk[k - 1] == 1) CHECK(walk[k] == 0);
        }
        CHECK((walk.size() == 10 || walk.back() == 2));
    }
    CHECK(to1 / from0 == doctest::Approx(0.75).epsilon(0.03));   // 3 / (3 + 1); about 13,000 steps
}

TEST_CASE("BGE, GES, EGES: H_v from the fields; zero weights give GES; cold items average their side information") {
    Rng rng(5);
    const SideInfo s = tiny_side();
    Eges eges(s, 2, Aggregation::eges, rng);
    Eges ges = eges, bge = eges;
    ges.mode = Aggregation::ges, bge.mode = Aggregation::bge;
    for (int d = 0; d < 2; ++d) {
        const float mean = (eges.row(s, 0, 2)[d] + eges.row(s, 1, 2)[d] + eges.row(s, 2, 2)[d]) / 3;
        CHECK(ges.embed(s, 2)[size_t(d)] == doctest::Approx(mean));
        CHECK(eges.embed(s, 2)[size_t(d)] == doctest::Approx(mean));                 // a_v = 0
        CHECK(bge.embed(s, 2)[size_t(d)] == doctest::Approx(eges.row(s, 0, 2)[d]));
        CHECK(eges.embed(s, 2, true)[size_t(d)] == doctest::Approx((eges.row(s, 1, 2)[d] + eges.row(s, 2, 2)[d]) / 2));
    }
    eges.A = {0, 0, 0, 0, 0, 0, std::log(2.0f), 0, std::log(3.0f)};                   // item 2: weights 2:1:3
    const std::vector<float> w = eges.field_weights(2);
    CHECK(w[0] == doctest::Approx(2.0 / 6));
    CHECK(w[2] == doctest::Approx(3.0 / 6));
}

TEST_CASE("eq. 5 and eq. 6: the SGD step is -lr times the finite-difference gradient, for all three models") {
    const SideInfo s = tiny_side();
    const std::vector<int> ctx = {1, 0, 1, 2};   // positive 1, negatives 0, 1 (a repeat), 2
    for (Aggregation mode : {Aggregation::bge, Aggregation::ges, Aggregation::eges}) {
        Rng rng(11);
        Eges m(s, 3, mode, rng);
        for (float& z : m.Z) z = rng.normal(0.0f, 0.5f);
        for (float& a : m.A) a = rng.normal(0.0f, 0.5f);
        for (std::vector<float>& t : m.W)
            for (float& x : t) x = rng.normal(0.0f, 0.5f);
        Eges after = m;
        after.step(s, 2, ctx, 1.0f);   // lr = 1: before - after is the gradient
        auto check = [&](std::vector<float>& p, const std::vector<float>& q) {
            for (size_t k = 0; k < p.size(); ++k) {
                const float keep = p[k], eps = 1e-2f;
                p[k] = keep + eps;
                const double up = m.loss(s, 2, ctx);
                p[k] = keep - eps;
                const double down = m.loss(s, 2, ctx);
                p[k] = keep;
                CHECK(double(keep - q[k]) == doctest::Approx((up - down) / (2 * eps)).epsilon(0.01).scale(1e-3));
            }
        };
        check(m.Z, after.Z);
        for (size_t j = 0; j < m.W.size(); ++j) check(m.W[j], after.W[j]);
        check(m.A, after.A);   // zero gradient for BGE and GES (the weights are fixed)
    }
}

TEST_CASE("eq. 6: the loss on a worked example") {
    const SideInfo s = tiny_side();
    Rng rng(3);
    Eges m(s, 2, Aggregation::bge, rng);
    m.W[0] = {1, 0, 0, 1, 2, 0};
    m.Z = {1, 1, 0, 1, -1, 0};
    // H_2 = (2, 0); positive u = 0: H'Z = 2; negative u = 2: H'Z = -2.
    const double want = std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-2.0));
    CHECK(m.loss(s, 2, {0, 2}) == doctest::Approx(want));
}

// Measured at this configuration (g++), master seeds 1, 2, 3, mean difference per claim:
//   main:    GES - BGE +0.205, +0.216, +0.210; EGES - BGE +0.205, +0.218, +0.215; cold EGES -
//            popularity +0.224, +0.245, +0.194 (all hold); EGES - GES +0.000, +0.001, +0.005
//            (inconclusive); id weight, top fifth - rarest fifth -0.035, -0.037, -0.039 (fails).
//   control: GES - BGE -0.127, -0.126, -0.132; EGES - BGE -0.131, -0.134, -0.145; cold -0.181,
//            -0.139, -0.127; id weight -0.015, -0.016, -0.017 (all fail); EGES - GES -0.004,
//            -0.007, -0.013 (inconclusive, inconclusive, fails).
// We assert the verdicts that were the same at every seed, and bounds around EGES - GES: not better
// than GES by more than 0.02 in the main world, not better at all (+0.01 room) in the control.
TEST_CASE("claims over three master seeds") {
    const char* kEgesGes = "link prediction AUC: EGES above GES";
    const char* kHolds[] = {"link prediction AUC: GES above BGE", "link prediction AUC: EGES above BGE",
                            "cold items (no behaviour): EGES's side-information embedding above popularity, AUC of their held-out edges"};
    const char* kWeight = "EGES's weight on the id higher on the most frequent fifth of warm items than on the rarest";
    for (uint64_t seed : {1, 2, 3}) {
        const Options o = small_options(seed);
        const Claims c = judge(o, run_experiment(o));
        for (const Claim& x : c.rows) {
            const Interval ci = x.interval();
            MESSAGE("seed " << seed << " " << x.world << " " << x.claim << ": " << ci.mean << " [" << ci.lo << ", " << ci.hi << "] "
                            << std::string(verdict_name(x.verdict())));
        }
        for (const char* claim : kHolds) {
            CHECK_MESSAGE(c.find(claim, "main").verdict() == Verdict::holds, claim);
            CHECK_MESSAGE(c.find(claim, "control").verdict() == Verdict::fails, claim);
        }
        CHECK(c.find(kWeight, "main").verdict() == Verdict::fails);
        CHECK(c.find(kWeight, "control").verdict() == Verdict::fails);
        CHECK(std::abs(c.find(kEgesGes, "main").interval().mean) < 0.02);
        CHECK(c.find(kEgesGes, "control").interval().mean < 0.01);
    }
}

TEST_CASE("--data: movielens_item_graph gives genres, decades, a seeded cold tenth and time-ordered logs") {
    const MovieLensGenreFixture fx("ch51_graph", 30, 150, 12);
    const datasets::MovieLens100k ml = datasets::load_movielens_100k(fx.dir);
    const datasets::ItemGraphWorld w = datasets::movielens_item_graph(ml, 0.1, 3);
    CHECK(w.opt.items == 150);
    CHECK(w.category[3] == 4);    // item 4 of the file: genre 1 + 3 % 5 only
    CHECK(w.brand[3] == 19);      // no second genre
    CHECK(w.category[7] == 3);    // item 8: genres 3 and Drama (8)
    CHECK(w.brand[7] == 8);
    CHECK(w.shop[0] == 7);        // released in 1995: the 1990s
    int cold = 0;
    for (bool c : w.cold) cold += c;
    CHECK(cold == 15);
    CHECK(datasets::movielens_item_graph(ml, 0.1, 3).cold == w.cold);
    CHECK(datasets::movielens_item_graph(ml, 0.1, 4).cold != w.cold);
    REQUIRE(w.logs.size() == 30);
    size_t clicks = 0;
    for (const auto& log : w.logs) {
        clicks += log.size();
        for (size_t t = 1; t < log.size(); ++t) CHECK(log[t - 1].time <= log[t].time);
    }
    CHECK(clicks == ml.ratings.rows.size());
}

TEST_CASE("--data: every model and the popularity baseline get finite AUCs; a corrupted u.user is refused with its line") {
    const MovieLensGenreFixture fx("ch51_run", 60, 150, 14);
    Options o;
    o.worlds = 2, o.sgns.walks_per_node = 2, o.sgns.dim = 8;
    const datasets::ItemGraphWorld real = datasets::movielens_item_graph(datasets::load_movielens_100k(fx.dir), 0.1, 5, 0.1);
    const Results r = run_experiment(o, &real);
    REQUIRE(r.main.size() == 2);
    CHECK(r.control.empty());
    for (const World& w : r.main) {
        CHECK(w.cold_edges > 0);
        for (double a : {w.auc[0], w.auc[1], w.auc[2], w.cold_auc[kPopularity], w.cold_auc[kColdGES], w.cold_auc[kColdEGES],
                         w.user_auc[0], w.user_auc[kColdGES], w.user_auc[kColdEGES], w.new_user_auc[0], w.new_user_auc[1], w.new_user_auc[2]})
            CHECK((std::isfinite(a) && a > 0 && a < 1));
    }
    CHECK(judge(o, r).find("link prediction AUC: EGES above GES", "ML-100k").diffs.size() == 2);
    CHECK(judge(o, r).find("cold movies ranked for the users who rated them: EGES's side-information embedding above random scores, "
                           "mean AUC", "ML-100k").diffs.size() == 2);
    CHECK(judge(o, r).find("cold users (no behaviour): the mean EGES embedding of warm users sharing her demographics above popularity, "
                           "mean AUC", "ML-100k").diffs.size() == 2);
    CHECK(judge(o, r).find("cold users: her demographic values' mean EGES embedding above all warm users' mean (what demographics add), "
                           "mean AUC", "ML-100k").diffs.size() == 2);
    fx.corrupt("u.user", 9, "9|twenty|M|student|10008");
    bool used = false;
    const std::string error = data_flag_error(fx.dir, &used);
    MESSAGE(error);
    CHECK(error.find("u.user line 9") != std::string::npos);
    CHECK(!used);
}

TEST_CASE("--data: cold_user_auc ranks the cold items for each user who rated some, by the mean score over her warm items") {
    datasets::ItemGraphWorld shop;
    shop.opt.items = 5;
    shop.cold = {false, false, true, true, true};
    shop.logs = {{{0, 1.0}, {2, 2.0}}, {{1, 1.0}, {3, 2.0}, {4, 3.0}}, {{0, 1.0}}, {{2, 1.0}}};   // users 3 and 4 are skipped
    // score(c, j) = 1 when c - 2 == j: user 0 (warm 0) puts cold 2 first, user 1 (warm 1) puts cold 3 first
    const double a = cold_user_auc(shop, [](int c, int j) { return c - 2 == j ? 1.0f : 0.0f; });
    CHECK(a == doctest::Approx((1.0 + 0.75) / 2));   // user 0: AUC 1; user 1: cold 3 above 2, cold 4 tied with 2: 3/4
}

TEST_CASE("--data: movielens_item_graph holds out a seeded tenth of the users, with age band, gender and occupation") {
    const MovieLensGenreFixture fx("ch51_users", 40, 150, 12);
    const datasets::MovieLens100k ml = datasets::load_movielens_100k(fx.dir);
    const datasets::ItemGraphWorld w = datasets::movielens_item_graph(ml, 0.1, 3, 0.1);
    CHECK(datasets::movielens_item_graph(ml, 0.1, 3).cold == w.cold);   // the cold movies do not move
    CHECK(datasets::movielens_item_graph(ml, 0.1, 3).cold_user == std::vector<bool>(40, false));
    int cold = 0;
    for (bool c : w.cold_user) cold += c;
    CHECK(cold == 4);
    CHECK(datasets::movielens_item_graph(ml, 0.1, 3, 0.1).cold_user == w.cold_user);
    CHECK(datasets::movielens_item_graph(ml, 0.1, 4, 0.1).cold_user != w.cold_user);
    REQUIRE(w.demographics.size() == 40);
    // the fixture: user u (0-based) is 18 + 7u % 50 years old, M when u is even, occupation u % 4 of
    // {student, engineer, writer, other}; sorted: engineer 0, other 1, student 2, writer 3
    CHECK(w.demographics[0] == std::array<int, 3>{1, 0, 2});    // 18, M, student
    CHECK(w.demographics[1] == std::array<int, 3>{2, 1, 0});    // 25, F, engineer
    CHECK(w.demographics[5] == std::array<int, 3>{5, 1, 0});    // 53 (50-55), F, engineer
}

TEST_CASE("--data: cold_user_demographic_auc ranks the warm movies for each cold user by her demographic values' mean") {
    datasets::ItemGraphWorld w;
    w.opt.items = 5;
    w.cold = {false, false, false, false, true};
    w.cold_user = {false, false, true};
    w.demographics = {{0, 0, 0}, {1, 1, 1}, {0, 0, 0}};   // the cold user 2 shares every value with user 0
    w.logs = {{{0, 1.0}, {4, 2.0}}, {{1, 1.0}, {3, 2.0}}, {{2, 1.0}}};
    const std::vector<std::vector<float>> H = {{1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}};
    // user 0's vector (1, 0): movies 0 and 2 score 1, 1 and 3 score 0; her movie 2 ties 0, beats 1 and 3
    CHECK(datasets::cold_user_demographic_auc(w, H, true) == doctest::Approx(2.5 / 3));
    // all warm users' mean (0.5, 0.5): every movie the same cosine
    CHECK(datasets::cold_user_demographic_auc(w, H, false) == doctest::Approx(0.5));
    // popularity: movies 0, 1, 3 once each (the cold movie 4 is not ranked), movie 2 never: last
    CHECK(datasets::cold_user_demographic_auc(w, {}, false) == doctest::Approx(0.0));
}

}  // TEST_SUITE
