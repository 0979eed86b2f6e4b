// Chapter 74's experiment: users who mix m planted item clusters (datasets/multi_interest.h); mean pooling
// (one vector, as YouTube DNN), MIND with 1 or K interests, p in {0, 2, inf} and r in {1, 3}, and K independent
// attention poolings (no routing), trained by sampled softmax on (history, next item); HitRate@N and Recall@N
// over the whole catalogue on held-out users, over independent worlds, main (users mix 1-4 clusters) and
// control (one interest each); or MovieLens-100k's next item (--data). Left out: side info, ANN.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/multi_interest.h"
#include "models/ch74_mind.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch74 {

// The planted world (datasets/multi_interest.h): items in clusters, users who mix m of them.
using WorldOptions = datasets::MultiInterestOptions;
using World = datasets::MultiInterestData;

// ---- The models compared (default_specs, kMean .. kPools, ModelSpec and AnyModel: models/ch74_mind.h) ----
struct Options {
    WorldOptions world;
    std::vector<ModelSpec> specs = default_specs();
    int worlds = 8;              // per cell (main, control)
    bool control = true, verbose = true;   // control: run the control cell too
    int dim = 8, hidden = 32;    // D; the ReLU layer on each interest (0 = none)
    int negatives = 64;          // sampled softmax: uniform negatives shared by the batch
    int epochs = 4, batch = 256;
    double lr = 0.03;            // Adam
    std::vector<int> Ns = {20, 50};   // HitRate@N, Recall@N
    uint64_t seed = 42;
    Options() { world.clusters = 16, world.items_per_cluster = 20, world.train_users = 10000, world.test_users = 1000; }
};
inline Options quick_options() { Options o; o.worlds = 3, o.world.train_users = 5000, o.world.test_users = 500; return o; }

// One trained model's scores: hit, recall [N index], recall_by_m [m - min_interests][N index].
struct Result : datasets::MultiInterestRecall {
    double rand_index = NAN, rand_index_untrained = NAN;   // K > 1 only
    datasets::NextItemQuality q;                           // --data
};

// --data: MovieLens-100k on datasets/next_item.h's protocol, the same World for every seed (no clusters):
using RealData = datasets::NextItemWorld;   // the item at each of a user's last 50 training positions, 50 before it

struct Results { std::vector<Result> results; std::vector<double> oracle; };   // oracle: [N] averaged over test users

// One model: the training loop written out, then retrieval over the whole catalogue (eq. 3), or with real
// data each user's test item ranked by datasets/next_item.h; for K > 1, before and after training, how well
// the capsules recover the planted clusters (Rand index).
inline Result train_and_evaluate(const ModelSpec& spec, const World& w, const Options& o, uint64_t seed, const RealData* real) {
    Rng rng(splitmix64(seed + 11));
    AnyModel m(spec, o.world.items(), o.dim, o.hidden, o.world.max_history, rng);
    Result r;
    const bool routing = spec.mind && spec.interests > 1 && !real;
    if (routing) r.rand_index_untrained = m.rand_index(w.test);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            Ids negatives;   // uniform, shared by the batch
            for (int k = 0; k < o.negatives; ++k) negatives.push_back(rng.randint(w.opt.items()));
            const Var loss = m.loss(datasets::histories(w.train, rows), datasets::next_items(w.train, rows), negatives);
            adam.zero_grad(), backward(loss), adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    if (!real) static_cast<datasets::MultiInterestRecall&>(r) = datasets::multi_interest_recall(w, o.Ns, m.block_scores(w.test));
    else r.q = datasets::next_item_quality(*real, m.block_scores(w.test));
    if (routing) r.rand_index = m.rand_index(w.test);
    return r;
}

struct Experiment {
    std::vector<Results> main, control;   // [world]; world w of both cells shares its seed; --data: main only
    datasets::NextItemQuality popularity; // --data (users > 0 then)
};

