// Splits, implicit feedback, sequences and evaluation negatives. All orders are deterministic:
// ties in time are broken by the input order. Deliberately left out: k-fold splits.
#include "datasets/splits.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "core/error.h"
#include "core/rng.h"

namespace minirec {
namespace datasets {

// Row indices sorted by (time, index): a stable sort by time.
static std::vector<size_t> time_order(const std::vector<Rating>& rows) {
    std::vector<size_t> idx(rows.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return rows[a].time < rows[b].time; });
    return idx;
}

static int max_user(const std::vector<Rating>& rows) {
    int m = 0;
    for (const Rating& r : rows) {
        if (r.user < 0 || r.item < 0) arg_fail("splits", "negative user or item id");
        m = std::max(m, r.user + 1);
    }
    return m;
}

Split leave_one_out(const std::vector<Rating>& rows, int min_interactions) {
    const int users = max_user(rows);
    std::vector<long> count(users, 0), last(users, -1);
    for (size_t i = 0; i < rows.size(); ++i) {
        const Rating& r = rows[i];
        ++count[r.user];
        // ">=" keeps the later row on equal times.
        if (last[r.user] < 0 || r.time >= rows[last[r.user]].time) last[r.user] = static_cast<long>(i);
    }
    Split s;
    for (size_t i = 0; i < rows.size(); ++i) {
        const Rating& r = rows[i];
        bool held_out = count[r.user] >= min_interactions && last[r.user] == static_cast<long>(i);
        (held_out ? s.test : s.train).push_back(r);
    }
    return s;
}

Split time_ordered_split(const std::vector<Rating>& rows, double test_fraction) {
    if (!(test_fraction >= 0.0 && test_fraction <= 1.0)) arg_fail("time_ordered_split", "test_fraction must be in [0, 1]");
    std::vector<size_t> idx = time_order(rows);
    size_t n_test = static_cast<size_t>(test_fraction * static_cast<double>(rows.size()) + 0.5);
    size_t cut = rows.size() - n_test;
    Split s;
    for (size_t j = 0; j < idx.size(); ++j) (j < cut ? s.train : s.test).push_back(rows[idx[j]]);
    return s;
}

std::vector<Rating> to_implicit(const std::vector<Rating>& rows, float threshold, long* dropped) {
    std::vector<Rating> out;
    long n_dropped = 0;
    for (Rating r : rows) {
        if (r.value >= threshold) {
            r.value = 1.0f;
            out.push_back(r);
        } else {
            ++n_dropped;
        }
    }
    if (dropped) *dropped = n_dropped;
    return out;
}

std::vector<Ids> user_sequences(const std::vector<Rating>& rows, int num_users) {
    if (max_user(rows) > num_users) arg_fail("user_sequences", "a user id is >= num_users");
    std::vector<Ids> seq(num_users);
    for (size_t i : time_order(rows)) seq[rows[i].user].push_back(rows[i].item);
    return seq;
}

std::vector<Ids> sample_eval_negatives(const std::vector<Rating>& test, const std::vector<Rating>& all_rows,
                                       int num_items, int k, uint64_t seed) {
    if (k < 0 || num_items < 1) arg_fail("sample_eval_negatives", "need k >= 0 and num_items >= 1");
    const int users = std::max(max_user(all_rows), max_user(test));
    std::vector<std::unordered_set<int32_t>> seen(users);
    for (const Rating& r : all_rows) seen[r.user].insert(r.item);
    for (const Rating& r : test) seen[r.user].insert(r.item);
    Rng rng(seed);
    std::vector<Ids> out;
    out.reserve(test.size());
    for (const Rating& r : test) {
        const auto& s = seen[r.user];
        if (num_items - static_cast<int>(s.size()) < k)
            arg_fail("sample_eval_negatives", "user " + std::to_string(r.user) + " has fewer than " +
                                                  std::to_string(k) + " unseen items");
        // Rejection sampling: fast because users have seen a small part of the catalogue.
        Ids neg;
        std::unordered_set<int32_t> taken;
        while (static_cast<int>(neg.size()) < k) {
            int32_t item = rng.randint(num_items);
            if (s.count(item) || !taken.insert(item).second) continue;
            neg.push_back(item);
        }
        out.push_back(std::move(neg));
    }
    return out;
}

}  // namespace datasets
}  // namespace minirec
