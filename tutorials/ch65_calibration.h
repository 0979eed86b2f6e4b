// Chapter 65's experiment as a function: the worked example (three ads, negatives kept at 1/3) and a
// simulation that trains logistic regression and a small DNN on click logs whose negatives were kept
// at rate w, then measures ranking (AUC), calibration (logloss, ECE) and the revenue ranking of ads
// on unsampled test data, before and after the correction. Printing and pictures: ch65_calibration.cpp.
// Deliberately left out: real ads data (the truth is unknown there), online learning, position bias.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ad_impressions.h"
#include "models/ch65_calibration.h"
#include "nn/calibration.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch65 {

// ---- Ads and revenue --------------------------------------------------------------------------
// The chapter's three ads: 50:30:20 of impressions, click rates 30%, 20%, 20%, cost per click 6, 8, 3.
struct Ads {
    std::vector<double> share = {0.5, 0.3, 0.2};
    std::vector<double> ctr = {0.3, 0.2, 0.2};
    std::vector<double> cpc = {6.0, 8.0, 3.0};
};
const char* const kAdNames[] = {"A", "B", "C"};

// Ads ordered by expected revenue per impression, CTR x CPC, best first: "A > B > C".
inline std::string revenue_order(const std::vector<double>& ctr, const std::vector<double>& cpc) {
    std::vector<int> idx(ctr.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = int(i);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return ctr[a] * cpc[a] > ctr[b] * cpc[b]; });
    std::string s;
    for (size_t i = 0; i < idx.size(); ++i) s += (i ? " > " : "") + std::string(kAdNames[idx[i]]);
    return s;
}

// ---- The worked example -------------------------------------------------------------------------
// Per ad: the true CTR, the apparent CTR once negatives are kept at rate w, and that CTR corrected.
struct ExampleRow {
    double share, ctr, cpc;
    double sampled, corrected;                               // CTRs
    double revenue, revenue_sampled, revenue_corrected;      // CTR x CPC per impression
};
struct WorkedExample {
    double w = 0.0;
    double positives = 0.0, negatives = 0.0;                 // shares of all impressions before sampling
    std::vector<ExampleRow> rows;
    std::string order, order_sampled, order_corrected;
};

inline WorkedExample worked_example(const Ads& ads = {}, double w = 1.0 / 3.0) {
    WorkedExample ex;
    ex.w = w;
    std::vector<double> sampled, corrected;
    for (size_t k = 0; k < ads.ctr.size(); ++k) {
        ExampleRow r;
        r.share = ads.share[k], r.ctr = ads.ctr[k], r.cpc = ads.cpc[k];
        r.sampled = sampled_ctr(r.ctr, w);                   // positives kept, negatives x w
        r.corrected = calibrate_ctr(r.sampled, w);           // back to r.ctr
        r.revenue = r.ctr * r.cpc;
        r.revenue_sampled = r.sampled * r.cpc;
        r.revenue_corrected = r.corrected * r.cpc;
        ex.positives += r.share * r.ctr;
        ex.negatives += r.share * (1.0 - r.ctr);
        ex.rows.push_back(r);
        sampled.push_back(r.sampled), corrected.push_back(r.corrected);
    }
    ex.order = revenue_order(ads.ctr, ads.cpc);
    ex.order_sampled = revenue_order(sampled, ads.cpc);
    ex.order_corrected = revenue_order(corrected, ads.cpc);
    return ex;
}

// ---- The simulation -----------------------------------------------------------------------------
struct Options {
    int n_train = 300000;       // before sampling
    int n_test = 100000;        // never sampled
    std::vector<double> rates = {1.0, 1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 10};  // w; the first must be 1
    int repeats = 3;            // trainings per (model, w): different negatives kept, init and order
    int epochs = 3;
    bool equal_steps = false;   // give sampled runs as many steps as the unsampled one (more epochs)
    int batch = 256;
    double lr_logreg = 0.02;    // Adam
    double lr_dnn = 0.01;
    int dim = 8;                // D, the DNN's embedding size
    int bins = 10;              // for ECE and the reliability diagram
    bool logreg = true, dnn = true;
    Ads ads;
    uint64_t seed = 42;         // the master seed: data, sampling, inits
    bool verbose = true;        // one line per (model, w) on stderr
};

