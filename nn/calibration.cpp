// The calibration metrics of calibration.h: one pass to assign bins, one to form the averages.
#include "nn/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"

namespace minirec {

std::vector<ReliabilityBin> reliability_bins(const std::vector<float>& probs, const std::vector<float>& labels,
                                             int bins) {
    const char* op = "reliability_bins";
    if (probs.size() != labels.size())
        arg_fail(op, "lengths differ: " + std::to_string(probs.size()) + " probabilities vs " +
                         std::to_string(labels.size()) + " labels");
    if (bins < 1) arg_fail(op, "bins must be at least 1, got " + std::to_string(bins));
    std::vector<ReliabilityBin> out(static_cast<size_t>(bins));
    std::vector<double> sum_p(out.size(), 0.0), sum_y(out.size(), 0.0);
    for (size_t i = 0; i < probs.size(); ++i) {
        const float p = probs[i];
        if (!(p >= 0.0f && p <= 1.0f))  // also rejects NaN
            arg_fail(op, "probability " + std::to_string(i) + " is " + std::to_string(p) + ", not in [0, 1]");
        // p = 1 belongs to the last bin, every other p to floor(p * bins).
        const size_t b = std::min(static_cast<size_t>(double(p) * bins), out.size() - 1);
        out[b].count++;
        sum_p[b] += p;
        sum_y[b] += labels[i];
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (size_t b = 0; b < out.size(); ++b) {
        out[b].lo = double(b) / bins;
        out[b].hi = double(b + 1) / bins;
        out[b].mean_pred = out[b].count ? sum_p[b] / out[b].count : nan;
        out[b].mean_label = out[b].count ? sum_y[b] / out[b].count : nan;
    }
    return out;
}

double expected_calibration_error(const std::vector<float>& probs, const std::vector<float>& labels, int bins) {
    const std::vector<ReliabilityBin> rb = reliability_bins(probs, labels, bins);
    if (probs.empty()) return std::numeric_limits<double>::quiet_NaN();
    double ece = 0.0;
    for (const ReliabilityBin& b : rb)
        if (b.count) ece += double(b.count) / double(probs.size()) * std::fabs(b.mean_label - b.mean_pred);
    return ece;
}

}  // namespace minirec
