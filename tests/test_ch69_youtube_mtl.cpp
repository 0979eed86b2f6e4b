// Chapter 69: the ranker's shapes and the shallow tower's wiring, and the paper's claims on
// position-biased synthetic logs, asserted on the tutorial's quick configuration
// (tutorials/ch69_youtube_mtl.h). Not asserted: a monotone position effect past position 5
// (few clicks there in the quick log; the default run shows it).
#include <doctest/doctest.h>

#include "tutorials/ch69_youtube_mtl.h"

using namespace minirec;
using namespace minirec::ch69;

namespace {
// The tutorial's --quick: 8000 lists, 4 epochs, both rankers (about 2 s at -O2), run once.
// Over master seeds 1..8 the smallest pairwise gain of the shallow tower was 0.0126 and the
// smallest Pearson with log exam 0.911 (book/ch69_youtube_mtl.md).
const ch69::Results& quick_run() {
    static const ch69::Results report = [] {
        ch69::Options o;
        o.lists = 8000;
        o.epochs = 4;
        o.seed = 1;
        o.verbose = false;
        return ch69::run(o);
    }();
    return report;
}
}  // namespace

TEST_SUITE("ch69") {

TEST_CASE("model: shapes, the tower adds to the engagement logit only while positions are given") {
    YouTubeRankerOptions o;
    o.num_users = 7;
    o.num_items = 9;
    o.positions = 4;
    Rng rng(5);
    YouTubeRanker model(o, rng);
    model.shallow.position.table.value_mut()[2] = 0.75f;       // w[2]
    const Ids users = {0, 3, 6}, items = {1, 8, 2}, pos = {2, 0, 4};   // 4 = unknown
    const YouTubeRanker::Output train = model.forward(users, items, pos);
    const YouTubeRanker::Output serve = model.forward(users, items);
    CHECK(train.engagement.shape() == Shape{3, 1});
    CHECK(train.satisfaction.shape() == Shape{3, 1});
    CHECK(train.engagement_train.value()[0] == doctest::Approx(serve.engagement.value()[0] + 0.75f));
    CHECK(train.engagement_train.value()[1] == doctest::Approx(serve.engagement.value()[1]));
    CHECK(serve.engagement_train.value()[0] == serve.engagement.value()[0]);   // eq. (5): dropped
    // The tower gets gradients from the click loss; the baseline has no tower parameters.
    backward(sum(train.engagement_train));
    CHECK(model.shallow.position.table.grad()[2] == doctest::Approx(1.0f));
    o.shallow_tower = false;
    YouTubeRanker base(o, rng);
    CHECK(base.named_parameters().size() + 1 == model.named_parameters().size());

    Rng r2(9);
    const Ids dropped = drop_positions(Ids(1000, 1), 0.1, 4, r2);
    int unknown = 0;
    for (int32_t k : dropped) unknown += k == 4;
    CHECK(unknown > 60);
    CHECK(unknown < 140);
}

TEST_CASE("claim: with the shallow tower the serving score agrees better with true relevance") {
    const ch69::Results& r = quick_run();
    CHECK(r.shallow.pairwise > r.baseline.pairwise + 0.006);
    CHECK(r.shallow.ndcg > r.baseline.ndcg);
    CHECK(r.baseline.pairwise > r.logged_pairwise);
}

TEST_CASE("claim: the shallow tower's position effect falls with position like the examination") {
    const ch69::Results& r = quick_run();
    const std::vector<double>& w = r.shallow.position_bias;
    REQUIRE(w.size() == 10);
    for (size_t k = 1; k < 5; ++k) CHECK(w[k] < w[k - 1]);
    for (size_t k = 1; k < w.size(); ++k) CHECK(w[k] < -0.5);
    std::vector<double> log_exam;
    for (double e : r.exam) log_exam.push_back(std::log(e));
    CHECK(ch69::pearson(w, log_exam) > 0.85);
}

}  // TEST_SUITE
