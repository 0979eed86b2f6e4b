// Chapter 68's experiment as functions: the MMoE paper's task-correlation study on its synthetic
// data. Every world (fresh w1, w2, fresh batches, fresh initialisations) trains Shared-Bottom, OMoE
// and MMoE at each task correlation rho; the claims are paired differences over worlds. Printing
// lives in ch68_mmoe.cpp; left out: the paper's real-data experiments (census income, Google).
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
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch68 {

struct Options {
    std::vector<double> rhos = {0.5, 0.9, 1.0};  // the paper's three; the first is "low", the last
                                                 // (identical tasks) is the control world
    int worlds = 12;            // independent worlds per rho; the paper uses 200 runs
    int restarts = 2;           // initialisations per world and model: their spread is trainability
    int steps = 2000;           // Adam steps per run, each on a fresh batch
    int batch = 64;
    double lr = 3e-3;
    MultiTaskOptions model;     // d = 16 (the paper: 100, --paper), E = 8 experts of 16 units, towers of 8
    double alpha_scale = 0.2;   // alpha_i = alpha_scale * i: the sines' frequencies (see the book)
    int eval_every = 100;       // steps between test-loss points
    int test_rows = 1000;       // a fixed test set per world, drawn before training
    int pearson_rows = 10000;   // samples per draw for the label-correlation table
    double margin = 0.05;       // practical margin on a log loss ratio: at least ~5% lower loss
    double spread_margin = 0.0025;   // on a spread or a degradation (MSE): 5% of a typical loss
    uint64_t seed = 42;         // master seed; world w's data seed is replicate_seed(seed, w)
    bool verbose = true;        // one progress line per (rho, model) on stderr
};

// Small enough for seconds: too short for verdicts (main() marks it).
inline Options quick_options() {
    Options o;
    o.rhos = {0.5, 1.0};
    o.worlds = 5;
    o.steps = 1000;
    o.test_rows = 500;
    o.pearson_rows = 2000;
    return o;
}

const char* const kModels[] = {"Shared-Bottom", "OMoE", "MMoE"};
const double kPearsonRhos[] = {0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9, 1.0};   // Figure 2's x axis
constexpr int kNumModels = 3, kSB = 0, kOMoE = 1, kMMoE = 2;

// One (rho, model) cell: everything measured over its worlds, indexed by world.
struct Cell {
    std::vector<std::vector<double>> curves;  // [world * restarts][eval]: mean per-task test MSE
    std::vector<double> final_loss;           // [world]: final test loss, mean over the restarts
    std::vector<double> spread;               // [world]: max - min final loss over the restarts
    std::vector<double> baseline;             // [world]: test MSE of predicting each label's mean
    std::vector<double> gate_tv;              // [world]: mean over test rows of TV(g^1(x), g^2(x))
    std::vector<std::vector<double>> mean_gate;  // world 0's gates: [gate][expert], mean over rows
    long parameters = 0;
};

struct Results {
    std::vector<double> pearson;                // the label correlation at each of kPearsonRhos (Figure 2)
    std::vector<int> eval_steps;                // the x axis of every curve
    std::vector<std::vector<Cell>> cells;       // [rho][model]
};

inline bool is_eval_step(const Options& o, int step) { return step % o.eval_every == 0 || step == o.steps; }

// One run: the world's stream at correlation rho, a fresh model, `steps` Adam steps on fresh batches.
// Returns the final test loss.
template <class Model>
double train_run(const Options& o, double rho, uint64_t data_seed, uint64_t model_seed, Cell& cell) {
    datasets::MMoEStream stream(datasets::mmoe_world(rho, o.model.input, o.alpha_scale, data_seed));
    const datasets::MMoEData test = stream.next(o.test_rows);   // held out: drawn before training
    Rng init(model_seed);
    Model model(o.model, init);
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), o.lr);
    std::vector<double> curve;
    for (int step = 1; step <= o.steps; ++step) {
        const datasets::MMoEData batch = stream.next(o.batch);  // x (B, d), y (B, 2)
        const MultiTaskOutput out = model.forward(constant(batch.x));
        const Var loss = mse_loss(concat(out.y, 1), batch.y) * float(out.y.size());  // L = sum_k MSE_k
        adam.zero_grad();
        backward(loss);
        adam.step();
        if (is_eval_step(o, step)) {
            check_finite(loss.item(), step);
            curve.push_back(evaluate(model, test.x, test.y).loss);
        }
    }
    const Evaluation last = evaluate(model, test.x, test.y);
    cell.curves.push_back(curve);
    if (cell.baseline.size() == cell.final_loss.size()) {   // the world's first restart
        cell.baseline.push_back(mean_predictor_loss(test.y));
        cell.gate_tv.push_back(last.gate_tv);
    }
    if (cell.mean_gate.empty()) cell.mean_gate = last.mean_gate;
    cell.parameters = count_parameters(params);
    return last.loss;
}

// Figure 2 of the paper: the Pearson correlation of the two labels for weight cosines rho
// (averaged over 5 draws of w1, w2).
inline double label_pearson(const Options& o, double rho) {
    double sum = 0.0;
    for (int s = 0; s < 5; ++s)
        sum += datasets::MMoEStream(datasets::mmoe_world(rho, o.model.input, o.alpha_scale, replicate_seed(o.seed ^ 0x5eedull, s)))
                   .next(o.pearson_rows).label_pearson;
    return sum / 5;
}

