// Chapter 70's experiment as functions: requests with candidate items whose clicks interact
// (datasets/slates.h: an earlier similar item on the list lowers a later one's click
// probability), an initial ranker that scores items one at a time, a pre-trained user-item model
// whose hidden layer is PRM's personalized vector (PV), and five re-rankers trained with the same
// list loss on the logged clicks: PRM, PRM without PV (the paper's PRM-BASE), PRM without the
// position embedding, DLCM and a pointwise scorer. Judged by the expected clicks of the re-ranked
// top K under the true click model. Left out: real logs, the online test.
#pragma once
#include <algorithm>
#include <cstdio>
#include <vector>

#include "datasets/ch70_rerank_lists.h"
#include "models/ch70_prm.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch70 {

enum Order { kInitial, kPointwise, kDLCM, kPRM, kPRMBase, kPRMNoPE, kOracle, kNumOrders };
const char* const kOrderNames[] = {"initial ranker", "pointwise (list loss)", "DLCM (GRU)", "PRM (with PV)",
                                   "PRM-BASE (no PV)", "PRM without PE", "oracle (greedy on the true model)"};

struct Options {
    datasets::SlateOptions data = datasets::rerank_world();   // seed set per world; num_requests = train + test
    int worlds = 5;                // per kind (main: redundancy as set; control: redundancy 0)
    int test_requests = 1000;
    double ranker_noise = 0.5;     // the initial ranker's score is logit(r_i) + N(0, ranker_noise^2)
    int epochs = 10;
    int pretrain_epochs = 3;       // of the PV model, on the training lists' clicks
    int pv_dim = 8;
    int batch = 64;
    double lr = 0.005;             // Adam
    PRMOptions prm;                // d = 16, 2 heads, Nx = 1 block; the sizes of the inputs are set per world
    int top_k = 4;                 // the metric looks at the re-ranked top K
    double margin = 0.005;         // practical margin on expected clicks@K (about 0.4%)
    bool control = true;
    uint64_t seed = 42;
    bool verbose = true;
};

inline Options quick_options() {
    Options o;
    o.worlds = 2;
    o.data.num_requests = 3000;
    o.test_requests = 500;
    o.epochs = 5;
    return o;
}

struct World {
    double clicks_at_k[kNumOrders] = {};     // expected clicks on the top K under the true model
    double topics_at_k[kNumOrders] = {};     // distinct topics in the top K
};

struct Results {
    std::vector<World> worlds[2];            // [main, control][world]
};

// Pre-trains the PV model on the training lists' item rows (click cross-entropy), then writes
// every row's PV.
inline void pretrain_pv(const Options& o, std::vector<datasets::ListRow>& rows, int n_train, int users, Rng& rng) {
    const int T = o.data.num_topics, F = datasets::feature_dim(o.data);
    const std::vector<float> rates = datasets::topic_click_rates(rows, n_train, users, T);
    PVModel pv(users, T, F, o.pv_dim, rng);
    Adam adam(vars_of(pv.named_parameters()), o.lr);
    for (int epoch = 0; epoch < o.pretrain_epochs; ++epoch)
        for (const std::vector<int>& idx : make_batches(n_train, o.batch, rng)) {
            const datasets::ListBatch b = datasets::gather(rows, idx);
            const Var uf = constant(datasets::user_topic_features(rates, b.users, T));   // (B n, T)
            const Var loss = bce_with_logits(pv.logit(b.users, uf, constant(b.x.reshape({-1, F}))), b.y.reshape({-1, 1}));
            adam.zero_grad();
            backward(loss);
            adam.step();
        }
    NoGrad no_grad;
    const datasets::ListBatch b = datasets::gather(rows, 0, int(rows.size()));   // every list
    const Var uf = constant(datasets::user_topic_features(rates, b.users, T));
    datasets::set_pv(rows, pv.pv(b.users, uf, constant(b.x.reshape({-1, F}))).value());   // (N n, pv_dim)
}

