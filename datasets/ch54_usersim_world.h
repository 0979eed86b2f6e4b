// Chapter 54's world: a simulated shop whose users have hidden tastes, a logging recommender, and
// browsing logs of (last N items and feedbacks) -> (next item, feedback). The true item vectors and
// tastes are kept, so a recommendation policy can be scored in the true environment. The
// experiment is tutorials/ch54_usersim.h; the planted structure is tested in
// tests/test_ch54_usersim.cpp. Deliberately left out: real logs, item cold start, time.
#pragma once
#include <cstdint>
#include <vector>

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

}  // namespace ch54
}  // namespace minirec
