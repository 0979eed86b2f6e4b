// UserSim (Zhao et al., "Toward Simulating Environments in Reinforcement Learning Based
// Recommendations", arXiv 1906.11462): a GAN whose generator proposes the next item a user browses
// and whose discriminator both tells real items from generated ones and predicts the user's
// feedback (skip, click, buy). The trained discriminator is the simulator an RL recommender would
// query (chapter 54's tutorial trains a small policy inside it: Policy, at the end, which is ours,
// not the paper's). Deliberately left out: the paper's item-embedding pre-training
// (our tutorial hands the model fixed embeddings with values in (-1, 1), as the paper assumes).
//
// The paper's pieces, for a state s = ((i_1, f_1), ..., (i_N, f_N)) of the N last items the user
// browsed and the feedback type f_n (one of K) given to each:
//   state encoder:  f'_n = tanh(W_F f_n + b_F)        one-hot feedback -> dense, in (-1, 1) like e_n
//                   x_n  = e_n (+) f'_n               item embedding concatenated with it
//                   p    = GRU(x_1 .. x_N)            the last hidden state: the user's preference
//   generator:      G(s) = MLP(p^G)                   an item vector in (-1, 1)^D (tanh output)
//   discriminator:  e^D  = MLP(e)                     e = e_a (real item) or G(s) (generated)
//                   D(s, e) = softmax(MLP(p^D (+) e^D))  2K outputs: [K feedbacks if real | K if fake]
//   D's loss:       L_D = L_D^1 + L_D^2
//                   L_D^1 = -log sum_{k<K} D_k(s, e_a) - log sum_{k>=K} D_k(s, G(s))    real vs fake
//                   L_D^2 = -log D_f(s, e_a) - gamma log D_{K+f}(s, G(s))  feedback of the real item a,
//                           the generated item's term discounted by gamma (the seed says it is
//                           discounted; the paper's value is in an image we cannot read: not found)
//   G's loss:       L_G = log sum_{k>=K} D_k(s, G(s)) + alpha ||G(s) - e_a||^2
// L_D^2's second term labels the generated item with the real item's feedback: the generator's
// items near e_a act as extra, slightly perturbed training examples for the feedback predictor,
// which is the "data augmentation" the paper credits for its accuracy with few logs per user.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "nn/losses.h"
#include "nn/optim.h"

namespace minirec {
namespace ch54 {

// A batch of states and what followed them. Item vectors are looked up by the caller in the fixed
// embedding table, so the model sees only tensors.
struct SimBatch {
    int size = 0;           // B
    Tensor state_items;     // (B, N, D)  e_{i_1} .. e_{i_N}
    Tensor state_feedback;  // (B, N, K)  one-hot f_1 .. f_N
    Tensor next_item;       // (B, D)     e_a, the item the user was actually shown next
    Ids feedback;           // (B)        f, the feedback the user gave to it, in [0, K)
};

// The given rows of a tensor: (n, ...) -> (B, ...).
inline Tensor pick_rows(const Tensor& t, const std::vector<int>& rows) {
    Shape shape = t.shape();
    const size_t row = t.size() / size_t(shape[0]);
    shape[0] = int(rows.size());
    Tensor picked = Tensor::uninitialized(shape);
    for (size_t r = 0; r < rows.size(); ++r) std::copy_n(t.data() + size_t(rows[r]) * row, row, picked.data() + r * row);
    return picked;
}

// A mini-batch: the given rows of every tensor.
inline SimBatch rows_of(const SimBatch& all, const std::vector<int>& rows) {
    auto pick = [&](const Tensor& t) { return pick_rows(t, rows); };
    SimBatch b{int(rows.size()), pick(all.state_items), pick(all.state_feedback), pick(all.next_item), {}};
    for (int r : rows) b.feedback.push_back(all.feedback[size_t(r)]);
    return b;
}

struct UserSimOptions {
    int item_dim = 8;        // D, size of the fixed item embeddings
    int feedback_types = 3;  // K: skip, click, buy
    int feedback_dim = 4;    // size of f'_n
    int hidden = 32;         // GRU state and MLP width
    float alpha = 10.0f;     // weight of G's distance term
    float gamma = 0.5f;      // discount of L_D^2's generated-item term (ours: the paper's value not found)
};

// f'_n = tanh(W_F f_n + b_F); x_n = e_n (+) f'_n; p = GRU(x)_N.  Generator and discriminator each
// own one, with their own parameters.
struct StateEncoder {
    Linear feedback;  // W_F (K, feedback_dim), b_F
    GRU gru;          // (D + feedback_dim) -> hidden

