// Chapter 52's experiment: on synthetic logs of clicks and searches whose next action depends on a
// click *and* a search in the same session, and on recency (datasets/ch52_atrank_world.h), four user
// encoders (mean pooling, GRU, candidate attention, ATRank) trained together on the same batches;
// held-out AUC paired per world, main and control; or (--data) MovieLens-100k's next item.
// Deliberately left out: the paper's Amazon and Taobao data, coupons, multi-task.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
#include "datasets/ch52_atrank_world.h"
#include "models/ch52_atrank.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch52 {

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

struct WorldResult {
    HeldOutScores test[kNumModels];   // AUC against the noisy labels and the rule, mean prediction per candidate kind
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
    std::vector<float> p;
    Rng unused;
    for (const std::vector<int>& rows : make_batches(int(ex.size()), 1020, unused, /*shuffle=*/false)) {
        const Tensor z = m.probabilities(model, gather<BehaviourBatch>(w, ex, rows));
        p.insert(p.end(), z.data(), z.data() + z.size());
    }
    return p;
}

// The encoders for w's vocabulary, trained together on w.train, batches of o.batch training histories
// with all their candidates (the sum of their losses, one Adam; each encoder's gradient is its own loss's).
inline Models trained_models(const Options& o, const World& w, uint64_t seed, int actions = 2) {
    Rng rng(splitmix64(seed + 11));
    Models m(o.sizes.for_vocabulary(w.items(), w.options.categories, w.options.time_buckets, actions), rng);
    Adam adam(vars_of(m.named_parameters()), AdamOptions{o.lr});
    const std::vector<std::vector<int>> rows_of_user = train_rows_by_history(w);   // a user's training examples
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& users : make_batches(w.options.train_histories, o.batch, rng)) {
            const BehaviourBatch b = gather<BehaviourBatch>(w, w.train, rows_of(rows_of_user, users));   // the users' examples
            const Var loss = m.loss(b, o.train_model);                                           // the sum of the models' losses
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
    WorldResult r;
    for (int model = 0; model < kNumModels; ++model)
        if (o.train_model[size_t(model)]) r.test[model] = held_out_scores(w, predict(m, model, w, w.test));
    if (o.train_model[kATRank]) {   // where ATRank's searched clicks look: one held-out history per positive candidate, up to 512
        const std::vector<int> rows = first_of_kind(w.test, kSearchedRecent, 512);
        const BehaviourBatch b = gather<BehaviourBatch>(w, w.test, rows);   // one row per user: U = B
        search_attention_shares(w, w.test, rows, m.atrank_attention(b).mean_self(), b.T, &r.self_to_own_query, &r.self_to_other_query);
    }
    return r;
}

// real (--data): o.worlds seeds on MovieLens-100k instead (they differ only in initialisation and batch order), each
// user's test item ranked by datasets/next_item.h's protocol; the sampled negatives are drawn once, from o.seed.
inline Results run_experiment(const Options& o, const RealLogs* real = nullptr) {
    Results res;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Ids> negatives = real ? datasets::popularity_negatives(real->split, 100, o.seed) : std::vector<Ids>{};
    res.real.resize(real ? kNumModels + 1 : 0);   // [model][seed]; [kNumModels]: popularity
    for (int i = 0; real && i < o.worlds; ++i) {
        Models m = trained_models(o, real->train, replicate_seed(o.seed, i), 4);
        for (int model = 0; model <= kNumModels; ++model)   // an encoder the options skip gets an empty Quality
            res.real[size_t(model)].push_back(model < kNumModels && !o.train_model[size_t(model)] ? Quality{}
                : datasets::evaluate_next_item(real->split, negatives, datasets::Target::test, 10, model == kNumModels
                ? datasets::popularity_scorer(real->split) : datasets::UserScores([&](size_t first, int count, std::vector<float>& z) {
                      z = predict(m, model, real->test, every_item(first, count, real->train.items()));
                  })));
        if (o.verbose)
            std::fprintf(stderr, "seed %d/%d: ATRank's full NDCG@10 %.4f\n", i + 1, o.worlds, res.real[kATRank].back().ndcg_full);
    }
    for (int c = 0; c < (real ? 0 : o.control ? 2 : 1); ++c)
        for (int i = 0; i < o.worlds; ++i) {
            (c ? res.control : res.main).push_back(run_world(o, replicate_seed(o.seed, i), c == 1));
            const HeldOutScores* x = (c ? res.control : res.main).back().test;
            if (o.verbose) std::fprintf(stderr, "%s world %d/%d: AUC mean %.4f  GRU %.4f  cand-att %.4f  ATRank %.4f\n", c ? "control" : "main",
                                        i + 1, o.worlds, x[kMean].auc, x[kGru].auc, x[kTargetAttention].auc, x[kATRank].auc);
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
            for (const WorldResult& x : c ? r.control : r.main) claim.diffs.push_back(x.test[kATRank].auc - x.test[b].auc);
            for (size_t s = 0; real && s < r.real[kATRank].size(); ++s)
                claim.diffs.push_back(c ? r.real[kATRank][s].ndcg_full - r.real[size_t(b)][s].ndcg_full : r.real[kATRank][s].ndcg - r.real[size_t(b)][s].ndcg);
            claims.add(claim);
        }
    return claims;
}

}  // namespace ch52
}  // namespace minirec
