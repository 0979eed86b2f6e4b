// Tests of the SIMD kernel tables: every path (AVX2, AVX-512) agrees with the scalar reference,
// and the transcendentals stay within their documented error of double-precision std:: maths.
// A path the CPU lacks is skipped with a message. Dispatch itself (MINIREC_SIMD) is tested elsewhere.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/kernels.h"
#include "core/kernels_gemm.h"
#if defined(__x86_64__)
#include "core/kernels_avx2.h"
#include "core/kernels_avx512.h"
#endif
#include "core/rng.h"

using namespace minirec;
using namespace minirec::kernels;

namespace {

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// The documented bound (book/03_kernels.md) on the relative error of exp, log, tanh and sigmoid
// against double precision, for results in the normal float range.
const double kMaxRelError = 3e-7;

// The SIMD tables this CPU can run; the others are reported and skipped.
std::vector<const KernelTable*> simd_paths() {
    std::vector<const KernelTable*> out;
    for (Isa isa : {Isa::avx2, Isa::avx512}) {
        if (isa_supported(isa))
            out.push_back(&table(isa));
        else
            MESSAGE("skipping ", isa_name(isa), ": not supported on this CPU");
    }
    return out;
}

// The scalar reference first, then the SIMD paths: for the error measurements of every path.
std::vector<const KernelTable*> all_paths() {
    std::vector<const KernelTable*> out = {&table(Isa::scalar)};
    for (const KernelTable* t : simd_paths()) out.push_back(t);
    return out;
}

std::vector<float> uniform_vec(size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(lo, hi);
    return v;
}

// Runs the same GEMM on `t` and on the scalar table and compares every element of C (including
// that the padding between rows, when ldc > N, is untouched).
void check_gemm(const KernelTable& t, bool ta, bool tb, int M, int N, int K, float alpha,
                float beta, int pad, Rng& rng) {
    CAPTURE(t.name); CAPTURE(ta); CAPTURE(tb); CAPTURE(M); CAPTURE(N); CAPTURE(K);
    CAPTURE(alpha); CAPTURE(beta); CAPTURE(pad);
    // op(A) is M x K: stored K x M when transposed. Leading dims are the row width plus `pad`;
    // the padding holds NaN, so a kernel that reads it poisons its result.
    const int a_rows = ta ? K : M, a_cols = ta ? M : K;
    const int b_rows = tb ? N : K, b_cols = tb ? K : N;
    const int lda = a_cols + pad, ldb = b_cols + pad, ldc = N + pad;
    std::vector<float> A(static_cast<size_t>(a_rows) * lda, kNaN), B(static_cast<size_t>(b_rows) * ldb, kNaN);
    for (int i = 0; i < a_rows; ++i)
        for (int j = 0; j < a_cols; ++j) A[static_cast<size_t>(i) * lda + j] = rng.uniform(-1, 1);
    for (int i = 0; i < b_rows; ++i)
        for (int j = 0; j < b_cols; ++j) B[static_cast<size_t>(i) * ldb + j] = rng.uniform(-1, 1);
    // beta == 0 must ignore C entirely, so we start from NaN there.
    std::vector<float> C0(static_cast<size_t>(M) * ldc);
    for (float& c : C0) c = (beta == 0.0f) ? kNaN : rng.uniform(-1, 1);
    std::vector<float> C = C0, R = C0;
    t.sgemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    table(Isa::scalar).sgemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, R.data(), ldc);
    // Each element is a sum of K products of magnitude <= |alpha|, plus beta * C: summation
    // order differs between paths, so we allow a few ulp of that magnitude per term.
    const double tol = 1e-6 * (std::fabs(alpha) * (K + 1) + std::fabs(beta));
    int bad = 0;
    for (int i = 0; i < M; ++i) {
        for (int j = 0; j < ldc; ++j) {
            const size_t k = static_cast<size_t>(i) * ldc + j;
            const bool ok = (j < N) ? std::fabs(C[k] - R[k]) <= tol
                                    : std::memcmp(&C[k], &C0[k], sizeof(float)) == 0;
            if (!ok && bad++ < 3) CHECK_MESSAGE(ok, "C[", i, ",", j, "] = ", C[k], " vs ", R[k]);
        }
    }
    CHECK(bad == 0);
}

// Max relative error of f (a kernel) against ref (double precision) over xs; results that are
// denormal or zero in float are held to an absolute error of one denormal step instead.
template <class Ref>
double max_rel_error(void (*f)(float*, const float*, size_t), Ref ref, const std::vector<float>& xs,
                     float* worst_x) {
    std::vector<float> y(xs.size());
    f(y.data(), xs.data(), xs.size());
    double worst = 0.0;
    for (size_t i = 0; i < xs.size(); ++i) {
        const double r = ref(static_cast<double>(xs[i]));
        const double err = std::fabs(y[i] - r);
        double rel;
        if (std::fabs(r) < std::numeric_limits<float>::min())
            rel = err <= std::numeric_limits<float>::denorm_min() ? 0.0 : 1.0;
        else
            rel = err / std::fabs(r);
        if (!(rel <= worst)) {  // also catches NaN
            worst = std::isnan(rel) ? 1.0 : rel;
            *worst_x = xs[i];
        }
    }
    return worst;
}

// A sweep over [lo, hi]: n evenly spaced points plus n random ones, and the end points.
std::vector<float> sweep(float lo, float hi, int n, Rng& rng) {
    std::vector<float> xs;
    for (int i = 0; i <= n; ++i) xs.push_back(lo + (hi - lo) * static_cast<float>(i) / n);
    for (int i = 0; i < n; ++i) xs.push_back(rng.uniform(lo, hi));
    return xs;
}

