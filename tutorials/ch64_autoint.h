// Chapter 64's experiment as a function: logistic regression, FM and AutoInt with 1..L interacting
// layers on synthetic CTR data with planted pairs, with and without a planted 3-field term; we
// report test AUC and logloss against the oracle and AutoInt's field-by-field attention. Printing
// and pictures live in ch64_autoint.cpp. Deliberately left out: the paper's real data sets.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "models/ch64_autoint.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch64 {

struct ExperimentOptions {
    int train_rows = 100000;
    int test_rows = 10000;
    int epochs = 2;                       // two passes over many rows overfit less than many over few
    int batch = 256;
    double lr = 1e-2;
    std::vector<int> layers = {1, 2, 3};  // AutoInt depths to train
    double three_way_std = 2.5;           // std of the planted 3-field term (the data's default is 0.8)
    bool pairs_only = true;               // also train everything on the data without the 3-field term
    AutoIntOptions autoint;               // D, H, d' (layers is set from `layers`)
    int fm_dim = 16;
    uint64_t seed = 42;
    bool verbose = true;                  // one line per trained model on stderr
};

// One trained model on one data set.
struct Result {
    std::string model;
    int layers = 0;          // AutoInt's L; 0 for LR and FM
    double auc = 0.0, logloss = 0.0, seconds = 0.0;
    long parameters = 0;
};

// One data set (with or without the 3-field term) and every model trained on it.
struct DataReport {
    std::string name;
    bool three_way = false;
    double oracle_auc = 0.0, oracle_logloss = 0.0, base_rate = 0.0;
    std::vector<Result> results;                  // LR, FM, AutoInt L = layers[0], ...
    std::vector<double> attention;                // (M, M): the deepest AutoInt's layer-1 alpha,
                                                  // averaged over heads and test rows
    std::vector<std::pair<int, int>> planted;     // interacting field pairs (0-based, m < k)
    double planted_attention = 0.0, other_attention = 0.0;  // means over planted / unrelated pairs
};

struct Results {
    std::vector<std::string> fields;              // M names
    std::vector<DataReport> data;                 // [0] with the 3-field term, [1] without
};

inline double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Test-set scores: p = sigmoid(logit) for every test row, in batches; and for AutoInt the mean
// (over rows and heads) of the first layer's attention, (M, M).
template <class Model>
std::vector<float> predict(Model& model, const datasets::CtrData& d, const std::vector<int>& rows,
                           std::vector<double>* attention) {
    NoGrad no_grad;
    std::vector<float> p;
    for (size_t s = 0; s < rows.size(); s += 1024) {
        const std::vector<int> chunk(rows.begin() + long(s), rows.begin() + long(std::min(rows.size(), s + 1024)));
        const CtrBatch b = make_ctr_batch(d, chunk);
        Var alpha;
        const Var y = sigmoid(model.logits(b, attention ? &alpha : nullptr));
        for (int i = 0; i < b.size; ++i) p.push_back(y.value()[size_t(i)]);
        if (attention && alpha.value().size() > 1) {      // (B, H, M, M) -> sum into (M, M)
            const int H = alpha.dim(1), M = alpha.dim(2);
            attention->resize(size_t(M) * M, 0.0);
            for (size_t i = 0; i < alpha.value().size(); ++i)
                (*attention)[i % (size_t(M) * M)] += alpha.value()[i] / (double(H) * rows.size());
        }
    }
    return p;
}

// The training loop, written out: shuffled mini-batches, forward, BCE on logits, backward, Adam.
template <class Model>
Result train_and_test(Model& model, const std::string& name, const ExperimentOptions& o,
                      const datasets::CtrData& d, const std::vector<int>& train, const std::vector<int>& test,
                      uint64_t seed, std::vector<double>* attention = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), o.lr);
    Rng shuffle(seed);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        for (const std::vector<int>& rows : make_batches(train, o.batch, shuffle)) {
            const CtrBatch b = make_ctr_batch(d, rows);
            const Var loss = bce_with_logits(model.logits(b), b.labels);   // mean over the batch
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
    }
    std::vector<float> labels;
    for (int r : test) labels.push_back(d.labels[size_t(r)]);
    const std::vector<float> p = predict(model, d, test, attention);
    Result res;
    res.model = name;
    res.auc = auc(p, labels);
    res.logloss = logloss(p, labels);
    res.parameters = 0;
    for (const auto& np : params) res.parameters += long(np.second.size());
    res.seconds = seconds_since(start);
    if (o.verbose)
        std::fprintf(stderr, "  %-12s AUC %.4f  logloss %.4f  %.1f s\n", name.c_str(), res.auc, res.logloss, res.seconds);
    return res;
}

