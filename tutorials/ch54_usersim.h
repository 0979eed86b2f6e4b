// Chapter 54's experiment: from few logged sessions (datasets/ch54_usersim_world.h), three user
// simulators that predict feedback (supervised; UserSim, a GAN whose generated items carry the real
// feedback, discounted by gamma; UserSim without that term), scored on held-out users and used as
// the training ground of a small policy (REINFORCE over a candidate set) scored in the true world.
// Deliberately left out: multi-step episodes (one recommendation per state), the paper's real logs.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <chrono>
#include <string>
#include <vector>

#include "datasets/ch54_usersim_world.h"
#include "models/ch54_usersim.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch54 {

// ---- The logs as tensors: every example of a set of sessions, embedded once -------------------
// Example (s, t) has the state items [t - N, t) of session s, and item t as its target.
struct Logs {
    SimBatch all;                   // (n, N, D), (n, N, K), (n, D), (n)
    std::vector<float> true_probs;  // (n, K) the oracle's feedback distribution
    std::vector<float> taste;       // (n, D) the user's hidden taste, to score a policy in the true world
};

inline Logs logs_of(const World& w, const std::vector<Session>& sessions) {
    const int N = w.o.history, D = w.o.dim, K = kFeedbackTypes, n = int(sessions.size()) * w.o.steps;
    Logs l{{n, Tensor::zeros({n, N, D}), Tensor::zeros({n, N, K}), Tensor::zeros({n, D}), {}}, {}, {}};
    auto embed = [&](int item, float* to) { std::copy_n(&w.embedding[size_t(item) * D], D, to); };
    size_t r = 0;
    for (const Session& s : sessions)
        for (int t = N; t < N + w.o.steps; ++t, ++r) {
            for (int j = 0, step = t - N; j < N; ++j, ++step) {
                embed(s.items[size_t(step)], l.all.state_items.data() + (r * N + j) * D);
                l.all.state_feedback.data()[(r * N + j) * K + s.feedback[size_t(step)]] = 1.0f;
            }
            embed(s.items[size_t(t)], l.all.next_item.data() + r * D);
            l.all.feedback.push_back(s.feedback[size_t(t)]);
            l.true_probs.insert(l.true_probs.end(), &s.true_probs[size_t(t) * K], &s.true_probs[size_t(t + 1) * K]);
            l.taste.insert(l.taste.end(), s.taste.begin(), s.taste.end());
        }
    return l;
}

struct Scores { double accuracy = 0.0, logloss = 0.0; };  // P(argmax == logged feedback); -mean log p(it)

// probs (n, K) against the logged feedback (n).
inline Scores score(const std::vector<float>& probs, const Ids& feedback) {
    double hits = 0.0, loss = 0.0;
    for (size_t i = 0; i < feedback.size(); ++i) {
        const float* p = &probs[i * kFeedbackTypes];
        hits += int(std::max_element(p, p + kFeedbackTypes) - p) == feedback[i];
        loss -= std::log(std::max(1e-7f, p[feedback[i]]));
    }
    return {hits / double(feedback.size()), loss / double(feedback.size())};
}

enum ModelKind { kSupervised, kUserSim, kNoAugment, kNumModels };  // the three simulators
const char* const kModelNames[] = {"supervised (K outputs)", "UserSim (GAN, 2K outputs)", "UserSim without L_D^2's generated-item term"};
const float kReward[kFeedbackTypes] = {0.0f, 1.0f, 2.0f};   // skip, click, buy

struct Options {
    WorldOptions world;
    UserSimOptions model;
    int worlds = 5;
    int control_users = 200;     // the control world: more logs, where augmentation has less to add
    int epochs = 8, batch = 64;
    double lr = 5e-3;            // Adam, both D and G
    int candidates = 10, policy_steps = 100;   // the policy picks one of C random items; REINFORCE steps of 64 states
    uint64_t seed = 1;
};

