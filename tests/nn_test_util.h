// Helpers for the layer tests: a finite-difference check through a whole layer, perturbing
// parameter and input values in place (Var::value_mut), so the layer's own forward is checked
// exactly as models call it. Deliberately left out: second derivatives, random directions.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

namespace minirec {
namespace testing {

// Checks d sum(f() * R) / d v for every element of every Var in `vars` (parameters, or inputs
// made with parameter()) against central differences. f must be deterministic: a layer with
// dropout resets its Rng inside f. Returns the largest violation ratio (<= 1 passes).
inline float layer_grad_check(const std::function<Var()>& f, std::vector<Var> vars,
                              const std::string& what, const GradCheckOptions& opt = {}) {
    for (Var& v : vars) v.zero_grad();
    Var y = f();
    Rng rng(opt.seed);
    const Tensor r = Tensor::uniform(y.shape(), rng, -1.0f, 1.0f);
    backward(y, r);
    std::vector<Tensor> analytic;
    for (const Var& v : vars) analytic.push_back(v.grad());

    float worst = 0.0f;
    bool reported = false;
    for (size_t k = 0; k < vars.size(); ++k) {
        for (size_t i = 0; i < vars[k].size(); ++i) {
            const float orig = vars[k].value()[i];
            double lp, lm;
            {
                NoGrad ng;
                vars[k].value_mut()[i] = orig + opt.eps;
                lp = weighted_sum(f().value(), r);
                vars[k].value_mut()[i] = orig - opt.eps;
                lm = weighted_sum(f().value(), r);
                vars[k].value_mut()[i] = orig;
            }
            const double numeric = (lp - lm) / (2.0 * opt.eps);
            const double err = std::fabs(analytic[k][i] - numeric);
            const double ratio = err / (opt.atol + opt.rtol * std::fabs(numeric));
            if (!(ratio <= 1.0) && !reported) {  // also catches NaN
                reported = true;
                FAIL_CHECK(what << ": var " << k << " element " << i << ": autograd "
                                << analytic[k][i] << " vs finite difference " << numeric);
            }
            if (!(ratio <= worst)) worst = static_cast<float>(ratio);
        }
    }
    return worst;
}

// Uniform in [lo, hi) from its own seed.
inline Tensor uniform_t(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Rng rng(seed);
    return Tensor::uniform(shape, rng, lo, hi);
}

// Every element of every parameter, with their inputs, as one list.
inline std::vector<Var> with_inputs(std::vector<Var> params, const std::vector<Var>& inputs) {
    params.insert(params.end(), inputs.begin(), inputs.end());
    return params;
}

}  // namespace testing
}  // namespace minirec
