// Users with several interests, sessions, transitions and heterogeneous behaviours.
// Deliberately left out: repeat-purchase cycles and seasonality.
#include "datasets/sequences.h"

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

namespace {

double exponential(Rng& rng, double mean) { return -mean * std::log(1.0 - rng.uniform_double()); }

void check(const SequenceOptions& o) {
    if (o.num_interests < 1 || o.num_items % o.num_interests != 0 || o.num_items / o.num_interests < 2)
        arg_fail("sequences", "num_items must be a multiple of num_interests with >= 2 items per cluster");
    if (o.interests_per_user < 1 || o.interests_per_user > o.num_interests)
        arg_fail("sequences", "need 1 <= interests_per_user <= num_interests");
    if (o.min_session_length < 1 || o.max_session_length < o.min_session_length)
        arg_fail("sequences", "need 1 <= min_session_length <= max_session_length");
    if (o.num_successors < 1 || o.num_shops < 1 || o.brands_per_category < 1)
        arg_fail("sequences", "num_successors, num_shops and brands_per_category must be >= 1");
    if (o.order_strength < 0 || o.order_strength > 1) arg_fail("sequences", "order_strength must be in [0, 1]");
}

}  // namespace

SequenceData sequences(const SequenceOptions& o) {
    check(o);
    Rng rng(o.seed);
    SequenceData d;
    const int per = o.num_items / o.num_interests;
    d.num_items = o.num_items, d.num_interests = o.num_interests, d.num_shops = o.num_shops;
    d.num_brands = o.num_interests * o.brands_per_category;
    d.order_strength = o.order_strength;
    // Items: cluster c holds items c*per .. c*per+per-1 (cluster = category).
    for (int i = 0; i < o.num_items; ++i) {
        int c = i / per;
        d.item_category.push_back(c);
        d.item_brand.push_back(c * o.brands_per_category + rng.randint(o.brands_per_category));
        d.item_shop.push_back(rng.randint(o.num_shops));
    }
    // Popularity inside a cluster: Zipf over a random order of its items.
    std::vector<Discrete> cluster_dist;
    for (int c = 0; c < o.num_interests; ++c) {
        std::vector<int> order = rng.permutation(per);
        std::vector<double> zipf = zipf_weights(per, o.zipf_exponent), w(per);
        for (int j = 0; j < per; ++j) w[order[j]] = zipf[j];
        cluster_dist.emplace_back(w);
        d.cluster_popularity.push_back(cluster_dist.back().probs());
    }
    // Transitions: successors in the same cluster, never the item itself.
    for (int i = 0; i < o.num_items; ++i) {
        Ids s;
        int base = (i / per) * per;
        for (int k = 0; k < o.num_successors; ++k) s.push_back(base + (i - base + 1 + rng.randint(per - 1)) % per);
        d.successors.push_back(s);
    }
    Discrete types({1.0 - o.cart_prob - o.buy_prob, o.cart_prob, o.buy_prob});
    for (int u = 0; u < o.num_users; ++u) {
        std::vector<int> perm = rng.permutation(o.num_interests);
        Ids mine(perm.begin(), perm.begin() + o.interests_per_user);
        std::vector<double> w;
        for (int k = 0; k < o.interests_per_user; ++k) w.push_back(exponential(rng, 1.0));  // Dirichlet(1)
        Discrete pick(w);
        d.user_interests.push_back(mine);
        std::vector<float> wf;
        for (double p : pick.probs()) wf.push_back(static_cast<float>(p));
        d.user_weights.push_back(wf);

        std::vector<Event> ev;
        double t = exponential(rng, o.day_gap);
        for (int s = 0; s < o.sessions_per_user; ++s) {
            if (s > 0) t += exponential(rng, o.day_gap);
            int interest = mine[pick.sample(rng)];
            int len = o.min_session_length + rng.randint(o.max_session_length - o.min_session_length + 1);
            int last = -1;
            for (int j = 0; j < len; ++j) {
                if (j > 0) t += exponential(rng, o.session_gap);
                int item;
                if (last >= 0 && rng.uniform_double() < o.order_strength)
                    item = d.successors[last][rng.randint(o.num_successors)];
                else
                    item = interest * per + cluster_dist[interest].sample(rng);
                const int32_t cat = d.item_category[item], shop = d.item_shop[item];
                if (rng.uniform_double() < o.search_prob)
                    ev.push_back({u, -1, cat, -1, -1, Behaviour::Search, s, interest, int64_t(t)});
                if (rng.uniform_double() < o.coupon_prob)
                    ev.push_back({u, -1, cat, -1, shop, Behaviour::Coupon, s, interest, int64_t(t)});
                ev.push_back({u, item, cat, d.item_brand[item], shop, static_cast<Behaviour>(types.sample(rng)), s,
                              interest, int64_t(t)});
                last = item;
            }
        }
        d.events.push_back(std::move(ev));
    }
    return d;
}

std::vector<float> next_item_distribution(const SequenceData& d, int interest, int last_item) {
    if (interest < 0 || interest >= d.num_interests) arg_fail("next_item_distribution", "interest out of range");
    if (last_item >= d.num_items) arg_fail("next_item_distribution", "last_item out of range");
    std::vector<float> p(d.num_items, 0.0f);
    const int per = d.num_items / d.num_interests;
    const double pop_share = last_item < 0 ? 1.0 : 1.0 - d.order_strength;
    for (int j = 0; j < per; ++j) p[interest * per + j] += static_cast<float>(pop_share * d.cluster_popularity[interest][j]);
    if (last_item >= 0) {
        const Ids& s = d.successors[last_item];
        for (int32_t next : s) p[next] += static_cast<float>(d.order_strength / s.size());
    }
    return p;
}

std::vector<Ids> item_sequences(const SequenceData& d) {
    std::vector<Ids> out;
    for (const auto& ev : d.events) {
        Ids s;
        for (const Event& e : ev)
            if (e.item >= 0) s.push_back(e.item);
        out.push_back(s);
    }
    return out;
}

}  // namespace datasets
}  // namespace minirec
