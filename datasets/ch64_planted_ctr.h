// Chapter 64's worlds over datasets/synthetic_ctr.h: one setting of the planted 3-field term, what the
// oracle (the true click probability) scores on test rows, and a field x field matrix (AutoInt's
// attention) read against the planted pairs. Deliberately left out: the models and their training.
#pragma once
#include <algorithm>
#include <cstdint>
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

// The oracle's test AUC and logloss: the true probabilities scored against the clicks of `rows`.
struct OracleScores {
    double auc = 0.0, logloss = 0.0;
};
inline OracleScores oracle_scores(const CtrData& d, const std::vector<int>& rows) {
    std::vector<float> truth, labels;
    for (int r : rows) truth.push_back(d.true_prob[size_t(r)]), labels.push_back(d.labels[size_t(r)]);
    return {auc(truth, labels), logloss(truth, labels)};
}

// Whether fields m and k interact (either order) among `planted` (planted_pairs: m < k).
inline bool is_planted(const std::vector<std::pair<int, int>>& planted, int m, int k) {
    return std::find(planted.begin(), planted.end(), std::make_pair(std::min(m, k), std::max(m, k))) != planted.end();
}

// The mean of an (M, M) field x field matrix a, symmetrised as (a_mk + a_km) / 2, over the planted
// pairs m < k and over the unrelated ones: {planted, unrelated}; {0, 0} when a is empty.
inline std::pair<double, double> planted_vs_unrelated(const std::vector<std::pair<int, int>>& planted,
                                                      const std::vector<double>& a, int M) {
    double sum[2] = {0.0, 0.0};   // [unrelated, planted]
    int count[2] = {0, 0};
    for (int m = 0; m < M && !a.empty(); ++m)
        for (int k = m + 1; k < M; ++k) {
            const bool p = is_planted(planted, m, k);
            sum[p] += 0.5 * (a[size_t(m) * M + k] + a[size_t(k) * M + m]), ++count[p];
        }
    return {sum[1] / std::max(count[1], 1), sum[0] / std::max(count[0], 1)};
}

}  // namespace datasets
}  // namespace minirec
