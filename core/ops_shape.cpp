// The ops that move data rather than compute with it, plus matmul: linear algebra, shapes
// (reshape, transpose, permute, concat, split, slice, squeeze, broadcast) and embedding lookups.
// Each section holds the forward kernel, the backward kernel and the graph wrapper, in that order.
// Deliberately left out: views (every op copies), matmul broadcasting beyond one shared 2-D
// right operand, and sparse gradients (a lookup's gradient is a dense tensor of the table's shape).
#include <algorithm>
#include <string>

#include "core/kernels.h"
#include "core/ops.h"

namespace minirec {

namespace {

// Product of shape[from, to).
size_t prod(const Shape& s, size_t from, size_t to) {
    size_t n = 1;
    for (size_t i = from; i < to; ++i) n *= static_cast<size_t>(s[i]);
    return n;
}

// "matmul: [32,64] x [16,8]: why" - the DESIGN's form for a two-operand product.
[[noreturn]] void matmul_fail(const Shape& a, const Shape& b, bool ta, bool tb, const std::string& why) {
    std::string msg = "matmul: " + shape_str(a) + (ta ? "^T" : "") + " x " + shape_str(b) + (tb ? "^T" : "");
    throw ShapeError(msg + ": " + why);
}

}  // namespace

// =============================================================================================
// Linear algebra
// =============================================================================================

// ---- matmul ---------------------------------------------------------------------------------
// C = op(A) op(B) with op(X) = X or X^T. Row-major storage: A is (M,K), or (K,M) when ta;
// B is (K,N), or (N,K) when tb. Every kernel below is one sgemm whose transpose flags do the
// transposing, so we never copy a transposed operand.

namespace {

struct MatmulDims {
    int M = 0, N = 0, K = 0;
    size_t batch = 1;        // product of the leading axes of a (1 for 2-D)
    bool shared_b = false;   // b is 2-D and shared across the batch
};

// Leading dimensions of the stored (not transposed) operands.
inline int ld_a(const MatmulDims& d, bool ta) { return ta ? d.M : d.K; }
inline int ld_b(const MatmulDims& d, bool tb) { return tb ? d.K : d.N; }

// C (M,N) = op(A) (M,K) x op(B) (K,N)
void matmul_forward(float* C, const float* A, const float* B, bool ta, bool tb, const MatmulDims& d) {
    kernels::sgemm(ta, tb, d.M, d.N, d.K, 1.0f, A, ld_a(d, ta), B, ld_b(d, tb), 0.0f, C, d.N);
}

// dA = G op(B)^T when A is not transposed; when it is, dA = (G op(B)^T)^T = op(B) G^T.
// beta = 1 adds into dA (used to sum over a batch).
void matmul_backward_a(float* dA, const float* G, const float* B, bool ta, bool tb, const MatmulDims& d,
                       float beta) {
    if (!ta)  // (M,N) x (N,K) -> (M,K)
        kernels::sgemm(false, !tb, d.M, d.K, d.N, 1.0f, G, d.N, B, ld_b(d, tb), beta, dA, d.K);
    else      // (K,N) x (N,M) -> (K,M)
        kernels::sgemm(tb, true, d.K, d.M, d.N, 1.0f, B, ld_b(d, tb), G, d.N, beta, dA, d.M);
}

// dB = op(A)^T G when B is not transposed; when it is, dB = (op(A)^T G)^T = G^T op(A).
void matmul_backward_b(float* dB, const float* G, const float* A, bool ta, bool tb, const MatmulDims& d,
                       float beta) {
    if (!tb)  // (K,M) x (M,N) -> (K,N)
        kernels::sgemm(!ta, false, d.K, d.N, d.M, 1.0f, A, ld_a(d, ta), G, d.N, beta, dB, d.N);
    else      // (N,M) x (M,K) -> (N,K)
        kernels::sgemm(true, ta, d.N, d.K, d.M, 1.0f, G, d.N, A, ld_a(d, ta), beta, dB, d.K);
}

// Checks the operands and works out M, N, K and the batch. Accepted:
//   (M,K) x (K,N) -> (M,N)
//   (B,M,K) x (B,K,N) -> (B,M,N)      and the same with two leading axes (B,H,M,K) x (B,H,K,N)
//   (B,M,K) x (K,N) -> (B,M,N)        a 2-D right operand shared across the batch
MatmulDims matmul_dims(const Shape& a, const Shape& b, bool ta, bool tb, Shape& out) {
    const size_t ra = a.size(), rb = b.size();
    if (ra < 2 || rb < 2) matmul_fail(a, b, ta, tb, "both operands need rank 2 or more");
    if (rb != 2 && rb != ra)
        matmul_fail(a, b, ta, tb, "the right operand must be 2-D (shared) or have the left one's rank");
    if (rb == ra)
        for (size_t i = 0; i + 2 < ra; ++i)
            if (a[i] != b[i])
                matmul_fail(a, b, ta, tb, "batch axis " + std::to_string(i) + " differs: " +
                                               std::to_string(a[i]) + " != " + std::to_string(b[i]));
    MatmulDims d;
    d.M = ta ? a[ra - 1] : a[ra - 2];
    const int ka = ta ? a[ra - 2] : a[ra - 1];
    const int kb = tb ? b[rb - 1] : b[rb - 2];
    d.N = tb ? b[rb - 2] : b[rb - 1];
    if (ka != kb)
        matmul_fail(a, b, ta, tb, "inner sizes " + std::to_string(ka) + " != " + std::to_string(kb));
    d.K = ka;
    d.batch = prod(a, 0, ra - 2);
    d.shared_b = (rb == 2 && ra > 2);
    out.assign(a.begin(), a.end() - 2);
    out.push_back(d.M);
    out.push_back(d.N);
    return d;
}

}  // namespace

// y = op(a) op(b);  da = gy op(b)^T (transposed back when ta),  db = op(a)^T gy (likewise when tb).
Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
    Shape out;
    MatmulDims d = matmul_dims(a.shape(), b.shape(), trans_a, trans_b, out);
    // With a shared b and an untransposed a, the batch folds into M: (B*M,K) x (K,N) is one GEMM.
    if (d.shared_b && !trans_a) {
        d.M = static_cast<int>(d.batch) * d.M;
        d.batch = 1;
    }
    const size_t sa = static_cast<size_t>(d.M) * d.K, sb = d.shared_b ? 0 : static_cast<size_t>(d.K) * d.N;
    const size_t sc = static_cast<size_t>(d.M) * d.N;
    const bool empty = d.M == 0 || d.N == 0 || d.K == 0;  // the result is all zeros

