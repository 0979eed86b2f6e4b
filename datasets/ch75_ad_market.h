// Chapter 75's simulated ad market: ads with a quality, a bid and a taste for user features; test
// auctions where every candidate gets a click label (as if each had been shown), so the same
// samples feed AUC, csAUC and the revenue; noisy oracles of the true CTR, and the LR's batches.
// Deliberately left out: real logs, position effects.
//
// Planted structure, for A ads and user features x in R^D:
//   ad a:    quality q_a ~ N(quality_mean, quality_std^2), bid_a ~ lognormal(0, bid_sigma^2)
//            taste v_a: a `high_share` group of ads respond to x along v_H = taste e_0, the others
//            along v_L = taste e_1 (plus N(0, 0.1^2) per coordinate). The group is the highest
//            bidders when taste_by_bid (the main world), a random share of ads otherwise (control).
//   sample:  P(click | a, x) = sigmoid(q_a + v_a . x),  x ~ N(0, I)
//   auction: `per_auction` ads drawn uniformly for one x.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace ch75 {

struct WorldOptions {
    int ads = 200;
    double high_share = 0.2;     // share of ads with taste v_H
    bool taste_by_bid = true;    // v_H goes to the highest bidders (false: to a random share)
    int features = 4;            // D
    double quality_mean = -2.5, quality_std = 0.5;
    double bid_sigma = 0.8;
    double taste = 1.5;          // |v_H| = |v_L|
    int train_rows = 50000;
    int auctions = 20000;
    int per_auction = 10;
    uint64_t seed = 1;
};

struct Samples {                 // one row per (ad, x)
    Ids ad;
    Tensor x;                    // (n, D)
    std::vector<float> p, y, bid;
    std::vector<bool> high;      // the ad is in the v_H group
};

struct World {
    std::vector<double> quality, bid;
    std::vector<std::vector<double>> taste;   // (A, D)
    std::vector<bool> high;
    Samples train, test;         // test: auctions x per_auction rows, auction by auction
};

World make_world(const WorldOptions& o);

// World w of a cell: o with its own seed, the v_H taste by bid (main) or by a random share (control).
inline WorldOptions world_of(WorldOptions o, uint64_t seed, bool taste_by_bid) {
    o.seed = seed;
    o.taste_by_bid = taste_by_bid;
    return o;
}

// A noisy oracle, the family of models graded by the chapter: logit p_i + sigma_i eps_i, eps_i ~ N(0, 1),
// sigma_i = sigma_high on v_H ads, else sigma_low; returns the noisy click probabilities.
std::vector<float> noisy_oracle(const Samples& s, double sigma_low, double sigma_high, uint64_t seed);

// Rows `rows` of s as a training batch: ad ids (B), x (B, D), y (B, 1) and the sample weights (B, 1),
// the ad's bid when bid_weighted, else 1.
struct Batch {
    Ids ad;
    Tensor x, y, weight;
};
Batch batch_of(const Samples& s, const std::vector<int>& rows, int features, bool bid_weighted);

}  // namespace ch75
}  // namespace minirec
