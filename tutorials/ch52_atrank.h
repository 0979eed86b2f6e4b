// Chapter 52's experiment: on synthetic logs of clicks and searches whose next action depends on a
// click *and* a search in the same session, and on recency (datasets/ch52_atrank_world.h), four user
// encoders (mean pooling, GRU, candidate attention, ATRank) trained together on the same batches;
// held-out AUC paired per world, main and control; or (--data) MovieLens-100k's next item.
// Deliberately left out: the paper's Amazon and Taobao data, coupons, multi-task.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
#include "datasets/ch52_atrank_world.h"
#include "models/ch52_atrank.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch52 {

// Examples as model input: their users' histories, left-aligned and padded to the longest, and the
// candidates. Consecutive examples of one user share her history (U <= B).
inline BehaviourBatch gather(const World& w, const std::vector<Example>& examples, const std::vector<int>& rows) {
    BehaviourBatch b;
    std::vector<int> users;  // history ids, one per run of examples of the same user
    std::vector<float> labels;
    for (int r : rows) {
        const Example& e = examples[size_t(r)];
        if (users.empty() || users.back() != e.history) users.push_back(e.history);
        b.user.push_back(int(users.size()) - 1);
        b.candidate.push_back(e.candidate);
        b.candidate_category.push_back(w.category_of(e.candidate));
        labels.push_back(e.label);
    }
    b.U = int(users.size()), b.B = int(rows.size());
    for (int u : users) b.T = std::max(b.T, int(w.histories[size_t(u)].size()));
    const size_t n = size_t(b.U) * size_t(b.T);
    for (Ids* v : {&b.item, &b.item_category, &b.action, &b.query_category, &b.time_bucket}) v->assign(n, 0);
    b.is_item = Tensor({b.U, b.T, 1}), b.is_query = Tensor({b.U, b.T, 1}), b.key_mask = Tensor({b.U, 1, b.T});
    for (int i = 0; i < b.U; ++i) {
        const std::vector<Behaviour>& h = w.histories[size_t(users[size_t(i)])];
        for (size_t t = 0; t < h.size(); ++t) {
            const size_t p = size_t(i) * size_t(b.T) + t;
            b.time_bucket[p] = time_bucket(w.options, h[t].age_hours), b.key_mask[p] = 1.0f;
            if (h[t].is_query) b.query_category[p] = h[t].category, b.is_query[p] = 1.0f;
            else b.item[p] = h[t].item, b.item_category[p] = h[t].category, b.action[p] = h[t].action, b.is_item[p] = 1.0f;
        }
        b.lengths.push_back(int(h.size()));
    }
    b.label = Tensor({b.B, 1}, labels);
    b.candidate_mask = per_candidate(constant(b.key_mask), b).value();   // (B, 1, T)
    return b;
}

enum Model { kMean, kGru, kTargetAttention, kATRank, kNumModels };
const char* const kModelNames[] = {"mean pooling", "GRU", "candidate attention (no self-attention)", "ATRank"};

// The default run: 6 worlds per cell (main and control), 1,500 training users each, 10 epochs.
struct Options {
    WorldOptions world;
    Sizes sizes;
    int worlds = 6, epochs = 10, batch = 11;   // batch: users per mini-batch, with their 6 candidates each (66 examples)
    double lr = 0.005;
    uint64_t seed = 42;
    bool control = true, verbose = true;   // control: also run the control world (no behaviour-to-behaviour link)
    std::vector<bool> train_model = {true, true, true, true};   // which encoders to train (tests skip some)
    Options() { world.train_histories = 1500, world.test_histories = 500; }
};

// The quick run: 3 worlds of 500 users, 6 epochs -- too short for verdicts (ATRank often misses the link).
inline Options quick_options() {
    Options o;
    o.worlds = 3, o.epochs = 6, o.world.train_histories = 500, o.world.test_histories = 300;
    return o;
}

// The four encoders in one struct, so one loop trains them on the same batches.
struct Models {
    MeanPooling mean;  GruEncoder gru;  TargetAttention target;  ATRank atrank;
    Models(const Sizes& s, Rng& rng) : mean(s, rng), gru(s, rng), target(s, rng), atrank(s, rng) {}
    Var logits(int model, const BehaviourBatch& b, AttentionMaps* maps = nullptr) {
        return model == kMean ? mean.logits(b) : model == kGru ? gru.logits(b)
             : model == kTargetAttention ? target.logits(b, maps) : atrank.logits(b, maps);
    }
    NamedParams named_parameters() const {
        NamedParams p = mean.named_parameters();
        for (const NamedParams& q : {gru.named_parameters(), target.named_parameters(), atrank.named_parameters()}) append(p, q);
        return p;
    }
};

struct WorldResult {
    double auc[kNumModels] = {};                     // held-out AUC against the noisy labels
    double truth_auc[kNumModels] = {};               // against the rule itself
    double mean_score[kNumModels][kNumKinds] = {};   // mean predicted probability per candidate kind
    double self_to_own_query = 0.0, self_to_other_query = 0.0;   // ATRank: searched clicks' attention on their search, others
};

