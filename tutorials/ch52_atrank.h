// Chapter 52's experiment as a function: synthetic heterogeneous behaviour logs (item clicks and
// searches, with timestamps) whose next action depends on a click *and* a search in the same
// session, and on recency; four user encoders trained on them (mean pooling, GRU, candidate
// attention, ATRank); AUC on held-out users over several worlds. Printing and pictures live in
// ch52_atrank.cpp. Deliberately left out: the paper's Amazon and Taobao data, coupons, multi-task.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/ch52_atrank.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch52 {

// ---- The world -------------------------------------------------------------------------------
// Items belong to categories (item i is in category i / items_per_category). A user's history is
// `sessions` sessions, `recent_sessions` of them in distinct time buckets under 4^4 - 1 = 255 hours (about ten days)
// ago, the rest in distinct stale buckets (255 to 4095 hours ago). Inside a session behaviours are
// minutes apart, so two behaviours share a time bucket exactly when they share a session.
// A session is, at random,
//   searched  (p = 0.4): a search for category c, then clicks on two items of c
//   browsing  (p = 0.3): clicks on two or three random items
//   elsewhere (p = 0.3): a search for a category c, then one or two clicks outside c; c is taken,
//                        when there is one, from a click of a browsing session (so that category
//                        WAS searched, just not when that click happened)
// The planted rule for the next action:
//   the user buys item j  iff  j was clicked in a RECENT session that ALSO holds a search (the
//   click came from a search, whatever was searched).
// Candidates per user: four clicked items drawn from the whole history, another item of a
// clicked category, and a random item. Labels follow the rule, each flipped with probability
// label_noise. Mean pooling loses which click went with which search; candidate attention sees
// the click and the searches but not whether they share a session; a GRU must carry every
// searched click through the later sessions before it meets the candidate.
struct WorldOptions {
    int categories = 6;
    int items_per_category = 4;
    int sessions = 5;
    int recent_sessions = 4;
    int time_base = 4;              // eq. 2's b: bucket k holds ages in [b^k - 1, b^{k+1} - 1) hours
    int time_buckets = 6;           // the last bucket also takes everything older
    int recent_buckets = 4;         // the rule's "recent": buckets 0..3, under 255 hours
    int train_histories = 1500;
    int test_histories = 600;
    double label_noise = 0.05;
    uint64_t seed = 1;
};

enum Kind { kSearchedRecent, kSearchedStale, kElsewhere, kUnsearched, kSameCategory, kRandom, kNumKinds };
const char* const kKindNames[] = {"clicked recently, with a search in its session (the positives)",
                                  "clicked long ago, with a search in its session",
                                  "clicked without a search, its category searched in another session",
                                  "clicked without a search, its category never searched",
                                  "another item of a clicked category", "random item"};

struct Behaviour {
    bool is_query = false;
    int item = 0, category = 0, action = 0;   // item unused for a query
    int session = 0;                          // ground truth only: the models see age_hours
    double age_hours = 0.0;
};

struct Example {
    int history = 0;                  // index into World::histories
    int candidate = 0;
    Kind kind = kRandom;
    float label = 0.0f;               // after label noise
    bool truth = false;               // the rule's answer, before noise
};

struct World {
    WorldOptions options;
    std::vector<std::vector<Behaviour>> histories; // oldest first
    std::vector<Example> train, test;
    int items() const { return options.categories * options.items_per_category; }
    int category_of(int item) const { return item / options.items_per_category; }
};

// eq. 2: the bucket k with age in [b^k - 1, b^{k+1} - 1) hours, i.e. k = floor(log_b(1 + age)),
// capped at the last bucket. We walk the edges instead of taking a logarithm, so that an age on
// an edge lands in the bucket it opens whatever the rounding.
inline int time_bucket(double age_hours, int base, int buckets) {
    int k = 0;
    double upper = base - 1.0;   // b^{k+1} - 1
    while (age_hours >= upper && k < buckets - 1) ++k, upper = (upper + 1.0) * base - 1.0;
    return k;
}
inline int time_bucket(const WorldOptions& o, double age_hours) { return time_bucket(age_hours, o.time_base, o.time_buckets); }

