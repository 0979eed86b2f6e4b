// Tests for core/ops_shape.cpp: matmul, the shape ops and the embedding lookups.
// Forward values are checked on hand-computed cases (and matmul against a naive triple loop),
// gradients against finite differences (gradcheck.h), errors by their message contents.
// The gradient checks use only these ops, so they don't depend on ops_elementwise/ops_reduce.
#include <doctest/doctest.h>

#include <string>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"
#include "tests/ops_test_util.h"

using namespace minirec;
using minirec::testing::contains;
using minirec::testing::message_of;
using minirec::testing::grad_check;

namespace {

Tensor rnd(Shape s, uint64_t seed) {
    Rng rng(seed);
    return Tensor::uniform(std::move(s), rng, -1.0f, 1.0f);
}

// Naive op(a) op(b) over any leading batch axes (b may be a shared 2-D), as a reference.
Tensor naive_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
    const size_t ra = a.shape().size(), rb = b.shape().size();
    const int M = ta ? a.dim(-1) : a.dim(-2), K = ta ? a.dim(-2) : a.dim(-1);
    const int N = tb ? b.dim(-2) : b.dim(-1);
    Shape out(a.shape().begin(), a.shape().end() - 2);
    out.push_back(M);
    out.push_back(N);
    size_t batch = 1;
    for (size_t i = 0; i + 2 < ra; ++i) batch *= static_cast<size_t>(a.shape()[i]);
    Tensor c(out);
    for (size_t n = 0; n < batch; ++n) {
        const float* A = a.data() + n * static_cast<size_t>(M) * K;
        const float* B = b.data() + (rb == 2 ? 0 : n * static_cast<size_t>(K) * N);
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                double s = 0.0;
                for (int k = 0; k < K; ++k) {
                    const float x = ta ? A[k * M + i] : A[i * K + k];
                    const float y = tb ? B[j * K + k] : B[k * N + j];
                    s += static_cast<double>(x) * y;
                }
                c[n * static_cast<size_t>(M) * N + static_cast<size_t>(i) * N + static_cast<size_t>(j)] = static_cast<float>(s);
            }
    }
    return c;
}

// Shapes of the stored operands for op(a) (.., M, K) and op(b) (.., K, N).
Shape stored(Shape lead, int rows, int cols, bool trans) {
    lead.push_back(trans ? cols : rows);
    lead.push_back(trans ? rows : cols);
    return lead;
}

struct MatmulCase {
    Shape lead_a, lead_b;  // leading (batch) axes; lead_b empty for a shared 2-D b
    int M, K, N;
};

const MatmulCase kMatmulCases[] = {
    {{}, {}, 1, 1, 1},          {{}, {}, 7, 13, 5},          {{}, {}, 3, 4, 2},
    {{2}, {2}, 3, 4, 5},        {{3}, {3}, 1, 1, 1},         {{2, 2}, {2, 2}, 3, 2, 4},
    {{3}, {}, 4, 5, 6},         {{2}, {}, 7, 13, 5},         {{2, 3}, {}, 2, 3, 2},
};

}  // namespace

TEST_SUITE("ops") {

// ---- matmul ---------------------------------------------------------------------------------

TEST_CASE("matmul: hand-computed 2-D product") {
    Var a = constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    Var b = constant(Tensor({3, 2}, {7, 8, 9, 10, 11, 12}));
    Var c = matmul(a, b);
    CHECK(c.shape() == Shape{2, 2});
    CHECK(c.value().vec() == std::vector<float>{58, 64, 139, 154});
    // a^T a: (3,2) x (2,3) through the transpose flag.
    Var g = matmul(a, a, true, false);
    CHECK(g.shape() == Shape{3, 3});
    CHECK(g.value().vec() == std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45});
    // a a^T
    Var h = matmul(a, a, false, true);
    CHECK(h.value().vec() == std::vector<float>{14, 32, 32, 77});
}

TEST_CASE("matmul: forward agrees with a naive loop for all transposes and shapes") {
    uint64_t seed = 1;
    for (const MatmulCase& mc : kMatmulCases)
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            const Tensor a = rnd(stored(mc.lead_a, mc.M, mc.K, ta), seed++);
            const Tensor b = rnd(stored(mc.lead_b, mc.K, mc.N, tb), seed++);
            const Tensor want = naive_matmul(a, b, ta, tb);
            const Var c = matmul(constant(a), constant(b), ta, tb);
            CAPTURE(shape_str(a.shape()));
            CAPTURE(shape_str(b.shape()));
            CAPTURE(t);
            REQUIRE(c.shape() == want.shape());
            CHECK(max_abs_diff(c.value(), want) < 1e-5f);
        }
}

