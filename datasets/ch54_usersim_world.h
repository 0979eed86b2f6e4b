// Chapter 54's world: a simulated shop whose users have hidden tastes, a logging recommender, and
// browsing logs of (last N items and feedbacks) -> (next item, feedback), as tensors. The true item
// vectors and tastes are kept, so a recommendation policy can be scored in the true environment. The
// experiment is tutorials/ch54_usersim.h; the planted structure is tested in
// tests/test_ch54_usersim.cpp. Deliberately left out: real logs, item cold start, time.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace minirec {
namespace ch54 {

// Items sit in clusters: q_i = c_{k(i)} + noise, unit-norm cluster centres c_k in R^D. A user's taste
// u is the normalised sum of two centres. An item's utility is r = <u, q_i>, and the feedback is
// drawn from softmax(0, 4r - 1.5, 6r - 3.5) over (skip, click, buy): items of the user's clusters are
// mostly clicked or bought, others mostly skipped. The model never sees q or u: it gets "pre-trained"
// embeddings e_i = tanh(q_i + noise), and must read the taste from the state's feedbacks.
struct WorldOptions {
    int num_items = 200;
    int clusters = 8;
    int dim = 8;                 // D
    int history = 10;            // N, the state's length
    int steps = 20;              // logged (state, next item, feedback) examples per user
    int train_users = 100;       // few logs: the regime where the paper says augmentation helps
    int valid_users = 50;        // early stopping
    int test_users = 200;
    float item_noise = 0.35f;    // spread of q_i around its centre
    float embed_noise = 0.3f;    // how far e_i is from q_i
    float follow = 0.5f;         // P(the logging recommender shows an item of a recently liked cluster)
};

constexpr int kFeedbackTypes = 3;  // K: skip, click, buy
const float kReward[kFeedbackTypes] = {0.0f, 1.0f, 2.0f};   // skip, click, buy
// The expected reward sum_k p_k R_k of a feedback distribution p (K).
inline float expected_reward(const float* p) { return p[1] * kReward[1] + p[2] * kReward[2]; }   // kReward[0] = 0

struct Session {  // one user's browsing under the logging recommender
    std::vector<int> items, feedback;  // history + steps items in order, and the feedback to each, in [0, K)
    std::vector<float> true_probs;     // (history + steps, K): the true feedback distributions
    std::vector<float> taste;          // (D) u, the user's hidden taste
};

struct World {
    WorldOptions o;
    std::vector<int> cluster;      // (num_items)
    std::vector<float> embedding;  // (num_items, D): e_i, what models see
    std::vector<float> q;          // (num_items, D): the true item vectors, hidden from models
    std::vector<Session> train, valid, test;
};

// v / |v|, the norm accumulated in double.
std::vector<float> normalised(std::vector<float> v);
// The feedback distribution for utility r: softmax(0, 4r - 1.5, 6r - 3.5).
void true_feedback_probs(float r, float* p);
// The true feedback distribution p (K) of a user of taste u (D) shown item `item`: r = <u, q_item>.
void true_feedback_probs(const World& w, const float* taste, int item, float* p);
// A world drawn from `seed`: items, then train, valid and test users with their sessions.
World make_world(const WorldOptions& o, uint64_t seed);

// ---- The logs as tensors: every example of a set of sessions, embedded once -------------------
// Example (s, t) has the state items [t - N, t) of session s, and item t as its target. Beside what a
// model sees, the ground truth of each example, for the oracle and for scoring a policy.
struct Examples {
    int size = 0;                   // n
    Tensor state_items;             // (n, N, D) e_i of the state's items
    Tensor state_feedback;          // (n, N, K) their feedback, one-hot
    Tensor next_item;               // (n, D) e_i of the target
    Ids feedback;                   // (n) the feedback logged for it
    std::vector<float> true_probs;  // (n, K) the oracle's feedback distribution
    std::vector<float> taste;       // (n, D) the user's hidden taste, to score a policy in the true world
};
Examples examples(const World& w, const std::vector<Session>& sessions);

// C random items (uniform, with repetition) for each of n states: (n * C) ids.
std::vector<int> random_candidates(const World& w, int n, int C, Rng& rng);
// The candidates' ids (n * C) -> their embeddings (n, C, D).
Tensor candidate_embeddings(const World& w, const std::vector<int>& cand, int C);

// Mean expected reward in the true environment over n states with C candidates each (taste (n, D),
// cand (n * C)): of the candidate with the top score (scores (n, C), a greedy policy), of the best
// candidate (the ceiling) and of a random one.
struct TrueReward { double policy = 0.0, best = 0.0, random = 0.0; };
TrueReward true_reward(const World& w, const std::vector<float>& taste, const std::vector<int>& cand, const float* scores, int n,
                       int C);

}  // namespace ch54
}  // namespace minirec
