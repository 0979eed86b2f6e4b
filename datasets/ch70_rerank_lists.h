// The re-ranking world of chapter 70, on top of datasets/slates.h: each request's candidates are
// ranked by an initial ranker that scores items one at a time (the true relevance logit plus
// Gaussian noise), and the clicks of that initial list are drawn from the slate click model (an
// earlier similar item lowers a later one's click probability). Also the user features the PV
// model reads, and the greedy oracle that knows the click model. Deliberately left out: position
// bias (chapter 71), logs from any other ranker.
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

// x_i: the item's topic one-hot, then its title words multi-hot.
inline int feature_dim(const SlateOptions& o) { return o.num_topics + o.num_topics * o.words_per_topic + o.shared_words; }

// The initial list of request q: candidates sorted by logit(r_i) + N(0, noise^2), and its clicks.
ListRow make_row(const SlateData& d, const SlateRequest& q, const SlateOptions& o, double noise, Rng& rng);

// The user features of the PV model: each user's click rate per topic on the training lists.
std::vector<float> topic_click_rates(const std::vector<ListRow>& rows, int n_train, int users, int T);

// Re-rank a list by scores over its initial positions: candidate indices, best first.
Ids rerank(const Ids& order, const float* score);

// The oracle: build the list greedily, each time adding the item with the largest true click
// probability given the items already above it.
Ids greedy_oracle(const SlateData& d, const SlateRequest& q);

}  // namespace datasets
}  // namespace minirec
