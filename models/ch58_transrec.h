// TransRec, translation-based recommendation (He, Kang & McAuley, RecSys 2017, arXiv 1707.02410),
// and the baselines its experiment compares with: popularity, BPR-MF, FMC and FPMC. Every model
// scores a triple (user u, previous item i, candidate next item j) and trains with S-BPR.
// Deliberately left out: the paper's other baselines (PRME, HRM), validation-based early stopping,
// sparse (row-wise) updates of the embedding tables.
//
// TransRec (section 3 of the paper; we number the equations in the order they appear there):
//   (1)  gamma_i + T_u ~ gamma_j              items are points, users are translations
//   (2)  T_u = t + t_u                        a global translation plus a per-user offset
//   (3)  Prob(j | u, i) ∝ beta_j - d(gamma_i + T_u, gamma_j),  gamma in Psi = the unit ball
//   (4)  max  sum_{(u,i,j,j')} ln sigmoid(p_uij - p_uij') - Omega(Theta)      (S-BPR)
//   d is the squared L2 distance or the L1 distance; after every step each gamma_i is projected
//   back into the unit ball, gamma_i <- gamma_i / max(1, |gamma_i|).
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "datasets/ch58_leave_one_out.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch58 {

enum class Distance { l2_squared, l1 };

// d(a, b) of eq. (3) row by row: (B, D), (B, D) -> (B).
inline Var distance(const Var& a, const Var& b, Distance kind) {
    const Var diff = a - b;                                            // (B, D)
    return kind == Distance::l2_squared ? sum(diff * diff, 1) : sum(abs(diff), 1);
}

// The same on plain floats, for scoring every item at evaluation time.
inline float distance(const float* a, const float* b, int dim, Distance kind) {
    float s = 0.0f;
    for (int k = 0; k < dim; ++k) s += kind == Distance::l2_squared ? (a[k] - b[k]) * (a[k] - b[k]) : std::fabs(a[k] - b[k]);
    return s;
}

// gamma_i <- gamma_i / max(1, |gamma_i|) for every row of an (N, D) table: the projection onto Psi.
inline void project_to_unit_ball(Tensor& table) {
    const int N = table.dim(0), D = table.dim(1);
    for (int n = 0; n < N; ++n) {
        float* row = table.data() + size_t(n) * D;
        float n2 = 0.0f;
        for (int k = 0; k < D; ++k) n2 += row[k] * row[k];
        if (n2 > 1.0f)
            for (int k = 0; k < D; ++k) row[k] /= std::sqrt(n2);
    }
}

// ---- TransRec ---------------------------------------------------------------------------------
// Eqs. (1)-(3) on the raw tables, so the test can check their gradient by finite differences:
// gamma (N, D), beta (N, 1), offset (U, D), t (1, D); users, prev, next (B) -> p_uij (B).
inline Var transrec_score(const Var& gamma, const Var& beta, const Var& offset, const Var& t, const Ids& users,
                          const Ids& prev, const Ids& next, Distance kind) {
    const Var T = t + gather_rows(offset, users);                 // eq. (2): T_u = t + t_u, (B, D)
    const Var moved = gather_rows(gamma, prev) + T;               // eq. (1): gamma_i + T_u, (B, D)
    return reshape(gather_rows(beta, next), {-1}) - distance(moved, gather_rows(gamma, next), kind);   // eq. (3)
}

struct TransRec {
    Embedding gamma;       // (N, D) item points in the transition space, inside the unit ball
    Embedding beta;        // (N, 1) item biases
    Embedding offset;      // (U, D) t_u, the personal part of the translation
    Var t;                 // (1, D) the global translation
    Distance kind = Distance::l2_squared;

    TransRec(int users, int items, int dim, Distance d, Rng& rng)
        : gamma(items, dim, rng, 0.1f), beta(items, 1, rng, 0.0f), offset(users, dim, rng, 0.0f),
          t(parameter(Tensor::normal({1, dim}, rng, 0.0f, 0.01f))), kind(d) {}

    // users, prev, next (B) -> p_uij (B), eq. (3).
    Var operator()(const Ids& users, const Ids& prev, const Ids& next) const {
        return transrec_score(gamma.table, beta.table, offset.table, t, users, prev, next, kind);
    }

