// Chapter 64: AutoInt's shapes and attention, and the claims judged on a small configuration of
// the tutorial's experiment (tutorials/ch64_autoint.h) for master seeds 1, 2 and 3: the boosted
// 3-field setting only (std 2.5), 3 worlds of 20,000 training and 2,000 test rows, 2 epochs, L = 2,
// D = d' = 8 and FM k = 8 (about 5.3 s of CPU on a shared "AMD EPYC"). No test-sized configuration
// we measured makes a claim's verdict stable over master seeds 1-6 (AutoInt over LR, which holds in
// the default run, holds at 1 of 6 seeds here, and at 1 of 4 with 5 worlds of 30,000 rows and 3 of 6
// with 5 worlds of 40,000, which would take 15 s), so the test asserts the measured bounds
// (book/ch64_autoint.md).
#include <doctest/doctest.h>

#include "datasets/ctr_logs.h"
#include "tests/ctr_fixtures.h"
#include "tutorials/ch64_autoint.h"

using namespace minirec;
using namespace minirec::ch64;

namespace {
ch64::Options small_options(uint64_t seed) {
    ch64::Options o;
    o.train_rows = 20000, o.test_rows = 2000, o.worlds = 3, o.three_way_stds = {2.5}, o.layers = {2};
    o.autoint.dim = 8, o.autoint.head_dim = 8, o.fm_dim = 8;
    o.seed = seed, o.verbose = false;
    return o;
}
}  // namespace

TEST_SUITE("ch64") {

TEST_CASE("AutoInt: shapes, attention rows are distributions, parameter count") {
    datasets::CtrOptions co;
    co.n = 50;
    const datasets::CtrData d = datasets::synthetic_ctr(co);
    std::vector<int> rows;
    for (int r = 0; r < 7; ++r) rows.push_back(r);
    const CtrBatch b = make_ctr_batch(d, rows);
    Rng rng(5);
    AutoIntOptions o;              // D = 16, H = 2, d' = 16, L = 2
    AutoInt model(d, o, rng);
    const int M = d.num_fields + 2;
    CHECK(model.embed(b).shape() == Shape{7, M, 16});
    Var alpha;
    const Var y = model.logits(b, &alpha);
    CHECK(y.shape() == Shape{7, 1});
    REQUIRE(alpha.shape() == Shape{7, 2, M, M});
    for (int row = 0; row < 7 * 2 * M; ++row) {
        double s = 0.0;
        for (int k = 0; k < M; ++k) s += alpha.value()[size_t(row) * M + k];
        CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }
    // Embeddings (410 + 40 + 1) x 16; per layer W_Q, W_K, W_V (in, 32) and W_Res (in, 32), in = 16
    // then 32; the output w (8 x 32) and b.
    long n = 0;
    for (const auto& p : model.named_parameters()) n += long(p.second.size());
    CHECK(n == 451 * 16 + 4 * 16 * 32 + 4 * 32 * 32 + 8 * 32 + 1);
    // FM's pair term equals the sum of <e_m, e_k> over m < k, computed by hand.
    FactorizationMachine fm(d, 4, rng);
    const Tensor e = fm.v(b).value();                          // (B, M, 4)
    const Tensor lin = fm.linear.logits(b).value();            // (B, 1)
    const Tensor all = fm.logits(b).value();
    for (int i = 0; i < 7; ++i) {
        double pairs = 0.0;
        for (int m = 0; m < M; ++m)
            for (int k = m + 1; k < M; ++k)
                for (int j = 0; j < 4; ++j)
                    pairs += e[(size_t(i) * M + m) * 4 + j] * e[(size_t(i) * M + k) * 4 + j];
        CHECK(all[size_t(i)] - lin[size_t(i)] == doctest::Approx(pairs).epsilon(1e-4));
    }
}

TEST_CASE("the planted pairs: FM pairs, the field-aware pair and the triple's three pairs, sorted") {
    datasets::CtrOptions co;
    co.n = 10;
    const auto p = datasets::planted_pairs(datasets::synthetic_ctr(co));
    const std::vector<std::pair<int, int>> want = {{0, 1}, {2, 3}, {0, 4}, {1, 3}, {1, 5}, {3, 5}};
    CHECK(p == want);
    co.three_way = false;
    CHECK(datasets::planted_pairs(datasets::synthetic_ctr(co)).size() == 3);
}

TEST_CASE("claims at a small size: AutoInt above LR, not above FM (bounds); attention inconclusive, as in the default run") {
    const std::string world = ch64::setting_name(2.5);
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        const ch64::Options o = small_options(seed);
        const ch64::Results rep = ch64::run_experiment(o);
        const Claims c = ch64::judge(o, rep);
        // Measured over master seeds 1-6 at this size: AutoInt - LR +0.0015 to +0.0085 (never fails,
        // holds at seed 6 only), AutoInt - FM -0.0240 to +0.0009 (never holds), planted - unrelated
        // attention +0.0003 to +0.0011 (inconclusive at all six). A clang++ -O3 build gives the same
        // verdicts at seeds 1-3 and the same means within 0.0001.
        // Against the default run (5 worlds of 40,000 rows, D = d' = 16, FM k = 16), std 2.5 world,
        // remeasured here at seeds 1, 2, 3 (g++ -O2, AMD EPYC):
        //   AutoInt - LR         +0.0043 I  +0.0068 I  +0.0085 I    default +0.0385 holds  -> bound
        //   AutoInt - FM         -0.0148 F  -0.0087 I  +0.0009 I    default +0.0064 inconclusive -> bound
        //   attention            +0.0004 I  +0.0007 I  +0.0007 I    default +0.0084 inconclusive -> verdict
        // A larger test set does not settle AutoInt - LR: with 10,000 or 20,000 test rows it is
        // +0.0034 to +0.0069 and inconclusive at every seed (the spread is between worlds).
        // Not asserted: AutoInt L=2 - L=1 (needs a second AutoInt; default inconclusive in all three
        // settings) and the std 0.8 setting (it would add the whole of this test again; the
        // pairs-only control has its own test case below). Measured there at this size, seeds 1-3: AutoInt - FM -0.0101 I, -0.0152 F, -0.0094 I
        // (std 0.8; default -0.0123 fails) and -0.0233 I, -0.0153 F, -0.0132 I (pairs only; default
        // -0.0108 fails); AutoInt - LR +0.0043 H, +0.0023 I, +0.0036 I (std 0.8; default +0.0153
        // holds) and -0.0014 I, +0.0018 I, -0.0006 I (pairs only; default +0.0175 holds): at this
        // size AutoInt is not yet above LR without the boosted triple.
        const Claim& vs_lr = c.find("AutoInt L=2 beats LR (test AUC)", world);
        const Claim& vs_fm = c.find("AutoInt L=2 beats FM (test AUC)", world);
        const Claim& att = c.find("layer-1 attention higher on planted pairs than on unrelated ones", world);
        CHECK(vs_lr.verdict() != Verdict::fails);
        CHECK(vs_lr.interval().mean > 0.0);
        CHECK(vs_fm.verdict() != Verdict::holds);
        CHECK(vs_fm.interval().mean < 0.005);
        CHECK(att.verdict() == Verdict::inconclusive);   // the default run's verdict
        CHECK(att.interval().mean > 0.0);
        for (const auto& s : c.sanity) CHECK_MESSAGE(s.ok, s.check);
    }
}

