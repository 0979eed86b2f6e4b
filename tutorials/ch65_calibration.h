// Chapter 65's simulation: in each of several independent worlds, logistic regression and a small DNN
// trained on click logs whose negatives were kept at rate w, scored on unsampled test data (AUC, logloss,
// ECE, the ads' revenue per impression) before and after the correction; judge() makes the claims.
// Deliberately left out: real ads data (the truth is unknown there), online learning, position bias.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch65_sampled_logs.h"
#include "datasets/sampling.h"
#include "models/ch65_calibration.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch65 {

// ---- The simulation (the three ads and the worked example: models/ch65_calibration.h) -----------
struct Options {
    int n_train = 300000;       // before sampling
    int n_test = 100000;        // never sampled
    std::vector<double> rates = {1.0, 1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 10};  // w; the first must be 1
    int worlds = 5;             // independent worlds: fresh data, negatives kept, init and order
    int epochs = 3;
    int batch = 256;
    double lr_logreg = 0.02;    // Adam
    double lr_dnn = 0.01;
    int dim = 8;                // D, the DNN's embedding size
    int bins = 10;              // for ECE and the reliability diagram
    Ads ads;
    // The control: the smallest w overall, but unevenly by ad in these proportions; the correction still uses w.
    std::vector<double> control_ad_weights = {2.0, 0.5, 0.5};
    uint64_t seed = 42;         // the master seed: data, sampling, inits
    bool verbose = true;        // one line per (model, w) on stderr
};
// The quick configuration: 40k training impressions, 3 worlds; too short for verdicts.
inline Options quick_options() {
    Options o;
    o.n_train = 40000, o.n_test = 20000, o.worlds = 3;
    return o;
}

// What one (model, w) cell measured on the unsampled test set, one entry per world.
struct Cell {
    double w = 1.0;
    std::vector<AdScores> raw, cal;       // [world] pCTR as it comes out; after calibrate_ctr(p, w)
    std::vector<double> oracle_ad_ctr;    // perfect_sampled_ad_ctr, mean over worlds
    double train_rows = 0.0;              // mean kept rows
    // One score's mean over the worlds (nn/train.h), raw or corrected: c.mean(&AdScores::ece, true).
    double mean(double AdScores::*x, bool corrected = false) const {
        return mean_over(corrected ? cal : raw, [x](const AdScores& s) { return s.*x; });
    }
};
// Expected revenue per impression of ad k, pCTR x CPC, from one world's scores (raw or corrected).
inline double revenue(const AdScores& s, size_t k, const Ads& ads) { return s.ad_ctr[k] * ads.cpc[k]; }

struct Results {
    std::vector<std::string> models = {"LR", "DNN"};
    std::vector<std::vector<Cell>> cells;      // [model][rate]
    std::vector<Cell> control;                 // [model]: the smallest w, negatives kept unevenly by ad
    TruthMeans truth;                          // the data, and the truth on the test sets: the best any model can do
};

