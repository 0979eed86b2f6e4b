// Chapter 75's experiment as functions: a family of CTR models of varying quality, each graded by
// AUC, by csAUC and by the revenue it earns when an auction ranks ads by pCTR x bid, in the main
// world (datasets/ch75_ad_market.h: the highest bidders have a taste of their own) and in a control
// world (that taste goes to a random share of ads). Printing lives in ch75_csauc.cpp.
// The models: 16 "noisy oracles" (logit p + sigma eps, sigma_low on the v_L ads, sigma_high on the
// v_H ones) and a logistic regression trained with and without bid weights.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch75_ad_market.h"
#include "models/ch75_csauc.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch75 {

// ---- The worked example: four clicked ads (bids 4, 3, 2, 1 = their levels) and one unclicked (0).
// The seed's sample table is an image: these bids and orderings are ours, not the seed's.
struct Ordering {
    const char* name;
    std::vector<int> levels;   // top to bottom
};
inline std::vector<Ordering> worked_orderings() {
    return {{"by level (ideal)", {4, 3, 2, 1, 0}},
            {"highest bid 4th", {3, 2, 1, 4, 0}},
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

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// A noisy oracle: logit p_i + sigma_i eps_i, sigma_i = sigma_high on v_H ads, else sigma_low.
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
    std::vector<ModelResult> models;   // the 16 oracles, then "LR", then "LR, bid-weighted"
    double tau_auc = 0, tau_cs_auc = 0, tau_cs_auc_pctr = 0;   // Kendall's tau with revenue
    const ModelResult& lr(bool weighted) const { return models[models.size() - (weighted ? 1 : 2)]; }
};

struct Options {
    WorldOptions world;
    TrainOptions train;
    std::vector<double> sigmas = {0.0, 0.5, 1.0, 1.5};   // the oracles' noise levels (grid low x high)
    int worlds = 8;            // per cell (main, control)
    uint64_t seed = 42;
    bool verbose = true;
};
inline Options quick_options() {
    Options o;
    o.worlds = 3;
    o.world.auctions = 10000;
    return o;
}

inline WorldResult run_world(const Options& o, const WorldOptions& wo) {
    const World w = make_world(wo);
    const Samples& t = w.test;
    const double best = auction_revenue(t.p, t.bid, t.p, wo.per_auction);   // ranking by the true CTR
    WorldResult res;
    auto grade_model = [&](const std::string& name, const std::vector<float>& pctr) {
        res.models.push_back({name, auc(pctr, t.y), cs_auc(ecpm(pctr, t.bid), t.y, t.bid), cs_auc(pctr, t.y, t.bid),
                              auction_revenue(pctr, t.bid, t.p, wo.per_auction) / best});
    };
    for (size_t i = 0; i < o.sigmas.size(); ++i)
        for (size_t j = 0; j < o.sigmas.size(); ++j)
            grade_model("oracle + noise " + num("%.1f", o.sigmas[i]) + " low / " + num("%.1f", o.sigmas[j]) + " high",
                        noisy_oracle(t, o.sigmas[i], o.sigmas[j], splitmix64(wo.seed + 97 * i + j)));
    grade_model("LR", train_lr(w, wo.ads, wo.features, false, o.train, splitmix64(wo.seed + 1)));
    grade_model("LR, bid-weighted", train_lr(w, wo.ads, wo.features, true, o.train, splitmix64(wo.seed + 1)));
    std::vector<double> a, c, cp, rev;
    for (const ModelResult& m : res.models)
        a.push_back(m.auc), c.push_back(m.cs_auc), cp.push_back(m.cs_auc_pctr), rev.push_back(m.revenue);
    res.tau_auc = kendall_tau(a, rev);
    res.tau_cs_auc = kendall_tau(c, rev);
    res.tau_cs_auc_pctr = kendall_tau(cp, rev);
    return res;
}

struct Results {
    std::vector<WorldResult> main, control;   // world w of both cells shares its seed
    double seconds = 0.0;
};

// Fresh world, oracle noise and LR initialisation per world; seeds from replicate_seed(seed, w).
inline Results run_experiment(const Options& o) {
    Results r;
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < o.worlds; ++w)
        for (bool by_bid : {true, false}) {
            WorldOptions wo = o.world;
            wo.seed = replicate_seed(o.seed, w);
            wo.taste_by_bid = by_bid;
            std::vector<WorldResult>& cell = by_bid ? r.main : r.control;
            cell.push_back(run_world(o, wo));
            if (o.verbose)
                std::fprintf(stderr, "%s world %d/%d  tau(AUC, revenue) %.3f  tau(csAUC, revenue) %.3f\n",
                             by_bid ? "main" : "control", w + 1, o.worlds, cell.back().tau_auc, cell.back().tau_cs_auc);
        }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

// Margins: tau 0.05 (about one model pair in 40 ranked differently); revenue 0.003 of the
// oracle's; csAUC 0.002; AUC 0.005.
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    c.quick = o.worlds < 5;   // fewer than 5 worlds: intervals only
    const char* seed = "the seed: online ranking uses CTR x bid, AUC ignores the bid; no numbers";
    for (const char* world : {"main", "control"}) {
        const std::vector<WorldResult>& ws = std::string(world) == "main" ? r.main : r.control;
        Claim tau{"tau(csAUC, revenue) above tau(AUC, revenue) over the models", world, seed, {}, 0.05, 3};
        Claim rev{"bid weighting raises the LR's revenue (/ oracle's)", world, "the seed: no numbers", {}, 0.003};
        Claim cs{"bid weighting raises the LR's csAUC", world, "the seed: no numbers", {}, 0.002};
        Claim au{"bid weighting lowers the LR's AUC", world, "the seed: no numbers", {}, 0.005};
        for (const WorldResult& w : ws) {
            tau.diffs.push_back(w.tau_cs_auc - w.tau_auc);
            rev.diffs.push_back(w.lr(true).revenue - w.lr(false).revenue);
            cs.diffs.push_back(w.lr(true).cs_auc - w.lr(false).cs_auc);
            au.diffs.push_back(w.lr(false).auc - w.lr(true).auc);
        }
        for (Claim* x : {&tau, &rev, &cs, &au}) c.add(*x);
    }
    const OrderingMetrics ideal = grade(worked_orderings()[0]), fourth = grade(worked_orderings()[1]);
    c.add_sanity("worked example: level order has csAUC 1; highest bid 4th keeps AUC 1, csAUC 14/20",
                 ideal.cs_auc == 1.0 && fourth.auc == 1.0 && std::fabs(fourth.cs_auc - 0.7) < 1e-9,
                 num("%.2f", ideal.cs_auc) + ", " + num("%.2f", fourth.auc) + ", " + num("%.2f", fourth.cs_auc));
    double worst = 1.0;
    for (const WorldResult& w : r.main) worst = std::min(worst, w.models[0].revenue);
    c.add_sanity("the noiseless oracle earns the oracle's revenue", worst == 1.0, num("%.4f", worst));
    return c;
}

}  // namespace ch75
}  // namespace minirec
