// Metrics for advertising: COEC (clicks over expected clicks), Kendall's tau between two rankings,
// and csAUC, the CPM-sensitive AUC of Liu & Yin (arXiv 1904.10272). Computed in double on plain
// vectors, like core/metrics.h; undefined cases return NaN. Deliberately left out: confidence
// intervals, weighted or grouped (per-request) variants.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace minirec {

// ---- COEC (Liu Peng & Wang Chao, 《计算广告》 Computational Advertising) -------------------------
// Clicks over expected clicks of one ad over its impressions i:
//   COEC = sum_i c_i / sum_i EC_i
// where c_i is 1 if impression i was clicked and EC_i the expected CTR of an average ad in that
// impression's position (and context). COEC > 1: the ad earns more clicks than its slots promise.
// NaN when the expected clicks sum to 0. Throws on length mismatch or a negative expectation.
double coec(const std::vector<float>& clicks, const std::vector<float>& expected_ctr);

// COEC of every group (ad) g = 0..num_groups-1 at once: group[i] says which ad impression i showed.
// A group without impressions gets NaN.
std::vector<double> coec_by_group(const Ids& group, const std::vector<float>& clicks,
                                  const std::vector<float>& expected_ctr, int num_groups);

// ---- Kendall's tau-b ---------------------------------------------------------------------------
// Rank agreement of two scorings of the same n objects, in [-1, 1]:
//   tau_b = (C - D) / sqrt((n0 - n1)(n0 - n2))
// C (D): pairs ordered the same (opposite) way by a and b; n0 = n(n-1)/2; n1, n2: pairs tied in a,
// in b. Without ties this is (C - D) / n0. O(n^2): meant for rankings of ads, not of impressions.
// NaN when a or b ties every pair (or n < 2).
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

// ---- csAUC (Liu & Yin 2019, "CPM-sensitive AUC for CTR prediction") ----------------------------
// Samples have levels: every negative is at the lowest level, positives are ordered by their bid.
// For a higher-level sample x_h and a lower-level one x_l the revenue at stake is
//   Rev(x_h, x_l) = bid_h y_h - bid_l y_l  =  bid_h          (x_l a negative)
//                                          =  bid_h - bid_l  (both positives)
// and csAUC is the revenue-weighted share of such pairs the scores order correctly:
//   csAUC = sum_{(h,l)} Rev(h, l) I(s_h > s_l) / sum_{(h,l)} Rev(h, l)
// over the M x N (positive, negative) pairs and the positive pairs with different bids (pairs
// with equal bids have Rev = 0). A tie s_h = s_l counts one half, as in AUC. With equal bids
// csAUC = AUC; an order by level gives 1. Pass the score the auction ranks by (pCTR x bid) to
// measure the order it serves. O(n log n): one sort for the positive-negative pairs, a Fenwick tree
// over score ranks for the positive pairs. NaN when no pair has revenue at stake. Throws on length
// mismatch, a NaN score or a negative or non-finite bid.
double cs_auc(const std::vector<float>& scores, const std::vector<float>& labels, const std::vector<float>& bids);

}  // namespace minirec
