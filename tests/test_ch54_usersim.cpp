// Chapter 54: UserSim's losses against their formulas, a gradient check through them, the
// simulated world's planted structure, and the claims the tutorial's experiment supports, on a
// quick configuration (tutorials/ch54_usersim.h). Not asserted, because it did not hold: that the
// GAN's discriminator predicts feedback better than the same network trained supervised, or even
// always better than the class prior (book/ch54_usersim.md gives the numbers).
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
    double expect = 0.0, expect_plain = 0.0;
    for (int r = 0; r < b.size; ++r) {
        const float* pr = real.data() + size_t(r) * 2 * K;
        const float* pf = fake.data() + size_t(r) * 2 * K;
        const double real_half = pr[0] + pr[1] + pr[2], fake_half = pf[3] + pf[4] + pf[5];
        const int f = b.feedback[size_t(r)];
        const double common = -std::log(real_half) - std::log(fake_half) - std::log(pr[f]);
        expect += common - std::log(pf[K + f]);
        expect_plain += common;
    }
    CHECK(discriminator_loss(d, b, generated, K).value().item() == doctest::Approx(expect / b.size).epsilon(1e-5));
    CHECK(discriminator_loss(d, b, generated, K, false).value().item() ==
          doctest::Approx(expect_plain / b.size).epsilon(1e-5));
}

TEST_CASE("gradients of L_D and L_G with respect to the generated items match finite differences") {
    Rng rng(4);
    const UserSimOptions o = tiny_options();
    const int K = o.feedback_types;
    Discriminator d(o, 2 * K, rng);
    const SimBatch b = tiny_batch(rng);
    const Tensor g0 = Tensor::uniform({b.size, o.item_dim}, rng, -0.9f, 0.9f);
    CHECK(testing::grad_check([&](const std::vector<Var>& x) { return discriminator_loss(d, b, x[0], K); }, {g0}) <= 1.0f);
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

TEST_CASE("quick experiment: the supervised simulator reads the taste from the state; G imitates the logger") {
    // 100 training users (2,000 logged steps), 10 epochs, master seeds 1-3.
    const double chance = 10.0 / 200;  // a random item among the 10 nearest to G(s)
    double hits = 0.0;
    for (uint64_t seed = 1; seed <= 3; ++seed) {
        Options o;
        o.world.train_users = 100, o.world.valid_users = 30, o.world.test_users = 60;
        o.epochs = 10;
        o.seed = seed;
        const RunReport r = run_once(o);
        MESSAGE("seed " << seed << ": prior " << r.prior.logloss << ", supervised " << r.test[kSupervised].logloss
                        << ", UserSim " << r.test[kUserSim].logloss << ", no augment " << r.test[kNoAugment].logloss
                        << ", oracle " << r.oracle.logloss << "; G hit@10 " << r.gen_hit10);
        CHECK(r.oracle.logloss < r.prior.logloss - 0.15);  // the state carries the signal
        CHECK(r.test[kSupervised].logloss < r.prior.logloss - 0.02);
        CHECK(r.test[kSupervised].logloss > r.oracle.logloss);
        CHECK(r.gen_hit10 > 1.2 * chance);  // G learned something of where the logger goes next
        hits += r.gen_hit10 / 3;
    }
    CHECK(hits > 2.0 * chance);
}

}  // TEST_SUITE
