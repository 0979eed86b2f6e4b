// Chapter 51's experiment as a function: a synthetic shop whose log is thinned into a long tail
// (datasets/cold_start.h), then the chapter's ladder of cold-start methods (models/ch51_cold_start.h).
// New users: random, popularity, popularity within the user's demographic cell or interest tags,
// and an FM over demographics + tags. New items: random, keyword and expert-label similarity, and
// the item embeddings BGE / GES / EGES, scored against the planted click probabilities. Printing
// and pictures live in ch51_cold_start.cpp. Deliberately left out: social-login and cross-product
// signals (the chapter's 2.2-2.4, which need data we do not simulate), MovieLens (--data).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/cold_start.h"
#include "datasets/sampling.h"
#include "models/ch51_cold_start.h"
#include "models/ch71_pal.h"   // the FM
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch51 {

// The methods, in the order the tables print them.
enum UserMethod { kURandom, kUPopular, kUDemographic, kUTags, kUFM, kNumUserMethods };
const char* const kUserMethodNames[] = {"random", "popularity", "popularity in demographic cell",
                                        "popularity among same interest tags", "FM(demographics, tags, item)"};
enum ItemMethod { kIRandom, kIKeywords, kIExpert, kIBGE, kIGES, kIEGES, kIEGESLearned, kNumItemMethods };
const char* const kItemMethodNames[] = {"random", "keyword cosine", "expert-label cosine", "BGE (id only)",
                                        "GES", "EGES", "EGES, learned side weights"};
const Aggregation kAggregations[] = {Aggregation::bge, Aggregation::ges, Aggregation::eges};
constexpr int kBuckets = 5;   // item-frequency quintiles for the warm-item table and the weights

struct StudyOptions {
    datasets::ColdStartOptions data;
    int worlds = 3;               // independent shops, seeds derived from `seed`
    int dim = 16;                 // D of the item embeddings
    int epochs = 10;
    int pairs_per_epoch = 40000;  // (item, user) click pairs per epoch
    int negatives = 5;            // K
    int batch = 256;
    double lr = 0.01;             // Adam, for EGES and the FM
    int fm_epochs = 5;
    double prior_strength = 10.0; // m in smoothed_ctr
    int top_k = 10;               // new users: top 10 of the old items; items: top 5 of a pool
    int item_top_k = 5;
    uint64_t seed = 42;
    bool verbose = true;
    StudyOptions() {
        data.num_users = 2000;
        data.items_per_user = 150;
        data.tail_rank = 60.0;    // the item of exposure rank r keeps min(1, tail_rank / (r + 1))
        data.num_shops = 50;      // a side-information field unrelated to taste (noise)
    }
};

// Top-k quality against the planted truth: the mean true click probability of the k items a
// method ranks first, next to a random pick and the oracle's pick. share = (model - random) /
// (oracle - random): 0 is no better than chance, 1 is perfect.
struct TopK {
    double model = 0.0, random = 0.0, oracle = 0.0;
    double share() const { return (model - random) / (oracle - random); }
};

struct World {
    double user_top[kNumUserMethods] = {}, user_gauc[kNumUserMethods] = {}, user_share[kNumUserMethods] = {};
    double item_top[kNumItemMethods] = {}, item_gauc[kNumItemMethods] = {}, item_share[kNumItemMethods] = {};
    double warm_share[3][kBuckets] = {};      // [BGE, GES, EGES][frequency quintile]
    double weight[kBuckets][4] = {};          // EGES softmax(a_v) per quintile and field
    double bucket_impressions[kBuckets] = {}; // mean train impressions of the items per quintile
    double oracle_user = 0.0, random_user = 0.0, oracle_item = 0.0, random_item = 0.0;
    int train_rows = 0, train_clicks = 0;
};

struct StudyReport {
    std::vector<World> worlds;
    std::vector<std::string> field_names;
    double seconds = 0.0;
    template <class F> double mean(F f) const { return mean_over(worlds, f); }
    template <class F> double min(F f) const { return min_over(worlds, f); }
};

// ---- The shop -----------------------------------------------------------------------------------
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

inline Shop make_shop(const StudyOptions& so, uint64_t seed) {
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
    for (int i = 0; i < s.N; ++i) {
        s.fields.ids[0].push_back({i});
        s.fields.ids[1].push_back({s.d.item_tag[size_t(i)]});
        s.fields.ids[2].push_back(s.d.item_keywords[size_t(i)]);
        s.fields.ids[3].push_back({s.d.item_shop[size_t(i)]});
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

// Group AUC of a score matrix on held-out click rows (users with both classes only).
inline double gauc_on(const Shop& s, const Scores& score, const std::vector<datasets::ColdStartRow>& rows) {
    Ids users;
    std::vector<float> y, z;
    for (const datasets::ColdStartRow& r : rows)
        users.push_back(r.user), y.push_back(r.click), z.push_back(score[size_t(r.user) * s.N + size_t(r.item)]);
    return gauc(users, z, y);
}

// ---- New users ----------------------------------------------------------------------------------
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

// An FM over the fields a new user brings (demographic cell, occupation, two interest tags) and the
// item id, trained on the log: the learned version of "popularity among people like you".
inline Scores fm_scores(const Shop& s, const StudyOptions& so, Rng& rng) {
    const int cells = s.o.age_buckets * 2, occ = s.o.num_occupations, T = s.o.dim;
    const int o_occ = cells, o_tag = cells + occ, o_item = cells + occ + T;
    auto user_fields = [&](int u, Ids& ids) {
        ids.push_back(s.d.age_bucket[size_t(u)] * 2 + s.d.gender[size_t(u)]);
        ids.push_back(o_occ + s.d.occupation[size_t(u)]);
        ids.push_back(o_tag + s.d.user_tags[size_t(u)][0]);
        ids.push_back(o_tag + s.d.user_tags[size_t(u)].back());
    };
    ch71::FM fm(o_item + s.N, 8, rng);
    Adam adam(vars_of(fm.named_parameters()), so.lr);
    for (int epoch = 0; epoch < so.fm_epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(s.d.train.size()), so.batch, rng)) {
            Ids ids;
            Tensor y({int(rows.size()), 1});
            for (size_t j = 0; j < rows.size(); ++j) {
                const datasets::ColdStartRow& r = s.d.train[size_t(rows[j])];
                user_fields(r.user, ids);
                ids.push_back(o_item + r.item);
                y[j] = r.click;
            }
            const Var loss = bce_with_logits(fm(ids, 5), y);
            adam.zero_grad();
            backward(loss);
            adam.step();
        }
    NoGrad no_grad;
    Scores out(size_t(s.U) * s.N);
    for (int u = 0; u < s.U; ++u) {
        if (!s.d.is_new_user[size_t(u)]) continue;
        Ids ids;
        for (int i = 0; i < s.N; ++i) user_fields(u, ids), ids.push_back(o_item + i);
        const Tensor z = fm(ids, 5).value();
        std::copy(z.data(), z.data() + z.size(), out.begin() + long(u) * s.N);
    }
    return out;
}

// ---- New items: EGES ---------------------------------------------------------------------------
// Trains one item-embedding model by skip-gram with negative sampling (eq. 3 with eq. 6) on the
// click graph: the centre node is an item v of a logged click, its context the user u who clicked
// it (a walk of one step from item to user), and K negative users are drawn from the users' click
// counts^0.75 (as word2vec draws words).
inline EGES train_embeddings(const Shop& s, const StudyOptions& so, Aggregation mode, Rng& rng) {
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

// ---- One world ----------------------------------------------------------------------------------
inline World run_world(const StudyOptions& so, uint64_t seed) {
    const Shop s = make_shop(so, seed);
    Rng rng(splitmix64(seed + 23));
    World w;
    w.train_rows = int(s.d.train.size());
    for (const datasets::ColdStartRow& r : s.d.train) w.train_clicks += int(r.click);
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
    user_scores[kUFM] = fm_scores(s, so, rng);
    for (int m = 0; m < kNumUserMethods; ++m) {
        const TopK t = top_k_truth(s, user_scores[size_t(m)], new_users, old_items, so.top_k);
        w.user_top[m] = t.model, w.user_share[m] = t.share(), w.oracle_user = t.oracle, w.random_user = t.random;
        w.user_gauc[m] = gauc_on(s, user_scores[size_t(m)], s.d.test_new_users);
    }

    // Items: three embedding models on the same log.
    std::vector<EGES> models;
    for (Aggregation a : kAggregations) models.push_back(train_embeddings(s, so, a, rng));
    const std::vector<float> side = models[2].mean_side_weights(old_items);   // over the warm items

    std::vector<Scores> item_scores(kNumItemMethods);
    item_scores[kIRandom] = random_scores(s, rng);
    std::vector<float> kw(size_t(s.N) * s.o.num_keywords, 0.0f);
    for (int i = 0; i < s.N; ++i)
        for (int k : s.d.item_keywords[size_t(i)]) kw[size_t(i) * s.o.num_keywords + size_t(k)] += 1.0f;
    item_scores[kIKeywords] = profile_cosine(s.user_clicks, kw, s.o.num_keywords);
    item_scores[kIExpert] = profile_cosine(s.user_clicks, s.d.expert_labels.vec(), s.o.dim);
    for (int a = 0; a < 3; ++a) item_scores[size_t(kIBGE + a)] = models[size_t(a)].scores(s.fields, s.d.is_new_item).vec();   // BGE, GES, EGES
    item_scores[kIEGESLearned] = models[2].scores(s.fields, s.d.is_new_item, &side).vec();
    for (int m = 0; m < kNumItemMethods; ++m) {
        const TopK t = top_k_truth(s, item_scores[size_t(m)], old_users, new_items, so.item_top_k);
        w.item_top[m] = t.model, w.item_share[m] = t.share(), w.oracle_item = t.oracle, w.random_item = t.random;
        w.item_gauc[m] = gauc_on(s, item_scores[size_t(m)], s.d.test_new_items);
    }

    // Warm items by frequency quintile (train impressions): ranking quality and EGES's weights.
    std::vector<int> by_freq = old_items;
    std::stable_sort(by_freq.begin(), by_freq.end(), [&](int a, int b) { return s.impressions[size_t(a)] < s.impressions[size_t(b)]; });
    const int F = s.fields.fields();
    for (int q = 0; q < kBuckets; ++q) {
        const std::vector<int> pool(by_freq.begin() + long(by_freq.size() * q / kBuckets),
                                    by_freq.begin() + long(by_freq.size() * (q + 1) / kBuckets));
        for (int a = 0; a < 3; ++a)
            w.warm_share[a][q] = top_k_truth(s, item_scores[size_t(kIBGE + a)], old_users, pool, so.item_top_k).share();
        const Tensor P = models[2].weights(pool);
        for (size_t j = 0; j < pool.size(); ++j) {
            w.bucket_impressions[q] += s.impressions[size_t(pool[j])] / double(pool.size());
            for (int f = 0; f < F && f < 4; ++f) w.weight[q][f] += P[j * F + size_t(f)] / double(pool.size());
        }
    }
    return w;
}

inline StudyReport run_study(const StudyOptions& so) {
    StudyReport rep;
    rep.field_names = {"id", "tag", "keywords", "shop"};
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < so.worlds; ++r) {
        rep.worlds.push_back(run_world(so, replicate_seed(so.seed, r)));
        const World& x = rep.worlds.back();
        if (so.verbose)
            std::fprintf(stderr, "world %d/%d: new users share of oracle: demographic %.3f tags %.3f FM %.3f | new items: BGE %.3f GES %.3f EGES %.3f\n",
                         r + 1, so.worlds, x.user_share[kUDemographic], x.user_share[kUTags], x.user_share[kUFM],
                         x.item_share[kIBGE], x.item_share[kIGES], x.item_share[kIEGES]);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch51
}  // namespace minirec
