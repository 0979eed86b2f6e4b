// The AVX-512 kernel table: 16 floats per register, masked tails; the GEMM is in
// kernels_avx512_gemm.cpp. Every function carries a target attribute, so this file builds with
// plain -O2 and only runs when dispatch has seen AVX-512 in CPUID. Deliberately left out:
// AVX-512 FP16/BF16, threads.
#include "core/kernels_avx512.h"
#include "core/kernels_isa.h"

#if defined(__x86_64__)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace minirec {
namespace kernels {
namespace avx512 {  // named: see kernels_avx512.h
namespace {

// ---------------------------------------------------------------------------------------------
// Elementwise kernels. One template walks the array in registers of 16 and finishes with one
// masked register, so an operation is written once as a small function object.

template <class Op>
TARGET_AVX512 void map_unary(float* y, const float* x, size_t n, Op op) {
    size_t i = 0;
    for (; i + W <= n; i += W) _mm512_storeu_ps(y + i, op(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, op(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

template <class Op>
TARGET_AVX512 void map_binary(float* y, const float* a, const float* b, size_t n, Op op) {
    size_t i = 0;
    for (; i + W <= n; i += W)
        _mm512_storeu_ps(y + i, op(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m,
                              op(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

struct Add { TARGET_AVX512 __m512 operator()(__m512 a, __m512 b) const { return _mm512_add_ps(a, b); } };
struct Sub { TARGET_AVX512 __m512 operator()(__m512 a, __m512 b) const { return _mm512_sub_ps(a, b); } };
struct Mul { TARGET_AVX512 __m512 operator()(__m512 a, __m512 b) const { return _mm512_mul_ps(a, b); } };
struct Div { TARGET_AVX512 __m512 operator()(__m512 a, __m512 b) const { return _mm512_div_ps(a, b); } };
struct AddS { __m512 s; TARGET_AVX512 __m512 operator()(__m512 x) const { return _mm512_add_ps(x, s); } };
struct MulS { __m512 s; TARGET_AVX512 __m512 operator()(__m512 x) const { return _mm512_mul_ps(x, s); } };
// y + alpha * x, with (y, x) as the two inputs and y as the output.
struct Axpy { __m512 alpha; TARGET_AVX512 __m512 operator()(__m512 y, __m512 x) const { return _mm512_fmadd_ps(alpha, x, y); } };
// max(x, 0) returns its second operand when x is NaN: relu(NaN) = 0, as in the scalar path.
struct Relu { TARGET_AVX512 __m512 operator()(__m512 x) const { return _mm512_max_ps(x, _mm512_setzero_ps()); } };

TARGET_AVX512 void add(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Add{}); }
TARGET_AVX512 void sub(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Sub{}); }
TARGET_AVX512 void mul(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Mul{}); }
TARGET_AVX512 void div(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Div{}); }
TARGET_AVX512 void add_scalar(float* y, const float* x, float s, size_t n) { map_unary(y, x, n, AddS{_mm512_set1_ps(s)}); }
TARGET_AVX512 void mul_scalar(float* y, const float* x, float s, size_t n) { map_unary(y, x, n, MulS{_mm512_set1_ps(s)}); }
TARGET_AVX512 void axpy(float* y, float alpha, const float* x, size_t n) { map_binary(y, y, x, n, Axpy{_mm512_set1_ps(alpha)}); }
TARGET_AVX512 void relu(float* y, const float* x, size_t n) { map_unary(y, x, n, Relu{}); }
// ReLU's derivative applied to gy: gy where x > 0, else 0 (and 0 where x is NaN, as the scalar path).
struct ReluGrad {
    TARGET_AVX512 __m512 operator()(__m512 g, __m512 x) const {
        return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), g);
    }
};
TARGET_AVX512 void relu_backward(float* dx, const float* gy, const float* x, size_t n) { map_binary(dx, gy, x, n, ReluGrad{}); }

// ---------------------------------------------------------------------------------------------
// Reductions. Four independent accumulators hide the 4-cycle latency of the adds; the result
// therefore sums in a different order than the scalar loop and may differ in the last bits.

TARGET_AVX512 inline float sum(const float* x, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + W));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(x + i + 2 * W));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(x + i + 3 * W));
    }
    for (; i + W <= n; i += W) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
    if (i < n) s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// One call for many rows; sum inlines here, so each row is summed exactly as sum sums it.
TARGET_AVX512 void sum_rows(float* y, const float* x, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; ++r) y[r] = sum(x + r * n, n);
}

