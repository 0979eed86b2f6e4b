// Chapter 54's experiment: a simulated shop whose users have hidden tastes, a logging recommender,
// and browsing logs of (last N items and feedbacks) -> (next item, feedback). From a few logged
// sessions we learn a user simulator that predicts the feedback to an item in a state, three ways:
// the supervised K-way classifier, UserSim (GAN, 2K outputs, generated items labelled with the real
// feedback), and UserSim without that augmentation term; and we score them on held-out users
// against the oracle that knows the tastes. Deliberately left out: training an RL agent on the result.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "models/ch54_usersim.h"
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

constexpr int kFeedbackTypes = 3;  // K: skip, click, buy

struct Session {  // one user's browsing under the logging recommender
    std::vector<int> items, feedback;  // history + steps items in order, and the feedback to each, in [0, K)
    std::vector<float> true_probs;     // (history + steps, K): the true feedback distributions
};

struct World {
    WorldOptions o;
    std::vector<int> cluster;      // (num_items)
    std::vector<float> embedding;  // (num_items, D): e_i, what models see
    std::vector<Session> train, valid, test;
};

// v / |v|, the norm accumulated in double.
inline std::vector<float> normalised(std::vector<float> v) {
    double n2 = 0.0;
    for (float x : v) n2 += double(x) * x;
    for (float& x : v) x = float(x / std::sqrt(n2));
    return v;
}

// The feedback distribution for utility r: softmax(0, 4r - 1.5, 6r - 3.5).
inline void true_feedback_probs(float r, float* p) {
    const double z[kFeedbackTypes] = {0.0, 4.0 * r - 1.5, 6.0 * r - 3.5}, m = std::max({z[0], z[1], z[2]});
    double e[kFeedbackTypes], s = 0.0;
    for (int k = 0; k < kFeedbackTypes; ++k) s += e[k] = std::exp(z[k] - m);
    for (int k = 0; k < kFeedbackTypes; ++k) p[k] = float(e[k] / s);
}

inline World make_world(const WorldOptions& o, uint64_t seed) {
    if (o.clusters < 2 || o.num_items < o.clusters || o.history < 1 || o.steps < 1 || o.dim < 1)
        throw ArgumentError("ch54 world: need clusters >= 2, num_items >= clusters, history, steps, dim >= 1");
    Rng rng(seed, 54);
    const int D = o.dim, K = kFeedbackTypes;
    const float sd = std::sqrt(float(D));
    World w{o, {}, std::vector<float>(size_t(o.num_items) * D), {}, {}, {}};
    std::vector<std::vector<float>> centres(size_t(o.clusters), std::vector<float>(size_t(D)));
    for (std::vector<float>& c : centres) c = normalised(Tensor::normal({D}, rng).vec());
    std::vector<std::vector<int>> members(size_t(o.clusters));
    std::vector<float> q(w.embedding.size());  // (num_items, D): the true item vectors
    for (int i = 0; i < o.num_items; ++i) {
        w.cluster.push_back(i % o.clusters);
        members[size_t(i % o.clusters)].push_back(i);
        for (size_t at = size_t(i) * D; at < size_t(i + 1) * D; ++at) {
            q[at] = centres[size_t(i % o.clusters)][at % D] + o.item_noise * rng.normal() / sd;
            w.embedding[at] = std::tanh(q[at] + o.embed_noise * rng.normal() / sd);
        }
    }
    // One user: a taste from two distinct clusters, then the logging recommender's choices. With
    // probability `follow` it shows an item from the cluster of a clicked or bought item among the
    // last N, otherwise a uniformly random item.
    auto session = [&] {
        const int a = rng.randint(o.clusters);
        int b = rng.randint(o.clusters - 1);
        if (b >= a) ++b;
        std::vector<float> u = centres[size_t(a)];
        for (int d = 0; d < D; ++d) u[size_t(d)] += centres[size_t(b)][size_t(d)];
        u = normalised(u);
        Session s;
        const int T = o.history + o.steps;
        s.true_probs.resize(size_t(T) * K);
        for (int t = 0; t < T; ++t) {
            std::vector<int> liked;  // clusters of the clicked or bought items of the state
            for (int j = std::max(0, t - o.history); j < t; ++j)
                if (s.feedback[size_t(j)] > 0) liked.push_back(w.cluster[size_t(s.items[size_t(j)])]);
            int item;
            if (!liked.empty() && rng.bernoulli(o.follow)) {
                const std::vector<int>& m = members[size_t(liked[size_t(rng.randint(int(liked.size())))])];
                item = m[size_t(rng.randint(int(m.size())))];
            } else {
                item = rng.randint(o.num_items);
            }
            float r = 0.0f;  // the utility <u, q_item>
            for (int d = 0; d < D; ++d) r += u[size_t(d)] * q[size_t(item) * D + size_t(d)];
            float* p = &s.true_probs[size_t(t) * K];
            true_feedback_probs(r, p);
            s.items.push_back(item);
            const float x = rng.uniform();  // the feedback, drawn from p
            int f = 0;
            for (float below = p[0]; f < K - 1 && x >= below; below += p[++f]) {}
            s.feedback.push_back(f);
        }
        return s;
    };
    for (int n = 0; n < o.train_users; ++n) w.train.push_back(session());
    for (int n = 0; n < o.valid_users; ++n) w.valid.push_back(session());
    for (int n = 0; n < o.test_users; ++n) w.test.push_back(session());
    return w;
}

