// Chapter 65's worlds over datasets/ad_impressions.h: one world's rows split in order into a
// training log (whose negatives the chapter then keeps at rate w) and an unsampled test set with
// its true CTRs and clicks. Deliberately left out: the sampling, the correction, the models and
// their scores (models/ch65_calibration.h).
#pragma once
#include <vector>

#include "datasets/ad_impressions.h"

namespace minirec {
namespace datasets {

// The clicks of `rows`, in order.
inline std::vector<float> labels_of(const AdImpressions& d, const std::vector<int>& rows) {
    std::vector<float> y;
    for (int r : rows) y.push_back(d.labels[size_t(r)]);
    return y;
}

struct AdWorld {
    std::vector<int> train, test;                 // row indices: the first n_train rows, then the rest
    std::vector<float> test_prob, test_labels;    // (test rows) the true CTR and the click drawn from it
};

// sum[k] += x[k] / worlds: one world's share of a mean over the worlds (sum starts empty).
inline void add_share(std::vector<double>& sum, const std::vector<double>& x, double worlds) {
    sum.resize(x.size(), 0.0);
    for (size_t k = 0; k < x.size(); ++k) sum[k] += x[k] / worlds;
}

// The first n_train rows of d train, the rest test.
inline AdWorld split_world(const AdImpressions& d, int n_train) {
    AdWorld s;
    for (int r = 0; r < int(d.labels.size()); ++r) (r < n_train ? s.train : s.test).push_back(r);
    for (int r : s.test) s.test_prob.push_back(d.prob[size_t(r)]);
    s.test_labels = labels_of(d, s.test);
    return s;
}

}  // namespace datasets
}  // namespace minirec
