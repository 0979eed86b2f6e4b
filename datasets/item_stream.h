// Item streams for in-batch softmax training and streaming frequency estimation (Yi et al.,
// "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item Recommendations", RecSys 2019).
// Deliberately left out: the hashing frequency estimator itself (that belongs to the chapter).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

// ---- The paper's frequency-estimation simulation (section 6.1) -------------------------------
// Planted: M items i = 0..M-1. For the first `steps_per_phase` steps item i has probability
// q_i proportional to i^2; for the next `steps_per_phase` steps it is proportional to (M-1-i)^2,
// so popularity flips abruptly from the top ids to the bottom ids. Each step draws a batch of B
// items independently (with replacement) from q. The paper's label for item i at a step is
// p_i = B q_i (the expected number of times i is in a batch, approximately the probability
// that it appears when q_i is small); we also give the exact 1 - (1 - q_i)^B.
struct DriftingStreamOptions {
    int num_items = 10000;         // M
    int steps_per_phase = 10000;   // steps with i^2, then as many with (M-1-i)^2
    int batch_size = 128;          // B
    uint64_t seed = 1;
};

class DriftingItemStream {
public:
    explicit DriftingItemStream(const DriftingStreamOptions& opts);

    Ids next_batch();                        // (B) item ids of the current step; advances the step
    long step() const { return step_; }      // steps taken so far (0 before the first batch)
    int phase_at(long step) const;           // 0 for steps < steps_per_phase, else 1
    long total_steps() const { return 2L * opts_.steps_per_phase; }

    double q(int item, long step) const;              // true per-draw probability at `step`
    double label_prob(int item, long step) const;     // the paper's label B q_i
    double appear_prob(int item, long step) const;    // exact 1 - (1 - q_i)^B

private:
    DriftingStreamOptions opts_;
    Rng rng_;
    Discrete phase_[2];
    long step_ = 0;
};

// Replays a drifting stream through estimators (anything with observe(batch) and probability(y))
// and records each one's error per window of `window` steps: the mean over the window's steps of
// the mean over the batch's items of |p_hat(y) - B q_y(t)|, p_hat read after observing the batch.
struct StreamErrors {
    std::vector<long> window_end;              // [window] the step that ends it
    std::vector<std::vector<double>> error;    // [estimator][window]
    double mean_between(size_t e, long lo, long hi) const;   // windows ending in (lo, hi]; NaN if none
};
template <class Estimator>
StreamErrors replay_drifting_stream(const DriftingStreamOptions& so, std::vector<Estimator>& est, int window) {
    StreamErrors r;
    r.error.assign(est.size(), {});
    DriftingItemStream stream(so);
    std::vector<double> sum(est.size(), 0.0);
    while (stream.step() < stream.total_steps()) {
        const long t = stream.step();
        const Ids batch = stream.next_batch();   // (B) item ids
        for (size_t e = 0; e < est.size(); ++e) {
            est[e].observe(batch);
            double err = 0.0;
            for (int32_t y : batch) err += std::fabs(est[e].probability(y) - stream.label_prob(y, t));
            sum[e] += err / double(batch.size());
        }
        if ((t + 1) % window == 0) {
            r.window_end.push_back(t + 1);
            for (size_t e = 0; e < est.size(); ++e) r.error[e].push_back(sum[e] / window), sum[e] = 0;
        }
    }
    return r;
}

// ---- A power-law catalogue for in-batch softmax training -------------------------------------
// Planted: item i is a positive with probability q_i proportional to 1 / (i + 1)^exponent (item
// 0 the most popular); every item has a latent unit vector v_i in R^D. Each example draws its
// positive item i from q and a query vector u = v_i + noise (N(0, query_noise^2) per element),
// so the best retrieval for u is (mostly) its own item, and the marginal item frequency is
// exactly q: the quantity that logQ correction subtracts.
struct PowerLawCatalogueOptions {
    int num_items = 1000;          // N
    int n = 20000;                 // examples
    double exponent = 1.0;
    int dim = 16;                  // D
    double query_noise = 0.3;
    uint64_t seed = 1;
};

struct PowerLawCatalogue {
    std::vector<double> item_prob; // (N) q_i, sums to 1
    Tensor item_vectors;           // (N, D) unit vectors
    Tensor queries;                // (n, D)
    Ids positives;                 // (n) the item each query was made from
};

PowerLawCatalogue power_law_catalogue(const PowerLawCatalogueOptions& opts);

}  // namespace datasets
}  // namespace minirec
