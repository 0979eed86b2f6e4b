// ATRank (Zhou et al., AAAI 2018, arXiv 1711.06632), "An Attention-Based User Behavior Modeling
// Framework for Recommendation", and the three user encoders it is compared with here: mean pooling,
// a GRU over the behaviour sequence, and attention with the candidate alone (no self-attention).
// Deliberately left out: the paper's CNN baseline, multi-task heads over several behaviour types
// (we predict item actions only), dropout, and the paper's sizes (ours are small).
//
// A user is a sequence of behaviours (a_j, o_j, t_j): action type, object, time. Behaviours are
// grouped by the kind of object they touch (here: items, and search queries over categories).
//   eq. 1  u_ij = emb_i(o_j) (+) tau_i(t_j) (+) A_i(a_j)    object, time bucket, action; (+) concat
//   eq. 2  tau_i(t_j): t_j = now - time falls in a bucket [b^k, b^{k+1}); one table per group
//   eq. 3  S = concat^(0)( F_M1(u_bg1), ..., F_Mn(u_bgn) )  each group projected to one size d
//   eq. 4  S_k = S W_k,  k = 1..K                          K latent semantic spaces
//   eq. 5  A_k = softmax( a(S_k, S; theta_k) ),  a = S_k U_k^T S^T / sqrt(d_k)  (bilinear)
//   eq. 6  C_k = A_k S                                      each behaviour re-read in space k
//   eq. 7  C = FFN( concat^(1)(C_1, ..., C_K) )             with a residual and layer norm
//   eq. 8  h_t = F_Mg(t)(q_t)                               the candidate, through its group's F
//   eq. 9  s_j = h_t W_e C_j^T,  e_u = sum_j softmax(s)_j C_j    vanilla attention (downstream)
//   eq. 10 p = sigmoid( f(e_u, h_t) )                       f: an MLP over [e_u, h_t, e_u * h_t]
// The paper's a(.) is a bilinear form S_k W S^T; we factor W = U_k^T through d_k and scale by
// 1/sqrt(d_k), which only rescales it. Every encoder below ends in the same f, so the comparison
// is about how the behaviours are summarised, nothing else.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch52 {

// A mini-batch: U users' behaviour logs, oldest behaviour first, left-aligned and padded to T, and
// B candidates, each scored against the log of its user. A position of a log is an item behaviour
// (group 1), a query behaviour (group 2) or padding. A user usually has several candidates: every
// encoder reads her log once and hands the result to each of them (per_candidate).
struct BehaviourBatch {
    int U = 0, T = 0, B = 0;
    Ids item, item_category, action;     // (U * T) group 1's object and action; 0 elsewhere
    Ids query_category;                  // (U * T) group 2's object (the category searched)
    Ids time_bucket;                     // (U * T) eq. 2's bucket of now - t_j
    Tensor is_item, is_query;            // (U, T, 1) 1 where the position is in that group
    Tensor key_mask;                     // (U, 1, T) 1 for a real behaviour, 0 for padding
    std::vector<int> lengths;            // (U) real behaviours per log
    Ids user;                            // (B) the log each candidate is scored against, in [0, U)
    Tensor candidate_mask;               // (B, 1, T) that log's key_mask
    Ids candidate, candidate_category;   // (B) the item to score
    Tensor label;                        // (B, 1) 1 if the user acts on it next
};

// x (U, ...) -> (B, ...): each candidate gets its user's row.
inline Var per_candidate(const Var& x, const BehaviourBatch& b) {
    Shape shape = x.shape();
    shape[0] = b.B;
    return reshape(gather_rows(reshape(x, {b.U, -1}), b.user), shape);
}

struct Sizes {
    int items = 0, categories = 0, time_buckets = 0, actions = 2;
    int dim = 16;        // D, object embeddings
    int time_dim = 12;   // tau's size
    int action_dim = 4;  // A's size
    int space = 16;      // d, the common size after F_M (eq. 3)
    int spaces = 2;      // K latent semantic spaces (eq. 4)
    int space_dim = 8;   // d_k
    int hidden = 32;     // the MLP of f (eq. 10) and the FFN of eq. 7
    // These sizes for a vocabulary of items, categories, time buckets and action types.
    Sizes for_vocabulary(int n_items, int n_categories, int n_time_buckets, int n_actions) const {
        Sizes s = *this;
        s.items = n_items, s.categories = n_categories, s.time_buckets = n_time_buckets, s.actions = n_actions;
        return s;
    }
};

