// Finite-difference gradient checking for the tests: every differentiable op and layer is
// checked by comparing autograd's gradient with central differences
//     dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),   L = sum(f(x) * R)
// where R is a fixed random tensor, so every output element contributes. Sums are taken in
// double precision to keep float32 rounding out of the comparison.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/rng.h"

namespace minirec {
namespace testing {

struct GradCheckOptions {
    float eps = 1e-3f;   // step of the central difference
    float atol = 2e-3f;  // pass when |analytic - numeric| <= atol + rtol * |numeric|
    float rtol = 1e-2f;
    uint64_t seed = 7;
};

// L = sum(y * R) in double.
inline double weighted_sum(const Tensor& y, const Tensor& r) {
    double s = 0.0;
    for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * r[i];
    return s;
}

// Checks d sum(f(xs) * R) / d xs against central differences for every element of every input.
// Returns the largest violation ratio |a - n| / (atol + rtol |n|) (<= 1 means pass) and reports
// the first failing element through doctest.
inline float grad_check(const std::function<Var(const std::vector<Var>&)>& f,
                        const std::vector<Tensor>& inputs, const GradCheckOptions& opt = {},
                        const std::string& what = "") {
    std::vector<Var> xs;
    for (const Tensor& t : inputs) xs.push_back(parameter(t));
    Var y = f(xs);
    Rng rng(opt.seed);
    const Tensor r = Tensor::uniform(y.shape(), rng, -1.0f, 1.0f);
    backward(y, r);

    float worst = 0.0f;
    bool reported = false;
    for (size_t k = 0; k < inputs.size(); ++k) {
        const Tensor analytic = xs[k].grad();
        for (size_t i = 0; i < inputs[k].size(); ++i) {
            std::vector<Tensor> plus = inputs, minus = inputs;
            plus[k][i] += opt.eps;
            minus[k][i] -= opt.eps;
            double lp, lm;
            {
                NoGrad ng;
                std::vector<Var> vp, vm;
                for (const Tensor& t : plus) vp.push_back(constant(t));
                for (const Tensor& t : minus) vm.push_back(constant(t));
                lp = weighted_sum(f(vp).value(), r);
                lm = weighted_sum(f(vm).value(), r);
            }
            const double numeric = (lp - lm) / (2.0 * opt.eps);
            const double err = std::fabs(analytic[i] - numeric);
            const double ratio = err / (opt.atol + opt.rtol * std::fabs(numeric));
            if (!(ratio <= 1.0) && !reported) {  // also catches NaN
                reported = true;
                FAIL_CHECK(what << ": input " << k << " element " << i << ": autograd "
                                << analytic[i] << " vs finite difference " << numeric);
            }
            if (!(ratio <= worst)) worst = static_cast<float>(ratio);
        }
    }
    return worst;
}

}  // namespace testing
}  // namespace minirec
