// Chapter 60's experiment as a function: the translation walks of chapter 58 with many items and
// few transitions per item, where each item's category (a coarse cell of the planted space) is
// content a model can use. FM and TransFM, each with and without the categories, and chapter
// 58's TransRec, trained with S-BPR; AUC and Hit@10 of each user's held-out last item against
// 100 sampled items she never touched. Printing and pictures live in ch60_transfm.cpp.
// Deliberately left out: the paper's other content (time, geography, demographics), PRME-FM.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/translation_walks.h"
#include "models/ch60_transfm.h"
#include "nn/factorization.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/ch58_transrec.h"   // the leave-one-out split (training_transitions)

namespace minirec {
namespace ch60 {

enum Model { kFM, kFMCat, kTransFM, kTransFMCat, kTransFMCatMinus, kTransRec, kOracle, kNumModels };
const char* const kModelNames[] = {"FM", "FM + categories", "TransFM", "TransFM + categories",
                                   "TransFM + categories, -d^2", "TransRec (L2^2)", "oracle"};
constexpr int kTrained = kTransRec + 1;

struct StudyOptions {
    datasets::TranslationWalkOptions data;
    std::vector<int> items = {1000, 2000};   // catalogue sizes: more items = fewer transitions per item
    int replicates = 2;
    int epochs = 20;
    int batch = 256;
    double lr = 0.01;
    double weight_decay = 1e-4;
    int dim = 10;
    int negatives = 100;                     // sampled items per user at evaluation
    uint64_t seed = 42;
    bool verbose = true;
    StudyOptions() {
        data.num_users = 1000;
        data.num_categories = 32;
    }
};

struct Replicate {
    double auc[kNumModels] = {}, hit10[kNumModels] = {};
    int train_transitions = 0;
};

struct Level {
    int items = 0;
    std::vector<Replicate> reps;
    template <class F> double mean(F f) const { return mean_over(reps, f); }
    template <class F> double min(F f) const { return min_over(reps, f); }
    double auc(int m) const { return mean([&](const Replicate& r) { return r.auc[m]; }); }
    double hit10(int m) const { return mean([&](const Replicate& r) { return r.hit10[m]; }); }
};

struct StudyReport {
    std::vector<Level> levels;
    double seconds = 0.0;
};

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

// The trained models side by side (same batches, same negatives).
struct Models {
    FM fm, fm_cat;                       // nn/factorization.h's FM (no w0), on 3 and 5 fields
    TransFM tfm, tfm_cat, tfm_cat_minus; // eq. 1 on 3 and 5 fields; the last with -d^2
    ch58::TransRec transrec;
    Models(const Vocab& v, int dim, Rng& rng)
        : fm(v.size(), dim, rng, false), fm_cat(v.size(), dim, rng, false), tfm(v.size(), dim, rng), tfm_cat(v.size(), dim, rng),
          tfm_cat_minus(v.size(), dim, rng, -1.0f),
          transrec(v.users, v.items, dim, ch58::Distance::l2_squared, rng) {}

