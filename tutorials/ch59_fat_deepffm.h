// Chapter 59's experiment as functions: the ladder of models/ch59_fat_deepffm.h (FM, FFM, DeepFFM,
// attention after the interactions, FAT-DeepFFM) trained on the same batches of a main world
// (field-pair-specific interactions, noise fields) and a control world (an FM truth), or of a Criteo
// log (--data), and judged early-stopped (the epoch with the best validation log loss).
// Deliberately left out: numeric fields, dropout and L2.
#pragma once
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch59_field_pairs.h"
#include "models/ch59_fat_deepffm.h"
#include "nn/factorization.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch59 {

enum ModelId { kFM, kFFM, kDeepFFM, kAfter, kFAT, kNumModels };
const char* const kModelNames[] = {"FM", "FFM", "DeepFFM", "MLP-DeepFFM (attention after)", "FAT-DeepFFM (attention before)"};

struct Options {
    datasets::FieldPairOptions world;   // field_aware is set per cell: true main, false control
    int worlds = 5;                     // independent worlds per cell
    int epochs = 4;
    int batch = 256;
    double lr = 0.005;                  // Adam
    int dim = 4;                        // D, for every model
    std::vector<int> hidden = {32};
    int reduction = 4;                  // CENet's r
    int attention_size = 8;             // MLP-DeepFFM's attention network
    Interaction interaction = Interaction::hadamard;
    uint64_t seed = 42;
    bool verbose = true;
    Options() { world.n = 20000, world.values = 20; }
};
inline Options quick_options() {
    Options o;
    o.worlds = 2;
    o.world.n = 8000;
    return o;
}

struct Fit {
    double auc = 0, logloss = 0;         // test, after the last epoch
    double es_auc = 0, es_logloss = 0;   // test, at the epoch with the best validation log loss
    double best_epoch = 0;               // 1-based (a double, so that the table can average it)
};
struct WorldRun {
    Fit m[kNumModels];
    datasets::ClickQuality oracle = {NAN, NAN};   // the true probability's (none on real data)
    double attention_signal = 0, attention_noise = 0;   // FAT's mean s_{i,f} (i != f), i a signal / noise field
};
struct Results {
    std::vector<WorldRun> main, control;   // one entry per world
};

// The same loop for every model: Adam on the cross-entropy, the same batches (same seed). After
// each epoch the validation log loss picks the early-stopped epoch, whose test scores we keep.
template <class Model>
Fit train(Model&& model, const NamedParams& params, const datasets::FieldPairWorld& w, const Options& o, uint64_t seed) {
    Adam adam(vars_of(params), o.lr);
    auto evaluate = [&](const std::vector<int>& rows) {   // AUC and log loss, one forward pass without a graph
        NoGrad no_grad;
        return datasets::click_quality(w, rows, model(w.ids(rows)).value().vec());
    };
    Rng rng(seed);
    Fit r;
    double best = 1e300;
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        for (const std::vector<int>& rows : make_batches(w.n_train, o.batch, rng)) {
            const Var loss = bce_with_logits(model(w.ids(rows)), w.labels_of(rows));
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
        const datasets::ClickQuality valid = evaluate(w.valid_rows()), test = evaluate(w.test_rows());
        r.auc = test.auc, r.logloss = test.logloss;
        if (valid.logloss < best) best = valid.logloss, r.es_auc = test.auc, r.es_logloss = test.logloss, r.best_epoch = epoch + 1;
    }
    return r;
}

// The five models on one data set (a world, or the --data log), from fresh initialisations drawn
// from `seed`, on the same batches; then FAT-DeepFFM's attention, and the oracle where the truth is known.
inline WorldRun run_world(const Options& o, const datasets::FieldPairWorld& w, uint64_t seed) {
    DeepFFMOptions d;
    d.fields = w.fields, d.dim = o.dim, d.hidden = o.hidden, d.interaction = o.interaction;
    const uint64_t batches = splitmix64(seed + 1);   // fresh initialisation per world, the same batches per model
    Rng init(splitmix64(seed + 2));
    Ladder m(w.vocabulary(), d, o.attention_size, o.reduction, init);
    WorldRun run;
    run.m[kFM] = train([&](const Ids& ids) { return m.fm(ids, w.fields); }, m.fm.named_parameters(), w, o, batches);
    run.m[kFFM] = train(m.ffm, m.ffm.named_parameters(), w, o, batches);
    run.m[kDeepFFM] = train(m.deep, m.deep.named_parameters(), w, o, batches);
    run.m[kAfter] = train(m.after, m.after.named_parameters(), w, o, batches);
    run.m[kFAT] = train([&](const Ids& ids) { return m.fat(ids); }, m.fat.named_parameters(), w, o, batches);
    NoGrad no_grad;   // FAT-DeepFFM's attention S (B, F, F) on the test rows, by the kind of field i
    Var S;
    m.fat(w.ids(w.test_rows()), &S);
    datasets::mean_weight_by_field_kind(w, S.value(), &run.attention_signal, &run.attention_noise);
    if (!w.true_prob.empty()) run.oracle = datasets::oracle_quality(w);   // synthetic worlds only
    return run;
}