// World w is the same at every rho (same u1, u2, batches and initialisations), so differences
// between rhos are paired too; only the angle between w1 and w2 changes.
inline Results run_experiment(const Options& o) {
    Results rep;
    for (double rho : kPearsonRhos) rep.pearson.push_back(label_pearson(o, rho));
    for (int step = 1; step <= o.steps; ++step)
        if (is_eval_step(o, step)) rep.eval_steps.push_back(step);
    rep.cells.assign(o.rhos.size(), std::vector<Cell>(kNumModels));
    for (size_t i = 0; i < o.rhos.size(); ++i)
        for (int m = 0; m < kNumModels; ++m) {
            const auto start = std::chrono::steady_clock::now();
            Cell& cell = rep.cells[i][size_t(m)];
            for (int w = 0; w < o.worlds; ++w) {
                const uint64_t data_seed = replicate_seed(o.seed, w);
                std::vector<double> f;
                for (int k = 0; k < o.restarts; ++k) {
                    const uint64_t model_seed = replicate_seed(data_seed, 1 + m + 16 * k);
                    if (m == kSB) f.push_back(train_run<SharedBottom>(o, o.rhos[i], data_seed, model_seed, cell));
                    if (m == kOMoE) f.push_back(train_run<OMoE>(o, o.rhos[i], data_seed, model_seed, cell));
                    if (m == kMMoE) f.push_back(train_run<MMoE>(o, o.rhos[i], data_seed, model_seed, cell));
                }
                cell.final_loss.push_back(mean_over(f, [](double x) { return x; }));
                cell.spread.push_back(*std::max_element(f.begin(), f.end()) - *std::min_element(f.begin(), f.end()));
            }
            if (o.verbose)
                std::fprintf(stderr, "rho %.2f  %-13s  %d worlds  median loss %.4f  %.1f s\n", o.rhos[i], kModels[m],
                             o.worlds, quantile(cell.final_loss, 0.5),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
    return rep;
}

// The claims at the lowest rho (main) and at rho = 1, identical tasks (control), each a per-world
// paired difference oriented so that > 0 is the paper's direction.
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    const size_t lo = 0, hi = o.rhos.size() - 1;
    auto per_world = [&](auto f) {
        std::vector<double> d;
        for (int w = 0; w < o.worlds; ++w) d.push_back(f(size_t(w)));
        return d;
    };
    auto loss = [&](size_t i, int m, size_t w) { return r.cells[i][size_t(m)].final_loss[w]; };
    // ln(L_comparator / L_method): the losses span a factor of ten across worlds, so a gain is relative
    auto ratio = [&](size_t i, int worse, int better) {
        return per_world([&](size_t w) { return std::log(loss(i, worse, w) / loss(i, better, w)); });
    };
    auto spread = [&](size_t i, int m, size_t w) { return r.cells[i][size_t(m)].spread[w]; };
    const std::string low = "rho " + num("%.1f", o.rhos[lo]);
    for (size_t i : {lo, hi}) {
        const std::string world = i == lo ? "main" : "control";
        const bool m = i == lo;
        c.add({"MMoE's test loss below Shared-Bottom's (log ratio)", world,
               m ? "Fig. 4: ~0.08 vs ~0.26 at 0.5 [P-fig]" : "Fig. 4: ~0.07 vs ~0.20 at 1.0 [P-fig]", ratio(i, kSB, kMMoE), o.margin, 3});
        c.add({"MMoE's test loss below OMoE's (log ratio)", world,
               m ? "Fig. 4: ~0.08 vs ~0.15 [P-fig]" : "MMoE ~ OMoE with identical tasks [P]", ratio(i, kOMoE, kMMoE), o.margin, 3});
        c.add({"OMoE's test loss below Shared-Bottom's (log ratio)", world,
               m ? "Fig. 4: ~0.15 vs ~0.26 [P-fig]" : "Fig. 4: ~0.08 vs ~0.20 [P-fig]", ratio(i, kSB, kOMoE), o.margin, 3});
        c.add({"MMoE trains more reliably than Shared-Bottom (spread over restarts)", world,
               m ? "Fig. 5: SB bimodal, ~1/3 of runs at ~0.45 at 0.5 [P-fig]" : "SB's variance larger at every correlation [P]",
               per_world([&](size_t w) { return spread(i, kSB, w) - spread(i, kMMoE, w); }), o.spread_margin});
        c.add({"MMoE trains more reliably than OMoE (spread over restarts)", world,
               m ? "OMoE loses robustness at 0.5 [P]" : "OMoE as robust as MMoE at 1 [P]",
               per_world([&](size_t w) { return spread(i, kOMoE, w) - spread(i, kMMoE, w); }), o.spread_margin});
    }
    c.add({"OMoE degrades more than MMoE from rho 1 to " + low, "main",
           "Fig. 4: OMoE ~+0.07, MMoE ~+0.01 [P-fig]", per_world([&](size_t w) {
               return (loss(lo, kOMoE, w) - loss(hi, kOMoE, w)) - (loss(lo, kMMoE, w) - loss(hi, kMMoE, w));
           }), o.spread_margin});
    c.add({"MMoE's two gates further apart (TV) at " + low + " than at 1", "main", "not measured (Fig. 6 is on real data)",
           per_world([&](size_t w) { return r.cells[lo][kMMoE].gate_tv[w] - r.cells[hi][kMMoE].gate_tv[w]; }), 0.02, 3});
    double worst = 0;   // cannot fail unless training diverged: a sanity check, not a claim
    for (const auto& row : r.cells)
        for (const Cell& cell : row)
            for (size_t w = 0; w < cell.final_loss.size(); ++w) worst = std::max(worst, cell.final_loss[w] / cell.baseline[w]);
    c.add_sanity("every run's loss below the mean predictor's (worst ratio)", worst < 1.0, num("%.3f", worst));
    c.add_sanity("label correlation at rho 1 is 1 (identical w, tiny noise)", r.pearson.back() > 0.99,
                 num("%.3f", r.pearson.back()));
    return c;
}

}  // namespace ch68
}  // namespace minirec
