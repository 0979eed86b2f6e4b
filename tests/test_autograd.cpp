// Tests for core/autograd.cpp: accumulation, zero_grad, shared nodes, NoGrad, detach, errors,
// graph lifetime (freed with its last Var, no stack overflow on long chains) and determinism.
// The graphs are built from matmul and the shape ops only, so these tests need no other op file.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>

#include "core/ops.h"
#include "core/rng.h"

using namespace minirec;

namespace {

Tensor rnd(Shape s, uint64_t seed) {
    Rng rng(seed);
    return Tensor::uniform(std::move(s), rng, -1.0f, 1.0f);
}

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// A scalar-sized loss from a (1, n) row and an (n, 1) column: matmul is our only reduction here.
Var dot_loss(const Var& x, const Var& w) {
    return matmul(reshape(x, {1, -1}), reshape(w, {-1, 1}));  // (1, n) x (n, 1) -> (1, 1)
}

}  // namespace

TEST_SUITE("autograd") {

TEST_CASE("leaves: parameter, constant, default Var") {
    Var p = parameter(Tensor({2}, {1, 2}));
    Var c = constant(Tensor({2}, {3, 4}));
    CHECK(p.requires_grad());
    CHECK_FALSE(c.requires_grad());
    CHECK_FALSE(p.has_grad());
    CHECK(p.grad().vec() == std::vector<float>{0, 0});  // zero of the value's shape until used
    CHECK(std::string(p.op()) == "leaf");
    Var d;
    CHECK(d.rank() == 0);
    CHECK(d.item() == 0.0f);
    // A result of constants is a constant: no parents, no closure.
    Var y = matmul(reshape(c, {1, 2}), reshape(c, {2, 1}));
    CHECK_FALSE(y.requires_grad());
    CHECK(y.node()->parents.empty());
    CHECK_FALSE(static_cast<bool>(y.node()->backward));
    CHECK(std::string(y.op()) == "matmul");
}

TEST_CASE("gradients accumulate across two backward calls until zero_grad") {
    Var x = parameter(Tensor({3}, {1, 2, 3}));
    Var w = constant(Tensor({3}, {4, 5, 6}));
    backward(dot_loss(x, w));
    CHECK(x.grad().vec() == std::vector<float>{4, 5, 6});
    backward(dot_loss(x, w));
    CHECK(x.grad().vec() == std::vector<float>{8, 10, 12});
    x.zero_grad();
    CHECK_FALSE(x.has_grad());
    CHECK(x.grad().vec() == std::vector<float>{0, 0, 0});
    backward(dot_loss(x, w));
    CHECK(x.grad().vec() == std::vector<float>{4, 5, 6});
}

TEST_CASE("a node used twice gets the sum of both gradients") {
    // Diamond: x -> (reshape, transpose) -> concat. Each path carries gy's band back to x.
    Var x = parameter(Tensor({2, 2}, {1, 2, 3, 4}));
    Var top = reshape(x, {1, 4});
    Var bottom = reshape(transpose(x), {1, 4});
    Var y = concat({top, bottom}, 0);  // (2, 4)
    backward(y, Tensor({2, 4}, {1, 2, 3, 4, 10, 20, 30, 40}));
    // x[i][j] gets g_top[2i+j] + g_bottom[2j+i].
    CHECK(x.grad().vec() == std::vector<float>{11, 32, 23, 44});

    // The same Var as both operands of one op: d(sum(x x * G))/dx = G x^T + x^T G.
    Var m = parameter(Tensor({2, 2}, {1, 2, 3, 4}));
    backward(matmul(m, m), Tensor::ones({2, 2}));
    // G = ones: G m^T has rows (3, 7); m^T G has columns (4, 6).
    CHECK(m.grad().vec() == std::vector<float>{3 + 4, 7 + 4, 3 + 6, 7 + 6});

    // An intermediate read by three later ops: its closure runs once, with the sum. It hands
    // that gradient on and keeps none (only leaves keep theirs), as PyTorch's non-leaf tensors.
    Var a = parameter(Tensor({3}, {1, 1, 1}));
    Var mid = reshape(a, {3, 1});
    Var out = concat({mid, mid, mid}, 1);  // (3, 3)
    backward(out, Tensor::ones({3, 3}));
    CHECK(a.grad().vec() == std::vector<float>{3, 3, 3});
    CHECK(mid.grad().vec() == std::vector<float>{0, 0, 0});
    // So a second backward through the same graph adds the same gradient again, no more.
    backward(out, Tensor::ones({3, 3}));
    CHECK(a.grad().vec() == std::vector<float>{6, 6, 6});
}

TEST_CASE("pass-through gradients are moved, not copied, and stay correct when shared") {
    // x W + b: the add hands gy to the product and sums it for the bias; x + x adds twice.
    Var x = parameter(Tensor({2, 2}, {1, 2, 3, 4}));
    Var b = parameter(Tensor({2}, {0.5f, -0.5f}));
    backward(sum(reshape(x + b, {4}) * 2.0f));
    CHECK(x.grad().vec() == std::vector<float>{2, 2, 2, 2});
    CHECK(b.grad().vec() == std::vector<float>{4, 4});
    x.zero_grad();
    backward(sum(x + x));  // the same Var twice: one copy, then the move
    CHECK(x.grad().vec() == std::vector<float>{2, 2, 2, 2});
    x.zero_grad();
    backward(sum(x - x * 3.0f));
    CHECK(x.grad().vec() == std::vector<float>{-2, -2, -2, -2});
}

TEST_CASE("NoGrad records nothing and restores the previous state") {
    Var x = parameter(rnd({2, 3}, 1));
    CHECK(grad_enabled());
    {
        NoGrad ng;
        CHECK_FALSE(grad_enabled());
        Var y = matmul(x, x, false, true);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.node()->parents.empty());
        CHECK_FALSE(static_cast<bool>(y.node()->backward));
        {
            NoGrad inner;
            CHECK_FALSE(grad_enabled());
        }
        CHECK_FALSE(grad_enabled());  // the inner scope restores "off", not "on"
        CHECK_THROWS_AS(backward(y, Tensor::ones({2, 2})), ArgumentError);
    }
    CHECK(grad_enabled());
    CHECK(matmul(x, x, false, true).requires_grad());
}

