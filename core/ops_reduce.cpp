// Reductions (sum, mean, max, logsumexp over one axis or over everything) and the
// normalisations over the last axis (softmax and log-softmax with an optional mask, layer-norm,
// l2-normalize). Each op is one section: forward and backward helpers on raw rows, as llm.c,
// then the graph wrapper whose closure wires them.
// Deliberately left out: reductions over several axes at once (chain them), min, var/std ops.
#include <cmath>
#include <limits>

#include "core/kernels.h"
#include "core/ops.h"

namespace minirec {

namespace {

// A reduction over `axis` sees x as (outer, n, inner): outer = prod of the dims before the
// axis, n = the axis, inner = prod of the dims after it (contiguous, 1 for the last axis).
struct AxisView {
    size_t outer = 1, n = 1, inner = 1;
};

AxisView axis_view(const Shape& s, int axis) {
    AxisView v;
    for (int i = 0; i < axis; ++i) v.outer *= static_cast<size_t>(s[static_cast<size_t>(i)]);
    v.n = static_cast<size_t>(s[static_cast<size_t>(axis)]);
    for (size_t i = static_cast<size_t>(axis) + 1; i < s.size(); ++i) v.inner *= static_cast<size_t>(s[i]);
    return v;
}

// The result shape: the axis becomes 1 (keepdim) or disappears.
Shape reduced_shape(const Shape& s, int axis, bool keepdim) {
    Shape r = s;
    if (keepdim) r[static_cast<size_t>(axis)] = 1;
    else r.erase(r.begin() + axis);
    return r;
}

// gy has the reduced shape; we spread it back over x's shape along the reduced axis.
Tensor spread(const Tensor& gy, const Shape& x_shape, int axis) {
    return broadcast_to(gy.reshape(reduced_shape(x_shape, axis, true)), x_shape);
}

// ys (outer, inner) = sum over n of xs (outer, n, inner).
Tensor sum_axis(const Tensor& x, const AxisView& v, const Shape& out_shape) {
    Tensor y(out_shape);
    if (v.inner == 1) {  // contiguous rows of n: y[o] = kernels::sum of row o
        kernels::sum_rows(y.data(), x.data(), v.outer, v.n);
        return y;
    }
    for (size_t o = 0; o < v.outer; ++o) {
        const float* px = x.data() + o * v.n * v.inner;
        float* py = y.data() + o * v.inner;
        for (size_t j = 0; j < v.n; ++j) kernels::add(py, py, px + j * v.inner, v.inner);
    }
    return y;
}

// The keep mask of softmax/log_softmax at x's full shape (1 = keep, 0 = masked out).
Tensor full_mask(const Var& x, const Tensor& mask, const char* op) {
    if (broadcast_shape(x.shape(), mask.shape(), op) != x.shape())
        shape_fail(op, x.shape(), mask.shape(), "the mask must broadcast to x's shape");
    return broadcast_to(mask, x.shape());
}

// rows x D view of a tensor normalised over its last axis; rank 0 is an error.
void last_axis(const Tensor& x, const char* op, size_t& rows, size_t& d) {
    if (x.rank() == 0) shape_fail(op, x.shape(), "needs at least one axis");
    d = static_cast<size_t>(x.dim(-1));
    rows = d == 0 ? 0 : x.size() / d;
}

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

}  // namespace

// ==== Reductions =============================================================================

// y = sum_i x_i;  dy/dx_i = 1
Var sum(const Var& x) {
    Var y = make_result(Tensor::scalar(kernels::sum(x.value().data(), x.size())), {x}, "sum");
    y.set_backward([x](const Tensor& gy) { x.accumulate_grad(Tensor(x.shape(), gy.item())); });
    return y;
}

// y = (1/n) sum_i x_i;  dy/dx_i = 1/n
Var mean(const Var& x) {
    const float n = static_cast<float>(x.size());
    Var y = make_result(Tensor::scalar(kernels::sum(x.value().data(), x.size()) / n), {x}, "mean");
    y.set_backward([x, n](const Tensor& gy) { x.accumulate_grad(Tensor(x.shape(), gy.item() / n)); });
    return y;
}

// y = sum_j x_j along axis;  dy/dx_j = 1 (gy spread back along the axis)
Var sum(const Var& x, int axis, bool keepdim) {
    const int a = norm_axis(axis, x.rank(), "sum");
    Var y = make_result(sum_axis(x.value(), axis_view(x.shape(), a), reduced_shape(x.shape(), a, keepdim)),
                        {x}, "sum");
    y.set_backward([x, a](const Tensor& gy) { x.accumulate_grad(spread(gy, x.shape(), a)); });
    return y;
}

// y = (1/n) sum_j x_j along axis;  dy/dx_j = 1/n
Var mean(const Var& x, int axis, bool keepdim) {
    const int a = norm_axis(axis, x.rank(), "mean");
    const AxisView v = axis_view(x.shape(), a);
    const float n = static_cast<float>(v.n);
    Var y = make_result(sum_axis(x.value(), v, reduced_shape(x.shape(), a, keepdim)) / n, {x}, "mean");
    y.set_backward([x, a, n](const Tensor& gy) { x.accumulate_grad(spread(gy, x.shape(), a) / n); });
    return y;
}

// Forward of max over the n axis of an (outer, n, inner) view. arg[o * inner + k] receives
// the flat index into x of the winner, which the backward pass routes the gradient to.
static Tensor max_forward(std::vector<size_t>& arg, const Tensor& x, const AxisView& v, const Shape& out_shape) {
    Tensor y(out_shape);
    arg.assign(y.size(), 0);
    const float* px = x.data();
    for (size_t o = 0; o < v.outer; ++o)
        for (size_t k = 0; k < v.inner; ++k) {
            size_t best = o * v.n * v.inner + k;
            for (size_t j = 1; j < v.n; ++j) {
                const size_t i = (o * v.n + j) * v.inner + k;
                // strictly greater keeps the first maximum; a NaN wins (and propagates)
                if (px[i] > px[best] || (std::isnan(px[i]) && !std::isnan(px[best]))) best = i;
            }
            arg[o * v.inner + k] = best;
            y[o * v.inner + k] = px[best];
        }
    return y;
}

// dx[arg[i]] += gy[i]
static Tensor max_backward(const std::vector<size_t>& arg, const Tensor& gy, const Shape& x_shape) {
    Tensor gx(x_shape);
    for (size_t i = 0; i < arg.size(); ++i) gx[arg[i]] += gy[i];
    return gx;
}

// y = max_j x_j along axis;  dy/dx_j = 1 at the first argmax, 0 elsewhere
Var max(const Var& x, int axis, bool keepdim) {
    const int a = norm_axis(axis, x.rank(), "max");
    const AxisView v = axis_view(x.shape(), a);
    if (v.n == 0) shape_fail("max", x.shape(), "cannot take the max over an empty axis");
    std::vector<size_t> arg;
    Var y = make_result(max_forward(arg, x.value(), v, reduced_shape(x.shape(), a, keepdim)), {x}, "max");
    y.set_backward([x, arg = std::move(arg)](const Tensor& gy) {
        x.accumulate_grad(max_backward(arg, gy, x.shape()));
    });
    return y;
}

// y = max_i x_i over all elements;  dy/dx_i = 1 at the first argmax
Var max(const Var& x) {
    if (x.size() == 0) shape_fail("max", x.shape(), "cannot take the max of an empty tensor");
    AxisView v;
    v.n = x.size();  // the whole tensor as one row
    std::vector<size_t> arg;
    Var y = make_result(max_forward(arg, x.value(), v, Shape{}), {x}, "max");
    y.set_backward([x, arg = std::move(arg)](const Tensor& gy) {
        x.accumulate_grad(max_backward(arg, gy, x.shape()));
    });
    return y;
}

// y = m + log sum_j e^(x_j - m), m = max_j x_j (so no e^x overflows);  dy/dx_j = e^(x_j - y)
Var logsumexp(const Var& x, int axis, bool keepdim) {
    const int a = norm_axis(axis, x.rank(), "logsumexp");
    const AxisView v = axis_view(x.shape(), a);
    if (v.n == 0) shape_fail("logsumexp", x.shape(), "cannot reduce an empty axis");
    Tensor y(reduced_shape(x.shape(), a, keepdim));
    std::vector<float> row(v.n);
    const float* px = x.value().data();
    for (size_t o = 0; o < v.outer; ++o)
        for (size_t k = 0; k < v.inner; ++k) {
            for (size_t j = 0; j < v.n; ++j) row[j] = px[(o * v.n + j) * v.inner + k];  // gather the axis
            const float m = kernels::max(row.data(), v.n);
            if (!std::isfinite(m)) {  // all -inf gives -inf; a +inf or NaN entry gives itself
                y[o * v.inner + k] = m;
                continue;
            }
            kernels::add_scalar(row.data(), row.data(), -m, v.n);
            kernels::exp(row.data(), row.data(), v.n);
            y[o * v.inner + k] = m + std::log(kernels::sum(row.data(), v.n));
        }
    Var r = make_result(std::move(y), {x}, "logsumexp");
    r.set_backward([x, a, rw = r.weak()](const Tensor& gy) {
        // x - y along the axis is log softmax; we exponentiate it with the SIMD kernel.
        Tensor p = x.value() - spread(rw.value(), x.shape(), a);  // (x's shape)
        for (float& e : p.vec()) e = std::isnan(e) ? kNegInf : e;  // -inf - (-inf): no gradient
        kernels::exp(p.data(), p.data(), p.size());
        x.accumulate_grad(p * spread(gy, x.shape(), a));
    });
    return r;
}

// ==== Normalisations over the last axis ======================================================
// x is seen as (rows, D), D = the last axis. Masks (1 = keep, 0 = masked out) are broadcast to
// x's full shape first, so `keep` below is null or points at rows * D floats.

// The largest kept entry of a row, or -inf when nothing is kept.
static float kept_max(const float* x, const float* keep, size_t d) {
    if (!keep) return kernels::max(x, d);
    float m = kNegInf;
    for (size_t j = 0; j < d; ++j)
        if (keep[j] != 0.0f && x[j] > m) m = x[j];
    return m;
}

// Forward: y = e^(x - m) / sum_kept e^(x - m) on kept entries, 0 on masked ones; a row with
// nothing kept (or only -inf kept) is all zeros.
static void softmax_forward(float* y, const float* x, const float* keep, size_t rows, size_t d) {
    if (!keep) {  // the common case: one SIMD call for the whole matrix
        kernels::softmax_rows(y, x, static_cast<int>(rows), static_cast<int>(d));
        return;
    }
    for (size_t r = 0; r < rows; ++r, x += d, y += d, keep += d) {
        const float m = kept_max(x, keep, d);
        if (m == kNegInf) {
            for (size_t j = 0; j < d; ++j) y[j] = 0.0f;
            continue;
        }
        kernels::add_scalar(y, x, -m, d);
        kernels::exp(y, y, d);
        // We zero masked entries after the exp: an exact 0, whatever the SIMD exp does there.
        for (size_t j = 0; j < d; ++j) y[j] = keep[j] != 0.0f ? y[j] : 0.0f;
        kernels::mul_scalar(y, y, 1.0f / kernels::sum(y, d), d);
    }
}

// y = softmax(x) over the last axis, optionally masked;  dy_j/dx_k = y_j ([j = k] - y_k)
Var softmax(const Var& x, const Tensor* mask) {
    size_t rows, d;
    last_axis(x.value(), "softmax", rows, d);
    Tensor keep = mask ? full_mask(x, *mask, "softmax") : Tensor(Shape{0});
    Tensor y = Tensor::uninitialized(x.shape());  // softmax_forward writes every element
    softmax_forward(y.data(), x.value().data(), mask ? keep.data() : nullptr, rows, d);
    Var r = make_result(std::move(y), {x}, "softmax");
    r.set_backward([x, rw = r.weak(), rows, d](const Tensor& gy) {
        // dx_j = y_j (gy_j - sum_k gy_k y_k); masked entries have y = 0, so dx = 0 there.
        Tensor gx = Tensor::uninitialized(x.shape());  // every element is written
        kernels::softmax_rows_backward(gx.data(), gy.data(), rw.value().data(), static_cast<int>(rows),
                                       static_cast<int>(d));
        x.accumulate_grad(std::move(gx));
    });
    return r;
}

// Forward: y = x - (m + log sum_kept e^(x - m)) on kept entries. Masked entries get 0 (not
// -inf) so that losses like -sum(target * log_softmax) stay finite; a row with nothing kept is 0.
static void log_softmax_forward(float* y, const float* x, const float* keep, size_t rows, size_t d) {
    for (size_t r = 0; r < rows; ++r, x += d, y += d) {
        const float* kr = keep ? keep + r * d : nullptr;
        const float m = kept_max(x, kr, d);
        if (m == kNegInf) {
            for (size_t j = 0; j < d; ++j) y[j] = 0.0f;
            continue;
        }
        kernels::add_scalar(y, x, -m, d);  // y is our scratch row for e^(x - m)
        kernels::exp(y, y, d);
        if (kr)
            for (size_t j = 0; j < d; ++j) y[j] = kr[j] != 0.0f ? y[j] : 0.0f;
        // y = (x - m) - log sum: subtracting m first keeps y's own precision; x - (m + log sum)
        // would round m + log sum, an error of ulp(|x|) / 2 (5e-4 for logits near 1e4).
        const float log_s = std::log(kernels::sum(y, d));
        kernels::add_scalar(y, x, -m, d);
        kernels::add_scalar(y, y, -log_s, d);
        if (kr)
            for (size_t j = 0; j < d; ++j) y[j] = kr[j] != 0.0f ? y[j] : 0.0f;
    }
}

// Backward: dx_j = gy_j - p_j sum_kept gy_k, p = e^y = softmax (0 and no gradient where masked)
static void log_softmax_backward(float* dx, const float* gy, const float* y, const float* keep,
                                 size_t rows, size_t d) {
    kernels::exp(dx, y, rows * d);  // dx holds p until we overwrite it row by row
    for (size_t r = 0; r < rows; ++r, dx += d, gy += d) {
        const float* kr = keep ? keep + r * d : nullptr;
        float s = 0.0f;
        if (kr) {
            for (size_t j = 0; j < d; ++j) s += kr[j] != 0.0f ? gy[j] : 0.0f;
            for (size_t j = 0; j < d; ++j) dx[j] = kr[j] != 0.0f ? gy[j] - dx[j] * s : 0.0f;
        } else {
            s = kernels::sum(gy, d);
            for (size_t j = 0; j < d; ++j) dx[j] = gy[j] - dx[j] * s;
        }
    }
}

// y = log softmax(x) over the last axis, optionally masked;  dy_j/dx_k = [j = k] - softmax_k
Var log_softmax(const Var& x, const Tensor* mask) {
    size_t rows, d;
    last_axis(x.value(), "log_softmax", rows, d);
    Tensor keep = mask ? full_mask(x, *mask, "log_softmax") : Tensor(Shape{0});
    Tensor y(x.shape());
    log_softmax_forward(y.data(), x.value().data(), mask ? keep.data() : nullptr, rows, d);
    Var r = make_result(std::move(y), {x}, "log_softmax");
    const bool masked = mask != nullptr;
    r.set_backward([x, rw = r.weak(), keep = std::move(keep), masked, rows, d](const Tensor& gy) {
        Tensor gx(x.shape());
        log_softmax_backward(gx.data(), gy.data(), rw.value().data(), masked ? keep.data() : nullptr, rows, d);
        x.accumulate_grad(std::move(gx));
    });
    return r;
}

// Layer normalisation, forward and backward, is one kernel each (core/kernels.h):
//   forward:  s = x (+ r, a residual added here: no tensor of the sum), xhat = (s - mean) rstd,
//             rstd = 1 / sqrt(var + eps) (biased var), y = xhat gamma + beta; we cache xhat, rstd;
//   backward: g = gy gamma, dx = rstd (g - mean(g) - xhat mean(g xhat)),
//             dgamma = sum over rows of gy xhat, dbeta = sum over rows of gy.
// gamma and beta are null (no affine parameters) or both Vars of shape {D}; res is null or a Var
// of x's shape, added to x before the normalisation (its gradient is x's).
static Var layer_norm_impl(const Var& x, const Var* res, const Var* gamma, const Var* beta, float eps) {
    size_t rows, d;
    last_axis(x.value(), "layer_norm", rows, d);
    if (res && res->shape() != x.shape())
        shape_fail("add_layer_norm", x.shape(), res->shape(), "the residual must have x's shape");
    if (gamma) {
        const Shape want{static_cast<int>(d)};
        if (gamma->shape() != want) shape_fail("layer_norm", x.shape(), gamma->shape(), "gamma must have shape [D]");
        if (beta->shape() != want) shape_fail("layer_norm", x.shape(), beta->shape(), "beta must have shape [D]");
    }
    // (..., D); layer_norm_forward writes every element of both (so no zero-fill first)
    Tensor y = Tensor::uninitialized(x.shape()), xhat = Tensor::uninitialized(x.shape());
    std::vector<float> rstd(rows);         // one per row
    kernels::layer_norm_forward(y.data(), xhat.data(), rstd.data(), x.value().data(),
                                res ? res->value().data() : nullptr, gamma ? gamma->value().data() : nullptr,
                                beta ? beta->value().data() : nullptr, rows, d, eps);
    std::vector<Var> parents{x};
    if (res) parents.push_back(*res);
    if (gamma) parents.insert(parents.end(), {*gamma, *beta});
    Var r = make_result(std::move(y), parents, res ? "add_layer_norm" : "layer_norm");
    const Var g = gamma ? *gamma : Var(), b = beta ? *beta : Var(), rv = res ? *res : Var();
    const bool affine = gamma != nullptr, residual = res != nullptr;
    r.set_backward([x, rv, g, b, affine, residual, xhat = std::move(xhat), rstd = std::move(rstd), rows,
                    d](const Tensor& gy) {
        Tensor gx = Tensor::uninitialized(x.shape());  // written row by row; dgamma, dbeta add up
        Tensor dgamma(Shape{static_cast<int>(d)}), dbeta(Shape{static_cast<int>(d)});
        kernels::layer_norm_backward(gx.data(), affine ? dgamma.data() : nullptr, affine ? dbeta.data() : nullptr,
                                     gy.data(), xhat.data(), rstd.data(), affine ? g.value().data() : nullptr,
                                     rows, d);
        if (residual) rv.accumulate_grad(gx);  // d(x + r)/dr = 1: the same gradient (a copy)
        x.accumulate_grad(std::move(gx));
        if (affine) {
            g.accumulate_grad(std::move(dgamma));
            b.accumulate_grad(std::move(dbeta));
        }
    });
    return r;
}

// y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis (gradients in the helpers)
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps) {
    return layer_norm_impl(x, nullptr, &gamma, &beta, eps);
}

