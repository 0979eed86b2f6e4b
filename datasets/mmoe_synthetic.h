// The synthetic two-task regression data of the MMoE paper (Ma et al., KDD 2018, section 3.2),
// where we choose how related the two tasks are. Deliberately left out: more than two tasks.
//
// Planted structure, exactly as in the paper:
//   1. two orthogonal unit vectors u1, u2 in R^d (Gaussian draws, Gram-Schmidt, normalised);
//   2. w1 = c u1,  w2 = c (rho u1 + sqrt(1 - rho^2) u2), so cos(w1, w2) = rho;
//   3. x in R^d with every element N(0, 1);
//   4. y_i = w_i^T x + sum_{j=1..m} sin(alpha_j w_i^T x + beta_j) + eps_i,  eps_i ~ N(0, noise_std^2).
// The sines make the labels' Pearson correlation differ from rho, but it rises with rho; we
// measure it on every sample we return.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct MMoEOptions {
    double rho = 0.5;              // the cosine between w1 and w2, in [-1, 1]
    int n = 10000;                 // rows of the fixed set (mmoe_synthetic)
    uint64_t seed = 1;
    int input_dim = 100;           // d
    int num_sines = 10;            // m
    std::vector<double> alpha = {};  // m values; empty means alpha_j = j / 2 (j = 1..m)
    std::vector<double> beta = {};   // m values; empty means beta_j = j^2
    double c = 1.0;                // the scale of w1 and w2
    double noise_std = 0.1;        // the paper's N(0, 0.01) read as variance 0.01
};

struct MMoEData {
    Tensor x;                      // (N, d) inputs
    Tensor y;                      // (N, 2) labels, column 0 task 1, column 1 task 2
    Tensor w1, w2;                 // (d) the true weight vectors
    Tensor u1, u2;                 // (d) the orthogonal unit vectors
    std::vector<double> alpha, beta;
    double weight_cosine = 0.0;    // cos(w1, w2) as built (equals rho up to rounding)
    double label_pearson = 0.0;    // measured Pearson correlation of y[:, 0] and y[:, 1]
};

// Fixed weights, fresh inputs on every call: the paper's "stream of fresh samples".
class MMoEStream {
public:
    explicit MMoEStream(const MMoEOptions& opts);
    MMoEData next(int batch);      // a new batch of `batch` rows (same w1, w2 every time)
    const Tensor& w1() const { return w1_; }
    const Tensor& w2() const { return w2_; }

private:
    MMoEOptions opts_;
    Rng rng_;
    Tensor u1_, u2_, w1_, w2_;
};

// The fixed set: opts.n rows from a stream built with opts.
MMoEData mmoe_synthetic(const MMoEOptions& opts);

// Chapter 68's worlds: weight cosine rho, input size d, sines alpha_j = alpha_scale j and
// beta_j = j^2 (alpha_scale = 0.5 gives the defaults above).
inline MMoEOptions mmoe_world(double rho, int input_dim, double alpha_scale, uint64_t seed) {
    MMoEOptions d;
    d.rho = rho;
    d.input_dim = input_dim;
    d.seed = seed;
    for (int i = 1; i <= d.num_sines; ++i) d.alpha.push_back(alpha_scale * i), d.beta.push_back(double(i) * i);
    return d;
}

// The noiseless label of one task for one input: w^T x + sum_j sin(alpha_j w^T x + beta_j).
double mmoe_label(const float* x, const Tensor& w, const std::vector<double>& alpha,
                  const std::vector<double>& beta);

}  // namespace datasets
}  // namespace minirec
