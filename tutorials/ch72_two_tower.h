// Chapter 72's experiment (Yi et al., RecSys 2019) over independent worlds, each with a control:
//   frequency  the paper's simulation (section 6.1): the streaming estimator's error as alpha and
//              the number of hash functions (at a fixed total of slots) vary, on a drifting stream
//   retrieval  a two-tower model trained plain, corrected by the streaming estimates and by the
//              true probabilities, and a popularity ranking, on a power-law catalogue
//              (datasets/retrieval.h) or MovieLens-100k (--data), by Recall@K over the catalogue.
// Deliberately left out: the paper's Wikipedia and YouTube data, reward-weighted losses, ANN search.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/item_stream.h"
#include "datasets/retrieval.h"
#include "models/ch72_two_tower.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch72 {

// ---- Part 1: streaming frequency estimation on the paper's drifting stream --------------------
struct FrequencyOptions {
    int items = 1000;                     // M, as in the paper
    int steps_per_phase = 10000;          // q_i ~ i^2, then ~ (M-1-i)^2 (the paper's switch at 10k)
    int batch = 128;                      // B
    std::vector<double> alphas = {0.01, 0.05, 0.1};   // the paper's Figure 4
    std::vector<int> hash_counts = {1, 2, 4};         // the paper's Figure 5: H = total / m each
    int total_slots = 4000;               // the paper's Figure 5 budget
    int control_slots = 64000;            // the control: so many slots that collisions are rare
    double hash_alpha = 0.01;
    int window = 500;                     // steps per point of the error curves
    int recovery_window = 2000;           // "after the switch" = this many steps after it
    double steady_share = 0.2;            // "steady state" = the last 20% of the first phase
};

struct EstimatorTrace {
    std::string name;
    FrequencyEstimatorOptions options;
    std::vector<double> error;            // [window]: mean over the batch's items of |p_hat - B q|
    double steady = 0, after_switch = 0, mid_phase = 0;   // mid_phase: the control window, no switch
};
struct FrequencyResult {
    std::vector<long> window_end;
    std::vector<EstimatorTrace> alphas, hashes, control_hashes;
};

// Every estimator reads the same stream, so their differences within a world are not sampling noise.
inline FrequencyResult frequency_world(const FrequencyOptions& o, uint64_t seed) {
    FrequencyResult r;
    auto add = [&](std::vector<EstimatorTrace>& to, std::string name, FrequencyEstimatorOptions e) {
        e.seed = splitmix64(seed + 17);
        to.push_back({std::move(name), e, {}});
    };
    FrequencyEstimatorOptions exact;      // one slot per item: no collisions
    exact.buckets = o.items;
    exact.collision_free = true;
    for (double a : o.alphas) exact.alpha = a, add(r.alphas, "alpha " + num("%g", a), exact);
    for (int h : o.hash_counts)
        for (int total : {o.total_slots, o.control_slots}) {
            FrequencyEstimatorOptions e;
            e.buckets = total / h, e.hashes = h, e.alpha = o.hash_alpha;
            add(total == o.total_slots ? r.hashes : r.control_hashes,
                std::to_string(h) + " x " + std::to_string(total / h) + " slots", e);
        }
    std::vector<EstimatorTrace*> traces;
    for (auto* group : {&r.alphas, &r.hashes, &r.control_hashes})
        for (EstimatorTrace& tr : *group) traces.push_back(&tr);
    std::vector<StreamingFrequencyEstimator> est;
    for (EstimatorTrace* tr : traces) est.emplace_back(tr->options);
    datasets::DriftingStreamOptions so;
    so.num_items = o.items, so.steps_per_phase = o.steps_per_phase, so.batch_size = o.batch, so.seed = seed;
    const datasets::StreamErrors errors = datasets::replay_drifting_stream(so, est, o.window);
    r.window_end = errors.window_end;
    const long S = o.steps_per_phase, R = o.recovery_window;
    for (size_t e = 0; e < traces.size(); ++e) {
        traces[e]->error = errors.error[e];
        traces[e]->steady = errors.mean_between(e, long(S * (1.0 - o.steady_share)), S);
        traces[e]->after_switch = errors.mean_between(e, S, S + R);
        traces[e]->mid_phase = errors.mean_between(e, S / 2, S / 2 + R);   // as long a window, nothing switched
    }
    return r;
}

// ---- Part 2: a two-tower model trained with in-batch softmax, plain or corrected --------------
using RetrievalData = datasets::RetrievalData;

struct RetrievalOptions {
    int items = 1000;                    // N of the synthetic catalogue
    int train_rows = 30000, test_rows = 3000;
    double exponent = 1.0;               // q_j ~ 1 / (j + 1)^exponent (the control world: 0)
    int dim = 16;                        // D of the planted item vectors
    double noise = 0.35;                 // query = item vector + N(0, noise^2) per coordinate
    TrainOptions train;                  // models/ch72_two_tower.h (its seed is set per world)
    double head_mass = 0.5;              // head = the most popular items holding this much of q
    std::vector<int> ks = {10, 50};
    uint64_t seed = 42;
};

