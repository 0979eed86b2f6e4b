#include "datasets/ch59_field_pairs.h"

#include <cmath>
#include <stdexcept>

#include "core/rng.h"

namespace minirec {
namespace datasets {

Ids FieldPairWorld::ids(const std::vector<int>& rows) const {
    Ids out;
    out.reserve(rows.size() * size_t(fields));
    for (int r : rows)
        for (int f = 0; f < fields; ++f) out.push_back(f * values + cat[size_t(r) * fields + f]);
    return out;
}

FieldPairWorld field_pair_clicks(const FieldPairOptions& o) {
    if (o.signal_fields < 2 || o.noise_fields < 0 || o.values < 2 || o.latent < 1 || o.n < 100 ||
        !(o.valid_fraction > 0 && o.test_fraction > 0 && o.valid_fraction + o.test_fraction < 0.9))
        throw std::invalid_argument("field_pair_clicks: need >= 2 signal fields, >= 0 noise fields, >= 2 values, "
                                    "latent >= 1, n >= 100, and positive validation and test fractions summing below 0.9");
    FieldPairWorld w;
    w.signal_fields = o.signal_fields;
    w.fields = o.signal_fields + o.noise_fields;
    w.values = o.values;
    w.n = o.n;
    w.n_train = int(double(o.n) * (1.0 - o.test_fraction - o.valid_fraction));
    w.n_valid = int(double(o.n) * (1.0 - o.test_fraction));
    Rng rng(splitmix64(o.seed * 7919u + 59u));
    const int S = o.signal_fields, K = o.latent, V = o.values;
    // pair term std = pair_std: each of the K products has variance s^4, so s = (pair_std^2 / K)^(1/4)
    const float s = float(std::pow(o.pair_std * o.pair_std / K, 0.25));
    std::vector<float> first(size_t(S) * V), u(size_t(S) * S * V * K);   // u[(f, g, x, k)]
    for (float& x : first) x = rng.normal(0.0f, float(o.first_order_std));
    for (float& x : u) x = rng.normal(0.0f, s);
    // the FM truth reads table (f, 0) for every partner g: one vector per value
    auto U = [&](int f, int g, int x) { return &u[((size_t(f) * S + (o.field_aware ? g : 0)) * V + x) * K]; };
    w.cat.resize(size_t(o.n) * w.fields);
    for (int r = 0; r < o.n; ++r) {
        int32_t* row = &w.cat[size_t(r) * w.fields];
        for (int f = 0; f < w.fields; ++f) row[f] = rng.randint(V);
        double logit = o.bias;
        for (int f = 0; f < S; ++f) logit += first[size_t(f) * V + row[f]];
        for (int f = 0; f < S; ++f)
            for (int g = f + 1; g < S; ++g) {
                const float *a = U(f, g, row[f]), *b = U(g, f, row[g]);
                for (int k = 0; k < K; ++k) logit += double(a[k]) * b[k];
            }
        const double p = 1.0 / (1.0 + std::exp(-logit));
        w.true_prob.push_back(float(p));
        w.labels.push_back(rng.bernoulli(float(p)) ? 1.0f : 0.0f);
    }
    return w;
}

}  // namespace datasets
}  // namespace minirec
