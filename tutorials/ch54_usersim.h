// Chapter 54's experiment: a simulated shop whose users have hidden tastes, a logging recommender,
// and browsing logs of (last N items and feedbacks) -> (next item, feedback). From a few logged
// sessions we learn a user simulator that predicts the feedback to an item in a state, three ways:
// the supervised K-way classifier, UserSim (GAN, 2K outputs, generated items labelled with the real
// feedback), and UserSim without that augmentation term; and we score them on held-out users
// against the oracle that knows the tastes. Deliberately left out: training an RL agent on the result.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "models/ch54_usersim.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch54 {

// ---- The world --------------------------------------------------------------------------------
// Items sit in clusters: q_i = c_{k(i)} + noise, unit-norm cluster centres c_k in R^D. A user's taste
// u is the normalised sum of two centres. An item's utility is r = <u, q_i>, and the feedback is
// drawn from softmax(0, 4r - 1.5, 6r - 3.5) over (skip, click, buy): items of the user's clusters are
// mostly clicked or bought, others mostly skipped. The model never sees q or u: it gets "pre-trained"
// embeddings e_i = tanh(q_i + noise), and must read the taste from the state's feedbacks.
struct WorldOptions {
    int num_items = 200;
    int clusters = 8;
    int dim = 8;                 // D
    int history = 10;            // N, the state's length
    int steps = 20;              // logged (state, next item, feedback) examples per user
    int train_users = 100;       // few logs: the regime where the paper says augmentation helps
    int valid_users = 50;        // early stopping
    int test_users = 200;
    float item_noise = 0.35f;    // spread of q_i around its centre
    float embed_noise = 0.3f;    // how far e_i is from q_i
    float follow = 0.5f;         // P(the logging recommender shows an item of a recently liked cluster)
};

constexpr int kFeedbackTypes = 3;  // K
inline const char* const kFeedbackNames[kFeedbackTypes] = {"skip", "click", "buy"};

struct Session {
    std::vector<int> items;     // history + steps items, in order
    std::vector<int> feedback;  // the feedback to each, in [0, K)
    std::vector<float> true_probs;  // (history + steps) x K: the true feedback distribution
};

struct World {
    WorldOptions o;
    std::vector<int> cluster;        // (num_items)
    std::vector<float> embedding;    // (num_items, D): e_i, what models see
    std::vector<Session> train, valid, test;
};

inline std::vector<float> unit_vector(int d, Rng& rng) {
    std::vector<float> v(size_t(d), 0.0f);
    double n2 = 0.0;
    for (float& x : v) x = rng.normal(), n2 += double(x) * x;
    for (float& x : v) x = float(x / std::sqrt(n2));
    return v;
}

// The feedback distribution for utility r: softmax(0, 4r - 1.5, 6r - 3.5).
inline void true_feedback_probs(float r, float* p) {
    const double z[kFeedbackTypes] = {0.0, 4.0 * r - 1.5, 6.0 * r - 3.5};
    double m = std::max({z[0], z[1], z[2]}), s = 0.0, e[kFeedbackTypes];
    for (int k = 0; k < kFeedbackTypes; ++k) s += e[k] = std::exp(z[k] - m);
    for (int k = 0; k < kFeedbackTypes; ++k) p[k] = float(e[k] / s);
}

inline int sample_from(const float* p, int n, Rng& rng) {
    float u = rng.uniform(), acc = 0.0f;
    for (int k = 0; k < n - 1; ++k)
        if (u < (acc += p[k])) return k;
    return n - 1;
}

// One user's session under the logging recommender: with probability `follow`, an item from the
// cluster of a clicked or bought item among the last N; otherwise a uniformly random item.
inline Session simulate_session(const WorldOptions& o, const std::vector<std::vector<int>>& members,
                                const std::vector<int>& cluster, const std::vector<float>& q,
                                const std::vector<std::vector<float>>& centres, Rng& rng) {
    const int D = o.dim;
    std::vector<float> u(size_t(D), 0.0f);
    const int a = rng.randint(o.clusters);
    int b = rng.randint(o.clusters - 1);
    if (b >= a) ++b;
    double n2 = 0.0;
    for (int d = 0; d < D; ++d) u[size_t(d)] = centres[size_t(a)][size_t(d)] + centres[size_t(b)][size_t(d)];
    for (float x : u) n2 += double(x) * x;
    for (float& x : u) x = float(x / std::sqrt(n2));

    Session s;
    const int T = o.history + o.steps;
    s.true_probs.resize(size_t(T) * kFeedbackTypes);
    for (int t = 0; t < T; ++t) {
        std::vector<int> liked;
        for (int j = std::max(0, t - o.history); j < t; ++j)
            if (s.feedback[size_t(j)] > 0) liked.push_back(cluster[size_t(s.items[size_t(j)])]);
        int item;
        if (!liked.empty() && rng.bernoulli(o.follow)) {
            const std::vector<int>& m = members[size_t(liked[size_t(rng.randint(int(liked.size())))])];
            item = m[size_t(rng.randint(int(m.size())))];
        } else {
            item = rng.randint(o.num_items);
        }
        float r = 0.0f;
        for (int d = 0; d < D; ++d) r += u[size_t(d)] * q[size_t(item) * size_t(D) + size_t(d)];
        float* p = &s.true_probs[size_t(t) * kFeedbackTypes];
        true_feedback_probs(r, p);
        s.items.push_back(item);
        s.feedback.push_back(sample_from(p, kFeedbackTypes, rng));
    }
    return s;
}