TEST_CASE("matmul: gradients for all transposes, 2-D, batched, 4-D and shared 2-D") {
    uint64_t seed = 100;
    for (const MatmulCase& mc : kMatmulCases)
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            const Tensor a = rnd(stored(mc.lead_a, mc.M, mc.K, ta), seed++);
            const Tensor b = rnd(stored(mc.lead_b, mc.K, mc.N, tb), seed++);
            const std::string what = "matmul " + shape_str(a.shape()) + (ta ? "^T" : "") + " x " +
                                     shape_str(b.shape()) + (tb ? "^T" : "");
            CHECK(grad_check([&](const std::vector<Var>& x) { return matmul(x[0], x[1], ta, tb); }, {a, b}, {},
                             what) <= 1.0f);
        }
}

TEST_CASE("matmul: the transpose flag matches an explicit transpose, values and gradients") {
    const Tensor at = rnd({2, 5, 3}, 11), b = rnd({2, 5, 4}, 12);
    Var a1 = parameter(at), b1 = parameter(b), a2 = parameter(at), b2 = parameter(b);
    Var y1 = matmul(a1, b1, true, false);  // (2,3,5) x (2,5,4)
    Var y2 = matmul(transpose(a2), b2);
    CHECK(max_abs_diff(y1.value(), y2.value()) < 1e-6f);
    const Tensor seed = rnd(y1.shape(), 13);
    backward(y1, seed);
    backward(y2, seed);
    CHECK(max_abs_diff(a1.grad(), a2.grad()) < 1e-5f);
    CHECK(max_abs_diff(b1.grad(), b2.grad()) < 1e-5f);
}

TEST_CASE("matmul: only operands that require grad get a gradient") {
    Var a = parameter(rnd({3, 4}, 1));
    Var b = constant(rnd({4, 2}, 2));
    Var y = matmul(a, b);
    backward(y, Tensor::ones({3, 2}));
    CHECK(a.has_grad());
    CHECK_FALSE(b.has_grad());
    // dA = 1 b^T: every row of dA is the row sums of b.
    for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 4; ++k)
            CHECK(a.grad().at({i, k}) == doctest::Approx(b.value().at({k, 0}) + b.value().at({k, 1})));
}

TEST_CASE("matmul: shape errors name the op and both shapes") {
    Var a = constant(Tensor({32, 64})), b = constant(Tensor({16, 8}));
    const std::string m = message_of<ShapeError>([&] { matmul(a, b); });
    CHECK(m == "matmul: [32,64] x [16,8]: inner sizes 64 != 16");
    const std::string mt = message_of<ShapeError>([&] { matmul(a, b, false, true); });
    CHECK(contains(mt, "matmul: [32,64] x [16,8]^T"));
    CHECK(contains(mt, "64 != 8"));
    const std::string batch = message_of<ShapeError>([&] { matmul(constant(Tensor({2, 3, 4})), constant(Tensor({3, 4, 5}))); });
    CHECK(contains(batch, "[2,3,4] x [3,4,5]"));
    CHECK(contains(batch, "batch"));
    const std::string r1 = message_of<ShapeError>([&] { matmul(constant(Tensor({4})), constant(Tensor({4, 2}))); });
    CHECK(contains(r1, "matmul: [4] x [4,2]"));
    const std::string lead = message_of<ShapeError>([&] { matmul(constant(Tensor({3, 4})), constant(Tensor({2, 4, 5}))); });
    CHECK(contains(lead, "matmul: [3,4] x [2,4,5]"));
}

// ---- reshape, transpose, permute ----------------------------------------------------------------

