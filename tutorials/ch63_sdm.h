// Chapter 63's experiment as functions: sessions whose next item depends on the session's intent
// (a category) and on the user's long-term preference (favourite shops), where for some users the
// long-term behaviours are stale (their favourites changed and only the profile says so). SDM with
// its gate is compared with short-term only, long-term only, s + p and a linear map of [s, p];
// scored by HitRate@K over the whole catalogue against an exact oracle. Printing and pictures live
// in ch63_sdm.cpp. Deliberately left out: real logs, session segmentation, online metrics.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "models/ch63_sdm.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch63 {

// ---- The planted world ------------------------------------------------------------------------
// Item i has category i / items_per_category and a random shop. A user has a profile; profiles
// 0 .. P/2-1 are "loyal", the others "drifters". Every user had favourite shops; a loyal user keeps
// them, a drifter has new ones. Past behaviours (L^u): a random category each, at an old favourite
// shop with probability `loyalty`. The current session (S^u) has one category (its intent); its
// items and the next item are of that category, at a current favourite with probability `loyalty`.
struct WorldOptions {
    int categories = 20, items_per_category = 30, shops = 20;
    int favourite_shops = 2;
    double loyalty = 0.9;
    int profiles = 4;
    int min_session = 1, max_session = 3;
    int min_past = 20, max_past = 40;
    int train_users = 20000, test_users = 2000;
    uint64_t seed = 42;
    int items() const { return categories * items_per_category; }
};

struct User {
    int profile = 0;
    bool drifter = false;
    std::vector<int> favourites;        // current favourite shops
    int intent = 0;                     // the session's category
    Ids past, session;
    int target = 0;
};

struct World {
    WorldOptions opt;
    Catalogue cat;
    std::vector<std::vector<std::vector<int>>> by_cat_shop;   // [category][shop] -> items
    std::vector<User> train, test;
};

// One item of category c: at one of `favs` (that sells in c) with probability loyalty, else uniform.
inline int pick_item(const World& w, int c, const std::vector<int>& favs, Rng& rng) {
    const WorldOptions& o = w.opt;
    if (rng.uniform_double() < o.loyalty) {
        std::vector<int> open;
        for (int s : favs)
            if (!w.by_cat_shop[size_t(c)][size_t(s)].empty()) open.push_back(s);
        if (!open.empty()) {
            const std::vector<int>& items = w.by_cat_shop[size_t(c)][size_t(open[size_t(rng.randint(int(open.size())))])];
            return items[size_t(rng.randint(int(items.size())))];
        }
    }
    return c * o.items_per_category + rng.randint(o.items_per_category);
}

inline User draw_user(const World& w, Rng& rng) {
    const WorldOptions& o = w.opt;
    User u;
    u.profile = rng.randint(o.profiles);
    u.drifter = u.profile >= o.profiles / 2;
    const std::vector<int> shops = rng.permutation(o.shops);
    const std::vector<int> old_favs(shops.begin(), shops.begin() + o.favourite_shops);
    u.favourites = u.drifter ? std::vector<int>(shops.begin() + o.favourite_shops, shops.begin() + 2 * o.favourite_shops)
                             : old_favs;
    const int past = o.min_past + rng.randint(o.max_past - o.min_past + 1);
    for (int t = 0; t < past; ++t) u.past.push_back(pick_item(w, rng.randint(o.categories), old_favs, rng));
    u.intent = rng.randint(o.categories);
    const int len = o.min_session + rng.randint(o.max_session - o.min_session + 1);
    for (int t = 0; t < len; ++t) u.session.push_back(pick_item(w, u.intent, u.favourites, rng));
    u.target = pick_item(w, u.intent, u.favourites, rng);
    return u;
}

inline World make_world(const WorldOptions& o) {
    if (o.categories < 1 || o.items_per_category < 1 || o.shops < 2 * o.favourite_shops || o.favourite_shops < 1 ||
        o.profiles < 2 || o.min_session < 1 || o.min_session > o.max_session || o.min_past < 1 ||
        o.min_past > o.max_past || !(o.loyalty >= 0 && o.loyalty <= 1))
        arg_fail("ch63::make_world", "need categories, items_per_category, favourite_shops, min_session, min_past >= 1, "
                                     "shops >= 2 x favourite_shops, profiles >= 2, min <= max, 0 <= loyalty <= 1");
    World w;
    w.opt = o;
    Rng rng(splitmix64(o.seed * 104729 + 3));
    w.by_cat_shop.assign(size_t(o.categories), std::vector<std::vector<int>>(size_t(o.shops)));
    for (int i = 0; i < o.items(); ++i) {
        const int c = i / o.items_per_category, s = rng.randint(o.shops);
        w.cat.category.push_back(c);
        w.cat.shop.push_back(s);
        w.by_cat_shop[size_t(c)][size_t(s)].push_back(i);
    }
    for (int i = 0; i < o.train_users; ++i) w.train.push_back(draw_user(w, rng));
    for (int i = 0; i < o.test_users; ++i) w.test.push_back(draw_user(w, rng));
    return w;
}

