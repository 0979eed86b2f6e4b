// Chapter 65's experiment as functions: the worked example (three ads, negatives kept at 1/3) and a
// simulation that, in each of several independent worlds, trains logistic regression and a small DNN
// on click logs whose negatives were kept at rate w, then measures ranking (AUC), calibration
// (logloss, ECE) and the ads' revenue per impression on unsampled test data, before and after the
// correction. judge() turns the per-world differences into the claims. Printing: ch65_calibration.cpp.
// Deliberately left out: real ads data (the truth is unknown there), online learning, position bias.
#pragma once
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "datasets/ad_impressions.h"
#include "models/ch65_calibration.h"
#include "nn/calibration.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
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
    // The control world: negatives kept at the smallest w overall, but unevenly by ad, in these
    // proportions (A's at 4 times B's and C's rate), while the correction still uses w.
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

// The training loop, written out: shuffled batches, forward, loss, backward, Adam step. The learning
// rate decays to 0 on a cosine, so the final bias does not jitter with the last batches (calibration
// is a statement about averages, and a noisy bias moves every prediction).
template <class Model>
void train(Model& model, const Impressions& d, const std::vector<int>& rows, const Options& o, double lr, Rng& rng) {
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), lr);
    const long steps_per_epoch = (long(rows.size()) + o.batch - 1) / o.batch;
    const LrSchedule schedule = LrSchedule::cosine(lr, steps_per_epoch * o.epochs);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& batch_rows : make_batches(rows, o.batch, rng)) {
            const CtrBatch x = make_batch(d, batch_rows);     // the rows of the sampled log
            Tensor y({x.rows(), 1});
            for (int b = 0; b < x.rows(); ++b) y[size_t(b)] = d.labels[size_t(batch_rows[size_t(b)])];
            const Var loss = bce_with_logits(model.forward(x), y);  // the plain loss, no re-weighting
            adam.zero_grad();
            backward(loss);
            adam.lr = schedule.at(step);
            adam.step();
            check_finite(loss.item(), ++step);
        }
}

// What one (model, w) cell measured on the unsampled test set, one entry per world; "raw" is the
// sampled model's pCTR as it comes out, "cal" the same after calibrate_ctr(p, w).
struct Cell {
    double w = 1.0;
    std::vector<double> auc, logloss_raw, logloss_cal, ece_raw, ece_cal;
    std::vector<double> ratio_raw, ratio_cal;                 // mean pCTR / observed CTR
    std::vector<std::vector<double>> ad_ctr_raw, ad_ctr_cal;  // [world][ad] mean pCTR per ad
    std::vector<ReliabilityBin> bins_raw, bins_cal;           // world 0
    std::vector<double> oracle_ad_ctr;                        // perfect_sampled_ad_ctr, mean over worlds
    double train_rows = 0.0;                                  // mean kept rows
    // Expected revenue per impression of ad k in world r, pCTR x CPC, raw or corrected.
    double revenue(size_t r, size_t k, bool corrected, const Ads& ads) const {
        return (corrected ? ad_ctr_cal : ad_ctr_raw)[r][k] * ads.cpc[k];
    }
};

struct Results {
    WorkedExample example;
    std::vector<std::string> models;           // "LR", "DNN"
    std::vector<std::vector<Cell>> cells;      // [model][rate]
    std::vector<Cell> control;                 // [model]: the smallest w, negatives kept unevenly by ad
    // The data, and the truth on the test set (means over worlds): the best any model can do.
    double train_ctr = 0.0, test_ctr = 0.0;
    std::vector<double> test_ad_ctr;           // observed CTR per ad on the test set
    double oracle_auc = 0.0, oracle_logloss = 0.0, oracle_ece = 0.0;
    std::string true_order;                    // by the ads' true CTR x CPC
};

// The mean and the sample standard deviation over a cell's worlds (nn/train.h).
inline double mean_of(const std::vector<double>& v) { return mean_over(v, [](double x) { return x; }); }
inline double std_of(const std::vector<double>& v) { return stdev_over(v, [](double x) { return x; }); }

// Fills the metrics of one world from test predictions p of a model trained at rate w.
inline void measure(Cell& c, const std::vector<float>& p, const Impressions& d, const std::vector<int>& test,
                    const Options& o) {
    std::vector<float> y;
    for (int r : test) y.push_back(d.labels[size_t(r)]);
    const std::vector<float> q = calibrate_ctr(p, c.w);
    c.auc.push_back(auc(p, y));                  // = auc(q, y): the correction is monotone
    c.logloss_raw.push_back(logloss(p, y)), c.logloss_cal.push_back(logloss(q, y));
    c.ece_raw.push_back(expected_calibration_error(p, y, o.bins)), c.ece_cal.push_back(expected_calibration_error(q, y, o.bins));
    const double clicks = std::accumulate(y.begin(), y.end(), 0.0);   // mean pCTR / CTR = sum of pCTR / clicks
    c.ratio_raw.push_back(std::accumulate(p.begin(), p.end(), 0.0) / clicks);
    c.ratio_cal.push_back(std::accumulate(q.begin(), q.end(), 0.0) / clicks);
    c.ad_ctr_raw.push_back(datasets::mean_by_ad(d, test, p)), c.ad_ctr_cal.push_back(datasets::mean_by_ad(d, test, q));
    if (c.bins_raw.empty()) c.bins_raw = reliability_bins(p, y, o.bins), c.bins_cal = reliability_bins(q, y, o.bins);
}

// World r: its own data; model m's init and batch order are the same for every w (so the comparison
// across rates is paired), and the negatives kept differ per rate.
inline uint64_t sub_seed(uint64_t world, int a, int salt) { return splitmix64(world ^ splitmix64(1000003ull * uint64_t(a + 1) + uint64_t(salt))); }

