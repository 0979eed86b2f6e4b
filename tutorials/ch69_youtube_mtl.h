// Chapter 69's experiment as functions: position-biased click logs (datasets/ch69_ranking_logs.h)
// whose ranker also promotes some items for reasons unrelated to relevance; YouTube-style rankers
// trained on them: MMoE with the shallow position tower (the paper's model), MMoE without it, and
// Shared-Bottom with it (the baseline of the paper's Table 1). Each world draws fresh logs and fresh
// initialisations; the control world's logger shows items in random order. Deliberately left out:
// device features, live A/B metrics, the paper's many objectives.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "datasets/ch69_ranking_logs.h"
#include "models/ch69_youtube_mtl.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch69 {

struct Options {
    int worlds = 8;               // independent worlds per kind (main, control)
    int lists = 10000;            // impressions of a 10-item list per world; the last 20% held out
    double test_share = 0.2;
    double ranker_item_bias = 1.0;   // the main world's confounder; the control's logger is random
    int epochs = 4;
    int batch = 256;
    double lr = 3e-3;
    YouTubeRankerOptions model;   // embeddings D = 8, MMoE 8 experts x 16; sizes of the world set per world
    double position_dropout = 0.1;   // the paper's 10%
    double margin = 0.002;        // practical margin on a pairwise agreement (a share of pairs)
    bool control = true;          // false: main world only (the test)
    bool shared_bottom = true;    // false: skip the Shared-Bottom baseline (the test)
    uint64_t seed = 42;
    bool verbose = true;          // one line per world on stderr
};

inline Options quick_options() {
    Options o;
    o.worlds = 2;
    o.lists = 4000;
    o.epochs = 3;
    return o;
}

enum Model { kTower, kNoTower, kSharedBottom, kNumModels };
const char* const kModelNames[] = {"MMoE + shallow tower (the paper's)", "MMoE, no shallow tower",
                                   "Shared-Bottom + shallow tower"};
enum Kind { kMain, kControl };

// What one trained ranker scores on the held-out lists of one world.
struct Scores {
    double pairwise = 0.0;        // share of item pairs in a list the serving score orders as rel does
    double ndcg = 0.0;            // NDCG@K of the serving order, gains = true rel
    double satisfaction = 0.0;    // the same pairwise agreement for the satisfaction head
    std::vector<double> position_bias;   // shallow tower's w[k] - w[0], k = 0..K-1 (empty without)
};

struct Results {
    std::vector<double> exam;                 // the planted examination curve
    std::vector<Scores> scores[2][kNumModels];   // [kind][model][world]
    std::vector<double> logged[2];            // [kind][world]: the logger's own pairwise
};

// Rows [0, train_rows) of the log train, the rest (whole lists) test.
inline Scores train_and_evaluate(const Options& o, const datasets::PositionBiasData& d, const datasets::Columns& c,
                                 int train_rows, Model which, uint64_t seed) {
    const int K = d.list_size;
    YouTubeRankerOptions mo = o.model;
    mo.num_users = d.num_users;
    mo.num_items = d.num_items;
    mo.positions = K;
    mo.shallow_tower = which != kNoTower;
    mo.shared_bottom = which == kSharedBottom;
    Rng init(splitmix64(seed + 1));           // the same embeddings for every model of the world
    YouTubeRanker model(mo, init);
    Adam adam(vars_of(model.named_parameters()), o.lr);
    Rng rng(splitmix64(seed + 2));            // batch order and position dropout
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        double total = 0.0;
        for (const std::vector<int>& b : make_batches(train_rows, o.batch, rng)) {
            const datasets::Columns batch = c.select(b);
            const Ids pos = drop_positions(batch.position, o.position_dropout, K, rng);
            const YouTubeRanker::Output out = model.forward(batch.user, batch.item, pos);
            const int B = int(b.size());
            const Var loss = bce_with_logits(out.engagement_train, Tensor({B, 1}, batch.click)) +
                             bce_with_logits(out.satisfaction, Tensor({B, 1}, batch.satisfied));
            adam.zero_grad();
            backward(loss);
            adam.step();
            total += loss.item();
        }
        check_finite(total, epoch);
    }
    // Serving: the main model alone (eq. 5) on the held-out lists.
    NoGrad no_grad;
    const datasets::Columns held_out = c.rows_from(train_rows);
    const YouTubeRanker::Output serve = model.forward(held_out.user, held_out.item);   // (B, 1) logits each
    Scores r;
    r.pairwise = datasets::pairwise_agreement(serve.engagement.value().vec(), held_out.relevance, K);
    r.ndcg = datasets::ndcg_graded(serve.engagement.value().vec(), held_out.relevance, K);
    r.satisfaction = datasets::pairwise_agreement(serve.satisfaction.value().vec(), held_out.relevance, K);
    if (which != kNoTower)
        for (int k = 0; k < K; ++k) r.position_bias.push_back(model.shallow.bias(k) - model.shallow.bias(0));
    return r;
}

