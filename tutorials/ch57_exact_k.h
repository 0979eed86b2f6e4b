// Chapter 57's experiment as functions: card requests of N candidates with a planted compatibility
// graph (popular candidates tend to clash with each other), the true card reward, three baselines
// (random, top-K by pointwise score, the paper's greedy clique builder), GAttN trained by REINFORCE
// with a baseline, with and without hill-climbing, and the mean true reward and hit ratio of the
// best card of each. Printing and pictures live in ch57_exact_k.cpp.
// Deliberately left out: user features, logged data and the learned reward estimator (the
// simulator's true reward is the environment), beam search.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "models/ch57_exact_k.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch57 {

// ---- The world ---------------------------------------------------------------------------------
// One card request: N candidates with pointwise scores q_i in [0, 1] (the click probability of an
// item alone) and a symmetric 0/1 compatibility graph. Edge (i, j) exists with probability
// p_edge (1 - clash q_i q_j): two popular items rarely go together.
struct Request {
    std::vector<float> q;     // (N)
    std::vector<float> adj;   // (N * N), 0 on the diagonal
};

struct WorldOptions {
    int N = 12;            // candidates per request
    int K = 4;             // card size
    double p_edge = 0.8;
    double clash = 1.0;
};

inline Request make_request(const WorldOptions& w, Rng& rng) {
    Request r;
    r.q.resize(size_t(w.N));
    r.adj.assign(size_t(w.N) * w.N, 0.0f);
    for (float& q : r.q) q = rng.uniform();
    for (int i = 0; i < w.N; ++i)
        for (int j = i + 1; j < w.N; ++j)
            if (rng.uniform_double() < w.p_edge * (1.0 - w.clash * r.q[size_t(i)] * r.q[size_t(j)]))
                r.adj[size_t(i) * w.N + size_t(j)] = r.adj[size_t(j) * w.N + size_t(i)] = 1.0f;
    return r;
}

// The true card reward: clicked only if the K items are pairwise compatible (a K-clique), then
// with probability mean_{i in A} q_i. An incomplete card (-1 entries) earns 0.
inline double card_reward(const Request& r, const std::vector<int>& card) {
    const int N = int(r.q.size());
    for (int a : card)
        if (a < 0) return 0.0;
    double s = 0.0;
    for (size_t a = 0; a < card.size(); ++a) {
        for (size_t b = a + 1; b < card.size(); ++b)
            if (r.adj[size_t(card[a]) * N + size_t(card[b])] == 0.0f) return 0.0;
        s += r.q[size_t(card[a])];
    }
    return s / double(card.size());
}

// The best card by brute force over all K-subsets (the ground truth of the hit ratio).
inline double best_reward(const Request& r, int K) {
    const int N = int(r.q.size());
    std::vector<int> card(static_cast<size_t>(K));
    double best = 0.0;
    std::vector<int> idx(static_cast<size_t>(K));
    std::iota(idx.begin(), idx.end(), 0);
    while (true) {
        best = std::max(best, card_reward(r, idx));
        int i = K - 1;
        while (i >= 0 && idx[size_t(i)] == N - K + i) --i;
        if (i < 0) break;
        ++idx[size_t(i)];
        for (int j = i + 1; j < K; ++j) idx[size_t(j)] = idx[size_t(j - 1)] + 1;
    }
    return best;
}

// G1, the candidate features x_i the encoder sees: its score, its degree, and the mean score
// and degree of its neighbours (the graph enters only here and in the decoder's clique mask).
constexpr int kFeatures = 4;
inline void features(const Request& r, float* x) {
    const int N = int(r.q.size());
    std::vector<double> deg(size_t(N), 0.0);
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) deg[size_t(i)] += r.adj[size_t(i) * N + size_t(j)];
    for (int i = 0; i < N; ++i) {
        double nq = 0.0, nd = 0.0;
        for (int j = 0; j < N; ++j)
            if (r.adj[size_t(i) * N + size_t(j)] != 0.0f) nq += r.q[size_t(j)], nd += deg[size_t(j)];
        float* xi = x + size_t(i) * kFeatures;
        xi[0] = r.q[size_t(i)];
        xi[1] = float(deg[size_t(i)] / (N - 1));
        xi[2] = float(nq / (N - 1));
        xi[3] = float(nd / double(N - 1) / double(N - 1));
    }
}

// The model's inputs for a list of requests, each repeated `copies` times (rows r*copies + c).
inline Var inputs(const std::vector<const Request*>& rs, int copies, std::vector<float>* adj) {
    const int N = int(rs[0]->q.size()), R = int(rs.size()) * copies;
    Tensor x({R, N, kFeatures});
    adj->clear();
    for (int r = 0; r < R; ++r) {
        const Request& q = *rs[size_t(r / copies)];
        features(q, &x[size_t(r) * N * kFeatures]);
        adj->insert(adj->end(), q.adj.begin(), q.adj.end());
    }
    return constant(x);
}

