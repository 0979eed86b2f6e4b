// Internal to core/: what the two AVX2 files share. kernels_avx2.cpp has the elementwise, row and
// transcendental kernels and the table; kernels_avx2_gemm.cpp the GEMM. Here: the intrinsics,
// the target attribute, the register width, the tail mask and the GEMM's entry points.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

// The one macro of the AVX2 files: the instruction sets every function there may use.
#define TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace minirec {
namespace kernels {
struct GemmBlocking;  // core/kernels_gemm.h
// A named namespace (not only an anonymous one) so that our add, exp, ... do not clash with the
// dispatching wrappers of the same names in kernels.h.
namespace avx2 {

constexpr int W = 8;  // floats per __m256

// An integer mask with lanes [0, count) set (all set for count >= 8, none for count <= 0), the
// form _mm256_maskload_ps / _mm256_maskstore_ps want. Masked-off lanes are never touched.
TARGET_AVX2 inline __m256i lanes_below(long count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int c = count < 0 ? 0 : count > W ? W : static_cast<int>(count);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), lane);
}

// The register of 8 floats at p, of which the first `left` exist (left may exceed 8): a plain load
// or store for a full register, a masked one (zeros past the end on load) only for a last partial
// register. The values are the same either way; the speed is not: on AMD's Zen 3 masking every
// register made layer norm and GELU's backward 3 to 5 times slower (book chapter 9, sixth round).
TARGET_AVX2 inline __m256 load_part(const float* p, long left) {
    return left >= W ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes_below(left));
}
TARGET_AVX2 inline void store_part(float* p, long left, __m256 v) {
    if (left >= W)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, lanes_below(left), v);
}

// KernelTable::sgemm and KernelTable::linear_forward (kernels_avx2_gemm.cpp).
void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);
void linear_forward(float* y, const float* x, const float* w, const float* b, int n, int in, int out);
// The blocked GEMM's tile, block sizes, micro-kernel and packing, for the tests (kernels_gemm.h).
const GemmBlocking& gemm_blocking();

}  // namespace avx2
}  // namespace kernels
}  // namespace minirec

#endif
