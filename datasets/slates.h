// Candidate sets and a set-level click model for exact-K recommendation and re-ranking (PRM,
// Exact-K), where items on the same slate influence each other. Deliberately left out:
// positions inside the slate (see position_bias.h for that).
//
// Planted structure. Every request has a user and C candidates. Each candidate has a topic
// (0..num_topics-1), a title made of title_words words (drawn mostly from its topic's own word
// range, with probability 0.3 from a shared range), and a relevance r_i = sigmoid(quality_i +
// affinity(user, topic_i)). Similarity sim(i, j) is the Jaccard index of the two titles' word
// sets, and the pairwise constraint is "sim(i, j) > sim_threshold: not both on a slate" (the
// edges Exact-K's clique search must avoid). The set-level click model, in slate order:
//   a_i = r_i * prod_{j shown before i} (1 - redundancy * sim(i, j))
//   P(item i clicked) = a_i,  P(slate clicked) = 1 - prod_i (1 - a_i)
// so a similar item shown earlier suppresses a later one.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct SlateOptions {
    int num_requests = 1000;
    uint64_t seed = 1;
    int num_users = 100;
    int num_candidates = 20;       // C
    int slate_size = 4;            // K
    int num_topics = 6;
    int words_per_topic = 12;
    int shared_words = 20;
    int title_words = 4;
    double redundancy = 0.8;
    double sim_threshold = 0.3;
    double quality_mean = -1.0;
};

struct SlateRequest {
    int32_t user = 0;
    Ids items;                     // (C) candidate ids (global, unique per request)
    Ids topic;                     // (C)
    std::vector<Ids> titles;       // (C) word ids of each title
    std::vector<float> relevance;  // (C) r_i
    Tensor similarity;             // (C, C) Jaccard similarity, 1 on the diagonal
    Ids logged_slate;              // K candidate indices shown by a random logging policy
    std::vector<float> logged_clicks;  // (K) clicks drawn from the click model
};

struct SlateData {
    std::vector<SlateRequest> requests;
    double redundancy = 0.0, sim_threshold = 0.0;
    int slate_size = 0;
};

SlateData slates(const SlateOptions& opts);

// Per-item click probabilities a_i for `slate` (candidate indices, in display order).
std::vector<double> slate_item_click_probs(const SlateData& data, const SlateRequest& req, const Ids& slate);
// P(at least one click on the slate).
double slate_click_prob(const SlateData& data, const SlateRequest& req, const Ids& slate);
// True if no two items on the slate exceed the similarity threshold.
bool slate_feasible(const SlateData& data, const SlateRequest& req, const Ids& slate);
// The feasible K-subset (in the best order) with the highest slate_click_prob, by brute force:
// C(C, K) K! orders, fine for C = 20, K = 4 with a few requests.
Ids best_slate_bruteforce(const SlateData& data, const SlateRequest& req);

}  // namespace datasets
}  // namespace minirec
