// Chapter 57's world: card requests of N candidates with pointwise scores q_i (the click
// probability of an item alone) and a compatibility graph in which popular candidates tend to
// clash; a card of K items is clicked only if it is a K-clique, then with probability mean q.
// clash = 0 is the control world: compatibility no longer depends on the scores.
// Logs: a logging policy shows one card per request (a random clique, or with probability
// `explore` K random items) and records whether it was clicked; the learner sees only the logs.
// Deliberately left out: users, item features beyond the score, position bias in the logs.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace minirec {
namespace datasets {

// One card request: N candidates with pointwise scores q_i in [0, 1] (the click probability of an
// item alone) and a symmetric 0/1 compatibility graph. Edge (i, j) exists with probability
// p_edge (1 - clash q_i q_j): two popular items rarely go together.
struct Request {
    std::vector<float> q;     // (N)
    std::vector<float> adj;   // (N * N), 0 on the diagonal
};

struct CardWorldOptions {
    int N = 12;            // candidates per request
    int K = 4;             // card size
    double p_edge = 0.8;
    double clash = 1.0;
};

inline Request make_request(const CardWorldOptions& w, Rng& rng) {
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

inline std::vector<Request> make_requests(const CardWorldOptions& w, int n, Rng& rng) {
    std::vector<Request> rs;
    for (int i = 0; i < n; ++i) rs.push_back(make_request(w, rng));
    return rs;
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

// The best card by brute force over all K-subsets (the ground truth of the hit ratio), and its reward.
inline std::vector<int> best_card(const Request& r, int K, double* reward = nullptr) {
    const int N = int(r.q.size());
    std::vector<int> card(static_cast<size_t>(K), -1);
    double best = 0.0;
    std::vector<int> idx(static_cast<size_t>(K));
    std::iota(idx.begin(), idx.end(), 0);
    while (true) {
        const double x = card_reward(r, idx);
        if (x > best) best = x, card = idx;
        int i = K - 1;
        while (i >= 0 && idx[size_t(i)] == N - K + i) --i;
        if (i < 0) break;
        ++idx[size_t(i)];
        for (int j = i + 1; j < K; ++j) idx[size_t(j)] = idx[size_t(j - 1)] + 1;
    }
    if (reward) *reward = best;
    return card;
}
inline double best_reward(const Request& r, int K) {
    double best = 0.0;
    best_card(r, K, &best);
    return best;
}

// G1, the candidate features x_i the encoder sees: its score alone. The graph reaches the model
// through the encoder's attention mask and the decoder's clique mask, not through features.
constexpr int kFeatures = 1;
inline void features(const Request& r, float* x) { std::copy(r.q.begin(), r.q.end(), x); }

// z_A, what the reward estimator sees of a complete card: the items' scores in descending order,
// then the compatibility bit of each pair of them (in that order): K + K (K - 1) / 2 numbers.
inline int card_feature_count(int K) { return K + K * (K - 1) / 2; }
inline void card_features(const Request& r, std::vector<int> card, float* z) {
    const int N = int(r.q.size());
    std::sort(card.begin(), card.end(), [&](int a, int b) { return r.q[size_t(a)] > r.q[size_t(b)]; });
    for (int a : card) *z++ = r.q[size_t(a)];
    for (size_t a = 0; a < card.size(); ++a)
        for (size_t b = a + 1; b < card.size(); ++b) *z++ = r.adj[size_t(card[a]) * N + size_t(card[b])];
}

inline bool complete(const std::vector<int>& card) {
    return std::all_of(card.begin(), card.end(), [](int a) { return a >= 0; });
}
// The model's inputs: x (R, N, kFeatures) for requests rs each repeated `copies` times (rows
// r * copies + c), and their R graphs appended to adj (R * N * N).
inline Tensor request_rows(const std::vector<const Request*>& rs, int copies, std::vector<float>* adj) {
    const int N = int(rs[0]->q.size()), R = int(rs.size()) * copies;
    Tensor x({R, N, kFeatures});
    adj->clear();
    for (int r = 0; r < R; ++r) {
        const Request& q = *rs[size_t(r / copies)];
        features(q, &x[size_t(r) * N * kFeatures]);
        adj->insert(adj->end(), q.adj.begin(), q.adj.end());
    }
    return x;
}
// The estimator's inputs z (R, card_feature_count(K)) for card i of request rs[i]; 0 if incomplete.
inline Tensor card_rows(const std::vector<const Request*>& rs, const std::vector<std::vector<int>>& cards) {
    const int F = card_feature_count(int(cards[0].size()));
    Tensor z({int(cards.size()), F});
    for (size_t i = 0; i < cards.size(); ++i)
        if (complete(cards[i])) card_features(*rs[i], cards[i], &z[i * size_t(F)]);
    return z;
}

// ---- Cards built without learning (the chapter's baselines) ------------------------------------
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

// The baselines' cards for each test request, in the order random, random clique, top-K, greedy
// (the random ones draw from rng request by request).
inline std::array<std::vector<std::vector<int>>, 4> baseline_cards(const std::vector<Request>& test, int K, Rng& rng) {
    std::array<std::vector<std::vector<int>>, 4> cards;
    for (const Request& r : test) {
        cards[0].push_back(random_card(r, K, rng)), cards[1].push_back(random_clique_card(r, K, rng));
        cards[2].push_back(topk_card(r, K)), cards[3].push_back(greedy_card(r, K));
    }
    return cards;
}

// The logged feedback: request i was shown cards[i] and clicked (1) or not (0), a draw with
// probability card_reward (random_clique_card, or random_card with probability `explore`).
struct Logs {
    std::vector<Request> requests;
    std::vector<std::vector<int>> cards;
    std::vector<float> clicks;
};
inline Logs make_logs(const CardWorldOptions& w, int n, double explore, Rng& rng) {
    Logs logs;
    for (int i = 0; i < n; ++i) {
        logs.requests.push_back(make_request(w, rng));
        const Request& r = logs.requests.back();
        logs.cards.push_back(rng.uniform_double() < explore ? random_card(r, w.K, rng) : random_clique_card(r, w.K, rng));
        logs.clicks.push_back(rng.uniform_double() < card_reward(r, logs.cards.back()) ? 1.0f : 0.0f);
    }
    return logs;
}

// What a list of cards earns on the true reward: its mean, the share of best cards (best[i] the
// brute-force best reward of test[i]) and the share of cliques.
struct CardScore { double reward = 0.0, hit = 0.0, clique = 0.0; };
inline CardScore score_cards(const std::vector<std::vector<int>>& cards, const std::vector<Request>& test, const std::vector<double>& best) {
    CardScore s;
    const double n = double(test.size());
    for (size_t i = 0; i < test.size(); ++i) {
        const double x = card_reward(test[i], cards[i]);
        s.reward += x / n, s.hit += (x >= best[i] - 1e-9 ? 1.0 : 0.0) / n, s.clique += (x > 0.0 ? 1.0 : 0.0) / n;
    }
    return s;
}

// The indices of the top `share` of items by score (ties in index order).
inline std::vector<int> top_share(const std::vector<double>& score, double share) {
    std::vector<int> order(score.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
    order.resize(size_t(std::ceil(share * double(order.size()))));
    return order;
}

}  // namespace datasets
}  // namespace minirec
