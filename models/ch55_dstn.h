// DSTN, the Deep Spatio-Temporal neural Networks of Ouyang et al., "Deep Spatio-Temporal Neural
// Networks for Click-Through Rate Prediction" (KDD 2019): the target ad plus three kinds of
// auxiliary ads - contextual ads shown above it on the same page (spatial), and the user's clicked
// and unclicked ads (temporal) - each kind reduced to one vector, then concatenated into a DNN.
// Three reductions: sum pooling (DSTN-P), self-attention (DSTN-S), interactive attention (DSTN-I);
// and the baseline that sees the target ad alone. Deliberately left out: query and user features
// (our ads carry an id and a category only), multi-valued text features, the MA-DNN variant.
//
// Each ad is x = [e_id; e_category] (2d). For one kind of auxiliary ads x_1..x_n (n varies, padded):
//   pooling          x~ = sum_i x_i
//   self-attention   x~ = sum_i a_i x_i,  a_i = exp(b_i) / sum_i' exp(b_i'),  b_i = f(x_i), f an MLP
//   interactive      x~ = sum_i a_i x_i,  a_i = exp(h' ReLU(W [x_t; x_i] + b_1) + b_2)  (not normalised)
//   then             m = [x_t; x~_c; x~_l; x~_u],  z = ReLU layers(m),  p = sigmoid(w' z + b),
//   trained by the logloss.  (The paper writes the first layer as W_t x_t + W_c x~_c + W_l x~_l +
//   W_u x~_u + b: one Linear on the concatenation is the same thing.)
#pragma once
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"

namespace minirec {
namespace ch55 {

enum class Variant { target_only, pooling, self_attention, interactive };
enum AuxKind { kContext, kClicked, kUnclicked, kNumAux };
const char* const kAuxNames[] = {"contextual", "clicked", "unclicked"};

// One kind of auxiliary ads for a batch, padded to T slots: ids and categories (B * T, row-major)
// and mask (B, T), 1 for a real ad and 0 for padding (padding ids are 0 and must be masked).
struct AuxAds {
    Ids ids, cats;
    Tensor mask;
    int T = 0;
};

struct DstnBatch {
    Ids ad, cat;                 // (B) the target ad
    AuxAds aux[kNumAux];
    int B = 0;
};

struct DstnOptions {
    int ads = 0, categories = 0;
    int dim = 8;                          // d per feature; an ad is 2d
    int attention_hidden = 16;            // f's hidden layer, and W's rows in interactive attention
    std::vector<int> hidden = {64, 32};   // the DNN's ReLU layers
};

// Interactive attention's weight exp(s) for one kind: we clamp s to [-15, 15] so that exp stays
// finite early in training (a safety margin the paper does not need to mention).
constexpr float kMaxAttentionLogit = 15.0f;

struct DSTN {
    Variant variant = Variant::interactive;
    Embedding ad_emb, cat_emb;           // shared by the target and all auxiliary ads
    MLP self_f[kNumAux];                 // f: (2d) -> hidden -> 1, per kind (self-attention)
    Linear inter_w[kNumAux];             // W, b_1: (4d) -> hidden, per kind (interactive)
    Linear inter_h[kNumAux];             // h, b_2: hidden -> 1, per kind (interactive)
    MLP dnn;                             // (2d or 8d) -> hidden... -> 1

    DSTN(const DstnOptions& o, Variant v, Rng& rng) : variant(v) {
        ad_emb = Embedding(o.ads, o.dim, rng, 0.05f);
        cat_emb = Embedding(o.categories, o.dim, rng, 0.05f);
        const int x = 2 * o.dim;
        for (int k = 0; k < kNumAux; ++k) {
            MLPOptions f;
            f.sizes = {x, o.attention_hidden, 1};
            self_f[k] = MLP(f, rng);
            inter_w[k] = Linear(2 * x, o.attention_hidden, rng, true, Init::kaiming_uniform);
            inter_h[k] = Linear(o.attention_hidden, 1, rng);
        }
        MLPOptions m;
        m.sizes = {v == Variant::target_only ? x : 4 * x};
        m.sizes.insert(m.sizes.end(), o.hidden.begin(), o.hidden.end());
        m.sizes.push_back(1);
        dnn = MLP(m, rng);
    }

    // x = [e_id; e_category] for ids laid out as `shape`: (shape..., 2d).
    Var embed(const Ids& ids, const Ids& cats, const Shape& shape) const {
        return concat({ad_emb(ids, shape), cat_emb(cats, shape)}, -1);
    }

    // The weights a_i of one kind of auxiliary ads (B, T): softmax(f(x_i)) over the real ads for
    // self-attention, exp(h' ReLU(W [x_t; x_i] + b_1) + b_2) times the mask for interactive.
    Var attention(int k, const Var& xt, const Var& x, const Tensor& mask) {
        const int B = x.dim(0), T = x.dim(1);
        if (variant == Variant::self_attention)
            return softmax(reshape(self_f[k](x), {B, T}), &mask);                    // b_i = f(x_i)
        const Var pair = concat({broadcast_to(unsqueeze(xt, 1), x.shape()), x}, 2);    // (B, T, 4d) [x_t; x_i]
        const Var s = reshape(inter_h[k](relu(inter_w[k](pair))), {B, T});            // (B, T)
        return exp(clamp(s, -kMaxAttentionLogit, kMaxAttentionLogit)) * constant(mask);
    }

    // x~ of one kind, (B, 2d): the sum (pooling) or the a-weighted sum of its ads.
    Var reduce(int k, const Var& xt, const AuxAds& a, Var* weights = nullptr) {
        const int B = xt.dim(0);
        const Var x = embed(a.ids, a.cats, {B, a.T});                                 // (B, T, 2d)
        if (variant == Variant::pooling) return sum(x * constant(a.mask.reshape({B, a.T, 1})), 1);   // padding adds 0
        const Var w = attention(k, xt, x, a.mask);                                   // (B, T)
        if (weights) *weights = w;
        return sum(unsqueeze(w, 2) * x, 1);                                           // (B, 2d)
    }

    // -> logits (B, 1). weights (optional) receives the a_i of each kind (attention variants).
    Var forward(const DstnBatch& b, std::vector<Var>* weights = nullptr) {
        const Var xt = embed(b.ad, b.cat, {b.B});                                     // (B, 2d)
        if (variant == Variant::target_only) return dnn(xt);
        std::vector<Var> parts = {xt};
        if (weights) weights->assign(kNumAux, Var());
        for (int k = 0; k < kNumAux; ++k) parts.push_back(reduce(k, xt, b.aux[k], weights ? &(*weights)[size_t(k)] : nullptr));
        return dnn(concat(parts, 1));                                                 // m = [x_t; x~_c; x~_l; x~_u]
    }

    NamedParams named_parameters() const {
        NamedParams p = ad_emb.named_parameters("ad.");
        append(p, cat_emb.named_parameters("cat."));
        for (int k = 0; k < kNumAux; ++k) {
            const std::string n = kAuxNames[k];
            if (variant == Variant::self_attention) append(p, self_f[k].named_parameters("f_" + n + "."));
            if (variant == Variant::interactive) {
                append(p, inter_w[k].named_parameters("W_" + n + "."));
                append(p, inter_h[k].named_parameters("h_" + n + "."));
            }
        }
        append(p, dnn.named_parameters("dnn."));
        return p;
    }
};

}  // namespace ch55
}  // namespace minirec
