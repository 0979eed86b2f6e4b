// Exact-K recommendation (Gong et al., KDD 2019): GAttN, a Graph Attention Network that picks a
// card of exactly K items out of N candidates as one set, a K-clique of the candidates'
// compatibility graph. An encoder (multi-head attention of each candidate over its neighbours in
// the graph) and a pointer-network decoder (a GRU that points at one candidate per step, masking
// the chosen ones and every candidate that is not compatible with all of them), beam-search
// decoding, and the reward estimator the policy is trained against (a small network fitted to
// logged card clicks), with the estimator's fit and the losses GAttN is trained on (SL, RL + HC);
// the loops that take Adam steps on those losses live in the tutorial (tutorials/ch57_exact_k.h).
// Deliberately left out: the user features x_u (each card request here is one candidate set),
// the paper's "policy-sampling" in the supervised decoder, an LSTM decoder (a GRU here).
//
// The equations in the order of the paper's section on GAttN (named G1-G7 here for the code's
// comments; these are not the paper's own equation numbers):
//   G1  x_i = item features of candidate i (here: its score q_i only)
//   G2  e = Encoder(x_1..x_N, G): blocks of multi-head attention of i over j in N(i) + {i}
//   G3  P(A | S) = prod_t P(a_t | a_1..a_{t-1}, e)
//   G4  d_t = GRU(d_{t-1}, e_{a_{t-1}})
//   G5  u_j^t = v^T tanh(W_1 e_j + W_2 d_t)                       pointer attention
//   G6  P(a_t = j | ...) = softmax_j(u^t) over j with mask_j^t = 1  (mask: not chosen and
//          connected to every chosen item, so the card stays a clique)
//   G7  R^(A) = sigmoid(MLP(z_A)), z_A the card's scores and pair compatibilities  (estimator)
//   SL:    L_sl = -log P(A_demo | S)                                 learning from demonstrations
//   RL:    grad J = E[(R^(A) - b) grad log P(A | S)]                 REINFORCE with a baseline
//   HC:    L_hc = -log P(A* | S), A* the best of the sampled cards    hill-climbing
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "datasets/ch57_card_requests.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch57 {

// The pointer attention (G5) and its masked log-probabilities (G6):
//   We (R, N, D) = W_1 e precomputed, d (R, D) the decoder state, mask (R, N) 1 = allowed
//   -> log P(a_t = j) (R, N), 0 at masked entries.
struct Pointer {
    Linear w2;   // (D, D) W_2
    Linear v;    // (D, 1) v
    Pointer() = default;
    Pointer(int dim, Rng& rng) : w2(dim, dim, rng, false), v(dim, 1, rng, false) {}
    Var operator()(const Var& We, const Var& d, const Tensor& mask) const {
        const int R = We.dim(0), N = We.dim(1);
        const Var u = v(tanh(We + unsqueeze(w2(d), 1)));          // (R, N, 1)  G5
        return log_softmax(reshape(u, {R, N}), &mask);            // (R, N)     G6
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = w2.named_parameters(prefix + "w2.");
        append(p, v.named_parameters(prefix + "v."));
        return p;
    }
};

// Which candidates attend to which (G2): keep (R, 1, N, N) is 1 where j is a neighbour of i in
// the compatibility graph or j = i. adj (R * N * N) holds the R graphs.
inline Tensor graph_keep(const std::vector<float>& adj, int R, int N) {
    Tensor keep({R, 1, N, N});
    for (size_t i = 0; i < keep.size(); ++i) keep[i] = adj[i];
    for (int r = 0; r < R; ++r)
        for (int i = 0; i < N; ++i) keep[(size_t(r) * N + size_t(i)) * N + size_t(i)] = 1.0f;
    return keep;
}

