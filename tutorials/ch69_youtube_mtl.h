// Chapter 69's experiment as functions: position-biased click logs whose ranker also promotes some
// items for reasons unrelated to relevance; YouTube-style rankers trained on them: MMoE with the
// shallow position tower (the paper's model), MMoE without it, and Shared-Bottom with it (the
// baseline of the paper's Table 1). Each world draws fresh logs and fresh initialisations; the
// control world's logger shows items in random order. Deliberately left out: device features,
// live A/B metrics, the paper's many objectives.
//
// The world (datasets/position_bias.h, known truth):
//   rel(u, i) = sigmoid(quality_i + <user_u, item_i>),  exam[k] = 1 / (k + 1)
//   ranker:   sorts candidates by logit rel + ranker_bias_i + noise, ranker_bias_i ~ N(0, 1)
//   click     = examined(k) AND attracted(rel)              the engagement label, position-biased
//   satisfied ~ Bernoulli(rel(u, i))                         the satisfaction label, drawn here for
//             every shown item (a survey answer): it does not depend on the position
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "datasets/position_bias.h"
#include "models/ch69_youtube_mtl.h"
#include "nn/losses.h"
#include "core/metrics.h"
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
    int embed = 8;
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
    std::vector<double> exam;                                // the planted examination curve
    std::vector<std::vector<std::vector<Scores>>> scores;    // [kind][model][world]
    std::vector<std::vector<double>> logged;                 // [kind][world]: the logger's own pairwise
};

// Share of pairs (a, b) within each list of `k` consecutive rows, with rel_a != rel_b, that `score`
// orders the same way as `rel` (ties in score count one half). 0.5 = random, 1 = perfect.
inline double pairwise_agreement(const std::vector<float>& score, const std::vector<float>& rel, int k) {
    double agree = 0.0, pairs = 0.0;
    for (size_t s = 0; s + size_t(k) <= score.size(); s += size_t(k))
        for (size_t a = s; a < s + size_t(k); ++a)
            for (size_t b = a + 1; b < s + size_t(k); ++b) {
                if (rel[a] == rel[b]) continue;
                const double d = double(score[a] - score[b]) * double(rel[a] - rel[b]);
                agree += d > 0 ? 1.0 : d == 0 ? 0.5 : 0.0;
                pairs += 1.0;
            }
    return pairs > 0 ? agree / pairs : 0.5;
}

// Mean over lists of NDCG@k with graded gains rel: DCG = sum_j rel_(j) / log2(j + 2) in score order.
inline double ndcg_graded(const std::vector<float>& score, const std::vector<float>& rel, int k) {
    double total = 0.0;
    int lists = 0;
    for (size_t s = 0; s + size_t(k) <= score.size(); s += size_t(k), ++lists) {
        std::vector<int> by_score(static_cast<size_t>(k)), by_rel(static_cast<size_t>(k));
        std::iota(by_score.begin(), by_score.end(), 0);
        std::iota(by_rel.begin(), by_rel.end(), 0);
        std::stable_sort(by_score.begin(), by_score.end(), [&](int a, int b) { return score[s + a] > score[s + b]; });
        std::sort(by_rel.begin(), by_rel.end(), [&](int a, int b) { return rel[s + a] > rel[s + b]; });
        double dcg = 0.0, ideal = 0.0;
        for (int j = 0; j < k; ++j) {
            dcg += rel[s + size_t(by_score[size_t(j)])] / std::log2(j + 2.0);
            ideal += rel[s + size_t(by_rel[size_t(j)])] / std::log2(j + 2.0);
        }
        total += dcg / ideal;
    }
    return lists ? total / lists : 0.0;
}

// The log as columns. Rows [0, train_rows) train, the rest (whole lists) test.
struct Columns {
    Ids user, item, position;
    std::vector<float> click, satisfied, relevance;
};

inline Columns columns(const datasets::PositionBiasData& d, uint64_t seed) {
    Rng rng(splitmix64(seed ^ 0x5a715f1edull));
    Columns c;
    for (const datasets::ShownItem& r : d.rows) {
        c.user.push_back(r.user);
        c.item.push_back(r.item);
        c.position.push_back(r.position);
        c.click.push_back(r.click);
        c.relevance.push_back(r.relevance);
        c.satisfied.push_back(rng.uniform_double() < r.relevance ? 1.0f : 0.0f);
    }
    return c;
}

template <class T>
std::vector<T> pick(const std::vector<T>& v, const std::vector<int>& rows) {
    std::vector<T> out;
    out.reserve(rows.size());
    for (int r : rows) out.push_back(v[size_t(r)]);
    return out;
}

