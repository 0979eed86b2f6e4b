// The next-item protocol (datasets/next_item.h): the split, the negatives and the metrics by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "datasets/next_item.h"
#include "tests/movielens_fixture.h"
#include "tests/movielens_genre_fixture.h"

using namespace minirec;
using namespace minirec::datasets;

TEST_SUITE("datasets") {

TEST_CASE("next_item: histories in time order (ties by input order), leave the last two out") {
    const std::vector<Rating> rows = {{0, 5, 4, 30}, {0, 2, 1, 10}, {0, 7, 5, 20}, {0, 9, 3, 20}, {1, 1, 2, 5}, {1, 3, 2, 6}};
    const auto h = user_histories(rows, 3);
    REQUIRE(h.size() == 3);
    CHECK(item_sequences(h)[0] == Ids{2, 7, 9, 5});   // 7 before 9: equal times keep the file order
    CHECK(h[0][0].rating == 1.0f);
    CHECK(h[2].empty());
    const NextItemSplit s = next_item_split(item_sequences(h), 10);
    REQUIRE(s.users.size() == 1);                       // user 1 has two items, user 2 none
    CHECK(s.skipped_users == 2);
    CHECK(s.users[0].history == Ids{2, 7});
    CHECK(s.users[0].valid == 9);
    CHECK(s.users[0].test == 5);
    CHECK(seen_before(s.users[0], Target::test) == Ids{2, 7, 9});
    CHECK(s.train_count[2] == 1.0);
    CHECK(s.train_count[9] == 0.0);                     // validation and test items are not training counts
    CHECK_THROWS_AS(next_item_split({{0, 1, 12}}, 10), ArgumentError);
}

TEST_CASE("next_item: sliding windows cover a long sequence, oldest first, clipped at the start") {
    const Ids seq = {1, 2, 3, 4, 5, 6, 7};
    CHECK(sliding_windows(seq, 3, 2) == std::vector<Ids>{{1, 2, 3}, {3, 4, 5}, {5, 6, 7}});
    CHECK(sliding_windows(seq, 4, 3) == std::vector<Ids>{{1, 2, 3, 4}, {4, 5, 6, 7}});
    CHECK(sliding_windows(seq, 7, 1) == std::vector<Ids>{seq});     // short enough: one window
    CHECK(sliding_windows(seq, 9, 4) == std::vector<Ids>{seq});
    CHECK(sliding_windows({}, 3, 2).empty());
    CHECK_THROWS_AS(sliding_windows(seq, 0, 1), ArgumentError);
    CHECK_THROWS_AS(sliding_windows(seq, 3, 0), ArgumentError);
}

TEST_CASE("next_item: movielens_next_item loads a folder into the split; a bad line stops it with file and line") {
    const testing::MovieLensFixture ml;   // 40 users with 8-19 ratings each, one a minute or two days apart
    const NextItemSplit s = movielens_next_item(ml.dir);
    CHECK(s.users.size() == 40u);
    CHECK(s.num_items == 150);
    CHECK(s.skipped_users == 0);
    size_t events = 0;
    for (const NextItemUser& u : s.users) events += u.history.size() + 2;
    CHECK(int(events) == ml.ratings);
    const MovieLens100k raw = load_movielens_100k(ml.dir);   // user 1's last and second-to-last ratings by time
    std::vector<Rating> first;
    for (const Rating& r : raw.ratings.rows)
        if (r.user == 0) first.push_back(r);
    std::stable_sort(first.begin(), first.end(), [](const Rating& a, const Rating& b) { return a.time < b.time; });
    CHECK(s.users[0].test == first.back().item);
    CHECK(s.users[0].valid == first[first.size() - 2].item);
    ml.corrupt("u.user", 3, "3|old|M|student|10003");
    CHECK_THROWS_WITH_AS(movielens_next_item(ml.dir), doctest::Contains("u.user line 3"), DataError);
}

TEST_CASE("next_item: popularity negatives are distinct, unseen, seeded and follow training counts") {
    std::vector<Ids> seq;
    for (int u = 0; u < 200; ++u) seq.push_back({0, 0 == u % 2 ? 1 : 2, 3 + u % 5, 8 + u % 3});
    const NextItemSplit s = next_item_split(seq, 30);
    const std::vector<Ids> a = popularity_negatives(s, 10, 7), b = popularity_negatives(s, 10, 7);
    CHECK(a == b);
    CHECK(a != popularity_negatives(s, 10, 8));
    std::vector<double> drawn(30, 0.0);
    for (size_t u = 0; u < s.users.size(); ++u) {
        const std::set<int> uniq(a[u].begin(), a[u].end());
        CHECK(uniq.size() == 10);
        for (int i : seq[u]) CHECK(uniq.count(i) == 0);
        for (int i : a[u]) drawn[size_t(i)] += 1;
    }
    // Items 1 and 2 are in 100 training histories each, items 20..29 in none: a user who never saw
    // item 1 draws it with weight 101 against 1, so it is drawn almost always.
    CHECK(drawn[1] > 95);
    double rare = 0;
    for (int i = 20; i < 30; ++i) rare += drawn[size_t(i)];
    CHECK(rare / 10 < drawn[1]);
    CHECK_THROWS_AS(popularity_negatives(s, 27, 1), ArgumentError);   // 30 items, 4 seen: 26 left
}

TEST_CASE("next_item: ranks by hand, ties against the target, seen items never ranked") {
    // One user: history {0, 1}, valid 2, test 3; five items.
    const NextItemSplit s = next_item_split({{0, 1, 2, 3}}, 5);
    const std::vector<Ids> neg = {{4}};
    auto fixed = [](std::vector<float> z) {
        return UserScores([z](size_t, int, std::vector<float>& out) { out = z; });
    };
    // Test target 3 scores 0.5; item 4 scores 0.9; seen items 0, 1, 2 score higher but are not ranked
    // in the full ranking. Sampled: rank 1 (behind item 4). Full: rank 1 too.
    NextItemQuality q = evaluate_next_item(s, neg, Target::test, 1, fixed({9, 9, 9, 0.5f, 0.9f}));
    CHECK(q.users == 1);
    CHECK(q.hr == 0.0);
    CHECK(q.mrr == doctest::Approx(0.5));
    CHECK(q.hr_full == 0.0);
    CHECK(q.mrr_full == doctest::Approx(0.5));
    q = evaluate_next_item(s, neg, Target::test, 2, fixed({9, 9, 9, 0.5f, 0.9f}));
    CHECK(q.ndcg == doctest::Approx(1.0 / std::log2(3.0)));
    // A tie with the negative counts against the target.
    q = evaluate_next_item(s, neg, Target::test, 1, fixed({0, 0, 0, 0.5f, 0.5f}));
    CHECK(q.hr == 0.0);
    // Validation target 2: item 3 (the future) is a candidate in the full ranking, items 0, 1 are not.
    q = evaluate_next_item(s, neg, Target::validation, 1, fixed({9, 9, 0.7f, 0.8f, 0.1f}));
    CHECK(q.hr == 1.0);
    CHECK(q.hr_full == 0.0);
    CHECK(q.mrr_full == doctest::Approx(0.5));
    // The popularity baseline: training counts (items 0 and 1 once each, the rest zero).
    std::vector<float> z(5);
    popularity_scorer(s)(0, 1, z);
    CHECK(z == std::vector<float>{1, 1, 0, 0, 0});
    CHECK_THROWS_AS(evaluate_next_item(s, {}, Target::test, 1, fixed({0, 0, 0, 0, 0})), ArgumentError);
    CHECK_THROWS_AS(evaluate_next_item(s, neg, Target::test, 1, fixed({0, 0})), ArgumentError);
}

TEST_CASE("next_item_split of a loaded MovieLens folder: the same as the three steps by hand") {
    const MovieLensGenreFixture fx("next_item_split", 12, 120, 6);
    const MovieLens100k ml = load_movielens_100k(fx.dir);
    const NextItemSplit a = next_item_split(ml);
    const NextItemSplit b = next_item_split(item_sequences(user_histories(ml.ratings.rows, ml.ratings.num_users)), ml.ratings.num_items);
    REQUIRE(a.users.size() == 12);
    CHECK(a.num_items == 120);
    for (size_t u = 0; u < a.users.size(); ++u) {
        CHECK(a.users[u].history == b.users[u].history);
        CHECK(a.users[u].valid == b.users[u].valid);
        CHECK(a.users[u].test == b.users[u].test);
        CHECK(a.users[u].history.size() == 4);
    }
}

}  // TEST_SUITE
