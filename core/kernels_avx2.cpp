// The AVX2+FMA kernel table: 8 floats per register, masked-load tails; the GEMM is in
// kernels_avx2_gemm.cpp. Every function carries a target attribute, so this file builds with
// plain -O2 and only runs when dispatch has seen AVX2 and FMA in CPUID. Deliberately left out:
// SSE-only CPUs, threads.
#include "core/kernels_avx2.h"
#include "core/kernels_isa.h"

#if defined(__x86_64__)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace minirec {
namespace kernels {
namespace avx2 {  // named: see kernels_avx2.h
namespace {

// The sum of the 8 lanes: fold 256 -> 128 -> 64 -> 32 bits.
TARGET_AVX2 inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TARGET_AVX2 inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}


// ---------------------------------------------------------------------------------------------
// Elementwise kernels. One template walks the array in registers of 8 and finishes with one
// masked register, so an operation is written once as a small function object.

template <class Op>
TARGET_AVX2 void map_unary(float* y, const float* x, size_t n, Op op) {
    size_t i = 0;
    for (; i + W <= n; i += W) _mm256_storeu_ps(y + i, op(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i m = lanes_below(static_cast<long>(n - i));
        _mm256_maskstore_ps(y + i, m, op(_mm256_maskload_ps(x + i, m)));
    }
}

template <class Op>
TARGET_AVX2 void map_binary(float* y, const float* a, const float* b, size_t n, Op op) {
    size_t i = 0;
    for (; i + W <= n; i += W)
        _mm256_storeu_ps(y + i, op(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    if (i < n) {
        const __m256i m = lanes_below(static_cast<long>(n - i));
        _mm256_maskstore_ps(y + i, m, op(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m)));
    }
}

struct Add { TARGET_AVX2 __m256 operator()(__m256 a, __m256 b) const { return _mm256_add_ps(a, b); } };
struct Sub { TARGET_AVX2 __m256 operator()(__m256 a, __m256 b) const { return _mm256_sub_ps(a, b); } };
struct Mul { TARGET_AVX2 __m256 operator()(__m256 a, __m256 b) const { return _mm256_mul_ps(a, b); } };
struct Div { TARGET_AVX2 __m256 operator()(__m256 a, __m256 b) const { return _mm256_div_ps(a, b); } };
struct AddS { __m256 s; TARGET_AVX2 __m256 operator()(__m256 x) const { return _mm256_add_ps(x, s); } };
struct MulS { __m256 s; TARGET_AVX2 __m256 operator()(__m256 x) const { return _mm256_mul_ps(x, s); } };
// y + alpha * x, with (y, x) as the two inputs and y as the output.
struct Axpy { __m256 alpha; TARGET_AVX2 __m256 operator()(__m256 y, __m256 x) const { return _mm256_fmadd_ps(alpha, x, y); } };
// max(x, 0) returns its second operand when x is NaN: relu(NaN) = 0, as in the scalar path.
struct Relu { TARGET_AVX2 __m256 operator()(__m256 x) const { return _mm256_max_ps(x, _mm256_setzero_ps()); } };

TARGET_AVX2 void add(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Add{}); }
TARGET_AVX2 void sub(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Sub{}); }
TARGET_AVX2 void mul(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Mul{}); }
TARGET_AVX2 void div(float* y, const float* a, const float* b, size_t n) { map_binary(y, a, b, n, Div{}); }
TARGET_AVX2 void add_scalar(float* y, const float* x, float s, size_t n) { map_unary(y, x, n, AddS{_mm256_set1_ps(s)}); }
TARGET_AVX2 void mul_scalar(float* y, const float* x, float s, size_t n) { map_unary(y, x, n, MulS{_mm256_set1_ps(s)}); }
TARGET_AVX2 void axpy(float* y, float alpha, const float* x, size_t n) { map_binary(y, y, x, n, Axpy{_mm256_set1_ps(alpha)}); }
TARGET_AVX2 void relu(float* y, const float* x, size_t n) { map_unary(y, x, n, Relu{}); }
// ReLU's derivative applied to gy: gy where x > 0, else 0 (and 0 where x is NaN, as the scalar path).
struct ReluGrad {
    TARGET_AVX2 __m256 operator()(__m256 g, __m256 x) const {
        return _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ), g);
    }
};
TARGET_AVX2 void relu_backward(float* dx, const float* gy, const float* x, size_t n) { map_binary(dx, gy, x, n, ReluGrad{}); }