// Positive floats with random bit patterns: every exponent from denormals to FLT_MAX.
std::vector<float> random_positive_floats(int n, Rng& rng) {
    std::vector<float> xs;
    while (static_cast<int>(xs.size()) < n) {
        const uint32_t bits = rng.next_u32() & 0x7FFFFFFFu;
        float x;
        std::memcpy(&x, &bits, sizeof x);
        if (std::isfinite(x) && x > 0.0f) xs.push_back(x);
    }
    return xs;
}

// f at a handful of special inputs, one call.
std::vector<float> at(void (*f)(float*, const float*, size_t), std::vector<float> xs) {
    std::vector<float> y(xs.size());
    f(y.data(), xs.data(), xs.size());
    return y;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

TEST_SUITE("kernels") {

TEST_CASE("every kernel table names its ISA") {
    CHECK(table(Isa::scalar).isa == Isa::scalar);
    for (const KernelTable* t : simd_paths()) CHECK(std::strcmp(t->name, isa_name(t->isa)) == 0);
}

TEST_CASE("sgemm: every SIMD path agrees with the scalar reference") {
    Rng rng(7);
    struct Size { int M, N, K; };
    // Odd sizes, sizes that cross the mc (192), kc (256) and nc (2048) blocks of the packed path
    // (products of more than 2^23 multiply-adds with N > 64, see use_small_gemm), a model shape.
    const Size sizes[] = {{1, 1, 1}, {7, 13, 5},   {65, 33, 129}, {12, 32, 1}, {13, 33, 17},
                          {200, 40, 300}, {3, 2100, 3}, {256, 512, 256}, {200, 2100, 41},
                          {300, 100, 600}};
    for (const KernelTable* t : simd_paths())
        for (const Size& s : sizes)
            for (int trans = 0; trans < 4; ++trans)
                check_gemm(*t, trans & 1, trans & 2, s.M, s.N, s.K, 1.0f, 0.0f, 0, rng);
}

TEST_CASE("sgemm: alpha, beta and leading dimensions larger than the rows") {
    Rng rng(8);
    for (const KernelTable* t : simd_paths())
        for (int trans = 0; trans < 4; ++trans) {
            check_gemm(*t, trans & 1, trans & 2, 7, 13, 5, 0.5f, 1.0f, 3, rng);
            check_gemm(*t, trans & 1, trans & 2, 65, 33, 129, -2.0f, 0.25f, 5, rng);
            check_gemm(*t, trans & 1, trans & 2, 31, 47, 300, 1.5f, 0.0f, 1, rng);
            check_gemm(*t, trans & 1, trans & 2, 1, 1, 1, 3.0f, -1.0f, 2, rng);
        }
}

// Products with few columns (any K, in chunks of 256) or small products take the unpacked
// small path (use_small_gemm in core/kernels_gemm.h), tiled in R rows x 16 NV (AVX-512) or 8 NV
// (AVX2) columns, AVX2's in blocks of 96 rows. These sizes fall on both sides of every row tile
// (1, 2, 4, 6, 8, 12), column tile (8, 16, ..., 64), row block (96) and K chunk (256), with all
// transposes, alpha and beta, padded leading dimensions, and the attention shapes.
TEST_CASE("sgemm: the small-product path at every tile boundary") {
    Rng rng(9);
    const int Ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 25};
    const int Ns[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 49, 63, 64, 65, 100};
    const int Ks[] = {1, 3, 32, 128, 256};
    for (const KernelTable* t : simd_paths())
        for (int M : Ms)
            for (int N : Ns)
                for (int K : Ks)
                    for (int trans = 0; trans < 4; ++trans) {
                        const bool ab = (M + N + K + trans) % 2 == 0;  // vary alpha/beta/pad cheaply
                        check_gemm(*t, trans & 1, trans & 2, M, N, K, ab ? 1.0f : -0.5f,
                                   ab ? 0.0f : 0.75f, ab ? 0 : 3, rng);
                    }
    struct Size { int M, N, K; };
    const Size model[] = {{50, 50, 32}, {50, 32, 50}, {10, 10, 32}, {10, 32, 10}, {2560, 64, 64},
                          {64, 64, 128}, {300, 20, 100}, {100, 16, 256}, {257, 64, 256},
                          {64, 64, 1000}, {70, 33, 700}, {13, 7, 513},   // K past one chunk
                          {20, 100, 2000}, {7, 130, 2100},   // long sums, N past one column block
                          {97, 64, 64}, {200, 40, 300}};     // past AVX2's blocks of 96 rows
    for (const KernelTable* t : simd_paths())
        for (const Size& z : model)
            for (int trans = 0; trans < 4; ++trans) {
                check_gemm(*t, trans & 1, trans & 2, z.M, z.N, z.K, 1.0f, 0.0f, 0, rng);
                check_gemm(*t, trans & 1, trans & 2, z.M, z.N, z.K, 2.0f, 1.0f, 1, rng);
            }
}

// linear_forward adds the bias inside the GEMM's write-back: on the small path with the first
// K chunk, on the blocked path with the first kc block. These sizes take both paths, cross the
// chunk and block edges and the column tiles, and include a null bias.
TEST_CASE("linear_forward: x W + b agrees with the scalar path on both GEMM paths") {
    Rng rng(17);
    struct Size { int n, in, out; };
    const Size sizes[] = {{1, 1, 1}, {7, 5, 13}, {13, 17, 33}, {6400, 64, 64}, {300, 300, 65},
                          {64, 600, 100}, {257, 64, 256}, {200, 520, 2100}, {12, 3, 32}};
    for (const KernelTable* t : simd_paths())
        for (const Size& z : sizes)
            for (bool with_bias : {true, false}) {
                CAPTURE(t->name); CAPTURE(z.n); CAPTURE(z.in); CAPTURE(z.out); CAPTURE(with_bias);
                std::vector<float> x(static_cast<size_t>(z.n) * z.in), w(static_cast<size_t>(z.in) * z.out), b(z.out);
                for (float& v : x) v = rng.uniform(-1, 1);
                for (float& v : w) v = rng.uniform(-1, 1);
                for (float& v : b) v = rng.uniform(-1, 1);
                // y starts as NaN: the kernel must write every element without reading it.
                std::vector<float> y(static_cast<size_t>(z.n) * z.out, kNaN), r = y;
                const float* bp = with_bias ? b.data() : nullptr;
                t->linear_forward(y.data(), x.data(), w.data(), bp, z.n, z.in, z.out);
                table(Isa::scalar).linear_forward(r.data(), x.data(), w.data(), bp, z.n, z.in, z.out);
                const double tol = 1e-6 * (z.in + 2);
                int bad = 0;
                for (size_t i = 0; i < y.size(); ++i) bad += !(std::fabs(y[i] - r[i]) <= tol);
                CHECK(bad == 0);
            }
}

#if defined(__x86_64__)
// The blocked GEMM's packing (core/kernels_gemm.h) copies blocks of op(A) and op(B) into panels;
// an ISA may replace the plain loops with its own (AVX-512 transposes 16 x 16 blocks in
// registers). Both must give the same floats, bit for bit, for both transposes, blocks of every
// size around the tile (mr, nr) and the 16-wide transpose, and leading dimensions with padding
// (which holds NaN: a copy that reads it puts NaN in the panel). The buffers are one tile longer
// than the panel and start filled with a marker, so a copy that writes past it differs too.
TEST_CASE("GEMM packing: every ISA's pack_a, pack_b and transpose give the reference's floats") {
    Rng rng(21);
    for (const KernelTable* t : simd_paths()) {
        const GemmBlocking& blk = t->isa == Isa::avx512 ? avx512::gemm_blocking() : avx2::gemm_blocking();
        CAPTURE(t->name);
        const int edges[] = {1, 3, 5, 7, 8, 11, 12, 13, 15, 16, 17, 31, 32, 33, 50};
        const int depths[] = {1, 7, 15, 16, 17, 33, 256};
        for (int trans = 0; trans < 2; ++trans)
            for (int n : edges)
                for (int kc : depths)
                    for (int which = 0; which < 2; ++which) {  // 0: pack_a (n = mc), 1: pack_b (n = nc)
                        CAPTURE(trans); CAPTURE(n); CAPTURE(kc); CAPTURE(which);
                        const int tile = which == 0 ? blk.mr : blk.nr;
                        // pack_a reads op(A), n x kc: stored kc x n when transposed. pack_b reads
                        // op(B), kc x n: stored n x kc when transposed.
                        const bool rows_along_n = (which == 0) != (trans == 1);
                        const int rows = rows_along_n ? n : kc, cols = rows_along_n ? kc : n;
                        const int ld = cols + 3;
                        std::vector<float> src(static_cast<size_t>(rows) * ld, kNaN);
                        for (int i = 0; i < rows; ++i)
                            for (int j = 0; j < cols; ++j) src[static_cast<size_t>(i) * ld + j] = rng.uniform(-1, 1);
                        const size_t panel = static_cast<size_t>((n + tile - 1) / tile * tile) * kc;
                        std::vector<float> want(panel + tile * kc, 12345.0f), got = want;
                        if (which == 0) {
                            pack_a_reference(want.data(), src.data(), ld, trans, n, kc, blk.mr);
                            blk.pack_a(got.data(), src.data(), ld, trans, n, kc, blk.mr);
                        } else {
                            pack_b_reference(want.data(), src.data(), ld, trans, kc, n, blk.nr);
                            blk.pack_b(got.data(), src.data(), ld, trans, kc, n, blk.nr);
                        }
                        CHECK(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0);
                    }
        // The small path's copy of B^T: src is rows x cols with padding (NaN), dst cols x rows.
        for (int rows : edges)
            for (int cols : depths) {
                CAPTURE(rows); CAPTURE(cols);
                const int ld = cols + 3;
                std::vector<float> src(static_cast<size_t>(rows) * ld, kNaN);
                for (int i = 0; i < rows; ++i)
                    for (int j = 0; j < cols; ++j) src[static_cast<size_t>(i) * ld + j] = rng.uniform(-1, 1);
                std::vector<float> want(static_cast<size_t>(rows) * cols + 16, 12345.0f), got = want;
                transpose_reference(want.data(), src.data(), ld, rows, cols);
                blk.transpose(got.data(), src.data(), ld, rows, cols);
                CHECK(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0);
            }
    }
}
#endif

TEST_CASE("sgemm: empty sizes, K = 0 and alpha = 0 only scale C") {
    for (const KernelTable* t : simd_paths()) {
        CAPTURE(t->name);
        float A[4] = {1, 2, 3, 4}, B[4] = {1, 2, 3, 4};
        std::vector<float> C = {1, 2, 3, 4};
        t->sgemm(false, false, 0, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C.data(), 2);  // M = 0: nothing
        t->sgemm(false, false, 2, 0, 2, 1.0f, A, 2, B, 2, 0.0f, C.data(), 2);  // N = 0: nothing
        CHECK(C == std::vector<float>{1, 2, 3, 4});
        t->sgemm(false, false, 2, 2, 0, 1.0f, A, 2, B, 2, 2.0f, C.data(), 2);  // K = 0: C = 2C
        CHECK(C == std::vector<float>{2, 4, 6, 8});
        t->sgemm(false, false, 2, 2, 2, 0.0f, A, 2, B, 2, 0.5f, C.data(), 2);  // alpha = 0
        CHECK(C == std::vector<float>{1, 2, 3, 4});
        C = {kNaN, kNaN, kNaN, kNaN};
        t->sgemm(false, false, 2, 2, 0, 1.0f, A, 2, B, 2, 0.0f, C.data(), 2);  // beta = 0 clears NaN
        CHECK(C == std::vector<float>{0, 0, 0, 0});
    }
}

TEST_CASE("elementwise kernels agree with the scalar reference at every tail length") {
    Rng rng(9);
    const KernelTable& s = table(Isa::scalar);
    for (const KernelTable* t : simd_paths()) {
        for (size_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 100, 1001}) {
            CAPTURE(t->name); CAPTURE(n);
            const std::vector<float> a = uniform_vec(n, rng, -3, 3);
            std::vector<float> b = uniform_vec(n, rng, 0.5f, 2);
            std::vector<float> y(n), r(n);
            for (auto op : {&KernelTable::add, &KernelTable::sub, &KernelTable::mul, &KernelTable::div}) {
                (t->*op)(y.data(), a.data(), b.data(), n);
                (s.*op)(r.data(), a.data(), b.data(), n);
                CHECK(y == r);  // one IEEE operation each: bit-identical
            }
            t->add_scalar(y.data(), a.data(), 0.3f, n);
            s.add_scalar(r.data(), a.data(), 0.3f, n);
            CHECK(y == r);
            t->mul_scalar(y.data(), a.data(), -1.7f, n);
            s.mul_scalar(r.data(), a.data(), -1.7f, n);
            CHECK(y == r);
            t->relu(y.data(), a.data(), n);
            s.relu(r.data(), a.data(), n);
            CHECK(y == r);
            t->relu_backward(y.data(), b.data(), a.data(), n);  // b where a > 0, else 0
            s.relu_backward(r.data(), b.data(), a.data(), n);
            CHECK(y == r);
            for (size_t i = 0; i < n; ++i) CHECK(r[i] == (a[i] > 0.0f ? b[i] : 0.0f));
            // axpy uses a fused multiply-add on the SIMD paths: equal up to one rounding.
            y = b;
            r = b;
            t->axpy(y.data(), 0.7f, a.data(), n);
            s.axpy(r.data(), 0.7f, a.data(), n);
            for (size_t i = 0; i < n; ++i) CHECK(y[i] == doctest::Approx(r[i]).epsilon(1e-6));
            // Outputs may alias inputs.
            y = a;
            t->add(y.data(), y.data(), b.data(), n);
            s.add(r.data(), a.data(), b.data(), n);
            CHECK(y == r);
        }
        float nan_in[3] = {kNaN, -1.0f, 2.0f}, out[3];
        t->relu(out, nan_in, 3);
        CHECK(out[0] == 0.0f);  // relu(NaN) = 0, as the scalar path
        const float g[3] = {5.0f, 5.0f, 5.0f};
        t->relu_backward(out, g, nan_in, 3);
        CHECK(out[0] == 0.0f);  // no gradient through NaN, as the scalar path
        CHECK(out[1] == 0.0f);
        CHECK(out[2] == 5.0f);
    }
}

