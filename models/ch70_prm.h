// PRM, the Personalized Re-ranking Model of Pei et al. (RecSys 2019): a transformer encoder reads
// the whole initial list, so each item's score can depend on the other items on it. Also the
// baselines the experiment compares with, trained with the same list loss: a pointwise scorer (the
// same inputs, one item at a time) and DLCM (a GRU over the list), and the pre-trained user-item
// model whose hidden layer is PRM's personalized vector PV; and the re-rankers side by side, as
// chapter 70 compares them. Deliberately left out: dropout, the paper's user behaviour sequences
// (our user features are a user embedding and per-topic click rates), and the paper's online A/B
// setting.
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
#include "nn/rnn.h"

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

// The pointwise re-ranker: an MLP on the same per-item inputs (x_i (+) pv_i (+) one-hot initial
// position), trained with the same list loss as PRM; it never sees the other items of the list.
struct Pointwise {
    MLP mlp;
    Pointwise() = default;
    Pointwise(int in, int hidden, Rng& rng) : mlp(MLPOptions{{in, hidden, hidden, 1}}, rng) {}
    // x (B, n, features), pv (B, n, pv_dim), pos (B, n, n) -> logits (B, n)
    Var operator()(const Var& x, const Var& pv, const Var& pos) { return squeeze(mlp(concat({x, pv, pos}, 2)), 2); }
    NamedParams named_parameters(const std::string& prefix = "") const { return mlp.named_parameters(prefix + "mlp."); }
};

// DLCM (Ai et al., SIGIR 2018): a GRU reads the list's items from the lowest-ranked one up, so its
// final state s_n is the list's context, weighted to the top; each item is scored by a local
// ranking function of its own GRU output o_i and s_n. Ours: phi(o_i, s_n) = v^T tanh(W [o_i, s_n] + b),
// on the same inputs as PRM (x_i (+) pv_i); DLCM's own inputs are the item features only.
struct DLCM {
    Linear input, local, out;
    GRU gru;
    DLCM() = default;
    DLCM(int in, int d, Rng& rng)
        : input(in, d, rng), local(2 * d, d, rng), out(d, 1, rng), gru(d, d, rng) {}
    static Var reverse(const Var& x) {   // along the list axis 1
        std::vector<Var> parts;
        for (int i = x.dim(1) - 1; i >= 0; --i) parts.push_back(slice(x, 1, i, i + 1));
        return concat(parts, 1);
    }
    // x (B, n, features), pv (B, n, pv_dim) -> logits (B, n), in the initial order
    Var operator()(const Var& x, const Var& pv) {
        const Var e = relu(input(concat({x, pv}, 2)));           // (B, n, d)
        const RnnOutput r = gru(reverse(e));                     // read bottom -> top
        const Var o = reverse(r.outputs);                        // (B, n, d): o_i in the initial order
        const int B = x.dim(0), n = x.dim(1), d = o.dim(2);
        const Var s = reshape(r.last, {B, 1, d}) * constant(Tensor::ones({1, n, 1}));   // s_n at every i
        return squeeze(out(tanh(local(concat({o, s}, 2)))), 2);
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = input.named_parameters(prefix + "input.");
        append(p, gru.named_parameters(prefix + "gru."));
        append(p, local.named_parameters(prefix + "local."));
        append(p, out.named_parameters(prefix + "out."));
        return p;
    }
};

// The pre-trained user-item model behind PV (the paper: "the hidden vector before the sigmoid" of a
// CTR model that reads the user's history and profile). Ours reads a user embedding, the user's
// per-topic click rates in the training log, and the item's features; PV is its last hidden layer.
struct PVModel {
    Embedding user;
    Linear hidden, out;
    PVModel() = default;
    PVModel(int users, int user_features, int features, int pv_dim, Rng& rng)
        : user(users, 8, rng, 0.1f), hidden(8 + user_features + features, pv_dim, rng), out(pv_dim, 1, rng) {}
    // users (N), user features (N, U), item features (N, F) -> PV (N, pv_dim)
    Var pv(const Ids& users, const Var& uf, const Var& x) const { return relu(hidden(concat({user(users), uf, x}, 1))); }
    Var logit(const Ids& users, const Var& uf, const Var& x) const { return out(pv(users, uf, x)); }   // (N, 1)
    NamedParams named_parameters() const {
        NamedParams p = user.named_parameters("user.");
        append(p, hidden.named_parameters("hidden."));
        append(p, out.named_parameters("out."));
        return p;
    }
};

// The re-rankers chapter 70 compares: the pointwise scorer, DLCM, PRM and its two ablations
// (PRM-BASE without PV, PRM without PE). They share no parameter, so one optimiser over all of
// them, on the sum of their losses, trains each as if alone.
struct Rerankers {
    Pointwise pointwise;
    DLCM dlcm;
    PRM prm, base, no_pe;
    // p: PRM's d, heads and Nx (the pointwise scorer gets width 2 d, DLCM d), for inputs x_i of
    // `features` numbers, pv_i of `pv_dim` and lists of n = list_len.
    Rerankers(PRMOptions p, int features, int pv_dim, int list_len, Rng& rng) {
        p.features = features;
        p.pv_dim = pv_dim;
        p.list_len = list_len;
        const int in = features + pv_dim;
        pointwise = Pointwise(in + p.list_len, 2 * p.dim, rng);
        dlcm = DLCM(in, p.dim, rng);
        prm = PRM(p, rng);
        PRMOptions ablation = p;
        ablation.use_pv = false;
        base = PRM(ablation, rng);
        ablation.use_pv = true;
        ablation.use_position = false;
        no_pe = PRM(ablation, rng);
    }
    // x (B, n, features), pv (B, n, pv_dim), pos (B, n, n) -> five (B, n) logits, in the order
    // pointwise, DLCM, PRM, PRM-BASE, PRM without PE.
    std::vector<Var> logits(const Var& x, const Var& pv, const Var& pos) {
        return {pointwise(x, pv, pos), dlcm(x, pv), prm(x, pv), base(x, pv), no_pe(x, pv)};
    }
    NamedParams named_parameters() const {
        NamedParams p = pointwise.named_parameters("pointwise.");
        append(p, dlcm.named_parameters("dlcm."));
        append(p, prm.named_parameters("prm."));
        append(p, base.named_parameters("base."));
        append(p, no_pe.named_parameters("no_pe."));
        return p;
    }
};

}  // namespace ch70
}  // namespace minirec
