// The ad impressions of datasets/ad_impressions.h: the context from synthetic_ctr, then the ad
// field, each ad's logit offset by bisection, the clicks and the shared id space.
#include "datasets/ad_impressions.h"

#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

AdImpressions ad_impressions(const CtrOptions& co, const std::vector<double>& share, const std::vector<double>& ctr) {
    AdImpressions d;
    d.ctx = synthetic_ctr(co);
    Rng rng(splitmix64(co.seed ^ 0x65));
    const Discrete ad_dist(share);
    const int n = co.n;
    d.ad.resize(size_t(n));
    for (int r = 0; r < n; ++r) d.ad[size_t(r)] = ad_dist.sample(rng);
    std::vector<double> offset(ctr.size());
    for (size_t k = 0; k < offset.size(); ++k) {             // mean_{ad = k} sigmoid(a_k + g) = ctr_k
        double lo = -20.0, hi = 20.0;
        for (int it = 0; it < 60; ++it) {
            const double a = 0.5 * (lo + hi);
            double s = 0.0, c = 0.0;
            for (int r = 0; r < n; ++r)
                if (d.ad[size_t(r)] == int(k)) s += sigmoid(a + d.ctx.true_logit[size_t(r)] - co.bias), c += 1;
            (s / c < ctr[k] ? lo : hi) = a;
        }
        offset[k] = 0.5 * (lo + hi);
    }
    d.prob.resize(size_t(n)), d.labels.resize(size_t(n));
    for (int r = 0; r < n; ++r) {
        d.prob[size_t(r)] = float(sigmoid(offset[size_t(d.ad[size_t(r)])] + d.ctx.true_logit[size_t(r)] - co.bias));
        d.labels[size_t(r)] = rng.uniform_double() < d.prob[size_t(r)] ? 1.0f : 0.0f;
    }
    d.fields = d.ctx.num_fields + 1;
    for (int v : d.ctx.vocab_sizes) d.offsets.push_back(d.num_ids), d.num_ids += v;
    d.offsets.push_back(d.num_ids), d.num_ids += int(ctr.size());
    return d;
}

}  // namespace datasets
}  // namespace minirec