// ---------------------------------------------------------------------------------------------
// Reductions. Four independent accumulators hide the latency of the adds; the result therefore
// sums in a different order than the scalar loop and may differ in the last bits.

TARGET_AVX2 inline float sum(const float* x, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + W));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 2 * W));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 3 * W));
    }
    for (; i + W <= n; i += W) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    if (i < n) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + i, lanes_below(static_cast<long>(n - i))));
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// One call for many rows; sum inlines here, so each row is summed exactly as sum sums it.
TARGET_AVX2 void sum_rows(float* y, const float* x, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; ++r) y[r] = sum(x + r * n, n);
}

TARGET_AVX2 float dot(const float* a, const float* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + W), _mm256_loadu_ps(b + i + W), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 2 * W), _mm256_loadu_ps(b + i + 2 * W), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 3 * W), _mm256_loadu_ps(b + i + 3 * W), s3);
    }
    for (; i + W <= n; i += W) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < n) {
        const __m256i m = lanes_below(static_cast<long>(n - i));
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// The maximum; any NaN in x makes the result NaN (as the scalar path). vmaxps alone would drop
// NaNs, so we record them separately with an "unordered" compare. The tail lanes we do not load
// are filled with -inf, which never wins.
TARGET_AVX2 float max(const float* x, size_t n) {
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    __m256 m = neg_inf, nan = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + W <= n; i += W) {
        const __m256 v = _mm256_loadu_ps(x + i);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, v);
    }
    if (i < n) {
        const __m256i k = lanes_below(static_cast<long>(n - i));
        const __m256 v = _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(x + i, k), _mm256_castsi256_ps(k));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, v);
    }
    return _mm256_movemask_ps(nan) ? NAN : hmax(m);
}

// ---------------------------------------------------------------------------------------------
// Transcendentals, each to about 2 ulp (kernels book chapter: measured errors).
//
// exp: write x = n ln2 + r with n = round(x / ln2), so |r| <= ln(2)/2 = 0.347, and
//   e^x = 2^n e^r.
// e^r comes from its Taylor series to r^7 (the first term left out, r^8/8!, is below 2^-27).
// ln 2 is split into a 15-bit head and a tail (Cody & Waite) so that n * head is exact and r
// keeps full precision even for |x| near 100. 2^n is built directly in the exponent bits.

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;      // ln 2 to 15 bits, so n * kLn2Hi is exact
constexpr float kLn2Lo = 1.42860682030941723e-6f;  // ln 2 - kLn2Hi

// e^r - 1 for |r| <= ln(2)/2: r (1 + r/2 + r^2/6 + ... + r^6/7!), by Horner's rule. Leaving out
// the leading 1 keeps the relative accuracy of e^r - 1 when r is tiny (tanh needs that).
TARGET_AVX2 inline __m256 expm1_reduced(__m256 r) {
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    return _mm256_mul_ps(p, r);
}

// x = n ln2 + r; returns r and sets n (a whole number, held as float).
TARGET_AVX2 inline __m256 reduce_ln2(__m256 x, __m256* n) {
    *n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 r = _mm256_fnmadd_ps(*n, _mm256_set1_ps(kLn2Hi), x);
    return _mm256_fnmadd_ps(*n, _mm256_set1_ps(kLn2Lo), r);
}

// 2^k for integer k in [-126, 127]: k + 127 is the biased exponent, the mantissa bits are 0.
TARGET_AVX2 inline __m256 pow2i(__m256i k) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}

// e^x. We clamp x to [-104, 89] (min/max with x as the second operand keep NaN): outside it the
// answer is 0 or inf anyway. Then n is in [-150, 129], too wide for one pow2i, so we multiply by
// 2^(n/2) and 2^(n - n/2): both factors are normal floats, the last product rounds once, and
// results that overflow become inf and tiny results become correctly rounded denormals.
TARGET_AVX2 inline __m256 exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
    __m256 n;
    const __m256 r = reduce_ln2(x, &n);
    const __m256 er = _mm256_add_ps(expm1_reduced(r), _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    return _mm256_mul_ps(_mm256_mul_ps(er, pow2i(n1)), pow2i(n2));
}

