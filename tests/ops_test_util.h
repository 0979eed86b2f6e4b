// Small helpers shared by the op tests: random inputs kept away from kinks, forward-value
// comparison and exception-message capture. Gradient checking itself is in gradcheck.h.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>

#include "core/ops.h"
#include "core/rng.h"

namespace minirec {
namespace testing {

// Uniform in [lo, hi), from its own seed so each test's inputs are fixed.
inline Tensor rand_t(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Rng rng(seed);
    return Tensor::uniform(shape, rng, lo, hi);
}

// Moves every element at least `gap` away from `point` (keeps its side), so that finite
// differences with a step far smaller than gap never straddle a kink there.
inline Tensor away_from(Tensor t, float point, float gap) {
    for (float& v : t.vec()) v = v >= point ? std::fmax(v, point + gap) : std::fmin(v, point - gap);
    return t;
}

// Every element magnitude in [lo, hi) with a random sign (divisors, clean of 0).
inline Tensor rand_signed(const Shape& shape, uint64_t seed, float lo, float hi) {
    Rng rng(seed);
    Tensor t(shape);
    for (float& v : t.vec()) {
        const float m = rng.uniform(lo, hi);
        v = rng.uniform() < 0.5f ? -m : m;
    }
    return t;
}

// Values whose pairwise gaps are at least `gap` (a shuffled ladder), so max has one clear winner.
inline Tensor distinct(const Shape& shape, uint64_t seed, float gap = 0.1f) {
    Rng rng(seed);
    Tensor t(shape);
    std::vector<int> perm = rng.permutation(static_cast<int>(t.size()));
    for (size_t i = 0; i < t.size(); ++i)
        t[i] = gap * (static_cast<float>(perm[i]) - 0.5f * static_cast<float>(t.size()));
    return t;
}

// Whether `part` occurs in `s` (for checking error messages).
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The message of the exception `f` throws as type E; fails the test when nothing (or another
// type) is thrown.
template <class E>
std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (...) {
        FAIL_CHECK("threw an exception of another type");
        return "";
    }
    FAIL_CHECK("did not throw");
    return "";
}

// True when a and b have one shape and agree elementwise within tol (absolute).
inline bool close(const Tensor& a, const Tensor& b, float tol = 1e-6f) {
    return a.shape() == b.shape() && max_abs_diff(a, b) <= tol;
}

inline bool all_finite(const Tensor& t) {
    for (float v : t.vec())
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace testing
}  // namespace minirec
