// Chapter 63's experiment: ordered sessions whose next item has the category of the session's latest item and,
// usually, a shop the user currently favours; for "drifters" the long-term behaviours show old favourites
// (datasets/ch63_sessions.h). SDM's gate against s + p, W [s, p] and s alone, by HitRate@K over the whole catalogue,
// in a main world (drifters) and a control world (none); or (run_real) MovieLens-100k cut into sessions by a time gap.
#pragma once
#include <array>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "datasets/ch63_sessions.h"
#include "models/ch63_sdm.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch63 {

// The fusions compared (then, with --data, popularity) and what each makes o^u from.
const char* const kNames[] = {"SDM, gated fusion (eq. 11)", "add (o = s + p)", "concat (o = W [s, p])", "short-term only (o = s)", "popularity"};
const Fusion kFusions[] = {Fusion::gated, Fusion::add, Fusion::concat, Fusion::short_only};
constexpr int kNumModels = 4;
// The gate against fusion b: the claim, and the paper's number (Table 4: fusion ablation, Taobao offline, HR@100;
// Table 2: PSDMMAL against PSDMMA, the short-term-only model; arXiv v1).
const char* const kVersus[][2] = {{"", ""}, {"the gated fusion's HR@10 above add's", "Table 4: HR@100 70.72% vs 70.24% (+0.48 pp)"},
                                  {"the gated fusion's HR@10 above concat's", "Table 4: HR@100 70.72% vs 69.74% (+0.98 pp)"},
                                  {"long-term preference helps: gated above short-term only",
                                   "Table 2: PSDMMAL 70.72% vs PSDMMA 69.43% HR@100 (+1.29 pp)"}};

struct Options {
    datasets::SessionOptions world;   // drifters is set per cell: true main, false control
    Options() { world.train_users = 3000; }
    int worlds = 5;                   // independent worlds per cell
    int field_dim = 8;                // d (items and users are 3d = 24 long)
    int heads = 2;
    int negatives = 64;               // sampled softmax: uniform negatives shared by the batch
    int epochs = 6;
    int batch = 256;
    double lr = 0.02;                 // Adam
    int K = 10;                       // HitRate@K
    bool control = true;              // also run the control world (the test's small runs skip it)
    uint64_t seed = 42;
    bool verbose = true;
};
inline Options quick_options() {
    Options o;
    o.worlds = 2, o.world.train_users = 2000, o.world.test_users = 500;
    return o;
}

// One world: HR@K per model (all users, loyal users, drifters), the oracle's, the gated model's mean G by kind.
struct WorldRun {
    datasets::SessionHits hit[kNumModels];
    double oracle = 0.0, gate_loyal = 0.0, gate_drifter = 0.0;
};
struct Results { std::vector<WorldRun> main, control; };

// One model: the training loop written out (sampled softmax over shared uniform negatives).
inline SDM train(int model, const datasets::SessionWorld& w, const Options& o, uint64_t seed) {
    Rng rng(seed);
    SDM m(sdm_options(w, o.field_dim, o.heads, kFusions[model]), Catalogue{w.category, w.shop}, rng);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            const Var loss = m.loss(datasets::session_batch(w.train, rows), o.negatives, rng);
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    return m;
}

// One world: the oracle, then each fusion trained from the same initialisation stream and judged by HitRate@K
// over the whole catalogue (datasets::session_hit_rates); the gated model's mean G for loyal users and drifters.
inline WorldRun run_world(const Options& o, bool drifters, uint64_t seed) {
    datasets::SessionOptions wo = o.world;
    wo.drifters = drifters, wo.seed = seed;
    const datasets::SessionWorld w = datasets::session_world(wo);
    WorldRun run;
    run.oracle = datasets::oracle_hit_rate(w, o.K);                      // the K most likely items
    std::vector<double> gate;                                            // per test user; only the gated model sets it
    for (int m = 0; m < kNumModels; ++m) {
        SDM model = train(m, w, o, splitmix64(seed + 5));
        NoGrad no_grad;
        run.hit[m] = datasets::session_hit_rates(w, o.K, 256, user_scores(model, w.test, &gate));
    }
    std::tie(run.gate_loyal, run.gate_drifter) = datasets::mean_by_kind(w, gate);
    return run;
}

inline Results run_experiment(const Options& o) {
    Results r;
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);
        r.main.push_back(run_world(o, true, seed));
        if (o.control) r.control.push_back(run_world(o, false, seed));
        if (o.verbose) std::fprintf(stderr, "world %d/%d done\n", w + 1, o.worlds);
    }
    return r;
}

// Real data (--data): MovieLens-100k as sessions (datasets::movielens_sessions) under datasets/next_item.h's protocol;
// o.worlds fresh initialisations of one data set, the negatives drawn once (seed o.seed). [model], [kNumModels] = popularity.
using RealRun = std::array<datasets::NextItemQuality, kNumModels + 1>;
inline std::vector<RealRun> run_real(const Options& o, const datasets::SessionWorld& w, const datasets::NextItemSplit& s) {
    const std::vector<Ids> negatives = datasets::popularity_negatives(s, 100, o.seed);
    auto quality = [&](const datasets::UserScores& f) { return evaluate_next_item(s, negatives, datasets::Target::test, o.K, f); };
    std::vector<RealRun> out(size_t(o.worlds));
    for (int r = 0; r < o.worlds; ++r) {
        for (int model = 0; model < kNumModels; ++model) {
            SDM m = train(model, w, o, splitmix64(replicate_seed(o.seed, r) + 5));
            NoGrad no_grad;
            out[size_t(r)][size_t(model)] = quality(user_scores(m, w.test));
        }
        out[size_t(r)][kNumModels] = quality(popularity_scorer(s));
        if (o.verbose) std::fprintf(stderr, "seed %d/%d done\n", r + 1, o.worlds);
    }
    return out;
}

// The headline on real data: the gate minus each other fusion in NDCG@10, per seed (no verdicts).
inline Claims judge_real(const std::vector<RealRun>& runs) {
    Claims c;
    c.one_dataset = true;
    for (int b = 1; b < kNumModels; ++b)
        c.add({"the gated fusion's NDCG@10 above " + std::string(kNames[b]) + "'s", "MovieLens-100k", kVersus[b][1],
               per_world(runs, [b](const RealRun& r) { return r[0].ndcg - r[size_t(b)].ndcg; }), 0.005});
    return c;
}

inline Claims judge(const Options&, const Results& r) {
    Claims c;
    for (int cell = 0; cell < 2; ++cell) {
        const std::vector<WorldRun>& runs = cell == 0 ? r.main : r.control;
        const std::string world = cell == 0 ? "main" : "control";
        if (runs.empty()) continue;
        for (int b = 1; b < kNumModels; ++b)
            c.add({kVersus[b][0], world, cell == 0 ? kVersus[b][1] : "—",
                   per_world(runs, [b](const WorldRun& x) { return x.hit[0].all - x.hit[b].all; }), 0.005});
        if (cell == 0)   // the gate's reading of the profile (no drifters in the control)
            c.add({"the gate leans on the session (larger G) for drifters than for loyal users", world, "not reported",
                   per_world(runs, [](const WorldRun& x) { return x.gate_drifter - x.gate_loyal; }), 0.02, 3});
        bool below = true;
        for (const WorldRun& x : runs)
            for (const datasets::SessionHits& h : x.hit) below = below && h.all <= x.oracle;
        c.add_sanity("every model's HR@10 at most the oracle's (" + world + ")", below, "");
    }
    return c;
}

}  // namespace ch63
}  // namespace minirec