TARGET_AVX512 float dot(const float* a, const float* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + W), _mm512_loadu_ps(b + i + W), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 2 * W), _mm512_loadu_ps(b + i + 2 * W), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 3 * W), _mm512_loadu_ps(b + i + 3 * W), s3);
    }
    for (; i + W <= n; i += W) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// The maximum; any NaN in x makes the result NaN (as the scalar path). vmaxps alone would drop
// NaNs, so we record them separately with an "unordered" compare.
TARGET_AVX512 float max(const float* x, size_t n) {
    const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
    __m512 m = neg_inf;
    __mmask16 nan = 0;
    size_t i = 0;
    for (; i + W <= n; i += W) {
        const __m512 v = _mm512_loadu_ps(x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m = _mm512_max_ps(m, v);
    }
    if (i < n) {
        const __m512 v = _mm512_mask_loadu_ps(neg_inf, tail_mask(n - i), x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m = _mm512_max_ps(m, v);
    }
    return nan ? NAN : _mm512_reduce_max_ps(m);
}

// ---------------------------------------------------------------------------------------------
// Transcendentals. The same recipes as kernels_avx2.cpp (which explains them at more length);
// AVX-512 adds two instructions that make them shorter: scalef (v * 2^n, with correct overflow
// and denormal results) and getexp/getmant (x = m * 2^e, denormal inputs included).

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;     // ln 2 to 15 bits, so n * kLn2Hi is exact
constexpr float kLn2Lo = 1.42860682030941723e-6f; // ln 2 - kLn2Hi

// e^r - 1 for |r| <= ln(2)/2 by its Taylor series to r^7 (the next term is below 2^-27 r).
TARGET_AVX512 inline __m512 expm1_reduced(__m512 r) {
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_mul_ps(p, r);
}

// x = n ln2 + r with n an integer and |r| <= ln(2)/2 (Cody-Waite: ln 2 in two pieces).
TARGET_AVX512 inline __m512 reduce_ln2(__m512 x, __m512* n) {
    *n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(kLn2Hi), x);
    return _mm512_fnmadd_ps(*n, _mm512_set1_ps(kLn2Lo), r);
}

// e^x = 2^n e^r. We clamp x to [-104, 89] first (min/max with x as the second operand keep NaN);
// beyond that range the answer is 0 or inf anyway, and scalef produces both, and denormals.
TARGET_AVX512 inline __m512 exp16(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x));
    __m512 n;
    const __m512 r = reduce_ln2(x, &n);
    const __m512 er = _mm512_add_ps(expm1_reduced(r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(er, n);
}

// ln x = e ln2 + ln m with x = m 2^e, m in [0.75, 1.5). With f = m - 1 and s = f / (2 + f):
// ln m = ln((1 + s) / (1 - s)) = 2 (s + s^3/3 + s^5/5 + ...), and |s| <= 0.2 so s^11 suffices.
TARGET_AVX512 inline __m512 log16(__m512 x) {
    const __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_zero);
    // getexp gives floor(log2 x); when getmant halved the mantissa (m < 1) we add one back.
    const __m512 e = _mm512_sub_ps(_mm512_getexp_ps(x), _mm512_getexp_ps(m));
    const __m512 f = _mm512_sub_ps(m, _mm512_set1_ps(1.0f));
    const __m512 s = _mm512_div_ps(f, _mm512_add_ps(f, _mm512_set1_ps(2.0f)));
    const __m512 s2 = _mm512_mul_ps(s, s);
    __m512 t = _mm512_set1_ps(1.0f / 11);
    t = _mm512_fmadd_ps(t, s2, _mm512_set1_ps(1.0f / 9));
    t = _mm512_fmadd_ps(t, s2, _mm512_set1_ps(1.0f / 7));
    t = _mm512_fmadd_ps(t, s2, _mm512_set1_ps(1.0f / 5));
    t = _mm512_fmadd_ps(t, s2, _mm512_set1_ps(1.0f / 3));
    t = _mm512_mul_ps(t, s2);
    const __m512 two_s = _mm512_add_ps(s, s);
    const __m512 ln_m = _mm512_fmadd_ps(two_s, t, two_s);
    __m512 y = _mm512_fmadd_ps(e, _mm512_set1_ps(kLn2Hi), _mm512_fmadd_ps(e, _mm512_set1_ps(kLn2Lo), ln_m));
    // The special inputs: ln 0 = -inf, ln inf = inf, ln(negative or NaN) = NaN.
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ), y,
                             _mm512_set1_ps(-INFINITY));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ), y, x);
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ), y,
                             _mm512_set1_ps(NAN));
    return y;
}

