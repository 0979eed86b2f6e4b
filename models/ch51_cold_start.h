// Chapter 51's models: the cold-start recipes of 项亮《推荐系统实践》 as small count-based scorers
// (smoothed popularity per user group, cosine similarity of content and expert vectors), and the
// side-information item embeddings of Wang et al., "Billion-scale Commodity Embedding for
// E-commerce Recommendation in Alibaba" (KDD 2018): BGE (id only), GES (plain average with side
// information) and EGES (learned per-item weights), trained by skip-gram with negative sampling.
// Deliberately left out: the paper's weighted item graph and its random walks (our context nodes
// are the users who clicked the item: one step on the user-item click graph, see the tutorial),
// its distributed training.
//
//   eq. 3   skip-gram with negative sampling: maximise log s(Z_u' H_v) + sum_k log s(-Z_k' H_v)
//   GES     H_v = 1/(n+1) sum_{j=0..n} W_v^j         (W_v^0 the id embedding, W_v^j side info j)
//   eq. 5   EGES H_v = sum_j e^{a_v^j} W_v^j / sum_j e^{a_v^j},  a_v in R^{n+1} learned per item
//   eq. 6   L(v, u, y) = -[y log s(H_v' Z_u) + (1 - y) log(1 - s(H_v' Z_u))],  Z_u the context
//           vector of context node u (an item of the walk in the paper, a user here), y = 1 for a
//           real (v, u) pair and 0 for a sampled negative
//   cold    a new item has no id embedding and no a_v: H_v = 1/n sum_{j=1..n} W_v^j (side info only)
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"

namespace minirec {
namespace ch51 {

// ---- Count-based cold-start scorers (推荐系统实践, ch. 3) -------------------------------------
// Click-through rate of one item in one group of users, shrunk towards a prior when the group saw
// the item rarely:  (clicks + m prior) / (impressions + m).  With the global CTR as the prior this
// is "popularity"; with the item's own CTR as the prior and a demographic cell (or an interest
// tag) as the group, it is "popularity among people like you".
inline double smoothed_ctr(double clicks, double impressions, double prior, double m) {
    return (clicks + m * prior) / (impressions + m);
}

// Clicks and impressions of every item within every group of users (a demographic cell, an
// interest tag), counted from a log: the tables behind "popularity among people like you".
struct GroupCounts {
    int items = 0;
    std::vector<double> clicks, impressions;    // (G, N)
    GroupCounts(int groups, int n_items)
        : items(n_items), clicks(size_t(groups) * size_t(n_items)), impressions(size_t(groups) * size_t(n_items)) {}
    void add(int group, int item, double click) {
        const size_t g = size_t(group) * size_t(items) + size_t(item);
        clicks[g] += click, impressions[g] += 1.0;
    }
};

// Scores (U, N) row-major: score(u, i) is the mean, over the groups of user u, of item i's CTR in
// that group, smoothed towards the item's overall CTR prior[i]. One group per user (the
// demographic cell) or several (the interest tags).
inline std::vector<float> group_popularity(const GroupCounts& c, const std::vector<Ids>& user_groups,
                                           const std::vector<double>& prior, double m) {
    const size_t N = size_t(c.items);
    std::vector<float> out(user_groups.size() * N);
    for (size_t u = 0; u < user_groups.size(); ++u)
        for (size_t i = 0; i < N; ++i) {
            double sum = 0.0;
            for (int g : user_groups[u]) sum += smoothed_ctr(c.clicks[size_t(g) * N + i], c.impressions[size_t(g) * N + i], prior[i], m);
            out[u * N + i] = float(sum / double(user_groups[u].size()));
        }
    return out;
}

// Cosine similarity of two dense vectors of length n (0 when either is all zeros): the content
// and expert-label similarities of sections 3.1 and 3.2 of the chapter.
inline double cosine(const float* a, const float* b, int n) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int k = 0; k < n; ++k) ab += double(a[k]) * b[k], aa += double(a[k]) * a[k], bb += double(b[k]) * b[k];
    return aa > 0.0 && bb > 0.0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// Content-based scores (U, N) row-major: the cosine of each item's vector (keywords, expert
// labels; item_vec (N, dim)) with the user's profile, the sum of the vectors of the items the
// user clicked. A user without clicks scores 0 everywhere.
inline std::vector<float> profile_cosine(const std::vector<Ids>& user_clicks, const std::vector<float>& item_vec, int dim) {
    const size_t N = item_vec.size() / size_t(dim);
    std::vector<float> out(user_clicks.size() * N), profile(static_cast<size_t>(dim));
    for (size_t u = 0; u < user_clicks.size(); ++u) {
        std::fill(profile.begin(), profile.end(), 0.0f);
        for (int c : user_clicks[u])
            for (int k = 0; k < dim; ++k) profile[size_t(k)] += item_vec[size_t(c) * dim + size_t(k)];
        for (size_t i = 0; i < N; ++i) out[u * N + i] = float(cosine(profile.data(), &item_vec[i * dim], dim));
    }
    return out;
}

// ---- EGES -------------------------------------------------------------------------------------
enum class Aggregation { bge, ges, eges };   // id only; plain average; learned per-item weights

// Item features: field 0 is the item id, fields 1..n its side information (category, shop,
// keywords...). Each field of each item is a bag of ids in that field's vocabulary (one id for a
// categorical field, several for keywords): ids[f][item].
struct ItemFields {
    std::vector<std::string> names;          // (F) "id", "tag", ...
    std::vector<int> vocab;                  // (F) vocabulary size of each field
    std::vector<std::vector<Ids>> ids;       // [F][N] the bag of each item in each field
    int fields() const { return int(names.size()); }
    int items() const { return int(ids.at(0).size()); }
};

// Eq. 5 on a batch: a (B, F) unnormalised weights a_v, e (B, F, D) the field embeddings W_v^j
// -> H (B, D) = sum_j softmax(a_v)_j W_v^j. Exposed on its own so the test can check its gradient.
inline Var eges_aggregate(const Var& a, const Var& e) {
    const Var w = unsqueeze(softmax(a), 2);        // (B, F, 1)  e^{a_v^j} / sum_j e^{a_v^j}
    return sum(w * e, 1);                          // (B, D)
}

struct EGES {
    Aggregation mode = Aggregation::eges;
    std::vector<EmbeddingBag> field;   // W^j: one (vocab_j, D) table per field, bags averaged
    Embedding attention;               // A: (N, F) the per-item weights a_v (EGES only), start at 0
    Embedding context;                 // Z: (C, D) context ("output") vectors of the skip-gram

