// The fast path of multi-head scaled dot-product attention: every head of every sequence in
// one graph node, read in place from the packed projections, forward and backward side by side.
// The plain version, head by head as the formula, is reference::attention (ops_reference.cpp).
// Deliberately left out: flash-style tiling; we materialise the (B, H, Tq, Tk) weights, which is
// fine for T <= 200.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/kernels.h"
#include "core/ops.h"

namespace minirec {

namespace {

// Masked softmax of one row in place: kept entries get e^(s - m) / sum_kept e^(s - m), masked
// ones an exact 0; a row with nothing kept (or only -inf kept) is all zeros.
void masked_softmax_row(float* s, const float* keep, int n) {
    float m = -INFINITY;
    for (int j = 0; j < n; ++j)
        if (keep[j] != 0.0f && s[j] > m) m = s[j];
    if (m == -INFINITY) {
        std::fill(s, s + n, 0.0f);
        return;
    }
    kernels::add_scalar(s, s, -m, static_cast<size_t>(n));
    kernels::exp(s, s, static_cast<size_t>(n));
    for (int j = 0; j < n; ++j) s[j] = keep[j] != 0.0f ? s[j] : 0.0f;  // exact zeros, whatever exp gave
    kernels::mul_scalar(s, s, 1.0f / kernels::sum(s, static_cast<size_t>(n)), static_cast<size_t>(n));
}

// Where head h of position t of sequence b lives: the d floats at src[(b T + t) ld + col + h d],
// ld the width of the packed source (H d for a projection of its own, 3 H d for a fused QKV).
struct Heads {
    Var src;
    int ld, off;
    const float* at(int b, int T, int h, int d) const {
        return src.value().data() + static_cast<size_t>(b) * T * ld + off + h * d;
    }
};

}  // namespace

// Scaled dot-product attention of all heads as ONE graph node, read and written in the packed
// layout of the projections, so the heads are never copied into a (B, H, T, d) layout and back:
// each head is one strided GEMM. Per (b, h):
//   forward:  S = scale Q_h K_h^T (Tq, Tk);  A = softmax(S + mask);  P = A * drop;  C_h = P V_h
//   backward: dP = gC_h V_h^T;  dA = dP * drop;  dS = A * (dA - rowsum(dA * A))  (the softmax
//             Jacobian);  dQ_h = scale dS K_h;  dK_h = scale dS^T Q_h;  dV_h = P^T gC_h
// We keep only A for the backward pass; the (Tq, Tk) blocks of one head stay in L1 while we work
// on them. When views share a source (the fused QKV), their gradients are written side by side
// into one gradient of that source.
Var attention(const HeadsView& qv, const HeadsView& kv, const HeadsView& vv, int H, int d,
              const Tensor& keep, const Tensor& drop, Var* weights) {
    const char* op = "attention";
    for (const HeadsView* v : {&qv, &kv, &vv}) {
        if (v->src.rank() != 3) shape_fail(op, v->src.shape(), "Q, K and V must be packed as (B, T, width)");
        if (H <= 0 || d <= 0 || v->col < 0 || v->col + H * d > v->src.dim(2))
            shape_fail(op, v->src.shape(), "the heads, columns [" + std::to_string(v->col) + ", " +
                                               std::to_string(v->col + H * d) + "), must lie inside the width");
    }
    // Two views of one source must not overlap: each writes its own columns of the gradient.
    const HeadsView* views[] = {&qv, &kv, &vv};
    for (int i = 0; i < 3; ++i)
        for (int j = i + 1; j < 3; ++j)
            if (views[i]->src.node() == views[j]->src.node() && views[i]->col < views[j]->col + H * d &&
                views[j]->col < views[i]->col + H * d)
                arg_fail(op, "two of Q, K, V read overlapping columns of one source");
    const int B = qv.src.dim(0), Tq = qv.src.dim(1), Tk = kv.src.dim(1), Hd = H * d;
    if (kv.src.dim(0) != B || vv.src.dim(0) != B || vv.src.dim(1) != Tk)
        shape_fail(op, qv.src.shape(), kv.src.shape(), "Q (B, Tq, .), K and V (B, Tk, .) must agree");
    if (!keep.empty() && keep.shape() != Shape{B, 1, Tq, Tk})
        shape_fail(op, keep.shape(), "keep must be (B, 1, Tq, Tk) = " + shape_str({B, 1, Tq, Tk}));
    if (!drop.empty() && drop.shape() != Shape{B, H, Tq, Tk})
        shape_fail(op, drop.shape(), "drop must be (B, H, Tq, Tk) = " + shape_str({B, H, Tq, Tk}));
    const Heads Q{qv.src, qv.src.dim(2), qv.col}, K{kv.src, kv.src.dim(2), kv.col}, V{vv.src, vv.src.dim(2), vv.col};
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const size_t block = static_cast<size_t>(Tq) * Tk;  // one head's (Tq, Tk) scores
    Tensor A = Tensor::uninitialized({B, H, Tq, Tk});
    Tensor C = Tensor::uninitialized({B, Tq, Hd});        // every (b, h) block is written once
    std::vector<float> P(drop.empty() ? 0 : block);      // A * drop of one head
    // The distinct sources, in order (Q's first); each view's gradient goes into its source's.
    std::vector<Var> srcs;
    for (const Heads* v : {&Q, &K, &V}) {
        bool seen = false;
        for (const Var& s : srcs) seen = seen || s.node() == v->src.node();
        if (!seen) srcs.push_back(v->src);
    }
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h) {
            const size_t bh = static_cast<size_t>(b) * H + h;
            float* a = A.data() + bh * block;
            const float *q = Q.at(b, Tq, h, d), *k = K.at(b, Tk, h, d), *v = V.at(b, Tk, h, d);
            kernels::sgemm(false, true, Tq, Tk, d, scale, q, Q.ld, k, K.ld, 0.0f, a, Tk);  // S
            if (keep.empty()) {
                kernels::softmax_rows(a, a, Tq, Tk);
            } else {
                const float* kb = keep.data() + static_cast<size_t>(b) * block;
                for (int i = 0; i < Tq; ++i) masked_softmax_row(a + static_cast<size_t>(i) * Tk, kb + static_cast<size_t>(i) * Tk, Tk);
            }
            const float* p = a;
            if (!drop.empty()) {
                kernels::mul(P.data(), a, drop.data() + bh * block, block);
                p = P.data();
            }
            kernels::sgemm(false, false, Tq, d, Tk, 1.0f, p, Tk, v, V.ld, 0.0f,
                           C.data() + static_cast<size_t>(b) * Tq * Hd + h * d, Hd);  // C_h = P V_h
        }
    if (weights) *weights = constant(A);  // a copy, for pictures: no gradient flows through it
    Var r = make_result(std::move(C), srcs, op);
    r.set_backward([Q, K, V, srcs, A = std::move(A), drop, B, H, d, Tq, Tk, scale](const Tensor& gC) {
        const int Hd = H * d;
        const size_t block = static_cast<size_t>(Tq) * Tk;
        // One gradient per source; the views write every column of it unless they cover only part
        // of the source, and then we start from zeros.
        std::vector<Tensor> grads;
        for (const Var& s : srcs) {
            int covered = 0;
            for (const Heads* v : {&Q, &K, &V}) covered += v->src.node() == s.node() ? Hd : 0;
            grads.push_back(covered == s.dim(2) ? Tensor::uninitialized(s.shape()) : Tensor(s.shape()));
        }
        const auto grad_of = [&](const Heads& v, int b, int T, int h) {
            size_t i = 0;
            while (srcs[i].node() != v.src.node()) ++i;
            return grads[i].data() + static_cast<size_t>(b) * T * v.ld + v.off + h * d;
        };
        std::vector<float> dS(block), P(drop.empty() ? 0 : block);
        for (int b = 0; b < B; ++b)
            for (int h = 0; h < H; ++h) {
                const size_t bh = static_cast<size_t>(b) * H + h;
                const float* a = A.data() + bh * block;
                const float* g = gC.data() + static_cast<size_t>(b) * Tq * Hd + h * d;
                const float* p = a;
                if (!drop.empty()) {
                    kernels::mul(P.data(), a, drop.data() + bh * block, block);
                    p = P.data();
                }
                kernels::sgemm(true, false, Tk, d, Tq, 1.0f, p, Tk, g, Hd, 0.0f, grad_of(V, b, Tk, h), V.ld);  // P^T gC
                kernels::sgemm(false, true, Tq, Tk, d, 1.0f, g, Hd, V.at(b, Tk, h, d), V.ld, 0.0f, dS.data(), Tk);  // dP
                if (!drop.empty()) kernels::mul(dS.data(), dS.data(), drop.data() + bh * block, block);
                kernels::softmax_rows_backward(dS.data(), dS.data(), a, Tq, Tk);  // dS = A (dA - rowsum(dA A))
                kernels::sgemm(false, false, Tq, d, Tk, scale, dS.data(), Tk, K.at(b, Tk, h, d), K.ld, 0.0f,
                               grad_of(Q, b, Tq, h), Q.ld);                                      // scale dS K
                kernels::sgemm(true, false, Tk, d, Tq, scale, dS.data(), Tk, Q.at(b, Tq, h, d), Q.ld, 0.0f,
                               grad_of(K, b, Tk, h), K.ld);                                      // scale dS^T Q
            }
        for (size_t i = 0; i < srcs.size(); ++i) srcs[i].accumulate_grad(std::move(grads[i]));
    });
    return r;
}

}  // namespace minirec