// ln x. Write x = m 2^e with m in [sqrt(1/2), sqrt(2)), read straight from the float's bits
// (denormal x is first scaled by 2^23). Then ln x = e ln2 + ln m, and with f = m - 1 and
// s = f / (2 + f) (so m = (1 + s) / (1 - s) and |s| <= 0.172):
//   ln m = 2 atanh s = 2 (s + s^3/3 + s^5/5 + ... ),
// where s^2 <= 0.03 makes the series converge fast: terms to s^11 are enough.
TARGET_AVX2 inline __m256 log8(__m256 x) {
    const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
    const __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(8388608.0f)), tiny);
    const __m256i bits = _mm256_castps_si256(xs);
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    e = _mm256_sub_epi32(e, _mm256_and_si256(_mm256_castps_si256(tiny), _mm256_set1_epi32(23)));
    // The mantissa with exponent 0: m in [1, 2). Above sqrt 2 we halve it and add 1 to e.
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                                                   _mm256_set1_epi32(0x3F800000)));
    const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    const __m256 ef = _mm256_add_ps(_mm256_cvtepi32_ps(e), _mm256_and_ps(big, _mm256_set1_ps(1.0f)));

    const __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    const __m256 s = _mm256_div_ps(f, _mm256_add_ps(f, _mm256_set1_ps(2.0f)));
    const __m256 s2 = _mm256_mul_ps(s, s);
    __m256 t = _mm256_set1_ps(1.0f / 11);
    t = _mm256_fmadd_ps(t, s2, _mm256_set1_ps(1.0f / 9));
    t = _mm256_fmadd_ps(t, s2, _mm256_set1_ps(1.0f / 7));
    t = _mm256_fmadd_ps(t, s2, _mm256_set1_ps(1.0f / 5));
    t = _mm256_fmadd_ps(t, s2, _mm256_set1_ps(1.0f / 3));
    t = _mm256_mul_ps(t, s2);
    const __m256 two_s = _mm256_add_ps(s, s);
    const __m256 ln_m = _mm256_fmadd_ps(two_s, t, two_s);  // 2s (1 + s^2/3 + ...)
    __m256 y = _mm256_fmadd_ps(ef, _mm256_set1_ps(kLn2Hi), _mm256_fmadd_ps(ef, _mm256_set1_ps(kLn2Lo), ln_m));
    // The special inputs: ln 0 = -inf, ln inf = inf, ln(negative or NaN) = NaN.
    y = _mm256_blendv_ps(y, _mm256_set1_ps(-INFINITY), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(NAN), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));
    return y;
}

// tanh |x| = (1 - e^(-2|x|)) / (1 + e^(-2|x|)) = -u / (2 + u) with u = e^(-2|x|) - 1, then the
// sign of x. We compute u as an expm1, u = 2^n (e^r - 1) + (2^n - 1), which keeps full relative
// accuracy for tiny x (where tanh x ~ x and 1 - e^(-2x) would cancel), while u -> -1 gives
// exactly 1 for large |x|. We clamp |x| <= 20: tanh is 1 in float from |x| = 9.1 on.
TARGET_AVX2 inline __m256 tanh8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 ax = _mm256_min_ps(_mm256_set1_ps(20.0f), _mm256_andnot_ps(sign, x));
    __m256 n;
    const __m256 r = reduce_ln2(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)), &n);
    const __m256 p2n = pow2i(_mm256_cvtps_epi32(n));  // exact: n in [-58, 0]
    const __m256 u = _mm256_fmadd_ps(p2n, expm1_reduced(r), _mm256_sub_ps(p2n, _mm256_set1_ps(1.0f)));
    const __m256 t = _mm256_div_ps(_mm256_sub_ps(_mm256_setzero_ps(), u),
                                   _mm256_add_ps(u, _mm256_set1_ps(2.0f)));
    return _mm256_or_ps(_mm256_andnot_ps(sign, t), _mm256_and_ps(sign, x));  // copysign(t, x)
}

