// COEC, clicks over expected clicks (《计算广告》, Liu Peng & Wang Chao), and the three estimates of
// the expected CTR of a position that chapter 67 describes: (1) the raw CTR of each position in the
// log, (2) the CTR of each position in a small bucket of randomly ordered traffic, (3) a logistic
// regression on position and context whose position part is the expected CTR p_bias(k, c); and
// the chapter's worked example. Deliberately left out: smoothing of small counts, per-query or
// per-device position curves.
//
//   COEC_a = sum_{i shows a} c_i / sum_{i shows a} EC(k_i, c_i)          (ratio of sums)
//   EC(k, c) = the CTR an average ad would get in position k and context c
#pragma once
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/ad_metrics.h"
#include "nn/layers.h"

namespace minirec {
namespace ch67 {

// Expected clicks of an ad from its impressions per position: sum_k n_k EC_k (the worked example).
inline double expected_clicks(const std::vector<double>& impressions_at, const std::vector<double>& ctr_at) {
    double s = 0.0;
    for (size_t k = 0; k < impressions_at.size() && k < ctr_at.size(); ++k) s += impressions_at[k] * ctr_at[k];
    return s;
}

// ---- The chapter's worked example -----------------------------------------------------------
// Ads A and B were each shown 10 times; A mostly high, B mostly low. The chapter gives the totals
// (A: 5.1 expected clicks, 3 clicks; B: 2.85 expected, 2 clicks); its per-position table is an
// image, so the split below is ours, chosen to give exactly those totals.
struct WorkedExample {
    std::vector<double> position_ctr = {0.6, 0.45, 0.3, 0.15};   // EC_k, positions 1..4
    std::vector<double> shown_a = {6, 2, 2, 0}, shown_b = {1, 2, 2, 5};
    double clicks_a = 3, clicks_b = 2;
    double expected_a() const { return expected_clicks(shown_a, position_ctr); }   // 5.1
    double expected_b() const { return expected_clicks(shown_b, position_ctr); }   // 2.85
    double ctr_a() const { return clicks_a / 10.0; }                                // 0.3
    double ctr_b() const { return clicks_b / 10.0; }                                // 0.2
    double coec_a() const { return clicks_a / expected_a(); }                       // 0.588
    double coec_b() const { return clicks_b / expected_b(); }                       // 0.702
};

// Estimates (1) and (2): clicks / impressions per position k = 0..K-1, over the impressions i with
// use[i] (all of the log for (1), the randomised bucket for (2)). NaN for a position never shown.
inline std::vector<double> position_ctr(const Ids& position, const std::vector<float>& clicks,
                                        const std::vector<bool>& use, int K) {
    std::vector<double> c(size_t(K), 0.0), n(size_t(K), 0.0);
    for (size_t i = 0; i < position.size(); ++i)
        if (use[i]) c[size_t(position[i])] += clicks[i], n[size_t(position[i])] += 1.0;
    for (size_t k = 0; k < c.size(); ++k) c[k] = n[k] > 0.0 ? c[k] / n[k] : std::nan("");
    return c;
}

// A per-position estimate EC_k, looked up for every impression: COEC's denominator with (1) or (2).
inline std::vector<float> per_impression(const std::vector<double>& ec, const Ids& position) {
    std::vector<float> e(position.size());
    for (size_t i = 0; i < e.size(); ++i) e[i] = float(ec[size_t(position[i])]);
    return e;
}

// Estimate (3): logistic regression on one-hot position, context and one-hot ad,
//   logit P(click | k, c, a) = b + beta_k + gamma c + alpha_a .
// alpha_a soaks up each ad's quality, so that beta_k measures the position alone even though
// better ads were served higher (without it beta_k would inherit the confounding of (1)).
// The expected CTR of the *average* ad, the denominator of COEC, drops alpha_a for its mean:
//   EC(k, c) = sigmoid(b + beta_k + gamma c + mean_a alpha_a).
struct PositionBiasLR {
    Embedding beta;    // (K, 1)  position effects
    Embedding alpha;   // (A, 1)  ad effects
    Linear context;    // (1 -> 1) gamma c + b

    PositionBiasLR(int positions, int ads, Rng& rng)
        : beta(positions, 1, rng, 0.0f), alpha(ads, 1, rng, 0.0f), context(1, 1, rng) {}

    // positions (B), ads (B), ctx (B, 1) -> logits (B, 1)
    Var operator()(const Ids& positions, const Ids& ads, const Tensor& ctx) const {
        return beta(positions) + alpha(ads) + context(constant(ctx));
    }

    // EC(k, c) for impressions (no graph): the position-and-context part plus the mean ad effect.
    std::vector<float> expected_ctr(const Ids& positions, const std::vector<float>& ctx) const {
        const Tensor& a = alpha.table.value();
        double mean_alpha = 0.0;
        for (size_t i = 0; i < a.size(); ++i) mean_alpha += a[i] / double(a.size());
        const float gamma = context.weight.value()[0], b = context.bias.value()[0];
        std::vector<float> ec(positions.size());
        for (size_t i = 0; i < positions.size(); ++i) {
            const double z = b + beta.table.value()[size_t(positions[i])] + gamma * ctx[i] + mean_alpha;
            ec[i] = float(1.0 / (1.0 + std::exp(-z)));
        }
        return ec;
    }

    // The position curve of the average ad at context 0: EC(k, 0) for k = 0..K-1.
    std::vector<double> position_curve(int K) const {
        Ids slots(static_cast<size_t>(K));
        std::iota(slots.begin(), slots.end(), 0);
        const std::vector<float> ec = expected_ctr(slots, std::vector<float>(size_t(K), 0.0f));
        return std::vector<double>(ec.begin(), ec.end());
    }

    NamedParams named_parameters() const {
        NamedParams p = beta.named_parameters("beta.");
        append(p, alpha.named_parameters("alpha."));
        append(p, context.named_parameters("context."));
        return p;
    }
};

}  // namespace ch67
}  // namespace minirec
