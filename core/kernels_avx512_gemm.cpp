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

#pragma GCC unroll 4
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

// ---------------------------------------------------------------------------------------------
// Packing (the plain loops are kernels::pack_a_reference and pack_b_reference). Two of the four
// cases are a strided copy: op(A) = A^T gives 12 contiguous floats per k, op(B) = B 32 per k.
// The other two are a transpose: the 12 rows of an A sliver (or 32 rows of B^T) each run along k,
// and the panel wants them across k. Element by element that is one scalar store per float,
// which made packing 30% of a 256^3 product; instead we load 16 rows of 16 k values into
// registers, transpose the 16 x 16 block there (transpose16) and store 16 rows at once.

// r[0..15] are the rows of a 16 x 16 block; on return r[j] is its column j. Three rounds:
// interleave floats of row pairs, then pairs of floats of row quads (within each 128-bit lane),
// then move 128-bit lanes, so that column c + 4 L collects lane L of the quads holding column c.
TARGET_AVX512 inline void transpose16(__m512 r[16]) {
    __m512 t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {  // t[i] = a0 b0 a1 b1, t[i+1] = a2 b2 a3 b3 (per lane)
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    __m512 u[16];  // u[4q + c] = rows 4q..4q+3 at columns c, c + 4, c + 8, c + 12 (lanes 0..3)
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
        const __m512d t0 = _mm512_castps_pd(t[4 * q]), t1 = _mm512_castps_pd(t[4 * q + 1]);
        const __m512d t2 = _mm512_castps_pd(t[4 * q + 2]), t3 = _mm512_castps_pd(t[4 * q + 3]);
        u[4 * q + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {  // 0x88 takes lanes 0 and 2 of each source, 0xDD lanes 1 and 3
        const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        const __m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[c + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        r[c + 12] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

// Transposes `rows` (<= 16) rows of kc floats, row i at src + i * ld, into kc rows of `width`
// floats starting at dst (dst[k * dst_ld + i] = src[i * ld + k]); rows past `rows` give zeros.
// Only the first `width` lanes of each output row are stored.
TARGET_AVX512 void transpose_rows(float* dst, int dst_ld, int width, const float* src, size_t ld,
                                  int rows, int kc) {
    const __mmask16 out = tail_mask(static_cast<size_t>(width));  // width <= 16
    for (int k0 = 0; k0 < kc; k0 += W) {
        const int kn = std::min(W, kc - k0);
        const __mmask16 in = kn == W ? __mmask16(0xFFFF) : tail_mask(static_cast<size_t>(kn));
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i)
            r[i] = i < rows ? _mm512_maskz_loadu_ps(in, src + i * ld + k0) : _mm512_setzero_ps();
        transpose16(r);
#pragma GCC unroll 16
        for (int k = 0; k < kn; ++k)
            _mm512_mask_storeu_ps(dst + static_cast<size_t>(k0 + k) * dst_ld, out, r[k]);
    }
}

// kernels::pack_a_reference for mr = MR = 12.
TARGET_AVX512 void pack_a(float* Ap, const float* A, int lda, bool trans, int mc, int kc, int /*mr*/) {
    for (int i0 = 0; i0 < mc; i0 += MR) {
        const int rows = std::min(MR, mc - i0);
        if (trans) {  // op(A)[i, k] = A[k, i]: the 12 values of column k are contiguous
            const __mmask16 in = tail_mask(static_cast<size_t>(rows)), out = tail_mask(MR);
            for (int k = 0; k < kc; ++k)
                _mm512_mask_storeu_ps(Ap + static_cast<size_t>(k) * MR, out,
                                      _mm512_maskz_loadu_ps(in, A + static_cast<size_t>(k) * lda + i0));
        } else {
            transpose_rows(Ap, MR, MR, A + static_cast<size_t>(i0) * lda, static_cast<size_t>(lda), rows, kc);
        }
        Ap += static_cast<size_t>(MR) * kc;
    }
}

// kernels::pack_b_reference for nr = NR = 32.
TARGET_AVX512 void pack_b(float* Bp, const float* B, int ldb, bool trans, int kc, int nc, int /*nr*/) {
    for (int j0 = 0; j0 < nc; j0 += NR) {
        const int cols = std::min(NR, nc - j0);
        if (trans) {  // op(B)[k, j] = B[j, k]: each of the 32 columns is a row of B, along k
            for (int h = 0; h < NR; h += W)
                transpose_rows(Bp + h, NR, W, B + static_cast<size_t>(j0 + h) * ldb,
                               static_cast<size_t>(ldb), std::max(0, std::min(W, cols - h)), kc);
        } else {      // op(B)[k, j] = B[k, j]: a copy of 32 floats per k, zeros past nc
            const __mmask16 m0 = cols >= W ? __mmask16(0xFFFF) : tail_mask(static_cast<size_t>(cols));
            const __mmask16 m1 = cols >= NR ? __mmask16(0xFFFF)
                                 : cols > W ? tail_mask(static_cast<size_t>(cols - W)) : __mmask16(0);
            for (int k = 0; k < kc; ++k) {
                const float* src = B + static_cast<size_t>(k) * ldb + j0;
                float* dst = Bp + static_cast<size_t>(k) * NR;
                _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(m0, src));
                _mm512_storeu_ps(dst + W, _mm512_maskz_loadu_ps(m1, src + W));
            }
        }
        Bp += static_cast<size_t>(NR) * kc;
    }
}

// kernels::transpose_reference: column blocks of 16 rows of src, each transposed in registers.
TARGET_AVX512 void transpose(float* dst, const float* src, int ld, int rows, int cols) {
    for (int j0 = 0; j0 < rows; j0 += W) {
        const int n = std::min(W, rows - j0);
        transpose_rows(dst + j0, rows, n, src + static_cast<size_t>(j0) * ld, static_cast<size_t>(ld), n, cols);
    }
}

// Block sizes for a core with 48 KiB L1d and 2 MiB L2 (Sapphire Rapids), measured with
// bench/bench_gemm: a kc x 32 sliver of B (kc = 256: 32 KiB) fills most of L1, an mc x kc block
// of A (mc = 192: 192 KiB) sits comfortably in L2 next to the kc x nc panel of B.
constexpr GemmBlocking kBlocking{MR, NR, /*mc=*/192, /*kc=*/256, /*nc=*/2048, micro_kernel,
                                pack_a, pack_b, transpose};

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
#pragma GCC unroll 4
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

// All rows of one block of at most 16 NV columns: tiles of R rows, then of 4, of 2, then one row.
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
    for (; i + 2 <= M; i += 2)
        small_tile<2, NV>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
    for (; i < M; ++i)
        small_tile<1, NV>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
}

TARGET_AVX512 void gemm_small(bool ta, bool tb, int M, int N, int K, float alpha, const float* A,
                              int lda, const float* B, int ldb, float beta, const float* bias, float* C, int ldc) {
    int ldb_row = 0;
    const float* Brow = small_gemm_b(tb, K, N, B, ldb, &ldb_row, kBlocking.transpose);  // op(B), row-major
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

const GemmBlocking& gemm_blocking() { return kBlocking; }

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
