// GRU and LSTM forward passes, unrolled over time with the ops of core/ops.h; autograd gives
// backpropagation through time for free. Deliberately left out: truncated BPTT, fused kernels.
#include "nn/rnn.h"

#include <cmath>

namespace minirec {

namespace {

// Checks x (B, T, D), lengths and an optional initial state; returns whether any sequence is
// shorter than T (if none is, we skip the masking ops entirely).
bool check_rnn_inputs(const char* op, const Var& x, int D, int H, const std::vector<int>& lengths,
                      const Var* h0, const Var* c0) {
    if (x.rank() != 3 || x.dim(2) != D)
        shape_fail(op, x.shape(), "expects x of shape (B, T, " + std::to_string(D) + ")");
    const int B = x.dim(0), T = x.dim(1);
    if (B == 0 || T == 0) shape_fail(op, x.shape(), "needs at least one sequence and one step");
    for (const Var* s : {h0, c0})
        if (s && (s->rank() != 2 || s->dim(0) != B || s->dim(1) != H))
            shape_fail(op, s->shape(), "initial state must be (B, H) = " + shape_str({B, H}));
    if (lengths.empty()) return false;
    if (static_cast<int>(lengths.size()) != B)
        arg_fail(op, std::to_string(lengths.size()) + " lengths for a batch of " +
                         std::to_string(B));
    bool ragged = false;
    for (size_t b = 0; b < lengths.size(); ++b) {
        if (lengths[b] < 0 || lengths[b] > T)
            arg_fail(op, "lengths[" + std::to_string(b) + "] = " + std::to_string(lengths[b]) +
                             " is outside [0, T = " + std::to_string(T) + "]");
        ragged = ragged || lengths[b] < T;
    }
    return ragged;
}

// The step mask m_t (B, 1): 1 where step t is inside sequence b, else 0.
Tensor step_mask(const std::vector<int>& lengths, int t) {
    Tensor m({static_cast<int>(lengths.size()), 1});
    for (size_t b = 0; b < lengths.size(); ++b) m[b] = t < lengths[b] ? 1.0f : 0.0f;
    return m;
}

// x (B, T, D) -> T inputs projected by w_x plus b: (B, G) each, G = gates * H. One GEMM for all
// steps, then one split, instead of T small matmuls.
std::vector<Var> project_inputs(const Var& x, const Var& w_x, const Var& b) {
    const int B = x.dim(0), T = x.dim(1), D = x.dim(2), G = w_x.dim(1);
    Var xw = reshape(matmul(reshape(x, {B * T, D}), w_x) + b, {B, T, G});  // (B, T, G)
    std::vector<Var> steps = split(xw, std::vector<int>(T, 1), 1);          // T x (B, 1, G)
    for (Var& s : steps) s = reshape(s, {B, G});                            // T x (B, G)
    return steps;
}

// The recorded outputs o_t (B, H) of every step -> (B, T, H).
Var stack_steps(const std::vector<Var>& outs, int B, int H) {
    const int T = static_cast<int>(outs.size());
    return reshape(concat(outs, 1), {B, T, H});  // (B, T*H) -> (B, T, H)
}

float recurrent_bound(int H) { return 1.0f / std::sqrt(static_cast<float>(H)); }

}  // namespace

// ---- GRU -------------------------------------------------------------------------------------

GRU::GRU(int D, int H, Rng& rng) {
    if (D <= 0 || H <= 0) arg_fail("GRU", "sizes must be positive");
    const float a = recurrent_bound(H);
    w_x = parameter(Tensor::uniform({D, 3 * H}, rng, -a, a));
    w_h = parameter(Tensor::uniform({H, 3 * H}, rng, -a, a));
    b_x = parameter(Tensor::uniform({3 * H}, rng, -a, a));
    b_h = parameter(Tensor::uniform({3 * H}, rng, -a, a));
}

RnnOutput GRU::operator()(const Var& x, const std::vector<int>& lengths, const Var* h0) const {
    const int D = input_dim(), H = hidden_dim();
    const bool ragged = check_rnn_inputs("GRU", x, D, H, lengths, h0, nullptr);
    const int B = x.dim(0), T = x.dim(1);
    const std::vector<Var> xw = project_inputs(x, w_x, b_x);  // T x (B, 3H)

    Var h = h0 ? *h0 : constant(Tensor::zeros({B, H}));        // (B, H)
    std::vector<Var> outs;
    for (int t = 0; t < T; ++t) {
        Var hw = matmul(h, w_h) + b_h;                         // (B, 3H)
        std::vector<Var> xg = split(xw[t], {H, H, H}, 1);      // x_t W_x + b_x for r, z, n
        std::vector<Var> hg = split(hw, {H, H, H}, 1);         // h W_h + b_h for r, z, n
        Var r = sigmoid(xg[0] + hg[0]);                        // (B, H)
        Var z = sigmoid(xg[1] + hg[1]);                        // (B, H)
        Var n = tanh(xg[2] + r * hg[2]);                       // h~ (B, H)
        Var h_new = n + z * (h - n);                           // (1 - z) h~ + z h
        if (ragged) {
            // Past a sequence's end we keep its state (so `last` is the state at its own last
            // step) and record 0: h <- h + m (h_new - h), o_t = m h.
            const Var m = constant(step_mask(lengths, t));     // (B, 1)
            h = h + m * (h_new - h);
            outs.push_back(h * m);
        } else {
            h = h_new;
            outs.push_back(h);
        }
    }
    return {stack_steps(outs, B, H), h, Var()};
}

NamedParams GRU::named_parameters(const std::string& prefix) const {
    return {{prefix + "w_x", w_x}, {prefix + "w_h", w_h}, {prefix + "b_x", b_x},
            {prefix + "b_h", b_h}};
}

// ---- LSTM ------------------------------------------------------------------------------------

LSTM::LSTM(int D, int H, Rng& rng) {
    if (D <= 0 || H <= 0) arg_fail("LSTM", "sizes must be positive");
    const float a = recurrent_bound(H);
    w_x = parameter(Tensor::uniform({D, 4 * H}, rng, -a, a));
    w_h = parameter(Tensor::uniform({H, 4 * H}, rng, -a, a));
    Tensor b = Tensor::zeros({4 * H});
    for (int j = H; j < 2 * H; ++j) b[j] = 1.0f;  // the forget gate's slice
    bias = parameter(std::move(b));
}

RnnOutput LSTM::operator()(const Var& x, const std::vector<int>& lengths, const Var* h0,
                           const Var* c0) const {
    const int D = input_dim(), H = hidden_dim();
    const bool ragged = check_rnn_inputs("LSTM", x, D, H, lengths, h0, c0);
    const int B = x.dim(0), T = x.dim(1);
    const std::vector<Var> xw = project_inputs(x, w_x, bias);  // T x (B, 4H)

    Var h = h0 ? *h0 : constant(Tensor::zeros({B, H}));         // (B, H)
    Var c = c0 ? *c0 : constant(Tensor::zeros({B, H}));         // (B, H)
    std::vector<Var> outs;
    for (int t = 0; t < T; ++t) {
        std::vector<Var> g = split(xw[t] + matmul(h, w_h), {H, H, H, H}, 1);  // i, f, g, o
        Var i = sigmoid(g[0]);
        Var f = sigmoid(g[1]);
        Var cand = tanh(g[2]);
        Var o = sigmoid(g[3]);
        Var c_new = f * c + i * cand;                           // (B, H)
        Var h_new = o * tanh(c_new);                            // (B, H)
        if (ragged) {
            const Var m = constant(step_mask(lengths, t));      // (B, 1), as in the GRU
            c = c + m * (c_new - c);
            h = h + m * (h_new - h);
            outs.push_back(h * m);
        } else {
            c = c_new;
            h = h_new;
            outs.push_back(h);
        }
    }
    return {stack_steps(outs, B, H), h, c};
}

NamedParams LSTM::named_parameters(const std::string& prefix) const {
    return {{prefix + "w_x", w_x}, {prefix + "w_h", w_h}, {prefix + "bias", bias}};
}

}  // namespace minirec
