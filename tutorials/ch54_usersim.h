// Chapter 54's experiment: from few logged sessions (datasets/ch54_usersim_world.h), three user
// simulators that predict feedback (supervised; UserSim, a GAN whose generated items carry the real
// feedback, discounted by gamma; UserSim without that term), scored on held-out users and used as
// the training ground of a small policy (REINFORCE over a candidate set) scored in the true world.
// Deliberately left out: multi-step episodes (one recommendation per state), the paper's real logs.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/ch54_usersim_world.h"
#include "models/ch54_usersim.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch54 {

// The logs as the simulators' input (datasets/ch54_usersim_world.h's Examples), with the ground truth
// of each example beside them.
struct Logs {
    SimBatch all;                   // (n, N, D), (n, N, K), (n, D), (n)
    std::vector<float> true_probs;  // (n, K) the oracle's feedback distribution
    std::vector<float> taste;       // (n, D) the user's hidden taste, to score a policy in the true world
};
inline Logs logs_of(const World& w, const std::vector<Session>& sessions) {
    Examples e = examples(w, sessions);
    return {{e.size, std::move(e.state_items), std::move(e.state_feedback), std::move(e.next_item), std::move(e.feedback)},
            std::move(e.true_probs), std::move(e.taste)};
}

enum ModelKind { kSupervised, kUserSim, kNoAugment, kNumModels };  // the three simulators
const char* const kModelNames[] = {"supervised (K outputs)", "UserSim (GAN, 2K outputs)", "UserSim without L_D^2's generated-item term"};

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
    const std::vector<int> cand_train = random_candidates(w, train.all.size, C, rng);   // C random items per state
    const std::vector<int> cand_test = random_candidates(w, test.all.size, C, rng);
    const Tensor emb_train = candidate_embeddings(w, cand_train, C), emb_test = candidate_embeddings(w, cand_test, C);   // (n, C, D)
    for (int m = 0; m < kNumModels; ++m) {
        Discriminator d = train_model(ModelKind(m), train, valid, o, rng);
        res.test[m] = evaluate(d, test);
        // A policy trained inside the simulator (models/ch54_usersim.h), then scored in the true world.
        Rng policy_rng(seed, 5402);   // the same REINFORCE draws inside every simulator
        const Policy pi = train_policy(d, train.all, emb_train, kReward, o.policy_steps, policy_rng);
        const TrueReward t = true_reward(w, test.taste, cand_test, pi.scores(test.all, emb_test).data(), test.all.size, C);
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
