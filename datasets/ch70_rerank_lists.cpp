// The re-ranking lists of chapter 70: initial ranker, logged clicks, user features, oracle.
#include "datasets/ch70_rerank_lists.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace minirec {
namespace datasets {

ListRow make_row(const SlateData& d, const SlateRequest& q, const SlateOptions& o,
                        double noise, Rng& rng) {
    const int n = int(q.items.size()), F = feature_dim(o);
    std::vector<double> score(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        const double r = std::min(std::max(double(q.relevance[size_t(i)]), 1e-6), 1.0 - 1e-6);
        score[size_t(i)] = std::log(r / (1.0 - r)) + noise * rng.normal();
    }
    ListRow row;
    row.user = q.user;
    row.order.resize(size_t(n));
    std::iota(row.order.begin(), row.order.end(), 0);
    std::stable_sort(row.order.begin(), row.order.end(), [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
    row.x.assign(size_t(n) * F, 0.0f);
    for (int p = 0; p < n; ++p) {
        const int c = row.order[size_t(p)];
        float* xi = &row.x[size_t(p) * F];
        xi[q.topic[size_t(c)]] = 1.0f;
        for (int w : q.titles[size_t(c)]) xi[o.num_topics + w] = 1.0f;
    }
    for (double a : slate_item_click_probs(d, q, row.order)) row.clicks.push_back(rng.bernoulli(float(a)) ? 1.0f : 0.0f);
    return row;
}

// The user features of the PV model: each user's click rate per topic on the training lists.
std::vector<float> topic_click_rates(const std::vector<ListRow>& rows, int n_train, int users, int T) {
    std::vector<float> clicks(size_t(users) * T, 0.0f), shown(size_t(users) * T, 1.0f);   // +1: no division by 0
    const int F = int(rows[0].x.size() / rows[0].order.size());
    for (int r = 0; r < n_train; ++r)
        for (size_t p = 0; p < rows[size_t(r)].order.size(); ++p)
            for (int t = 0; t < T; ++t)
                if (rows[size_t(r)].x[p * F + size_t(t)] > 0) {
                    clicks[size_t(rows[size_t(r)].user) * T + t] += rows[size_t(r)].clicks[p];
                    shown[size_t(rows[size_t(r)].user) * T + t] += 1.0f;
                }
    for (size_t i = 0; i < clicks.size(); ++i) clicks[i] /= shown[i];
    return clicks;
}

// Re-rank a list by scores over its initial positions: candidate indices, best first.
Ids rerank(const Ids& order, const float* score) {
    std::vector<int> pos(order.size());
    std::iota(pos.begin(), pos.end(), 0);
    std::stable_sort(pos.begin(), pos.end(), [&](int a, int b) { return score[a] > score[b]; });
    Ids out;
    for (int p : pos) out.push_back(order[size_t(p)]);
    return out;
}

// The oracle: build the list greedily, each time adding the item with the largest true click
// probability given the items already above it.
Ids greedy_oracle(const SlateData& d, const SlateRequest& q) {
    const int n = int(q.items.size());
    Ids chosen;
    std::vector<bool> used(size_t(n), false);
    for (int step = 0; step < n; ++step) {
        int best = -1;
        double best_a = -1.0;
        for (int c = 0; c < n; ++c) {
            if (used[size_t(c)]) continue;
            Ids s = chosen;
            s.push_back(c);
            const double a = slate_item_click_probs(d, q, s).back();
            if (a > best_a) best_a = a, best = c;
        }
        used[size_t(best)] = true;
        chosen.push_back(best);
    }
    return chosen;
}

}  // namespace datasets
}  // namespace minirec
