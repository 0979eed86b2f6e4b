// Tests for nn/linear.h and nn/norm.h: a finite-difference gradient check through each whole
// layer (inputs and parameters), plus behaviour: bag means, running statistics, eval modes,
// deterministic initialisation and parameter names. Sequence layers: test_nn_sequence.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "nn/layers.h"
#include "tests/nn_test_util.h"

using namespace minirec;
using minirec::testing::layer_grad_check;
using minirec::testing::uniform_t;
using minirec::testing::with_inputs;

TEST_SUITE("nn") {

TEST_CASE("Linear: gradient through the layer, rank 2 and rank 3 inputs") {
    Rng rng(1);
    Linear lin(4, 3, rng);
    Var x2 = parameter(uniform_t({5, 4}, 11));
    CHECK(layer_grad_check([&] { return lin(x2); }, with_inputs(lin.parameters(), {x2}),
                           "Linear 2-D") <= 1.0f);
    Var x3 = parameter(uniform_t({2, 3, 4}, 12));
    CHECK(lin(x3).shape() == Shape{2, 3, 3});
    CHECK(layer_grad_check([&] { return lin(x3); }, with_inputs(lin.parameters(), {x3}),
                           "Linear 3-D") <= 1.0f);
    // Without bias: one parameter, and y = x W exactly.
    Linear nb(4, 3, rng, /*bias=*/false);
    CHECK(nb.parameters().size() == 1);
    CHECK(max_abs_diff(nb(x2).value(), matmul(x2, nb.weight).value()) == 0.0f);
}

TEST_CASE("linear_cat: several Linears of one input as one GEMM, each keeping its gradient") {
    Rng rng(2);
    Linear a(4, 3, rng), b(4, 5, rng), c(4, 2, rng);
    a.bias.value_mut() = uniform_t({3}, 13);  // non-zero biases
    b.bias.value_mut() = uniform_t({5}, 15);
    c.bias.value_mut() = uniform_t({2}, 16);
    Var x = parameter(uniform_t({2, 3, 4}, 14));
    const Var y = linear_cat(x, {&a, &b, &c});
    CHECK(y.shape() == Shape{2, 3, 10});
    // The same numbers as the three layers side by side.
    CHECK(max_abs_diff(y.value(), concat({a(x), b(x), c(x)}, -1).value()) < 1e-6f);
    std::vector<Var> params = with_inputs(a.parameters(), {x});
    for (const Var& p : b.parameters()) params.push_back(p);
    for (const Var& p : c.parameters()) params.push_back(p);
    CHECK(layer_grad_check([&] { return linear_cat(x, {&a, &b, &c}); }, params, "linear_cat") <= 1.0f);
    // The layers must agree on the input size and on having a bias.
    Linear wrong_in(5, 2, rng), no_bias(4, 2, rng, false);
    CHECK_THROWS_AS(linear_cat(x, {&a, &wrong_in}), ArgumentError);
    CHECK_THROWS_AS(linear_cat(x, {&a, &no_bias}), ArgumentError);
    CHECK_THROWS_AS(linear_cat(constant(Tensor::zeros({2, 5})), {&a}), ShapeError);
}

TEST_CASE("Linear: a wrong input size is a ShapeError naming the layer") {
    Rng rng(1);
    Linear lin(4, 3, rng);
    try {
        lin(constant(Tensor::zeros({2, 5})));
        FAIL("no exception");
    } catch (const ShapeError& e) {
        CHECK(std::string(e.what()).find("Linear") != std::string::npos);
    }
}

TEST_CASE("initialisation: Xavier and Kaiming bounds, the same seed gives the same bits") {
    Rng a(7), b(7);
    Linear la(30, 20, a), lb(30, 20, b);
    CHECK(max_abs_diff(la.weight.value(), lb.weight.value()) == 0.0f);
    const float xav = std::sqrt(6.0f / 50.0f);
    float mx = 0.0f;
    for (float v : la.weight.value().vec()) mx = std::fmax(mx, std::fabs(v));
    CHECK(mx <= xav);
    CHECK(mx > 0.8f * xav);  // 600 draws reach near the bound
    Linear lk(30, 20, a, true, Init::kaiming_uniform);
    mx = 0.0f;
    for (float v : lk.weight.value().vec()) mx = std::fmax(mx, std::fabs(v));
    CHECK(mx <= std::sqrt(6.0f / 30.0f));
    CHECK(mx > xav);

    // A whole MLP (and anything else) is reproducible from its seed.
    MLPOptions o;
    o.sizes = {6, 5, 1};
    o.dropout = 0.2f;
    Rng r1(3), r2(3);
    MLP m1(o, r1), m2(o, r2);
    const NamedParams p1 = m1.named_parameters(), p2 = m2.named_parameters();
    REQUIRE(p1.size() == p2.size());
    for (size_t i = 0; i < p1.size(); ++i)
        CHECK(max_abs_diff(p1[i].second.value(), p2[i].second.value()) == 0.0f);
    Var x = constant(uniform_t({4, 6}, 5));
    CHECK(max_abs_diff(m1(x).value(), m2(x).value()) == 0.0f);  // same dropout masks too
}

TEST_CASE("Embedding: lookup, id_shape, gradient with repeated ids") {
    Rng rng(2);
    Embedding emb(6, 3, rng);
    const Ids ids = {4, 1, 4, 0};
    Var e = emb(ids);
    CHECK(e.shape() == Shape{4, 3});
    for (int j = 0; j < 3; ++j) CHECK(e.value().at({0, j}) == emb.table.value().at({4, j}));
    CHECK(emb(ids, {2, 2}).shape() == Shape{2, 2, 3});
    CHECK_THROWS_AS(emb(ids, {3, 2}), ArgumentError);
    CHECK_THROWS_AS(emb({6}), ArgumentError);  // out of range
    CHECK(layer_grad_check([&] { return emb(ids, {2, 2}); }, emb.parameters(), "Embedding") <=
          1.0f);
}

TEST_CASE("EmbeddingBag: mean equals the manual mean; sum, weights and empty bags") {
    Rng rng(3);
    EmbeddingBag mean_bag(5, 2, rng, BagMode::mean);
    const Ids ids = {0, 3, 4, 2, 2};
    const std::vector<int> offsets = {0, 3, 3, 5};  // bags {0,3,4}, {}, {2,2}
    Var y = mean_bag(ids, offsets);
    REQUIRE(y.shape() == Shape{3, 2});
    const Tensor& t = mean_bag.table.value();
    for (int j = 0; j < 2; ++j) {
        CHECK(y.value().at({0, j}) ==
              doctest::Approx((t.at({0, j}) + t.at({3, j}) + t.at({4, j})) / 3.0f));
        CHECK(y.value().at({1, j}) == 0.0f);
        CHECK(y.value().at({2, j}) == doctest::Approx(t.at({2, j})));
    }
    EmbeddingBag sum_bag = mean_bag;  // shares the table (Vars are handles)
    sum_bag.mode = BagMode::sum;
    const std::vector<float> w = {1.0f, 0.5f, 2.0f, 1.0f, -1.0f};
    Var s = sum_bag(ids, offsets, &w);
    for (int j = 0; j < 2; ++j) {
        CHECK(s.value().at({0, j}) ==
              doctest::Approx(t.at({0, j}) + 0.5f * t.at({3, j}) + 2.0f * t.at({4, j})));
        CHECK(s.value().at({2, j}) == doctest::Approx(0.0f));
    }
    CHECK(layer_grad_check([&] { return mean_bag(ids, offsets, &w); }, mean_bag.parameters(),
                           "EmbeddingBag mean") <= 1.0f);
    CHECK(layer_grad_check([&] { return sum_bag(ids, offsets); }, sum_bag.parameters(),
                           "EmbeddingBag sum") <= 1.0f);
}

TEST_CASE("Dropout: eval is the identity; training zeroes about p and rescales the rest") {
    Dropout d(0.25f, uint64_t{9});
    Var x = constant(Tensor::ones({100, 40}));
    d.training = false;
    CHECK(max_abs_diff(d(x).value(), x.value()) == 0.0f);
    d.training = true;
    const Tensor y = d(x).value();
    int zeros = 0;
    for (float v : y.vec()) {
        if (v == 0.0f) ++zeros;
        else CHECK(v == doctest::Approx(1.0f / 0.75f));
    }
    CHECK(zeros > 850);   // expected 1000 of 4000
    CHECK(zeros < 1150);
    CHECK_THROWS_AS(Dropout(1.0f, uint64_t{1}), ArgumentError);
}

TEST_CASE("MLP: shapes, names and gradients (tanh + batch-norm + dropout, gelu)") {
    Rng rng(4);
    MLPOptions o;
    o.sizes = {3, 5, 4, 2};
    o.activation = Activation::tanh;
    o.batch_norm = true;
    o.dropout = 0.3f;
    MLP mlp(o, rng);
    CHECK(mlp.linears.size() == 3);
    CHECK(mlp.norms.size() == 2);  // the last layer is plain
    const NamedParams named = mlp.named_parameters("mlp.");
    CHECK(named.size() == 3 * 2 + 2 * 2);
    CHECK(named[0].first == "mlp.0.weight");
    CHECK(named[2].first == "mlp.0.bn.gamma");
    CHECK(named.back().first == "mlp.2.bias");
    CHECK(mlp.buffers("mlp.").size() == 4);
    CHECK(mlp.buffers()[0].first == "0.bn.running_mean");

    Var x = parameter(uniform_t({6, 3}, 21));
    // The dropout masks must be the same in every evaluation: we reset the Rngs each time.
    auto f = [&] {
        for (size_t i = 0; i < mlp.dropouts.size(); ++i) mlp.dropouts[i].rng = Rng(100 + i);
        return mlp(x);
    };
    CHECK(f().shape() == Shape{6, 2});
    CHECK(layer_grad_check(f, with_inputs(mlp.parameters(), {x}), "MLP tanh+bn+dropout") <= 1.0f);

    MLPOptions g;
    g.sizes = {3, 4, 2};
    g.activation = parse_activation("gelu");
    g.activate_last = true;
    MLP mg(g, rng);
    CHECK(mg.dropouts.size() == 2);
    Var x3 = parameter(uniform_t({2, 2, 3}, 22));
    CHECK(mg(x3).shape() == Shape{2, 2, 2});
    CHECK(layer_grad_check([&] { return mg(x3); }, with_inputs(mg.parameters(), {x3}),
                           "MLP gelu") <= 1.0f);
    CHECK_THROWS_AS(parse_activation("swish"), ArgumentError);
    CHECK(std::string(activation_name(Activation::sigmoid)) == "sigmoid");
}

TEST_CASE("MLP: eval mode turns dropout off and uses batch-norm running statistics") {
    Rng rng(5);
    MLPOptions o;
    o.sizes = {3, 4, 1};
    o.batch_norm = true;
    o.dropout = 0.5f;
    MLP mlp(o, rng);
    Var x = constant(uniform_t({8, 3}, 23));
    mlp(x);  // one training step of running statistics
    mlp.set_training(false);
    const Tensor a = mlp(x).value(), b = mlp(x).value();
    CHECK(max_abs_diff(a, b) == 0.0f);
    // Eval by hand: Linear -> BN with running stats -> relu -> Linear.
    Var h = mlp.linears[0](x);
    const BatchNorm& bn = mlp.norms[0];
    Tensor inv({4});
    for (int j = 0; j < 4; ++j) inv[j] = 1.0f / std::sqrt(bn.running_var[j] + bn.eps);
    h = relu((h - constant(bn.running_mean)) * constant(inv) * bn.gamma + bn.beta);
    CHECK(max_abs_diff(mlp.linears[1](h).value(), a) < 1e-6f);
}

TEST_CASE("LayerNorm: normalised rows and the gradient through the layer") {
    LayerNorm ln(5);
    ln.gamma.value_mut() = uniform_t({5}, 31, 0.5f, 1.5f);
    ln.beta.value_mut() = uniform_t({5}, 32);
    Var x = parameter(uniform_t({2, 3, 5}, 33, -2.0f, 2.0f));
    CHECK(layer_grad_check([&] { return ln(x); }, with_inputs(ln.parameters(), {x}),
                           "LayerNorm") <= 1.0f);
    LayerNorm plain(5);
    const Tensor y = plain(x).value();
    for (int r = 0; r < 6; ++r) {
        double m = 0, v = 0;
        for (int j = 0; j < 5; ++j) m += y[r * 5 + j];
        m /= 5;
        for (int j = 0; j < 5; ++j) v += (y[r * 5 + j] - m) * (y[r * 5 + j] - m);
        CHECK(m == doctest::Approx(0.0).epsilon(1e-5));
        CHECK(v / 5 == doctest::Approx(1.0).epsilon(1e-3));
    }
    CHECK_THROWS_AS(ln(constant(Tensor::zeros({2, 4}))), ShapeError);
}

TEST_CASE("BatchNorm: gradient in training mode, running statistics, eval uses them") {
    BatchNorm bn(3, /*momentum=*/0.5f);
    bn.gamma.value_mut() = uniform_t({3}, 41, 0.5f, 1.5f);
    bn.beta.value_mut() = uniform_t({3}, 42);
    Var x = parameter(uniform_t({4, 3}, 43, -2.0f, 2.0f));
    CHECK(layer_grad_check([&] { return bn(x); }, with_inputs(bn.parameters(), {x}),
                           "BatchNorm train") <= 1.0f);

    // Running statistics after one step from (0, 1) with momentum 0.5.
    BatchNorm fresh(3, 0.5f);
    fresh(x);
    const Tensor& xv = x.value();
    for (int j = 0; j < 3; ++j) {
        double m = 0, v = 0;
        for (int b = 0; b < 4; ++b) m += xv[b * 3 + j];
        m /= 4;
        for (int b = 0; b < 4; ++b) v += (xv[b * 3 + j] - m) * (xv[b * 3 + j] - m);
        v /= 3;  // unbiased
        CHECK(fresh.running_mean[j] == doctest::Approx(0.5 * m));
        CHECK(fresh.running_var[j] == doctest::Approx(0.5 + 0.5 * v));
    }
    // Eval: fixed affine map with the running statistics, and a gradient through it.
    fresh.training = false;
    fresh.gamma.value_mut() = uniform_t({3}, 44, 0.5f, 1.5f);
    const Tensor before = fresh.running_mean;
    const Tensor y = fresh(x).value();
    CHECK(max_abs_diff(fresh.running_mean, before) == 0.0f);
    for (int b = 0; b < 4; ++b)
        for (int j = 0; j < 3; ++j)
            CHECK(y[b * 3 + j] == doctest::Approx((xv[b * 3 + j] - fresh.running_mean[j]) /
                                                      std::sqrt(fresh.running_var[j] + 1e-5f) *
                                                      fresh.gamma.value()[j]));
    CHECK(layer_grad_check([&] { return fresh(x); }, with_inputs(fresh.parameters(), {x}),
                           "BatchNorm eval") <= 1.0f);

    // Buffers are pointers into the layer: a checkpoint can write through them.
    NamedBuffers buf = fresh.buffers("bn.");
    REQUIRE(buf.size() == 2);
    CHECK(buf[0].first == "bn.running_mean");
    CHECK(buf[1].first == "bn.running_var");
    buf[1].second->fill(4.0f);
    CHECK(fresh.running_var[2] == 4.0f);

    // (B, T, D): statistics over B and T together.
    BatchNorm bn3(3);
    Var x3 = parameter(uniform_t({2, 2, 3}, 45));
    CHECK(bn3(x3).shape() == Shape{2, 2, 3});
    CHECK(layer_grad_check([&] { return bn3(x3); }, with_inputs(bn3.parameters(), {x3}),
                           "BatchNorm 3-D") <= 1.0f);
}

TEST_CASE("named_parameters: names are unique and parameters() follows the same order") {
    Rng rng(6);
    MLPOptions o;
    o.sizes = {4, 3, 2};
    o.batch_norm = true;
    MLP mlp(o, rng);
    const NamedParams named = mlp.named_parameters("tower.");
    const std::vector<Var> ps = mlp.parameters();
    REQUIRE(named.size() == ps.size());
    std::set<std::string> names;
    for (size_t i = 0; i < ps.size(); ++i) {
        names.insert(named[i].first);
        CHECK(named[i].second.node() == ps[i].node());
        CHECK(ps[i].requires_grad());
    }
    CHECK(names.size() == named.size());
}

}  // TEST_SUITE