// Impressions (datasets/ad_impressions.h): synthetic_ctr's context fields plus an ad field (A, B,
// C drawn 50:30:20), each ad's logit offset set so that its mean true CTR is the example's 30%,
// 20%, 20% (so 25% overall, positives to negatives 1:3 as in the chapter).
using Impressions = datasets::AdImpressions;

inline Impressions make_impressions(const Options& o) {
    datasets::CtrOptions co;                                 // the context features
    co.n = o.n_train + o.n_test;
    co.seed = o.seed;
    return datasets::ad_impressions(co, o.ads.share, o.ads.ctr);
}

// The rows `rows` of the data as a model input.
inline CtrBatch make_batch(const Impressions& d, const std::vector<int>& rows) {
    CtrBatch x;
    x.fields = d.fields;
    const int F0 = d.ctx.num_fields, B = int(rows.size());
    x.numeric = Tensor({B, 1});
    x.tag_offsets.push_back(0);
    for (int b = 0; b < B; ++b) {
        const size_t r = size_t(rows[size_t(b)]);
        for (int f = 0; f < F0; ++f) x.cat.push_back(d.offsets[size_t(f)] + d.ctx.cat[r * F0 + size_t(f)]);
        x.cat.push_back(d.offsets[size_t(F0)] + d.ad[r]);
        for (int t = d.ctx.tag_offsets[r]; t < d.ctx.tag_offsets[r + 1]; ++t) x.tag_ids.push_back(d.ctx.tag_ids[size_t(t)]);
        x.tag_offsets.push_back(int(x.tag_ids.size()));
        x.numeric[size_t(b)] = d.ctx.numeric[r];
    }
    return x;
}

// Negative down-sampling: every positive of `rows` is kept, each negative with probability w.
inline std::vector<int> downsample_negatives(const Impressions& d, const std::vector<int>& rows, double w, Rng& rng) {
    std::vector<int> kept;
    for (int r : rows)
        if (d.labels[size_t(r)] > 0.5f || rng.uniform_double() < w) kept.push_back(r);
    return kept;
}

// The training loop, written out: shuffled batches, forward, loss, backward, Adam step. The learning
// rate decays to 0 on a cosine, so the final bias does not jitter with the last batches (calibration
// is a statement about averages, and a noisy bias moves every prediction).
template <class Model>
void train(Model& model, const Impressions& d, const std::vector<int>& rows, const Options& o, double lr, Rng& rng) {
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), lr);
    const long steps_per_epoch = (long(rows.size()) + o.batch - 1) / o.batch;
    const int epochs = o.equal_steps ? int(std::lround(double(o.epochs) * o.n_train / double(rows.size()))) : o.epochs;
    const LrSchedule schedule = LrSchedule::cosine(lr, steps_per_epoch * epochs);
    long step = 0;
    for (int epoch = 0; epoch < epochs; ++epoch)
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

// pCTR = sigmoid(logit) of every row of `rows`, in chunks, without a graph.
template <class Model>
std::vector<float> predict(Model& model, const Impressions& d, const std::vector<int>& rows) {
    NoGrad no_grad;
    std::vector<float> p;
    for (size_t s = 0; s < rows.size(); s += 4096) {
        const std::vector<int> chunk(rows.begin() + long(s), rows.begin() + long(std::min(rows.size(), s + 4096)));
        const Tensor z = sigmoid(model.forward(make_batch(d, chunk))).value();
        for (size_t i = 0; i < z.size(); ++i) p.push_back(z[i]);
    }
    return p;
}

