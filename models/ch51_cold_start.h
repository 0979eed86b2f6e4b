// Chapter 51's models: item embeddings learned on an item graph (Wang et al., "Billion-scale
// Commodity Embedding for E-commerce Recommendation in Alibaba", KDD 2018). Weighted random walks
// on the graph of datasets/ch51_item_graph.h, skip-gram with negative sampling over the walks, and
// three ways to build the centre item's vector H_v:
//   BGE     H_v = W_v^0                                   (the id embedding alone: DeepWalk)
//   GES     H_v = 1/(n+1) sum_{j=0..n} W_v^j              (W_v^j: side information j of v)
//   EGES    H_v = sum_j e^{a_v^j} W_v^j / sum_j e^{a_v^j} (a_v in R^{n+1} learned per item)
//   loss    L(v, u, y) = -[y log s(H_v' Z_u) + (1 - y) log(1 - s(H_v' Z_u))], Z_u the context
//           vector of u, y = 1 for u in v's walk window, 0 for a negative drawn from counts^0.75
//   cold    a new item has no id and no a_v: H_v = 1/n sum_{j=1..n} W_v^j (side information only)
// One SGD step on one (v, u, negatives) is written out by hand below (the gradients of the
// loss through H_v) and tested against finite differences. Deliberately left out: distributed
// training, the paper's fixed learning-rate settings (not given), more side information.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/ch51_item_graph.h"
#include "datasets/sampling.h"

namespace minirec {
namespace ch51 {

// Weighted walks: from v the next node is j with probability M_vj / sum_k M_vk (M the edge
// weights). Every node with out-edges starts `per_node` walks; a walk stops early at a node without
// out-edges. Returned in random order (the SGD visits them so).
inline std::vector<std::vector<int>> random_walks(const datasets::ItemGraph& g, int per_node, int length, Rng& rng) {
    std::vector<std::vector<int>> walks;
    for (int r = 0; r < per_node; ++r)
        for (int start = 0; start < g.nodes; ++start) {
            std::vector<int> walk = {start};
            while (int(walk.size()) < length && g.begin[size_t(walk.back())] < g.begin[size_t(walk.back()) + 1]) {
                const int v = walk.back(), end = g.begin[size_t(v) + 1];
                int k = g.begin[size_t(v)];
                for (double x = rng.uniform_double() * g.out_weight(v); k + 1 < end && (x -= g.weight[size_t(k)]) >= 0.0;) ++k;
                walk.push_back(g.to[size_t(k)]);
            }
            if (walk.size() > 1) walks.push_back(std::move(walk));
        }
    rng.shuffle(walks);
    return walks;
}

enum class Aggregation { bge, ges, eges };

// Field 0 is the item's own id (value[0][v] = v), fields 1..n its side information: value[j][v]
// is item v's value in field j, whose vocabulary has vocab[j] values.
struct SideInfo {
    std::vector<int> vocab;
    std::vector<std::vector<int>> value;   // [F][N]
    int fields() const { return int(vocab.size()); }
};

// A shop's items as fields: the id, then category, shop and brand.
inline SideInfo side_info(const datasets::ItemGraphWorld& shop) {
    const int N = shop.opt.items;
    SideInfo side;
    side.vocab = {N, shop.opt.categories, shop.opt.shops, shop.opt.brands};
    side.value.resize(4);
    for (int i = 0; i < N; ++i) {
        const int value[4] = {i, shop.category[size_t(i)], shop.shop[size_t(i)], shop.brand[size_t(i)]};
        for (int j = 0; j < 4; ++j) side.value[size_t(j)].push_back(value[j]);
    }
    return side;
}

constexpr int kMaxDim = 256, kMaxFields = 16, kMaxContexts = 64;   // fixed scratch sizes of step()

struct Eges {
    Aggregation mode = Aggregation::eges;
    int D = 0, F = 0;
    std::vector<std::vector<float>> W;     // W^j: (vocab_j, D) per field j
    std::vector<float> A;                  // (N, F) a_v^j, start at 0 (EGES only)
    std::vector<float> Z;                  // (N, D) context vectors, start at 0 (as word2vec)