    // Every element of c (and of da, db below) is written by a beta = 0 GEMM unless empty.
    Tensor c = empty ? Tensor(out) : Tensor::uninitialized(out);
    if (!empty)
        for (size_t i = 0; i < d.batch; ++i)
            matmul_forward(c.data() + i * sc, a.value().data() + i * sa, b.value().data() + i * sb,
                           trans_a, trans_b, d);

    Var y = make_result(std::move(c), {a, b}, "matmul");
    y.set_backward([a, b, d, sa, sb, sc, empty, trans_a, trans_b](const Tensor& gy) {
        if (a.requires_grad()) {
            Tensor da = empty ? Tensor(a.shape()) : Tensor::uninitialized(a.shape());
            if (!empty)
                for (size_t i = 0; i < d.batch; ++i)
                    matmul_backward_a(da.data() + i * sa, gy.data() + i * sc, b.value().data() + i * sb,
                                      trans_a, trans_b, d, 0.0f);
            a.accumulate_grad(std::move(da));
        }
        if (b.requires_grad()) {
            Tensor db = empty ? Tensor(b.shape()) : Tensor::uninitialized(b.shape());
            // A shared b collects the sum over the batch: beta = 1 after the first product.
            if (!empty)
                for (size_t i = 0; i < d.batch; ++i)
                    matmul_backward_b(db.data() + i * sb, gy.data() + i * sc, a.value().data() + i * sa,
                                      trans_a, trans_b, d, (d.shared_b && i > 0) ? 1.0f : 0.0f);
            b.accumulate_grad(std::move(db));
        }
    });
    return y;
}

