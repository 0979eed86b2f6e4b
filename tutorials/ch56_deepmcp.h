// Chapter 56's experiment as a function: an ad click log from planted user and ad vectors, where
// most ads are rarely shown, so their id embeddings see few labels; four models that share one
// prediction subnet - DNN (L_p), DeepMP (+ matching), DeepCP (+ correlation), DeepMCP (all) - and
// their test AUC and logloss, overall and on the rows of rarely shown ads. Printing lives in
// ch56_deepmcp.cpp. Deliberately left out: queries, text features, the paper's real data.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.h"
#include "models/ch56_deepmcp.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch56 {

// ---- The world -------------------------------------------------------------------------------
// Users u have a segment g(u) and a taste p_u = c_{g(u)} + noise; ads a have a category k(a) and a
// vector q_a = d_{k(a)} + noise (latent size `latent`). An impression shows a uniform user an ad
// drawn with Zipf popularity, and the click probability is
//   sigmoid(bias + b_a + scale <p_u, q_a>).
// The rows come in time order; the first train_fraction train. Each user's clicked ads, in order,
// over the training rows, are the "documents" of the correlation subnet. With history > 0 the
// documents also hold the clicks of history * n older impressions that the CTR log does not keep
// (a user's click history is usually longer than the window a CTR model trains on).
struct WorldOptions {
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

struct World {
    WorldOptions opts;
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

inline World make_world(const WorldOptions& o) {
    if (o.users < 2 || o.segments < 1 || o.ads < 2 || o.categories < 1 || o.latent < 1 || o.n < 100 ||
        !(o.train_fraction > 0.1 && o.train_fraction < 0.95))
        throw std::invalid_argument("ch56 world: need >= 2 users and ads, >= 1 segment and category, latent >= 1, "
                                    "n >= 100 and a train fraction in (0.1, 0.95)");
    World w;
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
inline std::vector<std::pair<int, int>> skip_gram_pairs(const World& w, int window) {
    std::vector<std::pair<int, int>> pairs;
    for (const Ids& seq : w.clicked)
        for (int t = 0; t < int(seq.size()); ++t)
            for (int j = std::max(0, t - window); j <= std::min(int(seq.size()) - 1, t + window); ++j)
                if (j != t) pairs.emplace_back(seq[size_t(t)], seq[size_t(j)]);
    return pairs;
}

// ---- The experiment --------------------------------------------------------------------------
enum ModelId { kDNN, kDeepMP, kDeepCP, kDeepMCP, kNumModels };
const char* const kModelNames[] = {"DNN (prediction only)", "DeepMP (+ matching)", "DeepCP (+ correlation)",
                                   "DeepMCP (all three)"};

struct StudyOptions {
    WorldOptions world;
    int worlds = 5;
    int epochs = 6;
    int batch = 256;
    double lr = 0.003;             // Adam
    double alpha = 0.5;            // weight of L_m (eq. 7)
    double beta = 0.5;             // weight of L_c (eq. 7)
    int window = 2;                // C, the skip-gram window
    int negatives = 4;             // Q
    int tail_count = 20;           // ads with fewer training impressions than this are "rare"
    DeepMCPOptions model;          // vocabulary is filled in from the world
    uint64_t seed = 42;
    bool verbose = true;
};

struct Result {
    double auc = 0.0, logloss = 0.0, tail_auc = 0.0, head_auc = 0.0;
    double similarity = 0.0;        // how well ad-id embeddings reflect the planted ad vectors (below)
    double match_auc = NAN;         // test AUC of the matching score s(v_u, v_a) (models with matching)
};

struct WorldReport {
    Result models[kNumModels], oracle;
    double tail_share = 0.0;        // share of test rows showing a rare ad
    int pairs = 0;                  // skip-gram pairs
};

struct StudyReport {
    std::vector<WorldReport> worlds;
    double seconds = 0.0;
    template <class G> double mean(G g) const { return mean_over(worlds, g); }
    template <class G> double min(G g) const { return min_over(worlds, g); }
};

// The rows as model inputs: all four fields, the user fields, the ad fields, and the labels.
struct Batch {
    Ids rows, users, ads;
    Tensor y;
};

inline Batch gather(const World& w, const std::vector<int>& rows) {
    Batch b;
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

// Scores on the test rows: AUC and logloss over all of them, AUC on rows of rare and frequent ads.
inline Result score(const World& w, const std::vector<float>& p, int tail_count) {
    std::vector<float> y, pt, yt, ph, yh;
    for (int r = w.n_train; r < w.n; ++r) {
        const float label = w.labels[size_t(r)], pr = p[size_t(r - w.n_train)];
        y.push_back(label);
        const bool rare = w.train_count[size_t(w.ad[size_t(r)])] < tail_count;
        (rare ? pt : ph).push_back(pr);
        (rare ? yt : yh).push_back(label);
    }
    Result res;
    res.auc = auc(p, y);
    res.logloss = logloss(p, y);
    res.tail_auc = auc(pt, yt);
    res.head_auc = auc(ph, yh);
    return res;
}

inline Result evaluate(DeepMCP& m, const World& w, int tail_count) {
    NoGrad no_grad;
    std::vector<int> rows(size_t(w.n - w.n_train));
    std::iota(rows.begin(), rows.end(), w.n_train);
    const Var z = m.predict_logit(gather(w, rows).rows);          // serving: the prediction subnet only
    std::vector<float> p(z.size());
    for (size_t j = 0; j < p.size(); ++j) p[j] = float(1.0 / (1.0 + std::exp(-double(z.value()[j]))));
    return score(w, p, tail_count);
}

// Representation quality: over random pairs of ads (a, b), the Pearson correlation between the
// cosine of their learned ad-id embeddings and the cosine of their planted vectors q_a, q_b.
inline double embedding_similarity(const DeepMCP& m, const World& w, uint64_t seed) {
    const Tensor& E = m.embed.table.value();
    const int D = E.dim(1), K = w.opts.latent, base = w.opts.users + w.opts.segments;
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
        a.push_back(cosine(E.data() + size_t(base + x) * D, E.data() + size_t(base + y) * D, D));
        b.push_back(cosine(&w.ad_vec[size_t(x) * K], &w.ad_vec[size_t(y) * K], K));
    }
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / a.size(), mb = std::accumulate(b.begin(), b.end(), 0.0) / b.size();
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    return sab / std::sqrt(saa * sbb);
}

// One model: the prediction loss always, the matching and correlation losses when asked (eq. 7).
inline Result train_one(const World& w, const std::vector<std::pair<int, int>>& pairs, const StudyOptions& o,
                        bool matching, bool correlation, uint64_t seed) {
    Rng init(splitmix64(seed + 1)), rng(splitmix64(seed + 2)), sampler(splitmix64(seed + 3));
    DeepMCPOptions mo = o.model;
    mo.vocabulary = w.vocabulary();
    DeepMCP m(mo, init);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int P = std::min<int>(o.batch, int(pairs.size()));
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(w.n_train, o.batch, rng)) {
            const Batch b = gather(w, rows);
            Var loss = bce_with_logits(m.predict_logit(b.rows), b.y);                      // L_p, eq. 2
            if (matching) loss = loss + float(o.alpha) * bce_with_logits(m.match_logit(b.users, b.ads), b.y);  // eq. 4
            if (correlation && P > 0) {                                                     // eq. 6
                Ids target, context, negative;
                for (int k = 0; k < P; ++k) {
                    const std::pair<int, int>& tc = pairs[size_t(sampler.randint(int(pairs.size())))];
                    w.ad_fields(tc.first, target);
                    w.ad_fields(tc.second, context);
                    for (int q = 0; q < o.negatives; ++q)   // negatives drawn as often as ads are clicked
                        w.ad_fields(pairs[size_t(sampler.randint(int(pairs.size())))].second, negative);
                }
                const Var neg = reshape(m.ad_representation(negative), {P, o.negatives, mo.match_dim});
                loss = loss + float(o.beta) * skip_gram_loss(m.ad_representation(target), m.ad_representation(context), neg);
            }
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
    Result r = evaluate(m, w, o.tail_count);
    r.similarity = embedding_similarity(m, w, seed + 4);
    if (matching) {                 // does the matching subnet itself rank the test clicks?
        NoGrad no_grad;
        std::vector<int> rows(size_t(w.n - w.n_train));
        std::iota(rows.begin(), rows.end(), w.n_train);
        const Batch b = gather(w, rows);
        const Var s = m.match_logit(b.users, b.ads);
        r.match_auc = auc(std::vector<float>(s.value().data(), s.value().data() + s.size()),
                          std::vector<float>(b.y.data(), b.y.data() + b.y.size()));
    }
    return r;
}

inline WorldReport run_world(const StudyOptions& o, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    const World w = make_world(wo);
    const std::vector<std::pair<int, int>> pairs = skip_gram_pairs(w, o.window);
    WorldReport rep;
    rep.pairs = int(pairs.size());
    rep.oracle = score(w, std::vector<float>(w.true_prob.begin() + w.n_train, w.true_prob.end()), o.tail_count);
    for (int r = w.n_train; r < w.n; ++r)
        rep.tail_share += (w.train_count[size_t(w.ad[size_t(r)])] < o.tail_count) / double(w.n - w.n_train);
    const uint64_t s = splitmix64(seed + 11);     // the same initial weights and batches for every model
    rep.models[kDNN] = train_one(w, pairs, o, false, false, s);
    rep.models[kDeepMP] = train_one(w, pairs, o, true, false, s);
    rep.models[kDeepCP] = train_one(w, pairs, o, false, true, s);
    rep.models[kDeepMCP] = train_one(w, pairs, o, true, true, s);
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    StudyReport rep;
    for (int r = 0; r < o.worlds; ++r) {
        rep.worlds.push_back(run_world(o, replicate_seed(o.seed, r)));
        const WorldReport& x = rep.worlds.back();
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: AUC DNN %.4f  DeepMP %.4f  DeepCP %.4f  DeepMCP %.4f (oracle %.4f); "
                                 "rare ads: %.4f %.4f %.4f %.4f; similarity %.3f %.3f %.3f %.3f\n",
                         r + 1, o.worlds, x.models[kDNN].auc, x.models[kDeepMP].auc, x.models[kDeepCP].auc,
                         x.models[kDeepMCP].auc, x.oracle.auc, x.models[kDNN].tail_auc, x.models[kDeepMP].tail_auc,
                         x.models[kDeepCP].tail_auc, x.models[kDeepMCP].tail_auc, x.models[kDNN].similarity,
                         x.models[kDeepMP].similarity, x.models[kDeepCP].similarity, x.models[kDeepMCP].similarity);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch56
}  // namespace minirec
