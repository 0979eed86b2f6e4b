// Chapter 51's experiment: a long-tailed synthetic shop (datasets/cold_start.h) and a ladder of
// cold-start methods (models/ch51_cold_start.h) for new users and new items (BGE / GES / EGES),
// scored against the planted click probabilities, in a main world and a control world whose side
// information is shuffled across items. Deliberately left out: the paper's item graph from
// sessions and its weighted random walks (our skip-gram walks one step, item -> a user who clicked
// it), social-login and cross-product signals, MovieLens.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "datasets/cold_start.h"
#include "datasets/sampling.h"
#include "models/ch51_cold_start.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch51 {

// The methods, in the order the tables print them.
enum UserMethod { kURandom, kUPopular, kUDemographic, kUTags, kNumUserMethods };
const char* const kUserMethodNames[] = {"random", "popularity", "popularity in demographic cell",
                                        "popularity among same interest tags"};
enum ItemMethod { kIRandom, kIKeywords, kIExpert, kIBGE, kIGES, kIEGES, kNumItemMethods };
const char* const kItemMethodNames[] = {"random", "keyword cosine", "expert-label cosine", "BGE (id only)", "GES", "EGES"};
const Aggregation kAggregations[] = {Aggregation::bge, Aggregation::ges, Aggregation::eges};
constexpr int kBuckets = 5;   // item-frequency quintiles for the warm-item table and the weights

struct Options {
    datasets::ColdStartOptions data;
    int worlds = 5;               // independent shops per cell (main, control), seeds replicate_seed(seed, w)
    int dim = 16, epochs = 10;    // D of the item embeddings; passes of pairs_per_epoch click pairs
    int pairs_per_epoch = 40000, negatives = 5, batch = 256;   // (item, user) pairs; K negative users
    double lr = 0.01;             // Adam, for the embeddings
    double prior_strength = 10.0; // m in smoothed_ctr
    int top_k = 10, item_top_k = 5;   // new users: top 10 of the old items; new items: top 5
    uint64_t seed = 42;
    bool control = true;          // also run the control world (tests may skip it)
    Options() {
        data.num_users = 1500, data.items_per_user = 150;
        data.tail_rank = 60.0;    // the item of exposure rank r keeps min(1, tail_rank / (r + 1))
        data.num_shops = 50;      // a side-information field unrelated to taste (noise)
    }
};

// The quick run: 2 small worlds per cell, 4 epochs -- too short for verdicts.
inline Options quick_options() {
    Options o;
    o.worlds = 2, o.data.num_users = 800, o.epochs = 4;
    return o;
}

// Top-k quality against the planted truth: the mean true click probability of the k items a method
// ranks first; share = (model - random) / (oracle - random): 0 is chance, 1 is perfect.
struct TopK {
    double model = 0.0, random = 0.0, oracle = 0.0;
    double share() const { return (model - random) / (oracle - random); }
};

struct World {
    double user_share[kNumUserMethods] = {}, item_share[kNumItemMethods] = {};   // share of oracle lift
    double weight[kBuckets][4] = {};          // EGES softmax(a_v) per quintile and field
    double bucket_impressions[kBuckets] = {}; // mean train impressions of the items per quintile
};

struct Results {
    std::vector<World> main, control;   // world w of each uses the seed replicate_seed(seed, w)
    double seconds = 0.0;
};

// One generated world, its log thinned to a long tail, and the per-item counts we need.
struct Shop {
    datasets::ColdStartData d;
    datasets::ColdStartOptions o;
    std::vector<int> impressions, clicks;               // (N) per item, in the train log
    std::vector<Ids> user_clicks;                       // (U) the items each user clicked in train
    ItemFields fields;                                  // id, tag, keywords, shop
    int U = 0, N = 0;
    double truth(int u, int i) const { return datasets::cold_start_click_prob(d, o, u, i); }
};

