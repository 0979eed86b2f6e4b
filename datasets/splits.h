// Turning interactions into experiments: leave-one-out and time-ordered splits, explicit to
// implicit feedback, per-user time-ordered sequences, and seeded negative sampling for
// evaluation. Deliberately left out: k-fold cross validation.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "datasets/movielens.h"

namespace minirec {
namespace datasets {

struct Split {
    std::vector<Rating> train, test;
};

// For each user, the latest interaction (largest time; ties: the later row in the input) goes to
// test, the rest to train. Users with fewer than `min_interactions` rows go entirely to train.
// Both halves keep the input order.
Split leave_one_out(const std::vector<Rating>& rows, int min_interactions = 2);

// A global time cut: rows sorted by time (ties by input order); the last test_fraction of them
// go to test, so no test row is older than any train row. Both halves are in time order.
Split time_ordered_split(const std::vector<Rating>& rows, double test_fraction);

// Explicit to implicit feedback: rows with value >= threshold become value 1, the others are
// dropped; `dropped` (if given) receives how many.
std::vector<Rating> to_implicit(const std::vector<Rating>& rows, float threshold, long* dropped = nullptr);

// Each user's items in time order (ties by input order); users without rows get empty lists.
std::vector<Ids> user_sequences(const std::vector<Rating>& rows, int num_users);

// For each test row, k distinct items the user never interacted with in `all_rows` (train and
// test together), drawn uniformly with Rng(seed): the usual "rank the held-out item among k
// sampled negatives" protocol. Throws ArgumentError if a user has fewer than k unseen items.
std::vector<Ids> sample_eval_negatives(const std::vector<Rating>& test, const std::vector<Rating>& all_rows,
                                       int num_items, int k, uint64_t seed);

}  // namespace datasets
}  // namespace minirec
