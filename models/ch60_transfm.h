// TransFM, translation-based factorization machines (Pasricha & McAuley, RecSys 2018): an FM whose
// pairwise interaction is a squared distance between one feature's embedding moved by its own
// translation vector and the other feature's embedding. The FM it is compared with is
// nn/factorization.h's and TransRec is chapter 58's (models/ch58_transrec.h).
// Deliberately left out: real-valued (non one-hot) features, the paper's PRME-FM and HRM-FM.
//
//   FM (Rendle 2010):   y(x) = w0 + sum_i w_i x_i + sum_i sum_{j>i} <v_i, v_j> x_i x_j
//   TransFM (eq. 1):    y(x) = w0 + sum_i w_i x_i + sum_i sum_{j>i} d^2(v_i + v'_i, v_j) x_i x_j
//   (eq. 2)             d^2(a, b) = |a - b|^2 = sum_k (a_k - b_k)^2
//   S-BPR (eq. 3):      max sum ln sigmoid(y(x_{u,i,j}) - y(x_{u,i,j'})) - Omega(Theta)
// Every feature i owns an embedding v_i and a translation v'_i. Our features are one-hot fields
// (x = 1 for one id per field), so "j > i" means "a later field": with the order user, previous
// item, previous category, next item, next category, every context feature is moved by its
// translation towards the candidate's features, as TransRec moves the previous item by the user.
#pragma once
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"

namespace minirec {
namespace ch60 {

// The pairwise part of eq. 1 the obvious way, O(F^2 D): every ordered pair of fields f < g.
// e, t (B, F, D): embeddings v and translations v' of each row's active features -> (B).
inline Var pairwise_naive(const Var& e, const Var& t) {
    const int F = e.dim(1);
    Var total;
    bool first = true;
    for (int f = 0; f < F; ++f) {
        const Var moved = slice(e, 1, f, f + 1) + slice(t, 1, f, f + 1);      // v_f + v'_f, (B, 1, D)
        for (int g = f + 1; g < F; ++g) {
            const Var diff = moved - slice(e, 1, g, g + 1);                  // (B, 1, D)
            const Var d2 = sum(reshape(diff * diff, {e.dim(0), -1}), 1);     // eq. 2, (B)
            total = first ? d2 : total + d2;
            first = false;
        }
    }
    return first ? sum(sum(e * 0.0f, 2), 1) : total;                      // F < 2: no pairs
}

// The same in O(F D). With a_f = v_f + v'_f, expand eq. 2 and collect terms:
//   sum_{f<g} |a_f - v_g|^2 = sum_f (F-1-f) |a_f|^2 + sum_g g |v_g|^2 - 2 sum_g <A_g, v_g>,
// where A_g = a_0 + ... + a_{g-1} is a running sum over the earlier fields. Each field's own
// squared norm is counted once per partner, and the cross term needs only the running sum.
inline Var pairwise_linear(const Var& e, const Var& t) {
    const int B = e.dim(0), F = e.dim(1), D = e.dim(2);
    const Var a = e + t;                                                     // (B, F, D)
    Tensor after({1, F}), before({1, F});                                   // partners after / before f
    for (int f = 0; f < F; ++f) after[size_t(f)] = float(F - 1 - f), before[size_t(f)] = float(f);
    const Var norms = sum(a * a, 2) * constant(after) + sum(e * e, 2) * constant(before);   // (B, F)
    std::vector<Var> running;                                               // A_g, each (B, 1, D)
    Var acc = constant(Tensor({B, 1, D}));
    for (int g = 0; g < F; ++g) {
        running.push_back(acc);
        acc = acc + slice(a, 1, g, g + 1);
    }
    const Var A = concat(running, 1);                                       // (B, F, D)
    return sum(norms, 1) - 2.0f * sum(reshape(A * e, {B, -1}), 1);          // (B)
}

struct TransFM {
    Var w0;          // (1) global bias
    Embedding w;     // (n, 1) first-order weights w_i
    Embedding v;     // (n, D) embedding vectors v_i
    Embedding trans; // (n, D) translation vectors v'_i
    // +1: eq. 1 as printed (and as the authors' code computes it), the distance is *added*;
    // -1: "closer is stronger", the reading of TransRec's eq. 3. The tutorial trains both.
    float sign = 1.0f;

    TransFM(int vocabulary, int dim, Rng& rng, float sign_ = 1.0f)
        : w0(parameter(Tensor({1}))), w(vocabulary, 1, rng, 0.0f), v(vocabulary, dim, rng, 0.1f),
          trans(vocabulary, dim, rng, 0.1f), sign(sign_) {}

    // ids (B * F) row-major (B, F), one active feature per field -> y(x) (B), eq. 1.
    Var operator()(const Ids& ids, int fields) const {
        const int B = int(ids.size()) / fields;
        const Var first = sum(reshape(w(ids), {B, fields}), 1);              // sum_i w_i x_i, (B)
        const Var e = v(ids, {B, fields}), t = trans(ids, {B, fields});      // (B, F, D)
        return w0 + first + sign * pairwise_linear(e, t);
    }

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = {{prefix + "w0", w0}};
        append(p, w.named_parameters(prefix + "w."));
        append(p, v.named_parameters(prefix + "v."));
        append(p, trans.named_parameters(prefix + "trans."));
        return p;
    }
};

}  // namespace ch60
}  // namespace minirec