// ---- The logs as tensors: every example of a set of sessions, embedded once -------------------
// Example (s, t) has the state items [t - N, t) of session s, and item t as its target.
struct Logs {
    SimBatch all;                   // (n, N, D), (n, N, K), (n, D), (n)
    std::vector<int> next;          // (n) the next item's id
    std::vector<float> true_probs;  // (n, K) the oracle's feedback distribution
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
            l.next.push_back(s.items[size_t(t)]);
            l.true_probs.insert(l.true_probs.end(), &s.true_probs[size_t(t) * K], &s.true_probs[size_t(t + 1) * K]);
        }
    return l;
}

// A mini-batch: the given rows of every tensor.
inline SimBatch rows_of(const SimBatch& all, const std::vector<int>& rows) {
    auto pick = [&](const Tensor& t) {  // (n, ...) -> (B, ...)
        Shape shape = t.shape();
        const size_t row = t.size() / size_t(shape[0]);
        shape[0] = int(rows.size());
        Tensor picked = Tensor::uninitialized(shape);
        for (size_t r = 0; r < rows.size(); ++r) std::copy_n(t.data() + size_t(rows[r]) * row, row, picked.data() + r * row);
        return picked;
    };
    SimBatch b{int(rows.size()), pick(all.state_items), pick(all.state_feedback), pick(all.next_item), {}};
    for (int r : rows) b.feedback.push_back(all.feedback[size_t(r)]);
    return b;
}

// ---- Scoring a simulator ----------------------------------------------------------------------
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

// The scores of the simulator's feedback distributions (n, K) on a set of logs.
inline Scores evaluate(Discriminator& d, const Logs& l) {
    return score(feedback_probs(d, l.all, kFeedbackTypes).vec(), l.all.feedback);
}

// How well the generator imitates the logging recommender: distance of G(s) to the real next item's
// embedding (and of the mean embedding, for scale), and whether that item is among the 10 items
// nearest to G(s), i.e. fewer than 10 items are nearer.
inline void score_generator(Generator& g, const World& w, const Logs& test, RunReport& rep) {
    const int D = w.o.dim, I = w.o.num_items, n = test.all.size;
    auto distance = [&](const float* x, int item) {  // squared
        float s = 0.0f;
        for (int d = 0; d < D; ++d) s += (x[d] - w.embedding[size_t(item) * D + d]) * (x[d] - w.embedding[size_t(item) * D + d]);
        return s;
    };
    std::vector<float> mean(size_t(D), 0.0f);
    for (size_t at = 0; at < w.embedding.size(); ++at) mean[at % D] += w.embedding[at] / float(I);
    NoGrad no_grad;
    const Tensor gen = g(test.all).value();  // (n, D)
    double dist = 0.0, dist_mean = 0.0, hits = 0.0;
    for (int r = 0; r < n; ++r) {
        const float* x = gen.data() + size_t(r) * D;
        const int truth = test.next[size_t(r)];
        const float to_truth = distance(x, truth);
        int nearer = 0;
        for (int i = 0; i < I; ++i) nearer += distance(x, i) < to_truth;
        hits += nearer < 10;
        dist += to_truth;
        dist_mean += distance(mean.data(), truth);
    }
    rep.gen_distance = dist / n;
    rep.mean_distance = dist_mean / n;
    rep.gen_hit10 = hits / n;
}

