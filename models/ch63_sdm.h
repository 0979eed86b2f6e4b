// SDM, the Sequential Deep Matching model of Lv et al. (CIKM 2019, arXiv 1909.00385): a short-term
// session encoder (LSTM, multi-head self-attention, user attention), a long-term encoder (user
// attention over each side-information set of past behaviours), and a gate that fuses the two.
// The baselines fuse differently: short-term only, long-term only, s + p, and a linear map of
// [s, p]. Deliberately left out: the paper's many side-information fields (we keep item id,
// category and shop), dropout, residual connections, the session segmentation rules of its logs.
//
//   eq. 2   e_i = concat_f(W^f x_i^f)                  an item is the concat of its field embeddings
//   eq. 3   e_u = W^p x_u                               the user profile embedding
//   eq. 4   h_t = LSTM(e_{i_t}, h_{t-1})                over the current session S^u
//   eq. 5-6 X^ = MultiHead(h_1..h_m)                    self-attention, W^O concat(head_1..head_H)
//   eq. 7   a_k = softmax_k(x^_k^T e_u),  s^u = sum_k a_k x^_k          (user attention)
//   eq. 8   a_k = softmax_k(g_k^f^T e_u), z^f = sum_k a_k g_k^f         per set f of L^u
//   eq. 9   p^u = tanh(W^p concat_f(z^f) + b)
//   eq. 10  G = sigmoid(W^1 e_u + W^2 s^u + W^3 p^u + b)
//   eq. 11  o^u = (1 - G) * p^u + G * s^u               scored against items by o^T e_i
#pragma once
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "core/rng.h"
#include "datasets/ch63_sessions.h"
#include "nn/attention.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/rnn.h"

namespace minirec {
namespace ch63 {

// How o^u is made from s^u and p^u: the paper's gate and the comparisons of its section 5.
enum class Fusion { gated, short_only, long_only, add, concat };

struct SdmOptions {
    int items = 0, categories = 0, shops = 0, profiles = 0;   // vocabularies
    int field_dim = 8;        // d: each field's embedding; items are 3d long (id, category, shop)
    int heads = 2;            // H of the self-attention
    Fusion fusion = Fusion::gated;
    int dim() const { return 3 * field_dim; }                 // D = 3d, the size of every user vector
};

// A batch: item attributes are looked up from catalogue tables by item id.
struct Catalogue {
    std::vector<int> category, shop;   // (N) per item
};

// Sequences padded to their longest: ids (B * T), mask (B, T) 1 = real, lengths (B).
struct Padded {
    Ids ids;
    Tensor mask;
    std::vector<int> len;
    int B = 0, T = 0;
};

inline Padded pad(const std::vector<Ids>& seqs) {
    Padded p;
    p.B = int(seqs.size());
    for (const Ids& s : seqs) {
        if (s.empty()) arg_fail("ch63::pad", "an empty sequence");
        p.T = std::max(p.T, int(s.size()));
    }
    p.mask = Tensor({p.B, p.T});
    p.ids.assign(size_t(p.B) * size_t(p.T), 0);
    for (int b = 0; b < p.B; ++b) {
        p.len.push_back(int(seqs[size_t(b)].size()));
        for (int t = 0; t < p.len.back(); ++t) {
            p.ids[size_t(b * p.T + t)] = seqs[size_t(b)][size_t(t)];
            p.mask[size_t(b * p.T + t)] = 1.0f;
        }
    }
    return p;
}

struct SDM {
    SdmOptions opt;
    Catalogue cat;
    Embedding item_id, category, shop;   // (N, d), (C, d), (S, d): the fields of eq. 2
    Embedding profile;                   // (P, D) eq. 3
    LSTM lstm;                           // D -> D, eq. 4
    MultiHeadAttention self_attention;   // eqs. 5-6
    Linear query_id, query_category, query_shop;   // e_u (D) -> a query of size d per set (eq. 8)
    Linear long_term;                    // 3d -> D, eq. 9
    Linear gate;                         // [e_u, s, p] (3D) -> D, eq. 10 (W^1, W^2, W^3 side by side)
    Linear mix;                          // [s, p] (2D) -> D, the concat baseline

