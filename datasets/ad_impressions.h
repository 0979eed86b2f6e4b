// Impressions of a few ads in a synthetic context (chapter 65, calibration after negative
// down-sampling): synthetic_ctr's context fields plus an ad field, with each ad's mean true click
// rate set exactly. Deliberately left out: prices (the chapter's costs per click), positions, time.
//
// Planted structure. Row r gets an ad k drawn with probability share[k] and the true logit
//   a_k + g(x_r),   g(x) = synthetic_ctr's true logit without its bias,
// where a_k is set by bisection so that the mean true CTR over ad k's rows is ctr[k]; the click
// is drawn from sigmoid of that logit. The ad becomes one more categorical field: every field's
// ids are offset into one shared id space (context fields first, the ad last).
#pragma once
#include <vector>

#include "core/tensor.h"
#include "datasets/synthetic_ctr.h"

namespace minirec {
namespace datasets {

struct AdImpressions {
    CtrData ctx;                     // the context fields (ctx.labels and ctx.true_prob are unused)
    Ids ad;                          // (N) 0 .. K-1
    std::vector<float> prob, labels; // (N) the true CTR and the click drawn from it
    std::vector<int> offsets;        // where each field's ids start in the shared id space
    int fields = 0, num_ids = 0;     // F = context fields + 1 (the ad), total ids
};

// context.n rows from context.seed; share and ctr have one entry per ad (share sums to 1).
AdImpressions ad_impressions(const CtrOptions& context, const std::vector<double>& share, const std::vector<double>& ctr);

// The mean of `values` (one per row of `rows`, in order) over each ad's rows: with the clicks, the
// observed CTR per ad; with predictions, the mean pCTR per ad.
inline std::vector<double> mean_by_ad(const AdImpressions& d, const std::vector<int>& rows, const std::vector<float>& values) {
    const size_t K = size_t(d.num_ids - d.offsets.back());
    std::vector<double> sum(K, 0.0), count(K, 0.0);
    for (size_t i = 0; i < rows.size(); ++i) {
        const size_t k = size_t(d.ad[size_t(rows[i])]);
        sum[k] += values[i], count[k] += 1.0;
    }
    for (size_t k = 0; k < K; ++k) sum[k] /= count[k];
    return sum;
}

}  // namespace datasets
}  // namespace minirec
