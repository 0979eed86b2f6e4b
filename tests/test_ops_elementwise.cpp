// Tests of core/ops_elementwise.cpp: forward values on small hand-computed cases, a
// finite-difference gradient check of every op over several shapes (broadcasting included),
// error messages, extreme inputs, masked_fill and dropout.
#include <doctest/doctest.h>

#include <memory>

#include "core/ops.h"
#include "tests/gradcheck.h"
#include "tests/ops_test_util.h"

using namespace minirec;
using namespace minirec::testing;

namespace {

using Binary = Var (*)(const Var&, const Var&);

// The broadcasting cases every binary op is checked on: same shape, scalar either side, row
// (1,N) and (N), column (M,1), row x column, leading batch (B,M,N) op (M,N) both ways, and a
// middle-axis broadcast.
const std::vector<std::pair<Shape, Shape>> kBroadcastCases = {
    {{2, 3}, {2, 3}},    {{2, 3}, {}},     {{}, {2, 3}},         {{2, 3}, {1, 3}},
    {{2, 3}, {3}},       {{2, 3}, {2, 1}}, {{2, 1}, {1, 3}},     {{2, 3, 4}, {3, 4}},
    {{3, 4}, {2, 3, 4}}, {{2, 3, 4}, {2, 1, 4}}, {{2, 3, 4}, {1}}, {{5}, {5}},
};

void check_binary(Binary op, const char* name, bool divisor) {
    uint64_t seed = 100;
    for (const auto& [sa, sb] : kBroadcastCases) {
        const Tensor a = rand_t(sa, ++seed, -2.0f, 2.0f);
        const Tensor b = divisor ? rand_signed(sb, ++seed, 0.5f, 2.0f) : rand_t(sb, ++seed, -2.0f, 2.0f);
        const std::string what = std::string(name) + " " + shape_str(sa) + " " + shape_str(sb);
        const float worst = grad_check([op](const std::vector<Var>& v) { return op(v[0], v[1]); }, {a, b}, {}, what);
        CHECK_MESSAGE(worst <= 1.0f, what);
        // The result has the broadcast shape.
        CHECK(op(constant(a), constant(b)).shape() == broadcast_shape(sa, sb, name));
    }
}

// Grad-checks a unary op on a few shapes (scalar to 3-D), inputs made by `make`.
void check_unary(const std::function<Var(const Var&)>& f, const char* name,
                 const std::function<Tensor(const Shape&, uint64_t)>& make) {
    uint64_t seed = 200;
    for (const Shape& s : {Shape{}, Shape{7}, Shape{3, 4}, Shape{2, 3, 5}}) {
        const std::string what = std::string(name) + " " + shape_str(s);
        const float worst = grad_check([&f](const std::vector<Var>& v) { return f(v[0]); }, {make(s, ++seed)}, {}, what);
        CHECK_MESSAGE(worst <= 1.0f, what);
    }
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("add/sub/mul/div: forward values with broadcasting") {
    const Var a = constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    const Var row = constant(Tensor({3}, {10, 20, 30}));
    const Var col = constant(Tensor({2, 1}, {2, 4}));
    CHECK(close((a + row).value(), Tensor({2, 3}, {11, 22, 33, 14, 25, 36})));
    CHECK(close((a - col).value(), Tensor({2, 3}, {-1, 0, 1, 0, 1, 2})));
    CHECK(close((a * col).value(), Tensor({2, 3}, {2, 4, 6, 16, 20, 24})));
    CHECK(close((a / col).value(), Tensor({2, 3}, {0.5f, 1, 1.5f, 1, 1.25f, 1.5f})));
    CHECK(close((-a).value(), Tensor({2, 3}, {-1, -2, -3, -4, -5, -6})));
    CHECK(close((a + 1.0f).value(), Tensor({2, 3}, {2, 3, 4, 5, 6, 7})));
    CHECK(close((a - 1.0f).value(), Tensor({2, 3}, {0, 1, 2, 3, 4, 5})));
    CHECK(close((a * 2.0f).value(), Tensor({2, 3}, {2, 4, 6, 8, 10, 12})));
    CHECK(close((a / 2.0f).value(), Tensor({2, 3}, {0.5f, 1, 1.5f, 2, 2.5f, 3})));
    CHECK(close((1.0f + a).value(), Tensor({2, 3}, {2, 3, 4, 5, 6, 7})));
    CHECK(close((1.0f - a).value(), Tensor({2, 3}, {0, -1, -2, -3, -4, -5})));
    CHECK(close((3.0f * a).value(), Tensor({2, 3}, {3, 6, 9, 12, 15, 18})));
    // Leading batch: (2,1,2) + (2,2) -> (2,2,2)
    const Var b3 = constant(Tensor({2, 1, 2}, {0, 1, 10, 11}));
    const Var m = constant(Tensor({2, 2}, {100, 200, 300, 400}));
    CHECK(close((b3 + m).value(), Tensor({2, 2, 2}, {100, 201, 300, 401, 110, 211, 310, 411})));
}

TEST_CASE("add/sub/mul/div: gradients with broadcasting") {
    check_binary(static_cast<Binary>(add), "add", false);
    check_binary(static_cast<Binary>(sub), "sub", false);
    check_binary(static_cast<Binary>(mul), "mul", false);
    check_binary(static_cast<Binary>(div), "div", true);
}

TEST_CASE("scalar arithmetic and neg: gradients") {
    const auto make = [](const Shape& s, uint64_t seed) { return rand_t(s, seed, -2.0f, 2.0f); };
    check_unary([](const Var& x) { return neg(x); }, "neg", make);
    check_unary([](const Var& x) { return x + 1.5f; }, "x + s", make);
    check_unary([](const Var& x) { return x - 1.5f; }, "x - s", make);
    check_unary([](const Var& x) { return x * -2.5f; }, "x * s", make);
    check_unary([](const Var& x) { return x / 4.0f; }, "x / s", make);
    check_unary([](const Var& x) { return 1.5f + x; }, "s + x", make);
    check_unary([](const Var& x) { return 1.5f - x; }, "s - x", make);
    check_unary([](const Var& x) { return 0.5f * x; }, "s * x", make);
}

TEST_CASE("a Var used twice accumulates both gradients") {
    // y = x * x + x  ->  dy/dx = 2x + 1
    Var x = parameter(Tensor({3}, {1, -2, 0.5f}));
    backward(sum(x * x + x));
    CHECK(close(x.grad(), Tensor({3}, {3, -3, 2})));
}

TEST_CASE("arithmetic: shape errors name the op and both shapes") {
    const Var a = constant(Tensor({2, 3})), b = constant(Tensor({4}));
    for (auto [op, name] : {std::pair<Binary, const char*>{static_cast<Binary>(add), "add"},
                            {static_cast<Binary>(sub), "sub"},
                            {static_cast<Binary>(mul), "mul"},
                            {static_cast<Binary>(div), "div"}}) {
        const std::string msg = message_of<ShapeError>([&, f = op] { f(a, b); });  // (C++17 cannot capture a binding)
        CHECK_MESSAGE(msg.find(name) != std::string::npos, msg);
        CHECK_MESSAGE(msg.find("[2,3]") != std::string::npos, msg);
        CHECK_MESSAGE(msg.find("[4]") != std::string::npos, msg);
    }
    // (2,3,4) and (2,4) do not broadcast either: 3 vs 2.
    const std::string msg = message_of<ShapeError>([] { constant(Tensor({2, 3, 4})) * constant(Tensor({2, 4})); });
    CHECK(msg.find("[2,3,4]") != std::string::npos);
    CHECK(msg.find("[2,4]") != std::string::npos);
}

TEST_CASE("unary maths: forward values") {
    const Var x = constant(Tensor({4}, {0.25f, 1, 4, 9}));
    CHECK(close(sqrt(x).value(), Tensor({4}, {0.5f, 1, 2, 3})));
    CHECK(close(pow(x, 2.0f).value(), Tensor({4}, {0.0625f, 1, 16, 81}), 1e-5f));
    CHECK(close(pow(x, -0.5f).value(), Tensor({4}, {2, 1, 0.5f, 1.0f / 3.0f})));
    CHECK(close(log(x).value(), Tensor({4}, {std::log(0.25f), 0, std::log(4.0f), std::log(9.0f)}), 1e-6f));
    CHECK(close(exp(constant(Tensor({3}, {0, 1, -1}))).value(), Tensor({3}, {1, std::exp(1.0f), std::exp(-1.0f)}), 1e-6f));
    const Var s = constant(Tensor({5}, {-2, -0.5f, 0, 0.5f, 2}));
    CHECK(close(abs(s).value(), Tensor({5}, {2, 0.5f, 0, 0.5f, 2})));
    CHECK(close(clamp(s, -1.0f, 1.0f).value(), Tensor({5}, {-1, -0.5f, 0, 0.5f, 1})));
    CHECK(close(relu(s).value(), Tensor({5}, {0, 0, 0, 0.5f, 2})));
    CHECK(close(leaky_relu(s, 0.1f).value(), Tensor({5}, {-0.2f, -0.05f, 0, 0.5f, 2})));
    CHECK(close(sigmoid(constant(Tensor({3}, {0, 2, -2}))).value(),
                Tensor({3}, {0.5f, 0.8807970779778823f, 0.11920292202211755f}), 1e-6f));
    CHECK(close(tanh(constant(Tensor({2}, {0.5f, -1}))).value(),
                Tensor({2}, {0.46211715726000974f, -0.7615941559557649f}), 1e-6f));
    // gelu(x) = x Phi(x): Phi(1) = 0.8413447460685429, Phi(-1) = 0.15865525393145707
    CHECK(close(gelu(constant(Tensor({3}, {0, 1, -1}))).value(),
                Tensor({3}, {0, 0.8413447460685429f, -0.15865525393145707f}), 1e-6f));
    CHECK(close(softplus(constant(Tensor({3}, {0, 1, -1}))).value(),
                Tensor({3}, {0.6931471805599453f, 1.3132616875182228f, 0.31326168751822286f}), 1e-6f));
    CHECK(close(log_sigmoid(constant(Tensor({3}, {0, 1, -1}))).value(),
                Tensor({3}, {-0.6931471805599453f, -0.31326168751822286f, -1.3132616875182228f}), 1e-6f));
}

TEST_CASE("unary maths: gradients") {
    const auto any = [](const Shape& s, uint64_t seed) { return rand_t(s, seed, -2.0f, 2.0f); };
    const auto positive = [](const Shape& s, uint64_t seed) { return rand_t(s, seed, 0.5f, 2.0f); };
    const auto off_zero = [](const Shape& s, uint64_t seed) { return away_from(rand_t(s, seed, -2.0f, 2.0f), 0.0f, 0.1f); };
    check_unary([](const Var& x) { return exp(x); }, "exp", any);
    check_unary([](const Var& x) { return log(x); }, "log", positive);
    check_unary([](const Var& x) { return sqrt(x); }, "sqrt", positive);
    check_unary([](const Var& x) { return pow(x, 3.0f); }, "pow 3", any);
    check_unary([](const Var& x) { return pow(x, 2.0f); }, "pow 2", any);
    check_unary([](const Var& x) { return pow(x, 0.5f); }, "pow 0.5", positive);
    check_unary([](const Var& x) { return pow(x, -1.5f); }, "pow -1.5", positive);
    check_unary([](const Var& x) { return abs(x); }, "abs", off_zero);
    // clamp's kinks are at lo and hi: inputs stay 0.1 away from both.
    check_unary([](const Var& x) { return clamp(x, -0.5f, 1.0f); }, "clamp",
                [](const Shape& s, uint64_t seed) {
                    return away_from(away_from(rand_t(s, seed, -2.0f, 2.0f), -0.5f, 0.1f), 1.0f, 0.1f);
                });
}

TEST_CASE("abs, clamp and relu route no gradient through their flat parts") {
    Var x = parameter(Tensor({5}, {-2, -0.5f, 0, 0.5f, 2}));
    backward(sum(abs(x)));
    CHECK(close(x.grad(), Tensor({5}, {-1, -1, 0, 1, 1})));  // sign(0) = 0
    x.zero_grad();
    backward(sum(clamp(x, -0.5f, 1.0f)));  // the bounds themselves are outside (lo, hi)
    CHECK(close(x.grad(), Tensor({5}, {0, 0, 1, 1, 0})));
    x.zero_grad();
    backward(sum(relu(x)));
    CHECK(close(x.grad(), Tensor({5}, {0, 0, 0, 1, 1})));
    CHECK_THROWS_AS(clamp(x, 1.0f, -1.0f), ArgumentError);
}

TEST_CASE("activations: gradients") {
    const auto any = [](const Shape& s, uint64_t seed) { return rand_t(s, seed, -3.0f, 3.0f); };
    const auto off_zero = [](const Shape& s, uint64_t seed) { return away_from(rand_t(s, seed, -2.0f, 2.0f), 0.0f, 0.1f); };
    check_unary([](const Var& x) { return relu(x); }, "relu", off_zero);
    check_unary([](const Var& x) { return leaky_relu(x); }, "leaky_relu", off_zero);
    check_unary([](const Var& x) { return leaky_relu(x, 0.3f); }, "leaky_relu 0.3", off_zero);
    check_unary([](const Var& x) { return sigmoid(x); }, "sigmoid", any);
    check_unary([](const Var& x) { return tanh(x); }, "tanh", any);
    check_unary([](const Var& x) { return gelu(x); }, "gelu", any);
    check_unary([](const Var& x) { return softplus(x); }, "softplus", any);
    check_unary([](const Var& x) { return log_sigmoid(x); }, "log_sigmoid", any);
    // Far into the tails, where the stable forms switch branches.
    const auto tails = [](const Shape& s, uint64_t seed) { return rand_signed(s, seed, 4.0f, 12.0f); };
    check_unary([](const Var& x) { return softplus(x); }, "softplus tails", tails);
    check_unary([](const Var& x) { return log_sigmoid(x); }, "log_sigmoid tails", tails);
    check_unary([](const Var& x) { return sigmoid(x); }, "sigmoid tails", tails);
}

TEST_CASE("sigmoid, softplus and log_sigmoid stay finite at x = +-100") {
    Var x = parameter(Tensor({4}, {-100, -30, 30, 100}));
    for (auto f : {+[](const Var& v) { return sigmoid(v); }, +[](const Var& v) { return softplus(v); },
                   +[](const Var& v) { return log_sigmoid(v); }, +[](const Var& v) { return tanh(v); },
                   +[](const Var& v) { return gelu(v); }}) {
        x.zero_grad();
        const Var y = f(x);
        CHECK(all_finite(y.value()));
        backward(sum(y));
        CHECK(all_finite(x.grad()));
    }
    CHECK(sigmoid(x).value()[0] >= 0.0f);    // e^-100 is a float32 denormal (or flushed to 0)
    CHECK(sigmoid(x).value()[0] < 1e-30f);
    CHECK(sigmoid(x).value()[3] == 1.0f);
    CHECK(softplus(x).value()[3] == 100.0f);
    CHECK(softplus(x).value()[0] >= 0.0f);
    CHECK(log_sigmoid(x).value()[0] == -100.0f);
    CHECK(log_sigmoid(x).value()[3] <= 0.0f);
    // softplus keeps its precision for very negative inputs: log(1 + e^-30) = e^-30 to float accuracy.
    CHECK(softplus(x).value()[1] == doctest::Approx(std::exp(-30.0)).epsilon(1e-5));
}

TEST_CASE("masked_fill: values, broadcast masks and gradients") {
    const Var x = constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    CHECK(close(masked_fill(x, Tensor({2, 3}, {1, 0, 1, 0, 1, 1}), -9.0f).value(),
                Tensor({2, 3}, {1, -9, 3, -9, 5, 6})));
    CHECK(close(masked_fill(x, Tensor({3}, {0, 1, 1}), 0.0f).value(), Tensor({2, 3}, {0, 2, 3, 0, 5, 6})));
    CHECK(close(masked_fill(x, Tensor({2, 1}, {1, 0}), 7.0f).value(), Tensor({2, 3}, {1, 2, 3, 7, 7, 7})));

    uint64_t seed = 300;
    for (const auto& [sx, sm] : std::vector<std::pair<Shape, Shape>>{
             {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 3}, {2, 1}}, {{2, 3, 4}, {3, 4}}, {{2, 3, 4}, {2, 1, 4}}}) {
        Tensor mask = rand_t(sm, ++seed, 0.0f, 1.0f);
        for (float& m : mask.vec()) m = m < 0.4f ? 0.0f : 1.0f;
        const std::string what = "masked_fill " + shape_str(sx) + " mask " + shape_str(sm);
        const float worst = grad_check([&mask](const std::vector<Var>& v) { return masked_fill(v[0], mask, -1e9f); },
                                       {rand_t(sx, ++seed)}, {}, what);
        CHECK_MESSAGE(worst <= 1.0f, what);
    }
    const std::string msg = message_of<ShapeError>([&] { masked_fill(x, Tensor({2, 2}), 0.0f); });
    CHECK(msg.find("masked_fill") != std::string::npos);
    CHECK(msg.find("[2,2]") != std::string::npos);
    // A mask larger than x is an error too (it would change x's shape).
    CHECK_THROWS_AS(masked_fill(x, Tensor({4, 2, 3}), 0.0f), ShapeError);
}

TEST_CASE("dropout: reproducible masks, keep fraction, scaling, eval identity") {
    const Var x = constant(Tensor({100, 100}, 1.0f));
    Rng r1(5), r2(5), r3(6);
    const Tensor y1 = dropout(x, 0.3f, true, r1).value();
    const Tensor y2 = dropout(x, 0.3f, true, r2).value();
    const Tensor y3 = dropout(x, 0.3f, true, r3).value();
    CHECK(max_abs_diff(y1, y2) == 0.0f);  // same seed, same mask
    CHECK(max_abs_diff(y1, y3) > 0.0f);   // another seed, another mask
    size_t kept = 0, odd = 0;  // odd: values that are neither 0 nor the scale 1/(1-p)
    for (float v : y1.vec()) {
        kept += v != 0.0f;
        odd += v != 0.0f && v != 1.0f / 0.7f;
    }
    CHECK(odd == 0);
    // 10000 Bernoulli(0.7) draws: standard deviation 46, so +-250 is over 5 sigma.
    CHECK(kept > 6750);
    CHECK(kept < 7250);
    // Inverted dropout keeps the expected value: the mean stays near 1.
    CHECK(mean(constant(y1)).item() == doctest::Approx(1.0f).epsilon(0.04));

    // Eval mode and p = 0 are the identity (the same Var, no draws).
    Rng r4(5);
    const Var xp = parameter(Tensor({3}, {1, 2, 3}));
    CHECK(dropout(xp, 0.5f, false, r4).node() == xp.node());
    CHECK(dropout(xp, 0.0f, true, r4).node() == xp.node());
    // p = 1 drops everything without dividing by zero.
    CHECK(close(dropout(xp, 1.0f, true, r4).value(), Tensor({3}, 0.0f)));
    CHECK_THROWS_AS(dropout(xp, 1.5f, true, r4), ArgumentError);
    CHECK_THROWS_AS(dropout(xp, -0.1f, true, r4), ArgumentError);

    // Gradient: the mask times gy. We re-seed inside f so every evaluation draws the same mask.
    for (const Shape& s : {Shape{7}, Shape{3, 4}, Shape{2, 3, 4}}) {
        const float worst = grad_check([](const std::vector<Var>& v) {
            Rng rng(11);
            return dropout(v[0], 0.4f, true, rng);
        }, {rand_t(s, 400)}, {}, "dropout " + shape_str(s));
        CHECK(worst <= 1.0f);
    }
}

TEST_CASE("elementwise results free their graph (no reference cycles)") {
    std::weak_ptr<Node> watch_y, watch_x;
    {
        Var x = parameter(Tensor({2, 3}, 0.5f));
        Rng rng(1);
        Var y = dropout(gelu(softplus(log_sigmoid(sigmoid(tanh(exp(sqrt(x))))))) / (x + 1.0f), 0.2f, true, rng);
        y = masked_fill(abs(clamp(relu(leaky_relu(y)), -1.0f, 1.0f)), Tensor({3}, {1, 0, 1}), 0.0f);
        y = pow(log(y + 2.0f), 2.0f) * x - x;
        backward(sum(y));
        watch_y = y.node_ptr();
        watch_x = x.node_ptr();
    }
    CHECK(watch_y.expired());
    CHECK(watch_x.expired());
}

TEST_CASE("results record no graph under NoGrad or from constants") {
    const Var p = parameter(Tensor({2}, {1, 2}));
    CHECK(sigmoid(p).requires_grad());
    CHECK_FALSE(sigmoid(constant(Tensor({2}))).requires_grad());
    NoGrad ng;
    CHECK_FALSE((p * p).requires_grad());
}

}  // TEST_SUITE
