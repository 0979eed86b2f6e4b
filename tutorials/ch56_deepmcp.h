// Chapter 56's experiment as functions: in independent worlds (datasets/ch56_click_log.h) four
// models that share one prediction subnet - DNN (L_p), DeepMP (+ matching), DeepCP (+ correlation),
// DeepMCP (all) - train from the same initial weights and batches; test AUC and logloss of the
// prediction subnet, overall and on rarely shown ads; Table 3's comparisons judged over worlds, in
// the main world and in a control world with no tail and no extra history. Printing lives in
// ch56_deepmcp.cpp. Deliberately left out: queries, text features, PNN/Wide&Deep/DeepFM baselines.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.h"
#include "datasets/ch56_click_log.h"
#include "models/ch56_deepmcp.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch56 {

using World = datasets::McpWorld;
using WorldOptions = datasets::McpWorldOptions;
using datasets::skip_gram_pairs;

// ---- The experiment --------------------------------------------------------------------------
enum ModelId { kDNN, kDeepMP, kDeepCP, kDeepMCP, kNumModels };
const char* const kModelNames[] = {"DNN (prediction only)", "DeepMP (+ matching)", "DeepCP (+ correlation)",
                                   "DeepMCP (all three)"};

const char* const kWorlds[] = {"main", "control"};

struct Options {
    WorldOptions world;            // the main world; the control sets zipf = 0 and history = 0
    int worlds = 6;                // independent worlds per cell
    int epochs = 4;
    int batch = 256;
    double lr = 0.003;             // Adam
    double alpha = 0.5;            // weight of L_m (eq. 7)
    double beta = 0.5;             // weight of L_c (eq. 7)
    int window = 2;                // C, the skip-gram window (the paper's C = 2)
    int negatives = 4;             // Q (the paper's Q = 4)
    int tail_count = 20;           // ads with fewer training impressions than this are "rare"
    DeepMCPOptions model;          // vocabulary is filled in from the world
    double margin = 0.002;         // AUC: the paper's smallest reported step (DeepMCP over DeepMP) is 0.0010
    uint64_t seed = 42;
    bool quick = false;            // prints intervals, no verdicts
};

inline Options quick_options() {
    Options o;
    o.worlds = 2, o.world.n = 20000, o.epochs = 3, o.quick = true;
    return o;
}

struct Result {
    double auc = 0.0, logloss = 0.0, tail_auc = 0.0, head_auc = 0.0;
    double similarity = 0.0;        // how well ad-id embeddings reflect the planted ad vectors (below)
    double match_auc = NAN;         // test AUC of the matching score s(v_u, v_a) (models with matching)
};

struct WorldResult {
    Result models[kNumModels], oracle;
    double tail_share = 0.0;        // share of test rows showing a rare ad
    int pairs = 0;                  // skip-gram pairs
};

struct Results {
    std::vector<WorldResult> cell[2];   // [main, control]
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
inline Result train_one(const World& w, const std::vector<std::pair<int, int>>& pairs, const Options& o,
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

inline WorldResult run_world(const Options& o, bool control, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    if (control) wo.zipf = 0.0, wo.history = 0.0;
    const World w = datasets::make_mcp_world(wo);
    const std::vector<std::pair<int, int>> pairs = skip_gram_pairs(w, o.window);
    WorldResult rep;
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

inline Results run_experiment(const Options& o) {
    Results r;
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < o.worlds; ++i) r.cell[c].push_back(run_world(o, c == 1, replicate_seed(o.seed, i)));
    return r;
}

// Table 3's comparisons as paired AUC differences over worlds, in both worlds.
inline Claims judge(const Options& o, const Results& r) {
    struct Row { const char* claim; const char* paper; int a, b; bool rare; };
    const Row rows[] = {
        {"DeepMCP's AUC above the DNN's (headline)", "Table 3: +0.0111 Avito, +0.0095 Company", kDeepMCP, kDNN, false},
        {"DeepMP's AUC above the DNN's", "Table 3: +0.0101 / +0.0084", kDeepMP, kDNN, false},
        {"DeepCP's AUC above the DNN's", "Table 3: +0.0028 / +0.0031", kDeepCP, kDNN, false},
        {"DeepMCP's AUC above DeepMP's", "Table 3: +0.0010 / +0.0011", kDeepMCP, kDeepMP, false},
        {"DeepMCP's AUC above the DNN's on rarely shown ads (ours)", "not reported", kDeepMCP, kDNN, true}};
    Claims claims;
    claims.quick = o.quick;
    for (int c = 0; c < 2; ++c)
        for (const Row& row : rows) {
            if (row.rare && c == 1) continue;   // the control world shows every ad often: none is rare
            Claim cl{row.claim, kWorlds[c], c == 0 ? row.paper : "-", {}, o.margin, 4};
            for (const WorldResult& w : r.cell[c])
                cl.diffs.push_back(row.rare ? w.models[row.a].tail_auc - w.models[row.b].tail_auc : w.models[row.a].auc - w.models[row.b].auc);
            claims.add(cl);
        }
    for (int c = 0; c < 2; ++c) {
        bool ok = true;
        for (const WorldResult& w : r.cell[c])
            for (int m = 0; m < kNumModels; ++m) ok = ok && w.models[m].auc <= w.oracle.auc + 0.01;
        claims.add_sanity(std::string("no model's AUC above the true probabilities' (+0.01), ") + kWorlds[c], ok,
                          num("oracle AUC %.4f", mean_over(r.cell[c], [](const WorldResult& w) { return w.oracle.auc; })));
    }
    return claims;
}

}  // namespace ch56
}  // namespace minirec
