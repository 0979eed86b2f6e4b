// The fused ops of core (ops_fused.cpp, ops_attention.cpp) against their plain versions
// (ops_reference.cpp): the same values and the same gradients on random shapes, odd sizes and
// empty batches included, plus a finite-difference check of each fused op's own backward.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>

#include "core/ops.h"
#include "core/ops_reference.h"
#include "tests/gradcheck.h"
#include "tests/ops_test_util.h"

using namespace minirec;
using namespace minirec::testing;

namespace {

using Fn = std::function<Var(const std::vector<Var>&)>;

// Runs fast and ref on fresh parameters made from the same inputs, seeds both backward passes
// with the same random gradient, and checks the values and every input's gradient agree to tol
// (relative to the largest magnitude, so long sums in another order pass).
void check_same(const Fn& fast, const Fn& ref, const std::vector<Tensor>& inputs, float tol,
                const std::string& what) {
    INFO(what);
    std::vector<Var> xf, xr;
    for (const Tensor& t : inputs) xf.push_back(parameter(t)), xr.push_back(parameter(t));
    const Var yf = fast(xf), yr = ref(xr);
    REQUIRE(yf.shape() == yr.shape());
    const auto close = [&](const Tensor& a, const Tensor& b) {
        float scale = 1.0f;
        for (size_t i = 0; i < b.size(); ++i) scale = std::fmax(scale, std::fabs(b[i]));
        return max_abs_diff(a, b) <= tol * scale;
    };
    CHECK(close(yf.value(), yr.value()));
    const Tensor gy = rand_t(yf.shape(), 99);
    backward(yf, gy);
    backward(yr, gy);
    for (size_t k = 0; k < inputs.size(); ++k) {
        INFO("gradient of input " << k);
        CHECK(close(xf[k].grad(), xr[k].grad()));
    }
}

Tensor mask_for(int B, int Tq, int Tk, uint64_t seed) {  // random 0/1 keep (B, 1, Tq, Tk), some rows all 0
    Rng rng(seed);
    Tensor m({B, 1, Tq, Tk});
    for (size_t i = 0; i < m.size(); ++i) m[i] = rng.uniform() < 0.7f ? 1.0f : 0.0f;
    if (B > 0 && Tq > 1)
        for (int j = 0; j < Tk; ++j) m[static_cast<size_t>(Tq - 1) * Tk + j] = 0.0f;  // nothing to attend
    return m;
}

}  // namespace

TEST_CASE("linear and linear_cat equal matmul + bias (and their concatenation), values and gradients") {
    int seed = 1;
    for (const Shape& lead : {Shape{0}, Shape{1}, Shape{7}, Shape{3, 5}, Shape{0, 4}})
        for (int in : {1, 5, 17})
            for (int out : {1, 3, 19}) {
                Shape xs = lead;
                xs.push_back(in);
                const std::string what = "x " + shape_str(xs) + " out " + std::to_string(out);
                const Tensor x = rand_t(xs, ++seed), W = rand_t({in, out}, ++seed), b = rand_t({out}, ++seed);
                check_same([](const std::vector<Var>& v) { return linear(v[0], v[1], &v[2]); },
                           [](const std::vector<Var>& v) { return reference::linear(v[0], v[1], &v[2]); },
                           {x, W, b}, 1e-5f, "linear " + what);
                check_same([](const std::vector<Var>& v) { return linear(v[0], v[1]); },
                           [](const std::vector<Var>& v) { return reference::linear(v[0], v[1]); }, {x, W}, 1e-5f,
                           "linear without bias " + what);
                if (lead.size() == 1) continue;  // linear_cat: rank 2 is covered by the rank-3 shapes
                const Tensor W2 = rand_t({in, 2}, ++seed), b2 = rand_t({2}, ++seed);
                check_same([](const std::vector<Var>& v) { return linear_cat(v[0], {v[1], v[3]}, {v[2], v[4]}); },
                           [](const std::vector<Var>& v) {
                               return reference::linear_cat(v[0], {v[1], v[3]}, {v[2], v[4]});
                           },
                           {x, W, b, W2, b2}, 1e-5f, "linear_cat " + what);
            }
}

