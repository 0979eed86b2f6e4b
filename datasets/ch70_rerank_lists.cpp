// The re-ranking lists of chapter 70: initial ranker, logged clicks, batches, user features, oracle,
// and the truth of a re-ranked top k.
#include "datasets/ch70_rerank_lists.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

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

std::vector<ListRow> make_rows(const SlateData& d, const SlateOptions& o, double noise, Rng& rng) {
    std::vector<ListRow> rows;
    for (const SlateRequest& q : d.requests) rows.push_back(make_row(d, q, o, noise, rng));
    return rows;
}

ListBatch gather(const std::vector<ListRow>& rows, const std::vector<int>& idx) {
    const int B = int(idx.size()), n = int(rows[0].order.size()), F = int(rows[0].x.size()) / n;
    const int P = int(rows[0].pv.size()) / n;
    Tensor x({B, n, F}), pv({B, n, std::max(P, 1)}), pos({B, n, n}), y({B, n});
    Ids users;
    for (int b = 0; b < B; ++b) {
        const ListRow& r = rows[size_t(idx[size_t(b)])];
        std::copy(r.x.begin(), r.x.end(), x.data() + size_t(b) * n * F);
        std::copy(r.pv.begin(), r.pv.end(), pv.data() + size_t(b) * n * P);
        std::copy(r.clicks.begin(), r.clicks.end(), y.data() + size_t(b) * n);
        for (int i = 0; i < n; ++i) pos.data()[(size_t(b) * n + i) * n + i] = 1.0f, users.push_back(r.user);
    }
    return {std::move(x), std::move(pv), std::move(pos), std::move(y), std::move(users)};
}

ListBatch gather(const std::vector<ListRow>& rows, int first, int count) {
    std::vector<int> idx(static_cast<size_t>(count));
    std::iota(idx.begin(), idx.end(), first);
    return gather(rows, idx);
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

Tensor user_topic_features(const std::vector<float>& rates, const Ids& users, int T) {
    Tensor t({int(users.size()), T});
    for (size_t i = 0; i < users.size(); ++i) std::copy_n(&rates[size_t(users[i]) * T], T, t.data() + i * T);
    return t;
}

void set_pv(std::vector<ListRow>& rows, const Tensor& v) {
    const size_t per_row = rows.empty() ? 0 : rows[0].order.size() * size_t(v.dim(1));   // n pv_dim
    for (size_t r = 0; r < rows.size(); ++r) rows[r].pv.assign(v.data() + r * per_row, v.data() + (r + 1) * per_row);
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

TopK top_k_truth(const SlateData& d, const SlateRequest& q, const Ids& list, int k) {
    const std::vector<double> a = slate_item_click_probs(d, q, list);
    TopK t;
    std::vector<int> topics;
    for (int i = 0; i < k; ++i) t.clicks.push_back(a[size_t(i)]), topics.push_back(q.topic[size_t(list[size_t(i)])]);
    std::sort(topics.begin(), topics.end());
    t.topics = int(std::unique(topics.begin(), topics.end()) - topics.begin());
    return t;
}

}  // namespace datasets
}  // namespace minirec