inline Experiment run_experiment(const Options& o, const RealData* real = nullptr) {
    Experiment e;
    if (real) e.popularity = evaluate_next_item(real->split, real->negatives, datasets::Target::test, 10, datasets::popularity_scorer(real->split));
    for (int w = 0; w < o.worlds; ++w)
        for (bool main : {true, false}) {
            if (!main && (!o.control || real)) continue;
            const WorldOptions wo = datasets::multi_interest_cell(o.world, replicate_seed(o.seed, w), !main);
            // One world: the planted oracle and every model, on the same data (real: the same data, a new seed).
            const World world = real ? real->data : datasets::multi_interest(wo);
            Results& rep = (main ? e.main : e.control).emplace_back();
            rep.oracle = real ? std::vector<double>(o.Ns.size(), 0.0) : datasets::multi_interest_oracle_recall(wo, world.test, o.Ns);
            for (size_t s = 0; s < o.specs.size(); ++s)
                rep.results.push_back(train_and_evaluate(o.specs[s], world, o, splitmix64(wo.seed * 31 + s), real));
            if (!o.verbose) continue;
            std::fprintf(stderr, "%s world %d/%d: HR@%d", main ? "main" : "control", w + 1, o.worlds, real ? 10 : o.Ns.back());
            for (const Result& r : rep.results) std::fprintf(stderr, " %.4f", real ? r.q.hr_full : r.hit.back());
            std::fprintf(stderr, "\n");
        }
    return e;
}

// Margin: 0.005 of Recall@N, N = the first of Ns (HitRate saturates: a test user has 5 targets).
inline Claims judge(const Options& o, const Experiment& e, bool quick = false) {
    Claims c;
    const bool real = e.popularity.users > 0;   // --data: full-ranking HR@10, no verdicts
    c.quick = quick || o.worlds < 5, c.one_dataset = real;
    const std::string hr = real ? "HR@10 (full ranking)" : "Recall@" + std::to_string(o.Ns.front());
    struct Row { const char* claim; int a, b; const char* paper; };
    const Row rows[] = {
        {"MIND (K = 4, p = 2) above mean pooling (YouTube DNN)", kP2, kMean, "Table 2: HR@50 0.1101 vs 0.0746 (Amazon), 0.2080 vs 0.1256 (Tmall)"},
        {"MIND with one interest above mean pooling", kMind1, kMean, "Table 2: HR@50 0.0978 vs 0.0746 (Amazon), 0.1512 vs 0.1256 (Tmall)"},
        {"MIND with K = 4 above MIND with one interest", kP2, kMind1, "Table 2: HR@50 0.1101 vs 0.0978 (Amazon), 0.2080 vs 0.1512 (Tmall)"},
        {"label-aware attention: p = 2 above p = 0", kP2, kP0, "Fig. 3 (by eye, Amazon HR@50 at epoch 8): about 0.105 vs 0.08-0.09"},
        {"label-aware attention: hard (p = inf) above p = 2", kHard, kP2, "Fig. 3 (by eye): about 0.11 vs 0.105; p = inf best"},
        {"dynamic routing: 3 iterations above 1", kP2, kR1, "not found (says routing usually converges in 3 iterations; r used not stated)"},
        {"B2I routing above K independent attention poolings", kP2, kPools,
         "not run; closest, MaxMF-K (K vectors, no routing) vs MIND-K, Table 2 HR@50: 0.0862 vs 0.1101 (Amazon), 0.1820 vs 0.2080 (Tmall)"}};
    for (const char* world : {"main", "control"})
        for (const Row& r : rows) {
            if (std::string(world) == "control" && e.control.empty()) continue;
            Claim x{std::string(r.claim) + ", " + hr, real ? "ML-100k" : world, r.paper, {}, 0.005};
            for (const Results& w : std::string(world) == "main" ? e.main : e.control)
                x.diffs.push_back(real ? w.results[size_t(r.a)].q.hr_full - w.results[size_t(r.b)].q.hr_full
                                       : w.results[size_t(r.a)].recall.front() - w.results[size_t(r.b)].recall.front());
            c.add(x);
        }
    if (real) return c;
    double worst = 1.0;   // no model recalls more than the planted oracle
    for (const Results& w : e.main)
        for (const Result& r : w.results) worst = std::min(worst, w.oracle.back() - r.recall.back());
    c.add_sanity("every model's Recall@" + std::to_string(o.Ns.back()) + " is at most the planted oracle's", worst >= -0.01, num("%+.4f", worst));
    return c;
}

}  // namespace ch74
}  // namespace minirec
