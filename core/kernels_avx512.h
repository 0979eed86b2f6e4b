// Internal to core/: what the two AVX-512 files share. kernels_avx512.cpp has the elementwise,
// row and transcendental kernels and the table; kernels_avx512_gemm.cpp the GEMM. Here: the
// intrinsics, the target attribute, the register width, the tail mask and the GEMM's entry points.
#pragma once
#if defined(__x86_64__)
#include <cstddef>

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 headers when they are inlined into
// functions with a target attribute (the "undefined" vectors the headers use on purpose). The
// warning is spurious, so we silence it for this include only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The one macro of the AVX-512 files: the instruction sets every function here may use.
#define TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))

namespace minirec {
namespace kernels {
struct GemmBlocking;  // core/kernels_gemm.h
// A named namespace (not only an anonymous one) so that our add, exp, ... do not clash with the
// dispatching wrappers of the same names in kernels.h.
namespace avx512 {

constexpr int W = 16;  // floats per __m512

// Lanes [0, n) set, for a tail of n < 16 elements.
TARGET_AVX512 inline __mmask16 tail_mask(size_t n) {
    return static_cast<__mmask16>((1u << n) - 1u);
}

// KernelTable::sgemm and KernelTable::linear_forward (kernels_avx512_gemm.cpp).
void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);
void linear_forward(float* y, const float* x, const float* w, const float* b, int n, int in, int out);
// The blocked GEMM's tile, block sizes, micro-kernel and packing, for the tests (kernels_gemm.h).
const GemmBlocking& gemm_blocking();

}  // namespace avx512
}  // namespace kernels
}  // namespace minirec

#endif