    StateEncoder() = default;
    StateEncoder(const UserSimOptions& o, Rng& rng)
        : feedback(o.feedback_types, o.feedback_dim, rng),
          gru(o.item_dim + o.feedback_dim, o.hidden, rng) {}

    Var operator()(const Tensor& items, const Tensor& feedback_onehot) const {
        Var f = tanh(feedback(constant(feedback_onehot)));  // (B, N, feedback_dim)
        Var x = concat({constant(items), f}, 2);            // (B, N, D + feedback_dim)
        return gru(x).last;                                 // (B, hidden)
    }
    std::vector<Var> parameters() const {
        std::vector<Var> p = feedback.parameters();
        for (const Var& v : gru.parameters()) p.push_back(v);
        return p;
    }
};

// G(s): the encoder, then an MLP decoder whose tanh output lives where the item embeddings live.
struct Generator {
    StateEncoder encoder;
    MLP decoder;  // hidden -> hidden -> D

    Generator() = default;
    Generator(const UserSimOptions& o, Rng& rng)
        : encoder(o, rng), decoder(MLPOptions{{o.hidden, o.hidden, o.item_dim}}, rng) {}

    Var operator()(const SimBatch& b) { return tanh(decoder(encoder(b.state_items, b.state_feedback))); }
    std::vector<Var> parameters() const {
        std::vector<Var> p = encoder.parameters();
        for (const Var& v : decoder.parameters()) p.push_back(v);
        return p;
    }
};

// D(s, e): logits over `outputs` classes. UserSim's discriminator has 2K outputs; the supervised
// baseline is the same network with K outputs trained on the real logs alone.
struct Discriminator {
    StateEncoder encoder;
    MLP item_branch;  // D -> hidden -> hidden, with ReLU after both layers: e^D
    MLP head;         // (hidden + hidden) -> hidden -> outputs
    int outputs = 0;

    Discriminator() = default;
    Discriminator(const UserSimOptions& o, int outputs_, Rng& rng)
        : encoder(o, rng),
          item_branch(MLPOptions{{o.item_dim, o.hidden, o.hidden}, Activation::relu, 0.0f, false, true}, rng),
          head(MLPOptions{{2 * o.hidden, o.hidden, outputs_}}, rng),
          outputs(outputs_) {}

