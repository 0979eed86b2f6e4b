// The three multi-task models of Ma et al. (KDD 2018), "Modeling Task Relationships in Multi-task
// Learning with Multi-gate Mixture-of-Experts": Shared-Bottom, OMoE (one gate) and MMoE (one gate
// per task), plain structs whose forward follows the paper's equations, and one training run of the
// paper's synthetic study (train_run). Deliberately left out: gate noise or sparsity, expert dropout,
// multi-layer experts, classification heads.
//
// Sizes as in the paper's synthetic experiment, for input size d:
//   experts:  E = 8 single-layer ReLU networks of h = 16 units,  f_i(x) = relu(x W_i + b_i)
//   towers:   one per task, a ReLU layer of t = 8 units, then a linear output,  h^k
//   gates:    g^k(x) = softmax(W_gk x) with W_gk (E, d), no bias (eq. 8); we store W_gk^T, (d, E)
// The paper matches the weights of experts and towers, d h E + h t K (13,056 for d = 100), and gives
// Shared-Bottom one bottom layer of that many weights divided by d + t K: 113 units for d = 100,
// 72 for d = 16. Counting every weight and bias (count_parameters), d = 16 gives Shared-Bottom
// 2,410, OMoE 2,594 and MMoE 2,722; d = 100 gives 13,255, 14,018 and 14,818.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "datasets/mmoe_synthetic.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch68 {

struct MultiTaskOptions {
    int input = 16;           // d
    int tasks = 2;            // K
    int experts = 8;          // E (OMoE, MMoE)
    int expert_hidden = 16;   // h, the size of each expert's output
    int tower_hidden = 8;     // t
    int bottom_hidden = 0;    // Shared-Bottom's layer; 0 = matched to the experts' budget (below)
};

// The paper's matching rule: Shared-Bottom's bottom gets as many weights in its bottom layer and
// towers as the experts and towers of the MoE models, d h E + h t K = b (d + t K), rounded.
inline int matched_bottom_hidden(const MultiTaskOptions& o) {
    const double weights = double(o.input) * o.expert_hidden * o.experts +
                           double(o.expert_hidden) * o.tower_hidden * o.tasks;
    return static_cast<int>(weights / (o.input + o.tower_hidden * o.tasks) + 0.5);
}

// A task's tower h^k: (B, in) -> (B, 1), a ReLU layer and a linear output.
inline MLP make_tower(int in, const MultiTaskOptions& o, Rng& rng) {
    MLPOptions tower;
    tower.sizes = {in, o.tower_hidden, 1};
    return MLP(tower, rng);
}

// What every model returns: one (B, 1) prediction per task, and the gates it used (none for
// Shared-Bottom, one (B, E) gate for OMoE, one per task for MMoE) so the tutorial can draw them.
struct MultiTaskOutput {
    std::vector<Var> y;
    std::vector<Var> gates;
};

// How many numbers a model trains (weights and biases); the report prints it.
inline long count_parameters(const NamedParams& params) {
    long n = 0;
    for (const auto& p : params) n += static_cast<long>(p.second.size());
    return n;
}

// ---- Shared-Bottom (eq. 1):  y_k = h^k(f(x)) ---------------------------------------------------
struct SharedBottom {
    Linear bottom;              // f: (d) -> (b), ReLU
    std::vector<MLP> towers;    // h^k, one per task

    SharedBottom(const MultiTaskOptions& o, Rng& rng) {
        const int b = o.bottom_hidden > 0 ? o.bottom_hidden : matched_bottom_hidden(o);
        bottom = Linear(o.input, b, rng, true, Init::kaiming_uniform);
        for (int k = 0; k < o.tasks; ++k) towers.push_back(make_tower(b, o, rng));
    }

    // x (B, d) -> one (B, 1) prediction per task.
    MultiTaskOutput forward(const Var& x) {
        Var f = relu(bottom(x));                                  // f(x): (B, b), shared by all tasks
        MultiTaskOutput out;
        for (MLP& tower : towers) out.y.push_back(tower(f));      // eq. 1: y_k = h^k(f(x))
        return out;
    }

    NamedParams named_parameters() const {
        NamedParams p = bottom.named_parameters("bottom.");
        for (size_t k = 0; k < towers.size(); ++k)
            append(p, towers[k].named_parameters("tower" + std::to_string(k) + "."));
        return p;
    }
};

