// Chapter 64's experiment as functions: LR, FM and AutoInt with 1..L interacting layers on synthetic CTR
// data with planted pairs, in independent worlds and three settings of the planted 3-field term (boosted,
// the generator's default, none = the control), or on a Criteo log (--data); test AUC and logloss, the
// oracle's, AutoInt's field-by-field attention, and the claims over worlds. Printing: ch64_autoint.cpp.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch64_planted_ctr.h"
#include "models/ch64_autoint.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch64 {

struct Options {
    int train_rows = 40000;
    int test_rows = 10000;
    int epochs = 2;                       // two passes over many rows overfit less than many over few
    int batch = 256;
    double lr = 1e-2;
    std::vector<int> layers = {1, 2};     // AutoInt depths to train; claims use the first two
    // The std of the planted 3-field term per setting: boosted (the main world), the generator's
    // default, and 0 = pairs only (the control: nothing beyond pairs for AutoInt to find).
    std::vector<double> three_way_stds = {2.5, 0.8, 0.0};
    int worlds = 5;                       // independent worlds (data and inits) per setting
    AutoIntOptions autoint;               // D, H, d' (layers is set from `layers`)
    int fm_dim = 16;
    uint64_t seed = 42;
    bool verbose = true;                  // one line per trained model on stderr
};
// The quick configuration: 3 worlds of 20,000 rows; too short for verdicts.
inline Options quick_options() {
    Options o;
    o.train_rows = 20000, o.test_rows = 5000, o.worlds = 3;
    return o;
}
inline std::string setting_name(double std) {
    return std == 0.0 ? "control: pairs only" : "3-field term std " + num("%.1f", std);
}

// One trained model on one data set.
struct Result {
    std::string model;
    double auc = 0.0, logloss = 0.0, seconds = 0.0;
    long parameters = 0;
};

// One world of one setting and every model trained on it.
struct DataReport {
    datasets::ClickScores oracle;                 // the true p's test AUC and logloss
    std::vector<Result> results;                  // LR, FM, AutoInt L = layers[0], ...
    std::vector<double> attention;                // (M, M): the deepest AutoInt's layer-1 alpha, mean over heads and test rows
    datasets::PlantedAttention planted;           // the interacting pairs; mean attention over them / unrelated pairs
};

struct Results {
    std::vector<std::string> fields;              // M names
    std::vector<std::vector<DataReport>> data;    // [setting][world]; with --data (real) one setting, [init]
    bool real = false;
};

inline double seconds_since(std::chrono::steady_clock::time_point t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); }

// The training loop, written out: shuffled mini-batches, forward, BCE on logits, backward, Adam.
// Then the test AUC and logloss (predict: models/ch64_autoint.h, which also averages the attention).
template <class Model>
Result train_and_test(Model& model, const std::string& name, const Options& o,
                      const datasets::CtrData& d, const std::vector<int>& train, const std::vector<int>& test,
                      uint64_t seed, std::vector<double>* attention = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), o.lr);
    Rng shuffle(seed);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(train, o.batch, shuffle)) {
            const CtrBatch b = make_ctr_batch(d, rows);
            const Var loss = bce_with_logits(model.logits(b), b.labels);   // mean over the batch
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
    const datasets::ClickScores s = datasets::click_scores(d, test, predict(model, d, test, attention));
    Result res{name, s.auc, s.logloss, seconds_since(start), 0};
    for (const auto& np : params) res.parameters += long(np.second.size());
    if (o.verbose)
        std::fprintf(stderr, "  %-12s AUC %.4f  logloss %.4f  %.1f s\n", name.c_str(), res.auc, res.logloss, res.seconds);
    return res;
}

// LR, FM and AutoInt at each depth on one data set, from initialisations drawn from `ms`.
inline void train_all(const Options& o, const datasets::CtrData& d, const std::vector<int>& train,
                      const std::vector<int>& test, uint64_t ms, DataReport& dr) {
    Rng r_lr(ms + 1), r_fm(ms + 2);
    LogisticRegression lr(d, r_lr);
    dr.results.push_back(train_and_test(lr, "LR", o, d, train, test, ms + 11));
    FactorizationMachine fm(d, o.fm_dim, r_fm);
    dr.results.push_back(train_and_test(fm, "FM", o, d, train, test, ms + 12));
    for (size_t i = 0; i < o.layers.size(); ++i) {
        AutoIntOptions ao = o.autoint;
        ao.layers = o.layers[i];   // the same initial embeddings at every depth:
        Rng r_ai(ms + 3);
        AutoInt model(d, ao, r_ai);
        dr.results.push_back(train_and_test(model, "AutoInt L=" + std::to_string(ao.layers), o, d, train, test,
                                            ms + 13, i + 1 == o.layers.size() ? &dr.attention : nullptr));   // the deepest's
    }
}

