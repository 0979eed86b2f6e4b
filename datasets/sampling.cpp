// Discrete sampling by CDF search, Zipf weights, sigmoid and Pearson correlation.
// Deliberately left out: anything a generator does not need.
#include "datasets/sampling.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"

namespace minirec {
namespace datasets {

Discrete::Discrete(const std::vector<double>& weights) {
    if (weights.empty()) arg_fail("Discrete", "no weights");
    double total = 0.0;
    for (double w : weights) {
        if (!(w >= 0.0) || !std::isfinite(w)) arg_fail("Discrete", "weights must be finite and >= 0");
        total += w;
    }
    if (total <= 0.0) arg_fail("Discrete", "all weights are zero");
    cdf_.resize(weights.size());
    double run = 0.0;
    for (size_t i = 0; i < weights.size(); ++i) {
        run += weights[i];
        cdf_[i] = run / total;
    }
    cdf_.back() = 1.0;  // guard against rounding: the last bucket always closes at 1
}

int Discrete::sample(Rng& rng) const {
    double u = rng.uniform_double();
    // The first i with cdf_[i] > u; zero-weight buckets have cdf equal to their left neighbour
    // and are therefore never chosen.
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return static_cast<int>(it - cdf_.begin());
}

double Discrete::prob(int i) const { return i == 0 ? cdf_[0] : cdf_[i] - cdf_[i - 1]; }

std::vector<double> Discrete::probs() const {
    std::vector<double> p(cdf_.size());
    for (int i = 0; i < size(); ++i) p[i] = prob(i);
    return p;
}

std::vector<double> zipf_weights(int n, double exponent) {
    std::vector<double> w(n);
    for (int r = 0; r < n; ++r) w[r] = 1.0 / std::pow(r + 1.0, exponent);
    return w;
}

std::vector<int> sample_distinct(const Discrete& dist, int k, Rng& rng) {
    int positive = 0;
    for (int i = 0; i < dist.size(); ++i) positive += dist.prob(i) > 0.0;
    if (k > positive) arg_fail("sample_distinct", "asked for more distinct values than there are");
    std::vector<int> out;
    std::set<int> seen;
    while (static_cast<int>(out.size()) < k) {
        int v = dist.sample(rng);
        if (seen.insert(v).second) out.push_back(v);
    }
    return out;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size() || a.empty()) arg_fail("pearson", "need two equally long, non-empty samples");
    double n = static_cast<double>(a.size()), ma = 0, mb = 0;
    for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (saa <= 0 || sbb <= 0) return 0.0;
    return sab / std::sqrt(saa * sbb);
}

}  // namespace datasets
}  // namespace minirec