// One graph-attention block of the encoder (G2): every candidate attends, with H heads, only to
// itself and its neighbours; x = LayerNorm(x + W_o GraphAttn(x)); x = LayerNorm(x + FFN(x)).
struct GraphAttentionBlock {
    int heads = 1;
    Linear qkv, out, ff1, ff2;
    GraphAttentionBlock() = default;
    GraphAttentionBlock(int dim, int h, Rng& rng)
        : heads(h), qkv(dim, 3 * dim, rng), out(dim, dim, rng), ff1(dim, 2 * dim, rng), ff2(2 * dim, dim, rng) {}
    Var operator()(const Var& x, const Tensor& keep) const {   // (R, N, D) -> (R, N, D)
        const int D = x.dim(2);
        const Var y = qkv(x);                                    // Q, K, V side by side
        const Var a = attention({y, 0}, {y, D}, {y, 2 * D}, heads, D / heads, keep, Tensor(Shape{0}));
        const Var h = layer_norm(x + out(a));
        return layer_norm(h + ff2(relu(ff1(h))));
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = qkv.named_parameters(prefix + "qkv.");
        append(p, out.named_parameters(prefix + "out."));
        append(p, ff1.named_parameters(prefix + "ff1."));
        append(p, ff2.named_parameters(prefix + "ff2."));
        return p;
    }
};
// A decoded card: the K chosen candidates and the sum of their log-probabilities.
struct Decoded {
    std::vector<std::vector<int>> cards;   // [row][t]; -1 once no candidate was allowed
    Var log_prob;                          // (R, 1) sum_t log P(a_t | ...)  (G3)
    Tensor last_logp, last_mask;           // (R, N) the last step's log P(a_t = j) and mask (beam search)
};

struct GAttN {
    int K = 0;
    Linear embed;                              // G1: features (F) -> D
    std::vector<GraphAttentionBlock> blocks;   // G2
    Var start;                         // (1, D) the decoder's first input
    GRU gru;                           // G4
    Linear w1;                         // G5: W_1
    Pointer pointer;                   // G5-G6

    GAttN() = default;
    GAttN(int features, int dim, int heads, int layers, int k, Rng& rng)
        : K(k), embed(features, dim, rng), start(parameter(Tensor::normal({1, dim}, rng, 0.0f, 0.1f))),
          gru(dim, dim, rng), w1(dim, dim, rng, false), pointer(dim, rng) {
        for (int l = 0; l < layers; ++l) blocks.emplace_back(dim, heads, rng);
    }

    // (R, N, F), the R graphs adj (R * N * N) -> (R, N, D)
    Var encode(const Var& x, const std::vector<float>& adj) const {
        const Tensor keep = graph_keep(adj, x.dim(0), x.dim(1));
        Var e = embed(x);
        for (const GraphAttentionBlock& b : blocks) e = b(e, keep);
        return e;
    }

    // Decodes one card per row. adj (R * N * N) the 0/1 compatibility graphs. `forced` (R rows),
    // when not empty, holds the picks to score (teacher forcing, for hill-climbing and
    // demonstrations); past its end, or without it, each step samples from P (sample = true, with
    // rng) or takes its argmax. `steps` (0 = K) stops early: beam search reads last_logp.
    Decoded decode(const Var& x, const std::vector<float>& adj, bool sample, Rng& rng,
                   const std::vector<std::vector<int>>& forced = {}, int steps = 0) {
        const int R = x.dim(0), N = x.dim(1), D = embed.weight.dim(1);
        const Var e = encode(x, adj);                               // (R, N, D)
        const Var e_flat = reshape(e, {R * N, D});
        const Var We = w1(e);                                       // (R, N, D)
        Var d = mean(e, 1);                                         // (R, D) d_0
        Var input = broadcast_to(start, {R, D});
        Tensor mask = Tensor::ones({R, N});
        Decoded out;
        out.cards.assign(size_t(R), std::vector<int>());
        Var log_prob = constant(Tensor::zeros({R, 1}));
        for (int t = 0; t < (steps > 0 ? steps : K); ++t) {
            d = gru(reshape(input, {R, 1, D}), {}, &d).last;       // G4, (R, D)
            const Var logp = pointer(We, d, mask);                  // G5-G6, (R, N)
            out.last_logp = logp.value(), out.last_mask = mask;
            Ids pick(static_cast<size_t>(R)), flat(static_cast<size_t>(R));
            for (int r = 0; r < R; ++r) {
                const bool given = !forced.empty() && t < int(forced[size_t(r)].size());
                pick[size_t(r)] = given ? forced[size_t(r)][size_t(t)] : choose(logp.value(), mask, r, N, sample, rng);
                flat[size_t(r)] = r * N + std::max(pick[size_t(r)], 0);
            }
            log_prob = log_prob + gather_rows(reshape(logp, {R * N, 1}), flat);
            input = gather_rows(e_flat, flat);                      // e_{a_t}, (R, D)
            for (int r = 0; r < R; ++r) {                           // the clique mask for t + 1
                const int a = pick[size_t(r)];
                out.cards[size_t(r)].push_back(a);
                for (int j = 0; j < N; ++j)
                    if (a < 0 || j == a || adj[(size_t(r) * N + size_t(a)) * N + size_t(j)] == 0.0f)
                        mask[size_t(r) * N + size_t(j)] = 0.0f;
            }
        }
        out.log_prob = log_prob;
        return out;
    }

