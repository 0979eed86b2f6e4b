// The AVX2 GEMM: a 6x16 register-blocked micro-kernel for the packed driver (kernels_gemm.cpp) and
// unpacked tiles for small products. The other AVX2 kernels and the table are in kernels_avx2.cpp.
// Deliberately left out: SSE-only CPUs, threads.
#include "core/kernels_avx2.h"
#include "core/kernels_gemm.h"

#if defined(__x86_64__)
#include <algorithm>

namespace minirec {
namespace kernels {
namespace avx2 {
namespace {

// ---------------------------------------------------------------------------------------------
// GEMM micro-kernel: a 6 x 16 tile of C lives in 12 ymm registers (6 rows x 2 registers of 8).
// Each step k loads one row of the B sliver (2 registers), broadcasts the 6 values of the A
// column and issues 12 FMAs. 12 accumulators + 2 B values + 1 broadcast = 15 of the 16 ymm
// registers: the largest tile that fits without spilling to the stack.

constexpr int MR = 6;
constexpr int NR = 16;

TARGET_AVX2 void micro_kernel(int kc, const float* Ap, const float* Bp, float* C, int ldc, int m,
                              int n, float alpha, float beta, const float* bias) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();

    // We ask for the C tile now (its first and last float per row) so that the loads at the end
    // do not wait for memory: with a wide ldc the tile's rows fall in few cache sets.
    for (int i = 0; i < m; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(C + static_cast<size_t>(i) * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(C + static_cast<size_t>(i) * ldc + NR - 1), _MM_HINT_T0);
    }

    for (int k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_loadu_ps(Bp);
        const __m256 b1 = _mm256_loadu_ps(Bp + W);
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
            const __m256 a = _mm256_broadcast_ss(Ap + i);
            acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
        }
        Ap += MR;
        Bp += NR;
    }

    // Write back rows [0, m) and columns [0, n): C = alpha * acc + beta * C (+ bias) (beta == 0: C unread).
    // load_part / store_part mask only a partial register (n < 16).
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
        if (i >= m) break;
        float* c = C + static_cast<size_t>(i) * ldc;
        __m256 r0 = _mm256_mul_ps(va, acc[i][0]);
        __m256 r1 = _mm256_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, load_part(c, n), r0);
            r1 = _mm256_fmadd_ps(vb, load_part(c + W, n - W), r1);
        }
        if (bias) {
            r0 = _mm256_add_ps(r0, load_part(bias, n));
            r1 = _mm256_add_ps(r1, load_part(bias + W, n - W));
        }
        store_part(c, n, r0);
        store_part(c + W, n - W, r1);
    }
}

// ---------------------------------------------------------------------------------------------
// Packing (the plain loops are kernels::pack_a_reference and pack_b_reference), as the AVX-512
// file does it with 8 x 8 blocks: op(A) = A^T and op(B) = B are strided copies; op(A) = A and
// op(B) = B^T are transposes, done 8 rows of 8 k values at a time in registers.

