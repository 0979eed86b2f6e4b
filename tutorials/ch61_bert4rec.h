// Chapter 61's experiment: each user's last item held out (datasets/ch61_leave_one_out.h) and ranked
// by BERT4Rec (bidirectional, Cloze); the same network left to right (causal mask) with SASRec's loss
// or the full softmax; BERT4Rec trained on the last position only; popularity. HR@10 / NDCG@10 / MRR
// against 100 popularity negatives (as the paper) and over all items, after several budgets (epochs),
// in synthetic main (a planted successor graph) and control (no order) worlds, or on MovieLens-100k.
// judge() makes the claims. Deliberately left out: early stopping (fixed epochs).
#pragma once
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/ch61_leave_one_out.h"
#include "datasets/sequences.h"
#include "models/ch61_bert4rec.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch61 {

enum Model { kBert4Rec, kSASRec, kCausal, kLastOnly, kPopularity, kOracle, kNumModels };
const int kNumTrained = 4;   // every model before kPopularity is a trained transformer
const char* const kModelNames[] = {"BERT4Rec (bidirectional, Cloze)", "left-to-right, SASRec loss (1 negative)",
                                   "left-to-right, full softmax", "BERT4Rec, last item masked only", "popularity",
                                   "(oracle: the generator's next-item distribution)"};
const Task kTask[kNumTrained] = {Task::cloze, Task::sasrec, Task::next_item, Task::last_only};   // how each is trained

struct Options {
    datasets::SequenceOptions data = world_options();   // the main world; its seed is set per world
    double control_order = 0.0;         // the control world's order strength: order carries no signal
    int worlds = 5;                     // independent worlds per cell, seeds from replicate_seed(seed, w)
    int epochs = 40;                    // the largest budget; every model is also scored at epochs/4 and epochs/2
    int batch = 128;
    double lr = 1e-3;                   // Adam
    Bert4RecOptions model;              // num_items is filled in from the data
    double mask_prob = 0.4;             // rho, the Cloze masking proportion (the paper tunes it in 0.1-0.9)
    double last_only_prob = 0.1;        // share of Cloze samples that mask only the last item (Sec. 3.6)
    int negatives = 100;                // sampled by popularity, as the paper
    int k = 10;                         // HR@k, NDCG@k
    double margin = 0.01;               // practical margin in NDCG@10 / HR@10
    bool train[kNumTrained] = {true, true, true, true};   // which transformers to train (tests skip some)
    bool control = true;                // run the control cell too
    uint64_t seed = 42;
    bool verbose = true;
    std::vector<int> budgets() const {  // equal budgets for every model: E/4, E/2, E epochs (distinct, >= 1)
        std::vector<int> b;
        for (int e : {epochs / 4, epochs / 2, epochs})
            if (e >= 1 && (b.empty() || e > b.back())) b.push_back(e);
        return b;
    }
    Options() { model.max_len = 20, model.dim = 32, model.heads = 2, model.layers = 2, model.dropout = 0.1f; }
};

// The quick configuration, in one place: 2 worlds per cell of 300 users, budgets 4, 8, 16 epochs.
inline Options quick_options() {
    Options o;
    o.worlds = 2, o.data.num_users = 300, o.epochs = 16;
    return o;
}

struct WorldRun {
    std::vector<Scores> at[kNumModels];          // at[model][b]: scores after budgets[b] epochs (kOracle: synthetic only)
    double train_seconds[kNumTrained] = {};      // processor seconds, training (with its evaluations)
};

struct Results {
    std::vector<WorldRun> main, control;
    bool real = false;                           // --data: no oracle, no control
};

// One world (with --data, one seed): each transformer from its own initialisation (the control cell: only
// the headline's two, for time), trained for the largest budget and scored after each budget's epoch.
inline WorldRun run_world(const Options& o, const Protocol& p, bool control, uint64_t seed) {
    const std::vector<int> budgets = o.budgets();
    WorldRun rep;
    for (int model = 0; model < kNumTrained; ++model) {
        if (!o.train[model] || (control && model != kBert4Rec && model != kSASRec)) continue;
        Bert4RecOptions mo = o.model;
        mo.num_items = p.num_items, mo.causal = model == kCausal || model == kSASRec;
        Rng rng(splitmix64(seed + 100 + uint64_t(model)));
        Bert4Rec m(mo, rng);
        Adam adam(vars_of(m.named_parameters()), o.lr);
        const std::clock_t start = std::clock();   // processor time: the machine may be shared
        long step = 0;
        for (int epoch = 1; epoch <= o.epochs; ++epoch) {
            for (const std::vector<int>& rows : make_batches(int(p.train.size()), o.batch, rng)) {
                const Var loss = training_loss(m, kTask[model], p.train, rows, o.mask_prob, o.last_only_prob, rng);
                adam.zero_grad();
                backward(loss);
                adam.step();
                check_finite(loss.item(), ++step);
            }
            if (std::count(budgets.begin(), budgets.end(), epoch))
                rep.at[model].push_back(p.evaluate([&](const std::vector<Ids>& s) { return m.next_item_logits(s); }));
        }
        rep.train_seconds[model] = double(std::clock() - start) / CLOCKS_PER_SEC;
    }
    rep.at[kPopularity].assign(budgets.size(), p.popularity);
    if (p.oracle) rep.at[kOracle].assign(budgets.size(), *p.oracle);
    return rep;
}