    // Called after every optimizer step: keep the items in Psi.
    void project() { project_to_unit_ball(gamma.table.value_mut()); }

    // p_uij for every item j (N): what the evaluation ranks.
    std::vector<float> score_all(int user, int prev) const {
        const Tensor &g = gamma.table.value(), &b = beta.table.value(), &o = offset.table.value(), &tv = t.value();
        const int N = g.dim(0), D = g.dim(1);
        std::vector<float> moved(static_cast<size_t>(D)), s(static_cast<size_t>(N));
        for (int k = 0; k < D; ++k) moved[size_t(k)] = g[size_t(prev) * D + k] + tv[size_t(k)] + o[size_t(user) * D + k];
        for (int j = 0; j < N; ++j) s[size_t(j)] = b[size_t(j)] - distance(moved.data(), g.data() + size_t(j) * D, D, kind);
        return s;
    }

    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = gamma.named_parameters(prefix + "gamma.");
        append(p, beta.named_parameters(prefix + "beta."));
        append(p, offset.named_parameters(prefix + "offset."));
        p.push_back({prefix + "t", t});
        return p;
    }
};

// <a_r, b_r> row by row: (B, D), (B, D) -> (B).
inline Var row_dot(const Var& a, const Var& b) { return sum(a * b, 1); }

inline float dot(const float* a, const float* b, int dim) {
    float s = 0.0f;
    for (int k = 0; k < dim; ++k) s += a[k] * b[k];
    return s;
}

// ---- FPMC (Rendle et al. 2010) and its two halves ----------------------------------------------
// p_uij = b_j + <U_u, V_j> + <L_i, J_j>: a user-item term (matrix factorisation) plus an
// item-item term (a factorised Markov chain), each with its own item vectors. With the item-item
// term switched off it is BPR-MF (Rendle et al. 2009); with the user-item term off it is FMC.
// The item bias b_j is our addition, so that every model can learn popularity as TransRec's beta.
struct FPMC {
    bool user_item = true, item_item = true;
    Embedding user_vec, item_vec;   // (U, D), (N, D): U_u, V_j
    Embedding prev_vec, next_vec;   // (N, D), (N, D): L_i, J_j
    Embedding bias;                 // (N, 1): b_j

    FPMC(int users, int items, int dim, bool ui, bool ii, Rng& rng)
        : user_item(ui), item_item(ii), user_vec(users, dim, rng, 0.1f), item_vec(items, dim, rng, 0.1f),
          prev_vec(items, dim, rng, 0.1f), next_vec(items, dim, rng, 0.1f), bias(items, 1, rng, 0.0f) {}

    Var operator()(const Ids& users, const Ids& prev, const Ids& next) const {   // (B) -> (B)
        Var s = reshape(bias(next), {-1});
        if (user_item) s = s + row_dot(user_vec(users), item_vec(next));
        if (item_item) s = s + row_dot(prev_vec(prev), next_vec(next));
        return s;
    }

    std::vector<float> score_all(int user, int prev) const {
        const Tensor &U = user_vec.table.value(), &V = item_vec.table.value(), &L = prev_vec.table.value(),
                     &J = next_vec.table.value(), &b = bias.table.value();
        const int N = V.dim(0), D = V.dim(1);
        std::vector<float> s(static_cast<size_t>(N));
        for (int j = 0; j < N; ++j) {
            s[size_t(j)] = b[size_t(j)];
            if (user_item) s[size_t(j)] += dot(U.data() + size_t(user) * D, V.data() + size_t(j) * D, D);
            if (item_item) s[size_t(j)] += dot(L.data() + size_t(prev) * D, J.data() + size_t(j) * D, D);
        }
        return s;
    }

    // Only the tables the model uses (an unused table would still be decayed by the optimizer).
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = bias.named_parameters(prefix + "bias.");
        if (user_item) append(p, user_vec.named_parameters(prefix + "user.")), append(p, item_vec.named_parameters(prefix + "item."));
        if (item_item) append(p, prev_vec.named_parameters(prefix + "prev.")), append(p, next_vec.named_parameters(prefix + "next."));
        return p;
    }
};