// sum_rows is sum applied to each row in one call: on every path it must give sum's bits exactly
// (sum over a last axis relies on that to give the bits it gave with one sum call per row).
TEST_CASE("sum_rows: each row's sum, the same bits as sum on every path") {
    Rng rng(11);
    for (const KernelTable* t : all_paths())
        for (size_t n : {0, 1, 7, 16, 17, 64, 100})
            for (size_t rows : {0, 1, 5, 33}) {
                CAPTURE(t->name); CAPTURE(n); CAPTURE(rows);
                const std::vector<float> x = uniform_vec(rows * n, rng, -3.0f, 3.0f);
                std::vector<float> got(rows + 1, 12345.0f), want(rows + 1, 12345.0f);
                t->sum_rows(got.data(), x.data(), rows, n);
                for (size_t r = 0; r < rows; ++r) want[r] = t->sum(x.data() + r * n, n);
                CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
            }
}

// The mixture kernels (core's weighted_sum op) against the loops of the composed ops, on each path
// with that path's sum, bit for bit: y_b = 0 + w_b0 x_b0 + w_b1 x_b1 + ..., dw_bi = 0 +
// sum(gy_b * x_bi), dx_bi = gy_b w_bi. Widths h on both sides of the registers (8, 16) and the
// null outputs (only dw, only dx).
TEST_CASE("weighted_sum kernels: each path gives the bits of the composed ops on that path") {
    Rng rng(12);
    for (const KernelTable* t : all_paths())
        for (size_t B : {0, 1, 5})
            for (size_t E : {1, 3, 8})
                for (size_t h : {2, 7, 8, 9, 16, 17, 40}) {
                    CAPTURE(t->name); CAPTURE(B); CAPTURE(E); CAPTURE(h);
                    const std::vector<float> w = uniform_vec(B * E, rng), x = uniform_vec(B * E * h, rng);
                    const std::vector<float> gy = uniform_vec(B * h, rng);
                    std::vector<float> y(B * h + 1, 7.0f), y_want = y;
                    std::vector<float> dw(B * E + 1, 7.0f), dw_want = dw, dx(B * E * h + 1, 7.0f), dx_want = dx;
                    std::vector<float> q(h);
                    for (size_t b = 0; b < B; ++b) {
                        for (size_t j = 0; j < h; ++j) {
                            float acc = 0.0f;
                            for (size_t i = 0; i < E; ++i) {
                                const float product = w[b * E + i] * x[(b * E + i) * h + j];
                                acc += product;
                            }
                            y_want[b * h + j] = acc;
                        }
                        for (size_t i = 0; i < E; ++i) {
                            for (size_t j = 0; j < h; ++j) {
                                q[j] = gy[b * h + j] * x[(b * E + i) * h + j];
                                dx_want[(b * E + i) * h + j] = gy[b * h + j] * w[b * E + i];
                            }
                            dw_want[b * E + i] = 0.0f + t->sum(q.data(), h);
                        }
                    }
                    auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
                        return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
                    };
                    t->weighted_sum(y.data(), w.data(), x.data(), B, E, h);
                    CHECK(same(y, y_want));
                    t->weighted_sum_backward(dw.data(), dx.data(), gy.data(), w.data(), x.data(), B, E, h);
                    CHECK(same(dw, dw_want));
                    CHECK(same(dx, dx_want));
                    std::vector<float> dw2(dw.size(), 7.0f), dx2(dx.size(), 7.0f);
                    t->weighted_sum_backward(dw2.data(), nullptr, gy.data(), w.data(), x.data(), B, E, h);
                    t->weighted_sum_backward(nullptr, dx2.data(), gy.data(), w.data(), x.data(), B, E, h);
                    CHECK(same(dw2, dw_want));
                    CHECK(same(dx2, dx_want));
                }
}

