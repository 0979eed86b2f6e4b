// Chapter 58's experiment: sequences with a planted translation structure (datasets/translation_walks.h)
// split leave-one-out (datasets/ch58_leave_one_out.h), PopRec, BPR-MF, FMC, FPMC and TransRec
// (models/ch58_transrec.h) trained with S-BPR; or (run_real) MovieLens-100k under datasets/next_item.h.
// Deliberately left out: the paper's validation item and early stopping (a fixed number of epochs).
#pragma once
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch58_leave_one_out.h"
#include "models/ch58_transrec.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch58 {

enum Model { kPop, kBprMf, kFmc, kFpmc, kTransL2, kTransL1, kOracle, kNumModels };
const char* const kModelNames[] = {"PopRec", "BPR-MF", "FMC", "FPMC", "TransRec (L2^2)", "TransRec (L1)",
                                   "oracle (true next-item distribution)"};
constexpr int kTrained = kTransL1 + 1;   // models 1..kTransL1 train (in SBPRModels' order); PopRec counts, the oracle knows

// The cells: the main world at three data sizes (more users = more transitions per item), and the
// control world, where every next item is a popularity draw (restart probability 1), so there is
// no translation, and no sequence at all, to exploit.
struct Cell { const char* world; int users; double restart_prob; };
const Cell kCells[] = {{"main, 500 users", 500, 0.05}, {"main, 1000 users", 1000, 0.05}, {"main, 2000 users", 2000, 0.05},
                       {"control", 1000, 1.0}};
constexpr int kNumCells = 4;

struct Options {
    datasets::TranslationWalkOptions data;   // the world; seed, num_users and restart_prob set per cell
    int worlds = 6;                          // independent worlds per cell
    int epochs = 20;
    int batch = 256;
    double lr = 0.01;                        // Adam
    double weight_decay = 1e-4;              // Omega(Theta): Adam's L2 penalty on every parameter
    int dim = 10;                            // D for every model (the paper's K = 10)
    double auc_margin = 0.003;               // the smallest AUC gain over FPMC in Table 4 is 0.0032 (Flixter)
    double hit_margin = 0.01;                // one user in a hundred
    uint64_t seed = 42;
    bool quick = false;                      // prints intervals, no verdicts
    int negatives = 100;                     // --data: sampled by popularity (datasets/next_item.h)
};

inline Options quick_options() {
    Options o;
    o.worlds = 2, o.epochs = 10, o.quick = true;
    return o;
}

// One world's results: per model, the mean over users of AUC, Hit@10 and Hit@50.
using Replicate = std::array<HeldOutQuality, kNumModels>;
struct Results { std::vector<Replicate> cell[kNumCells]; };

inline Replicate run_world(const Options& o, const Cell& cell, uint64_t seed) {
    datasets::TranslationWalkOptions dopt = o.data;
    dopt.num_users = cell.users, dopt.restart_prob = cell.restart_prob, dopt.seed = seed;
    const datasets::TranslationWalkData d = datasets::translation_walks(dopt);
    const Transitions tr = training_transitions(d);
    Rng rng(splitmix64(seed + 11));
    const SBPRModels m = train_sbpr(d.num_users, d.num_items, tr, o.dim, o.epochs, o.batch, o.lr, o.weight_decay, rng);
    const PopRec pop = pop_rec(d.num_items, d.sequences);
    Replicate rep;
    rep[kPop] = evaluate(d, [&](int u, int prev) { return pop.score_all(u, prev); });
    for (int model = kBprMf; model < kTrained; ++model)
        rep[size_t(model)] = evaluate(d, [&](int u, int prev) { return m.score_all(model - kBprMf, u, prev); });
    rep[kOracle] = evaluate(d, [&](int u, int prev) { return oracle_scores(d, u, prev); });
    return rep;
}

inline Results run_experiment(const Options& o) {
    Results r;
    for (int c = 0; c < kNumCells; ++c)
        for (int w = 0; w < o.worlds; ++w) r.cell[c].push_back(run_world(o, kCells[c], replicate_seed(o.seed, w)));
    return r;
}

// Real data (--data) under datasets/next_item.h's protocol, with o.worlds fresh initialisations of
// one data set; the 100 negatives are drawn once (seed o.seed). The models train on every transition
// before each user's test item; the test item is scored from the one before it (the validation item).
using RealRun = std::array<datasets::NextItemQuality, kTrained>;   // [model]; kPop: datasets::popularity_scorer

