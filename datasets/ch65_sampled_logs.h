// Chapter 65's worlds over datasets/ad_impressions.h: one world's rows split in order into a
// training log (whose negatives the chapter then keeps at rate w) and an unsampled test set, and
// what the true CTRs score on that test set: the best any model can do. Deliberately left out: the
// sampling, the correction and the models (models/ch65_calibration.h).
#pragma once
#include <numeric>
#include <vector>

#include "core/metrics.h"
#include "datasets/ad_impressions.h"
#include "nn/calibration.h"

namespace minirec {
namespace datasets {

// The clicks of `rows`, in order.
inline std::vector<float> labels_of(const AdImpressions& d, const std::vector<int>& rows) {
    std::vector<float> y;
    for (int r : rows) y.push_back(d.labels[size_t(r)]);
    return y;
}

// What predictions p of the test rows score against their clicks y: ranking, calibration, and the
// mean prediction overall and per ad (the ads' pCTR, which prices their revenue).
struct AdScores {
    double auc = 0.0, logloss = 0.0, ece = 0.0;
    double ratio = 0.0;                  // mean prediction / observed CTR
    std::vector<double> ad_ctr;          // mean prediction per ad
    std::vector<ReliabilityBin> bins;    // the reliability diagram, `bins` equal-width bins
};
inline AdScores score(const AdImpressions& d, const std::vector<int>& test, const std::vector<float>& y,
                      const std::vector<float>& p, int bins) {
    AdScores s;
    s.auc = auc(p, y), s.logloss = logloss(p, y), s.ece = expected_calibration_error(p, y, bins);
    const double clicks = std::accumulate(y.begin(), y.end(), 0.0);   // mean pCTR / CTR = sum of pCTR / clicks
    s.ratio = std::accumulate(p.begin(), p.end(), 0.0) / clicks;
    s.ad_ctr = mean_by_ad(d, test, p);
    s.bins = reliability_bins(p, y, bins);
    return s;
}

struct AdWorld {
    std::vector<int> train, test;                 // row indices: the first n_train rows, then the rest
    std::vector<float> test_prob, test_labels;    // (test rows) the true CTR and the click drawn from it
    AdScores oracle;                              // the true CTRs scored: the best any model can do
};

// sum[k] += x[k] / worlds: one world's share of a mean over the worlds (sum starts empty).
inline void add_share(std::vector<double>& sum, const std::vector<double>& x, double worlds) {
    sum.resize(x.size(), 0.0);
    for (size_t k = 0; k < x.size(); ++k) sum[k] += x[k] / worlds;
}

// The first n_train rows of d train, the rest test; ECE over `bins` equal-width bins.
inline AdWorld split_world(const AdImpressions& d, int n_train, int bins) {
    AdWorld s;
    for (int r = 0; r < int(d.labels.size()); ++r) (r < n_train ? s.train : s.test).push_back(r);
    for (int r : s.test) s.test_prob.push_back(d.prob[size_t(r)]);
    s.test_labels = labels_of(d, s.test);
    s.oracle = score(d, s.test, s.test_labels, s.test_prob, bins);
    return s;
}

// The data and the truth on the test sets as means over the worlds: the CTR before sampling, the
// observed CTR per ad, and what the true CTRs score.
struct TruthMeans {
    double train_ctr = 0.0, test_ctr = 0.0;
    std::vector<double> test_ad_ctr;
    double auc = 0.0, logloss = 0.0, ece = 0.0;
    // Adds one world's share (1 / worlds) to every number.
    void add(const AdImpressions& d, const AdWorld& s, double worlds) {
        const int n_train = int(s.train.size()), n_test = int(s.test.size());
        for (int r : s.train) train_ctr += d.labels[size_t(r)] / n_train / worlds;
        for (int r : s.test) test_ctr += d.labels[size_t(r)] / n_test / worlds;
        add_share(test_ad_ctr, mean_by_ad(d, s.test, s.test_labels), worlds);
        auc += s.oracle.auc / worlds, logloss += s.oracle.logloss / worlds, ece += s.oracle.ece / worlds;
    }
};

}  // namespace datasets
}  // namespace minirec
