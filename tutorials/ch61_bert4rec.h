// Chapter 61's experiment as a function: synthetic item sequences (datasets/sequences.h), a
// leave-one-out split (the last item of each user is the test target), and five rankers of the
// target - BERT4Rec (bidirectional, Cloze); the same network trained left to right (causal mask,
// next item at every position) with SASRec's loss (one sampled negative) or with the full
// softmax; BERT4Rec trained on the last position only; and popularity -
// scored by HR@10 / NDCG@10 against 100 negatives sampled by popularity (as the paper) and over
// all items. Printing and pictures live in ch61_bert4rec.cpp.
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
#include "datasets/sequences.h"
#include "models/ch61_bert4rec.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch61 {

enum Model { kBert4Rec, kSASRec, kCausal, kLastOnly, kPopularity, kNumModels };
const int kNumTrained = 4;   // every model before kPopularity is a trained transformer
const char* const kModelNames[] = {"BERT4Rec (bidirectional, Cloze)", "left-to-right, SASRec loss (1 negative)",
                                   "left-to-right, full softmax", "BERT4Rec, last item masked only", "popularity"};

struct StudyOptions {
    datasets::SequenceOptions data;     // the world; its seed is set per replicate
    int replicates = 2;                 // independent worlds, seeds derived from `seed`
    int epochs = 40;
    int batch = 128;
    double lr = 1e-3;                   // Adam
    Bert4RecOptions model;              // num_items is filled in from the data
    double mask_prob = 0.4;             // rho, the Cloze masking proportion (the paper tunes it in 0.1-0.9)
    double last_only_prob = 0.1;        // share of Cloze samples that mask only the last item (Sec. 3.6)
    int negatives = 100;                // sampled by popularity, as the paper
    int k = 10;                         // HR@k, NDCG@k
    int eval_every = 5;                 // epochs between points of the NDCG-during-training curve (0: none)
    bool train[kNumTrained] = {true, true, true, true};   // which transformers to train (tests skip some)
    uint64_t seed = 42;
    bool verbose = true;
    StudyOptions() {
        data.num_users = 800;
        data.num_items = 400;
        data.num_interests = 20;
        data.sessions_per_user = 4;
        data.min_session_length = 3;
        data.max_session_length = 7;
        data.order_strength = 0.5;
        data.search_prob = data.coupon_prob = 0.0;
        model.max_len = 20;
        model.dim = 32;
        model.heads = 2;
        model.layers = 2;
        model.dropout = 0.1f;
    }
};

// Ranking quality of one model in one world (means over users).
struct Scores {
    double hr = 0, ndcg = 0, mrr = 0;            // against the sampled negatives
    double hr_full = 0, ndcg_full = 0;           // against every item
};

struct Replicate {
    Scores s[kNumModels];
    Scores oracle;                               // the generator's true next-item distribution
    std::vector<double> loss_curve[kNumTrained];  // per epoch, the trained models
    std::vector<double> ndcg_curve[kNumTrained];  // sampled NDCG@k after every eval_every epochs
    double train_seconds[kNumTrained] = {};    // processor seconds, training (with its evaluations)
};

struct StudyReport {
    std::vector<Replicate> reps;
    double seconds = 0.0;
    double mean(int model, double Scores::*f) const {
        return mean_over(reps, [&](const Replicate& r) { return r.s[model].*f; });
    }
    double min_gap(int a, int b, double Scores::*f) const {
        return min_over(reps, [&](const Replicate& r) { return r.s[a].*f - r.s[b].*f; });
    }
};

// One user's data: items as tokens (1..N), the last one held out.
struct UserSeq {
    Ids train;          // tokens, oldest first
    int target = 0;     // token
    int interest = 0;   // ground truth: the interest of the target's session
    int prev_item = -1; // the item before the target in the same session (-1 at a session start)
};

