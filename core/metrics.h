// Evaluation metrics, computed in double on plain vectors (no graph): AUC, GAUC, logloss, RMSE
// and the top-K ranking metrics. Each definition is written out next to its declaration.
// Undefined cases return NaN, never a made-up number: check with std::isnan before averaging.
// Deliberately left out: graded relevance (all relevance here is 0/1), confidence intervals.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {

// ---- Classification (labels: > 0.5 is a positive) --------------------------------------------
// AUC = P(score of a random positive > score of a random negative), ties counting one half:
//   AUC = (R+ - P (P + 1) / 2) / (P N)
// where R+ is the sum of the (1-based, tie-averaged) ranks of the positives in ascending score
// order (the Wilcoxon-Mann-Whitney statistic). O(n log n) by one sort.
// NaN when all labels are one class (the probability is undefined). Throws on length mismatch.
double auc(const std::vector<float>& scores, const std::vector<float>& labels);

// Group AUC (Zhou et al. 2018, DIN): the AUC of each user's impressions, averaged with weights
// = the user's number of impressions:  GAUC = sum_u n_u AUC_u / sum_u n_u.
// Users whose impressions are all one class have no AUC and are skipped (in both sums).
// NaN when no user has both classes.
double gauc(const Ids& user_ids, const std::vector<float>& scores, const std::vector<float>& labels);

// The expected AUC of scores s against soft labels p (ch66 judges models against true probabilities):
// each row counts as a positive with weight p_i and as a negative with weight 1 - p_i, so
//   AUC = sum_{i != j} p_i (1 - p_j) [s_i > s_j] (ties 1/2)  /  sum_{i != j} p_i (1 - p_j).
// It is the mean AUC over every draw of labels from p, computed without drawing: no label noise.
double expected_auc(const std::vector<float>& s, const std::vector<float>& p);

// Mean binary cross-entropy of probabilities p against labels y in [0, 1]:
//   -mean(y log p + (1 - y) log(1 - p)),  p clipped to [eps, 1 - eps] so a confident mistake
// costs log(1/eps) (about 16.1 for eps = 1e-7) instead of infinity. NaN for empty input.
double logloss(const std::vector<float>& probs, const std::vector<float>& labels, double eps = 1e-7);

// sqrt(mean((pred - target)^2)). NaN for empty input.
double rmse(const std::vector<float>& pred, const std::vector<float>& target);

// ---- Top-K ranking (one user's list; average the results over users yourself) ----------------
// `ranked` is the recommended ids, best first, distinct (checked); `relevant` the ids the user
// actually interacted with in the test period (distinct). Only the first min(K, |ranked|) entries
// count: K larger than the list is allowed and means "the whole list". Every function returns
// NaN when `relevant` is empty (nothing to find) and throws when k < 1.
//   HR@K        1 if any relevant id is in the top K, else 0 (hit rate)
//   Precision@K (relevant ids in the top K) / K            - divides by K even past the list end
//   Recall@K    (relevant ids in the top K) / |relevant|
//   NDCG@K      DCG / IDCG, DCG = sum over top-K positions i (0-based) holding a relevant id of
//               1 / log2(i + 2); IDCG = the DCG of a perfect list, sum_{i < min(K, |relevant|)}
//   MAP@K       AP@K = (sum over top-K positions i holding a relevant id of Precision@(i+1))
//               / min(K, |relevant|)  (average it over users for MAP)
//   MRR         1 / (1 + position of the first relevant id) over the whole list, 0 if none
double hit_rate_at_k(const Ids& ranked, const Ids& relevant, int k);
double precision_at_k(const Ids& ranked, const Ids& relevant, int k);
double recall_at_k(const Ids& ranked, const Ids& relevant, int k);
double ndcg_at_k(const Ids& ranked, const Ids& relevant, int k);
double average_precision_at_k(const Ids& ranked, const Ids& relevant, int k);
double reciprocal_rank(const Ids& ranked, const Ids& relevant);

// The indices of the k largest scores, best first (all of them when k >= scores.size()).
// Equal scores are ordered by index (smallest first) so results never depend on the sort.
Ids top_k(const std::vector<float>& scores, int k);

// Leave-one-out evaluation (one held-out item scored against sampled or all other items): the
// 0-based rank of scores[target] among all scores. Ties count against the target (pessimistic):
// a model that scores everything equal ranks it last, not first. With r this rank,
// HR@K = [r < K] and NDCG@K = [r < K] / log2(r + 2).
int rank_of(const std::vector<float>& scores, int target);

// Mean of the non-NaN values (skipping users whose metric is undefined); NaN if there are none.
double nan_mean(const std::vector<double>& values);

// The q-quantile (0 <= q <= 1) of values, interpolating linearly between order statistics as
// numpy's default: quantile(v, 0.5) is the median, 0.25 and 0.75 bound the inter-quartile range.
// For summaries over repeated runs, where a few stalled runs would drag a mean. NaN when empty.
double quantile(std::vector<double> values, double q);

}  // namespace minirec
