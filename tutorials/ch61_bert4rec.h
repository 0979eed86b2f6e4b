// Chapter 61's experiment as a function: synthetic item sequences (datasets/sequences.h), a
// leave-one-out split (the last item of each user is the test target), and five rankers of the
// target - BERT4Rec (bidirectional, Cloze); the same network trained left to right (causal mask,
// next item at every position) with SASRec's loss (one sampled negative) or with the full
// softmax; BERT4Rec trained on the last position only; and popularity -
// scored by HR@10 / NDCG@10 against 100 negatives sampled by popularity (as the paper) and over
// all items, after each of several budgets (epochs), in a main world (order_strength 0.5: the next
// item often follows a planted successor) and a control world where order carries no signal.
// judge() turns per-world paired differences into claims. Printing lives in ch61_bert4rec.cpp.
// Deliberately left out: a validation split and early stopping (fixed epochs), real data by default.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/sampling.h"
#include "datasets/ch61_leave_one_out.h"
#include "datasets/sequences.h"
#include "models/ch61_bert4rec.h"
#include "tutorials/common/claims.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch61 {

enum Model { kBert4Rec, kSASRec, kCausal, kLastOnly, kPopularity, kNumModels };
const int kNumTrained = 4;   // every model before kPopularity is a trained transformer
const char* const kModelNames[] = {"BERT4Rec (bidirectional, Cloze)", "left-to-right, SASRec loss (1 negative)",
                                   "left-to-right, full softmax", "BERT4Rec, last item masked only", "popularity"};

struct Options {
    datasets::SequenceOptions data;     // the main world; its seed is set per world
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
    Options() {
        data.num_users = 400, data.num_items = 400, data.num_interests = 20, data.sessions_per_user = 4;
        data.min_session_length = 3, data.max_session_length = 7, data.order_strength = 0.5;
        data.search_prob = data.coupon_prob = 0.0;
        model.max_len = 20, model.dim = 32, model.heads = 2, model.layers = 2, model.dropout = 0.1f;
    }
};

// The quick configuration, in one place: 2 worlds per cell of 300 users, budgets 4, 8, 16 epochs.
inline Options quick_options() {
    Options o;
    o.worlds = 2;
    o.data.num_users = 300;
    o.epochs = 16;
    return o;
}

struct WorldRun {
    std::vector<Scores> at[kNumModels];          // at[model][b]: scores after budgets[b] epochs
    Scores oracle;                               // the generator's true next-item distribution
    double train_seconds[kNumTrained] = {};      // processor seconds, training (with its evaluations)
};

struct Results {
    std::vector<WorldRun> main, control;
    double seconds = 0.0;
};

// The batch of users `rows` for one trained model: Cloze samples (Sec. 3.6; the last item only for
// kLastOnly), or next-item samples for the left-to-right models (with a negative for SASRec's loss).
inline Batch make_batch(int model, const std::vector<UserSeq>& users, const std::vector<int>& rows, const Vocab& v,
                        int T, const Options& o, Rng& rng) {
    Batch b;
    for (int r : rows) {
        const Ids& seq = users[size_t(r)].train;
        if (model == kCausal || model == kSASRec) add_next_item_sample(b, seq, v, T, model == kSASRec, rng);
        else if (model == kLastOnly) add_cloze_sample(b, seq, v, T, 0.0, 1.0, rng);
        else add_cloze_sample(b, seq, v, T, o.mask_prob, o.last_only_prob, rng);
    }
    return b;
}

// Logits (users, V) for the next item after each user's training sequence: BERT4Rec appends
// [mask] and reads that position; the causal model reads the last item's position.
inline Tensor next_item_logits(Bert4Rec& m, const std::vector<UserSeq>& users) {
    NoGrad no_grad;
    m.set_training(false);
    const int T = m.options.max_len;
    Ids tokens, positions;
    for (size_t u = 0; u < users.size(); ++u) {
        const Ids w = m.next_item_window(users[u].train);                  // (T)
        tokens.insert(tokens.end(), w.begin(), w.end());
        positions.push_back(int(u) * T + T - 1);
    }
    Tensor out = m.logits(m.encode(tokens), positions).value();
    m.set_training(true);
    return out;
}

