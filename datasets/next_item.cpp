// The next-item protocol (see the header for its five steps).
#include "datasets/next_item.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/metrics.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

std::vector<std::vector<TimedItem>> user_histories(const std::vector<Rating>& rows, int num_users) {
    std::vector<std::vector<TimedItem>> h(size_t(std::max(num_users, 0)));
    for (const Rating& r : rows) {
        if (r.user < 0 || r.user >= num_users)
            throw ArgumentError("user_histories: user " + std::to_string(r.user) + " outside [0, " + std::to_string(num_users) + ")");
        h[size_t(r.user)].push_back({r.item, r.value, r.time});
    }
    for (std::vector<TimedItem>& u : h)   // stable: equal times keep the input order
        std::stable_sort(u.begin(), u.end(), [](const TimedItem& a, const TimedItem& b) { return a.time < b.time; });
    return h;
}

std::vector<Ids> item_sequences(const std::vector<std::vector<TimedItem>>& histories) {
    std::vector<Ids> out;
    for (const std::vector<TimedItem>& h : histories) {
        Ids items;
        for (const TimedItem& e : h) items.push_back(e.item);
        out.push_back(std::move(items));
    }
    return out;
}

std::vector<Ids> sliding_windows(const Ids& seq, int len, int stride) {
    if (len < 1 || stride < 1) throw ArgumentError("sliding_windows: len and stride must be >= 1");
    std::vector<Ids> out;
    for (long e = long(seq.size()); e > 0; e -= stride) {
        const long b = std::max(0L, e - len);
        out.emplace_back(seq.begin() + b, seq.begin() + e);
        if (b == 0) break;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

NextItemSplit next_item_split(const std::vector<Ids>& sequences, int num_items) {
    NextItemSplit s;
    s.num_items = num_items;
    s.train_count.assign(size_t(num_items), 0.0);
    for (size_t u = 0; u < sequences.size(); ++u) {
        const Ids& seq = sequences[u];
        for (int i : seq)
            if (i < 0 || i >= num_items)
                throw ArgumentError("next_item_split: user " + std::to_string(u) + " has item " + std::to_string(i) +
                                    " outside [0, " + std::to_string(num_items) + ")");
        if (seq.size() < 3) {
            ++s.skipped_users;
            continue;
        }
        NextItemUser nu;
        nu.user = int(u);
        nu.history.assign(seq.begin(), seq.end() - 2);
        nu.valid = seq[seq.size() - 2];
        nu.test = seq.back();
        for (int i : nu.history) s.train_count[size_t(i)] += 1.0;
        s.users.push_back(std::move(nu));
    }
    return s;
}

NextItemSplit next_item_split(const MovieLens100k& ml) {
    // The catalogue is every movie of u.item, rated or not.
    return next_item_split(item_sequences(user_histories(ml.ratings.rows, ml.ratings.num_users)), int(ml.movies.size()));
}

NextItemSplit movielens_next_item(const std::string& dir) {
    return next_item_split(load_movielens_100k(dir));
}

Ids seen_before(const NextItemUser& u, Target t) {
    Ids seen = u.history;
    if (t == Target::test) seen.push_back(u.valid);
    return seen;
}

std::vector<Ids> popularity_negatives(const NextItemSplit& s, int n, uint64_t seed) {
    std::vector<double> weight(s.train_count);
    for (double& w : weight) w += 1.0;                 // every item can be drawn
    const Discrete pop(weight);
    Rng rng(splitmix64(seed + 17));
    std::vector<Ids> out;
    std::vector<char> taken(size_t(s.num_items), 0);
    for (const NextItemUser& u : s.users) {
        Ids seq = seen_before(u, Target::test);
        seq.push_back(u.test);
        for (int i : seq) taken[size_t(i)] = 1;
        int free_items = s.num_items;
        for (char c : taken) free_items -= c;
        if (free_items < n)
            throw ArgumentError("popularity_negatives: user " + std::to_string(u.user) + " has " + std::to_string(free_items) +
                                " unseen items, fewer than " + std::to_string(n));
        Ids neg;
        while (int(neg.size()) < n) {                  // rejection sampling: unseen, not yet drawn
            const int i = pop.sample(rng);
            if (!taken[size_t(i)]) taken[size_t(i)] = 1, neg.push_back(i);
        }
        for (int i : seq) taken[size_t(i)] = 0;
        for (int i : neg) taken[size_t(i)] = 0;
        out.push_back(std::move(neg));
    }
    return out;
}

// One user's ranks of the target: among the target and its negatives, and among all unseen items.
static void add_user(const float* z, int N, const Ids& seen, int target, const Ids& negatives, int k, NextItemQuality& q) {
    std::vector<float> cand = {z[target]};
    for (int j : negatives) cand.push_back(z[j]);
    const int r = rank_of(cand, 0);
    std::vector<float> all(z, z + N);
    for (int i : seen)
        if (i != target) all[size_t(i)] = -INFINITY;   // never ranked: the user has seen it
    const int rf = rank_of(all, target);
    q.hr += r < k;
    q.ndcg += r < k ? 1.0 / std::log2(r + 2.0) : 0.0;
    q.mrr += 1.0 / (r + 1.0);
    q.hr_full += rf < k;
    q.ndcg_full += rf < k ? 1.0 / std::log2(rf + 2.0) : 0.0;
    q.mrr_full += 1.0 / (rf + 1.0);
}

NextItemQuality evaluate_next_item(const NextItemSplit& s, const std::vector<Ids>& negatives, Target t, int k,
                                   const UserScores& scores, int batch) {
    if (negatives.size() != s.users.size())
        throw ArgumentError("evaluate_next_item: " + std::to_string(negatives.size()) + " negative lists for " +
                            std::to_string(s.users.size()) + " users");
    if (k < 1 || batch < 1) throw ArgumentError("evaluate_next_item: k and batch must be >= 1");
    NextItemQuality q;
    const int N = s.num_items;
    std::vector<float> z;
    for (size_t first = 0; first < s.users.size(); first += size_t(batch)) {
        const int count = int(std::min(s.users.size() - first, size_t(batch)));
        z.assign(size_t(count) * size_t(N), 0.0f);
        scores(first, count, z);
        if (z.size() != size_t(count) * size_t(N))
            throw ArgumentError("evaluate_next_item: the scorer returned " + std::to_string(z.size()) + " scores, expected " +
                                std::to_string(size_t(count) * size_t(N)));
        for (int b = 0; b < count; ++b) {
            const NextItemUser& u = s.users[first + size_t(b)];
            const int target = t == Target::test ? u.test : u.valid;
            add_user(z.data() + size_t(b) * size_t(N), N, seen_before(u, t), target, negatives[first + size_t(b)], k, q);
        }
    }
    const double n = double(s.users.size());
    q.users = int(s.users.size());
    if (n > 0)
        for (double* m : {&q.hr, &q.ndcg, &q.mrr, &q.hr_full, &q.ndcg_full, &q.mrr_full}) *m /= n;
    return q;
}

UserScores popularity_scorer(const NextItemSplit& s) {
    std::vector<float> pop(s.train_count.begin(), s.train_count.end());
    return [pop](size_t, int count, std::vector<float>& z) {
        for (int b = 0; b < count; ++b) std::copy(pop.begin(), pop.end(), z.begin() + std::ptrdiff_t(b) * std::ptrdiff_t(pop.size()));
    };
}

}  // namespace datasets
}  // namespace minirec
