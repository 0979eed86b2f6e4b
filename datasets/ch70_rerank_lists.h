// The re-ranking world of chapter 70, on top of datasets/slates.h: each request's candidates are
// ranked by an initial ranker that scores items one at a time (the true relevance logit plus
// Gaussian noise), and the clicks of that initial list are drawn from the slate click model (an
// earlier similar item lowers a later one's click probability). Also the user features the PV
// model reads, the batches the re-rankers train on, the greedy oracle that knows the click model and
// the truth a re-ranked list is judged by. Deliberately left out: position bias (chapter 71), logs
// from any other ranker.
#pragma once
#include <vector>

#include "core/rng.h"
#include "datasets/slates.h"

namespace minirec {
namespace datasets {

// One request as the re-rankers see it: the initial list (candidate indices in the ranker's
// order), per-item features in that order, PV (filled after pre-training), the logged clicks.
struct ListRow {
    int user = 0;
    Ids order;                    // (n) candidate index at each initial position
    std::vector<float> x, pv;     // (n, F), (n, pv_dim)
    std::vector<float> clicks;    // (n)
};

// Chapter 70's world: the slates of datasets/slates.h with these settings (its --requests and
// --redundancy flags change them, and every world its seed).
inline SlateOptions rerank_world() {
    SlateOptions data;
    data.num_requests = 16000; // fewer leave the re-rankers too little to learn from (book 70.5)
    data.num_candidates = 10;  // n: the initial list is every candidate, sorted by the ranker
    data.num_topics = 4;
    data.words_per_topic = 3;  // short topic vocabularies: same-topic titles overlap a lot
    data.title_words = 3;
    data.redundancy = 1.0;     // a same-title item shown earlier removes a later one's click
    data.quality_mean = -1.5;
    return data;
}

// x_i: the item's topic one-hot, then its title words multi-hot.
inline int feature_dim(const SlateOptions& o) { return o.num_topics + o.num_topics * o.words_per_topic + o.shared_words; }

// The initial list of request q: candidates sorted by logit(r_i) + N(0, noise^2), and its clicks.
ListRow make_row(const SlateData& d, const SlateRequest& q, const SlateOptions& o, double noise, Rng& rng);
// The same for every request of d, in order.
std::vector<ListRow> make_rows(const SlateData& d, const SlateOptions& o, double noise, Rng& rng);

// A batch of lists as tensors: x (B, n, F), pv (B, n, pv_dim), pos (B, n, n) the one-hot initial
// position, y (B, n) the logged clicks, users (B n) the user of every item row.
struct ListBatch {
    Tensor x, pv, pos, y;
    Ids users;
};
ListBatch gather(const std::vector<ListRow>& rows, const std::vector<int>& idx);
// The same for the `count` lists from row `first` on (the held-out lists, or all of them).
ListBatch gather(const std::vector<ListRow>& rows, int first, int count);

// The user features of the PV model: each user's click rate per topic on the training lists.
std::vector<float> topic_click_rates(const std::vector<ListRow>& rows, int n_train, int users, int T);
// Those rates for each of `users`: (N, T).
Tensor user_topic_features(const std::vector<float>& rates, const Ids& users, int T);
// Writes every row's PV from v (rows x n, pv_dim): the item rows of all lists, in order.
void set_pv(std::vector<ListRow>& rows, const Tensor& v);

// Re-rank a list by scores over its initial positions: candidate indices, best first.
Ids rerank(const Ids& order, const float* score);

// The oracle: build the list greedily, each time adding the item with the largest true click
// probability given the items already above it.
Ids greedy_oracle(const SlateData& d, const SlateRequest& q);

// The truth a list (candidate indices, top first) is judged by: the expected click of each of its
// top k items under the slate click model, and how many distinct topics those k items cover.
struct TopK {
    std::vector<double> clicks;   // (k)
    int topics = 0;
};
TopK top_k_truth(const SlateData& d, const SlateRequest& q, const Ids& list, int k);

}  // namespace datasets
}  // namespace minirec