// The true probability of every item being the next one, for one user: what pick_item draws.
inline std::vector<double> next_item_probabilities(const World& w, const User& u) {
    const WorldOptions& o = w.opt;
    std::vector<double> p(size_t(o.items()), 0.0);
    std::vector<int> open;
    for (int s : u.favourites)
        if (!w.by_cat_shop[size_t(u.intent)][size_t(s)].empty()) open.push_back(s);
    const double uniform = open.empty() ? 1.0 : 1.0 - o.loyalty;
    for (int k = 0; k < o.items_per_category; ++k) p[size_t(u.intent * o.items_per_category + k)] += uniform / o.items_per_category;
    for (int s : open) {
        const std::vector<int>& items = w.by_cat_shop[size_t(u.intent)][size_t(s)];
        for (int i : items) p[size_t(i)] += o.loyalty / double(open.size()) / double(items.size());
    }
    return p;
}

// The best HitRate@K any model can have for this user: the K largest true probabilities.
inline double oracle_hit(std::vector<double> p, int K) {
    std::sort(p.begin(), p.end(), std::greater<double>());
    double s = 0;
    for (int k = 0; k < K && k < int(p.size()); ++k) s += p[size_t(k)];
    return s;
}

// ---- The study --------------------------------------------------------------------------------
struct ModelSpec {
    std::string name;
    Fusion fusion;
};

inline std::vector<ModelSpec> default_specs() {
    return {{"SDM, gated fusion (eq. 11)", Fusion::gated},
            {"short-term only (o = s)", Fusion::short_only},
            {"long-term only (o = p)", Fusion::long_only},
            {"add (o = s + p)", Fusion::add},
            {"concat (o = W [s, p])", Fusion::concat}};
}

struct StudyOptions {
    WorldOptions world;
    std::vector<ModelSpec> specs = default_specs();
    int field_dim = 8;           // d (items and users are 3d = 24 long)
    int heads = 2;
    int negatives = 64;          // sampled softmax: uniform negatives shared by the batch
    int epochs = 10;
    int batch = 256;
    double lr = 0.01;            // Adam
    std::vector<int> Ks = {5, 10};
    bool verbose = true;
};

// The seconds-long configuration of --quick and of the test: a smaller catalogue (10 categories
// of 20 items, 10 shops), 6,000 training sessions, 6 epochs at a higher learning rate.
inline void apply_quick(StudyOptions& o) {
    o.world.categories = 10;
    o.world.items_per_category = 20;
    o.world.shops = 10;
    o.world.train_users = 6000;
    o.world.test_users = 1000;
    o.epochs = 6;
    o.lr = 0.02;
}

struct Result {
    ModelSpec spec;
    std::vector<double> hit, hit_loyal, hit_drifter;   // [K]
    std::vector<double> gate_by_profile;               // [profile] mean of G over users and dims
    double final_loss = 0, seconds = 0;
};

struct Results {
    std::vector<Result> results;
    std::vector<double> oracle, oracle_loyal, oracle_drifter;   // [K]
    int loyal_users = 0, drifter_users = 0;
    double seconds = 0;
};

struct Batch {
    Ids profiles, target;
    Padded session, past;
};

inline Batch batch_of(const std::vector<User>& users, const std::vector<int>& rows) {
    Batch b;
    std::vector<Ids> sessions, pasts;
    for (int r : rows) {
        const User& u = users[size_t(r)];
        b.profiles.push_back(u.profile);
        b.target.push_back(u.target);
        sessions.push_back(u.session);
        pasts.push_back(u.past);
    }
    b.session = pad(sessions);
    b.past = pad(pasts);
    return b;
}