// r[0..7] are the rows of an 8 x 8 block; on return r[j] is its column j. Interleave floats of
// row pairs, then pairs of floats of row quads (within each 128-bit half), then swap halves.
TARGET_AVX2 inline void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 2) {  // t[i] = a0 b0 a1 b1 | a4 b4 a5 b5, t[i+1] = a2 b2 a3 b3 | ...
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 2
    for (int q = 0; q < 8; q += 4) {  // u[q + c] = rows q..q+3 at columns c | c + 4
        u[q + 0] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
        u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
        u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
        u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {     // low halves give column c, high halves column c + 4
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[c + 4] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

// Writes the first `width` floats of v at p. A full register when the caller allows it
// (`spill`: the floats past width belong to a slot written later), else masked.
TARGET_AVX2 inline void store_width(float* p, int width, bool spill, __m256 v) {
    if (width >= W || spill)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, lanes_below(width), v);
}

// Transposes `rows` (<= 8) rows of kc floats, row i at src + i * ld, into kc rows of `width`
// (<= 8) floats starting at dst (dst[k * dst_ld + i] = src[i * ld + k]); rows past `rows` give
// zeros. Rows of dst are written in order, so each may spill into the next (AMD's Zen 3 is slow
// at masked stores); only the last is masked.
TARGET_AVX2 void transpose_rows(float* dst, int dst_ld, int width, const float* src, size_t ld,
                                int rows, int kc) {
    for (int k0 = 0; k0 < kc; k0 += W) {
        const int kn = std::min(W, kc - k0);
        __m256 r[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i)
            r[i] = i < rows ? load_part(src + i * ld + k0, kn) : _mm256_setzero_ps();
        transpose8(r);
#pragma GCC unroll 8
        for (int k = 0; k < kn; ++k)
            store_width(dst + static_cast<size_t>(k0 + k) * dst_ld, width, k0 + k + 1 < kc, r[k]);
    }
}

// kernels::pack_a_reference for mr = MR = 6.
TARGET_AVX2 void pack_a(float* Ap, const float* A, int lda, bool trans, int mc, int kc, int /*mr*/) {
    for (int i0 = 0; i0 < mc; i0 += MR) {
        const int rows = std::min(MR, mc - i0);
        if (trans) {  // op(A)[i, k] = A[k, i]: the 6 values of column k are contiguous
            for (int k = 0; k < kc; ++k)
                store_width(Ap + static_cast<size_t>(k) * MR, MR, k + 1 < kc,
                            load_part(A + static_cast<size_t>(k) * lda + i0, rows));
        } else {
            transpose_rows(Ap, MR, MR, A + static_cast<size_t>(i0) * lda, static_cast<size_t>(lda), rows, kc);
        }
        Ap += static_cast<size_t>(MR) * kc;
    }
}

// kernels::pack_b_reference for nr = NR = 16.
TARGET_AVX2 void pack_b(float* Bp, const float* B, int ldb, bool trans, int kc, int nc, int /*nr*/) {
    for (int j0 = 0; j0 < nc; j0 += NR) {
        const int cols = std::min(NR, nc - j0);
        if (trans) {  // op(B)[k, j] = B[j, k]: each of the 16 columns is a row of B, along k
            for (int h = 0; h < NR; h += W)
                transpose_rows(Bp + h, NR, W, B + static_cast<size_t>(j0 + h) * ldb,
                               static_cast<size_t>(ldb), std::max(0, std::min(W, cols - h)), kc);
        } else {      // op(B)[k, j] = B[k, j]: a copy of 16 floats per k, zeros past nc
            for (int k = 0; k < kc; ++k) {
                const float* src = B + static_cast<size_t>(k) * ldb + j0;
                float* dst = Bp + static_cast<size_t>(k) * NR;
                _mm256_storeu_ps(dst, cols > 0 ? load_part(src, cols) : _mm256_setzero_ps());
                _mm256_storeu_ps(dst + W, cols > W ? load_part(src + W, cols - W) : _mm256_setzero_ps());
            }
        }
        Bp += static_cast<size_t>(NR) * kc;
    }
}

// Block sizes (see kernels_gemm.cpp): the kc x 16 sliver of B (kc = 256: 16 KiB) stays in L1,
// the mc x kc block of A (mc = 144: 144 KiB) in L2; measured with bench/bench_gemm.
constexpr GemmBlocking kBlocking{MR, NR, /*mc=*/144, /*kc=*/256, /*nc=*/2048, micro_kernel,
                                pack_a, pack_b, transpose_reference};

// The small-product path (see use_small_gemm in kernels_gemm.h), as in kernels_avx512.cpp: no
// packing; an R x (8 NV) tile of C from op(A) read in place with strides (a_i to the next row,
// a_k to the next k) and a row-major op(B) read with masked loads. cols (1 .. 8 NV) is the
// tile's real width. With 16 ymm registers we use NV <= 2 and R <= 6, the micro-kernel's tile.
// Full (cols == 8 NV) reads B with plain loads: masked ones cost more on AMD's Zen cores.
template <int R, int NV, bool Full>
TARGET_AVX2 void small_tile(int K, const float* A, size_t a_i, size_t a_k, const float* B, int ldb,
                            float* C, int ldc, int cols, float alpha, float beta, const float* bias) {
    __m256i mask[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) mask[v] = lanes_below(cols - v * W);
    __m256 acc[R][NV];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
    for (int k = 0; k < K; ++k) {
        const float* b = B + static_cast<size_t>(k) * ldb;
        __m256 bv[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) bv[v] = Full ? _mm256_loadu_ps(b + v * W) : _mm256_maskload_ps(b + v * W, mask[v]);
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) {
            const __m256 a = _mm256_broadcast_ss(A + r * a_i + k * a_k);
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
        }
    }
    // C = alpha * acc + beta * C (+ bias); beta == 0 must not read C (it may hold garbage or NaN).
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            float* c = C + static_cast<size_t>(r) * ldc + v * W;
            const long left = cols - v * W;
            __m256 out = _mm256_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) out = _mm256_fmadd_ps(vb, load_part(c, left), out);
            if (bias) out = _mm256_add_ps(out, load_part(bias + v * W, left));
            store_part(c, left, out);
        }
}

