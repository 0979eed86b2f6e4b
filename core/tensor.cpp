// Tensor storage, shape arithmetic and graph-free arithmetic with numpy broadcasting.
// Broadcasting is done by one strided 4-D loop (every shape is padded to rank 4 on the left);
// its innermost row goes through the SIMD kernels whenever the row is contiguous.
#include "core/tensor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <unordered_map>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/kernels.h"
#include "core/rng.h"

namespace minirec {

size_t numel(const Shape& shape) {
    size_t n = 1;
    for (int d : shape) n *= static_cast<size_t>(d);
    return n;
}

static void check_shape(const Shape& shape, const char* op) {
    if (shape.size() > 4) shape_fail(op, shape, "rank above 4 is not supported");
    for (int d : shape)
        if (d < 0) shape_fail(op, shape, "negative dimension");
}

// A training step allocates and frees the same few megabytes of tensors every time. By default
// glibc serves blocks above 128 KiB with mmap and hands the top of the heap back to the kernel
// once more than a few hundred KiB are free there, so each step took fresh pages from the kernel
// and paid a page fault (and a zeroing) per 4 KiB: a third of a small model's step in the
// profile. We ask glibc, once, to keep freed memory for reuse instead: serve blocks up to 32 MiB
// (its maximum) from the heap, and trim the heap only when 256 MiB lie free at its top. Other C
// libraries keep their defaults.
static bool keep_freed_memory() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    return true;
}

// ---- Recycling buffers ------------------------------------------------------------------------
// std::vector<float> zero-fills every new buffer, and most ops then overwrite all of it at once:
// in the AutoInt step a third of the time went into that fill. Tensor keeps std::vector (vec() is
// public), so instead we recycle: a dying tensor hands a large buffer to a per-thread pool keyed
// by its exact size, and Tensor::uninitialized takes one back, already the right size, so
// nothing is filled. A training step allocates the same sizes in every step, so after the first
// step almost every request finds a buffer. Small buffers (under kMinFloats) are cheap to fill and
// go back to malloc. The pool holds at most kMaxBytes; when a buffer does not fit, the sizes used
// longest ago are evicted first (least recently used), so a run that changes shapes (a benchmark
// moving to the next model, a larger batch) does not leave the pool full of sizes nobody asks for.
namespace {

constexpr size_t kMinFloats = 1024;          // 4 KiB
constexpr size_t kMaxBytes = size_t{512} << 20;

struct SizeClass {
    std::vector<std::vector<float>> buffers;
    uint64_t last_use = 0;                   // the pool's clock when this size was last given or taken
};

struct BufferPool {
    std::unordered_map<size_t, SizeClass> free;  // number of floats -> released buffers
    size_t bytes = 0;
    uint64_t clock = 0;
    BufferPool();
    ~BufferPool();
};

// This thread's pool: not yet made, alive, or already destroyed (at thread exit; tensors in
// static storage die after it and then simply free their buffers).
enum class PoolState { unborn, alive, dead };
thread_local PoolState pool_state = PoolState::unborn;

BufferPool::BufferPool() { pool_state = PoolState::alive; }
BufferPool::~BufferPool() { pool_state = PoolState::dead; }

BufferPool& pool() {
    thread_local BufferPool p;
    return p;
}

// Frees one buffer of the size used longest ago, other than `keep`; false when there is none.
bool evict_least_recent(BufferPool& p, size_t keep) {
    SizeClass* oldest = nullptr;
    size_t oldest_n = 0;
    for (auto& [n, c] : p.free)
        if (n != keep && !c.buffers.empty() && (!oldest || c.last_use < oldest->last_use)) oldest = &c, oldest_n = n;
    if (!oldest) return false;
    oldest->buffers.pop_back();
    p.bytes -= oldest_n * sizeof(float);
    return true;
}

}  // namespace

Tensor::~Tensor() {
    const size_t n = data_.size();
    if (n < kMinFloats || pool_state != PoolState::alive) return;
    const size_t need = n * sizeof(float);
    if (need > kMaxBytes) return;
    BufferPool& p = pool();
    while (p.bytes + need > kMaxBytes)
        if (!evict_least_recent(p, n)) return;   // the pool is full of this size already
    try {
        SizeClass& c = p.free[n];
        c.buffers.push_back(std::move(data_));
        c.last_use = ++p.clock;
        p.bytes += need;
    } catch (...) {  // out of memory for the pool's own bookkeeping: just free the buffer
    }
}