using Quality = datasets::NextItemQuality;
struct Results {
    std::vector<WorldResult> main, control;   // world w of each uses the seed replicate_seed(seed, w)
    std::vector<std::vector<Quality>> real;   // --data: [model][seed], [kNumModels] is popularity
    double seconds = 0.0;
};

// Predicted probabilities of one model on a set of examples, 1,020 at a time (170 users).
inline std::vector<float> predict(Models& m, int model, const World& w, const std::vector<Example>& ex) {
    NoGrad no_grad;
    std::vector<float> p;
    Rng unused;
    for (const std::vector<int>& rows : make_batches(int(ex.size()), 1020, unused, /*shuffle=*/false)) {
        const Tensor z = sigmoid(m.logits(model, gather(w, ex, rows))).value();
        p.insert(p.end(), z.data(), z.data() + z.size());
    }
    return p;
}

// ATRank's self-attention, averaged over the K spaces: how much a click in a searched session looks
// at its own session's search, and at the other searches of the history (each as a share of 1).
// One held-out history per positive candidate, up to 512 histories.
inline void self_attention_shares(Models& m, const World& w, double* own, double* other) {
    NoGrad no_grad;
    std::vector<int> rows;
    for (size_t i = 0; i < w.test.size() && rows.size() < 512; ++i)
        if (w.test[i].kind == kSearchedRecent && (rows.empty() || w.test[size_t(rows.back())].history != w.test[i].history)) rows.push_back(int(i));
    const BehaviourBatch b = gather(w, w.test, rows);   // one row per user: U = B
    AttentionMaps maps;
    m.atrank.logits(b, &maps);
    double own_sum = 0.0, other_sum = 0.0, clicks = 0.0;
    for (int i = 0; i < b.U; ++i) {
        const std::vector<Behaviour>& h = w.histories[size_t(w.test[size_t(rows[size_t(i)])].history)];
        for (size_t t = 0; t < h.size(); ++t) {   // only clicks that have a search in their session (one at most)
            if (h[t].is_query || std::none_of(h.begin(), h.end(), [&](const Behaviour& q) { return q.is_query && q.session == h[t].session; }))
                continue;
            for (size_t q = 0; q < h.size(); ++q) {
                double a = 0.0;
                for (const Var& A : maps.self) a += A.value()[(size_t(i) * b.T + t) * b.T + q] / double(maps.self.size());
                if (h[q].is_query) (h[q].session == h[t].session ? own_sum : other_sum) += a;
            }
            ++clicks;
        }
    }
    *own = own_sum / std::max(1.0, clicks), *other = other_sum / std::max(1.0, clicks);
}

// The encoders for w's vocabulary, trained together on w.train, batches of o.batch training histories
// with all their candidates (the sum of their losses, one Adam; each encoder's gradient is its own loss's).
inline Models trained_models(const Options& o, const World& w, uint64_t seed, int actions = 2) {
    Sizes s = o.sizes;
    s.items = w.items(), s.categories = w.options.categories, s.time_buckets = w.options.time_buckets, s.actions = actions;
    Rng rng(splitmix64(seed + 11));
    Models m(s, rng);
    Adam adam(vars_of(m.named_parameters()), AdamOptions{o.lr});
    std::vector<std::vector<int>> rows_of_user(size_t(w.options.train_histories));   // a user's training examples
    for (size_t i = 0; i < w.train.size(); ++i) rows_of_user[size_t(w.train[i].history)].push_back(int(i));
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& users : make_batches(w.options.train_histories, o.batch, rng)) {
            std::vector<int> rows;
            for (int u : users) rows.insert(rows.end(), rows_of_user[size_t(u)].begin(), rows_of_user[size_t(u)].end());
            const BehaviourBatch b = gather(w, w.train, rows);
            Var loss;                                      // the sum of the models' losses (from 0)
            for (int model = 0; model < kNumModels; ++model)
                if (o.train_model[size_t(model)]) loss = loss + bce_with_logits(m.logits(model, b), b.label);
            adam.zero_grad(), backward(loss), adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    return m;
}

// One world: the four encoders trained on the same batches, then scored on the held-out users.
inline WorldResult run_world(const Options& o, uint64_t seed, bool control) {
    WorldOptions wo = o.world;
    wo.seed = seed, wo.control = control;
    const World w = make_world(wo);
    Models m = trained_models(o, w, seed);
    std::vector<float> y_test, truth_test;
    for (const Example& e : w.test) y_test.push_back(e.label), truth_test.push_back(float(e.truth));
    WorldResult r;
    for (int model = 0; model < kNumModels; ++model) {
        if (!o.train_model[size_t(model)]) continue;
        const std::vector<float> p = predict(m, model, w, w.test);
        r.auc[model] = auc(p, y_test), r.truth_auc[model] = auc(p, truth_test);
        double count[kNumKinds] = {};
        for (size_t i = 0; i < p.size(); ++i) r.mean_score[model][w.test[i].kind] += p[i], count[w.test[i].kind] += 1.0;
        for (int k = 0; k < kNumKinds; ++k) r.mean_score[model][k] /= std::max(1.0, count[k]);
    }
    if (o.train_model[kATRank]) self_attention_shares(m, w, &r.self_to_own_query, &r.self_to_other_query);
    return r;
}

