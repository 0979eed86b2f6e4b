// Metrics on hand-computed cases, against a brute-force O(n^2) AUC, and on the edge cases the
// header documents: one class, ties, K larger than the list, empty relevant sets.
#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "core/metrics.h"

using namespace minirec;

namespace {
// The definition itself: the fraction of (positive, negative) pairs ordered correctly, ties 1/2.
double brute_auc(const std::vector<float>& s, const std::vector<float>& y) {
    double good = 0, pairs = 0;
    for (size_t i = 0; i < s.size(); ++i)
        for (size_t j = 0; j < s.size(); ++j)
            if (y[i] > 0.5f && y[j] <= 0.5f) {
                pairs += 1;
                good += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
            }
    return good / pairs;
}
}  // namespace

TEST_SUITE("nn") {

TEST_CASE("auc: hand cases, ties, one class") {
    CHECK(auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}) == doctest::Approx(0.75));
    CHECK(auc({0.5f, 0.5f}, {1, 0}) == doctest::Approx(0.5));                       // a tie is half
    CHECK(auc({0.2f, 0.5f, 0.5f, 0.9f}, {0, 1, 0, 1}) == doctest::Approx(3.5 / 4));
    CHECK(auc({3, 2, 1}, {1, 0, 0}) == 1.0);
    CHECK(auc({3, 2, 1}, {0, 1, 1}) == 0.0);
    CHECK(auc({7, 7, 7, 7}, {1, 0, 1, 0}) == 0.5);                                  // a constant model
    CHECK(std::isnan(auc({0.1f, 0.2f}, {1, 1})));                                   // one class: NaN
    CHECK(std::isnan(auc({0.1f, 0.2f}, {0, 0})));
    CHECK(std::isnan(auc({}, {})));
    CHECK_THROWS_AS(auc({0.1f}, {1, 0}), ArgumentError);
    CHECK_THROWS_AS(auc({NAN, 0.2f}, {1, 0}), ArgumentError);
}

TEST_CASE("auc agrees with the pairwise definition on random data with many ties") {
    Rng rng(3);
    for (int trial = 0; trial < 20; ++trial) {
        const int n = 5 + rng.randint(200);
        std::vector<float> s(static_cast<size_t>(n)), y(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            s[static_cast<size_t>(i)] = static_cast<float>(rng.randint(12)) / 4.0f;  // 12 distinct values
            y[static_cast<size_t>(i)] = rng.bernoulli(0.3f) ? 1.0f : 0.0f;
        }
        y[0] = 1, y[1] = 0;
        CHECK(auc(s, y) == doctest::Approx(brute_auc(s, y)).epsilon(1e-12));
    }
}

TEST_CASE("gauc: impression-weighted, one-class users skipped") {
    // user 1: AUC 1 over 3 impressions; user 2: AUC 0 over 2; user 3: only positives (skipped).
    const Ids users = {1, 2, 3, 1, 2, 1, 3};
    const std::vector<float> s = {0.9f, 0.2f, 0.4f, 0.1f, 0.8f, 0.5f, 0.6f};
    const std::vector<float> y = {1, 1, 1, 0, 0, 0, 1};
    CHECK(gauc(users, s, y) == doctest::Approx((3 * 1.0 + 2 * 0.0) / 5));
    CHECK(std::isnan(gauc({1, 2}, {0.3f, 0.4f}, {1, 0})));  // every user has one class
    CHECK_THROWS_AS(gauc({1}, {0.3f, 0.4f}, {1, 0}), ArgumentError);
}

TEST_CASE("logloss and rmse") {
    CHECK(logloss({0.9f, 0.2f}, {1, 0}) == doctest::Approx(-(std::log(0.9) + std::log(0.8)) / 2).epsilon(1e-6));
    CHECK(logloss({0.0f}, {1}) == doctest::Approx(-std::log(1e-7)).epsilon(1e-9));  // clipped, not inf
    CHECK(logloss({1.0f}, {1}) == doctest::Approx(0.0));
    CHECK(std::isnan(logloss({}, {})));
    CHECK(rmse({1, 2, 3}, {1, 2, 5}) == doctest::Approx(std::sqrt(4.0 / 3)));
    CHECK(std::isnan(rmse({}, {})));
}

