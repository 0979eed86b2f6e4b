// The fast paths of the layers every model runs: linear (and several linears of one input),
// the feed-forward block of a transformer, the softmax cross-entropy (alone and with the output
// layer) and Adam's update. Each op is one graph node, forward and backward side by side, and
// computes what its plain version in ops_reference.cpp computes, with fewer passes over memory.
// Deliberately left out: fusing across layers, mixed precision.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/kernels.h"
#include "core/ops.h"

namespace minirec {

// ---- linear and linear_cat -------------------------------------------------------------------

// Column block [from, from + width) of a row-major (rows, ld) matrix, copied to or from a
// (rows, width) one: how a concatenated weight [W_1 | W_2 | ...] is assembled and its
// gradient split back.
static void copy_columns(float* dst, int ld_dst, const float* src, int ld_src, int rows, int width) {
    for (int r = 0; r < rows; ++r)
        std::copy(src + static_cast<size_t>(r) * ld_src, src + static_cast<size_t>(r) * ld_src + width,
                  dst + static_cast<size_t>(r) * ld_dst);
}

// y = x W + b over the rows of x seen as (n, in), as ONE graph node, for one weight or for
// several of the same input side by side, W = [W_1 | ... | W_m], b = [b_1 | ... | b_m]:
//   forward:  y = x W + b                            (one GEMM that adds b as it writes y)
//   backward: dx = gy W^T,  dW = x^T gy,  db = sum over the rows of gy  (split into the m blocks)
// It is the same as matmul(x, W) + b, but that made two (n, out) results and, in the backward
// pass, a copy of gy for the add; a Linear runs in every layer of every model, so we fuse it.
// For m > 1 (a transformer's Q, K, V projections) x is read once and the backward makes one dx
// instead of m to add up; the concatenated W and b are small copies made per call.
static Var linear_op(const Var& x, const std::vector<Var>& weights, const std::vector<Var>& biases,
                     const char* op) {
    if (weights.empty()) arg_fail(op, "no weights");
    const int in = weights[0].dim(0);
    const bool has_bias = !biases.empty();
    if (has_bias && biases.size() != weights.size())
        arg_fail(op, "the layers must share in_features and the use of a bias");
    std::vector<int> from;  // first column of each block in y
    int out = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        const Var& w = weights[i];
        if (w.rank() != 2 || w.dim(0) != in)
            arg_fail(op, "the layers must share in_features and the use of a bias");
        if (has_bias && biases[i].shape() != Shape{w.dim(1)})
            shape_fail(op, w.shape(), biases[i].shape(), "bias must be (out)");
        from.push_back(out);
        out += w.dim(1);
    }
    if (x.rank() < 2 || x.dim(-1) != in)
        shape_fail(op, x.shape(), weights[0].shape(), "x must be (..., " + std::to_string(in) + ")");
    // One block: its own W and b. Several: [W_1 | ... | W_m] (in, out) and [b_1 | ... | b_m] (out).
    Tensor W_cat(Shape{0}), b_cat(Shape{0});
    const float* W = weights[0].value().data();
    const float* b = has_bias ? biases[0].value().data() : nullptr;
    if (weights.size() > 1) {
        W_cat = Tensor::uninitialized({in, out});
        if (has_bias) b_cat = Tensor::uninitialized({out});
        for (size_t i = 0; i < weights.size(); ++i) {
            const int w = weights[i].dim(1);
            copy_columns(W_cat.data() + from[i], out, weights[i].value().data(), w, in, w);
            if (has_bias) copy_columns(b_cat.data() + from[i], out, biases[i].value().data(), w, 1, w);
        }
        W = W_cat.data();
        b = has_bias ? b_cat.data() : nullptr;
    }
    const int n = static_cast<int>(x.size() / static_cast<size_t>(in));  // rows: every leading axis
    Shape y_shape = x.shape();
    y_shape.back() = out;
    Tensor y = Tensor::uninitialized(y_shape);  // (..., out); the kernel writes every element
    kernels::linear_forward(y.data(), x.value().data(), W, b, n, in, out);
    std::vector<Var> parents{x};
    for (size_t i = 0; i < weights.size(); ++i) {
        parents.push_back(weights[i]);
        if (has_bias) parents.push_back(biases[i]);
    }
    Var r = make_result(std::move(y), parents, op);
    r.set_backward([x, W_cat = std::move(W_cat), weights, biases, from, n, in, out](const Tensor& gy) {
        if (x.requires_grad()) {  // dx (n, in) = gy (n, out) W^T
            const float* W = weights.size() > 1 ? W_cat.data() : weights[0].value().data();
            Tensor dx = Tensor::uninitialized(x.shape());  // written by the beta = 0 GEMM
            kernels::sgemm(false, true, n, in, out, 1.0f, gy.data(), out, W, out, 0.0f, dx.data(), in);
            x.accumulate_grad(std::move(dx));
        }
        bool need_dw = false;
        for (const Var& w : weights) need_dw = need_dw || w.requires_grad();
        if (need_dw) {  // dW (in, out) = x^T (in, n) gy (n, out), then a block per weight
            Tensor dW = Tensor::uninitialized({in, out});  // written by the beta = 0 GEMM
            kernels::sgemm(true, false, in, out, n, 1.0f, x.value().data(), in, gy.data(), out, 0.0f,
                           dW.data(), out);
            if (weights.size() == 1) weights[0].accumulate_grad(std::move(dW));
            for (size_t i = 0; weights.size() > 1 && i < weights.size(); ++i) {
                Tensor dWi = Tensor::uninitialized(weights[i].shape());
                copy_columns(dWi.data(), weights[i].dim(1), dW.data() + from[i], out, in, weights[i].dim(1));
                weights[i].accumulate_grad(std::move(dWi));
            }
        }
        bool need_db = false;
        for (const Var& b : biases) need_db = need_db || b.requires_grad();
        if (need_db) {  // db (out) = the column sums of gy, then a block per bias
            // As a GEMM, db (1, out) = 1 (1, n) gy (n, out): one pass over gy, a register per 16
            // columns, instead of n calls that each add one row.
            std::vector<float> db(static_cast<size_t>(out)), ones(static_cast<size_t>(n), 1.0f);
            kernels::sgemm(false, false, 1, out, n, 1.0f, ones.data(), n, gy.data(), out, 0.0f, db.data(), out);
            for (size_t i = 0; i < biases.size(); ++i) {
                Tensor dbi = Tensor::uninitialized(biases[i].shape());
                std::copy(db.begin() + from[i], db.begin() + from[i] + biases[i].dim(0), dbi.data());
                biases[i].accumulate_grad(std::move(dbi));
            }
        }
    });
    return r;
}