// control: every item's side information (tag, keywords, shop) is that of another item, drawn by a
// random permutation, so it says nothing about the item's taste vector.
inline Shop make_shop(const Options& so, uint64_t seed, bool control) {
    Shop s;
    s.o = so.data;
    s.o.seed = seed;
    s.d = datasets::cold_start(s.o);
    s.U = s.o.num_users, s.N = s.o.num_items;
    s.impressions.assign(size_t(s.N), 0), s.clicks.assign(size_t(s.N), 0), s.user_clicks.resize(size_t(s.U));
    for (const datasets::ColdStartRow& r : s.d.train) {
        s.impressions[size_t(r.item)]++;
        if (r.click > 0) s.clicks[size_t(r.item)]++, s.user_clicks[size_t(r.user)].push_back(r.item);
    }
    // Item fields for EGES: the id, the tag (main taste dimension), the keywords, and the shop.
    s.fields.names = {"id", "tag", "keywords", "shop"};
    s.fields.vocab = {s.N, s.o.dim, s.o.num_keywords, s.o.num_shops};
    s.fields.ids.resize(4);
    std::vector<int> side(size_t(s.N));   // whose side information item i carries: its own, or (control) another's
    for (int i = 0; i < s.N; ++i) side[size_t(i)] = i;
    Rng rng(splitmix64(seed + 51));
    if (control) rng.shuffle(side);
    for (int i = 0; i < s.N; ++i) {
        const size_t j = size_t(side[size_t(i)]);
        s.fields.ids[0].push_back({i});
        s.fields.ids[1].push_back({s.d.item_tag[j]});
        s.fields.ids[2].push_back(s.d.item_keywords[j]);
        s.fields.ids[3].push_back({s.d.item_shop[j]});
    }
    return s;
}

// Scores are (U x N) matrices; only the (user, candidate) entries a table uses are filled.
using Scores = std::vector<float>;

inline TopK top_k_truth(const Shop& s, const Scores& score, const std::vector<int>& users,
                        const std::vector<int>& cands, int k) {
    TopK t;
    std::vector<float> row(cands.size()), truth(cands.size());
    for (int u : users) {
        for (size_t c = 0; c < cands.size(); ++c)
            row[c] = score[size_t(u) * s.N + size_t(cands[c])], truth[c] = float(s.truth(u, cands[c]));
        for (int c : top_k(row, k)) t.model += truth[size_t(c)] / (double(k) * users.size());
        for (int c : top_k(truth, k)) t.oracle += truth[size_t(c)] / (double(k) * users.size());
        for (float p : truth) t.random += p / (double(cands.size()) * users.size());
    }
    return t;
}

// Popularity, and popularity within the user's demographic cell and among the user's interest tags.
inline std::vector<Scores> count_scores(const Shop& s, double m) {
    GroupCounts by_cell(s.o.age_buckets * 2, s.N), by_tag(s.o.dim, s.N);
    std::vector<Ids> cell(size_t(s.U));                                  // one group per user
    for (int u = 0; u < s.U; ++u) cell[size_t(u)] = {s.d.age_bucket[size_t(u)] * 2 + s.d.gender[size_t(u)]};
    double all_clicks = 0.0;
    for (const datasets::ColdStartRow& r : s.d.train) {
        by_cell.add(cell[size_t(r.user)][0], r.item, r.click), all_clicks += r.click;
        for (int t : s.d.user_tags[size_t(r.user)]) by_tag.add(t, r.item, r.click);
    }
    const double ctr0 = all_clicks / double(s.d.train.size());
    std::vector<double> pop(size_t(s.N));
    for (int i = 0; i < s.N; ++i) pop[size_t(i)] = smoothed_ctr(s.clicks[size_t(i)], s.impressions[size_t(i)], ctr0, m);
    Scores popular(size_t(s.U) * s.N);
    for (size_t ui = 0; ui < popular.size(); ++ui) popular[ui] = float(pop[ui % size_t(s.N)]);
    return {popular, group_popularity(by_cell, cell, pop, m), group_popularity(by_tag, s.d.user_tags, pop, m)};
}