// sigmoid x = 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0, with z = e^(-|x|) <= 1: never
// overflows, and keeps relative accuracy (denormals included) far into the negative tail.
TARGET_AVX2 inline __m256 sigmoid8(__m256 x) {
    const __m256 z = exp8(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));  // e^(-|x|)
    const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(z, _mm256_set1_ps(1.0f)));
    const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(s, _mm256_mul_ps(s, z), neg);
}

// erf x, as erf16 in kernels_avx512.cpp: both polynomials of kernels_isa.h for every lane, then
// a blend on |x| <= 1. NaN stays NaN: min(4, NaN) returns the NaN.
TARGET_AVX2 inline __m256 erf8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    const __m256 a = _mm256_andnot_ps(sign_bit, x);  // |x|
    __m256 p = _mm256_set1_ps(kErfP[5]);
    const __m256 t = _mm256_mul_ps(a, a);
    for (int i = 4; i >= 0; --i) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfP[i]));
    const __m256 small = _mm256_mul_ps(a, p);        // a P(a^2)
    const __m256 b = _mm256_min_ps(_mm256_set1_ps(4.0f), a);
    const __m256 u = _mm256_div_ps(_mm256_set1_ps(1.0f), b);
    __m256 q = _mm256_set1_ps(kErfQ[9]);
    for (int i = 8; i >= 0; --i) q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(kErfQ[i]));
    const __m256 e = exp8(_mm256_mul_ps(_mm256_xor_ps(b, sign_bit), b));  // e^(-b^2)
    const __m256 large = _mm256_fnmadd_ps(e, q, _mm256_set1_ps(1.0f));      // 1 - e Q(1/b)
    const __m256 is_small = _mm256_cmp_ps(a, _mm256_set1_ps(1.0f), _CMP_LE_OQ);
    return _mm256_or_ps(_mm256_blendv_ps(large, small, is_small), _mm256_and_ps(x, sign_bit));
}

struct Exp { TARGET_AVX2 __m256 operator()(__m256 x) const { return exp8(x); } };
struct Erf { TARGET_AVX2 __m256 operator()(__m256 x) const { return erf8(x); } };
struct Log { TARGET_AVX2 __m256 operator()(__m256 x) const { return log8(x); } };
struct Tanh { TARGET_AVX2 __m256 operator()(__m256 x) const { return tanh8(x); } };
struct Sigmoid { TARGET_AVX2 __m256 operator()(__m256 x) const { return sigmoid8(x); } };

TARGET_AVX2 void exp(float* y, const float* x, size_t n) { map_unary(y, x, n, Exp{}); }
TARGET_AVX2 void erf(float* y, const float* x, size_t n) { map_unary(y, x, n, Erf{}); }
TARGET_AVX2 void log(float* y, const float* x, size_t n) { map_unary(y, x, n, Log{}); }
TARGET_AVX2 void tanh(float* y, const float* x, size_t n) { map_unary(y, x, n, Tanh{}); }
TARGET_AVX2 void sigmoid(float* y, const float* x, size_t n) { map_unary(y, x, n, Sigmoid{}); }

// GELU forward and backward, one pass each. Phi(x) from erfc (kPhiR in kernels_isa.h), given
// e = e^(-x^2/2). z is capped at 10, where e is already 0 in float; NaN stays NaN.
TARGET_AVX2 inline __m256 gelu_cdf8(__m256 x, __m256 e) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    const __m256 z = _mm256_min_ps(_mm256_set1_ps(10.0f), _mm256_mul_ps(ax, _mm256_set1_ps(0.70710678118654752f)));
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(z, _mm256_set1_ps(kPhiP), one));
    __m256 r = _mm256_set1_ps(kPhiR[9]);
    for (int i = 8; i >= 0; --i) r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(kPhiR[i]));
    const __m256 half_erfc = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), t), _mm256_mul_ps(e, r));
    const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(_mm256_sub_ps(one, half_erfc), half_erfc, neg);
}
TARGET_AVX2 inline __m256 half_x2_exp8(__m256 x) {  // e^(-x^2/2)
    return exp8(_mm256_mul_ps(_mm256_set1_ps(-0.5f), _mm256_mul_ps(x, x)));
}
struct Gelu {
    TARGET_AVX2 __m256 operator()(__m256 x) const { return _mm256_mul_ps(x, gelu_cdf8(x, half_x2_exp8(x))); }
};
TARGET_AVX2 void gelu(float* y, const float* x, size_t n) { map_unary(y, x, n, Gelu{}); }

