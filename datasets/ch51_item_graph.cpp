#include "datasets/ch51_item_graph.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <map>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/metrics.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

ItemGraphWorld item_graph_world(const ItemGraphOptions& o) {
    if (o.items < 1 || o.clusters < 1 || o.categories < 1 || o.clusters % o.categories != 0 ||
        o.shops % o.clusters != 0 || o.liked > o.clusters || o.min_sessions < 1 || o.min_clicks < 1)
        arg_fail("item_graph_world", "clusters must split evenly into categories and shops into clusters");
    Rng rng(splitmix64(o.seed + 5101));
    ItemGraphWorld w;
    w.opt = o;
    const int N = o.items, per_category = o.clusters / o.categories;
    const std::vector<double> zipf = zipf_weights(N, o.zipf);
    const std::vector<int> rank = rng.permutation(N);
    std::vector<std::vector<double>> in_cluster(size_t(o.clusters), std::vector<double>(size_t(N), 0.0));
    for (int i = 0; i < N; ++i) {
        const int c = rng.randint(o.clusters);
        w.cluster.push_back(c), w.popularity.push_back(zipf[size_t(rank[size_t(i)])]);
        in_cluster[size_t(c)][size_t(i)] = w.popularity.back();
        const bool own_shop = o.informative_side && rng.uniform_double() < o.shop_fidelity;
        w.category.push_back(o.informative_side ? c / per_category : rng.randint(o.categories));
        w.shop.push_back(own_shop ? c + o.clusters * rng.randint(o.shops / o.clusters) : rng.randint(o.shops));
        w.brand.push_back(rng.randint(o.brands));
        w.cold.push_back(rng.uniform_double() < o.cold_share);
    }
    std::vector<Discrete> pick;
    for (const std::vector<double>& p : in_cluster) pick.emplace_back(p);
    const Discrete any(w.popularity);
    for (int u = 0; u < o.users; ++u) {
        std::vector<int> liked = rng.permutation(o.clusters);
        liked.resize(size_t(o.liked));
        std::vector<Click> log;
        double t = rng.uniform_double() * 86400.0;
        const int sessions = o.min_sessions + rng.randint(o.max_sessions - o.min_sessions + 1);
        for (int s = 0; s < sessions; ++s, t += 7200.0 + rng.uniform_double() * 172800.0) {
            const int c = liked[size_t(rng.randint(o.liked))];
            const int clicks = o.min_clicks + rng.randint(o.max_clicks - o.min_clicks + 1);
            for (int k = 0; k < clicks; ++k, t += 10.0 + rng.uniform_double() * 1200.0)
                log.push_back({rng.uniform_double() < o.stay ? pick[size_t(c)].sample(rng) : any.sample(rng), t});
        }
        w.logs.push_back(std::move(log));
    }
    return w;
}

std::vector<std::vector<int>> cut_sessions(const std::vector<Click>& log, double window) {
    std::vector<std::vector<int>> out;
    for (size_t k = 0; k < log.size(); ++k) {
        if (k == 0 || log[k].time - log[k - 1].time > window) out.emplace_back();
        out.back().push_back(log[k].item);
    }
    return out;
}

std::vector<Edge> count_edges(const std::vector<std::vector<int>>& sessions) {
    std::map<std::pair<int, int>, double> count;
    for (const std::vector<int>& s : sessions)
        for (size_t k = 1; k < s.size(); ++k)
            if (s[k - 1] != s[k]) count[{s[k - 1], s[k]}] += 1.0;
    std::vector<Edge> out;
    for (const auto& kv : count) out.push_back({kv.first.first, kv.first.second, kv.second});
    return out;
}

ItemGraph make_graph(int nodes, const std::vector<Edge>& edges) {
    ItemGraph g;
    g.nodes = nodes;
    g.begin.assign(size_t(nodes) + 1, 0);
    for (const Edge& e : edges) g.begin[size_t(e.from) + 1]++;
    for (int i = 0; i < nodes; ++i) g.begin[size_t(i) + 1] += g.begin[size_t(i)];
    g.to.resize(edges.size()), g.weight.resize(edges.size());
    std::vector<int> fill(g.begin.begin(), g.begin.end() - 1);
    for (const Edge& e : edges) {
        const int k = fill[size_t(e.from)]++;
        g.to[size_t(k)] = e.to, g.weight[size_t(k)] = e.weight;
    }
    return g;
}