// What one (model, w) cell measured on the unsampled test set, one entry per repeat; "raw" is the
// sampled model's pCTR as it comes out, "cal" the same after calibrate_ctr(p, w).
struct Cell {
    double w = 1.0;
    std::vector<double> auc, logloss_raw, logloss_cal, ece_raw, ece_cal;
    std::vector<double> ratio_raw, ratio_cal;                 // mean pCTR / observed CTR
    std::vector<std::vector<double>> ad_ctr_raw, ad_ctr_cal;  // [repeat][ad] mean pCTR per ad
    std::vector<std::string> order_raw, order_cal;            // [repeat] ads by pCTR x CPC
    std::vector<ReliabilityBin> bins_raw, bins_cal;           // repeat 0
    // What a perfect model of the sampled data would predict per ad: mean of sampled_ctr(true p, w).
    // Not the example's sampled_ctr(mean p, w): within an ad the CTRs vary, and sampled_ctr is concave.
    std::vector<double> oracle_ad_ctr;
    std::string oracle_order;
    double train_rows = 0.0, seconds = 0.0;                   // mean kept rows, total time
};

struct Results {
    WorkedExample example;
    std::vector<std::string> models;           // "LR", "DNN"
    std::vector<std::vector<Cell>> cells;      // [model][rate]
    // The data, and the truth on the test set: the best any model can do.
    double train_ctr = 0.0, test_ctr = 0.0;
    std::vector<double> test_ad_ctr;           // observed CTR per ad on the test set
    double oracle_auc = 0.0, oracle_logloss = 0.0, oracle_ece = 0.0;
    std::string true_order;                    // by the ads' true CTR x CPC
};

// The mean and the sample standard deviation over a cell's repeats (nn/train.h).
inline double mean_of(const std::vector<double>& v) { return mean_over(v, [](double x) { return x; }); }
inline double std_of(const std::vector<double>& v) { return stdev_over(v, [](double x) { return x; }); }

// Fills the metrics of one repeat from test predictions p of a model trained at rate w.
inline void measure(Cell& c, const std::vector<float>& p, const Impressions& d, const std::vector<int>& test,
                    const Options& o) {
    std::vector<float> y;
    for (int r : test) y.push_back(d.labels[size_t(r)]);
    const std::vector<float> q = calibrate_ctr(p, c.w);
    c.auc.push_back(auc(p, y));                  // = auc(q, y): the correction is monotone
    c.logloss_raw.push_back(logloss(p, y));
    c.logloss_cal.push_back(logloss(q, y));
    c.ece_raw.push_back(expected_calibration_error(p, y, o.bins));
    c.ece_cal.push_back(expected_calibration_error(q, y, o.bins));
    double sp = 0.0, sq = 0.0, sy = 0.0;
    const size_t K = o.ads.ctr.size();
    std::vector<double> ap(K, 0.0), aq(K, 0.0), an(K, 0.0);
    for (size_t i = 0; i < test.size(); ++i) {
        const size_t k = size_t(d.ad[size_t(test[i])]);
        sp += p[i], sq += q[i], sy += y[i];
        ap[k] += p[i], aq[k] += q[i], an[k] += 1.0;
    }
    c.ratio_raw.push_back(sp / sy);
    c.ratio_cal.push_back(sq / sy);
    for (size_t k = 0; k < K; ++k) ap[k] /= an[k], aq[k] /= an[k];
    c.ad_ctr_raw.push_back(ap), c.ad_ctr_cal.push_back(aq);
    c.order_raw.push_back(revenue_order(ap, o.ads.cpc));
    c.order_cal.push_back(revenue_order(aq, o.ads.cpc));
    if (c.bins_raw.empty()) c.bins_raw = reliability_bins(p, y, o.bins), c.bins_cal = reliability_bins(q, y, o.bins);
}