// =============================================================================================
// Shapes
// =============================================================================================

// ---- reshape ----------------------------------------------------------------------------------
// y = x with a new shape;  dx = gy with x's shape.
Var reshape(const Var& x, Shape shape) {
    Var y = make_result(x.value().reshape(std::move(shape)), {x}, "reshape");
    y.set_backward([x](Tensor& gy) { x.accumulate_grad(std::move(gy).reshape(x.shape())); });
    return y;
}

// ---- permute and transpose ----------------------------------------------------------------------
// y[i_0, .., i_{r-1}] = x[j] where j[dims[k]] = i_k;  dx = gy permuted by the inverse of dims.

namespace {

// y = x with its axes reordered: y.shape[k] = x.shape[dims[k]]. We pad both to rank 4 on the
// left and walk y in order, reading x through the permuted strides.
Tensor permute_forward(const Tensor& x, const std::vector<int>& dims) {
    const Shape& xs = x.shape();
    const size_t r = xs.size(), pad = 4 - r;
    Shape ys(r);
    size_t xstride[4] = {0, 0, 0, 0};  // x's stride for y's axis k (padded)
    int ydim[4] = {1, 1, 1, 1};
    std::vector<size_t> own(r);
    for (size_t i = r, s = 1; i-- > 0;) {
        own[i] = s;
        s *= static_cast<size_t>(xs[i]);
    }
    for (size_t k = 0; k < r; ++k) {
        const size_t src = static_cast<size_t>(dims[k]);
        ys[k] = xs[src];
        ydim[pad + k] = xs[src];
        xstride[pad + k] = own[src];
    }
    Tensor y(ys);
    float* py = y.data();
    const float* px = x.data();
    for (int i0 = 0; i0 < ydim[0]; ++i0)
        for (int i1 = 0; i1 < ydim[1]; ++i1)
            for (int i2 = 0; i2 < ydim[2]; ++i2) {
                const float* p = px + i0 * xstride[0] + i1 * xstride[1] + i2 * xstride[2];
                for (int i3 = 0; i3 < ydim[3]; ++i3) *py++ = p[i3 * xstride[3]];
            }
    return y;
}

// The permutation that undoes dims.
std::vector<int> inverse_permutation(const std::vector<int>& dims) {
    std::vector<int> inv(dims.size());
    for (size_t k = 0; k < dims.size(); ++k) inv[static_cast<size_t>(dims[k])] = static_cast<int>(k);
    return inv;
}

// Resolves negative axes and checks that dims is a permutation of 0..rank-1.
std::vector<int> check_permutation(const Shape& shape, std::vector<int> dims) {
    const int r = static_cast<int>(shape.size());
    if (r < 2 || r > 4) shape_fail("permute", shape, "needs rank 2 to 4");
    std::string given = "(";
    for (size_t k = 0; k < dims.size(); ++k) given += (k ? "," : "") + std::to_string(dims[k]);
    given += ")";
    if (static_cast<int>(dims.size()) != r)
        shape_fail("permute", shape, "dims " + given + " must name each of the " + std::to_string(r) + " axes once");
    std::vector<bool> used(static_cast<size_t>(r), false);
    for (int& a : dims) {
        if (a < -r || a >= r) shape_fail("permute", shape, "dims " + given + " has an axis out of range");
        if (a < 0) a += r;
        if (used[static_cast<size_t>(a)]) shape_fail("permute", shape, "dims " + given + " repeats an axis");
        used[static_cast<size_t>(a)] = true;
    }
    return dims;
}

}  // namespace

// y = x with axes reordered;  dx = permute(gy, dims^-1).
Var permute(const Var& x, std::vector<int> dims) {
    dims = check_permutation(x.shape(), std::move(dims));
    Var y = make_result(permute_forward(x.value(), dims), {x}, "permute");
    y.set_backward([x, inv = inverse_permutation(dims)](const Tensor& gy) {
        x.accumulate_grad(permute_forward(gy, inv));
    });
    return y;
}

