// PRM, the Personalized Re-ranking Model of Pei et al. (RecSys 2019): a transformer encoder reads
// the whole initial list, so each item's score can depend on the other items on it. Also the
// pointwise re-ranker the experiment compares with (the same inputs, one item at a time).
// Deliberately left out: the paper's pre-trained ranker network (our PV is built from a given
// ranker's score, see tutorials/ch70_prm.h), dropout, and the paper's online A/B setting.
//
// The paper's section 4, step by step (labelled by role; the paper's own equation numbers are
// not reproduced here, check them against arXiv 1904.06813):
//   [input]      E = [x_i (+) pv_i]_i + PE   item features, personalized vector, and a learned
//                                            embedding of the position in the initial list
//   [projection] E' = E W^E + b^E            to the model size d
//   [encoder]    Nx post-norm blocks: multi-head self-attention + feed-forward (nn/attention.h)
//   [output]     Score(i) = softmax_i(F^(Nx) W^F + b^F)   one probability per list position
//   [loss]       L = - sum_r sum_{i in S_r} y_i log Score(i)   cross-entropy over the list's clicks
#pragma once
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"

namespace minirec {
namespace ch70 {

struct PRMOptions {
    int features = 0;        // dim of x_i (item features)
    int pv_dim = 0;          // dim of pv_i
    int list_len = 0;        // n, the length of the initial list (positions)
    int dim = 16;            // d, the encoder width
    int heads = 2;
    int blocks = 1;          // Nx
    bool use_pv = true;      // ablation "PRM without PV": pv_i left out of [input]
    bool use_position = true;  // ablation "PRM without PE"
};

struct PRM {
    PRMOptions options;
    Linear input;                                  // W^E, b^E: (features [+ pv_dim], d)
    PositionalEmbedding pe;                        // PE: (n, d), added after the projection
    std::vector<TransformerEncoderLayer> encoder;  // Nx blocks
    Linear output;                                 // W^F, b^F: (d, 1)

    PRM() = default;
    PRM(const PRMOptions& o, Rng& rng) : options(o) {
        input = Linear(o.features + (o.use_pv ? o.pv_dim : 0), o.dim, rng);
        pe = PositionalEmbedding(o.list_len, o.dim, rng, 0.1f);
        TransformerEncoderLayerOptions lo;
        lo.dim = o.dim;
        lo.heads = o.heads;
        lo.ffn_dim = 2 * o.dim;
        lo.dropout = 0.0f;
        for (int b = 0; b < o.blocks; ++b) encoder.emplace_back(lo, rng);
        output = Linear(o.dim, 1, rng);
    }

    // x (B, n, features), pv (B, n, pv_dim) -> logits (B, n); softmax over n gives [output]'s Score.
    // Adding PE after the projection equals adding a projected PE before it ([input] then [projection]).
    Var operator()(const Var& x, const Var& pv) {
        Var e = options.use_pv ? concat({x, pv}, 2) : x;     // (B, n, features + pv_dim)   [input]
        e = input(e);                                        // (B, n, d)                    [projection]
        if (options.use_position) e = pe(e);                 // + PE                         [input]
        for (TransformerEncoderLayer& block : encoder) e = block(e);   // (B, n, d)           [encoder]
        return squeeze(output(e), 2);                        // (B, n)                       [output]
    }

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = input.named_parameters(prefix + "input.");
        if (options.use_position) append(p, pe.named_parameters(prefix + "pe."));
        for (size_t b = 0; b < encoder.size(); ++b)
            append(p, encoder[b].named_parameters(prefix + "block" + std::to_string(b) + "."));
        append(p, output.named_parameters(prefix + "output."));
        return p;
    }
};

// [loss]: logits (B, n), clicks y (B, n) in {0, 1}: -(1/B) sum_b sum_i y_bi log softmax_i(logits_b).
// A list without clicks adds nothing.
inline Var list_softmax_loss(const Var& logits, const Tensor& y) {
    return -sum(constant(y) * log_softmax(logits)) / float(logits.dim(0));
}

// The pointwise re-ranker: an MLP on the same per-item inputs (x_i (+) pv_i), trained with the
// per-item click cross-entropy; it never sees the other items of the list.
struct Pointwise {
    MLP mlp;
    Pointwise() = default;
    Pointwise(int in, int hidden, Rng& rng) : mlp(MLPOptions{{in, hidden, hidden, 1}}, rng) {}
    // x (B, n, features), pv (B, n, pv_dim) -> logits (B, n)
    Var operator()(const Var& x, const Var& pv) { return squeeze(mlp(concat({x, pv}, 2)), 2); }
    NamedParams named_parameters(const std::string& prefix = "") const { return mlp.named_parameters(prefix + "mlp."); }
};

}  // namespace ch70
}  // namespace minirec