// ---- eqs. 1-3 and 8: behaviours and the candidate, embedded and projected to size d ------------
// Item and category tables are shared by both groups and the candidate (the paper shares ids that
// mean the same thing); time and action tables belong to one group. Bucket time_buckets (one past
// the last real bucket) stands for "now" and is what the candidate gets.
struct BehaviourEmbedding {
    Embedding item, category;            // (N, D), (C, D)
    Embedding item_time, query_time;     // tau_1, tau_2: (time_buckets + 1, Dt)
    Embedding action;                    // A_1: (actions, Da)
    Linear f_item, f_query;              // F_M1: (2D + Dt + Da, d), F_M2: (D + Dt, d)
    int now_bucket = 0;

    BehaviourEmbedding() = default;
    BehaviourEmbedding(const Sizes& s, Rng& rng)
        : item(s.items, s.dim, rng, 0.1f), category(s.categories, s.dim, rng, 0.1f),
          item_time(s.time_buckets + 1, s.time_dim, rng, 0.5f), query_time(s.time_buckets + 1, s.time_dim, rng, 0.5f),
          action(s.actions, s.action_dim, rng, 0.1f),
          f_item(2 * s.dim + s.time_dim + s.action_dim, s.space, rng), f_query(s.dim + s.time_dim, s.space, rng),
          now_bucket(s.time_buckets) {}

    // S (U, T, d): each position through its own group's F_M (eq. 3), kept in time order.
    Var behaviours(const BehaviourBatch& b) const {
        const Shape ut{b.U, b.T};
        const Var u_item = concat({item(b.item, ut), category(b.item_category, ut), item_time(b.time_bucket, ut),
                                   action(b.action, ut)}, 2);                         // eq. 1, group 1: (U, T, 2D+Dt+Da)
        const Var u_query = concat({category(b.query_category, ut), query_time(b.time_bucket, ut)}, 2);  // group 2
        return f_item(u_item) * constant(b.is_item) + f_query(u_query) * constant(b.is_query);  // (U, T, d)
    }

    // h_t (B, d): the candidate item as a group-1 behaviour happening now, a click (eq. 8).
    Var target(const BehaviourBatch& b) const {
        const Ids now(size_t(b.B), now_bucket), click(size_t(b.B), 0);
        return f_item(concat({item(b.candidate), category(b.candidate_category), item_time(now), action(click)}, 1));
    }

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = item.named_parameters(prefix + "item.");
        append(p, category.named_parameters(prefix + "category."));
        append(p, item_time.named_parameters(prefix + "item_time."));
        append(p, query_time.named_parameters(prefix + "query_time."));
        append(p, action.named_parameters(prefix + "action."));
        append(p, f_item.named_parameters(prefix + "f_item."));
        append(p, f_query.named_parameters(prefix + "f_query."));
        return p;
    }
};

// ---- eq. 10: the same scoring function f for every encoder --------------------------------------
struct Scorer {
    MLP mlp;   // [e_u, h_t, e_u * h_t] (3d) -> hidden -> 1
    Scorer() = default;
    Scorer(const Sizes& s, Rng& rng) : mlp(MLPOptions{{3 * s.space, s.hidden, 1}}, rng) {}
    Var operator()(const Var& e_u, const Var& h_t) { return mlp(concat({e_u, h_t, e_u * h_t}, 1)); }  // (B, 1)
    NamedParams named_parameters(const std::string& prefix = "") const { return mlp.named_parameters(prefix); }
};

// ---- eq. 9: vanilla attention of the candidate over behaviours C (B, T, d) ----------------------
// Returns e_u (B, d); weights, when asked, receives softmax(s) (B, 1, T).
inline Var vanilla_attention(const Var& h_t, const Var& W_e, const Var& C, const Tensor& key_mask, Var* weights) {
    const Var q = unsqueeze(matmul(h_t, W_e), 1);                  // (B, 1, d)
    const Var alpha = softmax(matmul(q, C, false, true), &key_mask);   // s_j, then softmax: (B, 1, T)
    if (weights) *weights = alpha;
    return squeeze(matmul(alpha, C), 1);                           // sum_j alpha_j C_j: (B, d)
}

