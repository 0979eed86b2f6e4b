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

}  // namespace ch75
}  // namespace minirec
