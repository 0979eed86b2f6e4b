// Small sampling and statistics helpers shared by the synthetic generators: discrete
// distributions from weights, Zipf/power-law weights, the sigmoid, Pearson correlation.
// Deliberately left out: alias tables (binary search on a CDF is fast enough here).
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace minirec {
namespace datasets {

// A distribution over 0..n-1 proportional to non-negative weights (at least one positive).
// We sample by binary search on the cumulative sum, with a double-precision uniform.
class Discrete {
public:
    Discrete() = default;
    explicit Discrete(const std::vector<double>& weights);
    int sample(Rng& rng) const;
    double prob(int i) const;          // the normalised probability of i
    int size() const { return static_cast<int>(cdf_.size()); }
    std::vector<double> probs() const; // all normalised probabilities

private:
    std::vector<double> cdf_;          // cdf_[i] = (w_0 + ... + w_i) / total
};

// The seed of part a of a world (a cell, a model) with a salt (0: its data, 1...: its inits), from
// the world's seed (nn/train.h's replicate_seed): independent streams that can be rerun alone.
inline uint64_t sub_seed(uint64_t world, int a, int salt) {
    return splitmix64(world ^ splitmix64(1000003ull * (uint64_t(a) + 1) + uint64_t(salt)));
}

// Zipf weights 1 / (r + 1)^exponent for ranks r = 0..n-1 (rank 0 is the most frequent value).
std::vector<double> zipf_weights(int n, double exponent);

// k distinct values from 0..n-1 drawn from `dist` (rejection of repeats); k <= number of values
// with positive probability.
std::vector<int> sample_distinct(const Discrete& dist, int k, Rng& rng);

double sigmoid(double x);

// Pearson correlation of two equally long samples (0 if either has zero variance).
double pearson(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace datasets
}  // namespace minirec