TEST_CASE("top-K ranking metrics on a hand-computed list") {
    const Ids ranked = {10, 20, 30, 40, 50};
    const Ids rel = {20, 50, 99};  // 99 is never recommended
    const double l3 = 1 / std::log2(3.0), l4 = 0.5, l6 = 1 / std::log2(6.0);
    // K = 3: one hit, at position 1.
    CHECK(hit_rate_at_k(ranked, rel, 3) == 1.0);
    CHECK(precision_at_k(ranked, rel, 3) == doctest::Approx(1.0 / 3));
    CHECK(recall_at_k(ranked, rel, 3) == doctest::Approx(1.0 / 3));
    CHECK(ndcg_at_k(ranked, rel, 3) == doctest::Approx(l3 / (1 + l3 + l4)));
    CHECK(average_precision_at_k(ranked, rel, 3) == doctest::Approx((1.0 / 2) / 3));
    // K = 5: hits at positions 1 and 4.
    CHECK(precision_at_k(ranked, rel, 5) == doctest::Approx(2.0 / 5));
    CHECK(recall_at_k(ranked, rel, 5) == doctest::Approx(2.0 / 3));
    CHECK(ndcg_at_k(ranked, rel, 5) == doctest::Approx((l3 + l6) / (1 + l3 + l4)));
    CHECK(average_precision_at_k(ranked, rel, 5) == doctest::Approx((1.0 / 2 + 2.0 / 5) / 3));
    CHECK(reciprocal_rank(ranked, rel) == doctest::Approx(0.5));
    // K = 1: a miss.
    CHECK(hit_rate_at_k(ranked, rel, 1) == 0.0);
    CHECK(ndcg_at_k(ranked, rel, 1) == 0.0);
    // A perfect list.
    CHECK(ndcg_at_k({20, 50, 99, 1}, rel, 3) == doctest::Approx(1.0));
    CHECK(average_precision_at_k({20, 50, 99, 1}, rel, 4) == doctest::Approx(1.0));
}

TEST_CASE("ranking metrics: K beyond the list, no hits, empty relevant set, bad input") {
    const Ids ranked = {10, 20, 30, 40, 50};
    const Ids rel = {20, 50, 99};
    CHECK(precision_at_k(ranked, rel, 10) == doctest::Approx(2.0 / 10));  // still divides by K
    CHECK(recall_at_k(ranked, rel, 10) == doctest::Approx(2.0 / 3));
    CHECK(ndcg_at_k(ranked, rel, 10) == doctest::Approx(ndcg_at_k(ranked, rel, 5)));
    CHECK(hit_rate_at_k({}, rel, 5) == 0.0);
    CHECK(reciprocal_rank({1, 2}, rel) == 0.0);
    CHECK(std::isnan(ndcg_at_k(ranked, {}, 5)));
    CHECK(std::isnan(recall_at_k(ranked, {}, 5)));
    CHECK(std::isnan(reciprocal_rank(ranked, {})));
    CHECK_THROWS_AS(ndcg_at_k(ranked, rel, 0), ArgumentError);
    CHECK_THROWS_AS(precision_at_k({1, 2, 1}, rel, 2), ArgumentError);
    CHECK(nan_mean({1.0, NAN, 0.0}) == doctest::Approx(0.5));
    CHECK(std::isnan(nan_mean({NAN})));
}

TEST_CASE("top_k and rank_of: deterministic ties, pessimistic rank") {
    CHECK(top_k({0.1f, 0.9f, 0.5f, 0.9f}, 3) == Ids{1, 3, 2});
    CHECK(top_k({0.1f, 0.9f}, 10) == Ids{1, 0});
    CHECK(top_k({0.1f, 0.9f}, 0).empty());
    CHECK(rank_of({0.9f, 0.1f, 0.3f}, 0) == 0);
    CHECK(rank_of({0.9f, 0.1f, 0.3f}, 1) == 2);
    CHECK(rank_of({0.5f, 0.5f, 0.5f}, 0) == 2);  // ties count against the target
    CHECK_THROWS_AS(rank_of({0.5f}, 1), ArgumentError);
}

TEST_CASE("quantile: numpy's linear interpolation, median and quartiles, unsorted input") {
    CHECK(quantile({3.0, 1.0, 2.0}, 0.5) == 2.0);
    CHECK(quantile({4.0, 1.0, 3.0, 2.0}, 0.5) == doctest::Approx(2.5));
    CHECK(quantile({1.0, 2.0, 3.0, 4.0, 5.0}, 0.25) == doctest::Approx(2.0));
    CHECK(quantile({1.0, 2.0, 3.0, 4.0}, 0.75) == doctest::Approx(3.25));  // numpy: 3.25
    CHECK(quantile({7.0}, 0.9) == 7.0);
    CHECK(quantile({5.0, 1.0}, 0.0) == 1.0);
    CHECK(quantile({5.0, 1.0}, 1.0) == 5.0);
    CHECK(std::isnan(quantile({}, 0.5)));
    CHECK_THROWS_AS(quantile({1.0}, 1.5), ArgumentError);
}

}  // TEST_SUITE