    Var state(const SimBatch& b) const { return encoder(b.state_items, b.state_feedback); }  // p^D (B, hidden)
    // p^D (B, hidden), item (B, D) -> (B, outputs). The state does not depend on the item, so the
    // losses encode it once and score the real and the generated item against it.
    Var logits(const Var& p, const Var& item) { return head(concat({p, item_branch(item)}, 1)); }
    Var logits(const SimBatch& b, const Var& item) { return logits(state(b), item); }
    std::vector<Var> parameters() const {
        std::vector<Var> p = encoder.parameters();
        for (const MLP* m : {&item_branch, &head})
            for (const Var& v : m->parameters()) p.push_back(v);
        return p;
    }
};

// log sum_{k in [lo, hi)} softmax(logits)_k, per row: the log-probability of a group of outputs
// (the "real" half or the "fake" half).  (B, 2K) -> (B)
inline Var log_group_prob(const Var& logits, int lo, int hi) {
    return logsumexp(slice(logits, 1, lo, hi), 1) - logsumexp(logits, 1);
}

// L_D = L_D^1 + L_D^2, averaged over the batch. `generated` is G(s), detached by the caller.
// gamma = 0 drops L_D^2's second term (the ablation: no feedback labels on generated items).
inline Var discriminator_loss(Discriminator& d, const SimBatch& b, const Var& generated, int K, float gamma) {
    Var p = d.state(b);                             // p^D (B, hidden), shared by both items
    Var real = d.logits(p, constant(b.next_item));  // (B, 2K)
    Var fake = d.logits(p, generated);              // (B, 2K)
    Var l1 = -mean(log_group_prob(real, 0, K)) - mean(log_group_prob(fake, K, 2 * K));
    Var l2 = softmax_cross_entropy(real, b.feedback);
    if (gamma == 0.0f) return l1 + l2;
    Ids shifted = b.feedback;  // the generated item carries the real item's feedback, in the fake half
    for (int32_t& f : shifted) f += K;
    return l1 + l2 + gamma * softmax_cross_entropy(fake, shifted);
}

// L_G = log P_fake(s, G(s)) + alpha ||G(s) - e_a||^2, averaged over the batch. D's state encoding
// p^D does not depend on G(s), so we compute it without a graph: G's gradients are the same, and we
// skip a backward pass through D's GRU whose gradients the caller would discard anyway.
inline Var generator_loss(Discriminator& d, const SimBatch& b, const Var& generated, int K, float alpha) {
    Var p;
    {
        NoGrad no_grad;
        p = d.state(b);
    }
    Var fake = d.logits(p, generated);
    Var distance = sum(pow(generated - constant(b.next_item), 2.0f), 1);  // (B)
    return mean(log_group_prob(fake, K, 2 * K)) + alpha * mean(distance);
}

// The simulator's answer: the feedback distribution for a real item, the real half of D's softmax
// renormalised (for the K-output baseline, its plain softmax).  -> (B, K)
inline Tensor feedback_probs(Discriminator& d, const SimBatch& b, int K) {
    NoGrad no_grad;
    Var real = d.logits(b, constant(b.next_item));
    return softmax(slice(real, 1, 0, K)).value();
}

// How a simulator's feedback predictions are scored: probs (n, K) against the logged feedback (n).
struct Scores { double accuracy = 0.0, logloss = 0.0; };  // P(argmax == logged feedback); -mean log p(it)
inline Scores score(const std::vector<float>& probs, const Ids& feedback) {
    const size_t K = probs.size() / feedback.size();
    double hits = 0.0, loss = 0.0;
    for (size_t i = 0; i < feedback.size(); ++i) {
        const float* p = &probs[i * K];
        hits += int(std::max_element(p, p + K) - p) == feedback[i];
        loss -= std::log(std::max(1e-7f, p[feedback[i]]));
    }
    return {hits / double(feedback.size()), loss / double(feedback.size())};
}

// ---- Not the paper's: the small recommender chapter 54 trains inside a simulator -----------------
// pi(a | s) = softmax_a( phi(s)^T W e_a ) over the state's C candidates, phi(s) = [mean embedding of
// the state's clicked or bought items ; of its skipped items] (2D). REINFORCE with the batch's mean
// reward as baseline; the reward of an action is the simulator's expected reward sum_k p(k) R_k.
struct Policy {
    Var W;   // (2D, D)
    Tensor phi(const SimBatch& b) const {
        const int B = b.size, N = b.state_items.dim(1), D = b.state_items.dim(2), K = b.state_feedback.dim(2);
        Tensor f = Tensor::zeros({B, 2 * D});
        for (int r = 0; r < B; ++r)
            for (int n = 0; n < N; ++n) {
                const bool liked = b.state_feedback[size_t((r * N + n) * K)] == 0.0f;
                for (int d = 0; d < D; ++d) f[size_t(r * 2 * D + (liked ? 0 : D) + d)] += b.state_items[size_t((r * N + n) * D + d)] / N;
            }
        return f;
    }
    Var logits(const SimBatch& b, const Tensor& cand_emb) const {   // cand_emb (B, C, D) -> (B, C)
        const int B = b.size, D = cand_emb.dim(2);
        return reshape(matmul(reshape(matmul(constant(phi(b)), W), {B, 1, D}), constant(cand_emb), false, true), {B, cand_emb.dim(1)});
    }
    // a ~ pi(. | s) for every row of log pi(. | s) (B, C): one uniform draw per row, in order.
    static std::vector<int> sample(const Var& logp, Rng& rng) {
        const int C = logp.value().dim(1);
        std::vector<int> action(size_t(logp.value().dim(0)));
        for (size_t r = 0; r < action.size(); ++r) {
            float x = rng.uniform(), below = 0.0f;
            int a = 0;
            for (; a < C - 1; ++a) if (x < (below += std::exp(logp.value()[r * C + size_t(a)]))) break;
            action[r] = a;
        }
        return action;
    }
    // The greedy policy's scores of the candidates (B, C), without a graph.
    Tensor scores(const SimBatch& b, const Tensor& cand_emb) const {
        NoGrad no_grad;
        return logits(b, cand_emb).value();
    }
    // REINFORCE: -1/B sum_r (R_r - mean R) log pi(a_r | s_r), the batch's mean reward the baseline.
    static Var reinforce_loss(const Var& logp, const std::vector<int>& action, const std::vector<float>& reward) {
        const int C = logp.value().dim(1);
        double mean = 0.0;
        for (size_t r = 0; r < reward.size(); ++r) mean += reward[r] / double(reward.size());
        Tensor weight = Tensor::zeros({int(reward.size()), C});           // (r - baseline) at the action taken
        for (size_t r = 0; r < reward.size(); ++r) weight[r * C + size_t(action[r])] = float(reward[r] - mean);
        return -sum(logp * constant(weight)) * (1.0f / float(reward.size()));
    }
};

// REINFORCE inside a simulator, from W = 0: each step draws 64 of the n states (with replacement),
// samples an action among each state's C candidates (cand_emb (n, C, D)), shows it to the simulator
// and takes the expected reward sum_k p(k) reward[k] of its answer (reward (K)); Adam, lr 0.05.
inline Policy train_policy(Discriminator& sim, const SimBatch& states, const Tensor& cand_emb, const float* reward_of, int steps,
                           Rng& rng) {
    const int C = cand_emb.dim(1), D = cand_emb.dim(2), K = states.state_feedback.dim(2);
    Policy pi{parameter(Tensor::zeros({2 * D, D}))};
    Adam adam({pi.W}, AdamOptions{0.05});
    for (int step = 0; step < steps; ++step) {
        std::vector<int> rows;
        for (int i = 0; i < 64; ++i) rows.push_back(rng.randint(states.size));
        SimBatch b = rows_of(states, rows);
        const Tensor ce = pick_rows(cand_emb, rows);                    // (B, C, D)
        const Var logp = log_softmax(pi.logits(b, ce));                 // (B, C)
        const std::vector<int> action = Policy::sample(logp, rng);      // a ~ pi(. | s)
        for (size_t r = 0; r < rows.size(); ++r)                        // the item shown is the action's
            std::copy_n(ce.data() + (r * C + size_t(action[r])) * D, D, b.next_item.data() + r * D);
        const Tensor p = feedback_probs(sim, b, K);                     // the simulator's answer (B, K)
        std::vector<float> reward(rows.size(), 0.0f);
        for (size_t r = 0; r < rows.size(); ++r)
            for (int k = 0; k < K; ++k) reward[r] += p[r * K + size_t(k)] * reward_of[k];
        const Var loss = Policy::reinforce_loss(logp, action, reward);
        adam.zero_grad();
        backward(loss);
        adam.step();
    }
    return pi;
}

}  // namespace ch54
}  // namespace minirec