inline World make_world(const WorldOptions& o, uint64_t seed) {
    if (o.clusters < 2 || o.num_items < o.clusters || o.history < 1 || o.steps < 1 || o.dim < 1)
        throw ArgumentError("ch54 world: need clusters >= 2, num_items >= clusters, history, steps, dim >= 1");
    Rng rng(seed, 54);
    World w;
    w.o = o;
    const int D = o.dim;
    std::vector<std::vector<float>> centres;
    for (int k = 0; k < o.clusters; ++k) centres.push_back(unit_vector(D, rng));
    std::vector<std::vector<int>> members(size_t(o.clusters));
    std::vector<float> q(size_t(o.num_items) * size_t(D));
    w.embedding.resize(q.size());
    for (int i = 0; i < o.num_items; ++i) {
        const int k = i % o.clusters;
        w.cluster.push_back(k);
        members[size_t(k)].push_back(i);
        for (int d = 0; d < D; ++d) {
            const size_t at = size_t(i) * size_t(D) + size_t(d);
            q[at] = centres[size_t(k)][size_t(d)] + o.item_noise * rng.normal() / std::sqrt(float(D));
            w.embedding[at] = std::tanh(q[at] + o.embed_noise * rng.normal() / std::sqrt(float(D)));
        }
    }
    for (int n = 0; n < o.train_users; ++n) w.train.push_back(simulate_session(o, members, w.cluster, q, centres, rng));
    for (int n = 0; n < o.valid_users; ++n) w.valid.push_back(simulate_session(o, members, w.cluster, q, centres, rng));
    for (int n = 0; n < o.test_users; ++n) w.test.push_back(simulate_session(o, members, w.cluster, q, centres, rng));
    return w;
}

// ---- Examples and batches ---------------------------------------------------------------------
struct Example {
    int session = 0, t = 0;  // the state is items [t - N, t) of that session; the target is item t
};

inline std::vector<Example> examples_of(const std::vector<Session>& sessions, int history) {
    std::vector<Example> out;
    for (int s = 0; s < int(sessions.size()); ++s)
        for (int t = history; t < int(sessions[size_t(s)].items.size()); ++t) out.push_back({s, t});
    return out;
}

inline SimBatch make_batch(const World& w, const std::vector<Session>& sessions, const std::vector<Example>& ex,
                           const std::vector<int>& rows) {
    const int B = int(rows.size()), N = w.o.history, D = w.o.dim, K = kFeedbackTypes;
    SimBatch b;
    b.size = B;
    b.state_items = Tensor::zeros({B, N, D});
    b.state_feedback = Tensor::zeros({B, N, K});
    b.next_item = Tensor::zeros({B, D});
    for (int r = 0; r < B; ++r) {
        const Example& e = ex[size_t(rows[size_t(r)])];
        const Session& s = sessions[size_t(e.session)];
        for (int n = 0; n < N; ++n) {
            const int step = e.t - N + n, item = s.items[size_t(step)];
            for (int d = 0; d < D; ++d)
                b.state_items.data()[(size_t(r) * N + n) * D + d] = w.embedding[size_t(item) * D + d];
            b.state_feedback.data()[(size_t(r) * N + n) * K + s.feedback[size_t(step)]] = 1.0f;
        }
        for (int d = 0; d < D; ++d)
            b.next_item.data()[size_t(r) * D + d] = w.embedding[size_t(s.items[size_t(e.t)]) * D + d];
        b.feedback.push_back(s.feedback[size_t(e.t)]);
    }
    return b;
}

// ---- Scoring a simulator ----------------------------------------------------------------------
struct Scores {
    double accuracy = 0.0;  // argmax feedback == logged feedback
    double logloss = 0.0;   // -mean log p(logged feedback)
};

