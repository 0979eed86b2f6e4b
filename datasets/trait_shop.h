// A shop whose users have four latent traits (chapter 53, DUPN): behaviour sequences in which buys
// reveal the traits and clicks are noise, CTR rows, and user-level task labels driven by different
// traits, including one task kept for transfer. Deliberately left out: queries as text, sessions.
//
// Planted structure. User u has traits z_u ~ N(0, I_4); item i has a vector v_i ~ N(0, I_4), a
// random category and a price level (the quartile of v_i[2]). A behaviour is a "buy" with
// probability buy_rate, drawing the item from softmax_i(beta <z_u, v_i>) (it reveals the user),
// else a "click", a uniformly random item (noise). Tasks, each driven by some of the traits:
//   CTR          click on candidate j ~ Bernoulli(sigmoid(ctr_scale (z0 v_j0 + z1 v_j1)))  traits 0, 1
//   price pref.  the quartile of z2 (4 classes)                                             trait 2
//   shop pref.   the quartile of z3 (4 classes)                                             trait 3
//   new task     1[z1 + z2 - z3 + noise > 0], never trained on by DUPN                      traits 1-3
//   control task 1[z0 - z1 + noise > 0], the new task's control: only the CTR task's traits traits 0, 1
// The profile (2 groups) is sign(z0), flipped with probability 0.2. The first `users` users are
// for multi-task training, the next `transfer_users` are new users for the transfer task; every
// user has ctr_rows_per_user CTR rows, stored user after user. At the end: CTR rows as model input,
// and the ground truth the experiment reads off the shop (tutorials/ch53_dupn.h).
#pragma once
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct TraitShopOptions {
    int users = 3000;           // multi-task training users
    int transfer_users = 1000;  // new users: half train the new head, half test it
    int items = 240, categories = 8, traits = 4;
    int length = 12;            // T behaviours per user
    int time_buckets = 4;
    double buy_rate = 0.35, beta = 1.5, ctr_scale = 2.5, new_task_noise = 0.5;
    int ctr_rows_per_user = 8;  // candidates shown to each user
    uint64_t seed = 1;
};

enum BehaviourType { kClick = 0, kBuy = 1 };

struct TraitShop {
    TraitShopOptions o;
    std::vector<float> z, v;               // (U_all, K), (N, K)
    Ids category, price;                   // per item
    Ids seq_item, seq_type;                // (U_all, T)
    Ids profile, price_class, shop_class;  // per user
    std::vector<float> new_label;          // per user
    std::vector<float> control_label;      // per user (drawn after everything else)
    std::vector<int> ctr_user, ctr_item;   // CTR rows
    std::vector<float> click;
    int all_users() const { return o.users + o.transfer_users; }
};

// Class of x under N(0, 1) quartiles: 0, 1, 2 or 3.
int normal_quartile(double x);

// A new task on the transfer users: one CTR row per user (her first: it carries her sequence and a
// query), the first half trains the new task, the second half tests it.
struct TransferSplit { std::vector<int> train_rows, test_rows; std::vector<float> ytr, yte; };
TransferSplit transfer_split(const TraitShop& w, const std::vector<float>& user_label);

// Throws unless the sizes are positive, traits == 4 and transfer_users >= 4.
TraitShop trait_shop(const TraitShopOptions& opts);

// ---- CTR rows as model input, ids only (chapter 53 hands them to models/ch53_dupn.h's Behaviours) ----
// Each row's user sequence (B * T: the item, its category and price level, the behaviour type, the
// time bucket t * time_buckets / T), her query (the candidate's category) and profile, the candidate,
// the user's price and shop classes, and the click.
struct ShopBatch {
    int B = 0, T = 0;
    Ids item, category, price, type, time;                   // (B * T)
    Ids query, profile, candidate, price_class, shop_class;  // (B)
    Tensor click;                                            // (B, 1)
};
ShopBatch shop_batch(const TraitShop& w, const std::vector<int>& rows);

// The CTR rows of all the transfer users (stored after the training users' rows).
std::vector<int> transfer_ctr_rows(const TraitShop& w);

// n rows of a transfer split's training half, drawn with replacement, and their labels.
std::pair<std::vector<int>, std::vector<float>> draw_training_rows(const TransferSplit& t, int n, Rng& rng);

// The mean of weights (n, T), one per step of the first n transfer users' sequences, over their
// click steps ([kClick]) and over their buy steps ([kBuy]).
std::array<double, 2> mean_weight_by_type(const TraitShop& w, const std::vector<float>& weights);

}  // namespace datasets
}  // namespace minirec
