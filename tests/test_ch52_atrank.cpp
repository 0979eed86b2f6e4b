// Chapter 52: ATRank's pieces against finite differences and their definitions, the synthetic
// world's planted rule and determinism, and the paper's claim (self-attention over heterogeneous
// behaviours before the candidate reads them beats the candidate reading them one by one), in the
// weaker form that reproduces, on the tutorial's experiment (tutorials/ch52_atrank.h). Not
// asserted (the tutorial reports it): the comparison with mean pooling and the GRU; the GRU beats
// ATRank in worlds where ATRank does not find the same-session link.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/gradcheck.h"
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

// The claim's configuration: the tutorial's, with ATRank and candidate attention only and the
// master seed 1: 3 worlds of 1500 users, 10 epochs, batches of 11 users, Adam lr 0.005 (about 2.5 s).
const StudyReport& quick_report() {
    static const StudyReport report = [] {
        StudyOptions o;
        o.replicates = 3;
        o.world.train_histories = 1500;
        o.epochs = 10;
        o.train_model = {false, false, true, true};
        o.curves = false;
        o.verbose = false;
        o.seed = 1;
        return run_study(o);
    }();
    return report;
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
        CHECK_MESSAGE(bce_with_logits(m.logits(model, b), b.label).item() < before, kModelNames[model]);
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

// ATRank's advantage comes all at once, when its self-attention finds the same-session link; with
// this budget that happens in most worlds but not all. We ran the test's configuration (the
// tutorial's `--only ta --seed S`) for master seeds 1, 3, 5, 7, 9, 11, 13, 15 and 42, 27 worlds
// (book/ch52_atrank.md). What held for every seed, and so what we assert:
//   - ATRank beats candidate attention on average over the 3 worlds: by 0.127 at least;
//   - in some world it finds the link (more than 0.25 of a search-born click's attention on its
//     own session's search, against about 0.08 for uniform attention) and wins by more than 0.1;
//   - wherever it finds the link, it wins by more than 0.1 (0.111 at least, over all 27 worlds).
// What did not hold for every seed, and so is not asserted: that it never loses (worlds of seeds
// 7 and 13 lost by 0.068 and 0.038), and that every large win comes with the link (in 5 worlds
// it won by 0.12 to 0.20 with that attention at 0.045 to 0.085, by some other route).
TEST_CASE("claim: ATRank beats attention with the candidate alone on average, by a wide margin where it finds the link") {
    const StudyReport& r = quick_report();
    CHECK(r.mean([](const Replicate& x) { return x.auc[kATRank] - x.auc[kTargetAttention]; }) > 0.05);
    bool found = false;
    for (const Replicate& x : r.reps) {
        const double gain = x.auc[kATRank] - x.auc[kTargetAttention];
        if (x.self_to_own_query > 0.25) {  // the link found
            CHECK(gain > 0.1);
            found = true;
        }
    }
    CHECK(found);
}

}  // TEST_SUITE
