// Chapter 71's experiment as a function: position-biased click logs with known relevance and
// examination (datasets/position_bias.h); three CTR models trained on them - position-unaware,
// position as a feature (served at a default slot), PAL - and how well each one's serving score
// ranks items by their true relevance. Printing and pictures live in ch71_pal.cpp.
// Deliberately left out: online A/B tests, the paper's real app-store data, IPW baselines.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "datasets/position_bias.h"
#include "models/ch71_pal.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch71 {

enum Model { kUnaware, kPosFeature, kPAL, kNumModels };
const char* const kModelNames[] = {"position-unaware", "position as feature", "PAL"};

struct StudyOptions {
    datasets::PositionBiasOptions data;   // the world; seed and ranker_item_bias set per replicate
    std::vector<double> ranker_biases = {0.0, 1.0, 2.0};  // how wrong the logging ranker is
    int replicates = 5;                   // independent worlds per bias, seeds derived from `seed`
    int epochs = 5;
    int batch = 512;
    double lr = 0.01;                     // Adam
    double weight_decay = 0.0;            // Adam's L2 penalty on every parameter
    int dim = 8;                          // D, the FM's factor size
    int default_position = 0;            // the slot "position as feature" is served at (0 = top)
    int ndcg_k = 10;
    uint64_t seed = 42;
    bool verbose = true;
    StudyOptions() {
        data.num_users = 100;
        data.num_items = 200;
        data.num_lists = 20000;           // 200,000 shown slots, 90% for training
    }
};

// What one world gives: per model, ranking quality against the truth and AUC on held-out logs.
struct Replicate {
    double ndcg[kNumModels] = {}, top_ctr[kNumModels] = {}, log_auc[kNumModels] = {};
    double oracle_top_ctr = 0.0, random_top_ctr = 0.0;
    std::vector<double> ndcg_at_default;       // [k]: position as feature served at default slot k
    std::vector<double> exam_true, exam_pal, exam_naive;   // [k]: relative to slot 1
};

// All replicates at one ranker bias, with the averages the report prints.
struct Level {
    double ranker_bias = 0.0;
    std::vector<Replicate> reps;
    template <class F> double mean(F f) const { return mean_over(reps, f); }
    template <class F> double min(F f) const { return min_over(reps, f); }
    double ndcg(int model) const { return mean([&](const Replicate& r) { return r.ndcg[model]; }); }
    // The largest gap over slots between PAL's examination curve and the truth, mean over replicates.
    double exam_error() const {
        return mean([](const Replicate& r) {
            double e = 0.0;
            for (size_t k = 0; k < r.exam_true.size(); ++k) e = std::max(e, std::fabs(r.exam_pal[k] - r.exam_true[k]));
            return e;
        });
    }
    double naive_error() const {
        return mean([](const Replicate& r) {
            double e = 0.0;
            for (size_t k = 0; k < r.exam_true.size(); ++k) e = std::max(e, std::fabs(r.exam_naive[k] - r.exam_true[k]));
            return e;
        });
    }
};

struct StudyReport {
    std::vector<Level> levels;   // one per ranker bias, in the order of ranker_biases
    double seconds = 0.0;
};

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// True relevance rel(u, i) = sigmoid(q_i + <user_u, item_i>) for every pair, (users x items).
inline std::vector<double> true_relevance(const datasets::PositionBiasData& d) {
    const int D = d.user_vectors.dim(1);
    std::vector<double> rel(size_t(d.num_users) * size_t(d.num_items));
    for (int u = 0; u < d.num_users; ++u)
        for (int i = 0; i < d.num_items; ++i) {
            double s = d.item_quality[size_t(i)];
            for (int c = 0; c < D; ++c) s += double(d.user_vectors[size_t(u) * D + c]) * d.item_vectors[size_t(i) * D + c];
            rel[size_t(u) * d.num_items + size_t(i)] = sigmoid(s);
        }
    return rel;
}