inline std::vector<UserSeq> split_users(const datasets::SequenceData& d, const Vocab& v) {
    std::vector<UserSeq> out;
    for (const std::vector<datasets::Event>& ev : d.events) {
        std::vector<const datasets::Event*> items;
        for (const datasets::Event& e : ev)
            if (e.item >= 0) items.push_back(&e);
        if (items.size() < 3) continue;
        UserSeq u;
        for (size_t i = 0; i + 1 < items.size(); ++i) u.train.push_back(v.item(items[i]->item));
        const datasets::Event& t = *items.back();
        u.target = v.item(t.item);
        u.interest = t.interest;
        const datasets::Event& p = *items[items.size() - 2];
        u.prev_item = p.session == t.session ? p.item : -1;
        out.push_back(u);
    }
    return out;
}

// The batch of users `rows` for one trained model: Cloze samples (Sec. 3.6; the last item only for
// kLastOnly), or next-item samples for the left-to-right models (with a negative for SASRec's loss).
inline Batch make_batch(int model, const std::vector<UserSeq>& users, const std::vector<int>& rows, const Vocab& v,
                        int T, const StudyOptions& o, Rng& rng) {
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

// Leave-one-out scores of one model from its logits over the vocabulary (users, V): the target
// against `negatives[u]` (sampled) and against every item.
inline Scores score(const std::vector<UserSeq>& users, const std::vector<Ids>& negatives, int k,
                    const std::vector<std::vector<float>>& logits) {
    Scores s;
    const double n = double(users.size());
    for (size_t u = 0; u < users.size(); ++u) {
        const std::vector<float>& z = logits[u];
        std::vector<float> cand = {z[size_t(users[u].target)]};
        for (int j : negatives[u]) cand.push_back(z[size_t(j)]);
        const int r = rank_of(cand, 0);
        s.hr += (r < k) / n;
        s.ndcg += (r < k ? 1.0 / std::log2(r + 2.0) : 0.0) / n;
        s.mrr += 1.0 / (r + 1.0) / n;
        std::vector<float> all(z.begin() + 1, z.end() - 1);     // items 1..N only
        const int rf = rank_of(all, users[u].target - 1);
        s.hr_full += (rf < k) / n;
        s.ndcg_full += (rf < k ? 1.0 / std::log2(rf + 2.0) : 0.0) / n;
    }
    return s;
}

inline std::vector<std::vector<float>> rows_of(const Tensor& t) {
    std::vector<std::vector<float>> out;
    const size_t V = size_t(t.dim(1));
    for (int r = 0; r < t.dim(0); ++r) out.emplace_back(t.data() + size_t(r) * V, t.data() + size_t(r + 1) * V);
    return out;
}

// Trains one model for o.epochs; fills the loss per epoch and, every eval_every epochs, the
// sampled NDCG@k of the next-item task. The loop is written out.
inline void train_model(Bert4Rec& m, int model, const std::vector<UserSeq>& users, const std::vector<Ids>& negatives,
                        const StudyOptions& o, Rng& rng, std::vector<double>* loss_curve, std::vector<double>* ndcg_curve) {
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int T = m.options.max_len;
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        double total = 0.0;
        int n = 0;
        for (const std::vector<int>& rows : make_batches(int(users.size()), o.batch, rng)) {
            const Batch b = make_batch(model, users, rows, m.vocab, T, o, rng);
            const Var loss = model == kSASRec ? sasrec_loss(m, b.tokens, b.positions, b.labels, b.negatives)
                                              : cloze_loss(m, b.tokens, b.positions, b.labels);   // eq. 8
            adam.zero_grad();
            backward(loss);
            adam.step();
            check_finite(loss.item(), ++step);
            total += loss.item();
            ++n;
        }
        loss_curve->push_back(total / n);
        if (o.eval_every > 0 && (epoch + 1) % o.eval_every == 0)
            ndcg_curve->push_back(score(users, negatives, o.k, rows_of(next_item_logits(m, users))).ndcg);
    }
}

