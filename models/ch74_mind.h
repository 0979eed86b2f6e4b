// MIND, the Multi-Interest Network with Dynamic routing of Li et al. (CIKM 2019, arXiv 1904.08030),
// and the single-vector model it is compared with (mean pooling + ReLU layers, as YouTube DNN).
// Deliberately left out: side information of items (category, brand pooled into the item
// embedding), user profile features concatenated to the capsules, approximate nearest-neighbour
// serving (we score the whole catalogue), per-user random routing logits (ours are drawn once).
//
//   eq. 3   f_score(V_u, e_i) = max_k e_i^T v_u^k                 (serving: best interest wins)
//   B2I dynamic routing (section 4.3.1, Algorithm 1), behaviours c_i = e_i, interests u_j:
//   eq. 9   K'_u = max(1, min(K, log2 |I_u|))                      (adaptive number of interests)
//           b_ij ~ N(0, sigma^2), fixed, not trained               (routing logits start random)
//           repeat r times:
//   eq. 5     w_ij = softmax_j(b_ij)                                (each behaviour splits over j)
//   eq. 6     z_j  = sum_i w_ij S e_i                               (S: one shared bilinear map)
//   eq. 7     u_j  = squash(z_j) = |z|^2 / (1 + |z|^2) z / |z|
//   eq. 8     b_ij <- b_ij + u_j^T S e_i
//   (eqs. 4-7 are the capsule network's with one S_ij per pair; B2I shares S, eq. 8)
//   (ours, the comparison the routing is judged against) K independent attention poolings:
//           a_ik = softmax_i(q_k^T S e_i), z_k = |I_u| / K'_u sum_i a_ik S e_i, u_k = squash(z_k),
//           one learned query q_k per interest: each interest normalises over behaviours, so no
//           competition between interests for a behaviour
//   eq. 10  v_u = V_u softmax(pow(V_u^T e_i, p))                   (label-aware attention, training)
//   eq. 11  Pr(i | u) = exp(v_u^T e_i) / sum_j exp(v_u^T e_j)      (sampled softmax in practice)
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "core/rng.h"
#include "datasets/multi_interest.h"
#include "nn/attention.h"
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch74 {

// A batch of user histories, padded to the longest: ids (B * T) row-major, mask (B, T, 1) with
// 1 for a real behaviour and 0 for padding (padding ids are 0 and never reach a result).
struct Histories {
    Ids ids;
    Tensor mask;            // (B, T, 1)
    std::vector<int> len;   // (B) |I_u|
    int B = 0, T = 0;
};

inline Histories pad_histories(const std::vector<Ids>& hist) {
    Histories h;
    h.B = int(hist.size());
    for (const Ids& x : hist) {
        if (x.empty()) arg_fail("ch74::pad_histories", "a user without behaviours");
        h.T = std::max(h.T, int(x.size()));
    }
    h.mask = Tensor({h.B, h.T, 1});
    h.ids.assign(size_t(h.B) * size_t(h.T), 0);
    for (int b = 0; b < h.B; ++b) {
        h.len.push_back(int(hist[size_t(b)].size()));
        for (int t = 0; t < h.len.back(); ++t) {
            h.ids[size_t(b * h.T + t)] = hist[size_t(b)][size_t(t)];
            h.mask[size_t(b * h.T + t)] = 1.0f;
        }
    }
    return h;
}

// Eq. 9: K'_u = max(1, min(K, log2 |I_u|)), rounded down to a whole number of capsules.
inline int adaptive_interests(int history_length, int K) {
    const int k = int(std::floor(std::log2(double(std::max(1, history_length)))));
    return std::max(1, std::min(K, k));
}

// squash(z) = |z|^2 / (1 + |z|^2) * z / |z| over the last axis: a short vector shrinks towards 0,
// a long one tends to unit length, and the direction is kept. A zero vector stays zero.
inline Var squash(const Var& z) {
    const Var n2 = sum(z * z, -1, true);                     // (..., 1) |z|^2
    return z * (n2 / ((1.0f + n2) * sqrt(n2 + 1e-9f)));
}

struct MindOptions {
    int items = 0;            // N, the catalogue (item ids 0 .. N-1)
    int dim = 8;              // D, the size of item embeddings and interest vectors
    int interests = 4;        // K, the most interest capsules a user gets
    int iterations = 3;       // r, routing iterations
    bool adaptive = true;     // eq. 9 (false: every user gets K interests)
    float routing_std = 1.0f; // sigma of the fixed random routing logits
    int hidden = 32;          // the ReLU layer applied to every capsule (0 = none)
    int max_history = 64;     // T_max, the size of the fixed random logit table
    bool independent = false; // K independent attention poolings instead of the routing
};

// The multi-interest extractor with B2I dynamic routing, plus the ReLU layer (H) that turns each
// capsule into an interest vector. With K = 1 it is a single-vector model whose one capsule is a
// squashed, mapped sum of the behaviours.
struct MIND {
    MindOptions opt;
    Embedding items;      // (N, D) shared by behaviours and target items
    Var S;                // (D, D) the bilinear map shared by every (behaviour, interest) pair
    Tensor b0;            // (T_max, K) initial routing logits ~ N(0, sigma^2), a constant
    MLP head;             // D -> hidden -> D per capsule (ReLU), or empty when hidden = 0
    Var Q;                // (K, D) the poolings' queries q_k (independent = true only)

    MIND() = default;
    MIND(const MindOptions& o, Rng& rng) : opt(o) {
        if (o.items < 1 || o.dim < 1 || o.interests < 1 || o.iterations < 1)
            arg_fail("ch74::MIND", "need items, dim, interests and iterations >= 1");
        items = Embedding(o.items, o.dim, rng, 0.1f);
        S = parameter(xavier_uniform({o.dim, o.dim}, o.dim, o.dim, rng));
        b0 = Tensor::normal({o.max_history, o.interests}, rng, 0.0f, o.routing_std);
        if (o.hidden > 0) head = MLP({{o.dim, o.hidden, o.dim}}, rng);
        if (o.independent) Q = parameter(xavier_uniform({o.interests, o.dim}, o.dim, o.interests, rng));
    }

    // Eq. 9 for every user of the batch: mask (B, 1, K), 1 for an active capsule.
    Tensor capsule_mask(const Histories& h) const {
        Tensor m({h.B, 1, opt.interests});
        for (int b = 0; b < h.B; ++b) {
            const int k = opt.adaptive ? adaptive_interests(h.len[size_t(b)], opt.interests) : opt.interests;
            for (int j = 0; j < k; ++j) m[size_t(b * opt.interests + j)] = 1.0f;
        }
        return m;
    }

    // B2I dynamic routing (Algorithm 1). Returns the interest capsules (B, K, D) (inactive ones are 0)
    // and, when weights != nullptr, the last routing weights w (B, T, K).
    Var route(const Histories& h, const Tensor& active, Tensor* weights = nullptr) const {
        if (h.T > opt.max_history) arg_fail("ch74::MIND", "history longer than max_history");
        const int K = opt.interests;
        const Var e = items(h.ids, {h.B, h.T});                          // (B, T, D) behaviours
        const Var Se = matmul(e, S);                                     // (B, T, D) S e_i
        if (opt.independent) return pool(h, active, Se, weights);
        Tensor b_init({h.B, h.T, K});                                    // b_ij, the same table for every user
        for (int b = 0; b < h.B; ++b)
            for (size_t x = 0; x < size_t(h.T * K); ++x) b_init[size_t(b * h.T * K) + x] = b0[x];
        Var logits = constant(b_init);                                   // (B, T, K)
        Var u;
        for (int it = 0; it < opt.iterations; ++it) {
            Var w = softmax(logits, &active);                            // eq. 5 (B, T, K) over active j
            w = w * constant(h.mask);                                    // padding routes nowhere
            if (weights && it + 1 == opt.iterations) *weights = w.value();
            const Var z = matmul(w, Se, true, false);                    // eq. 6 (B, K, D) sum_i w_ij S e_i
            u = squash(z);                                               // eq. 7 (B, K, D)
            if (it + 1 < opt.iterations)
                logits = logits + matmul(Se, u, false, true);            // eq. 8: b_ij += u_j^T S e_i
        }
        return u;
    }

    // K independent attention poolings: a (B, K, T) = softmax over the behaviours of q_k^T S e_i,
    // no competition between interests. Each active interest gets the mass a routed capsule gets on
    // average, |I_u| / K'_u (the routing's weights sum to |I_u| over its K'_u capsules); inactive
    // ones get 0. weights: a as (B, T, K).
    Var pool(const Histories& h, const Tensor& active, const Var& Se, Tensor* weights) const {
        const int K = opt.interests;
        const Tensor pad = h.mask.reshape({h.B, 1, h.T});
        Tensor mass = transpose_mask(active);                            // (B, K, 1)
        for (int b = 0; b < h.B; ++b) {
            float k_u = 0.0f;
            for (int k = 0; k < K; ++k) k_u += mass[size_t(b * K + k)];
            for (int k = 0; k < K; ++k) mass[size_t(b * K + k)] *= float(h.len[size_t(b)]) / k_u;
        }
        const Var a = softmax(transpose(matmul(Se, Q, false, true)), &pad);   // (B, K, T)
        if (weights) *weights = transpose(a * constant(transpose_mask(active))).value();
        return squash(matmul(a * constant(mass), Se));                   // (B, K, D)
    }

    // The user's interest vectors V_u (B, K, D): capsules through the ReLU layer. Inactive capsules
    // are zeroed again (the layer's bias would move them) and must be masked by the caller.
    Var interests(const Histories& h, const Tensor& active, Tensor* weights = nullptr) {
        Var V = route(h, active, weights);
        if (opt.hidden > 0) V = head(V) * constant(transpose_mask(active));
        return V;
    }

    // (B, 1, K) -> (B, K, 1)
    static Tensor transpose_mask(const Tensor& active) { return active.reshape({active.dim(0), active.dim(2), 1}); }

    NamedParams named_parameters() const {
        NamedParams p = items.named_parameters("items.");
        p.push_back({"S", S});
        if (opt.independent) p.push_back({"Q", Q});
        if (opt.hidden > 0) append(p, head.named_parameters("head."));
        return p;
    }
};

// Eq. 10, label-aware attention: v_u = V_u softmax(pow(V_u^T e_i, p)). V (B, K, D), target
// embeddings e (B, D), active (B, 1, K) -> v_u (B, D). Raw scores may be negative, so we raise
// the softmax's exponentials to the power p: softmax(p s) = e^{p s_k} / sum_j e^{p s_j}. That keeps
// the paper's limits: p = 0 averages the interests, large p picks the one closest to the label.
// p < 0 means p = infinity: hard attention, the gradient reaches the chosen interest only.
inline Var label_aware_attention(const Var& V, const Var& e, const Tensor& active, float p) {
    if (p >= 0.0f) return attention_pool(V, e, active, nullptr, p);     // (B, D)
    const int B = V.dim(0), K = V.dim(1);
    const Var s = reshape(matmul(V, unsqueeze(e, 2)), {B, 1, K});       // (B, 1, K) v_k^T e_i
    Tensor a({B, 1, K});                                                 // one-hot of the best active k
    for (int b = 0; b < B; ++b) {
        int best = -1;
        for (int k = 0; k < K; ++k)
            if (active[size_t(b * K + k)] > 0 && (best < 0 || s.value()[size_t(b * K + k)] > s.value()[size_t(b * K + best)]))
                best = k;
        a[size_t(b * K + best)] = 1.0f;
    }
    return squeeze(matmul(constant(a), V), 1);                           // (B, D)
}

// ---- The single-vector baseline: mean pooling + the same ReLU layer (YouTube DNN) ------------
struct MeanPool {
    Embedding items;      // (N, D)
    MLP head;             // D -> hidden -> D, or none
    int hidden = 0;

    MeanPool() = default;
    MeanPool(int n_items, int dim, int hidden_size, Rng& rng)
        : items(n_items, dim, rng, 0.1f), hidden(hidden_size) {
        if (hidden > 0) head = MLP({{dim, hidden, dim}}, rng);
    }

    // (B, D): the mean of the behaviours' embeddings, through the ReLU layer.
    Var user(const Histories& h) {
        const Var e = items(h.ids, {h.B, h.T}) * constant(h.mask);      // (B, T, D), padding zeroed
        Tensor inv_len({h.B, 1});
        for (int b = 0; b < h.B; ++b) inv_len[size_t(b)] = 1.0f / float(h.len[size_t(b)]);
        const Var v = sum(e, 1) * constant(inv_len);                     // (B, D)
        return hidden > 0 ? head(v) : v;
    }

    NamedParams named_parameters() const {
        NamedParams p = items.named_parameters("items.");
        if (hidden > 0) append(p, head.named_parameters("head."));
        return p;
    }
};

// ---- The comparison: MIND or mean pooling behind one interface ---------------------------------
// One model of the comparison: mean pooling, or MIND with its K, p, r, or the independent poolings.
struct ModelSpec {
    std::string name;
    bool mind = true;          // false: mean pooling (one vector)
    int interests = 4;         // K
    float p = 2.0f;            // label-aware attention power (< 0: hard attention)
    int iterations = 3;        // r; with r = 1 the weights are softmax(b0): K fixed random poolings
    bool pools = false;        // K independent attention poolings instead of the routing
};

// The variants chapter 74 compares: the paper's single-vector baseline and MIND (Table 2), its ablations
// of label-aware attention (p, Fig. 3) and of the routing iterations r, and ours, K independent poolings.
inline std::vector<ModelSpec> default_specs() {
    return {{"mean pooling (YouTube DNN)", false, 1, 0.0f, 3}, {"MIND, K = 1", true, 1, 0.0f, 3},
            {"MIND, K = 4, p = 0", true, 4, 0.0f, 3}, {"MIND, K = 4, p = 2", true, 4, 2.0f, 3},
            {"MIND, K = 4, hard (p = inf)", true, 4, -1.0f, 3}, {"MIND, K = 4, p = 2, r = 1", true, 4, 2.0f, 1},
            {"K = 4 independent poolings, p = 2", true, 4, 2.0f, 3, true}};
}
enum { kMean = 0, kMind1 = 1, kP0 = 2, kP2 = 3, kHard = 4, kR1 = 5, kPools = 6 };   // their places in default_specs()

// Either model behind one interface: user vectors (B, K, D) with an active-capsule mask (B, 1, K).
// loss, catalogue_scores and capsules take a batch's histories as lists of item ids and pad them.
struct AnyModel {
    ModelSpec spec;
    MIND mind;  MeanPool pool;   // one of them
    AnyModel(const ModelSpec& s, int items, int dim, int hidden, int max_history, Rng& rng) : spec(s) {
        if (!s.mind) { pool = MeanPool(items, dim, hidden, rng); return; }
        MindOptions m;
        m.items = items, m.dim = dim, m.interests = s.interests, m.iterations = s.iterations;
        m.independent = s.pools, m.hidden = hidden, m.max_history = max_history;
        mind = MIND(m, rng);
    }
    const Embedding& items() const { return spec.mind ? mind.items : pool.items; }
    Tensor active(const Histories& h) const { return spec.mind ? mind.capsule_mask(h) : Tensor::ones({h.B, 1, 1}); }
    Var interests(const Histories& h, const Tensor& active, Tensor* weights = nullptr) {   // (B, K, D); mean pooling K = 1
        return spec.mind ? mind.interests(h, active, weights) : unsqueeze(pool.user(h), 1);
    }
    NamedParams named_parameters() const { return spec.mind ? mind.named_parameters() : pool.named_parameters(); }

    // Training, eqs. 10-11: the label picks among the interests (label-aware attention with the spec's p),
    // then sampled softmax of v_u^T e_target against the batch's shared negatives.
    Var loss(const std::vector<Ids>& histories, const Ids& target, const Ids& negatives) {
        const Histories h = pad_histories(histories);
        const Tensor active = this->active(h);
        const Var V = interests(h, active);                          // (B, K, D)
        const Var e = items()(target);                               // (B, D) label embeddings
        const Var v = label_aware_attention(V, e, active, spec.p);  // (B, D) eq. 10
        const Var pos = sum(v * e, 1);                               // (B) v_u^T e_i
        const Var neg = matmul(v, items()(negatives), false, true);  // (B, negatives)
        return sampled_softmax_loss(pos, neg);                       // eq. 11, sampled
    }

    // Serving, eq. 3: best (B * N, row-major) = max over the active interests of v_k^T e_i, for every
    // item i of the catalogue; no graph recorded.
    void catalogue_scores(const std::vector<Ids>& histories, std::vector<float>& best) {
        NoGrad no_grad;
        const Histories h = pad_histories(histories);
        const Tensor active = this->active(h);
        const Tensor s = matmul(interests(h, active), items().table, false, true).value();   // (B, K, N)
        const int K = s.dim(1), N = s.dim(2);
        best.assign(size_t(h.B) * size_t(N), -1e30f);
        for (int b = 0; b < h.B; ++b)
            for (int k = 0; k < K; ++k)
                if (active[size_t(b * K + k)] != 0.0f)
                    for (int i = 0; i < N; ++i) best[size_t(b * N + i)] = std::max(best[size_t(b * N + i)], s[size_t((b * K + k) * N + i)]);
    }

    // The capsule of each behaviour, argmax_j w_ij of the last routing weights w (B, T, K) (for the
    // independent poolings, argmax_k a_ik): one list per user, in the order of her history; no graph recorded.
    std::vector<std::vector<int>> capsules(const std::vector<Ids>& histories) {
        NoGrad no_grad;
        const Histories h = pad_histories(histories);
        Tensor weights;
        interests(h, active(h), &weights);
        const int K = weights.dim(2);
        std::vector<std::vector<int>> cap(size_t(h.B));
        for (int b = 0; b < h.B; ++b)
            for (int t = 0; t < h.len[size_t(b)]; ++t) {
                const float* row = &weights[size_t((b * h.T + t) * K)];
                cap[size_t(b)].push_back(int(std::max_element(row, row + K) - row));
            }
        return cap;
    }

    // The same two as datasets/multi_interest.h takes them, for users rows of `users`: the mean Rand index
    // of the capsules against the planted clusters (over users with m >= 2), and the catalogue's scores.
    double rand_index(const std::vector<datasets::MultiInterestUser>& users) {
        return datasets::mean_rand_index(users, [&](const std::vector<int>& rows) { return capsules(datasets::histories(users, rows)); });
    }
    datasets::BlockScores block_scores(const std::vector<datasets::MultiInterestUser>& users) {
        return [this, &users](const std::vector<int>& rows, std::vector<float>& best) { catalogue_scores(datasets::histories(users, rows), best); };
    }
};

}  // namespace ch74
}  // namespace minirec
