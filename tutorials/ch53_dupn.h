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
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "datasets/trait_shop.h"
#include "models/ch53_dupn.h"
#include "nn/losses.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch53 {

// CTR rests on traits 0-1, price and shop on 2 and 3, the new task on 1-3 (datasets/trait_shop.h).
using WorldOptions = datasets::TraitShopOptions;
using World = datasets::TraitShop;
using datasets::kBuy;

inline DupnOptions dupn_options(const World& w, int dim, int hidden) {
    DupnOptions d;
    d.items = w.o.items, d.categories = w.o.categories, d.prices = 4, d.types = 2, d.times = w.o.time_buckets;
    d.queries = w.o.categories, d.profiles = 2, d.dim = dim, d.hidden = hidden, d.attention = hidden;
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
            b.x.item.push_back(item), b.x.category.push_back(w.category[size_t(item)]);
            b.x.price.push_back(w.price[size_t(item)]), b.x.type.push_back(w.seq_type[size_t(u * T + t)]);
            b.x.time.push_back(t * w.o.time_buckets / T);
        }
        b.x.query.push_back(w.category[size_t(j)]), b.x.profile.push_back(w.profile[size_t(u)]);
        b.candidate.push_back(j);
        b.price_class.push_back(w.price_class[size_t(u)]), b.shop_class.push_back(w.shop_class[size_t(u)]);
        b.click[r] = w.click[size_t(rows[r])];
    }
    return b;
}

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
using Transfer = datasets::TransferSplit;
using datasets::transfer_split;
struct Trained { DUPN net; TaskHeads heads; Linear new_head; };   // new_head: RA's only

