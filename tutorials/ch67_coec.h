// Chapter 67's experiment as functions: on a simulated ad server whose serving order is confounded
// with ad quality (datasets/ch67_ad_server.h), does COEC rank ads by quality better than their raw
// CTR, and which estimate of the expected CTR per position makes it work? The same claims run in a
// control world where the position does not change the click. Printing: ch67_coec.cpp.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch67_ad_server.h"
#include "models/ch67_coec.h"
#include "nn/ad_metrics.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch67 {

struct Options {
    datasets::AdServerOptions server;
    int epochs = 3;               // the LR position model (estimate 3): Adam, cosine decay
    int batch = 1024;
    double lr = 0.05;
    int worlds = 10;              // independent worlds (ads, bids, logs, init) per world kind
    uint64_t seed = 42;
    bool verbose = true;
};
// The quick configuration: a log 10x smaller (so 10 epochs), 5 worlds; too short for verdicts.
inline Options quick_options() {
    Options o;
    o.worlds = 5, o.server.requests = 20000, o.epochs = 10;
    return o;
}

// ---- Estimate (3): the logistic regression, trained on the whole (biased) log -----------------
inline PositionBiasLR train_position_model(const datasets::AdServerLog& log, int slots, int ads, const Options& o, uint64_t seed) {
    Rng rng(seed);
    PositionBiasLR model(slots, ads, rng);
    Adam adam(vars_of(model.named_parameters()), o.lr);
    // Cosine decay to 0: the last iterate is an average-like point, not one noisy Adam step.
    const long steps_per_epoch = (long(log.ad.size()) + o.batch - 1) / o.batch;
    const LrSchedule schedule = LrSchedule::cosine(o.lr, steps_per_epoch * o.epochs);
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(log.ad.size()), o.batch, rng)) {
            const datasets::AdBatch b = datasets::ad_batch(log, rows);
            const Var loss = bce_with_logits(model(b.position, b.ad, b.ctx), b.click);   // (B, 1) logits
            adam.zero_grad();
            backward(loss);
            adam.lr = schedule.at(step);
            adam.step();
            if (++step % 200 == 0) check_finite(loss.item(), step);
        }
    return model;
}

// ---- One world: simulate, estimate EC three ways, rank the ads --------------------------------
enum Method { kRawCtr, kCoecRaw, kCoecRandom, kCoecModel, kCoecTrue, kNumMethods };
const char* const kMethodNames[] = {"raw CTR", "COEC, EC from (1) raw position CTR",
                                    "COEC, EC from (2) random bucket", "COEC, EC from (3) LR model",
                                    "COEC, EC from the true curve (oracle)"};

struct World {
    double tau[kNumMethods];                  // Kendall's tau-b of each ranking vs true quality
    std::vector<double> curve[4];             // EC_k / EC_0: truth, (1), (2), (3) at c = 0
};

inline World run_world(const Options& opt, datasets::AdServerOptions o, uint64_t seed) {
    o.seed = seed;
    const datasets::AdServerLog log = datasets::simulate_ad_server(o);
    const int K = o.slots;
    const std::vector<double> ec1 = position_ctr(log.position, log.click, std::vector<bool>(log.ad.size(), true), K);   // (1)
    const std::vector<double> ec2 = position_ctr(log.position, log.click, log.randomised, K);                          // (2)
    const PositionBiasLR lr = train_position_model(log, K, o.ads, opt, splitmix64(seed + 1));
    // EC per impression in the order of Method: raw CTR is COEC with EC = 1 per impression; then
    // (1), (2), (3) and the truth.
    const std::vector<float> expected[kNumMethods] = {std::vector<float>(log.ad.size(), 1.0f), per_impression(ec1, log.position),
                                                      per_impression(ec2, log.position), lr.expected_ctr(log.position, log.ctx),
                                                      datasets::true_expected_ctr(log, o)};
    World w;
    for (int m = 0; m < kNumMethods; ++m)
        w.tau[m] = kendall_tau(coec_by_group(log.ad, log.click, expected[m], o.ads), log.quality);
    // The position curves, normalised to the top slot (the LR's at context 0, for the average ad).
    const std::vector<double> curves[4] = {log.exam, ec1, ec2, lr.position_curve(K)};
    for (int c = 0; c < 4; ++c)
        for (int k = 0; k < K; ++k) w.curve[c].push_back(curves[c][size_t(k)] / curves[c][0]);
    return w;
}

struct Results {
    std::vector<World> main, control;         // the same seeds in both
};

inline Results run_experiment(const Options& o) {
    Results res;
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);
        res.main.push_back(run_world(o, o.server, seed));
        res.control.push_back(run_world(o, datasets::control_server(o.server), seed));
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d  tau raw CTR %.3f  COEC(1) %.3f  (2) %.3f  (3) %.3f\n", w + 1, o.worlds,
                         res.main.back().tau[kRawCtr], res.main.back().tau[kCoecRaw],
                         res.main.back().tau[kCoecRandom], res.main.back().tau[kCoecModel]);
    }
    return res;
}

// The claims, per world kind; each figure is a per-world difference (> 0: the claim's direction).
inline Claims judge(const Options& o, const Results& res) {
    Claims claims;
    const int last = o.server.slots - 1;
    const std::string seed_ex = "worked example only: CTR 0.30 > 0.20 but COEC 0.588 < 0.702 (no experiment)";
    for (const char* kind : {"main", "control"}) {
        const std::vector<World>& ws = std::string(kind) == "main" ? res.main : res.control;
        auto gap = [&](int a, int b) {
            std::vector<double> d;
            for (const World& w : ws) d.push_back(w.tau[a] - w.tau[b]);
            return d;
        };
        std::vector<double> bias;   // how far (1)'s last position falls below the truth's
        for (const World& w : ws) bias.push_back(w.curve[0][size_t(last)] - w.curve[1][size_t(last)]);
        claims.add({"COEC with EC from (2) ranks ads closer to quality than raw CTR (tau gain)", kind, seed_ex,
                    gap(kCoecRandom, kRawCtr), 0.05, 3});
        claims.add({"COEC with EC from (3) ranks ads closer to quality than raw CTR (tau gain)", kind, seed_ex,
                    gap(kCoecModel, kRawCtr), 0.05, 3});
        claims.add({"COEC with (3) ranks closer than COEC with (1) (tau gain)", kind, "the seed: (1) is biased",
                    gap(kCoecModel, kCoecRaw), 0.02, 3});
        claims.add({"(1)'s last position, relative to the first, below the truth's", kind,
                    "the seed: (1) is biased", bias, 0.02, 3});
    }
    auto mean_tau = [&](int m) { return mean_over(res.main, [m](const World& w) { return w.tau[m]; }); };
    const double oracle = mean_tau(kCoecTrue), best = std::max(mean_tau(kCoecRandom), mean_tau(kCoecModel));
    claims.add_sanity("the oracle curve ranks at least as well as (2) and (3), within 0.01 (main world)",
                      oracle > best - 0.01, num("oracle %.3f, best estimate ", oracle) + num("%.3f", best));
    return claims;
}

}  // namespace ch67
}  // namespace minirec
