// Chapter 64's worlds over datasets/synthetic_ctr.h: one setting of the planted 3-field term, what the
// oracle (the true click probability) scores on test rows, and a field x field matrix (AutoInt's
// attention) read against the planted pairs. Deliberately left out: the models and their training.
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "datasets/synthetic_ctr.h"

namespace minirec {
namespace datasets {

// n rows whose 3-field term has std three_way_std (0: none, pairs only: the control). The first-order
// and pair weights depend only on the seed, so the settings of one world differ only by that term.
inline CtrData planted_ctr(int n, double three_way_std, uint64_t seed) {
    CtrOptions co;
    co.n = n, co.seed = seed, co.three_way = three_way_std > 0.0, co.three_way_std = three_way_std;
    return synthetic_ctr(co);
}

// Rows begin .. end - 1 of a data set, in order (a training or a test block).
inline std::vector<int> rows_between(int begin, int end) {
    std::vector<int> rows(static_cast<size_t>(end - begin));
    std::iota(rows.begin(), rows.end(), begin);
    return rows;
}

// Test AUC and logloss: probabilities p (one per row of `rows`) against those rows' clicks; the
// oracle's are the true probabilities'.
struct ClickScores {
    double auc = 0.0, logloss = 0.0;
};
inline ClickScores click_scores(const CtrData& d, const std::vector<int>& rows, const std::vector<float>& p) {
    std::vector<float> labels;
    for (int r : rows) labels.push_back(d.labels[size_t(r)]);
    return {auc(p, labels), logloss(p, labels)};
}
inline ClickScores oracle_scores(const CtrData& d, const std::vector<int>& rows) {
    std::vector<float> truth;
    for (int r : rows) truth.push_back(d.true_prob[size_t(r)]);
    return click_scores(d, rows, truth);
}

// Whether fields m and k interact (either order) among `planted` (planted_pairs: m < k).
inline bool is_planted(const std::vector<std::pair<int, int>>& planted, int m, int k) {
    return std::find(planted.begin(), planted.end(), std::make_pair(std::min(m, k), std::max(m, k))) != planted.end();
}

// An (M, M) field x field matrix a (AutoInt's attention) read against d's planted pairs
// (planted_pairs: m < k): the mean of (a_mk + a_km) / 2 over them and over the unrelated pairs m < k
// (0 when a is empty).
struct PlantedAttention {
    std::vector<std::pair<int, int>> pairs;
    double planted = 0.0, unrelated = 0.0;
};
inline PlantedAttention planted_attention(const CtrData& d, const std::vector<double>& a, int M) {
    PlantedAttention p{planted_pairs(d), 0.0, 0.0};
    double sum[2] = {0.0, 0.0};   // [unrelated, planted]
    int count[2] = {0, 0};
    for (int m = 0; m < M && !a.empty(); ++m)
        for (int k = m + 1; k < M; ++k) {
            const bool planted = is_planted(p.pairs, m, k);
            sum[planted] += 0.5 * (a[size_t(m) * M + k] + a[size_t(k) * M + m]), ++count[planted];
        }
    p.planted = sum[1] / std::max(count[1], 1), p.unrelated = sum[0] / std::max(count[0], 1);
    return p;
}

}  // namespace datasets
}  // namespace minirec