TEST_CASE("reductions: sum, dot and max agree with the scalar reference") {
    Rng rng(10);
    const KernelTable& s = table(Isa::scalar);
    for (const KernelTable* t : simd_paths()) {
        for (size_t n : {1, 5, 16, 17, 63, 64, 65, 1000, 4099}) {
            CAPTURE(t->name); CAPTURE(n);
            const std::vector<float> a = uniform_vec(n, rng), b = uniform_vec(n, rng);
            double abs_sum = 0.0, abs_dot = 0.0;
            for (size_t i = 0; i < n; ++i) {
                abs_sum += std::fabs(a[i]);
                abs_dot += std::fabs(a[i] * b[i]);
            }
            CHECK(std::fabs(t->sum(a.data(), n) - s.sum(a.data(), n)) <= 1e-6 * abs_sum + 1e-7);
            CHECK(std::fabs(t->dot(a.data(), b.data(), n) - s.dot(a.data(), b.data(), n)) <=
                  1e-6 * abs_dot + 1e-7);
            CHECK(t->max(a.data(), n) == s.max(a.data(), n));
        }
        std::vector<float> v = {-kInf, -kInf, -kInf};
        CHECK(t->max(v.data(), 3) == -kInf);
        v = {1, 2, kNaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
        CHECK(std::isnan(t->max(v.data(), v.size())));
        CHECK(std::isnan(t->max(v.data() + 2, 1)));
    }
}

TEST_CASE("exp: relative error and special values") {
    Rng rng(11);
    // Normal results, then the denormal range (held to one denormal step), then tiny |x|.
    std::vector<float> xs = sweep(-87.3f, 88.7f, 200000, rng);
    for (float x : sweep(-104.0f, -87.3f, 20000, rng)) xs.push_back(x);
    for (float x : sweep(-1e-3f, 1e-3f, 20000, rng)) xs.push_back(x);
    for (const KernelTable* t : all_paths()) {
        float worst_x = 0;
        const double err = max_rel_error(t->exp, [](double x) { return std::exp(x); }, xs, &worst_x);
        MESSAGE(std::string(t->name), " exp: max relative error ", err, " at x = ", worst_x);
        CHECK(err <= kMaxRelError);
        const std::vector<float> y = at(t->exp, {0.0f, 89.0f, 1000.0f, kInf, -200.0f, -kInf, kNaN, -103.0f});
        CHECK(y[0] == 1.0f);
        CHECK(y[1] == kInf);  // overflow
        CHECK(y[2] == kInf);
        CHECK(y[3] == kInf);
        CHECK(y[4] == 0.0f);  // underflow
        CHECK(y[5] == 0.0f);
        CHECK(std::isnan(y[6]));
        CHECK(y[7] > 0.0f);  // a denormal, not flushed to zero
        CHECK(y[7] < std::numeric_limits<float>::min());
    }
}

TEST_CASE("log: relative error and special values") {
    Rng rng(12);
    std::vector<float> xs = random_positive_floats(200000, rng);  // denormals to FLT_MAX
    for (float x : sweep(0.5f, 2.0f, 100000, rng)) xs.push_back(x);  // around 1, where ln x -> 0
    for (const KernelTable* t : all_paths()) {
        float worst_x = 0;
        const double err = max_rel_error(t->log, [](double x) { return std::log(x); }, xs, &worst_x);
        MESSAGE(std::string(t->name), " log: max relative error ", err, " at x = ", worst_x);
        CHECK(err <= kMaxRelError);
        const std::vector<float> y = at(t->log, {1.0f, 0.0f, -0.0f, -1.0f, kInf, -kInf, kNaN,
                                                 std::numeric_limits<float>::denorm_min()});
        CHECK(y[0] == 0.0f);
        CHECK(y[1] == -kInf);
        CHECK(y[2] == -kInf);
        CHECK(std::isnan(y[3]));
        CHECK(y[4] == kInf);
        CHECK(std::isnan(y[5]));
        CHECK(std::isnan(y[6]));
        CHECK(y[7] == doctest::Approx(-103.278929903431851103).epsilon(1e-6));
    }
}

TEST_CASE("tanh: relative error, tiny inputs and saturation") {
    Rng rng(13);
    std::vector<float> xs = sweep(-20.0f, 20.0f, 200000, rng);
    for (float x : sweep(-0.01f, 0.01f, 20000, rng)) xs.push_back(x);
    for (float x : {1e-30f, -1e-30f, 1e-40f, 1e-20f, 3e-8f}) xs.push_back(x);
    for (const KernelTable* t : all_paths()) {
        float worst_x = 0;
        const double err = max_rel_error(t->tanh, [](double x) { return std::tanh(x); }, xs, &worst_x);
        MESSAGE(std::string(t->name), " tanh: max relative error ", err, " at x = ", worst_x);
        CHECK(err <= kMaxRelError);
        const std::vector<float> y = at(t->tanh, {0.0f, 9.5f, -9.5f, 100.0f, kInf, -kInf, kNaN, -0.0f});
        CHECK(y[0] == 0.0f);
        CHECK(y[1] == 1.0f);
        CHECK(y[2] == -1.0f);
        CHECK(y[3] == 1.0f);
        CHECK(y[4] == 1.0f);
        CHECK(y[5] == -1.0f);
        CHECK(std::isnan(y[6]));
        CHECK(std::signbit(y[7]));
    }
}

TEST_CASE("sigmoid: relative error, tails and saturation") {
    Rng rng(14);
    // Down to -87: sigmoid x ~ e^x is still a normal float there.
    const std::vector<float> xs = sweep(-87.0f, 40.0f, 200000, rng);
    for (const KernelTable* t : all_paths()) {
        float worst_x = 0;
        const double err = max_rel_error(t->sigmoid, sigmoid_ref, xs, &worst_x);
        MESSAGE(std::string(t->name), " sigmoid: max relative error ", err, " at x = ", worst_x);
        CHECK(err <= kMaxRelError);
        const std::vector<float> y = at(t->sigmoid, {0.0f, 20.0f, kInf, -kInf, kNaN, -95.0f, -200.0f});
        CHECK(y[0] == 0.5f);
        CHECK(y[1] == 1.0f);
        CHECK(y[2] == 1.0f);
        CHECK(y[3] == 0.0f);
        CHECK(std::isnan(y[4]));
        CHECK(y[5] > 0.0f);  // e^-95 is a denormal, still represented
        CHECK(y[6] == 0.0f);
    }
}

TEST_CASE("erf: relative error, odd symmetry and special values") {
    Rng rng(16);
    // Both polynomial pieces (|x| <= 1 and 1 < |x| <= 4), the saturated range, and tiny |x|.
    std::vector<float> xs = sweep(-6.0f, 6.0f, 200000, rng);
    for (float x : sweep(-1e-3f, 1e-3f, 20000, rng)) xs.push_back(x);
    for (float x : {0.999999f, 1.0f, 1.000001f, 3.999999f, 4.0f, 4.000001f, 1e-30f, -1e-40f}) xs.push_back(x);
    for (const KernelTable* t : all_paths()) {
        float worst_x = 0;
        const double err = max_rel_error(t->erf, [](double x) { return std::erf(x); }, xs, &worst_x);
        MESSAGE(std::string(t->name), " erf: max relative error ", err, " at x = ", worst_x);
        CHECK(err <= kMaxRelError);
        const std::vector<float> y = at(t->erf, {0.0f, -0.0f, 10.0f, -10.0f, kInf, -kInf, kNaN, 0.5f, -0.5f});
        CHECK(y[0] == 0.0f);
        CHECK(std::signbit(y[1]));
        CHECK(y[2] == 1.0f);
        CHECK(y[3] == -1.0f);
        CHECK(y[4] == 1.0f);
        CHECK(y[5] == -1.0f);
        CHECK(std::isnan(y[6]));
        CHECK(y[7] == -y[8]);
    }
}

TEST_CASE("transcendentals agree with the scalar path element by element") {
    Rng rng(15);
    const KernelTable& s = table(Isa::scalar);
    const std::vector<float> xs = sweep(-30.0f, 30.0f, 5003, rng);
    const std::vector<float> pos = random_positive_floats(5003, rng);
    std::vector<float> y(xs.size()), r(xs.size());
    for (const KernelTable* t : simd_paths()) {
        CAPTURE(t->name);
        for (auto f : {&KernelTable::exp, &KernelTable::tanh, &KernelTable::sigmoid, &KernelTable::log,
                       &KernelTable::erf}) {
            const std::vector<float>& in = (f == &KernelTable::log) ? pos : xs;
            (t->*f)(y.data(), in.data(), in.size());
            (s.*f)(r.data(), in.data(), in.size());
            int bad = 0;
            for (size_t i = 0; i < in.size(); ++i)
                bad += !(std::fabs(y[i] - r[i]) <= 2 * kMaxRelError * std::fabs(r[i]) + 1e-44);
            CHECK(bad == 0);
        }
    }
}

TEST_CASE("gelu and gelu_backward agree with the scalar path") {
    // Phi(x) = erfc(-x / sqrt 2) / 2 on every path (std::erfc here, a fit in the SIMD paths), good
    // to a few ulps, so y = x Phi(x) may differ by about kMaxRelError |x|, and dx = dy (Phi + x phi)
    // by about kMaxRelError |dy| (1 + |x|): absolute bounds. The relative error in the negative
    // tail is checked on its own below.
    Rng rng(16);
    const KernelTable& s = table(Isa::scalar);
    const std::vector<float> xs = sweep(-30.0f, 30.0f, 5003, rng);
    std::vector<float> dy(xs.size());
    for (float& g : dy) g = rng.uniform(-2.0f, 2.0f);
    std::vector<float> y(xs.size()), r(xs.size()), a(xs.size());
    for (const KernelTable* t : simd_paths()) {
        CAPTURE(t->name);
        t->gelu(y.data(), xs.data(), xs.size());
        s.gelu(r.data(), xs.data(), xs.size());
        int bad = 0;
        for (size_t i = 0; i < xs.size(); ++i)
            bad += !(std::fabs(y[i] - r[i]) <= 2 * kMaxRelError * (std::fabs(xs[i]) + std::fabs(r[i])) + 1e-30);
        CHECK(bad == 0);
        std::vector<float> g(xs.size());  // GELU(x), written on the side
        t->gelu_backward(y.data(), g.data(), xs.data(), dy.data(), xs.size());
        s.gelu_backward(r.data(), nullptr, xs.data(), dy.data(), xs.size());
        s.gelu(a.data(), xs.data(), xs.size());
        int bad_y = 0;
        for (size_t i = 0; i < xs.size(); ++i)
            bad_y += !(std::fabs(g[i] - a[i]) <= 2 * kMaxRelError * (std::fabs(xs[i]) + std::fabs(a[i])) + 1e-30);
        CHECK(bad_y == 0);
        bad = 0;
        for (size_t i = 0; i < xs.size(); ++i)
            bad += !(std::fabs(y[i] - r[i]) <= 2 * kMaxRelError * std::fabs(dy[i]) * (1 + std::fabs(xs[i])) + 1e-30);
        CHECK(bad == 0);
    }
    // The negative tail, relative: Phi(x) is tiny there, and computing it as 1 + erf would lose
    // every digit (GELU(-8) = -8 Phi(-8) = -4.98e-15). What remains is the rounding of -x^2/2 in
    // float before the exp: relative 2^-23 of x^2/2, so about 6e-8 x^2 in e^(-x^2/2).
    for (const KernelTable* t : simd_paths()) {
        CAPTURE(t->name);
        const std::vector<float> tail = sweep(-12.0f, -3.0f, 1001, rng);
        std::vector<float> yt(tail.size()), rt(tail.size());
        t->gelu(yt.data(), tail.data(), tail.size());
        s.gelu(rt.data(), tail.data(), tail.size());
        int bad = 0;
        for (size_t i = 0; i < tail.size(); ++i) {
            const double x2 = static_cast<double>(tail[i]) * tail[i];
            bad += !(std::fabs(yt[i] - rt[i]) <= (2e-6 + 1.2e-7 * x2) * std::fabs(rt[i]));
        }
        CHECK(bad == 0);
    }
    // The values we know: GELU(0) = 0, GELU(x) -> x for large x, -> 0 for very negative x;
    // its slope is 1/2 at 0.
    const float x4[] = {0.0f, 10.0f, -10.0f, 1.0f};
    const float one[] = {1.0f, 1.0f, 1.0f, 1.0f};
    float g4[4], d4[4];
    for (const KernelTable* t : all_paths()) {
        CAPTURE(t->name);
        t->gelu(g4, x4, 4);
        t->gelu_backward(d4, nullptr, x4, one, 4);
        CHECK(g4[0] == 0.0f);
        CHECK(g4[1] == doctest::Approx(10.0f));
        CHECK(std::fabs(g4[2]) < 1e-20f);
        CHECK(g4[3] == doctest::Approx(0.8413447f).epsilon(1e-5));
        CHECK(d4[0] == doctest::Approx(0.5f));
    }
}

// Row widths below, at and past one register (8 or 16), with and without the residual and the
// affine parameters. The SIMD paths sum in float in another order than the double reference.
TEST_CASE("layer_norm_forward and layer_norm_backward agree with the scalar path") {
    Rng rng(18);
    const KernelTable& s = table(Isa::scalar);
    for (const KernelTable* t : simd_paths())
        for (size_t d : {1, 5, 8, 16, 17, 64, 100})
            for (int variant = 0; variant < 4; ++variant) {
                const bool residual = variant & 1, affine = variant & 2;
                CAPTURE(t->name); CAPTURE(d); CAPTURE(residual); CAPTURE(affine);
                const size_t rows = 7, n = rows * d;
                std::vector<float> x(n), r(n), gy(n), gamma(d), beta(d);
                for (float& v : x) v = rng.uniform(-3, 3);
                for (float& v : r) v = rng.uniform(-1, 1);
                for (float& v : gy) v = rng.uniform(-1, 1);
                for (float& v : gamma) v = rng.uniform(0.5f, 1.5f);
                for (float& v : beta) v = rng.uniform(-1, 1);
                const float* rp = residual ? r.data() : nullptr;
                const float* gp = affine ? gamma.data() : nullptr;
                const float* bp = affine ? beta.data() : nullptr;
                std::vector<float> y(n), xh(n), rs(rows), y0(n), xh0(n), rs0(rows);
                t->layer_norm_forward(y.data(), xh.data(), rs.data(), x.data(), rp, gp, bp, rows, d, 1e-5f);
                s.layer_norm_forward(y0.data(), xh0.data(), rs0.data(), x.data(), rp, gp, bp, rows, d, 1e-5f);
                std::vector<float> dx(n), dg(d, 0.5f), db(d, -0.5f), dx0(n), dg0(d, 0.5f), db0(d, -0.5f);
                t->layer_norm_backward(dx.data(), affine ? dg.data() : nullptr, db.data(), gy.data(),
                                       xh0.data(), rs0.data(), gp, rows, d);
                s.layer_norm_backward(dx0.data(), affine ? dg0.data() : nullptr, db0.data(), gy.data(),
                                      xh0.data(), rs0.data(), gp, rows, d);
                int bad = 0;
                for (size_t i = 0; i < n; ++i) {
                    bad += !(std::fabs(y[i] - y0[i]) <= 1e-5f * (1 + std::fabs(y0[i])));
                    bad += !(std::fabs(xh[i] - xh0[i]) <= 1e-5f * (1 + std::fabs(xh0[i])));
                    bad += !(std::fabs(dx[i] - dx0[i]) <= 1e-5f * (1 + std::fabs(dx0[i])));
                }
                for (size_t i = 0; i < rows; ++i) bad += !(std::fabs(rs[i] - rs0[i]) <= 1e-5f * rs0[i]);
                for (size_t j = 0; j < d; ++j) {  // accumulated onto 0.5 and -0.5
                    bad += !(std::fabs(dg[j] - dg0[j]) <= 1e-5f * (1 + std::fabs(dg0[j])));
                    bad += !(std::fabs(db[j] - db0[j]) <= 1e-5f * (1 + std::fabs(db0[j])));
                }
                CHECK(bad == 0);
                // The reference itself: each row of xhat has mean 0 and variance var / (var + eps).
                double mean = 0.0;
                for (size_t j = 0; j < d; ++j) mean += xh0[j];
                CHECK(std::fabs(mean / d) < 1e-5);
            }
}

TEST_CASE("softmax_rows: agrees with the scalar path, rows sum to one, no overflow") {
    Rng rng(16);
    const KernelTable& s = table(Isa::scalar);
    struct Shape { int rows, cols; };
    for (const KernelTable* t : simd_paths()) {
        // 37 x 50: attention's rows, more than one block of 16 rows and a partial last one.
        for (Shape sh : {Shape{1, 1}, Shape{3, 7}, Shape{5, 17}, Shape{2, 100}, Shape{4, 1000}, Shape{37, 50}}) {
            CAPTURE(t->name); CAPTURE(sh.rows); CAPTURE(sh.cols);
            const size_t n = static_cast<size_t>(sh.rows) * sh.cols;
            // Large logits: e^1000 would overflow without the max subtraction.
            std::vector<float> x = uniform_vec(n, rng, -10, 10);
            for (size_t i = 0; i < n; i += 3) x[i] += 1000.0f;
            std::vector<float> y(n), r(n);
            t->softmax_rows(y.data(), x.data(), sh.rows, sh.cols);
            s.softmax_rows(r.data(), x.data(), sh.rows, sh.cols);
            for (size_t i = 0; i < n; ++i) CHECK(y[i] == doctest::Approx(r[i]).epsilon(2e-6));
            for (int row = 0; row < sh.rows; ++row) {
                double z = 0.0;
                for (int j = 0; j < sh.cols; ++j) z += y[static_cast<size_t>(row) * sh.cols + j];
                CHECK(z == doctest::Approx(1.0).epsilon(1e-5));
            }
            // In place: y and x may be the same buffer.
            t->softmax_rows(x.data(), x.data(), sh.rows, sh.cols);
            CHECK(x == y);
        }
    }
}

TEST_CASE("softmax_rows_backward: y (gy - dot(gy, y)) per row, on every path, in place too") {
    Rng rng(17);
    const KernelTable& s = table(Isa::scalar);
    struct Shape { int rows, cols; };
    for (const KernelTable* t : all_paths()) {
        for (Shape sh : {Shape{1, 1}, Shape{3, 7}, Shape{5, 17}, Shape{37, 50}, Shape{2, 1000}}) {
            CAPTURE(t->name); CAPTURE(sh.rows); CAPTURE(sh.cols);
            const size_t n = static_cast<size_t>(sh.rows) * sh.cols;
            std::vector<float> y(n), gy = uniform_vec(n, rng, -1, 1), dx(n), r(n);
            s.softmax_rows(y.data(), uniform_vec(n, rng, -3, 3).data(), sh.rows, sh.cols);
            t->softmax_rows_backward(dx.data(), gy.data(), y.data(), sh.rows, sh.cols);
            s.softmax_rows_backward(r.data(), gy.data(), y.data(), sh.rows, sh.cols);
            size_t bad = 0;
            for (int row = 0; row < sh.rows; ++row) {  // against the formula, in double
                const size_t o = static_cast<size_t>(row) * sh.cols;
                double dot = 0.0;
                for (int j = 0; j < sh.cols; ++j) dot += static_cast<double>(gy[o + j]) * y[o + j];
                for (int j = 0; j < sh.cols; ++j) {
                    const double want = y[o + j] * (gy[o + j] - dot);
                    bad += std::fabs(dx[o + j] - want) > 1e-6 * (1.0 + std::fabs(want)) ? 1 : 0;
                    bad += std::fabs(dx[o + j] - r[o + j]) > 1e-6 * (1.0 + std::fabs(want)) ? 1 : 0;
                }
            }
            CHECK(bad == 0);
            t->softmax_rows_backward(gy.data(), gy.data(), y.data(), sh.rows, sh.cols);  // dx = gy
            CHECK(gy == dx);
        }
    }
}

}  // TEST_SUITE