// World w of either kind draws its logs and initialisations from replicate_seed(seed, w); the
// control's logger shows the candidates in random order (datasets::ranking_logs).
inline Results run_experiment(const Options& o) {
    Results rep;
    for (int kind = kMain; kind <= (o.control ? kControl : kMain); ++kind)
        for (int w = 0; w < o.worlds; ++w) {
            const uint64_t seed = replicate_seed(o.seed, w);
            const datasets::PositionBiasData d = datasets::ranking_logs(o.lists, o.ranker_item_bias, kind == kControl, seed);
            const datasets::Columns c = datasets::columns(d, seed);
            const int K = d.list_size, train_rows = int(o.lists * (1.0 - o.test_share)) * K;
            rep.exam.assign(d.exam_prob.begin(), d.exam_prob.end());
            rep.logged[size_t(kind)].push_back(datasets::logged_agreement(c, train_rows, K));
            for (int m = 0; m < kNumModels; ++m)
                if (m != kSharedBottom || o.shared_bottom)
                    rep.scores[size_t(kind)][size_t(m)].push_back(train_and_evaluate(o, d, c, train_rows, Model(m), seed));
            if (o.verbose)
                std::fprintf(stderr, "%s world %d: pairwise %.4f with the tower, %.4f without\n", kind == kMain ? "main" : "control",
                             w + 1, rep.scores[size_t(kind)][kTower].back().pairwise, rep.scores[size_t(kind)][kNoTower].back().pairwise);
        }
    return rep;
}

// Per world, oriented so that > 0 is the paper's direction.
inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    for (int kind = kMain; kind <= (o.control ? kControl : kMain); ++kind) {
        const auto& s = r.scores[size_t(kind)];
        const std::string world = kind == kMain ? "main" : "control";
        auto diff = [&](auto f) {
            std::vector<double> d;
            for (int w = 0; w < o.worlds; ++w) d.push_back(f(size_t(w)));
            return d;
        };
        c.add({"shallow tower: serving score closer to true relevance (pairwise)", world,
               "Table 2: +0.24% engagement, live [P]",
               diff([&](size_t w) { return s[kTower][w].pairwise - s[kNoTower][w].pairwise; }), o.margin});
        if (o.shared_bottom) {
            c.add({"MMoE above Shared-Bottom on engagement (pairwise)", world,
                   "Table 1, live: +0.20% (4 experts, equal cost); 8 experts +0.45%, SB grown to their cost +0.1% [P]",
                   diff([&](size_t w) { return s[kTower][w].pairwise - s[kSharedBottom][w].pairwise; }), o.margin});
            c.add({"MMoE above Shared-Bottom on satisfaction (pairwise)", world,
                   "Table 1, live: +1.22% (4 experts, equal cost); 8 experts +3.07%, SB grown to their cost +1.89% [P]",
                   diff([&](size_t w) { return s[kTower][w].satisfaction - s[kSharedBottom][w].satisfaction; }), o.margin});
        }
        c.add({"learned position effect falls from position 1 to 10 (w[1] - w[10])", world,
               "Fig. 7: the learned bias falls with position; no values printed [P]",
               diff([&](size_t w) { return -s[kTower][w].position_bias.back(); }), 0.1, 3});
        double worst = 1.0;   // the logged order sorts by a noisy relevance: any ranker beats random
        for (size_t w = 0; w < r.logged[size_t(kind)].size(); ++w) worst = std::min(worst, r.logged[size_t(kind)][w]);
        c.add_sanity(world + " world: the logged order's pairwise agreement " +
                         (kind == kMain ? "above 0.5 (it ranks by a noisy relevance)" : "near 0.5 (random order)"),
                     kind == kMain ? worst > 0.5 : std::fabs(worst - 0.5) < 0.05, num("%.4f", worst) + " (worst world)");
    }
    return c;
}

}  // namespace ch69
}  // namespace minirec