// y = x^T over the last two axes, (.., M, N) -> (.., N, M);  dx = gy^T.
Var transpose(const Var& x) {
    const int r = x.rank();
    if (r < 2) shape_fail("transpose", x.shape(), "needs rank 2 or more");
    std::vector<int> dims(static_cast<size_t>(r));
    for (int k = 0; k < r; ++k) dims[static_cast<size_t>(k)] = k;
    std::swap(dims[static_cast<size_t>(r - 2)], dims[static_cast<size_t>(r - 1)]);
    Var y = make_result(permute_forward(x.value(), dims), {x}, "transpose");
    y.set_backward([x, dims](const Tensor& gy) { x.accumulate_grad(permute_forward(gy, dims)); });
    return y;
}

// ---- concat, slice, split -------------------------------------------------------------------------
// Along an axis, a tensor is `outer` blocks of (axis length x inner) floats. Concat writes each
// input into a band of the output; slice reads a band. Their backwards swap the two.

namespace {

// For each of `outer` blocks, copies `len * inner` floats from band [src_start, src_start + len)
// of src (axis length src_len) to band [dst_start, ..) of dst (axis length dst_len).
void copy_band(float* dst, size_t dst_len, size_t dst_start, const float* src, size_t src_len,
               size_t src_start, size_t len, size_t outer, size_t inner) {
    for (size_t o = 0; o < outer; ++o) {
        const float* s = src + (o * src_len + src_start) * inner;
        std::copy(s, s + len * inner, dst + (o * dst_len + dst_start) * inner);
    }
}

// dst's band [dst_start, dst_start + len) += all of src (len along the axis), for each outer index.
void add_band(float* dst, size_t dst_len, size_t dst_start, const float* src, size_t len, size_t outer,
              size_t inner) {
    for (size_t o = 0; o < outer; ++o) {
        float* d = dst + (o * dst_len + dst_start) * inner;
        const float* s = src + o * len * inner;
        for (size_t i = 0; i < len * inner; ++i) d[i] += s[i];
    }
}

}  // namespace

// y = [x_0, x_1, ..] along axis;  dx_k = the band of gy that x_k filled.
Var concat(const std::vector<Var>& xs, int axis) {
    if (xs.empty()) arg_fail("concat", "needs at least one input");
    const Shape& s0 = xs[0].shape();
    const int ax = norm_axis(axis, static_cast<int>(s0.size()), "concat");
    Shape out = s0;
    out[static_cast<size_t>(ax)] = 0;
    for (size_t k = 0; k < xs.size(); ++k) {
        const Shape& s = xs[k].shape();
        bool ok = s.size() == s0.size();
        for (size_t i = 0; ok && i < s.size(); ++i) ok = (static_cast<int>(i) == ax) || s[i] == s0[i];
        if (!ok)
            shape_fail("concat", s0, s, "input " + std::to_string(k) + " differs from input 0 off the concat axis " +
                                            std::to_string(ax));
        out[static_cast<size_t>(ax)] += s[static_cast<size_t>(ax)];
    }
    const size_t outer = prod(s0, 0, static_cast<size_t>(ax)), inner = prod(s0, static_cast<size_t>(ax) + 1, s0.size());
    const size_t total = static_cast<size_t>(out[static_cast<size_t>(ax)]);

    Tensor y(out);
    for (size_t k = 0, start = 0; k < xs.size(); ++k) {
        const size_t len = static_cast<size_t>(xs[k].dim(ax));
        copy_band(y.data(), total, start, xs[k].value().data(), len, 0, len, outer, inner);
        start += len;
    }
    Var r = make_result(std::move(y), xs, "concat");
    r.set_backward([xs, ax, outer, inner, total](const Tensor& gy) {
        for (size_t k = 0, start = 0; k < xs.size(); ++k) {
            const size_t len = static_cast<size_t>(xs[k].dim(ax));
            if (xs[k].requires_grad()) {
                Tensor dx(xs[k].shape());
                copy_band(dx.data(), len, 0, gy.data(), total, start, len, outer, inner);
                xs[k].accumulate_grad(std::move(dx));
            }
            start += len;
        }
    });
    return r;
}

