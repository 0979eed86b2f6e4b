// MultiHeadAttention, TransformerEncoderLayer and PositionalEmbedding. The attention itself
// (scores, masked softmax, dropout, weighted sum, for every head) is one op written out here,
// forward and backward; the rest is composed from core/ops.h. Deliberately left out: flash-style
// tiling; we materialise the (B, H, Tq, Tk) weights, which is fine for T <= 200.
#include "nn/attention.h"

#include <algorithm>
#include <cmath>

#include "core/kernels.h"

namespace minirec {

// ---- Masks -----------------------------------------------------------------------------------

Tensor build_attention_mask(const AttentionMask& mask, int B, int Tq, int Tk) {
    if (!mask.key_padding && !mask.causal) return Tensor(Shape{0});
    if (mask.key_padding && mask.key_padding->shape() != Shape{B, Tk})
        shape_fail("MultiHeadAttention", mask.key_padding->shape(),
                   "key_padding mask must be (B, Tk) = " + shape_str({B, Tk}));
    Tensor m({B, 1, Tq, Tk}, 1.0f);
    const int shift = Tk - Tq;  // causal: query i sees keys j <= i + shift
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < Tq; ++i)
            for (int j = 0; j < Tk; ++j) {
                float keep = 1.0f;
                if (mask.causal && j > i + shift) keep = 0.0f;
                if (mask.key_padding && (*mask.key_padding)[static_cast<size_t>(b) * Tk + j] == 0.0f)
                    keep = 0.0f;
                m[(static_cast<size_t>(b) * Tq + i) * Tk + j] = keep;
            }
    return m;
}

// ---- MultiHeadAttention ----------------------------------------------------------------------

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& opt, Rng& rng)
    : options(opt) {
    if (opt.dim <= 0 || opt.heads <= 0)
        arg_fail("MultiHeadAttention", "dim and heads must be positive");
    if (options.head_dim == 0) {
        if (opt.dim % opt.heads != 0)
            arg_fail("MultiHeadAttention", "dim " + std::to_string(opt.dim) +
                                               " is not a multiple of heads " +
                                               std::to_string(opt.heads) + " (or set head_dim)");
        options.head_dim = opt.dim / opt.heads;
    }
    if (options.kv_dim == 0) options.kv_dim = opt.dim;
    const int inner = options.heads * options.head_dim;  // H d
    q = Linear(opt.dim, inner, rng, opt.bias);
    k = Linear(options.kv_dim, inner, rng, opt.bias);
    v = Linear(options.kv_dim, inner, rng, opt.bias);
    if (opt.out_proj) o = Linear(inner, opt.dim, rng, opt.bias);
    attn_dropout = Dropout(opt.dropout, rng);
}