// recall [k index]: Recall@K over the full catalogue; head_share: head items among the top ks[0].
struct RetrievalResult : datasets::RankingScores {
    std::string name;
    double final_loss = 0;
};

inline RetrievalData synthetic_retrieval(const RetrievalOptions& o) {
    datasets::PowerLawCatalogueOptions c;
    c.num_items = o.items, c.n = o.train_rows + o.test_rows, c.exponent = o.exponent;
    c.dim = o.dim, c.query_noise = o.noise, c.seed = o.seed;
    return datasets::power_law_retrieval(c, o.train_rows);
}

// datasets/retrieval.h's protocol: the whole catalogue ranked for every test row.
inline void evaluate_rankings(const RetrievalData& d, const RetrievalOptions& o, const datasets::RowScores& score_rows,
                              RetrievalResult& res) {
    static_cast<datasets::RankingScores&>(res) = datasets::rank_catalogue(d, o.ks, o.head_mass, score_rows);
}

// Serving: every item's v once, then s(x, y) = <u(x), v(y)> for the whole catalogue.
inline RetrievalResult train_and_rank(const RetrievalData& d, const RetrievalOptions& o, Correction corr) {
    RetrievalResult res;
    res.name = correction_name(corr);
    TrainOptions t = o.train;
    t.seed = o.seed;
    TwoTower model = train_two_tower(d, t, corr, &res.final_loss);
    NoGrad no_grad;
    Ids all(size_t(d.num_items));
    for (int j = 0; j < d.num_items; ++j) all[size_t(j)] = j;
    const Var v_all = model.v(constant(d.item_features), all);          // (N, k)
    const Var queries = constant(d.query_features);
    evaluate_rankings(d, o, [&](size_t b0, int rows, std::vector<float>& scores) {
        Ids test_rows, qid;
        for (int r = 0; r < rows; ++r) {
            test_rows.push_back(d.test[b0 + size_t(r)]);
            if (d.num_query_ids) qid.push_back(d.query_ids[size_t(test_rows.back())]);
        }
        const Var u = model.u(d.query_features.dim(1) > 0 ? gather_rows(queries, test_rows) : Var(), qid);  // (rows, k)
        scores = TwoTower::scores(u, v_all).value().vec();               // (rows, N)
    }, res);
    return res;
}

// Popularity: every query gets the items most frequent among the training positives.
inline RetrievalResult popularity_ranking(const RetrievalData& d, const RetrievalOptions& o) {
    RetrievalResult res;
    res.name = "popularity";
    evaluate_rankings(d, o, [&](size_t, int rows, std::vector<float>& s) { datasets::popularity_scores(d, rows, s); }, res);
    return res;
}

// The best any model can do on the synthetic data: rank by the true posterior (a sanity check).
inline RetrievalResult bayes_ranking(const RetrievalData& d, const RetrievalOptions& o) {
    RetrievalResult res;
    res.name = "Bayes (true posterior)";
    evaluate_rankings(d, o, [&](size_t b0, int rows, std::vector<float>& s) { datasets::bayes_scores(d, b0, rows, s); }, res);
    return res;
}

// One world: plain, streaming, oracle, popularity (and Bayes on synthetic data), same data and init.
inline std::vector<RetrievalResult> retrieval_world(const RetrievalData& d, const RetrievalOptions& o) {
    std::vector<RetrievalResult> r;
    for (Correction c : {Correction::none, Correction::streaming, Correction::oracle}) r.push_back(train_and_rank(d, o, c));
    r.push_back(popularity_ranking(d, o));
    if (d.noise_var > 0) r.push_back(bayes_ranking(d, o));
    return r;
}
enum { kPlain = 0, kStreaming = 1, kOracle = 2, kPopularity = 3, kBayes = 4 };

// ---- The experiment ---------------------------------------------------------------------------
struct Options {
    FrequencyOptions frequency;
    RetrievalOptions retrieval;
    double control_exponent = 0.0;       // the control catalogue: uniform popularity
    int worlds = 5;                      // per cell
    uint64_t seed = 42;
    bool verbose = true;
};
inline Options quick_options() {
    Options o;
    o.worlds = 3;
    o.frequency.steps_per_phase = 5000, o.frequency.recovery_window = 1000;
    o.retrieval.items = 500, o.retrieval.train_rows = 10000, o.retrieval.test_rows = 1000, o.retrieval.train.epochs = 3;
    return o;
}

struct Results {
    std::vector<FrequencyResult> frequency;                              // [world]
    std::vector<std::vector<RetrievalResult>> retrieval, control;       // [world][method]
    int head_size = 0;                                                    // of the last main world
    double seconds = 0;
};