// Trains one model for the largest budget, scoring it after each budget's epoch. The loop is written out.
inline void train_model(Bert4Rec& m, int model, const std::vector<UserSeq>& users, const std::vector<Ids>& negatives,
                        const Options& o, Rng& rng, std::vector<Scores>* at) {
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int T = m.options.max_len;
    long step = 0;
    at->assign(o.budgets().size(), Scores{});
    const std::vector<int> budgets = o.budgets();
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        for (const std::vector<int>& rows : make_batches(int(users.size()), o.batch, rng)) {
            const Batch b = make_batch(model, users, rows, m.vocab, T, o, rng);
            const Var loss = model == kSASRec ? sasrec_loss(m, b.tokens, b.positions, b.labels, b.negatives)
                                              : cloze_loss(m, b.tokens, b.positions, b.labels);   // eq. 8
            adam.zero_grad();
            backward(loss);
            adam.step();
            check_finite(loss.item(), ++step);
        }
        for (size_t i = 0; i < budgets.size(); ++i)
            if (budgets[i] == epoch) (*at)[i] = score(users, negatives, o.k, rows_of(next_item_logits(m, users)));
    }
}

// The control cell trains only BERT4Rec and the left-to-right model of the headline (time).
inline WorldRun run_world(const Options& o, bool control, uint64_t seed) {
    datasets::SequenceOptions dopt = o.data;
    if (control) dopt.order_strength = o.control_order;
    dopt.seed = seed;
    const datasets::SequenceData d = datasets::sequences(dopt);
    const Vocab v{d.num_items};
    const std::vector<UserSeq> users = split_users(d);

    std::vector<double> count;                                  // popularity = training counts
    const std::vector<Ids> negatives = popularity_negatives(users, v.size(), o.negatives, seed, &count);
    WorldRun rep;
    for (int model = 0; model < kNumTrained; ++model) {
        if (!o.train[model] || (control && model != kBert4Rec && model != kSASRec)) continue;
        Bert4RecOptions mo = o.model;
        mo.num_items = d.num_items;
        mo.causal = model == kCausal || model == kSASRec;
        Rng rng(splitmix64(seed + 100 + uint64_t(model)));
        Bert4Rec m(mo, rng);
        const std::clock_t start = std::clock();   // processor time: the machine may be shared
        train_model(m, model, users, negatives, o, rng, &rep.at[model]);
        rep.train_seconds[model] = double(std::clock() - start) / CLOCKS_PER_SEC;
    }
    std::vector<std::vector<float>> pop_logits(users.size(), std::vector<float>(count.begin(), count.end()));
    rep.at[kPopularity].assign(o.budgets().size(), score(users, negatives, o.k, pop_logits));
    std::vector<std::vector<float>> truth;
    for (const UserSeq& u : users) {
        const std::vector<float> p = datasets::next_item_distribution(d, u.interest, u.prev_item);
        std::vector<float> z(size_t(v.size()), -1.0f);
        for (int i = 0; i < d.num_items; ++i) z[size_t(v.item(i))] = p[size_t(i)];
        truth.push_back(z);
    }
    rep.oracle = score(users, negatives, o.k, truth);
    return rep;
}

// Clear errors for impossible settings (the data generator checks its own options).
inline void check_options(const Options& o) {
    auto fail = [](const std::string& what) { throw std::invalid_argument("ch61: " + what); };
    if (o.worlds < 1 || o.batch < 1 || o.epochs < 1 || !(o.lr > 0)) fail("worlds, batch, epochs >= 1 and lr > 0");
    if (o.model.max_len < 2) fail("max_len (T) must be >= 2");
    if (o.model.dim < 1 || o.model.heads < 1 || o.model.dim % o.model.heads != 0)
        fail("dim must be a positive multiple of heads");
    if (!(o.mask_prob > 0 && o.mask_prob <= 1)) fail("mask_prob (rho) must be in (0, 1]");
    if (o.model.dropout < 0 || o.model.dropout >= 1) fail("dropout must be in [0, 1)");
    if (o.negatives < 1 || o.negatives > o.data.num_items / 2) fail("negatives must be in [1, num_items / 2]");
    if (o.k < 1) fail("k must be >= 1");
}