Var linear(const Var& x, const Var& W, const Var* b) {
    if (W.rank() != 2) shape_fail("linear", x.shape(), W.shape(), "W must be (in, out)");
    return linear_op(x, {W}, b ? std::vector<Var>{*b} : std::vector<Var>{}, "linear");
}

Var linear_cat(const Var& x, const std::vector<Var>& weights, const std::vector<Var>& biases) {
    return linear_op(x, weights, biases, weights.size() > 1 ? "linear_cat" : "linear");
}

// ---- gelu_ffn --------------------------------------------------------------------------------
// Per block of R rows (R x F floats per buffer: 256 KiB for R = 256, F = 256):
//   forward:  u = x W1 + b1 (kept),  a = GELU(u),  y = a W2 + b2
//   backward: da = gy W2^T;  du = da GELU'(u) and a = GELU(u) again (one kernel, one erf);
//             dW2 += a^T gy;  db2 += 1^T gy;  dW1 += x^T du;  db1 += 1^T du;  dx = du W1^T
// Op by op, each (n, F) tensor (u, a, their gradients) would be written to memory and read back
// two or three times; block by block they stay in L2 between the steps. We keep u = x W1 + b1
// for the backward pass and recompute GELU(u) there.
constexpr int kFfnRows = 256;

Var gelu_ffn(const Var& x, const Var& W1, const Var* b1, const Var& W2, const Var* b2) {
    if (W1.rank() != 2 || W2.rank() != 2) shape_fail("gelu_ffn", W1.shape(), W2.shape(), "W1 and W2 must be matrices");
    const int D = W1.dim(0), F = W1.dim(1), Dout = W2.dim(1);
    if (W2.dim(0) != F)
        arg_fail("gelu_ffn", "ffn2 takes " + std::to_string(W2.dim(0)) + " inputs, ffn1 gives " + std::to_string(F));
    if ((b1 && b1->shape() != Shape{F}) || (b2 && b2->shape() != Shape{Dout}))
        arg_fail("gelu_ffn", "b1 must be (F) and b2 (Dout)");
    if (x.rank() < 2 || x.dim(-1) != D)
        shape_fail("gelu_ffn", x.shape(), W1.shape(), "x must be (..., " + std::to_string(D) + ")");
    const int n = static_cast<int>(x.size() / static_cast<size_t>(D));
    Shape y_shape = x.shape();
    y_shape.back() = Dout;
    Tensor U = Tensor::uninitialized({n, F}), y = Tensor::uninitialized(y_shape);
    std::vector<float> a(static_cast<size_t>(kFfnRows) * F);  // GELU(u) of one block
    const float* b1p = b1 ? b1->value().data() : nullptr;
    const float* b2p = b2 ? b2->value().data() : nullptr;
    for (int r0 = 0; r0 < n; r0 += kFfnRows) {
        const int R = std::min(kFfnRows, n - r0);
        float* u = U.data() + static_cast<size_t>(r0) * F;
        kernels::linear_forward(u, x.value().data() + static_cast<size_t>(r0) * D, W1.value().data(),
                                b1p, R, D, F);                                                   // u = x W1 + b1
        kernels::gelu(a.data(), u, static_cast<size_t>(R) * F);                                 // a = GELU(u)
        kernels::linear_forward(y.data() + static_cast<size_t>(r0) * Dout, a.data(), W2.value().data(),
                                b2p, R, F, Dout);                                                // y = a W2 + b2
    }
    std::vector<Var> parents{x, W1};
    if (b1) parents.push_back(*b1);
    parents.push_back(W2);
    if (b2) parents.push_back(*b2);
    Var r = make_result(std::move(y), parents, "gelu_ffn");
    r.set_backward([x, W1, W2, b1v = b1 ? *b1 : Var(), b2v = b2 ? *b2 : Var(), has_b1 = b1 != nullptr,
                    has_b2 = b2 != nullptr, U = std::move(U), n, D, F, Dout](const Tensor& gy) {
        // W1^T (F, D) and W2^T (Dout, F), transposed once here rather than once per block.
        const Tensor W1t = transposed(W1.value()), W2t = transposed(W2.value());
        Tensor dx = Tensor::uninitialized(x.shape()), dW1 = Tensor::uninitialized(W1.shape()),
               dW2 = Tensor::uninitialized(W2.shape()), db1(Shape{F}), db2(Shape{Dout});
        std::vector<float> a(static_cast<size_t>(kFfnRows) * F), du(a.size()), ones(kFfnRows, 1.0f);
        for (int r0 = 0; r0 < n; r0 += kFfnRows) {
            const int R = std::min(kFfnRows, n - r0);
            const float beta = r0 == 0 ? 0.0f : 1.0f;  // the first block writes dW, later ones add
            const float* u = U.data() + static_cast<size_t>(r0) * F;
            const float* g = gy.data() + static_cast<size_t>(r0) * Dout;
            const float* xb = x.value().data() + static_cast<size_t>(r0) * D;
            kernels::sgemm(false, false, R, F, Dout, 1.0f, g, Dout, W2t.data(), F, 0.0f, du.data(), F);  // da = gy W2^T
            kernels::gelu_backward(du.data(), a.data(), u, du.data(), static_cast<size_t>(R) * F);  // du; a = GELU(u)
            kernels::sgemm(true, false, F, Dout, R, 1.0f, a.data(), F, g, Dout, beta, dW2.data(), Dout);  // a^T gy
            kernels::sgemm(false, false, 1, Dout, R, 1.0f, ones.data(), R, g, Dout, 1.0f, db2.data(), Dout);
            kernels::sgemm(true, false, D, F, R, 1.0f, xb, D, du.data(), F, beta, dW1.data(), F);  // x^T du
            kernels::sgemm(false, false, 1, F, R, 1.0f, ones.data(), R, du.data(), F, 1.0f, db1.data(), F);
            kernels::sgemm(false, false, R, D, F, 1.0f, du.data(), F, W1t.data(), D, 0.0f,
                           dx.data() + static_cast<size_t>(r0) * D, D);                             // du W1^T
        }
        if (n == 0) dW1.fill(0.0f), dW2.fill(0.0f);  // no rows: no block wrote them
        x.accumulate_grad(std::move(dx));
        W1.accumulate_grad(std::move(dW1));
        W2.accumulate_grad(std::move(dW2));
        if (has_b1) b1v.accumulate_grad(std::move(db1));
        if (has_b2) b2v.accumulate_grad(std::move(db2));
    });
    return r;
}