// The planted rule, read off a history: was j clicked recently, in a session with a search?
inline bool rule(const World& w, const std::vector<Behaviour>& h, int j) {
    for (const Behaviour& click : h) {
        if (click.is_query || click.item != j) continue;
        if (time_bucket(w.options, click.age_hours) >= w.options.recent_buckets) continue;
        for (const Behaviour& q : h)
            if (q.is_query && q.session == click.session) return true;
    }
    return false;
}

// What kind of candidate j is for history h (for the per-kind report), given its rule answer.
inline Kind kind_of(const World& w, const std::vector<Behaviour>& h, int j, bool clicked) {
    if (rule(w, h, j)) return kSearchedRecent;
    if (!clicked) return kRandom;
    bool stale_searched = false, searched_elsewhere = false;
    for (const Behaviour& click : h) {
        if (click.is_query || click.item != j) continue;
        for (const Behaviour& q : h) {
            if (!q.is_query) continue;
            if (q.session == click.session) stale_searched = true;
            else if (q.category == click.category) searched_elsewhere = true;
        }
    }
    return stale_searched ? kSearchedStale : searched_elsewhere ? kElsewhere : kUnsearched;
}

inline World make_world(const WorldOptions& o) {
    if (o.recent_sessions > o.recent_buckets || o.sessions - o.recent_sessions > o.time_buckets - o.recent_buckets)
        throw std::invalid_argument("ch52 make_world: more sessions than distinct time buckets");
    World w;
    w.options = o;
    Rng rng(splitmix64(o.seed * 7919ull + 52));
    const int N = w.items(), M = o.items_per_category;
    auto click = [&](int item) { Behaviour b; b.item = item; b.category = item / M; b.action = rng.bernoulli(0.2f); return b; };
    auto query = [&](int c) { Behaviour b; b.is_query = true; b.category = c; return b; };
    auto item_outside = [&](int c) { int i = rng.randint(N); while (i / M == c) i = rng.randint(N); return i; };
    const int total = o.train_histories + o.test_histories, S = o.sessions;
    for (int u = 0; u < total; ++u) {
        // Session kinds: 0 searched, 1 browsing, 2 elsewhere.
        std::vector<int> kind(static_cast<size_t>(S));
        for (int& k : kind) { const float r = rng.uniform(); k = r < 0.4f ? 0 : r < 0.7f ? 1 : 2; }
        std::vector<std::vector<Behaviour>> s(static_cast<size_t>(S));
        std::vector<int> browsed;   // categories clicked in browsing sessions
        for (int k = 0; k < S; ++k) {
            std::vector<Behaviour>& x = s[size_t(k)];
            if (kind[size_t(k)] == 0) {
                const int c = rng.randint(o.categories);
                x = {query(c), click(c * M + rng.randint(M)), click(c * M + rng.randint(M))};
            } else if (kind[size_t(k)] == 1) {
                const int n = 2 + rng.randint(2);
                for (int j = 0; j < n; ++j) x.push_back(click(rng.randint(N))), browsed.push_back(x.back().category);
            }
        }
        for (int k = 0; k < S; ++k) {
            if (kind[size_t(k)] != 2) continue;
            const int c = browsed.empty() ? rng.randint(o.categories) : browsed[size_t(rng.randint(int(browsed.size())))];
            std::vector<Behaviour>& x = s[size_t(k)];
            x = {query(c), click(item_outside(c))};
            if (rng.bernoulli(0.5f)) x.push_back(click(item_outside(c)));
        }
        // Ages: recent sessions in distinct buckets of 0..recent-1, the others in distinct stale ones.
        std::vector<int> recent(size_t(o.recent_buckets)), stale;
        for (int k = 0; k < o.recent_buckets; ++k) recent[size_t(k)] = k;
        for (int k = o.recent_buckets; k < o.time_buckets; ++k) stale.push_back(k);
        rng.shuffle(recent);
        rng.shuffle(stale);
        std::vector<double> age(static_cast<size_t>(S));
        for (int k = 0; k < S; ++k) {   // uniform inside the bucket, leaving room for the minutes
            const int bucket = k < o.recent_sessions ? recent[size_t(k)] : stale[size_t(k - o.recent_sessions)];
            const double lo = std::pow(o.time_base, bucket) - 1.0, hi = std::pow(o.time_base, bucket + 1) - 1.0;
            age[size_t(k)] = lo + (hi - lo - 0.45) * rng.uniform_double();
        }
        std::vector<int> order(static_cast<size_t>(S));
        for (int k = 0; k < S; ++k) order[size_t(k)] = k;
        std::sort(order.begin(), order.end(), [&](int a, int b) { return age[size_t(a)] > age[size_t(b)]; });
        std::vector<Behaviour> h;
        for (int k : order)
            for (size_t j = 0; j < s[size_t(k)].size(); ++j) {   // in a session, earlier behaviours are older
                Behaviour b = s[size_t(k)][j];
                b.session = k;
                b.age_hours = age[size_t(k)] + 0.1 * double(s[size_t(k)].size() - 1 - j);
                h.push_back(b);
            }
        w.histories.push_back(h);
        // Candidates: four clicked items, another item of a clicked category, a random item.
        std::vector<int> clicks;
        for (size_t t = 0; t < h.size(); ++t)
            if (!h[t].is_query) clicks.push_back(int(t));
        std::vector<std::pair<int, bool>> cands;
        for (int j = 0; j < 4; ++j) cands.push_back({h[size_t(clicks[size_t(rng.randint(int(clicks.size())))])].item, true});
        cands.push_back({h[size_t(clicks[size_t(rng.randint(int(clicks.size())))])].category * M + rng.randint(M), false});
        cands.push_back({rng.randint(N), false});
        for (size_t c = 0; c < cands.size(); ++c) {
            Example e;
            e.history = u;
            e.candidate = cands[c].first;
            e.truth = rule(w, h, e.candidate);
            e.kind = kind_of(w, h, e.candidate, cands[c].second);
            if (e.kind == kRandom && c == 4) e.kind = kSameCategory;
            e.label = float(e.truth != rng.bernoulli(float(o.label_noise)));
            (u < o.train_histories ? w.train : w.test).push_back(e);
        }
    }
    return w;
}

