// DeepMCP (Ouyang et al., IJCAI 2019, arXiv 1906.04365), "Representation Learning-Assisted
// Click-Through Rate Prediction": a prediction subnet (embeddings + DNN, the CTR), a matching
// subnet (user-ad relevance, two tanh towers) and a correlation subnet (ad-ad co-clicks, skip-gram
// with negative sampling), trained jointly over one shared embedding table; only the prediction
// subnet serves. Deliberately left out: query and text features (bi-gram bags), the paper's sizes.
//
// Features come in groups, every field one-hot with its id offset into one shared vocabulary:
// user fields (user id, user segment), ad fields (ad id, ad category). Equation numbers are ours,
// in the order the paper introduces them:
//   eq. 1  prediction:   y^ = sigmoid(DNN([e_user fields, e_ad fields]))
//   eq. 2               L_p = -(1/N) sum [y log y^ + (1 - y) log(1 - y^)]
//   eq. 3  matching:     v_u = tanh(FC_u([e_user fields])),  v_a = tanh(FC_a([e_ad fields])), FC a tower of
//                        ReLU layers then a linear one (two layers by default; the last activation tanh),
//                        s(v_u, v_a) = sigmoid(v_u^T v_a)
//   eq. 4               L_m = -(1/N) sum [y log s + (1 - y) log(1 - s)]     (clicks as relevance)
//   eq. 5  correlation: maximise (1/T) sum_t sum_{-C <= j <= C, j != 0} log p(a_{t+j} | a_t) over
//                        the sequences of ads each user clicked, with ad representations
//                        h_a = tanh(FC_c([e_ad fields])), a tower as in eq. 3
//   eq. 6               negative sampling: L_c = -log sigmoid(h_c^T h_t) - sum_{q=1}^{Q} log sigmoid(-h_q^T h_t)
//   eq. 7  joint:        L = L_p + alpha L_m + beta L_c;  serving: y^ of eq. 1 alone.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch56 {

struct DeepMCPOptions {
    int vocabulary = 0;             // N: every field's values, offset into one table
    int user_fields = 2;            // how many of the leading fields of a row are user fields
    int ad_fields = 2;              // the ad fields follow them
    int dim = 8;                    // D, the shared embedding size
    std::vector<int> hidden = {64, 32};   // the prediction DNN
    int match_dim = 16;             // size of v_u, v_a and h_a
    std::vector<int> tower_hidden = {32};  // the ReLU layers of each tower before its last (tanh) layer
};

// The three subnets over one shared embedding table. Which of them train is the caller's choice:
// DNN = L_p alone, DeepMP = L_p + alpha L_m, DeepCP = L_p + beta L_c, DeepMCP = all three.
struct DeepMCP {
    DeepMCPOptions options;
    Embedding embed;        // (N, D), shared by all subnets
    MLP predict;            // (user + ad fields) * D -> hidden -> 1                         eq. 1
    MLP user_tower;         // user_fields * D -> tower_hidden -> match_dim                   eq. 3
    MLP ad_tower;           // ad_fields * D -> tower_hidden -> match_dim                     eq. 3
    MLP corr_tower;         // ad_fields * D -> tower_hidden -> match_dim                     eq. 5

    DeepMCP() = default;
    DeepMCP(const DeepMCPOptions& o, Rng& rng)
        : options(o), embed(o.vocabulary, o.dim, rng, 0.05f), predict(mlp_options(o), rng),
          user_tower(tower(o, o.user_fields), rng), ad_tower(tower(o, o.ad_fields), rng), corr_tower(tower(o, o.ad_fields), rng) {}

    static MLPOptions tower(const DeepMCPOptions& o, int fields) {
        MLPOptions m;
        m.sizes = {fields * o.dim};
        for (int h : o.tower_hidden) m.sizes.push_back(h);
        m.sizes.push_back(o.match_dim);
        return m;
    }

    static MLPOptions mlp_options(const DeepMCPOptions& o) {
        MLPOptions m;
        m.sizes = {(o.user_fields + o.ad_fields) * o.dim};
        for (int h : o.hidden) m.sizes.push_back(h);
        m.sizes.push_back(1);
        return m;
    }

    // rows (B * (user_fields + ad_fields)) -> the concatenated embeddings (B, fields * D).
    Var flat(const Ids& ids, int fields) const {
        const int B = int(ids.size()) / fields;
        return reshape(embed(ids, {B, fields}), {B, fields * options.dim});
    }
    // eq. 1: the CTR logits (B, 1); the only thing served.
    Var predict_logit(const Ids& rows) { return predict(flat(rows, options.user_fields + options.ad_fields)); }
    // eq. 1's y^ = sigmoid(logit) per row (the sigmoid in double), for serving and evaluation.
    std::vector<float> predict_ctr(const Ids& rows) {
        const Var z = predict_logit(rows);
        std::vector<float> p(z.size());
        for (size_t j = 0; j < p.size(); ++j) p[j] = float(1.0 / (1.0 + std::exp(-double(z.value()[j]))));
        return p;
    }

    // eq. 3: the matching logit v_u^T v_a (B, 1) from the user part and the ad part of the rows.
    Var match_logit(const Ids& user_ids, const Ids& ad_ids) {
        const Var vu = tanh(user_tower(flat(user_ids, options.user_fields)));   // (B, M)
        const Var va = tanh(ad_tower(flat(ad_ids, options.ad_fields)));         // (B, M)
        return sum(vu * va, 1, true);
    }

    // eq. 5: h_a for ads given by their ad fields, (n, M).
    Var ad_representation(const Ids& ad_ids) { return tanh(corr_tower(flat(ad_ids, options.ad_fields))); }

    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        append(p, predict.named_parameters("predict."));
        append(p, user_tower.named_parameters("user_tower."));
        append(p, ad_tower.named_parameters("ad_tower."));
        append(p, corr_tower.named_parameters("corr_tower."));
        return p;
    }
};

// eq. 6 over a batch of skip-gram pairs: targets (P, M), contexts (P, M), negatives (P, Q, M);
// the mean over pairs of -log sigmoid(h_c . h_t) - sum_q log sigmoid(-h_q . h_t).
inline Var skip_gram_loss(const Var& target, const Var& context, const Var& negatives) {
    const Var pos = sum(target * context, 1);                                  // (P)
    const Var neg = squeeze(matmul(negatives, unsqueeze(target, 2)), 2);       // (P, Q, M) x (P, M, 1) -> (P, Q)
    return -mean(log_sigmoid(pos)) - sum(mean(log_sigmoid(-neg), 0));          // mean over P, sum over Q
}

}  // namespace ch56
}  // namespace minirec
