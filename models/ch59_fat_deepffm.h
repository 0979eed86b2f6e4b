// FAT-DeepFFM (Zhang, Huang, Zhang, arXiv 1905.06336), "Field Attentive Deep Field-aware
// Factorization Machine", and the ladder it climbs: FM -> FFM -> DeepFFM -> CENet -> FAT-DeepFFM,
// as plain structs over F one-hot fields. Deliberately left out: numeric (dense) fields, the
// paper's dropout and L2, and the SENet max-pooling compose it compares CENet with.
//
// Every model reads ids (B * F), row-major (B, F): the value of field f already offset into one
// shared vocabulary of N features (field f's value x sits at offset_f + x), so x_i is "the feature
// of field i". Equation numbers are ours, in the order the paper introduces them:
//   eq. 1  FM:       y = w0 + sum_i w_i + sum_{i<j} <v_i, v_j>
//   eq. 2  FFM:      y = w0 + sum_i w_i + sum_{i<j} <v_{i,f_j}, v_{j,f_i}>
//   eq. 3  the embedding matrix of feature i: EM_i = [v_{i,1}, ..., v_{i,F}]        (D x F)
//   eq. 4  inner-product interactions:  I_{ij} = <v_{i,f_j}, v_{j,f_i}>              (a scalar)
//   eq. 5  Hadamard interactions:       H_{ij} = v_{i,f_j} (.) v_{j,f_i}            (a D-vector)
//   eq. 6  the DNN over the concatenated interactions: a^{l+1} = relu(W^l a^l + b^l)
//   eq. 7  DeepFFM:  y = sigmoid(w0 + sum_i w_i + y_DNN)
//   eq. 8  CENet compose: DV_i = [conv(v_{i,1}), ..., conv(v_{i,F})], conv a 1-D convolution that
//          folds each D-vector into one number with a kernel shared by all vectors     (F numbers)
//   eq. 9  CENet excitation: S = relu(W2 relu(W1 [DV_1, ..., DV_F] + b1) + b2)       (F*F weights)
//   eq. 10 attentive embedding matrix: AEM_i = [s_{i,1} v_{i,1}, ..., s_{i,F} v_{i,F}]
//   FAT-DeepFFM = DeepFFM (eqs. 4-7) run on AEM instead of EM.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/factorization.h"
#include "nn/layers.h"

namespace minirec {
namespace ch59 {

// eq. 1, the FM, is nn/factorization.h's (shared with chapters 60 and 62).

// ---- eq. 3: field-aware embeddings -----------------------------------------------------------
// Feature i owns F vectors v_{i,f}, one for each field f it may meet; a table (N, F * D) holds
// them side by side, so one lookup gives every embedding matrix of the batch. (The paper's EM_i
// is D x F; we store its transpose, F x D, so that each vector is contiguous.)
struct FieldAwareEmbedding {
    Embedding table;     // (N, F * D)
    int fields = 0, dim = 0;

    FieldAwareEmbedding() = default;
    FieldAwareEmbedding(int vocabulary, int fields_, int dim_, Rng& rng, float init_std = 0.1f)
        : table(vocabulary, fields_ * dim_, rng, init_std), fields(fields_), dim(dim_) {}

    // ids (B * F) -> E (B, F, F, D) with E[b, i, f] = v_{x_i, f}
    Var operator()(const Ids& ids) const {
        const int B = int(ids.size()) / fields;
        return reshape(table(ids, {B, fields}), {B, fields, fields, dim});
    }
    NamedParams named_parameters(const std::string& prefix = "") const { return table.named_parameters(prefix); }
};

// The rows (b, i, j), i < j, of a (B, F, F, ...) tensor flattened to (B * F * F, ...), in the order
// b, then i, then j: the F(F-1)/2 field pairs of every example.
inline Ids upper_pair_rows(int batch, int fields) {
    Ids rows;
    rows.reserve(size_t(batch) * size_t(fields * (fields - 1) / 2));
    for (int b = 0; b < batch; ++b)
        for (int i = 0; i < fields; ++i)
            for (int j = i + 1; j < fields; ++j) rows.push_back((b * fields + i) * fields + j);
    return rows;
}

// eq. 5 for every pair at once: E (B, F, F, D) -> (B, F(F-1)/2, D), row (i, j) = v_{i,f_j} (.) v_{j,f_i}.
// Swapping the two field axes puts v_{j,f_i} where v_{i,f_j} was, so one product covers all pairs;
// then we keep the pairs above the diagonal.
inline Var hadamard_pairs(const Var& E) {
    const int B = E.dim(0), F = E.dim(1), D = E.dim(3);
    const Var prod = E * permute(E, {0, 2, 1, 3});                     // (B, F, F, D), symmetric in (i, j)
    const Var pairs = gather_rows(reshape(prod, {B * F * F, D}), upper_pair_rows(B, F));
    return reshape(pairs, {B, F * (F - 1) / 2, D});
}

// eq. 4: the inner products, (B, F(F-1)/2).
inline Var inner_pairs(const Var& E) { return sum(hadamard_pairs(E), 2); }

// ---- eq. 2: FFM ------------------------------------------------------------------------------
struct FFM {
    Var w0;
    Embedding w;                 // (N, 1)
    FieldAwareEmbedding v;       // (N, F * D)

