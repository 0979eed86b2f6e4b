// Internal: the blocked GEMM driver shared by the AVX2 and AVX-512 paths (kernels_gemm.cpp).
// Each ISA file supplies a register-blocked micro-kernel, its block sizes and its packing (the
// plain packing loops here are the reference); the loops and the cache blocking are the same for
// every ISA. Nothing outside core/ and its tests includes this.
#pragma once

namespace minirec {
namespace kernels {

// A micro-kernel computes one MR x NR tile of C from packed panels:
//   C[0:m, 0:n] = alpha * (Ap * Bp)[0:m, 0:n] + beta * C[0:m, 0:n] + bias[0:n] (each row)
// where beta == 0 ignores the old C and a null bias adds nothing (a Linear layer's bias is
// added as the tile is written, instead of in a pass of its own).
// Ap is an MR x kc panel stored column by column (kc groups of MR floats), Bp a kc x NR panel
// stored row by row (kc groups of NR floats). Panels are zero-padded, so the kernel always
// multiplies a full tile in registers; m <= MR and n <= NR only limit what it writes back.
using MicroKernel = void (*)(int kc, const float* Ap, const float* Bp, float* C, int ldc, int m,
                             int n, float alpha, float beta, const float* bias);

// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads (see
// kernels_gemm.cpp): Ap as slivers of mr rows, kc groups of mr floats each; Bp as slivers of nr
// columns, kc groups of nr floats each; rows or columns past the block are zero. The plain loops
// pack_a_reference and pack_b_reference define it; an ISA file may supply a faster copy (AVX-512
// transposes 16 x 16 blocks in registers), tested to give the same floats.
using PackA = void (*)(float* Ap, const float* A, int lda, bool trans, int mc, int kc, int mr);
using PackB = void (*)(float* Bp, const float* B, int ldb, bool trans, int kc, int nc, int nr);
void pack_a_reference(float* Ap, const float* A, int lda, bool trans, int mc, int kc, int mr);
void pack_b_reference(float* Bp, const float* B, int ldb, bool trans, int kc, int nc, int nr);

// dst (cols x rows, row-major, no padding) = src^T for a row-major src of rows x cols with leading
// dimension ld: the small-product path's copy of B^T (small_gemm_b below). The plain loop is
// transpose_reference; AVX-512 transposes 16 x 16 blocks in registers, tested to give its floats.
using Transpose = void (*)(float* dst, const float* src, int ld, int rows, int cols);
void transpose_reference(float* dst, const float* src, int ld, int rows, int cols);

// The register tile (mr x nr), the cache blocks (see kernels_gemm.cpp for the picture) and the
// functions that do the work:
//   kc: depth of one rank-kc update; a kc x nr sliver of B should stay in L1,
//   mc: rows of A packed at once; an mc x kc block of A should stay in L2,
//   nc: columns of B packed at once; a kc x nc panel of B should stay in L3 (or L2).
struct GemmBlocking {
    int mr, nr;
    int mc, kc, nc;
    MicroKernel kernel;
    PackA pack_a;  // pack_a_reference, or the ISA's own (called with this mr)
    PackB pack_b;  // pack_b_reference, or the ISA's own (called with this nr)
    Transpose transpose;  // transpose_reference, or the ISA's own (small path, op(B) = B^T)
};

// C (MxN) = alpha * op(A) (MxK) * op(B) (KxN) + beta * C (+ bias, N floats added to every row,
// when not null), row-major, as KernelTable::sgemm and KernelTable::linear_forward.
void gemm_blocked(const GemmBlocking& blk, bool trans_a, bool trans_b, int M, int N, int K,
                  float alpha, const float* A, int lda, const float* B, int ldb, float beta,
                  const float* bias, float* C, int ldc);

// The small-product path. Packing costs O(M K + K N) copies, which only pays off when each packed
// value is reused many times. Attention multiplies hundreds of tiny matrices per step (50 x 32
// times 32 x 50 in BERT4Rec), where packing cost as much as the multiply. For those the ISA
// files skip packing and read A and B in place (see small_gemm_b and each file's gemm_small).
// The path walks K in chunks of kSmallKc, so that the block of op(B) it streams through (at most
// kSmallKc x 64 floats, 64 KiB) stays in L1 or L2; chunks after the first accumulate (beta = 1).
// It is used for few columns (N <= 64: the per-head products, mmoe's experts), for long sums
// over a small result (K >= 16 M and K >= 16 N: the weight gradients x^T dy of a layer over a
// batch of tokens, where the blocked driver would pack all of dy to use each value M / mr times;
// measured on BERT4Rec's FFN, 64 x 256 over K = 6400: 61 GFLOP/s packed, 110-125 in place) and
// for products of at most 2^23 multiply-adds (a block of 256 rows of that FFN: its x^T du, 64 x
// 256 over 256 rows, 65-73 GFLOP/s packed, 115-125 in place). For wide products over many rows
// (BERT4Rec's QKV projection over 6400 tokens, its 1702 logits) packing wins.
constexpr int kSmallKc = 256;
inline bool use_small_gemm(int M, int N, int K) {
    return N <= 64 || (K >= 16 * M && K >= 16 * N) || static_cast<long>(M) * N * K <= (1L << 23);
}

// op(B) as a row-major K x N matrix with leading dimension *ld: B itself when not transposed,
// else B^T copied by `transpose` into a per-thread scratch buffer (K N floats, reused across calls).
const float* small_gemm_b(bool trans_b, int K, int N, const float* B, int ldb, int* ld, Transpose transpose);

}  // namespace kernels
}  // namespace minirec