TEST_CASE("reshape: values kept, -1 inferred, gradient reshaped back") {
    Var x = constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    Var y = reshape(x, {3, -1});
    CHECK(y.shape() == Shape{3, 2});
    CHECK(y.value().vec() == x.value().vec());
    CHECK(reshape(x, {-1}).shape() == Shape{6});
    CHECK(grad_check([](const std::vector<Var>& v) { return reshape(v[0], {4, -1, 2}); }, {rnd({2, 3, 4}, 3)}, {},
                     "reshape") <= 1.0f);
    const std::string m = message_of<ShapeError>([&] { reshape(x, {4, 2}); });
    CHECK(contains(m, "reshape"));
    CHECK(contains(m, "[2,3]"));
    CHECK(contains(m, "[4,2]"));
}

TEST_CASE("transpose: swaps the last two axes") {
    Var x = constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    Var y = transpose(x);
    CHECK(y.shape() == Shape{3, 2});
    CHECK(y.value().vec() == std::vector<float>{1, 4, 2, 5, 3, 6});
    Var z = transpose(constant(rnd({2, 3, 4, 5}, 4)));
    CHECK(z.shape() == Shape{2, 3, 5, 4});
    CHECK(z.value().at({1, 2, 3, 1}) == rnd({2, 3, 4, 5}, 4).at({1, 2, 1, 3}));
    for (const Shape& s : {Shape{1, 1}, Shape{4, 7}, Shape{2, 3, 5}, Shape{2, 2, 3, 4}})
        CHECK(grad_check([](const std::vector<Var>& v) { return transpose(v[0]); }, {rnd(s, 5)}, {},
                         "transpose " + shape_str(s)) <= 1.0f);
    CHECK(contains(message_of<ShapeError>([] { transpose(constant(Tensor({5}))); }), "transpose: [5]"));
}

TEST_CASE("permute: forward by hand and gradients at rank 2, 3 and 4") {
    const Tensor t = rnd({2, 3, 4}, 6);
    Var y = permute(constant(t), {2, 0, 1});
    CHECK(y.shape() == Shape{4, 2, 3});
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) CHECK(y.value().at({k, i, j}) == t.at({i, j, k}));
    // Negative axes count from the end.
    CHECK(permute(constant(t), {-1, 0, 1}).value().vec() == y.value().vec());

    const std::vector<std::pair<Shape, std::vector<int>>> cases = {
        {{3, 5}, {1, 0}},          {{2, 3, 4}, {1, 0, 2}},       {{2, 3, 4}, {2, 1, 0}},
        {{2, 3, 4}, {0, 1, 2}},    {{2, 3, 4, 5}, {0, 2, 1, 3}}, {{2, 3, 1, 2}, {3, 1, 0, 2}},
    };
    for (const auto& [s, dims] : cases)
        CHECK(grad_check([d = dims](const std::vector<Var>& v) { return permute(v[0], d); }, {rnd(s, 7)}, {},
                         "permute " + shape_str(s)) <= 1.0f);
}

TEST_CASE("permute: invalid orders are rejected") {
    Var x = constant(Tensor({2, 3, 4}));
    CHECK(contains(message_of<ShapeError>([&] { permute(x, {0, 0, 1}); }), "repeats"));
    CHECK(contains(message_of<ShapeError>([&] { permute(x, {0, 1}); }), "permute: [2,3,4]"));
    CHECK(contains(message_of<ShapeError>([&] { permute(x, {0, 1, 3}); }), "out of range"));
    CHECK_THROWS_AS(permute(constant(Tensor({3})), {0}), ShapeError);
}

// ---- concat, split, slice -----------------------------------------------------------------------

TEST_CASE("concat: forward by hand along each axis") {
    Var a = constant(Tensor({2, 2}, {1, 2, 3, 4}));
    Var b = constant(Tensor({2, 1}, {5, 6}));
    Var c = concat({a, b}, 1);
    CHECK(c.shape() == Shape{2, 3});
    CHECK(c.value().vec() == std::vector<float>{1, 2, 5, 3, 4, 6});
    Var d = concat({a, transpose(b)}, 0);
    CHECK(d.shape() == Shape{3, 2});
    CHECK(d.value().vec() == std::vector<float>{1, 2, 3, 4, 5, 6});
    CHECK(concat({a}, -1).value().vec() == a.value().vec());
}

