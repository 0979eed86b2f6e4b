// Users who mix several interests, for multi-interest retrieval (chapter 74, MIND): a catalogue of
// items in planted clusters, and users whose histories and future items come from a few of them.
// Deliberately left out: item popularity, time and order within a history, side information.
//
// Planted structure. Item i belongs to cluster i / items_per_cluster. A user draws m distinct
// clusters (m uniform in [min_interests, max_interests]) and a history length uniform in
// [min_history, max_history]; every behaviour and every future item picks one of the user's m
// clusters uniformly and an item of it uniformly. The only signal is which clusters a user mixes,
// so the best ranking puts the user's m clusters first (multi_interest_oracle_recall).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "datasets/next_item.h"

namespace minirec {
namespace datasets {

struct MultiInterestOptions {
    int clusters = 24;
    int items_per_cluster = 25;
    int min_interests = 1, max_interests = 4;
    int min_history = 8, max_history = 32;
    int train_users = 30000;          // one (history, next item) example each
    int test_users = 2000;
    int test_targets = 5;             // distinct future items per test user (Recall@N's relevant set)
    uint64_t seed = 42;
    int items() const { return clusters * items_per_cluster; }
};

struct MultiInterestUser {
    std::vector<int> clusters;        // the planted interests (m distinct clusters)
    Ids history;                      // I_u, the behaviours
    std::vector<int> history_cluster; // the cluster of each behaviour (ground truth for routing)
    Ids targets;                      // training users: 1 next item; test users: distinct future items
};

struct MultiInterestData {
    MultiInterestOptions opt;
    std::vector<MultiInterestUser> train, test;
};

MultiInterestData multi_interest(const MultiInterestOptions& opts);

// One world of chapter 74's cells: opts with its own seed; the control gives every user one interest.
inline MultiInterestOptions multi_interest_cell(MultiInterestOptions opts, uint64_t seed, bool control) {
    opts.seed = seed;
    if (control) opts.min_interests = opts.max_interests = 1;
    return opts;
}

// The histories of users rows (indices into users), in that order: a batch's behaviours; and
// their next items (targets[0], the one target of a training user).
std::vector<Ids> histories(const std::vector<MultiInterestUser>& users, const std::vector<int>& rows);
Ids next_items(const std::vector<MultiInterestUser>& users, const std::vector<int>& rows);

// The best any model can do: rank the user's m clusters' items first (in any order), so a future
// item is in the top N with probability min(1, N / (m * items_per_cluster)).
double multi_interest_oracle_recall(const MultiInterestOptions& opts, int m, int N);
// The same for each N of Ns, averaged over `users` (each with her own m), summed term by term.
std::vector<double> multi_interest_oracle_recall(const MultiInterestOptions& opts, const std::vector<MultiInterestUser>& users,
                                                 const std::vector<int>& Ns);

// The Rand index of a grouping of one user's behaviours against their planted clusters: over
// pairs of behaviours, the share on which "same cluster" and "same group" agree (1 = the groups are
// the clusters). NaN with fewer than two behaviours.
double rand_index(const std::vector<int>& cluster, const std::vector<int>& group);
// Its mean (nan_mean) over the users who mix m >= 2 clusters, grouped by a model: group(rows) gives the
// groups of the behaviours of users rows (indices into users), one list per user.
using BehaviourGroups = std::function<std::vector<std::vector<int>>(const std::vector<int>& rows)>;
double mean_rand_index(const std::vector<MultiInterestUser>& users, const BehaviourGroups& group);

// HitRate@N and Recall@N of the test users' rankings of the whole catalogue, overall and by the
// user's number of planted interests m. score(rows, s) fills s (rows.size(), items) for a block
// of test users (indices into d.test).
struct MultiInterestRecall {
    std::vector<double> hit, recall;                 // [N index]
    std::vector<std::vector<double>> recall_by_m;    // [m - min_interests][N index]
};
using BlockScores = std::function<void(const std::vector<int>& rows, std::vector<float>& scores)>;
MultiInterestRecall multi_interest_recall(const MultiInterestData& d, const std::vector<int>& Ns, const BlockScores& score);

// A real log on datasets/next_item.h's protocol in this shape, for --data: no clusters (one cluster of
// all the items). data.train: for each user, the item at each of her last `cuts` training positions
// (from the second on), after the up-to-max_history items before it. data.test: per split user, in
// order, the last max_history items seen before her test item (seen_before), target her test item.
struct NextItemWorld {
    NextItemSplit split;
    std::vector<Ids> negatives;   // popularity_negatives(split, 100, seed): drawn once
    MultiInterestData data;
};
MultiInterestData next_item_data(const NextItemSplit& s, int cuts, int max_history);
NextItemWorld next_item_world(const MovieLens100k& ml, int cuts, int max_history, uint64_t seed);
// evaluate_next_item on the test items (K = 10), with `score` given rows of data.test.
NextItemQuality next_item_quality(const NextItemWorld& d, const BlockScores& score);

}  // namespace datasets
}  // namespace minirec
