// The AVX-512 GEMM: a 12x32 register-blocked micro-kernel for the packed driver (kernels_gemm.cpp)
// and unpacked tiles for small products. The other AVX-512 kernels and the table are in
// kernels_avx512.cpp. Deliberately left out: AVX-512 FP16/BF16, threads.
#include "core/kernels_avx512.h"
#include "core/kernels_gemm.h"

#if defined(__x86_64__)
#include <algorithm>

namespace minirec {
namespace kernels {
namespace avx512 {
namespace {

// ---------------------------------------------------------------------------------------------
// GEMM micro-kernel: a 12 x 32 tile of C lives in 24 zmm registers (12 rows x 2 registers of 16).
// Each step k loads one row of the B sliver (2 registers), broadcasts the 12 values of the A
// column one at a time and issues 24 FMAs: 768 flops per 2 loads + 12 broadcasts. With 2 FMA
// units the loop can keep both busy, which is the whole point of register blocking.

constexpr int MR = 12;
constexpr int NR = 32;

TARGET_AVX512 void micro_kernel(int kc, const float* Ap, const float* Bp, float* C, int ldc, int m,
                                int n, float alpha, float beta, const float* bias) {
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();

    // We ask for the C tile now (its first and last float per row) so that the loads at the end
    // do not wait for memory: with a wide ldc the tile's rows fall in few cache sets.
    for (int i = 0; i < m; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(C + static_cast<size_t>(i) * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(C + static_cast<size_t>(i) * ldc + NR - 1), _MM_HINT_T0);
    }

    for (int k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_loadu_ps(Bp);
        const __m512 b1 = _mm512_loadu_ps(Bp + W);
#pragma GCC unroll 12
        for (int i = 0; i < MR; ++i) {
            const __m512 a = _mm512_set1_ps(Ap[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
        Ap += MR;
        Bp += NR;
    }

    // Write back rows [0, m) and columns [0, n): C = alpha * acc + beta * C (+ bias). Masks cover a
    // partial last tile; beta == 0 must not read C (it may hold garbage or NaN).
    const __mmask16 mask0 = n >= W ? __mmask16(0xFFFF) : tail_mask(n);
    const __mmask16 mask1 = n >= NR ? __mmask16(0xFFFF) : n > W ? tail_mask(n - W) : __mmask16(0);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
        if (i >= m) break;
        float* c = C + static_cast<size_t>(i) * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]);
        __m512 r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask0, c), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask1, c + W), r1);
        }
        if (bias) {
            r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(mask0, bias));
            r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(mask1, bias + W));
        }
        _mm512_mask_storeu_ps(c, mask0, r0);
        _mm512_mask_storeu_ps(c + W, mask1, r1);
    }
}

// Block sizes for a core with 48 KiB L1d and 2 MiB L2 (Sapphire Rapids), measured with
// bench/bench_gemm: a kc x 32 sliver of B (kc = 256: 32 KiB) fills most of L1, an mc x kc block
// of A (mc = 192: 192 KiB) sits comfortably in L2 next to the kc x nc panel of B.
constexpr GemmBlocking kBlocking{MR, NR, /*mc=*/192, /*kc=*/256, /*nc=*/2048, micro_kernel};

// The small-product path (see use_small_gemm in kernels_gemm.h): no packing. One call computes
// an R x (16 NV) tile of C straight from op(A), read in place with strides (a_i to the next row,
// a_k to the next k), and from a row-major op(B) (leading dimension ldb). For each k it loads NV
// registers of B's row k (masked, so a partial last tile needs no padding) and broadcasts R
// values of A's column k: R NV FMAs per NV loads + R broadcasts, as in the micro-kernel.
// cols (1 .. 16 NV) is the tile's real width.
template <int R, int NV>
TARGET_AVX512 void small_tile(int K, const float* A, size_t a_i, size_t a_k, const float* B,
                              int ldb, float* C, int ldc, int cols, float alpha, float beta, const float* bias) {
    __mmask16 mask[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
        const int left = cols - v * W;
        mask[v] = left >= W ? __mmask16(0xFFFF) : tail_mask(static_cast<size_t>(left));
    }
    __m512 acc[R][NV];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    for (int k = 0; k < K; ++k) {
        const float* b = B + static_cast<size_t>(k) * ldb;
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + v * W);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
            const __m512 a = _mm512_set1_ps(A[r * a_i + k * a_k]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, bv[v], acc[r][v]);
        }
    }
    // C = alpha * acc + beta * C (+ bias); beta == 0 must not read C (it may hold garbage or NaN).
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            float* c = C + static_cast<size_t>(r) * ldc + v * W;
            __m512 out = _mm512_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) out = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], c), out);
            if (bias) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask[v], bias + v * W));
            _mm512_mask_storeu_ps(c, mask[v], out);
        }
}

