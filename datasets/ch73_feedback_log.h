// Chapter 73's simulated ad log with a feedback loop: a legacy ranker that over-rates some ads
// writes the log, and a feature (the ad's historical CTR) inherits the positions it gave them.
// Deliberately left out: query features, auctions and bids, the paper's real search-ads data.
//
// Planted structure:
//   t_i ~ N(quality_mean, 1), rel_i = sigmoid(t_i)      ad i's true relevance (what we want to rank by)
//   k_i ~ N(0, legacy_std^2)                             the legacy ranker's error about ad i
//   a list shows `slots` random ads ordered by  ranker_weight t_i + k_i + N(0, ranker_noise^2)
//   click ~ Bernoulli(exam_p rel_i),  exam_p = 1 / (p + 1)    (slot p, 0-based)
//   features X_i: `content` noisy readings t_i + N(0, content_noise^2), and the logit of the ad's
//   smoothed CTR in an earlier log written by the same ranker: it mixes rel_i with the slots the
//   ad used to get, so it carries k_i. The bias b of an event is the training log's CTR at its slot.
// With legacy_std = 0 (the control world) the slots are random: the log carries no per-ad bias.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace ch73 {

struct WorldOptions {
    int items = 1000, slots = 10, content = 8;
    int history_lists = 10000, train_lists = 10000, test_lists = 2500;
    double quality_mean = -1.0, legacy_std = 1.5, ranker_weight = 0.0, ranker_noise = 0.5;
    double content_noise = 2.0;
    double prior_clicks = 2.0, prior_views = 10.0;   // smoothing of the historical CTR
};

struct Event {
    int32_t item, slot;
    float click;
};

struct World {
    int items = 0, slots = 0, features = 0;    // features: content, then the historical CTR (last)
    std::vector<double> truth, legacy;        // (items) t_i and k_i
    Tensor x;                                  // (items, F) standardised features
    std::vector<Event> train, test;
    std::vector<double> slot_ctr;              // (slots) the training log's CTR per slot
    double b_mean = 0.0, b_std = 1.0;          // to standardise b
    double bias(int slot) const { return (slot_ctr[size_t(slot)] - b_mean) / b_std; }
};

World make_world(const WorldOptions& o, uint64_t seed);

// Events as model inputs: X (n, F) of each event's ad, b (n, 1) standardised, clicks (n, 1).
struct Batch {
    Tensor x, b, click;
};
Batch gather(const World& w, const std::vector<Event>& events, const std::vector<int>& rows);
Batch gather(const World& w, const std::vector<Event>& events);   // all of them, in order
// The same X with the historical-CTR column (the last) set to 0, i.e. not an input.
Tensor without_history(Tensor x);

// Judging a ranking of the ads against the planted truth:
// Pearson correlation of a score with t_i (or k_i) over all ads (NaN where either is constant),
double pearson(const std::vector<float>& a, const std::vector<double>& b);
// and the mean true relevance sigmoid(t_i) of the `count` ads with the highest scores.
double top_relevance(const std::vector<float>& score, const std::vector<double>& truth, int count);
// The references every model's ranking is read against: the oracle's top `count` ads (ranked by t_i
// itself), a random ad's relevance (the mean of sigmoid(t_i)), and how well the content features,
// summed and untrained, rank by t_i.
struct References {
    double oracle_top_rel = 0.0, random_top_rel = 0.0, features_truth_corr = 0.0;
};
References references(const World& w, int count);

}  // namespace ch73
}  // namespace minirec
