// Chapter 70's experiment as a function: requests with candidate items whose clicks interact
// (datasets/slates.h: an earlier similar item on the list lowers a later one's click
// probability), an initial ranker that scores items one at a time, and three ways to re-rank its
// list - PRM (models/ch70_prm.h), PRM without PV or without positions, a pointwise DNN - judged by
// the expected clicks of the re-ranked top K under the true click model. Printing and pictures
// live in ch70_prm.cpp. Deliberately left out: real logs, the paper's pre-trained ranker network.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/slates.h"
#include "models/ch70_prm.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch70 {

// The orders compared: kInitial and kOracle are not learned.
enum Order { kInitial, kPointwise, kPRM, kPRMNoPV, kPRMNoPos, kOracle, kNumOrders };
const char* const kOrderNames[] = {"initial ranker", "pointwise DNN", "PRM", "PRM without PV", "PRM without PE",
                                   "oracle (greedy on the true model)"};
const int kNumLearned = 4;   // kPointwise .. kPRMNoPos

struct StudyOptions {
    datasets::SlateOptions data;   // the world; seed set per replicate; num_requests = train + test
    int test_requests = 1000;
    double ranker_noise = 0.5;     // the initial ranker's score is logit(r_i) + N(0, ranker_noise^2)
    int replicates = 2;
    int epochs = 10;
    int batch = 64;
    double lr = 0.005;             // Adam
    int dim = 16;                  // d
    int heads = 2;
    int blocks = 1;                // Nx
    int top_k = 4;                 // the metric looks at the re-ranked top K
    uint64_t seed = 42;
    bool verbose = true;
    StudyOptions() {
        data.num_requests = 16000;
        data.num_candidates = 10;  // n: the initial list is every candidate, sorted by the ranker
        data.slate_size = 4;
        data.num_topics = 4;
        data.words_per_topic = 3;  // short topic vocabularies: same-topic titles overlap a lot
        data.shared_words = 20;
        data.title_words = 3;
        data.redundancy = 1.0;     // a same-title item shown earlier removes a later one's click
        data.quality_mean = -1.5;
    }
};

struct Replicate {
    double clicks_at_k[kNumOrders] = {};     // expected clicks on the top K under the true model
    double clicks_list[kNumOrders] = {};     // expected clicks on the whole re-ranked list
    double topics_at_k[kNumOrders] = {};     // distinct topics in the top K
    std::vector<std::vector<double>> loss;   // [learned model][epoch] mean training loss
};

struct StudyReport {
    std::vector<Replicate> reps;
    double seconds = 0.0;
    template <class F> double mean(F f) const { return mean_over(reps, f); }
    template <class F> double min(F f) const { return min_over(reps, f); }
};

// One request as the re-rankers see it: the initial list (candidate indices in the ranker's
// order), the per-item inputs in that order, and the clicks logged on that order.
struct ListRow {
    Ids order;                    // (n) candidate index at each initial position
    std::vector<float> x, pv;     // (n, F), (n, 1)
    std::vector<float> clicks;    // (n)
};

// x_i: the item's topic one-hot, then its title words multi-hot; pv_i: the ranker's score.
inline int feature_dim(const datasets::SlateOptions& o) {
    return o.num_topics + o.num_topics * o.words_per_topic + o.shared_words;
}