inline std::vector<float> column_of(const Var& v) {   // (B, 1) -> B floats
    return std::vector<float>(v.value().data(), v.value().data() + v.value().size());
}

inline Scores train_and_evaluate(const Options& o, const datasets::PositionBiasData& d, const Columns& c,
                                 int train_rows, Model which, uint64_t seed) {
    const int K = d.list_size;
    YouTubeRankerOptions mo;
    mo.num_users = d.num_users;
    mo.num_items = d.num_items;
    mo.positions = K;
    mo.embed = o.embed;
    mo.shallow_tower = which != kNoTower;
    mo.shared_bottom = which == kSharedBottom;
    Rng init(splitmix64(seed + 1));           // the same embeddings for every model of the world
    YouTubeRanker model(mo, init);
    Adam adam(vars_of(model.named_parameters()), o.lr);
    Rng rng(splitmix64(seed + 2));            // batch order and position dropout
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        double total = 0.0;
        for (const std::vector<int>& b : make_batches(train_rows, o.batch, rng)) {
            const Ids pos = drop_positions(pick(c.position, b), o.position_dropout, K, rng);
            const YouTubeRanker::Output out = model.forward(pick(c.user, b), pick(c.item, b), pos);
            const int B = int(b.size());
            const Var loss = bce_with_logits(out.engagement_train, Tensor({B, 1}, pick(c.click, b))) +
                             bce_with_logits(out.satisfaction, Tensor({B, 1}, pick(c.satisfied, b)));
            adam.zero_grad();
            backward(loss);
            adam.step();
            total += loss.item();
        }
        check_finite(total, epoch);
    }
    // Serving: the main model alone (eq. 5) on the held-out lists.
    NoGrad no_grad;
    std::vector<int> test(c.user.size() - size_t(train_rows));
    std::iota(test.begin(), test.end(), train_rows);
    const std::vector<float> rel = pick(c.relevance, test);
    const YouTubeRanker::Output serve = model.forward(pick(c.user, test), pick(c.item, test));
    Scores r;
    r.pairwise = pairwise_agreement(column_of(serve.engagement), rel, K);
    r.ndcg = ndcg_graded(column_of(serve.engagement), rel, K);
    r.satisfaction = pairwise_agreement(column_of(serve.satisfaction), rel, K);
    if (which != kNoTower)
        for (int k = 0; k < K; ++k) r.position_bias.push_back(model.shallow.bias(k) - model.shallow.bias(0));
    return r;
}

// World w of either kind draws its logs and initialisations from replicate_seed(seed, w); the
// control's logger shows the candidates in random order (noise swamps the relevance logit).
inline Results run_experiment(const Options& o) {
    Results rep;
    rep.scores.assign(2, std::vector<std::vector<Scores>>(kNumModels));
    rep.logged.assign(2, {});
    for (int kind = kMain; kind <= (o.control ? kControl : kMain); ++kind)
        for (int w = 0; w < o.worlds; ++w) {
            datasets::PositionBiasOptions po;
            po.num_lists = o.lists;
            po.seed = replicate_seed(o.seed, w);
            po.ranker_item_bias = kind == kMain ? o.ranker_item_bias : 0.0;
            if (kind == kControl) po.ranker_noise = 1000.0;
            const datasets::PositionBiasData d = datasets::position_bias_logs(po);
            const Columns c = columns(d, po.seed);
            const int K = d.list_size, train_rows = int(o.lists * (1.0 - o.test_share)) * K;
            rep.exam.assign(d.exam_prob.begin(), d.exam_prob.end());
            std::vector<float> logged_score, rel(c.relevance.begin() + train_rows, c.relevance.end());
            for (size_t r = size_t(train_rows); r < c.position.size(); ++r) logged_score.push_back(float(-c.position[r]));
            rep.logged[size_t(kind)].push_back(pairwise_agreement(logged_score, rel, K));
            for (int m = 0; m < kNumModels; ++m)
                if (m != kSharedBottom || o.shared_bottom)
                    rep.scores[size_t(kind)][size_t(m)].push_back(train_and_evaluate(o, d, c, train_rows, Model(m), po.seed));
            if (o.verbose)
                std::fprintf(stderr, "%s world %d: pairwise %.4f with the tower, %.4f without\n",
                             kind == kMain ? "main" : "control", w + 1, rep.scores[size_t(kind)][kTower].back().pairwise,
                             rep.scores[size_t(kind)][kNoTower].back().pairwise);
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
