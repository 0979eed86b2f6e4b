// Chapter 52: ATRank's pieces against finite differences and their definitions, the synthetic
// world's planted rule (main and control) and determinism, and the paper's claims judged over
// paired worlds on the tutorial's experiment (tutorials/ch52_atrank.h), for three master seeds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tests/gradcheck.h"
#include "tests/movielens_genre_fixture.h"
#include "tutorials/common/next_item_report.h"
#include "tutorials/ch52_atrank.h"

using namespace minirec;
using namespace minirec::ch52;

namespace {
// A two-row batch by hand: row 0 has a search then two clicks (one session), row 1 a click and
// padding. Vocabulary: 6 items, 3 categories, 4 time buckets.
BehaviourBatch tiny_batch() {
    BehaviourBatch b;
    b.U = 2, b.T = 3, b.B = 2;
    b.item = {0, 2, 3, 5, 0, 0};
    b.item_category = {0, 1, 1, 2, 0, 0};
    b.action = {0, 1, 0, 0, 0, 0};
    b.query_category = {1, 0, 0, 0, 0, 0};
    b.time_bucket = {1, 1, 1, 3, 0, 0};
    b.is_item = Tensor({2, 3, 1}, {0, 1, 1, 1, 0, 0});
    b.is_query = Tensor({2, 3, 1}, {1, 0, 0, 0, 0, 0});
    b.key_mask = Tensor({2, 1, 3}, {1, 1, 1, 1, 0, 0});
    b.lengths = {3, 1};
    b.user = {0, 1};
    b.candidate_mask = b.key_mask;
    b.candidate = {2, 4};
    b.candidate_category = {1, 2};
    b.label = Tensor({2, 1}, {1, 0});
    return b;
}

Sizes tiny_sizes() {
    Sizes s;
    s.items = 6, s.categories = 3, s.time_buckets = 4;
    s.dim = 4, s.time_dim = 2, s.action_dim = 2, s.space = 6, s.spaces = 2, s.space_dim = 3, s.hidden = 5;
    return s;
}

// The main world's claims: the tutorial's world at 600 training users, 6 epochs, 3 worlds per
// master seed, the main world only (the control world has its own size below), all four encoders.
Options small_options(uint64_t seed) {
    Options o;
    o.world.train_histories = 600;
    o.epochs = 6, o.worlds = 3, o.seed = seed, o.control = false, o.verbose = false;
    return o;
}

// The control world's claims: 800 training users, 5 epochs, 3 worlds, all four encoders. The
// tutorial runs the control cell only after the main one (Options has no switch for the control
// alone), so this fills Results::control world by world as run_experiment does (same seeds) and
// judges it; judge() reads the main cell too, which gets a copy whose rows are not looked at.
Claims control_claims(uint64_t seed) {
    Options o;
    o.world.train_histories = 800;
    o.epochs = 5, o.worlds = 3, o.seed = seed, o.verbose = false;
    Results r;
    for (int i = 0; i < o.worlds; ++i) r.control.push_back(run_world(o, replicate_seed(o.seed, i), true));
    r.main = r.control;
    return judge(o, r);
}
}  // namespace

