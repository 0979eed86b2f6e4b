// MultiHeadAttention, TransformerEncoderLayer and PositionalEmbedding, composed from the ops
// of core/ops.h (matmul, masked softmax, permute, layer_norm). Deliberately left out: fused
// attention kernels; we materialise the (B, H, Tq, Tk) weights, which is fine for T <= 200.
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

namespace {

// Moves the heads between (B, T, H d), where a position's heads sit side by side, and
// (B, H, T, d), where each head owns a contiguous (T, d) block and so becomes one entry of a
// batched matmul. split: the first layout to the second; otherwise back. One copy of d floats per
// (b, t, h). (The same as reshape + permute + reshape, but those copy three times.)
void move_heads(float* y, const float* x, int B, int T, int H, int d, bool split) {
    const size_t dd = static_cast<size_t>(d);
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t)
            for (int h = 0; h < H; ++h) {
                const size_t packed = ((static_cast<size_t>(b) * T + t) * H + h) * dd;  // (B, T, H d)
                const size_t heads = ((static_cast<size_t>(b) * H + h) * T + t) * dd;   // (B, H, T, d)
                const float* src = x + (split ? packed : heads);
                std::copy(src, src + dd, y + (split ? heads : packed));
            }
}

// (B, T, H d) -> (B, H, T, d);  the gradient moves back: dx = merge(gy).
Var split_heads(const Var& x, int H, int d) {
    const int B = x.dim(0), T = x.dim(1);
    Tensor y = Tensor::uninitialized({B, H, T, d});  // move_heads writes every element
    move_heads(y.data(), x.value().data(), B, T, H, d, true);
    Var r = make_result(std::move(y), {x}, "split_heads");
    r.set_backward([x, B, T, H, d](const Tensor& gy) {
        Tensor dx = Tensor::uninitialized(x.shape());
        move_heads(dx.data(), gy.data(), B, T, H, d, false);
        x.accumulate_grad(std::move(dx));
    });
    return r;
}

// (B, H, T, d) -> (B, T, H d): concatenates the heads of each position;  dx = split(gy).
Var merge_heads(const Var& x) {
    const int B = x.dim(0), H = x.dim(1), T = x.dim(2), d = x.dim(3);
    Tensor y = Tensor::uninitialized({B, T, H * d});
    move_heads(y.data(), x.value().data(), B, T, H, d, false);
    Var r = make_result(std::move(y), {x}, "merge_heads");
    r.set_backward([x, B, T, H, d](const Tensor& gy) {
        Tensor dx = Tensor::uninitialized(x.shape());
        move_heads(dx.data(), gy.data(), B, T, H, d, true);
        x.accumulate_grad(std::move(dx));
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

    Var Q = split_heads(q(query), H, d);      // (B, H, Tq, d)
    Var K = split_heads(k(key_value), H, d);  // (B, H, Tk, d)
    Var V = split_heads(v(key_value), H, d);  // (B, H, Tk, d)

    // Scores Q K^T / sqrt(d), then a masked softmax over the keys.
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    Var scores = matmul(Q, K, false, true) * scale;                // (B, H, Tq, Tk)
    const Tensor m = build_attention_mask(mask, B, Tq, Tk);        // (B, 1, Tq, Tk)
    Var A = m.empty() ? softmax(scores) : softmax(scores, &m);      // (B, H, Tq, Tk)
    if (weights) *weights = A;

    Var ctx = merge_heads(matmul(attn_dropout(A), V));  // (B, H, Tq, d) -> (B, Tq, H d): concat heads
    return options.out_proj ? o(ctx) : ctx;             // (B, Tq, out)
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

Var TransformerEncoderLayer::operator()(const Var& x, const AttentionMask& mask, Var* weights) {
    Var h = norm1(x + drop1(attn(x, mask, weights)));    // (B, T, D)
    Var f = ffn2(gelu(ffn1(h)));                          // (B, T, F) -> (B, T, D)
    return norm2(h + drop2(f));                           // (B, T, D)
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

}  // namespace minirec
