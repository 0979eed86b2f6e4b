// Chapter 52's world: synthetic heterogeneous behaviour logs (item clicks and searches, in timed
// sessions) with a planted rule for the next action, and the candidates each user is scored on.
// The experiment that trains encoders on them is tutorials/ch52_atrank.h. Deliberately left out:
// behaviour types beyond clicks and searches (carts, coupons), and any real log.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/rng.h"

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

}  // namespace ch52
}  // namespace minirec
