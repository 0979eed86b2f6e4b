// Chapter 52's world (datasets/ch52_atrank_world.h): the planted rule and the generator.
#include "datasets/ch52_atrank_world.h"

namespace minirec {
namespace ch52 {

bool rule(const World& w, const std::vector<Behaviour>& h, int j) {
    for (const Behaviour& click : h) {
        if (click.is_query || click.item != j) continue;
        if (time_bucket(w.options, click.age_hours) >= w.options.recent_buckets) continue;
        if (w.options.control) return true;
        for (const Behaviour& q : h)
            if (q.is_query && q.session == click.session) return true;
    }
    return false;
}

Kind kind_of(const World& w, const std::vector<Behaviour>& h, int j, bool clicked) {
    if (rule(w, h, j)) return kSearchedRecent;
    if (!clicked) return kRandom;
    bool stale_searched = false, searched_elsewhere = false;
    for (const Behaviour& click : h) {
        if (click.is_query || click.item != j) continue;
        for (const Behaviour& q : h) {
            if (!q.is_query) continue;
            if (q.session == click.session) stale_searched = true;
            else if (q.category == click.category) searched_elsewhere = true;
        }
    }
    return stale_searched ? kSearchedStale : searched_elsewhere ? kElsewhere : kUnsearched;
}

World make_world(const WorldOptions& o) {
    if (o.recent_sessions > o.recent_buckets || o.sessions - o.recent_sessions > o.time_buckets - o.recent_buckets)
        throw std::invalid_argument("ch52 make_world: more sessions than distinct time buckets");
    World w;
    w.options = o;
    Rng rng(splitmix64(o.seed * 7919ull + 52));
    const int N = w.items(), M = o.items_per_category;
    auto click = [&](int item) { Behaviour b; b.item = item; b.category = item / M; b.action = rng.bernoulli(0.2f); return b; };
    auto query = [&](int c) { Behaviour b; b.is_query = true; b.category = c; return b; };
    auto item_outside = [&](int c) { int i = rng.randint(N); while (i / M == c) i = rng.randint(N); return i; };
    const int total = o.train_histories + o.test_histories, S = o.sessions;
    for (int u = 0; u < total; ++u) {
        // Session kinds: 0 searched, 1 browsing, 2 elsewhere.
        std::vector<int> kind(static_cast<size_t>(S));
        for (int& k : kind) { const float r = rng.uniform(); k = r < 0.4f ? 0 : r < 0.7f ? 1 : 2; }
        std::vector<std::vector<Behaviour>> s(static_cast<size_t>(S));
        std::vector<int> browsed;   // categories clicked in browsing sessions
        for (int k = 0; k < S; ++k) {
            std::vector<Behaviour>& x = s[size_t(k)];
            if (kind[size_t(k)] == 0) {
                const int c = rng.randint(o.categories);
                x = {query(c), click(c * M + rng.randint(M)), click(c * M + rng.randint(M))};
            } else if (kind[size_t(k)] == 1) {
                const int n = 2 + rng.randint(2);
                for (int j = 0; j < n; ++j) x.push_back(click(rng.randint(N))), browsed.push_back(x.back().category);
            }
        }
        for (int k = 0; k < S; ++k) {
            if (kind[size_t(k)] != 2) continue;
            const int c = browsed.empty() ? rng.randint(o.categories) : browsed[size_t(rng.randint(int(browsed.size())))];
            std::vector<Behaviour>& x = s[size_t(k)];
            x = {query(c), click(item_outside(c))};
            if (rng.bernoulli(0.5f)) x.push_back(click(item_outside(c)));
        }
        // Ages: recent sessions in distinct buckets of 0..recent-1, the others in distinct stale ones.
        std::vector<int> recent(size_t(o.recent_buckets)), stale;
        for (int k = 0; k < o.recent_buckets; ++k) recent[size_t(k)] = k;
        for (int k = o.recent_buckets; k < o.time_buckets; ++k) stale.push_back(k);
        rng.shuffle(recent);
        rng.shuffle(stale);
        std::vector<double> age(static_cast<size_t>(S));
        for (int k = 0; k < S; ++k) {   // uniform inside the bucket, leaving room for the minutes
            const int bucket = k < o.recent_sessions ? recent[size_t(k)] : stale[size_t(k - o.recent_sessions)];
            const double lo = std::pow(o.time_base, bucket) - 1.0, hi = std::pow(o.time_base, bucket + 1) - 1.0;
            age[size_t(k)] = lo + (hi - lo - 0.45) * rng.uniform_double();
        }
        std::vector<int> order(static_cast<size_t>(S));
        for (int k = 0; k < S; ++k) order[size_t(k)] = k;
        std::sort(order.begin(), order.end(), [&](int a, int b) { return age[size_t(a)] > age[size_t(b)]; });
        std::vector<Behaviour> h;
        for (int k : order)
            for (size_t j = 0; j < s[size_t(k)].size(); ++j) {   // in a session, earlier behaviours are older
                Behaviour b = s[size_t(k)][j];
                b.session = k;
                b.age_hours = age[size_t(k)] + 0.1 * double(s[size_t(k)].size() - 1 - j);
                h.push_back(b);
            }
        w.histories.push_back(h);
        // Candidates: four clicked items, another item of a clicked category, a random item.
        std::vector<int> clicks;
        for (size_t t = 0; t < h.size(); ++t)
            if (!h[t].is_query) clicks.push_back(int(t));
        std::vector<std::pair<int, bool>> cands;
        for (int j = 0; j < 4; ++j) cands.push_back({h[size_t(clicks[size_t(rng.randint(int(clicks.size())))])].item, true});
        cands.push_back({h[size_t(clicks[size_t(rng.randint(int(clicks.size())))])].category * M + rng.randint(M), false});
        cands.push_back({rng.randint(N), false});
        for (size_t c = 0; c < cands.size(); ++c) {
            Example e;
            e.history = u;
            e.candidate = cands[c].first;
            e.truth = rule(w, h, e.candidate);
            e.kind = kind_of(w, h, e.candidate, cands[c].second);
            if (e.kind == kRandom && c == 4) e.kind = kSameCategory;
            e.label = float(e.truth != rng.bernoulli(float(o.label_noise)));
            (u < o.train_histories ? w.train : w.test).push_back(e);
        }
    }
    return w;
}

}  // namespace ch52
}  // namespace minirec