// All rows of one block of at most 8 NV columns: tiles of 6 rows, then pairs, then single rows.
template <int NV, bool Full>
TARGET_AVX2 void small_block(int M, int K, const float* A, size_t a_i, size_t a_k, const float* B,
                             int ldb, float* C, int ldc, int cols, float alpha, float beta, const float* bias) {
    int i = 0;
    for (; i + 6 <= M; i += 6)
        small_tile<6, NV, Full>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
    for (; i + 2 <= M; i += 2)
        small_tile<2, NV, Full>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
    for (; i < M; ++i)
        small_tile<1, NV, Full>(K, A + i * a_i, a_i, a_k, B, ldb, C + static_cast<size_t>(i) * ldc, ldc,
                          cols, alpha, beta, bias);
}

// The rows of A are walked in blocks of kSmallRows (a multiple of the 6-row tile, so the tiles and
// every sum are the same as without blocks): an 8-register-wide tile covers only 16 columns, so
// without blocks a product with N = 64 would stream all of A from memory four times, once per
// column block; with them a block of 96 rows x kSmallKc (96 KiB) is read once and then comes from L2.
constexpr int kSmallRows = 96;

TARGET_AVX2 void gemm_small(bool ta, bool tb, int M, int N, int K, float alpha, const float* A,
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
        for (int i0 = 0; i0 < M; i0 += kSmallRows) {  // blocks of rows: read from memory once, then from L2
            const int rows = std::min(kSmallRows, M - i0);
            const float* Ai = Ak + i0 * a_i;
            float* Ci = C + static_cast<size_t>(i0) * ldc;
            for (int j = 0; j < N; j += 2 * W) {  // column blocks of up to 16
                const int cols = N - j < 2 * W ? N - j : 2 * W;
                const float* bias_j = bias_k ? bias_k + j : nullptr;
                if (cols == 2 * W)
                    small_block<2, true>(rows, kc, Ai, a_i, a_k, Bk + j, ldb_row, Ci + j, ldc, cols, alpha, beta_k, bias_j);
                else if (cols > W)
                    small_block<2, false>(rows, kc, Ai, a_i, a_k, Bk + j, ldb_row, Ci + j, ldc, cols, alpha, beta_k, bias_j);
                else if (cols == W)
                    small_block<1, true>(rows, kc, Ai, a_i, a_k, Bk + j, ldb_row, Ci + j, ldc, cols, alpha, beta_k, bias_j);
                else
                    small_block<1, false>(rows, kc, Ai, a_i, a_k, Bk + j, ldb_row, Ci + j, ldc, cols, alpha, beta_k, bias_j);
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

}  // namespace avx2
}  // namespace kernels
}  // namespace minirec

#endif
