// Chapter 57: the pointer attention's gradient, the world's reward and the baselines on a worked
// example, and the paper's claim on a quick configuration of the tutorial's experiment
// (tutorials/ch57_exact_k.h): GAttN's cards earn more true reward than top-K by pointwise score,
// than the paper's greedy clique builder and than random picks under the same clique mask. Not
// asserted (the tutorial reports it, book/ch57_exact_k.md): hill-climbing against REINFORCE
// alone, which did not reproduce.
#include <doctest/doctest.h>

#include "tests/gradcheck.h"
#include "tutorials/ch57_exact_k.h"

using namespace minirec;
using namespace minirec::ch57;

TEST_SUITE("ch57") {

TEST_CASE("pointer attention (G5-G6): finite-difference gradient through the masked log-softmax") {
    Rng rng(3);
    const Pointer p(4, rng);
    const Tensor mask({2, 5}, {1, 0, 1, 1, 0, 1, 1, 1, 0, 1});
    const float worst = testing::grad_check(
        [&](const std::vector<Var>& v) { return p(v[0], v[1], mask); },
        {Tensor::normal({2, 5, 4}, rng), Tensor::normal({2, 4}, rng)}, {}, "pointer");
    CHECK(worst <= 1.0f);
    NoGrad no_grad;
    const Var lp = p(constant(Tensor::normal({2, 5, 4}, rng)), constant(Tensor::normal({2, 4}, rng)), mask);
    for (int r = 0; r < 2; ++r) {
        double total = 0.0;
        for (int j = 0; j < 5; ++j)
            if (mask[size_t(r * 5 + j)] != 0.0f) total += std::exp(double(lp.value()[size_t(r * 5 + j)]));
        CHECK(total == doctest::Approx(1.0).epsilon(1e-5));   // the allowed candidates share all the mass
    }
}

TEST_CASE("worked example: top-K picks a clash, greedy gets stuck, the best card is a clique") {
    // 5 candidates, K = 3. 0 and 1 are the most popular but clash; 0 has only neighbour 2 besides.
    Request r;
    r.q = {0.9f, 0.8f, 0.5f, 0.4f, 0.3f};
    r.adj.assign(25, 0.0f);
    auto edge = [&](int i, int j) { r.adj[size_t(i * 5 + j)] = r.adj[size_t(j * 5 + i)] = 1.0f; };
    edge(0, 2);
    edge(1, 2), edge(1, 3), edge(2, 3), edge(3, 4), edge(2, 4);
    CHECK(card_reward(r, topk_card(r, 3)) == 0.0);                      // {0, 1, 2}: 0 and 1 clash
    CHECK(greedy_card(r, 3) == std::vector<int>{0, 2, -1});              // after 0 and 2, nothing fits
    CHECK(card_reward(r, greedy_card(r, 3)) == 0.0);
    CHECK(card_reward(r, {1, 2, 3}) == doctest::Approx((0.8 + 0.5 + 0.4) / 3));
    CHECK(best_reward(r, 3) == doctest::Approx((0.8 + 0.5 + 0.4) / 3));
}

TEST_CASE("GAttN's decoder only builds cliques and scores a forced card like its own") {
    Rng rng(11);
    WorldOptions w;
    GAttN m(kFeatures, 8, 2, 1, w.K, rng);
    std::vector<Request> reqs;
    for (int i = 0; i < 6; ++i) reqs.push_back(make_request(w, rng));
    std::vector<const Request*> rs;
    for (const Request& r : reqs) rs.push_back(&r);
    std::vector<float> adj;
    const Var x = inputs(rs, 1, &adj);
    const Decoded d = m.decode(x, adj, true, rng);
    for (size_t i = 0; i < reqs.size(); ++i) {
        const std::vector<int>& c = d.cards[i];
        bool complete = true;
        for (int a : c) complete = complete && a >= 0;
        if (complete) CHECK(card_reward(reqs[i], c) > 0.0);             // complete cards are cliques
    }
    const Decoded again = m.decode(x, adj, false, rng, d.cards);
    for (size_t i = 0; i < reqs.size(); ++i)
        CHECK(again.log_prob.value()[i] == doctest::Approx(d.log_prob.value()[i]).epsilon(1e-5));
}

TEST_CASE("claim: GAttN's cards beat top-K, the greedy clique builder and its own mask with random picks") {
    // 60 steps of RL + hill-climbing only, 200 test requests, three worlds (about 1 s each at -O2).
    // With the tutorial at --quick --steps 60 (300 test requests), seeds 1-5, GAttN's mean reward
    // beat greedy's by 0.11 to 0.13, the random clique's by 0.12 to 0.20, and its hit ratio beat
    // greedy's by 0.10 to 0.24; training raised it over the untrained network's by 0.09 to 0.28
    // (book/ch57_exact_k.md, rerun after the engine's fused kernels).
    for (uint64_t seed : {1, 2, 3}) {
        StudyOptions o;
        o.steps = 60;
        o.test_requests = 200;
        o.eval_every = 60;
        o.reinforce_alone = false;
        o.verbose = false;
        o.seed = seed;
        const StudyReport rep = run_study(o);
        CAPTURE(seed);
        const Score& g = rep.score[kRLHC];
        CHECK(g.reward > rep.score[kTopK].reward + 0.3);
        CHECK(g.reward > rep.score[kRandom].reward + 0.3);
        CHECK(g.reward > rep.score[kGreedy].reward + 0.05);
        CHECK(g.reward > rep.score[kRandomClique].reward + 0.08);
        CHECK(g.hit > rep.score[kGreedy].hit);
        CHECK(g.reward > rep.curve[kRLHC].front().reward + 0.05);   // training helped: step 0 vs 60
        CHECK(g.reward <= rep.best + 1e-9);                 // nothing beats the brute-force best card
    }
}

}  // TEST_SUITE
