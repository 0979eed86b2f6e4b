// Chapter 56's experiment as functions: in independent worlds (datasets/ch56_click_log.h) four
// models that share one prediction subnet - DNN (L_p), DeepMP (+ matching), DeepCP (+ correlation),
// DeepMCP (all) - train from the same initial weights and batches; test AUC and logloss of the
// prediction subnet, overall and on rarely shown ads; Table 3's comparisons judged over worlds, in
// the main world and in a control world with no tail and no extra history. Printing lives in
// ch56_deepmcp.cpp. Deliberately left out: queries, text features, PNN/Wide&Deep/DeepFM baselines.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/rng.h"
#include "datasets/ch56_click_log.h"
#include "models/ch56_deepmcp.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch56 {

using World = datasets::McpWorld;
using WorldOptions = datasets::McpWorldOptions;

enum ModelId { kDNN, kDeepMP, kDeepCP, kDeepMCP, kNumModels };
const char* const kModelNames[] = {"DNN (prediction only)", "DeepMP (+ matching)", "DeepCP (+ correlation)",
                                   "DeepMCP (all three)"};

const char* const kWorlds[] = {"main", "control"};

struct Options {
    WorldOptions world;            // the main world; the control sets zipf = 0 and history = 0
    int worlds = 6;                // independent worlds per cell
    int epochs = 4;
    int batch = 256;
    double lr = 0.003;             // Adam
    double alpha = 0.5;            // weight of L_m (eq. 7)
    double beta = 0.5;             // weight of L_c (eq. 7)
    int window = 2;                // C, the skip-gram window (the paper's C = 2)
    int negatives = 4;             // Q (the paper's Q = 4)
    int tail_count = 20;           // ads with fewer training impressions than this are "rare"
    DeepMCPOptions model;          // vocabulary is filled in from the world
    double margin = 0.002;         // AUC: the paper's smallest reported step (DeepMCP over DeepMP) is 0.0010
    uint64_t seed = 42;
    bool quick = false;            // prints intervals, no verdicts
};

inline Options quick_options() {
    Options o;
    o.worlds = 2, o.world.n = 20000, o.epochs = 3, o.quick = true;
    return o;
}

struct Result {
    double auc = 0.0, logloss = 0.0, tail_auc = 0.0, head_auc = 0.0;
    double similarity = 0.0;        // how well ad-id embeddings reflect the planted ad vectors (datasets::embedding_similarity)
    double match_auc = NAN;         // test AUC of the matching score s(v_u, v_a) (models with matching)
};

struct WorldResult {
    Result models[kNumModels], oracle;
    double tail_share = 0.0;        // share of test rows showing a rare ad
};

struct Results { std::vector<WorldResult> cell[2]; };   // [main, control]

// Test scores of the prediction subnet and, when it trained, of the matching subnet itself (does it
// rank the test clicks?); and how well the learned ad-id embeddings reflect the planted ad vectors.
inline Result evaluate(DeepMCP& m, const World& w, int tail_count, bool matching, uint64_t seed) {
    NoGrad no_grad;
    const datasets::McpBatch b = datasets::test_batch(w);
    const std::vector<float> p = m.predict_ctr(b.rows);    // serving: the prediction subnet only
    Result r;
    datasets::score_test(w, p, tail_count, &r.auc, &r.logloss, &r.tail_auc, &r.head_auc);
    r.similarity = datasets::embedding_similarity(w, m.embed.table.value(), seed);
    if (matching) {
        const Var s = m.match_logit(b.users, b.ads);
        r.match_auc = auc(std::vector<float>(s.value().data(), s.value().data() + s.size()),
                          std::vector<float>(b.y.data(), b.y.data() + b.y.size()));
    }
    return r;
}

