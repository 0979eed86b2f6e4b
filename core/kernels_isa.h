// Internal: the per-ISA kernel tables, implemented in kernels_scalar.cpp, kernels_avx2*.cpp and
// kernels_avx512*.cpp and gathered by kernels_dispatch.cpp. Nothing outside core/ includes this.
#pragma once
#include "core/kernels.h"

namespace minirec {
namespace kernels {

// erf for the SIMD paths, which work with a = |x| and put the sign back (erf is odd):
//   a <= 1:  erf a = a P(a^2),            P(t) = sum kErfP[i] t^i fits erf(a) / a,
//   a > 1:   erf a = 1 - e^(-a^2) Q(1/a),  Q(u) = sum kErfQ[i] u^i fits e^(a^2) erfc(a) on [1, 4];
//   a > 4:   erfc a < 2e-8 is below half an ulp of 1, so erf a = 1 (we evaluate at a = 4).
// Both are least-squares fits weighted to relative error, made for minirec with numpy (relative
// error 4e-8 and 2e-8 in exact arithmetic, 1.6e-7 after float rounding); tests/test_kernels.cpp
// compares them with std::erf.
constexpr float kErfP[6] = {1.128379121e+00f, -3.761231977e-01f, 1.128013044e-01f,
                            -2.670995240e-02f, 4.916024998e-03f, -5.625397480e-04f};
constexpr float kErfQ[10] = {1.257534645e-04f, 5.616815593e-01f, 2.122366592e-02f,
                             -3.789587311e-01f, 2.390804095e-01f, 2.225661459e-01f,
                             -5.184029508e-01f, 4.245934106e-01f, -1.740031725e-01f,
                             2.967749096e-02f};

// Phi(x) = P(X <= x) for X ~ N(0, 1), the GELU's gate, for the SIMD paths. With z = |x| / sqrt 2
// and t = 1 / (1 + kPhiP z), erfc z = t e^(-z^2) R(t) (the form of Abramowitz & Stegun 7.1.26,
// with R = sum kPhiR[i] t^i refitted for minirec to degree 9: relative error 4e-9 on z in
// [0, 10] in exact arithmetic); then Phi = erfc(z) / 2 for x < 0 and 1 - erfc(z) / 2 otherwise.
// No erf, so no cancellation in 1 + erf(x) far in the negative tail, and e^(-z^2) = e^(-x^2/2)
// is the exp that GELU's derivative needs too: one exp per value, forward or backward.
constexpr float kPhiP = 0.3275911f;
constexpr float kPhiR[10] = {1.847790333e-01f, 1.857944188e-01f, 1.656357497e-01f, 2.059515090e-01f,
                             -5.038056943e-02f, 5.013671403e-01f, -5.600450282e-01f, 6.273480492e-01f,
                             -3.171264462e-01f, 5.667613930e-02f};

const KernelTable& scalar_table();
const KernelTable* avx2_table();    // the AVX2+FMA table
const KernelTable* avx512_table();  // the AVX-512 table

}  // namespace kernels
}  // namespace minirec
