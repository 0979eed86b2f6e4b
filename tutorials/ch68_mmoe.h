// Chapter 68's experiment as a function: the MMoE paper's task-correlation study on its synthetic
// data. For each task correlation rho and each model we train several runs on a fresh stream and
// collect test-loss curves, final losses and the gates. Printing and pictures live in ch68_mmoe.cpp;
// deliberately left out: the paper's real-data experiments (census income, the Google system).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/mmoe_synthetic.h"
#include "models/ch68_mmoe.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch68 {

struct StudyOptions {
    std::vector<double> rhos = {0.5, 0.9, 1.0};  // task correlations, the paper's three
    int runs = 20;              // runs per (rho, model); the paper uses 200
    int steps = 2000;           // Adam steps per run, each on a fresh batch
    int batch = 64;
    double lr = 3e-3;
    int input = 16;             // d; the paper uses 100 (--paper)
    int eval_every = 100;       // steps between test-loss points
    int test_rows = 1000;       // a fixed test set per run, drawn from the run's stream
    int pearson_rows = 10000;   // samples per draw for the label-correlation table
    double stall_ratio = 0.25;  // a run "stalls" when its final loss is above this share of the
                                // loss of predicting each label's mean (it learned almost nothing)
    uint64_t seed = 42;         // the master seed; run r of every model shares data seed (seed, r)
    bool shared_bottom = true;  // false skips it (the test asserts nothing about it)
    bool verbose = true;        // one progress line per (rho, model) on stderr
};

const char* const kModels[] = {"Shared-Bottom", "OMoE", "MMoE"};
constexpr int kNumModels = 3;

// One (rho, model) cell of the study: everything we measured over its runs.
struct Cell {
    std::vector<std::vector<double>> curves;  // [run][eval]: mean per-task test MSE
    std::vector<double> final_loss;           // [run]: the last point of each curve
    std::vector<double> baseline;             // [run]: test MSE of predicting each label's mean
    std::vector<double> gate_tv;              // [run]: mean over test rows of TV(g^1(x), g^2(x))
    std::vector<std::vector<double>> mean_gate;  // run 0's gates: [gate][expert], mean over test rows
    long parameters = 0;
    double seconds = 0.0;

    double quantile_loss(double q) const { return quantile(final_loss, q); }
    int stalled(double ratio) const {
        int n = 0;
        for (size_t r = 0; r < final_loss.size(); ++r) n += final_loss[r] > ratio * baseline[r];
        return n;
    }
};

struct StudyReport {
    std::vector<double> pearson_rhos, pearson;  // the label correlation as rho varies (figure 2)
    std::vector<int> eval_steps;                // the x axis of every curve
    std::vector<std::vector<Cell>> cells;       // [rho][model]
};

// Data seed of run r at correlation index i: the three models of one run see the same stream
// (same w1, w2, same batches), so their comparison is paired; model seeds differ per model.
inline uint64_t run_seed(uint64_t master, int i, int r, int salt) {
    return splitmix64(master ^ splitmix64(1000003ull * (uint64_t(i) + 1) + 7919ull * uint64_t(r) + uint64_t(salt)));
}

// What we measure on the test set: the mean per-task MSE (1/K) sum_k mean_b (y_k(x_b) - y_bk)^2,
// and, for models with gates, how far apart the two tasks' gates are and what each looks like.
struct Evaluation {
    double loss = 0.0;
    double gate_tv = 0.0;                        // mean over rows of TV(g^1(x), g^2(x)); 0 with < 2 gates
    std::vector<std::vector<double>> mean_gate;  // [gate][expert]: each gate averaged over the rows
};

template <class Model>
Evaluation evaluate(Model& model, const datasets::MMoEData& test) {
    NoGrad no_grad;
    const MultiTaskOutput out = model.forward(constant(test.x));
    Evaluation ev;
    ev.loss = mse_loss(concat(out.y, 1), test.y).item();   // (B, K) vs (B, K): mean over rows and tasks
    const int n = test.x.dim(0);
    if (out.gates.size() == 2) {                           // TV(p, q) = 1/2 sum_i |p_i - q_i|, in [0, 1]
        const Tensor &g1 = out.gates[0].value(), &g2 = out.gates[1].value();  // (B, E) each
        double s = 0.0;
        for (size_t i = 0; i < g1.size(); ++i) s += std::fabs(g1[i] - g2[i]);
        ev.gate_tv = 0.5 * s / n;
    }
    for (const Var& g : out.gates) {                       // (B, E) -> (E)
        const int e = g.dim(1);
        std::vector<double> m(size_t(e), 0.0);
        for (int b = 0; b < n; ++b)
            for (int i = 0; i < e; ++i) m[size_t(i)] += g.value()[size_t(b) * e + i] / n;
        ev.mean_gate.push_back(m);
    }
    return ev;
}