// One model: the prediction loss always, the matching and correlation losses when asked (eq. 7).
inline Result train_one(const World& w, const std::vector<std::pair<int, int>>& pairs, const Options& o,
                        bool matching, bool correlation, uint64_t seed) {
    Rng init(splitmix64(seed + 1)), rng(splitmix64(seed + 2)), sampler(splitmix64(seed + 3));
    DeepMCPOptions mo = o.model;
    mo.vocabulary = w.vocabulary();
    DeepMCP m(mo, init);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int P = std::min<int>(o.batch, int(pairs.size()));
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(w.n_train, o.batch, rng)) {
            const datasets::McpBatch b = datasets::mcp_batch(w, rows);
            Var loss = bce_with_logits(m.predict_logit(b.rows), b.y);                      // L_p, eq. 2
            if (matching) loss = loss + float(o.alpha) * bce_with_logits(m.match_logit(b.users, b.ads), b.y);  // eq. 4
            if (correlation && P > 0) {                                                     // eq. 6
                Ids target, context, negative;
                datasets::skip_gram_batch(w, pairs, P, o.negatives, sampler, &target, &context, &negative);
                const Var neg = reshape(m.ad_representation(negative), {P, o.negatives, mo.match_dim});
                loss = loss + float(o.beta) * skip_gram_loss(m.ad_representation(target), m.ad_representation(context), neg);
            }
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
    return evaluate(m, w, o.tail_count, matching, seed + 4);
}

inline WorldResult run_world(const Options& o, bool control, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    if (control) wo.zipf = 0.0, wo.history = 0.0;
    const World w = datasets::make_mcp_world(wo);
    const std::vector<std::pair<int, int>> pairs = datasets::skip_gram_pairs(w, o.window);
    WorldResult rep;
    const std::vector<float> truth(w.true_prob.begin() + w.n_train, w.true_prob.end());
    datasets::score_test(w, truth, o.tail_count, &rep.oracle.auc, &rep.oracle.logloss, &rep.oracle.tail_auc, &rep.oracle.head_auc);
    rep.tail_share = datasets::rare_share(w, o.tail_count);
    const uint64_t s = splitmix64(seed + 11);     // the same initial weights and batches for every model
    rep.models[kDNN] = train_one(w, pairs, o, false, false, s);
    rep.models[kDeepMP] = train_one(w, pairs, o, true, false, s);
    rep.models[kDeepCP] = train_one(w, pairs, o, false, true, s);
    rep.models[kDeepMCP] = train_one(w, pairs, o, true, true, s);
    return rep;
}

inline Results run_experiment(const Options& o) {
    Results r;
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < o.worlds; ++i) r.cell[c].push_back(run_world(o, c == 1, replicate_seed(o.seed, i)));
    return r;
}

// Table 3's comparisons as paired AUC differences over worlds, in both worlds.
inline Claims judge(const Options& o, const Results& r) {
    struct Row { const char* claim; const char* paper; int a, b; bool rare; };
    const Row rows[] = {
        {"DeepMCP's AUC above the DNN's (headline)", "Table 3: +0.0111 Avito, +0.0095 Company", kDeepMCP, kDNN, false},
        {"DeepMP's AUC above the DNN's", "Table 3: +0.0101 / +0.0084", kDeepMP, kDNN, false},
        {"DeepCP's AUC above the DNN's", "Table 3: +0.0028 / +0.0031", kDeepCP, kDNN, false},
        {"DeepMCP's AUC above DeepMP's", "Table 3: +0.0010 / +0.0011", kDeepMCP, kDeepMP, false},
        {"DeepMCP's AUC above the DNN's on rarely shown ads (ours)", "not reported", kDeepMCP, kDNN, true}};
    Claims claims;
    claims.quick = o.quick;
    for (int c = 0; c < 2; ++c) {
        for (const Row& row : rows) {
            if (row.rare && c == 1) continue;   // the control world shows every ad often: none is rare
            Claim cl{row.claim, kWorlds[c], c == 0 ? row.paper : "-", {}, o.margin, 4};
            for (const WorldResult& w : r.cell[c])
                cl.diffs.push_back(row.rare ? w.models[row.a].tail_auc - w.models[row.b].tail_auc : w.models[row.a].auc - w.models[row.b].auc);
            claims.add(cl);
        }
        bool ok = true;
        for (const WorldResult& w : r.cell[c])
            for (int m = 0; m < kNumModels; ++m) ok = ok && w.models[m].auc <= w.oracle.auc + 0.01;
        claims.add_sanity(std::string("no model's AUC above the true probabilities' (+0.01), ") + kWorlds[c], ok,
                          num("oracle AUC %.4f", mean_over(r.cell[c], [](const WorldResult& w) { return w.oracle.auc; })));
    }
    return claims;
}

}  // namespace ch56
}  // namespace minirec