    // Row r's choice among the allowed candidates: a draw from P or its argmax; -1 if none allowed.
    static int choose(const Tensor& logp, const Tensor& mask, int r, int N, bool sample, Rng& rng) {
        int best = -1;
        double u = sample ? rng.uniform_double() : 0.0, acc = 0.0;
        for (int j = 0; j < N; ++j) {
            const size_t i = size_t(r) * N + size_t(j);
            if (mask[i] == 0.0f) continue;
            if (!sample) {
                if (best < 0 || logp[i] > logp[size_t(r) * N + size_t(best)]) best = j;
                continue;
            }
            best = j;                                  // the last allowed one absorbs rounding
            acc += std::exp(double(logp[i]));
            if (u < acc) return j;
        }
        return best;
    }

    NamedParams named_parameters() const {
        NamedParams p = embed.named_parameters("embed.");
        for (size_t l = 0; l < blocks.size(); ++l) append(p, blocks[l].named_parameters("block" + std::to_string(l) + "."));
        p.push_back({"start", start});
        append(p, gru.named_parameters("gru."));
        append(p, w1.named_parameters("w1."));
        append(p, pointer.named_parameters("pointer."));
        return p;
    }
};

// The weights' values, to restart several variants from the same point.
inline std::vector<Tensor> values_of(const GAttN& m) {
    std::vector<Tensor> v;
    for (const Var& p : vars_of(m.named_parameters())) v.push_back(p.value());
    return v;
}
inline void load_values(GAttN& m, const std::vector<Tensor>& v) {
    std::vector<Var> ps = vars_of(m.named_parameters());
    for (size_t i = 0; i < ps.size(); ++i) ps[i].value_mut() = v[i];
}

// Beam search (the paper decodes with beam 3): keep the `width` prefixes of highest log P; the card
// is the most probable complete one; a stuck prefix continues with -1 and a 1000-nat penalty.
// x (T, N, F) and adj (T * N * N) describe T requests; one card per request.
inline std::vector<std::vector<int>> beam_cards(GAttN& m, const Tensor& x, const std::vector<float>& adj, int width) {
    NoGrad no_grad;
    struct Beam { std::vector<int> card; double logp; };
    const int T = x.dim(0), N = x.dim(1), F = x.dim(2);
    std::vector<std::vector<Beam>> beams(static_cast<size_t>(T), std::vector<Beam>{Beam{{}, 0.0}});
    Rng unused(0);
    for (int t = 0; t < m.K; ++t) {
        std::vector<std::vector<int>> prefixes;
        std::vector<int> owner;
        std::vector<double> logp;
        std::vector<float> xs, as;
        for (int i = 0; i < T; ++i)
            for (const Beam& b : beams[size_t(i)]) {
                prefixes.push_back(b.card), owner.push_back(i), logp.push_back(b.logp);
                xs.insert(xs.end(), x.data() + size_t(i) * N * F, x.data() + size_t(i + 1) * N * F);
                as.insert(as.end(), adj.begin() + ptrdiff_t(i) * N * N, adj.begin() + ptrdiff_t(i + 1) * N * N);
            }
        const int R = int(owner.size());
        const Decoded d = m.decode(constant(Tensor({R, N, F}, xs)), as, false, unused, prefixes, t + 1);
        std::vector<std::vector<Beam>> next(static_cast<size_t>(T));
        for (int r = 0; r < R; ++r) {
            std::vector<Beam>& v = next[size_t(owner[size_t(r)])];
            bool any = false;
            for (int j = 0; j < N; ++j)
                if (d.last_mask[size_t(r) * N + size_t(j)] != 0.0f) {
                    any = true;
                    v.push_back(Beam{prefixes[size_t(r)], logp[size_t(r)] + d.last_logp[size_t(r) * N + size_t(j)]});
                    v.back().card.push_back(j);
                }
            if (!any) v.push_back(Beam{prefixes[size_t(r)], logp[size_t(r)] - 1e3}), v.back().card.push_back(-1);
        }
        for (std::vector<Beam>& v : next) {
            std::stable_sort(v.begin(), v.end(), [](const Beam& a, const Beam& b) { return a.logp > b.logp; });
            if (int(v.size()) > width) v.resize(size_t(width));
        }
        beams = std::move(next);
    }
    std::vector<std::vector<int>> cards;
    for (const std::vector<Beam>& v : beams) cards.push_back(v.front().card);
    return cards;
}