TEST_SUITE("ch52") {

TEST_CASE("eq. 2: time buckets are [b^k - 1, b^{k+1} - 1) hours, capped at the last one") {
    CHECK(time_bucket(0.0, 2, 12) == 0);
    CHECK(time_bucket(0.99, 2, 12) == 0);
    CHECK(time_bucket(1.0, 2, 12) == 1);
    CHECK(time_bucket(2.9, 2, 12) == 1);
    CHECK(time_bucket(3.0, 2, 12) == 2);
    CHECK(time_bucket(1e9, 2, 12) == 11);
    CHECK(time_bucket(2.99, 4, 6) == 0);     // b = 4, the chapter's world: 0-3 h, 3-15 h, 15-63 h, ...
    CHECK(time_bucket(3.0, 4, 6) == 1);
    CHECK(time_bucket(254.9, 4, 6) == 3);    // the last recent bucket ends at 255 h
    CHECK(time_bucket(255.0, 4, 6) == 4);
    CHECK(time_bucket(5000.0, 4, 6) == 5);
}

TEST_CASE("ATRank: shapes, attention rows are distributions over real behaviours only") {
    Rng rng(3);
    ATRank m(tiny_sizes(), rng);
    const BehaviourBatch b = tiny_batch();
    AttentionMaps maps;
    const Var z = m.logits(b, &maps);
    REQUIRE(z.shape() == Shape{2, 1});
    REQUIRE(maps.self.size() == 2);
    for (const Var& A : maps.self) {
        REQUIRE(A.shape() == Shape{2, 3, 3});
        for (int r = 0; r < 6; ++r) {
            double s = 0.0;
            for (int c = 0; c < 3; ++c) s += A.value()[size_t(r) * 3 + size_t(c)];
            CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
        }
        CHECK(A.value()[9 + 1] == 0.0f);   // row 1's padding gets no attention
        CHECK(A.value()[9 + 2] == 0.0f);
    }
    REQUIRE(maps.target.shape() == Shape{2, 1, 3});
    CHECK(maps.target.value()[3] == doctest::Approx(1.0).epsilon(1e-6));   // row 1: one real behaviour
}

TEST_CASE("eqs. 3-9: finite-difference gradients through ATRank's behaviour layers and attention") {
    // f(S, h_t, W_e): the self-attention block (eqs. 4-7) followed by vanilla attention (eq. 9),
    // with the model's own weights; S and h_t stand for eq. 3's and eq. 8's outputs.
    Rng rng(5);
    ATRank m(tiny_sizes(), rng);
    const Tensor mask({2, 1, 3}, {1, 1, 1, 1, 1, 0});
    auto f = [&](const std::vector<Var>& x) {
        const Var C = m.self_attention(x[0], mask, nullptr);
        return vanilla_attention(x[1], x[2], C, mask, nullptr);
    };
    const float worst = testing::grad_check(f, {Tensor::normal({2, 3, 6}, rng), Tensor::normal({2, 6}, rng),
                                                 Tensor::normal({6, 6}, rng, 0.0f, 0.5f)}, {}, "ATRank attention");
    CHECK(worst <= 1.0f);
}

TEST_CASE("every encoder trains: one Adam step lowers the loss on a fixed batch") {
    Rng rng(9);
    Models m(tiny_sizes(), rng);
    const BehaviourBatch b = tiny_batch();
    for (int model = 0; model < kNumModels; ++model) {
        AdamOptions ao;
        ao.lr = 0.01;
        Adam adam(vars_of(m.named_parameters()), ao);
        const double before = bce_with_logits(m.logits(model, b), b.label).item();
        for (int i = 0; i < 20; ++i) {
            const Var loss = bce_with_logits(m.logits(model, b), b.label);
            adam.zero_grad();
            backward(loss);
            adam.step();
        }
        CHECK_MESSAGE(bce_with_logits(m.logits(model, b), b.label).item() < before, std::string(kModelNames[model]));
    }
}

TEST_CASE("the world: deterministic, and labels follow the planted rule up to the noise") {
    WorldOptions o;
    o.train_histories = 300, o.test_histories = 100, o.seed = 4;
    const World a = make_world(o), b = make_world(o);
    REQUIRE(a.train.size() == 300 * 6);
    REQUIRE(a.test.size() == 100 * 6);
    int flipped = 0, positives = 0;
    for (size_t i = 0; i < a.train.size(); ++i) {
        CHECK(a.train[i].candidate == b.train[i].candidate);
        CHECK(a.train[i].label == b.train[i].label);
        const Example& e = a.train[i];
        CHECK(e.truth == rule(a, a.histories[size_t(e.history)], e.candidate));
        CHECK(e.truth == (e.kind == kSearchedRecent));
        flipped += (e.label > 0.5f) != e.truth;
        positives += e.truth;
    }
    CHECK(flipped > 30);    // 5% of 1800 is 90
    CHECK(flipped < 160);
    CHECK(positives > 300);   // every kind of candidate is there in numbers
    // Sessions sit in distinct buckets: a search and a click share a bucket iff they share a session.
    for (const std::vector<Behaviour>& h : a.histories)
        for (const Behaviour& x : h)
            for (const Behaviour& y : h)
                CHECK((time_bucket(o, x.age_hours) == time_bucket(o, y.age_hours)) == (x.session == y.session));
}

TEST_CASE("the control world: a recent click is a purchase whether or not a search shares its session") {
    WorldOptions o;
    o.train_histories = 200, o.test_histories = 50, o.seed = 4, o.control = true;
    const World w = make_world(o);
    int positives_without_search = 0;
    for (const Example& e : w.train) {
        const std::vector<Behaviour>& h = w.histories[size_t(e.history)];
        bool recent_click = false, with_search = false;
        for (const Behaviour& c : h) {
            if (c.is_query || c.item != e.candidate || time_bucket(o, c.age_hours) >= o.recent_buckets) continue;
            recent_click = true;
            for (const Behaviour& q : h) with_search |= q.is_query && q.session == c.session;
        }
        CHECK(e.truth == recent_click);
        positives_without_search += e.truth && !with_search;
    }
    CHECK(positives_without_search > 100);   // the positives the main world's rule would call negative
}

// The main world. The default run (6 worlds of 1,500 users, 10 epochs; book/ch52_atrank.md) decides:
// ATRank above candidate attention holds (+0.136 [+0.072, +0.199]), above mean pooling holds
// (+0.142), above GRU inconclusive (+0.055 [-0.029, +0.139]). That needs about 1,360 steps per
// world, which this suite cannot afford three times over. At the test's budget (600 users, 6
// epochs, about 330 steps) ATRank has not yet found the same-session link, and we measured, for
// master seeds 1, 2, 3 (g++ -O2, AMD EPYC): above candidate attention +0.018 [-0.055, +0.090],
// +0.005 [-0.007, +0.016], -0.020 [-0.056, +0.017], all inconclusive (seeds 4, 5, 6 gave -0.011,
// +0.002, +0.002, inconclusive too); above mean pooling +0.014 (inconclusive), -0.017 (fails),
// -0.023 (inconclusive); above GRU -0.020, -0.011, -0.025, all inconclusive, the default's verdict.
// No size this suite can afford settles the first two (at 1,000 users and 6 epochs, seeds 1, 2, 3
// gave +0.148, +0.047, -0.009 over candidate attention, all inconclusive, intervals up to +-0.22;
// at 1,000 users and 8 epochs, seeds 1 and 2 gave +0.14 and +0.12 with intervals from -0.11 to
// +0.39). We assert GRU's verdict and the measured state of the other two instead, so that a
// change which makes the small budget find the link (or makes ATRank lose) is noticed.
TEST_CASE("claims, main world: at the small budget, GRU's verdict as in the default run; candidate attention and mean pooling within measured bounds") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Options o = small_options(seed);
        const Claims c = judge(o, run_experiment(o));
        const Claim& x = c.find("ATRank's AUC above candidate attention (no self-attention)'s");
        const Interval ci = x.interval();
        MESSAGE("seed " << seed << ": " << ci.mean << " [" << ci.lo << ", " << ci.hi << "] "
                        << std::string(verdict_name(x.verdict())));
        CHECK(x.diffs.size() == 3);
        CHECK(x.verdict() == Verdict::inconclusive);
        CHECK(std::abs(ci.mean) < 0.04);
        const Claim& mean_pooling = c.find("ATRank's AUC above mean pooling's");
        CHECK(mean_pooling.verdict() != Verdict::holds);
        CHECK(std::abs(mean_pooling.interval().mean) < 0.05);
        CHECK(c.find("ATRank's AUC above GRU's").verdict() == Verdict::inconclusive);
    }
}

