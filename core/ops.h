// The differentiable ops: the table of contents of what a model can compute.
// Each op is one free function; its forward and backward sit side by side in one of
//   ops_elementwise.cpp  arithmetic with broadcasting, unary maths and activations
//   ops_reduce.cpp       sums, means, maxima, softmax, log-softmax, layer-norm, l2-normalize
//   ops_shape.cpp        matmul, reshape, transpose, permute, concat, split, slice, gather
//   ops_fused.cpp        the fast paths: linear, the feed-forward block, the cross-entropy losses
//   ops_attention.cpp    the fast path of multi-head attention
// A fast path is one node with a hand-written backward; each has a plain version composed of
// the basic ops, in core/ops_reference.h, which is the one to read first (the tests in
// tests/test_ops_fused.cpp hold the two together on values and gradients).
// Shapes use the dimension letters of the book: B batch, F fields, D embedding size, T sequence
// length, H heads, N items. Every op checks its shapes and throws naming itself and the shapes.
// Deliberately left out: in-place ops, views, ops on integer tensors.
#pragma once
#include <vector>

#include "core/autograd.h"

namespace minirec {

// ---- Arithmetic with numpy broadcasting (scalar, row, column, leading batch, ...) ------------
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var neg(const Var& x);
Var add(const Var& a, float s);
Var mul(const Var& a, float s);
Var operator+(const Var& a, const Var& b);
Var operator-(const Var& a, const Var& b);
Var operator*(const Var& a, const Var& b);
Var operator/(const Var& a, const Var& b);
Var operator-(const Var& x);
Var operator+(const Var& a, float s);
Var operator-(const Var& a, float s);
Var operator*(const Var& a, float s);
Var operator/(const Var& a, float s);
Var operator+(float s, const Var& a);
Var operator-(float s, const Var& a);
Var operator*(float s, const Var& a);

// ---- Unary maths and activations (elementwise, any shape) ----------------------------------
Var exp(const Var& x);
Var log(const Var& x);
Var sqrt(const Var& x);
Var pow(const Var& x, float p);
Var abs(const Var& x);                        // d|x|/dx = sign(x), 0 at 0
Var clamp(const Var& x, float lo, float hi);  // gradient passes only strictly inside (lo, hi)
Var relu(const Var& x);
Var leaky_relu(const Var& x, float slope = 0.01f);
Var sigmoid(const Var& x);
Var tanh(const Var& x);
Var gelu(const Var& x);                       // x * Phi(x), the erf form (BERT)
Var softplus(const Var& x);                   // log(1 + e^x), stable for large |x|
Var log_sigmoid(const Var& x);                // log(sigmoid(x)) = -softplus(-x), stable

// where mask == 0, the result is `value` (and no gradient flows); mask broadcasts to x.
Var masked_fill(const Var& x, const Tensor& mask, float value);
// Inverted dropout: in training, zero each element with probability p and scale the rest by
// 1/(1-p); the identity when !training or p == 0. Draws from rng, so runs are reproducible.
Var dropout(const Var& x, float p, bool training, Rng& rng);

// ---- Reductions ---------------------------------------------------------------------------
Var sum(const Var& x);                                    // all elements -> scalar
Var mean(const Var& x);
Var sum(const Var& x, int axis, bool keepdim = false);
Var mean(const Var& x, int axis, bool keepdim = false);
Var max(const Var& x, int axis, bool keepdim = false);    // gradient to the (first) argmax
Var max(const Var& x);
Var logsumexp(const Var& x, int axis, bool keepdim = false);  // stable: m + log sum e^(x-m)

// ---- Normalisations over the last axis ------------------------------------------------------
// mask (optional, 1 = keep, 0 = masked out) broadcasts to x. Masked entries get probability 0;
// a row with every entry masked gets all zeros (and no NaN). log_softmax writes 0, not -inf, at
// masked entries (so -sum(target * log_softmax) stays finite); they receive no gradient.
Var softmax(const Var& x, const Tensor* mask = nullptr);
Var log_softmax(const Var& x, const Tensor* mask = nullptr);
// (x - mean) / sqrt(var + eps) * gamma + beta; gamma and beta have shape {D} (last axis).
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps = 1e-5f);
Var layer_norm(const Var& x, float eps = 1e-5f);          // without affine parameters
// layer_norm(x + r, gamma, beta), r of x's shape: a post-norm block's residual add and norm as one
// op (one pass over x and r, no tensor of the sum; the backward gives x and r the same gradient).
Var add_layer_norm(const Var& x, const Var& r, const Var& gamma, const Var& beta, float eps = 1e-5f);
// x / max(||x||_2, eps) along the last axis.
Var l2_normalize(const Var& x, float eps = 1e-12f);

// ---- Linear algebra -------------------------------------------------------------------------
// 2-D: (M,K) x (K,N) -> (M,N). Batched: (B,M,K) x (B,K,N) -> (B,M,N), also with two leading
// axes, (B,H,M,K) x (B,H,K,N) -> (B,H,M,N) for attention heads; a 2-D right operand is shared
// across the batch: (B,M,K) x (K,N) -> (B,M,N). trans_a / trans_b transpose the last
// two axes of that operand first (so matmul(q, k, false, true) is q k^T).
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);

// ---- Shapes ---------------------------------------------------------------------------------
Var reshape(const Var& x, Shape shape);                   // one dim may be -1
Var transpose(const Var& x);                              // swap the last two axes
Var permute(const Var& x, std::vector<int> dims);         // any axis order (rank 2-4)
Var concat(const std::vector<Var>& xs, int axis);
std::vector<Var> split(const Var& x, const std::vector<int>& sizes, int axis);
Var slice(const Var& x, int axis, int start, int end);    // [start, end) along axis
Var unsqueeze(const Var& x, int axis);                    // insert a size-1 axis
Var squeeze(const Var& x, int axis);                      // remove a size-1 axis
Var broadcast_to(const Var& x, const Shape& shape);