// The quick run: 2 worlds, 4 epochs -- too short for verdicts.
inline Options quick_options() {
    Options o;
    o.worlds = 2, o.epochs = 4, o.control_users = 150, o.policy_steps = 50;
    return o;
}

inline Scores evaluate(Discriminator& d, const Logs& l) { return score(feedback_probs(d, l.all, kFeedbackTypes).vec(), l.all.feedback); }

// Trains one simulator and returns it at the epoch with the best validation logloss.
// Supervised: D with K outputs and cross-entropy on the real logs. UserSim: D with 2K outputs and G,
// each with its own Adam, alternating one D step and one G step per batch (the paper's L_D and L_G).
inline Discriminator train_model(ModelKind kind, const Logs& train, const Logs& valid, const Options& o, Rng& rng) {
    const int K = kFeedbackTypes;
    const bool gan = kind != kSupervised;
    Discriminator d(o.model, gan ? 2 * K : K, rng);
    Generator g(o.model, rng);  // the supervised simulator leaves it untrained
    Adam opt_d(d.parameters(), AdamOptions{o.lr}), opt_g(g.parameters(), AdamOptions{o.lr});
    std::vector<Var> params = d.parameters();  // the best epoch's values are kept
    std::vector<Tensor> kept;
    double best = 1e30, step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        for (const std::vector<int>& rows : make_batches(train.all.size, o.batch, rng)) {
            const SimBatch b = rows_of(train.all, rows);
            const Var generated = gan ? g(b) : Var();  // G(s) (B, D)
            opt_d.zero_grad();  // D's step: L_D with G(s) held fixed, or cross-entropy on the logged feedback
            const Var ld = gan ? discriminator_loss(d, b, detach(generated), K, kind == kUserSim ? o.model.gamma : 0.0f)
                               : softmax_cross_entropy(d.logits(b, constant(b.next_item)), b.feedback);
            backward(ld);
            opt_d.step();
            if (gan) {  // G's step: L_G through the updated D (D's gradients are discarded)
                opt_g.zero_grad();
                backward(generator_loss(d, b, generated, K, o.model.alpha));
                opt_g.step();
            }
            check_finite(ld.item(), long(step++), "ch54 loss");
        }
        const double v = evaluate(d, valid).logloss;
        if (v < best) {
            best = v, kept.clear();
            for (const Var& p : params) kept.push_back(p.value());  // deep copies
        }
    }
    for (size_t i = 0; i < params.size(); ++i) params[i].value_mut() = kept[i];  // the handles share the nodes
    return d;
}

// ---- A policy trained inside a simulator --------------------------------------------------------
// pi(a | s) = softmax_a( phi(s)^T W e_a ) over the state's C candidates, phi(s) = [mean embedding of
// the state's clicked or bought items ; of its skipped items] (2D). REINFORCE with the batch's mean
// reward as baseline; the reward of an action is the simulator's expected reward sum_k p(k) R_k.
struct Policy {
    Var W;   // (2D, D)
    Tensor phi(const SimBatch& b) const {
        const int B = b.size, N = b.state_items.dim(1), D = b.state_items.dim(2);
        Tensor f = Tensor::zeros({B, 2 * D});
        for (int r = 0; r < B; ++r)
            for (int n = 0; n < N; ++n) {
                const bool liked = b.state_feedback[size_t((r * N + n) * kFeedbackTypes)] == 0.0f;
                for (int d = 0; d < D; ++d) f[size_t(r * 2 * D + (liked ? 0 : D) + d)] += b.state_items[size_t((r * N + n) * D + d)] / N;
            }
        return f;
    }
    Var logits(const SimBatch& b, const Tensor& cand_emb) const {   // cand_emb (B, C, D) -> (B, C)
        const int B = b.size, D = cand_emb.dim(2);
        return reshape(matmul(reshape(matmul(constant(phi(b)), W), {B, 1, D}), constant(cand_emb), false, true), {B, cand_emb.dim(1)});
    }
};

