// Chapter 75's experiment as a function: a family of CTR models of varying quality, each graded by
// AUC, by csAUC and by the revenue it earns when an auction ranks ads by pCTR x bid. Which offline
// metric predicts the revenue? Printing and pictures live in ch75_csauc.cpp. Deliberately left
// out: real logs, second-price auctions, more than one slot per auction.
//
// The world (known truth), for A ads and user features x in R^D:
//   ad a:    quality q_a ~ N(quality_mean, quality_std^2), bid_a ~ lognormal(0, bid_sigma^2)
//            taste v_a: the top `high_share` of ads by bid respond to x along one direction v_H,
//            the others along an orthogonal v_L (plus a little per-ad noise)
//   sample:  P(click | a, x) = sigmoid(q_a + v_a . x),  x ~ N(0, I)
//   auction: `per_auction` ads drawn at random for one x; every candidate gets a click label
//            (as if each had been shown), so the same samples feed AUC, csAUC and the revenue
// The models: "noisy oracles" logit p + sigma eps, with noise sigma_low on the low-bid ads and
// sigma_high on the high-bid ones, and a logistic regression trained with and without bid weights.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "models/ch75_csauc.h"
#include "nn/ad_metrics.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch75 {

// ---- The chapter's worked example ------------------------------------------------------------
// Four clicked ads with bids 4, 3, 2, 1 (levels 4 > 3 > 2 > 1) and one ad not clicked (level 0).
// The chapter's sample table is an image; these bids are ours. Each ordering lists the samples
// top first by their level (0 = the negative).
struct Ordering {
    const char* name;
    std::vector<int> levels;   // top to bottom
};
inline std::vector<Ordering> worked_orderings() {
    return {{"by level (ideal)", {4, 3, 2, 1, 0}},
            {"highest bid 4th (the chapter's first)", {3, 2, 1, 4, 0}},
            {"positives reversed", {1, 2, 3, 4, 0}},
            {"negative in the middle", {4, 3, 0, 2, 1}},
            {"negative on top", {0, 4, 3, 2, 1}},
            {"everything reversed", {0, 1, 2, 3, 4}}};
}
struct OrderingMetrics {
    double auc, cs_auc, top_revenue;   // top_revenue: the bid of the top sample if clicked
};
inline OrderingMetrics grade(const Ordering& o) {
    std::vector<float> score, label, bid;
    for (size_t r = 0; r < o.levels.size(); ++r) {
        score.push_back(float(o.levels.size() - r));   // higher = nearer the top
        label.push_back(o.levels[r] > 0 ? 1.0f : 0.0f);
        bid.push_back(o.levels[r] > 0 ? float(o.levels[r]) : 1.0f);   // the negative's bid is irrelevant
    }
    return {auc(score, label), cs_auc(score, label, bid), double(o.levels[0])};
}

// ---- The simulated world ----------------------------------------------------------------------
struct WorldOptions {
    int ads = 200;
    double high_share = 0.2;     // share of ads (the highest bids) with taste v_H
    int features = 4;            // D
    double quality_mean = -2.5, quality_std = 0.5;
    double bid_sigma = 0.8;
    double taste = 1.5;          // |v_H| = |v_L|
    int train_rows = 50000;
    int auctions = 20000;
    int per_auction = 10;
    uint64_t seed = 1;
};

struct Samples {                 // one row per (ad, x)
    Ids ad;
    Tensor x;                    // (n, D)
    std::vector<float> p, y, bid;
    std::vector<bool> high;      // the ad is a high-bid one
};

struct World {
    std::vector<double> quality, bid;
    std::vector<std::vector<double>> taste;   // (A, D)
    std::vector<bool> high;
    Samples train, test;         // test: auctions x per_auction rows, auction by auction
};

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

