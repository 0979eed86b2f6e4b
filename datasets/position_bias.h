// Position-biased click logs for PAL, the YouTube shallow tower and COEC: ranked lists where a
// click needs both examination (depends on position only) and relevance (depends on user and
// item only). Deliberately left out: cascades (clicks do not depend on other clicks).
//
// Planted structure (the examination hypothesis):
//   exam[k]  = (1 / (k + 1))^exam_power                    for positions k = 0..K-1
//   rel(u,i) = sigmoid(item_quality_i + <user_u, item_i>)    the click probability if examined
//   click    = examined AND clicked_if_examined,  examined ~ Bernoulli(exam[k]),
//              clicked_if_examined ~ Bernoulli(rel(u,i)), drawn independently.
// Lists are ordered by a production ranker that sees rel(u,i) plus Gaussian noise
// (ranker_noise) and, when ranker_item_bias > 0, a fixed per-item offset (items it promotes
// regardless of relevance), so top positions hold more relevant items: position and relevance are
// confounded, as in real logs. With ranker_noise large the order is close to random.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct PositionBiasOptions {
    int num_lists = 5000;          // impressions of a ranked list
    uint64_t seed = 1;
    int num_users = 200;
    int num_items = 500;
    int list_size = 10;            // K positions
    int latent_dim = 4;
    double exam_power = 1.0;       // exam[k] = (1/(k+1))^exam_power
    double quality_mean = -1.5;    // item_quality ~ N(quality_mean, quality_std^2)
    double quality_std = 1.0;
    double affinity_std = 0.7;     // std of <user_u, item_i>
    double ranker_noise = 0.5;     // on the logit scale
    bool with_bids = false;        // give every item (ad) a bid ~ lognormal(0, 0.5)
    double ranker_item_bias = 0.0; // std of a fixed per-item offset the ranker adds to its score
                                   // (items it promotes whatever their relevance); 0 = none
};

// One shown slot: list r showed `item` to `user` at `position`.
struct ShownItem {
    int32_t list, user, item, position;
    float examined;                // ground truth (1 = the user looked at the slot)
    float relevance;               // ground truth rel(u, i)
    float click;                   // the only thing a real log records
};

struct PositionBiasData {
    std::vector<ShownItem> rows;   // num_lists * list_size rows, list by list, top position first
    std::vector<float> exam_prob;  // (K) the true examination probability per position
    std::vector<float> item_quality;   // (num_items)
    Tensor user_vectors, item_vectors; // (num_users, D), (num_items, D)
    std::vector<float> bids;       // (num_items) empty unless with_bids
    std::vector<float> ranker_bias;    // (num_items) empty unless ranker_item_bias > 0
    int num_users = 0, num_items = 0, list_size = 0;
};

PositionBiasData position_bias_logs(const PositionBiasOptions& opts);

// Click-through rate per position measured on the rows (K values).
std::vector<double> ctr_by_position(const PositionBiasData& data);

// rel(u, i) for every pair, (num_users x num_items) row-major: the truth a ranking is judged by.
std::vector<double> true_relevance(const PositionBiasData& data);

// How well `score` (users x items, row-major) ranks each user's items by the truth `rel` (same
// shape): graded NDCG@k over all items, gain = rel,
//   DCG = sum_{r < k} rel(item at rank r) / log2(r + 2), divided by the DCG of the ideal order,
// mean over users. *top_rel: the mean rel of each user's top-scored item.
double ndcg_by_truth(const std::vector<double>& score, const std::vector<double>& rel, int users, int k,
                     double* top_rel);

}  // namespace datasets
}  // namespace minirec