TEST_CASE("concat: gradients along first, middle and last axis") {
    for (int axis : {0, 1, 2, -1}) {
        Shape s0{2, 3, 4}, s1{2, 3, 4}, s2{2, 3, 4};
        const int ax = axis < 0 ? 2 : axis;
        s0[static_cast<size_t>(ax)] = 1;
        s2[static_cast<size_t>(ax)] = 3;
        CHECK(grad_check([axis](const std::vector<Var>& v) { return concat({v[0], v[1], v[2]}, axis); },
                         {rnd(s0, 8), rnd(s1, 9), rnd(s2, 10)}, {}, "concat axis " + std::to_string(axis)) <= 1.0f);
    }
    // The same input twice gets both bands' gradients.
    CHECK(grad_check([](const std::vector<Var>& v) { return concat({v[0], v[0]}, 0); }, {rnd({2, 3}, 11)}, {},
                     "concat twice") <= 1.0f);
}

TEST_CASE("concat: mismatched shapes name both") {
    const std::string m = message_of<ShapeError>([] { concat({constant(Tensor({2, 3})), constant(Tensor({4, 4}))}, 0); });
    CHECK(contains(m, "concat"));
    CHECK(contains(m, "[2,3]"));
    CHECK(contains(m, "[4,4]"));
    CHECK_THROWS_AS(concat({constant(Tensor({2, 3})), constant(Tensor({2, 3, 1}))}, 0), ShapeError);
    CHECK_THROWS_AS(concat({}, 0), ArgumentError);
    CHECK_THROWS_AS(concat({constant(Tensor({2, 3}))}, 2), ArgumentError);
}

TEST_CASE("slice: forward, negative bounds, gradient and errors") {
    Var x = constant(Tensor({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}));
    CHECK(slice(x, 1, 1, 3).value().vec() == std::vector<float>{1, 2, 5, 6});
    CHECK(slice(x, -1, -2, 4).value().vec() == std::vector<float>{2, 3, 6, 7});
    CHECK(slice(x, 0, 1, 2).value().vec() == std::vector<float>{4, 5, 6, 7});
    CHECK(slice(x, 1, 2, 2).shape() == Shape{2, 0});
    for (int axis : {0, 1, 2})
        CHECK(grad_check([axis](const std::vector<Var>& v) { return slice(v[0], axis, 1, 3); }, {rnd({3, 4, 5}, 12)},
                         {}, "slice axis " + std::to_string(axis)) <= 1.0f);
    const std::string m = message_of<ShapeError>([&] { slice(x, 1, 2, 5); });
    CHECK(contains(m, "slice: [2,4]"));
    CHECK(contains(m, "[2, 5)"));
    CHECK_THROWS_AS(slice(x, 1, 3, 2), ShapeError);
    CHECK_THROWS_AS(slice(x, 2, 0, 1), ArgumentError);
}

TEST_CASE("split: pieces, their gradients, and sizes that don't add up") {
    Var x = constant(Tensor({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    auto parts = split(x, {2, 0, 3}, 1);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0].value().vec() == std::vector<float>{0, 1, 5, 6});
    CHECK(parts[1].shape() == Shape{2, 0});
    CHECK(parts[2].value().vec() == std::vector<float>{2, 3, 4, 7, 8, 9});
    // Reassembled out of order and with the middle piece dropped: that band's gradient is 0.
    CHECK(grad_check(
              [](const std::vector<Var>& v) {
                  auto p = split(v[0], {1, 2, 1}, 1);
                  return concat({p[2], p[0]}, 1);
              },
              {rnd({3, 4, 2}, 13)}, {}, "split") <= 1.0f);
    Var w = parameter(rnd({3, 4}, 14));
    backward(split(w, {1, 3}, 1)[1], Tensor::ones({3, 3}));
    for (int i = 0; i < 3; ++i) {
        CHECK(w.grad().at({i, 0}) == 0.0f);
        CHECK(w.grad().at({i, 2}) == 1.0f);
    }
    const std::string m = message_of<ShapeError>([&] { split(x, {2, 2}, 1); });
    CHECK(contains(m, "split: [2,5]"));
    CHECK(contains(m, "add up to 4"));
    CHECK_THROWS_AS(split(x, {6, -1}, 1), ArgumentError);
}

// ---- unsqueeze, squeeze, broadcast_to -------------------------------------------------------------

TEST_CASE("unsqueeze and squeeze: shapes, gradients and errors") {
    Var x = constant(rnd({2, 3}, 15));
    CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 3});
    CHECK(unsqueeze(x, 1).shape() == Shape{2, 1, 3});
    CHECK(unsqueeze(x, 2).shape() == Shape{2, 3, 1});
    CHECK(unsqueeze(x, -1).shape() == Shape{2, 3, 1});
    CHECK(squeeze(unsqueeze(x, 1), 1).value().vec() == x.value().vec());
    CHECK(squeeze(constant(Tensor({1})), 0).shape() == Shape{});
    CHECK(grad_check([](const std::vector<Var>& v) { return unsqueeze(v[0], 1); }, {rnd({2, 3}, 16)}, {}, "unsqueeze") <=
          1.0f);
    CHECK(grad_check([](const std::vector<Var>& v) { return squeeze(v[0], -2); }, {rnd({2, 1, 3}, 17)}, {}, "squeeze") <=
          1.0f);
    const std::string m = message_of<ShapeError>([&] { squeeze(x, 0); });
    CHECK(contains(m, "squeeze: [2,3]"));
    CHECK(contains(m, "size 2"));
    CHECK_THROWS_AS(unsqueeze(x, 4), ArgumentError);
    CHECK_THROWS_AS(unsqueeze(constant(Tensor({1, 2, 3, 4})), 0), ShapeError);
}