TEST_CASE("gelu_ffn equals linear(gelu(linear(x))), across the row blocks and with no rows") {
    int seed = 100;
    for (int n : {0, 1, 9, 300})  // 300 rows: two blocks of the fused op
        for (int D : {3, 8})
            for (int F : {5, 16}) {
                const Tensor x = rand_t({n, D}, ++seed, -2.0f, 2.0f), W1 = rand_t({D, F}, ++seed),
                             b1 = rand_t({F}, ++seed), W2 = rand_t({F, 7}, ++seed), b2 = rand_t({7}, ++seed);
                const std::string what = "n " + std::to_string(n) + " D " + std::to_string(D) + " F " + std::to_string(F);
                check_same([](const std::vector<Var>& v) { return gelu_ffn(v[0], v[1], &v[2], v[3], &v[4]); },
                           [](const std::vector<Var>& v) { return reference::gelu_ffn(v[0], v[1], &v[2], v[3], &v[4]); },
                           {x, W1, b1, W2, b2}, 2e-5f, "gelu_ffn " + what);
                check_same([](const std::vector<Var>& v) { return gelu_ffn(v[0], v[1], nullptr, v[2], nullptr); },
                           [](const std::vector<Var>& v) {
                               return reference::gelu_ffn(v[0], v[1], nullptr, v[2], nullptr);
                           },
                           {x, W1, W2}, 2e-5f, "gelu_ffn without biases " + what);
            }
    // A rank-3 input: the rows are every leading axis.
    const Tensor x = rand_t({2, 3, 4}, 7), W1 = rand_t({4, 6}, 8), W2 = rand_t({6, 4}, 9);
    check_same([](const std::vector<Var>& v) { return gelu_ffn(v[0], v[1], nullptr, v[2], nullptr); },
               [](const std::vector<Var>& v) { return reference::gelu_ffn(v[0], v[1], nullptr, v[2], nullptr); },
               {x, W1, W2}, 2e-5f, "gelu_ffn rank 3");
}

TEST_CASE("attention equals the formula head by head: packed QKV, cross-attention, masks, dropout, B = 0") {
    int seed = 200;
    struct Case { int B, Tq, Tk, H, d; bool self, masked, dropped; };
    for (const Case& c : {Case{2, 5, 5, 2, 3, true, false, false}, Case{2, 5, 5, 2, 3, true, true, false},
                          Case{3, 7, 7, 3, 4, true, true, true}, Case{1, 1, 1, 1, 1, true, false, false},
                          Case{2, 3, 6, 2, 5, false, true, false}, Case{2, 4, 9, 1, 7, false, false, true},
                          Case{0, 4, 4, 2, 3, true, true, true}, Case{0, 2, 5, 2, 3, false, false, false}}) {
        const int Hd = c.H * c.d;
        const std::string what = "B " + std::to_string(c.B) + " Tq " + std::to_string(c.Tq) + " Tk " +
                                 std::to_string(c.Tk) + " H " + std::to_string(c.H) + " d " + std::to_string(c.d) +
                                 (c.self ? " self" : " cross") + (c.masked ? " masked" : "") + (c.dropped ? " dropout" : "");
        const Tensor keep = c.masked ? mask_for(c.B, c.Tq, c.Tk, ++seed) : Tensor(Shape{0});
        Tensor drop(Shape{0});
        if (c.dropped) {  // factors 0 or 1 / (1 - p), p = 0.25
            Rng rng(++seed);
            drop = Tensor({c.B, c.H, c.Tq, c.Tk});
            for (size_t i = 0; i < drop.size(); ++i) drop[i] = rng.uniform() < 0.25f ? 0.0f : 1.0f / 0.75f;
        }
        const int H = c.H, d = c.d;
        if (c.self) {  // Q, K, V side by side in one (B, T, 3 H d) tensor, as MultiHeadAttention makes them
            const Tensor qkv = rand_t({c.B, c.Tq, 3 * Hd}, ++seed, -2.0f, 2.0f);
            check_same(
                [&](const std::vector<Var>& v) {
                    return attention({v[0], 0}, {v[0], Hd}, {v[0], 2 * Hd}, H, d, keep, drop);
                },
                [&](const std::vector<Var>& v) {
                    return reference::attention(slice(v[0], 2, 0, Hd), slice(v[0], 2, Hd, 2 * Hd),
                                                slice(v[0], 2, 2 * Hd, 3 * Hd), H, keep, drop);
                },
                {qkv}, 1e-5f, "attention " + what);
        } else {  // Q alone, K and V packed together
            const Tensor q = rand_t({c.B, c.Tq, Hd}, ++seed, -2.0f, 2.0f), kv = rand_t({c.B, c.Tk, 2 * Hd}, ++seed, -2.0f, 2.0f);
            check_same([&](const std::vector<Var>& v) { return attention({v[0], 0}, {v[1], 0}, {v[1], Hd}, H, d, keep, drop); },
                       [&](const std::vector<Var>& v) {
                           return reference::attention(v[0], slice(v[1], 2, 0, Hd), slice(v[1], 2, Hd, 2 * Hd), H, keep, drop);
                       },
                       {q, kv}, 1e-5f, "attention " + what);
        }
    }
    // The weights: the same A, and a fully masked query row gets zeros.
    const Tensor q = rand_t({2, 4, 6}, 1), k = rand_t({2, 5, 6}, 2), v = rand_t({2, 5, 6}, 3);
    const Tensor keep = mask_for(2, 4, 5, 4);
    Var wf, wr;
    attention({constant(q), 0}, {constant(k), 0}, {constant(v), 0}, 2, 3, keep, Tensor(Shape{0}), &wf);
    reference::attention(constant(q), constant(k), constant(v), 2, keep, Tensor(Shape{0}), &wr);
    REQUIRE(wf.shape() == Shape{2, 2, 4, 5});
    CHECK(max_abs_diff(wf.value(), wr.value()) < 1e-6f);
    for (int j = 0; j < 5; ++j) CHECK(wf.value().at({0, 1, 3, j}) == 0.0f);
    // Overlapping views of one source would write the same gradient columns twice: refused.
    const Var qk = constant(q);
    CHECK_THROWS_AS(attention({qk, 0}, {qk, 0}, {constant(rand_t({2, 4, 6}, 5)), 0}, 2, 3, Tensor(Shape{0}), Tensor(Shape{0})),
                    ArgumentError);
}

