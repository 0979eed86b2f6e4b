#include "datasets/ch59_field_pairs.h"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/metrics.h"
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

Tensor FieldPairWorld::labels_of(const std::vector<int>& rows) const {
    Tensor y({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) y[j] = labels[size_t(rows[j])];
    return y;
}

static std::vector<int> row_range(int begin, int end) {
    std::vector<int> r(size_t(end - begin));
    std::iota(r.begin(), r.end(), begin);
    return r;
}
std::vector<int> FieldPairWorld::valid_rows() const { return row_range(n_train, n_valid); }
std::vector<int> FieldPairWorld::test_rows() const { return row_range(n_valid, n); }

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

FieldPairWorld field_pair_clicks(FieldPairOptions o, bool field_aware, uint64_t seed) {
    o.field_aware = field_aware, o.seed = seed;
    return field_pair_clicks(o);
}

std::string describe(const FieldPairOptions& o) {
    return std::to_string(o.n) + " rows per world (70% train, 10% validation, 20% test), " + std::to_string(o.signal_fields) +
           " signal fields + " + std::to_string(o.noise_fields) + " noise fields of " + std::to_string(o.values) + " values";
}

std::string describe(const FieldPairWorld& w, const std::string& path) {
    return path + ": " + std::to_string(w.n) + " rows in file order, " + std::to_string(w.n_train) + " train, " +
           std::to_string(w.n_valid - w.n_train) + " validation, " + std::to_string(w.n - w.n_valid) + " test; " +
           std::to_string(w.fields) + " fields hashed into " + std::to_string(w.values) + " ids each (datasets/ctr_logs.h)";
}

ClickQuality click_quality(const FieldPairWorld& w, const std::vector<int>& rows, const std::vector<float>& logits) {
    std::vector<float> p(logits.size()), y(logits.size());
    for (size_t j = 0; j < logits.size(); ++j)
        p[j] = float(1.0 / (1.0 + std::exp(-double(logits[j])))), y[j] = w.labels[size_t(rows[j])];
    ClickQuality q;
    q.auc = auc(p, y), q.logloss = logloss(p, y);
    return q;
}

ClickQuality oracle_quality(const FieldPairWorld& w) {
    const std::vector<float> p(w.true_prob.begin() + w.n_valid, w.true_prob.end()), y(w.labels.begin() + w.n_valid, w.labels.end());
    ClickQuality q;
    q.auc = auc(p, y), q.logloss = logloss(p, y);
    return q;
}

void mean_weight_by_field_kind(const FieldPairWorld& w, const Tensor& S, double* signal, double* noise) {
    const int F = w.fields;
    double signal_sum = 0, noise_sum = 0;
    long signal_count = 0, noise_count = 0;
    for (size_t b = 0; b < size_t(S.dim(0)); ++b)
        for (int i = 0; i < F; ++i)
            for (int f = 0; f < F; ++f) {
                if (i == f) continue;
                const double s = S[(b * size_t(F) + size_t(i)) * size_t(F) + size_t(f)];
                if (w.is_signal(i)) signal_sum += s, ++signal_count;
                else noise_sum += s, ++noise_count;
            }
    *signal = signal_sum / double(signal_count);
    *noise = noise_count ? noise_sum / double(noise_count) : NAN;
}

}  // namespace datasets
}  // namespace minirec
