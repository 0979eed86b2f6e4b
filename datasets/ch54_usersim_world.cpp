// Chapter 54's world (datasets/ch54_usersim_world.h): items in clusters, users with tastes, and the
// logging recommender's sessions.
#include "datasets/ch54_usersim_world.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace minirec {
namespace ch54 {

std::vector<float> normalised(std::vector<float> v) {
    double n2 = 0.0;
    for (float x : v) n2 += double(x) * x;
    for (float& x : v) x = float(x / std::sqrt(n2));
    return v;
}

void true_feedback_probs(float r, float* p) {
    const double z[kFeedbackTypes] = {0.0, 4.0 * r - 1.5, 6.0 * r - 3.5}, m = std::max({z[0], z[1], z[2]});
    double e[kFeedbackTypes], s = 0.0;
    for (int k = 0; k < kFeedbackTypes; ++k) s += e[k] = std::exp(z[k] - m);
    for (int k = 0; k < kFeedbackTypes; ++k) p[k] = float(e[k] / s);
}

void true_feedback_probs(const World& w, const float* taste, int item, float* p) {
    float r = 0.0f;
    for (int d = 0; d < w.o.dim; ++d) r += taste[d] * w.q[size_t(item) * size_t(w.o.dim) + size_t(d)];
    true_feedback_probs(r, p);
}

World make_world(const WorldOptions& o, uint64_t seed) {
    if (o.clusters < 2 || o.num_items < o.clusters || o.history < 1 || o.steps < 1 || o.dim < 1)
        throw ArgumentError("ch54 world: need clusters >= 2, num_items >= clusters, history, steps, dim >= 1");
    Rng rng(seed, 54);
    const int D = o.dim, K = kFeedbackTypes;
    const float sd = std::sqrt(float(D));
    World w{o, {}, std::vector<float>(size_t(o.num_items) * D), std::vector<float>(size_t(o.num_items) * D), {}, {}, {}};
    std::vector<std::vector<float>> centres(size_t(o.clusters), std::vector<float>(size_t(D)));
    for (std::vector<float>& c : centres) c = normalised(Tensor::normal({D}, rng).vec());
    std::vector<std::vector<int>> members(size_t(o.clusters));
    std::vector<float>& q = w.q;
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
        s.taste = u;
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

Examples examples(const World& w, const std::vector<Session>& sessions) {
    const int N = w.o.history, D = w.o.dim, K = kFeedbackTypes, n = int(sessions.size()) * w.o.steps;
    Examples l{n, Tensor::zeros({n, N, D}), Tensor::zeros({n, N, K}), Tensor::zeros({n, D}), {}, {}, {}};
    auto embed = [&](int item, float* to) { std::copy_n(&w.embedding[size_t(item) * D], D, to); };
    size_t r = 0;
    for (const Session& s : sessions)
        for (int t = N; t < N + w.o.steps; ++t, ++r) {
            for (int j = 0, step = t - N; j < N; ++j, ++step) {
                embed(s.items[size_t(step)], l.state_items.data() + (r * N + j) * D);
                l.state_feedback.data()[(r * N + j) * K + s.feedback[size_t(step)]] = 1.0f;
            }
            embed(s.items[size_t(t)], l.next_item.data() + r * D);
            l.feedback.push_back(s.feedback[size_t(t)]);
            l.true_probs.insert(l.true_probs.end(), &s.true_probs[size_t(t) * K], &s.true_probs[size_t(t + 1) * K]);
            l.taste.insert(l.taste.end(), s.taste.begin(), s.taste.end());
        }
    return l;
}

std::vector<int> random_candidates(const World& w, int n, int C, Rng& rng) {
    std::vector<int> cand(size_t(n * C));
    for (int& i : cand) i = rng.randint(w.o.num_items);
    return cand;
}

Tensor candidate_embeddings(const World& w, const std::vector<int>& cand, int C) {
    const int D = w.o.dim, n = int(cand.size()) / C;
    Tensor e({n, C, D});
    for (size_t r = 0; r < size_t(n); ++r)
        for (int c = 0; c < C; ++c)
            std::copy_n(&w.embedding[size_t(cand[r * C + size_t(c)]) * D], D, e.data() + (r * C + c) * D);
    return e;
}

TrueReward true_reward(const World& w, const std::vector<float>& taste, const std::vector<int>& cand, const float* scores, int n,
                       int C) {
    TrueReward t;
    for (size_t r = 0; r < size_t(n); ++r) {
        const int a = int(std::max_element(scores + r * C, scores + (r + 1) * C) - (scores + r * C));
        double best = 0.0;
        for (int c = 0; c < C; ++c) {
            float p[kFeedbackTypes];
            true_feedback_probs(w, &taste[r * size_t(w.o.dim)], cand[r * C + size_t(c)], p);
            const double v = expected_reward(p);
            best = std::max(best, v), t.random += v / C / double(n);
            if (c == a) t.policy += v / double(n);
        }
        t.best += best / double(n);
    }
    return t;
}

}  // namespace ch54
}  // namespace minirec
