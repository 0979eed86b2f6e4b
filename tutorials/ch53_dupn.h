// Chapter 53's experiment as functions: in a synthetic shop where four latent user traits drive the
// behaviour sequences and several tasks (datasets/trait_shop.h), DUPN trained on three tasks at
// once (multi-task) or on CTR alone (single-task); then each is transferred to a new task on new
// users, frozen under a logistic head (RT) or fine-tuned whole (FT), against DUPN trained on the new
// task alone (RS) and DUPN retrained on all tasks with the new one (RA), the paper's four settings.
// Control: a new task that the auxiliary tasks say nothing about. Printing lives in ch53_dupn.cpp.
// Deliberately left out: the paper's Taobao logs, learning to rank, the fashion-icon task, the
// convergence curves (only end values here), online A/B tests.
#pragma once
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "datasets/trait_shop.h"
#include "models/ch53_dupn.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch53 {

// CTR rests on traits 0-1, price and shop on 2 and 3, the new task on 1-3 (datasets/trait_shop.h).
using WorldOptions = datasets::TraitShopOptions;
using World = datasets::TraitShop;

inline DupnOptions dupn_options(const World& w, int dim, int hidden) {
    DupnOptions d;
    d.items = w.o.items, d.categories = w.o.categories, d.prices = 4, d.types = 2, d.times = w.o.time_buckets;
    d.queries = w.o.categories, d.profiles = 2, d.dim = dim, d.hidden = hidden, d.attention = hidden;
    return d;
}

// A batch of CTR rows is datasets/trait_shop.h's ShopBatch: each row's user sequence, query and
// profile, the candidate and the labels of all tasks. DUPN reads the first three as its Behaviours.
using Batch = datasets::ShopBatch;
inline Behaviours behaviours(const Batch& b) { return {b.B, b.T, b.item, b.category, b.price, b.type, b.time, b.query, b.profile}; }

struct Options {
    WorldOptions world;
    int worlds = 5;
    int epochs = 3, batch = 128, dim = 8, hidden = 16;   // DUPN's training on the source tasks
    double lr = 0.01, ft_lr = 0.01;   // Adam: on the source tasks; in FT and RS
    double aux_weight = 1.0;          // the auxiliary (price, shop) losses' weight in the joint loss
    double cause_weight = 0.1;        // the CTR cost's cause: the multi-task DUPN again, auxiliaries weighted this
    int head_steps = 200, ft_steps = 60;   // full-batch steps: RT's logistic head; FT and RS (DUPN + a new head)
    uint64_t seed = 42;
    bool verbose = true;   // a progress line per world on stderr
    Options() { world.users = 2000, world.transfer_users = 1000; }
};

// The quick run: 2 worlds of 800 users, 2 epochs -- too short for verdicts.
inline Options quick_options() {
    Options o;
    o.worlds = 2, o.epochs = 2, o.world.users = 800, o.world.transfer_users = 400, o.ft_steps = 30;
    return o;
}

// ---- Training on the source tasks ---------------------------------------------------------------

