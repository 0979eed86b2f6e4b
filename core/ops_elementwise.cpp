// Elementwise ops: arithmetic with numpy broadcasting, unary maths and activations, masked_fill
// and dropout. Each op is one section: the forward, then the backward closure with its calculus
// in one comment line. Broadcasting backward reduces the gradient with sum_to.
// Deliberately left out: in-place variants, integer tensors, fused multi-op kernels.
#include <algorithm>
#include <cmath>

#include "core/kernels.h"
#include "core/ops.h"
#include "core/rng.h"

namespace minirec {

namespace {

// map, zip and zip3 below are the backward passes of most activations. At -O2, GCC's cheapest cost
// model leaves a loop scalar when it would need a runtime check that y does not overlap x; the
// dynamic model lets it vectorise them with that check (ReLU's backward was 7% of MMoE's step at
// batch 4096). Each element is computed as before, so the results are the same bits.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

// y_i = f(x_i): a one-pass map for the ops that have no SIMD kernel.
template <class F>
Tensor map(const Tensor& x, F f) {
    Tensor y = Tensor::uninitialized(x.shape());  // each helper here writes every element
    const float* px = x.data();
    float* py = y.data();
    const size_t n = x.size();
    for (size_t i = 0; i < n; ++i) py[i] = f(px[i]);
    return y;
}

// y_i = f(a_i, b_i) for two tensors of one shape (the backward closures' workhorse).
template <class F>
Tensor zip(const Tensor& a, const Tensor& b, F f) {
    Tensor y = Tensor::uninitialized(a.shape());
    const float* pa = a.data();
    const float* pb = b.data();
    float* py = y.data();
    const size_t n = a.size();
    for (size_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i]);
    return y;
}

// y_i = f(a_i, b_i, c_i), three tensors of one shape.
template <class F>
Tensor zip3(const Tensor& a, const Tensor& b, const Tensor& c, F f) {
    Tensor y = Tensor::uninitialized(a.shape());
    const float* pa = a.data();
    const float* pb = b.data();
    const float* pc = c.data();
    float* py = y.data();
    const size_t n = a.size();
    for (size_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i], pc[i]);
    return y;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// y = kernel(x) through one of the SIMD elementwise kernels (exp, log, tanh, sigmoid, relu).
Tensor apply(void (*kernel)(float*, const float*, size_t), const Tensor& x) {
    Tensor y = Tensor::uninitialized(x.shape());
    kernel(y.data(), x.data(), x.size());
    return y;
}

void k_exp(float* y, const float* x, size_t n) { kernels::exp(y, x, n); }
void k_log(float* y, const float* x, size_t n) { kernels::log(y, x, n); }
void k_tanh(float* y, const float* x, size_t n) { kernels::tanh(y, x, n); }
void k_sigmoid(float* y, const float* x, size_t n) { kernels::sigmoid(y, x, n); }
void k_relu(float* y, const float* x, size_t n) { kernels::relu(y, x, n); }

}  // namespace

// ==== Arithmetic with numpy broadcasting =====================================================
// The forward is Tensor arithmetic (tensor.cpp), which checks the shapes and names the op in
// its ShapeError. The backward sums each gradient over the axes its operand was broadcast along.

// Adds gy, summed down to x's shape, to x's gradient. An operand of gy's own shape (no
// broadcasting, as in a residual connection) takes gy as it is: copied, or moved when it is the
// last use of gy (the autograd engine hands each node its gradient to pass on).
static void accumulate_summed(const Var& x, Tensor& gy, bool last_use) {
    if (!x.requires_grad()) return;
    if (x.shape() != gy.shape())
        x.accumulate_grad(sum_to(gy, x.shape()));
    else if (last_use)
        x.accumulate_grad(std::move(gy));
    else
        x.accumulate_grad(static_cast<const Tensor&>(gy));
}

