// Chapter 67's experiment as a function: a simulated ad server whose serving order is confounded
// with ad quality, and the question the chapter asks - does COEC rank ads by quality better than
// their raw CTR, and which estimate of the expected CTR per position makes it work? Printing and
// pictures live in ch67_coec.cpp. Deliberately left out: auctions with prices, budgets, real logs.
//
// The world (known truth):
//   ad a:       quality q_a ~ N(quality_mean, quality_std^2), bid_a ~ lognormal(0, bid_sigma^2)
//   request:    context c ~ N(0, 1) (say, how active the user is), `slots` ads drawn at random
//   serving:    ads sorted by bid_a sigmoid(q_a) e^{noise eps} (biased: good and rich ads go high),
//               except a `random_share` bucket of requests shown in random order
//   click:      P(click | position k, a, c) = exam_k sigmoid(q_a + gamma c),  exam_k = (k+1)^-power
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "models/ch67_coec.h"
#include "nn/ad_metrics.h"
#include "nn/losses.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch67 {

// ---- The chapter's worked example -----------------------------------------------------------
// Ads A and B were each shown 10 times; A mostly high, B mostly low. The chapter gives the totals
// (A: 5.1 expected clicks, 3 clicks; B: 2.85 expected, 2 clicks); its per-position table is an
// image, so the split below is ours, chosen to give exactly those totals.
struct WorkedExample {
    std::vector<double> position_ctr = {0.6, 0.45, 0.3, 0.15};   // EC_k, positions 1..4
    std::vector<double> shown_a = {6, 2, 2, 0}, shown_b = {1, 2, 2, 5};
    double clicks_a = 3, clicks_b = 2;
    double expected_a() const { return expected_clicks(shown_a, position_ctr); }   // 5.1
    double expected_b() const { return expected_clicks(shown_b, position_ctr); }   // 2.85
    double ctr_a() const { return clicks_a / 10.0; }                                // 0.3
    double ctr_b() const { return clicks_b / 10.0; }                                // 0.2
    double coec_a() const { return clicks_a / expected_a(); }                       // 0.588
    double coec_b() const { return clicks_b / expected_b(); }                       // 0.702
};

// ---- The simulated ad server ------------------------------------------------------------------
struct ServerOptions {
    int ads = 100;
    int slots = 5;                // K positions per request
    int requests = 200000;
    double random_share = 0.05;   // share of requests served in random order (estimate 2)
    double quality_mean = -2.0, quality_std = 0.5;
    double bid_sigma = 0.8;
    double exam_power = 1.0;
    double gamma = 0.5;           // context effect on the click logit
    double serving_noise = 0.3;   // noise of the production score, log scale
    uint64_t seed = 1;
};

struct AdLog {                    // one row per impression
    Ids ad, position;
    std::vector<float> ctx, click;
    std::vector<bool> randomised;
    std::vector<double> quality, bid, exam;   // truth: per ad, per ad, per position
};

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

inline AdLog simulate(const ServerOptions& o) {
    Rng rng(o.seed);
    AdLog log;
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
                                          : log.bid[size_t(a)] * sigmoid(log.quality[size_t(a)]) *
                                                std::exp(o.serving_noise * rng.normal());
        }
        std::vector<int> order(size_t(o.slots));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int x, int y) { return score[size_t(x)] > score[size_t(y)]; });
        for (int k = 0; k < o.slots; ++k) {
            const int a = cand[size_t(order[size_t(k)])];
            const double p = log.exam[size_t(k)] * sigmoid(log.quality[size_t(a)] + o.gamma * c);
            log.ad.push_back(a);
            log.position.push_back(k);
            log.ctx.push_back(c);
            log.click.push_back(rng.uniform_double() < p ? 1.0f : 0.0f);
            log.randomised.push_back(randomised);
        }
    }
    return log;
}

// ---- Estimate (3): the logistic regression, trained on the whole (biased) log -----------------
struct TrainOptions {
    int epochs = 3;             // --quick: 10 (its log is 10x smaller)
    int batch = 1024;
    double lr = 0.05;
};

inline PositionBiasLR train_position_model(const AdLog& log, int slots, int ads, const TrainOptions& t,
                                           uint64_t seed) {
    Rng rng(seed);
    PositionBiasLR model(slots, ads, rng);
    Adam adam(vars_of(model.named_parameters()), t.lr);
    // Cosine decay to 0: the last iterate is an average-like point, not one noisy Adam step.
    const long steps_per_epoch = (long(log.ad.size()) + t.batch - 1) / t.batch;
    const LrSchedule schedule = LrSchedule::cosine(t.lr, steps_per_epoch * t.epochs);
    long step = 0;
    for (int epoch = 0; epoch < t.epochs; ++epoch)
        for (const std::vector<int>& batch : make_batches(int(log.ad.size()), t.batch, rng)) {
            const int B = int(batch.size());
            Ids pos(static_cast<size_t>(B)), ad(pos);
            Tensor ctx({B, 1}), y({B, 1});
            for (int b = 0; b < B; ++b) {
                const size_t i = size_t(batch[size_t(b)]);
                pos[size_t(b)] = log.position[i], ad[size_t(b)] = log.ad[i];
                ctx[size_t(b)] = log.ctx[i], y[size_t(b)] = log.click[i];
            }
            const Var loss = bce_with_logits(model(pos, ad, ctx), y);   // (B, 1) logits
            adam.zero_grad();
            backward(loss);
            adam.lr = schedule.at(step);
            adam.step();
            if (++step % 200 == 0) check_finite(loss.item(), step);
        }
    return model;
}