// ---- softmax_cross_entropy_rows --------------------------------------------------------------
// c = scale z - shift: the logits z, optionally scaled (1 / temperature) and less a per-column
// shift (log q), both done row by row inside the op so that they cost no (B, C) tensors.
// The same value as -sum(log_softmax(c) * one_hot, 1), but as one op: composed from ops it
// made seven (B, C) tensors per step (log-softmax, one-hot, product and their gradients), the
// largest cost of a BERT4Rec step with C = 1702. Here the forward keeps two numbers per row,
//     m_b = max_j c_bj,   s_b = log sum_j e^(c_bj - m_b),   l_b = -((c_bt - m_b) - s_b),
// and the backward rebuilds the softmax from them:  dz_bj = scale g_b (p_bj - [j = t_b]),
// p_bj = e^((c_bj - m_b) - s_b).

// Every target in [0, C) or the skip value.
static void check_targets(const char* op, const Ids& targets, int B, int C, int skip) {
    if (static_cast<int>(targets.size()) != B)
        shape_fail(op, Shape{B, C}, Shape{static_cast<int>(targets.size())}, "need one target per row");
    for (int b = 0; b < B; ++b) {
        const int t = targets[static_cast<size_t>(b)];
        if (t != skip && (t < 0 || t >= C))
            arg_fail(op, "target " + std::to_string(t) + " of row " + std::to_string(b) + " is outside [0, " +
                             std::to_string(C) + ") and is not the ignore index " + std::to_string(skip));
    }
}