// All rows of one block of at most 16 NV columns: tiles of R rows, then of 4, then single rows.
template <int NV>
TARGET_AVX512 void small_block(int M, int K, const float* A, size_t a_i, size_t a_k,
                               const float* B, int ldb, float* C, int ldc, int cols, float alpha,
                               float beta, const float* bias) {
    // R NV accumulators + NV registers of B + 1 broadcast: at most 29 of the 32 zmm registers.
    constexpr int R = NV == 1 ? 8 : NV == 2 ? 12 : 6;
    int i = 0;
    for (; i + R <= M; i += R)
        small_tile<R, NV>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
    for (; i + 4 <= M; i += 4)
        small_tile<4, NV>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
    for (; i < M; ++i)
        small_tile<1, NV>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
}

TARGET_AVX512 void gemm_small(bool ta, bool tb, int M, int N, int K, float alpha, const float* A,
                              int lda, const float* B, int ldb, float beta, const float* bias, float* C, int ldc) {
    int ldb_row = 0;
    const float* Brow = small_gemm_b(tb, K, N, B, ldb, &ldb_row);  // op(B), row-major
    const size_t a_i = ta ? 1 : static_cast<size_t>(lda), a_k = ta ? static_cast<size_t>(lda) : 1;
    for (int k0 = 0; k0 < K; k0 += kSmallKc) {  // chunks of K; later ones add to C (beta = 1)
        const int kc = std::min(kSmallKc, K - k0);
        const float beta_k = k0 == 0 ? beta : 1.0f;
        const float* bias_k = k0 == 0 ? bias : nullptr;  // the bias goes in with the first chunk
        const float* Ak = A + k0 * a_k;
        const float* Bk = Brow + static_cast<size_t>(k0) * ldb_row;
        for (int j = 0; j < N; j += 4 * W) {  // column blocks of up to 64
            const int cols = std::min(4 * W, N - j);
            const float* b = Bk + j;
            float* c = C + j;
            switch ((cols + W - 1) / W) {
                case 1: small_block<1>(M, kc, Ak, a_i, a_k, b, ldb_row, c, ldc, cols, alpha, beta_k, bias_k ? bias_k + j : nullptr); break;
                case 2: small_block<2>(M, kc, Ak, a_i, a_k, b, ldb_row, c, ldc, cols, alpha, beta_k, bias_k ? bias_k + j : nullptr); break;
                case 3: small_block<3>(M, kc, Ak, a_i, a_k, b, ldb_row, c, ldc, cols, alpha, beta_k, bias_k ? bias_k + j : nullptr); break;
                default: small_block<4>(M, kc, Ak, a_i, a_k, b, ldb_row, c, ldc, cols, alpha, beta_k, bias_k ? bias_k + j : nullptr); break;
            }
        }
    }
}

// C = alpha op(A) op(B) + beta C (+ bias): the small path or the blocked driver.
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, const float* bias, float* C, int ldc) {
    // K == 0 and alpha == 0 (C = beta C) are the blocked driver's business.
    if (M > 0 && N > 0 && K > 0 && alpha != 0.0f && use_small_gemm(M, N, K))
        gemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
    else
        gemm_blocked(kBlocking, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

}  // namespace

void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
    gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void linear_forward(float* y, const float* x, const float* w, const float* b, int n, int in, int out) {
    gemm(false, false, n, out, in, 1.0f, x, in, w, out, 0.0f, b, y, out);
}

}  // namespace avx512
}  // namespace kernels
}  // namespace minirec

#endif
