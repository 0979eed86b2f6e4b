// Chapter 54: UserSim's losses against their formulas (with the discount gamma), a gradient check
// through them, the simulated world's planted structure, and the paper's claims judged over paired
// worlds on a small configuration of the tutorial's experiment (tutorials/ch54_usersim.h), for
// three master seeds: they do not hold here, and the test asserts the measured bounds.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/gradcheck.h"
#include "tutorials/ch54_usersim.h"

using namespace minirec;
using namespace minirec::ch54;

namespace {
SimBatch tiny_batch(Rng& rng, int B = 3, int N = 4, int D = 5, int K = 3) {
    SimBatch b;
    b.size = B;
    b.state_items = Tensor::uniform({B, N, D}, rng, -0.9f, 0.9f);
    b.state_feedback = Tensor::zeros({B, N, K});
    for (int r = 0; r < B; ++r)
        for (int n = 0; n < N; ++n) b.state_feedback.data()[(size_t(r) * N + n) * K + size_t(rng.randint(K))] = 1.0f;
    b.next_item = Tensor::uniform({B, D}, rng, -0.9f, 0.9f);
    for (int r = 0; r < B; ++r) b.feedback.push_back(rng.randint(K));
    return b;
}

UserSimOptions tiny_options() {
    UserSimOptions o;
    o.item_dim = 5;
    o.feedback_types = 3;
    o.feedback_dim = 2;
    o.hidden = 6;
    o.alpha = 0.5f;
    return o;
}
}  // namespace

