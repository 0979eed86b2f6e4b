// Chapter 59's experiment as a function: a click log whose interactions are field-pair specific
// (a feature meets each other field through a different latent vector, the world FFM assumes) and
// which carries a few fields of pure noise; FM, FFM, DeepFFM and FAT-DeepFFM trained on it; their
// held-out AUC and logloss, and where CENet's attention goes. Printing and pictures live in
// ch59_fat_deepffm.cpp. Deliberately left out: the paper's Criteo and Avazu data, numeric fields.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.h"
#include "models/ch59_fat_deepffm.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch59 {

// ---- The world -------------------------------------------------------------------------------
// F = signal + noise fields, each with `values` equally likely values. The true logit is
//   bias + sum_{f signal} w_f[x_f] + sum_{f<g signal} <u_{f->g}[x_f], u_{g->f}[x_g]>
// where u_{f->g} is field f's latent table *for meeting field g*: every signal pair has its own,
// independent tables (latent size k), so a value of field f needs (signal - 1) * k numbers to
// describe how it interacts, which one FM vector of size k cannot hold, and FFM's F vectors can.
// Noise fields enter nowhere. click ~ Bernoulli(sigmoid(logit)).
struct WorldOptions {
    int n = 60000;               // rows: train, then valid_fraction for early stopping, then test_fraction
    double valid_fraction = 0.1;
    double test_fraction = 0.2;
    int signal_fields = 4;
    int noise_fields = 4;
    int values = 40;             // per field
    int latent = 4;              // k
    double pair_std = 0.8;       // std of each planted pair term
    double first_order_std = 0.3;
    double bias = -0.5;
    uint64_t seed = 1;
};

struct World {
    int fields = 0, signal_fields = 0, values = 0, n = 0;
    int n_train = 0, n_valid = 0;     // rows [0, n_train) train, [n_train, n_valid) validation, [n_valid, n) test
    Ids cat;                          // (n * F) field-local values, row-major
    std::vector<float> labels, true_prob;
    bool is_signal(int f) const { return f < signal_fields; }
    int vocabulary() const { return fields * values; }
    // The model ids of some rows: field f's value x becomes f * values + x.
    Ids ids(const std::vector<int>& rows) const {
        Ids out;
        out.reserve(rows.size() * size_t(fields));
        for (int r : rows)
            for (int f = 0; f < fields; ++f) out.push_back(f * values + cat[size_t(r) * fields + f]);
        return out;
    }
};

inline World make_world(const WorldOptions& o) {
    if (o.signal_fields < 2 || o.noise_fields < 0 || o.values < 2 || o.latent < 1 || o.n < 100 ||
        !(o.valid_fraction > 0 && o.test_fraction > 0 && o.valid_fraction + o.test_fraction < 0.9))
        throw std::invalid_argument("ch59 world: need >= 2 signal fields, >= 0 noise fields, >= 2 values, latent >= 1, "
                                    "n >= 100, and positive validation and test fractions summing below 0.9");
    World w;
    w.signal_fields = o.signal_fields;
    w.fields = o.signal_fields + o.noise_fields;
    w.values = o.values;
    w.n = o.n;
    w.n_train = int(double(o.n) * (1.0 - o.test_fraction - o.valid_fraction));
    w.n_valid = int(double(o.n) * (1.0 - o.test_fraction));
    Rng rng(splitmix64(o.seed * 7919u + 59u));
    const int S = o.signal_fields, K = o.latent, V = o.values;
    // pair term std = pair_std: each of the K products has variance s^4, so s = (pair_std^2 / K)^(1/4)
    const float s = float(std::pow(o.pair_std * o.pair_std / K, 0.25));
    std::vector<float> first(size_t(S) * V), u(size_t(S) * S * V * K);   // u[(f, g, x, k)]
    for (float& x : first) x = rng.normal(0.0f, float(o.first_order_std));
    for (float& x : u) x = rng.normal(0.0f, s);
    auto U = [&](int f, int g, int x) { return &u[((size_t(f) * S + g) * V + x) * K]; };
    w.cat.resize(size_t(o.n) * w.fields);
    for (int r = 0; r < o.n; ++r) {
        int32_t* row = &w.cat[size_t(r) * w.fields];
        for (int f = 0; f < w.fields; ++f) row[f] = rng.randint(V);
        double logit = o.bias;
        for (int f = 0; f < S; ++f) logit += first[size_t(f) * V + row[f]];
        for (int f = 0; f < S; ++f)
            for (int g = f + 1; g < S; ++g) {
                const float *a = U(f, g, row[f]), *b = U(g, f, row[g]);
                for (int k = 0; k < K; ++k) logit += double(a[k]) * b[k];
            }
        const double p = 1.0 / (1.0 + std::exp(-logit));
        w.true_prob.push_back(float(p));
        w.labels.push_back(rng.bernoulli(float(p)) ? 1.0f : 0.0f);
    }
    return w;
}

// ---- The experiment --------------------------------------------------------------------------
enum ModelId { kFM, kFFM, kDeepFFM, kFAT, kNumModels };
const char* const kModelNames[] = {"FM", "FFM", "DeepFFM", "FAT-DeepFFM"};

