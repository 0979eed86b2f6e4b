// Chapter 75: what an ad auction does with a CTR model, and the two ways we grade the model.
// The auction ranks candidates by eCPM = pCTR x bid and the winner pays its bid when clicked
// (a first-price simplification). AUC grades the order of pCTR against clicks; csAUC (Liu & Yin
// 2019, nn/ad_metrics.h) grades the order of pCTR x bid against clicks weighted by the revenue at
// stake. Also the logistic regression we train with and without bid-aware sample weights.
// Deliberately left out: second-price charging, reserve prices, several slots per auction.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/ad_metrics.h"
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch75 {

// The auction's ranking score for every candidate: eCPM_i = pCTR_i * bid_i.
inline std::vector<float> ecpm(const std::vector<float>& pctr, const std::vector<float>& bid) {
    std::vector<float> s(pctr.size());
    for (size_t i = 0; i < s.size(); ++i) s[i] = pctr[i] * bid[i];
    return s;
}

// Expected revenue per auction: candidates come in consecutive groups of `per_auction`; in each
// the candidate with the largest pCTR * bid wins and earns true_ctr * bid in expectation.
inline double auction_revenue(const std::vector<float>& pctr, const std::vector<float>& bid,
                              const std::vector<float>& true_ctr, int per_auction) {
    double revenue = 0.0;
    const size_t n = pctr.size() / size_t(per_auction);
    for (size_t r = 0; r < n; ++r) {
        size_t best = r * size_t(per_auction);
        for (size_t i = best + 1; i < (r + 1) * size_t(per_auction); ++i)
            if (pctr[i] * bid[i] > pctr[best] * bid[best]) best = i;
        revenue += double(true_ctr[best]) * bid[best];
    }
    return n ? revenue / double(n) : 0.0;
}

// A logistic regression on an ad id and user features x (D of them):
//   logit P(click | a, x) = b + alpha_a + w . x
// It cannot express ad-specific responses to x, so it has to choose which ads to fit well; the
// sample weights decide. With weight_i = bid_i (normalised to mean 1) an error costs in proportion
// to the money at stake, which is what csAUC measures:
//   L = sum_i weight_i BCE(y_i, sigmoid(logit_i)) / sum_i weight_i.
struct CtrLR {
    Embedding alpha;   // (A, 1) ad effects
    Linear user;       // (D -> 1) w . x + b

    CtrLR(int ads, int features, Rng& rng) : alpha(ads, 1, rng, 0.0f), user(features, 1, rng) {}

    // ads (B), x (B, D) -> logits (B, 1)
    Var operator()(const Ids& ads, const Tensor& x) const { return alpha(ads) + user(constant(x)); }

    NamedParams named_parameters() const {
        NamedParams p = alpha.named_parameters("alpha.");
        append(p, user.named_parameters("user."));
        return p;
    }
};

// The weighted loss above: logits (B, 1), y (B, 1), weights (B, 1).
inline Var weighted_bce(const Var& logits, const Tensor& y, const Tensor& weights) {
    const Var per_example = bce_with_logits(logits, y, Reduction::none);   // (B, 1)
    float total = 0.0f;
    for (size_t i = 0; i < weights.size(); ++i) total += weights[i];
    return sum(per_example * constant(weights)) / total;
}

}  // namespace ch75
}  // namespace minirec