// The control setting (pairs only: no 3-field term for AutoInt to find), same size, seeds 1, 2, 3
// (g++ -O2, AMD EPYC family 26 model 2, AVX-512), against the default run's control (book page):
//   AutoInt - LR    -0.0014 I  +0.0018 I  -0.0006 I    default +0.0175 holds        -> bound
//   AutoInt - FM    -0.0233 I  -0.0153 F  -0.0132 I    default -0.0108 fails        -> bound
//   attention       +0.0000 I  +0.0001 I  +0.0004 I    default +0.0070 inconclusive -> verdict
// At this size AutoInt has not yet caught up with LR on pairs alone, and stays below FM, which
// models exactly the pairs this setting plants.
TEST_CASE("claims, control (pairs only): AutoInt below FM, level with LR at this size; attention inconclusive, as in the default run") {
    const std::string world = ch64::setting_name(0.0);
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        ch64::Options o = small_options(seed);
        o.three_way_stds = {0.0};
        const Claims c = ch64::judge(o, ch64::run_experiment(o));
        const Claim& vs_lr = c.find("AutoInt L=2 beats LR (test AUC)", world);
        const Claim& vs_fm = c.find("AutoInt L=2 beats FM (test AUC)", world);
        const Claim& att = c.find("layer-1 attention higher on planted pairs than on unrelated ones", world);
        CHECK(vs_lr.verdict() == Verdict::inconclusive);
        CHECK(std::abs(vs_lr.interval().mean) < 0.005);
        CHECK(vs_fm.verdict() != Verdict::holds);
        CHECK(vs_fm.interval().mean < -0.01);
        CHECK(att.verdict() == Verdict::inconclusive);   // the default run's verdict
        CHECK(att.interval().mean > -0.001);
    }
}

TEST_CASE("--data: LR, FM and AutoInt on a generated Criteo file; a corrupted copy names file and line") {
    // 600 rows written here (CSV with the header; the label planted in C1), 64 ids per field,
    // 3 initialisations: train on the first 480 rows, test on the last 60.
    const std::string path = fixtures::temp_dir("ch64") + "/sample.csv";
    fixtures::write_file(path, fixtures::criteo_text(600, true));
    datasets::CtrLogOptions lo;
    lo.buckets = 64;
    const datasets::HashedCriteo h = datasets::load_criteo_hashed(path, lo);
    Options o;
    o.worlds = 3, o.verbose = false;
    const Results r = run_real(o, datasets::to_ctr_data(h), int(h.n_train), int(h.n_valid));
    REQUIRE(r.data.size() == 1);
    REQUIRE(r.data[0].size() == 3);
    double mean_auc = 0;
    for (const DataReport& w : r.data[0]) {
        REQUIRE(w.results.size() == 4);                 // LR, FM, AutoInt L=1, L=2
        CHECK(w.results[0].auc > 0.6);                  // LR finds the planted C1 effect: measured 0.650 .. 0.669
        for (const Result& m : w.results) {
            CHECK((m.auc > 0.4 && m.auc < 0.9));        // measured 0.49 .. 0.78 (60 test rows)
            mean_auc += m.auc / 12.0;
        }
    }
    CHECK(mean_auc > 0.58);                             // measured 0.65
    const Claims c = judge(o, r);
    CHECK(c.sanity.empty());                            // no oracle on real data
    CHECK(c.find("AutoInt L=2 beats FM (test AUC)", "real data").interval().n == 3);
    fixtures::write_file(path, fixtures::replace_line(fixtures::criteo_text(600, true), 444, "0,1,2"));
    try {
        datasets::load_criteo_hashed(path, lo);
        FAIL("no error");
    } catch (const datasets::DataError& e) {
        CHECK(std::string(e.what()).find(path + " line 444: expected 40 comma-separated fields, got 3") != std::string::npos);
    }
}

}  // TEST_SUITE