// Both cells on the same world seeds. With `real` (--data: one log, datasets/ctr_logs.h) the
// "worlds" differ only in initialisation and batch order; no truth, so no oracle. The runs go to
// `main`, `control` stays empty.
inline Results run_experiment(const Options& o, const datasets::FieldPairWorld* real = nullptr) {
    Results r;
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);   // the same draws in both cells
        if (real) {
            r.main.push_back(run_world(o, *real, seed));
            if (o.verbose) std::fprintf(stderr, "init %d/%d: FAT-DeepFFM AUC %.4f\n", w + 1, o.worlds, r.main.back().m[kFAT].es_auc);
            continue;
        }
        const WorldRun& main_run = r.main.emplace_back(run_world(o, datasets::field_pair_clicks(o.world, true, seed), seed));
        const WorldRun& control_run = r.control.emplace_back(run_world(o, datasets::field_pair_clicks(o.world, false, seed), seed));
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: early-stopped AUC, main / control: DeepFFM %.4f / %.4f  MLP- %.4f / %.4f  FAT %.4f / %.4f\n",
                         w + 1, o.worlds, main_run.m[kDeepFFM].es_auc, control_run.m[kDeepFFM].es_auc, main_run.m[kAfter].es_auc,
                         control_run.m[kAfter].es_auc, main_run.m[kFAT].es_auc, control_run.m[kFAT].es_auc);
    }
    return r;
}

// Every claim in both cells, on the early-stopped models. The paper's numbers are from a
// translation of the paper ([S], see /work/shared/papers): Criteo and Avazu, Hadamard variants.
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    for (int cell = 0; cell < 2; ++cell) {
        const std::vector<WorldRun>& runs = cell == 0 ? r.main : r.control;
        const std::string world = cell == 0 ? (r.control.empty() ? "real data" : "main") : "control";
        if (runs.empty()) continue;
        auto per_world = [&](auto g) {
            std::vector<double> d;
            for (const WorldRun& x : runs) d.push_back(g(x));
            return d;
        };
        auto auc_gain = [&](int a, int b) { return per_world([=](const WorldRun& x) { return x.m[a].es_auc - x.m[b].es_auc; }); };
        auto paper = [&](const char* text) { return cell == 0 ? std::string(text) : std::string("—"); };
        c.add({"FAT-DeepFFM's test AUC above DeepFFM's", world, paper("Table 2 (-H): +0.0016 Criteo, +0.0028 Avazu [S]"),
               auc_gain(kFAT, kDeepFFM), 0.001});
        c.add({"FAT-DeepFFM's test log loss below DeepFFM's", world, paper("Table 2 (-H): -0.0018 Criteo, -0.0021 Avazu [S]"),
               per_world([](const WorldRun& x) { return x.m[kDeepFFM].es_logloss - x.m[kFAT].es_logloss; }), 0.001});
        c.add({"attention before the interactions (FAT-) above attention after them (MLP-)", world,
               paper("Table 3 (-H): +0.0021 Criteo, +0.0014 Avazu [S]"), auc_gain(kFAT, kAfter), 0.001});
        c.add({"FFM's test AUC above FM's", world, paper("Table 2: +0.0078 Criteo, +0.0050 Avazu [S]"), auc_gain(kFFM, kFM), 0.001});
        if (o.world.noise_fields > 0 && !r.control.empty())
            c.add({"CENet weights noise fields' vectors below signal fields' (mean s)", world, paper("not reported"),
                   per_world([](const WorldRun& x) { return x.attention_signal - x.attention_noise; }), 0.05, 3});
        bool below = true;
        if (std::isnan(runs[0].oracle.auc)) continue;
        for (const WorldRun& x : runs)
            for (const Fit& f : x.m) below = below && f.es_auc < x.oracle.auc;
        c.add_sanity("every model's test AUC below the oracle's (" + world + ")", below, "oracle AUC " +
                     num("%.4f", per_world([](const WorldRun& x) { return x.oracle.auc; })[0]) + " in world 1");
    }
    return c;
}

}  // namespace ch59
}  // namespace minirec
