// Calibration metrics: does a predicted probability of 0.3 come true 30% of the time? The
// expected calibration error over equal-width bins and the per-bin numbers of a reliability diagram.
// Deliberately left out: equal-mass bins, maximum calibration error, recalibration (Platt, isotonic).
#pragma once
#include <vector>

namespace minirec {

// One bin of a reliability diagram: the predictions p with lo <= p < hi (the last bin includes 1).
struct ReliabilityBin {
    double lo = 0.0, hi = 0.0;
    long count = 0;             // n_b, predictions in the bin
    double mean_pred = 0.0;     // conf_b = mean of p over the bin (NaN when empty)
    double mean_label = 0.0;    // acc_b = mean of y over the bin, the observed rate (NaN when empty)
};

// Splits [0, 1] into `bins` equal-width bins and averages predictions and labels in each.
// A calibrated model has mean_label = mean_pred in every bin (the diagonal of the diagram).
// Throws on length mismatch, bins < 1, or a probability outside [0, 1] (NaN included).
std::vector<ReliabilityBin> reliability_bins(const std::vector<float>& probs, const std::vector<float>& labels,
                                             int bins = 10);

// Expected calibration error (Naeini et al. 2015; Guo et al. 2017), equal-width bins:
//   ECE = sum_b (n_b / n) |mean_label_b - mean_pred_b|,
// the average gap between what the model predicts and what happens, weighted by where the
// predictions fall. 0 for a perfectly calibrated model (up to sampling noise in the labels);
// predicting 0.5 for data with a 25% rate gives 0.25. NaN for empty input.
double expected_calibration_error(const std::vector<float>& probs, const std::vector<float>& labels,
                                  int bins = 10);

}  // namespace minirec