// real: MovieLens (or any fixed data set) instead of fresh synthetic worlds; then a "world" is a
// fresh initialisation on the same data, and there is no control catalogue.
inline Results run_experiment(const Options& o, const RetrievalData* real = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    Results r;
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);
        r.frequency.push_back(frequency_world(o.frequency, seed));
        RetrievalOptions ro = o.retrieval;
        ro.seed = seed;
        const RetrievalData d = real ? *real : synthetic_retrieval(ro);
        r.retrieval.push_back(retrieval_world(d, ro));
        r.head_size = 0;
        for (char h : datasets::head_items(d.item_prob, ro.head_mass)) r.head_size += h;
        if (!real) {
            ro.exponent = o.control_exponent;
            r.control.push_back(retrieval_world(synthetic_retrieval(ro), ro));
        }
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d  R@%d plain %.4f corrected %.4f\n", w + 1, o.worlds, ro.ks[0],
                         r.retrieval.back()[kPlain].recall[0], r.retrieval.back()[kStreaming].recall[0]);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

// Margins: Recall 0.01 (absolute); the estimator's error 10% (relative).
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    c.quick = o.worlds < 5;
    const std::string k0 = std::to_string(o.retrieval.ks[0]), k1 = std::to_string(o.retrieval.ks[1]);
    const char* t1 = "Table 1 (Wikipedia): R@10 0.1065 vs 0.0643 at tau 0.07; Table 2 (YouTube): 0.2960 vs 0.2728 at tau 0.05";
    const char* t1b = "Table 1: R@50 0.3079 vs 0.2423 at tau 0.07; Table 2: 0.5322 vs 0.4586 at tau 0.05";
    for (const char* world : {"main", "control"}) {
        const bool main = std::string(world) == "main";
        const auto& cell = main ? r.retrieval : r.control;
        if (cell.empty()) continue;
        Claim a{"corrected (streaming) beats plain, Recall@" + k0, world, t1, {}, 0.01};
        Claim b{"corrected (streaming) beats plain, Recall@" + k1, world, t1b, {}, 0.01};
        Claim e{"the streaming estimate is within 0.05 Recall@" + k0 + " of the true q (0.05 - gap)", world,
                "no oracle arm in the paper", {}, 0.0};
        Claim p{"corrected (streaming) beats popularity, Recall@" + k0, world, "no popularity baseline in the paper", {}, 0.01};
        for (const auto& m : cell) {
            a.diffs.push_back(m[kStreaming].recall[0] - m[kPlain].recall[0]);
            b.diffs.push_back(m[kStreaming].recall[1] - m[kPlain].recall[1]);
            e.diffs.push_back(0.05 - (m[kOracle].recall[0] - m[kStreaming].recall[0]));
            p.diffs.push_back(m[kStreaming].recall[0] - m[kPopularity].recall[0]);
        }
        for (Claim* x : {&a, &b, &e, &p}) c.add(*x);
        // The estimator: main = the drifting stream at the paper's slot budget; control = the window
        // in mid-phase (no switch) for alpha, and a budget where collisions are rare for hashes.
        Claim h2{"2 hash functions: lower steady error than 1 at the same total slots (relative)", world,
                 "Fig. 5 (read by eye): about 0.17 (m=1), 0.12 (m=2), 0.10 (m=4)", {}, 0.1};
        Claim h4{"4 hash functions: lower steady error than 2 at the same total slots (relative)", world,
                 "Fig. 5, as above", {}, 0.1};
        Claim fast{"alpha 0.1 recovers faster than alpha 0.01 after the switch (relative error)", world,
                   "Fig. 4: a larger alpha adapts faster after the switch", {}, 0.1};
        Claim low{"alpha 0.01 has lower steady error than alpha 0.1 (relative)", world,
                  "Fig. 4 (by eye): plateaus about 0.10 (0.01) vs 0.15 (0.1)", {}, 0.1};
        for (const FrequencyResult& f : r.frequency) {
            const auto& hs = main ? f.hashes : f.control_hashes;
            const EstimatorTrace &slow = f.alphas.front(), &quick = f.alphas.back();
            h2.diffs.push_back(1.0 - hs[1].steady / hs[0].steady);
            h4.diffs.push_back(1.0 - hs[2].steady / hs[1].steady);
            fast.diffs.push_back(main ? 1.0 - quick.after_switch / slow.after_switch : 1.0 - quick.mid_phase / slow.mid_phase);
            low.diffs.push_back(main ? 1.0 - slow.steady / quick.steady : 1.0 - slow.mid_phase / quick.mid_phase);
        }
        for (Claim* x : {&h2, &h4, &fast, &low}) c.add(*x);
    }
    double gap = INFINITY;   // the Bayes ranking above every trained model (cannot fail)
    for (const auto& m : r.retrieval)
        if (m.size() > kBayes) gap = std::min(gap, m[kBayes].recall[0] - m[kOracle].recall[0]);
    c.add_sanity("the true posterior ranks at least as well as the oracle-corrected model", gap >= 0.0, num("%+.4f", gap));
    return c;
}

}  // namespace ch72
}  // namespace minirec