    SDM(const SdmOptions& o, Catalogue c, Rng& rng) : opt(o), cat(std::move(c)) {
        if (o.items < 1 || o.categories < 1 || o.shops < 1 || o.profiles < 1 || o.field_dim < 1)
            arg_fail("ch63::SDM", "every vocabulary and field_dim must be >= 1");
        if (int(cat.category.size()) != o.items || int(cat.shop.size()) != o.items)
            arg_fail("ch63::SDM", "the catalogue must give a category and a shop for every item");
        const int d = o.field_dim, D = o.dim();
        item_id = Embedding(o.items, d, rng, 0.1f);
        category = Embedding(o.categories, d, rng, 0.1f);
        shop = Embedding(o.shops, d, rng, 0.1f);
        profile = Embedding(o.profiles, D, rng, 0.1f);
        lstm = LSTM(D, D, rng);
        MultiHeadAttentionOptions mo;
        mo.dim = D;
        mo.heads = o.heads;
        self_attention = MultiHeadAttention(mo, rng);
        query_id = Linear(D, d, rng), query_category = Linear(D, d, rng), query_shop = Linear(D, d, rng);
        long_term = Linear(3 * d, D, rng);
        gate = Linear(3 * D, D, rng);
        mix = Linear(2 * D, D, rng);
    }

    Ids categories_of(const Ids& items) const {
        Ids c;
        for (int32_t i : items) c.push_back(cat.category[size_t(i)]);
        return c;
    }
    Ids shops_of(const Ids& items) const {
        Ids s;
        for (int32_t i : items) s.push_back(cat.shop[size_t(i)]);
        return s;
    }

    // Eq. 2: items (n) -> (n, D), or laid out as shape (..., D).
    Var items(const Ids& ids, const Shape& shape) const {
        return concat({item_id(ids, shape), category(categories_of(ids), shape), shop(shops_of(ids), shape)},
                      int(shape.size()));
    }
    Var items(const Ids& ids) const { return items(ids, {int(ids.size())}); }
    // Every item of the catalogue (N, D): what o^u is scored against, o^T e_i.
    Var all_items() const {
        Ids all(cat.category.size());
        std::iota(all.begin(), all.end(), 0);
        return items(all);
    }

    // Short-term: the session (B, T) -> s^u (B, D) (eqs. 4-7).
    Var short_term(const Padded& session, const Var& e_u, Var* weights = nullptr) {
        const Var x = items(session.ids, {session.B, session.T});             // (B, T, D)
        const Var h = lstm(x, session.len).outputs;                           // (B, T, D) eq. 4
        AttentionMask am;
        am.key_padding = &session.mask;
        const Var hh = self_attention(h, am);                                 // (B, T, D) eqs. 5-6
        return attention_pool(hh, e_u, session.mask, weights);                // (B, D) eq. 7
    }

    // Long-term: past behaviours (B, L) seen as three sets (ids, categories, shops) -> p^u (B, D).
    Var long_term_vector(const Padded& past, const Var& e_u) const {
        const Shape shape = {past.B, past.T};
        const Var z_id = attention_pool(item_id(past.ids, shape), query_id(e_u), past.mask);           // eq. 8
        const Var z_cat = attention_pool(category(categories_of(past.ids), shape), query_category(e_u), past.mask);
        const Var z_shop = attention_pool(shop(shops_of(past.ids), shape), query_shop(e_u), past.mask);
        return tanh(long_term(concat({z_id, z_cat, z_shop}, 1)));                 // (B, D) eq. 9
    }

    // The user vector o^u (B, D). gate_out receives G (B, D) for the gated fusion.
    Var user(const Ids& profiles, const Padded& session, const Padded& past, Var* gate_out = nullptr) {
        const Var e_u = profile(profiles);                                    // (B, D) eq. 3
        switch (opt.fusion) {
            case Fusion::short_only: return short_term(session, e_u);
            case Fusion::long_only: return long_term_vector(past, e_u);
            default: break;
        }
        const Var s = short_term(session, e_u), p = long_term_vector(past, e_u);
        if (opt.fusion == Fusion::add) return s + p;
        if (opt.fusion == Fusion::concat) return mix(concat({s, p}, 1));
        const Var G = sigmoid(gate(concat({e_u, s, p}, 1)));                  // (B, D) eq. 10
        if (gate_out) *gate_out = G;
        return (1.0f - G) * p + G * s;                                        // eq. 11
    }
    // The same from one unpadded session and one unpadded list of past behaviours per user.
    Var user(const Ids& profiles, const std::vector<Ids>& sessions, const std::vector<Ids>& pasts, Var* gate_out = nullptr) {
        return user(profiles, pad(sessions), pad(pasts), gate_out);
    }

