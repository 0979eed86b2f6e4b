// AutoInt (Song et al., CIKM 2019, arXiv 1810.11921), "Automatic Feature Interaction Learning via
// Self-Attentive Neural Networks", and its two baselines, logistic regression and FM, as plain
// structs over the rows of datasets/synthetic_ctr.h. Deliberately left out: AutoInt+ (the parallel
// DNN), dropout, layer norm, and any feature hashing (the synthetic ids are already small).
//
// The paper's model, for M fields:
//   eq. 1-4:  e_m = V_m x_m (one-hot), the mean of the rows (multi-hot), e_m = v_m x_m (numeric)
//   eq. 5-6:  alpha^(h)_{m,k} = softmax_k( <W_Q^(h) e_m, W_K^(h) e_k> )
//   eq. 7:    e~^(h)_m = sum_k alpha^(h)_{m,k} W_V^(h) e_k
//   eq. 8:    e~_m = e~^(1)_m (+) ... (+) e~^(H)_m                         (concatenate the heads)
//   eq. 9:    e^Res_m = ReLU(e~_m + W_Res e_m)                            (one interacting layer)
//   eq. 10:   y^ = sigmoid(w^T (e^Res_1 (+) ... (+) e^Res_M) + b)
// L interacting layers are stacked, each reading the previous one's e^Res. The paper scores
// <., .> as a plain inner product; nn::MultiHeadAttention divides by sqrt(d'), which only rescales
// W_Q, so we keep it. The paper's sizes: D = 16, H = 2 heads of d' = 32, L = 3 layers.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "datasets/synthetic_ctr.h"
#include "nn/factorization.h"
#include "nn/layers.h"

namespace minirec {
// FieldEmbedding and LogisticRegression here read mixed fields (one-hot, multi-hot, numeric);
// nn/factorization.h's read one-hot ids only.
namespace ch64 {

// A mini-batch of synthetic_ctr rows in the form the models read: the categorical ids shifted
// into one shared table (field f's value x sits at row offset_f + x), the tag bags, the numeric z.
struct CtrBatch {
    int size = 0;                // B
    Ids cat;                     // (B * F), already offset into the shared table
    Ids tag_ids;                 // the tags of all rows, bag b is tag_ids[tag_offsets[b] .. [b+1])
    std::vector<int> tag_offsets;  // (B + 1)
    Tensor numeric;              // (B, 1)
    Tensor labels;               // (B, 1)
};

// The first row of each field in the shared table, and the table's size (sum of V_f).
inline std::vector<int> field_offsets(const datasets::CtrData& d) {
    std::vector<int> off(size_t(d.num_fields) + 1, 0);
    for (int f = 0; f < d.num_fields; ++f) off[size_t(f) + 1] = off[size_t(f)] + d.vocab_sizes[size_t(f)];
    return off;
}

inline CtrBatch make_ctr_batch(const datasets::CtrData& d, const std::vector<int>& rows) {
    const int F = d.num_fields, B = int(rows.size());
    const std::vector<int> off = field_offsets(d);
    CtrBatch b;
    b.size = B;
    b.numeric = Tensor({B, 1});
    b.labels = Tensor({B, 1});
    b.tag_offsets.push_back(0);
    for (int i = 0; i < B; ++i) {
        const int r = rows[size_t(i)];
        for (int f = 0; f < F; ++f) b.cat.push_back(off[size_t(f)] + d.cat[size_t(r) * F + f]);
        for (int t = d.tag_offsets[size_t(r)]; t < d.tag_offsets[size_t(r) + 1]; ++t) b.tag_ids.push_back(d.tag_ids[size_t(t)]);
        b.tag_offsets.push_back(int(b.tag_ids.size()));
        b.numeric[size_t(i)] = d.numeric[size_t(r)];
        b.labels[size_t(i)] = d.labels[size_t(r)];
    }
    return b;
}

// Field names for reports: the F categorical fields, then "tags" and "num".
inline std::vector<std::string> field_names(const datasets::CtrData& d) {
    std::vector<std::string> names;
    for (int f = 0; f < d.num_fields; ++f) names.push_back("c" + std::to_string(f));
    names.push_back("tags");
    names.push_back("num");
    return names;
}

// ---- Field embeddings (eqs. 1-4): every field becomes one vector of size D -------------------
// M = F + 2 fields: F one-hot, the multi-hot tags (mean of their rows, eq. 3), the numeric z
// (z times a learned vector, eq. 4). With D = 1 these are the weights of logistic regression.
struct FieldEmbedding {
    Embedding cat;           // (sum V_f, D), all categorical fields in one table
    EmbeddingBag tags;       // (T, D), mean over a row's tags
    Var numeric;             // v_num (1, D)
    int fields = 0;          // F