double ItemGraph::out_weight(int i) const {
    double s = 0.0;
    for (int k = begin[size_t(i)]; k < begin[size_t(i) + 1]; ++k) s += weight[size_t(k)];
    return s;
}

ItemGraphWorld movielens_item_graph(const MovieLens100k& ml, double cold_share, uint64_t seed, double cold_user_share) {
    ItemGraphWorld w;
    const int N = ml.ratings.num_items;
    w.opt.items = N, w.opt.users = ml.ratings.num_users, w.opt.categories = 19, w.opt.shops = 10, w.opt.brands = 20;
    w.opt.clusters = 19, w.opt.cold_share = cold_share, w.opt.seed = seed;
    w.popularity.assign(size_t(N), 0.0);
    for (const Rating& r : ml.ratings.rows) w.popularity[size_t(r.item)] += 1.0;
    for (int i = 0; i < N; ++i) {
        const std::array<uint8_t, 19>& g = ml.movies[size_t(i)].genres;
        std::vector<int> genres;
        for (int k = 0; k < 19; ++k)
            if (g[size_t(k)]) genres.push_back(k);
        const std::string& date = ml.movies[size_t(i)].release_date;
        const int year = date.size() >= 4 ? std::atoi(date.c_str() + date.size() - 4) : 0;
        w.category.push_back(genres.empty() ? 0 : genres[0]);
        w.cluster.push_back(w.category.back());
        w.shop.push_back(year <= 0 ? 9 : std::clamp((year - 1920) / 10, 0, 7));
        w.brand.push_back(genres.size() < 2 ? 19 : genres[1]);
    }
    Rng rng(splitmix64(seed + 51));
    const std::vector<int> order = rng.permutation(N);
    w.cold.assign(size_t(N), false);
    for (int k = 0; k < int(cold_share * N + 0.5); ++k) w.cold[size_t(order[size_t(k)])] = true;
    w.logs.assign(size_t(ml.ratings.num_users), {});
    std::vector<Rating> rows = ml.ratings.rows;
    std::stable_sort(rows.begin(), rows.end(), [](const Rating& a, const Rating& b) { return a.time < b.time; });
    for (const Rating& r : rows) w.logs[size_t(r.user)].push_back({r.item, double(r.time)});
    const int U = ml.ratings.num_users;
    Rng urng(splitmix64(seed + 52));
    const std::vector<int> users = urng.permutation(U);
    w.cold_user.assign(size_t(U), false);
    for (int k = 0; k < int(cold_user_share * U + 0.5); ++k) w.cold_user[size_t(users[size_t(k)])] = true;
    std::map<std::string, int> occupation;
    for (const User& u : ml.users) occupation.emplace(u.occupation, 0);
    int next = 0;
    for (auto& kv : occupation) kv.second = next++;
    const int bands[] = {18, 25, 35, 45, 50, 56};
    for (const User& u : ml.users)
        w.demographics.push_back({int(std::upper_bound(bands, bands + 6, u.age) - bands), u.gender == 'F' ? 1 : 0, occupation[u.occupation]});
    w.demographics.resize(size_t(U), {0, 0, 0});
    return w;
}