inline World make_world(const WorldOptions& o) {
    Rng rng(o.seed);
    World w;
    for (int a = 0; a < o.ads; ++a) w.quality.push_back(rng.normal(float(o.quality_mean), float(o.quality_std)));
    for (int a = 0; a < o.ads; ++a) w.bid.push_back(std::exp(o.bid_sigma * rng.normal()));
    std::vector<double> sorted = w.bid;
    std::sort(sorted.begin(), sorted.end());
    const double cut = sorted[size_t(std::min(o.ads - 1, int(o.ads * (1.0 - o.high_share))))];
    for (int a = 0; a < o.ads; ++a) {
        w.high.push_back(w.bid[size_t(a)] >= cut);
        std::vector<double> v(size_t(o.features), 0.0);
        v[w.high.back() ? 0 : 1] = o.taste;          // v_H = taste e_0, v_L = taste e_1
        for (double& t : v) t += 0.1 * rng.normal();
        w.taste.push_back(v);
    }
    auto draw = [&](int rows, int per_x) {
        Samples s;
        s.x = Tensor({rows, o.features});
        std::vector<float> x(size_t(o.features));
        for (int i = 0; i < rows; ++i) {
            if (i % per_x == 0)
                for (float& v : x) v = rng.normal();
            const int a = rng.randint(o.ads);
            double z = w.quality[size_t(a)];
            for (int d = 0; d < o.features; ++d) {
                s.x[size_t(i) * size_t(o.features) + size_t(d)] = x[size_t(d)];
                z += w.taste[size_t(a)][size_t(d)] * x[size_t(d)];
            }
            s.ad.push_back(a);
            s.p.push_back(float(sigmoid(z)));
            s.y.push_back(rng.uniform_double() < s.p.back() ? 1.0f : 0.0f);
            s.bid.push_back(float(w.bid[size_t(a)]));
            s.high.push_back(w.high[size_t(a)]);
        }
        return s;
    };
    w.train = draw(o.train_rows, 1);
    w.test = draw(o.auctions * o.per_auction, o.per_auction);
    return w;
}

// ---- The models -------------------------------------------------------------------------------
// A noisy oracle: logit p_i + sigma_i eps_i, sigma_i = sigma_high on high-bid ads, else sigma_low.
inline std::vector<float> noisy_oracle(const Samples& s, double sigma_low, double sigma_high, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> out;
    for (size_t i = 0; i < s.p.size(); ++i) {
        const double z = std::log(s.p[i] / (1.0 - s.p[i])) + (s.high[i] ? sigma_high : sigma_low) * rng.normal();
        out.push_back(float(sigmoid(z)));
    }
    return out;
}

struct TrainOptions {
    int epochs = 4;
    int batch = 512;
    double lr = 0.05;
};

// The logistic regression of models/ch75_csauc.h, trained with unit weights or weights = bid.
inline std::vector<float> train_lr(const World& w, int ads, int features, bool bid_weighted, const TrainOptions& t,
                                   uint64_t seed) {
    Rng rng(seed);
    CtrLR model(ads, features, rng);
    Adam adam(vars_of(model.named_parameters()), t.lr);
    const Samples& s = w.train;
    const int n = int(s.ad.size());
    const LrSchedule schedule = LrSchedule::cosine(t.lr, long((n + t.batch - 1) / t.batch) * t.epochs);
    long step = 0;
    for (int epoch = 0; epoch < t.epochs; ++epoch)
        for (const std::vector<int>& batch : make_batches(n, t.batch, rng)) {
            const int B = int(batch.size());
            Ids ad(static_cast<size_t>(B));
            Tensor x({B, features}), y({B, 1}), weight({B, 1});
            for (int b = 0; b < B; ++b) {
                const size_t i = size_t(batch[size_t(b)]);
                ad[size_t(b)] = s.ad[i];
                for (int d = 0; d < features; ++d)
                    x[size_t(b) * size_t(features) + size_t(d)] = s.x[i * size_t(features) + size_t(d)];
                y[size_t(b)] = s.y[i];
                weight[size_t(b)] = bid_weighted ? s.bid[i] : 1.0f;
            }
            const Var loss = weighted_bce(model(ad, x), y, weight);   // (B, 1) logits
            adam.zero_grad();
            backward(loss);
            adam.lr = schedule.at(step);
            adam.step();
            if (++step % 200 == 0) check_finite(loss.item(), step);
        }
    NoGrad no_grad;
    const Var logits = model(w.test.ad, w.test.x);   // (n_test, 1)
    std::vector<float> p(w.test.ad.size());
    for (size_t i = 0; i < p.size(); ++i) p[i] = float(sigmoid(logits.value()[i]));
    return p;
}

