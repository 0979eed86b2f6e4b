// The blocked GEMM driver (Goto & van de Geijn 2008, as organised by BLIS): five loops around
// a micro-kernel, with A and B packed into contiguous panels. The ISA files supply the micro-kernel.
// Deliberately left out: threads, complex/double types, run-time cache detection.
#include "core/kernels_gemm.h"

#include <algorithm>
#include <cstddef>
#include <new>

namespace minirec {
namespace kernels {
namespace {

// The picture (row-major, C is M x N, op(A) is M x K, op(B) is K x N):
//
//   loop 5  jc: columns of C and B in blocks of nc
//   loop 4  pc: the K dimension in blocks of kc     -> pack op(B)[pc:pc+kc, jc:jc+nc] into Bp
//   loop 3  ic: rows of C and A in blocks of mc      -> pack op(A)[ic:ic+mc, pc:pc+kc] into Ap
//   loop 2  jr: columns in steps of nr  (one kc x nr sliver of Bp, which stays in L1)
//   loop 1  ir: rows in steps of mr     (one mr x kc sliver of Ap, streamed from L2)
//   micro-kernel: C[ir:ir+mr, jr:jr+nr] += Ap sliver * Bp sliver, an mr x nr tile kept in registers
//
//            kc                 nc                          nc
//        +--------+        +----------+              +----------+
//     mc |   Ap   |  x  kc |    Bp    |   ->     mc  |  C block |
//        +--------+        +----------+              +----------+
//      (L2, packed        (L3/L2, packed              updated one
//       in mr-row          in nr-column               mr x nr tile
//       slivers)           slivers)                   at a time
//
// Packing copies each block once into the exact order the micro-kernel reads it: Ap as kc
// columns of mr floats, Bp as kc rows of nr floats. The micro-kernel then walks both with unit
// stride, whatever the transposes and leading dimensions of the caller were, and the copy costs
// O(mc*kc + kc*nc) against the O(mc*kc*nc) multiply-adds that reuse it.

// A grow-only, 64-byte aligned scratch buffer: after the first call of a given size the hot path
// allocates nothing. One per thread, so concurrent callers never share a buffer.
class Scratch {
public:
    ~Scratch() { release(); }
    float* get(size_t n) {
        if (n > size_) {
            release();
            data_ = static_cast<float*>(::operator new(n * sizeof(float), std::align_val_t(64)));
            size_ = n;
        }
        return data_;
    }

private:
    void release() {
        if (data_) ::operator delete(data_, std::align_val_t(64));
        data_ = nullptr;
        size_ = 0;
    }
    float* data_ = nullptr;
    size_t size_ = 0;
};

// Element (i, j) of op(X) for a row-major X with leading dimension ld.
inline const float* elem(const float* X, int ld, bool trans, int i, int j) {
    return trans ? X + static_cast<size_t>(j) * ld + i : X + static_cast<size_t>(i) * ld + j;
}

inline int round_up(int x, int m) { return (x + m - 1) / m * m; }

}  // namespace

// Packs rows [0, mc) x columns [0, kc) of op(A) (already offset to the block's corner) into
// slivers of mr rows: sliver s holds, for each k, the mr values op(A)[s*mr + 0..mr-1, k].
// Rows past mc are zero so the micro-kernel can always compute a full tile.
void pack_a_reference(float* Ap, const float* A, int lda, bool trans, int mc, int kc, int mr) {
    for (int i0 = 0; i0 < mc; i0 += mr) {
        const int rows = std::min(mr, mc - i0);
        if (trans) {
            // op(A)[i, k] = A[k, i]: for fixed k the mr values are contiguous in memory.
            for (int k = 0; k < kc; ++k) {
                const float* src = elem(A, lda, true, i0, k);
                float* dst = Ap + static_cast<size_t>(k) * mr;
                for (int i = 0; i < rows; ++i) dst[i] = src[i];
                for (int i = rows; i < mr; ++i) dst[i] = 0.0f;
            }
        } else {
            // op(A)[i, k] = A[i, k]: we read each row contiguously and scatter it with stride mr.
            for (int i = 0; i < rows; ++i) {
                const float* src = elem(A, lda, false, i0 + i, 0);
                for (int k = 0; k < kc; ++k) Ap[static_cast<size_t>(k) * mr + i] = src[k];
            }
            for (int i = rows; i < mr; ++i)
                for (int k = 0; k < kc; ++k) Ap[static_cast<size_t>(k) * mr + i] = 0.0f;
        }
        Ap += static_cast<size_t>(mr) * kc;
    }
}

// Packs rows [0, kc) x columns [0, nc) of op(B) into slivers of nr columns: sliver s holds, for
// each k, the nr values op(B)[k, s*nr + 0..nr-1]. Columns past nc are zero.
void pack_b_reference(float* Bp, const float* B, int ldb, bool trans, int kc, int nc, int nr) {
    for (int j0 = 0; j0 < nc; j0 += nr) {
        const int cols = std::min(nr, nc - j0);
        if (trans) {
            // op(B)[k, j] = B[j, k]: we read each row of B contiguously, scatter with stride nr.
            for (int j = 0; j < cols; ++j) {
                const float* src = elem(B, ldb, true, 0, j0 + j);
                for (int k = 0; k < kc; ++k) Bp[static_cast<size_t>(k) * nr + j] = src[k];
            }
            for (int j = cols; j < nr; ++j)
                for (int k = 0; k < kc; ++k) Bp[static_cast<size_t>(k) * nr + j] = 0.0f;
        } else {
            // op(B)[k, j] = B[k, j]: for fixed k the nr values are contiguous, a plain copy.
            for (int k = 0; k < kc; ++k) {
                const float* src = elem(B, ldb, false, k, j0);
                float* dst = Bp + static_cast<size_t>(k) * nr;
                for (int j = 0; j < cols; ++j) dst[j] = src[j];
                for (int j = cols; j < nr; ++j) dst[j] = 0.0f;
            }
        }
        Bp += static_cast<size_t>(nr) * kc;
    }
}

namespace {

// C = beta * C (+ bias), the whole answer when K == 0 or alpha == 0 (beta == 0 clears, even NaN).
void scale_c(float* C, int ldc, int M, int N, float beta, const float* bias) {
    for (int i = 0; i < M; ++i) {
        float* c = C + static_cast<size_t>(i) * ldc;
        for (int j = 0; j < N; ++j) c[j] = ((beta == 0.0f) ? 0.0f : beta * c[j]) + (bias ? bias[j] : 0.0f);
    }
}

}  // namespace

void gemm_blocked(const GemmBlocking& blk, bool trans_a, bool trans_b, int M, int N, int K,
                  float alpha, const float* A, int lda, const float* B, int ldb, float beta,
                  const float* bias, float* C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(C, ldc, M, N, beta, bias);
        return;
    }
    const int mr = blk.mr, nr = blk.nr;
    // Blocks never need to be larger than the problem: small GEMMs pack small. Packed blocks
    // are whole slivers, so we round up to mr and nr (mc and nc need not be multiples of them).
    const int mc_max = round_up(std::min(blk.mc, M), mr);
    const int nc_max = round_up(std::min(blk.nc, N), nr);
    const int kc_max = std::min(blk.kc, K);
    thread_local Scratch a_buf, b_buf;
    float* Ap = a_buf.get(static_cast<size_t>(mc_max) * kc_max);
    float* Bp = b_buf.get(static_cast<size_t>(nc_max) * kc_max);

