// Chapter 56's world: an ad click log from planted user and ad vectors, where most ads are rarely
// shown (Zipf popularity), so their id embeddings see few labels, and where each user's click
// history is longer than the log a CTR model trains on. Deliberately left out: queries, text
// features, time of day. The control world of the chapter sets zipf = 0 and history = 0.
// Also the log as batches of model inputs, the chapter's test protocol (overall and on rare ads) and
// how well learned ad embeddings reflect the planted ad vectors.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace minirec {
namespace datasets {

// Users u have a segment g(u) and a taste p_u = c_{g(u)} + noise; ads a have a category k(a) and a
// vector q_a = d_{k(a)} + noise (latent size `latent`). An impression shows a uniform user an ad
// drawn with Zipf popularity, and the click probability is
//   sigmoid(bias + b_a + scale <p_u, q_a>).
// The rows come in time order; the first train_fraction train. Each user's clicked ads, in order,
// over the training rows, are the "documents" of the correlation subnet. With history > 0 the
// documents also hold the clicks of history * n older impressions that the CTR log does not keep
// (a user's click history is usually longer than the window a CTR model trains on).
struct McpWorldOptions {
    int n = 60000;
    double train_fraction = 0.8;
    int users = 400, segments = 8;
    int ads = 1000, categories = 20;
    int latent = 6;
    double zipf = 1.0;              // ad popularity exponent
    double taste_noise = 0.6;       // std of p_u - c_g and q_a - d_k, relative to the centroids' 1
    double scale = 0.8;             // of the inner product
    double ad_bias_std = 0.3;
    double bias = -1.2;
    double history = 3.0;           // older impressions per logged row, seen only through their clicks
    uint64_t seed = 1;
};

struct McpWorld {
    McpWorldOptions opts;
    int n = 0, n_train = 0;
    Ids user, ad;                          // (n) per impression
    std::vector<int> segment, category;    // per user, per ad
    std::vector<float> ad_vec;             // (ads * latent) the planted q_a
    std::vector<float> labels, true_prob;
    std::vector<int> train_count;          // training impressions per ad
    std::vector<Ids> clicked;              // per user: the ads clicked in the training rows, in order
    // The field ids of a row for the models: user id, user segment, ad id, ad category, offset
    // into one vocabulary in that order.
    int vocabulary() const { return opts.users + opts.segments + opts.ads + opts.categories; }
    void user_fields(int u, Ids& out) const { out.insert(out.end(), {u, opts.users + segment[size_t(u)]}); }
    void ad_fields(int a, Ids& out) const {
        const int base = opts.users + opts.segments;
        out.insert(out.end(), {base + a, base + opts.ads + category[size_t(a)]});
    }
};

inline McpWorld make_mcp_world(const McpWorldOptions& o) {
    if (o.users < 2 || o.segments < 1 || o.ads < 2 || o.categories < 1 || o.latent < 1 || o.n < 100 ||
        !(o.train_fraction > 0.1 && o.train_fraction < 0.95))
        throw std::invalid_argument("ch56 world: need >= 2 users and ads, >= 1 segment and category, latent >= 1, "
                                    "n >= 100 and a train fraction in (0.1, 0.95)");
    McpWorld w;
    w.opts = o;
    w.n = o.n;
    w.n_train = int(o.n * o.train_fraction);
    Rng rng(splitmix64(o.seed * 5651u + 56u));
    const int K = o.latent;
    auto vecs = [&](int count, float std) {
        std::vector<float> v(size_t(count) * K);
        for (float& x : v) x = rng.normal(0.0f, std);
        return v;
    };
    const std::vector<float> seg_c = vecs(o.segments, 1.0f), cat_d = vecs(o.categories, 1.0f);
    std::vector<float> p = vecs(o.users, float(o.taste_noise)), q = vecs(o.ads, float(o.taste_noise));
    for (int u = 0; u < o.users; ++u) {
        w.segment.push_back(rng.randint(o.segments));
        for (int k = 0; k < K; ++k) p[size_t(u) * K + k] += seg_c[size_t(w.segment.back()) * K + k];
    }
    std::vector<float> ad_bias;
    for (int a = 0; a < o.ads; ++a) {
        w.category.push_back(rng.randint(o.categories));
        for (int k = 0; k < K; ++k) q[size_t(a) * K + k] += cat_d[size_t(w.category.back()) * K + k];
        ad_bias.push_back(rng.normal(0.0f, float(o.ad_bias_std)));
    }
    w.ad_vec = q;
    // Zipf popularity over a random order of the ads (so the popular ones are not the low ids).
    std::vector<int> order = rng.permutation(o.ads);
    std::vector<double> cdf(size_t(o.ads));
    double total = 0.0;
    for (int r = 0; r < o.ads; ++r) cdf[size_t(r)] = (total += 1.0 / std::pow(r + 1.0, o.zipf));
    w.train_count.assign(size_t(o.ads), 0);
    w.clicked.assign(size_t(o.users), {});
    const int n_history = int(o.history * o.n);
    for (int i = -n_history; i < o.n; ++i) {
        const int u = rng.randint(o.users);
        const double x = rng.uniform_double() * total;
        const int a = order[size_t(std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin())];
        double s = 0.0;
        for (int k = 0; k < K; ++k) s += double(p[size_t(u) * K + k]) * q[size_t(a) * K + k];
        const double prob = 1.0 / (1.0 + std::exp(-(o.bias + ad_bias[size_t(a)] + o.scale * s)));
        const bool click = rng.bernoulli(float(prob));
        if (i < 0) {                        // history: only the click sequence remembers it
            if (click) w.clicked[size_t(u)].push_back(a);
            continue;
        }
        w.user.push_back(u);
        w.ad.push_back(a);
        w.true_prob.push_back(float(prob));
        w.labels.push_back(click ? 1.0f : 0.0f);
        if (i < w.n_train) {
            ++w.train_count[size_t(a)];
            if (click) w.clicked[size_t(u)].push_back(a);
        }
    }
    return w;
}

// Skip-gram pairs (eq. 5): every (a_t, a_{t+j}) with 0 < |j| <= window inside one user's sequence.
inline std::vector<std::pair<int, int>> skip_gram_pairs(const McpWorld& w, int window) {
    std::vector<std::pair<int, int>> pairs;
    for (const Ids& seq : w.clicked)
        for (int t = 0; t < int(seq.size()); ++t)
            for (int j = std::max(0, t - window); j <= std::min(int(seq.size()) - 1, t + window); ++j)
                if (j != t) pairs.emplace_back(seq[size_t(t)], seq[size_t(j)]);
    return pairs;
}

// ---- The log as the models' inputs, the test protocol, and the planted vectors as a yardstick ----

// Rows of the log as model inputs: all four fields, the user fields, the ad fields, and the labels (B, 1).
struct McpBatch {
    Ids rows, users, ads;
    Tensor y;
};

inline McpBatch mcp_batch(const McpWorld& w, const std::vector<int>& rows) {
    McpBatch b;
    b.y = Tensor({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) {
        const int r = rows[j], u = w.user[size_t(r)], a = w.ad[size_t(r)];
        w.user_fields(u, b.rows);
        w.ad_fields(a, b.rows);
        w.user_fields(u, b.users);
        w.ad_fields(a, b.ads);
        b.y[j] = w.labels[size_t(r)];
    }
    return b;
}

// Every test row (the rows after the training ones), in order, as one batch.
inline McpBatch test_batch(const McpWorld& w) {
    std::vector<int> rows(size_t(w.n - w.n_train));
    std::iota(rows.begin(), rows.end(), w.n_train);
    return mcp_batch(w, rows);
}

// P skip-gram pairs drawn uniformly from `pairs`, as ad fields: each pair's target and context, and
// Q negatives per pair, the contexts of other random pairs.
inline void skip_gram_batch(const McpWorld& w, const std::vector<std::pair<int, int>>& pairs, int P, int Q, Rng& rng,
                            Ids* target, Ids* context, Ids* negative) {
    for (int k = 0; k < P; ++k) {
        const std::pair<int, int>& tc = pairs[size_t(rng.randint(int(pairs.size())))];
        w.ad_fields(tc.first, *target);
        w.ad_fields(tc.second, *context);
        for (int q = 0; q < Q; ++q)   // negatives drawn as often as ads are clicked
            w.ad_fields(pairs[size_t(rng.randint(int(pairs.size())))].second, *negative);
    }
}

// Whether row r shows a rare ad: one with fewer than tail_count training impressions.
inline bool rare_ad_row(const McpWorld& w, int r, int tail_count) { return w.train_count[size_t(w.ad[size_t(r)])] < tail_count; }

// The share of test rows that show a rare ad.
inline double rare_share(const McpWorld& w, int tail_count) {
    double share = 0.0;
    for (int r = w.n_train; r < w.n; ++r) share += rare_ad_row(w, r, tail_count) / double(w.n - w.n_train);
    return share;
}

// The test protocol: predictions p, one per test row in order, scored by AUC and logloss over all test
// rows, and by AUC on the rows of rare ads and on the rows of frequent ones.
inline void score_test(const McpWorld& w, const std::vector<float>& p, int tail_count, double* auc_all, double* logloss_all,
                       double* tail_auc, double* head_auc) {
    std::vector<float> y, pt, yt, ph, yh;
    for (int r = w.n_train; r < w.n; ++r) {
        const float label = w.labels[size_t(r)], pr = p[size_t(r - w.n_train)];
        y.push_back(label);
        const bool rare = rare_ad_row(w, r, tail_count);
        (rare ? pt : ph).push_back(pr);
        (rare ? yt : yh).push_back(label);
    }
    *auc_all = auc(p, y);
    *logloss_all = logloss(p, y);
    *tail_auc = auc(pt, yt);
    *head_auc = auc(ph, yh);
}

// Representation quality: over random pairs of ads (a, b), the Pearson correlation between the
// cosine of their learned ad-id embeddings (rows of `table`, the models' (vocabulary, D) table) and
// the cosine of their planted vectors q_a, q_b.
inline double embedding_similarity(const McpWorld& w, const Tensor& table, uint64_t seed) {
    const int D = table.dim(1), K = w.opts.latent, base = w.opts.users + w.opts.segments;
    auto cosine = [](const float* x, const float* y, int n) {
        double xy = 0, xx = 0, yy = 0;
        for (int i = 0; i < n; ++i) xy += double(x[i]) * y[i], xx += double(x[i]) * x[i], yy += double(y[i]) * y[i];
        return xy / std::sqrt(xx * yy + 1e-30);
    };
    Rng rng(seed);
    std::vector<double> a, b;
    for (int k = 0; k < 20000; ++k) {
        const int x = rng.randint(w.opts.ads), y = rng.randint(w.opts.ads);
        if (x == y) continue;
        a.push_back(cosine(table.data() + size_t(base + x) * D, table.data() + size_t(base + y) * D, D));
        b.push_back(cosine(&w.ad_vec[size_t(x) * K], &w.ad_vec[size_t(y) * K], K));
    }
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / a.size(), mb = std::accumulate(b.begin(), b.end(), 0.0) / b.size();
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    return sab / std::sqrt(saa * sbb);
}

}  // namespace datasets
}  // namespace minirec
