// An impression -> click -> action -> purchase funnel for ESMM / ESM2, with sparse purchases,
// shared features and the true probability of every stage. Deliberately left out: delays
// (every purchase is observed) and multiple purchases per impression.
//
// Planted structure (ESM2's decomposition). Every impression has features x in R^d, x ~ N(0, I),
// and an item id (Zipf over num_items). Each stage's logit is intercept + s_stage(x) where
//   s_stage(x) = share * <w_shared, x> + (1 - share) * <w_stage, x>  + item_effect_stage[item]
// so that the stages share a common direction (what multi-task models can exploit).
//   click      ~ Bernoulli(p_click)
//   d_action   ~ Bernoulli(p_daction)        only after a click (cart / wishlist: the "deterministic action")
//   o_action   = click and not d_action      (any other action)
//   purchase   ~ Bernoulli(p_buy_d) after a d_action, Bernoulli(p_buy_o) after an o_action
// Intercepts are set by bisection on the generated features so that the mean probabilities
// equal the target rates (ctr, daction_rate given click, buy rates given each action).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct FunnelOptions {
    int n = 50000;
    uint64_t seed = 1;
    int dim = 8;                   // d
    int num_items = 200;
    double share = 0.6;            // how much the stages share their direction, in [0, 1]
    double signal = 1.0;           // std of each stage's feature score
    double ctr = 0.05;             // target mean P(click)
    double daction_rate = 0.2;     // target mean P(d_action | click)
    double buy_after_daction = 0.15;  // target mean P(purchase | d_action)
    double buy_after_oaction = 0.01;  // target mean P(purchase | o_action)
};

struct FunnelData {
    Tensor x;                      // (N, d)
    Ids item;                      // (N)
    std::vector<float> click, daction, oaction, purchase;   // (N) 0/1 labels
    // True probabilities of each stage given x (the conditional ones, whatever happened before).
    std::vector<float> p_click, p_daction, p_buy_d, p_buy_o;
    std::vector<float> p_purchase; // P(purchase | impression) = p_click (p_daction p_buy_d + (1 - p_daction) p_buy_o)
    double intercept_click = 0, intercept_daction = 0, intercept_buy_d = 0, intercept_buy_o = 0;
};

FunnelData funnel(const FunnelOptions& opts);

// `fo` with both purchase rates multiplied by `scale` (the sparsity knob). control: first both rates
// become their mean after a click, daction_rate * buy_after_daction + (1 - daction_rate) *
// buy_after_oaction (3.8% by default), so a D-Action says nothing about the purchase.
FunnelOptions scaled_funnel(FunnelOptions fo, double scale, bool control);

// A mini-batch of funnel rows: features (B, d), item ids (B) and the three labels, each (B, 1).
struct FunnelBatch {
    Tensor x, click, daction, purchase;
    Ids item;
};
FunnelBatch funnel_batch(const FunnelData& f, const std::vector<int>& rows);

// A model's scores on `rows` (one per row, in order) judged against what the funnel knows. Synthetic
// (p_purchase known): expected AUCs against the TRUE probabilities of every row, clicked or not; pCVR
// against p(purchase | click, x) = p_daction p_buy_d + (1 - p_daction) p_buy_o. A real file (no truth):
// the labels, as the ESMM paper scores them: CVR AUC over the clicked rows, CTR and CTCVR AUC over all.
// Empty p_ctcvr and p_ctr (a model that has no such output) leave those AUCs NaN.
struct FunnelScores {
    double cvr_auc = 0.0;        // pCVR against the true p(purchase | click, x): the entire-space CVR AUC
    double ctcvr_auc = NAN;      // pCTCVR against the true p(purchase | impression)
    double cvr_ratio = 0.0;      // mean pCVR / mean true pCVR: 1 is calibrated on the entire space
    double ctr_auc = NAN;        // real files only: pCTR against the click labels
};
FunnelScores score_funnel(const FunnelData& f, const std::vector<int>& rows, const std::vector<float>& p_cvr,
                          const std::vector<float>& p_ctcvr, const std::vector<float>& p_ctr);

// Rows 0 .. n_train - 1 to train and first_test .. the last to test (the rows between, a validation
// set, are not used).
struct FunnelRows {
    std::vector<int> train, test;
};
FunnelRows funnel_rows(const FunnelData& f, int n_train, int first_test);
// The rows a model trains on: `rows`, or only the clicked ones (clicked_only: the naive CVR model).
std::vector<int> training_rows(const FunnelData& f, const std::vector<int>& rows, bool clicked_only);

// The labels of `rows` summed, each divided by `worlds`, into c: over the worlds, the mean funnel.
struct FunnelCounts {
    double clicks = 0, dactions = 0, purchases = 0;
};
void add_counts(FunnelCounts& c, const FunnelData& f, const std::vector<int>& rows, int worlds);

}  // namespace datasets
}  // namespace minirec