inline World run_world(const Options& o, double redundancy, uint64_t seed) {
    datasets::SlateOptions dopt = o.data;
    dopt.seed = seed;
    dopt.redundancy = redundancy;
    const datasets::SlateData d = datasets::slates(dopt);
    const int N = dopt.num_requests, n_train = N - o.test_requests, n = dopt.num_candidates;
    Rng rng(splitmix64(seed + 11));
    std::vector<datasets::ListRow> rows = datasets::make_rows(d, dopt, o.ranker_noise, rng);
    pretrain_pv(o, rows, n_train, dopt.num_users, rng);

    Rerankers m(o.prm, datasets::feature_dim(dopt), o.pv_dim, n, rng);
    Adam adam(vars_of(m.named_parameters()), o.lr);   // Adam is per parameter: one optimiser for all
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        double total = 0.0;
        for (const std::vector<int>& idx : make_batches(n_train, o.batch, rng)) {
            const datasets::ListBatch b = datasets::gather(rows, idx);
            const std::vector<Var> z = m.logits(constant(b.x), constant(b.pv), constant(b.pos));   // (B, n) each
            Var loss = list_softmax_loss(z[0], b.y);   // every model: the same list loss
            for (size_t k = 1; k < z.size(); ++k) loss = loss + list_softmax_loss(z[k], b.y);
            adam.zero_grad();
            backward(loss);
            adam.step();
            total += loss.item();
        }
        check_finite(total, epoch);
    }
    NoGrad no_grad;
    const datasets::ListBatch b = datasets::gather(rows, n_train, o.test_requests);   // the held-out lists
    const std::vector<Var> z = m.logits(constant(b.x), constant(b.pv), constant(b.pos));   // kPointwise .. kPRMNoPE
    World w;
    for (int t = 0; t < o.test_requests; ++t) {
        const datasets::SlateRequest& q = d.requests[size_t(n_train + t)];
        const Ids& initial = rows[size_t(n_train + t)].order;
        for (int ord = 0; ord < kNumOrders; ++ord) {
            const Ids list = ord == kInitial ? initial
                             : ord == kOracle ? datasets::greedy_oracle(d, q)
                                              : datasets::rerank(initial, z[size_t(ord - kPointwise)].value().data() + size_t(t * n));
            const datasets::TopK top = datasets::top_k_truth(d, q, list, o.top_k);
            for (double a : top.clicks) w.clicks_at_k[ord] += a / double(o.test_requests);
            w.topics_at_k[ord] += double(top.topics) / double(o.test_requests);
        }
    }
    return w;
}

// World w of either kind uses replicate_seed(seed, w): the control differs only in redundancy 0.
inline Results run_experiment(const Options& o) {
    Results r;
    for (int kind = 0; kind < (o.control ? 2 : 1); ++kind)
        for (int w = 0; w < o.worlds; ++w) {
            r.worlds[kind].push_back(run_world(o, kind == 0 ? o.data.redundancy : 0.0, replicate_seed(o.seed, w)));
            const World& x = r.worlds[kind].back();
            if (o.verbose)
                std::fprintf(stderr, "%s world %d: clicks@%d initial %.4f  pointwise %.4f  DLCM %.4f  PRM %.4f  oracle %.4f\n",
                             kind == 0 ? "main" : "control", w + 1, o.top_k, x.clicks_at_k[kInitial], x.clicks_at_k[kPointwise],
                             x.clicks_at_k[kDLCM], x.clicks_at_k[kPRM], x.clicks_at_k[kOracle]);
        }
    return r;
}

inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    for (int kind = 0; kind < (o.control ? 2 : 1); ++kind) {
        const std::string world = kind == 0 ? "main" : "control";
        auto diff = [&](int a, int b) {
            std::vector<double> d;
            for (const World& w : r.worlds[kind]) d.push_back(w.clicks_at_k[a] - w.clicks_at_k[b]);
            return d;
        };
        c.add({"PRM beats DLCM (clicks@" + std::to_string(o.top_k) + ")", world,
               "Table 5: MAP 30.15 vs 28.19; P@5 13.58 vs 12.21 [P]", diff(kPRM, kDLCM), o.margin});
        c.add({"PRM beats a pointwise scorer trained with the same list loss", world,
               "not run; Table 3's LTR re-rankers (SVMRank, LambdaMART) on the SVMRank list: MAP 62.14, 63.38 vs PRM-BASE 65.60 [P]", diff(kPRM, kPointwise), o.margin});
        c.add({"PV helps: PRM beats PRM-BASE (no PV)", world, "Table 5: MAP 30.15 vs 28.85 (+4.5%) [P]",
               diff(kPRM, kPRMBase), o.margin});
        c.add({"PE helps: PRM beats PRM without position embedding", world,
               "Table 4 (Yahoo, PRM-BASE): MAP 65.60 vs 64.73 [P]", diff(kPRM, kPRMNoPE), o.margin});
        c.add({"PRM beats the initial ranker's order", world, "Table 6 (online, vs no re-ranking): IPV +5.69% [P]",
               diff(kPRM, kInitial), o.margin});
        double worst = 1e9;   // the greedy oracle knows the true click model: a check, not evidence
        for (const World& w : r.worlds[kind]) worst = std::min(worst, w.clicks_at_k[kOracle] - w.clicks_at_k[kPRM]);
        c.add_sanity(world + ": the greedy oracle above PRM in every world (smallest gap)", worst > 0, num("%+.4f", worst));
    }
    return c;
}

}  // namespace ch70
}  // namespace minirec