// Trains one simulator, keeping the test scores of the epoch with the best validation logloss.
// Supervised: D with K outputs and cross-entropy on the real logs. UserSim: D with 2K outputs and G,
// each with its own Adam, alternating one D step and one G step per batch (the paper's L_D and L_G).
inline void train_model(ModelKind kind, const World& w, const Logs& train, const Logs& valid, const Logs& test,
                        const Options& o, Rng& rng, RunReport& rep) {
    const int K = kFeedbackTypes;
    const bool gan = kind != kSupervised;
    Discriminator d(o.model, gan ? 2 * K : K, rng);
    Generator g(o.model, rng);  // the supervised simulator leaves it untrained
    Adam opt_d(d.parameters(), AdamOptions{o.lr}), opt_g(g.parameters(), AdamOptions{o.lr});
    std::vector<Var> params = d.parameters();  // D's then G's: the best epoch's values are kept
    for (const Var& p : g.parameters()) params.push_back(p);
    std::vector<Tensor> kept;
    double best = 1e30;
    Progress progress(o.epochs, (train.all.size + o.batch - 1) / o.batch,
                      o.progress ? Progress::Mode::automatic : Progress::Mode::quiet);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        progress.start_epoch(epoch);
        for (const std::vector<int>& rows : make_batches(train.all.size, o.batch, rng)) {
            const SimBatch b = rows_of(train.all, rows);
            const Var generated = gan ? g(b) : Var();  // G(s) (B, D)
            opt_d.zero_grad();  // D's step: L_D with G(s) held fixed, or cross-entropy on the logged feedback
            const Var ld = gan ? discriminator_loss(d, b, detach(generated), K, /*augment=*/kind == kUserSim)
                               : softmax_cross_entropy(d.logits(b, constant(b.next_item)), b.feedback);
            backward(ld);
            opt_d.step();
            if (gan) {  // G's step: L_G through the updated D (D's gradients are discarded)
                opt_g.zero_grad();
                backward(generator_loss(d, b, generated, K, o.model.alpha));
                opt_g.step();
            }
            check_finite(ld.item(), step++, "ch54 loss");
            progress.step(ld.item(), b.size);
        }
        progress.end_epoch();
        const Scores v = evaluate(d, valid);
        rep.valid_curve[kind].push_back(v.logloss);
        if (v.logloss < best) {
            best = v.logloss;
            rep.best_epoch[kind] = epoch + 1;
            kept.clear();
            for (const Var& p : params) kept.push_back(p.value());  // deep copies
        }
    }
    for (size_t i = 0; i < params.size(); ++i) params[i].value_mut() = kept[i];  // the handles share the nodes
    rep.test[kind] = evaluate(d, test);
    if (kind == kUserSim) score_generator(g, w, test, rep);
}

// One world, three simulators, the oracle and the class-prior reference.
inline RunReport run_once(const Options& o) {
    const World w = make_world(o.world, o.seed);
    const Logs train = logs_of(w, w.train), valid = logs_of(w, w.valid), test = logs_of(w, w.test);
    double counts[kFeedbackTypes] = {};
    for (int f : train.all.feedback) ++counts[f];
    std::vector<float> prior;  // the training frequencies (add-one), whatever the state
    for (int r = 0; r < test.all.size; ++r)
        for (int k = 0; k < kFeedbackTypes; ++k) prior.push_back(float((counts[k] + 1) / (train.all.size + kFeedbackTypes)));
    RunReport rep;
    rep.oracle = score(test.true_probs, test.all.feedback);
    rep.prior = score(prior, test.all.feedback);
    Rng rng(o.seed, 5401);
    for (int m = 0; m < kNumModels; ++m) train_model(ModelKind(m), w, train, valid, test, o, rng, rep);
    return rep;
}

}  // namespace ch54
}  // namespace minirec
