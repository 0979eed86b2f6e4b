// Tests of the sequence, slate, cold-start, multi-interest and trait-shop generators: determinism and planted
// structure.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "datasets/cold_start.h"
#include "datasets/multi_interest.h"
#include "datasets/sequences.h"
#include "datasets/slates.h"
#include "datasets/trait_shop.h"

using namespace minirec;
using namespace minirec::datasets;

TEST_SUITE("datasets") {

TEST_CASE("sequences: determinism, time order, planted transitions and interests") {
    SequenceData a = sequences({.num_users = 200, .seed = 5, .order_strength = 1.0});
    SequenceData b = sequences({.num_users = 200, .seed = 5, .order_strength = 1.0});
    CHECK(item_sequences(a) == item_sequences(b));
    CHECK(item_sequences(a) != item_sequences(sequences({.num_users = 200, .seed = 6})));
    int follows = 0, pairs = 0, out_of_order = 0, off_interest = 0;
    for (const auto& ev : a.events) {
        int last = -1, session = -1;
        for (size_t k = 0; k < ev.size(); ++k) {
            if (k > 0) out_of_order += ev[k].time < ev[k - 1].time;
            const Event& e = ev[k];
            off_interest += e.category != e.interest;
            if (e.item < 0) continue;
            if (e.session == session && last >= 0) {
                ++pairs;
                for (int32_t s : a.successors[last]) follows += s == e.item ? 1 : 0;
            }
            last = e.item, session = e.session;
        }
    }
    CHECK(out_of_order == 0);
    CHECK(off_interest == 0);   // sessions stay inside one interest cluster
    CHECK(follows >= pairs);    // order_strength 1: every in-session step follows a planted edge
    auto p = next_item_distribution(a, 2, a.events[0][1].item >= 0 ? a.events[0][1].item : 0);
    double sum = 0;
    for (float v : p) sum += v;
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
}

TEST_CASE("slates: similarity, feasibility, redundancy lowers the click probability") {
    SlateData d = slates({.num_requests = 20, .seed = 3});
    SlateData e = slates({.num_requests = 20, .seed = 3});
    CHECK(d.requests[7].relevance == e.requests[7].relevance);
    CHECK(d.requests[7].logged_clicks == e.requests[7].logged_clicks);
    const SlateRequest& q = d.requests[0];
    CHECK(q.similarity.at({3, 3}) == 1.0f);
    CHECK(q.similarity.at({2, 5}) == q.similarity.at({5, 2}));
    // An item shown twice is fully redundant with itself: its second copy is suppressed.
    auto a = slate_item_click_probs(d, q, {0, 0});
    CHECK(a[1] == doctest::Approx(q.relevance[0] * (1 - d.redundancy)));
    CHECK_FALSE(slate_feasible(d, q, {0, 0}));
    Ids best = best_slate_bruteforce(d, q);
    REQUIRE(best.size() == 4);
    CHECK(slate_feasible(d, q, best));
    if (slate_feasible(d, q, q.logged_slate)) CHECK(slate_click_prob(d, q, best) >= slate_click_prob(d, q, q.logged_slate));
}

TEST_CASE("cold_start: hold-outs are disjoint, tastes drive clicks") {
    ColdStartData a = cold_start({.num_users = 300, .seed = 2});
    ColdStartData b = cold_start({.num_users = 300, .seed = 2});
    CHECK(a.train.size() == b.train.size());
    CHECK(a.user_tags == b.user_tags);
    for (const ColdStartRow& r : a.train) REQUIRE((!a.is_new_user[r.user] && !a.is_new_item[r.item]));
    for (const ColdStartRow& r : a.test_new_users) REQUIRE(a.is_new_user[r.user]);
    for (const ColdStartRow& r : a.test_new_items) REQUIRE(a.is_new_item[r.item]);
    CHECK(a.train.size() + a.test_new_users.size() + a.test_new_items.size() + a.test_both_new.size() == 300u * 30u);
    // Clicked rows have a higher true probability than unclicked ones on average.
    double pc = 0, pn = 0, nc = 0, nn = 0;
    for (const ColdStartRow& r : a.train) (r.click > 0 ? pc : pn) += r.true_prob, (r.click > 0 ? nc : nn) += 1;
    CHECK(pc / nc > pn / nn + 0.1);
}

TEST_CASE("cold_start: the long tail keeps min(1, tail_rank / (rank + 1)) of each item's train rows; shops") {
    const ColdStartOptions full{.num_users = 400, .seed = 4, .num_items = 300, .items_per_user = 100};
    ColdStartOptions thin = full;
    thin.tail_rank = 20.0, thin.num_shops = 7;
    const ColdStartData a = cold_start(full), b = cold_start(thin);
    CHECK(a.exposure_rank.empty());
    CHECK(a.item_shop.empty());
    // Everything but the train log is unchanged, and the thinned log is a subsequence of the full one.
    CHECK(a.user_tags == b.user_tags);
    CHECK(a.test_new_users.size() == b.test_new_users.size());
    CHECK(a.test_new_items.size() == b.test_new_items.size());
    REQUIRE(b.exposure_rank.size() == 300u);
    Ids sorted = b.exposure_rank;
    std::sort(sorted.begin(), sorted.end());
    for (int r = 0; r < 300; ++r) REQUIRE(sorted[size_t(r)] == r);
    size_t j = 0;
    for (const ColdStartRow& r : a.train)
        if (j < b.train.size() && b.train[j].user == r.user && b.train[j].item == r.item) ++j;
    CHECK(j == b.train.size());
    // Per item: kept / shown against min(1, 20 / (rank + 1)). Ranks 0..19 keep every row.
    std::vector<double> shown(300), kept(300);
    for (const ColdStartRow& r : a.train) shown[size_t(r.item)] += 1;
    for (const ColdStartRow& r : b.train) kept[size_t(r.item)] += 1;
    double expected = 0, got = 0, variance = 0;
    for (int i = 0; i < 300; ++i) {
        const double p = std::min(1.0, 20.0 / (b.exposure_rank[size_t(i)] + 1.0));
        if (p == 1.0) CHECK(kept[size_t(i)] == shown[size_t(i)]);
        expected += p * shown[size_t(i)], got += kept[size_t(i)], variance += p * (1 - p) * shown[size_t(i)];
    }
    CHECK(std::abs(got - expected) < 4 * std::sqrt(variance));
    CHECK(got < 0.5 * double(a.train.size()));                 // a real thinning, not a no-op
    // Shops: one per item, in range, every shop used.
    REQUIRE(b.item_shop.size() == 300u);
    std::set<int> shops(b.item_shop.begin(), b.item_shop.end());
    CHECK(shops.size() == 7u);
    CHECK(*shops.begin() == 0);
    CHECK(*shops.rbegin() == 6);
    // The planted probability of a logged row is the one the generator drew the click with.
    for (size_t k = 0; k < 50; ++k)
        CHECK(float(cold_start_click_prob(b, thin, b.train[k].user, b.train[k].item)) == b.train[k].true_prob);
}

TEST_CASE("multi_interest: users mix m distinct clusters, behaviours spread uniformly over them") {
    MultiInterestOptions o;
    o.clusters = 10, o.items_per_cluster = 6, o.train_users = 3000, o.test_users = 400, o.seed = 3;
    const MultiInterestData a = multi_interest(o), b = multi_interest(o);
    REQUIRE(a.train.size() == 3000u);
    REQUIRE(a.test.size() == 400u);
    CHECK(a.train[17].history == b.train[17].history);
    CHECK(a.test[9].targets == b.test[9].targets);
    o.seed = 4;
    CHECK(multi_interest(o).train[17].history != a.train[17].history);
    std::vector<double> users_by_m(5), own_share(5);
    double length = 0;
    for (const auto* users : {&a.train, &a.test})
        for (const MultiInterestUser& u : *users) {
            const int m = int(u.clusters.size());
            REQUIRE(m >= 1);
            REQUIRE(m <= 4);
            CHECK(std::set<int>(u.clusters.begin(), u.clusters.end()).size() == size_t(m));   // distinct
            REQUIRE(int(u.history.size()) >= 8);
            REQUIRE(int(u.history.size()) <= 32);
            REQUIRE(u.history_cluster.size() == u.history.size());
            for (size_t t = 0; t < u.history.size(); ++t) {
                REQUIRE(u.history[t] / 6 == u.history_cluster[t]);
                REQUIRE(std::count(u.clusters.begin(), u.clusters.end(), u.history_cluster[t]) == 1);
            }
            for (int item : u.targets) REQUIRE(std::count(u.clusters.begin(), u.clusters.end(), item / 6) == 1);
            const double first = double(std::count(u.history_cluster.begin(), u.history_cluster.end(), u.clusters[0]));
            users_by_m[size_t(m)] += 1, own_share[size_t(m)] += first / double(u.history.size());
            length += double(u.history.size());
        }
    for (const MultiInterestUser& u : a.train) CHECK(u.targets.size() == 1u);
    for (const MultiInterestUser& u : a.test) {
        REQUIRE(u.targets.size() == 5u);
        CHECK(std::set<int>(u.targets.begin(), u.targets.end()).size() == 5u);               // distinct
    }
    // m uniform on 1..4 (3400 users: 850 expected each); a user's first cluster holds 1/m of the
    // history; lengths uniform on 8..32 (mean 20).
    for (int m = 1; m <= 4; ++m) {
        CHECK(std::abs(users_by_m[size_t(m)] - 850.0) < 100.0);
        CHECK(own_share[size_t(m)] / users_by_m[size_t(m)] == doctest::Approx(1.0 / m).epsilon(0.05));
    }
    CHECK(length / 3400.0 == doctest::Approx(20.0).epsilon(0.02));
    CHECK(multi_interest_oracle_recall(o, 2, 6) == doctest::Approx(0.5));
    CHECK(multi_interest_oracle_recall(o, 1, 50) == 1.0);
    o.min_interests = 0;
    CHECK_THROWS(multi_interest(o));
    o.min_interests = 1, o.max_interests = 11;                   // more interests than clusters
    CHECK_THROWS(multi_interest(o));
}

TEST_CASE("multi_interest: the Rand index and the retrieval protocol (a ranking that knows the clusters)") {
    CHECK(rand_index({0, 0, 1, 1}, {5, 5, 7, 7}) == 1.0);                 // the same partition, other labels
    CHECK(rand_index({0, 0, 1, 1}, {0, 1, 0, 1}) == doctest::Approx(2.0 / 6.0));   // agree on (0,3), (1,2) only
    CHECK(std::isnan(rand_index({3}, {0})));
    MultiInterestOptions o;
    o.clusters = 8, o.items_per_cluster = 10, o.train_users = 0, o.test_users = 300, o.seed = 5;
    const MultiInterestData d = multi_interest(o);
    // Score 1 for the items of the user's own clusters (ties broken by id): the planted oracle.
    const MultiInterestRecall r = multi_interest_recall(d, {10, 80}, [&](const std::vector<int>& rows, std::vector<float>& s) {
        s.assign(rows.size() * 80, 0.0f);
        for (size_t b = 0; b < rows.size(); ++b)
            for (int c : d.test[size_t(rows[b])].clusters)
                for (int i = 0; i < 10; ++i) s[b * 80 + size_t(c * 10 + i)] = 1.0f;
    });
    CHECK(r.recall[1] == 1.0);                                           // N = the whole catalogue
    CHECK(r.hit[1] == 1.0);
    CHECK(r.recall_by_m[0][0] == 1.0);                                  // m = 1: the cluster is the top 10
    CHECK(r.recall_by_m[1][0] < 1.0);                                   // m = 2: only one cluster fits
}

TEST_CASE("trait_shop: buys reveal the traits, clicks do not; each task follows its traits") {
    TraitShopOptions o;
    o.users = 1500, o.transfer_users = 500, o.seed = 3;
    const TraitShop a = trait_shop(o), b = trait_shop(o);
    const int U = a.all_users(), K = 4, T = o.length, N = o.items;
    REQUIRE(a.seq_item.size() == size_t(U * T));
    REQUIRE(a.click.size() == size_t(U * o.ctr_rows_per_user));
    CHECK(a.seq_item == b.seq_item);
    CHECK(a.click == b.click);
    CHECK(a.new_label == b.new_label);
    o.seed = 4;
    CHECK(trait_shop(o).seq_item != a.seq_item);
    auto dot = [&](int u, int i) {                   // <z_u, v_i>
        double s = 0.0;
        for (int k = 0; k < K; ++k) s += double(a.z[size_t(u * K + k)]) * a.v[size_t(i * K + k)];
        return s;
    };
    // A buy is drawn from softmax(beta <z_u, v_i>), a click uniformly: only buys lean to the user.
    double buy_dot = 0, click_dot = 0, buys = 0;
    for (int u = 0; u < U; ++u)
        for (int t = 0; t < T; ++t) {
            const int i = a.seq_item[size_t(u * T + t)];
            REQUIRE(i >= 0);
            REQUIRE(i < N);
            const bool buy = a.seq_type[size_t(u * T + t)] == kBuy;
            (buy ? buy_dot : click_dot) += dot(u, i), buys += buy;
        }
    CHECK(buys / (U * T) == doctest::Approx(o.buy_rate).epsilon(0.05));
    CHECK(buy_dot / buys > 2.0);
    CHECK(std::fabs(click_dot / (U * T - buys)) < 0.2);
    // Price levels are quartiles of v_i[2]; price and shop classes quartiles of z2 and z3.
    std::vector<int> level_count(4, 0);
    for (int i = 0; i < N; ++i) {
        CHECK(a.price[size_t(i)] == normal_quartile(a.v[size_t(i * K + 2)]));
        level_count[size_t(a.price[size_t(i)])] += 1;
    }
    for (int c : level_count) CHECK(std::abs(c - N / 4) < 25);
    double profile_agrees = 0, new_agrees = 0, control_agrees = 0;
    for (int u = 0; u < U; ++u) {
        const float* z = &a.z[size_t(u * K)];
        CHECK(a.price_class[size_t(u)] == normal_quartile(z[2]));
        CHECK(a.shop_class[size_t(u)] == normal_quartile(z[3]));
        profile_agrees += a.profile[size_t(u)] == (z[0] > 0.0f ? 1 : 0);
        new_agrees += a.new_label[size_t(u)] == (z[1] + z[2] - z[3] > 0.0f ? 1.0f : 0.0f);
        control_agrees += a.control_label[size_t(u)] == (z[0] - z[1] > 0.0f ? 1.0f : 0.0f);
    }
    CHECK(profile_agrees / U == doctest::Approx(0.8).epsilon(0.05));   // flipped with probability 0.2
    CHECK(new_agrees / U > 0.8);                                       // noise 0.5 against a spread of sqrt(3)
    CHECK(control_agrees / U > 0.8);                                   // noise 0.5 against a spread of sqrt(2)
    const TransferSplit t = transfer_split(a, a.new_label);            // halves of the new users, one row each
    REQUIRE(t.train_rows.size() == 250);
    REQUIRE(t.test_rows.size() == 250);
    CHECK(a.ctr_user[size_t(t.train_rows[0])] == o.users);
    CHECK(a.ctr_user[size_t(t.test_rows.back())] == U - 1);
    CHECK(t.yte.back() == a.new_label[size_t(U - 1)]);
    // Clicks follow sigmoid(ctr_scale (z0 v_j0 + z1 v_j1)): candidates with a positive score are
    // clicked far more often than those with a negative one.
    double up = 0, up_n = 0, down = 0, down_n = 0;
    for (size_t r = 0; r < a.click.size(); ++r) {
        const int u = a.ctr_user[r], j = a.ctr_item[r];
        REQUIRE(u == int(r) / o.ctr_rows_per_user);
        const double s = double(a.z[size_t(u * K)]) * a.v[size_t(j * K)] + double(a.z[size_t(u * K + 1)]) * a.v[size_t(j * K + 1)];
        (s > 0 ? up : down) += a.click[r], (s > 0 ? up_n : down_n) += 1;
    }
    CHECK(up / up_n > 0.7);
    CHECK(down / down_n < 0.3);
    o.traits = 3;
    CHECK_THROWS(trait_shop(o));
    o.traits = 4, o.transfer_users = 3;
    CHECK_THROWS(trait_shop(o));
}

}  // TEST_SUITE
