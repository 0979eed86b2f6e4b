#include "datasets/ch63_sessions.h"

#include "core/error.h"
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

}  // namespace datasets
}  // namespace minirec
