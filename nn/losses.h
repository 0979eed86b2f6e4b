// Losses: each one is a short composition of the differentiable ops in core/ops.h, so its
// gradient comes from autograd and is checked by finite differences in tests/test_nn_losses.cpp.
// Deliberately left out: fused loss kernels, class weights, label smoothing.
#pragma once
#include <vector>

#include "core/ops.h"

namespace minirec {

// How per-example losses become one number. `none` returns them unreduced (for weighting by hand).
enum class Reduction { mean, sum, none };

// ---- Pointwise -------------------------------------------------------------------------------
// Binary cross-entropy on logits z with targets y in [0, 1] (same shape as z):
//   l = -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = softplus(z) - y z,
// which stays finite for |z| = 100 where log(sigmoid(z)) would be log(0).
Var bce_with_logits(const Var& logits, const Tensor& targets, Reduction r = Reduction::mean);

// Mean squared error (pred - target)^2; target has pred's shape.
Var mse_loss(const Var& pred, const Tensor& target, Reduction r = Reduction::mean);

// ---- Classification over C classes -----------------------------------------------------------
// logits (B, C), targets (B) class ids in [0, C) or ignore_index. l_b = -log softmax(z_b)[t_b].
// `mean` averages over the rows that are not ignored (as PyTorch); when every row is ignored
// the loss is 0 (PyTorch gives NaN) and no gradient flows.
Var softmax_cross_entropy(const Var& logits, const Ids& targets, int ignore_index = -100,
                          Reduction r = Reduction::mean);

// The same loss for logits = h W^T + b, as one op: h (B, D) the rows to classify, W (C, D) one row
// per class (a tied output layer passes the item embedding table), b (C). The value and gradients
// of softmax_cross_entropy(matmul(h, W, false, true) + b, ...), without a (B, C) tensor of logits
// going through memory five times: for a large C (BERT4Rec's full softmax over the items) most
// of that loss's time. Same targets, ignore_index and reductions.
Var linear_softmax_cross_entropy(const Var& h, const Var& weight, const Var& bias, const Ids& targets,
                                 int ignore_index = -100, Reduction r = Reduction::mean);

// Soft labels (distillation): logits (B, C), target probabilities (B, C) summing to 1 per row.
//   l_b = -sum_c p_bc log softmax(z_b / T)_c
// With a teacher, p = softmax(teacher / T); Hinton et al. multiply this loss by T^2 so that its
// gradient keeps the same scale as T changes - we leave that factor to the caller.
Var soft_cross_entropy(const Var& logits, const Tensor& target_probs, float temperature = 1.0f,
                       Reduction r = Reduction::mean);

// ---- Pairwise ranking ------------------------------------------------------------------------
// pos (B), neg (B) or (B, K): K negatives per positive, every pair counts once.
// BPR (Rendle et al. 2009): l = -log sigmoid(pos - neg).
Var bpr_loss(const Var& pos, const Var& neg, Reduction r = Reduction::mean);
// Pairwise hinge: l = max(0, margin - (pos - neg)).
Var pairwise_hinge_loss(const Var& pos, const Var& neg, float margin = 1.0f,
                        Reduction r = Reduction::mean);

// ---- Softmax over sampled candidates (retrieval, two towers) -------------------------------
// The logit correction of Yi et al. (RecSys 2019): a candidate drawn with probability q gets
// the logit s / T - log q, so popular items are not over-penalised as negatives.
struct SampledSoftmaxOptions {
    float temperature = 1.0f;
    const Tensor* pos_log_q = nullptr;  // (B): log q of each positive; nullptr = no correction
    const Tensor* neg_log_q = nullptr;  // (K) shared or (B, K) per row; nullptr = no correction
    Reduction reduction = Reduction::mean;
};
// pos (B) positive logits, neg (B, K) logits of K sampled negatives per row.
//   l_b = -log( e^{c_b+} / (e^{c_b+} + sum_k e^{c_bk}) ),  c = s / T - log q.
Var sampled_softmax_loss(const Var& pos, const Var& neg, const SampledSoftmaxOptions& opt = {});

struct InBatchSoftmaxOptions {
    float temperature = 1.0f;
    const Tensor* log_q = nullptr;       // (B): log q_j of the item in column j; nullptr = none
    const Ids* item_ids = nullptr;       // (B): when given, a column holding the same item as
                                         // row b's positive (an accidental hit) is masked out
    Reduction reduction = Reduction::mean;
};
// logits (B, B): logits[i][j] = <query_i, item_j>; the positive of row i is column i and the
// other items of the batch are its negatives.  c_ij = s_ij / T - log q_j,  l_i = -log softmax(c_i)_i.
Var in_batch_softmax_loss(const Var& logits, const InBatchSoftmaxOptions& opt = {});

// Applies a reduction to per-example losses (shared by the losses above, useful to callers).
Var reduce_loss(const Var& per_example, Reduction r);

}  // namespace minirec