// ---- Baselines ---------------------------------------------------------------------------------
inline std::vector<int> random_card(const Request& r, int K, Rng& rng) {
    std::vector<int> idx(r.q.size());
    std::iota(idx.begin(), idx.end(), 0);
    for (int i = 0; i < K; ++i) std::swap(idx[size_t(i)], idx[size_t(i + rng.randint(int(idx.size()) - i))]);
    return std::vector<int>(idx.begin(), idx.begin() + K);
}

// Top-K by pointwise score: ignores compatibility.
inline std::vector<int> topk_card(const Request& r, int K) {
    std::vector<int> idx(r.q.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return r.q[size_t(a)] > r.q[size_t(b)]; });
    return std::vector<int>(idx.begin(), idx.begin() + K);
}

// Random picks under the decoder's clique mask: what GAttN's masking alone gives, without learning.
inline std::vector<int> random_clique_card(const Request& r, int K, Rng& rng) {
    const int N = int(r.q.size());
    std::vector<int> card, allowed(static_cast<size_t>(N));
    std::iota(allowed.begin(), allowed.end(), 0);
    for (int t = 0; t < K; ++t) {
        if (allowed.empty()) {
            card.push_back(-1);
            continue;
        }
        const int a = allowed[size_t(rng.randint(int(allowed.size())))];
        card.push_back(a);
        std::vector<int> next;
        for (int j : allowed)
            if (j != a && r.adj[size_t(a) * N + size_t(j)] != 0.0f) next.push_back(j);
        allowed = next;
    }
    return card;
}

// The paper's naive node-weight method (Algorithm 1): repeatedly take the highest-scoring candidate
// still compatible with everything chosen. It may run out of candidates (-1 entries).
inline std::vector<int> greedy_card(const Request& r, int K) {
    const int N = int(r.q.size());
    std::vector<int> card;
    std::vector<bool> ok(size_t(N), true);
    for (int t = 0; t < K; ++t) {
        int best = -1;
        for (int j = 0; j < N; ++j)
            if (ok[size_t(j)] && (best < 0 || r.q[size_t(j)] > r.q[size_t(best)])) best = j;
        card.push_back(best);
        if (best < 0) continue;
        for (int j = 0; j < N; ++j)
            if (j == best || r.adj[size_t(best) * N + size_t(j)] == 0.0f) ok[size_t(j)] = false;
    }
    return card;
}

// ---- The study ---------------------------------------------------------------------------------
enum Method { kRandom, kRandomClique, kTopK, kGreedy, kRL, kRLHC, kNumMethods };
const char* const kMethodNames[] = {"random", "random clique (masked, untrained)", "top-K by score",
                                    "greedy clique (Alg. 1)", "GAttN, REINFORCE", "GAttN, REINFORCE + hill-climbing"};

struct StudyOptions {
    WorldOptions world;
    int steps = 600;          // training steps per GAttN variant
    int batch = 32;           // requests per step
    int samples = 8;          // M cards sampled per request (their mean reward is the baseline)
    double hc_weight = 1.0;   // weight of the hill-climbing loss in the RL + HC variant
    double lr = 2e-3;         // Adam
    int dim = 32, heads = 4, layers = 2;
    int test_requests = 500;
    int eval_every = 100;     // steps between learning-curve points
    bool reinforce_alone = true;   // also train the REINFORCE-only variant (the ablation of hill-climbing)
    uint64_t seed = 42;
    bool verbose = true;
};

struct Score {
    double reward = 0.0;   // mean true card reward
    double hit = 0.0;      // share of requests where the card is a best card
    double clique = 0.0;   // share of cards that are K-cliques
};

struct CurvePoint {
    int step = 0;
    double reward = 0.0;
};

struct StudyReport {
    Score score[kNumMethods];
    double best = 0.0;                            // mean reward of the best cards
    std::vector<CurvePoint> curve[kNumMethods];   // for kRL and kRLHC
    double seconds = 0.0;
};

inline void add_card(Score* s, const Request& r, const std::vector<int>& card, double best, int n) {
    const double x = card_reward(r, card);
    s->reward += x / n;
    s->hit += (x >= best - 1e-9 ? 1.0 : 0.0) / n;
    s->clique += (x > 0.0 ? 1.0 : 0.0) / n;
}

inline Score evaluate(GAttN& m, const std::vector<Request>& test, const std::vector<double>& best) {
    NoGrad no_grad;
    std::vector<const Request*> rs;
    for (const Request& r : test) rs.push_back(&r);
    std::vector<float> adj;
    Rng unused(0);
    const Decoded dec = m.decode(inputs(rs, 1, &adj), adj, false, unused);
    Score s;
    for (size_t i = 0; i < test.size(); ++i) add_card(&s, test[i], dec.cards[i], best[i], int(test.size()));
    return s;
}

