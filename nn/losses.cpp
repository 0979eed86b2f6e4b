// Losses as compositions of ops: the forward reads like the formula, autograd does the rest.
// The one exception is the softmax cross-entropy over (B, C) logits, the hot spot of every
// retrieval and sequence model: its forward and backward are written out together below.
#include "nn/losses.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/kernels.h"

namespace minirec {

namespace {

// l_b = -log softmax(c_b)[t_b] for each row b of c (B, C); 0 for a row whose target is `skip`.
// c = scale z - shift: the logits z, optionally scaled (1 / temperature) and less a per-column
// shift (log q), both done row by row inside the op so that they cost no (B, C) tensors.
// The same value as -sum(log_softmax(c) * one_hot, 1), but as one op: composed from ops it
// made seven (B, C) tensors per step (log-softmax, one-hot, product and their gradients), the
// largest cost of a BERT4Rec step with C = 1702. Here the forward keeps two numbers per row,
//     m_b = max_j c_bj,   s_b = log sum_j e^(c_bj - m_b),   l_b = -((c_bt - m_b) - s_b),
// and the backward rebuilds the softmax from them:  dz_bj = scale g_b (p_bj - [j = t_b]),
// p_bj = e^((c_bj - m_b) - s_b). Targets must already be checked by the caller.
Var cross_entropy_rows(const Var& logits, const Ids& targets, int skip, float scale = 1.0f,
                       const Tensor* shift = nullptr) {
    const int B = logits.dim(0), C = logits.dim(1);
    const size_t c = static_cast<size_t>(C);
    const bool plain = scale == 1.0f && !shift;  // c = z: no row of c to build
    std::vector<float> m(static_cast<size_t>(B)), s(static_cast<size_t>(B)), row(c), crow(plain ? 0 : c);
    // Row b of c: z_b itself, or scale z_b - shift written into buf (the same roundings as the
    // ops z * scale and then - shift). The closure keeps its own copy of the (C) shift.
    auto row_of_c = [scale, plain, c, sh = shift ? *shift : Tensor(Shape{0})](const float* zb, float* buf) {
        if (plain) return zb;
        kernels::mul_scalar(buf, zb, scale, c);
        if (!sh.empty()) kernels::sub(buf, buf, sh.data(), c);
        return static_cast<const float*>(buf);
    };
    Tensor loss({B});
    const float* z = logits.value().data();
    for (int b = 0; b < B; ++b) {
        const float* cb = row_of_c(z + static_cast<size_t>(b) * c, crow.data());
        const size_t bb = static_cast<size_t>(b);
        m[bb] = C > 0 ? kernels::max(cb, c) : 0.0f;
        if (targets[bb] == skip || !std::isfinite(m[bb])) continue;  // loss 0, no gradient
        kernels::add_scalar(row.data(), cb, -m[bb], c);
        kernels::exp(row.data(), row.data(), c);
        s[bb] = std::log(kernels::sum(row.data(), c));
        loss[bb] = -((cb[targets[bb]] - m[bb]) - s[bb]);
    }
    Var r = make_result(std::move(loss), {logits}, "cross_entropy");
    r.set_backward([logits, targets, skip, m = std::move(m), s = std::move(s), B, c, scale, plain,
                    row_of_c](const Tensor& gy) {
        Tensor dz = Tensor::uninitialized(logits.shape());  // every row is written below
        const float* z = logits.value().data();
        for (int b = 0; b < B; ++b) {
            const size_t bb = static_cast<size_t>(b);
            float* d = dz.data() + bb * c;
            if (targets[bb] == skip || !std::isfinite(m[bb])) {  // no gradient
                std::fill(d, d + c, 0.0f);
                continue;
            }
            const float* cb = row_of_c(z + bb * c, d);      // c_b (in place in d when built)
            kernels::add_scalar(d, cb, -m[bb], c);          // c - m
            kernels::add_scalar(d, d, -s[bb], c);           // log p
            kernels::exp(d, d, c);                          // p
            kernels::mul_scalar(d, d, gy[bb], c);           // g p
            d[targets[bb]] -= gy[bb];                       // g (p - one_hot)
            if (!plain) kernels::mul_scalar(d, d, scale, c);  // dc/dz = scale
        }
        logits.accumulate_grad(std::move(dz));
    });
    return r;
}

}  // namespace

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
    return reduce_rows(cross_entropy_rows(logits, targets, ignore_index), kept, r);  // l_b = -log softmax(z_b)[t_b]
}

// ---- The output layer and its loss as one op ---------------------------------------------------
// Per block of kOutRows rows, whose (rows, C) logits stay in L2 (C = 1702: 435 KiB):
//   forward:  z = h W^T + b (W^T made once);  m = max z;  e = e^(z - m);  l = log sum e - (z_t - m);
//             G = e / sum e - onehot(t) = dl/dz, written over z and kept for the backward pass
//   backward: dl/dz_b = g_b G_b, so  dh = g G W (row-scaled),  dW = G^T (g h),  db = G^T g
// G goes to memory once and comes back once per block; op by op the logits made that trip five
// times (add the bias, the loss, its gradient, two products).
constexpr int kOutRows = 64;

