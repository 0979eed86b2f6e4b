// Chapter 60's rows and protocol on the translation walks and their dot-product control: the FM's
// one-hot feature vocabulary, S-BPR batches, each user's held-out last item against k sampled items
// (AUC, Hit@10) and the oracle's scores. Deliberately left out: a validation item, full-catalogue ranking.
#pragma once
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "datasets/ch58_leave_one_out.h"
#include "datasets/ch60_dot_walks.h"
#include "datasets/translation_walks.h"

namespace minirec {
namespace ch60 {

// One shared vocabulary of one-hot features in five blocks, in the field order of eq. 1:
// user, previous item, previous item's category, next item, next item's category.
struct Vocab {
    int users = 0, items = 0, cats = 0;
    int size() const { return users + 2 * items + 2 * cats; }
    // The feature ids of one (u, i, j) row: 3 fields without categories, 5 with them.
    void row(Ids& out, int u, int i, int j, const Ids& category, bool with_cats) const {
        if (!with_cats) {
            out.insert(out.end(), {u, users + i, users + items + cats + j});
            return;
        }
        out.insert(out.end(), {u, users + i, users + items + category[size_t(i)], users + items + cats + j,
                               users + 2 * items + cats + category[size_t(j)]});
    }
};

// A batch of S-BPR examples: the training transitions `rows` (user u moved from prev to next), each
// with one sampled negative.
struct SbprBatch {
    Ids user, prev, next, neg;
};
inline SbprBatch sbpr_batch(const ch58::Transitions& tr, const std::vector<int>& rows, int num_items, Rng& rng) {
    SbprBatch b;
    for (int r : rows) {
        b.user.push_back(tr.user[size_t(r)]), b.prev.push_back(tr.prev[size_t(r)]), b.next.push_back(tr.next[size_t(r)]);
        const int k = rng.randint(num_items - 1);        // j' uniform over the other items
        b.neg.push_back(k >= tr.next[size_t(r)] ? k + 1 : k);
    }
    return b;
}

// Evaluation rows: per user, her held-out item first, then `k` items she never touched in training.
struct EvalRows {
    Ids user, prev, cand;   // (U * (k + 1))
    int per_user = 0;
};

inline EvalRows evaluation_rows(const datasets::TranslationWalkData& d, int k, uint64_t seed) {
    Rng rng(seed);
    EvalRows e;
    e.per_user = k + 1;
    for (int u = 0; u < d.num_users; ++u) {
        const Ids& s = d.sequences[size_t(u)];
        std::vector<char> seen(size_t(d.num_items), 0);
        for (int item : s) seen[size_t(item)] = 1;
        Ids cands = {s.back()};
        while (int(cands.size()) < k + 1) {
            const int j = rng.randint(d.num_items);
            if (!seen[size_t(j)]) cands.push_back(j), seen[size_t(j)] = 1;
        }
        for (int j : cands) e.user.push_back(u), e.prev.push_back(s[s.size() - 2]), e.cand.push_back(j);
    }
    return e;
}

// AUC (ties one half) and Hit@10 (ties against the target) of the held-out item among its row group.
inline void rank_metrics(const std::vector<float>& score, int per_user, double* auc, double* hit10) {
    const int users = int(score.size()) / per_user;
    *auc = *hit10 = 0.0;
    for (int u = 0; u < users; ++u) {
        const float* s = &score[size_t(u) * per_user];
        double below = 0.0;
        int ahead = 0;
        for (int k = 1; k < per_user; ++k) {
            if (s[k] < s[0]) below += 1.0;
            else if (s[k] == s[0]) below += 0.5, ++ahead;
            else ++ahead;
        }
        *auc += below / (per_user - 1) / users;
        *hit10 += (ahead < 10 ? 1.0 : 0.0) / users;
    }
}

// The oracle's score of every evaluation row: the generator's probability of the candidate as the
// next item (the translation world's, or the control world's dot product at `temperature`).
inline std::vector<float> oracle_scores(const datasets::TranslationWalkData& d, const EvalRows& e, bool control, double temperature) {
    std::vector<float> truth;
    for (size_t r = 0; r < e.user.size(); r += size_t(e.per_user)) {
        const std::vector<double> p = control ? datasets::dot_next_distribution(d, e.user[r], e.prev[r], temperature)
                                              : datasets::true_next_distribution(d, e.user[r], e.prev[r]);
        for (int k = 0; k < e.per_user; ++k) truth.push_back(float(p[size_t(e.cand[r + size_t(k)])]));
    }
    return truth;
}

}  // namespace ch60
}  // namespace minirec
