// Tests of the synthetic generators: the same seed gives the same bits, other seeds differ, and
// the planted statistics are really there (for the synthetic retrieval problem, its Bayes scores).
// Loaders are tested in test_datasets_loaders.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "datasets/ad_impressions.h"
#include "datasets/funnel.h"
#include "datasets/item_stream.h"
#include "datasets/mmoe_synthetic.h"
#include "datasets/position_bias.h"
#include "datasets/retrieval.h"
#include "datasets/sampling.h"
#include "datasets/synthetic_ctr.h"

using namespace minirec;
using namespace minirec::datasets;

static bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
static bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_SUITE("datasets") {

TEST_CASE("Discrete sampling follows its weights and never picks zero weights") {
    Discrete d({0.0, 1.0, 3.0});
    Rng rng(3);
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 40000; ++i) counts[d.sample(rng)]++;
    CHECK(counts[0] == 0);
    CHECK(counts[2] / 40000.0 == doctest::Approx(0.75).epsilon(0.02));
    CHECK_THROWS_AS(Discrete({0.0, 0.0}), ArgumentError);
}

TEST_CASE("mmoe_synthetic: paper's construction, determinism, correlation rises with rho") {
    MMoEData a = mmoe_synthetic({.rho = 0.9, .n = 2000, .seed = 1, .input_dim = 20});
    MMoEData b = mmoe_synthetic({.rho = 0.9, .n = 2000, .seed = 1, .input_dim = 20});
    MMoEData c = mmoe_synthetic({.rho = 0.9, .n = 2000, .seed = 2, .input_dim = 20});
    CHECK(same_bits(a.x, b.x));
    CHECK(same_bits(a.y, b.y));
    CHECK_FALSE(same_bits(a.x, c.x));
    CHECK(a.x.shape() == Shape{2000, 20});
    CHECK(a.y.shape() == Shape{2000, 2});
    // u1, u2 orthonormal; |w1| = c; cos(w1, w2) = rho.
    double d11 = 0, d22 = 0, d12 = 0;
    for (int i = 0; i < 20; ++i) d11 += a.u1[i] * a.u1[i], d22 += a.u2[i] * a.u2[i], d12 += a.u1[i] * a.u2[i];
    CHECK(d11 == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(d22 == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(std::fabs(d12) < 1e-5);
    CHECK(a.weight_cosine == doctest::Approx(0.9).epsilon(1e-4));
    CHECK(a.alpha.size() == 10);
    CHECK(a.alpha[1] == 1.0);   // alpha_2 = 2 / 2
    CHECK(a.beta[2] == 9.0);    // beta_3 = 3^2
    // Labels follow the formula up to the noise.
    double y0 = mmoe_label(a.x.data(), a.w1, a.alpha, a.beta);
    CHECK(std::fabs(y0 - a.y[0]) < 0.6);
    // The paper's observation: label correlation increases with the weight cosine.
    double prev = -2.0;
    for (double rho : {-0.5, 0.0, 0.5, 0.9, 1.0}) {
        MMoEData d = mmoe_synthetic({.rho = rho, .n = 5000, .seed = 7, .input_dim = 20});
        CHECK(d.label_pearson > prev);
        prev = d.label_pearson;
    }
    CHECK(prev > 0.95);  // rho = 1: the labels differ only by noise
    CHECK_THROWS_AS(mmoe_synthetic({.rho = 1.5}), ArgumentError);
}

TEST_CASE("MMoEStream gives fresh inputs with fixed weights") {
    MMoEStream s({.rho = 0.5, .seed = 3, .input_dim = 10});
    MMoEData b1 = s.next(64), b2 = s.next(64);
    CHECK(same_bits(b1.w2, b2.w2));
    CHECK_FALSE(same_bits(b1.x, b2.x));
}

TEST_CASE("DriftingItemStream is Yi et al.'s simulation: i^2 then (M-1-i)^2") {
    DriftingItemStream s({.num_items = 100, .steps_per_phase = 200, .batch_size = 50, .seed = 1});
    double sum_sq = 0;
    for (int i = 0; i < 100; ++i) sum_sq += double(i) * i;
    CHECK(s.q(10, 0) == doctest::Approx(100.0 / sum_sq));
    CHECK(s.q(10, 200) == doctest::Approx(89.0 * 89.0 / sum_sq));
    CHECK(s.q(0, 0) == 0.0);
    CHECK(s.label_prob(10, 0) == doctest::Approx(50 * 100.0 / sum_sq));
    std::vector<double> c1(100, 0), c2(100, 0);
    for (int t = 0; t < 400; ++t)
        for (int32_t i : s.next_batch()) (t < 200 ? c1 : c2)[i] += 1.0 / (200 * 50);
    CHECK(c1[0] == 0.0);
    CHECK(c2[99] == 0.0);
    CHECK(c1[99] == doctest::Approx(s.q(99, 0)).epsilon(0.1));
    CHECK(c2[0] == doctest::Approx(s.q(0, 200)).epsilon(0.1));
    CHECK_THROWS_AS(s.next_batch(), ArgumentError);
    DriftingItemStream a({.num_items = 100, .seed = 4}), b({.num_items = 100, .seed = 4});
    CHECK(a.next_batch() == b.next_batch());
}

TEST_CASE("power_law_catalogue: item frequencies follow q, queries sit near their item") {
    PowerLawCatalogue p = power_law_catalogue({.num_items = 50, .n = 20000, .exponent = 1.0, .seed = 2});
    std::vector<double> freq(50, 0);
    for (int32_t i : p.positives) freq[i] += 1.0 / 20000;
    CHECK(freq[0] == doctest::Approx(p.item_prob[0]).epsilon(0.05));
    CHECK(p.item_prob[0] > p.item_prob[10]);
    PowerLawCatalogue q = power_law_catalogue({.num_items = 50, .n = 20000, .exponent = 1.0, .seed = 2});
    CHECK(same_bits(p.queries, q.queries));
}

TEST_CASE("the retrieval protocol: rank_catalogue against its definition, popularity, the stream replay") {
    const PowerLawCatalogueOptions c = {.num_items = 100, .n = 1200, .exponent = 1.0, .dim = 8, .query_noise = 0.1, .seed = 6};
    const RetrievalData d = power_law_retrieval(c, 1000);
    // Every row ranks its own positive first: recall 1 at every K; the head share is the share of
    // head items among the positives (K = 1).
    const RankingScores own = rank_catalogue(d, {1, 5}, 0.5, [&](size_t first, int rows, std::vector<float>& s) {
        s.assign(size_t(rows) * 100, 0.0f);
        for (int r = 0; r < rows; ++r) s[size_t(r) * 100 + size_t(d.test_relevant[first + size_t(r)][0])] = 1.0f;
    });
    CHECK(own.recall == std::vector<double>{1.0, 1.0});
    const std::vector<char> head = head_items(d.item_prob, 0.5);
    double in_head = 0;
    for (const Ids& rel : d.test_relevant) in_head += head[size_t(rel[0])];
    CHECK(own.head_share == doctest::Approx(in_head / 200.0));
    // Popularity: every row the same scores, the training positives' counts.
    std::vector<float> s;
    popularity_scores(d, 2, s);
    REQUIRE(s.size() == 200u);
    double total = 0;
    for (int j = 0; j < 100; ++j) {
        total += s[size_t(j)];
        CHECK(s[size_t(j)] == s[100 + size_t(j)]);
    }
    CHECK(total == 1000.0);
    // The stream replay: an estimator that knows the label has zero error in every window.
    struct Truth {
        DriftingItemStream stream;
        long t = 0;
        void observe(const Ids&) { ++t; }
        double probability(int32_t y) const { return stream.label_prob(y, t - 1); }
    };
    DriftingStreamOptions so;
    so.num_items = 50, so.steps_per_phase = 1000, so.batch_size = 16, so.seed = 2;
    std::vector<Truth> est = {{DriftingItemStream(so)}};
    const StreamErrors e = replay_drifting_stream(so, est, 100);
    REQUIRE(e.window_end.size() == 20u);
    CHECK(e.window_end.back() == 2000);
    for (double x : e.error[0]) CHECK(x == 0.0);
    CHECK(e.mean_between(0, 900, 1100) == 0.0);
    CHECK(std::isnan(e.mean_between(0, 3000, 4000)));
}

TEST_CASE("power_law_retrieval: the split, Bayes scores against their formula, the head of a catalogue") {
    const PowerLawCatalogueOptions c = {.num_items = 200, .n = 3000, .exponent = 1.0, .dim = 16, .query_noise = 0.1, .seed = 4};
    const RetrievalData d = power_law_retrieval(c, 2500);
    REQUIRE(d.train.size() == 2500u);
    REQUIRE(d.test.size() == 500u);
    CHECK(d.train.back() == 2499);
    CHECK(d.test.front() == 2500);
    CHECK(d.test_relevant[7] == Ids{d.positive[2507]});
    CHECK(d.exclude.empty());
    CHECK(d.num_query_ids == 0);
    CHECK(d.bayes_bias[3] == float(std::log(d.item_prob[3])));
    CHECK(d.noise_var == doctest::Approx(0.01));
    // Bayes scores of test rows 10 and 11: log q_j + <x, v_j> / sigma^2.
    std::vector<float> s;
    bayes_scores(d, 10, 2, s);
    REQUIRE(s.size() == 2u * 200u);
    const float* x = d.query_features.data() + size_t(d.test[11]) * 16;
    const float* v = d.item_features.data() + size_t(42) * 16;
    double dot = 0.0;
    for (int k = 0; k < 16; ++k) dot += double(x[k]) * v[k];
    CHECK(s[200 + 42] == doctest::Approx(std::log(d.item_prob[42]) + dot / 0.01).epsilon(1e-6));
    // With little noise the posterior's best item is almost always the query's own.
    bayes_scores(d, 0, 500, s);
    int hits = 0;
    for (int r = 0; r < 500; ++r) {
        const auto row = s.begin() + long(r) * 200;
        hits += int(std::max_element(row, row + 200) - row) == d.test_relevant[size_t(r)][0];
    }
    CHECK(hits > 480);
    // The head: the most popular items until their probabilities reach the mass; ties by id.
    CHECK(head_items({0.1, 0.4, 0.2, 0.3}, 0.5) == std::vector<char>{0, 1, 0, 1});
    CHECK(head_items({0.25, 0.25, 0.25, 0.25}, 0.5) == std::vector<char>{1, 1, 0, 0});
    CHECK(head_items({0.1, 0.4, 0.2, 0.3}, 0.0) == std::vector<char>{0, 0, 0, 0});
}

TEST_CASE("ad_impressions: each ad's mean true CTR is set, one offset per ad, a shared id space") {
    const CtrOptions co = {.n = 20000, .seed = 3};
    const std::vector<double> share = {0.5, 0.3, 0.2}, ctr = {0.3, 0.2, 0.2};
    const AdImpressions a = ad_impressions(co, share, ctr), b = ad_impressions(co, share, ctr);
    CHECK(a.ad == b.ad);
    CHECK(same_bits(a.labels, b.labels));
    CHECK(a.ad != ad_impressions({.n = 20000, .seed = 4}, share, ctr).ad);
    REQUIRE(a.ad.size() == 20000u);
    std::vector<double> rows(3, 0.0), prob(3, 0.0), clicks(3, 0.0), lo(3, 1e9), hi(3, -1e9);
    for (size_t r = 0; r < a.ad.size(); ++r) {
        const size_t k = size_t(a.ad[r]);
        rows[k] += 1, prob[k] += a.prob[r], clicks[k] += a.labels[r];
        // The offset a_k = logit(p) - g(x) is one number per ad (up to float rounding).
        const double offset = std::log(a.prob[r] / (1.0 - a.prob[r])) - (a.ctx.true_logit[r] - co.bias);
        lo[k] = std::min(lo[k], offset), hi[k] = std::max(hi[k], offset);
    }
    for (size_t k = 0; k < 3; ++k) {
        CHECK(rows[k] / 20000 == doctest::Approx(share[k]).epsilon(0.05));
        CHECK(prob[k] / rows[k] == doctest::Approx(ctr[k]).epsilon(1e-4));
        CHECK(clicks[k] / rows[k] == doctest::Approx(ctr[k]).epsilon(0.1));
        CHECK(hi[k] - lo[k] < 1e-3);
    }
    CHECK(lo[0] > lo[1]);                                         // ad A has the highest CTR
    // Fields: the context's, then the ad; ids offset into one space.
    CHECK(a.fields == a.ctx.num_fields + 1);
    REQUIRE(a.offsets.size() == size_t(a.fields));
    int total = 0;
    for (int f = 0; f < a.ctx.num_fields; ++f) {
        CHECK(a.offsets[size_t(f)] == total);
        total += a.ctx.vocab_sizes[size_t(f)];
    }
    CHECK(a.offsets.back() == total);
    CHECK(a.num_ids == total + 3);
}

TEST_CASE("synthetic_ctr: determinism, shapes, oracle beats base rate") {
    CtrData a = synthetic_ctr({.n = 5000, .seed = 1});
    CtrData b = synthetic_ctr({.n = 5000, .seed = 1});
    CtrData c = synthetic_ctr({.n = 5000, .seed = 2});
    CHECK(a.cat == b.cat);
    CHECK(same_bits(a.true_prob, b.true_prob));
    CHECK(same_bits(a.labels, b.labels));
    CHECK_FALSE(same_bits(a.true_prob, c.true_prob));
    CHECK(a.cat.size() == size_t(5000) * a.num_fields);
    CHECK(a.tag_offsets.size() == 5001);
    // Zipf: value 0 is the most frequent in every field.
    std::vector<int> count(a.vocab_sizes[0], 0);
    for (int r = 0; r < 5000; ++r) count[a.cat[size_t(r) * a.num_fields]]++;
    CHECK(count[0] > count[5]);
    // The labels agree with the true probabilities, and the true probabilities carry information.
    double mean_label = 0;
    for (float y : a.labels) mean_label += y / 5000;
    CHECK(mean_label == doctest::Approx(a.base_rate).epsilon(0.1));
    double p = a.base_rate, base_loss = -(p * std::log(p) + (1 - p) * std::log(1 - p));
    CHECK(a.oracle_logloss < base_loss - 0.02);
    CHECK_THROWS_AS(synthetic_ctr({.pairs = {{0, 9}}}), ArgumentError);
}

TEST_CASE("position_bias_logs: CTR falls with position; examination matches exam_prob") {
    PositionBiasData d = position_bias_logs({.num_lists = 4000, .seed = 1, .ranker_noise = 100.0});
    CHECK(d.rows.size() == size_t(4000) * 10);
    CHECK(d.exam_prob[0] == 1.0f);
    CHECK(d.exam_prob[3] == doctest::Approx(0.25));
    std::vector<double> ctr = ctr_by_position(d);
    CHECK(ctr[0] > ctr[4]);
    CHECK(ctr[4] > ctr[9]);
    // With a random ranker, relevance is the same at every position, so CTR ratios are exam ratios.
    CHECK(ctr[1] / ctr[0] == doctest::Approx(0.5).epsilon(0.15));
    double exam3 = 0;
    for (const ShownItem& s : d.rows)
        if (s.position == 3) exam3 += s.examined / 4000.0;
    CHECK(exam3 == doctest::Approx(0.25).epsilon(0.1));
    int click_without_exam = 0;
    for (const ShownItem& s : d.rows) click_without_exam += s.click == 1.0f && s.examined == 0.0f;
    CHECK(click_without_exam == 0);
    PositionBiasData e = position_bias_logs({.num_lists = 100, .seed = 1, .with_bids = true});
    PositionBiasData f = position_bias_logs({.num_lists = 100, .seed = 1, .with_bids = true});
    CHECK(e.bids.size() == 500);
    CHECK(same_bits(e.bids, f.bids));
    CHECK(e.rows.back().item == f.rows.back().item);
}

TEST_CASE("funnel: stage rates match their targets, purchases only after clicks") {
    FunnelData f = funnel({.n = 60000, .seed = 3});
    FunnelData g = funnel({.n = 60000, .seed = 3});
    CHECK(same_bits(f.p_purchase, g.p_purchase));
    CHECK(same_bits(f.purchase, g.purchase));
    double clicks = 0, dact = 0, buy_d = 0, buy_o = 0, oact = 0;
    int buy_without_click = 0;
    for (size_t r = 0; r < f.click.size(); ++r) {
        clicks += f.click[r], dact += f.daction[r], oact += f.oaction[r];
        buy_d += f.daction[r] * f.purchase[r], buy_o += f.oaction[r] * f.purchase[r];
        buy_without_click += f.purchase[r] == 1.0f && f.click[r] == 0.0f;
    }
    CHECK(buy_without_click == 0);
    const double n = 60000;
    CHECK(clicks / n == doctest::Approx(0.05).epsilon(0.08));      // about 3000 clicks
    CHECK(dact / clicks == doctest::Approx(0.2).epsilon(0.25));     // P(d_action | click) on clicked rows
    double mean_p = 0;
    for (float p : f.p_click) mean_p += p / n;
    CHECK(mean_p == doctest::Approx(0.05).epsilon(1e-3));           // calibrated exactly
    CHECK(buy_d / dact > buy_o / oact);                             // carts convert better
}

}  // TEST_SUITE
