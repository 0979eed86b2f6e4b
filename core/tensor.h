// Tensor: an owned, contiguous, row-major block of float32 with a shape of rank 0 to 4.
// Value semantics: copying a Tensor copies its data; moving is cheap. Plain arithmetic here does
// not record a graph (that is autograd.h's job); it is what backward closures compute with.
// Deliberately left out: views and strides, other dtypes, devices, ranks above 4.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"

namespace minirec {

class Rng;

using Shape = std::vector<int>;

// Number of elements of a shape (1 for the scalar shape {}).
size_t numel(const Shape& shape);

// Integer ids (items, users, field values) travel as plain vectors, never as floats.
using Ids = std::vector<int32_t>;

class Tensor {
public:
    Tensor();                                      // scalar 0
    explicit Tensor(Shape shape, float fill = 0.0f);
    Tensor(Shape shape, std::vector<float> values);  // values.size() must equal numel(shape)
    // Value semantics as before; the destructor hands large buffers to a per-thread recycling
    // pool (see uninitialized), so the copy and move members are spelled out.
    Tensor(const Tensor& other);
    Tensor(Tensor&&) noexcept = default;
    Tensor& operator=(const Tensor& other);
    Tensor& operator=(Tensor&&) noexcept = default;
    ~Tensor();

    // A tensor whose elements are unspecified (valid floats, but any values): for ops that write
    // every element right away, such as a GEMM with beta = 0 or an elementwise kernel. It reuses
    // a buffer of exactly this size that an earlier tensor released, so it skips the zero-fill
    // that std::vector would do (a training step allocates the same sizes every time).
    static Tensor uninitialized(Shape shape);

    static Tensor scalar(float v);
    static Tensor zeros(Shape shape) { return Tensor(std::move(shape), 0.0f); }
    static Tensor ones(Shape shape) { return Tensor(std::move(shape), 1.0f); }
    static Tensor full(Shape shape, float v) { return Tensor(std::move(shape), v); }
    static Tensor uniform(Shape shape, Rng& rng, float lo, float hi);
    static Tensor normal(Shape shape, Rng& rng, float mean = 0.0f, float stddev = 1.0f);
    static Tensor arange(int n);                   // [0, 1, ..., n-1] as floats, shape {n}

    const Shape& shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int dim(int axis) const;                       // negative axes count from the end
    size_t size() const { return data_.size(); }
    bool empty() const { return data_.empty(); }
    bool same_shape(const Tensor& o) const { return shape_ == o.shape_; }

    float* data() { return data_.data(); }
    const float* data() const { return data_.data(); }
    std::vector<float>& vec() { return data_; }
    const std::vector<float>& vec() const { return data_; }
    float& operator[](size_t i) { return data_[i]; }
    float operator[](size_t i) const { return data_[i]; }

    // Checked element access by multi-index, e.g. t.at({b, i, j}).
    float& at(std::initializer_list<int> index);
    float at(std::initializer_list<int> index) const;

    float item() const;                            // the value of a one-element tensor

    // Same data, new shape (one dimension may be -1 and is inferred).
    Tensor reshape(Shape new_shape) const&;
    Tensor reshape(Shape new_shape) &&;

    void fill(float v);
    std::string str(int max_per_dim = 6) const;    // for printing and debugging

private:
    Shape shape_;
    std::vector<float> data_;
};

// ---- Shape arithmetic -----------------------------------------------------------------------
// Numpy-style broadcasting: shapes are right-aligned; each pair of dims must be equal or one of
// them 1. Throws ShapeError naming `op` and both shapes otherwise.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);
// Sum `t` over broadcast axes so the result has `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& t, const Shape& shape);
// Repeat `t` along broadcast axes so the result has `shape`.
Tensor broadcast_to(const Tensor& t, const Shape& shape);
// A (rows, cols) matrix as (cols, rows): fused ops make W^T once, not once per block of rows.
Tensor transposed(const Tensor& m);
// Resolve a possibly negative axis for rank r; throws ArgumentError naming `op` when out of range.
int norm_axis(int axis, int rank, const char* op);

// ---- Plain (graph-free) arithmetic with broadcasting -----------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, float s);
Tensor operator-(const Tensor& a, float s);
Tensor operator*(const Tensor& a, float s);
Tensor operator/(const Tensor& a, float s);
Tensor operator+(float s, const Tensor& a);
Tensor operator-(float s, const Tensor& a);
Tensor operator*(float s, const Tensor& a);
Tensor operator/(float s, const Tensor& a);
Tensor& operator+=(Tensor& a, const Tensor& b);  // b must broadcast to a's shape
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, float s);

// Largest |a - b| over all elements (shapes must match).
float max_abs_diff(const Tensor& a, const Tensor& b);

// How many released buffers of exactly n floats this thread's recycling pool holds (see
// Tensor::uninitialized): for tests of the pool.
size_t pooled_buffers(size_t n);

}  // namespace minirec
