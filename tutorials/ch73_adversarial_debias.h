// Chapter 73's experiment as functions: an ad log written by a legacy ranker that over-rates some
// ads (datasets/ch73_feedback_log.h), and five kinds of model, all the same network: naive (no
// position), plain on the content features only (no historical CTR), position as a feature (the
// bypass), and the adversarial model at several lambdas; how each ranks ads against their true
// relevance, and how much position a fresh probe can still read from each representation; over
// independent worlds, in the main world and in a control world where the log carries no per-ad bias.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/ch73_feedback_log.h"
#include "models/ch73_adversarial_debias.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch73 {

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// ---- The study -----------------------------------------------------------------------------------
struct Options {
    WorldOptions world;
    double control_legacy_std = 0.0;   // the control world: the legacy ranker has no per-ad error
    std::vector<double> lambdas = {3.0, 30.0, 300.0};   // adversarial models; the claims use the first
    int worlds = 8;                    // per cell (main, control)
    int epochs = 4;
    int batch = 256;
    double lr = 0.005;                 // Adam, predictor and adversary alike
    int probe_epochs = 3;              // a fresh adversary trained on the frozen representation
    double top_fraction = 0.1;         // "top relevance": mean rel of the model's top 10% of ads
    uint64_t seed = 42;
    bool verbose = true;
};
inline Options quick_options() {
    Options o;
    o.worlds = 3;
    o.world.train_lists = o.world.history_lists = 5000, o.world.test_lists = 2000;
    return o;
}

struct ModelSpec {
    bool bypass = true, history = true;   // history: the historical-CTR feature is an input
    double lambda = 0.0;
    std::string name() const {
        if (!history) return "plain, content features only";
        if (!bypass) return "naive (position ignored)";
        return lambda == 0.0 ? "position as feature (bypass)" : "adversarial, lambda " + num("%g", lambda);
    }
};
enum { kNaive = 0, kContent = 1, kBypass = 2, kAdversarial = 3 };   // kAdversarial: the first lambda

// One world's results per model.
struct Replicate {
    std::vector<double> truth_corr;   // Pearson corr of the serving score with t_i over all ads
    std::vector<double> legacy_corr;  // ... with the legacy error k_i: the bias that leaked
    std::vector<double> top_rel;      // mean rel of the model's top ads
    std::vector<double> probe_r2;     // R^2 of a fresh probe predicting b from Z_A (held-out events)
    std::vector<double> log_auc;      // AUC on held-out logged clicks (with the bypass where there is one)
    double oracle_top_rel = 0.0, random_top_rel = 0.0;
    double features_truth_corr = 0.0; // content features summed, untrained, as a reference ranking
};

inline std::vector<ModelSpec> model_specs(const Options& o) {
    std::vector<ModelSpec> m = {{false, true, 0.0}, {false, false, 0.0}, {true, true, 0.0}};
    for (double l : o.lambdas) m.push_back({true, true, l});
    return m;
}

// Events as inputs: features X (n, F) of each event's ad, b (n, 1) standardised, clicks (n, 1).
// without_history: the same X with the historical-CTR column (the last) set to 0, i.e. not an input.
inline Tensor without_history(Tensor x) {
    for (int i = 0; i < x.dim(0); ++i) x[size_t(i) * size_t(x.dim(1)) + size_t(x.dim(1) - 1)] = 0.0f;
    return x;
}
struct Batch {
    Tensor x, b, click;
};

inline Batch gather(const World& w, const std::vector<Event>& events, const std::vector<int>& rows) {   // X (n, F)
    const int n = int(rows.size()), F = w.features;
    Batch out{Tensor({n, F}), Tensor({n, 1}), Tensor({n, 1})};
    for (int j = 0; j < n; ++j) {
        const Event& e = events[size_t(rows[size_t(j)])];
        std::copy(w.x.data() + size_t(e.item) * F, w.x.data() + size_t(e.item + 1) * F, out.x.data() + size_t(j) * F);
        out.b[size_t(j)] = float(w.bias(e.slot));
        out.click[size_t(j)] = e.click;
    }
    return out;
}

inline double pearson(const std::vector<float>& a, const std::vector<double>& b) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    const double n = double(a.size());
    for (size_t k = 0; k < a.size(); ++k) ma += a[k] / n, mb += b[k] / n;
    for (size_t k = 0; k < a.size(); ++k)
        sab += (a[k] - ma) * (b[k] - mb), saa += (a[k] - ma) * (a[k] - ma), sbb += (b[k] - mb) * (b[k] - mb);
    return sab / std::sqrt(saa * sbb);
}