namespace {

// y = x[.., start:end, ..] along axis;  dx = gy placed in that band, zeros elsewhere.
// `op` names the public op for error messages (slice or split).
Var slice_impl(const Var& x, int axis, int start, int end, const char* op) {
    const Shape& s = x.shape();
    const int ax = norm_axis(axis, x.rank(), op);
    const int n = s[static_cast<size_t>(ax)];
    // Negative bounds count from the end, as in Python.
    const int b = start < 0 ? start + n : start, e = end < 0 ? end + n : end;
    if (b < 0 || e > n || b > e)
        shape_fail(op, s, "range [" + std::to_string(start) + ", " + std::to_string(end) +
                              ") is not inside axis " + std::to_string(ax) + " of size " + std::to_string(n));
    Shape out = s;
    out[static_cast<size_t>(ax)] = e - b;
    const size_t outer = prod(s, 0, static_cast<size_t>(ax)), inner = prod(s, static_cast<size_t>(ax) + 1, s.size());
    const size_t len = static_cast<size_t>(e - b), total = static_cast<size_t>(n), from = static_cast<size_t>(b);

    Tensor y = Tensor::uninitialized(out);  // every element is copied below
    copy_band(y.data(), len, 0, x.value().data(), total, from, len, outer, inner);
    Var r = make_result(std::move(y), {x}, op);
    r.set_backward([x, outer, inner, len, total, from](const Tensor& gy) {
        // We add the band straight into x's gradient (zeros the first time) rather than building
        // a full-size dx per slice: the T slices of a sequence (GRU, LSTM) cost O(T), not O(T^2).
        Node* n = x.node();
        if (!n->requires_grad) return;
        if (!x.has_grad()) n->grad = Tensor(x.shape());
        add_band(n->grad.data(), total, from, gy.data(), len, outer, inner);
    });
    return r;
}

}  // namespace

Var slice(const Var& x, int axis, int start, int end) { return slice_impl(x, axis, start, end, "slice"); }

// Consecutive slices whose sizes must add up to the axis; each piece's backward fills its band.
std::vector<Var> split(const Var& x, const std::vector<int>& sizes, int axis) {
    const int ax = norm_axis(axis, x.rank(), "split");
    long total = 0;
    std::string list;
    for (int sz : sizes) {
        if (sz < 0) arg_fail("split", "negative size " + std::to_string(sz));
        total += sz;
        list += (list.empty() ? "" : ",") + std::to_string(sz);
    }
    if (total != x.dim(ax))
        shape_fail("split", x.shape(), "sizes (" + list + ") add up to " + std::to_string(total) +
                                           ", not to axis " + std::to_string(ax) + " of size " + std::to_string(x.dim(ax)));
    std::vector<Var> parts;
    parts.reserve(sizes.size());
    int start = 0;
    for (int sz : sizes) {
        parts.push_back(slice_impl(x, ax, start, start + sz, "split"));
        start += sz;
    }
    return parts;
}

// ---- unsqueeze, squeeze ---------------------------------------------------------------------------
// Both only relabel the shape: dx = gy with x's shape.

// (.., n, ..) -> (.., 1, n, ..): axis may be 0..rank (negative: from the end, -1 appends).
Var unsqueeze(const Var& x, int axis) {
    const int r = x.rank();
    const int ax = norm_axis(axis, r + 1, "unsqueeze");
    if (r >= 4) shape_fail("unsqueeze", x.shape(), "the result would have rank above 4");
    Shape s = x.shape();
    s.insert(s.begin() + ax, 1);
    Var y = make_result(x.value().reshape(s), {x}, "unsqueeze");
    y.set_backward([x](Tensor& gy) { x.accumulate_grad(std::move(gy).reshape(x.shape())); });
    return y;
}

