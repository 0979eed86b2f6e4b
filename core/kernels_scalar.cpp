// The scalar reference kernels: the plainest correct code for every kernel in kernels.h.
// The SIMD paths are tested against these; they are also what runs with MINIREC_SIMD=scalar.
// Deliberately left out: any cleverness. The GEMM here is the textbook triple loop (i, k, j order
// so the inner loop walks rows of B and C contiguously).
#include <cmath>
#include <vector>

#include "core/kernels_isa.h"

namespace minirec {
namespace kernels {
namespace scalar {  // a named namespace, so these don't clash with the wrappers in kernels.h

// Element (i, j) of op(X) where X is row-major with leading dimension ld.
inline float at(const float* X, int ld, bool trans, int i, int j) {
    return trans ? X[static_cast<size_t>(j) * ld + i] : X[static_cast<size_t>(i) * ld + j];
}

void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
    for (int i = 0; i < M; ++i) {
        float* c = C + static_cast<size_t>(i) * ldc;
        // beta == 0 means "ignore C", even if it holds NaN (as BLAS does).
        for (int j = 0; j < N; ++j) c[j] = (beta == 0.0f) ? 0.0f : beta * c[j];
        for (int k = 0; k < K; ++k) {
            const float a = alpha * at(A, lda, ta, i, k);
            for (int j = 0; j < N; ++j) c[j] += a * at(B, ldb, tb, k, j);
        }
    }
}

// Layer normalisation, the reference: means accumulate in double (as sum and dot do here).
void layer_norm_forward(float* y, float* xhat, float* rstd, const float* x, const float* r,
                        const float* gamma, const float* beta, size_t rows, size_t d, float eps) {
    for (size_t i = 0; i < rows; ++i, x += d, y += d, xhat += d) {
        double total = 0.0;
        for (size_t j = 0; j < d; ++j) {
            xhat[j] = r ? x[j] + r[i * d + j] : x[j];  // xhat holds s = x + r until we centre it
            total += xhat[j];
        }
        const float mu = static_cast<float>(total / static_cast<double>(d));
        double sq = 0.0;
        for (size_t j = 0; j < d; ++j) {
            xhat[j] -= mu;  // centred first: the variance from a second pass is stable
            sq += static_cast<double>(xhat[j]) * xhat[j];
        }
        rstd[i] = 1.0f / std::sqrt(static_cast<float>(sq / static_cast<double>(d)) + eps);
        for (size_t j = 0; j < d; ++j) {
            xhat[j] *= rstd[i];
            y[j] = gamma ? xhat[j] * gamma[j] + beta[j] : xhat[j];
        }
    }
}

void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* gy, const float* xhat,
                         const float* rstd, const float* gamma, size_t rows, size_t d) {
    for (size_t i = 0; i < rows; ++i, dx += d, gy += d, xhat += d) {
        double sum_g = 0.0, sum_gx = 0.0;
        for (size_t j = 0; j < d; ++j) {
            const float g = gamma ? gy[j] * gamma[j] : gy[j];
            sum_g += g;
            sum_gx += static_cast<double>(g) * xhat[j];
        }
        const float mean_g = static_cast<float>(sum_g / static_cast<double>(d));
        const float mean_gx = static_cast<float>(sum_gx / static_cast<double>(d));
        for (size_t j = 0; j < d; ++j) {
            const float g = gamma ? gy[j] * gamma[j] : gy[j];
            dx[j] = rstd[i] * (g - mean_g - xhat[j] * mean_gx);
            if (dgamma) {
                dgamma[j] += gy[j] * xhat[j];
                dbeta[j] += gy[j];
            }
        }
    }
}

// The product first, then the bias, as the SIMD paths round.
void linear_forward(float* y, const float* x, const float* w, const float* b, int n, int in, int out) {
    sgemm(false, false, n, out, in, 1.0f, x, in, w, out, 0.0f, y, out);
    if (b)
        for (int r = 0; r < n; ++r)
            for (int j = 0; j < out; ++j) y[static_cast<size_t>(r) * out + j] += b[j];
}

void add(float* y, const float* a, const float* b, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i]; }
void sub(float* y, const float* a, const float* b, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = a[i] - b[i]; }
void mul(float* y, const float* a, const float* b, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = a[i] * b[i]; }
void div(float* y, const float* a, const float* b, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = a[i] / b[i]; }
void add_scalar(float* y, const float* x, float s, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = x[i] + s; }
void mul_scalar(float* y, const float* x, float s, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = x[i] * s; }
void axpy(float* y, float alpha, const float* x, size_t n) { for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i]; }

float sum(const float* x, size_t n) {
    // We accumulate in double so the reference is more accurate than any SIMD path.
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += x[i];
    return static_cast<float>(s);
}

// One call for many rows; sum inlines here, so each row is summed exactly as sum sums it.
void sum_rows(float* y, const float* x, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; ++r) y[r] = sum(x + r * n, n);
}

float max(const float* x, size_t n) {
    float m = x[0];
    for (size_t i = 1; i < n; ++i) m = (x[i] > m || std::isnan(x[i])) ? x[i] : m;
    return m;
}

float dot(const float* a, const float* b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
    return static_cast<float>(s);
}

void exp(float* y, const float* x, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]); }
void log(float* y, const float* x, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = std::log(x[i]); }
void erf(float* y, const float* x, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = std::erf(x[i]); }
void tanh(float* y, const float* x, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]); }

