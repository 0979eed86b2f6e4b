// The plain versions of the fused ops in core/ops.h, composed of the basic differentiable ops:
// what each fast path computes, written to be read (attention head by head as the formula).
// Autograd differentiates them, so they need no backward of their own. The tests hold each fast
// op to its reference on values and gradients (tests/test_ops_fused.cpp); the book shows these
// first. Deliberately left out: speed. They make every intermediate tensor the fast ops avoid.
#pragma once
#include <vector>

#include "core/ops.h"

namespace minirec {
namespace reference {

// y = x W + b: x (..., in), W (in, out), b (out) or null -> (..., out).
Var linear(const Var& x, const Var& W, const Var* b = nullptr);
// [x W_1 + b_1 | ... | x W_m + b_m] on the last axis (biases empty or one per weight).
Var linear_cat(const Var& x, const std::vector<Var>& weights, const std::vector<Var>& biases);
// GELU(x W1 + b1) W2 + b2.
Var gelu_ffn(const Var& x, const Var& W1, const Var* b1, const Var& W2, const Var* b2);
// Q (B, Tq, H d), K and V (B, Tk, H d), keep and drop as attention() in ops.h -> (B, Tq, H d):
// for each head h,  A_h = softmax(Q_h K_h^T / sqrt(d), keep),  C_h = (A_h * drop) V_h.
// weights, when not null, receives A (B, H, Tq, Tk).
Var attention(const Var& Q, const Var& K, const Var& V, int heads, const Tensor& keep, const Tensor& drop,
              Var* weights = nullptr);
// -sum(log_softmax(scale * logits - shift) * one_hot(targets), 1): (B, C) -> (B); a row whose
// target is ignore_index has no one-hot, so loss 0.
Var softmax_cross_entropy_rows(const Var& logits, const Ids& targets, int ignore_index, float scale = 1.0f,
                               const Tensor* shift = nullptr);
// softmax_cross_entropy_rows(h W^T + b, targets): the output layer, then its loss.
Var linear_softmax_cross_entropy_rows(const Var& h, const Var& W, const Var& b, const Ids& targets,
                                      int ignore_index);
// sum_i w_bi x_bi: w (B, E), x (B, E, h) -> (B, h).
Var weighted_sum(const Var& w, const Var& x);
// Adam's step, one parameter at a time (see adam_update in ops.h).
void adam_update(Tensor& p, Tensor& m, Tensor& v, const Tensor& g, const AdamStep& s);

}  // namespace reference
}  // namespace minirec
