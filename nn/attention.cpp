// MultiHeadAttention, TransformerEncoderLayer and PositionalEmbedding, composed from core/ops.h:
// the attention of all heads and the feed-forward block are the fused ops of core (with their
// plain versions in core/ops_reference.h). Deliberately left out: decoder layers, KV caches.
#include "nn/attention.h"

#include <algorithm>
#include <cmath>

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

    // Q = X_q W_q, K = X_kv W_k, V = X_kv W_v, kept packed: self-attention computes the three as
    // one GEMM, (B, T, 3 H d), cross-attention Q alone and K, V together; attention() reads each
    // head in place (a HeadsView is a packed tensor and the column where the heads start).
    const int Hd = H * d;
    HeadsView Q, K, V;
    if (query.node() == key_value.node()) {
        const Var qkv = linear_cat(query, {&q, &k, &v});  // (B, T, 3 H d)
        Q = {qkv, 0}, K = {qkv, Hd}, V = {qkv, 2 * Hd};
    } else {
        const Var kv = linear_cat(key_value, {&k, &v});  // (B, Tk, 2 H d)
        Q = {q(query), 0}, K = {kv, 0}, V = {kv, Hd};
    }
    const Tensor m = build_attention_mask(mask, B, Tq, Tk);  // (B, 1, Tq, Tk) or empty
    // Attention dropout as factors (0 or 1/(1-p)) drawn by the Dropout layer itself, one per
    // weight in order, so a seed gives the same mask as dropout applied to A directly.
    Tensor drop(Shape{0});
    if (attn_dropout.training && attn_dropout.p > 0.0f)
        drop = attn_dropout(constant(Tensor({B, H, Tq, Tk}, 1.0f))).value();
    // head_h = Dropout(softmax(Q_h K_h^T / sqrt(d) + mask)) V_h for every h, the heads side by side:
    // the fused op in core/ops_attention.cpp. The formula written head by head with matmul and
    // softmax is reference::attention in core/ops_reference.cpp; tests hold the two together.
    Var ctx = attention(Q, K, V, H, d, m, drop, weights);  // (B, Tq, H d)
    return options.out_proj ? o(ctx) : ctx;               // concat_h(head_h) W_o + b_o: (B, Tq, out)
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

// ---- The feed-forward network -----------------------------------------------------------------
// GELU(x W1 + b1) W2 + b2 as the fused op in core/ops_fused.cpp (blocks of rows that stay in L2);
// reference::gelu_ffn in core/ops_reference.cpp is linear(gelu(linear(x))).
Var gelu_ffn(const Var& x, const Linear& ffn1, const Linear& ffn2) {
    return gelu_ffn(x, ffn1.weight, ffn1.has_bias ? &ffn1.bias : nullptr, ffn2.weight,
                    ffn2.has_bias ? &ffn2.bias : nullptr);
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