// Graded NDCG@k of one user's scores over all items, gain = true relevance:
//   DCG = sum_{r < k} rel(item at rank r) / log2(r + 2), divided by the DCG of the ideal order.
// Also returns rel of the top-ranked item (what the first slot would earn if it is examined).
inline double graded_ndcg(const double* score, const double* rel, int n, int k, double* top_rel) {
    std::vector<int> by_score(static_cast<size_t>(n));
    std::iota(by_score.begin(), by_score.end(), 0);
    std::vector<int> by_rel = by_score;
    std::sort(by_score.begin(), by_score.end(), [&](int a, int b) { return score[a] > score[b]; });
    std::sort(by_rel.begin(), by_rel.end(), [&](int a, int b) { return rel[a] > rel[b]; });
    double dcg = 0.0, ideal = 0.0;
    for (int r = 0; r < k && r < n; ++r) {
        dcg += rel[by_score[size_t(r)]] / std::log2(r + 2.0);
        ideal += rel[by_rel[size_t(r)]] / std::log2(r + 2.0);
    }
    *top_rel = rel[by_score[0]];
    return dcg / ideal;
}

// The log as model inputs: field ids (n, 3) user, item, position; positions (n); clicks (n, 1).
struct Batch {
    Ids user_item, user_item_pos, position;
    Tensor click;
};

