// Tests of the sequence, slate and cold-start generators: determinism and planted structure.
#include <doctest/doctest.h>

#include "datasets/cold_start.h"
#include "datasets/sequences.h"
#include "datasets/slates.h"

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

}  // TEST_SUITE