// Moves a pooled buffer of exactly n floats into `out`; false when there is none.
static bool take_recycled(size_t n, std::vector<float>& out) {
    if (n < kMinFloats || pool_state == PoolState::dead) return false;
    BufferPool& p = pool();
    auto it = p.free.find(n);
    if (it == p.free.end() || it->second.buffers.empty()) return false;
    out = std::move(it->second.buffers.back());
    it->second.buffers.pop_back();
    it->second.last_use = ++p.clock;
    p.bytes -= n * sizeof(float);
    return true;
}

size_t pooled_buffers(size_t n) {
    if (pool_state != PoolState::alive) return 0;
    auto it = pool().free.find(n);
    return it == pool().free.end() ? 0 : it->second.buffers.size();
}

Tensor Tensor::uninitialized(Shape shape) {
    check_shape(shape, "Tensor");
    Tensor t;
    if (!take_recycled(numel(shape), t.data_))
        return Tensor(std::move(shape));  // nothing to recycle: a fresh, zero-filled buffer
    t.shape_ = std::move(shape);
    return t;
}

Tensor::Tensor() : shape_{}, data_(1, 0.0f) {}

Tensor::Tensor(Shape shape, float fill) : shape_(std::move(shape)) {
    static const bool tuned = keep_freed_memory();  // once, before the first real allocation
    (void)tuned;
    check_shape(shape_, "Tensor");
    // Filled tensors recycle too (a fill costs the same either way): if only uninitialized took
    // buffers back, sizes made here would pile up in the pool until it hit kMaxBytes.
    const size_t n = numel(shape_);
    if (take_recycled(n, data_))
        std::fill(data_.begin(), data_.end(), fill);
    else
        data_.assign(n, fill);
}

// A deep copy, into a recycled buffer when there is one (reshape copies, for one).
Tensor::Tensor(const Tensor& other) : shape_(other.shape_) {
    if (take_recycled(other.data_.size(), data_))
        std::copy(other.data_.begin(), other.data_.end(), data_.begin());
    else
        data_ = other.data_;
}

// Copy assignment reuses our buffer when the sizes match and otherwise copies into a recycled
// one (std::vector's own assignment would allocate a buffer outside the pool, and such buffers
// pile up in it when they are released: accumulate_grad assigns a first gradient this way).
Tensor& Tensor::operator=(const Tensor& other) {
    if (this == &other) return *this;
    if (data_.size() == other.data_.size()) {
        shape_ = other.shape_;
        std::copy(other.data_.begin(), other.data_.end(), data_.begin());
    } else {
        *this = Tensor(other);
    }
    return *this;
}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(std::move(shape)), data_(std::move(values)) {
    check_shape(shape_, "Tensor");
    if (data_.size() != numel(shape_))
        shape_fail("Tensor", shape_, "needs " + std::to_string(numel(shape_)) + " values, got " +
                                         std::to_string(data_.size()));
}

Tensor Tensor::scalar(float v) { return Tensor(Shape{}, v); }

Tensor Tensor::uniform(Shape shape, Rng& rng, float lo, float hi) {
    Tensor t(std::move(shape));
    for (float& v : t.data_) v = rng.uniform(lo, hi);
    return t;
}

Tensor Tensor::normal(Shape shape, Rng& rng, float mean, float stddev) {
    Tensor t(std::move(shape));
    for (float& v : t.data_) v = rng.normal(mean, stddev);
    return t;
}

Tensor Tensor::arange(int n) {
    Tensor t({n});
    for (int i = 0; i < n; ++i) t.data_[static_cast<size_t>(i)] = static_cast<float>(i);
    return t;
}

int norm_axis(int axis, int rank, const char* op) {
    const int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank)
        arg_fail(op, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return a;
}

int Tensor::dim(int axis) const { return shape_[static_cast<size_t>(norm_axis(axis, rank(), "Tensor::dim"))]; }

