// LayerNorm and BatchNorm, composed from the differentiable ops of core/ops.h (the calculus of
// their backward passes lives there). Deliberately left out: fused batch-norm kernels.
#include "nn/norm.h"

#include <cmath>

namespace minirec {

// ---- LayerNorm ------------------------------------------------------------------------------

LayerNorm::LayerNorm(int dim, float eps_)
    : gamma(parameter(Tensor::ones({dim}))), beta(parameter(Tensor::zeros({dim}))), eps(eps_) {
    if (dim <= 0) arg_fail("LayerNorm", "dim must be positive, got " + std::to_string(dim));
}

Var LayerNorm::operator()(const Var& x) const {
    if (x.rank() < 1 || x.dim(-1) != gamma.dim(0))
        shape_fail("LayerNorm", x.shape(), gamma.shape(), "last axis must equal the layer's dim");
    return layer_norm(x, gamma, beta, eps);  // the op normalises over the last axis
}

Var LayerNorm::operator()(const Var& x, const Var& residual) const {
    if (x.rank() < 1 || x.dim(-1) != gamma.dim(0))
        shape_fail("LayerNorm", x.shape(), gamma.shape(), "last axis must equal the layer's dim");
    return add_layer_norm(x, residual, gamma, beta, eps);  // checks that residual has x's shape
}

NamedParams LayerNorm::named_parameters(const std::string& prefix) const {
    return {{prefix + "gamma", gamma}, {prefix + "beta", beta}};
}

// ---- BatchNorm ------------------------------------------------------------------------------

BatchNorm::BatchNorm(int dim, float momentum_, float eps_)
    : gamma(parameter(Tensor::ones({dim}))),
      beta(parameter(Tensor::zeros({dim}))),
      running_mean(Tensor::zeros({dim})),
      running_var(Tensor::ones({dim})),
      momentum(momentum_),
      eps(eps_) {
    if (dim <= 0) arg_fail("BatchNorm", "dim must be positive, got " + std::to_string(dim));
    if (!(momentum_ >= 0.0f && momentum_ <= 1.0f))
        arg_fail("BatchNorm", "momentum must be in [0, 1], got " + std::to_string(momentum_));
}

Var BatchNorm::operator()(const Var& x) {
    const int D = gamma.dim(0);
    if (x.rank() < 2 || x.dim(-1) != D)
        shape_fail("BatchNorm", x.shape(), gamma.shape(),
                   "expects (..., D) with at least one leading axis and D equal to the layer's dim");
    const Shape shape = x.shape();
    // We normalise every feature over all leading axes, so we flatten them into one.
    Var x2 = x.rank() == 2 ? x : reshape(x, {-1, D});  // (N, D)
    const int n = x2.dim(0);

    Var y;
    if (training) {
        Var mu = mean(x2, 0, /*keepdim=*/true);         // (1, D)
        Var xc = x2 - mu;                               // (N, D)
        Var var = mean(xc * xc, 0, /*keepdim=*/true);   // (1, D), biased
        y = xc / sqrt(var + eps);                       // (N, D)
        // Running statistics are plain tensors: no graph, no gradient.
        const float unbias = n > 1 ? static_cast<float>(n) / static_cast<float>(n - 1) : 1.0f;
        const Tensor mu_v = mu.value().reshape({D});
        const Tensor var_v = var.value().reshape({D});
        for (int j = 0; j < D; ++j) {
            running_mean[j] = (1.0f - momentum) * running_mean[j] + momentum * mu_v[j];
            running_var[j] = (1.0f - momentum) * running_var[j] + momentum * var_v[j] * unbias;
        }
    } else {
        // Eval: an affine map per feature with the running statistics as constants.
        Tensor inv_std({D});
        for (int j = 0; j < D; ++j) inv_std[j] = 1.0f / std::sqrt(running_var[j] + eps);
        y = (x2 - constant(running_mean)) * constant(inv_std);  // (N, D)
    }
    y = y * gamma + beta;  // gamma, beta (D) broadcast over the rows
    return x.rank() == 2 ? y : reshape(y, shape);
}

NamedParams BatchNorm::named_parameters(const std::string& prefix) const {
    return {{prefix + "gamma", gamma}, {prefix + "beta", beta}};
}

NamedBuffers BatchNorm::buffers(const std::string& prefix) {
    return {{prefix + "running_mean", &running_mean}, {prefix + "running_var", &running_var}};
}

}  // namespace minirec