    FFM() = default;
    FFM(int vocabulary, int fields, int dim, Rng& rng)
        : w0(parameter(Tensor({1}))), w(vocabulary, 1, rng, 0.0f), v(vocabulary, fields, dim, rng) {}

    Var operator()(const Ids& ids) const {               // -> logits (B, 1)
        const int B = int(ids.size()) / v.fields;
        const Var first = sum(w(ids, {B, v.fields}), 1);                  // (B, 1)
        return first + sum(inner_pairs(v(ids)), 1, true) + w0;           // + sum_{i<j} I_ij
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = {{prefix + "w0", w0}};
        append(p, w.named_parameters(prefix + "w."));
        append(p, v.named_parameters(prefix + "v."));
        return p;
    }
};

// ---- eqs. 4-7: DeepFFM -----------------------------------------------------------------------
enum class Interaction { hadamard, inner };   // eq. 5 or eq. 4 feeds the DNN

struct DeepFFMOptions {
    int fields = 0;                  // F
    int dim = 4;                     // D
    std::vector<int> hidden = {32};  // the DNN's hidden layers (eq. 6)
    Interaction interaction = Interaction::hadamard;
};

struct DeepFFM {
    DeepFFMOptions options;
    Var w0;
    Embedding w;                 // (N, 1)
    FieldAwareEmbedding v;       // (N, F * D)
    MLP dnn;                     // F(F-1)/2 * D (or F(F-1)/2) -> hidden -> 1

    DeepFFM() = default;
    DeepFFM(int vocabulary, const DeepFFMOptions& o, Rng& rng)
        : options(o), w0(parameter(Tensor({1}))), w(vocabulary, 1, rng, 0.0f), v(vocabulary, o.fields, o.dim, rng),
          dnn(mlp_options(o), rng) {}

    static MLPOptions mlp_options(const DeepFFMOptions& o) {
        MLPOptions m;
        const int pairs = o.fields * (o.fields - 1) / 2;
        m.sizes = {o.interaction == Interaction::hadamard ? pairs * o.dim : pairs};
        for (int h : o.hidden) m.sizes.push_back(h);
        m.sizes.push_back(1);
        return m;
    }

    // eq. 7 on given embedding matrices E (B, F, F, D): what FAT-DeepFFM reuses with AEM.
    Var head(const Ids& ids, const Var& E) {
        const int B = E.dim(0), F = options.fields;
        const Var first = sum(w(ids, {B, F}), 1);                           // (B, 1) sum_i w_i
        const Var x = options.interaction == Interaction::hadamard
                          ? reshape(hadamard_pairs(E), {B, -1})              // (B, F(F-1)/2 * D)
                          : inner_pairs(E);                                  // (B, F(F-1)/2)
        return first + dnn(x) + w0;                                          // y_DNN via eq. 6
    }
    Var operator()(const Ids& ids) { return head(ids, v(ids)); }             // -> logits (B, 1)

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = {{prefix + "w0", w0}};
        append(p, w.named_parameters(prefix + "w."));
        append(p, v.named_parameters(prefix + "v."));
        append(p, dnn.named_parameters(prefix + "dnn."));
        return p;
    }
};

// ---- eqs. 8-10: CENet field attention --------------------------------------------------------
// Compose folds each of the F*F vectors of an example into one number with a shared 1-D kernel
// (a convolution whose window is the whole D-vector: c^T v + c0); excitation maps the F*F numbers
// through a bottleneck of F*F / r units to F*F non-negative weights, one per vector. We start b2 at
// 1 so the weights start near 1 (no attention), not at relu(noise) with half of them dead at 0,
// and the kernel near the mean over the D entries (an average-pooling compose, plus noise).
struct CENet {
    Var kernel;      // (D, 1) the compose convolution c
    Var kernel_bias; // (1)    c0
    Linear excite1;  // (F*F, F*F / r)   W1, b1
    Linear excite2;  // (F*F / r, F*F)   W2, b2

    CENet() = default;
    CENet(int fields, int dim, int reduction, Rng& rng)
        : kernel(parameter(Tensor::uniform({dim, 1}, rng, -1.0f / float(dim), 1.0f / float(dim)) + 1.0f / float(dim))),
          kernel_bias(parameter(Tensor({1}))),
          excite1(fields * fields, std::max(1, fields * fields / reduction), rng, true, Init::kaiming_uniform),
          excite2(std::max(1, fields * fields / reduction), fields * fields, rng) {
        excite2.bias.value_mut().fill(1.0f);
    }

