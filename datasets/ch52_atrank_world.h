// Chapter 52's world: synthetic heterogeneous behaviour logs (item clicks and searches, in timed
// sessions) with a planted rule for the next action, and the candidates each user is scored on.
// The experiment that trains encoders on them is tutorials/ch52_atrank.h; the rule is
// tested in tests/test_ch52_atrank.cpp. Then examples as model input and the ground truth the
// experiment reads off the logs; at the end: MovieLens-100k as such logs (--data).
// Deliberately left out: behaviour types beyond clicks and searches (carts, coupons).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "datasets/movielens.h"
#include "datasets/next_item.h"

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
    // The control world: the rule drops the behaviour-to-behaviour link (a recent click is a
    // purchase whether or not its session holds a search), so self-attention has nothing to find.
    bool control = false;
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
    std::vector<int> categories;                  // real logs: each item's category (else i / items_per_category)
    int items() const { return categories.empty() ? options.categories * options.items_per_category : int(categories.size()); }
    int category_of(int item) const { return categories.empty() ? item / options.items_per_category : categories[size_t(item)]; }
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

// The planted rule, read off a history: was j clicked recently, in a session with a search? (In
// the control world: was j clicked recently, whatever the session holds.)
bool rule(const World& w, const std::vector<Behaviour>& h, int j);
// What kind of candidate j is for history h (for the per-kind report); `clicked`: drawn from its clicks.
Kind kind_of(const World& w, const std::vector<Behaviour>& h, int j, bool clicked);
// A world of o.train_histories + o.test_histories users, 6 candidates each; deterministic in o.seed.
World make_world(const WorldOptions& o);

// ---- Examples as model input, and the ground truth read off the logs -----------------------------
// Examples `rows` as one batch: their users' histories, left-aligned and padded to the longest, and
// the candidates. Consecutive examples of one user share her history (U <= B). Batch is
// models/ch52_atrank.h's BehaviourBatch, filled field by field (datasets sit below models and do not
// include them).
template <class Batch> Batch gather(const World& w, const std::vector<Example>& examples, const std::vector<int>& rows) {
    Batch b;
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
    for (Ids* v : {&b.item, &b.item_category, &b.action, &b.query_category, &b.time_bucket}) v->assign(n, 0);
    b.is_item = Tensor({b.U, b.T, 1}), b.is_query = Tensor({b.U, b.T, 1}), b.key_mask = Tensor({b.U, 1, b.T});
    for (int i = 0; i < b.U; ++i) {
        const std::vector<Behaviour>& h = w.histories[size_t(users[size_t(i)])];
        for (size_t t = 0; t < h.size(); ++t) {
            const size_t p = size_t(i) * size_t(b.T) + t;
            b.time_bucket[p] = time_bucket(w.options, h[t].age_hours), b.key_mask[p] = 1.0f;
            if (h[t].is_query) b.query_category[p] = h[t].category, b.is_query[p] = 1.0f;
            else b.item[p] = h[t].item, b.item_category[p] = h[t].category, b.action[p] = h[t].action, b.is_item[p] = 1.0f;
        }
        b.lengths.push_back(int(h.size()));
    }
    b.label = Tensor({b.B, 1}, labels);
    b.candidate_mask = Tensor({b.B, 1, b.T});   // (B, 1, T) each candidate's user's key_mask
    for (int r = 0; r < b.B; ++r)
        std::copy_n(b.key_mask.data() + size_t(b.user[size_t(r)]) * size_t(b.T), b.T, b.candidate_mask.data() + size_t(r) * size_t(b.T));
    return b;
}

// Each history's training examples (rows of w.train), by history id; and those of some histories.
std::vector<std::vector<int>> train_rows_by_history(const World& w);
std::vector<int> rows_of(const std::vector<std::vector<int>>& by_history, const std::vector<int>& histories);

// A model's predicted probabilities p on the held-out examples w.test, scored: AUC against the noisy
// labels and against the rule itself, and the mean prediction per kind of candidate.
struct HeldOutScores {
    double auc = 0.0, truth_auc = 0.0;
    double mean_score[kNumKinds] = {};
};
HeldOutScores held_out_scores(const World& w, const std::vector<float>& p);

// Up to `max` examples of `kind`, the first of each history (for a batch with one user per row).
std::vector<int> first_of_kind(const std::vector<Example>& examples, Kind kind, size_t max);
// Where the clicks that have a search in their session (one at most) look: the mean over those clicks
// of the attention each pays to its own session's search, and to the other searches of its history.
// rows: one example per history, in the order of a batch's users; A: each user's (T, T) attention,
// (U, T, T), row t what position t looks at.
void search_attention_shares(const World& w, const std::vector<Example>& examples, const std::vector<int>& rows,
                             const std::vector<double>& A, int T, double* own, double* other);

// --data: example (user, item) for every item of each of `count` users from `first` (candidates in
// order, to be ranked).
std::vector<Example> every_item(size_t first, int count, int items);

// ---- MovieLens-100k as behaviour logs (--data) ---------------------------------------------------
// The protocol is datasets/next_item.h's (leave one out, time order). Every rating is an item
// behaviour: its action the rating's type (ratings 1-2, 3, 4, 5 -> actions 0, 1, 2, 3), its category
// the movie's first genre in u.genre order (19), its age the hours before the log's newest behaviour
// (eq. 2's "now", buckets of base 4); no searches. A log keeps the user's last max_len behaviours.
struct RealLogOptions {
    int max_len = 50;       // behaviours per log
    int cuts = 10;          // training logs per user: the prefixes before each of her last `cuts` training items
    int negatives = 5;      // per training log: items she never rated (uniform), label 0, beside the next item (label 1)
    uint64_t seed = 1;      // the training negatives
};
struct RealLogs {
    datasets::NextItemSplit split;
    World train;            // histories: one log per (user, cut); train: its 1 + negatives candidates
    World valid, test;      // histories: per split user, the log before the validation / test item
};
RealLogs movielens_logs(const datasets::MovieLens100k& ml, const RealLogOptions& o);

}  // namespace ch52
}  // namespace minirec