    Eges(const SideInfo& s, int dim, Aggregation m, Rng& rng) : mode(m), D(dim), F(s.fields()) {
        if (D > kMaxDim || F > kMaxFields) arg_fail("Eges", "at most 256 dimensions and 16 fields");
        for (int j = 0; j < F; ++j) {
            W.emplace_back(size_t(s.vocab[size_t(j)]) * size_t(D));
            for (float& x : W.back()) x = (rng.uniform() - 0.5f) / float(D);
        }
        A.assign(s.value[0].size() * size_t(F), 0.0f);
        Z.assign(s.value[0].size() * size_t(D), 0.0f);
    }
    const float* row(const SideInfo& s, int j, int v) const { return &W[size_t(j)][size_t(s.value[size_t(j)][size_t(v)]) * size_t(D)]; }

    // The weight of each field in H_v: (1, 0, ..., 0) for BGE, 1/F each for GES, softmax(a_v).
    std::vector<float> field_weights(int v) const {
        std::vector<float> w(static_cast<size_t>(F));
        field_weights(v, w.data());
        return w;
    }
    void field_weights(int v, float* w) const {
        std::fill(w, w + F, mode == Aggregation::ges ? 1.0f / float(F) : 0.0f);
        if (mode == Aggregation::bge) w[0] = 1.0f;
        if (mode != Aggregation::eges) return;
        const float* a = &A[size_t(v) * size_t(F)];
        const float top = *std::max_element(a, a + F);
        double total = 0.0;
        for (int j = 0; j < F; ++j) total += (w[j] = std::exp(a[j] - top));
        for (int j = 0; j < F; ++j) w[j] = float(w[j] / total);
    }
    // H_v of a warm item (BGE, GES or EGES), or of a cold one (side information averaged).
    std::vector<float> embed(const SideInfo& s, int v, bool cold = false) const {
        std::vector<float> h(static_cast<size_t>(D)), w(static_cast<size_t>(F));
        embed(s, v, cold, h.data(), w.data());
        return h;
    }
    void embed(const SideInfo& s, int v, bool cold, float* h, float* w) const {
        field_weights(v, w);
        if (cold) std::fill(w, w + F, 1.0f / float(F - 1)), w[0] = 0.0f;
        std::fill(h, h + D, 0.0f);
        for (int j = 0; j < F; ++j)
            for (int d = 0; d < D; ++d) h[d] += w[j] * row(s, j, v)[d];
    }