// (.., 1, ..) -> (.., ..): the axis must have size 1.
Var squeeze(const Var& x, int axis) {
    const int ax = norm_axis(axis, x.rank(), "squeeze");
    if (x.dim(ax) != 1)
        shape_fail("squeeze", x.shape(), "axis " + std::to_string(ax) + " has size " + std::to_string(x.dim(ax)) + ", not 1");
    Shape s = x.shape();
    s.erase(s.begin() + ax);
    Var y = make_result(x.value().reshape(s), {x}, "squeeze");
    y.set_backward([x](Tensor& gy) { x.accumulate_grad(std::move(gy).reshape(x.shape())); });
    return y;
}

// ---- broadcast_to ---------------------------------------------------------------------------------
// y = x repeated along broadcast axes;  dx = sum_to(gy, x.shape), the sum over those axes.
Var broadcast_to(const Var& x, const Shape& shape) {
    Var y = make_result(broadcast_to(x.value(), shape), {x}, "broadcast_to");
    y.set_backward([x](const Tensor& gy) { x.accumulate_grad(sum_to(gy, x.shape())); });
    return y;
}

// =============================================================================================
// Lookups (embeddings)
// =============================================================================================

namespace {

// Checks that table is (N,D) and that every id lies in [0, N); names the first bad id.
void check_ids(const char* op, const Shape& table, const Ids& ids) {
    if (table.size() != 2) shape_fail(op, table, "the table must be 2-D (N, D)");
    const int n = table[0];
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= n)
            arg_fail(op, "id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                             " is out of range for a table of " + std::to_string(n) + " rows");
}

}  // namespace

// ---- gather_rows ----------------------------------------------------------------------------------

namespace {

// y (n,D) = table[ids] (N,D)
void gather_rows_forward(float* y, const float* table, const Ids& ids, size_t D) {
    for (size_t i = 0; i < ids.size(); ++i) {
        const float* row = table + static_cast<size_t>(ids[i]) * D;
        std::copy(row, row + D, y + i * D);
    }
}

// dtable[ids[i]] += gy[i]: an id that appears twice collects both gradients.
void gather_rows_backward(float* dtable, const float* gy, const Ids& ids, size_t D) {
    for (size_t i = 0; i < ids.size(); ++i)
        kernels::axpy(dtable + static_cast<size_t>(ids[i]) * D, 1.0f, gy + i * D, D);
}

}  // namespace

// y_i = table[ids_i];  dtable[j] = sum of gy_i over the positions i with ids_i == j.
Var gather_rows(const Var& table, const Ids& ids) {
    check_ids("gather_rows", table.shape(), ids);
    const int D = table.dim(1);
    Tensor y = Tensor::uninitialized({static_cast<int>(ids.size()), D});  // (n, D), every row written
    gather_rows_forward(y.data(), table.value().data(), ids, static_cast<size_t>(D));
    Var r = make_result(std::move(y), {table}, "gather_rows");
    r.set_backward([table, ids](const Tensor& gy) {
        Tensor dt(table.shape());  // (N, D), zero except the rows we touched
        gather_rows_backward(dt.data(), gy.data(), ids, static_cast<size_t>(table.dim(1)));
        table.accumulate_grad(std::move(dt));
    });
    return r;
}

// ---- segment_sum, segment_mean --------------------------------------------------------------------
// Segment s owns ids[offsets[s] .. offsets[s+1]). With weights w (1 when absent):
//   y_s = sum_j w_j table[ids_j]                 (sum)
//   y_s = (1 / n_s) sum_j w_j table[ids_j]       (mean; n_s = number of ids in s, 0 rows give 0)
// The mean is the sum with every weight scaled by 1/n_s, so both share one kernel pair.