// GELU, in the order the SIMD paths round: t = x / sqrt 2, Phi = 0.5 (1 + erf t), y = x Phi.
constexpr float kInvSqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
void gelu(float* y, const float* x, size_t n) {
    // Phi(x) = erfc(-x / sqrt 2) / 2: unlike (1 + erf) / 2, no cancellation for negative x.
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * (0.5f * std::erfc(-x[i] * kInvSqrt2));
}
void gelu_backward(float* dx, float* y, const float* x, const float* dy, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const float xi = x[i];  // dx may alias x or dy
        const float cdf = 0.5f * std::erfc(-xi * kInvSqrt2);
        const float pdf = std::exp(-0.5f * (xi * xi));
        if (y) y[i] = xi * cdf;
        dx[i] = dy[i] * (cdf + xi * kInvSqrt2Pi * pdf);
    }
}

void sigmoid(float* y, const float* x, size_t n) {
    // Two branches so that e^(-x) never overflows: for x < 0 we use e^x / (1 + e^x).
    for (size_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + std::exp(-v));
        } else {
            const float e = std::exp(v);
            y[i] = e / (1.0f + e);
        }
    }
}

void relu(float* y, const float* x, size_t n) { for (size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
void relu_backward(float* dx, const float* gy, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? gy[i] : 0.0f;
}

void softmax_rows(float* y, const float* x, int rows, int cols) {
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + static_cast<size_t>(r) * cols;
        float* yr = y + static_cast<size_t>(r) * cols;
        const float m = max(xr, cols);  // subtract the row maximum: e^(x - m) <= 1, no overflow
        double z = 0.0;
        for (int j = 0; j < cols; ++j) {
            yr[j] = std::exp(xr[j] - m);
            z += yr[j];
        }
        const float inv = static_cast<float>(1.0 / z);
        for (int j = 0; j < cols; ++j) yr[j] *= inv;
    }
}

void softmax_rows_backward(float* dx, const float* gy, const float* y, int rows, int cols) {
    const size_t n = static_cast<size_t>(cols);
    for (int r = 0; r < rows; ++r, dx += n, gy += n, y += n) {
        const float s = dot(gy, y, n);  // sum_k gy_k y_k
        for (size_t j = 0; j < n; ++j) dx[j] = y[j] * (gy[j] - s);
    }
}

void adam(float* p, float* m, float* v, const float* g, size_t n, const AdamCoefs& c) {
    for (size_t k = 0; k < n; ++k) {
        m[k] = m[k] * c.b1 + c.one_minus_b1 * g[k];                  // m = b1 m + (1 - b1) g
        v[k] = v[k] * c.b2 + c.one_minus_b2 * (g[k] * g[k]);         // v = b2 v + (1 - b2) g^2
        const float denom = std::sqrt(v[k]) / c.bc2_sqrt + c.eps;     // sqrt(v_hat) + eps
        p[k] = p[k] + c.neg_step * m[k] / denom;                      // p -= lr m_hat / denom
    }
}

// weighted_sum: the loops of the composed ops. Plain float arithmetic; baseline x86-64 has no FMA
// instruction to contract into, and other targets are told not to.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
void weighted_sum(float* y, const float* w, const float* x, size_t B, size_t E, size_t h) {
    for (size_t b = 0; b < B; ++b) {
        float* yb = y + b * h;
        for (size_t j = 0; j < h; ++j) yb[j] = 0.0f;
        for (size_t i = 0; i < E; ++i) {
            const float wi = w[b * E + i];
            const float* xr = x + (b * E + i) * h;
            for (size_t j = 0; j < h; ++j) {
                const float product = wi * xr[j];
                yb[j] += product;
            }
        }
    }
}

void weighted_sum_backward(float* dw, float* dx, const float* gy, const float* w, const float* x,
                           size_t B, size_t E, size_t h) {
    std::vector<float> q(h);
    for (size_t b = 0; b < B; ++b)
        for (size_t i = 0; i < E; ++i) {
            const float* xr = x + (b * E + i) * h;
            if (dw) {
                for (size_t j = 0; j < h; ++j) q[j] = gy[b * h + j] * xr[j];
                dw[b * E + i] = 0.0f + sum(q.data(), h);
            }
            if (dx)
                for (size_t j = 0; j < h; ++j) dx[(b * E + i) * h + j] = gy[b * h + j] * w[b * E + i];
        }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace scalar

const KernelTable& scalar_table() {
    static const KernelTable t{Isa::scalar, "scalar", scalar::sgemm, scalar::add, scalar::sub,
                               scalar::mul, scalar::div, scalar::add_scalar, scalar::mul_scalar,
                               scalar::axpy, scalar::sum, scalar::sum_rows, scalar::max, scalar::dot, scalar::exp,
                               scalar::log, scalar::tanh, scalar::sigmoid, scalar::relu, scalar::relu_backward,
                               scalar::softmax_rows, scalar::softmax_rows_backward, scalar::adam, scalar::erf,
                               scalar::gelu, scalar::gelu_backward, scalar::linear_forward,
                               scalar::layer_norm_forward, scalar::layer_norm_backward,
                               scalar::weighted_sum, scalar::weighted_sum_backward};
    return t;
}

}  // namespace kernels
}  // namespace minirec