// ---- Popularity (PopRec) --------------------------------------------------------------------------
// Ranks every item by how often it occurs in the training sequences; the same list for everyone.
struct PopRec {
    std::vector<float> count;   // (N)
    explicit PopRec(int items) : count(size_t(items), 0.0f) {}
    void add(int item) { count[size_t(item)] += 1.0f; }
    std::vector<float> score_all(int /*user*/, int /*prev*/) const { return count; }
};
// PopRec on leave-one-out sequences: it counts every item but each sequence's held-out last one.
inline PopRec pop_rec(int items, const std::vector<Ids>& sequences) {
    PopRec pop(items);
    for (const Ids& s : sequences)
        for (size_t k = 0; k + 1 < s.size(); ++k) pop.add(s[k]);
    return pop;
}

// ---- Table 4's comparison: the five S-BPR models side by side ---------------------------------------
// BPR-MF, FMC, FPMC and TransRec (squared L2 and L1), held together so that one loop trains them on
// the same batches and negatives, with one Adam over all their parameters (train_sbpr).
struct SBPRModels {
    FPMC bpr_mf, fmc, fpmc;
    TransRec trans_l2, trans_l1;
    SBPRModels(int users, int items, int dim, Rng& rng)
        : bpr_mf(users, items, dim, true, false, rng), fmc(users, items, dim, false, true, rng),
          fpmc(users, items, dim, true, true, rng), trans_l2(users, items, dim, Distance::l2_squared, rng),
          trans_l1(users, items, dim, Distance::l1, rng) {}

    // eq. (4) for every model: -mean ln sigmoid(p_uij - p_uij'); the sum has no cross terms.
    Var loss(const Ids& u, const Ids& i, const Ids& j, const Ids& neg) const {
        return bpr_loss(bpr_mf(u, i, j), bpr_mf(u, i, neg)) + bpr_loss(fmc(u, i, j), fmc(u, i, neg)) +
               bpr_loss(fpmc(u, i, j), fpmc(u, i, neg)) + bpr_loss(trans_l2(u, i, j), trans_l2(u, i, neg)) +
               bpr_loss(trans_l1(u, i, j), trans_l1(u, i, neg));
    }
    // p_uij for every item j of model k, counted in the order above (0 = BPR-MF, 4 = TransRec L1).
    std::vector<float> score_all(int k, int user, int prev) const {
        switch (k) {
            case 0: return bpr_mf.score_all(user, prev);
            case 1: return fmc.score_all(user, prev);
            case 2: return fpmc.score_all(user, prev);
            case 3: return trans_l2.score_all(user, prev);
            default: return trans_l1.score_all(user, prev);
        }
    }
    NamedParams named_parameters() const {
        NamedParams p = bpr_mf.named_parameters("bpr_mf.");
        append(p, fmc.named_parameters("fmc."));
        append(p, fpmc.named_parameters("fpmc."));
        append(p, trans_l2.named_parameters("trans_l2."));
        append(p, trans_l1.named_parameters("trans_l1."));
        return p;
    }
};

// S-BPR, eq. (4), by Adam (weight_decay is Omega(Theta), an L2 penalty on every parameter) for
// `epochs` passes over the transitions: the same batches and negatives for every model.
inline SBPRModels train_sbpr(int users, int N, const Transitions& tr, int dim, int epochs, int batch, double lr,
                             double weight_decay, Rng& rng) {
    SBPRModels m(users, N, dim, rng);
    AdamOptions ao;
    ao.lr = lr;
    ao.weight_decay = weight_decay;
    Adam adam(vars_of(m.named_parameters()), ao);
    long step = 0;
    for (int epoch = 0; epoch < epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(tr.user.size()), batch, rng)) {
            Ids u, i, j, neg;
            for (int r : rows) {
                u.push_back(tr.user[size_t(r)]), i.push_back(tr.prev[size_t(r)]), j.push_back(tr.next[size_t(r)]);
                int k = rng.randint(N - 1);                 // j' uniform over the other items
                neg.push_back(k >= tr.next[size_t(r)] ? k + 1 : k);
            }
            const Var loss = m.loss(u, i, j, neg);
            adam.zero_grad();
            backward(loss);
            adam.step();
            m.trans_l2.project();                           // gamma back into the unit ball
            m.trans_l1.project();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
    return m;
}

}  // namespace ch58
}  // namespace minirec
