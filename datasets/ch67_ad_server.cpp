#include "datasets/ch67_ad_server.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/rng.h"

namespace minirec {
namespace datasets {

static double sigmoid_d(double z) { return 1.0 / (1.0 + std::exp(-z)); }

AdServerLog simulate_ad_server(const AdServerOptions& o) {
    Rng rng(o.seed);
    AdServerLog log;
    for (int a = 0; a < o.ads; ++a) log.quality.push_back(rng.normal(float(o.quality_mean), float(o.quality_std)));
    for (int a = 0; a < o.ads; ++a) log.bid.push_back(std::exp(o.bid_sigma * rng.normal()));
    for (int k = 0; k < o.slots; ++k) log.exam.push_back(std::pow(k + 1.0, -o.exam_power));
    std::vector<int> cand(size_t(o.slots));
    std::vector<double> score(size_t(o.slots));
    for (int r = 0; r < o.requests; ++r) {
        const float c = rng.normal();
        const bool randomised = rng.uniform_double() < o.random_share;
        for (int j = 0; j < o.slots; ++j) {          // `slots` distinct ads, uniformly
            int a;
            do a = rng.randint(o.ads); while (std::find(cand.begin(), cand.begin() + j, a) != cand.begin() + j);
            cand[size_t(j)] = a;
            score[size_t(j)] = randomised ? rng.uniform_double()
                                          : log.bid[size_t(a)] * sigmoid_d(log.quality[size_t(a)]) *
                                                std::exp(o.serving_noise * rng.normal());
        }
        std::vector<int> order(size_t(o.slots));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int x, int y) { return score[size_t(x)] > score[size_t(y)]; });
        for (int k = 0; k < o.slots; ++k) {
            const int a = cand[size_t(order[size_t(k)])];
            const double p = log.exam[size_t(k)] * sigmoid_d(log.quality[size_t(a)] + o.gamma * c);
            log.ad.push_back(a);
            log.position.push_back(k);
            log.ctx.push_back(c);
            log.click.push_back(rng.uniform_double() < p ? 1.0f : 0.0f);
            log.randomised.push_back(randomised);
        }
    }
    return log;
}

AdBatch ad_batch(const AdServerLog& log, const std::vector<int>& rows) {
    const int B = int(rows.size());
    AdBatch b{Ids(static_cast<size_t>(B)), Ids(static_cast<size_t>(B)), Tensor({B, 1}), Tensor({B, 1})};
    for (int r = 0; r < B; ++r) {
        const size_t i = size_t(rows[size_t(r)]);
        b.position[size_t(r)] = log.position[i], b.ad[size_t(r)] = log.ad[i];
        b.ctx[size_t(r)] = log.ctx[i], b.click[size_t(r)] = log.click[i];
    }
    return b;
}

std::vector<float> true_expected_ctr(const AdServerLog& log, const AdServerOptions& o) {
    std::vector<float> ec(log.ad.size());
    for (size_t i = 0; i < ec.size(); ++i)
        ec[i] = float(log.exam[size_t(log.position[i])] * sigmoid_d(o.quality_mean + o.gamma * log.ctx[i]));
    return ec;
}

}  // namespace datasets
}  // namespace minirec