// y = a + b;  dy/da = 1, dy/db = 1 (then summed over broadcast axes). The operand of gy's shape
// goes last and takes gy itself; with a broadcast bias b, that is x W + b: no copy at all.
Var add(const Var& a, const Var& b) {
    Var y = make_result(a.value() + b.value(), {a, b}, "add");
    y.set_backward([a, b](Tensor& gy) {
        const bool a_last = a.shape() == gy.shape() && b.shape() != gy.shape();
        accumulate_summed(a_last ? b : a, gy, false);
        accumulate_summed(a_last ? a : b, gy, true);
    });
    return y;
}

// y = a - b;  dy/da = 1, dy/db = -1
Var sub(const Var& a, const Var& b) {
    Var y = make_result(a.value() - b.value(), {a, b}, "sub");
    y.set_backward([a, b](Tensor& gy) {
        if (b.requires_grad()) b.accumulate_grad(-sum_to(gy, b.shape()));
        accumulate_summed(a, gy, true);
    });
    return y;
}

// y = a * b;  dy/da = b, dy/db = a
Var mul(const Var& a, const Var& b) {
    Var y = make_result(a.value() * b.value(), {a, b}, "mul");
    y.set_backward([a, b](const Tensor& gy) {
        if (a.requires_grad()) a.accumulate_grad(sum_to(gy * b.value(), a.shape()));
        if (b.requires_grad()) b.accumulate_grad(sum_to(gy * a.value(), b.shape()));
    });
    return y;
}

// y = a / b;  dy/da = 1 / b, dy/db = -a / b^2 = -y / b
Var div(const Var& a, const Var& b) {
    Var y = make_result(a.value() / b.value(), {a, b}, "div");
    y.set_backward([a, b, yw = y.weak()](const Tensor& gy) {
        const Tensor gy_over_b = gy / b.value();  // broadcast to y's shape
        if (a.requires_grad()) a.accumulate_grad(sum_to(gy_over_b, a.shape()));
        if (b.requires_grad())
            b.accumulate_grad(sum_to(zip(gy_over_b, yw.value(), [](float g, float y) { return -g * y; }),
                                     b.shape()));
    });
    return y;
}

// y = -x;  dy/dx = -1
Var neg(const Var& x) {
    Var y = make_result(-x.value(), {x}, "neg");
    y.set_backward([x](const Tensor& gy) { x.accumulate_grad(-gy); });
    return y;
}

// y = a + s;  dy/da = 1
Var add(const Var& a, float s) {
    Var y = make_result(a.value() + s, {a}, "add_scalar");
    y.set_backward([a](Tensor& gy) { a.accumulate_grad(std::move(gy)); });
    return y;
}

// y = a * s;  dy/da = s
Var mul(const Var& a, float s) {
    Var y = make_result(a.value() * s, {a}, "mul_scalar");
    y.set_backward([a, s](const Tensor& gy) { a.accumulate_grad(gy * s); });
    return y;
}

// y = a / s;  dy/da = 1 / s  (its own op: a / s is not a * (1/s) bit for bit)
static Var div_scalar(const Var& a, float s) {
    Var y = make_result(a.value() / s, {a}, "div_scalar");
    y.set_backward([a, s](const Tensor& gy) { a.accumulate_grad(gy / s); });
    return y;
}

Var operator+(const Var& a, const Var& b) { return add(a, b); }
Var operator-(const Var& a, const Var& b) { return sub(a, b); }
Var operator*(const Var& a, const Var& b) { return mul(a, b); }
Var operator/(const Var& a, const Var& b) { return div(a, b); }
Var operator-(const Var& x) { return neg(x); }
Var operator+(const Var& a, float s) { return add(a, s); }
Var operator-(const Var& a, float s) { return add(a, -s); }
Var operator*(const Var& a, float s) { return mul(a, s); }
Var operator/(const Var& a, float s) { return div_scalar(a, s); }
Var operator+(float s, const Var& a) { return add(a, s); }
Var operator-(float s, const Var& a) { return add(neg(a), s); }
Var operator*(float s, const Var& a) { return mul(a, s); }

// ==== Unary maths ============================================================================

// y = e^x;  dy/dx = y
Var exp(const Var& x) {
    Var y = make_result(apply(k_exp, x.value()), {x}, "exp");
    y.set_backward([x, yw = y.weak()](const Tensor& gy) { x.accumulate_grad(gy * yw.value()); });
    return y;
}