TEST_SUITE("ch54") {

TEST_CASE("log_group_prob is the log of the summed softmax over the group") {
    const Var z = constant(Tensor({1, 4}, {0.5f, -1.0f, 2.0f, 0.25f}));
    const Tensor lo = log_group_prob(z, 0, 2).value(), hi = log_group_prob(z, 2, 4).value();
    const double e[4] = {std::exp(0.5), std::exp(-1.0), std::exp(2.0), std::exp(0.25)};
    const double total = e[0] + e[1] + e[2] + e[3];
    CHECK(lo[0] == doctest::Approx(std::log((e[0] + e[1]) / total)).epsilon(1e-6));
    CHECK(hi[0] == doctest::Approx(std::log((e[2] + e[3]) / total)).epsilon(1e-6));
}

TEST_CASE("discriminator loss: L_D^1 + L_D^2 written out by hand") {
    Rng rng(3);
    const UserSimOptions o = tiny_options();
    const int K = o.feedback_types;
    Discriminator d(o, 2 * K, rng);
    const SimBatch b = tiny_batch(rng);
    const Var generated = constant(Tensor::uniform({b.size, o.item_dim}, rng, -0.9f, 0.9f));
    const Tensor real = softmax(d.logits(b, constant(b.next_item))).value();
    const Tensor fake = softmax(d.logits(b, generated)).value();
    double expect = 0.0, expect_plain = 0.0, expect_half = 0.0;
    for (int r = 0; r < b.size; ++r) {
        const float* pr = real.data() + size_t(r) * 2 * K;
        const float* pf = fake.data() + size_t(r) * 2 * K;
        const double real_half = pr[0] + pr[1] + pr[2], fake_half = pf[3] + pf[4] + pf[5];
        const int f = b.feedback[size_t(r)];
        const double common = -std::log(real_half) - std::log(fake_half) - std::log(pr[f]);
        expect += common - std::log(pf[K + f]);
        expect_half += common - 0.5 * std::log(pf[K + f]);   // gamma = 0.5: the generated item's term discounted
        expect_plain += common;
    }
    CHECK(discriminator_loss(d, b, generated, K, 1.0f).value().item() == doctest::Approx(expect / b.size).epsilon(1e-5));
    CHECK(discriminator_loss(d, b, generated, K, 0.0f).value().item() ==
          doctest::Approx(expect_plain / b.size).epsilon(1e-5));
    CHECK(discriminator_loss(d, b, generated, K, 0.5f).value().item() == doctest::Approx(expect_half / b.size).epsilon(1e-5));
}

TEST_CASE("gradients of L_D and L_G with respect to the generated items match finite differences") {
    Rng rng(4);
    const UserSimOptions o = tiny_options();
    const int K = o.feedback_types;
    Discriminator d(o, 2 * K, rng);
    const SimBatch b = tiny_batch(rng);
    const Tensor g0 = Tensor::uniform({b.size, o.item_dim}, rng, -0.9f, 0.9f);
    CHECK(testing::grad_check([&](const std::vector<Var>& x) { return discriminator_loss(d, b, x[0], K, 0.5f); }, {g0}) <= 1.0f);
    CHECK(testing::grad_check([&](const std::vector<Var>& x) { return generator_loss(d, b, x[0], K, o.alpha); }, {g0}) <= 1.0f);
}

TEST_CASE("feedback_probs: the real half renormalised, rows summing to one") {
    Rng rng(5);
    const UserSimOptions o = tiny_options();
    Discriminator d(o, 2 * o.feedback_types, rng);
    const SimBatch b = tiny_batch(rng);
    const Tensor p = feedback_probs(d, b, o.feedback_types);
    const Tensor all = softmax(d.logits(b, constant(b.next_item))).value();
    for (int r = 0; r < b.size; ++r) {
        const float* a = all.data() + size_t(r) * 6;
        const double half = a[0] + a[1] + a[2];
        for (int k = 0; k < 3; ++k) CHECK(p[size_t(r) * 3 + k] == doctest::Approx(a[k] / half).epsilon(1e-5));
    }
}

TEST_CASE("the world: deterministic, and liked clusters are clicked more") {
    WorldOptions wo;
    wo.train_users = 40, wo.valid_users = 2, wo.test_users = 2;
    const World a = make_world(wo, 9), b = make_world(wo, 9);
    CHECK(a.embedding == b.embedding);
    CHECK(a.train[7].items == b.train[7].items);
    CHECK(a.train[7].feedback == b.train[7].feedback);
    // The logging recommender follows liked clusters: the next item's cluster matches a liked item
    // of the state far more often than the 1/8 of a random item.
    int follows = 0, total = 0;
    for (const Session& s : a.train)
        for (int t = wo.history; t < int(s.items.size()); ++t) {
            bool match = false, any = false;
            for (int j = t - wo.history; j < t; ++j)
                if (s.feedback[size_t(j)] > 0) any = true, match |= a.cluster[size_t(s.items[size_t(j)])] == a.cluster[size_t(s.items[size_t(t)])];
            if (any) follows += match, ++total;
        }
    CHECK(double(follows) / total > 0.45);
    float p[3];
    true_feedback_probs(0.0f, p);
    CHECK(p[0] > 0.75f);  // an item far from the taste is mostly skipped
    true_feedback_probs(0.7f, p);
    CHECK(p[0] < 0.2f);   // an item of a liked cluster mostly clicked or bought
    CHECK_THROWS_AS(make_world(WorldOptions{200, 1}, 1), ArgumentError);
}

// The claims' configuration: the main world shrunk to 40 training users, 4 epochs, 30 REINFORCE
// steps, 3 worlds per master seed (the control world is the tutorial's).
static Claims small_claims(uint64_t seed) {
    Options o;
    o.world.train_users = 40, o.world.valid_users = 20, o.world.test_users = 40;
    o.epochs = 4, o.policy_steps = 30, o.seed = seed;
    Results r;
    for (int i = 0; i < 3; ++i) r.main.push_back(run_world(o, o.world, replicate_seed(seed, i)));
    return judge(o, r);
}

// Measured at this configuration for master seeds 1, 2, 3 (every claim inconclusive): UserSim's
// logloss advantage over the supervised simulator -0.021, -0.019, -0.012 (UserSim worse); the
// reward advantage of the policy trained inside UserSim -0.091, +0.001, -0.009; the generated-item
// term's advantage -0.020, -0.006, -0.014. The paper's claims do not hold here, so we assert those
// measured bounds: UserSim not better than the supervised simulator, the policy not better by more
// than 0.01, the generated-item term not helping -- a change that makes any of them hold is noticed.
TEST_CASE("claims over three master seeds: UserSim is not better here, within measured bounds") {
    for (uint64_t seed : {1, 2, 3}) {
        const Claims c = small_claims(seed);
        for (const Claim& x : c.rows) {
            if (x.world != "main") continue;
            const Interval ci = x.interval();
            MESSAGE("seed " << seed << " " << x.claim << ": " << ci.mean << " [" << ci.lo << ", " << ci.hi << "] "
                            << std::string(verdict_name(x.verdict())));
            CHECK(x.diffs.size() == 3);
            CHECK(x.verdict() != Verdict::holds);
        }
        CHECK(c.rows[0].interval().mean < 0.0);    // logloss, supervised - UserSim
        CHECK(c.rows[1].interval().mean < 0.01);   // true-world reward, UserSim's policy - supervised's
        CHECK(c.rows[2].interval().mean < 0.0);    // logloss, without the generated-item term - with it
    }
}

}  // TEST_SUITE
