// Users who mix several planted item clusters (datasets/multi_interest.h): histories, next items
// and future items drawn from each user's clusters. Deliberately left out: any other signal.
#include "datasets/multi_interest.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "core/metrics.h"

namespace minirec {
namespace datasets {

// One user: m clusters, a history, and `targets` future items (distinct when asked).
static MultiInterestUser draw_user(const MultiInterestOptions& o, Rng& rng, int targets, bool distinct_targets) {
    MultiInterestUser u;
    const int m = o.min_interests + rng.randint(o.max_interests - o.min_interests + 1);
    std::vector<int> all = rng.permutation(o.clusters);
    u.clusters.assign(all.begin(), all.begin() + m);
    auto draw = [&](int* cluster) {          // one of the user's clusters, then one of its items
        *cluster = u.clusters[size_t(rng.randint(m))];
        return *cluster * o.items_per_cluster + rng.randint(o.items_per_cluster);
    };
    const int len = o.min_history + rng.randint(o.max_history - o.min_history + 1);
    for (int t = 0; t < len; ++t) {
        int c = 0;
        u.history.push_back(draw(&c));
        u.history_cluster.push_back(c);
    }
    while (int(u.targets.size()) < targets) {
        int c = 0;
        const int item = draw(&c);
        if (!distinct_targets || std::find(u.targets.begin(), u.targets.end(), item) == u.targets.end())
            u.targets.push_back(item);
    }
    return u;
}

MultiInterestData multi_interest(const MultiInterestOptions& o) {
    if (o.clusters < o.max_interests || o.min_interests < 1 || o.min_interests > o.max_interests ||
        o.min_history < 1 || o.min_history > o.max_history || o.items_per_cluster < o.test_targets ||
        o.train_users < 0 || o.test_users < 0)
        arg_fail("multi_interest", "need 1 <= min_interests <= max_interests <= clusters, "
                                   "1 <= min_history <= max_history, items_per_cluster >= test_targets");
    MultiInterestData d;
    d.opt = o;
    Rng rng(splitmix64(o.seed * 7919 + 1));
    for (int i = 0; i < o.train_users; ++i) d.train.push_back(draw_user(o, rng, 1, false));
    for (int i = 0; i < o.test_users; ++i) d.test.push_back(draw_user(o, rng, o.test_targets, true));
    return d;
}

std::vector<Ids> histories(const std::vector<MultiInterestUser>& users, const std::vector<int>& rows) {
    std::vector<Ids> h;
    for (int r : rows) h.push_back(users[size_t(r)].history);
    return h;
}

Ids next_items(const std::vector<MultiInterestUser>& users, const std::vector<int>& rows) {
    Ids target;
    for (int r : rows) target.push_back(users[size_t(r)].targets[0]);
    return target;
}

double multi_interest_oracle_recall(const MultiInterestOptions& o, int m, int N) {
    return std::min(1.0, double(N) / double(m * o.items_per_cluster));
}

std::vector<double> multi_interest_oracle_recall(const MultiInterestOptions& o, const std::vector<MultiInterestUser>& users,
                                                 const std::vector<int>& Ns) {
    std::vector<double> recall(Ns.size(), 0.0);
    for (const MultiInterestUser& u : users)
        for (size_t n = 0; n < Ns.size(); ++n)
            recall[n] += multi_interest_oracle_recall(o, int(u.clusters.size()), Ns[n]) / double(users.size());
    return recall;
}

double rand_index(const std::vector<int>& cluster, const std::vector<int>& group) {
    if (cluster.size() != group.size()) arg_fail("rand_index", "one group per behaviour");
    long agree = 0, pairs = 0;
    for (size_t a = 0; a < cluster.size(); ++a)
        for (size_t b = a + 1; b < cluster.size(); ++b) {
            agree += (cluster[a] == cluster[b]) == (group[a] == group[b]);
            ++pairs;
        }
    return pairs ? double(agree) / double(pairs) : NAN;
}

double mean_rand_index(const std::vector<MultiInterestUser>& users, const BehaviourGroups& group) {
    std::vector<int> rows;
    for (int i = 0; i < int(users.size()); ++i) if (users[size_t(i)].clusters.size() >= 2) rows.push_back(i);
    const std::vector<std::vector<int>> groups = group(rows);
    std::vector<double> ri;
    for (size_t b = 0; b < rows.size(); ++b) ri.push_back(rand_index(users[size_t(rows[b])].history_cluster, groups[b]));
    return nan_mean(ri);
}

MultiInterestRecall multi_interest_recall(const MultiInterestData& d, const std::vector<int>& Ns, const BlockScores& score) {
    const MultiInterestOptions& o = d.opt;
    const size_t M = size_t(o.max_interests - o.min_interests + 1), NN = Ns.size();
    MultiInterestRecall r;
    r.hit.assign(NN, 0.0), r.recall.assign(NN, 0.0);
    r.recall_by_m.assign(M, std::vector<double>(NN, 0.0));
    std::vector<int> count(M, 0);
    const int max_n = *std::max_element(Ns.begin(), Ns.end()), users = int(d.test.size());
    std::vector<float> s;
    for (int start = 0; start < users; start += 256) {
        std::vector<int> rows;
        for (int i = start; i < std::min(users, start + 256); ++i) rows.push_back(i);
        score(rows, s);                                                  // (rows, items)
        for (size_t b = 0; b < rows.size(); ++b) {
            const std::vector<float> row(s.begin() + long(b) * o.items(), s.begin() + long(b + 1) * o.items());
            const Ids ranked = top_k(row, max_n);
            const MultiInterestUser& u = d.test[size_t(rows[b])];
            const size_t mi = u.clusters.size() - size_t(o.min_interests);
            ++count[mi];
            for (size_t n = 0; n < NN; ++n) {
                r.hit[n] += hit_rate_at_k(ranked, u.targets, Ns[n]);
                const double rec = recall_at_k(ranked, u.targets, Ns[n]);
                r.recall[n] += rec, r.recall_by_m[mi][n] += rec;
            }
        }
    }
    for (size_t n = 0; n < NN; ++n) {
        r.hit[n] /= std::max(1, users), r.recall[n] /= std::max(1, users);
        for (size_t mi = 0; mi < M; ++mi) r.recall_by_m[mi][n] /= std::max(1, count[mi]);
    }
    return r;
}

MultiInterestData next_item_data(const NextItemSplit& s, int cuts, int max_history) {
    MultiInterestData d;
    d.opt.clusters = 1, d.opt.items_per_cluster = s.num_items, d.opt.max_history = max_history;
    auto last = [&](const Ids& items, size_t end) { return Ids(items.begin() + std::ptrdiff_t(end - std::min(end, size_t(max_history))), items.begin() + std::ptrdiff_t(end)); };
    for (const NextItemUser& u : s.users) {
        const size_t n = u.history.size();
        for (size_t c = n > size_t(cuts) ? n - size_t(cuts) : 1; c < n; ++c) d.train.push_back({{}, last(u.history, c), {}, {u.history[c]}});
        const Ids seen = seen_before(u, Target::test);
        d.test.push_back({{}, last(seen, seen.size()), {}, {u.test}});
    }
    d.opt.train_users = int(d.train.size()), d.opt.test_users = int(d.test.size());
    return d;
}

NextItemWorld next_item_world(const MovieLens100k& ml, int cuts, int max_history, uint64_t seed) {
    NextItemWorld w;
    w.split = next_item_split(ml);
    w.negatives = popularity_negatives(w.split, 100, seed);
    w.data = next_item_data(w.split, cuts, max_history);
    return w;
}

NextItemQuality next_item_quality(const NextItemWorld& d, const BlockScores& score) {
    return evaluate_next_item(d.split, d.negatives, Target::test, 10, [&](size_t first, int count, std::vector<float>& z) {
        std::vector<int> rows(static_cast<size_t>(count));
        std::iota(rows.begin(), rows.end(), int(first));
        score(rows, z);
    });
}

}  // namespace datasets
}  // namespace minirec