    // Scores y(x) (B) of model m for rows (u, i, j).
    Var score(int m, const Vocab& v, const Ids& category, const Ids& u, const Ids& i, const Ids& j) const {
        if (m == kTransRec) return transrec(u, i, j);
        const bool cats = m == kFMCat || m == kTransFMCat || m == kTransFMCatMinus;
        Ids ids;
        for (size_t r = 0; r < u.size(); ++r) v.row(ids, u[r], i[r], j[r], category, cats);
        const int F = cats ? 5 : 3;
        switch (m) {
            case kFM: return reshape(fm(ids, F), {-1});
            case kFMCat: return reshape(fm_cat(ids, F), {-1});
            case kTransFM: return tfm(ids, F);
            case kTransFMCat: return tfm_cat(ids, F);
            default: return tfm_cat_minus(ids, F);
        }
    }
    NamedParams named_parameters() const {
        NamedParams p = fm.named_parameters("fm.");
        append(p, fm_cat.named_parameters("fm_cat."));
        append(p, tfm.named_parameters("tfm."));
        append(p, tfm_cat.named_parameters("tfm_cat."));
        append(p, tfm_cat_minus.named_parameters("tfm_cat_minus."));
        append(p, transrec.named_parameters("transrec."));
        return p;
    }
};

// Evaluation rows: per user, her held-out item first, then `k` items she never touched in training.
struct EvalRows {
    Ids user, prev, cand;   // (U * (k + 1))
    int per_user = 0;
};

inline EvalRows evaluation_rows(const datasets::TranslationWalkData& d, int k, Rng& rng) {
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

inline Replicate run_replicate(const StudyOptions& o, int items, uint64_t seed) {
    datasets::TranslationWalkOptions dopt = o.data;
    dopt.num_items = items;
    dopt.seed = seed;
    const datasets::TranslationWalkData d = datasets::translation_walks(dopt);
    const ch58::Transitions tr = ch58::training_transitions(d);
    const Vocab v{d.num_users, d.num_items, d.num_categories};
    const int n = int(tr.user.size()), N = d.num_items;
    Replicate rep;
    rep.train_transitions = n;

    Rng rng(splitmix64(seed + 13));
    Models m(v, o.dim, rng);
    AdamOptions ao;
    ao.lr = o.lr;
    ao.weight_decay = o.weight_decay;
    Adam adam(vars_of(m.named_parameters()), ao);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(n, o.batch, rng)) {
            Ids u, i, j, neg;
            for (int r : rows) {
                u.push_back(tr.user[size_t(r)]), i.push_back(tr.prev[size_t(r)]), j.push_back(tr.next[size_t(r)]);
                const int k = rng.randint(N - 1);           // j' uniform over the other items
                neg.push_back(k >= tr.next[size_t(r)] ? k + 1 : k);
            }
            Var loss;                                        // eq. 3 for every model, summed
            for (int model = 0; model < kTrained; ++model) {
                const Var l = bpr_loss(m.score(model, v, d.item_category, u, i, j), m.score(model, v, d.item_category, u, i, neg));
                loss = model == 0 ? l : loss + l;
            }
            adam.zero_grad();
            backward(loss);
            adam.step();
            m.transrec.project();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }

    Rng eval_rng(splitmix64(seed + 17));
    const EvalRows e = evaluation_rows(d, o.negatives, eval_rng);
    NoGrad no_grad;
    for (int model = 0; model < kTrained; ++model) {
        const Var s = m.score(model, v, d.item_category, e.user, e.prev, e.cand);
        rank_metrics(s.value().vec(), e.per_user, &rep.auc[model], &rep.hit10[model]);
    }
    std::vector<float> truth;
    for (size_t r = 0; r < e.user.size(); r += size_t(e.per_user)) {
        const std::vector<double> p = datasets::true_next_distribution(d, e.user[r], e.prev[r]);
        for (int k = 0; k < e.per_user; ++k) truth.push_back(float(p[size_t(e.cand[r + size_t(k)])]));
    }
    rank_metrics(truth, e.per_user, &rep.auc[kOracle], &rep.hit10[kOracle]);
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int items : o.items) {
        Level level;
        level.items = items;
        for (int r = 0; r < o.replicates; ++r) {
            level.reps.push_back(run_replicate(o, items, replicate_seed(o.seed, r)));
            const Replicate& x = level.reps.back();
            if (o.verbose)
                std::fprintf(stderr, "%d items, world %d/%d: AUC FM %.4f FM+cat %.4f TransFM %.4f TransFM+cat %.4f TransRec %.4f\n",
                             items, r + 1, o.replicates, x.auc[kFM], x.auc[kFMCat], x.auc[kTransFM], x.auc[kTransFMCat],
                             x.auc[kTransRec]);
        }
        rep.levels.push_back(level);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch60
}  // namespace minirec