inline void check_options(const Options& o) {   // clear errors for impossible settings (the generator checks its own)
    if (o.worlds < 1 || o.batch < 1 || o.epochs < 1 || !(o.lr > 0) || o.k < 1 || o.model.max_len < 2 || o.model.dim < 1 ||
        o.model.heads < 1 || o.model.dim % o.model.heads != 0 || !(o.mask_prob > 0 && o.mask_prob <= 1) || o.model.dropout < 0 ||
        o.model.dropout >= 1 || o.negatives < 1 || o.negatives > o.data.num_items / 2)
        throw std::invalid_argument("ch61: need worlds, batch, epochs, k >= 1, lr > 0, T >= 2, dim a multiple of heads, rho in "
                                    "(0, 1], dropout in [0, 1), negatives in [1, num_items / 2]");
}

// Main and control cells on the same world seeds: fresh data and initialisation per world; with
// `real` (--data) the main cell only, on that data set, a "world" being a fresh initialisation.
inline Results run_experiment(const Options& o, const datasets::NextItemSplit* real = nullptr) {
    check_options(o);
    Results r;
    r.real = real != nullptr;
    for (int cell = 0; cell < (o.control && !real ? 2 : 1); ++cell)
        for (int w = 0; w < o.worlds; ++w) {
            const uint64_t seed = replicate_seed(o.seed, w);
            const double order = cell ? o.control_order : o.data.order_strength;   // the control world: order carries no signal
            const Protocol p = real ? real_protocol(*real, o.model.max_len, o.negatives, o.k, o.seed)
                                    : world_protocol(o.data, order, seed, o.negatives, o.k);
            (cell ? r.control : r.main).push_back(run_world(o, p, cell == 1, seed));
            if (o.verbose) std::fprintf(stderr, "%s %d/%d done\n", real ? "seed" : cell ? "control world" : "main world", w + 1, o.worlds);
        }
    return r;
}

// The claims: per-world paired differences a - b of one metric after budgets[i] epochs (> 0: a is better).
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    const std::string k = std::to_string(o.k);
    const std::vector<int> budgets = o.budgets();
    const size_t last = budgets.size() - 1;
    const std::string at_last = " at " + std::to_string(budgets[last]) + " epochs";
    for (int cell = 0; cell < (o.control ? 2 : 1); ++cell) {
        const std::vector<WorldRun>& runs = cell ? r.control : r.main;
        auto add = [&](const std::string& claim, const std::string& paper, int a, int b, size_t i, double Scores::*f) {
            if (runs.empty() || runs[0].at[a].empty() || runs[0].at[b].empty()) return;   // not trained
            Claim x{claim, cell ? "control" : "main", paper, {}, o.margin};
            for (const WorldRun& w : runs) x.diffs.push_back(w.at[a][i].*f - w.at[b][i].*f);
            c.add(x);
        };
        const std::string vs = "BERT4Rec beats the left-to-right model (SASRec loss): ", ndcg = "Table 2: NDCG@10 +14.0% Beauty, "
            "+5.3% Steam, +10.3% ML-1m, +14.5% ML-20m vs SASRec", hr = "Table 2: HR@10 +14.0% Beauty, +6.1% Steam, +5.1% ML-1m, +4.7% ML-20m vs SASRec";
        for (size_t i = 0; i < budgets.size(); ++i) {
            const std::string at = " at " + std::to_string(budgets[i]) + " epochs";
            add(vs + "NDCG@" + k + at, ndcg, kBert4Rec, kSASRec, i, &Scores::ndcg);
            add(vs + "HR@" + k + at, hr, kBert4Rec, kSASRec, i, &Scores::hr);
        }
        if (r.real) add(vs + "NDCG@" + k + " over all items" + at_last, "not reported (sampled only)", kBert4Rec, kSASRec, last, &Scores::ndcg_full);
        add("(not the paper's) BERT4Rec beats the left-to-right model with the full softmax: NDCG@" + k + at_last,
            "not reported", kBert4Rec, kCausal, last, &Scores::ndcg);
        add("the Cloze task beats masking only the last item: NDCG@" + k + at_last,
            "Table 3: NDCG@10 0.1862 vs 0.1769 Beauty, 0.4818 vs 0.4696 ML-1m", kBert4Rec, kLastOnly, last, &Scores::ndcg);
        add("BERT4Rec beats popularity: NDCG@" + k + at_last, "POP column not found in the primary text", kBert4Rec,
            kPopularity, last, &Scores::ndcg);
    }
    if (r.real) return c;
    bool below = true;
    for (const WorldRun& x : r.main) below = below && x.at[kBert4Rec][last].ndcg <= x.at[kOracle][last].ndcg;
    auto ndcg = [&](int m) { return num("%.4f", mean_over(r.main, [&](const WorldRun& x) { return x.at[m][last].ndcg; })); };
    c.add_sanity("BERT4Rec below the oracle (the generator's distribution) in every main world", below,
                 "NDCG@" + k + " " + ndcg(kBert4Rec) + " vs " + ndcg(kOracle));
    return c;
}

}  // namespace ch61
}  // namespace minirec