// Examples as model input: their users' histories, left-aligned and padded to the longest, and the
// candidates. Consecutive examples of one user share her history (U <= B).
inline BehaviourBatch gather(const World& w, const std::vector<Example>& examples, const std::vector<int>& rows) {
    BehaviourBatch b;
    std::vector<int> users;  // history ids, one per run of examples of the same user
    std::vector<float> labels;
    for (int r : rows) {
        const Example& e = examples[size_t(r)];
        if (users.empty() || users.back() != e.history) users.push_back(e.history);
        b.user.push_back(int(users.size()) - 1);
        b.candidate.push_back(e.candidate);
        b.candidate_category.push_back(w.category_of(e.candidate));
        labels.push_back(e.label);
    }
    b.U = int(users.size()), b.B = int(rows.size());
    for (int u : users) b.T = std::max(b.T, int(w.histories[size_t(u)].size()));
    const size_t n = size_t(b.U) * size_t(b.T);
    b.item.assign(n, 0), b.item_category.assign(n, 0), b.action.assign(n, 0), b.query_category.assign(n, 0);
    b.time_bucket.assign(n, 0);
    b.is_item = Tensor({b.U, b.T, 1}), b.is_query = Tensor({b.U, b.T, 1}), b.key_mask = Tensor({b.U, 1, b.T});
    for (int i = 0; i < b.U; ++i) {
        const std::vector<Behaviour>& h = w.histories[size_t(users[size_t(i)])];
        for (size_t t = 0; t < h.size(); ++t) {
            const size_t p = size_t(i) * size_t(b.T) + t;
            b.time_bucket[p] = time_bucket(w.options, h[t].age_hours);
            b.key_mask[p] = 1.0f;
            if (h[t].is_query) {
                b.query_category[p] = h[t].category, b.is_query[p] = 1.0f;
            } else {
                b.item[p] = h[t].item, b.item_category[p] = h[t].category, b.action[p] = h[t].action;
                b.is_item[p] = 1.0f;
            }
        }
        b.lengths.push_back(int(h.size()));
    }
    b.label = Tensor({b.B, 1}, labels);
    b.candidate_mask = per_candidate(constant(b.key_mask), b).value();   // (B, 1, T)
    return b;
}