static size_t flat_index(const Shape& shape, std::initializer_list<int> index) {
    if (index.size() != shape.size())
        shape_fail("Tensor::at", shape, "index has " + std::to_string(index.size()) + " coordinates");
    size_t flat = 0, k = 0;
    for (int i : index) {
        if (i < 0 || i >= shape[k])
            shape_fail("Tensor::at", shape, "index " + std::to_string(i) + " out of range on axis " + std::to_string(k));
        flat = flat * static_cast<size_t>(shape[k]) + static_cast<size_t>(i);
        ++k;
    }
    return flat;
}

float& Tensor::at(std::initializer_list<int> index) { return data_[flat_index(shape_, index)]; }
float Tensor::at(std::initializer_list<int> index) const { return data_[flat_index(shape_, index)]; }

float Tensor::item() const {
    if (data_.size() != 1) shape_fail("item", shape_, "needs exactly one element");
    return data_[0];
}

// Resolves a -1 in `shape` and checks that the element count is unchanged.
static Shape resolve_reshape(const Shape& from, Shape to) {
    size_t known = 1;
    int infer = -1;
    for (size_t i = 0; i < to.size(); ++i) {
        if (to[i] == -1) {
            if (infer >= 0) shape_fail("reshape", from, to, "more than one -1");
            infer = static_cast<int>(i);
        } else {
            known *= static_cast<size_t>(std::max(to[i], 0));
        }
    }
    const size_t n = numel(from);
    if (infer >= 0) {
        if (known == 0 || n % known != 0) shape_fail("reshape", from, to, "cannot infer the -1 dimension");
        to[static_cast<size_t>(infer)] = static_cast<int>(n / known);
    }
    check_shape(to, "reshape");
    if (numel(to) != n) shape_fail("reshape", from, to, "element counts differ");
    return to;
}

Tensor Tensor::reshape(Shape new_shape) const& {
    Tensor t = *this;
    t.shape_ = resolve_reshape(shape_, std::move(new_shape));
    return t;
}

Tensor Tensor::reshape(Shape new_shape) && {
    shape_ = resolve_reshape(shape_, std::move(new_shape));
    return std::move(*this);
}

void Tensor::fill(float v) { std::fill(data_.begin(), data_.end(), v); }

std::string Tensor::str(int max_per_dim) const {
    std::ostringstream os;
    os << "Tensor" << shape_str(shape_) << " {";
    const size_t show = std::min(data_.size(), static_cast<size_t>(max_per_dim) * static_cast<size_t>(max_per_dim));
    for (size_t i = 0; i < show; ++i) os << (i ? ", " : "") << data_[i];
    if (show < data_.size()) os << ", ...";
    os << "}";
    return os.str();
}

// ---- Broadcasting ---------------------------------------------------------------------------

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
    const size_t r = std::max(a.size(), b.size());
    Shape out(r);
    for (size_t i = 0; i < r; ++i) {
        // Right-align: position i from the right.
        const int da = i < a.size() ? a[a.size() - 1 - i] : 1;
        const int db = i < b.size() ? b[b.size() - 1 - i] : 1;
        if (da != db && da != 1 && db != 1)
            shape_fail(op, a, b, "cannot broadcast (dims " + std::to_string(da) + " and " +
                                     std::to_string(db) + " differ and neither is 1)");
        out[r - 1 - i] = (da == 1) ? db : da;
    }
    return out;
}