    // Eq. 6 summed over ctx[0] (y = 1) and ctx[1..K] (y = 0):
    //   l = -log s(H_v' Z_u) - sum_k log s(-H_v' Z_k).
    double loss(const SideInfo& s, int v, const std::vector<int>& ctx) const {
        const std::vector<float> h = embed(s, v);
        double l = 0.0;
        for (size_t k = 0; k < ctx.size(); ++k) {
            const double x = dot(h.data(), ctx[k]) * (k == 0 ? -1.0 : 1.0);
            l += x > 30 ? x : std::log1p(std::exp(x));   // softplus
        }
        return l;
    }
    // One SGD step on loss(): with g_k = s(H'Z_k) - y_k, dl/dZ_k = g_k H, dl/dH = sum_k g_k Z_k,
    // dl/dW_v^j = w_j dl/dH, and (EGES) dl/da_v^j = w_j dl/dH' (W_v^j - H_v). Every gradient is taken
    // at the old values before any is applied.
    void step(const SideInfo& s, int v, const std::vector<int>& ctx, float lr) {
        float h[kMaxDim], w[kMaxFields], gh[kMaxDim] = {}, gz[kMaxContexts];
        embed(s, v, false, h, w);
        for (size_t k = 0; k < ctx.size(); ++k) {
            gz[k] = float(1.0 / (1.0 + std::exp(-dot(h, ctx[k])))) - (k == 0 ? 1.0f : 0.0f);
            for (int d = 0; d < D; ++d) gh[d] += gz[k] * Z[size_t(ctx[k]) * size_t(D) + size_t(d)];
        }
        for (size_t k = 0; k < ctx.size(); ++k)
            for (int d = 0; d < D; ++d) Z[size_t(ctx[k]) * size_t(D) + size_t(d)] -= lr * gz[k] * h[d];
        for (int j = 0; j < F; ++j) {
            float* r = &W[size_t(j)][size_t(s.value[size_t(j)][size_t(v)]) * size_t(D)];
            float ga = 0.0f;
            for (int d = 0; d < D; ++d) ga += gh[d] * (r[d] - h[d]);
            if (mode == Aggregation::eges) A[size_t(v) * size_t(F) + size_t(j)] -= lr * w[j] * ga;
            for (int d = 0; d < D; ++d) r[d] -= lr * w[j] * gh[d];
        }
    }
    float dot(const float* h, int u) const {
        const float* z = &Z[size_t(u) * size_t(D)];
        float x = 0.0f;
        for (int d = 0; d < D; ++d) x += h[d] * z[d];
        return x;
    }
};

// How similar two items are: the cosine of H_i and H_j. (The paper does not say; the raw dot
// product also carries how often an item was trained, which flatters BGE: see the book.)
inline float similarity(const std::vector<float>& a, const std::vector<float>& b) {
    double x = 0.0, aa = 1e-12, bb = 1e-12;
    for (size_t d = 0; d < a.size(); ++d) x += double(a[d]) * b[d], aa += double(a[d]) * a[d], bb += double(b[d]) * b[d];
    return float(x / std::sqrt(aa * bb));
}

struct SgnsOptions {
    int walks_per_node = 20, walk_length = 10, window = 5;   // the paper's settings
    int negatives = 5;                                        // not given by the paper: word2vec's 5
    int dim = 32;                                             // the paper: 160 (for millions of items)
    float lr = 0.025f;                                        // SGD on every parameter, decayed linearly to 0 (word2vec)
};

// Skip-gram over weighted walks: every (v, u) with u within `window` steps of v in a walk is a
// positive pair with K negatives drawn from the walks' node counts^0.75.
inline Eges train_eges(const datasets::ItemGraph& g, const SideInfo& s, Aggregation mode, const SgnsOptions& o, Rng& rng) {
    Eges m(s, o.dim, mode, rng);
    const std::vector<std::vector<int>> walks = random_walks(g, o.walks_per_node, o.walk_length, rng);
    std::vector<double> count(size_t(g.nodes), 0.0);
    for (const std::vector<int>& walk : walks)
        for (int v : walk) count[size_t(v)] += 1.0;
    for (double& c : count) c = std::pow(c, 0.75);
    const datasets::Discrete negatives(count);
    if (o.negatives + 1 > kMaxContexts) arg_fail("train_eges", "at most 63 negatives");
    std::vector<int> ctx(size_t(o.negatives) + 1);
    for (size_t n = 0; n < walks.size(); ++n) {
        const float decay = 1.0f - float(n) / float(walks.size());
        const std::vector<int>& walk = walks[n];
        for (int i = 0; i < int(walk.size()); ++i)
            for (int j = std::max(0, i - o.window); j <= std::min(int(walk.size()) - 1, i + o.window); ++j) {
                if (j == i) continue;
                ctx[0] = walk[size_t(j)];
                for (size_t k = 1; k < ctx.size(); ++k) ctx[k] = negatives.sample(rng);
                m.step(s, walk[size_t(i)], ctx, o.lr * decay);
            }
    }
    return m;
}

}  // namespace ch51
}  // namespace minirec