// G7, the reward estimator: R^(A) = sigmoid(w_2^T relu(W_1 z_A + b_1) + b_2), fitted by log loss
// to logged cards and their clicks (the paper: a PNN-style network with one hidden ReLU layer).
// z_A (R, F) describes a card (datasets::card_features: its scores and pair compatibilities).
struct RewardEstimator {
    Linear hidden, out;
    RewardEstimator() = default;
    RewardEstimator(int inputs, int width, Rng& rng) : hidden(inputs, width, rng), out(width, 1, rng) {}
    Var logits(const Var& z) const { return out(relu(hidden(z))); }   // (R, F) -> (R, 1)
    std::vector<double> predict(const Tensor& z) const {                 // R^ of each row
        NoGrad no_grad;
        const Tensor p = sigmoid(logits(constant(z))).value();
        return std::vector<double>(p.data(), p.data() + p.size());
    }
    NamedParams named_parameters() const {
        NamedParams p = hidden.named_parameters("hidden.");
        append(p, out.named_parameters("out."));
        return p;
    }
};

// ---- Training: the estimator's fit, and GAttN's losses --------------------------------------------
using datasets::Request;
using RequestList = std::vector<const Request*>;
using Cards = std::vector<std::vector<int>>;

// One step of either training stage: Adam on the loss, the gradient's norm clipped at 5; a
// non-finite loss stops the run.
inline void adam_step(const GAttN& m, Adam& adam, const Var& loss, int step) {
    adam.zero_grad();
    backward(loss);
    clip_grad_norm(vars_of(m.named_parameters()), 5.0f);
    adam.step();
    check_finite(loss.item(), step);
}

// The reward a card earns in training: R^ (true_reward: the true R, for the ablation); card i
// belongs to request rs[i], and a card with a missing item (-1) earns 0.
inline std::vector<double> rewards(const RewardEstimator& est, bool true_reward, const RequestList& rs, const Cards& cards) {
    std::vector<double> out = est.predict(datasets::card_rows(rs, cards));
    for (size_t i = 0; i < cards.size(); ++i)
        out[i] = true_reward ? datasets::card_reward(*rs[i], cards[i]) : datasets::complete(cards[i]) ? out[i] : 0.0;
    return out;
}

// The estimator's error on cards: mean |R^ - R|.
inline double estimator_error(const RewardEstimator& est, const RequestList& rs, const Cards& cards) {
    const std::vector<double> est_r = rewards(est, false, rs, cards);
    double err = 0.0;
    for (size_t i = 0; i < rs.size(); ++i) err += std::abs(est_r[i] - datasets::card_reward(*rs[i], cards[i])) / double(rs.size());
    return err;
}

