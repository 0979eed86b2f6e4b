// Chapter 63's world: sessions whose next item depends on the category of the session's latest
// item (sessions are ordered: the category drifts inside a session) and on the user's favourite
// shops (the long-term preference), where for "drifter" users the long-term behaviours are stale
// (their favourites changed and only the profile says so). Deliberately left out: real logs,
// session segmentation, brands and other side information.
//
// Item i has category i / items_per_category and a random shop. A user has a profile; with
// drifters, profiles 0 .. P/2-1 are loyal and the others drifters (without drifters, everyone is
// loyal: the control world). Past behaviours (L^u): a random category each, at an old favourite
// shop with probability `loyalty`. The current session (S^u): its first item's category is random;
// before each further item the category switches to a random one with probability switch_prob.
// The next item has the category of the session's last item, at a current favourite shop with
// probability `loyalty` (otherwise any item of that category).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "datasets/movielens.h"
#include "datasets/next_item.h"

namespace minirec {
namespace datasets {

struct SessionOptions {
    int categories = 10, items_per_category = 20, shops = 10;
    int favourite_shops = 2;
    double loyalty = 0.9;
    int profiles = 4;
    bool drifters = true;        // false: every user's long-term behaviours are current (control)
    int min_session = 2, max_session = 5;
    double switch_prob = 0.5;    // chance that the category changes before each further session item
    int min_past = 20, max_past = 40;
    int train_users = 6000, test_users = 1000;
    uint64_t seed = 42;
    int items() const { return categories * items_per_category; }
};

struct SessionUser {
    int profile = 0;
    bool drifter = false;
    std::vector<int> favourites;        // current favourite shops
    int intent = 0;                     // the category of the next item (= the session's last item's)
    Ids past, session;
    int target = 0;
};

struct SessionWorld {
    SessionOptions opt;
    std::vector<int> category, shop;                          // (N) per item
    std::vector<std::vector<std::vector<int>>> by_cat_shop;   // [category][shop] -> items
    std::vector<SessionUser> train, test;
};

SessionWorld session_world(const SessionOptions& o);
// The world's options in words, for a report: "200 items (10 categories of 20, 10 shops); 2 favourite
// shops per user, loyalty 0.9; sessions of 2 to 5 items, ...; 3000 training and 1000 test users".
std::string describe(const SessionOptions& o);
// The true probability of every item being the user's next one (what the generator draws).
std::vector<double> next_item_probabilities(const SessionWorld& w, const SessionUser& u);
// The oracle's HitRate@K: ranking by the true probabilities, its expected hit for a user is the sum of
// her K largest ones; the mean over the test users.
double oracle_hit_rate(const SessionWorld& w, int K);

// Users `rows` of `users` as a batch: profiles and next items (B), and one unpadded session and one
// unpadded list of past behaviours per user.
struct SessionBatch {
    Ids profiles, target;
    std::vector<Ids> sessions, pasts;
};
SessionBatch session_batch(const std::vector<SessionUser>& users, const std::vector<int>& rows);

// HitRate@K over the whole catalogue: is a test user's next item among the K items a scorer ranks
// highest? scores(first, count, z) fills z (count x N, row-major) for the test users first ..
// first + count - 1 (next_item.h's UserScores), asked in consecutive batches of `batch`. The mean over
// all test users, and over loyal users and drifters apart.
struct SessionHits {
    double all = 0.0, loyal = 0.0, drifter = 0.0;
    int loyal_users = 0, drifters = 0;
};
SessionHits session_hit_rates(const SessionWorld& w, int K, int batch, const UserScores& scores);
// The mean of a number per test user (values[u] for w.test[u]) over loyal users and over drifters:
// {loyal, drifters}; 0 for loyal users and NAN for drifters when there are none.
std::pair<double, double> mean_by_kind(const SessionWorld& w, const std::vector<double>& values);

// MovieLens-100k as SDM's input, under datasets/next_item.h's split `s` (made from ml's ratings).
// Sessions: a new one starts after more than `gap` seconds without a rating. Items: category = the
// first genre flag of u.item (0 "unknown" if none; 19 categories), shop = release decade (0 unknown,
// 1 before 1940, 2 the 1940s, ..., 7 the 1990s). Profiles: gender x age band (< 25, 25-34, 35-49,
// 50+; 8). Train: one example per item of a user's sequence before her test item, from the second
// on; its short-term input is the items of its session before it (at a session start, the previous
// session), the last max_session of them; its long-term input the last max_past items before that
// session (the short-term items when there are none). Test: one example per user of s, in s's
// order, for her test item. opt.items() is not the catalogue size here: use category.size().
SessionWorld movielens_sessions(const MovieLens100k& ml, const NextItemSplit& s, int64_t gap, int max_session, int max_past);
// The same from the folder alone: its users' histories (user_histories), their split (next_item_split)
// and the sessions above.
struct MovieLensSessions {
    std::vector<std::vector<TimedItem>> histories;
    NextItemSplit split;
    SessionWorld world;
};
MovieLensSessions movielens_sessions(const MovieLens100k& ml, int64_t gap, int max_session, int max_past);

// The lengths of all sessions of all histories, cut where the gap between ratings exceeds `gap`
// seconds, summarised: how many, mean, median, 90th percentile, the share of one-rating sessions.
struct SessionLengths {
    size_t sessions = 0;
    double mean = 0, single = 0;
    int median = 0, p90 = 0;
};
SessionLengths session_lengths(const std::vector<std::vector<TimedItem>>& histories, int64_t gap);

}  // namespace datasets
}  // namespace minirec