// The control world (no behaviour-to-behaviour link). The default run (6 worlds of 1,500 users, 10
// epochs) decides: ATRank above GRU holds (+0.162), above mean pooling holds (+0.225), above
// candidate attention inconclusive (+0.0004 [-0.0031, +0.0038]). At 800 users, 5 epochs, 3 worlds
// the same three verdicts come out at master seeds 1, 2, 3 (g++ -O2, AMD EPYC; 4.1 s of CPU): above
// GRU +0.293, +0.237, +0.312; above mean pooling +0.277, +0.246, +0.312; above candidate attention
// +0.001, -0.053, +0.032 (intervals about +-0.15). 6 epochs give the same verdicts; 4 epochs, or
// 700 or 600 users, lose GRU and mean pooling at a seed (a world where ATRank does not train: at
// 600 users seed 2, GRU +0.118 [-0.207, +0.443]); at 1,000 users and 6 epochs candidate attention
// "fails" at seed 3 (-0.0011 [-0.0018, -0.0005], a verdict the default run does not give).
TEST_CASE("claims, control world: the default run's verdicts at 800 users, 5 epochs, master seeds 1-3") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Claims c = control_claims(seed);
        auto claim = [&](const char* baseline) -> const Claim& {
            return c.find(std::string("ATRank's AUC above ") + baseline + "'s", "control");
        };
        CHECK(claim("GRU").diffs.size() == 3);
        CHECK(claim("GRU").verdict() == Verdict::holds);
        CHECK(claim("mean pooling").verdict() == Verdict::holds);
        CHECK(claim("candidate attention (no self-attention)").verdict() == Verdict::inconclusive);
    }
}