// dx = dy (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi); and y = x Phi(x) if y is wanted.
TARGET_AVX2 void gelu_backward(float* dx, float* y, const float* x, const float* dy, size_t n) {
    for (size_t i = 0; i < n; i += W) {
        const long left = static_cast<long>(n - i);
        const __m256 xv = load_part(x + i, left), pdf = half_x2_exp8(xv), cdf = gelu_cdf8(xv, pdf);
        const __m256 xs = _mm256_mul_ps(xv, _mm256_set1_ps(0.39894228040143268f));
        if (y) store_part(y + i, left, _mm256_mul_ps(xv, cdf));
        store_part(dx + i, left, _mm256_mul_ps(load_part(dy + i, left), _mm256_add_ps(cdf, _mm256_mul_ps(xs, pdf))));
    }
}

// Layer normalisation (see kernels.h), a row at a time: three short passes over a row that stays
// in L1, with masked loads for a last partial register only (masked-off lanes load as 0, so they add
// nothing to the sums). Sums run in float, in a different order than the scalar reference.
TARGET_AVX2 void layer_norm_forward(float* y, float* xhat, float* rstd, const float* x, const float* r,
                                 const float* gamma, const float* beta, size_t rows, size_t d, float eps) {
    const float inv_d = 1.0f / static_cast<float>(d);
    for (size_t i = 0; i < rows; ++i, x += d, y += d, xhat += d) {
        const float* ri = r ? r + i * d : nullptr;
        __m256 acc = _mm256_setzero_ps();
        for (size_t j = 0; j < d; j += W) {  // s = x + r, kept in xhat; its sum
            const long left = static_cast<long>(d - j);
            __m256 s = load_part(x + j, left);
            if (ri) s = _mm256_add_ps(s, load_part(ri + j, left));
            store_part(xhat + j, left, s);
            acc = _mm256_add_ps(acc, s);
        }
        const __m256 mu = _mm256_set1_ps(hsum(acc) * inv_d);
        acc = _mm256_setzero_ps();
        for (size_t j = 0; j < d; j += W) {  // centred first: the variance from a second pass is stable
            const long left = static_cast<long>(d - j);
            const __m256 c = _mm256_and_ps(_mm256_sub_ps(load_part(xhat + j, left), mu),
                                           _mm256_castsi256_ps(lanes_below(left)));  // 0 past d
            store_part(xhat + j, left, c);
            acc = _mm256_fmadd_ps(c, c, acc);
        }
        rstd[i] = 1.0f / std::sqrt(hsum(acc) * inv_d + eps);
        const __m256 rs = _mm256_set1_ps(rstd[i]);
        for (size_t j = 0; j < d; j += W) {
            const long left = static_cast<long>(d - j);
            const __m256 xh = _mm256_mul_ps(load_part(xhat + j, left), rs);
            store_part(xhat + j, left, xh);
            const __m256 out = gamma ? _mm256_fmadd_ps(xh, load_part(gamma + j, left), load_part(beta + j, left)) : xh;
            store_part(y + j, left, out);
        }
    }
}

