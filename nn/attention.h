// Attention layers: MultiHeadAttention (with key-padding and causal masks, and its weights on
// request), the post-norm TransformerEncoderLayer of BERT, learned positional embeddings, and
// attention pooling with one query per row.
// Deliberately left out: decoder layers, KV caches, relative positions, pre-norm variants.
#pragma once
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/params.h"

namespace minirec {

// Which (query, key) pairs may attend. Both parts are optional and combine (logical and).
struct AttentionMask {
    // (B, Tk): 1 for a real key, 0 for padding. Padding may sit anywhere (left-padded sequences
    // are fine). Not owned: it must live until the forward pass returns.
    const Tensor* key_padding = nullptr;
    // Query i may only see keys j <= i + (Tk - Tq): the usual lower triangle when Tq == Tk, and
    // aligned at the end when Tq < Tk.
    bool causal = false;
};

// Multi-head scaled dot-product attention (Vaswani et al. 2017), queries (B, Tq, Dq) and
// keys/values (B, Tk, Dkv). For each head h (of size d = head_dim):
//     Q_h = X_q W_q^h,  K_h = X_kv W_k^h,  V_h = X_kv W_v^h             (B, T, d)
//     A_h = softmax(Q_h K_h^T / sqrt(d) + mask)                          (B, Tq, Tk)
//     head_h = Dropout(A_h) V_h                                          (B, Tq, d)
//     out = concat_h(head_h) W_o                                         (B, Tq, out)
// A fully masked query row gets all-zero weights (and output b_o). Without an output
// projection (out_proj = false, as AutoInt) out is the concatenation of the heads, (B, Tq, H d).
struct MultiHeadAttentionOptions {
    int dim = 0;            // Dq, the size of the queries (and the output, with out_proj)
    int heads = 1;          // H
    int head_dim = 0;       // d; 0 means dim / heads (dim must then be a multiple of heads)
    int kv_dim = 0;         // Dkv; 0 means dim
    bool bias = true;       // biases in the four projections
    bool out_proj = true;   // the final W_o
    float dropout = 0.0f;   // on the attention weights, in training
};

struct MultiHeadAttention {
    MultiHeadAttentionOptions options;
    Linear q, k, v;   // (Dq, H d), (Dkv, H d), (Dkv, H d)
    Linear o;         // (H d, Dq), when out_proj
    Dropout attn_dropout;

    MultiHeadAttention() = default;
    MultiHeadAttention(const MultiHeadAttentionOptions& options, Rng& rng);

    // Cross-attention: query (B, Tq, Dq), key_value (B, Tk, Dkv) -> (B, Tq, out). When weights is
    // not null it receives the attention weights A (B, H, Tq, Tk), before dropout; each row sums
    // to 1 over the keys it may see. They are a copy for inspection and pictures: no gradient
    // flows back through them. Non-const: attention dropout draws random numbers.
    Var operator()(const Var& query, const Var& key_value, const AttentionMask& mask = {},
                   Var* weights = nullptr);
    // Self-attention: query = key_value = x (B, T, D).
    Var operator()(const Var& x, const AttentionMask& mask = {}, Var* weights = nullptr) {
        return (*this)(x, x, mask, weights);
    }
    // Mode: the training flag of the attention dropout.
    void set_training(bool on) { attn_dropout.training = on; }

    NamedParams named_parameters(const std::string& prefix = "") const;  // q.*, k.*, v.*, o.*
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// The attention mask as a 0/1 tensor (B, 1, Tq, Tk) that broadcasts over the heads, or an empty
// tensor when nothing is masked. Exposed for tests and for models that attend by hand.
Tensor build_attention_mask(const AttentionMask& mask, int B, int Tq, int Tk);

// The position-wise feed-forward network of a transformer layer, f = GELU(x W_1 + b_1) W_2 + b_2,
// x (..., D) -> (..., D_out): core's fused gelu_ffn (rows in blocks that stay in L2), the same
// numbers as ffn2(gelu(ffn1(x))) up to the order of the sums (reference::gelu_ffn).
Var gelu_ffn(const Var& x, const Linear& ffn1, const Linear& ffn2);

// One post-norm encoder layer, as BERT (Devlin et al. 2019) and BERT4Rec:
//     x = LayerNorm(x + Dropout(MHA(x)))
//     x = LayerNorm(x + Dropout(GELU(x W_1 + b_1) W_2 + b_2))
struct TransformerEncoderLayerOptions {
    int dim = 0;            // D
    int heads = 1;          // H (D must be a multiple of H)
    int ffn_dim = 0;        // inner size of the feed-forward network; 0 means 4 D
    float dropout = 0.1f;   // residual dropout, and attention dropout
    float eps = 1e-5f;      // LayerNorm epsilon
};

struct TransformerEncoderLayer {
    MultiHeadAttention attn;
    Dropout drop1, drop2;
    LayerNorm norm1, norm2;
    Linear ffn1, ffn2;     // (D, ffn_dim), (ffn_dim, D)

    TransformerEncoderLayer() = default;
    TransformerEncoderLayer(const TransformerEncoderLayerOptions& options, Rng& rng);

    // x (B, T, D) -> (B, T, D); weights as in MultiHeadAttention. Non-const (dropout).
    Var operator()(const Var& x, const AttentionMask& mask = {}, Var* weights = nullptr);
    // Mode: every dropout inside.
    void set_training(bool on);

    NamedParams named_parameters(const std::string& prefix = "") const;
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// Learned absolute positions (as BERT): a table P (max_len, D), N(0, 0.02^2) at the start.
//     y[b, t] = x[b, t] + P[t]
struct PositionalEmbedding {
    Var table;  // (max_len, D)

    PositionalEmbedding() = default;
    PositionalEmbedding(int max_len, int dim, Rng& rng, float init_std = 0.02f);

    Var operator()(const Var& x) const;  // (B, T, D) -> (B, T, D), T <= max_len
    Var positions(int T) const;          // the first T rows, (T, D)

    NamedParams named_parameters(const std::string& prefix = "") const;  // table
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// Attention pooling with one query per row, as the user attention of SDM or the label-aware
// attention of MIND: keys (B, T, D), query (B, D) ->
//     a = softmax_t(scale k_t^T q)   over the keys the mask keeps     (B, 1, T)
//     out = sum_t a_t k_t                                                (B, D)
// mask: B * T entries, 1 for a real key, 0 for padding (shape (B, T) or (B, 1, T)); a row with no
// real key pools to zeros. weights, when not null, receives a (B, 1, T) as part of the graph.
Var attention_pool(const Var& keys, const Var& query, const Tensor& mask, Var* weights = nullptr,
                   float scale = 1.0f);

}  // namespace minirec
