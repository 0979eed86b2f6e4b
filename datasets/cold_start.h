// Cold-start data: users with demographics and interest tags, items with content keywords, tags
// and expert-label vectors, and held-out new users and new items that appear only in test.
// Deliberately left out: time (the split is by entity, not by date).
//
// Planted structure. There are D latent taste dimensions.
//   Items: a latent vector z_i ~ N(0, I_D). Expert labels e_i = z_i + N(0, expert_noise^2)
//     (like MovieLens tag-genome scores). Its main dimension argmax_k z_ik is its tag; its
//     keywords are drawn from that dimension's keyword range (prob 0.7) or anywhere.
//   Users: demographics (age bucket, gender, occupation) pick a group; each group has a mean
//     taste g; the user's taste t_u = g + N(0, personal_std^2). Interest tags are the user's
//     top interest_tags dimensions of t_u.
//   Interactions: each user sees items_per_user random items and clicks with
//     p = sigmoid(bias + <t_u, z_i> / sqrt(D) * scale)   (cold_start_click_prob).
//   Long tail (tail_rank > 0): items get random exposure ranks r, and the train log keeps each
//     impression of the item of rank r with probability min(1, tail_rank / (r + 1)), so a few
//     items are shown often and most rarely, as in a real shop. The hold-outs are not thinned.
//   Shops (num_shops > 0): every item gets a shop drawn uniformly, side information that says
//     nothing about taste.
// So demographics explain part of the taste (popularity by group), tags and expert labels
// explain the rest: exactly the ladder of cold-start methods in the chapter.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct ColdStartOptions {
    int num_users = 1000;
    uint64_t seed = 1;
    int num_items = 500;
    int dim = 8;                       // D, also the number of tags
    int num_keywords = 200;
    int keywords_per_item = 5;
    int interest_tags = 2;
    int age_buckets = 7, num_occupations = 21;
    double personal_std = 0.7;
    double expert_noise = 0.3;
    int items_per_user = 30;
    double bias = -1.0, scale = 1.0;
    double new_user_fraction = 0.1;    // users whose rows are all in test
    double new_item_fraction = 0.1;    // items whose rows are all in test
    double tail_rank = 0.0;            // > 0: thin the train log to a long tail (see above)
    int num_shops = 0;                 // > 0: draw a shop per item (noise side information)
};

struct ColdStartRow {
    int32_t user, item;
    float click, true_prob;
};

struct ColdStartData {
    // Users
    Ids age_bucket, gender, occupation;    // (U)
    std::vector<Ids> user_tags;            // interest tags per user
    Tensor user_taste;                     // (U, D) ground truth
    // Items
    std::vector<Ids> item_keywords;        // keyword ids per item
    Ids item_tag;                          // (N)
    Tensor expert_labels;                  // (N, D)
    Tensor item_latent;                    // (N, D) ground truth
    Ids exposure_rank;                     // (N) a permutation of 0..N-1 (tail_rank > 0 only)
    Ids item_shop;                         // (N) in [0, num_shops) (num_shops > 0 only)
    // Interactions
    std::vector<ColdStartRow> train;       // old users x old items (thinned when tail_rank > 0)
    std::vector<ColdStartRow> test_new_users;   // new users x old items
    std::vector<ColdStartRow> test_new_items;   // old users x new items
    std::vector<ColdStartRow> test_both_new;    // new users x new items
    std::vector<bool> is_new_user, is_new_item;
};

ColdStartData cold_start(const ColdStartOptions& opts);

// The planted click probability of any (user, item) pair, shown or not.
double cold_start_click_prob(const ColdStartData& d, const ColdStartOptions& opts, int user, int item);

}  // namespace datasets
}  // namespace minirec