// HitRate@K over the whole catalogue: is the next item among the K items with the largest o^T e_i?
inline void evaluate(SDM& m, const World& w, const StudyOptions& o, Result& r) {
    NoGrad no_grad;
    const size_t NK = o.Ks.size();
    r.hit.assign(NK, 0.0), r.hit_loyal.assign(NK, 0.0), r.hit_drifter.assign(NK, 0.0);
    r.gate_by_profile.assign(size_t(w.opt.profiles), 0.0);
    std::vector<int> per_profile(size_t(w.opt.profiles), 0);
    Ids all;
    for (int i = 0; i < w.opt.items(); ++i) all.push_back(i);
    const Var E = m.items(all);                                          // (N, D)
    const int max_k = *std::max_element(o.Ks.begin(), o.Ks.end());
    int loyal = 0, drifter = 0;
    for (int start = 0; start < int(w.test.size()); start += 256) {
        std::vector<int> rows;
        for (int i = start; i < std::min(int(w.test.size()), start + 256); ++i) rows.push_back(i);
        const Batch b = batch_of(w.test, rows);
        Var G;
        const Var user = m.user(b.profiles, b.session, b.past, &G);      // (B, D)
        const Tensor s = matmul(user, E, false, true).value();           // (B, N)
        const int N = s.dim(1), D = user.dim(1);
        for (size_t j = 0; j < rows.size(); ++j) {
            const User& u = w.test[size_t(rows[j])];
            const Ids ranked = top_k(std::vector<float>(s.data() + j * size_t(N), s.data() + (j + 1) * size_t(N)), max_k);
            (u.drifter ? drifter : loyal) += 1;
            for (size_t k = 0; k < NK; ++k) {
                const double h = hit_rate_at_k(ranked, {u.target}, o.Ks[k]);
                r.hit[k] += h;
                (u.drifter ? r.hit_drifter : r.hit_loyal)[k] += h;
            }
            if (G.rank() == 2) {                                      // the gated model set G
                double g = 0;
                for (int d = 0; d < D; ++d) g += G.value()[j * size_t(D) + size_t(d)] / D;
                r.gate_by_profile[size_t(u.profile)] += g;
                ++per_profile[size_t(u.profile)];
            }
        }
    }
    for (size_t k = 0; k < NK; ++k) {
        r.hit[k] /= double(w.test.size());
        r.hit_loyal[k] /= std::max(1, loyal);
        r.hit_drifter[k] /= std::max(1, drifter);
    }
    for (size_t p = 0; p < per_profile.size(); ++p)
        r.gate_by_profile[p] = per_profile[p] ? r.gate_by_profile[p] / per_profile[p] : NAN;
}

// One model: the training loop written out, then the evaluation.
inline Result train_and_evaluate(const ModelSpec& spec, const World& w, const StudyOptions& o, uint64_t seed) {
    const auto start = std::chrono::steady_clock::now();
    Rng rng(splitmix64(seed + 5));
    SdmOptions so;
    so.items = w.opt.items(), so.categories = w.opt.categories, so.shops = w.opt.shops, so.profiles = w.opt.profiles;
    so.field_dim = o.field_dim, so.heads = o.heads, so.fusion = spec.fusion;
    SDM m(so, w.cat, rng);
    Result r;
    r.spec = spec;
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const int steps = (int(w.train.size()) + o.batch - 1) / o.batch;
    Progress progress(o.epochs, steps, o.verbose ? Progress::Mode::automatic : Progress::Mode::quiet);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            const Batch b = batch_of(w.train, rows);
            Ids negatives;
            for (int k = 0; k < o.negatives; ++k) negatives.push_back(rng.randint(w.opt.items()));
            const Var user = m.user(b.profiles, b.session, b.past);          // (B, D) o^u
            const Var e = m.items(b.target);                                 // (B, D) the next item
            const Var pos = sum(user * e, 1);                                // (B)
            const Var neg = matmul(user, m.items(negatives), false, true);  // (B, negatives)
            const Var loss = sampled_softmax_loss(pos, neg);                 // sampled softmax
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
            progress.step(loss.item(), int(rows.size()));
        }
        progress.end_epoch();
        r.final_loss = progress.epoch_loss();
    }
    evaluate(m, w, o, r);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

inline Results run_study(const StudyOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    Results rep;
    const World w = make_world(o.world);
    const size_t NK = o.Ks.size();
    rep.oracle.assign(NK, 0.0), rep.oracle_loyal.assign(NK, 0.0), rep.oracle_drifter.assign(NK, 0.0);
    for (const User& u : w.test) {
        const std::vector<double> p = next_item_probabilities(w, u);
        (u.drifter ? rep.drifter_users : rep.loyal_users) += 1;
        for (size_t k = 0; k < NK; ++k) {
            const double h = oracle_hit(p, o.Ks[k]);
            rep.oracle[k] += h / double(w.test.size());
            (u.drifter ? rep.oracle_drifter : rep.oracle_loyal)[k] += h;
        }
    }
    for (size_t k = 0; k < NK; ++k) {
        rep.oracle_loyal[k] /= std::max(1, rep.loyal_users);
        rep.oracle_drifter[k] /= std::max(1, rep.drifter_users);
    }
    for (size_t s = 0; s < o.specs.size(); ++s) {
        if (o.verbose) std::fprintf(stderr, "training %s\n", o.specs[s].name.c_str());
        rep.results.push_back(train_and_evaluate(o.specs[s], w, o, splitmix64(o.world.seed * 37 + s)));
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch63
}  // namespace minirec
