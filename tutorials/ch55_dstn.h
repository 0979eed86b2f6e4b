// Chapter 55's experiment as a function: simulated ad impressions whose click probability depends
// on how the target ad relates to the ads shown above it on the page and to the user's clicked and
// unclicked ads; a target-only DNN and the three DSTN variants trained on them; test AUC and logloss
// over several seeds, and what interactive attention learned to look at. Printing and pictures
// live in ch55_dstn.cpp. Deliberately left out: the paper's Avazu and industrial data, the online
// greedy slate construction (the chapter's deployment section).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "datasets/sampling.h"
#include "models/ch55_dstn.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch55 {

const Variant kVariants[] = {Variant::target_only, Variant::pooling, Variant::self_attention, Variant::interactive};
const char* const kVariantNames[] = {"DNN (target ad only)", "DSTN-P (sum pooling)", "DSTN-S (self-attention)",
                                     "DSTN-I (interactive attention)"};
constexpr int kNumVariants = 4;

// ---- The simulated log ---------------------------------------------------------------------------
// Ads belong to categories and have a quality q_a. A user has two interest categories; their clicked
// ads come mostly from those, their unclicked ads mostly from the others; the target ad is from an
// interest half of the time; the ads above it on the page (0..max_context of them) are half from the
// interests. The planted click logit of the target ad t is
//   bias + q_t + w_clicked min(s_l, 3) - w_unclicked min(s_u, 3) - w_context s_c - w_position n_c
// where s_l, s_u, s_c count the clicked / unclicked / contextual ads of the same category as t: a
// clicked ad like it raises the CTR, an unclicked one lowers it, and a similar ad just above it on
// the page steals its click. Only the relation between t and its auxiliary ads carries this signal.
struct DataOptions {
    int ads = 400, categories = 20;
    int rows = 60000, test_rows = 20000;
    int max_clicked = 8, max_unclicked = 8, max_context = 4;
    double bias = -1.0, quality_std = 0.5;
    double w_clicked = 0.9, w_unclicked = 0.7, w_context = 0.9, w_position = 0.15;
    uint64_t seed = 1;
};

struct Impression {
    int ad = 0;
    std::vector<int> aux[kNumAux];     // ad ids of the contextual, clicked and unclicked ads
    float click = 0.0f, prob = 0.0f;
};

struct AdLog {
    std::vector<int> category;         // (ads)
    std::vector<float> quality;        // (ads)
    std::vector<Impression> train, test;
    std::vector<std::vector<int>> by_category;
};

inline AdLog simulate(const DataOptions& o) {
    Rng rng(o.seed);
    AdLog log;
    log.by_category.resize(size_t(o.categories));
    for (int a = 0; a < o.ads; ++a) {
        const int c = a < o.categories ? a : rng.randint(o.categories);   // every category has an ad
        log.category.push_back(c), log.by_category[size_t(c)].push_back(a);
        log.quality.push_back(float(o.quality_std) * rng.normal());
    }
    auto ad_in = [&](int c) { const std::vector<int>& v = log.by_category[size_t(c)]; return v[size_t(rng.randint(int(v.size())))]; };
    for (int r = 0; r < o.rows + o.test_rows; ++r) {
        const int i1 = rng.randint(o.categories), i2 = (i1 + 1 + rng.randint(o.categories - 1)) % o.categories;
        auto interest = [&]() { return rng.uniform() < 0.5f ? i1 : i2; };
        auto other = [&]() { int c; do c = rng.randint(o.categories); while (c == i1 || c == i2); return c; };
        Impression im;
        im.ad = ad_in(rng.uniform() < 0.5f ? interest() : rng.randint(o.categories));
        for (int j = rng.randint(o.max_context + 1); j > 0; --j) im.aux[kContext].push_back(ad_in(rng.uniform() < 0.5f ? interest() : rng.randint(o.categories)));
        for (int j = rng.randint(o.max_clicked + 1); j > 0; --j) im.aux[kClicked].push_back(ad_in(rng.uniform() < 0.8f ? interest() : other()));
        for (int j = rng.randint(o.max_unclicked + 1); j > 0; --j) im.aux[kUnclicked].push_back(ad_in(rng.uniform() < 0.8f ? other() : interest()));
        int same[kNumAux] = {};
        for (int k = 0; k < kNumAux; ++k)
            for (int a : im.aux[k]) same[k] += log.category[size_t(a)] == log.category[size_t(im.ad)];
        const double z = o.bias + log.quality[size_t(im.ad)] + o.w_clicked * std::min(same[kClicked], 3) -
                         o.w_unclicked * std::min(same[kUnclicked], 3) - o.w_context * same[kContext] -
                         o.w_position * double(im.aux[kContext].size());
        im.prob = float(datasets::sigmoid(z));
        im.click = rng.uniform() < im.prob ? 1.0f : 0.0f;
        (r < o.rows ? log.train : log.test).push_back(std::move(im));
    }
    return log;
}

// Rows of the log as a padded batch.
inline DstnBatch make_batch(const AdLog& log, const std::vector<Impression>& rows, const std::vector<int>& pick, Tensor* y) {
    DstnBatch b;
    b.B = int(pick.size());
    if (y) *y = Tensor({b.B, 1});
    for (int k = 0; k < kNumAux; ++k) {
        int T = 1;                                   // at least one slot, so shapes stay valid
        for (int r : pick) T = std::max(T, int(rows[size_t(r)].aux[k].size()));
        b.aux[k].T = T;
        b.aux[k].mask = Tensor({b.B, T});
    }
    for (int j = 0; j < b.B; ++j) {
        const Impression& im = rows[size_t(pick[size_t(j)])];
        b.ad.push_back(im.ad), b.cat.push_back(log.category[size_t(im.ad)]);
        if (y) (*y)[size_t(j)] = im.click;
        for (int k = 0; k < kNumAux; ++k) {
            AuxAds& a = b.aux[k];
            for (int t = 0; t < a.T; ++t) {
                const bool real = t < int(im.aux[k].size());
                const int ad = real ? im.aux[k][size_t(t)] : 0;
                a.ids.push_back(ad), a.cats.push_back(log.category[size_t(ad)]);
                a.mask[size_t(j) * a.T + size_t(t)] = real ? 1.0f : 0.0f;
            }
        }
    }
    return b;
}