struct StudyOptions {
    WorldOptions world;
    std::vector<int> noise_levels = {0, 4, 8};   // numbers of noise fields to try (world.noise_fields is ignored)
    int worlds = 3;              // independent worlds per level (seeds derived from `seed`; the same
                                 // seeds at every level, so the signal fields are the same too)
    int epochs = 4;
    int batch = 256;
    double lr = 0.005;           // Adam
    int dim = 4;                 // D, for every model
    std::vector<int> hidden = {32};
    int reduction = 4;           // CENet's r
    Interaction interaction = Interaction::hadamard;   // what DeepFFM and FAT-DeepFFM feed their DNN
    uint64_t seed = 42;
    bool verbose = true;
};

struct Result {
    double auc = 0.0, logloss = 0.0;            // on the test rows, after the last epoch
    double es_auc = 0.0, es_logloss = 0.0;      // on the test rows, at the epoch with the best validation logloss
    int best_epoch = 0;                         // 1-based
    std::vector<double> test_logloss_by_epoch;
};

struct WorldReport {
    Result models[kNumModels];
    double oracle_auc = 0.0, oracle_logloss = 0.0, base_rate = 0.0;
    std::vector<double> attention;       // (F * F) FAT-DeepFFM's mean s_{i,f} over the test rows
    double attention_signal = 0.0;       // mean of s_{i,f}, i != f, both signal fields
    double attention_noise = 0.0;        // mean of s_{i,f}, i != f, i a noise field
    double attention_to_noise = 0.0;     // mean of s_{i,f}, i a signal field, f a noise field
};

// All worlds at one number of noise fields, with the summaries the report prints.
struct Level {
    int noise_fields = 0, fields = 0, signal_fields = 0;
    std::vector<WorldReport> worlds;
    template <class G> double mean(G g) const { return mean_over(worlds, g); }
    template <class G> double min(G g) const { return min_over(worlds, g); }
    template <class G> double max(G g) const { return -min([&](const WorldReport& w) { return -g(w); }); }
    double auc(int model) const { return mean([model](const WorldReport& w) { return w.models[model].auc; }); }
    double es_auc(int model) const { return mean([model](const WorldReport& w) { return w.models[model].es_auc; }); }
    double logloss(int model) const { return mean([model](const WorldReport& w) { return w.models[model].logloss; }); }
    double es_logloss(int model) const { return mean([model](const WorldReport& w) { return w.models[model].es_logloss; }); }
    // The smallest per-world AUC lead of model a over model b (after the last epoch, or early-stopped).
    double min_gap(int a, int b) const {
        return min([a, b](const WorldReport& w) { return w.models[a].auc - w.models[b].auc; });
    }
    double min_es_gap(int a, int b) const {
        return min([a, b](const WorldReport& w) { return w.models[a].es_auc - w.models[b].es_auc; });
    }
};

struct StudyReport {
    std::vector<Level> levels;   // one per entry of StudyOptions::noise_levels, in order
    double seconds = 0.0;
};

inline std::vector<int> range(int begin, int end) {
    std::vector<int> r(size_t(end - begin));
    std::iota(r.begin(), r.end(), begin);
    return r;
}

inline Tensor label_tensor(const World& w, const std::vector<int>& rows) {
    Tensor y({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) y[j] = w.labels[size_t(rows[j])];
    return y;
}

// AUC and logloss of a model's logits on rows [begin, end) (one forward pass, no graph).
template <class Model>
Result evaluate(Model& model, const World& w, int begin, int end) {
    NoGrad no_grad;
    const std::vector<int> rows = range(begin, end);
    const Var z = model(w.ids(rows));
    std::vector<float> p(z.size()), y(z.size());
    for (size_t j = 0; j < z.size(); ++j) {
        p[j] = float(1.0 / (1.0 + std::exp(-double(z.value()[j]))));
        y[j] = w.labels[size_t(rows[j])];
    }
    Result r;
    r.auc = auc(p, y);
    r.logloss = logloss(p, y);
    return r;
}

// The training loop, the same for every model: Adam on the cross-entropy of the logits. After
// each epoch we score the validation rows and remember the test scores of the best epoch so far
// (early stopping without the retraining: the same thing, measured in one run).
template <class Model>
Result train(Model&& model, const NamedParams& params, const World& w, const StudyOptions& o, uint64_t seed,
             const char* name) {
    Adam adam(vars_of(params), o.lr);
    Rng rng(seed);                        // the same seed for every model: the same batches
    const auto batches_per_epoch = size_t((w.n_train + o.batch - 1) / o.batch);
    Progress progress(o.epochs, int(batches_per_epoch), o.verbose ? Progress::Mode::automatic : Progress::Mode::quiet);
    Result r;
    double best_valid = 1e300;
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& rows : make_batches(w.n_train, o.batch, rng)) {
            const Var loss = bce_with_logits(model(w.ids(rows)), label_tensor(w, rows));
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step, name);
            progress.step(loss.item(), int(rows.size()));
        }
        progress.end_epoch();
        const Result valid = evaluate(model, w, w.n_train, w.n_valid), test = evaluate(model, w, w.n_valid, w.n);
        r.test_logloss_by_epoch.push_back(test.logloss);
        r.auc = test.auc, r.logloss = test.logloss;
        if (valid.logloss < best_valid)
            best_valid = valid.logloss, r.es_auc = test.auc, r.es_logloss = test.logloss, r.best_epoch = epoch + 1;
    }
    return r;
}