inline Batch gather(const datasets::PositionBiasData& d, const PalFields& f, const std::vector<int>& rows) {
    Batch b;
    b.click = Tensor({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) {
        const datasets::ShownItem& s = d.rows[size_t(rows[j])];
        b.user_item.insert(b.user_item.end(), {s.user, f.item(s.item)});
        b.user_item_pos.insert(b.user_item_pos.end(), {s.user, f.item(s.item), f.position(s.position)});
        b.position.push_back(s.position);
        b.click[j] = s.click;
    }
    return b;
}

// The three models in one struct, so one loop trains them on the same batches.
struct Models {
    FM unaware, pos_feature;   // FM(user, item) and FM(user, item, position)
    PAL pal;
    Models(const PalFields& f, int dim, Rng& rng) : unaware(f.size(), dim, rng), pos_feature(f.size(), dim, rng), pal(f, dim, rng) {}
    // Each model's training loss on one batch: the two baselines fit clicks directly, PAL fits
    // them through bCTR = ProbSeen x pCTR (eq. 3).
    Var loss(const Batch& b) const {
        return bce_with_logits(unaware(b.user_item, 2), b.click) +
               bce_with_logits(pos_feature(b.user_item_pos, 3), b.click) +
               pal_loss(pal.seen_logit(b.position), pal.ctr_logit(b.user_item), b.click);
    }
    NamedParams named_parameters() const {
        NamedParams p = unaware.named_parameters("unaware.");
        append(p, pos_feature.named_parameters("pos_feature."));
        append(p, pal.named_parameters());
        return p;
    }
};

// Serving scores for every (user, item): the logit each model ranks by. Position as feature gets
// the default slot; PAL uses pCTR alone; the unaware model has nothing to drop.
inline std::vector<double> serving_scores(const Models& m, const PalFields& f, int model, int default_position) {
    NoGrad no_grad;
    Ids ids;
    for (int u = 0; u < f.users; ++u)
        for (int i = 0; i < f.items; ++i) {
            ids.insert(ids.end(), {u, f.item(i)});
            if (model == kPosFeature) ids.push_back(f.position(default_position));
        }
    const Var z = model == kUnaware ? m.unaware(ids, 2) : model == kPAL ? m.pal.ctr_logit(ids)
                                                                         : m.pos_feature(ids, 3);
    return std::vector<double>(z.value().data(), z.value().data() + z.value().size());
}

inline void rank_quality(const std::vector<double>& score, const std::vector<double>& rel, const PalFields& f, int k,
                         double* ndcg, double* top) {
    *ndcg = *top = 0.0;
    for (int u = 0; u < f.users; ++u) {
        double t = 0.0;
        *ndcg += graded_ndcg(&score[size_t(u) * f.items], &rel[size_t(u) * f.items], f.items, k, &t) / f.users;
        *top += t / f.users;
    }
}

inline Replicate run_replicate(const StudyOptions& o, double ranker_bias, uint64_t seed) {
    datasets::PositionBiasOptions dopt = o.data;
    dopt.seed = seed;
    dopt.ranker_item_bias = ranker_bias;
    const datasets::PositionBiasData d = datasets::position_bias_logs(dopt);
    const PalFields f{d.num_users, d.num_items, d.list_size};
    // Lists 0..89% train, the rest test (the AUC on held-out logs).
    const int n = int(d.rows.size()), n_train = (o.data.num_lists * 9 / 10) * d.list_size;
    Rng rng(splitmix64(seed + 7));
    Models m(f, o.dim, rng);
    AdamOptions ao;
    ao.lr = o.lr;
    ao.weight_decay = o.weight_decay;
    Adam adam(vars_of(m.named_parameters()), ao);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(n_train, o.batch, rng)) {
            const Batch b = gather(d, f, rows);
            const Var loss = m.loss(b);          // the sum of the three models' losses
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }

    Replicate rep;
    const std::vector<double> rel = true_relevance(d);
    for (int model = 0; model < kNumModels; ++model)
        rank_quality(serving_scores(m, f, model, o.default_position), rel, f, o.ndcg_k, &rep.ndcg[model],
                     &rep.top_ctr[model]);
    for (int k = 0; k < f.positions; ++k) {
        double nd = 0.0, top = 0.0;
        rank_quality(serving_scores(m, f, kPosFeature, k), rel, f, o.ndcg_k, &nd, &top);
        rep.ndcg_at_default.push_back(nd);
    }
    double one = 0.0;                                   // the oracle ranks by rel itself
    rank_quality(rel, rel, f, 1, &one, &rep.oracle_top_ctr);
    for (int u = 0; u < f.users; ++u)                   // a random top item: the mean relevance
        for (int i = 0; i < f.items; ++i) rep.random_top_ctr += rel[size_t(u) * f.items + size_t(i)] / rel.size();
    {   // AUC on held-out logs, each model predicting the logged click (with the logged position)
        NoGrad no_grad;
        std::vector<int> rows(size_t(n - n_train));
        std::iota(rows.begin(), rows.end(), n_train);
        const Batch b = gather(d, f, rows);
        const std::vector<float> y(b.click.data(), b.click.data() + b.click.size());
        const Var z[kNumModels] = {m.unaware(b.user_item, 2), m.pos_feature(b.user_item_pos, 3),
                                   log_sigmoid(m.pal.seen_logit(b.position)) + log_sigmoid(m.pal.ctr_logit(b.user_item))};
        for (int model = 0; model < kNumModels; ++model)
            rep.log_auc[model] = auc(z[model].value().vec(), y);
    }
    const Tensor& beta = m.pal.seen.table.value();      // ProbSeen_k / ProbSeen_1
    const std::vector<double> ctr = datasets::ctr_by_position(d);   // the naive curve: CTR per slot
    for (int k = 0; k < f.positions; ++k) {
        rep.exam_true.push_back(d.exam_prob[size_t(k)] / d.exam_prob[0]);
        rep.exam_pal.push_back(sigmoid(beta[size_t(k)]) / sigmoid(beta[0]));
        rep.exam_naive.push_back(ctr[size_t(k)] / ctr[0]);
    }
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (size_t b = 0; b < o.ranker_biases.size(); ++b) {
        Level level;
        level.ranker_bias = o.ranker_biases[b];
        for (int r = 0; r < o.replicates; ++r) {   // replicate r sees the same users and items at every bias
            level.reps.push_back(run_replicate(o, level.ranker_bias, replicate_seed(o.seed, r)));
            const Replicate& x = level.reps.back();
            if (o.verbose)
                std::fprintf(stderr, "ranker bias %.1f, replicate %d/%d: NDCG@%d unaware %.4f  pos-feature %.4f  PAL %.4f\n",
                             level.ranker_bias, r + 1, o.replicates, o.ndcg_k, x.ndcg[kUnaware], x.ndcg[kPosFeature], x.ndcg[kPAL]);
        }
        rep.levels.push_back(level);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch71
}  // namespace minirec
