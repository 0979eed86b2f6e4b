// Losses: hand-computed values, finite-difference gradients through every loss, stability at
// logits of +/-100, and the log-q correction of the sampled and in-batch softmax.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/losses.h"
#include "tests/gradcheck.h"

using namespace minirec;
using testing::grad_check;

namespace {
Tensor T(Shape s, std::vector<float> v) { return Tensor(std::move(s), std::move(v)); }
float loss_of(const Var& v) { return v.item(); }
double lse(std::vector<double> xs) {
    double m = xs[0], s = 0;
    for (double x : xs) m = std::max(m, x);
    for (double x : xs) s += std::exp(x - m);
    return m + std::log(s);
}
}  // namespace

TEST_SUITE("nn") {

TEST_CASE("bce_with_logits: values, reductions, gradient") {
    Var z = parameter(T({4}, {0.0f, 2.0f, -1.0f, 0.5f}));
    const Tensor y = T({4}, {1.0f, 0.0f, 1.0f, 0.25f});
    // softplus(z) - y z per element
    const double e[4] = {std::log(2.0), std::log1p(std::exp(2.0)), std::log1p(std::exp(-1.0)) + 1.0,
                         std::log1p(std::exp(0.5)) - 0.125};
    Var none = bce_with_logits(z, y, Reduction::none);
    for (int i = 0; i < 4; ++i) CHECK(none.value()[i] == doctest::Approx(e[i]).epsilon(1e-6));
    CHECK(loss_of(bce_with_logits(z, y, Reduction::sum)) == doctest::Approx(e[0] + e[1] + e[2] + e[3]).epsilon(1e-6));
    Var l = bce_with_logits(z, y);
    CHECK(l.item() == doctest::Approx((e[0] + e[1] + e[2] + e[3]) / 4).epsilon(1e-6));
    backward(l);
    for (int i = 0; i < 4; ++i) {  // d/dz = (sigmoid(z) - y) / 4
        const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(z.value()[i])));
        CHECK(z.grad()[i] == doctest::Approx((s - y[i]) / 4).epsilon(1e-5));
    }
    CHECK(grad_check([&](const std::vector<Var>& x) { return bce_with_logits(x[0], y); }, {z.value()}) <= 1.0f);
    CHECK_THROWS_AS(bce_with_logits(z, T({2}, {0, 1})), ShapeError);
}

TEST_CASE("bce_with_logits is stable at logits +/-100") {
    Var z = parameter(T({4}, {100.0f, -100.0f, 100.0f, -100.0f}));
    const Tensor y = T({4}, {0.0f, 1.0f, 1.0f, 0.0f});
    Var l = bce_with_logits(z, y, Reduction::none);
    CHECK(l.value()[0] == doctest::Approx(100.0));  // confidently wrong: costs |z|
    CHECK(l.value()[1] == doctest::Approx(100.0));
    CHECK(l.value()[2] == doctest::Approx(0.0));     // confidently right: ~e^-100
    CHECK(l.value()[3] == doctest::Approx(0.0));
    backward(sum(l));
    const float expect[4] = {1.0f, -1.0f, 0.0f, 0.0f};  // sigmoid(z) - y
    for (int i = 0; i < 4; ++i) {
        CHECK(std::isfinite(z.grad()[i]));
        CHECK(z.grad()[i] == doctest::Approx(expect[i]).epsilon(1e-6));
    }
}

TEST_CASE("mse_loss") {
    Var p = parameter(T({2, 2}, {1, 2, 3, 4}));
    const Tensor t = T({2, 2}, {0, 2, 5, 3});
    CHECK(mse_loss(p, t).item() == doctest::Approx((1 + 0 + 4 + 1) / 4.0));
    CHECK(mse_loss(p, t, Reduction::sum).item() == doctest::Approx(6.0));
    CHECK(grad_check([&](const std::vector<Var>& x) { return mse_loss(x[0], t); }, {p.value()}) <= 1.0f);
}

