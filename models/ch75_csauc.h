// Chapter 75: what an ad auction does with a CTR model, and the two ways we grade the model.
// The auction ranks candidates by eCPM = pCTR x bid and the winner pays its bid when clicked
// (a first-price simplification). AUC grades the order of pCTR against clicks; csAUC (Liu & Yin
// 2019, nn/ad_metrics.h) grades the order of pCTR x bid against clicks weighted by the revenue at
// stake. Also the logistic regression we train with and without bid-aware sample weights, and the
// seed's worked example graded both ways.
// Deliberately left out: second-price charging, reserve prices, several slots per auction.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/metrics.h"
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

    // The click probabilities sigmoid(logit) of rows (ads, x), without recording a graph.
    std::vector<float> predict(const Ids& ads, const Tensor& x) const {
        NoGrad no_grad;
        const Var logits = (*this)(ads, x);   // (n, 1)
        std::vector<float> p(ads.size());
        for (size_t i = 0; i < p.size(); ++i) p[i] = float(1.0 / (1.0 + std::exp(-double(logits.value()[i]))));
        return p;
    }

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

// ---- The worked example: four clicked ads (bids 4, 3, 2, 1 = their levels) and one unclicked (0).
// The seed's sample table is an image: these bids and orderings are ours, not the seed's.
struct Ordering {
    const char* name;
    std::vector<int> levels;   // top to bottom
};
inline std::vector<Ordering> worked_orderings() {
    return {{"by level (ideal)", {4, 3, 2, 1, 0}},
            {"highest bid 4th", {3, 2, 1, 4, 0}},
            {"positives reversed", {1, 2, 3, 4, 0}},
            {"negative in the middle", {4, 3, 0, 2, 1}},
            {"negative on top", {0, 4, 3, 2, 1}},
            {"everything reversed", {0, 1, 2, 3, 4}}};
}
struct OrderingMetrics {
    double auc, cs_auc, top_revenue;   // top_revenue: the bid of the top sample if clicked
};
inline OrderingMetrics grade(const Ordering& o) {
    std::vector<float> score, label, bid;
    for (size_t r = 0; r < o.levels.size(); ++r) {
        score.push_back(float(o.levels.size() - r));   // higher = nearer the top
        label.push_back(o.levels[r] > 0 ? 1.0f : 0.0f);
        bid.push_back(o.levels[r] > 0 ? float(o.levels[r]) : 1.0f);   // the negative's bid is irrelevant
    }
    return {auc(score, label), cs_auc(score, label, bid), double(o.levels[0])};
}

}  // namespace ch75
}  // namespace minirec
