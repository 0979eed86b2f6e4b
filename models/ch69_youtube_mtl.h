// The ranking model of Zhao et al. (RecSys 2019), "Recommending What Video to Watch Next: A
// Multitask Ranking System": MMoE (chapter 68) over user and item embeddings for an engagement
// task (click) and a satisfaction task, plus the paper's shallow tower, which reads the features
// that cause selection bias (here the position) and adds one logit to the engagement logit while
// training; serving drops it. Deliberately left out: device and other bias features, the paper's
// many objectives and its weighted combination of them, candidate generation, sparse features.
//
// The equations (section 4 of the paper, our numbering):
//   (1) x       = [e_user(u), e_item(i)]                      (B, 2D) the shared input layer
//   (2) y_k     = h^k(sum_e g^k(x)_e f_e(x))                   MMoE, chapter 68's eqs. 6-8, k = 1..K
//   (3) s       = shallow(position)                           one logit per example, (B, 1)
//   (4) training:   P(click) = sigmoid(y_engagement + s)      the bias is added to the logit
//   (5) serving:    P(click) = sigmoid(y_engagement)          s is dropped: position-free ranking
// Position dropout (the paper uses 10%): while training, a random share of examples have their
// position replaced by "unknown" (id K), so the main model cannot lean on the shallow tower for
// every example, and the tower learns an "unknown position" value too.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "models/ch68_mmoe.h"
#include "nn/layers.h"

namespace minirec {
namespace ch69 {

// Chapter 68's MMoE, reused as it is.
using ch68::MMoE;
using ch68::SharedBottom;
using ch68::MultiTaskOptions;
using ch68::MultiTaskOutput;

struct YouTubeRankerOptions {
    int num_users = 0, num_items = 0;
    int positions = 10;           // K shown positions; id K means "position unknown"
    int embed = 8;                // D per id
    int experts = 8;              // E, as chapter 68
    int expert_hidden = 16;
    int tower_hidden = 8;
    bool shallow_tower = true;    // false: the baseline, trained on clicks with no bias tower
    bool shared_bottom = false;   // true: the paper's baseline, a Shared-Bottom network in place of
                                  // the MMoE layer, its bottom sized to the experts' weight budget
    float embed_init_std = 0.1f;
};

// The tasks, in the order of MultiTaskOutput::y.
constexpr int kEngagement = 0, kSatisfaction = 1;

// The shallow tower of eq. (3): here one learned number per position, s = w[position], which is a
// linear layer on a one-hot position. Row K is the "unknown" position used by position dropout.
// It starts at 0, so the first steps see the main model alone.
struct ShallowTower {
    Embedding position;           // (K + 1, 1)

    ShallowTower() = default;
    ShallowTower(int positions, Rng& rng) : position(positions + 1, 1, rng) {
        position.table.value_mut().fill(0.0f);
    }
    Var operator()(const Ids& positions) const { return position(positions); }   // (B) -> (B, 1)
    float bias(int k) const { return position.table.value()[size_t(k)]; }         // w[k]
};

// Position dropout: each position becomes "unknown" (id `unknown`) with probability p.
inline Ids drop_positions(const Ids& positions, double p, int unknown, Rng& rng) {
    Ids out = positions;
    for (int32_t& k : out)
        if (rng.uniform_double() < p) k = unknown;
    return out;
}

struct YouTubeRanker {
    Embedding user, item;         // e_user (num_users, D), e_item (num_items, D)
    MMoE mmoe;                    // two tasks: engagement and satisfaction
    std::shared_ptr<SharedBottom> bottom;   // set only for the Shared-Bottom baseline, used in mmoe's place
    ShallowTower shallow;
    bool use_shallow = true;

    struct Output {
        Var engagement;           // (B, 1) y_engagement: the main model's logit, what serving ranks by
        Var engagement_train;     // (B, 1) y_engagement + s, eq. (4); equals engagement without the tower
        Var satisfaction;         // (B, 1) y_satisfaction
    };

    static MultiTaskOptions mmoe_options(const YouTubeRankerOptions& o) {
        MultiTaskOptions m;
        m.input = 2 * o.embed;
        m.tasks = 2;
        m.experts = o.experts;
        m.expert_hidden = o.expert_hidden;
        m.tower_hidden = o.tower_hidden;
        return m;
    }

    YouTubeRanker(const YouTubeRankerOptions& o, Rng& rng)
        : user(o.num_users, o.embed, rng, o.embed_init_std),
          item(o.num_items, o.embed, rng, o.embed_init_std),
          mmoe(mmoe_options(o), rng),
          shallow(o.positions, rng),
          use_shallow(o.shallow_tower) {
        if (o.shared_bottom) bottom = std::make_shared<SharedBottom>(mmoe_options(o), rng);
    }

    // users, items (B); positions (B) while training, empty at serving (eq. 5).
    Output forward(const Ids& users, const Ids& items, const Ids& positions = {}) {
        const Var x = concat({user(users), item(items)}, 1);        // eq. (1): (B, 2D)
        const MultiTaskOutput y = bottom ? bottom->forward(x) : mmoe.forward(x);   // eq. (2): two (B, 1) logits
        Output out{y.y[kEngagement], y.y[kEngagement], y.y[kSatisfaction]};
        if (use_shallow && !positions.empty())
            out.engagement_train = out.engagement + shallow(positions);   // eq. (4)
        return out;
    }

    NamedParams named_parameters() const {
        NamedParams p = user.named_parameters("user.");
        append(p, item.named_parameters("item."));
        append(p, bottom ? bottom->named_parameters() : mmoe.named_parameters());
        if (use_shallow) append(p, shallow.position.named_parameters("shallow."));
        return p;
    }
};

}  // namespace ch69
}  // namespace minirec