namespace {

// A shape padded to rank 4 on the left, with the strides (in elements) that reading a tensor of
// shape `own` at positions of shape `out` needs: stride 0 along broadcast axes.
struct Layout4 {
    std::array<int, 4> dims{1, 1, 1, 1};
    std::array<size_t, 4> stride{0, 0, 0, 0};
};

Layout4 layout(const Shape& own, const Shape& out) {
    Layout4 l;
    const size_t off = 4 - out.size();
    for (size_t i = 0; i < out.size(); ++i) l.dims[off + i] = out[i];
    // Own strides, right-aligned against out.
    size_t s = 1;
    for (size_t k = 0; k < own.size(); ++k) {
        const size_t i = own.size() - 1 - k;  // axis in own
        const size_t j = 3 - k;               // axis in the padded out
        l.stride[j] = (own[i] == 1 && l.dims[j] != 1) ? 0 : s;
        s *= static_cast<size_t>(own[i]);
    }
    return l;
}

enum class BinOp { add, sub, mul, div };

void row_op(BinOp op, float* y, const float* a, size_t sa, const float* b, size_t sb, size_t n) {
    if (sa == 1 && sb == 1) {
        switch (op) {
            case BinOp::add: kernels::add(y, a, b, n); return;
            case BinOp::sub: kernels::sub(y, a, b, n); return;
            case BinOp::mul: kernels::mul(y, a, b, n); return;
            case BinOp::div: kernels::div(y, a, b, n); return;
        }
    }
    if (sa == 1 && sb == 0) {  // row op scalar
        switch (op) {
            case BinOp::add: kernels::add_scalar(y, a, b[0], n); return;
            case BinOp::sub: kernels::add_scalar(y, a, -b[0], n); return;
            case BinOp::mul: kernels::mul_scalar(y, a, b[0], n); return;
            case BinOp::div: break;  // a / b is not a * (1/b) bit for bit; use the loop
        }
    }
    for (size_t i = 0; i < n; ++i) {
        const float x = a[i * sa], z = b[i * sb];
        switch (op) {
            case BinOp::add: y[i] = x + z; break;
            case BinOp::sub: y[i] = x - z; break;
            case BinOp::mul: y[i] = x * z; break;
            case BinOp::div: y[i] = x / z; break;
        }
    }
}

const char* op_name(BinOp op) {
    switch (op) {
        case BinOp::add: return "add";
        case BinOp::sub: return "sub";
        case BinOp::mul: return "mul";
        case BinOp::div: return "div";
    }
    return "?";
}

Tensor binary(BinOp op, const Tensor& a, const Tensor& b) {
    const Shape out_shape = broadcast_shape(a.shape(), b.shape(), op_name(op));
    Tensor y = Tensor::uninitialized(out_shape);  // every element is written below
    if (a.shape() == b.shape()) {  // the common case: one kernel call
        row_op(op, y.data(), a.data(), 1, b.data(), 1, a.size());
        return y;
    }
    const Layout4 la = layout(a.shape(), out_shape), lb = layout(b.shape(), out_shape);
    const auto& d = la.dims;
    float* py = y.data();
    for (int i0 = 0; i0 < d[0]; ++i0)
        for (int i1 = 0; i1 < d[1]; ++i1)
            for (int i2 = 0; i2 < d[2]; ++i2) {
                const float* pa = a.data() + i0 * la.stride[0] + i1 * la.stride[1] + i2 * la.stride[2];
                const float* pb = b.data() + i0 * lb.stride[0] + i1 * lb.stride[1] + i2 * lb.stride[2];
                if (la.stride[3] == 0 && lb.stride[3] != 0 && op != BinOp::sub && op != BinOp::div)
                    row_op(op, py, pb, lb.stride[3], pa, 0, static_cast<size_t>(d[3]));  // commutative
                else
                    row_op(op, py, pa, la.stride[3], pb, lb.stride[3], static_cast<size_t>(d[3]));
                py += d[3];
            }
    return y;
}

}  // namespace

Tensor broadcast_to(const Tensor& t, const Shape& shape) {
    if (broadcast_shape(t.shape(), shape, "broadcast_to") != shape)
        shape_fail("broadcast_to", t.shape(), shape, "the target shape is smaller");
    if (t.shape() == shape) return t;
    Tensor y = Tensor::uninitialized(shape);  // every element is written below
    const Layout4 l = layout(t.shape(), shape);
    float* py = y.data();
    for (int i0 = 0; i0 < l.dims[0]; ++i0)
        for (int i1 = 0; i1 < l.dims[1]; ++i1)
            for (int i2 = 0; i2 < l.dims[2]; ++i2) {
                const float* p = t.data() + i0 * l.stride[0] + i1 * l.stride[1] + i2 * l.stride[2];
                for (int i3 = 0; i3 < l.dims[3]; ++i3) *py++ = p[i3 * l.stride[3]];
            }
    return y;
}

