#include "datasets/ch51_item_graph.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <map>
#include <utility>

#include "core/error.h"
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

ItemGraphWorld movielens_item_graph(const MovieLens100k& ml, double cold_share, uint64_t seed) {
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
    return w;
}

}  // namespace datasets
}  // namespace minirec