namespace {

// Checks offsets (S+1 entries, 0 first, ids.size() last, never decreasing) and weights.
void check_segments(const char* op, const Ids& ids, const std::vector<int>& offsets,
                    const std::vector<float>* w) {
    if (offsets.empty()) arg_fail(op, "offsets needs S+1 entries (at least the leading 0)");
    if (offsets.front() != 0) arg_fail(op, "offsets[0] must be 0, got " + std::to_string(offsets.front()));
    for (size_t s = 1; s < offsets.size(); ++s)
        if (offsets[s] < offsets[s - 1])
            arg_fail(op, "offsets must not decrease, but offsets[" + std::to_string(s) + "] = " +
                             std::to_string(offsets[s]) + " < offsets[" + std::to_string(s - 1) +
                             "] = " + std::to_string(offsets[s - 1]));
    if (static_cast<size_t>(offsets.back()) != ids.size())
        arg_fail(op, "the last offset must equal the number of ids (" + std::to_string(ids.size()) +
                         "), got " + std::to_string(offsets.back()));
    if (w && w->size() != ids.size())
        arg_fail(op, "per_id_weights has " + std::to_string(w->size()) + " entries for " +
                         std::to_string(ids.size()) + " ids");
}

// y (S,D): y_s = sum over j in segment s of w_j table[ids_j]; w empty means all ones.
void segment_forward(float* y, const float* table, const Ids& ids, const std::vector<int>& offsets,
                     const std::vector<float>& w, size_t D) {
    for (size_t s = 0; s + 1 < offsets.size(); ++s)
        for (int j = offsets[s]; j < offsets[s + 1]; ++j) {
            const size_t jj = static_cast<size_t>(j);
            kernels::axpy(y + s * D, w.empty() ? 1.0f : w[jj], table + static_cast<size_t>(ids[jj]) * D, D);
        }
}

// dtable[ids_j] += w_j gy_s for every j in segment s.
void segment_backward(float* dtable, const float* gy, const Ids& ids, const std::vector<int>& offsets,
                      const std::vector<float>& w, size_t D) {
    for (size_t s = 0; s + 1 < offsets.size(); ++s)
        for (int j = offsets[s]; j < offsets[s + 1]; ++j) {
            const size_t jj = static_cast<size_t>(j);
            kernels::axpy(dtable + static_cast<size_t>(ids[jj]) * D, w.empty() ? 1.0f : w[jj], gy + s * D, D);
        }
}

// The graph wrapper shared by sum and mean; w holds the effective weights (empty: all ones).
Var segment_op(const char* op, const Var& table, const Ids& ids, const std::vector<int>& offsets,
               std::vector<float> w) {
    const int S = static_cast<int>(offsets.size()) - 1, D = table.dim(1);
    Tensor y({S, D});  // (S, D); an empty segment stays 0
    segment_forward(y.data(), table.value().data(), ids, offsets, w, static_cast<size_t>(D));
    Var r = make_result(std::move(y), {table}, op);
    r.set_backward([table, ids, offsets, w = std::move(w)](const Tensor& gy) {
        Tensor dt(table.shape());
        segment_backward(dt.data(), gy.data(), ids, offsets, w, static_cast<size_t>(table.dim(1)));
        table.accumulate_grad(std::move(dt));
    });
    return r;
}

}  // namespace

// y_s = sum_j w_j table[ids_j];  dtable[ids_j] += w_j gy_s.
Var segment_sum(const Var& table, const Ids& ids, const std::vector<int>& offsets,
                const std::vector<float>* per_id_weights) {
    check_ids("segment_sum", table.shape(), ids);
    check_segments("segment_sum", ids, offsets, per_id_weights);
    return segment_op("segment_sum", table, ids, offsets, per_id_weights ? *per_id_weights : std::vector<float>{});
}

// y_s = (1/n_s) sum_j w_j table[ids_j];  dtable[ids_j] += (w_j / n_s) gy_s.
Var segment_mean(const Var& table, const Ids& ids, const std::vector<int>& offsets,
                 const std::vector<float>* per_id_weights) {
    check_ids("segment_mean", table.shape(), ids);
    check_segments("segment_mean", ids, offsets, per_id_weights);
    std::vector<float> w(ids.size());
    for (size_t s = 0; s + 1 < offsets.size(); ++s) {
        const int n = offsets[s + 1] - offsets[s];
        for (int j = offsets[s]; j < offsets[s + 1]; ++j) {
            const size_t jj = static_cast<size_t>(j);
            w[jj] = (per_id_weights ? (*per_id_weights)[jj] : 1.0f) / static_cast<float>(n);
        }
    }
    return segment_op("segment_mean", table, ids, offsets, std::move(w));
}

}  // namespace minirec
