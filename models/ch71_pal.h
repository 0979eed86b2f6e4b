// PAL, the position-bias aware learning framework of Guo et al. (RecSys 2019), and the two models
// it is compared with: a CTR model that ignores position, and one that takes position as a feature
// (served at a fixed default position). All three share one CTR network, the factorisation machine
// of nn/factorization.h without a global bias (the first field's weights absorb it). Deliberately
// left out: the paper's deep CTR network (we use an FM, which fits this chapter's planted user-item
// structure), position features other than the slot index.
//
//   eq. 1  p(y = 1 | x, pos) = p(seen | x, pos) p(y = 1 | x, pos, seen)
//   eq. 2  PAL assumes  p(y = 1 | x, pos) = p(seen | pos) p(y = 1 | x, seen)
//                                          =   ProbSeen    x     pCTR            = bCTR
//   eq. 3  L = (1/N) sum_i l(y_i, bCTR_i),  l the cross-entropy; both modules train jointly
//   serving: rank by pCTR = p(y = 1 | x, seen) alone; position is not needed.
#pragma once
#include <numeric>
#include <vector>

#include "core/metrics.h"
#include "core/ops.h"
#include "core/rng.h"
#include "datasets/position_bias.h"
#include "nn/factorization.h"
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch71 {

// The vocabulary of the three fields: users, then items, then positions.
struct PalFields {
    int users = 0, items = 0, positions = 0;
    int item(int i) const { return users + i; }
    int position(int k) const { return users + items + k; }
    int size() const { return users + items + positions; }
};

// ---- PAL (eqs. 2-3): ProbSeen(pos) x pCTR(x) -----------------------------------------------------
// ProbSeen is one logit per slot, beta_k, so p(seen | k) = sigmoid(beta_k): the shallowest network
// the paper's "position module" can be. pCTR is the FM over (user, item).
struct PAL {
    FM ctr;              // pCTR = sigmoid(FM(user, item))
    Embedding seen;      // (K, 1) beta_k; ProbSeen = sigmoid(beta_k)

    PAL(const PalFields& f, int dim, Rng& rng) : ctr(f.size(), dim, rng, false), seen(f.positions, 1, rng, 0.0f) {}

    // ids (B, 2) user and item -> pCTR logits (B, 1): the serving score (eq. 2, right factor).
    Var ctr_logit(const Ids& user_item) const { return ctr(user_item, 2); }
    // positions (B) -> ProbSeen logits (B, 1) (eq. 2, left factor).
    Var seen_logit(const Ids& positions) const { return seen(positions); }

    NamedParams named_parameters() const {
        NamedParams p = ctr.named_parameters("ctr.");
        append(p, seen.named_parameters("seen."));
        return p;
    }
};

// Eq. 3 with the cross-entropy, on bCTR = sigmoid(a) sigmoid(c) (a: ProbSeen logit, c: pCTR logit),
// both (B, 1); y (B, 1) clicks. We take log bCTR = log sigmoid(a) + log sigmoid(c), which stays
// finite, and log(1 - bCTR) with 1 - bCTR clamped away from 0.
inline Var pal_loss(const Var& seen_logit, const Var& ctr_logit, const Tensor& y) {
    const Var log_b = log_sigmoid(seen_logit) + log_sigmoid(ctr_logit);   // log bCTR, (B, 1)
    const Var log_not_b = log(clamp(1.0f - exp(log_b), 1e-6f, 1.0f));     // log(1 - bCTR)
    const Var yv = constant(y);
    return -mean(yv * log_b + (1.0f - yv) * log_not_b);
}

// The log as model inputs: field ids (n, 3) user, item, position; positions (n); clicks (n, 1).
struct Batch {
    Ids user_item, user_item_pos, position;
    Tensor click;
};

inline Batch gather(const datasets::PositionBiasData& d, const PalFields& f, const std::vector<int>& rows) {
    Batch b;
    b.click = Tensor({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) {
        const datasets::ShownItem& s = d.rows[size_t(rows[j])];
        b.user_item.insert(b.user_item.end(), {s.user, f.item(s.item)});
        b.user_item_pos.insert(b.user_item_pos.end(), {s.user, f.item(s.item), f.position(s.position)});
        b.position.push_back(s.position);
        b.click[j] = s.click;
    }
    return b;
}

// Rows first .. last - 1 of the log (the validation and the test logs are runs of whole lists).
inline Batch gather(const datasets::PositionBiasData& d, const PalFields& f, int first, int last) {
    std::vector<int> rows(size_t(last - first));
    std::iota(rows.begin(), rows.end(), first);
    return gather(d, f, rows);
}

// The three models, in the order of Models' fields.
enum Model { kUnaware, kPosFeature, kPAL, kNumModels };
const char* const kModelNames[] = {"position-unaware", "position as feature", "PAL"};

// The three models in one struct, so one loop trains them on the same batches.
struct Models {
    FM unaware, pos_feature;   // FM(user, item) and FM(user, item, position)
    PAL pal;
    Models(const PalFields& f, int dim, Rng& rng)
        : unaware(f.size(), dim, rng, false), pos_feature(f.size(), dim, rng, false), pal(f, dim, rng) {}
    // Each model's training loss on one batch: the two baselines fit clicks directly, PAL fits
    // them through bCTR = ProbSeen x pCTR (eq. 3).
    Var loss(const Batch& b) const {
        return bce_with_logits(unaware(b.user_item, 2), b.click) +
               bce_with_logits(pos_feature(b.user_item_pos, 3), b.click) +
               pal_loss(pal.seen_logit(b.position), pal.ctr_logit(b.user_item), b.click);
    }
    NamedParams named_parameters() const {
        NamedParams p = unaware.named_parameters("unaware.");
        append(p, pos_feature.named_parameters("pos_feature."));
        append(p, pal.named_parameters());
        return p;
    }
};

// Serving scores for every (user, item): the logit each model ranks by. Position as feature gets
// the default slot; PAL uses pCTR alone; the unaware model has nothing to drop.
inline std::vector<double> serving_scores(const Models& m, const PalFields& f, int model, int default_position) {
    NoGrad no_grad;
    Ids ids;
    for (int u = 0; u < f.users; ++u)
        for (int i = 0; i < f.items; ++i) {
            ids.insert(ids.end(), {u, f.item(i)});
            if (model == kPosFeature) ids.push_back(f.position(default_position));
        }
    const Var z = model == kUnaware ? m.unaware(ids, 2) : model == kPAL ? m.pal.ctr_logit(ids)
                                                                         : m.pos_feature(ids, 3);
    return std::vector<double>(z.value().data(), z.value().data() + z.value().size());
}

// Position as feature's default slot, as the paper chose its BASE_pk offline (Fig. 5): the slot k
// with the best AUC on the validation logs v when every row's position is set to k.
inline int validation_slot(const Models& m, const PalFields& f, Batch v) {
    NoGrad no_grad;
    double best = -1.0;
    int slot = 0;
    for (int k = 0; k < f.positions; ++k) {
        for (size_t j = 0; j < v.position.size(); ++j) v.user_item_pos[3 * j + 2] = f.position(k);
        const double a = auc(m.pos_feature(v.user_item_pos, 3).value().vec(), v.click.vec());
        if (a > best) best = a, slot = k;
    }
    return slot;
}

// Offline evaluation, as the paper's Fig. 5: AUC on the logs b, each model predicting the logged
// click at its logged position; PAL by bCTR = ProbSeen x pCTR (eq. 2), taken as log bCTR.
inline void logged_auc(const Models& m, const Batch& b, double auc_by_model[kNumModels]) {
    NoGrad no_grad;
    const Var z[kNumModels] = {m.unaware(b.user_item, 2), m.pos_feature(b.user_item_pos, 3),
                               log_sigmoid(m.pal.seen_logit(b.position)) + log_sigmoid(m.pal.ctr_logit(b.user_item))};
    for (int model = 0; model < kNumModels; ++model) auc_by_model[model] = auc(z[model].value().vec(), b.click.vec());
}

}  // namespace ch71
}  // namespace minirec