// probs (n, K) against the logged feedback.
inline Scores score(const std::vector<float>& probs, const std::vector<int>& feedback) {
    Scores s;
    const int K = kFeedbackTypes;
    for (size_t i = 0; i < feedback.size(); ++i) {
        const float* p = &probs[i * K];
        s.accuracy += int(std::max_element(p, p + K) - p) == feedback[i];
        s.logloss -= std::log(std::max(1e-7f, p[feedback[i]]));
    }
    s.accuracy /= double(feedback.size());
    s.logloss /= double(feedback.size());
    return s;
}

enum ModelKind { kSupervised, kUserSim, kNoAugment, kNumModels };
inline const char* const kModelNames[kNumModels] = {"supervised (K outputs)", "UserSim (GAN, 2K outputs)",
                                                     "UserSim without L_D^2's fake term"};

struct Options {
    WorldOptions world;
    UserSimOptions model;
    int epochs = 30;
    int batch = 64;
    double lr = 5e-3;
    uint64_t seed = 1;
    bool progress = false;
};

struct RunReport {
    Scores test[kNumModels];
    int best_epoch[kNumModels] = {};
    Scores oracle, prior;              // the true distributions; the training frequencies of each feedback
    double gen_distance = 0.0;         // UserSim's generator: mean ||G(s) - e_a||^2 on the test states
    double mean_distance = 0.0;        // the same for the constant mean embedding
    double gen_hit10 = 0.0;            // P(the real next item is among the 10 items nearest G(s))
    std::vector<double> valid_curve[kNumModels];  // validation logloss per epoch
};

// Predicted feedback distributions of `d` over all examples of `sessions`.
inline std::vector<float> predict(Discriminator& d, const World& w, const std::vector<Session>& sessions,
                                  const std::vector<Example>& ex) {
    std::vector<float> out;
    for (int start = 0; start < int(ex.size()); start += 512) {
        std::vector<int> rows;
        for (int i = start; i < std::min<int>(int(ex.size()), start + 512); ++i) rows.push_back(i);
        const Tensor p = feedback_probs(d, make_batch(w, sessions, ex, rows), kFeedbackTypes);
        out.insert(out.end(), p.data(), p.data() + p.size());
    }
    return out;
}

inline std::vector<int> logged_feedback(const std::vector<Session>& sessions, const std::vector<Example>& ex) {
    std::vector<int> f;
    for (const Example& e : ex) f.push_back(sessions[size_t(e.session)].feedback[size_t(e.t)]);
    return f;
}

// Trains one simulator, keeping the test scores of the epoch with the best validation logloss.
// Supervised: D with K outputs and cross-entropy on the real logs. UserSim: D with 2K outputs and G,
// each with its own Adam, alternating one D step and one G step per batch (the paper's L_D and L_G).
inline void score_generator(Generator& g, const World& w, RunReport& rep);

inline std::vector<Tensor> values_of(const std::vector<Var>& params) {
    std::vector<Tensor> v;
    for (const Var& p : params) v.push_back(p.value());
    return v;
}
inline void restore(std::vector<Var> params, const std::vector<Tensor>& values) {  // handles share the nodes
    for (size_t i = 0; i < params.size(); ++i) params[i].value_mut() = values[i];
}

inline void train_model(ModelKind kind, const World& w, const Options& o, Rng& rng, RunReport& rep) {
    const int K = kFeedbackTypes;
    const bool gan = kind != kSupervised;
    Discriminator d(o.model, gan ? 2 * K : K, rng);
    Generator g(o.model, rng);
    AdamOptions ao;
    ao.lr = o.lr;
    Adam opt_d(d.parameters(), ao), opt_g(g.parameters(), ao);

    const std::vector<Example> train = examples_of(w.train, w.o.history), valid = examples_of(w.valid, w.o.history),
                               test = examples_of(w.test, w.o.history);
    const std::vector<int> valid_f = logged_feedback(w.valid, valid), test_f = logged_feedback(w.test, test);
    double best = 1e30;
    std::vector<Tensor> best_d, best_g;
    const int steps_per_epoch = (int(train.size()) + o.batch - 1) / o.batch;
    Progress progress(o.epochs, steps_per_epoch, o.progress ? Progress::Mode::automatic : Progress::Mode::quiet);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& rows : make_batches(int(train.size()), o.batch, rng)) {
            const SimBatch b = make_batch(w, w.train, train, rows);
            double shown;
            if (!gan) {  // plain cross-entropy on the logged feedback
                opt_d.zero_grad();
                Var loss = softmax_cross_entropy(d.logits(b, constant(b.next_item)), b.feedback);
                backward(loss);
                opt_d.step();
                shown = loss.value().item();
            } else {
                Var generated = g(b);  // G(s) (B, D)
                opt_d.zero_grad();     // D's step: L_D with G(s) held fixed
                Var ld = discriminator_loss(d, b, detach(generated), K, /*augment=*/kind == kUserSim);
                backward(ld);
                opt_d.step();
                opt_g.zero_grad();     // G's step: L_G through the updated D (D's gradients are discarded)
                Var lg = generator_loss(d, b, generated, K, o.model.alpha);
                backward(lg);
                opt_g.step();
                shown = ld.value().item();
            }
            check_finite(shown, step++, "ch54 loss");
            progress.step(shown, b.size);
        }
        progress.end_epoch();
        const Scores v = score(predict(d, w, w.valid, valid), valid_f);
        rep.valid_curve[kind].push_back(v.logloss);
        if (v.logloss < best) {  // remember this epoch's parameters (deep copies of the values)
            best = v.logloss;
            rep.best_epoch[kind] = epoch + 1;
            best_d = values_of(d.parameters());
            best_g = values_of(g.parameters());
        }
    }
    restore(d.parameters(), best_d);
    restore(g.parameters(), best_g);
    rep.test[kind] = score(predict(d, w, w.test, test), test_f);
    if (kind == kUserSim) score_generator(g, w, rep);
}