// [M]: the joint loss (multi-task; the auxiliary losses weighted by o.aux_weight) or the CTR loss
// alone (single-task); `epochs` 0 leaves DUPN untrained (the start of RS). RA, retraining on all
// tasks: with `ra`, the new task joins the joint loss from the start, a batch of o.batch / 4 of its
// training users (drawn with replacement) per step, with its own logistic head on rep.
inline Trained train_dupn(const World& w, const Options& o, bool multi_task, int epochs, uint64_t seed,
                          const Transfer* ra = nullptr) {
    Rng rng(splitmix64(seed));
    DUPN net(dupn_options(w, o.dim, o.hidden), rng);
    Trained m{net, TaskHeads(w.o.items, o.dim, net.rep_dim(), 4, 4, rng), {}};
    NamedParams params = m.net.named_parameters("dupn.");
    append(params, m.heads.named_parameters("heads."));
    if (ra) m.new_head = Linear(net.rep_dim(), 1, rng), append(params, m.new_head.named_parameters("new."));
    Adam adam(vars_of(params), o.lr);
    const int rows = w.o.users * w.o.ctr_rows_per_user;   // the training users' rows come first
    long step = 0;
    for (int e = 0; e < epochs; ++e)
        for (const std::vector<int>& idx : make_batches(rows, o.batch, rng)) {
            const Batch b = gather(w, idx);
            const Var rep = m.net.represent(b.x);                                   // (B, H + d)
            Var loss = bce_with_logits(m.heads.ctr(rep, m.net.embed.item(b.candidate), b.candidate), b.click);
            if (multi_task)
                loss = loss + (softmax_cross_entropy(m.heads.price(rep), b.price_class) +
                               softmax_cross_entropy(m.heads.shop(rep), b.shop_class)) * float(o.aux_weight);
            if (ra) {   // RA: the new task's loss on a batch of its training users
                std::vector<int> r;
                std::vector<float> y;
                for (int k = 0; k < std::max(1, o.batch / 4); ++k) {
                    const size_t i = size_t(rng.randint(int(ra->train_rows.size())));
                    r.push_back(ra->train_rows[i]), y.push_back(ra->ytr[i]);
                }
                loss = loss + bce_with_logits(m.new_head(m.net.represent(gather(w, r).x)), Tensor({int(r.size()), 1}, y));
            }
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    return m;
}

// RA's AUC on the new task's test users.
inline double ra_auc(const Trained& m, const World& w, const Transfer& t) {
    NoGrad no_grad;
    return auc(m.new_head(m.net.represent(gather(w, t.test_rows).x)).value().vec(), t.yte);
}

// CTR AUC on all the transfer users' rows (the task both models were trained on).
inline double ctr_auc(const Trained& m, const World& w) {
    NoGrad no_grad;
    std::vector<int> rows(size_t(w.o.transfer_users * w.o.ctr_rows_per_user));
    std::iota(rows.begin(), rows.end(), w.o.users * w.o.ctr_rows_per_user);
    const Batch b = gather(w, rows);
    return auc(m.heads.ctr(m.net.represent(b.x), m.net.embed.item(b.candidate), b.candidate).value().vec(), b.click.vec());
}

// ---- Transfer to the new task on the transfer users ---------------------------------------------
inline Tensor frozen(const Trained& m, const World& w, const std::vector<int>& rows, Var* weights = nullptr) {
    NoGrad no_grad;
    return m.net.represent(gather(w, rows).x, weights).value();   // (n, H + d)
}

// FT: a new logistic head on rep, trained together with the whole DUPN on the new task (Adam, full
// batch); returns the held-out AUC. From an untrained DUPN this is RS, DUPN on the new task alone.
// The weights are restored afterwards, so one trained model serves several transfers.
inline double fine_tune_auc(Trained& m, const World& w, const Transfer& t, const Options& o, uint64_t seed) {
    const std::vector<Var> shared = vars_of(m.net.named_parameters());
    std::vector<Tensor> saved;
    for (const Var& p : shared) saved.push_back(p.value());
    Rng rng(seed);
    Linear head(m.net.rep_dim(), 1, rng);
    std::vector<Var> params = shared, head_params = vars_of(head.named_parameters());
    params.insert(params.end(), head_params.begin(), head_params.end());
    Adam adam(params, o.ft_lr);
    const Batch train = gather(w, t.train_rows), test = gather(w, t.test_rows);
    const Tensor y({int(t.ytr.size()), 1}, t.ytr);
    for (int s = 0; s < o.ft_steps; ++s) {
        const Var loss = bce_with_logits(head(m.net.represent(train.x)), y);
        adam.zero_grad();
        backward(loss);
        adam.step();
    }
    NoGrad no_grad;
    const double result = auc(head(m.net.represent(test.x)).value().vec(), t.yte);
    for (size_t i = 0; i < shared.size(); ++i) Var(shared[i]).value_mut() = saved[i];
    return result;
}

// ---- The study ----------------------------------------------------------------------------------
enum Way { kRtMulti, kRtSingle, kFtMulti, kFtSingle, kRs, kRa, kNumWays };
const char* const kWayNames[] = {"RT: multi-task DUPN frozen, logistic head", "RT: single-task (CTR) DUPN frozen",
    "FT: multi-task DUPN fine-tuned", "FT: single-task DUPN fine-tuned", "RS: DUPN trained on the new task alone",
    "RA: DUPN retrained on all tasks, the new one included"};

struct WorldResult {
    double auc[2][kNumWays] = {};    // new-task AUC; [0] the main task, [1] the control task
    double ctr_auc[3] = {};          // CTR AUC: multi-task, single-task, multi-task with cause_weight
    double buy_weight = 0, click_weight = 0;   // multi-task DUPN: mean attention on a buy / a click step
};

struct Results { std::vector<WorldResult> worlds; double seconds = 0.0; };

// One world: three DUPNs (multi-task, single-task, untrained), each transferred to the main and
// the control task; and for each task a DUPN retrained on it with the source tasks (RA).
inline WorldResult run_world(const Options& o, uint64_t seed) {
    WorldOptions wo = o.world;
    wo.seed = seed;
    const World w = datasets::trait_shop(wo);
    Trained multi = train_dupn(w, o, true, o.epochs, seed + 1), single = train_dupn(w, o, false, o.epochs, seed + 2),
            none = train_dupn(w, o, false, 0, seed + 3);
    WorldResult r;
    for (int task = 0; task < 2; ++task) {   // the control task 1[z0 - z1 + noise > 0]: no auxiliary task sees it
        const Transfer t = transfer_split(w, task == 0 ? w.new_label : w.control_label);
        double* a = r.auc[task];
        a[kRtMulti] = transfer_auc(frozen(multi, w, t.train_rows), t.ytr, frozen(multi, w, t.test_rows), t.yte, o.head_steps, seed + 10);
        a[kRtSingle] = transfer_auc(frozen(single, w, t.train_rows), t.ytr, frozen(single, w, t.test_rows), t.yte, o.head_steps, seed + 10);
        a[kFtMulti] = fine_tune_auc(multi, w, t, o, seed + 11);
        a[kFtSingle] = fine_tune_auc(single, w, t, o, seed + 11);
        a[kRs] = fine_tune_auc(none, w, t, o, seed + 11);
        a[kRa] = ra_auc(train_dupn(w, o, true, o.epochs, seed + 1, &t), w, t);
    }
    Options weak = o;   // the same multi-task DUPN (same seed), its auxiliary losses weighted down
    weak.aux_weight = o.cause_weight;
    r.ctr_auc[0] = ctr_auc(multi, w), r.ctr_auc[1] = ctr_auc(single, w);
    r.ctr_auc[2] = ctr_auc(train_dupn(w, weak, true, o.epochs, seed + 1), w);
    Var a;   // the multi-task attention (n, T) on the first transfer users: mean weight per buy and per click step
    frozen(multi, w, transfer_split(w, w.new_label).train_rows, &a);
    double sum[2] = {}, count[2] = {};
    for (size_t i = 0; i < a.value().size(); ++i) {
        const int buy = w.seq_type[size_t(wo.users * wo.length) + i] == kBuy;
        sum[buy] += a.value()[i], count[buy] += 1.0;
    }
    r.buy_weight = sum[1] / std::max(1.0, count[1]), r.click_weight = sum[0] / std::max(1.0, count[0]);
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
    for (int task = 0; task < 2; ++task)
        for (const Row& x : rows) {
            Claim c{x.claim, task ? "control" : "main", task ? "—" : x.paper, {}, 0.01, 4};
            for (const WorldResult& w : r.worlds) c.diffs.push_back(w.auc[task][x.a] - w.auc[task][x.b]);
            claims.add(c);
        }
    Claim ctr{"multi-task CTR AUC above single-task's", "main", "Fig. 6: about 0.727 vs 0.718 [P-fig]", {}, 0.005, 4};
    Claim cause{"the cost's cause: auxiliary losses weighted down raise the multi-task CTR AUC", "main", "not reported", {}, 0.005, 4};
    Claim att{"attention weighs buys over random clicks (mean weight per step, buy - click)", "main", "—", {}, 0.0, 4};
    for (const WorldResult& w : r.worlds) {
        ctr.diffs.push_back(w.ctr_auc[0] - w.ctr_auc[1]);
        cause.diffs.push_back(w.ctr_auc[2] - w.ctr_auc[0]);
        att.diffs.push_back(w.buy_weight - w.click_weight);
    }
    claims.add(ctr);
    claims.add(cause);
    claims.add(att);
    return claims;
}

}  // namespace ch53
}  // namespace minirec
