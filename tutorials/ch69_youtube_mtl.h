// Chapter 69's experiment as a function: position-biased click logs whose ranker also promotes
// some items for reasons unrelated to relevance, and two YouTube-style rankers trained on them,
// with and without the shallow position tower. We ask how well each main model's serving score
// (no position) orders held-out lists by true relevance, and what the shallow tower learned per
// position. Printing and pictures live in ch69_youtube_mtl.cpp. Deliberately left out: device
// features, live A/B metrics, the paper's many objectives.
//
// The world (datasets/position_bias.h, known truth):
//   rel(u, i) = sigmoid(quality_i + <user_u, item_i>),  exam[k] = 1 / (k + 1)
//   ranker:   sorts candidates by logit rel + ranker_bias_i + noise, ranker_bias_i ~ N(0, 1):
//             promoted items sit high whatever their relevance, and collect clicks for it
//   click     = examined(k) AND attracted(rel)              the engagement label, position-biased
//   satisfied ~ Bernoulli(rel(u, i))                         our satisfaction label, drawn here for
//             every shown item (think of a survey answer): it does not depend on the position
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "datasets/position_bias.h"
#include "models/ch69_youtube_mtl.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch69 {

struct Options {
    int lists = 40000;            // impressions of a 10-item list; the last test_share held out
    double test_share = 0.2;
    double ranker_item_bias = 1.0;
    int epochs = 5;
    int batch = 256;
    double lr = 3e-3;
    int embed = 8;
    double position_dropout = 0.1;   // the paper's 10%
    uint64_t seed = 42;
    bool verbose = true;          // progress on stderr
};

// What one trained ranker scores on the held-out lists.
struct ModelReport {
    double pairwise = 0.0;        // share of item pairs in a list the serving score orders as rel does
    double ndcg = 0.0;            // NDCG@K of the serving order, gains = true rel
    double click_auc = 0.0;       // AUC of the training-time P(click) (with the tower) on test clicks
    double satisfaction_pairwise = 0.0;   // the same pairwise agreement for the satisfaction task
    std::vector<double> position_bias;    // shallow tower's w[k] - w[0], k = 0..K-1 (empty without)
    double unknown_bias = 0.0;            // w[K] - w[0], the "position unknown" value
    double seconds = 0.0;
};

struct Results {
    std::vector<double> exam;     // the planted examination curve exam[k]
    std::vector<double> ctr;      // click-through rate per position in the training log
    double logged_pairwise = 0.0; // the production ranker's own order, for reference
    double ideal_ndcg_random = 0.0;  // NDCG@K of a random order, for reference
    ModelReport baseline, shallow;
    long train_rows = 0, test_rows = 0;
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

// Pearson correlation of two equally long series.
inline double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = double(a.size());
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
    for (size_t i = 0; i < a.size(); ++i)
        sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    return sab / std::sqrt(saa * sbb);
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

inline ModelReport train_and_evaluate(const Options& o, const datasets::PositionBiasData& d, const Columns& c,
                                      int train_rows, bool with_tower) {
    const auto start = std::chrono::steady_clock::now();
    const int K = d.list_size;
    YouTubeRankerOptions mo;
    mo.num_users = d.num_users;
    mo.num_items = d.num_items;
    mo.positions = K;
    mo.embed = o.embed;
    mo.shallow_tower = with_tower;
    Rng init(splitmix64(o.seed + 1));        // the same initial main model for both variants
    YouTubeRanker model(mo, init);
    Adam adam(vars_of(model.named_parameters()), o.lr);
    Rng rng(splitmix64(o.seed + 2));          // batch order and position dropout

    // The training loop: batch, forward with positions, two losses, backward, step.
    Progress progress(o.epochs, (train_rows + o.batch - 1) / o.batch,
                      o.verbose ? Progress::Mode::automatic : Progress::Mode::quiet);
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& b : make_batches(train_rows, o.batch, rng)) {
            const Ids pos = drop_positions(pick(c.position, b), o.position_dropout, K, rng);
            const YouTubeRanker::Output out = model.forward(pick(c.user, b), pick(c.item, b), pos);
            const int B = int(b.size());
            const Var loss = bce_with_logits(out.engagement_train, Tensor({B, 1}, pick(c.click, b))) +
                             bce_with_logits(out.satisfaction, Tensor({B, 1}, pick(c.satisfied, b)));
            adam.zero_grad();
            backward(loss);
            adam.step();
            progress.step(loss.item(), B);
        }
        check_finite(progress.epoch_loss(), epoch);
        progress.end_epoch();
    }

    // Serving: the main model alone (eq. 5) on the held-out lists; the click AUC uses eq. (4).
    NoGrad no_grad;
    std::vector<int> test(c.user.size() - size_t(train_rows));
    std::iota(test.begin(), test.end(), train_rows);
    const std::vector<float> rel = pick(c.relevance, test);
    const YouTubeRanker::Output serve = model.forward(pick(c.user, test), pick(c.item, test));
    const YouTubeRanker::Output logged = model.forward(pick(c.user, test), pick(c.item, test), pick(c.position, test));
    ModelReport r;
    r.pairwise = pairwise_agreement(column_of(serve.engagement), rel, K);
    r.ndcg = ndcg_graded(column_of(serve.engagement), rel, K);
    r.satisfaction_pairwise = pairwise_agreement(column_of(serve.satisfaction), rel, K);
    r.click_auc = auc(column_of(logged.engagement_train), pick(c.click, test));
    if (with_tower) {
        for (int k = 0; k < K; ++k) r.position_bias.push_back(model.shallow.bias(k) - model.shallow.bias(0));
        r.unknown_bias = model.shallow.bias(K) - model.shallow.bias(0);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

inline Results run(const Options& o) {
    datasets::PositionBiasOptions po;
    po.num_lists = o.lists;
    po.seed = o.seed;
    po.ranker_item_bias = o.ranker_item_bias;
    const datasets::PositionBiasData d = datasets::position_bias_logs(po);
    const Columns c = columns(d, o.seed);
    const int K = d.list_size;
    const int train_rows = int(o.lists * (1.0 - o.test_share)) * K;

    Results rep;
    rep.exam.assign(d.exam_prob.begin(), d.exam_prob.end());
    datasets::PositionBiasData train_part = d;
    train_part.rows.resize(size_t(train_rows));
    rep.ctr = datasets::ctr_by_position(train_part);
    rep.train_rows = train_rows;
    rep.test_rows = long(c.user.size()) - train_rows;
    // The production ranker's order on the test lists: rows are stored top position first.
    std::vector<float> logged_score, rel(c.relevance.begin() + train_rows, c.relevance.end()), random_score;
    Rng rng(splitmix64(o.seed + 3));
    for (size_t r = size_t(train_rows); r < c.position.size(); ++r) {
        logged_score.push_back(float(-c.position[r]));
        random_score.push_back(rng.uniform());
    }
    rep.logged_pairwise = pairwise_agreement(logged_score, rel, K);
    rep.ideal_ndcg_random = ndcg_graded(random_score, rel, K);
    rep.baseline = train_and_evaluate(o, d, c, train_rows, false);
    rep.shallow = train_and_evaluate(o, d, c, train_rows, true);
    if (o.verbose)
        std::fprintf(stderr, "baseline %.1f s, shallow tower %.1f s\n", rep.baseline.seconds, rep.shallow.seconds);
    return rep;
}

}  // namespace ch69
}  // namespace minirec