// Mean true relevance of the `count` ads with the highest scores.
inline double top_relevance(const std::vector<float>& score, const std::vector<double>& truth, int count) {
    std::vector<int> order(score.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int c) { return score[size_t(a)] > score[size_t(c)]; });
    double s = 0.0;
    for (int k = 0; k < count; ++k) s += sigmoid(truth[size_t(order[size_t(k)])]) / count;
    return s;
}

// How much of b a fresh adversary can read from a frozen representation: train a new Bias-net-
// shaped probe on the training events' Z_A, report R^2 = 1 - MSE / Var(b) on the test events.
inline double probe_r2(AdversarialNet& net, const World& w, bool history, const Options& o, Rng& rng) {
    Tensor z_items;
    {
        NoGrad no_grad;
        z_items = net.representation(constant(history ? w.x : without_history(w.x))).value();   // (items, R)
    }
    const int R = z_items.dim(1);
    AdversarialNet probe_shape(net.options, rng);                         // only its Bias net is used
    Adam adam(vars_of(probe_shape.adversary_parameters()), 0.01);
    auto inputs = [&](const std::vector<Event>& ev, const std::vector<int>& rows, Tensor* z, Tensor* b) {
        *z = Tensor({int(rows.size()), R});
        *b = Tensor({int(rows.size()), 1});
        for (size_t j = 0; j < rows.size(); ++j) {
            const Event& e = ev[size_t(rows[j])];
            std::copy(z_items.data() + size_t(e.item) * R, z_items.data() + size_t(e.item + 1) * R, z->data() + j * R);
            (*b)[j] = float(w.bias(e.slot));
        }
    };
    for (int epoch = 0; epoch < o.probe_epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            Tensor z, b;
            inputs(w.train, rows, &z, &b);
            const Var loss = adversary_loss(probe_shape.bias_prediction(constant(z)), b);
            adam.zero_grad();
            backward(loss);
            adam.step();
        }
    NoGrad no_grad;
    std::vector<int> rows(w.test.size());
    std::iota(rows.begin(), rows.end(), 0);
    Tensor z, b;
    inputs(w.test, rows, &z, &b);
    const Tensor pred = probe_shape.bias_prediction(constant(z)).value();
    double mse = 0.0, mb = 0.0, vb = 0.0;
    for (size_t j = 0; j < b.size(); ++j) mb += b[j] / double(b.size());
    for (size_t j = 0; j < b.size(); ++j) mse += std::pow(pred[j] - b[j], 2), vb += std::pow(b[j] - mb, 2);
    return 1.0 - mse / vb;
}

inline Replicate run_world(const Options& o, const WorldOptions& wo, const std::vector<ModelSpec>& specs, uint64_t seed) {
    const World w = make_world(wo, seed);
    Rng rng(splitmix64(seed + 5));
    std::vector<AdversarialNet> nets;
    std::vector<std::unique_ptr<Adam>> predictor_opt, adversary_opt;
    AdamOptions ao;
    ao.lr = o.lr;
    for (const ModelSpec& s : specs) {
        AdversarialOptions a;
        a.features = w.features;
        a.bypass = s.bypass;
        nets.emplace_back(a, rng);
    }
    for (const AdversarialNet& n : nets) {                  // two optimizers per model, disjoint groups
        predictor_opt.push_back(std::make_unique<Adam>(vars_of(n.predictor_parameters()), ao));
        adversary_opt.push_back(std::make_unique<Adam>(vars_of(n.adversary_parameters()), ao));
    }
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            const Batch bt = gather(w, w.train, rows);
            const Var x_all = constant(bt.x), x_content = constant(without_history(bt.x));
            for (size_t m = 0; m < nets.size(); ++m) {
                AdversarialNet& net = nets[m];
                const Var& x = specs[m].history ? x_all : x_content;
                {   // adversary step: L_B on a detached Z_A, only Theta_B moves
                    const Var z_b = net.bias_prediction(detach(net.representation(x)));
                    const Var l_b = adversary_loss(z_b, bt.b);
                    adversary_opt[m]->zero_grad();
                    backward(l_b);
                    adversary_opt[m]->step();
                }
                {   // predictor step: L_Y, Theta_B fixed (its gradient is computed but not applied)
                    const Var z_a = net.representation(x);
                    const Var l_y = predictor_loss(net.click_logit(z_a, constant(bt.b)), bt.click,
                                                   net.bias_prediction(z_a), bt.b, specs[m].lambda);
                    predictor_opt[m]->zero_grad();
                    backward(l_y);
                    predictor_opt[m]->step();
                    if (step % 100 == 0) check_finite(l_y.item(), step);
                }
            }
            ++step;
        }

    Replicate rep;
    const int top = std::max(1, int(o.top_fraction * w.items));
    std::vector<int> test_rows(w.test.size());
    std::iota(test_rows.begin(), test_rows.end(), 0);
    const Batch test = gather(w, w.test, test_rows);
    const std::vector<float> test_y = test.click.vec();
    for (size_t m = 0; m < nets.size(); ++m) {
        AdversarialNet& net = nets[m];
        const bool h = specs[m].history;
        std::vector<float> score, logged;
        {
            NoGrad no_grad;
            score = net.prediction_logit(net.representation(constant(h ? w.x : without_history(w.x)))).value().vec();  // Z_Y
            logged = net.click_logit(net.representation(constant(h ? test.x : without_history(test.x))), constant(test.b)).value().vec();
        }
        rep.truth_corr.push_back(pearson(score, w.truth));
        rep.legacy_corr.push_back(pearson(score, w.legacy));
        rep.top_rel.push_back(top_relevance(score, w.truth, top));
        rep.log_auc.push_back(auc(logged, test_y));
        rep.probe_r2.push_back(probe_r2(net, w, h, o, rng));
    }
    std::vector<float> truth_f(w.truth.begin(), w.truth.end()), content(size_t(w.items), 0.0f);
    for (int i = 0; i < w.items; ++i)
        for (int c = 0; c < wo.content; ++c) content[size_t(i)] += w.x[size_t(i) * w.features + c];
    rep.oracle_top_rel = top_relevance(truth_f, w.truth, top);
    for (double t : w.truth) rep.random_top_rel += sigmoid(t) / w.items;
    rep.features_truth_corr = pearson(content, w.truth);
    return rep;
}

