// The update rules, one function per optimizer, in the order PyTorch applies them (torch/optim/
// sgd.py, adagrad.py, adam.py, adamw.py, single-tensor path). Element arithmetic is float; each
// scalar (1 - beta1, lr / (1 - beta1^t), ...) is formed in double and rounded to float once.
#include "nn/optim.h"

#include <cmath>
#include <unordered_set>

#include "core/ops.h"

namespace minirec {

// ---- Optimizer --------------------------------------------------------------------------------
Optimizer::Optimizer(std::vector<Var> params, double lr_, const char* name)
    : lr(lr_), params_(std::move(params)), name_(name) {
    std::unordered_set<const Node*> seen;
    for (size_t i = 0; i < params_.size(); ++i) {
        const Var& p = params_[i];
        if (!p.requires_grad())
            arg_fail(name, "parameter " + std::to_string(i) + " " + shape_str(p.shape()) +
                           " does not require grad (make it with parameter())");
        if (!seen.insert(p.node()).second)
            arg_fail(name, "parameter " + std::to_string(i) + " appears twice in the list");
        steps_.push_back(Tensor::scalar(0.0f));
    }
    if (!(lr >= 0.0)) arg_fail(name, "learning rate must be >= 0, got " + std::to_string(lr));
}

std::vector<Tensor>& Optimizer::add_state(const std::string& what) {
    std::vector<Tensor> ts;
    for (const Var& p : params_) ts.emplace_back(p.shape(), 0.0f);
    state_.emplace_back(what, std::move(ts));
    return state_.back().second;
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::state() {
    std::vector<std::pair<std::string, Tensor*>> out;
    for (size_t i = 0; i < params_.size(); ++i) {
        const std::string prefix = std::to_string(i) + ".";
        out.emplace_back(prefix + "step", &steps_[i]);
        for (auto& [what, ts] : state_) out.emplace_back(prefix + what, &ts[i]);
    }
    return out;
}

void Optimizer::step() {
    for (size_t i = 0; i < params_.size(); ++i) {
        Var& p = params_[i];
        if (!p.has_grad()) continue;  // no gradient since zero_grad(): PyTorch's grad is None
        const long t = static_cast<long>(steps_[i][0]) + 1;
        steps_[i][0] = static_cast<float>(t);
        update(i, p.value_mut(), p.grad(), t);
    }
}

void Optimizer::zero_grad() {
    for (Var& p : params_) p.zero_grad();
}

// ---- SGD --------------------------------------------------------------------------------------
SGD::SGD(std::vector<Var> params, const SgdOptions& o)
    : Optimizer(std::move(params), o.lr, "SGD"), momentum_(o.momentum), dampening_(o.dampening),
      weight_decay_(o.weight_decay), nesterov_(o.nesterov) {
    if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0))
        arg_fail("SGD", "nesterov needs momentum > 0 and dampening 0 (as PyTorch)");
    buf_ = &add_state("momentum_buffer");
}

void SGD::update(size_t i, Tensor& p, const Tensor& g, long t) {
    const size_t n = p.size();
    const float wd = static_cast<float>(weight_decay_);
    const float mom = static_cast<float>(momentum_);
    const float keep = static_cast<float>(1.0 - dampening_);
    const float neg_lr = static_cast<float>(-lr);
    float* pv = p.data();
    float* buf = (*buf_)[i].data();
    for (size_t k = 0; k < n; ++k) {
        float d = g[k];
        if (weight_decay_ != 0.0) d = d + wd * pv[k];                 // g' = g + wd p
        if (momentum_ != 0.0) {
            buf[k] = t == 1 ? d : buf[k] * mom + keep * d;           // v = m v + (1 - dampening) g'
            d = nesterov_ ? d + mom * buf[k] : buf[k];
        }
        pv[k] = pv[k] + neg_lr * d;                                   // p -= lr d
    }
}

// ---- Adagrad ----------------------------------------------------------------------------------
Adagrad::Adagrad(std::vector<Var> params, const AdagradOptions& o)
    : Optimizer(std::move(params), o.lr, "Adagrad"), lr_decay_(o.lr_decay), weight_decay_(o.weight_decay),
      eps_(o.eps) {
    sum_ = &add_state("sum");
    for (Tensor& s : *sum_) s.fill(static_cast<float>(o.initial_accumulator_value));
}

void Adagrad::update(size_t i, Tensor& p, const Tensor& g, long t) {
    const size_t n = p.size();
    const float wd = static_cast<float>(weight_decay_);
    const float eps = static_cast<float>(eps_);
    const float neg_clr = static_cast<float>(-lr / (1.0 + static_cast<double>(t - 1) * lr_decay_));
    float* pv = p.data();
    float* s = (*sum_)[i].data();
    for (size_t k = 0; k < n; ++k) {
        float d = g[k];
        if (weight_decay_ != 0.0) d = d + wd * pv[k];
        s[k] = s[k] + d * d;                                          // s += g'^2
        const float std_ = std::sqrt(s[k]) + eps;
        pv[k] = pv[k] + neg_clr * d / std_;                           // p -= clr g' / (sqrt(s) + eps)
    }
}