Var softmax_cross_entropy_rows(const Var& logits, const Ids& targets, int skip, float scale, const Tensor* shift) {
    if (logits.rank() != 2) shape_fail("softmax_cross_entropy_rows", logits.shape(), "logits must be (B, C)");
    const int B = logits.dim(0), C = logits.dim(1);
    check_targets("softmax_cross_entropy_rows", targets, B, C, skip);
    if (shift && shift->shape() != Shape{C})
        shape_fail("softmax_cross_entropy_rows", logits.shape(), shift->shape(), "shift must be (C)");
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

// ---- linear_softmax_cross_entropy_rows -------------------------------------------------------
// Per block of kOutRows rows, whose (rows, C) logits stay in L2 (C = 1702: 435 KiB):
//   forward:  z = h W^T + b (W^T made once);  m = max z;  e = e^(z - m);  l = log sum e - (z_t - m);
//             G = e / sum e - onehot(t) = dl/dz, written over z and kept for the backward pass
//   backward: dl/dz_b = g_b G_b, so  dh = g G W (row-scaled),  dW = G^T (g h),  db = G^T g
// G goes to memory once and comes back once per block; op by op the logits made that trip five
// times (add the bias, the loss, its gradient, two products).
constexpr int kOutRows = 64;

Var linear_softmax_cross_entropy_rows(const Var& h, const Var& weight, const Var& bias, const Ids& targets,
                                      int ignore_index) {
    const char* op = "linear_softmax_cross_entropy";
    if (h.rank() != 2) shape_fail(op, h.shape(), "h must be (B, D)");
    const int B = h.dim(0), D = h.dim(1);
    if (weight.rank() != 2 || weight.dim(1) != D)
        shape_fail(op, h.shape(), weight.shape(), "weight must be (C, D) with h's D = " + std::to_string(D));
    const int C = weight.dim(0);
    if (bias.shape() != Shape{C}) shape_fail(op, weight.shape(), bias.shape(), "bias must be (C)");
    check_targets(op, targets, B, C, ignore_index);
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
            if (!std::isfinite(m)) {  // as softmax_cross_entropy_rows: loss 0, no gradient
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
    return per_row;
}

// ---- weighted_sum ----------------------------------------------------------------------------
// Every product and sum rounded as the reference's ops round them (a product, then a sum from 0
// in the order of i; dw through kernels::sum as sum_to does), so the two agree bit for bit and a
// model may switch between them without changing its results. The loops over (B, E, h) are the
// kernels' weighted_sum and weighted_sum_backward (16 or 8 floats of h at a time; the composed ops
// took 1.1 ms at MMoE's 4096 x 8 x 16, plain loops here 0.85). With h = 1 the reference sums
// each row's E products with kernels::sum instead, and dw is a product with nothing to sum: the
// loops below, told not to fuse a product into a sum (GCC would, where the target has FMA).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
Var weighted_sum(const Var& w, const Var& x) {
    if (w.rank() != 2 || x.rank() != 3 || x.dim(0) != w.dim(0) || x.dim(1) != w.dim(1))
        shape_fail("weighted_sum", w.shape(), x.shape(), "w must be (B, E) and x (B, E, h)");
    const size_t B = static_cast<size_t>(x.dim(0)), E = static_cast<size_t>(x.dim(1)), h = static_cast<size_t>(x.dim(2));
    Tensor y = Tensor::uninitialized(Shape{x.dim(0), x.dim(2)});
    const float* W = w.value().data();
    const float* X = x.value().data();
    if (h == 1) {
        std::vector<float> p(E);
        for (size_t b = 0; b < B; ++b) {
            for (size_t i = 0; i < E; ++i) p[i] = W[b * E + i] * X[b * E + i];
            y.data()[b] = kernels::sum(p.data(), E);
        }
    } else {
        kernels::weighted_sum(y.data(), W, X, B, E, h);
    }
    Var r = make_result(std::move(y), {w, x}, "weighted_sum");
    r.set_backward([w, x, B, E, h](const Tensor& gy) {
        const float* W = w.value().data();
        const float* X = x.value().data();
        const float* G = gy.data();
        Tensor dw = w.requires_grad() ? Tensor::uninitialized(w.shape()) : Tensor();
        Tensor dx = x.requires_grad() ? Tensor::uninitialized(x.shape()) : Tensor();
        float* pw = w.requires_grad() ? dw.data() : nullptr;
        float* px = x.requires_grad() ? dx.data() : nullptr;
        if (h == 1) {
            for (size_t k = 0; k < B * E; ++k) {
                if (pw) pw[k] = G[k / E] * X[k];
                if (px) px[k] = G[k / E] * W[k];
            }
        } else {
            kernels::weighted_sum_backward(pw, px, G, W, X, B, E, h);
        }
        if (pw) w.accumulate_grad(std::move(dw));
        if (px) x.accumulate_grad(std::move(dx));
    });
    return r;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// ---- adam_update -----------------------------------------------------------------------------
// One pass of the SIMD Adam kernel: the same arithmetic as reference::adam_update, 8 or 16
// parameters at a time (a fifth of a small CTR model's step was the plain loop).
void adam_update(Tensor& p, Tensor& m, Tensor& v, const Tensor& g, const AdamStep& s) {
    if (m.shape() != p.shape() || v.shape() != p.shape() || g.shape() != p.shape())
        shape_fail("adam_update", p.shape(), g.shape(), "p, m, v and g must have one shape");
    kernels::adam(p.data(), m.data(), v.data(), g.data(), p.size(),
                  {s.b1, s.one_minus_b1, s.b2, s.one_minus_b2, s.neg_step, s.bc2_sqrt, s.eps});
}

}  // namespace minirec