// ---- The study -------------------------------------------------------------------------------
enum Model { kMean, kGru, kTargetAttention, kATRank, kNumModels };
const char* const kModelNames[] = {"mean pooling", "GRU", "candidate attention (no self-attention)", "ATRank"};

struct StudyOptions {
    WorldOptions world;
    Sizes sizes;
    int replicates = 3;
    std::vector<bool> train_model = {true, true, true, true};   // which encoders to train (tests skip some)
    int epochs = 10;
    int batch = 11;              // users per mini-batch, with their 6 candidates each (66 examples)
    double lr = 0.005;
    uint64_t seed = 42;
    bool curves = true;          // held-out AUC after every epoch (the tests need only the last)
    bool verbose = true;
};

// The four encoders in one struct, so one loop trains them on the same batches.
struct Models {
    MeanPooling mean;
    GruEncoder gru;
    TargetAttention target;
    ATRank atrank;
    Models(const Sizes& s, Rng& rng) : mean(s, rng), gru(s, rng), target(s, rng), atrank(s, rng) {}
    Var logits(int model, const BehaviourBatch& b, AttentionMaps* maps = nullptr) {
        switch (model) {
            case kMean: return mean.logits(b);
            case kGru: return gru.logits(b);
            case kTargetAttention: return target.logits(b, maps);
            default: return atrank.logits(b, maps);
        }
    }
    NamedParams named_parameters() const {
        NamedParams p = mean.named_parameters();
        append(p, gru.named_parameters());
        append(p, target.named_parameters());
        append(p, atrank.named_parameters());
        return p;
    }
};

struct Replicate {
    double auc[kNumModels] = {};                     // held-out AUC against the noisy labels
    double truth_auc[kNumModels] = {};               // against the rule itself
    std::vector<double> curve[kNumModels];           // held-out AUC after each epoch (if asked)
    double mean_score[kNumModels][kNumKinds] = {};   // mean predicted probability per candidate kind
    double self_to_own_query = 0.0;   // ATRank: attention of searched clicks on their session's query
    double self_to_other_query = 0.0; // ... and on the other queries of the history
    double seconds = 0.0;
    std::shared_ptr<World> world;     // the world and the trained encoders, for pictures
    std::shared_ptr<Models> models;
};

struct StudyReport {
    std::vector<Replicate> reps;
    double seconds = 0.0;
    template <class F> double mean(F f) const {
        double s = 0.0;
        for (const Replicate& r : reps) s += f(r) / double(reps.size());
        return s;
    }
    template <class F> double min(F f) const {
        double m = 1e300;
        for (const Replicate& r : reps) m = std::min(m, double(f(r)));
        return m;
    }
};

// Predicted probabilities of one model on a set of examples, 1,020 at a time (170 users).
inline std::vector<float> predict(Models& m, int model, const World& w, const std::vector<Example>& ex) {
    NoGrad no_grad;
    std::vector<float> p;
    Rng unused;
    for (const std::vector<int>& rows : make_batches(int(ex.size()), 1020, unused, /*shuffle=*/false)) {
        const Tensor z = sigmoid(m.logits(model, gather(w, ex, rows))).value();
        p.insert(p.end(), z.data(), z.data() + z.size());
    }
    return p;
}