    // E (B, F, F, D) -> AEM (B, F, F, D); *weights (if given) gets S as (B, F, F).
    Var operator()(const Var& E, Var* weights = nullptr) const {
        const int B = E.dim(0), F = E.dim(1), D = E.dim(3);
        const Var z = matmul(reshape(E, {B * F * F, D}), kernel) + kernel_bias;   // (B*F*F, 1) eq. 8
        const Var dv = reshape(z, {B, F * F});                                      // [DV_1, ..., DV_F]
        const Var s = relu(excite2(relu(excite1(dv))));                             // (B, F*F)  eq. 9
        const Var S = reshape(s, {B, F, F, 1});
        if (weights) *weights = reshape(s, {B, F, F});
        return E * S;                                                               // eq. 10
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = {{prefix + "kernel", kernel}, {prefix + "kernel_bias", kernel_bias}};
        append(p, excite1.named_parameters(prefix + "excite1."));
        append(p, excite2.named_parameters(prefix + "excite2."));
        return p;
    }
};

// ---- Attention after the interactions: the paper's "MLP-DeepFFM" (Table 3) ---------------------
// The comparison the paper draws: weigh the crossed vectors H_{ij} (eq. 5) instead of the
// embeddings. The weight of each pair comes from AFM's attention network (Xiao et al. 2017):
//   a'_{ij} = h^T relu(W H_{ij} + b),   a_{ij} = softmax over the pairs of a'_{ij}
// scaled by the number of pairs P, so that equal weights leave DeepFFM unchanged (P a_{ij} = 1).
struct PairAttention {
    Linear project;   // (D, t)  W, b
    Linear score;     // (t, 1)  h
    PairAttention() = default;
    PairAttention(int dim, int attention_size, Rng& rng)
        : project(dim, attention_size, rng, true, Init::kaiming_uniform), score(attention_size, 1, rng, false) {}
    // H (B, P, D) -> weights (B, P, 1), P * softmax
    Var operator()(const Var& H) const {
        const int B = H.dim(0), P = H.dim(1);
        const Var a = reshape(score(relu(project(H))), {B, P});
        return reshape(softmax(a), {B, P, 1}) * float(P);
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = project.named_parameters(prefix + "project.");
        append(p, score.named_parameters(prefix + "score."));
        return p;
    }
};

struct MLPDeepFFM {
    DeepFFM deep;
    PairAttention attention;
    MLPDeepFFM() = default;
    MLPDeepFFM(int vocabulary, const DeepFFMOptions& o, int attention_size, Rng& rng)
        : deep(vocabulary, o, rng), attention(o.dim, attention_size, rng) {}
    Var operator()(const Ids& ids) {   // -> logits (B, 1)
        const int F = deep.options.fields, B = int(ids.size()) / F;
        const Var H = hadamard_pairs(deep.v(ids));                           // (B, P, D) eq. 5
        const Var A = attention(H);                                          // (B, P, 1)
        const Var x = deep.options.interaction == Interaction::hadamard ? reshape(H * A, {B, -1})
                                                                        : reshape(sum(H, 2, true) * A, {B, -1});
        return sum(deep.w(ids, {B, F}), 1) + deep.dnn(x) + deep.w0;          // eqs. 6-7
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = deep.named_parameters(prefix);
        append(p, attention.named_parameters(prefix + "attention."));
        return p;
    }
};

// ---- FAT-DeepFFM: DeepFFM over the attentive embedding matrices -------------------------------
struct FATDeepFFM {
    DeepFFM deep;
    CENet cen;

    FATDeepFFM() = default;
    FATDeepFFM(int vocabulary, const DeepFFMOptions& o, int reduction, Rng& rng)
        : deep(vocabulary, o, rng), cen(o.fields, o.dim, reduction, rng) {}

    // -> logits (B, 1); *weights (if given) gets the attention S (B, F, F).
    Var operator()(const Ids& ids, Var* weights = nullptr) { return deep.head(ids, cen(deep.v(ids), weights)); }

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = deep.named_parameters(prefix);
        append(p, cen.named_parameters(prefix + "cen."));
        return p;
    }
};

// ---- The ladder, one of each ------------------------------------------------------------------
// The five models the chapter compares on the same data, initialised from `init` in this order:
// FM (eq. 1), FFM (eq. 2), DeepFFM (eqs. 4-7), MLP-DeepFFM (attention after the interactions) and
// FAT-DeepFFM (attention before them).
struct Ladder {
    FM fm;
    FFM ffm;
    DeepFFM deep;
    MLPDeepFFM after;
    FATDeepFFM fat;
    Ladder(int vocabulary, const DeepFFMOptions& o, int attention_size, int reduction, Rng& init)
        : fm(vocabulary, o.dim, init), ffm(vocabulary, o.fields, o.dim, init), deep(vocabulary, o, init),
          after(vocabulary, o, attention_size, init), fat(vocabulary, o, reduction, init) {}
};

}  // namespace ch59
}  // namespace minirec
