// Kernels: plain functions on pointers and sizes, the only place that knows about SIMD.
// Each kernel has a scalar reference implementation (kernels_scalar.cpp) and AVX2+FMA and
// AVX-512 versions (kernels_avx2*.cpp, kernels_avx512*.cpp). One path is chosen at start-up from
// CPUID; MINIREC_SIMD=scalar|avx2|avx512 forces one. Single-threaded on purpose.
// Conventions (as llm.c): outputs first, then inputs, then sizes. Outputs may alias inputs
// for the elementwise kernels. Deliberately left out: threads, other dtypes, ARM.
#pragma once
#include <cstddef>

namespace minirec {
namespace kernels {

enum class Isa { scalar, avx2, avx512 };

// The per-step scalars of one Adam update (nn/optim.cpp forms them in double, rounds once).
struct AdamCoefs {
    float b1, one_minus_b1;   // beta1, 1 - beta1
    float b2, one_minus_b2;   // beta2, 1 - beta2
    float neg_step;           // -lr / (1 - beta1^t)
    float bc2_sqrt;           // sqrt(1 - beta2^t)
    float eps;
};

// One implementation of every kernel. kernels_dispatch.cpp holds one table per ISA.
struct KernelTable {
    Isa isa;
    const char* name;
    // C (MxN) = alpha * op(A) (MxK) * op(B) (KxN) + beta * C, all row-major with leading
    // dimensions lda, ldb, ldc; op(X) = X^T when trans_x. beta == 0 ignores C's old contents.
    void (*sgemm)(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                  int lda, const float* B, int ldb, float beta, float* C, int ldc);
    void (*add)(float* y, const float* a, const float* b, size_t n);   // y = a + b
    void (*sub)(float* y, const float* a, const float* b, size_t n);   // y = a - b
    void (*mul)(float* y, const float* a, const float* b, size_t n);   // y = a * b
    void (*div)(float* y, const float* a, const float* b, size_t n);   // y = a / b
    void (*add_scalar)(float* y, const float* x, float s, size_t n);   // y = x + s
    void (*mul_scalar)(float* y, const float* x, float s, size_t n);   // y = x * s
    void (*axpy)(float* y, float alpha, const float* x, size_t n);     // y += alpha * x
    float (*sum)(const float* x, size_t n);
    // y[r] = sum(x + r n, n) for each of `rows` rows: the same bits as sum, row by row, without a
    // call through the table for every row (sum over a last axis of many short rows).
    void (*sum_rows)(float* y, const float* x, size_t rows, size_t n);
    float (*max)(const float* x, size_t n);                           // n > 0
    float (*dot)(const float* a, const float* b, size_t n);
    void (*exp)(float* y, const float* x, size_t n);
    void (*log)(float* y, const float* x, size_t n);                   // natural log
    void (*tanh)(float* y, const float* x, size_t n);
    void (*sigmoid)(float* y, const float* x, size_t n);
    void (*relu)(float* y, const float* x, size_t n);
    void (*relu_backward)(float* dx, const float* gy, const float* x, size_t n);  // gy where x > 0, else 0
    // Row-wise numerically stable softmax of a (rows x cols) matrix: y_ij = e^(x_ij - m_i) / Z_i.
    void (*softmax_rows)(float* y, const float* x, int rows, int cols);
    // Its backward, row by row: dx_ij = y_ij (gy_ij - sum_k gy_ik y_ik). dx may be gy.
    void (*softmax_rows_backward)(float* dx, const float* gy, const float* y, int rows, int cols);
    // Adam's update of n parameters in place, one pass over p, m, v and g (no weight decay):
    //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p += neg_step m / (sqrt(v) / bc2_sqrt + eps)
    // Every path rounds each operation as the scalar one does (no fused multiply-add), so the
    // paths agree bit for bit.
    void (*adam)(float* p, float* m, float* v, const float* g, size_t n, const AdamCoefs& c);
    // The error function, erf x = 2/sqrt(pi) int_0^x e^(-t^2) dt (GELU's Phi(x) = (1 + erf(x/sqrt 2)) / 2).
    void (*erf)(float* y, const float* x, size_t n);
    // GELU (the erf form of BERT) and its derivative, one pass each:
    //   gelu:          y = x Phi(x),                       Phi(x) = (1 + erf(x / sqrt 2)) / 2
    //   gelu_backward: dx = dy (Phi(x) + x phi(x)),        phi(x) = e^(-x^2 / 2) / sqrt(2 pi)
    //                  and y = x Phi(x) when y is not null (for a fused op that did not keep y:
    //                  Phi, the erf, is computed once for both)
    void (*gelu)(float* y, const float* x, size_t n);
    void (*gelu_backward)(float* dx, float* y, const float* x, const float* dy, size_t n);
    // The forward pass of a Linear layer: y (n x out) = x (n x in) w (in x out) + b, with b
    // (out floats, or null) added to every row as the GEMM writes its tiles, not in a pass of its own.
    void (*linear_forward)(float* y, const float* x, const float* w, const float* b, int n, int in, int out);
    // Layer normalisation over rows of d floats, one pass per row that keeps the row in registers
    // or L1. Forward: s = x (+ r when r is not null), xhat = (s - mean s) rstd with the biased
    // variance and rstd = 1 / sqrt(var + eps), y = xhat gamma + beta (y = xhat when gamma is
    // null); xhat (rows x d) and rstd (rows) are kept for the backward pass. Backward, with
    // g = gy gamma (gy when gamma is null): dx = rstd (g - mean(g) - xhat mean(g xhat)), and when
    // dgamma is not null dgamma += sum over rows of gy xhat, dbeta += sum over rows of gy.
    void (*layer_norm_forward)(float* y, float* xhat, float* rstd, const float* x, const float* r,
                               const float* gamma, const float* beta, size_t rows, size_t d, float eps);
    void (*layer_norm_backward)(float* dx, float* dgamma, float* dbeta, const float* gy,
                                const float* xhat, const float* rstd, const float* gamma, size_t rows,
                                size_t d);
    // A mixture of experts' weighted sum (core's weighted_sum op), w (B x E), x (B x E x h), h > 1:
    //   forward:  y_b = sum_i w_bi x_bi, each product rounded, added to 0 in the order of i
    //   backward: dw_bi = 0 + sum(gy_b * x_bi, h) with this table's sum; dx_bi = gy_b w_bi
    // (dw or dx may be null), with no fused multiply-add: every path gives the bits of the
    // composed ops sum(unsqueeze(w, 2) * x, 1) run on the same path.
    void (*weighted_sum)(float* y, const float* w, const float* x, size_t B, size_t E, size_t h);
    void (*weighted_sum_backward)(float* dw, float* dx, const float* gy, const float* w, const float* x,
                                  size_t B, size_t E, size_t h);
};

// The scalar table always exists; the others exist when compiled in.
const KernelTable& table(Isa isa);
bool isa_supported(Isa isa);          // compiled in and the CPU has it
const KernelTable& active();          // the table every call below goes through
void set_active(Isa isa);             // for tests and benchmarks; throws if unsupported
// Routes every call below through `t` (which must outlive its use) instead: bench_train_step wraps
// the active table's GEMMs to count their FLOPs and time inside a training step.
void set_active_table(const KernelTable& t);
const char* isa_name(Isa isa);        // "scalar", "avx2", "avx512"

// Convenience wrappers that go through active().
inline void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                  const float* B, int ldb, float beta, float* C, int ldc) {
    active().sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void add(float* y, const float* a, const float* b, size_t n) { active().add(y, a, b, n); }
inline void sub(float* y, const float* a, const float* b, size_t n) { active().sub(y, a, b, n); }
inline void mul(float* y, const float* a, const float* b, size_t n) { active().mul(y, a, b, n); }
inline void div(float* y, const float* a, const float* b, size_t n) { active().div(y, a, b, n); }
inline void add_scalar(float* y, const float* x, float s, size_t n) { active().add_scalar(y, x, s, n); }
inline void mul_scalar(float* y, const float* x, float s, size_t n) { active().mul_scalar(y, x, s, n); }
inline void axpy(float* y, float alpha, const float* x, size_t n) { active().axpy(y, alpha, x, n); }
inline float sum(const float* x, size_t n) { return active().sum(x, n); }
inline void sum_rows(float* y, const float* x, size_t rows, size_t n) { active().sum_rows(y, x, rows, n); }
inline float max(const float* x, size_t n) { return active().max(x, n); }
inline float dot(const float* a, const float* b, size_t n) { return active().dot(a, b, n); }
inline void exp(float* y, const float* x, size_t n) { active().exp(y, x, n); }
inline void log(float* y, const float* x, size_t n) { active().log(y, x, n); }
inline void tanh(float* y, const float* x, size_t n) { active().tanh(y, x, n); }
inline void sigmoid(float* y, const float* x, size_t n) { active().sigmoid(y, x, n); }
inline void relu(float* y, const float* x, size_t n) { active().relu(y, x, n); }
inline void relu_backward(float* dx, const float* gy, const float* x, size_t n) { active().relu_backward(dx, gy, x, n); }
inline void softmax_rows(float* y, const float* x, int rows, int cols) {
    active().softmax_rows(y, x, rows, cols);
}
inline void softmax_rows_backward(float* dx, const float* gy, const float* y, int rows, int cols) {
    active().softmax_rows_backward(dx, gy, y, rows, cols);
}
inline void erf(float* y, const float* x, size_t n) { active().erf(y, x, n); }
inline void gelu(float* y, const float* x, size_t n) { active().gelu(y, x, n); }
inline void layer_norm_forward(float* y, float* xhat, float* rstd, const float* x, const float* r,
                               const float* gamma, const float* beta, size_t rows, size_t d, float eps) {
    active().layer_norm_forward(y, xhat, rstd, x, r, gamma, beta, rows, d, eps);
}
inline void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* gy, const float* xhat,
                                const float* rstd, const float* gamma, size_t rows, size_t d) {
    active().layer_norm_backward(dx, dgamma, dbeta, gy, xhat, rstd, gamma, rows, d);
}
inline void linear_forward(float* y, const float* x, const float* w, const float* b, int n, int in, int out) {
    active().linear_forward(y, x, w, b, n, in, out);
}
inline void gelu_backward(float* dx, float* y, const float* x, const float* dy, size_t n) {
    active().gelu_backward(dx, y, x, dy, n);
}
inline void adam(float* p, float* m, float* v, const float* g, size_t n, const AdamCoefs& c) {
    active().adam(p, m, v, g, n, c);
}
inline void weighted_sum(float* y, const float* w, const float* x, size_t B, size_t E, size_t h) {
    active().weighted_sum(y, w, x, B, E, h);
}
inline void weighted_sum_backward(float* dw, float* dx, const float* gy, const float* w, const float* x,
                                  size_t B, size_t E, size_t h) {
    active().weighted_sum_backward(dw, dx, gy, w, x, B, E, h);
}

}  // namespace kernels
}  // namespace minirec