TEST_CASE("broadcast_to: forward and sum_to backward for scalar, row, column and batch") {
    Var r = constant(Tensor({3}, {1, 2, 3}));
    CHECK(broadcast_to(r, {2, 3}).value().vec() == std::vector<float>{1, 2, 3, 1, 2, 3});
    Var c = constant(Tensor({2, 1}, {1, 2}));
    CHECK(broadcast_to(c, {2, 3}).value().vec() == std::vector<float>{1, 1, 1, 2, 2, 2});
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{}, {2, 3}}, {{3}, {2, 3}}, {{2, 1}, {2, 3}}, {{3, 4}, {2, 3, 4}}, {{2, 1, 4}, {2, 3, 4}},
        {{1, 3, 1}, {2, 2, 3, 5}}, {{2, 3}, {2, 3}},
    };
    for (const auto& [from, to] : cases)
        CHECK(grad_check([s = to](const std::vector<Var>& v) { return broadcast_to(v[0], s); }, {rnd(from, 18)}, {},
                         "broadcast_to " + shape_str(from) + " -> " + shape_str(to)) <= 1.0f);
    Var w = parameter(Tensor({3}, {0, 0, 0}));
    backward(broadcast_to(w, {4, 3}), Tensor::ones({4, 3}));
    CHECK(w.grad().vec() == std::vector<float>{4, 4, 4});
    const std::string m = message_of<ShapeError>([&] { broadcast_to(r, {2, 4}); });
    CHECK(contains(m, "broadcast_to"));
    CHECK(contains(m, "[3]"));
    CHECK(contains(m, "[2,4]"));
}

// ---- gather_rows -------------------------------------------------------------------------------

TEST_CASE("gather_rows: rows by id, scatter-add backward") {
    Var table = parameter(Tensor({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}));
    Var y = gather_rows(table, {2, 0, 2});
    CHECK(y.shape() == Shape{3, 2});
    CHECK(y.value().vec() == std::vector<float>{20, 21, 0, 1, 20, 21});
    backward(y, Tensor({3, 2}, {1, 2, 3, 4, 5, 6}));
    // Row 2 appears twice and collects both gradients; rows 1 and 3 were never read.
    CHECK(table.grad().vec() == std::vector<float>{3, 4, 0, 0, 6, 8, 0, 0});
    CHECK(gather_rows(table, {}).shape() == Shape{0, 2});
    CHECK(grad_check([](const std::vector<Var>& v) { return gather_rows(v[0], {4, 1, 1, 0, 4, 2}); }, {rnd({5, 3}, 19)},
                     {}, "gather_rows") <= 1.0f);
    CHECK(grad_check([](const std::vector<Var>& v) { return gather_rows(v[0], {0}); }, {rnd({1, 1}, 20)}, {},
                     "gather_rows 1x1") <= 1.0f);
}