// Trains one GAttN: each step samples M cards per request (G3), weighs their log-probability
// by reward minus the request's mean sampled reward (REINFORCE with a baseline) and, when
// hc_weight > 0, also maximises the log-probability of the best sampled card (hill-climbing).
inline GAttN train(const StudyOptions& o, double hc_weight, uint64_t seed, const std::vector<Request>& test,
                   const std::vector<double>& best, std::vector<CurvePoint>* curve) {
    Rng rng(splitmix64(seed));
    GAttN m(kFeatures, o.dim, o.heads, o.layers, o.world.K, rng);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int M = o.samples;
    curve->push_back({0, evaluate(m, test, best).reward});
    for (int step = 1; step <= o.steps; ++step) {
        std::vector<Request> batch;
        for (int b = 0; b < o.batch; ++b) batch.push_back(make_request(o.world, rng));
        std::vector<const Request*> rs;
        for (const Request& r : batch) rs.push_back(&r);
        std::vector<float> adj;
        const Decoded dec = m.decode(inputs(rs, M, &adj), adj, true, rng);       // (B M) sampled cards
        Tensor adv({o.batch * M, 1});
        std::vector<std::vector<int>> best_cards;
        double mean_reward = 0.0;
        for (int b = 0; b < o.batch; ++b) {
            double base = 0.0;
            int top = 0;
            std::vector<double> rw(static_cast<size_t>(M));
            for (int c = 0; c < M; ++c) {
                rw[size_t(c)] = card_reward(batch[size_t(b)], dec.cards[size_t(b * M + c)]);
                base += rw[size_t(c)] / M;
                if (rw[size_t(c)] > rw[size_t(top)]) top = c;
            }
            best_cards.push_back(dec.cards[size_t(b * M + top)]);
            for (int c = 0; c < M; ++c) adv[size_t(b * M + c)] = float(rw[size_t(c)] - base);
            mean_reward += base / o.batch;
        }
        Var loss = -mean(constant(adv) * dec.log_prob);                            // REINFORCE
        if (hc_weight > 0.0) {                                                     // hill-climbing
            std::vector<float> adj1;
            const Decoded forced = m.decode(inputs(rs, 1, &adj1), adj1, false, rng, best_cards);
            loss = loss - float(hc_weight) * mean(forced.log_prob);
        }
        adam.zero_grad();
        backward(loss);
        clip_grad_norm(vars_of(m.named_parameters()), 5.0f);
        adam.step();
        check_finite(loss.item(), step);
        if (step % o.eval_every == 0 || step == o.steps) {
            curve->push_back({step, evaluate(m, test, best).reward});
            if (o.verbose)
                std::fprintf(stderr, "%s step %d/%d: sampled reward %.4f, test reward (greedy decoding) %.4f\n",
                             hc_weight > 0 ? "RL+HC" : "RL   ", step, o.steps, mean_reward, curve->back().reward);
        }
    }
    return m;
}

inline StudyReport run_study(const StudyOptions& o) {
    if (o.world.K < 1 || o.world.K > o.world.N) throw std::invalid_argument("ch57: need 1 <= K <= N");
    if (o.steps < 1 || o.batch < 1 || o.samples < 2) throw std::invalid_argument("ch57: need steps, batch >= 1, samples >= 2");
    const auto start = std::chrono::steady_clock::now();
    StudyReport rep;
    Rng world_rng(splitmix64(o.seed * 7919 + 1));
    std::vector<Request> test;
    std::vector<double> best;
    for (int i = 0; i < o.test_requests; ++i) {
        test.push_back(make_request(o.world, world_rng));
        best.push_back(best_reward(test.back(), o.world.K));
        rep.best += best.back() / o.test_requests;
    }
    Rng rng(splitmix64(o.seed * 7919 + 2));
    const int n = int(test.size());
    for (int i = 0; i < n; ++i) {
        const Request& r = test[size_t(i)];
        add_card(&rep.score[kRandom], r, random_card(r, o.world.K, rng), best[size_t(i)], n);
        add_card(&rep.score[kRandomClique], r, random_clique_card(r, o.world.K, rng), best[size_t(i)], n);
        add_card(&rep.score[kTopK], r, topk_card(r, o.world.K), best[size_t(i)], n);
        add_card(&rep.score[kGreedy], r, greedy_card(r, o.world.K), best[size_t(i)], n);
    }
    for (int v = o.reinforce_alone ? kRL : kRLHC; v <= kRLHC; ++v) {
        GAttN m = train(o, v == kRLHC ? o.hc_weight : 0.0, o.seed * 7919 + 3, test, best, &rep.curve[v]);
        rep.score[v] = evaluate(m, test, best);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch57
}  // namespace minirec