// ---- The experts, shared by OMoE and MMoE --------------------------------------------------------
// E single-layer networks f_i(x) = relu(x W_i + b_i). We store W_1 .. W_E side by side as one
// (d, E h) matrix, so one matmul computes every expert; each W_i is still initialised from its own
// fan-in d (Kaiming), exactly as E separate layers would be.
struct Experts {
    Linear layer;                // (d) -> (E h)
    int experts = 0, hidden = 0;

    Experts() = default;
    Experts(const MultiTaskOptions& o, Rng& rng)
        : layer(o.input, o.experts * o.expert_hidden, rng, true, Init::kaiming_uniform),
          experts(o.experts), hidden(o.expert_hidden) {}

    // x (B, d) -> f (B, E, h): row i of f[b] is expert i's output f_i(x_b).
    Var operator()(const Var& x) const {
        return reshape(relu(layer(x)), {x.dim(0), experts, hidden});
    }
};

// A softmax gate over the experts, eq. 8: g(x) = softmax(x W_g), x (B, d) -> g (B, E), rows sum to 1.
// We start W_g at zero, so every gate begins uniform (1/E each) and all of MMoE's gates begin equal:
// whatever difference between the tasks' gates we measure later, training put it there. (The paper
// does not say how it initialised W_g; random gates begin far apart and blur that measurement.)
struct Gate {
    Linear linear;               // W_g (d, E), no bias as in the paper

    Gate() = default;
    Gate(const MultiTaskOptions& o, Rng& rng) : linear(o.input, o.experts, rng, false) {
        linear.weight.value_mut().fill(0.0f);
    }
    Var operator()(const Var& x) const { return softmax(linear(x)); }
};

// The mixture of eq. 5 and eq. 7: sum_i g(x)_i f_i(x).  g (B, E), f (B, E, h) -> (B, h).
// core's weighted_sum is one node with the same bits as sum(unsqueeze(g, 2) * f, 1), the formula
// written with broadcasting (reference::weighted_sum), which makes three (B, E, h) tensors.
inline Var mix_experts(const Var& g, const Var& f) {
    return weighted_sum(g, f);
}

// ---- OMoE (eq. 5 inside eq. 1): one gate shared by every task -----------------------------------
//   f(x) = sum_i g(x)_i f_i(x),  y_k = h^k(f(x))
struct OMoE {
    Experts experts;
    Gate gate;
    std::vector<MLP> towers;

    OMoE(const MultiTaskOptions& o, Rng& rng) : experts(o, rng), gate(o, rng) {
        for (int k = 0; k < o.tasks; ++k) towers.push_back(make_tower(o.expert_hidden, o, rng));
    }

    MultiTaskOutput forward(const Var& x) {
        Var f_i = experts(x);                                     // (B, E, h)
        Var g = gate(x);                                          // eq. 8 with a single gate: (B, E)
        Var f = mix_experts(g, f_i);                              // eq. 5: (B, h), the same for all tasks
        MultiTaskOutput out{{}, {g}};
        for (MLP& tower : towers) out.y.push_back(tower(f));      // eq. 1: y_k = h^k(f(x))
        return out;
    }

    NamedParams named_parameters() const {
        NamedParams p = experts.layer.named_parameters("experts.");
        append(p, gate.linear.named_parameters("gate."));
        for (size_t k = 0; k < towers.size(); ++k)
            append(p, towers[k].named_parameters("tower" + std::to_string(k) + "."));
        return p;
    }
};

// ---- MMoE (eqs. 6-8): one gate per task over the same experts -----------------------------------
//   g^k(x) = softmax(x W_gk),  f^k(x) = sum_i g^k(x)_i f_i(x),  y_k = h^k(f^k(x))
struct MMoE {
    Experts experts;
    std::vector<Gate> gates;    // g^k, one per task
    std::vector<MLP> towers;    // h^k

    MMoE(const MultiTaskOptions& o, Rng& rng) : experts(o, rng) {
        for (int k = 0; k < o.tasks; ++k) gates.emplace_back(o, rng);
        for (int k = 0; k < o.tasks; ++k) towers.push_back(make_tower(o.expert_hidden, o, rng));
    }

    MultiTaskOutput forward(const Var& x) {
        Var f_i = experts(x);                                     // (B, E, h), computed once for all tasks
        MultiTaskOutput out;
        for (size_t k = 0; k < towers.size(); ++k) {
            Var g_k = gates[k](x);                                // eq. 8: g^k(x), (B, E)
            Var f_k = mix_experts(g_k, f_i);                      // eq. 7: f^k(x), (B, h)
            out.y.push_back(towers[k](f_k));                      // eq. 6: y_k = h^k(f^k(x))
            out.gates.push_back(g_k);
        }
        return out;
    }