// --data, one seed (seeds differ only in initialisation and batch order): the encoders trained on the
// training logs, each user's test item ranked by datasets/next_item.h's protocol; [kNumModels]: popularity.
inline std::vector<Quality> run_real(const Options& o, const RealLogs& d, const std::vector<Ids>& negatives, uint64_t seed) {
    Models m = trained_models(o, d.train, seed, 4);
    const int N = d.train.items();
    std::vector<Quality> r(kNumModels + 1);
    for (int model = 0; model <= kNumModels; ++model)
        if (model == kNumModels || o.train_model[size_t(model)])
            r[size_t(model)] = datasets::evaluate_next_item(d.split, negatives, datasets::Target::test, 10, model == kNumModels
                ? datasets::popularity_scorer(d.split) : datasets::UserScores([&](size_t first, int count, std::vector<float>& z) {
                      std::vector<Example> ex;   // every item for each user
                      for (int u = 0; u < count * N; ++u) ex.push_back({int(first) + u / N, u % N});
                      z = predict(m, model, d.test, ex);
                  }));
    return r;
}

// real (--data): o.worlds seeds on MovieLens-100k instead; the sampled negatives are drawn once, from o.seed.
inline Results run_experiment(const Options& o, const RealLogs* real = nullptr) {
    Results res;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Ids> negatives = real ? datasets::popularity_negatives(real->split, 100, o.seed) : std::vector<Ids>{};
    for (int i = 0; real && i < o.worlds; ++i) {
        const std::vector<Quality> q = run_real(o, *real, negatives, replicate_seed(o.seed, i));
        res.real.resize(q.size());
        for (size_t m = 0; m < q.size(); ++m) res.real[m].push_back(q[m]);
        if (o.verbose) std::fprintf(stderr, "seed %d/%d: ATRank's full NDCG@10 %.4f\n", i + 1, o.worlds, q[kATRank].ndcg_full);
    }
    for (int c = 0; c < (real ? 0 : o.control ? 2 : 1); ++c)
        for (int i = 0; i < o.worlds; ++i) {
            (c ? res.control : res.main).push_back(run_world(o, replicate_seed(o.seed, i), c == 1));
            const WorldResult& x = (c ? res.control : res.main).back();
            if (o.verbose) std::fprintf(stderr, "%s world %d/%d: AUC mean %.4f  GRU %.4f  cand-att %.4f  ATRank %.4f\n", c ? "control" : "main",
                                        i + 1, o.worlds, x.auc[kMean], x.auc[kGru], x.auc[kTargetAttention], x.auc[kATRank]);
        }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

// The claims: ATRank's held-out AUC minus each baseline's, paired per world (> 0: ATRank better),
// with a practical margin of 0.005 AUC; in the main world and in the control world.
inline Claims judge(const Options& o, const Results& r) {
    Claims claims;
    const char* paper[] = {"— (not a baseline of the paper)", "abstract: beats RNN-based encoders (AUC numbers not found)",
                           "not found (the official code's RNN+attention is the nearest baseline)"};
    const bool real = !r.real.empty();   // --data: NDCG@10, sampled (c = 0) and full ranking (c = 1)
    for (int c = 0; c < (real || o.control ? 2 : 1); ++c)
        for (int b : {kGru, kTargetAttention, kMean}) {
            if (!o.train_model[size_t(b)] || !o.train_model[kATRank]) continue;
            Claim claim{std::string(real ? "ATRank's NDCG@10 above " : "ATRank's AUC above ") + kModelNames[b] + "'s",
                        real ? (c ? "ML-100k, full" : "ML-100k, sampled") : c ? "control" : "main",
                        real ? "not reported (the paper used Amazon and Taobao)" : c ? "—" : paper[b == kGru ? 1 : b == kMean ? 0 : 2],
                        {}, real ? 0.0 : 0.005, 4};
            for (const WorldResult& x : c ? r.control : r.main) claim.diffs.push_back(x.auc[kATRank] - x.auc[b]);
            for (size_t s = 0; real && s < r.real[kATRank].size(); ++s)
                claim.diffs.push_back(c ? r.real[kATRank][s].ndcg_full - r.real[size_t(b)][s].ndcg_full : r.real[kATRank][s].ndcg - r.real[size_t(b)][s].ndcg);
            claims.add(claim);
        }
    return claims;
}

}  // namespace ch52
}  // namespace minirec