// y = (x - mean) / sqrt(var + eps) over the last axis
Var layer_norm(const Var& x, float eps) { return layer_norm_impl(x, nullptr, nullptr, nullptr, eps); }

// y = layer_norm(x + r, gamma, beta): the same numbers, one op
Var add_layer_norm(const Var& x, const Var& r, const Var& gamma, const Var& beta, float eps) {
    return layer_norm_impl(x, &r, &gamma, &beta, eps);
}

// y = x / n, n = max(||x||_2, eps) per row of the last axis;
// dx = (gy - y (y . gy)) / n where ||x|| > eps, else gy / eps (n is the constant eps there)
Var l2_normalize(const Var& x, float eps) {
    size_t rows, d;
    last_axis(x.value(), "l2_normalize", rows, d);
    Tensor y = Tensor::uninitialized(x.shape());  // every row is written below
    std::vector<float> norm(rows);  // ||x|| per row, before clamping to eps
    const float* px = x.value().data();
    for (size_t r = 0; r < rows; ++r) {
        norm[r] = std::sqrt(kernels::dot(px + r * d, px + r * d, d));
        kernels::mul_scalar(y.data() + r * d, px + r * d, 1.0f / std::fmax(norm[r], eps), d);
    }
    Var out = make_result(std::move(y), {x}, "l2_normalize");
    out.set_backward([x, yw = out.weak(), norm = std::move(norm), eps, rows, d](const Tensor& gy) {
        Tensor gx = Tensor::uninitialized(x.shape());  // every row is written below
        const float* py = yw.value().data();
        for (size_t r = 0; r < rows; ++r) {
            const float* g = gy.data() + r * d;
            const float* yr = py + r * d;
            float* dx = gx.data() + r * d;
            const float inv_n = 1.0f / std::fmax(norm[r], eps);
            const float s = norm[r] > eps ? kernels::dot(yr, g, d) : 0.0f;
            for (size_t j = 0; j < d; ++j) dx[j] = (g[j] - yr[j] * s) * inv_n;
        }
        x.accumulate_grad(std::move(gx));
    });
    return out;
}

}  // namespace minirec
