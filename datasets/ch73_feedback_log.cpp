#include "datasets/ch73_feedback_log.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace ch73 {

// `lists` ranked lists from the legacy ranker, appended to out.
static void draw_lists(const WorldOptions& o, const World& w, int lists, Rng& rng, std::vector<Event>& out) {
    std::vector<int> shown(size_t(o.slots));
    std::vector<double> score(size_t(o.items));
    for (int l = 0; l < lists; ++l) {
        for (int s = 0; s < o.slots; ++s) {
            shown[size_t(s)] = rng.randint(o.items);
            const int i = shown[size_t(s)];
            score[size_t(i)] = o.ranker_weight * w.truth[size_t(i)] + w.legacy[size_t(i)] + rng.normal() * o.ranker_noise;
        }
        std::sort(shown.begin(), shown.end(), [&](int a, int c) { return score[size_t(a)] > score[size_t(c)]; });
        for (int s = 0; s < o.slots; ++s) {
            const int i = shown[size_t(s)];
            const double p = 1.0 / (1.0 + std::exp(-w.truth[size_t(i)])) / double(s + 1);
            out.push_back({i, s, rng.bernoulli(float(p)) ? 1.0f : 0.0f});
        }
    }
}

World make_world(const WorldOptions& o, uint64_t seed) {
    Rng rng(seed);
    World w;
    w.items = o.items, w.slots = o.slots, w.features = o.content + 1;
    for (int i = 0; i < o.items; ++i) w.truth.push_back(o.quality_mean + rng.normal());
    for (int i = 0; i < o.items; ++i) w.legacy.push_back(rng.normal() * o.legacy_std);
    std::vector<Event> history;
    draw_lists(o, w, o.history_lists, rng, history);
    std::vector<double> clicks(size_t(o.items), 0.0), views(size_t(o.items), 0.0);
    for (const Event& e : history) clicks[size_t(e.item)] += e.click, views[size_t(e.item)] += 1.0;
    w.x = Tensor({o.items, w.features});
    for (int i = 0; i < o.items; ++i) {
        for (int c = 0; c < o.content; ++c) w.x[size_t(i) * w.features + c] = float(w.truth[size_t(i)] + rng.normal() * o.content_noise);
        const double ctr = (clicks[size_t(i)] + o.prior_clicks) / (views[size_t(i)] + o.prior_views);
        w.x[size_t(i) * w.features + o.content] = float(std::log(ctr / (1.0 - ctr)));
    }
    for (int f = 0; f < w.features; ++f) {                 // standardise each feature column
        double m = 0.0, v = 0.0;
        for (int i = 0; i < o.items; ++i) m += w.x[size_t(i) * w.features + f] / double(o.items);
        for (int i = 0; i < o.items; ++i) v += std::pow(w.x[size_t(i) * w.features + f] - m, 2) / double(o.items);
        for (int i = 0; i < o.items; ++i)
            w.x[size_t(i) * w.features + f] = float((w.x[size_t(i) * w.features + f] - m) / std::sqrt(v));
    }
    draw_lists(o, w, o.train_lists, rng, w.train);
    draw_lists(o, w, o.test_lists, rng, w.test);
    std::vector<double> c(size_t(o.slots), 0.0), n(size_t(o.slots), 0.0);
    for (const Event& e : w.train) c[size_t(e.slot)] += e.click, n[size_t(e.slot)] += 1.0;
    for (int s = 0; s < o.slots; ++s) w.slot_ctr.push_back(c[size_t(s)] / n[size_t(s)]);
    double m = 0.0, v = 0.0;                                // b standardised over training events
    for (const Event& e : w.train) m += w.slot_ctr[size_t(e.slot)] / double(w.train.size());
    for (const Event& e : w.train) v += std::pow(w.slot_ctr[size_t(e.slot)] - m, 2) / double(w.train.size());
    w.b_mean = m, w.b_std = std::sqrt(v);
    return w;
}

Tensor without_history(Tensor x) {
    for (int i = 0; i < x.dim(0); ++i) x[size_t(i) * size_t(x.dim(1)) + size_t(x.dim(1) - 1)] = 0.0f;
    return x;
}

Batch gather(const World& w, const std::vector<Event>& events, const std::vector<int>& rows) {
    const int n = int(rows.size()), F = w.features;
    Batch out{Tensor({n, F}), Tensor({n, 1}), Tensor({n, 1})};
    for (int j = 0; j < n; ++j) {
        const Event& e = events[size_t(rows[size_t(j)])];
        std::copy(w.x.data() + size_t(e.item) * F, w.x.data() + size_t(e.item + 1) * F, out.x.data() + size_t(j) * F);
        out.b[size_t(j)] = float(w.bias(e.slot));
        out.click[size_t(j)] = e.click;
    }
    return out;
}

Batch gather(const World& w, const std::vector<Event>& events) {
    std::vector<int> rows(events.size());
    std::iota(rows.begin(), rows.end(), 0);
    return gather(w, events, rows);
}

double pearson(const std::vector<float>& a, const std::vector<double>& b) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    const double n = double(a.size());
    for (size_t k = 0; k < a.size(); ++k) ma += a[k] / n, mb += b[k] / n;
    for (size_t k = 0; k < a.size(); ++k)
        sab += (a[k] - ma) * (b[k] - mb), saa += (a[k] - ma) * (a[k] - ma), sbb += (b[k] - mb) * (b[k] - mb);
    return sab / std::sqrt(saa * sbb);
}

double top_relevance(const std::vector<float>& score, const std::vector<double>& truth, int count) {
    std::vector<int> order(score.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int c) { return score[size_t(a)] > score[size_t(c)]; });
    double s = 0.0;
    for (int k = 0; k < count; ++k) s += datasets::sigmoid(truth[size_t(order[size_t(k)])]) / count;
    return s;
}

References references(const World& w, int count) {
    References r;
    const int content = w.features - 1;                  // every feature but the last, the historical CTR
    std::vector<float> truth(w.truth.begin(), w.truth.end()), summed(size_t(w.items), 0.0f);
    for (int i = 0; i < w.items; ++i)
        for (int c = 0; c < content; ++c) summed[size_t(i)] += w.x[size_t(i) * w.features + c];
    r.oracle_top_rel = top_relevance(truth, w.truth, count);
    for (double t : w.truth) r.random_top_rel += datasets::sigmoid(t) / w.items;
    r.features_truth_corr = pearson(summed, w.truth);
    return r;
}

}  // namespace ch73
}  // namespace minirec