// G7 fitted by log loss to the logged complete cards and their clicks (Adam, batches of 64).
inline RewardEstimator train_estimator(const datasets::Logs& logs, int K, int hidden, int epochs, Rng& rng) {
    std::vector<int> rows;
    for (int i = 0; i < int(logs.cards.size()); ++i)
        if (datasets::complete(logs.cards[size_t(i)])) rows.push_back(i);
    RewardEstimator est(datasets::card_feature_count(K), hidden, rng);
    Adam adam(vars_of(est.named_parameters()), 5e-3);
    for (int epoch = 0; epoch < epochs; ++epoch)
        for (const std::vector<int>& b : make_batches(rows, 64, rng)) {
            RequestList rs;
            Cards cards;
            Tensor y({int(b.size()), 1});
            for (size_t i = 0; i < b.size(); ++i)
                rs.push_back(&logs.requests[size_t(b[i])]), cards.push_back(logs.cards[size_t(b[i])]), y[i] = logs.clicks[size_t(b[i])];
            const Var loss = bce_with_logits(est.logits(constant(datasets::card_rows(rs, cards))), y);
            adam.zero_grad();
            backward(loss);
            adam.step();
        }
    return est;
}

// The demonstrations (SL): the high-reward cliques of the logs, the clicked cards whose R^ is in
// the top `share` of the clicked ones (a clicked card is a clique, so complete).
struct Demonstrations {
    RequestList requests;
    Cards cards;
};
inline Demonstrations demonstrations(const datasets::Logs& logs, const RewardEstimator& est, double share) {
    Demonstrations clicked, top;
    for (size_t i = 0; i < logs.clicks.size(); ++i)
        if (logs.clicks[i] > 0.0f) clicked.requests.push_back(&logs.requests[i]), clicked.cards.push_back(logs.cards[i]);
    if (clicked.cards.empty()) return top;
    for (int i : datasets::top_share(est.predict(datasets::card_rows(clicked.requests, clicked.cards)), share))
        top.requests.push_back(clicked.requests[size_t(i)]), top.cards.push_back(clicked.cards[size_t(i)]);
    return top;
}
// A batch of n demonstrations drawn with replacement.
inline Demonstrations sample(const Demonstrations& demos, int n, Rng& rng) {
    Demonstrations batch;
    for (int b = 0; b < n; ++b) {
        const size_t i = size_t(rng.randint(int(demos.cards.size())));
        batch.requests.push_back(demos.requests[i]), batch.cards.push_back(demos.cards[i]);
    }
    return batch;
}

// SL: L_sl = -mean log P(A_demo | S) over a batch of demonstrations (teacher forcing).
inline Var sl_loss(GAttN& m, const Demonstrations& batch, Rng& rng) {
    std::vector<float> adj;
    return -mean(m.decode(constant(datasets::request_rows(batch.requests, 1, &adj)), adj, false, rng, batch.cards).log_prob);
}

// RL + HC on a batch of B requests: M cards sampled per request (G3), each log-probability weighted
// by its reward minus the request's mean sampled reward (REINFORCE with a baseline), minus
// hc_weight times the mean log-probability of each request's best sampled card (hill-climbing).
inline Var rl_hc_loss(GAttN& m, const RewardEstimator& est, bool true_reward, const std::vector<Request>& batch, int M,
                      double hc_weight, Rng& rng) {
    const int B = int(batch.size());
    RequestList rs, rows;
    for (const Request& r : batch) rs.push_back(&r);
    for (int r = 0; r < B * M; ++r) rows.push_back(rs[size_t(r / M)]);
    std::vector<float> adj;
    const Decoded dec = m.decode(constant(datasets::request_rows(rs, M, &adj)), adj, true, rng);   // (B M) sampled cards
    const std::vector<double> rw = rewards(est, true_reward, rows, dec.cards);
    Tensor adv({B * M, 1});
    Cards best_cards;
    for (int b = 0; b < B; ++b) {
        double base = 0.0;
        int top = b * M;
        for (int c = b * M; c < (b + 1) * M; ++c) {
            base += rw[size_t(c)] / M;
            if (rw[size_t(c)] > rw[size_t(top)]) top = c;
        }
        best_cards.push_back(dec.cards[size_t(top)]);
        for (int c = b * M; c < (b + 1) * M; ++c) adv[size_t(c)] = float(rw[size_t(c)] - base);
    }
    std::vector<float> adj1;
    const Decoded hc = m.decode(constant(datasets::request_rows(rs, 1, &adj1)), adj1, false, rng, best_cards);
    return -mean(constant(adv) * dec.log_prob) - float(hc_weight) * mean(hc.log_prob);
}

}  // namespace ch57
}  // namespace minirec
