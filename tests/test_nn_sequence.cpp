// Tests for nn/rnn.h and nn/attention.h: gradient checks through GRU, LSTM, MultiHeadAttention,
// TransformerEncoderLayer, PositionalEmbedding and attention_pool, and their behaviour on variable
// lengths and masks (zeros past the end, last states, masked weights exactly 0, rows summing to 1).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "nn/layers.h"
#include "tests/nn_test_util.h"

using namespace minirec;
using minirec::testing::layer_grad_check;
using minirec::testing::uniform_t;
using minirec::testing::with_inputs;

namespace {

float sigm(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// Checks the variable-length contract of a recurrent output: zeros past each length, and the
// last state equal to the output at step length - 1.
void check_lengths(const RnnOutput& out, const std::vector<int>& lengths, int H) {
    const Tensor& o = out.outputs.value();  // (B, T, H)
    const int T = o.dim(1);
    for (int b = 0; b < static_cast<int>(lengths.size()); ++b) {
        for (int t = lengths[b]; t < T; ++t)
            for (int j = 0; j < H; ++j) CHECK(o.at({b, t, j}) == 0.0f);
        if (lengths[b] == 0) continue;
        for (int j = 0; j < H; ++j)
            CHECK(out.last.value().at({b, j}) == o.at({b, lengths[b] - 1, j}));
    }
}

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("GRU: gradient through the whole unrolled layer, ragged lengths and h0") {
    Rng rng(1);
    GRU gru(2, 3, rng);
    Var x = parameter(uniform_t({3, 3, 2}, 11));
    Var h0 = parameter(uniform_t({3, 3}, 12, -0.5f, 0.5f));
    const std::vector<int> lengths = {3, 1, 2};
    // Both outputs enter the checked sum: all states, and the last one.
    auto f = [&] {
        RnnOutput r = gru(x, lengths, &h0);
        return concat({reshape(r.outputs, {3, 9}), r.last}, 1);
    };
    CHECK(layer_grad_check(f, with_inputs(gru.parameters(), {x, h0}), "GRU") <= 1.0f);
}

TEST_CASE("GRU: zeros past each length, last state at length - 1, full lengths = no lengths") {
    Rng rng(2);
    GRU gru(3, 4, rng);
    Var x = constant(uniform_t({4, 5, 3}, 13));
    const std::vector<int> lengths = {5, 2, 1, 0};
    RnnOutput r = gru(x, lengths);
    CHECK(r.outputs.shape() == Shape{4, 5, 4});
    CHECK(r.last.shape() == Shape{4, 4});
    CHECK(r.last_cell.size() == 1);  // an empty (scalar) Var: GRUs have no cell
    check_lengths(r, lengths, 4);
    for (int j = 0; j < 4; ++j) CHECK(r.last.value().at({3, j}) == 0.0f);  // length 0: h0 = 0
    // A sequence's states don't depend on what follows its end, nor on padding lengths.
    RnnOutput full = gru(x);
    RnnOutput full2 = gru(x, {5, 5, 5, 5});
    CHECK(max_abs_diff(full.outputs.value(), full2.outputs.value()) == 0.0f);
    RnnOutput first2 = gru(slice(x, 1, 0, 2));
    for (int j = 0; j < 4; ++j)
        CHECK(r.last.value().at({1, j}) == doctest::Approx(first2.last.value().at({1, j})));
    CHECK_THROWS_AS(gru(x, {5, 6, 1, 0}), ArgumentError);
    CHECK_THROWS_AS(gru(x, {5, 5}), ArgumentError);
    CHECK_THROWS_AS(gru(constant(Tensor::zeros({4, 5, 2}))), ShapeError);
}

TEST_CASE("GRU: a length-1 sequence matches the equations computed by hand") {
    Rng rng(3);
    const int D = 2, H = 2;
    GRU gru(D, H, rng);
    const Tensor xv = uniform_t({1, 1, D}, 14);
    const Tensor hv = uniform_t({1, H}, 15);
    Var h0 = constant(hv);
    RnnOutput r = gru(constant(xv), {}, &h0);
    const Tensor &wx = gru.w_x.value(), &wh = gru.w_h.value(), &bx = gru.b_x.value(),
                 &bh = gru.b_h.value();
    // a_g = x W_x[:, g] + b_x[g], c_g = h W_h[:, g] + b_h[g] for gate column g.
    auto ax = [&](int g) {
        float s = bx[g];
        for (int i = 0; i < D; ++i) s += xv[i] * wx.at({i, g});
        return s;
    };
    auto ch = [&](int g) {
        float s = bh[g];
        for (int i = 0; i < H; ++i) s += hv[i] * wh.at({i, g});
        return s;
    };
    for (int j = 0; j < H; ++j) {
        const float rg = sigm(ax(j) + ch(j));
        const float zg = sigm(ax(H + j) + ch(H + j));
        const float n = std::tanh(ax(2 * H + j) + rg * ch(2 * H + j));
        const float h = (1.0f - zg) * n + zg * hv[j];
        CHECK(r.last.value().at({0, j}) == doctest::Approx(h).epsilon(1e-5));
        CHECK(r.outputs.value().at({0, 0, j}) == doctest::Approx(h).epsilon(1e-5));
    }
}

TEST_CASE("LSTM: gradient through the whole layer with ragged lengths, h0 and c0") {
    Rng rng(4);
    LSTM lstm(2, 2, rng);
    Var x = parameter(uniform_t({2, 3, 2}, 16));
    Var h0 = parameter(uniform_t({2, 2}, 17, -0.5f, 0.5f));
    Var c0 = parameter(uniform_t({2, 2}, 18, -0.5f, 0.5f));
    const std::vector<int> lengths = {2, 3};
    auto f = [&] {
        RnnOutput r = lstm(x, lengths, &h0, &c0);
        return concat({reshape(r.outputs, {2, 6}), r.last, r.last_cell}, 1);
    };
    CHECK(layer_grad_check(f, with_inputs(lstm.parameters(), {x, h0, c0}), "LSTM") <= 1.0f);
}

TEST_CASE("LSTM: variable lengths and a length-1 hand computation") {
    Rng rng(5);
    const int D = 3, H = 2;
    LSTM lstm(D, H, rng);
    for (int j = 0; j < 4 * H; ++j) CHECK(lstm.bias.value()[j] == (j >= H && j < 2 * H ? 1.0f : 0.0f));
    lstm.bias.value_mut() = uniform_t({4 * H}, 19);
    Var x = constant(uniform_t({3, 4, D}, 20));
    const std::vector<int> lengths = {1, 4, 3};
    RnnOutput r = lstm(x, lengths);
    check_lengths(r, lengths, H);
    CHECK(r.last_cell.shape() == Shape{3, H});

    // Sequence 0 has length 1 and starts from zeros: c = i g, h = o tanh(c).
    const Tensor &wx = lstm.w_x.value(), &bias = lstm.bias.value(), &xv = x.value();
    auto pre = [&](int g) {
        float s = bias[g];
        for (int i = 0; i < D; ++i) s += xv.at({0, 0, i}) * wx.at({i, g});
        return s;
    };
    for (int j = 0; j < H; ++j) {
        const float c = sigm(pre(j)) * std::tanh(pre(2 * H + j));
        const float h = sigm(pre(3 * H + j)) * std::tanh(c);
        CHECK(r.last_cell.value().at({0, j}) == doctest::Approx(c).epsilon(1e-5));
        CHECK(r.last.value().at({0, j}) == doctest::Approx(h).epsilon(1e-5));
    }
}

TEST_CASE("MultiHeadAttention: gradient through cross-attention with a key-padding mask") {
    Rng rng(6);
    MultiHeadAttentionOptions o;
    o.dim = 4;
    o.heads = 2;
    o.kv_dim = 3;
    MultiHeadAttention mha(o, rng);
    Var q = parameter(uniform_t({2, 2, 4}, 21));
    Var kv = parameter(uniform_t({2, 3, 3}, 22));
    const Tensor pad({2, 3}, {1, 1, 1, 1, 0, 1});
    AttentionMask m;
    m.key_padding = &pad;
    CHECK(mha(q, kv, m).shape() == Shape{2, 2, 4});
    CHECK(layer_grad_check([&] { return mha(q, kv, m); },
                           with_inputs(mha.parameters(), {q, kv}), "MHA cross") <= 1.0f);
    const NamedParams named = mha.named_parameters("attn.");
    CHECK(named.size() == 8);
    CHECK(named.front().first == "attn.q.weight");
    CHECK(named.back().first == "attn.o.bias");
}

TEST_CASE("MultiHeadAttention: causal and padding masks give exact zeros, rows sum to 1") {
    Rng rng(7);
    MultiHeadAttentionOptions o;
    o.dim = 6;
    o.heads = 3;
    MultiHeadAttention mha(o, rng);
    const int B = 2, T = 4;
    Var x = constant(uniform_t({B, T, 6}, 23, -2.0f, 2.0f));
    const Tensor pad({B, T}, {1, 1, 1, 1, 1, 1, 0, 0});  // sequence 1 has two padded keys
    AttentionMask m;
    m.causal = true;
    m.key_padding = &pad;
    Var w;
    mha(x, m, &w);
    REQUIRE(w.shape() == Shape{B, 3, T, T});
    const Tensor& a = w.value();
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < 3; ++h)
            for (int i = 0; i < T; ++i) {
                double row = 0.0;
                for (int j = 0; j < T; ++j) {
                    const float v = a.at({b, h, i, j});
                    if (j > i) CHECK(v == 0.0f);                      // the future
                    if (pad[b * T + j] == 0.0f) CHECK(v == 0.0f);     // padding
                    row += v;
                }
                CHECK(row == doctest::Approx(1.0).epsilon(1e-5));
            }

    // Only padding: every query sees all real keys, none of the padded ones.
    AttentionMask p;
    p.key_padding = &pad;
    mha(x, p, &w);
    CHECK(w.value().at({1, 0, 0, 3}) == 0.0f);
    CHECK(w.value().at({1, 0, 0, 1}) > 0.0f);
    CHECK(w.value().at({0, 2, 0, 3}) > 0.0f);

    // Causal with fewer queries than keys: aligned at the end (the last query sees every key).
    const Tensor cm = build_attention_mask({nullptr, true}, 1, 2, 4);
    CHECK(cm.shape() == Shape{1, 1, 2, 4});
    CHECK(cm.vec() == std::vector<float>{1, 1, 1, 0, 1, 1, 1, 1});
    CHECK(build_attention_mask({}, 1, 2, 4).empty());
}

TEST_CASE("MultiHeadAttention: the fused op equals attention composed from ops, masked or not") {
    // The reference splits the heads with reshape + permute and uses matmul and softmax, so it
    // shares no code with the op (which reads the heads in place with strided GEMMs).
    Rng rng(11);
    MultiHeadAttentionOptions o;
    o.dim = 6;
    o.heads = 2;
    MultiHeadAttention mha(o, rng);
    const int B = 2, T = 5, H = 2, d = 3;
    Var x = constant(uniform_t({B, T, 6}, 29, -2.0f, 2.0f));
    const Tensor pad({B, T}, {1, 1, 1, 1, 1, 0, 1, 1, 0, 1});
    for (const AttentionMask& m : {AttentionMask{}, AttentionMask{&pad, true}}) {
        auto heads = [&](const Var& y) { return permute(reshape(y, {B, T, H, d}), {0, 2, 1, 3}); };  // (B, H, T, d)
        Var S = matmul(heads(mha.q(x)), heads(mha.k(x)), false, true) * (1.0f / std::sqrt(3.0f));
        const Tensor keep = build_attention_mask(m, B, T, T);
        Var A = keep.empty() ? softmax(S) : softmax(S, &keep);
        Var ref = mha.o(reshape(permute(matmul(A, heads(mha.v(x))), {0, 2, 1, 3}), {B, T, H * d}));
        Var w;
        CHECK(max_abs_diff(mha(x, m, &w).value(), ref.value()) < 1e-5f);
        CHECK(max_abs_diff(w.value(), A.value()) < 1e-6f);
    }
}

TEST_CASE("MultiHeadAttention: the output is A V W_o + b_o; AutoInt form without W_o") {
    Rng rng(8);
    MultiHeadAttentionOptions o;
    o.dim = 3;
    o.heads = 1;
    MultiHeadAttention mha(o, rng);
    Var q = constant(uniform_t({2, 2, 3}, 24));
    Var kv = constant(uniform_t({2, 5, 3}, 25));
    Var w;
    Var y = mha(q, kv, {}, &w);
    Var by_hand = mha.o(matmul(reshape(w, {2, 2, 5}), mha.v(kv)));  // one head
    CHECK(max_abs_diff(y.value(), by_hand.value()) < 1e-5f);

    MultiHeadAttentionOptions a;  // AutoInt: field size 4, 2 heads of size 8, no W_o
    a.dim = 4;
    a.heads = 2;
    a.head_dim = 8;
    a.out_proj = false;
    MultiHeadAttention autoint(a, rng);
    Var fields = parameter(uniform_t({2, 3, 4}, 26));
    CHECK(autoint(fields).shape() == Shape{2, 3, 16});
    CHECK(autoint.parameters().size() == 6);
    CHECK(layer_grad_check([&] { return autoint(fields); },
                           with_inputs(autoint.parameters(), {fields}), "MHA no W_o") <= 1.0f);
    MultiHeadAttentionOptions bad;
    bad.dim = 5;
    bad.heads = 2;
    CHECK_THROWS_AS(MultiHeadAttention(bad, rng), ArgumentError);
}

TEST_CASE("attention_pool: the weighted sum computed by hand, masks, scale, gradient") {
    const int B = 2, T = 3, D = 2;
    const Tensor k({B, T, D}, {1, 0, 0, 1, 1, 1, 2, -1, 0, 3, 1, 1});
    const Tensor q({B, D}, {0.5f, -1.0f, 1.0f, 0.25f});
    const Tensor mask({B, T}, {1, 1, 1, 1, 0, 1});   // row 1: the second key is padding
    for (float scale : {1.0f, 2.0f, 0.0f}) {
        Var w;
        const Tensor out = attention_pool(constant(k), constant(q), mask, &w, scale).value();
        REQUIRE(out.shape() == Shape{B, D});
        REQUIRE(w.shape() == Shape{B, 1, T});
        for (int b = 0; b < B; ++b) {
            double e[T], z = 0.0;
            for (int t = 0; t < T; ++t) {
                const double s = scale * (k.at({b, t, 0}) * q.at({b, 0}) + k.at({b, t, 1}) * q.at({b, 1}));
                e[t] = mask.at({b, t}) > 0 ? std::exp(s) : 0.0;
                z += e[t];
            }
            for (int t = 0; t < T; ++t) {
                CHECK(w.value().at({b, 0, t}) == doctest::Approx(e[t] / z).epsilon(1e-5));
                if (mask.at({b, t}) == 0.0f) CHECK(w.value().at({b, 0, t}) == 0.0f);   // padding: exactly 0
            }
            for (int d = 0; d < D; ++d) {
                double want = 0.0;
                for (int t = 0; t < T; ++t) want += e[t] / z * k.at({b, t, d});
                CHECK(out.at({b, d}) == doctest::Approx(want).epsilon(1e-5));
            }
        }
    }
    // A (B, 1, T) mask means the same as a (B, T) one; a row with no real key pools to zeros.
    const Tensor mask3 = mask.reshape({B, 1, T});
    CHECK(attention_pool(constant(k), constant(q), mask3).value().vec() ==
          attention_pool(constant(k), constant(q), mask).value().vec());
    const Tensor none({B, T}, {1, 1, 1, 0, 0, 0});
    const Tensor z = attention_pool(constant(k), constant(q), none).value();
    CHECK(z.at({1, 0}) == 0.0f);
    CHECK(z.at({1, 1}) == 0.0f);
    Var kv = parameter(uniform_t({B, T, D}, 41)), qv = parameter(uniform_t({B, D}, 42));
    CHECK(layer_grad_check([&] { return attention_pool(kv, qv, mask, nullptr, 1.5f); }, {kv, qv}, "attention_pool") <= 1.0f);
}

TEST_CASE("TransformerEncoderLayer: shape, gradient with dropout and mask, eval determinism") {
    Rng rng(9);
    TransformerEncoderLayerOptions o;
    o.dim = 4;
    o.heads = 2;
    o.ffn_dim = 6;
    o.dropout = 0.2f;
    TransformerEncoderLayer layer(o, rng);
    Var x = parameter(uniform_t({2, 3, 4}, 27));
    const Tensor pad({2, 3}, {1, 1, 1, 0, 1, 1});  // left padding
    AttentionMask m;
    m.key_padding = &pad;
    auto f = [&] {
        layer.attn.attn_dropout.rng = Rng(1);
        layer.drop1.rng = Rng(2);
        layer.drop2.rng = Rng(3);
        return layer(x, m);
    };
    CHECK(f().shape() == Shape{2, 3, 4});
    CHECK(layer_grad_check(f, with_inputs(layer.parameters(), {x}), "TransformerEncoderLayer") <=
          1.0f);
    const NamedParams named = layer.named_parameters("enc0.");
    CHECK(named.size() == 8 + 2 + 2 + 2 + 2);
    CHECK(named[8].first == "enc0.norm1.gamma");

    layer.set_training(false);
    Var w;
    const Tensor a = layer(x, m, &w).value();
    CHECK(max_abs_diff(a, layer(x, m).value()) == 0.0f);
    CHECK(w.shape() == Shape{2, 2, 3, 3});
    // Post-norm: each output row is layer-normalised (gamma 1, beta 0 at the start).
    for (int r = 0; r < 6; ++r) {
        double s = 0;
        for (int j = 0; j < 4; ++j) s += a[r * 4 + j];
        CHECK(s == doctest::Approx(0.0).epsilon(1e-5));
    }
}

TEST_CASE("gelu_ffn: the blocked op equals ffn2(gelu(ffn1(x))), values and gradients") {
    Rng rng(12);
    // 2 x 300 = 600 rows: two whole blocks of 256 and a partial one.
    for (bool bias : {true, false}) {
        CAPTURE(bias);
        Linear l1(4, 6, rng, bias), l2(6, 3, rng, bias);
        if (bias) {
            l1.bias.value_mut() = uniform_t({6}, 31);
            l2.bias.value_mut() = uniform_t({3}, 32);
        }
        Var x = parameter(uniform_t({2, 300, 4}, 33, -2.0f, 2.0f));
        Var fused = gelu_ffn(x, l1, l2), ref = l2(gelu(l1(x)));
        CHECK(fused.shape() == Shape{2, 300, 3});
        CHECK(max_abs_diff(fused.value(), ref.value()) < 1e-5f);
        // The same gradients as the composition of ops (each gradient-checked on its own).
        std::vector<Var> vars = with_inputs(l1.parameters(), {x});
        for (const Var& p : l2.parameters()) vars.push_back(p);
        const Tensor gy = uniform_t({2, 300, 3}, 34);
        auto grads_of = [&](const Var& y) {
            for (Var& v : vars) v.zero_grad();
            backward(y, gy);
            std::vector<Tensor> g;
            for (const Var& v : vars) g.push_back(v.grad());
            return g;
        };
        const std::vector<Tensor> gf = grads_of(fused), gr = grads_of(ref);
        for (size_t i = 0; i < vars.size(); ++i) CHECK(max_abs_diff(gf[i], gr[i]) < 1e-4f);
    }
    // And a finite-difference check of its own, on a small input.
    Linear l1(3, 5, rng), l2(5, 2, rng);
    Var x = parameter(uniform_t({2, 3, 3}, 35, -2.0f, 2.0f));
    std::vector<Var> vars = with_inputs(l1.parameters(), {x});
    for (const Var& p : l2.parameters()) vars.push_back(p);
    CHECK(layer_grad_check([&] { return gelu_ffn(x, l1, l2); }, vars, "gelu_ffn") <= 1.0f);
    CHECK_THROWS_AS(gelu_ffn(x, l1, l1), ArgumentError);   // ffn2 must take ffn1's outputs
    Linear l3(4, 5, rng);
    CHECK_THROWS_AS(gelu_ffn(x, l3, l2), ShapeError);      // x must have ffn1's inputs
}

TEST_CASE("PositionalEmbedding: adds row t to position t, gradient, length limit") {
    Rng rng(10);
    PositionalEmbedding pos(5, 3, rng);
    Var x = parameter(uniform_t({2, 4, 3}, 28));
    Var y = pos(x);
    CHECK(y.value().at({1, 2, 1}) == x.value().at({1, 2, 1}) + pos.table.value().at({2, 1}));
    CHECK(layer_grad_check([&] { return pos(x); }, with_inputs(pos.parameters(), {x}),
                           "PositionalEmbedding") <= 1.0f);
    CHECK(pos.positions(5).shape() == Shape{5, 3});
    CHECK_THROWS_AS(pos(constant(Tensor::zeros({1, 6, 3}))), ArgumentError);
}

}  // TEST_SUITE