// ---- Adam and AdamW ---------------------------------------------------------------------------
Adam::Adam(std::vector<Var> params, const AdamOptions& o) : Adam(std::move(params), o, false, "Adam") {}
AdamW::AdamW(std::vector<Var> params, const AdamOptions& o) : Adam(std::move(params), o, true, "AdamW") {}

Adam::Adam(std::vector<Var> params, const AdamOptions& o, bool decoupled, const char* name)
    : Optimizer(std::move(params), o.lr, name), beta1_(o.beta1), beta2_(o.beta2), eps_(o.eps),
      weight_decay_(o.weight_decay), decoupled_(decoupled) {
    if (!(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0))
        arg_fail(name, "betas must be in [0, 1), got " + std::to_string(o.beta1) + ", " + std::to_string(o.beta2));
    m_ = &add_state("exp_avg");
    v_ = &add_state("exp_avg_sq");
}

void Adam::update(size_t i, Tensor& p, const Tensor& g, long t) {
    const size_t n = p.size();
    const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
    const float one_minus_b1 = static_cast<float>(1.0 - beta1_);
    const float one_minus_b2 = static_cast<float>(1.0 - beta2_);
    const float wd = static_cast<float>(weight_decay_);
    const float decay = static_cast<float>(1.0 - lr * weight_decay_);  // AdamW's p *= 1 - lr wd
    // Bias correction: m and v start at 0, so early averages are too small by 1 - beta^t.
    const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(t));
    const float neg_step = static_cast<float>(-lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    const float eps = static_cast<float>(eps_);
    float* pv = p.data();
    float* m = (*m_)[i].data();
    float* v = (*v_)[i].data();
    // Without an L2 term in the gradient, the update is core's adam_update, the loop below
    // without the weight decay (8 or 16 parameters at a time). AdamW's decay of p comes first.
    if (weight_decay_ == 0.0 || decoupled_) {
        if (weight_decay_ != 0.0) p *= decay;
        adam_update(p, (*m_)[i], (*v_)[i], g, {b1, one_minus_b1, b2, one_minus_b2, neg_step, bc2_sqrt, eps});
        return;
    }
    for (size_t k = 0; k < n; ++k) {
        float d = g[k];
        if (weight_decay_ != 0.0) {
            if (decoupled_) pv[k] = pv[k] * decay;                    // AdamW: decay the weight
            else d = d + wd * pv[k];                                  // Adam: L2 in the gradient
        }
        m[k] = m[k] * b1 + one_minus_b1 * d;                          // m = b1 m + (1 - b1) g
        v[k] = v[k] * b2 + one_minus_b2 * (d * d);                    // v = b2 v + (1 - b2) g^2
        const float denom = std::sqrt(v[k]) / bc2_sqrt + eps;         // sqrt(v_hat) + eps
        pv[k] = pv[k] + neg_step * m[k] / denom;                      // p -= lr m_hat / denom
    }
}

// ---- Clipping ---------------------------------------------------------------------------------
float grad_norm(const std::vector<Var>& params) {
    double ss = 0.0;
    for (const Var& p : params) {
        if (!p.has_grad()) continue;
        const Tensor& g = p.grad();
        for (size_t k = 0; k < g.size(); ++k) ss += static_cast<double>(g[k]) * g[k];
    }
    return static_cast<float>(std::sqrt(ss));
}

float clip_grad_norm(const std::vector<Var>& params, float max_norm) {
    if (!(max_norm > 0.0f)) arg_fail("clip_grad_norm", "max_norm must be positive, got " + std::to_string(max_norm));
    const float norm = grad_norm(params);
    if (!std::isfinite(norm))
        throw std::runtime_error("clip_grad_norm: the gradient norm is " + std::to_string(norm) +
                                 " (a NaN or Inf gradient; clipping cannot repair it)");
    const double coef = static_cast<double>(max_norm) / (static_cast<double>(norm) + 1e-6);
    if (coef < 1.0) {
        const float c = static_cast<float>(coef);
        for (const Var& p : params)
            if (p.has_grad()) p.node()->grad *= c;
    }
    return norm;
}

// ---- Schedules --------------------------------------------------------------------------------
LrSchedule LrSchedule::constant(double base) { return {Kind::constant, base, 0, 0, 0.0}; }
LrSchedule LrSchedule::linear_warmup(double base, long warmup) { return {Kind::linear_warmup, base, warmup, 0, 0.0}; }
LrSchedule LrSchedule::cosine(double base, long total, long warmup, double min_lr) {
    if (total <= warmup) arg_fail("LrSchedule::cosine", "total steps must exceed the warm-up steps");
    return {Kind::cosine, base, warmup, total, min_lr};
}

double LrSchedule::at(long step) const {
    if (kind == Kind::constant) return base;
    if (warmup > 0 && step < warmup) return base * static_cast<double>(step + 1) / static_cast<double>(warmup);
    if (kind == Kind::linear_warmup) return base;
    double p = static_cast<double>(step - warmup) / static_cast<double>(total - warmup);
    p = p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
    const double pi = 3.14159265358979323846;
    return min_lr + (base - min_lr) * 0.5 * (1.0 + std::cos(pi * p));
}

}  // namespace minirec