// Which field pairs interact in the data: the FM pairs, the field-aware pairs, and the three pairs
// inside the 3-field term (when there is one).
inline std::vector<std::pair<int, int>> planted_pairs(const datasets::CtrData& d) {
    std::vector<std::pair<int, int>> p = d.pairs;
    for (const auto& q : d.field_aware_pairs) p.push_back(q);
    if (d.three_way) {
        const auto& t = d.three_way_fields;
        p.push_back({t[0], t[1]}), p.push_back({t[0], t[2]}), p.push_back({t[1], t[2]});
    }
    for (auto& q : p)
        if (q.first > q.second) std::swap(q.first, q.second);
    return p;
}

inline DataReport run_one(const ExperimentOptions& o, bool three_way, Results& rep) {
    datasets::CtrOptions co;
    co.n = o.train_rows + o.test_rows;
    co.seed = splitmix64(o.seed);          // the same first-order and pair weights in both data sets
    co.three_way = three_way;
    co.three_way_std = o.three_way_std;
    const datasets::CtrData d = datasets::synthetic_ctr(co);
    std::vector<int> train, test;
    for (int r = 0; r < co.n; ++r) (r < o.train_rows ? train : test).push_back(r);

    DataReport dr;
    dr.name = three_way ? "pairs + 3-field term" : "pairs only";
    dr.three_way = three_way;
    std::vector<float> truth, labels;
    for (int r : test) truth.push_back(d.true_prob[size_t(r)]), labels.push_back(d.labels[size_t(r)]);
    dr.oracle_auc = auc(truth, labels);
    dr.oracle_logloss = logloss(truth, labels);
    dr.base_rate = d.base_rate;
    if (o.verbose) std::fprintf(stderr, "%s: oracle AUC %.4f logloss %.4f\n", dr.name.c_str(), dr.oracle_auc, dr.oracle_logloss);

    const uint64_t ms = splitmix64(o.seed + (three_way ? 1 : 2));   // model and shuffle seeds
    Rng r_lr(ms + 1), r_fm(ms + 2);
    LogisticRegression lr(d, r_lr);
    dr.results.push_back(train_and_test(lr, "LR", o, d, train, test, ms + 11));
    FactorizationMachine fm(d, o.fm_dim, r_fm);
    dr.results.push_back(train_and_test(fm, "FM", o, d, train, test, ms + 12));
    for (size_t i = 0; i < o.layers.size(); ++i) {
        AutoIntOptions ao = o.autoint;
        ao.layers = o.layers[i];
        Rng r_ai(ms + 3);                  // the same initial embeddings at every depth
        AutoInt model(d, ao, r_ai);
        const bool deepest = i + 1 == o.layers.size();
        std::vector<double> att;
        Result res = train_and_test(model, "AutoInt L=" + std::to_string(ao.layers), o, d, train, test,
                                    ms + 13, deepest ? &att : nullptr);
        res.layers = ao.layers;
        dr.results.push_back(res);
        if (deepest) dr.attention = att;
    }
    // Planted vs unrelated pairs, symmetrised: (alpha_mk + alpha_km) / 2 over the pairs m < k.
    rep.fields = field_names(d);
    dr.planted = planted_pairs(d);
    const int M = int(rep.fields.size());
    int np = 0, no = 0;
    for (int m = 0; m < M && !dr.attention.empty(); ++m)
        for (int k = m + 1; k < M; ++k) {
            const double a = 0.5 * (dr.attention[size_t(m) * M + k] + dr.attention[size_t(k) * M + m]);
            bool planted = false;
            for (const auto& q : dr.planted) planted |= (q.first == m && q.second == k);
            if (planted) dr.planted_attention += a, ++np;
            else dr.other_attention += a, ++no;
        }
    if (np) dr.planted_attention /= np;
    if (no) dr.other_attention /= no;
    return dr;
}

// Both data sets, the same seed: the second differs from the first only by the missing 3-field term.
inline Results run_experiment(const ExperimentOptions& o) {
    Results rep;
    rep.data.push_back(run_one(o, true, rep));
    if (o.pairs_only) rep.data.push_back(run_one(o, false, rep));
    return rep;
}

// The --quick configuration, which the test runs too: fewer rows, L = 1 and 2, and only the data
// with the 3-field term (a few seconds).
inline ExperimentOptions quick_options(uint64_t seed) {
    ExperimentOptions o;
    o.train_rows = 30000;
    o.test_rows = 5000;
    o.layers = {1, 2};
    o.pairs_only = false;
    o.seed = seed;
    return o;
}

}  // namespace ch64
}  // namespace minirec