inline Replicate run_replicate(const StudyOptions& o, uint64_t seed) {
    datasets::SequenceOptions dopt = o.data;
    dopt.seed = seed;
    const datasets::SequenceData d = datasets::sequences(dopt);
    const Vocab v{d.num_items};
    const std::vector<UserSeq> users = split_users(d, v);

    // Popularity = training counts; 100 negatives per user drawn by popularity, never an item
    // the user has interacted with (as the paper's evaluation).
    std::vector<double> count(size_t(v.size()), 0.0);
    for (const UserSeq& u : users)
        for (int t : u.train) count[size_t(t)] += 1.0;
    std::vector<double> weight(count.begin() + 1, count.end() - 1);   // items 0..N-1
    for (double& w : weight) w += 1e-3;                                // every item can be drawn
    const datasets::Discrete pop(weight);
    Rng neg_rng(splitmix64(seed + 11));
    std::vector<Ids> negatives;
    for (const UserSeq& u : users) {
        std::vector<char> seen(size_t(v.size()), 0);
        for (int t : u.train) seen[size_t(t)] = 1;
        seen[size_t(u.target)] = 1;
        Ids neg;
        while (int(neg.size()) < o.negatives) {
            const int tok = v.item(pop.sample(neg_rng));
            if (!seen[size_t(tok)]) seen[size_t(tok)] = 1, neg.push_back(tok);
        }
        negatives.push_back(neg);
    }

    Replicate rep;
    for (int model = 0; model < kNumTrained; ++model) {
        if (!o.train[model]) continue;
        Bert4RecOptions mo = o.model;
        mo.num_items = d.num_items;
        mo.causal = model == kCausal || model == kSASRec;
        Rng rng(splitmix64(seed + 100 + uint64_t(model)));
        Bert4Rec m(mo, rng);
        const std::clock_t start = std::clock();   // processor time: the machine may be shared
        train_model(m, model, users, negatives, o, rng, &rep.loss_curve[model], &rep.ndcg_curve[model]);
        rep.train_seconds[model] = double(std::clock() - start) / CLOCKS_PER_SEC;
        rep.s[model] = score(users, negatives, o.k, rows_of(next_item_logits(m, users)));
    }
    std::vector<std::vector<float>> pop_logits(users.size(), std::vector<float>(count.begin(), count.end()));
    rep.s[kPopularity] = score(users, negatives, o.k, pop_logits);
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
inline void check_options(const StudyOptions& o) {
    auto fail = [](const std::string& what) { throw std::invalid_argument("ch61: " + what); };
    if (o.replicates < 1 || o.epochs < 1 || o.batch < 1) fail("replicates, epochs and batch must be >= 1");
    if (!(o.lr > 0)) fail("lr must be > 0");
    if (o.model.max_len < 2) fail("max_len (T) must be >= 2");
    if (o.model.dim < 1 || o.model.heads < 1 || o.model.dim % o.model.heads != 0)
        fail("dim must be a positive multiple of heads");
    if (!(o.mask_prob > 0 && o.mask_prob <= 1)) fail("mask_prob (rho) must be in (0, 1]");
    if (o.model.dropout < 0 || o.model.dropout >= 1) fail("dropout must be in [0, 1)");
    if (o.negatives < 1 || o.negatives > o.data.num_items / 2) fail("negatives must be in [1, num_items / 2]");
    if (o.k < 1) fail("k must be >= 1");
}

inline StudyReport run_study(const StudyOptions& o) {
    check_options(o);
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.replicates; ++r) {
        rep.reps.push_back(run_replicate(o, replicate_seed(o.seed, r)));
        const Replicate& x = rep.reps.back();
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: NDCG@%d BERT4Rec %.4f  SASRec loss %.4f  full softmax %.4f  last-only %.4f  "
                         "popularity %.4f  (oracle %.4f)\n", r + 1, o.replicates, o.k, x.s[kBert4Rec].ndcg,
                         x.s[kSASRec].ndcg, x.s[kCausal].ndcg, x.s[kLastOnly].ndcg, x.s[kPopularity].ndcg, x.oracle.ndcg);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch61
}  // namespace minirec