// ---- New items: EGES ---------------------------------------------------------------------------
// Trains one item-embedding model by skip-gram with negative sampling (eq. 3 with eq. 6) on the
// click graph: the centre node is an item v of a logged click, its context the user u who clicked
// it (a walk of one step from item to user), and K negative users are drawn from the users' click
// counts^0.75 (as word2vec draws words).
inline EGES train_embeddings(const Shop& s, const Options& so, Aggregation mode, Rng& rng) {
    EGES m(s.fields, s.U, so.dim, mode, rng);
    std::vector<const datasets::ColdStartRow*> clicks;
    std::vector<double> freq(size_t(s.U));
    for (const datasets::ColdStartRow& r : s.d.train)
        if (r.click > 0) clicks.push_back(&r), freq[size_t(r.user)] += 1.0;
    for (double& f : freq) f = std::pow(f, 0.75);
    const datasets::Discrete negatives(freq);
    Adam adam(vars_of(m.named_parameters()), so.lr);
    const int B = so.batch, K = so.negatives, steps = so.pairs_per_epoch / B;
    long step = 0;
    for (int epoch = 0; epoch < so.epochs; ++epoch)
        for (int it = 0; it < steps; ++it) {
            Ids centre, ctx, neg;
            for (int b = 0; b < B; ++b) {
                const datasets::ColdStartRow& r = *clicks[size_t(rng.randint(int(clicks.size())))];
                centre.push_back(r.item), ctx.push_back(r.user);
                for (int k = 0; k < K; ++k) neg.push_back(negatives.sample(rng));
            }
            const Var loss = skipgram_loss(m.embed(s.fields, centre), m.context(ctx), m.context(neg, {B, K}));
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 100 == 0) check_finite(loss.item(), step);
        }
    return m;
}

inline Scores random_scores(const Shop& s, Rng& rng) {
    Scores out(size_t(s.U) * s.N);
    for (float& x : out) x = rng.uniform();
    return out;
}

inline World run_world(const Options& so, uint64_t seed, bool control) {
    const Shop s = make_shop(so, seed, control);
    Rng rng(splitmix64(seed + 23));
    World w;
    std::vector<int> new_users, old_users, old_items, new_items;
    for (int u = 0; u < s.U; ++u)
        if (s.d.is_new_user[size_t(u)]) new_users.push_back(u);
        else if (!s.user_clicks[size_t(u)].empty()) old_users.push_back(u);   // someone to profile
    for (int i = 0; i < s.N; ++i) (s.d.is_new_item[size_t(i)] ? new_items : old_items).push_back(i);

    // New users: rank all old items.
    std::vector<Scores> user_scores(kNumUserMethods);
    user_scores[kURandom] = random_scores(s, rng);
    const std::vector<Scores> counts = count_scores(s, so.prior_strength);
    user_scores[kUPopular] = counts[0], user_scores[kUDemographic] = counts[1], user_scores[kUTags] = counts[2];
    for (int m = 0; m < kNumUserMethods; ++m) {
        w.user_share[m] = top_k_truth(s, user_scores[size_t(m)], new_users, old_items, so.top_k).share();
    }

    // Items: three embedding models on the same log.
    std::vector<EGES> models;
    for (Aggregation a : kAggregations) models.push_back(train_embeddings(s, so, a, rng));

    std::vector<Scores> item_scores(kNumItemMethods);
    item_scores[kIRandom] = random_scores(s, rng);
    std::vector<float> kw(size_t(s.N) * s.o.num_keywords, 0.0f);
    for (int i = 0; i < s.N; ++i)
        for (int k : s.d.item_keywords[size_t(i)]) kw[size_t(i) * s.o.num_keywords + size_t(k)] += 1.0f;
    item_scores[kIKeywords] = profile_cosine(s.user_clicks, kw, s.o.num_keywords);
    item_scores[kIExpert] = profile_cosine(s.user_clicks, s.d.expert_labels.vec(), s.o.dim);
    for (int a = 0; a < 3; ++a) item_scores[size_t(kIBGE + a)] = models[size_t(a)].scores(s.fields, s.d.is_new_item).vec();   // BGE, GES, EGES
    for (int m = 0; m < kNumItemMethods; ++m) {
        w.item_share[m] = top_k_truth(s, item_scores[size_t(m)], old_users, new_items, so.item_top_k).share();
    }

    // Warm items by frequency quintile (train impressions): EGES's weights.
    std::vector<int> by_freq = old_items;
    std::stable_sort(by_freq.begin(), by_freq.end(), [&](int a, int b) { return s.impressions[size_t(a)] < s.impressions[size_t(b)]; });
    const int F = s.fields.fields();
    for (int q = 0; q < kBuckets; ++q) {
        const std::vector<int> pool(by_freq.begin() + long(by_freq.size() * q / kBuckets),
                                    by_freq.begin() + long(by_freq.size() * (q + 1) / kBuckets));
        const Tensor P = models[2].weights(pool);
        for (size_t j = 0; j < pool.size(); ++j) {
            w.bucket_impressions[q] += s.impressions[size_t(pool[j])] / double(pool.size());
            for (int f = 0; f < F && f < 4; ++f) w.weight[q][f] += P[j * F + size_t(f)] / double(pool.size());
        }
    }
    return w;
}

