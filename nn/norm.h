// Normalisation layers: LayerNorm (per example, over the last axis) and BatchNorm (per feature,
// over the batch, with running statistics for evaluation).
// Deliberately left out: group/instance norm, RMSNorm, synchronised statistics.
#pragma once
#include <string>

#include "core/ops.h"
#include "nn/params.h"

namespace minirec {

// LayerNorm (Ba et al. 2016), over the last axis D of a (..., D) input:
//     y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta
// mean and (biased) var are taken per row; gamma starts at 1, beta at 0.
struct LayerNorm {
    Var gamma;  // (D)
    Var beta;   // (D)
    float eps = 1e-5f;

    LayerNorm() = default;
    explicit LayerNorm(int dim, float eps = 1e-5f);

    Var operator()(const Var& x) const;  // (..., D) -> (..., D)
    // LayerNorm(x + residual), the residual add of a post-norm block, in the same op.
    Var operator()(const Var& x, const Var& residual) const;

    NamedParams named_parameters(const std::string& prefix = "") const;
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// BatchNorm (Ioffe & Szegedy 2015), per feature over every leading axis of a (..., D) input
// (for (B, D) that is the batch; for (B, T, D) the batch and the time steps).
//   training:  mu, var = the batch's mean and biased variance, per feature
//              y = (x - mu) / sqrt(var + eps) * gamma + beta
//              running_mean <- (1 - momentum) running_mean + momentum mu
//              running_var  <- (1 - momentum) running_var  + momentum var * n / (n - 1)
//   eval:      the same y with running_mean and running_var in place of mu and var
// The running variance is the unbiased one (as PyTorch). The running statistics are buffers:
// saved by checkpoints through buffers(), never touched by an optimizer.
// Mode: the member `training` (true after construction); set it to false for evaluation.
struct BatchNorm {
    Var gamma;              // (D), starts at 1
    Var beta;               // (D), starts at 0
    Tensor running_mean;    // (D), starts at 0
    Tensor running_var;     // (D), starts at 1
    float momentum = 0.1f;
    float eps = 1e-5f;
    bool training = true;

    BatchNorm() = default;
    explicit BatchNorm(int dim, float momentum = 0.1f, float eps = 1e-5f);

    // (..., D) -> (..., D). Non-const: in training it updates the running statistics.
    Var operator()(const Var& x);

    NamedParams named_parameters(const std::string& prefix = "") const;
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
    NamedBuffers buffers(const std::string& prefix = "");  // running_mean, running_var
};

}  // namespace minirec