// tanh |x| = -u / (2 + u) with u = e^(-2|x|) - 1, then the sign of x. Computing u as expm1
// (2^n (e^r - 1) + (2^n - 1)) keeps full relative accuracy for tiny x, where tanh x ~ x, and
// u -> -1 gives exactly 1 for large |x|. We clamp |x| <= 20: tanh is 1 in float from 9.1 on.
TARGET_AVX512 inline __m512 tanh16(__m512 x) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    const __m512 ax = _mm512_min_ps(_mm512_set1_ps(20.0f), _mm512_andnot_ps(sign, x));
    __m512 n;
    const __m512 r = reduce_ln2(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)), &n);
    const __m512 p2n = _mm512_scalef_ps(_mm512_set1_ps(1.0f), n);  // exact: n in [-58, 0]
    const __m512 u = _mm512_fmadd_ps(p2n, expm1_reduced(r), _mm512_sub_ps(p2n, _mm512_set1_ps(1.0f)));
    const __m512 t = _mm512_div_ps(_mm512_sub_ps(_mm512_setzero_ps(), u),
                                   _mm512_add_ps(u, _mm512_set1_ps(2.0f)));
    return _mm512_or_ps(_mm512_andnot_ps(sign, t), _mm512_and_ps(sign, x));  // copysign(t, x)
}

// sigmoid x = 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0, with z = e^(-|x|) <= 1: never
// overflows, and keeps relative accuracy (denormals included) far into the negative tail.
TARGET_AVX512 inline __m512 sigmoid16(__m512 x) {
    const __m512 z = exp16(_mm512_or_ps(x, _mm512_set1_ps(-0.0f)));  // e^(-|x|)
    const __m512 s = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(z, _mm512_set1_ps(1.0f)));
    const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(s, neg, s, z);
}

// erf x, with the two polynomials of kernels_isa.h (kErfP, kErfQ) evaluated by Horner's rule
// for every lane, then blended by |x| <= 1. NaN stays NaN: min(4, NaN) returns the NaN.
TARGET_AVX512 inline __m512 erf16(__m512 x) {
    const __m512 sign_bit = _mm512_set1_ps(-0.0f);
    const __m512 a = _mm512_andnot_ps(sign_bit, x);  // |x|
    __m512 p = _mm512_set1_ps(kErfP[5]);
    const __m512 t = _mm512_mul_ps(a, a);
    for (int i = 4; i >= 0; --i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfP[i]));
    const __m512 small = _mm512_mul_ps(a, p);        // a P(a^2)
    const __m512 b = _mm512_min_ps(_mm512_set1_ps(4.0f), a);
    const __m512 u = _mm512_div_ps(_mm512_set1_ps(1.0f), b);
    __m512 q = _mm512_set1_ps(kErfQ[9]);
    for (int i = 8; i >= 0; --i) q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(kErfQ[i]));
    const __m512 e = exp16(_mm512_mul_ps(_mm512_xor_ps(b, sign_bit), b));  // e^(-b^2)
    const __m512 large = _mm512_fnmadd_ps(e, q, _mm512_set1_ps(1.0f));      // 1 - e Q(1/b)
    const __mmask16 is_small = _mm512_cmp_ps_mask(a, _mm512_set1_ps(1.0f), _CMP_LE_OQ);
    return _mm512_or_ps(_mm512_mask_blend_ps(is_small, large, small), _mm512_and_ps(x, sign_bit));
}