    // contexts: C, the number of context nodes (the items of the graph in the paper; users here).
    EGES(const ItemFields& f, int contexts, int dim, Aggregation mode_, Rng& rng) : mode(mode_) {
        for (int j = 0; j < f.fields(); ++j) field.emplace_back(f.vocab[size_t(j)], dim, rng, BagMode::mean, 0.1f);
        attention = Embedding(f.items(), f.fields(), rng, 0.0f);
        context = Embedding(contexts, dim, rng, 0.1f);
    }

    // W_v^j for every field j of every item of the batch: (B, F, D) (fields first..last-1).
    Var field_embeddings(const ItemFields& f, const Ids& items, int first = 0, int last = -1) const {
        if (last < 0) last = f.fields();
        std::vector<Var> per_field;
        for (int j = first; j < last; ++j) {
            Ids ids;
            std::vector<int> offsets = {0};
            for (int v : items) {
                const Ids& bag = f.ids[size_t(j)][size_t(v)];
                ids.insert(ids.end(), bag.begin(), bag.end());
                offsets.push_back(int(ids.size()));
            }
            per_field.push_back(unsqueeze(field[size_t(j)](ids, offsets), 1));   // (B, 1, D)
        }
        return concat(per_field, 1);                                             // (B, F, D)
    }

    // H_v of warm items (B) -> (B, D): the id alone (BGE), the plain average (GES) or eq. 5 (EGES).
    Var embed(const ItemFields& f, const Ids& items) const {
        if (mode == Aggregation::bge) return squeeze(field_embeddings(f, items, 0, 1), 1);
        const Var e = field_embeddings(f, items);                  // (B, F, D)
        if (mode == Aggregation::ges) return mean(e, 1);
        return eges_aggregate(attention(items), e);               // (B, F) weights, eq. 5
    }