inline ListRow make_row(const datasets::SlateData& d, const datasets::SlateRequest& q, const datasets::SlateOptions& o,
                        double noise, Rng& rng) {
    const int n = int(q.items.size()), F = feature_dim(o);
    std::vector<double> score(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        const double r = std::min(std::max(double(q.relevance[size_t(i)]), 1e-6), 1.0 - 1e-6);
        score[size_t(i)] = std::log(r / (1.0 - r)) + noise * rng.normal();
    }
    ListRow row;
    row.order.resize(size_t(n));
    std::iota(row.order.begin(), row.order.end(), 0);
    std::stable_sort(row.order.begin(), row.order.end(), [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
    row.x.assign(size_t(n) * F, 0.0f);
    for (int p = 0; p < n; ++p) {
        const int c = row.order[size_t(p)];
        float* xi = &row.x[size_t(p) * F];
        xi[q.topic[size_t(c)]] = 1.0f;
        for (int w : q.titles[size_t(c)]) xi[o.num_topics + w] = 1.0f;
        row.pv.push_back(float(score[size_t(c)]));
    }
    for (double a : datasets::slate_item_click_probs(d, q, row.order)) row.clicks.push_back(rng.bernoulli(float(a)) ? 1.0f : 0.0f);
    return row;
}

struct Batch {
    Var x, pv;
    Tensor y;   // (B, n)
};

inline Batch gather(const std::vector<ListRow>& rows, const std::vector<int>& idx, int F) {
    const int B = int(idx.size()), n = int(rows[0].order.size());
    Tensor x({B, n, F}), pv({B, n, 1}), y({B, n});
    for (int b = 0; b < B; ++b) {
        const ListRow& r = rows[size_t(idx[size_t(b)])];
        std::copy(r.x.begin(), r.x.end(), x.data() + size_t(b) * n * F);
        std::copy(r.pv.begin(), r.pv.end(), pv.data() + size_t(b) * n);
        std::copy(r.clicks.begin(), r.clicks.end(), y.data() + size_t(b) * n);
    }
    return {constant(x), constant(pv), y};
}

// The learned re-rankers, trained side by side on the same batches.
struct Models {
    Pointwise pointwise;
    PRM prm, no_pv, no_pos;
    Models(const StudyOptions& o, int F, Rng& rng) {
        PRMOptions p;
        p.features = F;
        p.pv_dim = 1;
        p.list_len = o.data.num_candidates;
        p.dim = o.dim;
        p.heads = o.heads;
        p.blocks = o.blocks;
        pointwise = Pointwise(F + 1, 2 * o.dim, rng);
        prm = PRM(p, rng);
        p.use_pv = false;
        no_pv = PRM(p, rng);
        p.use_pv = true;
        p.use_position = false;
        no_pos = PRM(p, rng);
    }
    // logits (B, n) of learned model m (0: pointwise, 1: PRM, 2: no PV, 3: no PE)
    Var logits(int m, const Batch& b) {
        return m == 0 ? pointwise(b.x, b.pv) : m == 1 ? prm(b.x, b.pv) : m == 2 ? no_pv(b.x, b.pv) : no_pos(b.x, b.pv);
    }
    NamedParams named_parameters() const {
        NamedParams p = pointwise.named_parameters("pointwise.");
        append(p, prm.named_parameters("prm."));
        append(p, no_pv.named_parameters("no_pv."));
        append(p, no_pos.named_parameters("no_pos."));
        return p;
    }
    Var loss(int m, const Batch& b) {
        const Var z = logits(m, b);
        return m == 0 ? bce_with_logits(reshape(z, {-1, 1}), b.y.reshape({-1, 1})) : list_softmax_loss(z, b.y);
    }
};

// Re-rank a list by scores over its initial positions: candidate indices, best first.
inline Ids rerank(const Ids& order, const float* score) {
    std::vector<int> pos(order.size());
    std::iota(pos.begin(), pos.end(), 0);
    std::stable_sort(pos.begin(), pos.end(), [&](int a, int b) { return score[a] > score[b]; });
    Ids out;
    for (int p : pos) out.push_back(order[size_t(p)]);
    return out;
}

// The oracle: build the list greedily, each time adding the item with the largest true click
// probability given the items already above it.
inline Ids greedy_oracle(const datasets::SlateData& d, const datasets::SlateRequest& q) {
    const int n = int(q.items.size());
    Ids chosen;
    std::vector<bool> used(size_t(n), false);
    for (int step = 0; step < n; ++step) {
        int best = -1;
        double best_a = -1.0;
        for (int c = 0; c < n; ++c) {
            if (used[size_t(c)]) continue;
            Ids s = chosen;
            s.push_back(c);
            const double a = datasets::slate_item_click_probs(d, q, s).back();
            if (a > best_a) best_a = a, best = c;
        }
        used[size_t(best)] = true;
        chosen.push_back(best);
    }
    return chosen;
}

// Expected clicks of a whole list and of its top k, and the distinct topics in the top k.
inline void judge(const datasets::SlateData& d, const datasets::SlateRequest& q, const Ids& list, int k, double* at_k,
                  double* all, double* topics) {
    const std::vector<double> a = datasets::slate_item_click_probs(d, q, list);
    std::set<int> t;
    for (size_t i = 0; i < a.size(); ++i) {
        *all += a[i];
        if (int(i) < k) *at_k += a[i], t.insert(q.topic[size_t(list[i])]);
    }
    *topics += double(t.size());
}

inline Replicate run_replicate(const StudyOptions& o, uint64_t seed) {
    datasets::SlateOptions dopt = o.data;
    dopt.seed = seed;
    const datasets::SlateData d = datasets::slates(dopt);
    const int F = feature_dim(dopt), N = dopt.num_requests, n_train = N - o.test_requests;
    if (n_train < o.batch) throw std::invalid_argument("ch70: need more requests than test_requests + batch");
    Rng rng(splitmix64(seed + 11));
    std::vector<ListRow> rows;
    for (const datasets::SlateRequest& q : d.requests) rows.push_back(make_row(d, q, dopt, o.ranker_noise, rng));

    Models m(o, F, rng);
    Adam adam(vars_of(m.named_parameters()), o.lr);   // Adam is per parameter: one optimiser for all four
    Replicate rep;
    rep.loss.assign(kNumLearned, {});
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        std::vector<double> total(kNumLearned, 0.0);
        int batches = 0;
        for (const std::vector<int>& idx : make_batches(n_train, o.batch, rng)) {
            const Batch b = gather(rows, idx, F);
            Var loss;   // the four models share no parameter, so the sum trains each on its own loss
            for (int k = 0; k < kNumLearned; ++k) {
                const Var l = m.loss(k, b);
                total[size_t(k)] += l.item();
                loss = k == 0 ? l : loss + l;
            }
            adam.zero_grad();
            backward(loss);
            adam.step();
            ++batches;
            if (++step % 50 == 0) check_finite(total[1], step);
        }
        for (int k = 0; k < kNumLearned; ++k) rep.loss[size_t(k)].push_back(total[size_t(k)] / batches);
        if (o.verbose)
            std::fprintf(stderr, "  epoch %d/%d: loss pointwise %.4f  PRM %.4f\n", epoch + 1, o.epochs, rep.loss[0].back(),
                         rep.loss[1].back());
    }

    std::vector<int> test(size_t(o.test_requests));
    std::iota(test.begin(), test.end(), n_train);
    NoGrad no_grad;
    const Batch b = gather(rows, test, F);
    std::vector<Var> z;
    for (int k = 0; k < kNumLearned; ++k) z.push_back(m.logits(k, b));
    const int n = dopt.num_candidates;
    for (size_t t = 0; t < test.size(); ++t) {
        const ListRow& r = rows[size_t(test[t])];
        const datasets::SlateRequest& q = d.requests[size_t(test[t])];
        for (int ord = 0; ord < kNumOrders; ++ord) {
            const Ids list = ord == kInitial ? r.order
                             : ord == kOracle ? greedy_oracle(d, q)
                                              : rerank(r.order, z[size_t(ord - kPointwise)].value().data() + t * size_t(n));
            judge(d, q, list, o.top_k, &rep.clicks_at_k[ord], &rep.clicks_list[ord], &rep.topics_at_k[ord]);
        }
    }
    for (int ord = 0; ord < kNumOrders; ++ord) {
        rep.clicks_at_k[ord] /= double(test.size());
        rep.clicks_list[ord] /= double(test.size());
        rep.topics_at_k[ord] /= double(test.size());
    }
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.replicates; ++r) {
        if (o.verbose) std::fprintf(stderr, "world %d/%d\n", r + 1, o.replicates);
        rep.reps.push_back(run_replicate(o, replicate_seed(o.seed, r)));
        const Replicate& x = rep.reps.back();
        if (o.verbose)
            std::fprintf(stderr, "  expected clicks@%d: initial %.4f  pointwise %.4f  PRM %.4f  oracle %.4f\n", o.top_k,
                         x.clicks_at_k[kInitial], x.clicks_at_k[kPointwise], x.clicks_at_k[kPRM], x.clicks_at_k[kOracle]);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch70
}  // namespace minirec