struct Results {
    std::vector<ModelSpec> models;
    std::vector<Replicate> main, control;   // world w of both cells shares its seed
    double seconds = 0.0;
};

inline Results run_experiment(const Options& o) {
    for (double l : o.lambdas)
        if (!(l > 0.0)) throw std::invalid_argument("ch73: adversarial lambdas must be > 0 (0 is the bypass baseline)");
    Results r;
    r.models = model_specs(o);
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < o.worlds; ++w)
        for (bool main : {true, false}) {
            WorldOptions wo = o.world;
            if (!main) wo.legacy_std = o.control_legacy_std;
            std::vector<Replicate>& cell = main ? r.main : r.control;
            cell.push_back(run_world(o, wo, r.models, replicate_seed(o.seed, w)));
            if (o.verbose) {
                std::fprintf(stderr, "%s world %d/%d: corr with truth", main ? "main" : "control", w + 1, o.worlds);
                for (double c : cell.back().truth_corr) std::fprintf(stderr, " %.3f", c);
                std::fprintf(stderr, "\n");
            }
        }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

// Margins: 0.01 of correlation, 0.005 of top-10% relevance, 0.05 of probe R^2.
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    c.quick = o.worlds < 5;
    const std::string adv = r.models[kAdversarial].name();
    const char* s_auc = "[S, unverified] AUC on unbiased (RUS) data +12.6% from lambda 0 to 0.9999 (synthetic study)";
    for (const char* world : {"main", "control"}) {
        const std::vector<Replicate>& cell = std::string(world) == "main" ? r.main : r.control;
        Claim by{adv + " ranks by true relevance better than position as a feature", world, s_auc, {}, 0.01};
        Claim pl{adv + " ranks by true relevance better than the plain model without the historical CTR", world,
                 "not run in the paper", {}, 0.01};
        Claim nv{adv + " ranks by true relevance better than the naive model", world, "not found", {}, 0.01};
        Claim top{adv + ": more relevant top 10% than position as a feature", world, "not found", {}, 0.005};
        Claim pr{adv + ": less position readable from Z_A than with position as a feature (probe R^2)", world,
                 "[S] with the adversary, MSE on b rises to the predict-the-mean level, 0.00078", {}, 0.05};
        for (const Replicate& x : cell) {
            by.diffs.push_back(x.truth_corr[kAdversarial] - x.truth_corr[kBypass]);
            pl.diffs.push_back(x.truth_corr[kAdversarial] - x.truth_corr[kContent]);
            nv.diffs.push_back(x.truth_corr[kAdversarial] - x.truth_corr[kNaive]);
            top.diffs.push_back(x.top_rel[kAdversarial] - x.top_rel[kBypass]);
            pr.diffs.push_back(x.probe_r2[kBypass] - x.probe_r2[kAdversarial]);
        }
        for (Claim* x : {&by, &pl, &nv, &top, &pr}) c.add(*x);
    }
    double worst = 1.0;   // the oracle's top ads are the most relevant by construction
    for (const Replicate& x : r.main)
        for (double t : x.top_rel) worst = std::min(worst, x.oracle_top_rel - t);
    c.add_sanity("no model's top 10% is more relevant than the oracle's", worst >= 0.0, num("%+.4f", worst));
    return c;
}

}  // namespace ch73
}  // namespace minirec
