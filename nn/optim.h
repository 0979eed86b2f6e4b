// Optimizers with PyTorch's update rules (checked against PyTorch in tests/golden/), global-norm
// gradient clipping and learning-rate schedules. Each optimizer owns its list of parameters, so
// several optimizers over disjoint groups (generator and discriminator) share one training loop.
// Deliberately left out: parameter groups inside one optimizer, AMSGrad, sparse updates.
#pragma once
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"

namespace minirec {

// The common part: the parameters, the learning rate, per-parameter step counts and state.
// The learning rate lives here and only here: the options structs below carry it into the
// constructor, which copies it to `lr` and keeps the other options in private members, so there
// is no second copy that a schedule could set to no effect.
// step() reads each parameter's grad() and changes its value in place; a parameter that has
// received no gradient since zero_grad() is skipped (as PyTorch skips grad == None), and its
// step count does not advance.
class Optimizer {
public:
    Optimizer(std::vector<Var> params, double lr, const char* name);
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    void step();                  // one update of every parameter that has a gradient
    void zero_grad();             // forget the gradients of this optimizer's parameters
    const std::vector<Var>& parameters() const { return params_; }

    // Everything step() remembers between calls, as named tensors, for checkpoints:
    // "<i>.step" (one float: steps taken by parameter i, exact up to 2^24) and, per optimizer,
    // "<i>.momentum_buffer" (SGD), "<i>.sum" (Adagrad), "<i>.exp_avg" / "<i>.exp_avg_sq" (Adam).
    std::vector<std::pair<std::string, Tensor*>> state();

    // Hyper-parameters are doubles, as PyTorch's Python floats are: scalars such as 1 - beta1
    // are formed in double and rounded to float once, as PyTorch does, so the goldens match.
    double lr;                    // the one learning rate; change it between steps for a schedule

protected:
    // Updates parameter i (value p, gradient g) at its step number t (1 for the first update).
    virtual void update(size_t i, Tensor& p, const Tensor& g, long t) = 0;
    // Adds one state tensor of each parameter's shape, zero-filled, named "<i>.<what>".
    std::vector<Tensor>& add_state(const std::string& what);

    std::vector<Var> params_;
    const char* name_;

private:
    std::vector<Tensor> steps_;                                   // one float per parameter
    std::deque<std::pair<std::string, std::vector<Tensor>>> state_;  // deque: stable addresses
};

// p -= lr * v with g' = g + wd p;  v = g' on the first step, then v = momentum v + (1 - dampening) g';
// with nesterov, the step uses g' + momentum v instead of v.
struct SgdOptions {
    double lr = 0.01;
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};
class SGD : public Optimizer {
public:
    SGD(std::vector<Var> params, const SgdOptions& opt);  // opt.lr becomes lr
protected:
    void update(size_t i, Tensor& p, const Tensor& g, long t) override;
private:
    double momentum_, dampening_, weight_decay_;
    bool nesterov_;
    std::vector<Tensor>* buf_;
};

// s += g'^2;  p -= lr_t g' / (sqrt(s) + eps),  lr_t = lr / (1 + (t - 1) lr_decay),  g' = g + wd p.
struct AdagradOptions {
    double lr = 0.01;
    double lr_decay = 0.0;
    double weight_decay = 0.0;
    double initial_accumulator_value = 0.0;
    double eps = 1e-10;
};
class Adagrad : public Optimizer {
public:
    Adagrad(std::vector<Var> params, const AdagradOptions& opt);  // opt.lr becomes lr
protected:
    void update(size_t i, Tensor& p, const Tensor& g, long t) override;
private:
    double lr_decay_, weight_decay_, eps_;
    std::vector<Tensor>* sum_;
};

// Adam (Kingma & Ba 2015), with bias correction:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Adam adds weight decay to the gradient (g = g + wd p, an L2 penalty); AdamW (Loshchilov &
// Hutter 2019) decays the weights directly first, p *= 1 - lr wd, and leaves g alone.
struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;    // Adam: 0 by default; for AdamW pass e.g. 0.01 (PyTorch's default)
};
class Adam : public Optimizer {
public:
    Adam(std::vector<Var> params, const AdamOptions& opt);  // opt.lr becomes lr
    // The common case: a learning rate, every other option at its default.
    Adam(std::vector<Var> params, double lr) : Adam(std::move(params), AdamOptions{lr}) {}
protected:
    Adam(std::vector<Var> params, const AdamOptions& opt, bool decoupled, const char* name);
    void update(size_t i, Tensor& p, const Tensor& g, long t) override;
private:
    double beta1_, beta2_, eps_, weight_decay_;
    bool decoupled_;
    std::vector<Tensor>* m_;
    std::vector<Tensor>* v_;
};
class AdamW : public Adam {
public:
    AdamW(std::vector<Var> params, const AdamOptions& opt);
};

// Scales the gradients of `params` together so that their global L2 norm is at most max_norm:
// g *= max_norm / (norm + 1e-6) when norm > max_norm (PyTorch's clip_grad_norm_). Returns the
// norm before clipping; a NaN or Inf norm throws (clipping cannot repair it).
float clip_grad_norm(const std::vector<Var>& params, float max_norm);
// The global L2 norm of the gradients (parameters without a gradient count as zero).
float grad_norm(const std::vector<Var>& params);

// Learning rate as a function of the step (0 for the first update). Set optimizer.lr = s.at(step)
// before each optimizer.step().
//   constant:      base
//   linear warm-up: base * min(1, (step + 1) / warmup)
//   cosine:        warm-up as above, then min_lr + (base - min_lr) (1 + cos(pi p)) / 2 with
//                  p = (step - warmup) / (total - warmup) clamped to [0, 1]
struct LrSchedule {
    enum class Kind { constant, linear_warmup, cosine };
    Kind kind = Kind::constant;
    double base = 1e-3;
    long warmup = 0;
    long total = 0;
    double min_lr = 0.0;

    double at(long step) const;
    static LrSchedule constant(double base);
    static LrSchedule linear_warmup(double base, long warmup);
    static LrSchedule cosine(double base, long total, long warmup = 0, double min_lr = 0.0);
};

}  // namespace minirec
