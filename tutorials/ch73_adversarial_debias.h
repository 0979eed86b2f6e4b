// Chapter 73's experiment as a function: an ad log written by a legacy ranker that over-rates some
// ads, with a feature (the ad's historical CTR) that inherits the positions the legacy ranker gave
// it. Three kinds of model, all the same network: naive (no position), position as a feature
// (the bypass), and the adversarial model at several lambdas; how each ranks ads against their
// true relevance, and how much position a fresh probe can still read from each representation.
// Printing and pictures live in ch73_adversarial_debias.cpp.
// Deliberately left out: query features, auctions and bids, the paper's real search-ads data.
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

#include "models/ch73_adversarial_debias.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch73 {

// ---- The world -----------------------------------------------------------------------------------
//   t_i ~ N(quality_mean, 1), rel_i = sigmoid(t_i)      ad i's true relevance (what we want to rank by)
//   k_i ~ N(0, legacy_std^2)                             the legacy ranker's error about ad i
//   a list shows `slots` random ads ordered by  ranker_weight t_i + k_i + N(0, ranker_noise^2)
//   click ~ Bernoulli(exam_p rel_i),  exam_p = 1 / (p + 1)    (slot p, 0-based)
//   features X_i: `content` noisy readings t_i + N(0, content_noise^2), and the logit of the ad's
//   smoothed CTR in an earlier log written by the same ranker: it mixes rel_i with the slots the
//   ad used to get, so it carries k_i. The bias b of an event is the training log's CTR at its slot.
struct WorldOptions {
    int items = 1000, slots = 10, content = 8;
    int history_lists = 10000, train_lists = 10000, test_lists = 2500;
    double quality_mean = -1.0, legacy_std = 1.5, ranker_weight = 0.0, ranker_noise = 0.5;
    double content_noise = 2.0;
    double prior_clicks = 2.0, prior_views = 10.0;   // smoothing of the historical CTR
};

struct Event {
    int32_t item, slot;
    float click;
};

struct World {
    int items = 0, slots = 0, features = 0;
    std::vector<double> truth, legacy;        // (items) t_i and k_i
    Tensor x;                                  // (items, F) standardised features
    std::vector<Event> train, test;
    std::vector<double> slot_ctr;              // (slots) the training log's CTR per slot
    double b_mean = 0.0, b_std = 1.0;          // to standardise b
    double bias(int slot) const { return (slot_ctr[size_t(slot)] - b_mean) / b_std; }
};

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// `lists` ranked lists from the legacy ranker, appended to out.
inline void draw_lists(const WorldOptions& o, const World& w, int lists, Rng& rng, std::vector<Event>& out) {
    std::vector<int> shown(size_t(o.slots));
    std::vector<double> score(size_t(o.items));
    for (int l = 0; l < lists; ++l) {
        for (int s = 0; s < o.slots; ++s) {
            shown[size_t(s)] = rng.randint(o.items);
            const int i = shown[size_t(s)];
            score[size_t(i)] = o.ranker_weight * w.truth[size_t(i)] + w.legacy[size_t(i)] + rng.normal() * o.ranker_noise;
        }
        std::sort(shown.begin(), shown.end(), [&](int a, int c) { return score[size_t(a)] > score[size_t(c)]; });
        for (int s = 0; s < o.slots; ++s) {
            const int i = shown[size_t(s)];
            const double p = sigmoid(w.truth[size_t(i)]) / double(s + 1);
            out.push_back({i, s, rng.bernoulli(float(p)) ? 1.0f : 0.0f});
        }
    }
}

inline World make_world(const WorldOptions& o, uint64_t seed) {
    Rng rng(seed);
    World w;
    w.items = o.items, w.slots = o.slots, w.features = o.content + 1;
    for (int i = 0; i < o.items; ++i) w.truth.push_back(o.quality_mean + rng.normal());
    for (int i = 0; i < o.items; ++i) w.legacy.push_back(rng.normal() * o.legacy_std);
    std::vector<Event> history;
    draw_lists(o, w, o.history_lists, rng, history);
    std::vector<double> clicks(size_t(o.items), 0.0), views(size_t(o.items), 0.0);
    for (const Event& e : history) clicks[size_t(e.item)] += e.click, views[size_t(e.item)] += 1.0;
    w.x = Tensor({o.items, w.features});
    for (int i = 0; i < o.items; ++i) {
        for (int c = 0; c < o.content; ++c) w.x[size_t(i) * w.features + c] = float(w.truth[size_t(i)] + rng.normal() * o.content_noise);
        const double ctr = (clicks[size_t(i)] + o.prior_clicks) / (views[size_t(i)] + o.prior_views);
        w.x[size_t(i) * w.features + o.content] = float(std::log(ctr / (1.0 - ctr)));
    }
    for (int f = 0; f < w.features; ++f) {                 // standardise each feature column
        double m = 0.0, v = 0.0;
        for (int i = 0; i < o.items; ++i) m += w.x[size_t(i) * w.features + f] / double(o.items);
        for (int i = 0; i < o.items; ++i) v += std::pow(w.x[size_t(i) * w.features + f] - m, 2) / double(o.items);
        for (int i = 0; i < o.items; ++i)
            w.x[size_t(i) * w.features + f] = float((w.x[size_t(i) * w.features + f] - m) / std::sqrt(v));
    }
    draw_lists(o, w, o.train_lists, rng, w.train);
    draw_lists(o, w, o.test_lists, rng, w.test);
    std::vector<double> c(size_t(o.slots), 0.0), n(size_t(o.slots), 0.0);
    for (const Event& e : w.train) c[size_t(e.slot)] += e.click, n[size_t(e.slot)] += 1.0;
    for (int s = 0; s < o.slots; ++s) w.slot_ctr.push_back(c[size_t(s)] / n[size_t(s)]);
    double m = 0.0, v = 0.0;                                // b standardised over training events
    for (const Event& e : w.train) m += w.slot_ctr[size_t(e.slot)] / double(w.train.size());
    for (const Event& e : w.train) v += std::pow(w.slot_ctr[size_t(e.slot)] - m, 2) / double(w.train.size());
    w.b_mean = m, w.b_std = std::sqrt(v);
    return w;
}