// Main and control cells on the same world seeds: fresh data and initialisation per world.
inline Results run_experiment(const Options& o) {
    check_options(o);
    Results r;
    const auto start = std::chrono::steady_clock::now();
    for (int cell = 0; cell < (o.control ? 2 : 1); ++cell)
        for (int w = 0; w < o.worlds; ++w) {
            const WorldRun x = run_world(o, cell == 1, replicate_seed(o.seed, w));
            (cell ? r.control : r.main).push_back(x);
            if (o.verbose)
                std::fprintf(stderr, "%s world %d/%d: NDCG@%d after %d epochs: BERT4Rec %.4f, left-to-right %.4f\n",
                             cell ? "control" : "main", w + 1, o.worlds, o.k, o.epochs, x.at[kBert4Rec].back().ndcg,
                             x.at[kSASRec].empty() ? 0.0 : x.at[kSASRec].back().ndcg);
        }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

// Per-world paired differences a - b of one metric after budgets[i] epochs (> 0: a is better).
inline std::vector<double> diffs(const std::vector<WorldRun>& runs, int a, int b, size_t i, double Scores::*f) {
    std::vector<double> d;
    for (const WorldRun& x : runs) d.push_back(x.at[a][i].*f - x.at[b][i].*f);
    return d;
}

inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    const std::string k = std::to_string(o.k);
    const std::vector<int> budgets = o.budgets();
    const size_t last = budgets.size() - 1;
    const std::string at_last = " at " + std::to_string(budgets[last]) + " epochs";
    for (int cell = 0; cell < (o.control ? 2 : 1); ++cell) {
        const std::vector<WorldRun>& runs = cell ? r.control : r.main;
        const std::string world = cell ? "control" : "main";
        auto add = [&](const std::string& claim, const std::string& paper, int a, int b, size_t i, double Scores::*f) {
            if (runs.empty() || runs[0].at[a].empty() || runs[0].at[b].empty()) return;   // not trained
            Claim x{claim, world, paper, diffs(runs, a, b, i, f), o.margin};
            c.add(x);
        };
        for (size_t i = 0; i < budgets.size(); ++i) {
            const std::string at = " at " + std::to_string(budgets[i]) + " epochs";
            add("BERT4Rec beats the left-to-right model (SASRec loss): NDCG@" + k + at,
                "Table 2: NDCG@10 +14.0% Beauty, +5.3% Steam, +10.3% ML-1m, +14.5% ML-20m vs SASRec", kBert4Rec, kSASRec, i,
                &Scores::ndcg);
            add("BERT4Rec beats the left-to-right model (SASRec loss): HR@" + k + at,
                "Table 2: HR@10 +14.0% Beauty, +6.1% Steam, +5.1% ML-1m, +4.7% ML-20m vs SASRec", kBert4Rec, kSASRec, i,
                &Scores::hr);
        }
        add("(not the paper's) BERT4Rec beats the left-to-right model with the full softmax: NDCG@" + k + at_last,
            "not reported", kBert4Rec, kCausal, last, &Scores::ndcg);
        add("the Cloze task beats masking only the last item: NDCG@" + k + at_last,
            "Table 3: NDCG@10 0.1862 vs 0.1769 Beauty, 0.4818 vs 0.4696 ML-1m", kBert4Rec, kLastOnly, last, &Scores::ndcg);
        add("BERT4Rec beats popularity: NDCG@" + k + at_last, "POP column not found in the primary text", kBert4Rec,
            kPopularity, last, &Scores::ndcg);
    }
    bool below = true;
    for (const WorldRun& x : r.main) below = below && x.at[kBert4Rec][last].ndcg <= x.oracle.ndcg;
    c.add_sanity("BERT4Rec below the oracle (the generator's distribution) in every main world", below,
                 "NDCG@" + k + " " + num("%.4f", mean_over(r.main, [&](const WorldRun& x) { return x.at[kBert4Rec][last].ndcg; })) +
                     " vs " + num("%.4f", mean_over(r.main, [](const WorldRun& x) { return x.oracle.ndcg; })));
    return c;
}

}  // namespace ch61
}  // namespace minirec
