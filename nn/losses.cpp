// Losses as compositions of ops: the forward reads like the formula, autograd does the rest.
// The softmax cross-entropy over (B, C) logits, the hot spot of every retrieval and sequence
// model, is a fused op of core (softmax_cross_entropy_rows, with its plain version beside it).
#include "nn/losses.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace minirec {

Var reduce_loss(const Var& per_example, Reduction r) {
    switch (r) {
        case Reduction::mean: return mean(per_example);
        case Reduction::sum: return sum(per_example);
        case Reduction::none: return per_example;
    }
    return per_example;
}

static void check_temperature(const char* op, float t) {
    if (!(t > 0.0f)) arg_fail(op, "temperature must be positive, got " + std::to_string(t));
}

// l = softplus(z) - y z: softplus is evaluated stably inside the op (max(z,0) + log1p(e^-|z|)).
Var bce_with_logits(const Var& logits, const Tensor& targets, Reduction r) {
    if (targets.shape() != logits.shape())
        shape_fail("bce_with_logits", logits.shape(), targets.shape(), "targets must have the logits' shape");
    return reduce_loss(softplus(logits) - constant(targets) * logits, r);
}

Var mse_loss(const Var& pred, const Tensor& target, Reduction r) {
    if (target.shape() != pred.shape())
        shape_fail("mse_loss", pred.shape(), target.shape(), "target must have the prediction's shape");
    Var d = pred - constant(target);
    return reduce_loss(d * d, r);
}

// Checks B targets against C classes; returns how many rows are kept (not ignore_index).
static int kept_rows(const char* op, const Shape& logits_shape, const Ids& targets, int B, int C, int ignore_index) {
    if (static_cast<int>(targets.size()) != B)
        shape_fail(op, logits_shape, Shape{static_cast<int>(targets.size())}, "need one target per row");
    int kept = 0;  // an ignored row has loss 0 and sends no gradient
    for (int b = 0; b < B; ++b) {
        const int t = targets[b];
        if (t == ignore_index) continue;
        if (t < 0 || t >= C)
            arg_fail(op, "target " + std::to_string(t) + " of row " + std::to_string(b) + " is outside [0, " +
                             std::to_string(C) + ") and is not the ignore index " + std::to_string(ignore_index));
        ++kept;
    }
    return kept;
}

// The mean over the kept rows, or the other reductions.
static Var reduce_rows(const Var& per_row, int kept, Reduction r) {
    if (r == Reduction::mean) return sum(per_row) * (1.0f / static_cast<float>(kept > 0 ? kept : 1));
    return reduce_loss(per_row, r);
}

Var softmax_cross_entropy(const Var& logits, const Ids& targets, int ignore_index, Reduction r) {
    if (logits.rank() != 2) shape_fail("softmax_cross_entropy", logits.shape(), "logits must be (B, C)");
    const int kept = kept_rows("softmax_cross_entropy", logits.shape(), targets, logits.dim(0), logits.dim(1),
                               ignore_index);
    return reduce_rows(softmax_cross_entropy_rows(logits, targets, ignore_index), kept, r);  // l_b = -log softmax(z_b)[t_b]
}

// ---- The output layer and its loss ----------------------------------------------------------
// softmax_cross_entropy(h W^T + b, targets) as the fused op of core/ops_fused.cpp, which never
// makes the (B, C) logits a tensor of the graph; reference::linear_softmax_cross_entropy_rows in
// core/ops_reference.cpp is the plain matmul + bias + softmax cross-entropy.
Var linear_softmax_cross_entropy(const Var& h, const Var& weight, const Var& bias, const Ids& targets,
                                 int ignore_index, Reduction r) {
    const char* op = "linear_softmax_cross_entropy";
    if (h.rank() != 2) shape_fail(op, h.shape(), "h must be (B, D)");
    if (weight.rank() != 2 || weight.dim(1) != h.dim(1))
        shape_fail(op, h.shape(), weight.shape(), "weight must be (C, D) with h's D = " + std::to_string(h.dim(1)));
    const int kept = kept_rows(op, Shape{h.dim(0), weight.dim(0)}, targets, h.dim(0), weight.dim(0), ignore_index);
    return reduce_rows(linear_softmax_cross_entropy_rows(h, weight, bias, targets, ignore_index), kept, r);
}

Var soft_cross_entropy(const Var& logits, const Tensor& target_probs, float temperature, Reduction r) {
    if (logits.rank() != 2) shape_fail("soft_cross_entropy", logits.shape(), "logits must be (B, C)");
    if (target_probs.shape() != logits.shape())
        shape_fail("soft_cross_entropy", logits.shape(), target_probs.shape(), "targets must have the logits' shape");
    check_temperature("soft_cross_entropy", temperature);
    Var z = temperature == 1.0f ? logits : logits * (1.0f / temperature);
    return reduce_loss(-sum(constant(target_probs) * log_softmax(z), 1), r);  // (B)
}