// Its backward keeps a masked load and store for every register: with plain ones for full
// registers, g++ 12 compiled (g - mean(g)) of a row of one value as one fused multiply-subtract,
// so dx of a one-column layer norm came out as a rounding error times rstd (1.9e-5, where it is
// exactly 0; tests/test_golden.cpp caught it). The backward is a smaller share of the step.
TARGET_AVX2 void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* gy, const float* xhat,
                                  const float* rstd, const float* gamma, size_t rows, size_t d) {
    const float inv_d = 1.0f / static_cast<float>(d);
    for (size_t i = 0; i < rows; ++i, dx += d, gy += d, xhat += d) {
        __m256 acc_g = _mm256_setzero_ps(), acc_gx = _mm256_setzero_ps();
        for (size_t j = 0; j < d; j += W) {  // mean(g) and mean(g xhat), g = gy gamma
            const __m256i m = lanes_below(static_cast<long>(d - j));
            __m256 g = _mm256_maskload_ps(gy + j, m);
            if (gamma) g = _mm256_mul_ps(g, _mm256_maskload_ps(gamma + j, m));
            acc_g = _mm256_add_ps(acc_g, g);
            acc_gx = _mm256_fmadd_ps(g, _mm256_maskload_ps(xhat + j, m), acc_gx);
        }
        const __m256 mean_g = _mm256_set1_ps(hsum(acc_g) * inv_d);
        const __m256 mean_gx = _mm256_set1_ps(hsum(acc_gx) * inv_d);
        const __m256 rs = _mm256_set1_ps(rstd[i]);
        for (size_t j = 0; j < d; j += W) {
            const __m256i m = lanes_below(static_cast<long>(d - j));
            const __m256 gyj = _mm256_maskload_ps(gy + j, m), xh = _mm256_maskload_ps(xhat + j, m);
            const __m256 g = gamma ? _mm256_mul_ps(gyj, _mm256_maskload_ps(gamma + j, m)) : gyj;
            const __m256 dxj = _mm256_mul_ps(rs, _mm256_sub_ps(_mm256_sub_ps(g, mean_g), _mm256_mul_ps(xh, mean_gx)));
            _mm256_maskstore_ps(dx + j, m, dxj);
            if (dgamma) {
                _mm256_maskstore_ps(dgamma + j, m, _mm256_fmadd_ps(gyj, xh, _mm256_maskload_ps(dgamma + j, m)));
                _mm256_maskstore_ps(dbeta + j, m, _mm256_add_ps(_mm256_maskload_ps(dbeta + j, m), gyj));
            }
        }
    }
}

// Row-wise softmax: m = max of the row, y = e^(x - m) (all <= 1, no overflow), then y /= sum y.
TARGET_AVX2 void softmax_rows(float* y, const float* x, int rows, int cols) {
    const size_t n = static_cast<size_t>(cols);
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + static_cast<size_t>(r) * n;
        float* yr = y + static_cast<size_t>(r) * n;
        const __m256 m = _mm256_set1_ps(max(xr, n));
        __m256 z = _mm256_setzero_ps();
        size_t i = 0;
        for (; i + W <= n; i += W) {
            const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(xr + i), m));
            _mm256_storeu_ps(yr + i, e);
            z = _mm256_add_ps(z, e);
        }
        if (i < n) {
            const __m256i k = lanes_below(static_cast<long>(n - i));
            const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(xr + i, k), m));
            _mm256_maskstore_ps(yr + i, k, e);
            z = _mm256_add_ps(z, _mm256_and_ps(e, _mm256_castsi256_ps(k)));  // only the real lanes
        }
        mul_scalar(yr, yr, 1.0f / hsum(z), n);
    }
}

// Its backward: dx = y (gy - s) with s = dot(gy, y), row by row.
TARGET_AVX2 void softmax_rows_backward(float* dx, const float* gy, const float* y, int rows, int cols) {
    const size_t n = static_cast<size_t>(cols);
    for (int r = 0; r < rows; ++r, dx += n, gy += n, y += n) {
        const __m256 s = _mm256_set1_ps(dot(gy, y, n));
        size_t i = 0;
        for (; i + W <= n; i += W)
            _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), _mm256_sub_ps(_mm256_loadu_ps(gy + i), s)));
        if (i < n) {
            const __m256i k = lanes_below(static_cast<long>(n - i));
            _mm256_maskstore_ps(dx + i, k, _mm256_mul_ps(_mm256_maskload_ps(y + i, k),
                                                         _mm256_sub_ps(_mm256_maskload_ps(gy + i, k), s)));
        }
    }
}

// Adam, 8 parameters per register. Mul and add must stay separate instructions (no FMA)
// so that every rounding matches the scalar loop: the AVX-512, AVX2 and scalar paths agree exactly.
// GCC would otherwise contract mul + add into FMA here, since this code may use FMA; clang only
// contracts within one source expression, which the separate intrinsics are not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
// weighted_sum, 8 floats of h per register; in this no-FMA region for the same reason as Adam.
TARGET_AVX2 void weighted_sum(float* y, const float* w, const float* x, size_t B, size_t E, size_t h) {
    for (size_t b = 0; b < B; ++b)
        for (size_t j = 0; j < h; j += W) {
            const long left = static_cast<long>(h - j);
            __m256 acc = _mm256_setzero_ps();
            for (size_t i = 0; i < E; ++i) {
                const __m256 xi = load_part(x + (b * E + i) * h + j, left);
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(w[b * E + i]), xi));
            }
            store_part(y + b * h + j, left, acc);
        }
}

