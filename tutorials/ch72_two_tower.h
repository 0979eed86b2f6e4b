// Chapter 72's experiments as functions (Yi et al., RecSys 2019). Two studies:
//   frequency_study  the paper's simulation (section 6.1): estimation error of the streaming
//                    estimator as alpha, the number of hash functions and the stale-slot rule vary
//   retrieval_study  a two-tower model trained with in-batch softmax three ways (plain, corrected
//                    by the streaming estimates, corrected by the true probabilities) on a power-law
//                    catalogue (or MovieLens-100k; both in datasets/retrieval.h), scored by Recall@K
//                    over the full catalogue.
// Printing and pictures live in ch72_two_tower.cpp. Deliberately left out: the paper's Wikipedia and
// YouTube experiments, reward-weighted losses, approximate nearest-neighbour search.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/item_stream.h"
#include "datasets/retrieval.h"
#include "models/ch72_two_tower.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/report.h"

namespace minirec {
namespace ch72 {

// =============================================================================================
// Part 1: streaming frequency estimation on the paper's drifting stream
// =============================================================================================

struct FrequencyStudyOptions {
    int items = 10000;                   // M
    int steps_per_phase = 30000;         // q_i ~ i^2 for this many steps, then ~ (M-1-i)^2
    int batch = 128;                     // B items per step
    std::vector<double> alphas = {0.01, 0.03, 0.1, 0.3};
    std::vector<int> hash_counts = {1, 2, 4};
    int buckets = 5000;                  // H for the hashing study: M/2, so collisions happen
    double hash_alpha = 0.01;            // alpha of the hashing and stale-slot studies
    int window = 500;                    // steps per point of the error curves
    int recovery_window = 2000;          // "after the switch" = this many steps after it
    double steady_share = 0.2;           // "steady state" = the last 20% of the first phase
    int catalogue_every = 500;           // steps between two full-catalogue error measurements
    uint64_t seed = 42;
};

// One estimator's record over the stream.
struct EstimatorTrace {
    std::string name;
    FrequencyEstimatorOptions options;
    std::vector<double> error;            // [window]: batch error averaged over the window
    std::vector<double> catalogue_error;  // [measurement]: mean |p_hat - p| over all M items
    double steady = 0, after_switch = 0, overall = 0, catalogue_after_switch = 0;
};

struct FrequencyReport {
    std::vector<long> window_end;         // x axis of EstimatorTrace::error
    std::vector<long> catalogue_step;     // x axis of EstimatorTrace::catalogue_error
    std::vector<EstimatorTrace> alphas;   // collision-free, one per alpha, plus the B = 0 start
    std::vector<EstimatorTrace> hashes;   // H = buckets with 1, 2, 4 hash functions, and collision-free
    std::vector<EstimatorTrace> stale;    // collision-free at hash_alpha: paper's query vs max(B, t - A)
    long switch_step = 0;
    double seconds = 0;
};

// The study's estimators all read the same stream, so their differences are not sampling noise.
inline FrequencyReport frequency_study(const FrequencyStudyOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    FrequencyReport rep;
    rep.switch_step = o.steps_per_phase;
    auto add = [&](std::vector<EstimatorTrace>& to, std::string name, FrequencyEstimatorOptions e) {
        e.seed = splitmix64(o.seed + 17);
        to.push_back({std::move(name), e, {}, {}});
    };
    FrequencyEstimatorOptions exact;     // one slot per item: no collisions
    exact.buckets = o.items;
    exact.collision_free = true;
    for (double a : o.alphas) {
        exact.alpha = a;
        add(rep.alphas, "alpha " + num("%g", a), exact);
    }
    exact.alpha = o.hash_alpha;
    exact.first_gap_start = false;
    add(rep.alphas, "alpha " + num("%g", o.hash_alpha) + ", B=0", exact);  // the update from B = 0
    exact.first_gap_start = true;
    for (int h : o.hash_counts) {
        FrequencyEstimatorOptions e;
        e.buckets = o.buckets;
        e.hashes = h;
        e.alpha = o.hash_alpha;
        add(rep.hashes, std::to_string(h) + (h == 1 ? " hash" : " hashes"), e);
    }
    add(rep.hashes, "collision-free", exact);
    add(rep.stale, "1/B (paper)", exact);
    exact.stale_aware = true;
    add(rep.stale, "1/max(B, t-A)", exact);

    std::vector<EstimatorTrace*> traces;
    for (auto* group : {&rep.alphas, &rep.hashes, &rep.stale})
        for (EstimatorTrace& tr : *group) traces.push_back(&tr);
    std::vector<StreamingFrequencyEstimator> est;
    for (EstimatorTrace* tr : traces) est.emplace_back(tr->options);

    datasets::DriftingStreamOptions so;
    so.num_items = o.items;
    so.steps_per_phase = o.steps_per_phase;
    so.batch_size = o.batch;
    so.seed = o.seed;
    datasets::DriftingItemStream stream(so);
    std::vector<double> window_sum(traces.size(), 0.0);
    while (stream.step() < stream.total_steps()) {
        const long t = stream.step();                      // 0-based index of this batch
        const Ids batch = stream.next_batch();             // (B) item ids
        for (size_t e = 0; e < est.size(); ++e) {
            est[e].observe(batch);
            // The paper's error: mean over the batch's items of |p_hat(y) - B q_y|.
            double err = 0.0;
            for (int32_t y : batch) err += std::fabs(est[e].probability(y) - stream.label_prob(y, t));
            window_sum[e] += err / double(batch.size());
        }
        if ((t + 1) % o.window == 0) {
            rep.window_end.push_back(t + 1);
            for (size_t e = 0; e < est.size(); ++e) traces[e]->error.push_back(window_sum[e] / o.window), window_sum[e] = 0;
        }
        if ((t + 1) % o.catalogue_every == 0) {  // the same error over every item, seen or not
            rep.catalogue_step.push_back(t + 1);
            for (size_t e = 0; e < est.size(); ++e) {
                double err = 0.0;
                for (int y = 0; y < o.items; ++y) err += std::fabs(est[e].probability(y) - stream.label_prob(y, t));
                traces[e]->catalogue_error.push_back(err / o.items);
            }
        }
    }
    // Summaries over windows: the steady state before the switch, the first steps after it, all.
    auto mean_over = [](const std::vector<double>& v, const std::vector<long>& x, long lo, long hi) {
        double s = 0.0;
        int n = 0;
        for (size_t i = 0; i < v.size(); ++i)
            if (x[i] > lo && x[i] <= hi) s += v[i], ++n;
        return n ? s / n : NAN;
    };
    const long S = o.steps_per_phase;
    for (EstimatorTrace* tr : traces) {
        tr->steady = mean_over(tr->error, rep.window_end, long(S * (1.0 - o.steady_share)), S);
        tr->after_switch = mean_over(tr->error, rep.window_end, S, S + o.recovery_window);
        tr->overall = mean_over(tr->error, rep.window_end, 0, 2 * S);
        tr->catalogue_after_switch = mean_over(tr->catalogue_error, rep.catalogue_step, S, S + o.recovery_window);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

// =============================================================================================
// Part 2: a two-tower model trained with in-batch softmax, plain or corrected
// =============================================================================================

// The three ways to train: which log p_j the softmax subtracts from column j's logit (eq. 5).
enum class Correction { none, streaming, oracle };
inline const char* correction_name(Correction c) {
    return c == Correction::none ? "plain" : c == Correction::streaming ? "corrected (streaming)" : "corrected (oracle q)";
}

// A retrieval problem (datasets/retrieval.h): training examples (a query and its positive item),
// test queries with the items they should find, the items' features and popularity q_j.
using RetrievalData = datasets::RetrievalData;

struct RetrievalOptions {
    // synthetic catalogue
    int items = 2000;                    // N
    int train_rows = 60000, test_rows = 4000;
    double exponent = 1.0;               // q_j ~ 1 / (j + 1)^exponent
    int dim = 16;                        // D of the planted item vectors
    double noise = 0.35;                 // query = item vector + N(0, noise^2) per coordinate
    // model and training
    int hidden = 64, out = 32, id_dim = 16;
    int batch = 128;
    int epochs = 8;
    double lr = 3e-3;
    float tau = 0.05f;                   // temperature
    // The estimator behind Correction::streaming: H = 0 means items / 2; 4 hash functions; alpha.
    FrequencyEstimatorOptions estimator = {0, 4, 0.01};
    double head_mass = 0.5;              // head = the most popular items holding this much of q
    std::vector<int> ks = {10, 50};
    uint64_t seed = 42;
    bool verbose = true;
};

struct RetrievalResult {
    std::string name;
    std::vector<double> recall;          // [k index]: Recall@K over the full catalogue
    double head_recall = 0, tail_recall = 0;  // Recall@ks[0] of test rows whose positive is head / tail
    double head_share = 0;               // share of head items among the top ks[0]
    double final_loss = 0, seconds = 0;
    std::vector<double> loss_curve;      // mean training loss per epoch
};

// The synthetic problem: datasets::power_law_catalogue, split into train and test rows. The
// MovieLens problem is datasets::movielens_retrieval.
inline RetrievalData synthetic_retrieval(const RetrievalOptions& o) {
    datasets::PowerLawCatalogueOptions c;
    c.num_items = o.items;
    c.n = o.train_rows + o.test_rows;
    c.exponent = o.exponent;
    c.dim = o.dim;
    c.query_noise = o.noise;
    c.seed = o.seed;
    return datasets::power_law_retrieval(c, o.train_rows);
}

// Ranks the whole catalogue for every test row by score(row) and measures Recall@K, the head and
// tail recall and the head share of the top ks[0]. score_rows fills scores for a block of test rows.
template <class ScoreRows>
void evaluate_rankings(const RetrievalData& d, const RetrievalOptions& o, ScoreRows score_rows, RetrievalResult& res) {
    const std::vector<char> head = datasets::head_items(d.item_prob, o.head_mass);
    const int kmax = *std::max_element(o.ks.begin(), o.ks.end());
    std::vector<double> recall(o.ks.size(), 0.0);
    std::vector<double> head_recall, tail_recall;          // per test row with head (tail) relevant items
    double head_slots = 0;
    const int block = 512;
    std::vector<float> scores;
    for (size_t b0 = 0; b0 < d.test.size(); b0 += block) {
        const int rows = int(std::min(d.test.size() - b0, size_t(block)));
        score_rows(b0, rows, scores);                          // (rows, N)
        for (int r = 0; r < rows; ++r) {
            std::vector<float> s(scores.begin() + long(r) * d.num_items, scores.begin() + long(r + 1) * d.num_items);
            if (!d.exclude.empty())
                for (int32_t j : d.exclude[b0 + size_t(r)]) s[size_t(j)] = -INFINITY;
            const Ids top = top_k(s, kmax);
            const Ids& rel = d.test_relevant[b0 + size_t(r)];
            for (size_t k = 0; k < o.ks.size(); ++k) recall[k] += recall_at_k(top, rel, o.ks[k]);
            Ids rel_head, rel_tail;                            // Recall@ks[0] of each part separately
            for (int32_t j : rel) (head[size_t(j)] ? rel_head : rel_tail).push_back(j);
            if (!rel_head.empty()) head_recall.push_back(recall_at_k(top, rel_head, o.ks[0]));
            if (!rel_tail.empty()) tail_recall.push_back(recall_at_k(top, rel_tail, o.ks[0]));
            for (int i = 0; i < o.ks[0] && i < int(top.size()); ++i) head_slots += head[size_t(top[size_t(i)])];
        }
    }
    const double n = double(d.test.size());
    res.recall.clear();
    for (double r : recall) res.recall.push_back(r / n);
    res.head_recall = nan_mean(head_recall);
    res.tail_recall = nan_mean(tail_recall);
    res.head_share = head_slots / (n * o.ks[0]);
}

// Trains one two-tower model on d's training rows with the given correction and evaluates it.
inline RetrievalResult train_two_tower(const RetrievalData& d, const RetrievalOptions& o, Correction corr) {
    const auto start = std::chrono::steady_clock::now();
    Rng rng(splitmix64(o.seed + 101));                         // the same initial model for every correction
    TwoTowerOptions mo;
    mo.query.features = d.query_features.dim(1);
    mo.query.ids = d.num_query_ids;
    mo.item.features = d.item_features.dim(1);
    mo.item.ids = d.num_items;
    for (TowerOptions* t : {&mo.query, &mo.item}) t->hidden = o.hidden, t->out = o.out, t->id_dim = o.id_dim;
    TwoTower model(mo, rng);
    Adam adam(vars_of(model.named_parameters()), o.lr);

    FrequencyEstimatorOptions eo = o.estimator;
    if (eo.buckets <= 0) eo.buckets = std::max(1, d.num_items / 2);         // H = N/2: collisions happen
    StreamingFrequencyEstimator estimator(eo);
    const Var queries = constant(d.query_features), items = constant(d.item_features);
    const bool has_query_features = d.query_features.dim(1) > 0;  // MovieLens queries are ids only

    RetrievalResult res;
    res.name = correction_name(corr);
    Rng shuffle(splitmix64(o.seed + 202));                     // the same batches for every correction
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        double loss_sum = 0.0;
        const auto batches = make_batches(d.train, o.batch, shuffle, true, true);
        for (const std::vector<int>& rows : batches) {
            Ids pos, qid;                                      // (B) positives, (B) query ids
            for (int r : rows) {
                pos.push_back(d.positive[size_t(r)]);
                if (d.num_query_ids) qid.push_back(d.query_ids[size_t(r)]);
            }
            // log p_j of column j (eq. 5): estimated from the stream of batches, or the truth.
            estimator.observe(pos);
            Tensor log_p({int(pos.size())});
            for (size_t j = 0; j < pos.size(); ++j)
                log_p[j] = float(corr == Correction::oracle ? std::log(d.item_prob[size_t(pos[j])])
                                                            : std::log(estimator.probability(pos[j])));
            const Ids row_ids(rows.begin(), rows.end());
            const Var u = model.u(has_query_features ? gather_rows(queries, row_ids) : Var(), qid);  // (B, k)
            const Var v = model.v(gather_rows(items, pos), pos);         // (B, k)
            InBatchSoftmaxOptions lo;
            lo.temperature = o.tau;
            lo.log_q = corr == Correction::none ? nullptr : &log_p;
            lo.item_ids = &pos;                                // a repeat of the positive is no negative
            const Var loss = in_batch_softmax_loss(TwoTower::scores(u, v), lo);  // eqs. 6-7
            adam.zero_grad();
            backward(loss);
            adam.step();
            loss_sum += loss.item();
        }
        check_finite(loss_sum, epoch);
        res.loss_curve.push_back(loss_sum / double(batches.size()));
        if (o.verbose)
            std::fprintf(stderr, "  %-22s epoch %d/%d  loss %.4f\n", res.name.c_str(), epoch + 1, o.epochs, res.loss_curve.back());
    }
    res.final_loss = res.loss_curve.empty() ? NAN : res.loss_curve.back();

    // Serving: every item's v once, then s(x, y) = <u(x), v(y)> for the whole catalogue.
    NoGrad no_grad;
    Ids all(size_t(d.num_items));
    for (int j = 0; j < d.num_items; ++j) all[size_t(j)] = j;
    const Var v_all = model.v(items, all);                                 // (N, k)
    evaluate_rankings(d, o, [&](size_t b0, int rows, std::vector<float>& scores) {
        Ids test_rows, qid;
        for (int r = 0; r < rows; ++r) {
            test_rows.push_back(d.test[b0 + size_t(r)]);
            if (d.num_query_ids) qid.push_back(d.query_ids[size_t(test_rows.back())]);
        }
        const Var u = model.u(has_query_features ? gather_rows(queries, test_rows) : Var(), qid);  // (rows, k)
        scores = TwoTower::scores(u, v_all).value().vec();               // (rows, N)
    }, res);
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

// The best any model can do on the synthetic data: rank by the true posterior
// (datasets::bayes_scores).
inline RetrievalResult bayes_ranking(const RetrievalData& d, const RetrievalOptions& o) {
    RetrievalResult res;
    res.name = "Bayes (true posterior)";
    evaluate_rankings(d, o, [&](size_t b0, int rows, std::vector<float>& s) { datasets::bayes_scores(d, b0, rows, s); }, res);
    return res;
}

struct RetrievalReport {
    std::vector<RetrievalResult> results;   // plain, streaming, oracle (and Bayes on synthetic data)
    int head_size = 0;                      // items in the head
    double tau = 0;                         // the temperature and training length of `results`
    int epochs = 0;
    std::vector<double> taus;               // the sweep: one entry per (epochs, tau) pair
    std::vector<int> sweep_epochs;
    std::vector<std::vector<RetrievalResult>> sweep;  // [entry][plain, streaming]
    double seconds = 0;
};

// The main comparison at o.tau, then (optionally) plain vs streaming-corrected for every
// temperature in sweep_taus (and o.tau) at each training length in sweep_lengths (epochs).
inline RetrievalReport retrieval_study(const RetrievalData& d, const RetrievalOptions& o,
                                       std::vector<double> sweep_taus = {}, std::vector<int> sweep_lengths = {}) {
    const auto start = std::chrono::steady_clock::now();
    RetrievalReport rep;
    rep.tau = o.tau;
    rep.epochs = o.epochs;
    for (char h : datasets::head_items(d.item_prob, o.head_mass)) rep.head_size += h;
    for (Correction c : {Correction::none, Correction::streaming, Correction::oracle})
        rep.results.push_back(train_two_tower(d, o, c));
    if (d.noise_var > 0) rep.results.push_back(bayes_ranking(d, o));
    if (!sweep_taus.empty()) {
        sweep_taus.push_back(o.tau);
        std::sort(sweep_taus.begin(), sweep_taus.end());
        sweep_taus.erase(std::unique(sweep_taus.begin(), sweep_taus.end()), sweep_taus.end());
        if (sweep_lengths.empty()) sweep_lengths = {o.epochs};
    }
    for (int epochs : sweep_lengths)
        for (double tau : sweep_taus) {
            rep.taus.push_back(tau);
            rep.sweep_epochs.push_back(epochs);
            if (epochs == o.epochs && float(tau) == o.tau) {           // already trained above
                rep.sweep.push_back({rep.results[0], rep.results[1]});
                continue;
            }
            RetrievalOptions t = o;
            t.tau = float(tau);
            t.epochs = epochs;
            rep.sweep.push_back({train_two_tower(d, t, Correction::none), train_two_tower(d, t, Correction::streaming)});
        }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch72
}  // namespace minirec
