// Retrieval problems for two-tower models (chapter 72): training examples (a query and its
// positive item) and held-out test queries with the items each should retrieve from the whole
// catalogue. Two sources: the synthetic power-law catalogue of datasets/item_stream.h, where the
// true posterior is known, and MovieLens-100k as implicit feedback cut by time.
// Also the protocol that ranks the whole catalogue for every test row (rank_catalogue), and the
// popularity and true-posterior rankings through it.
// Deliberately left out: the ranking metrics (core/metrics.h), negatives (in-batch training needs none).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/item_stream.h"

namespace minirec {
namespace datasets {

// Queries with features, each with one positive item, items with features. Train rows are
// examples; test rows are held out, each with the items its query should find.
struct RetrievalData {
    Tensor query_features;               // (n, Fq), or (n, 0) when queries have only ids
    Ids query_ids;                       // (n): the id the query tower embeds (user id), or empty
    Ids positive;                        // (n): the item of each training example
    Tensor item_features;                // (N, Fi)
    int num_items = 0, num_query_ids = 0;
    std::vector<int> train, test;        // row indices
    std::vector<Ids> test_relevant;      // [test row]: the items to retrieve (one for synthetic)
    std::vector<Ids> exclude;            // [test row]: items not to rank (seen in training), or empty
    std::vector<double> item_prob;       // (N): the true q_j (synthetic) or the training frequency
    std::vector<float> bayes_bias;       // (N): log q_j for the Bayes ranking (synthetic only)
    double noise_var = 0;                // sigma^2 of the synthetic queries (0: no Bayes ranking)
};

// The synthetic problem: power_law_catalogue(c); its first train_rows rows are training examples,
// the rest test queries whose relevant item is their own positive. Queries are the noisy item
// vectors (no ids), items their planted vectors.
RetrievalData power_law_retrieval(const PowerLawCatalogueOptions& c, int train_rows);

// The best any model can do on the synthetic problem: the true posterior up to a constant,
//     log P(y | x) = log q_y + <x, v_y> / sigma^2 + const   (the item vectors have unit length),
// of test rows first .. first + rows - 1 against every item -> scores (rows, N).
void bayes_scores(const RetrievalData& d, size_t first, int rows, std::vector<float>& scores);

// MovieLens-100k: every rating is an interaction (implicit feedback). A global time cut puts the
// last test_fraction of interactions in test, so we predict the future from the past. The query is
// the user (an id, no features), the item its id and its 19 genre flags. Test rows are the users
// who have both training and test interactions: relevant = their test items not rated in
// training, and the items they rated in training are excluded from their ranking. q_j is the
// item's share of the training interactions.
RetrievalData movielens_retrieval(const std::string& dir, double test_fraction = 0.2);

// The head of a catalogue: the fewest most popular items whose probabilities add up to `mass`
// (ties by id). Returns one flag per item.
std::vector<char> head_items(const std::vector<double>& prob, double mass);

// The protocol: rank the whole catalogue for every test row (excluded items never ranked) and
// measure Recall@K for each K of ks, and the share of head items (head_items(q, head_mass)) among
// the top ks[0]. score_rows(first, rows, s) fills s (rows, N) for test rows first .. first + rows - 1.
struct RankingScores {
    std::vector<double> recall;   // [k index]
    double head_share = 0;
};
using RowScores = std::function<void(size_t first, int rows, std::vector<float>& scores)>;
RankingScores rank_catalogue(const RetrievalData& d, const std::vector<int>& ks, double head_mass, const RowScores& score_rows);

// Popularity scores: every test row gets each item's count among the training positives.
void popularity_scores(const RetrievalData& d, int rows, std::vector<float>& scores);

// The two reference rankings through the protocol: popularity (popularity_scores), and on
// synthetic data the true posterior (bayes_scores).
RankingScores rank_by_popularity(const RetrievalData& d, const std::vector<int>& ks, double head_mass);
RankingScores rank_by_posterior(const RetrievalData& d, const std::vector<int>& ks, double head_mass);

}  // namespace datasets
}  // namespace minirec