TARGET_AVX2 void weighted_sum_backward(float* dw, float* dx, const float* gy, const float* w,
                                       const float* x, size_t B, size_t E, size_t h) {
    std::vector<float> q(h);  // gy_b * x_bi, then summed by sum (inlined here) for its bits
    for (size_t b = 0; b < B; ++b)
        for (size_t i = 0; i < E; ++i) {
            const size_t row = (b * E + i) * h;
            const __m256 wi = _mm256_set1_ps(w[b * E + i]);
            for (size_t j = 0; j < h; j += W) {
                const long left = static_cast<long>(h - j);
                const __m256 g = load_part(gy + b * h + j, left);
                if (dw) store_part(q.data() + j, left, _mm256_mul_ps(g, load_part(x + row + j, left)));
                if (dx) store_part(dx + row + j, left, _mm256_mul_ps(g, wi));
            }
            if (dw) dw[b * E + i] = 0.0f + sum(q.data(), h);
        }
}

TARGET_AVX2 inline void adam_lanes(__m256& p, __m256& m, __m256& v, __m256 g, const AdamCoefs& c) {
    m = _mm256_add_ps(_mm256_mul_ps(m, _mm256_set1_ps(c.b1)), _mm256_mul_ps(_mm256_set1_ps(c.one_minus_b1), g));
    v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(c.b2)),
                      _mm256_mul_ps(_mm256_set1_ps(c.one_minus_b2), _mm256_mul_ps(g, g)));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(v), _mm256_set1_ps(c.bc2_sqrt)), _mm256_set1_ps(c.eps));
    p = _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(c.neg_step), m), denom));
}

TARGET_AVX2 void adam(float* p, float* m, float* v, const float* g, size_t n, const AdamCoefs& c) {
    size_t k = 0;
    for (; k + W <= n; k += W) {
        __m256 pk = _mm256_loadu_ps(p + k), mk = _mm256_loadu_ps(m + k), vk = _mm256_loadu_ps(v + k);
        adam_lanes(pk, mk, vk, _mm256_loadu_ps(g + k), c);
        _mm256_storeu_ps(p + k, pk);
        _mm256_storeu_ps(m + k, mk);
        _mm256_storeu_ps(v + k, vk);
    }
    if (k < n) {  // the tail, with masked loads and stores
        const __m256i t = lanes_below(static_cast<long>(n - k));
        __m256 pk = _mm256_maskload_ps(p + k, t), mk = _mm256_maskload_ps(m + k, t);
        __m256 vk = _mm256_maskload_ps(v + k, t);
        adam_lanes(pk, mk, vk, _mm256_maskload_ps(g + k, t), c);
        _mm256_maskstore_ps(p + k, t, pk);
        _mm256_maskstore_ps(m + k, t, mk);
        _mm256_maskstore_ps(v + k, t, vk);
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace
}  // namespace avx2

const KernelTable* avx2_table() {
    static const KernelTable t{Isa::avx2,       "avx2",      avx2::sgemm,   avx2::add,
                               avx2::sub,       avx2::mul,   avx2::div,     avx2::add_scalar,
                               avx2::mul_scalar, avx2::axpy, avx2::sum, avx2::sum_rows, avx2::max,
                               avx2::dot,       avx2::exp,   avx2::log,     avx2::tanh,
                               avx2::sigmoid,   avx2::relu, avx2::relu_backward, avx2::softmax_rows, avx2::softmax_rows_backward, avx2::adam,
                               avx2::erf, avx2::gelu, avx2::gelu_backward,
                               avx2::linear_forward,
                               avx2::layer_norm_forward, avx2::layer_norm_backward,
                               avx2::weighted_sum, avx2::weighted_sum_backward};
    return &t;
}

}  // namespace kernels
}  // namespace minirec

#else  // not x86-64: no AVX2 path

namespace minirec {
namespace kernels {
const KernelTable* avx2_table() { return nullptr; }
}  // namespace kernels
}  // namespace minirec

#endif