// ATRank's self-attention, averaged over the K spaces: how much a click in a searched session looks
// at its own session's search, and at the other searches of the history (each as a share of 1).
// One held-out history per positive candidate, up to 512 histories.
inline void self_attention_shares(Models& m, const World& w, double* own, double* other) {
    NoGrad no_grad;
    std::vector<int> rows;
    for (size_t i = 0; i < w.test.size() && rows.size() < 512; ++i)
        if (w.test[i].kind == kSearchedRecent && (rows.empty() || w.test[size_t(rows.back())].history != w.test[i].history))
            rows.push_back(int(i));
    const BehaviourBatch b = gather(w, w.test, rows);   // one row per user: U = B
    AttentionMaps maps;
    m.atrank.logits(b, &maps);
    double own_sum = 0.0, other_sum = 0.0;
    long clicks = 0;
    for (int i = 0; i < b.U; ++i) {
        const std::vector<Behaviour>& h = w.histories[size_t(w.test[size_t(rows[size_t(i)])].history)];
        for (size_t t = 0; t < h.size(); ++t) {
            if (h[t].is_query) continue;
            size_t own_q = h.size();
            for (size_t q = 0; q < h.size(); ++q)
                if (h[q].is_query && h[q].session == h[t].session) own_q = q;
            if (own_q == h.size()) continue;   // only clicks that have a search in their session
            for (size_t q = 0; q < h.size(); ++q) {
                if (!h[q].is_query) continue;
                double a = 0.0;
                for (const Var& A : maps.self) a += A.value()[(size_t(i) * b.T + t) * b.T + q] / double(maps.self.size());
                (q == own_q ? own_sum : other_sum) += a;
            }
            ++clicks;
        }
    }
    *own = own_sum / double(std::max(1L, clicks));
    *other = other_sum / double(std::max(1L, clicks));
}

// One world: the four encoders trained together on the same batches of users (the sum of their
// losses, one Adam), then scored on the held-out users.
inline Replicate run_replicate(const StudyOptions& o, uint64_t seed) {
    const auto start = std::chrono::steady_clock::now();
    WorldOptions wo = o.world;
    wo.seed = seed;
    Replicate rep;
    rep.world = std::make_shared<World>(make_world(wo));
    const World& w = *rep.world;
    Sizes s = o.sizes;
    s.items = w.items(), s.categories = wo.categories, s.time_buckets = wo.time_buckets;
    Rng rng(splitmix64(seed + 11));
    rep.models = std::make_shared<Models>(s, rng);
    Models& m = *rep.models;
    Adam adam(vars_of(m.named_parameters()), AdamOptions{o.lr});
    std::vector<float> y_test, truth_test;
    for (const Example& e : w.test) y_test.push_back(e.label), truth_test.push_back(float(e.truth));
    std::vector<std::vector<int>> rows_of_user(size_t(wo.train_histories));   // a user's training examples
    for (size_t i = 0; i < w.train.size(); ++i) rows_of_user[size_t(w.train[i].history)].push_back(int(i));

    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        for (const std::vector<int>& users : make_batches(wo.train_histories, o.batch, rng)) {
            std::vector<int> rows;
            for (int u : users) rows.insert(rows.end(), rows_of_user[size_t(u)].begin(), rows_of_user[size_t(u)].end());
            const BehaviourBatch b = gather(w, w.train, rows);
            Var loss;                                      // the sum of the models' losses (from 0)
            for (int model = 0; model < kNumModels; ++model)
                if (o.train_model[size_t(model)]) loss = loss + bce_with_logits(m.logits(model, b), b.label);
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
        for (int model = 0; model < kNumModels && o.curves; ++model)
            rep.curve[model].push_back(o.train_model[size_t(model)] ? auc(predict(m, model, w, w.test), y_test) : 0.5);
    }
    for (int model = 0; model < kNumModels; ++model) {
        if (!o.train_model[size_t(model)]) continue;
        const std::vector<float> p = predict(m, model, w, w.test);
        rep.auc[model] = auc(p, y_test);
        rep.truth_auc[model] = auc(p, truth_test);
        double count[kNumKinds] = {};
        for (size_t i = 0; i < p.size(); ++i) rep.mean_score[model][w.test[i].kind] += p[i], count[w.test[i].kind] += 1.0;
        for (int k = 0; k < kNumKinds; ++k) rep.mean_score[model][k] /= std::max(1.0, count[k]);
    }
    self_attention_shares(m, w, &rep.self_to_own_query, &rep.self_to_other_query);
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.replicates; ++r) {
        rep.reps.push_back(run_replicate(o, splitmix64(o.seed * 1000003ull + uint64_t(r))));
        const Replicate& x = rep.reps.back();
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d (%.1f s): AUC mean %.4f  GRU %.4f  cand-att %.4f  ATRank %.4f\n", r + 1,
                         o.replicates, x.seconds, x.auc[kMean], x.auc[kGru], x.auc[kTargetAttention], x.auc[kATRank]);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch52
}  // namespace minirec