TEST_CASE("--data: MovieLens ratings become behaviour logs (rating types, genres, ages), one per training cut") {
    const MovieLensGenreFixture fx("ch52_logs", 30, 150, 12);
    const datasets::MovieLens100k ml = datasets::load_movielens_100k(fx.dir);
    RealLogOptions lo;
    lo.max_len = 8, lo.cuts = 3, lo.negatives = 4;
    const RealLogs d = movielens_logs(ml, lo);
    REQUIRE(d.split.users.size() == 30);   // 12 ratings each: history 10, validation, test
    CHECK(d.test.histories.size() == 30);
    CHECK(d.train.histories.size() == 30 * 3);
    CHECK(d.train.train.size() == 30 * 3 * 5);
    CHECK(d.train.items() == 150);
    CHECK(d.train.category_of(3) == 4);    // item 4 of the file: genre 1 + 3 % 5 (Children's)
    CHECK(d.train.category_of(7) == 3);    // item 8: genre 3 (Animation); Drama comes later in u.genre order
    const auto histories = datasets::user_histories(ml.ratings.rows, ml.ratings.num_users);
    const auto& h = histories[size_t(d.split.users[0].user)];
    const std::vector<Behaviour>& test_log = d.test.histories[0];
    REQUIRE(test_log.size() == 8);         // the last 8 of the 11 ratings before the test item
    CHECK(test_log.back().item == d.split.users[0].valid);
    CHECK(test_log.back().age_hours == 0.0);
    CHECK(test_log[0].age_hours == doctest::Approx(7.0));   // the fixture rates one item an hour
    for (size_t t = 0; t < 8; ++t) {
        const float rating = h[t + 3].rating;
        CHECK(test_log[t].action == (rating <= 2 ? 0 : int(rating) - 2));
    }
    CHECK(d.valid.histories[0].back().item == d.split.users[0].history.back());
    for (size_t i = 0; i < d.train.train.size(); ++i) {   // per log: the next item (label 1), then 4 unrated items
        const Example& e = d.train.train[i];
        CHECK(e.label == (i % 5 == 0 ? 1.0f : 0.0f));
        if (e.label == 0.0f)
            for (const datasets::TimedItem& x : histories[size_t(d.split.users[i / 15].user)])
                CHECK(x.item != e.candidate);
    }
}

TEST_CASE("--data: every model and popularity get finite metrics; a corrupted u.data is refused with its line") {
    const MovieLensGenreFixture fx("ch52_run", 40, 150, 12);
    Options o;
    o.epochs = 1, o.worlds = 2, o.verbose = false;
    const RealLogs d = movielens_logs(datasets::load_movielens_100k(fx.dir), RealLogOptions{});
    const Results r = run_experiment(o, &d);
    REQUIRE(r.real.size() == kNumModels + 1);
    for (const std::vector<datasets::NextItemQuality>& model : r.real) {
        REQUIRE(model.size() == 2);
        for (const datasets::NextItemQuality& q : model) {
            CHECK(q.users == 40);
            for (double x : {q.hr, q.ndcg, q.mrr, q.hr_full, q.ndcg_full, q.mrr_full}) CHECK((std::isfinite(x) && x >= 0 && x <= 1));
            CHECK(q.mrr > 0);
        }
    }
    const Claims c = judge(o, r);
    CHECK(c.find("ATRank's NDCG@10 above GRU's", "ML-100k, full").diffs.size() == 2);
    fx.corrupt("u.data", 7, "1\t2\tfive\t880000000");
    bool used = false;
    const std::string error = data_flag_error(fx.dir, &used);
    MESSAGE(error);
    CHECK(error.find("u.data line 7") != std::string::npos);
    CHECK(!used);
}

}  // TEST_SUITE
