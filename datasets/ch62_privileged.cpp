#include "datasets/ch62_privileged.h"

#include <cmath>
#include <stdexcept>

#include "core/rng.h"

namespace minirec {
namespace datasets {

PrivilegedWorld privileged_events(const PrivilegedOptions& o, uint64_t seed) {
    if (o.users < 2 || o.items < 2 || o.latent_dim < 1 || o.train_events < 1 || o.test_events < 1 ||
        !(o.intent_std >= 0) || !(o.reading_noise >= 0))
        throw std::invalid_argument("privileged_events: need >= 2 users and items, latent_dim >= 1, events >= 1, "
                                    "intent_std >= 0 and reading_noise >= 0");
    Rng rng(seed);
    PrivilegedWorld w;
    w.users = o.users, w.items = o.items;
    const double scale = o.affinity_std / std::sqrt(double(o.latent_dim));   // <p, v> has std affinity_std
    std::vector<double> p(size_t(o.users) * o.latent_dim), v(size_t(o.items) * o.latent_dim), q(size_t(o.items));
    for (double& x : p) x = rng.normal() * std::sqrt(scale);
    for (double& x : v) x = rng.normal() * std::sqrt(scale);
    for (double& x : q) x = rng.normal() * o.quality_std;
    w.truth.resize(size_t(o.users) * o.items);
    for (int u = 0; u < o.users; ++u)
        for (int i = 0; i < o.items; ++i) {
            double s = o.base + q[size_t(i)];
            for (int c = 0; c < o.latent_dim; ++c) s += p[size_t(u) * o.latent_dim + c] * v[size_t(i) * o.latent_dim + c];
            w.truth[size_t(u) * o.items + size_t(i)] = s;
        }
    auto draw = [&](int n, std::vector<PrivilegedEvent>& out) {
        for (int k = 0; k < n; ++k) {
            PrivilegedEvent e;
            e.user = rng.randint(o.users), e.item = rng.randint(o.items);
            const double intent = rng.normal() * o.intent_std;
            const double s = w.truth[size_t(e.user) * o.items + size_t(e.item)];
            e.label = rng.bernoulli(float(1.0 / (1.0 + std::exp(-(s + intent))))) ? 1.0f : 0.0f;
            e.privileged = float(s + intent + rng.normal() * o.reading_noise);
            out.push_back(e);
        }
    };
    draw(o.train_events, w.train);
    draw(o.test_events, w.test);
    for (const PrivilegedEvent& e : w.train) w.click_rate += e.label / double(w.train.size());
    return w;
}

PrivilegedBatch gather(const PrivilegedWorld& w, const std::vector<PrivilegedEvent>& events, const std::vector<int>& rows) {
    PrivilegedBatch b;
    b.privileged = Tensor({int(rows.size()), 1});
    b.label = Tensor({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) {
        const PrivilegedEvent& e = events[size_t(rows[j])];
        b.user_item.insert(b.user_item.end(), {e.user, w.users + e.item});
        b.privileged[j] = e.privileged, b.label[j] = e.label;
    }
    return b;
}

PrivilegedBatch gather_all(const PrivilegedWorld& w, const std::vector<PrivilegedEvent>& events) {
    std::vector<int> all(events.size());
    for (size_t k = 0; k < all.size(); ++k) all[k] = int(k);
    return gather(w, events, all);
}

std::vector<float> truth_scores(const PrivilegedWorld& w, const std::vector<PrivilegedEvent>& events) {
    std::vector<float> truth;
    for (const PrivilegedEvent& e : events) truth.push_back(float(w.truth[size_t(e.user) * w.items + size_t(e.item)]));
    return truth;
}

}  // namespace datasets
}  // namespace minirec