    for (int jc = 0; jc < N; jc += blk.nc) {                                   // loop 5
        const int nc = std::min(blk.nc, N - jc);
        for (int pc = 0; pc < K; pc += blk.kc) {                               // loop 4
            const int kc = std::min(blk.kc, K - pc);
            blk.pack_b(Bp, elem(B, ldb, trans_b, pc, jc), ldb, trans_b, kc, nc, nr);
            // Only the first rank-kc update applies the caller's beta and the bias; later ones
            // accumulate.
            const float beta_pc = (pc == 0) ? beta : 1.0f;
            const float* bias_pc = (pc == 0 && bias) ? bias + jc : nullptr;
            for (int ic = 0; ic < M; ic += blk.mc) {                           // loop 3
                const int mc = std::min(blk.mc, M - ic);
                blk.pack_a(Ap, elem(A, lda, trans_a, ic, pc), lda, trans_a, mc, kc, mr);
                for (int jr = 0; jr < nc; jr += nr) {                          // loop 2
                    const float* b_sliver = Bp + static_cast<size_t>(jr) * kc;
                    for (int ir = 0; ir < mc; ir += mr) {                      // loop 1
                        const float* a_sliver = Ap + static_cast<size_t>(ir) * kc;
                        float* c_tile = C + static_cast<size_t>(ic + ir) * ldc + (jc + jr);
                        blk.kernel(kc, a_sliver, b_sliver, c_tile, ldc, std::min(mr, mc - ir),
                                   std::min(nr, nc - jr), alpha, beta_pc, bias_pc ? bias_pc + jr : nullptr);
                    }
                }
            }
        }
    }
}

void transpose_reference(float* dst, const float* src, int ld, int rows, int cols) {
    for (int j = 0; j < rows; ++j) {          // row j of src is column j of dst
        const float* s = src + static_cast<size_t>(j) * ld;
        for (int k = 0; k < cols; ++k) dst[static_cast<size_t>(k) * rows + j] = s[k];
    }
}

const float* small_gemm_b(bool trans_b, int K, int N, const float* B, int ldb, int* ld, Transpose transpose) {
    if (!trans_b) {
        *ld = ldb;
        return B;
    }
    thread_local Scratch bt_buf;
    float* Bt = bt_buf.get(static_cast<size_t>(K) * N);
    transpose(Bt, B, ldb, N, K);  // B is N x K: its rows are the columns of op(B)
    *ld = N;
    return Bt;
}

}  // namespace kernels
}  // namespace minirec