// ---- Lookups (embeddings) ------------------------------------------------------------------
// table (N,D), ids (n) -> (n,D): row ids[i] of table. Backward scatter-adds into the rows.
// Every id must be in [0, N) (ArgumentError otherwise).
Var gather_rows(const Var& table, const Ids& ids);
// Multi-hot fields: segment s owns ids[offsets[s] .. offsets[s+1]) (offsets has S+1 entries,
// starting at 0 and ending at ids.size()). Result (S,D): the sum (or mean) of those rows of
// table, optionally weighted by per_id_weights (same length as ids). An empty segment gives 0.
Var segment_sum(const Var& table, const Ids& ids, const std::vector<int>& offsets,
                const std::vector<float>* per_id_weights = nullptr);
Var segment_mean(const Var& table, const Ids& ids, const std::vector<int>& offsets,
                 const std::vector<float>* per_id_weights = nullptr);

// ---- Fused ops: the fast paths (reference:: in core/ops_reference.h is the plain version) ---
// An optional bias is a pointer: nullptr means the layer has none.

// y = x W + b, x (..., in), W (in, out), b (out) -> y (..., out), as one node: one GEMM that adds
// b as it writes y; the backward is dx = gy W^T, dW = x^T gy, db = the column sums of gy.
// reference::linear is matmul(x, W) + b.
Var linear(const Var& x, const Var& W, const Var* b = nullptr);
// Several linear maps of the same x side by side, [x W_1 + b_1 | ... | x W_m + b_m]
// (..., out_1 + ... + out_m), as ONE GEMM with W = [W_1 | ... | W_m]. Each W_i keeps its own
// gradient. biases is empty (no biases) or has one per weight. reference::linear_cat is the
// concatenation of the m linears.
Var linear_cat(const Var& x, const std::vector<Var>& weights, const std::vector<Var>& biases);

// The position-wise feed-forward block of a transformer, f = GELU(x W1 + b1) W2 + b2,
// x (..., D), W1 (D, F), W2 (F, Dout) -> (..., Dout), through the rows in blocks that stay in L2.
// reference::gelu_ffn is linear(gelu(linear(x, W1, b1)), W2, b2).
Var gelu_ffn(const Var& x, const Var& W1, const Var* b1, const Var& W2, const Var* b2);

// Q, K or V of every head, read in place from a packed projection src (B, T, width): head h is
// the columns [col + h d, col + (h + 1) d). A projection of its own is {y, 0}; Q, K and V made by
// one linear_cat (B, T, 3 H d) are {qkv, 0}, {qkv, H d} and {qkv, 2 H d}.
struct HeadsView {
    Var src;
    int col = 0;
};
// Multi-head scaled dot-product attention, for each head h (d = head_dim):
//     A_h = softmax(Q_h K_h^T / sqrt(d), masked by keep);   C_h = (A_h * drop) V_h
// -> C (B, Tq, H d), the heads side by side. keep (B, 1, Tq, Tk) is 1 (attend) / 0 or empty
// (nothing masked); a query row with nothing kept gets all-zero weights. drop (B, H, Tq, Tk)
// holds dropout factors (0 or 1/(1-p)) or is empty. weights, when not null, receives a copy of
// A (B, H, Tq, Tk), outside the graph. reference::attention is the formula, head by head.
Var attention(const HeadsView& q, const HeadsView& k, const HeadsView& v, int heads, int head_dim,
              const Tensor& keep, const Tensor& drop, Var* weights = nullptr);

// l_b = -log softmax(c_b)[t_b] for each row of c = scale * logits - shift (logits (B, C), shift
// (C) or null), 0 for a row whose target is ignore_index (or whose logits are all -inf).
// -> (B). reference::softmax_cross_entropy_rows is -sum(log_softmax(c) * one_hot, 1).
Var softmax_cross_entropy_rows(const Var& logits, const Ids& targets, int ignore_index,
                               float scale = 1.0f, const Tensor* shift = nullptr);
// The output layer and its loss as one op: softmax_cross_entropy_rows(h W^T + b, targets),
// h (B, D), W (C, D), b (C) -> (B), without a (B, C) tensor of logits in the graph.
Var linear_softmax_cross_entropy_rows(const Var& h, const Var& W, const Var& b, const Ids& targets,
                                      int ignore_index);

// A mixture of E vectors per row: y_b = sum_i w_bi x_bi, w (B, E), x (B, E, h) -> (B, h), as one
// node (MMoE's eqs. 5 and 7: the gate's weights on the experts' outputs). The backward is
// dw_bi = gy_b . x_bi and dx_bi = w_bi gy_b. reference::weighted_sum is sum(unsqueeze(w, 2) * x, 1),
// which makes three (B, E, h) tensors on the way; this op makes none and gives the same bits.
Var weighted_sum(const Var& w, const Var& x);

// ---- Parameter updates (in place, outside the graph: the optimizers' inner loops) ----------
// One Adam step of every element (Kingma & Ba 2015), float arithmetic in this order:
//     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p += neg_step m / (sqrt(v) / bc2_sqrt + eps)
// with neg_step = -lr / (1 - beta1^t) and bc2_sqrt = sqrt(1 - beta2^t) formed by the caller.
// reference::adam_update is this loop written out.
struct AdamStep {
    float b1, one_minus_b1, b2, one_minus_b2, neg_step, bc2_sqrt, eps;
};
void adam_update(Tensor& p, Tensor& m, Tensor& v, const Tensor& g, const AdamStep& s);

}  // namespace minirec