struct Exp { TARGET_AVX512 __m512 operator()(__m512 x) const { return exp16(x); } };
struct Erf { TARGET_AVX512 __m512 operator()(__m512 x) const { return erf16(x); } };
struct Log { TARGET_AVX512 __m512 operator()(__m512 x) const { return log16(x); } };
struct Tanh { TARGET_AVX512 __m512 operator()(__m512 x) const { return tanh16(x); } };
struct Sigmoid { TARGET_AVX512 __m512 operator()(__m512 x) const { return sigmoid16(x); } };

TARGET_AVX512 void exp(float* y, const float* x, size_t n) { map_unary(y, x, n, Exp{}); }
TARGET_AVX512 void erf(float* y, const float* x, size_t n) { map_unary(y, x, n, Erf{}); }
TARGET_AVX512 void log(float* y, const float* x, size_t n) { map_unary(y, x, n, Log{}); }
TARGET_AVX512 void tanh(float* y, const float* x, size_t n) { map_unary(y, x, n, Tanh{}); }
TARGET_AVX512 void sigmoid(float* y, const float* x, size_t n) { map_unary(y, x, n, Sigmoid{}); }

// GELU forward and backward, one pass each. Phi(x) from erfc (kPhiR in kernels_isa.h), given
// e = e^(-x^2/2). z is capped at 10, where e is already 0 in float; NaN stays NaN. The one
// division, t = 1 / den, is rcp14 (14 bits) and a Newton step t (2 - den t) (about 23 bits): a
// 512-bit divide is the slowest instruction of the loop (book ch. 3 has the timings).
TARGET_AVX512 inline __m512 gelu_cdf16(__m512 x, __m512 e) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 z = _mm512_min_ps(_mm512_set1_ps(10.0f), _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f)));
    const __m512 den = _mm512_fmadd_ps(z, _mm512_set1_ps(kPhiP), one);
    __m512 t = _mm512_rcp14_ps(den);
    t = _mm512_mul_ps(t, _mm512_fnmadd_ps(den, t, _mm512_set1_ps(2.0f)));
    __m512 r = _mm512_set1_ps(kPhiR[9]);
    for (int i = 8; i >= 0; --i) r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(kPhiR[i]));
    const __m512 half_erfc = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), t), _mm512_mul_ps(e, r));
    const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(neg, _mm512_sub_ps(one, half_erfc), half_erfc);
}
TARGET_AVX512 inline __m512 half_x2_exp16(__m512 x) {  // e^(-x^2/2)
    return exp16(_mm512_mul_ps(_mm512_set1_ps(-0.5f), _mm512_mul_ps(x, x)));
}
struct Gelu {
    TARGET_AVX512 __m512 operator()(__m512 x) const { return _mm512_mul_ps(x, gelu_cdf16(x, half_x2_exp16(x))); }
};
TARGET_AVX512 void gelu(float* y, const float* x, size_t n) { map_unary(y, x, n, Gelu{}); }

// dx = dy (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi); and y = x Phi(x) if y is wanted.
TARGET_AVX512 void gelu_backward(float* dx, float* y, const float* x, const float* dy, size_t n) {
    for (size_t i = 0; i < n; i += W) {
        const __mmask16 m = n - i >= W ? __mmask16(0xFFFF) : tail_mask(n - i);
        const __m512 xv = _mm512_maskz_loadu_ps(m, x + i), pdf = half_x2_exp16(xv), cdf = gelu_cdf16(xv, pdf);
        const __m512 xs = _mm512_mul_ps(xv, _mm512_set1_ps(0.39894228040143268f));
        if (y) _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(xv, cdf));
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dy + i), _mm512_add_ps(cdf, _mm512_mul_ps(xs, pdf))));
    }
}