Var linear_softmax_cross_entropy(const Var& h, const Var& weight, const Var& bias, const Ids& targets,
                                 int ignore_index, Reduction r) {
    const char* op = "linear_softmax_cross_entropy";
    if (h.rank() != 2) shape_fail(op, h.shape(), "h must be (B, D)");
    const int B = h.dim(0), D = h.dim(1);
    if (weight.rank() != 2 || weight.dim(1) != D)
        shape_fail(op, h.shape(), weight.shape(), "weight must be (C, D) with h's D = " + std::to_string(D));
    const int C = weight.dim(0);
    if (bias.shape() != Shape{C}) shape_fail(op, weight.shape(), bias.shape(), "bias must be (C)");
    const int kept = kept_rows(op, Shape{B, C}, targets, B, C, ignore_index);
    const size_t c = static_cast<size_t>(C), d = static_cast<size_t>(D);
    Tensor G = Tensor::uninitialized({B, C}), loss({B});
    const Tensor Wt = transposed(weight.value());  // (D, C): each block is then x W^T + b, a Linear
    for (int r0 = 0; r0 < B; r0 += kOutRows) {
        const int R = std::min(kOutRows, B - r0);
        float* z = G.data() + static_cast<size_t>(r0) * c;
        kernels::linear_forward(z, h.value().data() + static_cast<size_t>(r0) * d, Wt.data(), bias.value().data(),
                                R, D, C);                                      // z = h W^T + b
        for (int i = 0; i < R; ++i) {
            float* zi = z + static_cast<size_t>(i) * c;
            const int t = targets[static_cast<size_t>(r0 + i)];
            if (t == ignore_index) {  // loss 0, no gradient
                std::fill(zi, zi + c, 0.0f);
                continue;
            }
            const float m = kernels::max(zi, c);
            if (!std::isfinite(m)) {  // as softmax_cross_entropy: loss 0, no gradient
                std::fill(zi, zi + c, 0.0f);
                continue;
            }
            kernels::add_scalar(zi, zi, -m, c);                                // z - m
            const float zt = zi[t];
            kernels::exp(zi, zi, c);                                           // e
            const float s = kernels::sum(zi, c);
            loss[static_cast<size_t>(r0 + i)] = std::log(s) - zt;
            kernels::mul_scalar(zi, zi, 1.0f / s, c);                          // softmax
            zi[t] -= 1.0f;                                                     // G = softmax - onehot
        }
    }
    Var per_row = make_result(std::move(loss), {h, weight, bias}, op);
    per_row.set_backward([h, weight, bias, G = std::move(G), B, D, C](const Tensor& gy) {
        const size_t c = static_cast<size_t>(C), d = static_cast<size_t>(D);
        // The blocks write every element of dW and db, unless there are no rows: then they are 0.
        Tensor dh = Tensor::uninitialized({B, D});
        Tensor dW = B > 0 ? Tensor::uninitialized({C, D}) : Tensor({C, D}), db = B > 0 ? Tensor::uninitialized({C}) : Tensor({C});
        std::vector<float> gh(static_cast<size_t>(kOutRows) * d);  // g h of one block
        for (int r0 = 0; r0 < B; r0 += kOutRows) {
            const int R = std::min(kOutRows, B - r0);
            const float beta = r0 == 0 ? 0.0f : 1.0f;  // the first block writes dW and db, later ones add
            const float* g = G.data() + static_cast<size_t>(r0) * c;
            const float* gyb = gy.data() + r0;
            float* dhb = dh.data() + static_cast<size_t>(r0) * d;
            kernels::sgemm(false, false, R, D, C, 1.0f, g, C, weight.value().data(), D, 0.0f, dhb, D);  // G W
            for (int i = 0; i < R; ++i) {
                const size_t o = static_cast<size_t>(i) * d;
                kernels::mul_scalar(dhb + o, dhb + o, gyb[i], d);                                   // dh = g G W
                kernels::mul_scalar(gh.data() + o, h.value().data() + static_cast<size_t>(r0) * d + o, gyb[i], d);
            }
            kernels::sgemm(true, false, C, D, R, 1.0f, g, C, gh.data(), D, beta, dW.data(), D);       // G^T (g h)
            kernels::sgemm(false, false, 1, C, R, 1.0f, gyb, R, g, C, beta, db.data(), C);           // g^T G
        }
        h.accumulate_grad(std::move(dh));
        weight.accumulate_grad(std::move(dW));
        bias.accumulate_grad(std::move(db));
    });
    return reduce_rows(per_row, kept, r);
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
        return reduce_loss(cross_entropy_rows(logits, diagonal, -1, inv_t, opt.log_q), opt.reduction);
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
    return reduce_loss(cross_entropy_rows(c, diagonal, -1), opt.reduction);  // (B) before reduction
}

}  // namespace minirec