// One world: the data (the same first-order and pair weights in every setting of this world, so
// settings differ only by the 3-field term), then LR, FM and AutoInt at each depth.
inline DataReport run_one(const Options& o, double three_way_std, uint64_t world, Results& rep) {
    const datasets::CtrData d = datasets::planted_ctr(o.train_rows + o.test_rows, three_way_std, world);
    const std::vector<int> train = datasets::rows_between(0, o.train_rows), test = datasets::rows_between(o.train_rows, o.train_rows + o.test_rows);
    DataReport dr;
    dr.oracle = datasets::oracle_scores(d, test);
    if (o.verbose) std::fprintf(stderr, "%s: oracle AUC %.4f\n", setting_name(three_way_std).c_str(), dr.oracle.auc);
    train_all(o, d, train, test, splitmix64(world + (three_way_std > 0.0 ? 1 : 2)), dr);   // model and shuffle seeds
    // Planted vs unrelated pairs, symmetrised: (alpha_mk + alpha_km) / 2 over the pairs m < k.
    rep.fields = field_names(d);
    dr.planted = datasets::planted_attention(d, dr.attention, int(rep.fields.size()));
    return dr;
}

// --data: a real log in the synthetic rows' shape (datasets/ctr_logs.h), over initialisations; train on
// the first rows, test on the last (validation rows unused: no early stopping); no oracle, no planted pairs.
inline Results run_real(const Options& o, const datasets::CtrData& d, int n_train, int n_valid) {
    Results rep;
    const std::vector<int> train = datasets::rows_between(0, n_train), test = datasets::rows_between(n_valid, int(d.labels.size()));
    rep.real = true, rep.data.emplace_back(size_t(o.worlds));
    for (int s = 0; s < o.worlds; ++s) train_all(o, d, train, test, splitmix64(replicate_seed(o.seed, s)), rep.data[0][size_t(s)]);
    return rep;
}

inline Results run_experiment(const Options& o) {
    Results rep;
    for (double std : o.three_way_stds) {
        rep.data.emplace_back();
        for (int w = 0; w < o.worlds; ++w) rep.data.back().push_back(run_one(o, std, replicate_seed(o.seed, w), rep));
    }
    return rep;
}

// The claims per setting, each a per-world AUC difference (AutoInt = the second depth trained).
inline Claims judge(const Options& o, const Results& rep) {
    Claims claims;
    const std::string deep = "AutoInt L=" + std::to_string(o.layers.size() > 1 ? o.layers[1] : o.layers[0]);
    const std::string shallow = "AutoInt L=" + std::to_string(o.layers.front());
    const size_t kLR = 0, kFM = 1, kDeep = o.layers.size() > 1 ? 3 : 2, kShallow = 2;   // results: LR, FM, AutoInt per depth
    for (size_t s = 0; s < rep.data.size(); ++s) {
        const std::string world = rep.real ? "real data" : setting_name(o.three_way_stds[s]);
        auto diff = [&](size_t a, size_t b) {   // per world: model a's test AUC - model b's
            return per_world(rep.data[s], [&](const DataReport& w) { return w.results[a].auc - w.results[b].auc; });
        };
        claims.add({deep + " beats FM (test AUC)", world, "Table 2: +0.0225 AUC on Criteo (0.8061 vs 0.7836), +0.0046 to +0.0204 elsewhere", diff(kDeep, kFM), 0.001});
        claims.add({deep + " beats LR (test AUC)", world, "Table 2: +0.0241 AUC on Criteo (0.8061 vs 0.7820)", diff(kDeep, kLR), 0.001});
        claims.add({deep + " beats " + shallow + " (test AUC)", world, "Fig. 5: AUC rises from 1 to 2-3 layers (plot only, numbers not found)",
                    diff(kDeep, kShallow), 0.001});
        if (!rep.real)
            claims.add({"layer-1 attention higher on planted pairs than on unrelated ones", world, "attention maps shown qualitatively (figure and numbers "
                        "not in our anchors)", per_world(rep.data[s], [](const DataReport& w) { return w.planted.planted - w.planted.unrelated; }), 0.002});
    }
    if (rep.real) return claims;
    bool below = true;
    double gap = 1.0;   // the smallest oracle - model AUC gap
    for (const auto& setting : rep.data)
        for (const DataReport& w : setting)
            for (const Result& r : w.results) below &= r.auc < w.oracle.auc, gap = std::min(gap, w.oracle.auc - r.auc);
    claims.add_sanity("every model below the oracle's AUC (true p), in every world and setting", below,
                      "smallest gap " + num("%.4f", gap));
    return claims;
}

}  // namespace ch64
}  // namespace minirec
