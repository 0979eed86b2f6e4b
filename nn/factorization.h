// The models over one-hot fields that several chapters share: field embeddings, logistic
// regression and the factorisation machine (Rendle, ICDM 2010). Every model reads ids (B * F),
// row-major (B, F): field f's value already offset into one vocabulary of N features, so each id
// is "the feature of field f" and one table serves every field.
//   LR:  logit(x) = w0 + sum_f w_{x_f}
//   FM:  logit(x) = w0 + sum_f w_{x_f} + sum_{f < g} <v_{x_f}, v_{x_g}>
// Deliberately left out: real-valued features (x_i other than 0 or 1), field-aware factors (FFM,
// chapter 59), any regularisation.
#pragma once
#include <string>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace minirec {

// One D-vector per feature: ids (B * F) -> (B, F, D), the input of every model over fields.
struct FieldEmbedding {
    Embedding table;   // (N, D)
    int fields = 0;

    FieldEmbedding() = default;
    FieldEmbedding(int vocabulary, int fields_, int dim, Rng& rng, float init_std = 0.1f)
        : table(vocabulary, dim, rng, init_std), fields(fields_) {}
    Var operator()(const Ids& ids) const { return table(ids, {int(ids.size()) / fields, fields}); }
    NamedParams named_parameters(const std::string& prefix = "") const { return table.named_parameters(prefix); }
};

// Logistic regression over one-hot fields: one weight per feature, plus the global bias.
struct LogisticRegression {
    Var w0;        // (1)
    Embedding w;   // (N, 1)

    LogisticRegression() = default;
    LogisticRegression(int vocabulary, Rng& rng) : w0(parameter(Tensor({1}))), w(vocabulary, 1, rng, 0.0f) {}
    // ids (B * F) -> logits (B, 1)
    Var operator()(const Ids& ids, int fields) const {
        return sum(w(ids, {int(ids.size()) / fields, fields}), 1) + w0;
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = {{prefix + "w0", w0}};
        append(p, w.named_parameters(prefix + "w."));
        return p;
    }
};

// The pairwise term of an FM over any field embeddings e (B, F, D) -> (B, 1), by Rendle's identity
//   sum_{f<g} <v_f, v_g> = 1/2 (|sum_f v_f|^2 - sum_f |v_f|^2),
// linear in F instead of quadratic. Chapter 64 calls it on embeddings of mixed (multi-hot, numeric)
// fields.
inline Var fm_pairs(const Var& e) {
    const Var s = sum(e, 1);         // (B, D)  sum_f v_f
    const Var q = sum(e * e, 1);     // (B, D)  sum_f v_f^2
    return sum(s * s - q, 1, true) * 0.5f;
}

// The factorisation machine: first-order weights plus fm_pairs of the factors. With global_bias = false there is no w0: the first field's
// weights absorb it (chapters 60, 62 and 71 use it so; the arithmetic is otherwise the same).
struct FM {
    bool global_bias = true;
    Var w0;        // (1), a parameter only when global_bias
    Embedding w;   // (N, 1) first-order weights
    Embedding v;   // (N, D) factors

    FM() = default;
    FM(int vocabulary, int dim, Rng& rng, bool global_bias_ = true)
        : global_bias(global_bias_), w0(parameter(Tensor({1}))), w(vocabulary, 1, rng, 0.0f),
          v(vocabulary, dim, rng, 0.1f) {}

    // ids (B * F) -> logits (B, 1)
    Var operator()(const Ids& ids, int fields) const {
        const int B = int(ids.size()) / fields;
        const Var first = sum(w(ids, {B, fields}), 1);   // (B, F, 1) -> (B, 1)
        const Var y = first + fm_pairs(v(ids, {B, fields}));
        return global_bias ? y + w0 : y;
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p;
        if (global_bias) p.push_back({prefix + "w0", w0});
        append(p, w.named_parameters(prefix + "w."));
        append(p, v.named_parameters(prefix + "v."));
        return p;
    }
};

}  // namespace minirec
