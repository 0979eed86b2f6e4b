// Chapter 60's experiment as functions: FM and TransFM, each with and without item categories
// as content, and chapter 58's TransRec, trained with S-BPR on the same batches; AUC and Hit@10 of
// each user's held-out last item against 100 sampled items she never touched (datasets/ch60_held_out.h).
// Main world: chapter 58's translation walks (the next item lies near previous item + the user's
// translation); control world: the same items and users, but the next item follows a dot product
// (datasets/ch60_dot_walks.h). Printing lives in ch60_transfm.cpp. Deliberately left out: the paper's
// other content (time, geography, demographics), PRME-FM and HRM-FM, early stopping on a validation item.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch60_held_out.h"
#include "datasets/translation_walks.h"
#include "models/ch58_transrec.h"
#include "models/ch60_transfm.h"
#include "nn/factorization.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
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
    AdamOptions adam;                    // lr 0.01, weight decay 1e-4 (eq. 3's Omega): set below
    int dim = 10;
    int negatives = 100;                 // sampled items per user at evaluation
    uint64_t seed = 42;
    bool verbose = true;
    Options() {
        data.num_users = 1000;
        data.num_items = 1000;
        data.num_categories = 32;
        adam.lr = 0.01;
        adam.weight_decay = 1e-4;
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
};

// The trained models side by side (same batches, same negatives).
struct Models {
    FM fm, fm_cat;                       // nn/factorization.h's FM, on 3 and 5 fields
    TransFM tfm, tfm_cat, tfm_cat_minus; // eq. 1 on 3 and 5 fields; the last with -d^2
    ch58::TransRec transrec;
    Models(const Vocab& v, int dim, Rng& rng)
        : fm(v.size(), dim, rng, false), fm_cat(v.size(), dim, rng, false), tfm(v.size(), dim, rng), tfm_cat(v.size(), dim, rng),
          tfm_cat_minus(v.size(), dim, rng, -1.0f), transrec(v.users, v.items, dim, ch58::Distance::l2_squared, rng) {}

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

inline WorldRun run_world(const Options& o, bool control, uint64_t seed) {
    datasets::TranslationWalkOptions dopt = o.data;
    dopt.seed = seed;
    const datasets::TranslationWalkData d = control ? datasets::dot_product_walks(dopt, o.control_temperature)
                                                    : datasets::translation_walks(dopt);
    const ch58::Transitions tr = ch58::training_transitions(d);
    const Vocab v{d.num_users, d.num_items, d.num_categories};
    WorldRun rep;

    Rng rng(splitmix64(seed + 13));
    Models m(v, o.dim, rng);
    Adam adam(vars_of(m.named_parameters()), o.adam);
    auto score = [&](int model, const Ids& u, const Ids& i, const Ids& j) { return m.score(model, v, d.item_category, u, i, j); };
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(tr.user.size()), o.batch, rng)) {
            const SbprBatch b = sbpr_batch(tr, rows, d.num_items, rng);
            auto loss_of = [&](int model) { return bpr_loss(score(model, b.user, b.prev, b.next), score(model, b.user, b.prev, b.neg)); };
            Var loss = loss_of(0);                           // eq. 3 for every model, summed
            for (int model = 1; model < kTrained; ++model) loss = loss + loss_of(model);
            adam.zero_grad();
            backward(loss);
            adam.step();
            m.transrec.project();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }

    const EvalRows e = evaluation_rows(d, o.negatives, splitmix64(seed + 17));
    NoGrad no_grad;
    for (int model = 0; model < kTrained; ++model)
        rank_metrics(score(model, e.user, e.prev, e.cand).value().vec(), e.per_user, &rep.auc[model], &rep.hit10[model]);
    rank_metrics(oracle_scores(d, e, control, o.control_temperature), e.per_user, &rep.auc[kOracle], &rep.hit10[kOracle]);
    return rep;
}

inline Results run_experiment(const Options& o) {
    Results r;
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);   // the same items and users in both cells
        const WorldRun& main_run = r.main.emplace_back(run_world(o, false, seed));
        const WorldRun& control_run = r.control.emplace_back(run_world(o, true, seed));
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: AUC FM %.4f TransFM %.4f (main), FM %.4f TransFM %.4f (control)\n", w + 1,
                         o.worlds, main_run.auc[kFM], main_run.auc[kTransFM], control_run.auc[kFM], control_run.auc[kTransFM]);
    }
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
