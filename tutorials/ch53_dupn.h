// Chapter 53's experiment as functions: in a synthetic shop where four latent user traits drive the
// behaviour sequences and several tasks (datasets/trait_shop.h), DUPN trained on three tasks at
// once (multi-task) or on CTR alone (single-task); then both representations are frozen and a
// small logistic head learns a new, held-out task on new users. Printing and pictures live in
// ch53_dupn.cpp.
// Deliberately left out: the paper's real Taobao logs, learning to rank, online A/B tests,
// fine-tuning the representation on the new task (the paper's "transfer with fine-tuning").
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "datasets/trait_shop.h"
#include "models/ch53_dupn.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch53 {

// ---- The world ----------------------------------------------------------------------------------
// A shop whose users have four latent traits (datasets/trait_shop.h): buys reveal the traits,
// clicks are noise; CTR depends on traits 0-1, price and shop preference on traits 2 and 3, and
// the held-out new task on traits 1-3.
using WorldOptions = datasets::TraitShopOptions;
using World = datasets::TraitShop;
using datasets::kBuy;

inline DupnOptions dupn_options(const World& w, int dim, int hidden) {
    DupnOptions d;
    d.items = w.o.items, d.categories = w.o.categories, d.prices = 4;
    d.types = 2, d.times = w.o.time_buckets;
    d.queries = w.o.categories, d.profiles = 2;
    d.dim = dim, d.hidden = hidden, d.attention = hidden;
    return d;
}

// A batch of CTR rows: each row's user sequence, the query (the candidate's category), the
// candidate and the labels of all tasks.
struct Batch {
    Behaviours x;
    Ids candidate, price_class, shop_class;
    Tensor click;
};

inline Batch gather(const World& w, const std::vector<int>& rows) {
    Batch b;
    const int T = w.o.length;
    b.x.B = int(rows.size()), b.x.T = T;
    b.click = Tensor({b.x.B, 1});
    for (size_t r = 0; r < rows.size(); ++r) {
        const int u = w.ctr_user[size_t(rows[r])], j = w.ctr_item[size_t(rows[r])];
        for (int t = 0; t < T; ++t) {
            const int item = w.seq_item[size_t(u * T + t)];
            b.x.item.push_back(item);
            b.x.category.push_back(w.category[size_t(item)]);
            b.x.price.push_back(w.price[size_t(item)]);
            b.x.type.push_back(w.seq_type[size_t(u * T + t)]);
            b.x.time.push_back(t * w.o.time_buckets / T);
        }
        b.x.query.push_back(w.category[size_t(j)]);
        b.x.profile.push_back(w.profile[size_t(u)]);
        b.candidate.push_back(j);
        b.price_class.push_back(w.price_class[size_t(u)]);
        b.shop_class.push_back(w.shop_class[size_t(u)]);
        b.click[r] = w.click[size_t(rows[r])];
    }
    return b;
}

// ---- Training -----------------------------------------------------------------------------------
struct TrainOptions {
    int epochs = 4, batch = 128, dim = 8, hidden = 16;
    double lr = 0.01;
    bool multi_task = true;   // false: CTR alone
};

struct Trained {
    DUPN net;
    TaskHeads heads;
};

// The joint loss [M] (multi-task) or the CTR loss alone (single-task).
inline Var task_loss(const Trained& m, const Batch& b, bool multi_task) {
    const Var rep = m.net.represent(b.x);                                   // (B, H)
    Var loss = bce_with_logits(m.heads.ctr(rep, b.candidate), b.click);
    if (multi_task)
        loss = loss + softmax_cross_entropy(m.heads.price(rep), b.price_class) +
               softmax_cross_entropy(m.heads.shop(rep), b.shop_class);
    return loss;
}

inline NamedParams params_of(const Trained& m) {
    NamedParams p = m.net.named_parameters("dupn.");
    append(p, m.heads.named_parameters("heads."));
    return p;
}