// The MSE of the constant predictor y_k = mean(y_k): the loss of a model that learned nothing.
inline double mean_predictor_loss(const Tensor& y) {
    const int n = y.dim(0), k = y.dim(1);
    double total = 0.0;
    for (int t = 0; t < k; ++t) {
        double mean = 0.0, var = 0.0;
        for (int b = 0; b < n; ++b) mean += y[size_t(b) * k + t] / n;
        for (int b = 0; b < n; ++b) var += (y[size_t(b) * k + t] - mean) * (y[size_t(b) * k + t] - mean) / n;
        total += var;
    }
    return total / k;
}

// We evaluate every eval_every steps and after the last one.
inline bool is_eval_step(const StudyOptions& o, int step) { return step % o.eval_every == 0 || step == o.steps; }

// One run: a fresh stream at correlation rho, a fresh model, `steps` Adam steps on fresh batches.
template <class Model>
void train_run(const StudyOptions& o, double rho, uint64_t data_seed, uint64_t model_seed, Cell& cell) {
    datasets::MMoEOptions data;
    data.rho = rho;
    data.input_dim = o.input;
    data.seed = data_seed;
    datasets::MMoEStream stream(data);
    const datasets::MMoEData test = stream.next(o.test_rows);   // held out: drawn before training

    MultiTaskOptions mo;
    mo.input = o.input;
    Rng init(model_seed);
    Model model(mo, init);
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), o.lr);

    std::vector<double> curve;
    for (int step = 1; step <= o.steps; ++step) {
        const datasets::MMoEData batch = stream.next(o.batch);  // x (B, d), y (B, 2)
        const MultiTaskOutput out = model.forward(constant(batch.x));
        const Var pred = concat(out.y, 1);                      // (B, K): column k is task k
        const Var loss = mse_loss(pred, batch.y) * float(out.y.size());  // L = sum_k MSE_k
        adam.zero_grad();
        backward(loss);
        adam.step();
        if (is_eval_step(o, step)) {                            // every eval_every steps, and the last
            check_finite(loss.item(), step);
            curve.push_back(evaluate(model, test).loss);
        }
    }
    const Evaluation last = evaluate(model, test);
    cell.curves.push_back(curve);
    cell.final_loss.push_back(last.loss);
    cell.baseline.push_back(mean_predictor_loss(test.y));
    cell.gate_tv.push_back(last.gate_tv);
    if (cell.mean_gate.empty()) cell.mean_gate = last.mean_gate;
    cell.parameters = count_parameters(params);
}

// Figure 2 of the paper: the Pearson correlation of the two labels for weight cosines rho
// (averaged over a few draws of w1, w2, on `rows` samples each).
inline double label_pearson(double rho, int input, uint64_t seed, int draws, int rows) {
    double sum = 0.0;
    for (int s = 0; s < draws; ++s) {
        datasets::MMoEOptions data;
        data.rho = rho;
        data.input_dim = input;
        data.seed = splitmix64(seed + uint64_t(s));
        sum += datasets::MMoEStream(data).next(rows).label_pearson;
    }
    return sum / draws;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    for (double rho : {0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9, 1.0}) {
        rep.pearson_rhos.push_back(rho);
        rep.pearson.push_back(label_pearson(rho, o.input, o.seed, 5, o.pearson_rows));
    }
    for (int step = 1; step <= o.steps; ++step)
        if (is_eval_step(o, step)) rep.eval_steps.push_back(step);
    rep.cells.assign(o.rhos.size(), std::vector<Cell>(kNumModels));
    for (size_t i = 0; i < o.rhos.size(); ++i) {
        for (int m = o.shared_bottom ? 0 : 1; m < kNumModels; ++m) {
            Cell& cell = rep.cells[i][size_t(m)];
            const auto start = std::chrono::steady_clock::now();
            for (int r = 0; r < o.runs; ++r) {
                const uint64_t data_seed = run_seed(o.seed, int(i), r, 0);
                const uint64_t model_seed = run_seed(o.seed, int(i), r, 1 + m);
                if (m == 0) train_run<SharedBottom>(o, o.rhos[i], data_seed, model_seed, cell);
                if (m == 1) train_run<OMoE>(o, o.rhos[i], data_seed, model_seed, cell);
                if (m == 2) train_run<MMoE>(o, o.rhos[i], data_seed, model_seed, cell);
            }
            cell.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (o.verbose)
                std::fprintf(stderr, "rho %.2f  %-13s  %d runs  median loss %.4f  %.1f s\n", o.rhos[i],
                             kModels[m], o.runs, cell.quantile_loss(0.5), cell.seconds);
        }
    }
    return rep;
}

}  // namespace ch68
}  // namespace minirec
