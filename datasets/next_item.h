// The next-item protocol every chapter uses on real interaction logs (MovieLens-100k): the one of
// the BERT4Rec paper (Sec. 4.1), written once.
//   1. Implicit feedback: every rating is an interaction, whatever its value.
//   2. Each user's interactions in time order (ties: file order).
//   3. Leave one out: the last item is the test target, the second-to-last the validation target,
//      the rest is the training history. Users with fewer than 3 interactions are left out.
//   4. Two rankings of the target, both with ties counted against it (core/metrics.h rank_of):
//      - sampled: among `n` negatives drawn by training popularity from the items the user never
//        interacted with (the paper: n = 100);
//      - full: among every item the user has not interacted with before the target.
//   5. HR@K, NDCG@K and MRR, averaged over users.
// When the target is the test item, the validation item counts as history (a model may train on it).
// Deliberately left out: graded relevance, repeated items (a user rates a movie once).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/movielens.h"

namespace minirec {
namespace datasets {

// One interaction in a user's time-ordered history, with what MovieLens records about it.
struct TimedItem {
    int32_t item = 0;    // 0-based
    float rating = 0;    // 1..5 in MovieLens
    int64_t time = 0;    // Unix seconds
};

// Each user's interactions in time order (ties by input order); users without rows get none.
std::vector<std::vector<TimedItem>> user_histories(const std::vector<Rating>& rows, int num_users);

// The items of each history, in order.
std::vector<Ids> item_sequences(const std::vector<std::vector<TimedItem>>& histories);

// Training windows of a long sequence, so that a model reading at most len items trains on all of it: the
// items [e - len, e) for e = size, size - stride, ..., oldest window first, down to the first window
// that starts at item 0 (clipped there). Every item is covered when stride <= len; a sequence of at
// most len items is one window. Throws ArgumentError unless 1 <= stride and 1 <= len.
std::vector<Ids> sliding_windows(const Ids& seq, int len, int stride);

struct NextItemUser {
    int user = 0;          // index into the histories
    Ids history;           // training items, oldest first (everything before the validation item)
    int valid = -1;        // the second-to-last item
    int test = -1;         // the last item
};

struct NextItemSplit {
    std::vector<NextItemUser> users;
    int num_items = 0;
    int skipped_users = 0;              // fewer than 3 interactions
    std::vector<double> train_count;    // (N): times each item occurs in the training histories
};

// Steps 2-3 above from each user's item sequence (already in time order).
NextItemSplit next_item_split(const std::vector<Ids>& sequences, int num_items);
// Steps 1-3 for a loaded MovieLens folder: user_histories, item_sequences, then the split above.
NextItemSplit next_item_split(const MovieLens100k& ml);

// Steps 1-3 for a MovieLens-100k folder (load_movielens_100k: DataError names the file and line).
NextItemSplit movielens_next_item(const std::string& dir);

enum class Target { validation, test };

// What a model has seen of user u before the target: history, plus the validation item when the
// target is the test item.
Ids seen_before(const NextItemUser& u, Target t);

// Step 4's sampled candidates: for each user, n distinct items drawn with probability proportional
// to (train_count + 1), never an item of the user's whole sequence. Seeded; throws ArgumentError
// when a user has fewer than n items left to draw from.
std::vector<Ids> popularity_negatives(const NextItemSplit& s, int n, uint64_t seed);

struct NextItemQuality {
    double hr = 0, ndcg = 0, mrr = 0;                  // against the sampled negatives
    double hr_full = 0, ndcg_full = 0, mrr_full = 0;   // against every unseen item
    int users = 0;
};

// Scores of every item for users first .. first + count - 1 of s.users: fills scores (count, N).
using UserScores = std::function<void(size_t first, int count, std::vector<float>& scores)>;

// Steps 4-5 for one model, scoring `batch` users at a time.
NextItemQuality evaluate_next_item(const NextItemSplit& s, const std::vector<Ids>& negatives, Target t, int k,
                                   const UserScores& scores, int batch = 256);

// The baseline every table has: an item's score is its count in the training histories.
UserScores popularity_scorer(const NextItemSplit& s);

}  // namespace datasets
}  // namespace minirec