// y = ln x;  dy/dx = 1 / x
Var log(const Var& x) {
    Var y = make_result(apply(k_log, x.value()), {x}, "log");
    y.set_backward([x](const Tensor& gy) { x.accumulate_grad(gy / x.value()); });
    return y;
}

// y = sqrt(x);  dy/dx = 1 / (2 y)
Var sqrt(const Var& x) {
    Var y = make_result(map(x.value(), [](float v) { return std::sqrt(v); }), {x}, "sqrt");
    y.set_backward([x, yw = y.weak()](const Tensor& gy) {
        x.accumulate_grad(zip(gy, yw.value(), [](float g, float y) { return 0.5f * g / y; }));
    });
    return y;
}

// y = x^p;  dy/dx = p x^(p-1)
Var pow(const Var& x, float p) {
    Var y = make_result(map(x.value(), [p](float v) { return std::pow(v, p); }), {x}, "pow");
    y.set_backward([x, p](const Tensor& gy) {
        x.accumulate_grad(zip(gy, x.value(), [p](float g, float v) { return g * p * std::pow(v, p - 1.0f); }));
    });
    return y;
}

// y = |x|;  dy/dx = sign(x), 0 at 0
Var abs(const Var& x) {
    Var y = make_result(map(x.value(), [](float v) { return std::fabs(v); }), {x}, "abs");
    y.set_backward([x](const Tensor& gy) {
        x.accumulate_grad(zip(gy, x.value(), [](float g, float v) {
            return v > 0.0f ? g : (v < 0.0f ? -g : 0.0f);
        }));
    });
    return y;
}

// y = min(max(x, lo), hi);  dy/dx = 1 strictly inside (lo, hi), else 0
Var clamp(const Var& x, float lo, float hi) {
    if (!(lo <= hi))
        arg_fail("clamp", "lo (" + std::to_string(lo) + ") must not exceed hi (" + std::to_string(hi) + ")");
    Var y = make_result(map(x.value(), [lo, hi](float v) { return v < lo ? lo : (v > hi ? hi : v); }),
                        {x}, "clamp");
    y.set_backward([x, lo, hi](const Tensor& gy) {
        x.accumulate_grad(zip(gy, x.value(), [lo, hi](float g, float v) {
            return (v > lo && v < hi) ? g : 0.0f;
        }));
    });
    return y;
}

// ==== Activations ============================================================================

// y = max(x, 0);  dy/dx = [x > 0]
Var relu(const Var& x) {
    Var y = make_result(apply(k_relu, x.value()), {x}, "relu");
    y.set_backward([x](const Tensor& gy) {
        Tensor dx = Tensor::uninitialized(x.shape());  // gy where x > 0, else 0
        kernels::relu_backward(dx.data(), gy.data(), x.value().data(), dx.size());
        x.accumulate_grad(std::move(dx));
    });
    return y;
}

// y = x if x > 0 else slope x;  dy/dx = 1 if x > 0 else slope
Var leaky_relu(const Var& x, float slope) {
    Var y = make_result(map(x.value(), [slope](float v) { return v > 0.0f ? v : slope * v; }), {x},
                        "leaky_relu");
    y.set_backward([x, slope](const Tensor& gy) {
        x.accumulate_grad(zip(gy, x.value(), [slope](float g, float v) { return v > 0.0f ? g : slope * g; }));
    });
    return y;
}

// y = sigmoid(x);  dy/dx = y (1 - y)
Var sigmoid(const Var& x) {
    Var y = make_result(apply(k_sigmoid, x.value()), {x}, "sigmoid");
    y.set_backward([x, yw = y.weak()](const Tensor& gy) {
        x.accumulate_grad(zip(gy, yw.value(), [](float g, float y) { return g * y * (1.0f - y); }));
    });
    return y;
}

// y = tanh(x);  dy/dx = 1 - y^2
Var tanh(const Var& x) {
    Var y = make_result(apply(k_tanh, x.value()), {x}, "tanh");
    y.set_backward([x, yw = y.weak()](const Tensor& gy) {
        x.accumulate_grad(zip(gy, yw.value(), [](float g, float y) { return g * (1.0f - y * y); }));
    });
    return y;
}