// A fresh DUPN with heads; trained on the training users' CTR rows when epochs > 0.
inline Trained train_dupn(const World& w, const TrainOptions& t, uint64_t seed) {
    Rng rng(splitmix64(seed));
    Trained m{DUPN(dupn_options(w, t.dim, t.hidden), rng), TaskHeads(w.o.items, t.dim, t.hidden, 4, 4, rng)};
    Adam adam(vars_of(params_of(m)), t.lr);
    const int rows = w.o.users * w.o.ctr_rows_per_user;   // training users' rows come first
    long step = 0;
    for (int e = 0; e < t.epochs; ++e)
        for (const std::vector<int>& idx : make_batches(rows, t.batch, rng)) {
            const Var loss = task_loss(m, gather(w, idx), t.multi_task);
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    return m;
}

// ---- Evaluation on the transfer users -----------------------------------------------------------
// Row index of the first CTR row of each transfer user: one row per user for the user-level tasks
// (the query is that row's candidate category).
inline std::vector<int> transfer_rows(const World& w, int first, int count) {
    std::vector<int> rows;
    for (int u = first; u < first + count; ++u) rows.push_back((w.o.users + u) * w.o.ctr_rows_per_user);
    return rows;
}

struct Frozen {
    Tensor rep;        // (n, H), no gradient
    Tensor weights;    // (n, T) attention
};

inline Frozen freeze(const Trained& m, const World& w, const std::vector<int>& rows) {
    NoGrad no_grad;
    Var a;
    const Var rep = m.net.represent(gather(w, rows).x, &a);
    return {rep.value(), a.value()};
}

// The new task: logistic regression on frozen features (n, F), full batch, Adam; returns the
// test AUC. The features are standardised with the training half's mean and deviation.
inline double transfer_auc(const Tensor& train_x, const std::vector<float>& train_y, const Tensor& test_x,
                           const std::vector<float>& test_y, int steps, uint64_t seed) {
    const int F = train_x.dim(1), n = train_x.dim(0), m = test_x.dim(0);
    Tensor a = train_x, b = test_x;
    for (int f = 0; f < F; ++f) {
        double mu = 0.0, sd = 0.0;
        for (int i = 0; i < n; ++i) mu += a[size_t(i * F + f)] / n;
        for (int i = 0; i < n; ++i) sd += (a[size_t(i * F + f)] - mu) * (a[size_t(i * F + f)] - mu) / n;
        sd = std::sqrt(sd) + 1e-6;
        for (int i = 0; i < n; ++i) a[size_t(i * F + f)] = float((a[size_t(i * F + f)] - mu) / sd);
        for (int i = 0; i < m; ++i) b[size_t(i * F + f)] = float((b[size_t(i * F + f)] - mu) / sd);
    }
    Rng rng(seed);
    Linear head(F, 1, rng);
    AdamOptions ao;
    ao.lr = 0.05;
    ao.weight_decay = 1e-3;
    Adam adam(vars_of(head.named_parameters()), ao);
    const Tensor y = Tensor({n, 1}, train_y);
    for (int s = 0; s < steps; ++s) {
        const Var loss = bce_with_logits(head(constant(a)), y);
        adam.zero_grad();
        backward(loss);
        adam.step();
    }
    NoGrad no_grad;
    const Var z = head(constant(b));
    return auc(std::vector<float>(z.value().data(), z.value().data() + m), test_y);
}

// CTR AUC on all the transfer users' rows (the task both models were trained on).
inline double ctr_auc(const Trained& m, const World& w) {
    NoGrad no_grad;
    std::vector<int> rows(size_t(w.o.transfer_users * w.o.ctr_rows_per_user));
    std::iota(rows.begin(), rows.end(), w.o.users * w.o.ctr_rows_per_user);
    const Batch b = gather(w, rows);
    const Var z = m.heads.ctr(m.net.represent(b.x), b.candidate);
    return auc(z.value().vec(), b.click.vec());
}

// ---- The study ----------------------------------------------------------------------------------
enum Rep { kMulti, kSingle, kUntrained, kTraits, kNumReps };
const char* const kRepNames[] = {"DUPN multi-task", "DUPN single-task (CTR)", "DUPN untrained", "true traits (ceiling)"};

struct StudyOptions {
    WorldOptions world;
    TrainOptions train;
    int seeds = 3;
    int head_steps = 200;
    uint64_t seed = 42;
    bool verbose = true;
};

struct SeedResult {
    double new_auc[kNumReps] = {};
    double ctr_auc[2] = {};          // multi, single
    double buy_mass[2] = {};         // mean attention on a buy / on a click step (multi-task model)
    double ctr_buy_mass = 0.0;       // the same ratio's numerator for the single-task model
    std::vector<float> type_time;    // (2, T) mean attention by behaviour type and position (multi)
    Frozen example;                  // the first transfer users' attention (multi)
    Ids example_types;               // (n_example, T)
};

struct StudyReport {
    std::vector<SeedResult> seeds;
    double seconds = 0.0;
    template <class F> double mean(F f) const { return mean_over(seeds, f); }
    template <class F> double min(F f) const { return min_over(seeds, f); }
};

// Mean attention weight on buy steps and on click steps over the transfer users (weights (n, T)).
inline void attention_by_type(const World& w, const Tensor& a, int first_user, double* buy, double* click) {
    const int n = a.dim(0), T = a.dim(1);
    double sb = 0.0, sc = 0.0;
    long nb = 0, nc = 0;
    for (int i = 0; i < n; ++i)
        for (int t = 0; t < T; ++t) {
            const bool is_buy = w.seq_type[size_t((w.o.users + first_user + i) * T + t)] == kBuy;
            (is_buy ? sb : sc) += a[size_t(i * T + t)];
            (is_buy ? nb : nc) += 1;
        }
    *buy = nb ? sb / nb : 0.0;
    *click = nc ? sc / nc : 0.0;
}

inline SeedResult run_seed(const StudyOptions& o, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    const World w = datasets::trait_shop(wo);
    TrainOptions multi = o.train, single = o.train, none = o.train;
    single.multi_task = false;
    none.epochs = 0;
    const Trained models[3] = {train_dupn(w, multi, seed + 1), train_dupn(w, single, seed + 2), train_dupn(w, none, seed + 3)};

    const int half = wo.transfer_users / 2, T = wo.length;
    const std::vector<int> train_rows = transfer_rows(w, 0, half), test_rows = transfer_rows(w, half, wo.transfer_users - half);
    std::vector<float> ytr, yte;
    for (int u = 0; u < wo.transfer_users; ++u) (u < half ? ytr : yte).push_back(w.new_label[size_t(wo.users + u)]);
    SeedResult r;
    for (int k = 0; k < 3; ++k) {
        const Frozen a = freeze(models[k], w, train_rows), b = freeze(models[k], w, test_rows);
        r.new_auc[k] = transfer_auc(a.rep, ytr, b.rep, yte, o.head_steps, seed + 10);
        if (k == kMulti) {
            double click = 0.0;
            attention_by_type(w, a.weights, 0, &r.buy_mass[0], &click);
            r.buy_mass[1] = click;
            r.type_time.assign(size_t(2 * T), 0.0f);
            std::vector<int> count(size_t(2 * T), 0);
            for (int i = 0; i < half; ++i)
                for (int t = 0; t < T; ++t) {
                    const int ty = w.seq_type[size_t((wo.users + i) * T + t)];
                    r.type_time[size_t(ty * T + t)] += a.weights[size_t(i * T + t)];
                    count[size_t(ty * T + t)] += 1;
                }
            for (size_t c = 0; c < count.size(); ++c) r.type_time[c] /= float(std::max(1, count[c]));
            const int n_ex = std::min(12, half);
            r.example = freeze(models[k], w, transfer_rows(w, 0, n_ex));
            r.example_types.assign(w.seq_type.begin() + size_t(wo.users * T), w.seq_type.begin() + size_t((wo.users + n_ex) * T));
        }
        if (k == kSingle) {
            double click = 0.0;
            attention_by_type(w, a.weights, 0, &r.ctr_buy_mass, &click);
            r.ctr_buy_mass /= std::max(click, 1e-12);
        }
    }
    {   // the ceiling: the four true traits themselves as features
        const int K = wo.traits;
        Tensor a({half, K}), b({wo.transfer_users - half, K});
        for (int u = 0; u < wo.transfer_users; ++u)
            for (int k = 0; k < K; ++k)
                (u < half ? a[size_t(u * K + k)] : b[size_t((u - half) * K + k)]) = w.z[size_t((wo.users + u) * K + k)];
        r.new_auc[kTraits] = transfer_auc(a, ytr, b, yte, o.head_steps, seed + 10);
    }
    r.ctr_auc[0] = ctr_auc(models[0], w);
    r.ctr_auc[1] = ctr_auc(models[1], w);
    return r;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < o.seeds; ++s) {
        rep.seeds.push_back(run_seed(o, replicate_seed(o.seed, s)));
        const SeedResult& r = rep.seeds.back();
        if (o.verbose)
            std::fprintf(stderr, "seed %d/%d: new-task AUC multi %.4f  single %.4f  untrained %.4f  traits %.4f\n", s + 1,
                         o.seeds, r.new_auc[kMulti], r.new_auc[kSingle], r.new_auc[kUntrained], r.new_auc[kTraits]);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch53
}  // namespace minirec
