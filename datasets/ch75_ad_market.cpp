#include "datasets/ch75_ad_market.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace minirec {
namespace ch75 {

World make_world(const WorldOptions& o) {
    Rng rng(o.seed);
    World w;
    for (int a = 0; a < o.ads; ++a) w.quality.push_back(rng.normal(float(o.quality_mean), float(o.quality_std)));
    for (int a = 0; a < o.ads; ++a) w.bid.push_back(std::exp(o.bid_sigma * rng.normal()));
    std::vector<double> sorted = w.bid;
    std::sort(sorted.begin(), sorted.end());
    const double cut = sorted[size_t(std::min(o.ads - 1, int(o.ads * (1.0 - o.high_share))))];
    for (int a = 0; a < o.ads; ++a) {
        // The control world draws the group independently of the bid (same expected share).
        w.high.push_back(o.taste_by_bid ? w.bid[size_t(a)] >= cut : rng.uniform_double() < o.high_share);
        std::vector<double> v(size_t(o.features), 0.0);
        v[w.high.back() ? 0 : 1] = o.taste;
        for (double& t : v) t += 0.1 * rng.normal();
        w.taste.push_back(v);
    }
    auto draw = [&](int rows, int per_x) {
        Samples s;
        s.x = Tensor({rows, o.features});
        std::vector<float> x(size_t(o.features));
        for (int i = 0; i < rows; ++i) {
            if (i % per_x == 0)
                for (float& v : x) v = rng.normal();
            const int a = rng.randint(o.ads);
            double z = w.quality[size_t(a)];
            for (int d = 0; d < o.features; ++d) {
                s.x[size_t(i) * size_t(o.features) + size_t(d)] = x[size_t(d)];
                z += w.taste[size_t(a)][size_t(d)] * x[size_t(d)];
            }
            s.ad.push_back(a);
            s.p.push_back(float(1.0 / (1.0 + std::exp(-z))));
            s.y.push_back(rng.uniform_double() < s.p.back() ? 1.0f : 0.0f);
            s.bid.push_back(float(w.bid[size_t(a)]));
            s.high.push_back(w.high[size_t(a)]);
        }
        return s;
    };
    w.train = draw(o.train_rows, 1);
    w.test = draw(o.auctions * o.per_auction, o.per_auction);
    return w;
}

static double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

std::vector<float> noisy_oracle(const Samples& s, double sigma_low, double sigma_high, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> out;
    for (size_t i = 0; i < s.p.size(); ++i) {
        const double z = std::log(s.p[i] / (1.0 - s.p[i])) + (s.high[i] ? sigma_high : sigma_low) * rng.normal();
        out.push_back(float(sigmoid(z)));
    }
    return out;
}

Batch batch_of(const Samples& s, const std::vector<int>& rows, int features, bool bid_weighted) {
    const int B = int(rows.size());
    Batch b{Ids(static_cast<size_t>(B)), Tensor({B, features}), Tensor({B, 1}), Tensor({B, 1})};
    for (int r = 0; r < B; ++r) {
        const size_t i = size_t(rows[size_t(r)]);
        b.ad[size_t(r)] = s.ad[i];
        for (int d = 0; d < features; ++d)
            b.x[size_t(r) * size_t(features) + size_t(d)] = s.x[i * size_t(features) + size_t(d)];
        b.y[size_t(r)] = s.y[i];
        b.weight[size_t(r)] = bid_weighted ? s.bid[i] : 1.0f;
    }
    return b;
}

}  // namespace ch75
}  // namespace minirec