// ---- One world: every model graded three ways -------------------------------------------------
struct ModelResult {
    std::string name;
    double auc = 0, cs_auc = 0, cs_auc_pctr = 0, revenue = 0;   // revenue relative to the oracle
};

struct WorldResult {
    std::vector<ModelResult> models;
    double tau_auc = 0, tau_cs_auc = 0, tau_cs_auc_pctr = 0;       // Kendall's tau with revenue
    int flips = 0, flips_cs_agrees = 0;   // model pairs where AUC and revenue disagree; csAUC sides with revenue
};

struct StudyOptions {
    WorldOptions world;
    TrainOptions train;
    std::vector<double> sigmas = {0.0, 0.5, 1.0, 1.5};   // the oracles' noise levels (grid low x high)
    int worlds = 5;
    uint64_t seed = 42;
    bool verbose = true;
};

inline const ModelResult* find_model(const WorldResult& r, const std::string& name) {
    for (const ModelResult& m : r.models)
        if (m.name == name) return &m;
    return nullptr;
}

inline WorldResult run_world(const StudyOptions& so, uint64_t seed) {
    WorldOptions wo = so.world;
    wo.seed = seed;
    const World w = make_world(wo);
    const Samples& t = w.test;
    const double best = auction_revenue(t.p, t.bid, t.p, wo.per_auction);   // ranking by the true CTR
    WorldResult res;
    auto grade_model = [&](const std::string& name, const std::vector<float>& pctr) {
        ModelResult m;
        m.name = name;
        m.auc = auc(pctr, t.y);
        m.cs_auc = cs_auc(ecpm(pctr, t.bid), t.y, t.bid);
        m.cs_auc_pctr = cs_auc(pctr, t.y, t.bid);
        m.revenue = auction_revenue(pctr, t.bid, t.p, wo.per_auction) / best;
        res.models.push_back(m);
    };
    for (size_t i = 0; i < so.sigmas.size(); ++i)
        for (size_t j = 0; j < so.sigmas.size(); ++j) {
            char name[64];
            std::snprintf(name, sizeof name, "oracle + noise %.1f low / %.1f high", so.sigmas[i], so.sigmas[j]);
            grade_model(name, noisy_oracle(t, so.sigmas[i], so.sigmas[j], splitmix64(seed + 97 * i + j)));
        }
    grade_model("LR", train_lr(w, wo.ads, wo.features, false, so.train, splitmix64(seed + 1)));
    grade_model("LR, bid-weighted", train_lr(w, wo.ads, wo.features, true, so.train, splitmix64(seed + 1)));

    std::vector<double> a, c, cp, rev;
    for (const ModelResult& m : res.models)
        a.push_back(m.auc), c.push_back(m.cs_auc), cp.push_back(m.cs_auc_pctr), rev.push_back(m.revenue);
    res.tau_auc = kendall_tau(a, rev);
    res.tau_cs_auc = kendall_tau(c, rev);
    res.tau_cs_auc_pctr = kendall_tau(cp, rev);
    for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = i + 1; j < a.size(); ++j)
            if ((a[i] - a[j]) * (rev[i] - rev[j]) < 0) {
                res.flips++;
                res.flips_cs_agrees += (c[i] - c[j]) * (rev[i] - rev[j]) > 0;
            }
    return res;
}

struct StudyReport {
    std::vector<WorldResult> worlds;
    double seconds = 0.0;
};

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.worlds; ++r) {
        rep.worlds.push_back(run_world(o, replicate_seed(o.seed, r)));
        const WorldResult& w = rep.worlds.back();
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d  tau(AUC, revenue) %.3f  tau(csAUC, revenue) %.3f\n", r + 1, o.worlds,
                         w.tau_auc, w.tau_cs_auc);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch75
}  // namespace minirec