TEST_CASE("softmax_cross_entropy_rows and linear_softmax_cross_entropy_rows equal -sum(log_softmax * one_hot)") {
    int seed = 300;
    for (int B : {0, 1, 5, 70})  // 70 rows: two blocks of the fused output layer
        for (int C : {1, 4, 37}) {
            Rng rng(++seed);
            Ids t(static_cast<size_t>(B));
            for (int b = 0; b < B; ++b) t[static_cast<size_t>(b)] = b % 4 == 3 ? -100 : rng.randint(C);  // some ignored
            const std::string what = "B " + std::to_string(B) + " C " + std::to_string(C);
            const Tensor z = rand_t({B, C}, ++seed, -3.0f, 3.0f), shift = rand_t({C}, ++seed);
            check_same([&](const std::vector<Var>& v) { return softmax_cross_entropy_rows(v[0], t, -100); },
                       [&](const std::vector<Var>& v) { return reference::softmax_cross_entropy_rows(v[0], t, -100); },
                       {z}, 1e-5f, "softmax_cross_entropy_rows " + what);
            check_same([&](const std::vector<Var>& v) { return softmax_cross_entropy_rows(v[0], t, -100, 0.5f, &shift); },
                       [&](const std::vector<Var>& v) {
                           return reference::softmax_cross_entropy_rows(v[0], t, -100, 0.5f, &shift);
                       },
                       {z}, 1e-5f, "softmax_cross_entropy_rows, scaled and shifted " + what);
            const Tensor h = rand_t({B, 6}, ++seed), W = rand_t({C, 6}, ++seed), b = rand_t({C}, ++seed);
            check_same([&](const std::vector<Var>& v) { return linear_softmax_cross_entropy_rows(v[0], v[1], v[2], t, -100); },
                       [&](const std::vector<Var>& v) {
                           return reference::linear_softmax_cross_entropy_rows(v[0], v[1], v[2], t, -100);
                       },
                       {h, W, b}, 1e-5f, "linear_softmax_cross_entropy_rows " + what);
        }
    CHECK_THROWS_AS(softmax_cross_entropy_rows(constant(Tensor::zeros({2, 3})), Ids{0, 3}, -100), ArgumentError);
    CHECK_THROWS_AS(linear_softmax_cross_entropy_rows(constant(Tensor::zeros({2, 4})), constant(Tensor::zeros({3, 4})),
                                                      constant(Tensor::zeros({3})), Ids{0}, -100),
                    ShapeError);
}