// Layer normalisation (see kernels.h), a row at a time: three short passes over a row that stays
// in L1, with masked loads for a last partial register (masked-off lanes load as 0, so they add
// nothing to the sums). Sums run in float, in a different order than the scalar reference.
TARGET_AVX512 void layer_norm_forward(float* y, float* xhat, float* rstd, const float* x, const float* r,
                                 const float* gamma, const float* beta, size_t rows, size_t d, float eps) {
    const float inv_d = 1.0f / static_cast<float>(d);
    for (size_t i = 0; i < rows; ++i, x += d, y += d, xhat += d) {
        const float* ri = r ? r + i * d : nullptr;
        __m512 acc = _mm512_setzero_ps();
        for (size_t j = 0; j < d; j += W) {  // s = x + r, kept in xhat; its sum
            const __mmask16 m = d - j >= W ? __mmask16(0xFFFF) : tail_mask(d - j);
            __m512 s = _mm512_maskz_loadu_ps(m, x + j);
            if (ri) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, ri + j));
            _mm512_mask_storeu_ps(xhat + j, m, s);
            acc = _mm512_add_ps(acc, s);
        }
        const __m512 mu = _mm512_set1_ps(_mm512_reduce_add_ps(acc) * inv_d);
        acc = _mm512_setzero_ps();
        for (size_t j = 0; j < d; j += W) {  // centred first: the variance from a second pass is stable
            const __mmask16 m = d - j >= W ? __mmask16(0xFFFF) : tail_mask(d - j);
            const __m512 c = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xhat + j), mu);  // 0 past d
            _mm512_mask_storeu_ps(xhat + j, m, c);
            acc = _mm512_fmadd_ps(c, c, acc);
        }
        rstd[i] = 1.0f / std::sqrt(_mm512_reduce_add_ps(acc) * inv_d + eps);
        const __m512 rs = _mm512_set1_ps(rstd[i]);
        for (size_t j = 0; j < d; j += W) {
            const __mmask16 m = d - j >= W ? __mmask16(0xFFFF) : tail_mask(d - j);
            const __m512 xh = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xhat + j), rs);
            _mm512_mask_storeu_ps(xhat + j, m, xh);
            const __m512 out = gamma ? _mm512_fmadd_ps(xh, _mm512_maskz_loadu_ps(m, gamma + j), _mm512_maskz_loadu_ps(m, beta + j)) : xh;
            _mm512_mask_storeu_ps(y + j, m, out);
        }
    }
}

TARGET_AVX512 void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* gy, const float* xhat,
                                  const float* rstd, const float* gamma, size_t rows, size_t d) {
    const float inv_d = 1.0f / static_cast<float>(d);
    for (size_t i = 0; i < rows; ++i, dx += d, gy += d, xhat += d) {
        __m512 acc_g = _mm512_setzero_ps(), acc_gx = _mm512_setzero_ps();
        for (size_t j = 0; j < d; j += W) {  // mean(g) and mean(g xhat), g = gy gamma
            const __mmask16 m = d - j >= W ? __mmask16(0xFFFF) : tail_mask(d - j);
            __m512 g = _mm512_maskz_loadu_ps(m, gy + j);
            if (gamma) g = _mm512_mul_ps(g, _mm512_maskz_loadu_ps(m, gamma + j));
            acc_g = _mm512_add_ps(acc_g, g);
            acc_gx = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, xhat + j), acc_gx);
        }
        const __m512 mean_g = _mm512_set1_ps(_mm512_reduce_add_ps(acc_g) * inv_d);
        const __m512 mean_gx = _mm512_set1_ps(_mm512_reduce_add_ps(acc_gx) * inv_d);
        const __m512 rs = _mm512_set1_ps(rstd[i]);
        for (size_t j = 0; j < d; j += W) {
            const __mmask16 m = d - j >= W ? __mmask16(0xFFFF) : tail_mask(d - j);
            const __m512 gyj = _mm512_maskz_loadu_ps(m, gy + j), xh = _mm512_maskz_loadu_ps(m, xhat + j);
            const __m512 g = gamma ? _mm512_mul_ps(gyj, _mm512_maskz_loadu_ps(m, gamma + j)) : gyj;
            const __m512 dxj = _mm512_mul_ps(rs, _mm512_sub_ps(_mm512_sub_ps(g, mean_g), _mm512_mul_ps(xh, mean_gx)));
            _mm512_mask_storeu_ps(dx + j, m, dxj);
            if (dgamma) {
                _mm512_mask_storeu_ps(dgamma + j, m, _mm512_fmadd_ps(gyj, xh, _mm512_maskz_loadu_ps(m, dgamma + j)));
                _mm512_mask_storeu_ps(dbeta + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dbeta + j), gyj));
            }
        }
    }
}

