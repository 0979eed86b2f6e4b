// Ranked lists with examination x relevance clicks and a noisy production ranker.
// Deliberately left out: cascade and dependent-click models.
#include "datasets/position_bias.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

static double relevance(const PositionBiasData& d, int u, int i) {
    const int k = d.user_vectors.dim(1);
    double s = d.item_quality[i];
    for (int c = 0; c < k; ++c) s += double(d.user_vectors[size_t(u) * k + c]) * d.item_vectors[size_t(i) * k + c];
    return sigmoid(s);
}

PositionBiasData position_bias_logs(const PositionBiasOptions& o) {
    if (o.list_size < 1 || o.list_size > o.num_items || o.num_users < 1 || o.latent_dim < 1 || o.num_lists < 0)
        arg_fail("position_bias_logs", "need 1 <= list_size <= num_items, num_users >= 1, latent_dim >= 1");
    Rng rng(o.seed);
    PositionBiasData d;
    d.num_users = o.num_users;
    d.num_items = o.num_items;
    d.list_size = o.list_size;
    for (int k = 0; k < o.list_size; ++k) d.exam_prob.push_back(static_cast<float>(std::pow(1.0 / (k + 1), o.exam_power)));
    // Latent vectors with N(0, s^2) entries give <u, i> a std of s^2 sqrt(D) = affinity_std.
    const float s = static_cast<float>(std::sqrt(o.affinity_std / std::sqrt(double(o.latent_dim))));
    d.user_vectors = Tensor::normal({o.num_users, o.latent_dim}, rng, 0.0f, s);
    d.item_vectors = Tensor::normal({o.num_items, o.latent_dim}, rng, 0.0f, s);
    for (int i = 0; i < o.num_items; ++i) d.item_quality.push_back(rng.normal(float(o.quality_mean), float(o.quality_std)));
    if (o.with_bids)
        for (int i = 0; i < o.num_items; ++i) d.bids.push_back(std::exp(0.5f * rng.normal()));
    // Drawn only when asked for, so the default stream stays as it was.
    if (o.ranker_item_bias > 0.0)
        for (int i = 0; i < o.num_items; ++i) d.ranker_bias.push_back(rng.normal(0.0f, float(o.ranker_item_bias)));

    for (int r = 0; r < o.num_lists; ++r) {
        int user = rng.randint(o.num_users);
        // Candidates: list_size distinct items uniformly; the ranker sorts them by a noisy score.
        std::vector<int> perm = rng.permutation(o.num_items);
        std::vector<int> cand(perm.begin(), perm.begin() + o.list_size);
        std::vector<double> rel(o.list_size), score(o.list_size);
        for (int j = 0; j < o.list_size; ++j) {
            rel[j] = relevance(d, user, cand[j]);
            score[j] = std::log(rel[j] / (1.0 - rel[j])) + o.ranker_noise * rng.normal();
            if (!d.ranker_bias.empty()) score[j] += d.ranker_bias[cand[j]];
        }
        std::vector<int> order(o.list_size);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
        for (int pos = 0; pos < o.list_size; ++pos) {
            int j = order[pos];
            bool examined = rng.uniform_double() < d.exam_prob[pos];
            bool attracted = rng.uniform_double() < rel[j];
            d.rows.push_back({r, user, cand[j], pos, examined ? 1.0f : 0.0f, static_cast<float>(rel[j]),
                              (examined && attracted) ? 1.0f : 0.0f});
        }
    }
    return d;
}

std::vector<double> ctr_by_position(const PositionBiasData& d) {
    std::vector<double> clicks(d.list_size, 0.0), shown(d.list_size, 0.0);
    for (const ShownItem& s : d.rows) clicks[s.position] += s.click, shown[s.position] += 1.0;
    for (int k = 0; k < d.list_size; ++k) clicks[k] = shown[k] > 0 ? clicks[k] / shown[k] : 0.0;
    return clicks;
}

std::vector<double> true_relevance(const PositionBiasData& d) {
    std::vector<double> rel(size_t(d.num_users) * size_t(d.num_items));
    for (int u = 0; u < d.num_users; ++u)
        for (int i = 0; i < d.num_items; ++i) rel[size_t(u) * d.num_items + size_t(i)] = relevance(d, u, i);
    return rel;
}

// One user's graded NDCG@k (n items); *top: rel of the top-scored item.
static double graded_ndcg(const double* score, const double* rel, int n, int k, double* top) {
    std::vector<int> by_score(static_cast<size_t>(n));
    std::iota(by_score.begin(), by_score.end(), 0);
    std::vector<int> by_rel = by_score;
    std::sort(by_score.begin(), by_score.end(), [&](int a, int b) { return score[a] > score[b]; });
    std::sort(by_rel.begin(), by_rel.end(), [&](int a, int b) { return rel[a] > rel[b]; });
    double dcg = 0.0, ideal = 0.0;
    for (int r = 0; r < k && r < n; ++r) {
        dcg += rel[by_score[size_t(r)]] / std::log2(r + 2.0);
        ideal += rel[by_rel[size_t(r)]] / std::log2(r + 2.0);
    }
    *top = rel[by_score[0]];
    return dcg / ideal;
}

double ndcg_by_truth(const std::vector<double>& score, const std::vector<double>& rel, int users, int k,
                     double* top_rel) {
    if (users < 1 || score.size() != rel.size() || rel.size() % size_t(users) != 0)
        arg_fail("ndcg_by_truth", "need users >= 1 and score, rel of the same size users x items");
    const int items = int(rel.size() / size_t(users));
    double ndcg = 0.0;
    *top_rel = 0.0;
    for (int u = 0; u < users; ++u) {
        double t = 0.0;
        ndcg += graded_ndcg(&score[size_t(u) * items], &rel[size_t(u) * items], items, k, &t) / users;
        *top_rel += t / users;
    }
    return ndcg;
}

}  // namespace datasets
}  // namespace minirec
