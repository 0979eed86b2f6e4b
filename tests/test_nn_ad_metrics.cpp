// The ad metrics (nn/ad_metrics.h) on hand-computed cases and against their pairwise definitions:
// csAUC's O(n log n) sweep against the O(n^2) double sum, Kendall's tau-b against a hand count.
#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "nn/ad_metrics.h"
#include "core/metrics.h"

using namespace minirec;

namespace {
// csAUC as written in the paper: every (higher level, lower level) pair, Rev-weighted, ties 1/2.
double brute_cs_auc(const std::vector<float>& s, const std::vector<float>& y, const std::vector<float>& bid) {
    double gained = 0.0, at_stake = 0.0;
    for (size_t h = 0; h < s.size(); ++h)
        for (size_t l = 0; l < s.size(); ++l) {
            if (y[h] <= 0.5f) continue;                                  // x_h must be a positive
            const bool lower = y[l] <= 0.5f || bid[l] < bid[h];          // x_l on a lower level
            if (!lower) continue;
            const double rev = double(bid[h]) - (y[l] > 0.5f ? double(bid[l]) : 0.0);
            at_stake += rev;
            gained += rev * (s[h] > s[l] ? 1.0 : s[h] == s[l] ? 0.5 : 0.0);
        }
    return gained / at_stake;
}
}  // namespace

TEST_SUITE("nn") {

TEST_CASE("coec: sums, groups, undefined cases") {
    CHECK(coec({1, 0, 1, 0}, {0.5f, 0.25f, 0.5f, 0.25f}) == doctest::Approx(2.0 / 1.5));
    CHECK(std::isnan(coec({0, 0}, {0, 0})));
    const std::vector<double> g = coec_by_group({0, 1, 0, 1}, {1, 0, 0, 1}, {0.5f, 0.2f, 0.5f, 0.3f}, 3);
    CHECK(g[0] == doctest::Approx(1.0));
    CHECK(g[1] == doctest::Approx(2.0));
    CHECK(std::isnan(g[2]));                                             // no impressions
    CHECK_THROWS(coec({1}, {0.1f, 0.2f}));
    CHECK_THROWS(coec({1}, {-0.1f}));
    CHECK_THROWS(coec_by_group({3}, {1}, {0.1f}, 3));
}

TEST_CASE("kendall_tau: agreement, reversal, ties, a hand count") {
    CHECK(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}) == doctest::Approx(1.0));
    CHECK(kendall_tau({1, 2, 3, 4}, {4, 3, 2, 1}) == doctest::Approx(-1.0));
    // (1,2,3,4) vs (1,3,2,4): 5 concordant pairs, 1 discordant -> 4/6.
    CHECK(kendall_tau({1, 2, 3, 4}, {1, 3, 2, 4}) == doctest::Approx(4.0 / 6.0));
    // tau-b with a tie in b: pairs untied in a 3, in b 2; C - D = 2 -> 2 / sqrt(6).
    CHECK(kendall_tau({1, 2, 3}, {1, 2, 2}) == doctest::Approx(2.0 / std::sqrt(6.0)));
    CHECK(std::isnan(kendall_tau({1, 1, 1}, {1, 2, 3})));
    CHECK(std::isnan(kendall_tau({1}, {1})));
}

TEST_CASE("cs_auc: level order gives 1, equal bids give AUC, agrees with the pairwise sum") {
    // Positives with bids 4, 3, 2, 1 above one negative, in level order -> 1.
    const std::vector<float> y = {1, 1, 1, 1, 0}, bid = {4, 3, 2, 1, 5};
    CHECK(cs_auc({5, 4, 3, 2, 1}, y, bid) == doctest::Approx(1.0));
    CHECK(cs_auc({1, 2, 3, 4, 5}, y, bid) == doctest::Approx(0.0));     // the exact reverse
    // Equal bids: every positive pair has Rev 0 and csAUC is AUC, ties included.
    const std::vector<float> s = {0.9f, 0.3f, 0.3f, 0.7f, 0.1f, 0.3f}, y2 = {1, 0, 1, 0, 1, 0};
    CHECK(cs_auc(s, y2, std::vector<float>(6, 2.5f)) == doctest::Approx(auc(s, y2)));
    // No revenue at stake: no positives, or equal-bid positives and no negatives.
    CHECK(std::isnan(cs_auc({0.1f, 0.2f}, {0, 0}, {1, 1})));
    CHECK(std::isnan(cs_auc({0.1f, 0.2f}, {1, 1}, {1, 1})));
    CHECK_THROWS(cs_auc({0.1f}, {1}, {-1.0f}));
    CHECK_THROWS(cs_auc({NAN}, {1}, {1.0f}));

    Rng rng(7);
    for (int trial = 0; trial < 20; ++trial) {
        const int n = 5 + rng.randint(60);
        std::vector<float> sc(static_cast<size_t>(n)), lab(sc), b(sc);
        for (int i = 0; i < n; ++i) {
            sc[size_t(i)] = float(rng.randint(8)) / 8.0f;                // many score ties
            lab[size_t(i)] = rng.uniform() < 0.4f ? 1.0f : 0.0f;
            b[size_t(i)] = float(1 + rng.randint(5));                    // many bid ties
        }
        const double want = brute_cs_auc(sc, lab, b);
        if (std::isnan(want)) continue;
        CHECK(cs_auc(sc, lab, b) == doctest::Approx(want).epsilon(1e-9));
    }
}

}  // TEST_SUITE