// Row-wise softmax: m = max of the row, y = e^(x - m) (all <= 1, no overflow), then y /= sum y.
// Attention's rows are short (50 keys): one row is a chain of dependent steps (max, reduce, exp,
// sum, reduce, divide) with little work in each. So we take 16 rows at a time and do each step
// for all of them before the next, which gives the CPU 16 independent chains to overlap.
TARGET_AVX512 void softmax_rows(float* y, const float* x, int rows, int cols) {
    const size_t n = static_cast<size_t>(cols);
    for (int r0 = 0; r0 < rows; r0 += 16) {
        const int nr = std::min(16, rows - r0);
        const float* xs = x + static_cast<size_t>(r0) * n;
        float* ys = y + static_cast<size_t>(r0) * n;
        float m[16], inv_z[16];
        for (int r = 0; r < nr; ++r) m[r] = max(xs + r * n, n);
        for (int r = 0; r < nr; ++r) {
            const float* xr = xs + r * n;
            float* yr = ys + r * n;
            const __m512 vm = _mm512_set1_ps(m[r]);
            __m512 z = _mm512_setzero_ps();
            size_t i = 0;
            for (; i + W <= n; i += W) {
                const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(xr + i), vm));
                _mm512_storeu_ps(yr + i, e);
                z = _mm512_add_ps(z, e);
            }
            if (i < n) {
                const __mmask16 k = tail_mask(n - i);
                const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + i), vm));
                _mm512_mask_storeu_ps(yr + i, k, e);
                z = _mm512_mask_add_ps(z, k, z, e);
            }
            inv_z[r] = 1.0f / _mm512_reduce_add_ps(z);
        }
        // y *= 1/Z, written out rather than one mul_scalar call per row: MMoE's gates are rows of 8.
        for (int r = 0; r < nr; ++r) {
            float* yr = ys + r * n;
            const __m512 s = _mm512_set1_ps(inv_z[r]);
            size_t i = 0;
            for (; i + W <= n; i += W) _mm512_storeu_ps(yr + i, _mm512_mul_ps(_mm512_loadu_ps(yr + i), s));
            if (i < n) {
                const __mmask16 k = tail_mask(n - i);
                _mm512_mask_storeu_ps(yr + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, yr + i), s));
            }
        }
    }
}

// Its backward: dx = y (gy - s) with s = dot(gy, y); the dots of 16 rows first, as above.
TARGET_AVX512 void softmax_rows_backward(float* dx, const float* gy, const float* y, int rows, int cols) {
    const size_t n = static_cast<size_t>(cols);
    for (int r0 = 0; r0 < rows; r0 += 16) {
        const int nr = std::min(16, rows - r0);
        const size_t at = static_cast<size_t>(r0) * n;
        float s[16];
        for (int r = 0; r < nr; ++r) s[r] = dot(gy + at + r * n, y + at + r * n, n);
        for (int r = 0; r < nr; ++r) {
            const size_t o = at + r * n;
            const __m512 vs = _mm512_set1_ps(s[r]);
            for (size_t i = 0; i < n; i += W) {
                const __mmask16 k = n - i >= W ? __mmask16(0xFFFF) : tail_mask(n - i);
                const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, gy + o + i), vs);
                _mm512_mask_storeu_ps(dx + o + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + o + i), d));
            }
        }
    }
}

// Adam, 16 parameters per register. Mul and add must stay separate instructions (no FMA)
// so that every rounding matches the scalar loop: the AVX-512, AVX2 and scalar paths agree exactly.
// GCC would otherwise contract mul + add into FMA here, since this code may use FMA; clang only
// contracts within one source expression, which the separate intrinsics are not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
TARGET_AVX512 inline void adam_lanes(__m512& p, __m512& m, __m512& v, __m512 g, const AdamCoefs& c) {
    m = _mm512_add_ps(_mm512_mul_ps(m, _mm512_set1_ps(c.b1)), _mm512_mul_ps(_mm512_set1_ps(c.one_minus_b1), g));
    v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(c.b2)),
                      _mm512_mul_ps(_mm512_set1_ps(c.one_minus_b2), _mm512_mul_ps(g, g)));
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), _mm512_set1_ps(c.bc2_sqrt)), _mm512_set1_ps(c.eps));
    p = _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(_mm512_set1_ps(c.neg_step), m), denom));
}