TEST_CASE("softmax_cross_entropy: value, ignore index, gradient, stability") {
    Var z = parameter(T({3, 3}, {1, 2, 3, 0, 0, 0, 5, -1, 2}));
    // row 0 target 2: log(1 + e^-1 + e^-2); row 1 ignored; row 2 target 0: log(1 + e^-6 + e^-3)
    const double r0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0));
    const double r2 = std::log(1 + std::exp(-6.0) + std::exp(-3.0));
    CHECK(softmax_cross_entropy(z, {2, -100, 0}).item() == doctest::Approx((r0 + r2) / 2).epsilon(1e-6));
    CHECK(softmax_cross_entropy(z, {2, 7, 0}, 7, Reduction::sum).item() == doctest::Approx(r0 + r2).epsilon(1e-6));
    Var none = softmax_cross_entropy(z, {2, -100, 0}, -100, Reduction::none);
    CHECK(none.value()[1] == 0.0f);
    Var all_ignored = softmax_cross_entropy(z, {-100, -100, -100});
    CHECK(all_ignored.item() == 0.0f);
    CHECK(grad_check([](const std::vector<Var>& x) { return softmax_cross_entropy(x[0], {2, -100, 0}); },
                     {z.value()}) <= 1.0f);
    CHECK_THROWS_AS(softmax_cross_entropy(z, {3, 0, 0}), ArgumentError);
    CHECK_THROWS_AS(softmax_cross_entropy(z, {1, 0}), ShapeError);
    // Logits of +/-100 stay finite.
    Var big = parameter(T({2, 2}, {100, -100, -100, 100}));
    Var l = softmax_cross_entropy(big, {1, 1});
    CHECK(l.item() == doctest::Approx(100.0));  // row 0 wrong by 200 -> 200, row 1 right -> 0
    backward(l);
    for (size_t i = 0; i < 4; ++i) CHECK(std::isfinite(big.grad()[i]));
}

TEST_CASE("linear_softmax_cross_entropy: the value and gradients of matmul + bias + softmax_cross_entropy") {
    Rng rng(3);
    // 300 rows: more than two blocks of 128, the last one partial; some rows ignored.
    const int B = 300, D = 8, C = 37;
    const Tensor h0 = Tensor::normal({B, D}, rng), w0 = Tensor::normal({C, D}, rng), b0 = Tensor::normal({C}, rng);
    Ids t(B);
    for (int i = 0; i < B; ++i) t[static_cast<size_t>(i)] = i % 7 == 3 ? -1 : rng.randint(C);
    for (Reduction red : {Reduction::mean, Reduction::sum, Reduction::none}) {
        Var h1 = parameter(h0), w1 = parameter(w0), b1 = parameter(b0);
        Var h2 = parameter(h0), w2 = parameter(w0), b2 = parameter(b0);
        Var fused = linear_softmax_cross_entropy(h1, w1, b1, t, -1, red);
        Var ops = softmax_cross_entropy(matmul(h2, w2, false, true) + b2, t, -1, red);
        REQUIRE(fused.shape() == ops.shape());
        for (size_t i = 0; i < fused.size(); ++i) CHECK(fused.value()[i] == doctest::Approx(ops.value()[i]).epsilon(1e-5));
        backward(sum(fused));
        backward(sum(ops));
        // Normwise: the largest difference against the gradient's largest entry. (Entry by entry,
        // an entry of dh is a sum over C classes that cancels to 2e-5 in a row whose largest is 4:
        // float rounding there is 5e-7 absolute, 1e-7 of the scale, but 4e-3 of the entry itself.)
        for (const auto& p : {std::make_pair(h1, h2), std::make_pair(w1, w2), std::make_pair(b1, b2)}) {
            double diff = 0.0, scale = 0.0;
            for (size_t i = 0; i < p.first.size(); ++i) {
                diff = std::max(diff, double(std::fabs(p.first.grad()[i] - p.second.grad()[i])));
                scale = std::max(scale, double(std::fabs(p.second.grad()[i])));
            }
            CHECK(diff <= 1e-5 * scale);
        }
    }
    // Central differences on a small case, ignored row included.
    const Tensor hs = Tensor::normal({4, 3}, rng), ws = Tensor::normal({5, 3}, rng), bs = Tensor::normal({5}, rng);
    CHECK(grad_check([](const std::vector<Var>& x) { return linear_softmax_cross_entropy(x[0], x[1], x[2], {4, -100, 0, 2}); },
                     {hs, ws, bs}) <= 1.0f);
    Var h = parameter(hs), w = parameter(ws), b = parameter(bs);
    CHECK_THROWS_AS(linear_softmax_cross_entropy(h, w, b, {5, 0, 0, 0}), ArgumentError);         // target >= C
    CHECK_THROWS_AS(linear_softmax_cross_entropy(h, w, b, {0, 0}), ShapeError);                  // one per row
    CHECK_THROWS_AS(linear_softmax_cross_entropy(h, parameter(Tensor({5, 4})), b, {0, 0, 0, 0}), ShapeError);
    CHECK_THROWS_AS(linear_softmax_cross_entropy(h, w, parameter(Tensor({4})), {0, 0, 0, 0}), ShapeError);
    CHECK(linear_softmax_cross_entropy(h, w, b, {-100, -100, -100, -100}).item() == 0.0f);
    // No rows at all: loss 0, and zero gradients (not whatever the buffers held).
    Var none = parameter(Tensor({0, 3}));
    Var l0 = linear_softmax_cross_entropy(none, w, b, {}, -100, Reduction::sum);
    CHECK(l0.item() == 0.0f);
    backward(l0);
    for (size_t i = 0; i < w.size(); ++i) CHECK(w.grad()[i] == 0.0f);
    for (size_t i = 0; i < b.size(); ++i) CHECK(b.grad()[i] == 0.0f);
}