TEST_CASE("detach keeps the value and stops the gradient") {
    Var x = parameter(Tensor({3}, {1, 2, 3}));
    Var w = parameter(Tensor({3}, {4, 5, 6}));
    Var d = detach(x);
    CHECK(d.value().vec() == x.value().vec());
    CHECK_FALSE(d.requires_grad());
    backward(dot_loss(d, w));
    CHECK_FALSE(x.has_grad());
    CHECK(w.grad().vec() == std::vector<float>{1, 2, 3});
    // Detaching an intermediate stops the gradient there but not on the other path.
    Var h = reshape(x, {3});
    backward(dot_loss(concat({detach(h), h}, 0), concat({w, w}, 0)));
    CHECK(x.grad().vec() == std::vector<float>{4, 5, 6});
}

TEST_CASE("backward errors: non-scalar loss, constant loss, wrong seed shape, wrong gradient shape") {
    Var x = parameter(rnd({2, 3}, 2));
    Var y = matmul(x, x, false, true);  // (2, 2)
    const std::string msg = [&] {
        try {
            backward(y);
        } catch (const ShapeError& e) {
            return std::string(e.what());
        }
        return std::string("no throw");
    }();
    CHECK(msg.find("backward") != std::string::npos);
    CHECK(msg.find("[2,2]") != std::string::npos);
    CHECK_THROWS_AS(backward(constant(Tensor::scalar(1))), ArgumentError);
    CHECK_THROWS_AS(backward(y, Tensor::ones({4})), ShapeError);
    CHECK_THROWS_AS(x.accumulate_grad(Tensor::ones({3, 2})), ShapeError);
    CHECK_NOTHROW(backward(y, Tensor::ones({2, 2})));
    // A one-element loss of any rank is fine.
    CHECK_NOTHROW(backward(dot_loss(x, x)));
}

