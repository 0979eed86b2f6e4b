// BERT4Rec (Sun et al., CIKM 2019): a bidirectional transformer over a user's item sequence,
// trained with the Cloze task, and its left-to-right twin used as the baseline: the same network
// with a causal mask, predicting the next item at every position, trained either with the full
// softmax of eq. 8 or with SASRec's own loss (Kang & McAuley 2018: binary cross-entropy on the
// next item against one sampled negative).
// Deliberately left out: BERT's 80/10/10 token replacement (BERT4Rec masks with [mask] only),
// weight decay and warm-up, the paper's sliding windows over sequences longer than T.
//
//   embedding    h^0_i = v_i + p_i                                  (Sec. 3.5, learned p_i)
//   eq. 1-2      MH(H) = [head_1; ...; head_h] W^O,  head_i = Attention(H W_i^Q, H W_i^K, H W_i^V)
//   eq. 3        PFFN(H) = GELU(H W^(1) + b^(1)) W^(2) + b^(2)
//   eq. 4        A = LN(H^(l-1) + Dropout(MH(H^(l-1)))),  H^l = Trm(H^(l-1)) = LN(A + Dropout(PFFN(A)))
//   eq. 7        P(v) = softmax(GELU(h^L_t W^P + b^P) E^T + b^O)     (E: the input item table)
//   eq. 8        L = 1/|S_m| sum_{v_m in S_m} -log P(v_m = v*_m | S'_u)  (masked positions only)
//   inference    append [mask] to the sequence and read eq. 7 at that position
//   training     Cloze samples (Sec. 3.6): mask a share rho of the items, predict them (eq. 8)
//                (training_loss: one step's batch and loss for each way the chapter trains it)
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch61 {

// The vocabulary of the item table: 0 is padding, items are 1..N, N + 1 is [mask].
struct Vocab {
    int num_items = 0;                            // N
    int pad() const { return 0; }
    int item(int i) const { return i + 1; }       // item i (0-based) -> token
    int mask() const { return num_items + 1; }
    int size() const { return num_items + 2; }    // V
};

// A sequence enters the network as its last n tokens, left-padded with 0 to length n.
inline Ids last_window(const Ids& s, int n) {
    Ids w(size_t(n), 0);
    const int take = std::min<int>(n, int(s.size()));
    std::copy(s.end() - take, s.end(), w.end() - take);
    return w;
}

struct Bert4RecOptions {
    int num_items = 0;       // N
    int max_len = 20;        // T, the most recent T items of a sequence
    int dim = 64;            // d, the hidden size
    int heads = 2;           // h
    int layers = 2;          // L
    float dropout = 0.1f;
    bool causal = false;     // true: the left-to-right baseline (query i sees keys j <= i)
};

struct Bert4Rec {
    Bert4RecOptions options;
    Vocab vocab;
    Embedding item;                                // E (V, d), shared by input and output (eq. 7)
    PositionalEmbedding position;                  // P (T, d)
    Dropout emb_drop;
    std::vector<TransformerEncoderLayer> blocks;   // eqs. 1-4, post-norm as BERT
    Linear proj;                                   // W^P (d, d), b^P
    Var out_bias;                                  // b^O (V)
    Var special;                                   // (V) constant: -1e4 at [pad] and [mask], 0 elsewhere

    Bert4Rec(const Bert4RecOptions& o, Rng& rng)
        : options(o), vocab{o.num_items}, item(vocab.size(), o.dim, rng, 0.02f), position(o.max_len, o.dim, rng, 0.02f),
          emb_drop(o.dropout, rng), proj(o.dim, o.dim, rng), out_bias(parameter(Tensor::zeros({vocab.size()}))) {
        // [pad] and [mask] are never the answer: the output softmax runs over the N items only.
        Tensor sp = Tensor::zeros({vocab.size()});
        sp.data()[vocab.pad()] = sp.data()[vocab.mask()] = -1e4f;
        special = constant(sp);
        TransformerEncoderLayerOptions lo;
        lo.dim = o.dim;
        lo.heads = o.heads;
        lo.ffn_dim = 4 * o.dim;
        lo.dropout = o.dropout;
        for (int l = 0; l < o.layers; ++l) blocks.emplace_back(lo, rng);
    }

    // tokens (B * T) row-major, left-padded with 0 -> H^L (B, T, d). Padding keys are masked out;
    // the causal baseline also hides every key to the right of the query.
    Var encode(const Ids& tokens) {
        const int T = options.max_len, B = int(tokens.size()) / T;
        Tensor real({B, T});                                         // (B, T) 1 = a real token
        for (size_t i = 0; i < tokens.size(); ++i) real[i] = tokens[i] != vocab.pad() ? 1.0f : 0.0f;
        AttentionMask mask;
        mask.key_padding = &real;
        mask.causal = options.causal;
        Var h = emb_drop(position(item(tokens, {B, T})));           // h^0 = v + p, (B, T, d)
        for (TransformerEncoderLayer& block : blocks) h = block(h, mask);   // eq. 4, (B, T, d)
        return h;
    }

    // Eq. 7's projection at the flat positions b * T + t of H (B, T, d): z = GELU(h W^P + b^P), (M, d).
    Var head(const Var& h, const Ids& flat_positions) const {
        Var rows = gather_rows(reshape(h, {-1, options.dim}), flat_positions);   // (M, d)
        return gelu(proj(rows));
    }

    // Eq. 7 -> logits (M, V) over the whole vocabulary: z E^T + b^O, the output tied to the input.
    Var logits(const Var& h, const Ids& flat_positions) const {
        return matmul(head(h, flat_positions), item.table, false, true) + (out_bias + special);
    }

    // Eq. 7's score of one chosen item per row, without the softmax: for the flat positions of H
    // (B, T, d) and one item token per position -> (M, 1) = GELU(h W^P + b^P) . E_item + b^O_item.
    Var item_scores(const Var& h, const Ids& flat_positions, const Ids& items) const {
        Var z = gelu(proj(gather_rows(reshape(h, {-1, options.dim}), flat_positions)));   // (M, d)
        Var e = item(items);                                                              // (M, d)
        Var b = gather_rows(reshape(out_bias, {-1, 1}), items);                           // (M, 1)
        return sum(z * e, 1, true) + b;
    }

    // Inference: the T tokens whose last position predicts the item after `seq`. BERT4Rec appends
    // [mask] to the last T - 1 items and reads eq. 7 there; the causal model reads its last item.
    Ids next_item_window(const Ids& seq) const {
        if (options.causal) return last_window(seq, options.max_len);
        Ids w = last_window(seq, options.max_len - 1);
        w.push_back(vocab.mask());
        return w;
    }

    // Inference for many sequences at once: logits (S, V) for the item after each, read at the last
    // position of its next_item_window, without a graph and with dropout off.
    Tensor next_item_logits(const std::vector<Ids>& sequences) {
        NoGrad no_grad;
        set_training(false);
        const int T = options.max_len;
        Ids tokens, positions;
        for (size_t s = 0; s < sequences.size(); ++s) {
            const Ids w = next_item_window(sequences[s]);                 // (T)
            tokens.insert(tokens.end(), w.begin(), w.end());
            positions.push_back(int(s) * T + T - 1);
        }
        Tensor out = logits(encode(tokens), positions).value();
        set_training(true);
        return out;
    }

    void set_training(bool on) {
        emb_drop.training = on;
        for (TransformerEncoderLayer& block : blocks) block.set_training(on);
    }

    NamedParams named_parameters() const {
        NamedParams p = item.named_parameters("item.");
        append(p, position.named_parameters("position."));
        for (size_t l = 0; l < blocks.size(); ++l) append(p, blocks[l].named_parameters("block" + std::to_string(l) + "."));
        append(p, proj.named_parameters("proj."));
        p.push_back({"out_bias", out_bias});
        return p;
    }
};

// ---- Training samples ---------------------------------------------------------------------------
// A training batch: tokens (B * T), the flat positions to predict, their labels and (SASRec's
// loss only) one sampled negative per position. Each add_ function appends one sequence.
struct Batch {
    Ids tokens, positions, labels, negatives;
};

// The Cloze task (Sec. 3.6): the last T items; each real position is masked with probability rho
// (at least one is); a share `last_only` of samples masks only the final item, as at test time.
inline void add_cloze_sample(Batch& b, const Ids& seq, const Vocab& v, int T, double rho, double last_only, Rng& rng) {
    Ids w = last_window(seq, T);
    const int base = int(b.tokens.size());
    std::vector<int> masked;
    if (rng.uniform_double() < last_only) {
        masked.push_back(T - 1);
    } else {
        for (int t = 0; t < T; ++t)
            if (w[size_t(t)] != v.pad() && rng.uniform_double() < rho) masked.push_back(t);
        if (masked.empty()) masked.push_back(T - 1);
    }
    for (int t : masked) {
        b.positions.push_back(base + t);
        b.labels.push_back(w[size_t(t)]);
        w[size_t(t)] = v.mask();
    }
    b.tokens.insert(b.tokens.end(), w.begin(), w.end());
}

// The left-to-right baseline: input the T items before the last, labels the next item at every
// position; negatives uniform over the other items (drawn only when `negatives` is set).
inline void add_next_item_sample(Batch& b, const Ids& seq, const Vocab& v, int T, bool negatives, Rng& rng) {
    const Ids w = last_window(seq, T + 1);                            // (T + 1)
    const int base = int(b.tokens.size());
    for (int t = 0; t < T; ++t)
        if (w[size_t(t)] != v.pad()) {
            b.positions.push_back(base + t);
            b.labels.push_back(w[size_t(t) + 1]);
            if (!negatives) continue;
            int neg = v.item(rng.randint(v.num_items - 1));
            if (neg >= w[size_t(t) + 1]) ++neg;                       // skip the positive
            b.negatives.push_back(neg);
        }
    b.tokens.insert(b.tokens.end(), w.begin(), w.end() - 1);
}

// ---- Losses -------------------------------------------------------------------------------------
// Eq. 8: the mean negative log-likelihood of the hidden items at the masked positions. For the
// left-to-right baseline the same loss runs over every position, with the next item as label.
// softmax(z E^T + b^O) and its loss are one op (nn/losses.h): the (M, V) logits are computed in
// blocks that stay in cache, and only their gradient is kept for the backward pass.
inline Var cloze_loss(Bert4Rec& model, const Ids& tokens, const Ids& flat_positions, const Ids& labels) {
    return linear_softmax_cross_entropy(model.head(model.encode(tokens), flat_positions), model.item.table,
                                        model.out_bias + model.special, labels);
}

// SASRec's loss for the left-to-right baseline: at every position, the next item against one
// sampled negative,  L = -mean_t [log sigmoid(r_{t, pos}) + log(1 - sigmoid(r_{t, neg}))].
inline Var sasrec_loss(Bert4Rec& model, const Ids& tokens, const Ids& flat_positions, const Ids& positives,
                       const Ids& negatives) {
    const Var h = model.encode(tokens);                                  // (B, T, d)
    const Var pos = model.item_scores(h, flat_positions, positives);     // (M, 1)
    const Var neg = model.item_scores(h, flat_positions, negatives);     // (M, 1)
    const int M = int(positives.size());
    return bce_with_logits(pos, Tensor::ones({M, 1})) + bce_with_logits(neg, Tensor::zeros({M, 1}));
}

// ---- One training step ---------------------------------------------------------------------------
// The ways the chapter trains the network: BERT4Rec's Cloze task (Sec. 3.6); the Cloze task masking
// only the last item (Table 3's "1 mask"); left to right (a causal network) with eq. 8's softmax over
// the next item, or with SASRec's loss.
enum class Task { cloze, last_only, next_item, sasrec };

// A batch of the sequences seqs[rows] for `task` (rho, last_only: the Cloze task's masking) and its loss.
inline Var training_loss(Bert4Rec& m, Task task, const std::vector<Ids>& seqs, const std::vector<int>& rows, double rho,
                         double last_only, Rng& rng) {
    const int T = m.options.max_len;
    Batch b;
    for (int r : rows)
        if (task == Task::next_item || task == Task::sasrec) add_next_item_sample(b, seqs[size_t(r)], m.vocab, T, task == Task::sasrec, rng);
        else if (task == Task::last_only) add_cloze_sample(b, seqs[size_t(r)], m.vocab, T, 0.0, 1.0, rng);
        else add_cloze_sample(b, seqs[size_t(r)], m.vocab, T, rho, last_only, rng);
    return task == Task::sasrec ? sasrec_loss(m, b.tokens, b.positions, b.labels, b.negatives)
                                : cloze_loss(m, b.tokens, b.positions, b.labels);   // eq. 8
}

}  // namespace ch61
}  // namespace minirec
