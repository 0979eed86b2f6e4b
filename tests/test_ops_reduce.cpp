// Tests of core/ops_reduce.cpp: reductions over axes and over everything (keepdim both ways),
// softmax and log-softmax with masks (fully masked rows, extreme inputs), layer-norm with and
// without affine parameters and l2-normalize; forward values and finite-difference gradients.
#include <doctest/doctest.h>

#include <memory>

#include "core/kernels.h"
#include "core/ops.h"
#include "tests/gradcheck.h"
#include "tests/ops_test_util.h"

using namespace minirec;
using namespace minirec::testing;

namespace {

// Grad-checks f on one input per shape.
void check_shapes(const std::function<Var(const Var&)>& f, const std::string& name,
                  const std::vector<Shape>& shapes,
                  const std::function<Tensor(const Shape&, uint64_t)>& make) {
    uint64_t seed = 500;
    for (const Shape& s : shapes) {
        const std::string what = name + " " + shape_str(s);
        const float worst = grad_check([&f](const std::vector<Var>& v) { return f(v[0]); }, {make(s, ++seed)}, {}, what);
        CHECK_MESSAGE(worst <= 1.0f, what);
    }
}

const auto kAny = [](const Shape& s, uint64_t seed) { return rand_t(s, seed, -2.0f, 2.0f); };
const auto kDistinct = [](const Shape& s, uint64_t seed) { return distinct(s, seed); };

// A 0/1 mask of `shape` with about `keep` of the entries kept.
Tensor random_mask(const Shape& shape, uint64_t seed, float keep = 0.6f) {
    Tensor m = rand_t(shape, seed, 0.0f, 1.0f);
    for (float& v : m.vec()) v = v < keep ? 1.0f : 0.0f;
    return m;
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("sum/mean/max: forward values, axes and keepdim") {
    const Var x = constant(Tensor({2, 3}, {1, 5, 3, 4, 2, 6}));
    CHECK(sum(x).item() == 21.0f);
    CHECK(sum(x).shape() == Shape{});
    CHECK(mean(x).item() == 3.5f);
    CHECK(max(x).item() == 6.0f);
    CHECK(close(sum(x, 0).value(), Tensor({3}, {5, 7, 9})));
    CHECK(close(sum(x, 1).value(), Tensor({2}, {9, 12})));
    CHECK(close(sum(x, -1, true).value(), Tensor({2, 1}, {9, 12})));
    CHECK(close(sum(x, 0, true).value(), Tensor({1, 3}, {5, 7, 9})));
    CHECK(close(mean(x, 1).value(), Tensor({2}, {3, 4})));
    CHECK(close(mean(x, 0, true).value(), Tensor({1, 3}, {2.5f, 3.5f, 4.5f})));
    CHECK(close(max(x, 0).value(), Tensor({3}, {4, 5, 6})));
    CHECK(close(max(x, -1, true).value(), Tensor({2, 1}, {5, 6})));
    // 3-D, middle axis: (2,2,2) -> (2,2)
    const Var y = constant(Tensor({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
    CHECK(close(sum(y, 1).value(), Tensor({2, 2}, {4, 6, 12, 14})));
    CHECK(close(max(y, 1).value(), Tensor({2, 2}, {3, 4, 7, 8})));
    CHECK(sum(y, 1, true).shape() == Shape{2, 1, 2});
    // Rank 1 without keepdim gives a scalar.
    CHECK(sum(constant(Tensor({3}, {1, 2, 3})), 0).shape() == Shape{});
}

TEST_CASE("max: the gradient goes to the first maximum only") {
    Var x = parameter(Tensor({2, 3}, {1, 7, 7, 4, 2, 4}));
    backward(sum(max(x, 1)));
    CHECK(close(x.grad(), Tensor({2, 3}, {0, 1, 0, 1, 0, 0})));
    x.zero_grad();
    backward(max(x));
    CHECK(close(x.grad(), Tensor({2, 3}, {0, 1, 0, 0, 0, 0})));
}

TEST_CASE("reductions: gradients over axes 0, 1, -1, keepdim both ways") {
    const std::vector<Shape> shapes = {{5}, {3, 4}, {2, 3, 4}};
    check_shapes([](const Var& x) { return sum(x); }, "sum", shapes, kAny);
    check_shapes([](const Var& x) { return mean(x); }, "mean", shapes, kAny);
    check_shapes([](const Var& x) { return max(x); }, "max", shapes, kDistinct);
    for (int axis : {0, 1, -1})
        for (bool keep : {false, true}) {
            const std::string tag = " axis " + std::to_string(axis) + (keep ? " keepdim" : "");
            const std::vector<Shape> ok = axis == 1 ? std::vector<Shape>{{3, 4}, {2, 3, 4}} : shapes;
            check_shapes([=](const Var& x) { return sum(x, axis, keep); }, "sum" + tag, ok, kAny);
            check_shapes([=](const Var& x) { return mean(x, axis, keep); }, "mean" + tag, ok, kAny);
            check_shapes([=](const Var& x) { return max(x, axis, keep); }, "max" + tag, ok, kDistinct);
            check_shapes([=](const Var& x) { return logsumexp(x, axis, keep); }, "logsumexp" + tag, ok, kAny);
        }
    // A 4-D reduction over axis 2, as attention scores (B,H,T,T) might need.
    check_shapes([](const Var& x) { return mean(x, 2); }, "mean 4-D axis 2", {{2, 2, 3, 2}}, kAny);
}

TEST_CASE("logsumexp: values and stability") {
    const Var x = constant(Tensor({2, 3}, {0, 0, 0, 1, 2, 3}));
    const Tensor y = logsumexp(x, 1).value();
    CHECK(y[0] == doctest::Approx(std::log(3.0)).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(3.0 + std::log(1.0 + std::exp(-1.0) + std::exp(-2.0))).epsilon(1e-6));
    // e^1000 overflows; the stable form does not.
    const Tensor big = logsumexp(constant(Tensor({1, 2}, {1000, 1000})), -1).value();
    CHECK(big[0] == doctest::Approx(1000.0 + std::log(2.0)).epsilon(1e-6));
    const Tensor small = logsumexp(constant(Tensor({1, 2}, {-1000, -1000})), -1).value();
    CHECK(small[0] == doctest::Approx(-1000.0 + std::log(2.0)).epsilon(1e-6));
}

TEST_CASE("reductions: argument and shape errors") {
    const Var x = constant(Tensor({2, 3}));
    const std::string msg = message_of<ArgumentError>([&] { sum(x, 2); });
    CHECK(msg.find("sum") != std::string::npos);
    CHECK(msg.find("axis 2") != std::string::npos);
    CHECK_THROWS_AS(mean(x, -3), ArgumentError);
    CHECK_THROWS_AS(max(x, 5), ArgumentError);
    CHECK_THROWS_AS(logsumexp(x, 2), ArgumentError);
    CHECK_THROWS_AS(sum(constant(Tensor::scalar(1.0f)), 0), ArgumentError);
    CHECK_THROWS_AS(max(constant(Tensor({2, 0})), 1), ShapeError);
}

TEST_CASE("softmax and log_softmax: forward values") {
    const Var x = constant(Tensor({2, 3}, {1, 2, 3, 0, 0, 0}));
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    const Tensor p = softmax(x).value();
    CHECK(p[0] == doctest::Approx(std::exp(1.0) / z).epsilon(1e-6));
    CHECK(p[2] == doctest::Approx(std::exp(3.0) / z).epsilon(1e-6));
    CHECK(p[4] == doctest::Approx(1.0 / 3.0).epsilon(1e-6));
    const Tensor lp = log_softmax(x).value();
    CHECK(lp[1] == doctest::Approx(2.0 - std::log(z)).epsilon(1e-6));
    CHECK(lp[5] == doctest::Approx(-std::log(3.0)).epsilon(1e-6));
    // Rows sum to one on every shape, 1-D to 4-D.
    for (const Shape& s : {Shape{5}, Shape{3, 4}, Shape{2, 3, 4}, Shape{2, 2, 3, 3}}) {
        const Tensor sm = softmax(constant(rand_t(s, 7, -3.0f, 3.0f))).value();
        const Tensor rows = sum(constant(sm), -1).value();
        CHECK(close(rows, Tensor(rows.shape(), 1.0f), 1e-6f));
    }
}

TEST_CASE("softmax and log_softmax: masks") {
    const Var x = constant(Tensor({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    const Tensor mask({3, 3}, {1, 1, 0, 0, 1, 0, 0, 0, 0});  // row 3 is fully masked
    const Tensor p = softmax(x, &mask).value();
    CHECK(p[0] == doctest::Approx(1.0 / (1.0 + std::exp(1.0))).epsilon(1e-6));
    CHECK(p[1] == doctest::Approx(std::exp(1.0) / (1.0 + std::exp(1.0))).epsilon(1e-6));
    CHECK(p[2] == 0.0f);  // masked: exactly zero
    CHECK(close(Tensor({3}, {p[3], p[4], p[5]}), Tensor({3}, {0, 1, 0})));
    CHECK(close(Tensor({3}, {p[6], p[7], p[8]}), Tensor({3}, 0.0f)));  // fully masked: zeros
    CHECK(all_finite(p));
    const Tensor lp = log_softmax(x, &mask).value();
    CHECK(lp[0] == doctest::Approx(-std::log(1.0 + std::exp(1.0))).epsilon(1e-6));
    CHECK(lp[4] == 0.0f);  // the one kept entry: log 1
    CHECK(lp[2] == 0.0f);  // masked entries are 0 (see ops_reduce.cpp), not -inf
    CHECK(all_finite(lp));

    // A fully masked row has zero gradient and no NaN.
    Var xp = parameter(x.value());
    backward(sum(softmax(xp, &mask) * constant(rand_t({3, 3}, 3))) + sum(log_softmax(xp, &mask)));
    CHECK(all_finite(xp.grad()));
    CHECK(xp.grad()[6] == 0.0f);
    CHECK(xp.grad()[8] == 0.0f);
    CHECK(xp.grad()[2] == 0.0f);  // and so does every masked entry

    // Broadcast masks: a key-padding row (T) for a (B,T,T) score tensor, a (B,1,T) mask.
    const Var s = constant(rand_t({2, 3, 4}, 9));
    const Tensor pad({4}, {1, 1, 1, 0});
    const Tensor full = broadcast_to(pad, {2, 3, 4});
    CHECK(max_abs_diff(softmax(s, &pad).value(), softmax(s, &full).value()) == 0.0f);
    const Tensor per_batch({2, 1, 4}, {1, 1, 0, 0, 1, 1, 1, 0});
    const Tensor pb = softmax(s, &per_batch).value();
    CHECK(pb.at({0, 1, 2}) == 0.0f);
    CHECK(pb.at({1, 2, 3}) == 0.0f);
    // An all-ones mask changes nothing.
    const Tensor ones = Tensor::ones({4});
    CHECK(close(softmax(s, &ones).value(), softmax(s).value(), 1e-6f));
    CHECK(close(log_softmax(s, &ones).value(), log_softmax(s).value(), 1e-6f));

    const std::string msg = message_of<ShapeError>([&] { softmax(s, &mask); });
    CHECK(msg.find("softmax") != std::string::npos);
    CHECK(msg.find("[2,3,4]") != std::string::npos);
    CHECK(msg.find("[3,3]") != std::string::npos);
    CHECK_THROWS_AS(log_softmax(s, &mask), ShapeError);
    CHECK_THROWS_AS(softmax(constant(Tensor::scalar(1.0f))), ShapeError);
}

TEST_CASE("softmax and log_softmax: extreme inputs stay finite") {
    Var x = parameter(Tensor({2, 3}, {100, -100, 0, 100, 100, -100}));
    const Tensor p = softmax(x).value();
    const Tensor lp = log_softmax(x).value();
    CHECK(all_finite(p));
    CHECK(all_finite(lp));
    CHECK(p[0] == doctest::Approx(1.0f));
    CHECK(lp[0] == doctest::Approx(0.0f));
    CHECK(lp[1] == doctest::Approx(-200.0f));
    CHECK(lp[3] == doctest::Approx(-std::log(2.0)).epsilon(1e-6));
    backward(sum(log_softmax(x) * constant(rand_t({2, 3}, 4))));
    CHECK(all_finite(x.grad()));
}

TEST_CASE("softmax and log_softmax: gradients, with and without masks") {
    const std::vector<Shape> shapes = {{5}, {3, 4}, {2, 3, 4}, {2, 2, 2, 3}};
    check_shapes([](const Var& x) { return softmax(x); }, "softmax", shapes, kAny);
    check_shapes([](const Var& x) { return log_softmax(x); }, "log_softmax", shapes, kAny);
    uint64_t seed = 600;
    for (const auto& [sx, sm] : std::vector<std::pair<Shape, Shape>>{
             {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 3, 4}, {2, 1, 4}}, {{2, 3, 4}, {3, 4}}}) {
        Tensor mask = random_mask(sm, ++seed);
        mask[0] = 0.0f;  // at least one masked entry
        const std::string tag = " " + shape_str(sx) + " mask " + shape_str(sm);
        check_shapes([&mask](const Var& x) { return softmax(x, &mask); }, "masked softmax" + tag, {sx}, kAny);
        check_shapes([&mask](const Var& x) { return log_softmax(x, &mask); }, "masked log_softmax" + tag, {sx}, kAny);
    }
    // A mask with a fully masked row.
    const Tensor rows({3, 1}, {1, 0, 1});
    check_shapes([&rows](const Var& x) { return softmax(x, &rows); }, "softmax masked row", {{3, 4}}, kAny);
    check_shapes([&rows](const Var& x) { return log_softmax(x, &rows); }, "log_softmax masked row", {{3, 4}}, kAny);
}

TEST_CASE("layer_norm: values") {
    // Row (1, 2, 3): mean 2, biased variance 2/3.
    const Var x = constant(Tensor({1, 3}, {1, 2, 3}));
    const float s = 1.0f / std::sqrt(2.0f / 3.0f + 1e-5f);
    CHECK(close(layer_norm(x).value(), Tensor({1, 3}, {-s, 0, s}), 1e-6f));
    const Var g = constant(Tensor({3}, {1, 2, 3})), b = constant(Tensor({3}, {0, 1, -1}));
    CHECK(close(layer_norm(x, g, b).value(), Tensor({1, 3}, {-s, 1, 3 * s - 1}), 1e-5f));
    // Every row of a big-offset input comes out with mean 0 and variance ~1.
    const Tensor y = layer_norm(constant(rand_t({4, 16}, 3, 1000.0f, 1001.0f))).value();
    for (int r = 0; r < 4; ++r) {
        double m = 0, v = 0;
        for (int j = 0; j < 16; ++j) m += y.at({r, j});
        m /= 16;
        for (int j = 0; j < 16; ++j) v += (y.at({r, j}) - m) * (y.at({r, j}) - m);
        // float32 spacing at 1000 is 6e-5, so the row mean itself is rounded by up to ~6e-5,
        // which is ~2e-4 of this row's standard deviation (0.29): the output mean inherits that.
        CHECK(std::fabs(m) < 5e-4);
        CHECK(v / 16 == doctest::Approx(1.0).epsilon(1e-3));
    }
    const std::string msg = message_of<ShapeError>([] {
        layer_norm(constant(Tensor({2, 3})), constant(Tensor({4})), constant(Tensor({3})));
    });
    CHECK(msg.find("layer_norm") != std::string::npos);
    CHECK(msg.find("[2,3]") != std::string::npos);
    CHECK(msg.find("[4]") != std::string::npos);
    CHECK_THROWS_AS(layer_norm(constant(Tensor({2, 3})), constant(Tensor({3})), constant(Tensor({1, 3}))), ShapeError);
}

TEST_CASE("layer_norm: gradients with and without affine parameters") {
    check_shapes([](const Var& x) { return layer_norm(x); }, "layer_norm", {{6}, {3, 5}, {2, 3, 4}}, kAny);
    uint64_t seed = 700;
    for (const Shape& s : {Shape{6}, Shape{3, 5}, Shape{2, 3, 4}}) {
        const int d = s.back();
        const float worst = grad_check([](const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); },
                                       {rand_t(s, ++seed, -2.0f, 2.0f), rand_t({d}, ++seed, 0.5f, 1.5f),
                                        rand_t({d}, ++seed)},
                                       {}, "layer_norm affine " + shape_str(s));
        CHECK(worst <= 1.0f);
    }
}

TEST_CASE("add_layer_norm: the values of layer_norm(x + r), gradients, shape check") {
    const Var x = constant(rand_t({3, 5}, 710, -2.0f, 2.0f)), r = constant(rand_t({3, 5}, 711));
    const Var g = constant(rand_t({5}, 712, 0.5f, 1.5f)), b = constant(rand_t({5}, 713));
    CHECK(max_abs_diff(add_layer_norm(x, r, g, b).value(), layer_norm(x + r, g, b).value()) == 0.0f);
    uint64_t seed = 720;
    for (const Shape& s : {Shape{6}, Shape{3, 5}, Shape{2, 3, 4}}) {
        const int d = s.back();
        const float worst = grad_check(
            [](const std::vector<Var>& v) { return add_layer_norm(v[0], v[1], v[2], v[3]); },
            {rand_t(s, ++seed, -2.0f, 2.0f), rand_t(s, ++seed), rand_t({d}, ++seed, 0.5f, 1.5f), rand_t({d}, ++seed)},
            {}, "add_layer_norm " + shape_str(s));
        CHECK(worst <= 1.0f);
    }
    CHECK_THROWS_AS(add_layer_norm(constant(Tensor({2, 3})), constant(Tensor({3, 2})), constant(Tensor({3})),
                                   constant(Tensor({3}))),
                    ShapeError);
}

TEST_CASE("l2_normalize: values and gradients") {
    const Var x = constant(Tensor({2, 2}, {3, 4, 0, 0}));
    // The zero row stays zero (we divide by eps, not by 0).
    CHECK(close(l2_normalize(x).value(), Tensor({2, 2}, {0.6f, 0.8f, 0, 0})));
    check_shapes([](const Var& v) { return l2_normalize(v); }, "l2_normalize", {{4}, {3, 4}, {2, 3, 4}}, kAny);
    // With a large eps the second row (norm 0.4 < 0.5) is in the clamped branch: y = x / eps.
    const Tensor two({2, 3}, {1, 2, -2, 0.24f, -0.32f, 0.0f});
    CHECK(close(l2_normalize(constant(two), 0.5f).value(), Tensor({2, 3}, {1.f / 3, 2.f / 3, -2.f / 3, 0.48f, -0.64f, 0}), 1e-6f));
    const float worst = grad_check([](const std::vector<Var>& v) { return l2_normalize(v[0], 0.5f); }, {two}, {},
                                   "l2_normalize clamped");
    CHECK(worst <= 1.0f);
}

TEST_CASE("reductions and normalisations agree across SIMD paths") {
    const Tensor x = rand_t({5, 37}, 21, -4.0f, 4.0f);
    const Tensor mask = random_mask({5, 37}, 22);
    const Var g = constant(rand_t({37}, 23)), b = constant(rand_t({37}, 24));
    const auto run = [&] {
        const Var v = constant(x);
        return std::vector<Tensor>{softmax(v).value(), log_softmax(v).value(), softmax(v, &mask).value(),
                                   log_softmax(v, &mask).value(), layer_norm(v, g, b).value(),
                                   l2_normalize(v).value(), logsumexp(v, 0).value(), sum(v, 1).value()};
    };
    const kernels::Isa before = kernels::active().isa;
    kernels::set_active(kernels::Isa::scalar);
    const std::vector<Tensor> want = run();
    for (kernels::Isa isa : {kernels::Isa::avx2, kernels::Isa::avx512}) {
        if (!kernels::isa_supported(isa)) continue;
        kernels::set_active(isa);
        const std::vector<Tensor> got = run();
        for (size_t i = 0; i < want.size(); ++i)
            CHECK_MESSAGE(close(got[i], want[i], 2e-5f), kernels::isa_name(isa) << " result " << i);
    }
    kernels::set_active(before);
}

TEST_CASE("reduction results free their graph") {
    std::weak_ptr<Node> watch;
    {
        Var x = parameter(rand_t({2, 3, 4}, 1));
        const Tensor mask = random_mask({4}, 2);
        Var y = layer_norm(softmax(x, &mask) + log_softmax(x), parameter(Tensor::ones({4})), parameter(Tensor({4})));
        y = l2_normalize(y) + logsumexp(x, 1, true) + max(x, 0) + mean(x, -1, true);
        backward(sum(y) + mean(y) + max(y) + sum(sum(sum(y, 0), 1)));
        watch = y.node_ptr();
    }
    CHECK(watch.expired());
}

}  // TEST_SUITE