inline Results run_experiment(const Options& so) {
    Results res;
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < (so.control ? 2 : 1); ++c)
        for (int r = 0; r < so.worlds; ++r) {
            (c ? res.control : res.main).push_back(run_world(so, replicate_seed(so.seed, r), c == 1));
        }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

// The claims, paired per world, in share of oracle lift (top-k true CTR, (method - random) /
// (oracle - random)): the item-embedding claims in both worlds, the new-user ladder in the main
// world only (the control world changes only the items' side information).
inline Claims judge(const Options&, const Results& r) {
    Claims claims;
    auto item = [&](const std::string& claim, const std::string& paper, int a, int b) {
        for (int c = 0; c < (r.control.empty() ? 1 : 2); ++c) {
            Claim x{claim, c ? "control" : "main", c ? "—" : paper, {}, 0.01, 3};
            for (const World& w : c ? r.control : r.main) x.diffs.push_back(w.item_share[a] - w.item_share[b]);
            claims.add(x);
        }
    };
    item("new items: EGES above GES", "Table 2 (link prediction AUC): EGES 0.9700 vs GES 0.9575 (Amazon)", kIEGES, kIGES);
    item("new items: GES above BGE (id only)", "Table 2: GES 0.9575 vs BGE 0.9327 (Amazon)", kIGES, kIBGE);
    item("new items: EGES's cold embedding (side information alone) above popularity (a random order for "
         "never-shown items)", "cold start: qualitative only (Fig. 5)", kIEGES, kIRandom);
    for (int c = 0; c < (r.control.empty() ? 1 : 2); ++c) {
        Claim x{"EGES's weight on the id higher on the most frequent fifth of warm items than on the rarest",
                c ? "control" : "main", "—", {}, 0.0, 3};
        for (const World& w : c ? r.control : r.main) x.diffs.push_back(w.weight[kBuckets - 1][0] - w.weight[0][0]);
        claims.add(x);
    }
    const int user[][2] = {{kUPopular, kURandom}, {kUDemographic, kUPopular}, {kUTags, kUPopular}};
    for (const auto& p : user) {
        Claim x{std::string("new users: ") + kUserMethodNames[p[0]] + " above " + kUserMethodNames[p[1]], "main", "—", {}, 0.01, 3};
        for (const World& w : r.main) x.diffs.push_back(w.user_share[p[0]] - w.user_share[p[1]]);
        claims.add(x);
    }
    return claims;
}

}  // namespace ch51
}  // namespace minirec