TEST_CASE("soft_cross_entropy: one-hot equals hard CE; temperature; gradient") {
    const Tensor zt = T({2, 3}, {0.5f, -1.0f, 2.0f, 1.0f, 1.0f, 0.0f});
    Var z = constant(zt);
    const Tensor onehot = T({2, 3}, {0, 0, 1, 1, 0, 0});
    CHECK(soft_cross_entropy(z, onehot).item() == doctest::Approx(softmax_cross_entropy(z, {2, 0}).item()).epsilon(1e-6));
    // With T = 2 the logits are halved first.
    CHECK(soft_cross_entropy(z, onehot, 2.0f).item() ==
          doctest::Approx(softmax_cross_entropy(constant(zt * 0.5f), {2, 0}).item()).epsilon(1e-6));
    const Tensor p = T({2, 3}, {0.2f, 0.3f, 0.5f, 0.6f, 0.1f, 0.3f});
    CHECK(grad_check([&](const std::vector<Var>& x) { return soft_cross_entropy(x[0], p, 3.0f); }, {zt}) <= 1.0f);
    CHECK_THROWS_AS(soft_cross_entropy(z, p, 0.0f), ArgumentError);
}

TEST_CASE("bpr_loss and pairwise_hinge_loss") {
    Var pos = parameter(T({2}, {1.0f, 2.0f}));
    Var neg = parameter(T({2}, {0.0f, 2.5f}));
    // -log sigmoid(d) = log(1 + e^-d)
    CHECK(bpr_loss(pos, neg).item() == doctest::Approx((std::log1p(std::exp(-1.0)) + std::log1p(std::exp(0.5))) / 2).epsilon(1e-6));
    CHECK(pairwise_hinge_loss(pos, neg, 1.0f, Reduction::sum).item() == doctest::Approx(0.0 + 1.5));
    // (B, K) negatives: every pair counts once.
    const Tensor negk = T({2, 3}, {0.0f, 1.0f, 3.0f, -1.0f, 2.0f, 2.1f});
    Var none = bpr_loss(pos, constant(negk), Reduction::none);
    CHECK(none.shape() == Shape{2, 3});
    CHECK(none.value()[2] == doctest::Approx(std::log1p(std::exp(2.0))).epsilon(1e-6));
    CHECK(pairwise_hinge_loss(pos, constant(negk), 0.5f, Reduction::none).value()[5] == doctest::Approx(0.6).epsilon(1e-5));
    const Tensor pt = pos.value();
    CHECK(grad_check([](const std::vector<Var>& x) { return bpr_loss(x[0], x[1]); }, {pt, negk}) <= 1.0f);
    // Hinge is piecewise linear; keep the pairs away from the kink (margin - d != 0 by > eps).
    CHECK(grad_check([](const std::vector<Var>& x) { return pairwise_hinge_loss(x[0], x[1], 0.5f); }, {pt, negk}) <= 1.0f);
    CHECK_THROWS_AS(bpr_loss(pos, constant(T({3}, {0, 0, 0}))), ShapeError);
}

