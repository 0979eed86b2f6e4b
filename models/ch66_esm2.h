// The three conversion-rate models of Wen et al. (SIGIR 2020, arXiv 1910.07099), "Entire Space
// Multi-Task Model via Post-Click Behavior Decomposition for Conversion Rate Prediction": the naive
// click-space CVR model, ESMM (Ma et al., SIGIR 2018) and ESM2, as plain structs whose forward
// follows the paper's equations. Deliberately left out: the paper's feature engineering (user,
// item and behaviour fields), its wide towers, and the loss weights (we weight the losses 1:1:1).
//
// Every model reads an impression as dense features x (B, d) and an item id, embedded in a table
// the tasks share (the paper's "shared embedding"), then gives each task its own MLP tower that
// ends in a logit. The funnel they model (the paper's digraph, Fig. 2):
//   impression -> click -> { deterministic action (cart, wish list) | other action } -> purchase
#pragma once
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "datasets/funnel.h"
#include "nn/layers.h"

namespace minirec {
namespace ch66 {

struct ConversionOptions {
    int input = 8;                    // d, dense features
    int items = 200;                  // N, the item-id vocabulary
    int embed = 8;                    // D, the shared item embedding
    std::vector<int> hidden = {32};   // each tower's hidden layers (ReLU)
};

// What every model returns, each a probability of shape (B, 1). The naive model fills only p_cvr;
// ESMM adds p_ctr and p_ctcvr; ESM2 adds p_daction (conditional on a click) and p_ctavr.
struct ConversionOutput {
    Var p_ctr;       // y1 = p(click | impression)
    Var p_daction;   // p(deterministic action | click)
    Var p_ctavr;     // y2 = p(click, deterministic action | impression)
    Var p_cvr;       // p(purchase | click): what every model is judged on
    Var p_ctcvr;     // y4 = p(click, purchase | impression)
};

// The embedding layer all towers of a model share: [x, e(item)], (B, d) and (B) -> (B, d + D).
struct SharedInput {
    Embedding item;

    SharedInput() = default;
    SharedInput(const ConversionOptions& o, Rng& rng) : item(o.items, o.embed, rng, 0.1f) {}
    Var operator()(const Tensor& x, const Ids& ids) const { return concat({constant(x), item(ids)}, 1); }
};

// A task tower: (B, d + D) -> (B, 1), a logit.
inline MLP conversion_tower(const ConversionOptions& o, Rng& rng) {
    MLPOptions m;
    m.sizes = {o.input + o.embed};
    for (int h : o.hidden) m.sizes.push_back(h);
    m.sizes.push_back(1);
    return MLP(m, rng);
}

// Binary cross-entropy of a probability p (B, 1) against 0/1 labels y (B, 1), mean over rows:
//   L = -mean[ y log p + (1 - y) log(1 - p) ].
// ESMM's and ESM2's losses sit on products of probabilities, not on one logit, so we cannot use
// bce_with_logits; we clamp p away from 0 and 1 so that the logs stay finite.
inline Var bce_probability(const Var& p, const Tensor& y) {
    const float eps = 1e-7f;
    const Var yv = constant(y);
    const Var pc = clamp(p, eps, 1.0f - eps);
    return -mean(yv * log(pc) + (1.0f - yv) * log(1.0f - pc));
}

// Each model's loss(out, click, daction, purchase) takes the three labels of its rows, each (B, 1),
// and uses those its paper supervises.

// ---- Naive CVR: one tower trained on clicked impressions only (the sample-selection-bias baseline)
struct NaiveCVR {
    SharedInput input;
    MLP cvr;
    static constexpr bool clicked_only = true;   // it sees clicked rows only, so its labels are p(purchase | click)

    NaiveCVR(const ConversionOptions& o, Rng& rng) : input(o, rng), cvr(conversion_tower(o, rng)) {}

    ConversionOutput forward(const Tensor& x, const Ids& item) {
        ConversionOutput out;
        out.p_cvr = sigmoid(cvr(input(x, item)));                 // p(purchase | click, x)
        return out;
    }
    Var loss(const ConversionOutput& out, const Tensor&, const Tensor&, const Tensor& purchase) const {
        return bce_probability(out.p_cvr, purchase);
    }
    NamedParams named_parameters() const {
        NamedParams p = input.item.named_parameters("embedding.");
        append(p, cvr.named_parameters("cvr."));
        return p;
    }
};

// ---- ESMM: pCTCVR = pCTR x pCVR over the entire impression space -----------------------------
//   p(y=1, z=1 | x) = p(y=1 | x) p(z=1 | y=1, x)             (y click, z purchase)
//   L = sum_i l(y_i, pCTR_i) + sum_i l(y_i & z_i, pCTR_i x pCVR_i)   over all impressions
struct ESMM {
    SharedInput input;
    MLP ctr, cvr;
    static constexpr bool clicked_only = false;   // every impression: only entire-space probabilities are supervised

