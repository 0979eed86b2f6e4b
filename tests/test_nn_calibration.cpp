// Calibration metrics (nn/calibration.h) on hand-computed bins, the edge cases the header lists,
// and the two facts the book uses: a constant 0.5 on 25% data has ECE 0.25, and labels drawn from
// the predicted probabilities themselves give an ECE near 0.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/rng.h"
#include "nn/calibration.h"

using namespace minirec;

TEST_SUITE("nn") {

TEST_CASE("reliability_bins: hand-computed bins, p = 1 in the last bin, empty bins are NaN") {
    //            bin 0        bin 0  bin 1  bin 3   bin 3 (p = 1)
    const std::vector<float> p = {0.0f, 0.2f, 0.3f, 0.8f, 1.0f};
    const std::vector<float> y = {0, 1, 1, 0, 1};
    const std::vector<ReliabilityBin> b = reliability_bins(p, y, 4);
    REQUIRE(b.size() == 4);
    CHECK(b[0].count == 2);
    CHECK(b[0].mean_pred == doctest::Approx(0.1));
    CHECK(b[0].mean_label == doctest::Approx(0.5));
    CHECK(b[1].count == 1);
    CHECK(b[2].count == 0);
    CHECK(std::isnan(b[2].mean_pred));
    CHECK(b[3].count == 2);
    CHECK(b[3].mean_pred == doctest::Approx(0.9));
    CHECK(b[3].lo == doctest::Approx(0.75));
    CHECK(b[3].hi == doctest::Approx(1.0));
    // ECE = 2/5 |0.5 - 0.1| + 1/5 |1 - 0.3| + 2/5 |0.5 - 0.9|
    CHECK(expected_calibration_error(p, y, 4) == doctest::Approx(0.4 * 0.4 + 0.2 * 0.7 + 0.4 * 0.4));
}

TEST_CASE("expected_calibration_error: constant predictions, calibrated draws, bad input") {
    std::vector<float> p(1000, 0.5f), y(1000, 0.0f);
    for (size_t i = 0; i < y.size(); i += 4) y[i] = 1.0f;                    // a 25% rate
    CHECK(expected_calibration_error(p, y) == doctest::Approx(0.25));
    std::fill(p.begin(), p.end(), 0.25f);
    CHECK(expected_calibration_error(p, y) == doctest::Approx(0.0).epsilon(1e-6));

    Rng rng(7);  // labels drawn from the predictions: calibrated up to sampling noise
    std::vector<float> q(20000), z(20000);
    for (size_t i = 0; i < q.size(); ++i) q[i] = rng.uniform(), z[i] = rng.bernoulli(q[i]) ? 1.0f : 0.0f;
    CHECK(expected_calibration_error(q, z) < 0.02);

    CHECK(std::isnan(expected_calibration_error({}, {})));
    CHECK_THROWS_AS(expected_calibration_error({0.5f}, {1.0f, 0.0f}), std::invalid_argument);
    CHECK_THROWS_AS(expected_calibration_error({1.5f}, {1.0f}), std::invalid_argument);
    CHECK_THROWS_AS(expected_calibration_error({std::nanf("")}, {1.0f}), std::invalid_argument);
    CHECK_THROWS_AS(reliability_bins({0.5f}, {1.0f}, 0), std::invalid_argument);
}

}  // TEST_SUITE
