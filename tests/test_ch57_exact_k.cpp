// Chapter 57: the pointer attention's and the graph-attention block's gradients, the block's mask
// (a candidate sees only its neighbours), the world's reward and the baselines on a worked
// example, the logs' clicks, the reward estimator, the decoder's cliques, beam search, and the
// headline claims' verdicts on three master seeds of a small configuration of the tutorial's
// experiment (tutorials/ch57_exact_k.h): GAttN, which learns only from logs, earns more true
// reward than the paper's greedy clique builder, top-K by pointwise score and random cliques.
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

TEST_CASE("graph attention (G2): finite-difference gradient, and a candidate sees only its neighbours") {
    Rng rng(4);
    const GraphAttentionBlock block(4, 2, rng);
    std::vector<float> adj(2 * 5 * 5, 0.0f);
    for (int r = 0; r < 2; ++r)
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j)
                if (i != j && (i + j + r) % 3 != 0) adj[size_t((r * 5 + i) * 5 + j)] = 1.0f;   // symmetric
    const Tensor keep = graph_keep(adj, 2, 5);
    const float worst = testing::grad_check([&](const std::vector<Var>& v) { return block(v[0], keep); },
                                            {Tensor::normal({2, 5, 4}, rng)}, {}, "graph attention");
    CHECK(worst <= 1.0f);
    NoGrad no_grad;
    Tensor x = Tensor::normal({2, 5, 4}, rng);
    const Tensor before = block(constant(x), keep).value();
    for (int f = 0; f < 4; ++f) x[size_t((0 * 5 + 3) * 4 + f)] += 1.0f;                 // move candidate 3 of row 0
    const Tensor after = block(constant(x), keep).value();
    for (int i = 0; i < 5; ++i) {                                                       // 3's non-neighbours do not move
        double moved = 0.0;
        for (int f = 0; f < 4; ++f) moved += std::abs(after[size_t(i * 4 + f)] - before[size_t(i * 4 + f)]);
        if (i == 3 || adj[size_t(i * 5 + 3)] != 0.0f) CHECK(moved > 1e-4);
        else CHECK(moved == 0.0);
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

TEST_CASE("logs: the click rate of logged cards is their mean true reward; the estimator learns the clique rule") {
    WorldOptions w;
    Rng rng(21);
    const Logs logs = make_logs(w, 3000, 0.3, rng);
    double clicks = 0.0, reward = 0.0;
    for (size_t i = 0; i < logs.cards.size(); ++i) clicks += logs.clicks[i], reward += card_reward(logs.requests[i], logs.cards[i]);
    CHECK(std::abs(clicks - reward) / 3000.0 < 0.02);   // a Bernoulli draw per card; sd of the mean ~0.008
    const Options o;
    const RewardEstimator est = train_estimator(logs, w.K, o.est_hidden, o.est_epochs, rng);
    std::vector<Request> reqs;
    std::vector<const Request*> rs;
    std::vector<std::vector<int>> cards;
    for (int i = 0; i < 400; ++i) reqs.push_back(make_request(w, rng));
    for (const Request& r : reqs)   // half random cliques, half random cards (mostly clashing)
        rs.push_back(&r), cards.push_back(rs.size() % 2 ? random_clique_card(r, w.K, rng) : random_card(r, w.K, rng));
    const std::vector<double> est_r = rewards(est, false, rs, cards);
    double clique_err = 0.0, clash = 0.0;
    int n_clique = 0, n_clash = 0;
    for (size_t i = 0; i < cards.size(); ++i) {
        const double x = card_reward(reqs[i], cards[i]);
        if (x > 0.0) clique_err += std::abs(est_r[i] - x), ++n_clique;
        else if (*std::min_element(cards[i].begin(), cards[i].end()) >= 0) clash += est_r[i], ++n_clash;
    }
    REQUIRE(n_clique > 50);
    REQUIRE(n_clash > 50);
    // Measured (g++): mean |R^ - R| on cliques 0.017, mean R^ on clashing cards 0.020 (their R is 0,
    // a clique's about 0.45): the estimator has learned that one missing edge means no click.
    CHECK(clique_err / n_clique < 0.05);
    CHECK(clash / n_clash < 0.05);
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
    const Var x = constant(request_rows(rs, 1, &adj));
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

TEST_CASE("beam search of width 1 is greedy decoding; wider beams still build cliques") {
    Rng rng(12);
    WorldOptions w;
    GAttN m(kFeatures, 8, 2, 1, w.K, rng);
    std::vector<Request> reqs;
    for (int i = 0; i < 8; ++i) reqs.push_back(make_request(w, rng));
    std::vector<const Request*> rs;
    for (const Request& r : reqs) rs.push_back(&r);
    std::vector<float> adj;
    const Var x = constant(request_rows(rs, 1, &adj));
    CHECK(beam_cards(m, x.value(), adj, 1) == m.decode(x, adj, false, rng).cards);
    const std::vector<std::vector<int>> cards = beam_cards(m, x.value(), adj, 3);
    for (size_t i = 0; i < reqs.size(); ++i) {
        REQUIRE(cards[i].size() == size_t(w.K));
        bool complete = true;
        for (int a : cards[i]) complete = complete && a >= 0;
        if (complete) CHECK(card_reward(reqs[i], cards[i]) > 0.0);
    }
}

// Master seeds 1, 2, 3 of a small configuration: 4 worlds of 80 test requests (3 in the control);
// GAttN learns from 1500 logged cards (estimator, demonstrations: 30 SL steps), then 40 RL steps of
// 16 requests (no ablations). Measured, mean [90% interval], g++ (make) / clang++:
//   full GAttN - greedy builder: seed 1 +0.096 [+0.058, +0.134] / +0.101 [+0.059, +0.143];
//     seed 2 +0.095 [+0.051, +0.138] / +0.090 [+0.024, +0.157]; seed 3 +0.092 [+0.040, +0.145] /
//     +0.091 [+0.039, +0.143] (holds on each; the lowest lower end, +0.024, clears the 0.01 margin)
//   - top-K +0.446 to +0.472 (lower ends >= +0.39); - random cliques +0.120 to +0.139 (>= +0.059)
//   full - demonstrations alone: +0.062, +0.062, +0.058 / +0.067, +0.058, +0.056 (holds except
//     clang seed 2, [-0.006, +0.121]: the test asserts the mean, not the verdict)
//   control (seed 1, 3 worlds): full - greedy builder +0.009 [-0.003, +0.021] with both compilers.
Options small_options(uint64_t seed, int worlds = 4) {
    Options o;
    o.worlds = worlds, o.logs = 1500, o.pretrain = 30, o.steps = 40, o.batch = 16, o.test_requests = 80;
    o.ablations = false, o.seed = seed;
    return o;
}

TEST_CASE("claims: GAttN's cards beat the greedy clique builder and top-K in every seed's worlds") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Options o = small_options(seed);
        Results r;
        for (int i = 0; i < o.worlds; ++i) r.cell[0].push_back(run_world(o, false, replicate_seed(o.seed, i)));
        const Claims c = judge(o, r);
        CHECK(c.find("GAttN (full) above the greedy clique builder (headline)").verdict() == Verdict::holds);
        CHECK(c.find("GAttN (full) above top-K by score").verdict() == Verdict::holds);
        CHECK(c.find("GAttN (full) above random cliques (ours)").verdict() == Verdict::holds);
        CHECK(c.find("RL on R^ helps: full above demonstrations alone").interval().mean > 0.03);
        for (const World& w : r.cell[0]) CHECK(w.score[kFullBeam].reward <= w.best + 1e-9);   // sanity
    }
}

TEST_CASE("claims, control world (clash 0): GAttN no longer beats the greedy clique builder") {
    const Options o = small_options(1, 3);
    Results r;
    for (int i = 0; i < o.worlds; ++i) r.cell[1].push_back(run_world(o, true, replicate_seed(o.seed, i)));
    const Claims c = judge(o, r);
    const Claim& head = c.find("GAttN (full) above the greedy clique builder (headline)", "control");
    CHECK(head.verdict() != Verdict::holds);
    CHECK(head.interval().mean < 0.03);
}

}  // TEST_SUITE