// weighted_sum, 16 floats of h per register; in this no-FMA region for the same reason as Adam.
TARGET_AVX512 void weighted_sum(float* y, const float* w, const float* x, size_t B, size_t E, size_t h) {
    for (size_t b = 0; b < B; ++b)
        for (size_t j = 0; j < h; j += W) {
            const __mmask16 t = h - j >= W ? __mmask16(0xFFFF) : tail_mask(h - j);
            __m512 acc = _mm512_setzero_ps();
            for (size_t i = 0; i < E; ++i) {
                const __m512 xi = _mm512_maskz_loadu_ps(t, x + (b * E + i) * h + j);
                acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(w[b * E + i]), xi));
            }
            _mm512_mask_storeu_ps(y + b * h + j, t, acc);
        }
}

TARGET_AVX512 void weighted_sum_backward(float* dw, float* dx, const float* gy, const float* w,
                                         const float* x, size_t B, size_t E, size_t h) {
    std::vector<float> q(h);  // gy_b * x_bi, then summed by sum (inlined here) for its bits
    for (size_t b = 0; b < B; ++b)
        for (size_t i = 0; i < E; ++i) {
            const size_t row = (b * E + i) * h;
            const __m512 wi = _mm512_set1_ps(w[b * E + i]);
            for (size_t j = 0; j < h; j += W) {
                const __mmask16 t = h - j >= W ? __mmask16(0xFFFF) : tail_mask(h - j);
                const __m512 g = _mm512_maskz_loadu_ps(t, gy + b * h + j);
                if (dw) _mm512_mask_storeu_ps(q.data() + j, t, _mm512_mul_ps(g, _mm512_maskz_loadu_ps(t, x + row + j)));
                if (dx) _mm512_mask_storeu_ps(dx + row + j, t, _mm512_mul_ps(g, wi));
            }
            if (dw) dw[b * E + i] = 0.0f + sum(q.data(), h);
        }
}

TARGET_AVX512 void adam(float* p, float* m, float* v, const float* g, size_t n, const AdamCoefs& c) {
    size_t k = 0;
    for (; k + W <= n; k += W) {
        __m512 pk = _mm512_loadu_ps(p + k), mk = _mm512_loadu_ps(m + k), vk = _mm512_loadu_ps(v + k);
        adam_lanes(pk, mk, vk, _mm512_loadu_ps(g + k), c);
        _mm512_storeu_ps(p + k, pk);
        _mm512_storeu_ps(m + k, mk);
        _mm512_storeu_ps(v + k, vk);
    }
    if (k < n) {  // the tail, with masked loads and stores
        const __mmask16 t = tail_mask(n - k);
        __m512 pk = _mm512_maskz_loadu_ps(t, p + k), mk = _mm512_maskz_loadu_ps(t, m + k);
        __m512 vk = _mm512_maskz_loadu_ps(t, v + k);
        adam_lanes(pk, mk, vk, _mm512_maskz_loadu_ps(t, g + k), c);
        _mm512_mask_storeu_ps(p + k, t, pk);
        _mm512_mask_storeu_ps(m + k, t, mk);
        _mm512_mask_storeu_ps(v + k, t, vk);
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace
}  // namespace avx512

const KernelTable* avx512_table() {
    static const KernelTable t{Isa::avx512,      "avx512",      avx512::sgemm,   avx512::add,
                               avx512::sub,      avx512::mul,   avx512::div,     avx512::add_scalar,
                               avx512::mul_scalar, avx512::axpy, avx512::sum, avx512::sum_rows, avx512::max,
                               avx512::dot,      avx512::exp,   avx512::log,     avx512::tanh,
                               avx512::sigmoid,  avx512::relu, avx512::relu_backward, avx512::softmax_rows, avx512::softmax_rows_backward, avx512::adam,
                               avx512::erf, avx512::gelu, avx512::gelu_backward,
                               avx512::linear_forward,
                               avx512::layer_norm_forward, avx512::layer_norm_backward,
                               avx512::weighted_sum, avx512::weighted_sum_backward};
    return &t;
}

}  // namespace kernels
}  // namespace minirec

#else  // not x86-64: no AVX-512 path

namespace minirec {
namespace kernels {
const KernelTable* avx512_table() { return nullptr; }
}  // namespace kernels
}  // namespace minirec

#endif