// y = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2));  dy/dx = Phi(x) + x phi(x),  phi(x) = e^(-x^2/2) / sqrt(2 pi)
// Both directions are one fused SIMD kernel (core/kernels.h): one read of x (and gy), one write.
// The backward recomputes Phi(x) rather than keeping it: an erf per element costs less than
// writing and re-reading a tensor of x's size.
Var gelu(const Var& x) {
    Tensor y = Tensor::uninitialized(x.shape());
    kernels::gelu(y.data(), x.value().data(), x.size());
    Var r = make_result(std::move(y), {x}, "gelu");
    r.set_backward([x](const Tensor& gy) {
        Tensor gx = Tensor::uninitialized(x.shape());
        kernels::gelu_backward(gx.data(), nullptr, x.value().data(), gy.data(), x.size());
        x.accumulate_grad(std::move(gx));
    });
    return r;
}

// y = log(1 + e^x), computed as max(x, 0) + log1p(e^(-|x|)) so e^x never overflows;
// dy/dx = sigmoid(x)
Var softplus(const Var& x) {
    const Tensor e = apply(k_exp, map(x.value(), [](float v) { return -std::fabs(v); }));  // e^(-|x|) in (0, 1]
    Var y = make_result(zip(x.value(), e, [](float v, float t) { return std::fmax(v, 0.0f) + std::log1p(t); }),
                        {x}, "softplus");
    y.set_backward([x](const Tensor& gy) { x.accumulate_grad(gy * apply(k_sigmoid, x.value())); });
    return y;
}

// y = log sigmoid(x) = -softplus(-x) = min(x, 0) - log1p(e^(-|x|));  dy/dx = sigmoid(-x)
Var log_sigmoid(const Var& x) {
    const Tensor e = apply(k_exp, map(x.value(), [](float v) { return -std::fabs(v); }));
    Var y = make_result(zip(x.value(), e, [](float v, float t) { return std::fmin(v, 0.0f) - std::log1p(t); }),
                        {x}, "log_sigmoid");
    y.set_backward([x](const Tensor& gy) { x.accumulate_grad(gy * apply(k_sigmoid, -x.value())); });
    return y;
}

// ==== Masking and dropout ====================================================================

// y = x where mask != 0, else value;  dy/dx = [mask != 0]
Var masked_fill(const Var& x, const Tensor& mask, float value) {
    if (broadcast_shape(x.shape(), mask.shape(), "masked_fill") != x.shape())
        shape_fail("masked_fill", x.shape(), mask.shape(), "the mask must broadcast to x's shape");
    // keep: 1 where x survives, 0 where it is replaced, at x's full shape.
    Tensor keep = map(broadcast_to(mask, x.shape()), [](float m) { return m != 0.0f ? 1.0f : 0.0f; });
    Var y = make_result(zip(x.value(), keep, [value](float v, float k) { return k != 0.0f ? v : value; }),
                        {x}, "masked_fill");
    y.set_backward([x, keep = std::move(keep)](const Tensor& gy) { x.accumulate_grad(gy * keep); });
    return y;
}

// y = x * m,  m_i = 0 with probability p, else 1 / (1 - p);  dy/dx = m
Var dropout(const Var& x, float p, bool training, Rng& rng) {
    if (!(p >= 0.0f && p <= 1.0f)) arg_fail("dropout", "p = " + std::to_string(p) + " is not in [0, 1]");
    if (!training || p == 0.0f) return x;  // the identity: no node, no random draws
    // We draw one uniform per element, in order, so the same seed gives the same mask.
    const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    Tensor m(x.shape());
    for (size_t i = 0; i < m.size(); ++i) m[i] = rng.bernoulli(p) ? 0.0f : scale;
    Var y = make_result(x.value() * m, {x}, "dropout");
    y.set_backward([x, m = std::move(m)](const Tensor& gy) { x.accumulate_grad(gy * m); });
    return y;
}

}  // namespace minirec