    ESMM(const ConversionOptions& o, Rng& rng) : input(o, rng), ctr(conversion_tower(o, rng)), cvr(conversion_tower(o, rng)) {}

    ConversionOutput forward(const Tensor& x, const Ids& item) {
        const Var h = input(x, item);                             // (B, d + D), shared by both towers
        ConversionOutput out;
        out.p_ctr = sigmoid(ctr(h));
        out.p_cvr = sigmoid(cvr(h));
        out.p_ctcvr = out.p_ctr * out.p_cvr;                      // pCTCVR
        return out;
    }
    Var loss(const ConversionOutput& out, const Tensor& click, const Tensor&, const Tensor& purchase) const {
        return bce_probability(out.p_ctr, click) + bce_probability(out.p_ctcvr, purchase);
    }
    NamedParams named_parameters() const {
        NamedParams p = input.item.named_parameters("embedding.");
        append(p, ctr.named_parameters("ctr."));
        append(p, cvr.named_parameters("cvr."));
        return p;
    }
};

// ---- ESM2: the post-click path split into a deterministic action (D-Action) and the rest ------
// Four towers on the shared embedding predict y1 = pCTR, y2' = p(D-Action | click),
// y3' = p(purchase | D-Action), y4' = p(purchase | O-Action). The paper composes them along the
// digraph's paths into probabilities over the entire space:
//   pCTAVR = y1 y2'                                           (impression -> D-Action)
//   pCVR   = y2' y3' + (1 - y2') y4'                          (click -> purchase, two paths summed)
//   pCTCVR = y1 pCVR                                          (impression -> purchase)
// and trains on the three labels every impression has, click, D-Action and purchase:
//   L = w_ctr L_ctr + w_ctavr L_ctavr + w_ctcvr L_ctcvr       (each a logloss; we take every w = 1)
struct ESM2 {
    SharedInput input;
    MLP ctr, daction, cvr_d, cvr_o;
    static constexpr bool clicked_only = false;

    ESM2(const ConversionOptions& o, Rng& rng)
        : input(o, rng), ctr(conversion_tower(o, rng)), daction(conversion_tower(o, rng)),
          cvr_d(conversion_tower(o, rng)), cvr_o(conversion_tower(o, rng)) {}

    ConversionOutput forward(const Tensor& x, const Ids& item) {
        const Var h = input(x, item);                             // (B, d + D), shared by four towers
        const Var y1 = sigmoid(ctr(h));                           // p(click | impression)
        const Var y2 = sigmoid(daction(h));                       // p(D-Action | click)
        const Var y3 = sigmoid(cvr_d(h));                         // p(purchase | D-Action)
        const Var y4 = sigmoid(cvr_o(h));                         // p(purchase | O-Action)
        ConversionOutput out;
        out.p_ctr = y1;
        out.p_daction = y2;
        out.p_ctavr = y1 * y2;                                    // pCTAVR
        out.p_cvr = y2 * y3 + (1.0f - y2) * y4;                   // pCVR, two paths
        out.p_ctcvr = y1 * out.p_cvr;                             // pCTCVR
        return out;
    }
    Var loss(const ConversionOutput& out, const Tensor& click, const Tensor& daction, const Tensor& purchase) const {
        return bce_probability(out.p_ctr, click) + bce_probability(out.p_ctavr, daction) + bce_probability(out.p_ctcvr, purchase);
    }
    NamedParams named_parameters() const {
        NamedParams p = input.item.named_parameters("embedding.");
        append(p, ctr.named_parameters("ctr."));
        append(p, daction.named_parameters("daction."));
        append(p, cvr_d.named_parameters("cvr_d."));
        append(p, cvr_o.named_parameters("cvr_o."));
        return p;
    }
};

// A trained model's outputs on the funnel rows `test`, judged by datasets::score_funnel (the naive
// model has no pCTR or pCTCVR).
template <class Model>
datasets::FunnelScores score_model(Model& model, const datasets::FunnelData& f, const std::vector<int>& test) {
    NoGrad no_grad;
    const datasets::FunnelBatch b = datasets::funnel_batch(f, test);
    const ConversionOutput out = model.forward(b.x, b.item);
    auto values = [](const Var& p) { return std::vector<float>(p.value().data(), p.value().data() + p.value().size()); };
    if (Model::clicked_only) return datasets::score_funnel(f, test, values(out.p_cvr), {}, {});
    return datasets::score_funnel(f, test, values(out.p_cvr), values(out.p_ctcvr), values(out.p_ctr));
}

}  // namespace ch66
}  // namespace minirec
