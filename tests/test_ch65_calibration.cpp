// Chapter 65: the correction and its inverse, the chapter's worked example to the digits it prints,
// and the simulation's claims judged (tutorials/ch65_calibration.h) on a small configuration for
// master seeds 1, 2 and 3: 3 worlds of 30k training and 10k test impressions, w in {1, 1/2, 1/10},
// 2 epochs of batch 64 (about 4.6 s of CPU on an "AMD EPYC", shared machine; with batch 256 the LR
// at w = 1/10 takes too few steps to learn the ads apart). Where the seed's claim fails here (the
// DNN's AUC at w = 1/2), the measured bound is asserted. Numbers quoted are over those seeds.
#include <doctest/doctest.h>

#include <cmath>

#include "tutorials/ch65_calibration.h"

using namespace minirec;
using namespace minirec::ch65;

namespace {
ch65::Options small_options(uint64_t seed) {
    ch65::Options o;
    o.n_train = 30000, o.n_test = 10000, o.rates = {1.0, 0.5, 0.1}, o.worlds = 3, o.epochs = 2, o.batch = 64;
    o.seed = seed, o.verbose = false;
    return o;
}
}  // namespace

TEST_SUITE("ch65") {

TEST_CASE("the correction inverts the sampling, and is a shift of the logit by log w") {
    for (double w : {1.0, 0.5, 1.0 / 3.0, 0.1, 0.01})
        for (double p : {0.001, 0.2, 0.5, 0.97}) {
            CHECK(calibrate_ctr(sampled_ctr(p, w), w) == doctest::Approx(p).epsilon(1e-12));
            const double q = calibrate_ctr(p, w);
            CHECK(std::log(q / (1 - q)) == doctest::Approx(std::log(p / (1 - p)) + std::log(w)).epsilon(1e-12));
        }
    CHECK(calibrate_ctr(0.4, 1.0) == doctest::Approx(0.4));   // w = 1: nothing was dropped
    CHECK(sampled_ctr(0.25, 1.0 / 3.0) == doctest::Approx(0.5));  // 1:3 becomes 1:1
    const std::vector<float> q = calibrate_ctr(std::vector<float>{0.5f, 0.5625f}, 1.0 / 3.0);
    CHECK(q[0] == doctest::Approx(0.25f));
    CHECK(q[1] == doctest::Approx(0.3f));
}

TEST_CASE("worked example: revenue 1.8, 1.6, 0.6 -> about 3.38, 3.43, 1.29 -> 1.8, 1.6, 0.6") {
    const ch65::WorkedExample ex = ch65::worked_example();
    REQUIRE(ex.rows.size() == 3);
    CHECK(ex.positives == doctest::Approx(0.25));  // 1:3 before sampling
    CHECK(ex.negatives * ex.w == doctest::Approx(0.25));  // 1:1 after
    const double before[] = {1.8, 1.6, 0.6}, after[] = {3.38, 3.43, 1.29};
    for (int k = 0; k < 3; ++k) {
        CHECK(ex.rows[size_t(k)].revenue == doctest::Approx(before[k]).epsilon(1e-12));
        CHECK(std::round(ex.rows[size_t(k)].revenue_sampled * 100) / 100 == doctest::Approx(after[k]).epsilon(1e-12));
        CHECK(ex.rows[size_t(k)].revenue_corrected == doctest::Approx(before[k]).epsilon(1e-12));
    }
    CHECK(ex.rows[0].sampled == doctest::Approx(0.5625));   // 0.3 / (0.3 + 0.7 / 3)
    CHECK(ex.rows[1].sampled == doctest::Approx(3.0 / 7));  // 0.2 / (0.2 + 0.8 / 3)
    CHECK(ex.order == "A > B > C");
    CHECK(ex.order_sampled == "B > A > C");
    CHECK(ex.order_corrected == "A > B > C");
}

TEST_CASE("simulation: the data has the example's ad CTRs") {
    const ch65::Options o = small_options(1);
    const ch65::Impressions d = ch65::make_impressions(o.n_train + o.n_test, o.ads, 1);
    double n[3] = {0, 0, 0}, clicks[3] = {0, 0, 0};
    for (size_t r = 0; r < d.labels.size(); ++r) n[d.ad[r]] += 1, clicks[d.ad[r]] += d.labels[r];
    CHECK((clicks[0] + clicks[1] + clicks[2]) / d.labels.size() == doctest::Approx(0.25).epsilon(0.04));
    CHECK(clicks[0] / n[0] == doctest::Approx(0.3).epsilon(0.05));
    CHECK(clicks[1] / n[1] == doctest::Approx(0.2).epsilon(0.08));
    CHECK(clicks[2] / n[2] == doctest::Approx(0.2).epsilon(0.08));
    CHECK(n[0] / d.labels.size() == doctest::Approx(0.5).epsilon(0.05));   // shares 50:30:20
}

TEST_CASE("claims: sampling wrecks calibration and flips A and B; the correction restores both") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const ch65::Options o = small_options(seed);
        const Claims c = ch65::judge(o, ch65::run_experiment(o));
        for (const std::string m : {"LR", "DNN"}) {
            const std::string ece = m + ": the correction lowers the ECE";
            const std::string flip = m + ": sampling puts B's revenue / imp. above A's (raw pCTR x CPC)";
            const std::string keep = m + ": corrected, A's revenue / imp. stays above B's";
            CHECK(c.find(ece + " at w = 1/10").verdict() == Verdict::holds);
            CHECK(c.find(flip + " at w = 1/10").verdict() == Verdict::holds);
            // Holds in the default run; 3 worlds of 30k are too few for its interval to clear the
            // margin every time (lowest mean 0.147), so here: not failing, and clearly positive.
            CHECK(c.find(keep + " at w = 1/10").verdict() != Verdict::fails);
            CHECK(c.find(keep + " at w = 1/10").interval().mean > 0.1);
            // Control (1/10 of the negatives kept overall, A's at 4 times B's and C's rate): the global
            // shift still lowers the ECE, but no single w restores the ads' order: corrected, B's
            // revenue is far above A's (A - B at seeds 1-3: LR -1.49, -1.55, -1.39; DNN -1.64, -1.62,
            // -1.25; default run -1.41 and -1.32). The same verdicts under clang++ -O3 at seeds 1-2.
            const std::string uneven = " at w = 1/10 overall, unevenly by ad";
            CHECK(c.find(ece + uneven, "control").verdict() == Verdict::holds);
            CHECK(c.find(flip + uneven, "control").verdict() == Verdict::holds);
            CHECK(c.find(keep + uneven, "control").verdict() == Verdict::fails);
        }
        // "Ranking almost unchanged": the LR loses almost nothing; the DNN, trained on fewer rows for
        // the same epochs, loses AUC (the default run: -0.0039 [-0.0062, -0.0017], fails).
        const Interval lr = c.find("LR: keeping negatives at w = 1/2 costs no AUC (AUC(w) - AUC(1))").interval();
        const Interval dnn = c.find("DNN: keeping negatives at w = 1/2 costs no AUC (AUC(w) - AUC(1))").interval();
        CHECK(std::fabs(lr.mean) < 0.003);                 // measured at most 0.0017
        CHECK(judge(dnn, 0.0) == Verdict::fails);          // measured -0.0037 to -0.0084
        CHECK(dnn.mean > -0.03);
        for (const auto& s : c.sanity) CHECK_MESSAGE(s.ok, s.check);
    }
}

}  // TEST_SUITE