inline std::vector<RealRun> run_real(const Options& o, const datasets::NextItemSplit& s) {
    const Transitions tr = real_transitions(s);
    const std::vector<Ids> negatives = datasets::popularity_negatives(s, o.negatives, o.seed);
    auto quality = [&](const datasets::UserScores& f) { return evaluate_next_item(s, negatives, datasets::Target::test, 10, f); };
    std::vector<RealRun> out(size_t(o.worlds));
    for (int w = 0; w < o.worlds; ++w) {
        Rng rng(splitmix64(replicate_seed(o.seed, w) + 11));
        const SBPRModels m = train_sbpr(int(s.users.size()), s.num_items, tr, o.dim, o.epochs, o.batch, o.lr, o.weight_decay, rng);
        RealRun& run = out[size_t(w)];
        run[kPop] = quality(popularity_scorer(s));
        for (int model = kBprMf; model < kTrained; ++model)
            run[size_t(model)] = quality(from_validation_item(s, [&](int u, int prev) { return m.score_all(model - kBprMf, u, prev); }));
        std::fprintf(stderr, "seed %d/%d done\n", w + 1, o.worlds);
    }
    return out;
}

// The headline on real data: TransRec (L2^2) minus FPMC and BPR-MF, per seed; intervals, no verdicts.
inline Claims judge_real(const Options& o, const std::vector<RealRun>& runs) {
    Claims claims;
    claims.one_dataset = true;
    for (int base : {kFpmc, kBprMf})
        for (auto f : {&datasets::NextItemQuality::ndcg, &datasets::NextItemQuality::hr_full}) {
            Claim cl{std::string("TransRec's ") + (f == &datasets::NextItemQuality::ndcg ? "NDCG@10" : "HR@10 over all items") +
                         " above " + kModelNames[base] + "'s", "MovieLens-100k", "Table 4: AUC and Hit@50 higher on all 11 datasets", {},
                     o.hit_margin, 4};
            for (const RealRun& x : runs) cl.diffs.push_back(x[kTransL2].*f - x[size_t(base)].*f);
            claims.add(cl);
        }
    return claims;
}

// Table 4's comparisons as paired differences over worlds (TransRec means the squared-L2 variant).
inline Claims judge(const Options& o, const Results& r) {
    Claims claims;
    claims.quick = o.quick;
    using Q = HeldOutQuality;
    struct Row { const char* claim; const char* paper; double Q::*metric; double margin; int base; };   // TransRec (L2^2) - base
    const Row rows[] = {
        {"TransRec's AUC above FPMC's (headline)", "Table 4: higher on all 11 datasets, +0.003 (Flixter) to +0.095 (Google)", &Q::auc,
         o.auc_margin, kFpmc},
        {"TransRec's AUC above BPR-MF's (headline)", "Table 4: higher on all 11, +0.003 (Flixter) to +0.074 (Clothing)", &Q::auc,
         o.auc_margin, kBprMf},
        {"TransRec's Hit@50 above FPMC's", "Table 4: higher on all 11, +1.0 (Toys) to +6.7 (Cellphone) points", &Q::hit50,
         o.hit_margin, kFpmc},
        {"TransRec (L2^2)'s AUC above TransRec (L1)'s", "Table 4: higher on all 11, +0.002 to +0.033", &Q::auc, o.auc_margin, kTransL1}};
    for (int c = 0; c < kNumCells; ++c)
        for (const Row& row : rows) {
            Claim cl{row.claim, kCells[c].world, c < 3 ? row.paper : "-", {}, row.margin, 4};
            for (const Replicate& x : r.cell[c]) cl.diffs.push_back(x[kTransL2].*row.metric - x[size_t(row.base)].*row.metric);
            claims.add(cl);
        }
    for (int c = 0; c < kNumCells; ++c) {
        bool ok = true;
        for (const Replicate& x : r.cell[c])
            for (int m = 0; m < kOracle; ++m) ok = ok && x[size_t(m)].auc <= x[kOracle].auc + 0.01;
        claims.add_sanity(std::string("no model's AUC above the oracle's (+0.01), ") + kCells[c].world, ok,
                          num("oracle AUC %.4f", mean_over(r.cell[c], [](const Replicate& x) { return x[kOracle].auc; })));
    }
    return claims;
}

}  // namespace ch58
}  // namespace minirec
