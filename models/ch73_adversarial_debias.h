// The adversarial de-biasing network of Moore et al. (Microsoft, arXiv 1804.06909): four small
// networks. A Base net turns the features X into a representation Z_A; a Prediction net reads the
// click logit Z_Y from it; a Bypass net turns the bias b = P(click | position) into a logit Z_BY
// added to Z_Y; a Bias net (the adversary) tries to recover b from Z_A. The adversary is trained to
// predict b; everything else is trained on clicks plus a penalty on how well the adversary does,
// so Z_A keeps no (linear) trace of the position. Deliberately left out: the paper's real features
// and sizes, positions other than a slot index, any serving-time use of the adversary.
//
//   Z_A = Base(X),  Z_Y = Pred(Z_A),  Z_BY = Bypass(b),  Z_B = Bias(Z_A)
//   adversary step (Theta_B only):        L_B = mean (Z_B - b)^2
//   predictor step (Theta_A, Theta_Y, Theta_BY, Theta_B fixed):
//       L_Y = logloss(y, sigmoid(Z_Y + Z_BY)) + lambda Cov(Z_B, b)^2
//   the two steps alternate, one mini-batch each.
//   serving: Bypass at position 1's b, a constant offset, so items are ranked by Z_Y alone.
// With lambda = 0 the same network is "position as a feature" (through the bypass), and without
// the bypass it is the naive model that ignores position: the chapter's two baselines.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "datasets/ch73_feedback_log.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch73 {

struct AdversarialOptions {
    int features = 9;          // F, the dense features X
    int hidden = 16;           // the Base and Bias nets' hidden width
    int representation = 8;    // R, the size of Z_A
    bool bypass = true;        // false: the naive model (no position anywhere)
};

struct AdversarialNet {
    AdversarialOptions options;
    MLP base;                  // X (B, F) -> Z_A (B, R), ReLU at both layers
    Linear pred;               // Z_A (B, R) -> Z_Y (B, 1)
    Linear bypass;             // b (B, 1) -> Z_BY (B, 1)
    MLP bias;                  // Z_A (B, R) -> Z_B (B, 1), the adversary

    AdversarialNet(const AdversarialOptions& o, Rng& rng)
        : options(o),
          base(MLPOptions{{o.features, o.hidden, o.representation}, Activation::relu, 0.0f, false, true}, rng),
          pred(o.representation, 1, rng),
          bypass(1, 1, rng),
          bias(MLPOptions{{o.representation, o.hidden, 1}}, rng) {}

    Var representation(const Var& x) { return base(x); }                     // Z_A (B, R)
    Var prediction_logit(const Var& z_a) const { return pred(z_a); }          // Z_Y (B, 1)
    Var bypass_logit(const Var& b) const { return bypass(b); }                // Z_BY (B, 1)
    Var bias_prediction(const Var& z_a) { return bias(z_a); }                 // Z_B (B, 1)
    // The click logit the log is fitted with: Z_Y + Z_BY (Z_Y alone without the bypass).
    Var click_logit(const Var& z_a, const Var& b) const {
        return options.bypass ? prediction_logit(z_a) + bypass_logit(b) : prediction_logit(z_a);
    }
    // Serving: Z_Y of every row of x (n, F) -> (n); the bypass at a fixed b would add one constant to all.
    std::vector<float> serving_scores(const Tensor& x) {
        NoGrad no_grad;
        return prediction_logit(representation(constant(x))).value().vec();
    }
    // The click logit of logged events x (n, F), b (n, 1) -> (n), as the log was fitted (Z_Y + Z_BY).
    std::vector<float> logged_logits(const Tensor& x, const Tensor& b) {
        NoGrad no_grad;
        return click_logit(representation(constant(x)), constant(b)).value().vec();
    }

    // The predictor's parameters (Theta_A, Theta_Y, Theta_BY) and the adversary's (Theta_B):
    // two disjoint groups, one optimizer each.
    NamedParams predictor_parameters() const {
        NamedParams p = base.named_parameters("base.");
        append(p, pred.named_parameters("pred."));
        if (options.bypass) append(p, bypass.named_parameters("bypass."));
        return p;
    }
    NamedParams adversary_parameters() const { return bias.named_parameters("bias."); }
};

// Cov(Z_B, b) over the mini-batch: mean((Z_B - mean Z_B)(b - mean b)). z_b, b (B, 1) -> scalar.
inline Var batch_covariance(const Var& z_b, const Tensor& b) {
    const Var bv = constant(b);
    return mean((z_b - mean(z_b)) * (bv - mean(bv)));
}

// L_B: the adversary's squared error in predicting b from Z_A.
inline Var adversary_loss(const Var& z_b, const Tensor& b) { return mse_loss(z_b, b); }

// L_Y: the click log-loss plus lambda times the squared covariance of the adversary's guess with b.
inline Var predictor_loss(const Var& click_logit, const Tensor& y, const Var& z_b, const Tensor& b, double lambda) {
    const Var loss = bce_with_logits(click_logit, y);
    if (lambda == 0.0) return loss;
    const Var c = batch_covariance(z_b, b);
    return loss + c * c * float(lambda);
}

// How much of b a fresh adversary can read from a frozen representation: train a new Bias-net-
// shaped probe on the training events' Z_A, report R^2 = 1 - MSE / Var(b) on the test events.
inline double probe_r2(AdversarialNet& net, const World& w, bool history, int epochs, int batch, Rng& rng) {
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
    for (int epoch = 0; epoch < epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), batch, rng)) {
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

// ---- The chapter's models: one network in several settings, each with its own two optimizers -------
// naive (no bypass), plain on the content features only (the historical CTR is no input), position
// as a feature (the bypass, lambda = 0), and the adversarial network at each lambda > 0.
struct ModelSpec {
    bool bypass = true, history = true;   // history: the historical-CTR feature is an input
    double lambda = 0.0;
    std::string name() const {
        if (!history) return "plain, content features only";
        if (!bypass) return "naive (position ignored)";
        char adversarial[48];
        std::snprintf(adversarial, sizeof adversarial, "adversarial, lambda %g", lambda);
        return lambda == 0.0 ? "position as feature (bypass)" : adversarial;
    }
};
enum { kNaive = 0, kContent = 1, kBypass = 2, kAdversarial = 3 };   // kAdversarial: the first lambda
inline std::vector<ModelSpec> model_specs(const std::vector<double>& lambdas) {
    for (double l : lambdas)
        if (!(l > 0.0)) throw std::invalid_argument("ch73: adversarial lambdas must be > 0 (0 is the bypass baseline)");
    std::vector<ModelSpec> m = {{false, true, 0.0}, {false, false, 0.0}, {true, true, 0.0}};
    for (double l : lambdas) m.push_back({true, true, l});
    return m;
}

// One model as the chapter trains it: the network in its setting, and one Adam per parameter group
// (predictor_parameters, adversary_parameters), so that each of the two steps moves only its own.
struct Learner {
    ModelSpec spec;
    AdversarialNet net;
    std::unique_ptr<Adam> predictor_opt, adversary_opt;

    Learner(const ModelSpec& s, int features, double lr, Rng& rng)
        : spec(s), net(AdversarialOptions{.features = features, .bypass = s.bypass}, rng),
          predictor_opt(std::make_unique<Adam>(vars_of(net.predictor_parameters()), lr)),
          adversary_opt(std::make_unique<Adam>(vars_of(net.adversary_parameters()), lr)) {}
    // Its inputs: X, or X without the historical-CTR column (the plain model).
    Tensor inputs(const Tensor& x) const { return spec.history ? x : without_history(x); }
};

}  // namespace ch73
}  // namespace minirec