// What a forward pass can hand back for pictures: ATRank's self-attention per space, and the
// candidate's attention over the behaviours.
struct AttentionMaps {
    std::vector<Var> self;   // K of (U, T, T), A_k of eq. 5
    Var target;              // (B, 1, T), eq. 9
    // The self-attention averaged over the K spaces, (U, T, T), summed in double space by space.
    std::vector<double> mean_self() const {
        std::vector<double> mean(self.empty() ? 0 : self[0].value().size(), 0.0);
        for (size_t e = 0; e < mean.size(); ++e)
            for (const Var& A : self) mean[e] += A.value()[e] / double(self.size());
        return mean;
    }
};

// ---- ATRank: eqs. 1-10 ------------------------------------------------------------------------
struct ATRank {
    Sizes sizes;
    BehaviourEmbedding embed;
    std::vector<Linear> W, U;   // K of (d, d_k): eq. 4's projection and eq. 5's bilinear factor
    MLP ffn;                    // eq. 7: (K d) -> hidden -> d
    LayerNorm norm;             // eq. 7's residual: C = LayerNorm(S + FFN(...))
    Var W_e;                    // eq. 9: (d, d)
    Scorer f;

    ATRank(const Sizes& s, Rng& rng) : sizes(s), embed(s, rng), ffn(MLPOptions{{s.spaces * s.space, s.hidden, s.space}}, rng),
          norm(s.space), W_e(parameter(xavier_uniform({s.space, s.space}, s.space, s.space, rng))), f(s, rng) {
        for (int k = 0; k < s.spaces; ++k) {
            W.emplace_back(s.space, s.space_dim, rng, false);
            U.emplace_back(s.space, s.space_dim, rng, false);
        }
    }

    // The behaviour interaction layer: S (U, T, d) -> C (U, T, d), eqs. 4-7.
    Var self_attention(const Var& S, const Tensor& key_mask, AttentionMaps* maps) {
        const float scale = 1.0f / std::sqrt(float(sizes.space_dim));
        std::vector<Var> heads;
        for (int k = 0; k < sizes.spaces; ++k) {
            const Var S_k = W[size_t(k)](S);                                        // eq. 4: (U, T, d_k)
            const Var A_k = softmax(matmul(S_k, U[size_t(k)](S), false, true) * scale, &key_mask);  // eq. 5: (U, T, T)
            heads.push_back(matmul(A_k, S));                                       // eq. 6: C_k (U, T, d)
            if (maps) maps->self.push_back(A_k);
        }
        return norm(S + ffn(concat(heads, 2)));                                   // eq. 7: (U, T, d)
    }

    Var logits(const BehaviourBatch& b, AttentionMaps* maps = nullptr) {
        const Var S = embed.behaviours(b);                                        // eqs. 1-3: (U, T, d)
        const Var C = per_candidate(self_attention(S, b.key_mask, maps), b);      // eqs. 4-7: (B, T, d)
        const Var h_t = embed.target(b);                                          // eq. 8: (B, d)
        const Var e_u = vanilla_attention(h_t, W_e, C, b.candidate_mask, maps ? &maps->target : nullptr);  // eq. 9
        return f(e_u, h_t);                                                       // eq. 10: (B, 1)
    }

    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        for (size_t k = 0; k < W.size(); ++k) {
            append(p, W[k].named_parameters("W" + std::to_string(k) + "."));
            append(p, U[k].named_parameters("U" + std::to_string(k) + "."));
        }
        append(p, ffn.named_parameters("ffn."));
        append(p, norm.named_parameters("norm."));
        p.push_back({"W_e", W_e});
        append(p, f.named_parameters("f."));
        return p;
    }
};