// The candidates' ids (n * C) -> their embeddings (B, C, D) for the given rows.
inline Tensor candidate_embeddings(const World& w, const std::vector<int>& cand, const std::vector<int>& rows, int C) {
    const int D = w.o.dim;
    Tensor e({int(rows.size()), C, D});
    for (size_t r = 0; r < rows.size(); ++r)
        for (int c = 0; c < C; ++c)
            std::copy_n(&w.embedding[size_t(cand[size_t(rows[r] * C + c)]) * D], D, e.data() + (r * C + c) * D);
    return e;
}

inline Policy train_policy(Discriminator& sim, const World& w, const Logs& states, const std::vector<int>& cand,
                           const Options& o, Rng& rng) {
    const int C = o.candidates, D = w.o.dim;
    Policy pi{parameter(Tensor::zeros({2 * D, D}))};
    Adam adam({pi.W}, AdamOptions{0.05});
    for (int step = 0; step < o.policy_steps; ++step) {
        std::vector<int> rows;
        for (int i = 0; i < 64; ++i) rows.push_back(rng.randint(states.all.size));
        SimBatch b = rows_of(states.all, rows);
        const Tensor ce = candidate_embeddings(w, cand, rows, C);
        const Var logp = log_softmax(pi.logits(b, ce));                 // (B, C)
        std::vector<int> action(rows.size());
        for (size_t r = 0; r < rows.size(); ++r) {                      // a ~ pi(. | s)
            float x = rng.uniform(), below = 0.0f;
            int a = 0;
            for (; a < C - 1; ++a) if (x < (below += std::exp(logp.value()[r * C + size_t(a)]))) break;
            action[r] = a;
            std::copy_n(ce.data() + (r * C + size_t(a)) * D, D, b.next_item.data() + r * D);
        }
        const Tensor p = feedback_probs(sim, b, kFeedbackTypes);        // the simulator's answer (B, K)
        std::vector<float> reward(rows.size());
        double mean = 0.0;
        for (size_t r = 0; r < rows.size(); ++r)
            reward[r] = p[r * 3 + 1] * kReward[1] + p[r * 3 + 2] * kReward[2], mean += reward[r] / double(rows.size());
        Tensor weight = Tensor::zeros({int(rows.size()), C});           // (r - baseline) at the action taken
        for (size_t r = 0; r < rows.size(); ++r) weight[r * C + size_t(action[r])] = float(reward[r] - mean);
        const Var loss = -sum(logp * constant(weight)) * (1.0f / float(rows.size()));
        adam.zero_grad();
        backward(loss);
        adam.step();
    }
    return pi;
}

// Mean expected reward in the true environment over every state of `states`: of the greedy policy's
// candidate, of the best candidate (the ceiling) and of a random one.
struct TrueReward { double policy = 0.0, best = 0.0, random = 0.0; };
inline TrueReward true_reward(const Policy& pi, const World& w, const Logs& states, const std::vector<int>& cand, int C) {
    NoGrad no_grad;
    std::vector<int> rows(size_t(states.all.size));   // every state, in order
    std::iota(rows.begin(), rows.end(), 0);
    const Tensor z = pi.logits(rows_of(states.all, rows), candidate_embeddings(w, cand, rows, C)).value();
    TrueReward t;
    const double n = double(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
        const int a = int(std::max_element(z.data() + r * C, z.data() + (r + 1) * C) - (z.data() + r * C));
        double best = 0.0;
        for (int c = 0; c < C; ++c) {
            float p[kFeedbackTypes];
            true_feedback_probs(w, &states.taste[r * size_t(w.o.dim)], cand[r * C + size_t(c)], p);
            const double v = p[1] * kReward[1] + p[2] * kReward[2];   // kReward[0] = 0
            best = std::max(best, v), t.random += v / C / n;
            if (c == a) t.policy += v / n;
        }
        t.best += best / n;
    }
    return t;
}