// ---- The study -----------------------------------------------------------------------------------
struct StudyOptions {
    WorldOptions world;
    std::vector<double> lambdas = {3.0, 30.0, 300.0};   // adversarial models (the baselines use 0)
    int replicates = 3;
    int epochs = 4;
    int batch = 256;
    double lr = 0.005;              // Adam, predictor and adversary alike
    int probe_epochs = 3;           // a fresh adversary trained on the frozen representation
    double top_fraction = 0.1;      // "top relevance": mean rel of the model's top 10% of ads
    uint64_t seed = 42;
    bool verbose = true;
};

struct ModelSpec {
    bool bypass = true;
    double lambda = 0.0;
    std::string name() const {
        if (!bypass) return "naive (position ignored)";
        if (lambda == 0.0) return "position as feature (bypass)";
        char buf[48];
        std::snprintf(buf, sizeof buf, "adversarial, lambda %g", lambda);
        return buf;
    }
};

// One world's results per model.
struct Replicate {
    std::vector<double> truth_corr;   // Pearson corr of the serving score with t_i over all ads
    std::vector<double> legacy_corr;  // ... with the legacy error k_i: the bias that leaked
    std::vector<double> top_rel;      // mean rel of the model's top ads
    std::vector<double> probe_r2;     // R^2 of a fresh probe predicting b from Z_A (held-out events)
    std::vector<double> log_auc;      // AUC on held-out logged clicks (with the bypass where there is one)
    double oracle_top_rel = 0.0, random_top_rel = 0.0;
    double features_truth_corr = 0.0; // content features averaged, as a reference ranking
};

struct StudyReport {
    std::vector<ModelSpec> models;
    std::vector<Replicate> reps;
    double seconds = 0.0;
    template <class F> double mean(F f) const { return mean_over(reps, f); }
    template <class F> double min(F f) const { return min_over(reps, f); }
};

inline std::vector<ModelSpec> model_specs(const StudyOptions& o) {
    std::vector<ModelSpec> m = {{false, 0.0}, {true, 0.0}};
    for (double l : o.lambdas) m.push_back({true, l});
    return m;
}

// Events as inputs: features X (n, F) of each event's ad, b (n, 1) standardised, clicks (n, 1).
struct Batch {
    Tensor x, b, click;
};

inline Batch gather(const World& w, const std::vector<Event>& events, const std::vector<int>& rows) {
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
inline double probe_r2(AdversarialNet& net, const World& w, const StudyOptions& o, Rng& rng) {
    Tensor z_items;
    {
        NoGrad no_grad;
        z_items = net.representation(constant(w.x)).value();            // (items, R)
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

inline Replicate run_replicate(const StudyOptions& o, const std::vector<ModelSpec>& specs, uint64_t seed) {
    const World w = make_world(o.world, seed);
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
            const Var x = constant(bt.x);
            for (size_t m = 0; m < nets.size(); ++m) {
                AdversarialNet& net = nets[m];
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
    for (AdversarialNet& net : nets) {
        std::vector<float> score, logged;
        {
            NoGrad no_grad;
            score = net.prediction_logit(net.representation(constant(w.x))).value().vec();      // serving: Z_Y
            logged = net.click_logit(net.representation(constant(test.x)), constant(test.b)).value().vec();
        }
        rep.truth_corr.push_back(pearson(score, w.truth));
        rep.legacy_corr.push_back(pearson(score, w.legacy));
        rep.top_rel.push_back(top_relevance(score, w.truth, top));
        rep.log_auc.push_back(auc(logged, test_y));
        rep.probe_r2.push_back(probe_r2(net, w, o, rng));
    }
    std::vector<float> truth_f(w.truth.begin(), w.truth.end()), content(size_t(w.items), 0.0f);
    for (int i = 0; i < w.items; ++i)
        for (int c = 0; c < o.world.content; ++c) content[size_t(i)] += w.x[size_t(i) * w.features + c];
    rep.oracle_top_rel = top_relevance(truth_f, w.truth, top);
    for (double t : w.truth) rep.random_top_rel += sigmoid(t) / w.items;
    rep.features_truth_corr = pearson(content, w.truth);
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    if (o.replicates < 1 || o.epochs < 1 || o.batch < 1 || o.world.items < 10 || o.world.slots < 2 ||
        o.world.train_lists < 1 || o.world.test_lists < 1 || o.world.content < 1)
        throw std::invalid_argument("ch73: need replicates, epochs >= 1, at least 10 items, 2 slots and some lists");
    for (double l : o.lambdas)
        if (!(l > 0.0)) throw std::invalid_argument("ch73: adversarial lambdas must be > 0 (0 is the bypass baseline)");
    StudyReport rep;
    rep.models = model_specs(o);
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.replicates; ++r) {
        rep.reps.push_back(run_replicate(o, rep.models, replicate_seed(o.seed, r)));
        const Replicate& x = rep.reps.back();
        if (o.verbose) {
            std::fprintf(stderr, "world %d/%d: corr with truth", r + 1, o.replicates);
            for (double c : x.truth_corr) std::fprintf(stderr, " %.3f", c);
            std::fprintf(stderr, " | probe R^2");
            for (double c : x.probe_r2) std::fprintf(stderr, " %.3f", c);
            std::fprintf(stderr, "\n");
        }
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch73
}  // namespace minirec
