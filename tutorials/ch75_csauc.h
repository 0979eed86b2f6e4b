// Chapter 75's experiment: a family of CTR models (16 "noisy oracles", datasets/ch75_ad_market.h, and a
// logistic regression trained with and without bid weights, models/ch75_csauc.h), each graded by AUC, by
// csAUC and by the revenue it earns when an auction ranks ads by pCTR x bid, in the main world (the highest
// bidders have a taste of their own) and in a control world (that taste goes to a random share of ads).
#pragma once
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

struct Options {
    WorldOptions world;
    std::vector<double> sigmas = {0.0, 0.5, 1.0, 1.5};   // the oracles' noise levels (grid low x high)
    int epochs = 4, batch = 512;   // the LR models: Adam, learning rate lr on a cosine schedule
    double lr = 0.05;
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

// The logistic regression of models/ch75_csauc.h, trained with unit weights or weights = bid.
inline std::vector<float> train_lr(const World& w, const WorldOptions& wo, bool bid_weighted, const Options& o, uint64_t seed) {
    Rng rng(seed);
    CtrLR model(wo.ads, wo.features, rng);
    Adam adam(vars_of(model.named_parameters()), o.lr);
    const int n = int(w.train.ad.size());
    const LrSchedule schedule = LrSchedule::cosine(o.lr, long((n + o.batch - 1) / o.batch) * o.epochs);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(n, o.batch, rng)) {
            const Batch b = batch_of(w.train, rows, wo.features, bid_weighted);
            const Var loss = weighted_bce(model(b.ad, b.x), b.y, b.weight);   // (B, 1) logits
            adam.zero_grad();
            backward(loss);
            adam.lr = schedule.at(step);
            adam.step();
            if (++step % 200 == 0) check_finite(loss.item(), step);
        }
    return model.predict(w.test.ad, w.test.x);
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
    grade_model("LR", train_lr(w, wo, false, o, splitmix64(wo.seed + 1)));
    grade_model("LR, bid-weighted", train_lr(w, wo, true, o, splitmix64(wo.seed + 1)));
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
};

// Fresh world, oracle noise and LR initialisation per world; seeds from replicate_seed(seed, w).
inline Results run_experiment(const Options& o) {
    Results r;
    for (int w = 0; w < o.worlds; ++w)
        for (bool by_bid : {true, false}) {
            const WorldOptions wo = world_of(o.world, replicate_seed(o.seed, w), by_bid);
            const WorldResult& res = (by_bid ? r.main : r.control).emplace_back(run_world(o, wo));
            if (o.verbose)
                std::fprintf(stderr, "%s world %d/%d  tau(AUC, revenue) %.3f  tau(csAUC, revenue) %.3f\n",
                             by_bid ? "main" : "control", w + 1, o.worlds, res.tau_auc, res.tau_cs_auc);
        }
    return r;
}

// Margins: tau 0.05 (about one model pair in 40 ranked differently); revenue 0.003 of the
// oracle's; csAUC 0.002; AUC 0.005.
inline Claims judge(const Options& o, const Results& r, bool quick = false) {
    Claims c;
    c.quick = quick || o.worlds < 5;   // --quick, or fewer than 5 worlds: intervals only
    const char* seed = "the seed: online ranking uses CTR x bid, AUC ignores the bid; no numbers";
    for (const char* world : {"main", "control"}) {
        Claim tau{"tau(csAUC, revenue) above tau(AUC, revenue) over the models", world, seed, {}, 0.05, 3};
        Claim rev{"bid weighting raises the LR's revenue (/ oracle's)", world, "the seed: no numbers", {}, 0.003};
        Claim cs{"bid weighting raises the LR's csAUC", world, "the seed: no numbers", {}, 0.002};
        Claim au{"bid weighting lowers the LR's AUC", world, "the seed: no numbers", {}, 0.005};
        for (const WorldResult& w : std::string(world) == "main" ? r.main : r.control) {
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