TEST_CASE("weighted_sum equals sum(unsqueeze(w, 2) * x, 1) bit for bit, values and gradients") {
    int seed = 300;
    for (int B : {0, 1, 5, 33})
        for (int E : {1, 3, 8})
            for (int h : {1, 2, 16, 17}) {
                const std::string what = "B " + std::to_string(B) + " E " + std::to_string(E) + " h " + std::to_string(h);
                check_same([](const std::vector<Var>& v) { return weighted_sum(v[0], v[1]); },
                           [](const std::vector<Var>& v) { return reference::weighted_sum(v[0], v[1]); },
                           {rand_t({B, E}, ++seed), rand_t({B, E, h}, ++seed)}, 0.0f, "weighted_sum " + what);
            }
    CHECK(contains(message_of<ShapeError>([] { weighted_sum(parameter(rand_t({2, 3}, 1)), parameter(rand_t({2, 4, 5}, 2))); }),
                   "weighted_sum"));
}

TEST_CASE("the fused ops' own backward passes against finite differences") {
    GradCheckOptions o;
    CHECK(grad_check([](const std::vector<Var>& v) { return linear(v[0], v[1], &v[2]); },
                     {rand_t({3, 4}, 1), rand_t({4, 5}, 2), rand_t({5}, 3)}, o, "linear") <= 1.0f);
    CHECK(grad_check([](const std::vector<Var>& v) { return linear_cat(v[0], {v[1], v[3]}, {v[2], v[4]}); },
                     {rand_t({2, 3, 4}, 4), rand_t({4, 2}, 5), rand_t({2}, 6), rand_t({4, 3}, 7), rand_t({3}, 8)}, o,
                     "linear_cat") <= 1.0f);
    CHECK(grad_check([](const std::vector<Var>& v) { return gelu_ffn(v[0], v[1], &v[2], v[3], &v[4]); },
                     {rand_t({3, 4}, 9), rand_t({4, 6}, 10), rand_t({6}, 11), rand_t({6, 3}, 12), rand_t({3}, 13)}, o,
                     "gelu_ffn") <= 1.0f);
    const Tensor keep = mask_for(2, 3, 4, 14);
    Tensor drop({2, 2, 3, 4}, 1.0f);
    drop[5] = 0.0f, drop[17] = 2.0f;
    CHECK(grad_check([&](const std::vector<Var>& v) { return attention({v[0], 0}, {v[1], 0}, {v[1], 4}, 2, 2, keep, drop); },
                     {rand_t({2, 3, 4}, 15), rand_t({2, 4, 8}, 16)}, o, "attention") <= 1.0f);
    CHECK(grad_check([](const std::vector<Var>& v) { return weighted_sum(v[0], v[1]); },
                     {rand_t({3, 4}, 22), rand_t({3, 4, 5}, 23)}, o, "weighted_sum") <= 1.0f);
    const Tensor shift = rand_t({5}, 17);
    CHECK(grad_check([&](const std::vector<Var>& v) { return softmax_cross_entropy_rows(v[0], {1, -100, 4}, -100, 2.0f, &shift); },
                     {rand_t({3, 5}, 18)}, o, "softmax_cross_entropy_rows") <= 1.0f);
    CHECK(grad_check([&](const std::vector<Var>& v) { return linear_softmax_cross_entropy_rows(v[0], v[1], v[2], {2, 0, -1}, -1); },
                     {rand_t({3, 4}, 19), rand_t({5, 4}, 20), rand_t({5}, 21)}, o, "linear_softmax_cross_entropy_rows") <= 1.0f);
}

TEST_CASE("adam_update equals the plain loop of reference::adam_update") {
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{33}, size_t{1000}}) {
        const Shape s{static_cast<int>(n)};
        Tensor p = rand_t(s, 1), m = rand_t(s, 2, 0.0f, 0.1f), v = rand_t(s, 3, 0.0f, 0.1f);
        const Tensor g = rand_t(s, 4);
        Tensor p2 = p, m2 = m, v2 = v;
        const AdamStep st{0.9f, 0.1f, 0.999f, 0.001f, -0.01f, 0.05f, 1e-8f};
        for (int t = 0; t < 3; ++t) adam_update(p, m, v, g, st), reference::adam_update(p2, m2, v2, g, st);
        CHECK(max_abs_diff(p, p2) <= 1e-6f);
        CHECK(max_abs_diff(m, m2) <= 1e-7f);
        CHECK(max_abs_diff(v, v2) <= 1e-7f);
    }
}
