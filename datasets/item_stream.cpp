// The drifting item stream of Yi et al.'s simulation, and a power-law catalogue with latent
// item vectors. Deliberately left out: estimators and models.
#include "datasets/item_stream.h"

#include <cmath>

#include "core/error.h"

namespace minirec {
namespace datasets {

DriftingItemStream::DriftingItemStream(const DriftingStreamOptions& opts) : opts_(opts), rng_(opts.seed) {
    const int m = opts.num_items;
    if (m < 2) arg_fail("DriftingItemStream", "num_items must be >= 2");
    if (opts.batch_size <= 0 || opts.steps_per_phase <= 0)
        arg_fail("DriftingItemStream", "batch_size and steps_per_phase must be positive");
    std::vector<double> first(m), second(m);
    for (int i = 0; i < m; ++i) {
        first[i] = static_cast<double>(i) * i;                 // q_i ~ i^2
        second[i] = static_cast<double>(m - 1 - i) * (m - 1 - i);  // q_i ~ (M-1-i)^2
    }
    phase_[0] = Discrete(first);
    phase_[1] = Discrete(second);
}

int DriftingItemStream::phase_at(long step) const { return step < opts_.steps_per_phase ? 0 : 1; }

Ids DriftingItemStream::next_batch() {
    if (step_ >= total_steps()) arg_fail("DriftingItemStream::next_batch", "the stream is exhausted");
    const Discrete& dist = phase_[phase_at(step_)];
    Ids batch(opts_.batch_size);
    for (int32_t& item : batch) item = dist.sample(rng_);
    ++step_;
    return batch;
}

double DriftingItemStream::q(int item, long step) const { return phase_[phase_at(step)].prob(item); }

double DriftingItemStream::label_prob(int item, long step) const { return opts_.batch_size * q(item, step); }

double DriftingItemStream::appear_prob(int item, long step) const {
    return 1.0 - std::pow(1.0 - q(item, step), opts_.batch_size);
}

PowerLawCatalogue power_law_catalogue(const PowerLawCatalogueOptions& opts) {
    if (opts.num_items < 1 || opts.n < 0 || opts.dim < 1) arg_fail("power_law_catalogue", "bad sizes");
    Rng rng(opts.seed);
    PowerLawCatalogue out;
    Discrete pop(zipf_weights(opts.num_items, opts.exponent));
    out.item_prob = pop.probs();
    // Item vectors: Gaussian directions normalised to unit length.
    out.item_vectors = Tensor({opts.num_items, opts.dim});
    for (int i = 0; i < opts.num_items; ++i) {
        float* v = out.item_vectors.data() + static_cast<size_t>(i) * opts.dim;
        double norm = 0.0;
        for (int k = 0; k < opts.dim; ++k) v[k] = rng.normal(), norm += double(v[k]) * v[k];
        for (int k = 0; k < opts.dim; ++k) v[k] = static_cast<float>(v[k] / std::sqrt(norm));
    }
    out.queries = Tensor({opts.n, opts.dim});
    out.positives.resize(opts.n);
    for (int r = 0; r < opts.n; ++r) {
        int item = pop.sample(rng);
        out.positives[r] = item;
        const float* v = out.item_vectors.data() + static_cast<size_t>(item) * opts.dim;
        float* u = out.queries.data() + static_cast<size_t>(r) * opts.dim;
        for (int k = 0; k < opts.dim; ++k) u[k] = v[k] + static_cast<float>(opts.query_noise) * rng.normal();
    }
    return out;
}

double StreamErrors::mean_between(size_t e, long lo, long hi) const {
    double s = 0.0;
    int n = 0;
    for (size_t i = 0; i < error[e].size(); ++i)
        if (window_end[i] > lo && window_end[i] <= hi) s += error[e][i], ++n;
    return n ? s / n : NAN;
}

}  // namespace datasets
}  // namespace minirec