    FieldEmbedding() = default;
    FieldEmbedding(const datasets::CtrData& d, int dim, Rng& rng, float init_std)
        : cat(field_offsets(d).back(), dim, rng, init_std),
          tags(d.num_tags, dim, rng, BagMode::mean, init_std),
          numeric(parameter(Tensor::normal({1, dim}, rng, 0.0f, init_std))),
          fields(d.num_fields) {}

    // -> (B, M, D), M = F + 2
    Var operator()(const CtrBatch& b) const {
        const Var e_cat = cat(b.cat, {b.size, fields});                       // eq. 2: (B, F, D)
        const Var e_tag = unsqueeze(tags(b.tag_ids, b.tag_offsets), 1);       // eq. 3: (B, 1, D)
        const Var e_num = unsqueeze(matmul(constant(b.numeric), numeric), 1); // eq. 4: (B, 1, D)
        return concat({e_cat, e_tag, e_num}, 1);
    }

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = cat.named_parameters(prefix + "cat.");
        append(p, tags.named_parameters(prefix + "tags."));
        p.push_back({prefix + "numeric", numeric});
        return p;
    }
};

// ---- Logistic regression:  logit = b + sum_m w_m(x_m) ---------------------------------------
struct LogisticRegression {
    FieldEmbedding w;        // D = 1: one weight per field value
    Var bias;

    LogisticRegression(const datasets::CtrData& d, Rng& rng)
        : w(d, 1, rng, 0.0f), bias(parameter(Tensor({1}))) {}

    Var logits(const CtrBatch& b, Var* = nullptr) const {       // -> (B, 1)
        return sum(w(b), 1) + bias;                             // (B, M, 1) summed over fields
    }
    NamedParams named_parameters() const {
        NamedParams p = w.named_parameters("w.");
        p.push_back({"bias", bias});
        return p;
    }
};

// ---- FM (Rendle 2010):  logit = LR + sum_{m<k} <e_m, e_k> ------------------------------------
// nn/factorization.h's FM reads one-hot ids only; here the same pairwise term (fm_pairs) runs over
// the mixed field embeddings of eqs. 1-4.
struct FactorizationMachine {
    LogisticRegression linear;
    FieldEmbedding v;        // (B, M, D)

    FactorizationMachine(const datasets::CtrData& d, int dim, Rng& rng)
        : linear(d, rng), v(d, dim, rng, 0.1f) {}

    Var logits(const CtrBatch& b, Var* = nullptr) const {
        return linear.logits(b) + fm_pairs(v(b));               // v(b): (B, M, D)
    }
    NamedParams named_parameters() const {
        NamedParams p = linear.named_parameters();
        append(p, v.named_parameters("v."));
        return p;
    }
};

// ---- AutoInt ------------------------------------------------------------------------------------
struct AutoIntOptions {
    int dim = 16;            // D, the field embedding size
    int heads = 2;           // H
    int head_dim = 16;       // d' per head; a layer's output has H d' per field
    int layers = 2;          // L interacting layers
};

// One interacting layer, eqs. 5-9:  (B, M, D_in) -> (B, M, H d').
struct InteractingLayer {
    MultiHeadAttention attn;  // W_Q, W_K, W_V per head, no biases, no output projection (eqs. 5-8)
    Linear res;               // W_Res (D_in, H d'), no bias (eq. 9)

