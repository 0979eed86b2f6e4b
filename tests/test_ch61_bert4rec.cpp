// Chapter 61: BERT4Rec's losses against finite differences, the Cloze and next-item batches, the
// causal mask, and the paper's claims that reproduce on synthetic sequences, asserted on a quick
// configuration of the tutorial's experiment (tutorials/ch61_bert4rec.h), judged by the claims
// rules over 3 master seeds: verdicts where they hold, measured bounds where the paper's claim fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "datasets/next_item.h"
#include "tests/gradcheck.h"
#include "tests/movielens_fixture.h"
#include "tutorials/ch61_bert4rec.h"

using namespace minirec;
using namespace minirec::ch61;

namespace {

Bert4RecOptions tiny(bool causal) {
    Bert4RecOptions o;
    o.num_items = 5;
    o.max_len = 4;
    o.dim = 4;
    o.heads = 2;
    o.layers = 1;
    o.dropout = 0.0f;
    o.causal = causal;
    return o;
}

// The test's configuration: 3 main worlds of 400 users and 400 items, d = 16, T = 12, budgets 4, 8
// and 16 epochs of batches of 32 at lr 2e-3; BERT4Rec and the left-to-right model (SASRec's loss)
// only, no control cell. Results per master seed, computed once.
const Results& small_run(uint64_t seed) {
    static std::map<uint64_t, Results> cache;
    auto it = cache.find(seed);
    if (it != cache.end()) return it->second;
    Options o;
    o.worlds = 3;
    o.data.num_users = 400;
    o.model.dim = 16;
    o.model.max_len = 12;
    o.epochs = 16;
    o.batch = 32;
    o.lr = 2e-3;
    o.train[kCausal] = o.train[kLastOnly] = false;
    o.control = false;
    o.verbose = false;
    o.seed = seed;
    return cache[seed] = run_experiment(o);
}

Options small_options() {
    Options o;
    o.epochs = 16;
    o.train[kCausal] = o.train[kLastOnly] = false;
    o.control = false;
    return o;
}

}  // namespace