TEST_CASE("the graph is freed when its last Var goes") {
    Var x = parameter(rnd({3, 4}, 3));
    std::weak_ptr<Node> w_mid, w_out;
    {
        Var mid = transpose(x);
        Var out = matmul(mid, x);  // (4, 3) x (3, 4) -> (4, 4)
        w_mid = mid.node_ptr();
        w_out = out.node_ptr();
        mid = Var();  // out still owns mid through its parents
        CHECK_FALSE(w_mid.expired());
        backward(out, Tensor::ones({4, 4}));
        CHECK_FALSE(w_out.expired());
    }
    CHECK(w_out.expired());
    CHECK(w_mid.expired());
    CHECK(x.has_grad());  // the leaf and its gradient stay

    // Also without ever calling backward.
    std::weak_ptr<Node> w2;
    {
        Var out = matmul(reshape(x, {4, 3}), x);
        w2 = out.node()->parents[0];
    }
    CHECK(w2.expired());
}

TEST_CASE("a chain of 100000 nodes: backward and destruction without stack overflow") {
    Var x = parameter(Tensor({2, 3}, 1.0f));
    std::weak_ptr<Node> first;
    {
        Var y = x;
        for (int i = 0; i < 100000; ++i) {
            y = (i % 2) ? squeeze(y, 0) : unsqueeze(y, 0);
            if (i == 0) first = y.node_ptr();
        }
        CHECK(y.shape() == Shape{2, 3});
        backward(y, rnd({2, 3}, 4));
        CHECK(x.grad().vec() == rnd({2, 3}, 4).vec());
    }
    CHECK(first.expired());
}

TEST_CASE("two runs with the same seed give bit-identical results") {
    // A tiny two-tower model trained for a few steps by hand-written SGD, from one seed:
    // user = mean of their item embeddings, score = (user W) . (item W), all through our ops.
    auto run = [](uint64_t seed) {
        Rng rng(seed);
        Var table = parameter(Tensor::normal({20, 8}, rng, 0.0f, 0.1f));  // (N, D)
        Var proj = parameter(Tensor::normal({8, 4}, rng, 0.0f, 0.3f));    // (D, 4)
        std::vector<Tensor> trace;
        for (int step = 0; step < 5; ++step) {
            Ids history(12), targets(4);
            for (int32_t& id : history) id = rng.randint(20);
            for (int32_t& id : targets) id = rng.randint(20);
            const std::vector<int> offsets = {0, 3, 5, 5, 12};  // 4 users, one with no history
            Var users = matmul(segment_mean(table, history, offsets), proj);   // (4, 4)
            Var items = matmul(gather_rows(table, targets), proj);             // (4, 4)
            Var scores = matmul(users, items, false, true);                    // (4, 4)
            const Tensor seed_grad = Tensor::uniform({4, 4}, rng, -1.0f, 1.0f);
            table.zero_grad();
            proj.zero_grad();
            backward(scores, seed_grad);
            trace.push_back(scores.value());
            table.value_mut() -= table.grad() * 0.5f;
            proj.value_mut() -= proj.grad() * 0.5f;
        }
        trace.push_back(table.value());
        trace.push_back(proj.value());
        return trace;
    };
    const auto a = run(123), b = run(123), c = run(124);
    REQUIRE(a.size() == b.size());
    bool same = true;
    for (size_t i = 0; i < a.size(); ++i) same = same && bit_equal(a[i], b[i]);
    CHECK(same);
    CHECK_FALSE(bit_equal(a.back(), c.back()));
}

}  // TEST_SUITE("autograd")