// ---- Baseline 1: mean pooling, e_u = (1/m) sum_j S_j -------------------------------------------
struct MeanPooling {
    BehaviourEmbedding embed;
    Scorer f;
    MeanPooling(const Sizes& s, Rng& rng) : embed(s, rng), f(s, rng) {}
    Var logits(const BehaviourBatch& b, AttentionMaps* = nullptr) {
        const Tensor real = b.key_mask.reshape({b.U, b.T, 1});                          // (U, T, 1)
        Tensor count({b.U, 1});
        for (int i = 0; i < b.U; ++i) count[size_t(i)] = float(std::max(1, b.lengths[size_t(i)]));
        const Var e_u = sum(embed.behaviours(b) * constant(real), 1) / constant(count);  // (U, d)
        return f(per_candidate(e_u, b), embed.target(b));
    }
    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        append(p, f.named_parameters("f."));
        return p;
    }
};

// ---- Baseline 2: a GRU over the sequence (the paper's RNN baselines), e_u = last hidden state ---
struct GruEncoder {
    BehaviourEmbedding embed;
    GRU gru;   // (d -> d)
    Scorer f;
    GruEncoder(const Sizes& s, Rng& rng) : embed(s, rng), gru(s.space, s.space, rng), f(s, rng) {}
    Var logits(const BehaviourBatch& b, AttentionMaps* = nullptr) {
        const Var e_u = gru(embed.behaviours(b), b.lengths).last;   // (U, d), the newest behaviour's state
        return f(per_candidate(e_u, b), embed.target(b));
    }
    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        append(p, gru.named_parameters("gru."));
        append(p, f.named_parameters("f."));
        return p;
    }
};

// ---- Baseline 3: ATRank without the behaviour interaction layer (eqs. 4-7): the candidate attends
// straight to S (C = S in eq. 9). This is attention as in DIN; behaviours never see each other.
struct TargetAttention {
    BehaviourEmbedding embed;
    Var W_e;
    Scorer f;
    TargetAttention(const Sizes& s, Rng& rng)
        : embed(s, rng), W_e(parameter(xavier_uniform({s.space, s.space}, s.space, s.space, rng))), f(s, rng) {}
    Var logits(const BehaviourBatch& b, AttentionMaps* maps = nullptr) {
        const Var S = per_candidate(embed.behaviours(b), b), h_t = embed.target(b);   // (B, T, d), (B, d)
        return f(vanilla_attention(h_t, W_e, S, b.candidate_mask, maps ? &maps->target : nullptr), h_t);
    }
    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        p.push_back({"W_e", W_e});
        append(p, f.named_parameters("f."));
        return p;
    }
};

// ---- The four encoders in one struct, so that one loop trains them on the same batches ----------
enum Model { kMean, kGru, kTargetAttention, kATRank, kNumModels };
const char* const kModelNames[] = {"mean pooling", "GRU", "candidate attention (no self-attention)", "ATRank"};

struct Models {
    MeanPooling mean;  GruEncoder gru;  TargetAttention target;  ATRank atrank;
    Models(const Sizes& s, Rng& rng) : mean(s, rng), gru(s, rng), target(s, rng), atrank(s, rng) {}
    Var logits(int model, const BehaviourBatch& b, AttentionMaps* maps = nullptr) {
        return model == kMean ? mean.logits(b) : model == kGru ? gru.logits(b)
             : model == kTargetAttention ? target.logits(b, maps) : atrank.logits(b, maps);
    }
    // Without a graph: one encoder's probabilities (B), and ATRank's attention maps.
    Tensor probabilities(int model, const BehaviourBatch& b) {
        NoGrad no_grad;
        return sigmoid(logits(model, b)).value();
    }
    AttentionMaps atrank_attention(const BehaviourBatch& b) {
        NoGrad no_grad;
        AttentionMaps maps;
        atrank.logits(b, &maps);
        return maps;
    }
    // The sum of the trained encoders' losses (from 0): one backward gives each encoder its own loss's gradient.
    Var loss(const BehaviourBatch& b, const std::vector<bool>& trained) {
        Var l;
        for (int model = 0; model < kNumModels; ++model)
            if (trained[size_t(model)]) l = l + bce_with_logits(logits(model, b), b.label);
        return l;
    }
    NamedParams named_parameters() const {
        NamedParams p = mean.named_parameters();
        for (const NamedParams& q : {gru.named_parameters(), target.named_parameters(), atrank.named_parameters()}) append(p, q);
        return p;
    }
};

}  // namespace ch52
}  // namespace minirec
