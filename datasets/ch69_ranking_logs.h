// Chapter 69's world: the position-biased lists of datasets/position_bias.h with a satisfaction
// label drawn for every shown item, the log as columns, and the truth a served ranking is judged
// by (pairwise agreement and graded NDCG with the true rel as gains). Deliberately left out:
// device and other bias features, cascades (as in datasets/position_bias.h).
//
//   rel(u, i) = sigmoid(quality_i + <user_u, item_i>),  exam[k] = 1 / (k + 1)
//   ranker:   sorts candidates by logit rel + ranker_bias_i + noise, ranker_bias_i ~ N(0, 1)
//   click     = examined(k) AND attracted(rel)              the engagement label, position-biased
//   satisfied ~ Bernoulli(rel(u, i))                         the satisfaction label, drawn here for
//             every shown item (a survey answer): it does not depend on the position
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/rng.h"
#include "datasets/position_bias.h"

namespace minirec {
namespace datasets {

// The main world's logger ranks by relevance plus a per-item promotion of std `ranker_item_bias`
// (the confounder); the control's shows the candidates in random order (noise swamps the
// relevance logit, and there is no promotion). Lists of 10, as position_bias.h draws them.
inline PositionBiasData ranking_logs(int lists, double ranker_item_bias, bool control, uint64_t seed) {
    PositionBiasOptions po;
    po.num_lists = lists;
    po.seed = seed;
    po.ranker_item_bias = control ? 0.0 : ranker_item_bias;
    if (control) po.ranker_noise = 1000.0;
    return position_bias_logs(po);
}

// The log as columns, one row per shown item, list by list.
struct Columns {
    Ids user, item, position;
    std::vector<float> click, satisfied, relevance;

    // The rows `rows`, in that order (a batch, or the held-out lists).
    Columns select(const std::vector<int>& rows) const {
        Columns out;
        for (int r : rows) {
            out.user.push_back(user[size_t(r)]);
            out.item.push_back(item[size_t(r)]);
            out.position.push_back(position[size_t(r)]);
            out.click.push_back(click[size_t(r)]);
            out.satisfied.push_back(satisfied[size_t(r)]);
            out.relevance.push_back(relevance[size_t(r)]);
        }
        return out;
    }
    // The rows from `first` on (the held-out lists).
    Columns rows_from(int first) const {
        std::vector<int> rows(user.size() - size_t(first));
        std::iota(rows.begin(), rows.end(), first);
        return select(rows);
    }
};

// The columns of d, with the satisfaction label drawn from rel for every row (seeded by `seed`).
inline Columns columns(const PositionBiasData& d, uint64_t seed) {
    Rng rng(splitmix64(seed ^ 0x5a715f1edull));
    Columns c;
    for (const ShownItem& r : d.rows) {
        c.user.push_back(r.user);
        c.item.push_back(r.item);
        c.position.push_back(r.position);
        c.click.push_back(r.click);
        c.relevance.push_back(r.relevance);
        c.satisfied.push_back(rng.uniform_double() < r.relevance ? 1.0f : 0.0f);
    }
    return c;
}

// Share of pairs (a, b) within each list of `k` consecutive rows, with rel_a != rel_b, that `score`
// orders the same way as `rel` (ties in score count one half). 0.5 = random, 1 = perfect.
inline double pairwise_agreement(const std::vector<float>& score, const std::vector<float>& rel, int k) {
    double agree = 0.0, pairs = 0.0;
    for (size_t s = 0; s + size_t(k) <= score.size(); s += size_t(k))
        for (size_t a = s; a < s + size_t(k); ++a)
            for (size_t b = a + 1; b < s + size_t(k); ++b) {
                if (rel[a] == rel[b]) continue;
                const double d = double(score[a] - score[b]) * double(rel[a] - rel[b]);
                agree += d > 0 ? 1.0 : d == 0 ? 0.5 : 0.0;
                pairs += 1.0;
            }
    return pairs > 0 ? agree / pairs : 0.5;
}

// The same for the logger's own order (top position first) of the lists from row `first` on.
inline double logged_agreement(const Columns& c, int first, int k) {
    std::vector<float> logged_score, rel(c.relevance.begin() + first, c.relevance.end());
    for (size_t r = size_t(first); r < c.position.size(); ++r) logged_score.push_back(float(-c.position[r]));
    return pairwise_agreement(logged_score, rel, k);
}

// Mean over lists of NDCG@k with graded gains rel: DCG = sum_j rel_(j) / log2(j + 2) in score order.
inline double ndcg_graded(const std::vector<float>& score, const std::vector<float>& rel, int k) {
    double total = 0.0;
    int lists = 0;
    for (size_t s = 0; s + size_t(k) <= score.size(); s += size_t(k), ++lists) {
        std::vector<int> by_score(static_cast<size_t>(k)), by_rel(static_cast<size_t>(k));
        std::iota(by_score.begin(), by_score.end(), 0);
        std::iota(by_rel.begin(), by_rel.end(), 0);
        std::stable_sort(by_score.begin(), by_score.end(), [&](int a, int b) { return score[s + a] > score[s + b]; });
        std::sort(by_rel.begin(), by_rel.end(), [&](int a, int b) { return rel[s + a] > rel[s + b]; });
        double dcg = 0.0, ideal = 0.0;
        for (int j = 0; j < k; ++j) {
            dcg += rel[s + size_t(by_score[size_t(j)])] / std::log2(j + 2.0);
            ideal += rel[s + size_t(by_rel[size_t(j)])] / std::log2(j + 2.0);
        }
        total += dcg / ideal;
    }
    return lists ? total / lists : 0.0;
}

}  // namespace datasets
}  // namespace minirec
