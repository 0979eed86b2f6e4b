// The plain versions of the fused ops (see ops_reference.h): each reads like its formula and is
// composed of the ops in ops.h, so autograd gives its backward pass.
#include "core/ops_reference.h"

#include <cmath>

namespace minirec {
namespace reference {

// y_b = sum_i w_bi x_bi: each weight broadcast over its row of x, then the sum over i.
Var weighted_sum(const Var& w, const Var& x) { return sum(unsqueeze(w, 2) * x, 1); }

// y = x W + b
Var linear(const Var& x, const Var& W, const Var* b) {
    const int in = W.dim(0), out = W.dim(1);
    Shape y_shape = x.shape();
    y_shape.back() = out;
    Var y = matmul(reshape(x, {-1, in}), W);      // (n, out), n = every leading axis
    if (b) y = y + *b;                            // (out) broadcasts over the rows
    return reshape(y, y_shape);                   // (..., out)
}

Var linear_cat(const Var& x, const std::vector<Var>& weights, const std::vector<Var>& biases) {
    std::vector<Var> ys;
    for (size_t i = 0; i < weights.size(); ++i)
        ys.push_back(reference::linear(x, weights[i], biases.empty() ? nullptr : &biases[i]));
    return concat(ys, x.rank() - 1);
}

// f = GELU(x W1 + b1) W2 + b2
Var gelu_ffn(const Var& x, const Var& W1, const Var* b1, const Var& W2, const Var* b2) {
    return reference::linear(gelu(reference::linear(x, W1, b1)), W2, b2);
}

// Attention, one head at a time, exactly as the formula:
//     A_h = softmax(Q_h K_h^T / sqrt(d))       (masked entries get weight 0)
//     head_h = (A_h * drop_h) V_h
// and the heads side by side on the last axis.
Var attention(const Var& Q, const Var& K, const Var& V, int H, const Tensor& keep, const Tensor& drop,
              Var* weights) {
    const int d = Q.dim(2) / H;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    std::vector<Var> heads, As;
    for (int h = 0; h < H; ++h) {
        const Var Qh = slice(Q, 2, h * d, (h + 1) * d);                // (B, Tq, d)
        const Var Kh = slice(K, 2, h * d, (h + 1) * d);                // (B, Tk, d)
        const Var Vh = slice(V, 2, h * d, (h + 1) * d);                // (B, Tk, d)
        const Var S = matmul(Qh, Kh, false, true) * scale;             // (B, Tq, Tk) = Q_h K_h^T / sqrt(d)
        const Tensor keep_bqk = keep.empty() ? keep : keep.reshape(S.shape());  // (B, 1, Tq, Tk) -> (B, Tq, Tk)
        const Var A = keep.empty() ? softmax(S) : softmax(S, &keep_bqk);       // (B, Tq, Tk)
        As.push_back(unsqueeze(A, 1));
        Var P = A;                                                     // dropout: A * drop_h
        if (!drop.empty()) P = A * constant(slice(constant(drop), 1, h, h + 1).value().reshape(S.shape()));
        heads.push_back(matmul(P, Vh));                                // (B, Tq, d)
    }
    if (weights) *weights = concat(As, 1);                             // (B, H, Tq, Tk)
    return concat(heads, 2);                                           // (B, Tq, H d)
}

// l_b = -sum_j one_hot(t_b)_j log softmax(c_b)_j,  c = scale z - shift
Var softmax_cross_entropy_rows(const Var& logits, const Ids& targets, int ignore_index, float scale,
                               const Tensor* shift) {
    const int B = logits.dim(0), C = logits.dim(1);
    Tensor one_hot({B, C});
    for (int b = 0; b < B; ++b)
        if (targets[static_cast<size_t>(b)] != ignore_index) one_hot[static_cast<size_t>(b) * C + targets[static_cast<size_t>(b)]] = 1.0f;
    Var c = logits * scale;
    if (shift) c = c - constant(*shift);
    return -sum(log_softmax(c) * constant(one_hot), 1);                 // (B)
}

Var linear_softmax_cross_entropy_rows(const Var& h, const Var& W, const Var& b, const Ids& targets,
                                      int ignore_index) {
    const Var logits = matmul(h, W, false, true) + b;                   // (B, C) = h W^T + b
    return reference::softmax_cross_entropy_rows(logits, targets, ignore_index);
}

void adam_update(Tensor& p, Tensor& m, Tensor& v, const Tensor& g, const AdamStep& s) {
    for (size_t k = 0; k < p.size(); ++k) {
        m[k] = m[k] * s.b1 + s.one_minus_b1 * g[k];                      // m = b1 m + (1 - b1) g
        v[k] = v[k] * s.b2 + s.one_minus_b2 * (g[k] * g[k]);             // v = b2 v + (1 - b2) g^2
        const float denom = std::sqrt(v[k]) / s.bc2_sqrt + s.eps;        // sqrt(v_hat) + eps
        p[k] = p[k] + s.neg_step * m[k] / denom;                         // p -= lr m_hat / denom
    }
}

}  // namespace reference
}  // namespace minirec