// ---- One replicate: simulate, estimate EC three ways, rank the ads -----------------------------
enum Method { kRawCtr, kCoecRaw, kCoecRandom, kCoecModel, kCoecTrue, kNumMethods };
const char* const kMethodNames[] = {"raw CTR", "COEC, EC from (1) raw position CTR",
                                    "COEC, EC from (2) random bucket", "COEC, EC from (3) LR model",
                                    "COEC, EC from the true curve (oracle)"};

struct Replicate {
    double tau[kNumMethods];                  // Kendall's tau-b of each ranking vs true quality
    std::vector<double> curve[4];             // EC_k / EC_0: truth, (1), (2), (3) at c = 0
    double random_impressions = 0;
};

struct StudyOptions {
    ServerOptions server;
    TrainOptions train;
    int replicates = 10;      // independent worlds (ads, bids, logs), seeds derived from `seed`
    uint64_t seed = 42;
    bool verbose = true;
};

struct StudyReport {
    std::vector<Replicate> reps;
    double seconds = 0.0;
    double mean_tau(int m) const { return mean_over(reps, [&](const Replicate& r) { return r.tau[m]; }); }
    double sd_tau(int m) const { return stdev_over(reps, [&](const Replicate& r) { return r.tau[m]; }); }
    double min_gap(int better, int worse) const {   // min over replicates of tau_better - tau_worse
        return min_over(reps, [&](const Replicate& r) { return r.tau[better] - r.tau[worse]; });
    }
    double mean_curve(int which, int k) const {
        return mean_over(reps, [&](const Replicate& r) { return r.curve[which][size_t(k)]; });
    }
};

inline Replicate run_replicate(const StudyOptions& so, uint64_t seed) {
    ServerOptions o = so.server;
    o.seed = seed;
    const AdLog log = simulate(o);
    const size_t n = log.ad.size();
    const int K = o.slots;
    // EC per impression under each estimate.
    const std::vector<bool> all(n, true);
    const std::vector<double> ec1 = position_ctr(log.position, log.click, all, K);            // (1)
    const std::vector<double> ec2 = position_ctr(log.position, log.click, log.randomised, K); // (2)
    const PositionBiasLR lr = train_position_model(log, K, o.ads, so.train, splitmix64(seed + 1));
    const std::vector<float> ec3 = lr.expected_ctr(log.position, log.ctx);                    // (3)
    std::vector<float> ones(n, 1.0f), e1(n), e2(n), etrue(n);
    for (size_t i = 0; i < n; ++i) {
        const size_t k = size_t(log.position[i]);
        e1[i] = float(ec1[k]), e2[i] = float(ec2[k]);
        etrue[i] = float(log.exam[k] * sigmoid(o.quality_mean + o.gamma * log.ctx[i]));
    }
    const std::vector<const std::vector<float>*> expected = {&ones, &e1, &e2, &ec3, &etrue};
    Replicate rep;
    for (int m = 0; m < kNumMethods; ++m) {   // raw CTR is COEC with EC = 1 per impression
        const std::vector<double> score = coec_by_group(log.ad, log.click, *expected[size_t(m)], o.ads);
        rep.tau[m] = kendall_tau(score, log.quality);
    }
    // The position curves, normalised to the top slot (the LR's at context 0, for the average ad).
    Ids slots(static_cast<size_t>(K));
    std::iota(slots.begin(), slots.end(), 0);
    const std::vector<float> lr0 = lr.expected_ctr(slots, std::vector<float>(size_t(K), 0.0f));
    for (int k = 0; k < K; ++k) {
        rep.curve[0].push_back(log.exam[size_t(k)] / log.exam[0]);
        rep.curve[1].push_back(ec1[size_t(k)] / ec1[0]);
        rep.curve[2].push_back(ec2[size_t(k)] / ec2[0]);
        rep.curve[3].push_back(double(lr0[size_t(k)]) / lr0[0]);
    }
    for (bool r : log.randomised) rep.random_impressions += r;
    return rep;
}

inline StudyReport run_study(const StudyOptions& o) {
    StudyReport rep;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.replicates; ++r) {
        rep.reps.push_back(run_replicate(o, replicate_seed(o.seed, r)));
        if (o.verbose)
            std::fprintf(stderr, "replicate %d/%d  tau raw CTR %.3f  COEC(1) %.3f  COEC(2) %.3f  COEC(3) %.3f\n",
                         r + 1, o.replicates, rep.reps.back().tau[kRawCtr], rep.reps.back().tau[kCoecRaw],
                         rep.reps.back().tau[kCoecRandom], rep.reps.back().tau[kCoecModel]);
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch67
}  // namespace minirec