    // H_v of cold items, which have no trained id embedding: the average of their side-information
    // embeddings (the paper's rule; for BGE the untrained id row is all there is). side_weights, if
    // given (n values summing to 1), replaces the plain average (not the paper's: see the tutorial).
    Var embed_cold(const ItemFields& f, const Ids& items, const std::vector<float>* side_weights = nullptr) const {
        if (mode == Aggregation::bge) return squeeze(field_embeddings(f, items, 0, 1), 1);
        const Var e = field_embeddings(f, items, 1);               // (B, n, D) side info only
        if (!side_weights) return mean(e, 1);
        const int n = f.fields() - 1;
        return sum(e * constant(Tensor({1, n, 1}, *side_weights)), 1);
    }

    // score(u, v) = H_v' Z_u for every context u and every item v: (C, N). Warm items use embed(),
    // the items flagged cold use embed_cold() (with side_weights when given).
    Tensor scores(const ItemFields& f, const std::vector<bool>& cold, const std::vector<float>* side_weights = nullptr) const {
        NoGrad no_grad;
        Ids warm_items, cold_items;
        for (int i = 0; i < f.items(); ++i) (cold[size_t(i)] ? cold_items : warm_items).push_back(i);
        const int D = context.dim();
        Tensor H({f.items(), D});                                           // (N, D) H_v
        for (const Ids* group : {&warm_items, &cold_items}) {
            if (group->empty()) continue;
            const Tensor h = (group == &warm_items ? embed(f, *group) : embed_cold(f, *group, side_weights)).value();
            for (size_t j = 0; j < group->size(); ++j)
                std::copy(h.data() + j * D, h.data() + (j + 1) * D, H.data() + size_t((*group)[j]) * D);
        }
        return matmul(constant(context.table.value()), constant(H), false, true).value();   // (C, N)
    }

    // The learned weights softmax(a_v) of some items: (B, F).
    Tensor weights(const Ids& items) const {
        NoGrad no_grad;
        return softmax(attention(items)).value();
    }

    // Side weights for embed_cold() learned by EGES (our variant, not the paper's rule): softmax(a_v)
    // of the side fields averaged over some warm items and renormalised to sum to 1 without the id.
    std::vector<float> mean_side_weights(const Ids& items) const {
        const Tensor A = weights(items);                                    // (B, F)
        const int F = A.dim(1);
        std::vector<float> side(size_t(F - 1), 0.0f);
        for (size_t j = 0; j < items.size(); ++j)
            for (int f = 1; f < F; ++f) side[size_t(f - 1)] += A[j * F + size_t(f)];
        const float total = std::accumulate(side.begin(), side.end(), 0.0f);
        for (float& x : side) x /= total;
        return side;
    }

    NamedParams named_parameters() const {
        NamedParams p;
        for (size_t j = 0; j < field.size(); ++j) append(p, field[j].named_parameters("W" + std::to_string(j) + "."));
        if (mode == Aggregation::eges) append(p, attention.named_parameters("a."));
        append(p, context.named_parameters("Z."));
        return p;
    }
};

// Eq. 6 summed over one positive context and K sampled negatives (eq. 3): h (B, D) the centre
// items' H_v, z_pos (B, D) their co-clicked items' context vectors, z_neg (B, K, D) negatives.
//   l = -log s(h' z_pos) - sum_k log s(-h' z_k) = softplus(-h' z_pos) + sum_k softplus(h' z_k)
inline Var skipgram_loss(const Var& h, const Var& z_pos, const Var& z_neg) {
    const Var pos = sum(h * z_pos, 1);                               // (B)
    const Var neg = squeeze(matmul(z_neg, unsqueeze(h, 2)), 2);      // (B, K, D) x (B, D, 1) -> (B, K)
    return mean(softplus(-pos)) + mean(sum(softplus(neg), 1));
}

}  // namespace ch51
}  // namespace minirec