// Repeat r of model m at rate index i: its own negatives (i, r), its own init and batch order (m, r),
// the same init for every w so that the comparison across rates is paired.
inline uint64_t sub_seed(uint64_t master, int a, int b, int salt) {
    return splitmix64(master ^ splitmix64(1000003ull * uint64_t(a + 1) + 7919ull * uint64_t(b) + uint64_t(salt)));
}

inline Results run_experiment(const Options& o) {
    Results rep;
    rep.example = worked_example(o.ads);
    const Impressions d = make_impressions(o);
    std::vector<int> train_rows, test_rows;
    for (int r = 0; r < o.n_train; ++r) train_rows.push_back(r);
    for (int r = o.n_train; r < o.n_train + o.n_test; ++r) test_rows.push_back(r);

    std::vector<float> ptrue, ytest;
    for (int r : test_rows) ptrue.push_back(d.prob[size_t(r)]), ytest.push_back(d.labels[size_t(r)]);
    for (int r : train_rows) rep.train_ctr += d.labels[size_t(r)] / o.n_train;
    for (float y : ytest) rep.test_ctr += y / o.n_test;
    rep.test_ad_ctr.assign(o.ads.ctr.size(), 0.0);
    std::vector<double> count(o.ads.ctr.size(), 0.0);
    for (int r : test_rows) rep.test_ad_ctr[size_t(d.ad[size_t(r)])] += d.labels[size_t(r)], count[size_t(d.ad[size_t(r)])] += 1;
    for (size_t k = 0; k < count.size(); ++k) rep.test_ad_ctr[k] /= count[k];
    rep.oracle_auc = auc(ptrue, ytest);
    rep.oracle_logloss = logloss(ptrue, ytest);
    rep.oracle_ece = expected_calibration_error(ptrue, ytest, o.bins);
    rep.true_order = revenue_order(o.ads.ctr, o.ads.cpc);

    for (int m = 0; m < 2; ++m) {
        if ((m == 0 && !o.logreg) || (m == 1 && !o.dnn)) continue;
        rep.models.push_back(m == 0 ? "LR" : "DNN");
        std::vector<Cell> row;
        for (size_t i = 0; i < o.rates.size(); ++i) {
            Cell c;
            c.w = o.rates[i];
            c.oracle_ad_ctr.assign(o.ads.ctr.size(), 0.0);
            for (int r : test_rows)
                c.oracle_ad_ctr[size_t(d.ad[size_t(r)])] += sampled_ctr(d.prob[size_t(r)], c.w) / count[size_t(d.ad[size_t(r)])];
            c.oracle_order = revenue_order(c.oracle_ad_ctr, o.ads.cpc);
            const auto start = std::chrono::steady_clock::now();
            for (int r = 0; r < o.repeats; ++r) {
                Rng sampler(sub_seed(o.seed, int(i), r, 0)), init(sub_seed(o.seed, m, r, 1));
                const std::vector<int> kept = downsample_negatives(d, train_rows, c.w, sampler);
                c.train_rows += double(kept.size()) / o.repeats;
                if (m == 0) {
                    LogisticRegression model(d.num_ids, d.ctx.num_tags, init);
                    train(model, d, kept, o, o.lr_logreg, init);
                    measure(c, predict(model, d, test_rows), d, test_rows, o);
                } else {
                    SmallDNN model(d.num_ids, d.ctx.num_tags, d.fields, o.dim, init);
                    train(model, d, kept, o, o.lr_dnn, init);
                    measure(c, predict(model, d, test_rows), d, test_rows, o);
                }
            }
            c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (o.verbose)
                std::fprintf(stderr, "%-3s w = %.3f  %6.0f rows  AUC %.4f  ECE %.4f -> %.4f  %.1f s\n",
                             rep.models.back().c_str(), c.w, c.train_rows, mean_of(c.auc), mean_of(c.ece_raw),
                             mean_of(c.ece_cal), c.seconds);
            row.push_back(c);
        }
        rep.cells.push_back(row);
    }
    return rep;
}

}  // namespace ch65
}  // namespace minirec