    InteractingLayer(int in, const AutoIntOptions& o, Rng& rng) {
        MultiHeadAttentionOptions a;
        a.dim = in;
        a.heads = o.heads;
        a.head_dim = o.head_dim;
        a.bias = false;
        a.out_proj = false;
        attn = MultiHeadAttention(a, rng);
        res = Linear(in, o.heads * o.head_dim, rng, false);
    }
    // weights, when not null, receives alpha (B, H, M, M): row m is field m's attention over fields.
    Var operator()(const Var& e, Var* weights = nullptr) {
        const Var heads = attn(e, AttentionMask{}, weights);      // eqs. 5-8: (B, M, H d')
        return relu(heads + res(e));                              // eq. 9
    }
};

struct AutoInt {
    AutoIntOptions options;
    FieldEmbedding embed;                 // eqs. 1-4
    std::vector<InteractingLayer> layers; // L of them
    Linear out;                           // w (M H d', 1) and b, eq. 10

    AutoInt(const datasets::CtrData& d, const AutoIntOptions& o, Rng& rng)
        : options(o), embed(d, o.dim, rng, 0.1f) {
        const int M = d.num_fields + 2;
        int in = o.dim;
        for (int l = 0; l < o.layers; ++l) {
            layers.emplace_back(in, o, rng);
            in = o.heads * o.head_dim;
        }
        out = Linear(M * in, 1, rng);
    }

    // -> logits (B, 1). first_attention, when not null, receives layer 1's alpha (B, H, M, M).
    Var logits(const CtrBatch& b, Var* first_attention = nullptr) {
        Var e = embed(b);                                         // (B, M, D)
        for (size_t l = 0; l < layers.size(); ++l)
            e = layers[l](e, l == 0 ? first_attention : nullptr); // (B, M, H d')
        return out(reshape(e, {b.size, -1}));                     // eq. 10, before the sigmoid
    }

    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        for (size_t l = 0; l < layers.size(); ++l) {
            const std::string pre = "layer" + std::to_string(l) + ".";
            append(p, layers[l].attn.named_parameters(pre + "attn."));
            append(p, layers[l].res.named_parameters(pre + "res."));
        }
        append(p, out.named_parameters("out."));
        return p;
    }
};

// ---- Scoring a trained model --------------------------------------------------------------------
// p = sigmoid(logit) for every row of `rows`, in batches, without a graph; and, when `attention` is
// given, AutoInt's first-layer alpha averaged over rows and heads, (M, M) (the paper's attention maps).
template <class Model>
std::vector<float> predict(Model& model, const datasets::CtrData& d, const std::vector<int>& rows,
                           std::vector<double>* attention) {
    NoGrad no_grad;
    std::vector<float> p;
    for (size_t s = 0; s < rows.size(); s += 1024) {
        const std::vector<int> chunk(rows.begin() + long(s), rows.begin() + long(std::min(rows.size(), s + 1024)));
        const CtrBatch b = make_ctr_batch(d, chunk);
        Var alpha;
        const Var y = sigmoid(model.logits(b, attention ? &alpha : nullptr));
        for (int i = 0; i < b.size; ++i) p.push_back(y.value()[size_t(i)]);
        if (attention && alpha.value().size() > 1) {      // (B, H, M, M) -> sum into (M, M)
            const int H = alpha.dim(1), M = alpha.dim(2);
            attention->resize(size_t(M) * M, 0.0);
            for (size_t i = 0; i < alpha.value().size(); ++i)
                (*attention)[i % (size_t(M) * M)] += alpha.value()[i] / (double(H) * rows.size());
        }
    }
    return p;
}

}  // namespace ch64
}  // namespace minirec