    NamedParams named_parameters() const {
        NamedParams p = experts.layer.named_parameters("experts.");
        for (size_t k = 0; k < gates.size(); ++k)
            append(p, gates[k].linear.named_parameters("gate" + std::to_string(k) + "."));
        for (size_t k = 0; k < towers.size(); ++k)
            append(p, towers[k].named_parameters("tower" + std::to_string(k) + "."));
        return p;
    }
};

// ---- Measurements (chapter 68's experiment and its test) ----------------------------------------
// What we measure on the test set: the mean per-task MSE (1/K) sum_k mean_b (y_k(x_b) - y_bk)^2,
// and, for models with gates, how far apart the two tasks' gates are and what each looks like.
struct Evaluation {
    double loss = 0.0, gate_tv = 0.0;            // TV(p, q) = 1/2 sum_i |p_i - q_i|; 0 with < 2 gates
    std::vector<std::vector<double>> mean_gate;  // [gate][expert]: each gate averaged over the rows
};

template <class Model>
Evaluation evaluate(Model& model, const Tensor& x, const Tensor& y) {   // x (B, d), y (B, K)
    NoGrad no_grad;
    const MultiTaskOutput out = model.forward(constant(x));
    Evaluation ev;
    ev.loss = mse_loss(concat(out.y, 1), y).item();        // (B, K) vs (B, K): mean over rows and tasks
    const int n = x.dim(0);
    if (out.gates.size() == 2) {
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

// The paper's Figure 2: the Pearson correlation of the two labels at weight cosine rho, averaged
// over 5 draws of w1, w2 (seeded from `seed`, apart from the worlds) of `rows` samples each.
inline double label_pearson(double rho, int input, double alpha_scale, int rows, uint64_t seed) {
    double sum = 0.0;
    for (int s = 0; s < 5; ++s)
        sum += datasets::MMoEStream(datasets::mmoe_world(rho, input, alpha_scale, replicate_seed(seed ^ 0x5eedull, s)))
                   .next(rows).label_pearson;
    return sum / 5;
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

// ---- One run of the paper's synthetic study (chapter 68's experiment) ---------------------------
// The loss the paper trains on, L = sum_k MSE_k: the mean over the (B, K) errors, times K.
inline Var multi_task_loss(const MultiTaskOutput& out, const Tensor& y) {   // y (B, K)
    return mse_loss(concat(out.y, 1), y) * float(out.y.size());
}

struct RunOptions {
    int steps = 2000;           // Adam steps, each on a fresh batch of the stream
    int batch = 64;
    double lr = 3e-3;
    int eval_every = 100;       // steps between test-loss points (and the last step)
    int test_rows = 1000;       // the test set, drawn from the stream before training
    bool is_eval_step(int step) const { return step % eval_every == 0 || step == steps; }
};

struct Run {
    std::vector<int> steps;     // the evaluation steps
    std::vector<double> curve;  // the test loss at each of them
    Evaluation last;            // the trained model on the test set
    double baseline = 0.0;      // the test loss of predicting each label's mean (mean_predictor_loss)
    long parameters = 0;
};

// One run: the world's stream, a fresh model from model_seed, ro.steps Adam steps on fresh batches.
template <class Model>
Run train_run(const MultiTaskOptions& mo, const RunOptions& ro, const datasets::MMoEOptions& world, uint64_t model_seed) {
    datasets::MMoEStream stream(world);
    const datasets::MMoEData test = stream.next(ro.test_rows);   // held out: drawn before training
    Rng init(model_seed);
    Model model(mo, init);
    const NamedParams params = model.named_parameters();
    Adam adam(vars_of(params), ro.lr);
    Run run;
    for (int step = 1; step <= ro.steps; ++step) {
        const datasets::MMoEData batch = stream.next(ro.batch);  // x (B, d), y (B, K)
        const Var loss = multi_task_loss(model.forward(constant(batch.x)), batch.y);
        adam.zero_grad();
        backward(loss);
        adam.step();
        if (ro.is_eval_step(step)) {
            check_finite(loss.item(), step);
            run.steps.push_back(step);
            run.curve.push_back(evaluate(model, test.x, test.y).loss);
        }
    }
    run.last = evaluate(model, test.x, test.y);
    run.baseline = mean_predictor_loss(test.y);
    run.parameters = count_parameters(params);
    return run;
}

}  // namespace ch68
}  // namespace minirec