// pos (B) against neg (B) or (B, K): the difference pos - neg, (B) or (B, K).
static Var pair_margin(const char* op, const Var& pos, const Var& neg) {
    if (pos.rank() != 1) shape_fail(op, pos.shape(), neg.shape(), "pos must be (B)");
    if (neg.rank() == 1 && neg.dim(0) == pos.dim(0)) return pos - neg;
    if (neg.rank() == 2 && neg.dim(0) == pos.dim(0)) return reshape(pos, {pos.dim(0), 1}) - neg;
    shape_fail(op, pos.shape(), neg.shape(), "neg must be (B) or (B, K)");
}

Var bpr_loss(const Var& pos, const Var& neg, Reduction r) {
    return reduce_loss(-log_sigmoid(pair_margin("bpr_loss", pos, neg)), r);
}

Var pairwise_hinge_loss(const Var& pos, const Var& neg, float margin, Reduction r) {
    return reduce_loss(relu(margin - pair_margin("pairwise_hinge_loss", pos, neg)), r);
}

Var sampled_softmax_loss(const Var& pos, const Var& neg, const SampledSoftmaxOptions& opt) {
    const char* op = "sampled_softmax_loss";
    if (pos.rank() != 1 || neg.rank() != 2 || neg.dim(0) != pos.dim(0))
        shape_fail(op, pos.shape(), neg.shape(), "need pos (B) and neg (B, K)");
    check_temperature(op, opt.temperature);
    const int B = pos.dim(0), K = neg.dim(1);
    const float inv_t = 1.0f / opt.temperature;
    Var c_pos = pos * inv_t;  // (B)
    Var c_neg = neg * inv_t;  // (B, K)
    if (opt.pos_log_q) {
        if (opt.pos_log_q->shape() != Shape{B}) shape_fail(op, pos.shape(), opt.pos_log_q->shape(), "pos_log_q must be (B)");
        c_pos = c_pos - constant(*opt.pos_log_q);
    }
    if (opt.neg_log_q) {
        const Shape& s = opt.neg_log_q->shape();
        if (s != Shape{K} && s != Shape{B, K}) shape_fail(op, neg.shape(), s, "neg_log_q must be (K) or (B, K)");
        c_neg = c_neg - constant(*opt.neg_log_q);  // (K) broadcasts over the rows
    }
    // l_b = log(e^{c_b+} + sum_k e^{c_bk}) - c_b+
    Var all = concat({reshape(c_pos, {B, 1}), c_neg}, 1);  // (B, 1 + K)
    return reduce_loss(logsumexp(all, 1) - c_pos, opt.reduction);
}

Var in_batch_softmax_loss(const Var& logits, const InBatchSoftmaxOptions& opt) {
    const char* op = "in_batch_softmax_loss";
    if (logits.rank() != 2 || logits.dim(0) != logits.dim(1))
        shape_fail(op, logits.shape(), "logits must be square (B, B): queries x items of the batch");
    check_temperature(op, opt.temperature);
    const int B = logits.dim(0);
    if (opt.log_q && opt.log_q->shape() != Shape{B})
        shape_fail(op, logits.shape(), opt.log_q->shape(), "log_q must be (B)");
    const float inv_t = 1.0f / opt.temperature;
    Ids diagonal(static_cast<size_t>(B));  // the positive of row i is column i
    for (int i = 0; i < B; ++i) diagonal[static_cast<size_t>(i)] = i;
    if (!opt.item_ids)  // c = logits / t - log q (column j loses log q_j), inside the loss op
        return reduce_loss(softmax_cross_entropy_rows(logits, diagonal, -1, inv_t, opt.log_q), opt.reduction);
    Var c = opt.temperature == 1.0f ? logits : logits * inv_t;
    if (opt.log_q) c = c - constant(*opt.log_q);  // (B) broadcasts as a row
    {
        const Ids& id = *opt.item_ids;
        if (static_cast<int>(id.size()) != B)
            shape_fail(op, logits.shape(), Shape{static_cast<int>(id.size())}, "item_ids must be (B)");
        Tensor mask(Shape{B, B}, 1.0f);  // 1 = a candidate for row i
        for (int i = 0; i < B; ++i)
            for (int j = 0; j < B; ++j)
                if (j != i && id[j] == id[i]) mask[static_cast<size_t>(i) * B + j] = 0.0f;
        // An accidental hit gets a logit of -1e30 (probability 0), a finite number that keeps
        // every sum finite.
        c = masked_fill(c, mask, -1e30f);
    }
    return reduce_loss(softmax_cross_entropy_rows(c, diagonal, -1), opt.reduction);  // (B) before reduction
}

}  // namespace minirec
