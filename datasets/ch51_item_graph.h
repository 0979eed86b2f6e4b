// Chapter 51's world and the first half of EGES's pipeline (Wang et al. 2018, section 2.2): users'
// behaviour logs cut into sessions, and the directed weighted item graph built from them.
// At the end: MovieLens-100k in the same shape, for the cold-start test on real data (--data), and
// the paper's evaluation protocol (the edge split, AUC over item pairs and over users).
// Deliberately left out: the paper's noise filters (stays under 1 s, spam users, rewritten ids),
// more than three kinds of side information.
//
// Item i belongs to a latent cluster (what users co-browse); its popularity is Zipf over a random
// rank (a long tail). Side information: a category that covers `clusters / categories` clusters
// (partly reveals the cluster), a shop that sells in the item's cluster with probability
// shop_fidelity (shops s = c, c + clusters, ... belong to cluster c), and a brand drawn at random
// (noise). With informative_side = false (the control world) category and shop are random too.
// A user likes `liked` clusters. Each session picks one of them; each click stays in that cluster
// with probability `stay` (an item of the cluster by popularity), else any item by popularity.
// Clicks inside a session are minutes apart, sessions hours apart. A share of items is cold:
// the training graph never sees them (their clicks are the cold-start test).
#pragma once
#include <array>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "core/rng.h"
#include "datasets/movielens.h"

