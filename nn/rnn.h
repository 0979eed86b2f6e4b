// Recurrent layers for behaviour sequences: GRU and LSTM, batch-first, with variable lengths.
// Each step is a handful of graph ops, unrolled over T (fine for the T <= 200 of our chapters).
// Deliberately left out: stacked and bidirectional layers, packed sequences, fused cell kernels.
#pragma once
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/params.h"

namespace minirec {

// What a recurrent layer returns. Sequence b has length lengths[b] <= T:
//   outputs (B, T, H): the hidden state at every step, 0 at steps t >= lengths[b]
//   last    (B, H):    the hidden state at step lengths[b] - 1 (the initial state if length 0)
//   last_cell (B, H):  LSTM only, the cell state at that step (empty Var for a GRU)
struct RnnOutput {
    Var outputs;
    Var last;
    Var last_cell;
};

// GRU (Cho et al. 2014), in PyTorch's form. For each step t, with x_t (B, D), h (B, H):
//     r  = sigmoid(x_t W_xr + b_xr + h W_hr + b_hr)        reset gate
//     z  = sigmoid(x_t W_xz + b_xz + h W_hz + b_hz)        update gate
//     h~ = tanh(x_t W_xn + b_xn + r * (h W_hn + b_hn))     candidate
//     h' = (1 - z) * h~ + z * h
// The three input weights sit side by side in w_x (D, 3H) in the order r, z, n, and the three
// recurrent ones in w_h (H, 3H). Everything starts U(-1/sqrt(H), 1/sqrt(H)) (as PyTorch).
struct GRU {
    Var w_x;  // (D, 3H)
    Var w_h;  // (H, 3H)
    Var b_x;  // (3H)
    Var b_h;  // (3H); b_hn must stay separate from b_xn because r multiplies it

    GRU() = default;
    GRU(int input_dim, int hidden_dim, Rng& rng);

    // x (B, T, D); lengths (B) in [0, T], empty = every sequence has length T; h0 (B, H) or null
    // for zeros.
    RnnOutput operator()(const Var& x, const std::vector<int>& lengths = {},
                         const Var* h0 = nullptr) const;
    int input_dim() const { return w_x.dim(0); }
    int hidden_dim() const { return w_h.dim(0); }

    NamedParams named_parameters(const std::string& prefix = "") const;  // w_x, w_h, b_x, b_h
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

// LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):
//     i  = sigmoid(x_t W_xi + h W_hi + b_i)      input gate
//     f  = sigmoid(x_t W_xf + h W_hf + b_f)      forget gate
//     g  = tanh   (x_t W_xg + h W_hg + b_g)      candidate cell
//     o  = sigmoid(x_t W_xo + h W_ho + b_o)      output gate
//     c' = f * c + i * g
//     h' = o * tanh(c')
// Gates side by side in the order i, f, g, o: w_x (D, 4H), w_h (H, 4H), one bias (4H) (a
// second bias would be redundant). Weights start U(-1/sqrt(H), 1/sqrt(H)); the bias at 0 except
// b_f = 1, so that a fresh cell remembers (Jozefowicz et al. 2015).
struct LSTM {
    Var w_x;   // (D, 4H)
    Var w_h;   // (H, 4H)
    Var bias;  // (4H)

    LSTM() = default;
    LSTM(int input_dim, int hidden_dim, Rng& rng);

    // As GRU; h0 and c0 (B, H) or null for zeros. last_cell is filled.
    RnnOutput operator()(const Var& x, const std::vector<int>& lengths = {},
                         const Var* h0 = nullptr, const Var* c0 = nullptr) const;
    int input_dim() const { return w_x.dim(0); }
    int hidden_dim() const { return w_h.dim(0); }

    NamedParams named_parameters(const std::string& prefix = "") const;  // w_x, w_h, bias
    std::vector<Var> parameters() const { return vars_of(named_parameters()); }
};

}  // namespace minirec