// [M]: the joint loss (multi-task; the auxiliary losses weighted by o.aux_weight) or the CTR loss
// alone (single-task); `epochs` 0 leaves DUPN untrained (the start of RS). RA, retraining on all
// tasks: with `ra`, the new task joins the joint loss from the start, a batch of o.batch / 4 of its
// training users (drawn with replacement) per step, with its own logistic head on rep.
inline MultiTaskDupn train_dupn(const World& w, const Options& o, bool multi_task, int epochs, uint64_t seed,
                          const datasets::TransferSplit* ra = nullptr) {
    Rng rng(splitmix64(seed));
    MultiTaskDupn m(dupn_options(w, o.dim, o.hidden), 4, 4, ra != nullptr, rng);   // price and shop: quartiles, 4 classes each
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int rows = w.o.users * w.o.ctr_rows_per_user;   // the training users' rows come first
    long step = 0;
    for (int e = 0; e < epochs; ++e)
        for (const std::vector<int>& idx : make_batches(rows, o.batch, rng)) {
            const Batch b = datasets::shop_batch(w, idx);
            const Var rep = m.net.represent(behaviours(b));                         // (B, H + d)
            Var loss = m.loss(rep, b.candidate, b.click, b.price_class, b.shop_class, multi_task, float(o.aux_weight));
            if (ra) {   // RA: the new task's loss on a batch of its training users
                const auto [r, y] = datasets::draw_training_rows(*ra, std::max(1, o.batch / 4), rng);
                loss = loss + m.new_task_loss(behaviours(datasets::shop_batch(w, r)), y);
            }
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    return m;
}

// ---- The study ----------------------------------------------------------------------------------
enum Way { kRtMulti, kRtSingle, kFtMulti, kFtSingle, kRs, kRa, kNumWays };
const char* const kWayNames[] = {"RT: multi-task DUPN frozen, logistic head", "RT: single-task (CTR) DUPN frozen",
    "FT: multi-task DUPN fine-tuned", "FT: single-task DUPN fine-tuned", "RS: DUPN trained on the new task alone",
    "RA: DUPN retrained on all tasks, the new one included"};

struct WorldResult {
    double auc[2][kNumWays] = {};    // new-task AUC; [0] the main task, [1] the control task
    double ctr_auc[3] = {};          // CTR AUC: multi-task, single-task, multi-task with cause_weight
    std::array<double, 2> weight = {};   // multi-task DUPN: mean attention on a click / a buy step ([kClick], [kBuy])
};

struct Results { std::vector<WorldResult> worlds; double seconds = 0.0; };

// One world: three DUPNs (multi-task, single-task, untrained), each transferred to the main and
// the control task; and for each task a DUPN retrained on it with the source tasks (RA).
inline WorldResult run_world(const Options& o, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    const World w = datasets::trait_shop(wo);
    MultiTaskDupn multi = train_dupn(w, o, true, o.epochs, seed + 1), single = train_dupn(w, o, false, o.epochs, seed + 2),
            none = train_dupn(w, o, false, 0, seed + 3);
    WorldResult r;
    for (int task = 0; task < 2; ++task) {   // the control task 1[z0 - z1 + noise > 0]: no auxiliary task sees it
        const datasets::TransferSplit t = datasets::transfer_split(w, task == 0 ? w.new_label : w.control_label);
        const Behaviours train = behaviours(datasets::shop_batch(w, t.train_rows)), test = behaviours(datasets::shop_batch(w, t.test_rows));
        auto rt = [&](const auto& m) { return transfer_auc(m.frozen(train), t.ytr, m.frozen(test), t.yte, o.head_steps, seed + 10); };
        auto ft = [&](auto& m) { return fine_tune_auc(m.net, train, t.ytr, test, t.yte, o.ft_steps, o.ft_lr, seed + 11); };
        double* a = r.auc[task];   // RT and FT (RS: FT from the untrained DUPN) are models/ch53_dupn.h's
        a[kRtMulti] = rt(multi), a[kRtSingle] = rt(single);
        a[kFtMulti] = ft(multi), a[kFtSingle] = ft(single), a[kRs] = ft(none);
        a[kRa] = train_dupn(w, o, true, o.epochs, seed + 1, &t).new_task_auc(test, t.yte);
    }
    Options weak = o;   // the same multi-task DUPN (same seed), its auxiliary losses weighted down
    weak.aux_weight = o.cause_weight;
    const Batch ctr = datasets::shop_batch(w, datasets::transfer_ctr_rows(w));   // CTR on all the transfer users' rows
    auto ctr_auc = [&](const MultiTaskDupn& m) { return m.ctr_auc(behaviours(ctr), ctr.candidate, ctr.click); };
    r.ctr_auc[0] = ctr_auc(multi), r.ctr_auc[1] = ctr_auc(single);
    r.ctr_auc[2] = ctr_auc(train_dupn(w, weak, true, o.epochs, seed + 1));
    Var a;   // the multi-task attention (n, T) on the first transfer users: mean weight per buy and per click step
    multi.frozen(behaviours(datasets::shop_batch(w, datasets::transfer_split(w, w.new_label).train_rows)), &a);
    r.weight = datasets::mean_weight_by_type(w, a.value().vec());
    return r;
}

inline Results run_experiment(const Options& o) {
    Results res;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < o.worlds; ++i) {
        res.worlds.push_back(run_world(o, replicate_seed(o.seed, i)));
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: new-task AUC FT %.4f, RA %.4f, RS %.4f\n", i + 1, o.worlds,
                         res.worlds.back().auc[0][kFtMulti], res.worlds.back().auc[0][kRa], res.worlds.back().auc[0][kRs]);
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

// The claims, paired per world, in AUC: the transfer claims in the main and the control task, the
// CTR cost and the attention in the main world only (the control changes only the new task).
inline Claims judge(const Options&, const Results& r) {
    Claims claims;
    struct Row { const char* claim; int a, b; const char* paper; };
    const Row rows[] = {
        {"multi-task representation, frozen (RT), transfers better than single-task", kRtMulti, kRtSingle,
         "the paper's premise; Fig. 7 transfers only the multi-task model"},
        {"fine-tuned (FT), multi-task DUPN beats single-task DUPN", kFtMulti, kFtSingle, "not reported"},
        {"FT beats training on the new task alone (RS)", kFtMulti, kRs, "Fig. 7: FT 2.5% above RS (about 0.675 vs 0.657 [P-fig])"},
        {"RT ends below RS (RS - RT)", kRs, kRtMulti, "Fig. 7: RT 0.5% below RS (about 0.651 vs 0.657 [P-fig])"},
        {"RA beats training on the new task alone (RS)", kRa, kRs, "Fig. 7: RA about 0.675 vs RS 0.657 [P-fig]"},
        {"FT above RA (FT - RA)", kFtMulti, kRa, "Fig. 7: FT and RA end level (about 0.675 [P-fig]); FT gets there faster"},
    };
    auto add = [&](const char* claim, const char* world, const char* paper, double margin, auto diff) {
        Claim c{claim, world, paper, {}, margin, 4};
        for (const WorldResult& w : r.worlds) c.diffs.push_back(diff(w));
        claims.add(c);
    };
    for (int task = 0; task < 2; ++task)
        for (const Row& x : rows)
            add(x.claim, task ? "control" : "main", task ? "—" : x.paper, 0.01,
                [&](const WorldResult& w) { return w.auc[task][x.a] - w.auc[task][x.b]; });
    add("multi-task CTR AUC above single-task's", "main", "Fig. 6: about 0.727 vs 0.718 [P-fig]", 0.005,
        [](const WorldResult& w) { return w.ctr_auc[0] - w.ctr_auc[1]; });
    add("the cost's cause: auxiliary losses weighted down raise the multi-task CTR AUC", "main", "not reported", 0.005,
        [](const WorldResult& w) { return w.ctr_auc[2] - w.ctr_auc[0]; });
    add("attention weighs buys over random clicks (mean weight per step, buy - click)", "main", "—", 0.0,
        [](const WorldResult& w) { return w.weight[datasets::kBuy] - w.weight[datasets::kClick]; });
    return claims;
}

}  // namespace ch53
}  // namespace minirec