    // The training loss of a batch, the paper's sampled softmax: each user's next item against
    // `negatives` items drawn uniformly from rng and shared by the batch, all scored by o^T e_i.
    Var loss(const datasets::SessionBatch& b, int n_negatives, Rng& rng) {
        Ids negatives;
        for (int k = 0; k < n_negatives; ++k) negatives.push_back(rng.randint(opt.items));
        const Var o_u = user(b.profiles, b.sessions, b.pasts);              // (B, D)
        const Var pos = sum(o_u * items(b.target), 1);                      // (B)
        const Var neg = matmul(o_u, items(negatives), false, true);         // (B, negatives)
        return sampled_softmax_loss(pos, neg);
    }

    // Only the parts this fusion uses (a short-term-only model has no long-term encoder to train).
    NamedParams named_parameters() const {
        NamedParams p = item_id.named_parameters("item_id.");
        append(p, category.named_parameters("category."));
        append(p, shop.named_parameters("shop."));
        append(p, profile.named_parameters("profile."));
        if (opt.fusion != Fusion::long_only) {
            append(p, lstm.named_parameters("lstm."));
            append(p, self_attention.named_parameters("self_attention."));
        }
        if (opt.fusion != Fusion::short_only) {
            append(p, query_id.named_parameters("query_id."));
            append(p, query_category.named_parameters("query_category."));
            append(p, query_shop.named_parameters("query_shop."));
            append(p, long_term.named_parameters("long_term."));
        }
        if (opt.fusion == Fusion::gated) append(p, gate.named_parameters("gate."));
        if (opt.fusion == Fusion::concat) append(p, mix.named_parameters("mix."));
        return p;
    }
};

// SDM's vocabularies from a world (datasets/ch63_sessions.h): every item of its catalogue, its
// categories, shops and profiles.
inline SdmOptions sdm_options(const datasets::SessionWorld& w, int field_dim, int heads, Fusion fusion) {
    SdmOptions so;
    so.items = int(w.category.size()), so.categories = w.opt.categories, so.shops = w.opt.shops, so.profiles = w.opt.profiles;
    so.field_dim = field_dim, so.heads = heads, so.fusion = fusion;
    return so;
}

// Serving, as datasets/next_item.h's UserScores: users first .. first + count - 1 of `users` scored
// against every item (E = all_items(), taken once, (N, D)), o^T e_i, into z (count x N, row-major).
// `gate`, when given, receives each user's G (eq. 10) averaged over its D dimensions (gated fusion only).
// Call it and score under NoGrad; m and users must outlive the scorer.
inline datasets::UserScores user_scores(SDM& m, const std::vector<datasets::SessionUser>& users, std::vector<double>* gate = nullptr) {
    return [&m, &users, gate, E = m.all_items()](size_t first, int count, std::vector<float>& z) {
        std::vector<int> rows(static_cast<size_t>(count));
        std::iota(rows.begin(), rows.end(), int(first));
        const datasets::SessionBatch b = datasets::session_batch(users, rows);
        Var G;
        const Tensor s = matmul(m.user(b.profiles, b.sessions, b.pasts, &G), E, false, true).value();   // (B, N)
        std::copy(s.data(), s.data() + z.size(), z.begin());
        const int D = E.dim(1);
        for (int j = 0; j < count && gate && G.rank() == 2; ++j) {   // the gated model set G
            double g = 0;
            for (int d = 0; d < D; ++d) g += G.value()[size_t(j) * size_t(D) + size_t(d)] / D;
            gate->push_back(g);
        }
    };
}

}  // namespace ch63
}  // namespace minirec