double cold_user_demographic_auc(const ItemGraphWorld& w, const std::vector<std::vector<float>>& H, bool demographic) {
    const size_t N = size_t(w.opt.items), D = H.empty() ? 1 : H[0].size();
    std::vector<double> pop(N, 0.0);
    std::vector<std::vector<double>> user(w.logs.size(), std::vector<double>(D, 0.0));
    std::map<std::pair<int, int>, std::vector<double>> value;   // (field, value) -> sum of vectors; [D]: count
    for (size_t u = 0; u < w.logs.size(); ++u) {
        if (w.cold_user[u]) continue;
        double n = 0.0;
        for (const Click& c : w.logs[u])
            if (!w.cold[size_t(c.item)]) {
                pop[size_t(c.item)] += 1.0, n += 1.0;
                for (size_t d = 0; d < D && !H.empty(); ++d) user[u][d] += H[size_t(c.item)][d];
            }
        for (int f = 0; f < (demographic ? 3 : 1) && n > 0; ++f) {
            std::vector<double>& v = value[{demographic ? f : 0, demographic ? w.demographics[u][size_t(f)] : 0}];
            v.resize(D + 1, 0.0);
            for (size_t d = 0; d < D; ++d) v[d] += user[u][d] / n;
            v[D] += 1.0;
        }
    }
    std::vector<double> aucs;
    for (size_t u = 0; u < w.logs.size(); ++u) {
        if (!w.cold_user[u]) continue;
        std::vector<double> x(D, 0.0);
        for (int f = 0; f < (demographic ? 3 : 1); ++f) {
            const auto it = value.find({demographic ? f : 0, demographic ? w.demographics[u][size_t(f)] : 0});
            for (size_t d = 0; d < D && it != value.end(); ++d) x[d] += it->second[d] / it->second[D];
        }
        std::vector<bool> rated(N, false);
        for (const Click& c : w.logs[u]) rated[size_t(c.item)] = true;
        std::vector<float> s, y;
        for (size_t i = 0; i < N; ++i) {
            if (w.cold[i]) continue;
            double dot = 0.0, xx = 1e-12, hh = 1e-12;
            for (size_t d = 0; d < D && !H.empty(); ++d) dot += x[d] * H[i][d], xx += x[d] * x[d], hh += double(H[i][d]) * H[i][d];
            s.push_back(float(H.empty() ? pop[i] : dot / std::sqrt(xx * hh))), y.push_back(rated[i] ? 1.0f : 0.0f);
        }
        const double a = auc(s, y);
        if (std::isfinite(a)) aucs.push_back(a);
    }
    double sum = 0.0;
    for (double a : aucs) sum += a;
    return aucs.empty() ? 0.0 : sum / double(aucs.size());
}

std::vector<std::vector<int>> training_sessions(const ItemGraphWorld& w) {
    std::vector<std::vector<int>> sessions;
    for (size_t u = 0; u < w.logs.size(); ++u)   // --data: cold users' logs never trained on
        if (w.cold_user.empty() || !w.cold_user[u])
            for (std::vector<int>& s : cut_sessions(w.logs[u])) sessions.push_back(std::move(s));
    return sessions;
}

Split split_edges(const ItemGraphWorld& shop, const std::vector<Edge>& edges, Rng& rng) {
    const int N = shop.opt.items;
    auto cold = [&](int i) { return bool(shop.cold[size_t(i)]); };
    std::set<std::pair<int, int>> linked;
    std::vector<Edge> warm;
    Split sp;
    for (const Edge& e : edges) {
        linked.insert({std::min(e.from, e.to), std::max(e.from, e.to)});
        if (!cold(e.from) && !cold(e.to)) warm.push_back(e);
        else if (cold(e.from) != cold(e.to))
            sp.cold_test.push_back(cold(e.from) ? std::make_pair(e.from, e.to) : std::make_pair(e.to, e.from));
    }
    rng.shuffle(warm);
    for (size_t k = 0; k < warm.size(); ++k)
        if (k % 3 == 0) sp.test.push_back({warm[k].from, warm[k].to});
        else sp.train.push_back(warm[k]);
    auto unlinked_warm = [&](int i) {   // -1 if 100 N draws find none (i linked to nearly everything)
        for (int tries = 0; tries < 100 * N; ++tries) {
            const int j = rng.randint(N);
            if (j != i && !cold(j) && !linked.count({std::min(i, j), std::max(i, j)})) return j;
        }
        return -1;
    };
    while (sp.neg.size() < sp.test.size()) {
        const int i = rng.randint(N), j = cold(i) ? -1 : unlinked_warm(i);
        if (j >= 0) sp.neg.push_back({i, j});
    }
    for (const auto& p : sp.cold_test)
        if (const int j = unlinked_warm(p.first); j >= 0) sp.cold_neg.push_back({p.first, j});
    return sp;
}

std::vector<double> degrees(int nodes, const std::vector<Edge>& edges) {
    std::vector<double> degree(size_t(nodes), 0.0);
    for (const Edge& e : edges) degree[size_t(e.from)] += e.weight, degree[size_t(e.to)] += e.weight;
    return degree;
}

std::vector<int> warm_items_by_degree(const ItemGraphWorld& shop, const std::vector<double>& degree) {
    std::vector<int> by_degree;
    for (int i = 0; i < shop.opt.items; ++i)
        if (!shop.cold[size_t(i)]) by_degree.push_back(i);
    std::stable_sort(by_degree.begin(), by_degree.end(),
                     [&](int a, int b) { return degree[size_t(a)] < degree[size_t(b)]; });
    return by_degree;
}

}  // namespace datasets
}  // namespace minirec