namespace {

// x, then the weight and bias (when it has one) of each layer: the parents of a fused op.
std::vector<Var> with_params(const Var& x, const Linear& a, const Linear& b) {
    std::vector<Var> p{x};
    for (const Linear* l : {&a, &b}) {
        p.push_back(l->weight);
        if (l->has_bias) p.push_back(l->bias);
    }
    return p;
}

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

// Where the heads of Q, K or V live: head h of position t of sequence b is the d floats at
// src[(b T + t) ld + off + h d]. A projection of its own has ld = H d, off = 0; with the Q, K
// and V projections fused into one (B, T, 3 H d) tensor, K is the view ld = 3 H d, off = H d.
struct HeadsView {
    Var src;
    int ld, off;
    const float* at(int b, int T, int h, int d) const {
        return src.value().data() + static_cast<size_t>(b) * T * ld + off + h * d;
    }
};

// Scaled dot-product attention of all heads as ONE graph node, read and written in the packed
// layout of the projections (see HeadsView), so the heads are never copied into a (B, H, T, d)
// layout and back: each head is one strided GEMM. Per (b, h):
//   forward:  S = scale Q_h K_h^T (Tq, Tk);  A = softmax(S + mask);  P = A * drop;  C_h = P V_h
//   backward: dP = gC_h V_h^T;  dA = dP * drop;  dS = A * (dA - rowsum(dA * A))  (the softmax
//             Jacobian);  dQ_h = scale dS K_h;  dK_h = scale dS^T Q_h;  dV_h = P^T gC_h
// keep (B, 1, Tq, Tk) is 1/0 or empty (nothing masked); drop (B, H, Tq, Tk) holds the dropout
// factors (0 or 1/(1-p)) or is empty (no dropout). We keep only A for the backward pass; the
// (Tq, Tk) blocks of one head stay in L1 while we work on them. When views share a source
// (the fused QKV), their gradients are written side by side into one gradient of that source.
Var attention_op(const HeadsView& Q, const HeadsView& K, const HeadsView& V, int H, int d, float scale,
                 const Tensor& keep, const Tensor& drop, Var* weights) {
    const int B = Q.src.dim(0), Tq = Q.src.dim(1), Tk = K.src.dim(1), Hd = H * d;
    const size_t block = static_cast<size_t>(Tq) * Tk;  // one head's (Tq, Tk) scores
    Tensor A = Tensor::uninitialized({B, H, Tq, Tk});
    Tensor C = Tensor::uninitialized({B, Tq, Hd});        // every (b, h) block is written once
    std::vector<float> P(drop.empty() ? 0 : block);      // A * drop of one head
    // The distinct sources, in order (Q's first); each view's gradient goes into its source's.
    std::vector<Var> srcs;
    for (const HeadsView* v : {&Q, &K, &V}) {
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
    Var r = make_result(std::move(C), srcs, "attention");
    r.set_backward([Q, K, V, srcs, A = std::move(A), drop, B, H, d, Tq, Tk, scale](const Tensor& gC) {
        const int Hd = H * d;
        const size_t block = static_cast<size_t>(Tq) * Tk;
        // One gradient per source; the views write every column of it unless they cover only part
        // of the source, and then we start from zeros.
        std::vector<Tensor> grads;
        for (const Var& s : srcs) {
            int covered = 0;
            for (const HeadsView* v : {&Q, &K, &V}) covered += v->src.node() == s.node() ? Hd : 0;
            grads.push_back(covered == s.dim(2) ? Tensor::uninitialized(s.shape()) : Tensor(s.shape()));
        }
        const auto grad_of = [&](const HeadsView& v, int b, int T, int h) {
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

}  // namespace

Var MultiHeadAttention::operator()(const Var& query, const Var& key_value,
                                   const AttentionMask& mask, Var* weights) {
    const int H = options.heads, d = options.head_dim;
    if (query.rank() != 3 || query.dim(2) != options.dim)
        shape_fail("MultiHeadAttention", query.shape(),
                   "query must be (B, Tq, " + std::to_string(options.dim) + ")");
    if (key_value.rank() != 3 || key_value.dim(0) != query.dim(0) ||
        key_value.dim(2) != options.kv_dim)
        shape_fail("MultiHeadAttention", query.shape(), key_value.shape(),
                   "key_value must be (B, Tk, " + std::to_string(options.kv_dim) + ")");
    const int B = query.dim(0), Tq = query.dim(1), Tk = key_value.dim(1);

    // The projections stay packed and the attention op reads each head in place. Self-attention
    // computes Q, K and V as one GEMM, (B, T, 3 H d); cross-attention Q alone and K, V together.
    const int Hd = H * d;
    HeadsView Q, K, V;
    if (query.node() == key_value.node()) {
        const Var qkv = linear_cat(query, {&q, &k, &v});  // (B, T, 3 H d)
        Q = {qkv, 3 * Hd, 0}, K = {qkv, 3 * Hd, Hd}, V = {qkv, 3 * Hd, 2 * Hd};
    } else {
        const Var kv = linear_cat(key_value, {&k, &v});  // (B, Tk, 2 H d)
        Q = {q(query), Hd, 0}, K = {kv, 2 * Hd, 0}, V = {kv, 2 * Hd, Hd};
    }
    const Tensor m = build_attention_mask(mask, B, Tq, Tk);  // (B, 1, Tq, Tk) or empty
    // Attention dropout as factors (0 or 1/(1-p)) drawn by the Dropout layer itself, one per
    // weight in order, so a seed gives the same mask as dropout applied to A directly.
    Tensor drop(Shape{0});
    if (attn_dropout.training && attn_dropout.p > 0.0f)
        drop = attn_dropout(constant(Tensor({B, H, Tq, Tk}, 1.0f))).value();
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    Var ctx = attention_op(Q, K, V, H, d, scale, m, drop, weights);  // (B, Tq, H d): heads concatenated
    return options.out_proj ? o(ctx) : ctx;                           // (B, Tq, out)
}

NamedParams MultiHeadAttention::named_parameters(const std::string& prefix) const {
    NamedParams p = q.named_parameters(prefix + "q.");
    append(p, k.named_parameters(prefix + "k."));
    append(p, v.named_parameters(prefix + "v."));
    if (options.out_proj) append(p, o.named_parameters(prefix + "o."));
    return p;
}

// ---- TransformerEncoderLayer -----------------------------------------------------------------

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& opt,
                                                 Rng& rng) {
    const int D = opt.dim, F = opt.ffn_dim > 0 ? opt.ffn_dim : 4 * opt.dim;
    MultiHeadAttentionOptions a;
    a.dim = D;
    a.heads = opt.heads;
    a.dropout = opt.dropout;
    attn = MultiHeadAttention(a, rng);
    drop1 = Dropout(opt.dropout, rng);
    drop2 = Dropout(opt.dropout, rng);
    norm1 = LayerNorm(D, opt.eps);
    norm2 = LayerNorm(D, opt.eps);
    ffn1 = Linear(D, F, rng);
    ffn2 = Linear(F, D, rng);
}

// ---- The feed-forward network as one op ------------------------------------------------------
// Per block of R rows (R x F floats per buffer: 256 KiB for R = 256, F = 256):
//   forward:  u = x W1 + b1 (kept),  a = GELU(u),  y = a W2 + b2
//   backward: da = gy W2^T;  du = da GELU'(u) and a = GELU(u) again (one kernel, one erf);
//             dW2 += a^T gy;  db2 += 1^T gy;  dW1 += x^T du;  db1 += 1^T du;  dx = du W1^T
// Op by op, each (n, F) tensor (u, a, their gradients) would be written to memory and read back
// two or three times; block by block they stay in L2 between the steps.
constexpr int kFfnRows = 256;

Var gelu_ffn(const Var& x, const Linear& ffn1, const Linear& ffn2) {
    const int D = ffn1.in_features(), F = ffn1.out_features(), Dout = ffn2.out_features();
    if (ffn2.in_features() != F)
        arg_fail("gelu_ffn", "ffn2 takes " + std::to_string(ffn2.in_features()) + " inputs, ffn1 gives " +
                                 std::to_string(F));
    if (x.rank() < 2 || x.dim(-1) != D)
        shape_fail("gelu_ffn", x.shape(), ffn1.weight.shape(), "x must be (..., " + std::to_string(D) + ")");
    const int n = static_cast<int>(x.size() / static_cast<size_t>(D));
    Shape y_shape = x.shape();
    y_shape.back() = Dout;
    Tensor U = Tensor::uninitialized({n, F}), y = Tensor::uninitialized(y_shape);
    std::vector<float> a(static_cast<size_t>(kFfnRows) * F);  // GELU(u) of one block
    const float* b1 = ffn1.has_bias ? ffn1.bias.value().data() : nullptr;
    const float* b2 = ffn2.has_bias ? ffn2.bias.value().data() : nullptr;
    for (int r0 = 0; r0 < n; r0 += kFfnRows) {
        const int R = std::min(kFfnRows, n - r0);
        float* u = U.data() + static_cast<size_t>(r0) * F;
        kernels::linear_forward(u, x.value().data() + static_cast<size_t>(r0) * D, ffn1.weight.value().data(),
                                b1, R, D, F);                                                    // u = x W1 + b1
        kernels::gelu(a.data(), u, static_cast<size_t>(R) * F);                                 // a = GELU(u)
        kernels::linear_forward(y.data() + static_cast<size_t>(r0) * Dout, a.data(), ffn2.weight.value().data(),
                                b2, R, F, Dout);                                                 // y = a W2 + b2
    }
    std::vector<Var> parents = with_params(x, ffn1, ffn2);
    Var r = make_result(std::move(y), parents, "gelu_ffn");
    r.set_backward([x, l1 = ffn1, l2 = ffn2, U = std::move(U), n, D, F, Dout](const Tensor& gy) {
        // W1^T (F, D) and W2^T (Dout, F), transposed once here rather than once per block.
        const Tensor W1t = transposed(l1.weight.value()), W2t = transposed(l2.weight.value());
        Tensor dx = Tensor::uninitialized(x.shape()), dW1 = Tensor::uninitialized(l1.weight.shape()),
               dW2 = Tensor::uninitialized(l2.weight.shape()), db1(Shape{F}), db2(Shape{Dout});
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
        x.accumulate_grad(std::move(dx));
        l1.weight.accumulate_grad(std::move(dW1));
        l2.weight.accumulate_grad(std::move(dW2));
        if (l1.has_bias) l1.bias.accumulate_grad(std::move(db1));
        if (l2.has_bias) l2.bias.accumulate_grad(std::move(db2));
    });
    return r;
}

Var TransformerEncoderLayer::operator()(const Var& x, const AttentionMask& mask, Var* weights) {
    Var h = norm1(x, drop1(attn(x, mask, weights)));     // LayerNorm(x + ...), (B, T, D)
    Var f = gelu_ffn(h, ffn1, ffn2);                      // GELU(h W1 + b1) W2 + b2: (B, T, F) -> (B, T, D)
    return norm2(h, drop2(f));                            // LayerNorm(h + f), (B, T, D)
}

void TransformerEncoderLayer::set_training(bool on) {
    attn.set_training(on);
    drop1.training = on;
    drop2.training = on;
}

NamedParams TransformerEncoderLayer::named_parameters(const std::string& prefix) const {
    NamedParams p = attn.named_parameters(prefix + "attn.");
    append(p, norm1.named_parameters(prefix + "norm1."));
    append(p, ffn1.named_parameters(prefix + "ffn1."));
    append(p, ffn2.named_parameters(prefix + "ffn2."));
    append(p, norm2.named_parameters(prefix + "norm2."));
    return p;
}

// ---- PositionalEmbedding ---------------------------------------------------------------------

PositionalEmbedding::PositionalEmbedding(int max_len, int dim, Rng& rng, float init_std) {
    if (max_len <= 0 || dim <= 0) arg_fail("PositionalEmbedding", "sizes must be positive");
    table = parameter(Tensor::normal({max_len, dim}, rng, 0.0f, init_std));
}

Var PositionalEmbedding::positions(int T) const {
    if (T <= 0 || T > table.dim(0))
        arg_fail("PositionalEmbedding", "sequence length " + std::to_string(T) +
                                            " is outside [1, max_len = " +
                                            std::to_string(table.dim(0)) + "]");
    return T == table.dim(0) ? table : slice(table, 0, 0, T);  // (T, D)
}

Var PositionalEmbedding::operator()(const Var& x) const {
    if (x.rank() != 3 || x.dim(2) != table.dim(1))
        shape_fail("PositionalEmbedding", x.shape(), table.shape(), "x must be (B, T, D)");
    return x + positions(x.dim(1));  // (T, D) broadcasts over the batch
}

NamedParams PositionalEmbedding::named_parameters(const std::string& prefix) const {
    return {{prefix + "table", table}};
}

// ---- Attention pooling -------------------------------------------------------------------------

Var attention_pool(const Var& keys, const Var& query, const Tensor& mask, Var* weights, float scale) {
    const int B = keys.dim(0), T = keys.dim(1);
    Var logits = reshape(matmul(keys, unsqueeze(query, 2)), {B, 1, T});   // (B, 1, T) k_t^T q
    if (scale != 1.0f) logits = logits * scale;
    const Tensor m = mask.reshape({B, 1, T});
    const Var a = softmax(logits, &m);                                      // (B, 1, T)
    if (weights) *weights = a;
    return squeeze(matmul(a, keys), 1);                                     // (B, D)
}

}  // namespace minirec
