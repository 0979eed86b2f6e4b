// The first demo's experiment as a function: a small CTR model (embeddings + MLP, models/demo_ctr.h)
// trained with Adam on synthetic click logs whose true click probabilities we know, then scored against
// that oracle. Printing, flags and pictures live in demo_ctr.cpp. Deliberately left out: feature
// crosses (later chapters: FM, DeepFM, AutoInt), early stopping, real data.
#pragma once
#include <chrono>
#include <cstdint>
#include <vector>

#include "datasets/synthetic_ctr.h"
#include "models/demo_ctr.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace demo {

struct Options {
    int rows = 600000;        // synthetic rows: the first 80% train, the rest test
    int epochs = 5;
    int dim = 8;              // D, the embedding size of every field
    int hidden = 64;          // the MLP's first layer; the second has half
    int batch = 256;
    float lr = 2e-3f;         // Adam
    int log_every = 100;      // steps per point of the loss curve
    uint64_t seed = 42;       // data, initialisation and shuffling all derive from it
    bool progress = true;     // the progress bar (or lines) on stderr
};

// The --quick configuration, which the test runs too: 100,000 rows and 2 epochs, about half a
// second. (20,000 rows left the test AUC 0.11-0.15 below the oracle's: too little data to judge.)
inline Options quick_options(uint64_t seed) {
    Options o;
    o.rows = 100000;
    o.epochs = 2;
    o.seed = seed;
    return o;
}

// AUC and logloss of one set of rows, for the model and for the oracle (the true probabilities).
struct Metrics {
    double auc = 0.0, oracle_auc = 0.0;
    double logloss = 0.0, oracle_logloss = 0.0;
};

struct Results {
    std::vector<double> epoch_loss;     // mean training loss of each epoch (as the progress bar shows)
    std::vector<long> curve_step;       // the loss curve: after step curve_step[i], the mean loss
    std::vector<double> curve_loss;     //   of the log_every steps before it
    Metrics train, test;
    double constant_logloss = 0.0;      // test logloss of predicting the training click rate for every row
    double seconds = 0.0;               // training and evaluation
};

inline std::vector<float> pick(const std::vector<float>& v, const std::vector<int>& idx) {
    std::vector<float> out;
    for (int i : idx) out.push_back(v[static_cast<size_t>(i)]);
    return out;
}

inline Metrics evaluate(CtrModel& model, const datasets::CtrData& d, const std::vector<int>& idx) {
    const std::vector<float> p = predict(model, d, idx), y = pick(d.labels, idx), oracle = pick(d.true_prob, idx);
    return {auc(p, y), auc(oracle, y), logloss(p, y), logloss(oracle, y)};   // in Metrics' order
}

// The click logs and their split: the first 80% of the rows train, the rest test.
struct Data {
    datasets::CtrData logs;
    std::vector<int> train_rows, test_rows;
};

inline Data make_data(const Options& o) {
    datasets::CtrOptions opts;
    opts.n = o.rows;
    opts.seed = o.seed;
    Data d{datasets::synthetic_ctr(opts), {}, {}};
    for (int r = 0; r < o.rows; ++r) (r < o.rows * 4 / 5 ? d.train_rows : d.test_rows).push_back(r);
    return d;
}

// The model, the training loop, and the metrics of model and oracle on train and test rows.
inline Results run(const Options& o, const Data& d) {
    const auto start = std::chrono::steady_clock::now();
    const datasets::CtrData& data = d.logs;
    const std::vector<int>& train_rows = d.train_rows;
    const std::vector<int>& test_rows = d.test_rows;
    Results rep;

    Rng rng(o.seed);                   // initialisation first, then every epoch's shuffle
    CtrModel model(data, o.dim, o.hidden, rng);
    Adam opt(model.parameters(), AdamOptions{o.lr});

    // The training loop, written out: batch, forward, loss, backward, step, log.
    const int steps = static_cast<int>((train_rows.size() + static_cast<size_t>(o.batch) - 1) / o.batch);
    Progress progress(o.epochs, steps, o.progress ? Progress::Mode::automatic : Progress::Mode::quiet);
    long step = 0;
    double window = 0.0;               // loss summed over the steps since the last curve point
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& batch : make_batches(train_rows, o.batch, rng)) {
            Tensor y({static_cast<int>(batch.size())});
            for (size_t i = 0; i < batch.size(); ++i) y[i] = data.labels[static_cast<size_t>(batch[i])];
            Var loss = bce_with_logits(model(data, batch), y);
            opt.zero_grad();
            backward(loss);
            opt.step();
            check_finite(loss.item(), step++);
            progress.step(loss.item(), static_cast<int>(batch.size()));
            window += loss.item();
            if (step % o.log_every == 0) {          // one point of the loss curve
                rep.curve_step.push_back(step);
                rep.curve_loss.push_back(window / o.log_every);
                window = 0.0;
            }
        }
        progress.end_epoch();
        rep.epoch_loss.push_back(progress.epoch_loss());
    }

    rep.train = evaluate(model, data, train_rows);
    rep.test = evaluate(model, data, test_rows);
    // The reference a model must beat to have learned anything: the training click rate for every row.
    double rate = 0.0;
    for (int r : train_rows) rate += data.labels[static_cast<size_t>(r)];
    rate /= static_cast<double>(train_rows.size());
    rep.constant_logloss = logloss(std::vector<float>(test_rows.size(), static_cast<float>(rate)), pick(data.labels, test_rows));
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

inline Results run(const Options& o) { return run(o, make_data(o)); }

}  // namespace demo
}  // namespace minirec
