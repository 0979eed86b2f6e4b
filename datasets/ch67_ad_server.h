// Chapter 67's world: a simulated ad server whose serving order is confounded with ad quality, so
// that an ad's raw CTR mixes how good it is with how good its slots were. Known truth throughout.
//   ad a:       quality q_a ~ N(quality_mean, quality_std^2), bid_a ~ lognormal(0, bid_sigma^2)
//   request:    context c ~ N(0, 1) (say, how active the user is), `slots` distinct ads at random
//   serving:    ads sorted by bid_a sigmoid(q_a) e^{noise eps} (good and rich ads go high), except a
//               `random_share` bucket of requests shown in random order
//   click:      P(click | position k, a, c) = exam_k sigmoid(q_a + gamma c),  exam_k = (k+1)^-power
// exam_power = 0 is the chapter's control world: the position no longer changes the click.
// Also the log as batches, and the true expected CTR per impression. Deliberately left out:
// auctions with prices, budgets, several page layouts.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct AdServerOptions {
    int ads = 100;
    int slots = 5;                // K positions per request
    int requests = 200000;
    double random_share = 0.05;   // share of requests served in random order
    double quality_mean = -2.0, quality_std = 0.5;
    double bid_sigma = 0.8;
    double exam_power = 1.0;      // 0: no position effect (the control world)
    double gamma = 0.5;           // context effect on the click logit
    double serving_noise = 0.3;   // noise of the production score, log scale
    uint64_t seed = 1;
};

struct AdServerLog {              // one row per impression
    Ids ad, position;
    std::vector<float> ctx, click;
    std::vector<bool> randomised;
    std::vector<double> quality, bid, exam;   // truth: per ad, per ad, per position
};

AdServerLog simulate_ad_server(const AdServerOptions& o);

// The control world: clicks do not depend on the position (exam_k = 1), serving stays biased.
inline AdServerOptions control_server(const AdServerOptions& s) {
    AdServerOptions c = s;
    c.exam_power = 0.0;
    return c;
}

// The impressions `rows` of the log as a batch: positions and ads (B), context and click (B, 1).
struct AdBatch {
    Ids position, ad;
    Tensor ctx, click;
};
AdBatch ad_batch(const AdServerLog& log, const std::vector<int>& rows);

// Truth: the expected CTR of the average ad (quality_mean) at each impression's position and
// context, exam_k sigmoid(quality_mean + gamma c), the denominator COEC would use if it knew it.
std::vector<float> true_expected_ctr(const AdServerLog& log, const AdServerOptions& o);

}  // namespace datasets
}  // namespace minirec