TEST_SUITE("ch61") {

TEST_CASE("Cloze loss (eq. 8) and SASRec's loss: gradients match finite differences") {
    for (const bool causal : {false, true}) {
        Rng rng(3);
        Bert4Rec m(tiny(causal), rng);
        const Vocab& v = m.vocab;
        // Two sequences of T = 4, the first left-padded; a [mask] in each.
        const Ids tokens = {0, v.item(1), v.mask(), v.item(3), v.item(4), v.mask(), v.item(0), v.item(2)};
        const Ids positions = {2, 5, 7}, labels = {v.item(2), v.item(1), v.item(0)}, negatives = {v.item(4), v.item(3), v.item(1)};
        Rng init(9);
        const std::vector<Tensor> inputs = {Tensor::normal({v.size(), 4}, init) * 0.5f,
                                            Tensor::normal({4, 4}, init) * 0.5f};
        auto f = [&](bool sasrec) {
            return [&, sasrec](const std::vector<Var>& xs) {
                m.item.table = xs[0];          // E: the input table and the output layer (tied)
                m.proj.weight = xs[1];         // W^P
                return sasrec ? sasrec_loss(m, tokens, positions, labels, negatives)
                              : cloze_loss(m, tokens, positions, labels);
            };
        };
        CHECK(testing::grad_check(f(false), inputs, {}, "cloze_loss") <= 1.0f);
        CHECK(testing::grad_check(f(true), inputs, {}, "sasrec_loss") <= 1.0f);
    }
}

TEST_CASE("eq. 7: one item's score is its column of the tied softmax logits") {
    Rng rng(4);
    Bert4Rec m(tiny(false), rng);
    m.out_bias.value_mut() = Tensor::normal({m.vocab.size()}, rng);
    const Ids tokens = {m.vocab.item(0), m.vocab.item(1), m.vocab.item(2), m.vocab.mask()};
    m.set_training(false);
    const Var h = m.encode(tokens);
    const Tensor z = m.logits(h, {3}).value();                      // (1, V)
    for (int i = 0; i < m.vocab.num_items; ++i) {
        const Tensor s = m.item_scores(h, {3}, {m.vocab.item(i)}).value();
        CHECK(s[0] == doctest::Approx(z[size_t(m.vocab.item(i))]).epsilon(1e-5));
    }
}

TEST_CASE("the causal mask hides the future; the bidirectional model sees it") {
    for (const bool causal : {false, true}) {
        Rng rng(5);
        Bert4Rec m(tiny(causal), rng);
        m.set_training(false);
        const Vocab& v = m.vocab;
        const Tensor a = m.encode({v.item(0), v.item(1), v.item(2), v.item(3)}).value();
        const Tensor b = m.encode({v.item(0), v.item(1), v.item(2), v.item(4)}).value();   // last item changed
        double first = 0.0;                                    // position 0, (d) values
        for (int c = 0; c < 4; ++c) first += std::fabs(a[size_t(c)] - b[size_t(c)]);
        if (causal) CHECK(first == 0.0);
        else CHECK(first > 1e-4);
    }
}

TEST_CASE("Cloze and next-item samples: masks, labels, padding") {
    const Vocab v{10};
    const std::vector<Ids> seqs = {{v.item(1), v.item(2), v.item(3)},                          // shorter than T
                                   {v.item(4), v.item(5), v.item(6), v.item(7), v.item(8), v.item(9)}};
    const int T = 5;
    CHECK(last_window(seqs[0], T) == Ids{0, 0, v.item(1), v.item(2), v.item(3)});
    CHECK(last_window(seqs[1], T) == Ids{v.item(5), v.item(6), v.item(7), v.item(8), v.item(9)});
    Rng rng(6);
    auto cloze = [&](double rho, double last_only) {                      // both sequences, one batch
        Batch b;
        for (const Ids& s : seqs) add_cloze_sample(b, s, v, T, rho, last_only, rng);
        return b;
    };
    for (int rep = 0; rep < 20; ++rep) {
        const Batch b = cloze(0.5, 0.0);
        REQUIRE(b.tokens.size() == size_t(2 * T));
        REQUIRE(b.positions.size() == b.labels.size());
        REQUIRE(!b.positions.empty());
        for (size_t j = 0; j < b.positions.size(); ++j) {
            const int p = b.positions[j], u = p / T, t = p % T;
            CHECK(b.tokens[size_t(p)] == v.mask());
            CHECK(b.labels[j] == last_window(seqs[size_t(u)], T)[size_t(t)]);   // the hidden item
            CHECK(b.labels[j] != v.pad());                                  // padding is never a label
        }
        int masks = 0;
        for (int tok : b.tokens) masks += tok == v.mask();
        CHECK(masks == int(b.positions.size()));
    }
    const Batch last = cloze(0.5, 1.0);                                    // last item only
    CHECK(last.positions == Ids{T - 1, 2 * T - 1});
    CHECK(last.labels == Ids{v.item(3), v.item(9)});
    Batch next;
    add_next_item_sample(next, seqs[0], v, T, true, rng);
    CHECK(next.tokens == Ids{0, 0, 0, v.item(1), v.item(2)});
    CHECK(next.positions == Ids{3, 4});
    CHECK(next.labels == Ids{v.item(2), v.item(3)});
    for (size_t j = 0; j < next.negatives.size(); ++j) CHECK(next.negatives[j] != next.labels[j]);
    // Inference: BERT4Rec reads a [mask] after the last T - 1 items, the causal model the last item.
    Bert4RecOptions mo;
    mo.num_items = 10, mo.max_len = T, mo.dim = 8;
    Rng init(1);
    CHECK(Bert4Rec(mo, init).next_item_window(seqs[1]) == Ids{v.item(6), v.item(7), v.item(8), v.item(9), v.mask()});
    mo.causal = true;
    CHECK(Bert4Rec(mo, init).next_item_window(seqs[0]) == last_window(seqs[0], T));
}

// Measured over master seeds 1, 2, 3 (5.8 s of CPU for the whole ch61 suite on a shared AMD EPYC): BERT4Rec
// beats popularity (NDCG@10 +0.113 to +0.155, holds each time); against the left-to-right model it
// never holds and at 16 epochs it is behind by 0.128 to 0.147 in NDCG@10 and 0.228 to 0.278 in HR@10
// built with g++; built with clang++ (meson in CI) the floating-point order differs and seed 2 gave
// 0.084 and 0.172. The bounds below sit under the smallest gap of both builds.
TEST_CASE("leave-one-out protocol (datasets/ch61_leave_one_out.h): held-out last item, unseen negatives") {
    datasets::SequenceOptions d;
    d.num_users = 50, d.num_items = 100, d.search_prob = d.coupon_prob = 0.0;
    const datasets::SequenceData data = datasets::sequences(d);
    const std::vector<UserSeq> users = split_users(data);
    const std::vector<Ids> items = datasets::item_sequences(data);
    REQUIRE(users.size() == items.size());                           // every user has >= 3 items here
    std::vector<double> count;
    const std::vector<Ids> neg = popularity_negatives(users, d.num_items + 2, 20, 7, &count);
    for (size_t u = 0; u < users.size(); ++u) {
        CHECK(users[u].target == items[u].back() + 1);                 // the last item, as a token
        CHECK(int(users[u].train.size()) == int(items[u].size()) - 1);
        REQUIRE(neg[u].size() == 20u);
        for (int t : neg[u]) {
            CHECK(t != users[u].target);
            CHECK(std::find(users[u].train.begin(), users[u].train.end(), t) == users[u].train.end());
        }
    }
    CHECK(count[0] == 0.0);                                            // [pad] is never counted
}

TEST_CASE("claims over 3 master seeds: BERT4Rec beats popularity; the left-to-right model stays ahead here") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const Claims c = judge(small_options(), small_run(seed));
        CHECK(c.find("BERT4Rec beats popularity: NDCG@10 at 16 epochs").verdict() == Verdict::holds);
        for (const Claim& x : c.rows)
            if (x.claim.find("left-to-right") != std::string::npos) CHECK(x.verdict() != Verdict::holds);
        CHECK(c.find("BERT4Rec beats the left-to-right model (SASRec loss): NDCG@10 at 16 epochs").interval().mean < -0.06);
        CHECK(c.find("BERT4Rec beats the left-to-right model (SASRec loss): HR@10 at 16 epochs").interval().mean < -0.12);
    }
}