// World r: its own data; model m's init and batch order are the same for every w (so the comparison
// across rates is paired), and the negatives kept differ per rate.
inline Results run_experiment(const Options& o) {
    Results rep;
    const double W = o.worlds;
    rep.cells.assign(rep.models.size(), std::vector<Cell>(o.rates.size()));
    rep.control.assign(rep.models.size(), Cell{});
    for (int world = 0; world < o.worlds; ++world) {
        const uint64_t seed = replicate_seed(o.seed, world);
        const Impressions d = make_impressions(o.n_train + o.n_test, o.ads, seed);
        const datasets::AdWorld s = datasets::split_world(d, o.n_train);
        rep.truth.add(d, s, o.bins, W);
        const std::vector<double> uneven = uneven_rates(d, s.train, o.rates.back(), o.control_ad_weights);
        for (size_t m = 0; m < rep.models.size(); ++m)
            for (size_t i = 0; i <= o.rates.size(); ++i) {   // i = rates.size(): the control
                const bool control = i == o.rates.size();
                Cell& c = control ? rep.control[m] : rep.cells[m][i];
                c.w = control ? o.rates.back() : o.rates[i];
                const std::vector<double> w_by_ad = control ? uneven : std::vector<double>(o.ads.ctr.size(), c.w);
                datasets::add_share(c.oracle_ad_ctr, perfect_sampled_ad_ctr(d, s.test, w_by_ad), W);
                Rng sampler(datasets::sub_seed(seed, int(i), 0)), init(datasets::sub_seed(seed, int(m), 1));
                const std::vector<int> kept = downsample_negatives(d, s.train, w_by_ad, sampler);
                c.train_rows += double(kept.size()) / W;
                auto fit = [&](auto model, double lr) {
                    train_on_sampled_log(model, d, kept, o.epochs, o.batch, lr, init);
                    const std::vector<float> p = predict(model, d, s.test);
                    c.raw.push_back(score(d, s.test, s.test_labels, p, o.bins));
                    c.cal.push_back(score(d, s.test, s.test_labels, calibrate_ctr(p, c.w), o.bins));
                };
                if (m == 0) fit(LogisticRegression(d.num_ids, d.ctx.num_tags, init), o.lr_logreg);
                else fit(SmallDNN(d.num_ids, d.ctx.num_tags, d.fields, o.dim, init), o.lr_dnn);
                if (o.verbose)
                    std::fprintf(stderr, "world %d %-3s w = %.3f%s  %6zu rows  AUC %.4f  ECE %.4f -> %.4f\n", world + 1, rep.models[m].c_str(),
                                 c.w, control ? " by ad" : "", kept.size(), c.raw.back().auc, c.raw.back().ece, c.cal.back().ece);
            }
    }
    return rep;
}

// The claims, per model, each a per-world difference. The main world samples negatives uniformly at
// the smallest rate w; the control keeps the same fraction w of them, but unevenly by ad, so the
// one known rate the correction relies on does not exist.
inline Claims judge(const Options& o, const Results& rep) {
    Claims claims;
    const std::string wname = "w = 1/" + num("%.3g", 1.0 / o.rates.back());
    for (size_t m = 0; m < rep.models.size(); ++m) {
        const std::vector<Cell>& row = rep.cells[m];
        const std::string& M = rep.models[m];
        for (const char* kind : {"main", "control"}) {
            const bool main = std::string(kind) == "main";
            const Cell& c = main ? row.back() : rep.control[m];
            std::vector<double> ece, flip, restore, auc_gap;
            for (size_t r = 0; r < c.raw.size(); ++r) {
                ece.push_back(c.raw[r].ece - c.cal[r].ece);
                flip.push_back(revenue(c.raw[r], 1, o.ads) - revenue(c.raw[r], 0, o.ads));
                restore.push_back(revenue(c.cal[r], 0, o.ads) - revenue(c.cal[r], 1, o.ads));
                if (row.size() > 1) auc_gap.push_back(row[1].raw[r].auc - row[0].raw[r].auc);
            }
            const std::string at = main ? " at " + wname : " at " + wname + " overall, unevenly by ad";
            claims.add({M + ": the correction lowers the ECE" + at, kind, "seed: q = p / (p + (1 - p) / w) restores the CTR (0.5625 -> 0.30 for A)", ece, 0.02});
            claims.add({M + ": sampling puts B's revenue / imp. above A's (raw pCTR x CPC)" + at, kind, "seed, w = 1/3: B 3.43 > A 3.38 (truth A 1.80 > B 1.60)", flip, 0.05, 3});
            claims.add({M + ": corrected, A's revenue / imp. stays above B's" + at, kind, "seed, w = 1/3: A 1.80 > B 1.60 after correction", restore, 0.05, 3});
            if (main && row.size() > 1)
                claims.add({M + ": keeping negatives at w = 1/" + num("%.3g", 1.0 / row[1].w) + " costs no AUC (AUC(w) - AUC(1))", kind, "seed: ranking (AUC) almost unchanged", auc_gap, 0.0});
        }
        claims.add_sanity(M + " at w = 1 scores below the true CTRs' AUC", row[0].mean(&AdScores::auc) < rep.truth.auc,
                          num("AUC %.4f < ", row[0].mean(&AdScores::auc)) + num("%.4f", rep.truth.auc));
    }
    return claims;
}

}  // namespace ch65
}  // namespace minirec