struct WorldResult {
    Scores test[kNumModels], oracle;          // feedback prediction on the held-out users
    double reward[kNumModels] = {};           // the policy trained inside each simulator, in the true world
    double random_reward = 0.0, best_reward = 0.0;   // a random candidate; the best candidate (the ceiling)
};

inline WorldResult run_world(const Options& o, WorldOptions wo, uint64_t seed) {
    const World w = make_world(wo, seed);
    const Logs train = logs_of(w, w.train), valid = logs_of(w, w.valid), test = logs_of(w, w.test);
    WorldResult res;
    res.oracle = score(test.true_probs, test.all.feedback);
    Rng rng(seed, 5401);
    const int C = o.candidates;
    std::vector<int> cand_train(size_t(train.all.size * C)), cand_test(size_t(test.all.size * C));   // C random items per state
    for (std::vector<int>* c : {&cand_train, &cand_test}) for (int& i : *c) i = rng.randint(wo.num_items);
    for (int m = 0; m < kNumModels; ++m) {
        Discriminator d = train_model(ModelKind(m), train, valid, o, rng);
        res.test[m] = evaluate(d, test);
        Rng policy_rng(seed, 5402);   // the same REINFORCE draws inside every simulator
        const TrueReward t = true_reward(train_policy(d, w, train, cand_train, o, policy_rng), w, test, cand_test, C);
        res.reward[m] = t.policy, res.best_reward = t.best, res.random_reward = t.random;
    }
    return res;
}

struct Results { std::vector<WorldResult> main, control; double seconds = 0.0; };

inline Results run_experiment(const Options& o) {
    Results res;
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < o.worlds; ++i) {
            WorldOptions wo = o.world;
            if (c == 1) wo.train_users = o.control_users;
            (c ? res.control : res.main).push_back(run_world(o, wo, replicate_seed(o.seed, i)));
        }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

// The claims, paired per world: held-out feedback logloss (lower is better, so comparator - method)
// and the true-world reward of the policy trained inside each simulator (method - comparator).
inline Claims judge(const Options&, const Results& r) {
    Claims claims;
    for (int c = 0; c < 2; ++c) {
        const std::vector<WorldResult>& v = c ? r.control : r.main;
        const std::string world = c ? "control" : "main";
        Claim a{"UserSim predicts feedback better than the supervised simulator (logloss, supervised - UserSim)", world,
                c ? "—" : "abstract: the GAN simulator predicts feedback (numbers not found)", {}, 0.005, 4};
        Claim b{"a policy trained inside UserSim earns more in the true world than one trained inside the supervised "
                "simulator (reward)", world, c ? "—" : "not found (the abstract claims simulator quality only)", {}, 0.01, 4};
        Claim d{"the generated-item feedback term helps (logloss, without it - with it)", world,
                c ? "—" : "v1: an ablation of each component (numbers not found)", {}, 0.005, 4};
        bool below = true;   // a sanity check: no policy beats the best candidate, no simulator the oracle
        for (const WorldResult& x : v) {
            a.diffs.push_back(x.test[kSupervised].logloss - x.test[kUserSim].logloss);
            b.diffs.push_back(x.reward[kUserSim] - x.reward[kSupervised]);
            d.diffs.push_back(x.test[kNoAugment].logloss - x.test[kUserSim].logloss);
            for (int m = 0; m < kNumModels; ++m) below &= x.reward[m] <= x.best_reward + 1e-9 && x.oracle.logloss < x.test[m].logloss;
        }
        claims.add(a), claims.add(b), claims.add(d);
        claims.add_sanity(world + ": every policy earns at most the best candidate; the oracle's logloss is below every simulator's", below, "");
    }
    return claims;
}

}  // namespace ch54
}  // namespace minirec