// The --data path on a MovieLens-format fixture the test writes itself (40 users, 150 items, 8-19
// ratings each): the run gives finite metrics in [0, 1] for both transformers and popularity at
// every budget, the sampled ranking is never harder than the full one (the negatives are a subset of
// the unseen items), popularity does not depend on the seed, and a damaged u.data is refused with
// the file and the line before any training.
TEST_CASE("--data: MovieLens-format fixture, finite metrics for every model; a damaged file names its line") {
    const testing::MovieLensFixture ml;
    const datasets::NextItemSplit s = datasets::movielens_next_item(ml.dir);
    REQUIRE(s.users.size() == 40u);
    Options o;
    o.worlds = 2, o.epochs = 2, o.negatives = 20, o.model.dim = 8, o.model.max_len = 6, o.batch = 16, o.verbose = false;
    o.train[kCausal] = o.train[kLastOnly] = o.control = false;
    const Results r = run_experiment(o, &s);
    REQUIRE(r.main.size() == 2u);
    for (int m : {int(kBert4Rec), int(kSASRec), int(kPopularity)})
        for (const WorldRun& w : r.main) {
            REQUIRE(w.at[m].size() == o.budgets().size());
            for (const Scores& x : w.at[m]) {
                for (double v : {x.hr, x.ndcg, x.mrr, x.hr_full, x.ndcg_full, x.mrr_full}) CHECK((std::isfinite(v) && v >= 0 && v <= 1));
                CHECK(x.mrr > 0);
                CHECK(x.hr >= x.hr_full);
                CHECK(x.mrr >= x.mrr_full);
            }
        }
    CHECK(r.main[0].at[kPopularity][0].ndcg == r.main[1].at[kPopularity][0].ndcg);
    const Claims c = judge(o, r);
    CHECK(c.find("BERT4Rec beats the left-to-right model (SASRec loss): NDCG@10 over all items at 2 epochs").diffs.size() == 2u);
    ml.corrupt("u.data", 7, "3\t2\tfive\t880000000");
    try {
        datasets::movielens_next_item(ml.dir);
        FAIL("a damaged u.data was accepted");
    } catch (const datasets::DataError& e) {
        CHECK(std::string(e.what()).find("u.data line 7") != std::string::npos);
    }
}

}  // TEST_SUITE
