// Synthetic CTR rows with planted first-order, pairwise (FM and field-aware) and three-way
// effects. Deliberately left out: feature hashing (ids are already small and dense).
#include "datasets/synthetic_ctr.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

namespace {

// A table of `rows` latent vectors of size k with N(0, std^2) entries.
std::vector<float> gaussian_table(int rows, int k, double std, Rng& rng) {
    std::vector<float> t(static_cast<size_t>(rows) * k);
    for (float& v : t) v = static_cast<float>(std * rng.normal());
    return t;
}

double dot_rows(const std::vector<float>& a, int ia, const std::vector<float>& b, int ib, int k) {
    double s = 0.0;
    for (int d = 0; d < k; ++d) s += double(a[size_t(ia) * k + d]) * b[size_t(ib) * k + d];
    return s;
}

void check(const CtrOptions& o) {
    const int f = static_cast<int>(o.vocab_sizes.size());
    if (f < 1) arg_fail("synthetic_ctr", "need at least one categorical field");
    for (int v : o.vocab_sizes)
        if (v < 1) arg_fail("synthetic_ctr", "every vocab size must be >= 1");
    auto field_ok = [f](int a) { return a >= 0 && a < f; };
    for (auto& p : o.pairs)
        if (!field_ok(p.first) || !field_ok(p.second) || p.first == p.second)
            arg_fail("synthetic_ctr", "pairs must name two different existing fields");
    for (auto& p : o.field_aware_pairs)
        if (!field_ok(p.first) || !field_ok(p.second) || p.first == p.second)
            arg_fail("synthetic_ctr", "field_aware_pairs must name two different existing fields");
    if (o.three_way)
        for (int a : o.three_way_fields)
            if (!field_ok(a)) arg_fail("synthetic_ctr", "three_way_fields must name existing fields");
    if (o.num_tags < 1 || o.max_tags < 1 || o.max_tags > o.num_tags)
        arg_fail("synthetic_ctr", "need 1 <= max_tags <= num_tags");
    if (o.latent_dim < 1 || o.n < 0) arg_fail("synthetic_ctr", "latent_dim >= 1 and n >= 0");
}

}  // namespace

CtrData synthetic_ctr(const CtrOptions& o) {
    check(o);
    Rng rng(o.seed);
    const int F = static_cast<int>(o.vocab_sizes.size()), k = o.latent_dim;
    // The pair term <a, b> of two vectors with N(0, s^2) entries has std s^2 sqrt(k); we pick s
    // so that it equals pair_std. For the triple, s^3 sqrt(k) = three_way_std.
    const double s2 = std::sqrt(o.pair_std / std::sqrt(double(k)));
    const double s3 = std::cbrt(o.three_way_std / std::sqrt(double(k)));

    // The planted parameters, drawn first so that n does not change them.
    std::vector<std::vector<float>> w(F), v(F);
    for (int f = 0; f < F; ++f) w[f] = gaussian_table(o.vocab_sizes[f], 1, o.first_order_std, rng);
    for (int f = 0; f < F; ++f) v[f] = gaussian_table(o.vocab_sizes[f], k, s2, rng);
    std::vector<float> w_tag = gaussian_table(o.num_tags, 1, o.first_order_std, rng);
    // Field-aware vectors: one table per (field, partner) direction of each listed pair.
    std::vector<std::vector<float>> fa_left, fa_right;
    for (auto& p : o.field_aware_pairs) {
        fa_left.push_back(gaussian_table(o.vocab_sizes[p.first], k, s2, rng));
        fa_right.push_back(gaussian_table(o.vocab_sizes[p.second], k, s2, rng));
    }
    std::vector<std::vector<float>> tri(3);
    if (o.three_way)
        for (int j = 0; j < 3; ++j) tri[j] = gaussian_table(o.vocab_sizes[o.three_way_fields[j]], k, s3, rng);

    std::vector<Discrete> field_dist;
    for (int f = 0; f < F; ++f) field_dist.emplace_back(zipf_weights(o.vocab_sizes[f], o.zipf_exponent));
    Discrete tag_dist(zipf_weights(o.num_tags, o.zipf_exponent));

    CtrData d;
    d.num_fields = F;
    d.vocab_sizes = o.vocab_sizes;
    d.num_tags = o.num_tags;
    d.cat.resize(size_t(o.n) * F);
    d.tag_offsets.push_back(0);
    d.numeric = Tensor({o.n, 1});
    d.labels.resize(o.n);
    d.true_prob.resize(o.n);
    d.true_logit.resize(o.n);
    double loss = 0.0, rate = 0.0;
    for (int r = 0; r < o.n; ++r) {
        int32_t* x = d.cat.data() + size_t(r) * F;
        for (int f = 0; f < F; ++f) x[f] = field_dist[f].sample(rng);
        int ntags = 1 + rng.randint(o.max_tags);
        std::vector<int> tags = sample_distinct(tag_dist, ntags, rng);
        float z = rng.normal();
        d.numeric[r] = z;

        double logit = o.bias + o.numeric_weight * z;
        for (int f = 0; f < F; ++f) logit += w[f][x[f]];
        double tag_sum = 0.0;
        for (int t : tags) tag_sum += w_tag[t], d.tag_ids.push_back(t);
        logit += tag_sum / ntags;
        d.tag_offsets.push_back(static_cast<int>(d.tag_ids.size()));
        for (auto& p : o.pairs) logit += dot_rows(v[p.first], x[p.first], v[p.second], x[p.second], k);
        for (size_t j = 0; j < o.field_aware_pairs.size(); ++j) {
            auto& p = o.field_aware_pairs[j];
            logit += dot_rows(fa_left[j], x[p.first], fa_right[j], x[p.second], k);
        }
        if (o.three_way) {
            const auto& t = o.three_way_fields;
            for (int c = 0; c < k; ++c)
                logit += double(tri[0][size_t(x[t[0]]) * k + c]) * tri[1][size_t(x[t[1]]) * k + c] *
                         tri[2][size_t(x[t[2]]) * k + c];
        }
        double p = sigmoid(logit);
        bool click = rng.uniform_double() < p;
        d.true_logit[r] = static_cast<float>(logit);
        d.true_prob[r] = static_cast<float>(p);
        d.labels[r] = click ? 1.0f : 0.0f;
        rate += p;
        loss -= std::log(std::max(1e-12, click ? p : 1.0 - p));
    }
    if (o.n > 0) d.base_rate = rate / o.n, d.oracle_logloss = loss / o.n;
    d.pairs = o.pairs;
    d.field_aware_pairs = o.field_aware_pairs;
    d.three_way = o.three_way;
    d.three_way_fields = o.three_way_fields;
    return d;
}

std::vector<std::pair<int, int>> planted_pairs(const CtrData& d) {
    std::vector<std::pair<int, int>> p = d.pairs;
    for (const auto& q : d.field_aware_pairs) p.push_back(q);
    if (d.three_way) {
        const auto& t = d.three_way_fields;
        p.push_back({t[0], t[1]}), p.push_back({t[0], t[2]}), p.push_back({t[1], t[2]});
    }
    for (auto& q : p)
        if (q.first > q.second) std::swap(q.first, q.second);
    return p;
}

}  // namespace datasets
}  // namespace minirec