// How well the generator imitates the logging recommender: distance of G(s) to the real next item's
// embedding, and whether that item is among the 10 items nearest to G(s).
inline void score_generator(Generator& g, const World& w, RunReport& rep) {
    const std::vector<Example> test = examples_of(w.test, w.o.history);
    const int D = w.o.dim, I = w.o.num_items;
    std::vector<double> mean(size_t(D), 0.0);
    for (int i = 0; i < I; ++i)
        for (int d = 0; d < D; ++d) mean[size_t(d)] += w.embedding[size_t(i) * D + d] / I;
    double dist = 0.0, dist_mean = 0.0, hits = 0.0;
    NoGrad no_grad;
    for (int start = 0; start < int(test.size()); start += 512) {
        std::vector<int> rows;
        for (int i = start; i < std::min<int>(int(test.size()), start + 512); ++i) rows.push_back(i);
        const SimBatch b = make_batch(w, w.test, test, rows);
        const Tensor gen = g(b).value();
        for (int r = 0; r < b.size; ++r) {
            const float* x = gen.data() + size_t(r) * D;
            const int truth = w.test[size_t(test[size_t(rows[size_t(r)])].session)].items[size_t(test[size_t(rows[size_t(r)])].t)];
            std::vector<std::pair<float, int>> near;
            for (int i = 0; i < I; ++i) {
                float s = 0.0f;
                for (int d = 0; d < D; ++d) s += (x[d] - w.embedding[size_t(i) * D + d]) * (x[d] - w.embedding[size_t(i) * D + d]);
                near.push_back({s, i});
            }
            std::partial_sort(near.begin(), near.begin() + 10, near.end());
            for (int k = 0; k < 10; ++k) hits += near[size_t(k)].second == truth;
            for (int d = 0; d < D; ++d) {
                const double t = w.embedding[size_t(truth) * D + d];
                dist += (x[d] - t) * (x[d] - t);
                dist_mean += (mean[size_t(d)] - t) * (mean[size_t(d)] - t);
            }
        }
    }
    rep.gen_distance = dist / double(test.size());
    rep.mean_distance = dist_mean / double(test.size());
    rep.gen_hit10 = hits / double(test.size());
}

// One world, three simulators, the oracle and the class-prior reference.
inline RunReport run_once(const Options& o) {
    const World w = make_world(o.world, o.seed);
    RunReport rep;
    const std::vector<Example> test = examples_of(w.test, w.o.history);
    const std::vector<int> test_f = logged_feedback(w.test, test);
    std::vector<float> oracle, prior;
    int counts[kFeedbackTypes] = {};
    for (const Example& e : examples_of(w.train, w.o.history)) ++counts[w.train[size_t(e.session)].feedback[size_t(e.t)]];
    const double total = counts[0] + counts[1] + counts[2];
    for (const Example& e : test) {
        const float* p = &w.test[size_t(e.session)].true_probs[size_t(e.t) * kFeedbackTypes];
        oracle.insert(oracle.end(), p, p + kFeedbackTypes);
        for (int k = 0; k < kFeedbackTypes; ++k)  // the training frequencies (add-one), whatever the state
            prior.push_back(float((counts[k] + 1) / (total + kFeedbackTypes)));
    }
    rep.oracle = score(oracle, test_f);
    rep.prior = score(prior, test_f);
    Rng rng(o.seed, 5401);
    for (int m = 0; m < kNumModels; ++m) train_model(ModelKind(m), w, o, rng, rep);
    return rep;
}

}  // namespace ch54
}  // namespace minirec