TEST_CASE("gather_rows: out-of-range ids name the id, its position and the table size") {
    Var table = constant(Tensor({5, 3}));
    const std::string m = message_of<ArgumentError>([&] { gather_rows(table, {0, 4, 7, 1}); });
    CHECK(contains(m, "gather_rows"));
    CHECK(contains(m, "id 7"));
    CHECK(contains(m, "position 2"));
    CHECK(contains(m, "5 rows"));
    CHECK(contains(message_of<ArgumentError>([&] { gather_rows(table, {-1}); }), "id -1 at position 0"));
    CHECK_THROWS_AS(gather_rows(table, {5}), ArgumentError);
    CHECK_THROWS_AS(gather_rows(constant(Tensor({5})), {0}), ShapeError);
}

// ---- segment_sum, segment_mean ------------------------------------------------------------------

TEST_CASE("segment_sum and segment_mean: hand-computed, with an empty segment and weights") {
    Var table = constant(Tensor({3, 2}, {1, 2, 10, 20, 100, 200}));
    const Ids ids = {0, 1, 2, 2};
    const std::vector<int> offsets = {0, 2, 2, 4};  // segments {0,1}, {}, {2,2}
    Var s = segment_sum(table, ids, offsets);
    CHECK(s.shape() == Shape{3, 2});
    CHECK(s.value().vec() == std::vector<float>{11, 22, 0, 0, 200, 400});
    Var m = segment_mean(table, ids, offsets);
    CHECK(m.value().vec() == std::vector<float>{5.5f, 11, 0, 0, 100, 200});
    const std::vector<float> w = {2, 1, 0.5f, 0.5f};
    CHECK(segment_sum(table, ids, offsets, &w).value().vec() == std::vector<float>{12, 24, 0, 0, 100, 200});
    CHECK(segment_mean(table, ids, offsets, &w).value().vec() == std::vector<float>{6, 12, 0, 0, 50, 100});
    // No segments at all: a (0, D) result.
    CHECK(segment_sum(table, {}, {0}).shape() == Shape{0, 2});
}

TEST_CASE("segment_sum and segment_mean: gradients") {
    const Ids ids = {3, 0, 3, 1, 4, 4, 2};
    const std::vector<int> offsets = {0, 3, 3, 4, 7};
    const std::vector<float> w = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, 1.0f, -0.75f};
    const Tensor t = rnd({5, 3}, 21);
    CHECK(grad_check([&](const std::vector<Var>& v) { return segment_sum(v[0], ids, offsets); }, {t}, {},
                     "segment_sum") <= 1.0f);
    CHECK(grad_check([&](const std::vector<Var>& v) { return segment_sum(v[0], ids, offsets, &w); }, {t}, {},
                     "segment_sum weighted") <= 1.0f);
    CHECK(grad_check([&](const std::vector<Var>& v) { return segment_mean(v[0], ids, offsets); }, {t}, {},
                     "segment_mean") <= 1.0f);
    CHECK(grad_check([&](const std::vector<Var>& v) { return segment_mean(v[0], ids, offsets, &w); }, {t}, {},
                     "segment_mean weighted") <= 1.0f);
    // By hand: the mean spreads gy_s / n_s over each id of the segment.
    Var table = parameter(Tensor({2, 1}));
    backward(segment_mean(table, {0, 1, 1, 1}, {0, 4}), Tensor({1, 1}, std::vector<float>{8}));
    CHECK(table.grad().vec() == std::vector<float>{2, 6});
}

TEST_CASE("segment_sum and segment_mean: offsets, weights and ids are validated") {
    Var table = constant(Tensor({3, 2}));
    const Ids ids = {0, 1, 2};
    CHECK(contains(message_of<ArgumentError>([&] { segment_sum(table, ids, {1, 3}); }), "offsets[0] must be 0"));
    CHECK(contains(message_of<ArgumentError>([&] { segment_sum(table, ids, {0, 2, 1, 3}); }), "must not decrease"));
    CHECK(contains(message_of<ArgumentError>([&] { segment_mean(table, ids, {0, 2}); }), "last offset"));
    CHECK_THROWS_AS(segment_sum(table, ids, {}), ArgumentError);
    const std::vector<float> w = {1, 2};
    CHECK(contains(message_of<ArgumentError>([&] { segment_sum(table, ids, {0, 3}, &w); }), "per_id_weights"));
    const std::string m = message_of<ArgumentError>([&] { segment_mean(table, {0, 3}, {0, 2}); });
    CHECK(contains(m, "segment_mean"));
    CHECK(contains(m, "id 3 at position 1"));
    CHECK(contains(m, "3 rows"));
}

}  // TEST_SUITE("ops")
