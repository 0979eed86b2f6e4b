// Sequential behaviour logs for session and multi-interest models (ATRank, DUPN, SDM, MIND,
// BERT4Rec, TransRec), with a documented next-item process. Deliberately left out: real
// calendars (time is seconds from 0) and item cold start.
//
// Planted structure.
//   Items: num_interests clusters of equal size; cluster = category. Each item also has a brand
//     (brands are nested in categories) and a shop (shops cut across categories). Within its
//     cluster an item has Zipf popularity. Each item has `num_successors` fixed successors in
//     its own cluster (the item-to-item transitions, e.g. a phone then its case).
//   Users: each user holds `interests_per_user` distinct interests with random mixture weights.
//   Sessions: a session picks one of the user's interests by weight. Within a session the next
//     item is, with probability order_strength, a uniformly chosen successor of the previous
//     item; otherwise a popular item of the session's interest. So order_strength = 0 makes order
//     irrelevant (a bag of interests) and 1 makes the sequence a walk on the transition graph.
//   Time: gaps inside a session ~ Exponential(mean session_gap), between sessions ~
//     Exponential(mean day_gap).
//   Behaviour types: each item event is a click, cart or buy (probabilities below). Before an
//     item event, with probability search_prob a search event for the upcoming item's category
//     is inserted (item = -1), and with probability coupon_prob a coupon event for its shop
//     (item = -1): heterogeneous behaviours that predict the next item.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

enum class Behaviour : int32_t { Click = 0, Cart = 1, Buy = 2, Search = 3, Coupon = 4 };

struct SequenceOptions {
    int num_users = 500;
    uint64_t seed = 1;
    int num_items = 1000;
    int num_interests = 20;        // clusters = categories (num_items must be divisible by it)
    int interests_per_user = 3;
    int brands_per_category = 5;
    int num_shops = 50;
    int sessions_per_user = 5;
    int min_session_length = 2;
    int max_session_length = 8;
    double order_strength = 0.5;
    int num_successors = 3;
    double zipf_exponent = 1.0;
    double cart_prob = 0.1, buy_prob = 0.05;     // the rest of item events are clicks
    double search_prob = 0.05, coupon_prob = 0.03;
    double session_gap = 60.0;     // seconds
    double day_gap = 86400.0;
};

struct Event {
    int32_t user, item;            // item = -1 for search and coupon events
    int32_t category, brand, shop; // the (upcoming) item's attributes; brand = -1 for search/coupon
    Behaviour type;
    int32_t session;               // per user, 0-based
    int32_t interest;              // ground truth: the session's interest
    int64_t time;                  // seconds
};

struct SequenceData {
    std::vector<std::vector<Event>> events;      // events[user], in time order
    Ids item_category, item_brand, item_shop;    // (num_items)
    std::vector<Ids> successors;                 // successors[item]: the planted transitions
    std::vector<Ids> user_interests;             // the interests each user holds
    std::vector<std::vector<float>> user_weights; // their mixture weights (sum to 1)
    std::vector<std::vector<double>> cluster_popularity;  // per interest: P(item) over its items
    double order_strength = 0.0;
    int num_items = 0, num_interests = 0, num_brands = 0, num_shops = 0;
};

SequenceData sequences(const SequenceOptions& opts);

// The true next-item distribution inside a session with interest `interest` whose previous item
// was `last_item` (-1 at the session start): (N) probabilities.
std::vector<float> next_item_distribution(const SequenceData& data, int interest, int last_item);

// Each user's item ids (item events only) in time order: the input of sequence models.
std::vector<Ids> item_sequences(const SequenceData& data);

}  // namespace datasets
}  // namespace minirec