// ---- The study -----------------------------------------------------------------------------------
struct StudyOptions {
    DataOptions data;
    DstnOptions model;
    int seeds = 3;            // independent logs (and initialisations), derived from `seed`
    int epochs = 4;
    int batch = 256;
    double lr = 0.01;         // Adam
    uint64_t seed = 42;
    bool curves = true;       // test AUC after every epoch (false: after the last only)
    bool verbose = true;
};

struct Run {
    double auc[kNumVariants] = {}, logloss[kNumVariants] = {};
    double truth_auc = 0.0, truth_logloss = 0.0;
    std::vector<double> curve[kNumVariants];          // test AUC after each epoch
    // Mean attention weight of an auxiliary ad by kind and by whether it shares the target's
    // category: [variant: 0 self-attention, 1 interactive][kind][0 same, 1 other].
    double weight[2][kNumAux][2] = {};
};

struct StudyReport {
    std::vector<Run> runs;
    double seconds = 0.0;
    template <class F> double mean(F f) const { return mean_over(runs, f); }
    template <class F> double stdev(F f) const { return stdev_over(runs, f); }
    template <class F> double min(F f) const { return min_over(runs, f); }
};

// Test predictions (probabilities) of one model, in batches; optionally the attention statistics.
inline std::vector<float> predict(DSTN& m, const AdLog& log, int batch, double (*weight)[2] = nullptr) {
    NoGrad no_grad;
    m.dnn.set_training(false);
    std::vector<float> p;
    double wsum[kNumAux][2] = {}, wn[kNumAux][2] = {};
    for (size_t s = 0; s < log.test.size(); s += size_t(batch)) {
        std::vector<int> pick;
        for (size_t r = s; r < std::min(log.test.size(), s + size_t(batch)); ++r) pick.push_back(int(r));
        const DstnBatch b = make_batch(log, log.test, pick, nullptr);
        std::vector<Var> w;
        const Tensor z = sigmoid(m.forward(b, weight ? &w : nullptr)).value();
        p.insert(p.end(), z.data(), z.data() + z.size());
        if (!weight) continue;
        for (int k = 0; k < kNumAux; ++k)
            for (int j = 0; j < b.B; ++j)
                for (int t = 0; t < b.aux[k].T; ++t) {
                    const size_t i = size_t(j) * b.aux[k].T + size_t(t);
                    if (b.aux[k].mask[i] == 0.0f) continue;
                    const int o = b.aux[k].cats[i] == b.cat[size_t(j)] ? 0 : 1;
                    wsum[k][o] += w[size_t(k)].value()[i], wn[k][o] += 1.0;
                }
    }
    if (weight)
        for (int k = 0; k < kNumAux; ++k)
            for (int o = 0; o < 2; ++o) weight[k][o] = wn[k][o] > 0 ? wsum[k][o] / wn[k][o] : 0.0;
    m.dnn.set_training(true);
    return p;
}

inline Run run_seed(const StudyOptions& so, uint64_t seed) {
    DataOptions dopt = so.data;
    dopt.seed = seed;
    const AdLog log = simulate(dopt);
    DstnOptions mopt = so.model;
    mopt.ads = dopt.ads, mopt.categories = dopt.categories;
    std::vector<float> y, truth;
    for (const Impression& im : log.test) y.push_back(im.click), truth.push_back(im.prob);
    Run run;
    run.truth_auc = auc(truth, y), run.truth_logloss = logloss(truth, y);
    for (int v = 0; v < kNumVariants; ++v) {
        Rng rng(splitmix64(seed + 101));        // every variant starts from the same stream
        DSTN m(mopt, kVariants[v], rng);
        Adam adam(vars_of(m.named_parameters()), so.lr);
        long step = 0;
        for (int epoch = 0; epoch < so.epochs; ++epoch) {
            for (const std::vector<int>& pick : make_batches(int(log.train.size()), so.batch, rng)) {
                Tensor target;
                const DstnBatch b = make_batch(log, log.train, pick, &target);
                const Var loss = bce_with_logits(m.forward(b), target);    // the logloss
                adam.zero_grad();
                backward(loss);
                adam.step();
                if (++step % 100 == 0) check_finite(loss.item(), step);
            }
            if (so.curves && epoch + 1 < so.epochs) run.curve[v].push_back(auc(predict(m, log, 1024), y));
        }
        double (*w)[2] = v == 2 ? run.weight[0] : v == 3 ? run.weight[1] : nullptr;
        const std::vector<float> p = predict(m, log, 1024, w);
        run.auc[v] = auc(p, y), run.logloss[v] = logloss(p, y);
        run.curve[v].push_back(run.auc[v]);
        if (so.verbose)
            std::fprintf(stderr, "  %-32s AUC %.4f  logloss %.4f\n", kVariantNames[v], run.auc[v], run.logloss[v]);
    }
    return run;
}

inline StudyReport run_study(const StudyOptions& so) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < so.seeds; ++s) {
        if (so.verbose) std::fprintf(stderr, "seed %d/%d\n", s + 1, so.seeds);
        rep.runs.push_back(run_seed(so, replicate_seed(so.seed, s)));
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch55
}  // namespace minirec