namespace minirec {
namespace datasets {

struct ItemGraphOptions {
    int items = 2000, clusters = 40, categories = 10, shops = 200, brands = 50;
    double zipf = 1.0, shop_fidelity = 0.8;
    bool informative_side = true;  // false: category and shop are random (the control world)
    int users = 3000, liked = 3, min_sessions = 2, max_sessions = 6, min_clicks = 2, max_clicks = 8;
    double stay = 0.95;
    double cold_share = 0.05;      // items with no behaviour in training (only side information)
    uint64_t seed = 42;
};

struct Click {
    int item;
    double time;                   // seconds
};

struct ItemGraphWorld {
    ItemGraphOptions opt;
    std::vector<int> cluster, category, shop, brand;   // (N) per item
    std::vector<double> popularity;                    // (N) Zipf weight of the item
    std::vector<bool> cold;                            // (N)
    std::vector<std::vector<Click>> logs;              // per user, in time order, cold items included
    std::vector<bool> cold_user;                       // (U) --data: users held out entirely (empty: none)
    std::vector<std::array<int, 3>> demographics;      // (U) --data: age band, gender, occupation
};

ItemGraphWorld item_graph_world(const ItemGraphOptions& o);

// A user's log cut into sessions: a new session starts when the gap to the previous click
// exceeds `window` seconds (the paper: one hour).
std::vector<std::vector<int>> cut_sessions(const std::vector<Click>& log, double window = 3600.0);

// Directed weighted edges, stored by source (CSR): edge i -> j has weight = the number of times
// j directly follows i in a session, over all users.
struct ItemGraph {
    int nodes = 0;
    std::vector<int> begin, to;     // out-edges of i: to[begin[i] .. begin[i + 1])
    std::vector<double> weight;
    double out_weight(int i) const;
};

struct Edge {
    int from, to;
    double weight;
};
// Every consecutive pair (i, j), i != j, of every session counted into edges, sorted by (from, to).
std::vector<Edge> count_edges(const std::vector<std::vector<int>>& sessions);
ItemGraph make_graph(int nodes, const std::vector<Edge>& edges);

// Chapter 51's cold-start protocol on MovieLens-100k: logs = each user's ratings in time order
// (every rating a click, at its timestamp); side information = the movie's first genre (category,
// 19), its release decade (shop: 1920s or before = 0 ... 1990s = 7, unknown = 9) and its second
// genre (brand; 19 = none); cold = round(cold_share * N) items drawn at random (seeded), held out
// with all their ratings: the training graph never sees them, their edges to warm items are the
// test. cluster is the category (MovieLens plants none); popularity is the rating count.
// Cold users: round(cold_user_share * U) users drawn at random (another seeded stream), whose logs the
// graph never sees; demographics = age band (< 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+: 0..6),
// gender (M = 0, F = 1), occupation (index in the sorted list of u.user's occupations).
ItemGraphWorld movielens_item_graph(const MovieLens100k& ml, double cold_share, uint64_t seed, double cold_user_share = 0.0);

// Cold users ranked from demographics alone: each cold user scores every warm movie; AUC of the
// movies she rated against those she did not, averaged over the cold users. Score of movie i:
// with H empty, popularity (its ratings by warm users); else the cosine of H[i] with her vector. A
// warm user's vector is the mean of H over her warm movies; each demographic value (age band,
// gender, occupation) gets the mean of the vectors of the warm users who have it; a cold user's
// vector is the mean of her three value vectors (demographic) or of all warm users' vectors (not).
double cold_user_demographic_auc(const ItemGraphWorld& w, const std::vector<std::vector<float>>& H, bool demographic);

// ---- The paper's evaluation protocol (the experiment that uses it is tutorials/ch51_cold_start.h) ----
// The sessions the training graph is built from: every user's log cut into sessions, except (--data)
// the cold users' logs, which are never trained on.
std::vector<std::vector<int>> training_sessions(const ItemGraphWorld& w);

// The paper's split: a random third of the warm edges held out, with as many unconnected warm
// pairs; every edge between a cold item and a warm one held out, each with an unconnected pair
// (same cold item, a random warm one).
struct Split {
    std::vector<Edge> train;
    std::vector<std::pair<int, int>> test, neg, cold_test, cold_neg;
};
Split split_edges(const ItemGraphWorld& shop, const std::vector<Edge>& edges, Rng& rng);

// Each item's training degree: the summed weight of its in- and out-edges.
std::vector<double> degrees(int nodes, const std::vector<Edge>& edges);

// The warm items, rarest first by degree (ties in id order).
std::vector<int> warm_items_by_degree(const ItemGraphWorld& shop, const std::vector<double>& degree);

// AUC of held-out pairs (label 1) against unconnected pairs (label 0) under score(i, j).
template <class Score>
double pair_auc(const std::vector<std::pair<int, int>>& pos, const std::vector<std::pair<int, int>>& neg, Score score) {
    std::vector<float> s, y;
    for (const auto* set : {&pos, &neg})
        for (const auto& p : *set) s.push_back(score(p.first, p.second)), y.push_back(set == &pos ? 1.0f : 0.0f);
    return auc(s, y);
}

// --data: every user who rated some of the cold items (and some warm ones) ranks all the cold items by
// their mean score(cold item, warm item) over her warm items; AUC of her cold items, averaged over users.
template <class Score> double cold_user_auc(const ItemGraphWorld& shop, Score score) {
    std::vector<int> cold;
    for (int i = 0; i < shop.opt.items; ++i)
        if (shop.cold[size_t(i)]) cold.push_back(i);
    std::vector<double> aucs;
    for (const std::vector<Click>& log : shop.logs) {
        std::set<int> rated, warm;
        for (const Click& c : log) (shop.cold[size_t(c.item)] ? rated : warm).insert(c.item);
        if (rated.empty() || warm.empty() || rated.size() == cold.size()) continue;
        std::vector<float> s, y;
        for (int c : cold) {
            double x = 0.0;
            for (int j : warm) x += score(c, j);
            s.push_back(float(x / double(warm.size()))), y.push_back(rated.count(c) ? 1.0f : 0.0f);
        }
        aucs.push_back(auc(s, y));
    }
    double mean = 0.0;   // summed term by term, as nn/train.h's mean_over (0 when no user qualifies)
    for (double a : aucs) mean += a / double(aucs.size());
    return mean;
}

}  // namespace datasets
}  // namespace minirec