// FAT-DeepFFM's attention on the test rows, averaged over rows: (F, F), entry (i, f) = mean s_{i,f}.
inline std::vector<double> mean_attention(FATDeepFFM& m, const World& w) {
    NoGrad no_grad;
    const std::vector<int> rows = range(w.n_valid, w.n);
    Var S;
    m(w.ids(rows), &S);
    const int F = w.fields;
    std::vector<double> a(size_t(F) * F, 0.0);
    for (size_t b = 0; b < rows.size(); ++b)
        for (int k = 0; k < F * F; ++k) a[size_t(k)] += S.value()[b * size_t(F * F) + size_t(k)] / double(rows.size());
    return a;
}

inline void summarise_attention(const World& w, WorldReport& rep) {
    const int F = w.fields;
    double sig = 0, noise = 0, to_noise = 0;
    int ns = 0, nn = 0, nt = 0;
    for (int i = 0; i < F; ++i)
        for (int f = 0; f < F; ++f) {
            if (i == f) continue;                       // v_{i,i} never enters a pair
            const double a = rep.attention[size_t(i) * F + f];
            if (w.is_signal(i) && w.is_signal(f)) sig += a, ++ns;
            if (!w.is_signal(i)) noise += a, ++nn;
            if (w.is_signal(i) && !w.is_signal(f)) to_noise += a, ++nt;
        }
    rep.attention_signal = ns ? sig / ns : NAN;
    rep.attention_noise = nn ? noise / nn : NAN;
    rep.attention_to_noise = nt ? to_noise / nt : NAN;
}

inline WorldReport run_world(const StudyOptions& o, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    const World w = make_world(wo);
    WorldReport rep;
    {   // the oracle: the true probabilities
        std::vector<float> p(w.true_prob.begin() + w.n_valid, w.true_prob.end());
        std::vector<float> y(w.labels.begin() + w.n_valid, w.labels.end());
        rep.oracle_auc = auc(p, y);
        rep.oracle_logloss = logloss(p, y);
        for (float l : w.labels) rep.base_rate += l / double(w.n);
    }
    const int N = w.vocabulary(), F = w.fields;
    DeepFFMOptions dopt;
    dopt.fields = F;
    dopt.dim = o.dim;
    dopt.hidden = o.hidden;
    dopt.interaction = o.interaction;
    const uint64_t batch_seed = splitmix64(seed + 1);
    Rng init(splitmix64(seed + 2));
    {
        FM m(N, o.dim, init);
        rep.models[kFM] = train([&](const Ids& ids) { return m(ids, F); }, m.named_parameters(), w, o, batch_seed, "FM");
    }
    {
        FFM m(N, F, o.dim, init);
        rep.models[kFFM] = train(m, m.named_parameters(), w, o, batch_seed, "FFM");
    }
    {
        DeepFFM m(N, dopt, init);
        rep.models[kDeepFFM] = train(m, m.named_parameters(), w, o, batch_seed, "DeepFFM");
    }
    {
        FATDeepFFM m(N, dopt, o.reduction, init);
        rep.models[kFAT] = train(m, m.named_parameters(), w, o, batch_seed, "FAT-DeepFFM");
        rep.attention = mean_attention(m, w);
        summarise_attention(w, rep);
    }
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    StudyReport rep;
    for (int noise : o.noise_levels) {
        StudyOptions lo = o;
        lo.world.noise_fields = noise;
        Level level;
        level.noise_fields = noise;
        level.signal_fields = o.world.signal_fields;
        level.fields = o.world.signal_fields + noise;
        for (int r = 0; r < o.worlds; ++r) {
            level.worlds.push_back(run_world(lo, replicate_seed(o.seed, r)));
            const WorldReport& x = level.worlds.back();
            if (o.verbose)
                std::fprintf(stderr, "%d noise fields, world %d/%d: AUC FM %.4f  FFM %.4f  DeepFFM %.4f  FAT-DeepFFM %.4f "
                                     "(oracle %.4f); early-stopped DeepFFM %.4f FAT %.4f; attention signal %.3f noise %.3f to-noise %.3f\n",
                             noise, r + 1, o.worlds, x.models[kFM].auc, x.models[kFFM].auc, x.models[kDeepFFM].auc,
                             x.models[kFAT].auc, x.oracle_auc, x.models[kDeepFFM].es_auc, x.models[kFAT].es_auc,
                             x.attention_signal, x.attention_noise, x.attention_to_noise);
        }
        rep.levels.push_back(level);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch59
}  // namespace minirec