Tensor sum_to(const Tensor& t, const Shape& shape) {
    if (t.shape() == shape) return t;
    if (broadcast_shape(shape, t.shape(), "sum_to") != t.shape())
        shape_fail("sum_to", t.shape(), shape, "the target does not broadcast to the source");
    Tensor y(shape);
    const Layout4 l = layout(shape, t.shape());  // where each source element lands in y
    const float* pt = t.data();
    for (int i0 = 0; i0 < l.dims[0]; ++i0)
        for (int i1 = 0; i1 < l.dims[1]; ++i1)
            for (int i2 = 0; i2 < l.dims[2]; ++i2) {
                float* p = y.data() + i0 * l.stride[0] + i1 * l.stride[1] + i2 * l.stride[2];
                if (l.stride[3] == 1) {
                    kernels::add(p, p, pt, static_cast<size_t>(l.dims[3]));
                } else {
                    p[0] += kernels::sum(pt, static_cast<size_t>(l.dims[3]));
                }
                pt += l.dims[3];
            }
    return y;
}

Tensor transposed(const Tensor& m) {
    if (m.rank() != 2) shape_fail("transposed", m.shape(), "needs a matrix");
    const int rows = m.dim(0), cols = m.dim(1);
    Tensor t = Tensor::uninitialized({cols, rows});
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j)
            t.data()[static_cast<size_t>(j) * rows + i] = m.data()[static_cast<size_t>(i) * cols + j];
    return t;
}

Tensor operator+(const Tensor& a, const Tensor& b) { return binary(BinOp::add, a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return binary(BinOp::sub, a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return binary(BinOp::mul, a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return binary(BinOp::div, a, b); }

Tensor operator-(const Tensor& a) { return a * -1.0f; }

Tensor operator+(const Tensor& a, float s) {
    Tensor y = Tensor::uninitialized(a.shape());
    kernels::add_scalar(y.data(), a.data(), s, a.size());
    return y;
}
Tensor operator-(const Tensor& a, float s) { return a + (-s); }
Tensor operator*(const Tensor& a, float s) {
    Tensor y = Tensor::uninitialized(a.shape());
    kernels::mul_scalar(y.data(), a.data(), s, a.size());
    return y;
}
Tensor operator/(const Tensor& a, float s) {
    Tensor y = Tensor::uninitialized(a.shape());
    for (size_t i = 0; i < a.size(); ++i) y[i] = a[i] / s;
    return y;
}
Tensor operator+(float s, const Tensor& a) { return a + s; }
Tensor operator-(float s, const Tensor& a) {
    Tensor y = Tensor::uninitialized(a.shape());
    for (size_t i = 0; i < a.size(); ++i) y[i] = s - a[i];
    return y;
}
Tensor operator*(float s, const Tensor& a) { return a * s; }
Tensor operator/(float s, const Tensor& a) {
    Tensor y = Tensor::uninitialized(a.shape());
    for (size_t i = 0; i < a.size(); ++i) y[i] = s / a[i];
    return y;
}

Tensor& operator+=(Tensor& a, const Tensor& b) {
    if (a.shape() == b.shape()) {
        kernels::add(a.data(), a.data(), b.data(), a.size());
    } else {
        if (broadcast_shape(a.shape(), b.shape(), "+=") != a.shape())
            shape_fail("+=", a.shape(), b.shape(), "the right side must broadcast to the left");
        a = a + b;
    }
    return a;
}

Tensor& operator-=(Tensor& a, const Tensor& b) {
    if (a.shape() == b.shape()) {
        kernels::sub(a.data(), a.data(), b.data(), a.size());
    } else {
        if (broadcast_shape(a.shape(), b.shape(), "-=") != a.shape())
            shape_fail("-=", a.shape(), b.shape(), "the right side must broadcast to the left");
        a = a - b;
    }
    return a;
}

Tensor& operator*=(Tensor& a, float s) {
    kernels::mul_scalar(a.data(), a.data(), s, a.size());
    return a;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape()) shape_fail("max_abs_diff", a.shape(), b.shape(), "shapes differ");
    float m = 0.0f;
    for (size_t i = 0; i < a.size(); ++i) {
        const float d = std::fabs(a[i] - b[i]);
        if (d > m || std::isnan(d)) m = d;
    }
    return m;
}

}  // namespace minirec