inline Results run_experiment(const Options& o) {
    Results rep;
    rep.example = worked_example(o.ads);
    const size_t K = o.ads.ctr.size();
    const double W = o.worlds;
    rep.test_ad_ctr.assign(K, 0.0), rep.true_order = revenue_order(o.ads.ctr, o.ads.cpc), rep.models = {"LR", "DNN"};
    rep.cells.assign(rep.models.size(), std::vector<Cell>(o.rates.size()));
    rep.control.assign(rep.models.size(), Cell{});
    for (int world = 0; world < o.worlds; ++world) {
        const uint64_t seed = replicate_seed(o.seed, world);
        const Impressions d = make_impressions(o.n_train + o.n_test, o.ads, seed);
        std::vector<int> train_rows, test_rows;
        for (int r = 0; r < o.n_train + o.n_test; ++r) (r < o.n_train ? train_rows : test_rows).push_back(r);
        std::vector<float> ptrue, ytest;
        for (int r : test_rows) ptrue.push_back(d.prob[size_t(r)]), ytest.push_back(d.labels[size_t(r)]);
        for (int r = 0; r < o.n_train + o.n_test; ++r)
            (r < o.n_train ? rep.train_ctr : rep.test_ctr) += d.labels[size_t(r)] / (r < o.n_train ? o.n_train : o.n_test) / W;
        const std::vector<double> ad_ctr = datasets::mean_by_ad(d, test_rows, ytest);
        for (size_t k = 0; k < K; ++k) rep.test_ad_ctr[k] += ad_ctr[k] / W;
        rep.oracle_auc += auc(ptrue, ytest) / W, rep.oracle_logloss += logloss(ptrue, ytest) / W;
        rep.oracle_ece += expected_calibration_error(ptrue, ytest, o.bins) / W;
        const std::vector<double> uneven = uneven_rates(d, train_rows, o.rates.back(), o.control_ad_weights);
        for (size_t m = 0; m < rep.models.size(); ++m)
            for (size_t i = 0; i <= o.rates.size(); ++i) {   // i = rates.size(): the control
                const bool control = i == o.rates.size();
                Cell& c = control ? rep.control[m] : rep.cells[m][i];
                c.w = control ? o.rates.back() : o.rates[i];
                const std::vector<double> w_by_ad = control ? uneven : std::vector<double>(K, c.w);
                const std::vector<double> perfect = perfect_sampled_ad_ctr(d, test_rows, w_by_ad);
                c.oracle_ad_ctr.resize(K, 0.0);
                for (size_t k = 0; k < K; ++k) c.oracle_ad_ctr[k] += perfect[k] / W;
                Rng sampler(sub_seed(seed, int(i), 0)), init(sub_seed(seed, int(m), 1));
                const std::vector<int> kept = downsample_negatives(d, train_rows, w_by_ad, sampler);
                c.train_rows += double(kept.size()) / W;
                auto fit = [&](auto model, double lr) {
                    train(model, d, kept, o, lr, init);
                    measure(c, predict(model, d, test_rows), d, test_rows, o);
                };
                if (m == 0) fit(LogisticRegression(d.num_ids, d.ctx.num_tags, init), o.lr_logreg);
                else fit(SmallDNN(d.num_ids, d.ctx.num_tags, d.fields, o.dim, init), o.lr_dnn);
                if (o.verbose)
                    std::fprintf(stderr, "world %d %-3s w = %.3f%s  %6zu rows  AUC %.4f  ECE %.4f -> %.4f\n", world + 1,
                                 rep.models[m].c_str(), c.w, control ? " by ad" : "", kept.size(), c.auc.back(), c.ece_raw.back(), c.ece_cal.back());
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
            for (size_t r = 0; r < c.auc.size(); ++r) {
                ece.push_back(c.ece_raw[r] - c.ece_cal[r]);
                flip.push_back(c.revenue(r, 1, false, o.ads) - c.revenue(r, 0, false, o.ads));
                restore.push_back(c.revenue(r, 0, true, o.ads) - c.revenue(r, 1, true, o.ads));
                if (row.size() > 1) auc_gap.push_back(row[1].auc[r] - row[0].auc[r]);
            }
            const std::string at = main ? " at " + wname : " at " + wname + " overall, unevenly by ad";
            claims.add({M + ": the correction lowers the ECE" + at, kind, "seed: q = p / (p + (1 - p) / w) restores the CTR (0.5625 -> 0.30 for A)", ece, 0.02});
            claims.add({M + ": sampling puts B's revenue / imp. above A's (raw pCTR x CPC)" + at, kind, "seed, w = 1/3: B 3.43 > A 3.38 (truth A 1.80 > B 1.60)", flip, 0.05, 3});
            claims.add({M + ": corrected, A's revenue / imp. stays above B's" + at, kind, "seed, w = 1/3: A 1.80 > B 1.60 after correction", restore, 0.05, 3});
            if (main && row.size() > 1)
                claims.add({M + ": keeping negatives at w = 1/" + num("%.3g", 1.0 / row[1].w) + " costs no AUC (AUC(w) - AUC(1))", kind, "seed: ranking (AUC) almost unchanged", auc_gap, 0.0});
        }
        claims.add_sanity(M + " at w = 1 scores below the true CTRs' AUC", mean_of(row[0].auc) < rep.oracle_auc,
                          num("AUC %.4f < ", mean_of(row[0].auc)) + num("%.4f", rep.oracle_auc));
    }
    return claims;
}

}  // namespace ch65
}  // namespace minirec
