// Chapter 60's experiment as functions: FM and TransFM, each with and without item categories
// as content, and chapter 58's TransRec, trained with S-BPR on the same batches; AUC and Hit@10 of
// each user's held-out last item against 100 sampled items she never touched. Main world: chapter
// 58's translation walks (the next item lies near previous item + the user's translation); control
// world: the same items and users, but the next item follows a dot product (datasets/ch60_dot_walks.h).
// Printing lives in ch60_transfm.cpp. Deliberately left out: the paper's other content (time,
// geography, demographics), PRME-FM and HRM-FM, early stopping on a validation item.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/translation_walks.h"
#include "models/ch60_transfm.h"
#include "datasets/ch60_dot_walks.h"
#include "nn/factorization.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/ch58_transrec.h"   // the leave-one-out split (training_transitions)
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch60 {

enum Model { kFM, kFMCat, kTransFM, kTransFMCat, kTransFMCatMinus, kTransRec, kOracle, kNumModels };
const char* const kModelNames[] = {"FM", "FM + categories", "TransFM", "TransFM + categories",
                                   "TransFM + categories, -d^2", "TransRec (L2^2)", "oracle"};
constexpr int kTrained = kTransRec + 1;

struct Options {
    datasets::TranslationWalkOptions data;
    double control_temperature = 0.05;   // the control world's softmax temperature
    int worlds = 5;                      // independent worlds per cell
    int epochs = 20;
    int batch = 256;
    double lr = 0.01;
    double weight_decay = 1e-4;
    int dim = 10;
    int negatives = 100;                 // sampled items per user at evaluation
    uint64_t seed = 42;
    bool verbose = true;
    Options() {
        data.num_users = 1000;
        data.num_items = 1000;
        data.num_categories = 32;
    }
};
inline Options quick_options() {
    Options o;
    o.worlds = 2;
    o.epochs = 8;
    o.data.num_users = 500, o.data.num_items = 500;
    return o;
}

struct WorldRun {
    double auc[kNumModels] = {}, hit10[kNumModels] = {};
};
struct Results {
    std::vector<WorldRun> main, control;
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
    FM fm, fm_cat;                       // nn/factorization.h's FM, on 3 and 5 fields
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

inline WorldRun run_world(const Options& o, bool control, uint64_t seed) {
    datasets::TranslationWalkOptions dopt = o.data;
    dopt.seed = seed;
    const datasets::TranslationWalkData d = control ? datasets::dot_product_walks(dopt, o.control_temperature)
                                                    : datasets::translation_walks(dopt);
    const ch58::Transitions tr = ch58::training_transitions(d);
    const Vocab v{d.num_users, d.num_items, d.num_categories};
    const int n = int(tr.user.size()), N = d.num_items;
    WorldRun rep;

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
        const std::vector<double> p = control ? datasets::dot_next_distribution(d, e.user[r], e.prev[r], o.control_temperature)
                                              : datasets::true_next_distribution(d, e.user[r], e.prev[r]);
        for (int k = 0; k < e.per_user; ++k) truth.push_back(float(p[size_t(e.cand[r + size_t(k)])]));
    }
    rank_metrics(truth, e.per_user, &rep.auc[kOracle], &rep.hit10[kOracle]);
    return rep;
}

inline Results run_experiment(const Options& o) {
    Results r;
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);   // the same items and users in both cells
        r.main.push_back(run_world(o, false, seed));
        r.control.push_back(run_world(o, true, seed));
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: AUC FM %.4f TransFM %.4f (main), FM %.4f TransFM %.4f (control)\n", w + 1,
                         o.worlds, r.main.back().auc[kFM], r.main.back().auc[kTransFM], r.control.back().auc[kFM],
                         r.control.back().auc[kTransFM]);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

// Numbers not found (/work/shared/papers/60-66.md); the abstract claims TransFM beats state-of-the-art
// sequential models, especially with content features (vanilla FM is a baseline in the authors' code).
inline Claims judge(const Options&, const Results& r) {
    Claims c;
    for (int cell = 0; cell < 2; ++cell) {
        const std::vector<WorldRun>& runs = cell == 0 ? r.main : r.control;
        const std::string world = cell == 0 ? "main" : "control";
        auto gain = [&](int a, int b) {
            std::vector<double> d;
            for (const WorldRun& x : runs) d.push_back(x.auc[a] - x.auc[b]);
            return d;
        };
        auto paper = [&](const char* text) { return cell == 0 ? std::string(text) : std::string("—"); };
        c.add({"TransFM's AUC above FM's (no content)", world, paper("abstract: beats state-of-the-art sequential models (FM is a baseline in the authors' code); numbers not found"),
               gain(kTransFM, kFM), 0.005});
        c.add({"TransFM's AUC above FM's, both with categories", world,
               paper("abstract: especially with content features; numbers not found"), gain(kTransFMCat, kFMCat), 0.005});
        c.add({"TransFM with categories above TransRec", world, paper("not found"), gain(kTransFMCat, kTransRec), 0.005});
        c.add({"categories improve TransFM", world, paper("not found"), gain(kTransFMCat, kTransFM), 0.005});
        bool below = true;
        for (const WorldRun& x : runs)
            for (int m = 0; m < kTrained; ++m) below = below && x.auc[m] < x.auc[kOracle];
        c.add_sanity("every model's AUC below the oracle's (" + world + ")", below, "");
    }
    return c;
}

}  // namespace ch60
}  // namespace minirec
