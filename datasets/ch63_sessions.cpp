#include "datasets/ch63_sessions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "core/error.h"
#include "core/metrics.h"
#include "core/rng.h"

namespace minirec {
namespace datasets {

namespace {
// One item of category c: at one of `favs` (that sells in c) with probability loyalty, else uniform.
int pick_item(const SessionWorld& w, int c, const std::vector<int>& favs, Rng& rng) {
    const SessionOptions& o = w.opt;
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

SessionUser draw_user(const SessionWorld& w, Rng& rng) {
    const SessionOptions& o = w.opt;
    SessionUser u;
    u.profile = rng.randint(o.profiles);
    u.drifter = o.drifters && u.profile >= o.profiles / 2;
    const std::vector<int> shops = rng.permutation(o.shops);
    const std::vector<int> old_favs(shops.begin(), shops.begin() + o.favourite_shops);
    u.favourites = u.drifter ? std::vector<int>(shops.begin() + o.favourite_shops, shops.begin() + 2 * o.favourite_shops)
                             : old_favs;
    const int past = o.min_past + rng.randint(o.max_past - o.min_past + 1);
    for (int t = 0; t < past; ++t) u.past.push_back(pick_item(w, rng.randint(o.categories), old_favs, rng));
    int c = rng.randint(o.categories);
    const int len = o.min_session + rng.randint(o.max_session - o.min_session + 1);
    for (int t = 0; t < len; ++t) {
        if (t > 0 && rng.uniform_double() < o.switch_prob) c = rng.randint(o.categories);
        u.session.push_back(pick_item(w, c, u.favourites, rng));
    }
    u.intent = c;
    u.target = pick_item(w, c, u.favourites, rng);
    return u;
}
}  // namespace

SessionWorld session_world(const SessionOptions& o) {
    if (o.categories < 1 || o.items_per_category < 1 || o.shops < 2 * o.favourite_shops || o.favourite_shops < 1 ||
        o.profiles < 2 || o.min_session < 1 || o.min_session > o.max_session || o.min_past < 1 ||
        o.min_past > o.max_past || !(o.loyalty >= 0 && o.loyalty <= 1) || !(o.switch_prob >= 0 && o.switch_prob <= 1))
        arg_fail("session_world", "need categories, items_per_category, favourite_shops, min_session, min_past >= 1, "
                                  "shops >= 2 x favourite_shops, profiles >= 2, min <= max, loyalty and switch_prob in [0, 1]");
    SessionWorld w;
    w.opt = o;
    Rng rng(splitmix64(o.seed * 104729 + 3));
    w.by_cat_shop.assign(size_t(o.categories), std::vector<std::vector<int>>(size_t(o.shops)));
    for (int i = 0; i < o.items(); ++i) {
        const int c = i / o.items_per_category, s = rng.randint(o.shops);
        w.category.push_back(c);
        w.shop.push_back(s);
        w.by_cat_shop[size_t(c)][size_t(s)].push_back(i);
    }
    for (int i = 0; i < o.train_users; ++i) w.train.push_back(draw_user(w, rng));
    for (int i = 0; i < o.test_users; ++i) w.test.push_back(draw_user(w, rng));
    return w;
}

std::vector<double> next_item_probabilities(const SessionWorld& w, const SessionUser& u) {
    const SessionOptions& o = w.opt;
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

double oracle_hit_rate(const SessionWorld& w, int K) {
    double hit = 0.0;
    for (const SessionUser& u : w.test) {
        std::vector<double> p = next_item_probabilities(w, u);
        std::sort(p.begin(), p.end(), std::greater<double>());
        for (int k = 0; k < K && k < int(p.size()); ++k) hit += p[size_t(k)] / double(w.test.size());
    }
    return hit;
}

SessionBatch session_batch(const std::vector<SessionUser>& users, const std::vector<int>& rows) {
    SessionBatch b;
    for (int r : rows) {
        const SessionUser& u = users[size_t(r)];
        b.profiles.push_back(u.profile), b.target.push_back(u.target), b.sessions.push_back(u.session), b.pasts.push_back(u.past);
    }
    return b;
}

SessionHits session_hit_rates(const SessionWorld& w, int K, int batch, const UserScores& scores) {
    SessionHits h;
    const int n = int(w.test.size()), N = int(w.category.size());
    for (int start = 0; start < n; start += batch) {
        std::vector<int> rows;
        for (int i = start; i < std::min(n, start + batch); ++i) rows.push_back(i);
        std::vector<float> z(rows.size() * size_t(N));
        scores(size_t(start), int(rows.size()), z);
        for (size_t j = 0; j < rows.size(); ++j) {
            const SessionUser& u = w.test[size_t(rows[j])];
            const Ids ranked = top_k(std::vector<float>(z.begin() + long(j * N), z.begin() + long((j + 1) * N)), K);
            const double hit = hit_rate_at_k(ranked, {u.target}, K);
            h.all += hit / double(n);
            (u.drifter ? h.drifter : h.loyal) += hit;
            (u.drifter ? h.drifters : h.loyal_users) += 1;
        }
    }
    h.loyal /= std::max(1, h.loyal_users), h.drifter /= std::max(1, h.drifters);
    return h;
}

std::string describe(const SessionOptions& o) {
    char b[512];
    std::snprintf(b, sizeof b, "%d items (%d categories of %d, %d shops); %d favourite shops per user, loyalty %g; sessions of %d to %d "
                  "items, category switch probability %g; %d training and %d test users", o.items(), o.categories, o.items_per_category,
                  o.shops, o.favourite_shops, o.loyalty, o.min_session, o.max_session, o.switch_prob, o.train_users, o.test_users);
    return b;
}

std::pair<double, double> mean_by_kind(const SessionWorld& w, const std::vector<double>& values) {
    if (values.size() != w.test.size()) arg_fail("mean_by_kind", "one value per test user");
    double sum[2] = {0, 0};
    int n[2] = {0, 0};
    for (size_t u = 0; u < values.size(); ++u) {
        sum[w.test[u].drifter] += values[u];
        ++n[w.test[u].drifter];
    }
    return {sum[0] / std::max(1, n[0]), n[1] ? sum[1] / n[1] : NAN};
}

MovieLensSessions movielens_sessions(const MovieLens100k& ml, int64_t gap, int max_session, int max_past) {
    MovieLensSessions m;
    m.histories = user_histories(ml.ratings.rows, ml.ratings.num_users);
    m.split = next_item_split(item_sequences(m.histories), int(ml.movies.size()));
    m.world = movielens_sessions(ml, m.split, gap, max_session, max_past);
    return m;
}

SessionLengths session_lengths(const std::vector<std::vector<TimedItem>>& histories, int64_t gap) {
    std::vector<int> n;
    for (const std::vector<TimedItem>& h : histories)
        for (size_t i = 0; i < h.size(); ++i) {
            if (i == 0 || h[i].time - h[i - 1].time > gap) n.push_back(0);
            ++n.back();
        }
    SessionLengths s;
    if (n.empty()) return s;
    std::sort(n.begin(), n.end());
    s.sessions = n.size();
    for (int x : n) s.mean += double(x) / double(n.size()), s.single += (x == 1) / double(n.size());
    s.median = n[n.size() / 2], s.p90 = n[n.size() * 9 / 10];
    return s;
}

SessionWorld movielens_sessions(const MovieLens100k& ml, const NextItemSplit& s, int64_t gap, int max_session, int max_past) {
    if (gap < 0 || max_session < 1 || max_past < 1) throw ArgumentError("movielens_sessions: gap >= 0, max_session and max_past >= 1");
    SessionWorld w;
    w.opt.categories = 19, w.opt.shops = 8, w.opt.profiles = 8;
    for (const Movie& m : ml.movies) {
        int genre = 0, year = 0;
        while (genre < 19 && !m.genres[size_t(genre)]) ++genre;
        if (m.release_date.size() >= 4) year = std::atoi(m.release_date.c_str() + m.release_date.size() - 4);
        w.category.push_back(genre % 19);
        w.shop.push_back(year < 1900 ? 0 : std::min(7, std::max(1, (year - 1920) / 10)));
    }
    const std::vector<std::vector<TimedItem>> h = user_histories(ml.ratings.rows, ml.ratings.num_users);
    for (const NextItemUser& nu : s.users) {
        const User& user = ml.users[size_t(nu.user)];
        const int band = user.age < 25 ? 0 : user.age < 35 ? 1 : user.age < 50 ? 2 : 3;
        const std::vector<TimedItem>& e = h[size_t(nu.user)];          // the split's sequence, with times
        std::vector<size_t> start(e.size(), 0);                        // start[i]: first event of i's session
        for (size_t i = 1; i < e.size(); ++i) start[i] = e[i].time - e[i - 1].time > gap ? i : start[i - 1];
        auto example = [&](size_t t) {                                  // the target is event t
            SessionUser u;
            u.profile = (user.gender == 'F' ? 4 : 0) + band, u.target = e[t].item;
            const size_t b = start[t] < t ? start[t] : start[t - 1];   // at a session start: the previous session
            for (size_t i = std::max(b, t - std::min<size_t>(t, size_t(max_session))); i < t; ++i) u.session.push_back(e[i].item);
            for (size_t i = b - std::min(b, size_t(max_past)); i < b; ++i) u.past.push_back(e[i].item);
            if (u.past.empty()) u.past = u.session;
            return u;
        };
        for (size_t t = 1; t + 1 < e.size(); ++t) w.train.push_back(example(t));
        w.test.push_back(example(e.size() - 1));
    }
    return w;
}

}  // namespace datasets
}  // namespace minirec