TEST_CASE("sampled_softmax_loss: value, log-q correction, temperature, gradient") {
    const Tensor pt = T({2}, {1.0f, 0.5f});
    const Tensor nt = T({2, 2}, {0.0f, 2.0f, -1.0f, 0.25f});
    CHECK(sampled_softmax_loss(constant(pt), constant(nt)).item() ==
          doctest::Approx((lse({1, 0, 2}) - 1 + lse({0.5, -1, 0.25}) - 0.5) / 2).epsilon(1e-6));
    // Correction: the same as the uncorrected loss on s/T - log q.
    const Tensor lqp = T({2}, {std::log(0.1f), std::log(0.5f)});
    const Tensor lqn = T({2}, {std::log(0.2f), std::log(0.01f)});  // (K): shared negatives
    SampledSoftmaxOptions o;
    o.temperature = 0.5f;
    o.pos_log_q = &lqp;
    o.neg_log_q = &lqn;
    Tensor pc = pt * 2.0f - lqp;
    Tensor nc = nt * 2.0f - lqn;
    CHECK(sampled_softmax_loss(constant(pt), constant(nt), o).item() ==
          doctest::Approx(sampled_softmax_loss(constant(pc), constant(nc)).item()).epsilon(1e-6));
    CHECK(grad_check([&](const std::vector<Var>& x) { return sampled_softmax_loss(x[0], x[1], o); }, {pt, nt}) <= 1.0f);
    const Tensor bad = T({3}, {0, 0, 0});
    o.neg_log_q = &bad;
    CHECK_THROWS_AS(sampled_softmax_loss(constant(pt), constant(nt), o), ShapeError);
}

TEST_CASE("in_batch_softmax_loss: CE on the diagonal, correction shifts logits by -log q") {
    const Tensor zt = T({3, 3}, {2.0f, 0.5f, -1.0f, 0.0f, 1.0f, 0.3f, 0.7f, -0.2f, 1.5f});
    CHECK(in_batch_softmax_loss(constant(zt)).item() ==
          doctest::Approx(softmax_cross_entropy(constant(zt), {0, 1, 2}).item()).epsilon(1e-6));
    const Tensor lq = T({3}, {std::log(0.5f), std::log(0.05f), std::log(0.001f)});
    InBatchSoftmaxOptions o;
    o.log_q = &lq;
    o.temperature = 0.2f;
    Tensor shifted = zt * 5.0f - lq;  // (B) broadcasts over rows: column j loses log q_j
    CHECK(shifted.at({0, 2}) == doctest::Approx(zt.at({0, 2}) * 5 - std::log(0.001)).epsilon(1e-6));
    CHECK(in_batch_softmax_loss(constant(zt), o).item() ==
          doctest::Approx(softmax_cross_entropy(constant(shifted), {0, 1, 2}).item()).epsilon(1e-6));
    CHECK(grad_check([&](const std::vector<Var>& x) { return in_batch_softmax_loss(x[0], o); }, {zt}) <= 1.0f);
    // Accidental hits: rows 0 and 1 hold the same item, so row 0 must not treat column 1 as a
    // negative (and row 1 not column 0).
    const Ids ids = {5, 5, 7};
    InBatchSoftmaxOptions m;
    m.item_ids = &ids;
    m.reduction = Reduction::none;
    Var per = in_batch_softmax_loss(constant(zt), m);
    CHECK(per.value()[0] == doctest::Approx(lse({2.0, -1.0}) - 2.0).epsilon(1e-6));
    CHECK(per.value()[1] == doctest::Approx(lse({1.0, 0.3}) - 1.0).epsilon(1e-6));
    CHECK(per.value()[2] == doctest::Approx(lse({0.7, -0.2, 1.5}) - 1.5).epsilon(1e-6));
    m.reduction = Reduction::mean;
    CHECK(grad_check([&](const std::vector<Var>& x) { return in_batch_softmax_loss(x[0], m); }, {zt}) <= 1.0f);
    CHECK_THROWS_AS(in_batch_softmax_loss(constant(T({2, 3}, {0, 0, 0, 0, 0, 0}))), ShapeError);
}

}  // TEST_SUITE
