// The retrieval problems of datasets/retrieval.h: the power-law catalogue split into train and
// test, its Bayes scores, MovieLens-100k cut by time, the head of a catalogue, and the ranking protocol.
#include "datasets/retrieval.h"

#include <algorithm>
#include <cmath>

#include "datasets/movielens.h"
#include "datasets/splits.h"
#include "core/metrics.h"

namespace minirec {
namespace datasets {

RetrievalData power_law_retrieval(const PowerLawCatalogueOptions& c, int train_rows) {
    PowerLawCatalogue cat = power_law_catalogue(c);
    RetrievalData d;
    d.query_features = std::move(cat.queries);
    d.positive = cat.positives;
    d.item_features = std::move(cat.item_vectors);
    d.num_items = c.num_items;
    d.item_prob = cat.item_prob;
    for (int r = 0; r < c.n; ++r) (r < train_rows ? d.train : d.test).push_back(r);
    for (int r : d.test) d.test_relevant.push_back({d.positive[size_t(r)]});
    for (double q : d.item_prob) d.bayes_bias.push_back(float(std::log(q)));
    d.noise_var = c.query_noise * c.query_noise;
    return d;
}

void bayes_scores(const RetrievalData& d, size_t first, int rows, std::vector<float>& scores) {
    const int D = d.item_features.dim(1);
    scores.assign(size_t(rows) * d.num_items, 0.0f);
    for (int r = 0; r < rows; ++r) {
        const float* x = d.query_features.data() + size_t(d.test[first + size_t(r)]) * D;
        for (int j = 0; j < d.num_items; ++j) {
            const float* v = d.item_features.data() + size_t(j) * D;
            double dot = 0.0;
            for (int k = 0; k < D; ++k) dot += double(x[k]) * v[k];
            scores[size_t(r) * d.num_items + j] = float(d.bayes_bias[size_t(j)] + dot / d.noise_var);
        }
    }
}

RetrievalData movielens_retrieval(const std::string& dir, double test_fraction) {
    const MovieLens100k ml = load_movielens_100k(dir);
    const Split split = time_ordered_split(ml.ratings.rows, test_fraction);
    RetrievalData d;
    d.num_items = ml.ratings.num_items;
    d.num_query_ids = ml.ratings.num_users;
    d.item_features = Tensor({d.num_items, 19});
    for (const Movie& m : ml.movies)
        for (int g = 0; g < 19; ++g) d.item_features[size_t(m.id) * 19 + size_t(g)] = m.genres[size_t(g)];
    d.item_prob.assign(size_t(d.num_items), 0.0);
    std::vector<Ids> seen(size_t(d.num_query_ids)), future(size_t(d.num_query_ids));
    for (const Rating& r : split.train) {
        d.train.push_back(int(d.positive.size()));
        d.query_ids.push_back(r.user);
        d.positive.push_back(r.item);
        d.item_prob[size_t(r.item)] += 1.0 / double(split.train.size());
        seen[size_t(r.user)].push_back(r.item);
    }
    for (const Rating& r : split.test) future[size_t(r.user)].push_back(r.item);
    for (int u = 0; u < d.num_query_ids; ++u) {
        Ids rel;
        for (int32_t j : future[size_t(u)])
            if (std::find(seen[size_t(u)].begin(), seen[size_t(u)].end(), j) == seen[size_t(u)].end()) rel.push_back(j);
        if (seen[size_t(u)].empty() || rel.empty()) continue;
        d.test.push_back(int(d.positive.size()));
        d.query_ids.push_back(u);
        d.positive.push_back(rel[0]);                        // unused: test rows are scored, not trained on
        d.test_relevant.push_back(rel);
        d.exclude.push_back(seen[size_t(u)]);
    }
    d.query_features = Tensor({int(d.positive.size()), 0});
    return d;
}

std::vector<char> head_items(const std::vector<double>& prob, double mass) {
    std::vector<int> order(prob.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[size_t(a)] > prob[size_t(b)]; });
    std::vector<char> head(prob.size(), 0);
    double total = 0.0;
    for (int j : order) {
        if (total >= mass) break;
        head[size_t(j)] = 1;
        total += prob[size_t(j)];
    }
    return head;
}

RankingScores rank_catalogue(const RetrievalData& d, const std::vector<int>& ks, double head_mass, const RowScores& score_rows) {
    const std::vector<char> head = head_items(d.item_prob, head_mass);
    const int kmax = *std::max_element(ks.begin(), ks.end());
    std::vector<double> recall(ks.size(), 0.0);
    double head_slots = 0;
    std::vector<float> scores;
    for (size_t b0 = 0; b0 < d.test.size(); b0 += 512) {
        const int rows = int(std::min(d.test.size() - b0, size_t(512)));
        score_rows(b0, rows, scores);                          // (rows, N)
        for (int r = 0; r < rows; ++r) {
            std::vector<float> s(scores.begin() + long(r) * d.num_items, scores.begin() + long(r + 1) * d.num_items);
            if (!d.exclude.empty())
                for (int32_t j : d.exclude[b0 + size_t(r)]) s[size_t(j)] = -INFINITY;
            const Ids top = top_k(s, kmax);
            const Ids& rel = d.test_relevant[b0 + size_t(r)];
            for (size_t k = 0; k < ks.size(); ++k) recall[k] += recall_at_k(top, rel, ks[k]);
            for (int i = 0; i < ks[0] && i < int(top.size()); ++i) head_slots += head[size_t(top[size_t(i)])];
        }
    }
    const double n = double(d.test.size());
    RankingScores res;
    for (double r : recall) res.recall.push_back(r / n);
    res.head_share = head_slots / (n * ks[0]);
    return res;
}

void popularity_scores(const RetrievalData& d, int rows, std::vector<float>& scores) {
    std::vector<float> count(size_t(d.num_items), 0.0f);
    for (int r : d.train) count[size_t(d.positive[size_t(r)])] += 1.0f;
    scores.clear();
    for (int r = 0; r < rows; ++r) scores.insert(scores.end(), count.begin(), count.end());
}

RankingScores rank_by_popularity(const RetrievalData& d, const std::vector<int>& ks, double head_mass) {
    return rank_catalogue(d, ks, head_mass, [&](size_t, int rows, std::vector<float>& s) { popularity_scores(d, rows, s); });
}

RankingScores rank_by_posterior(const RetrievalData& d, const std::vector<int>& ks, double head_mass) {
    return rank_catalogue(d, ks, head_mass, [&](size_t first, int rows, std::vector<float>& s) { bayes_scores(d, first, rows, s); });
}

}  // namespace datasets
}  // namespace minirec
