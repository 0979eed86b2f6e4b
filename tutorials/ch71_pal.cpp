// Chapter 71: PAL, position-bias aware learning, as a lab. Simulated click logs with a known
// examination curve and known relevance; three CTR models trained on them; how well each one's
// serving score ranks items by true relevance, as the logging ranker gets more wrong.
// Markdown tables on stdout; CSV and an SVG of the examination curves under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch71_pal.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch71;

static void print_ranking(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Ranking by true relevance: graded NDCG@%d over all %d items per user (mean over %d worlds)\n\n",
                o.ndcg_k, o.data.num_items, o.replicates);
    std::printf("| ranker bias | model | NDCG@%d | min over worlds | top-slot CTR (counterfactual) | AUC on held-out logs |\n",
                o.ndcg_k);
    std::printf("|---|---|---|---|---|---|\n");
    for (const Level& l : rep.levels) {
        for (int m = 0; m < kNumModels; ++m)
            std::printf("| %.1f | %s | %.4f | %.4f | %.4f | %.4f |\n", l.ranker_bias, kModelNames[m], l.ndcg(m),
                        l.min([&](const Replicate& r) { return r.ndcg[m]; }),
                        l.mean([&](const Replicate& r) { return r.top_ctr[m]; }),
                        l.mean([&](const Replicate& r) { return r.log_auc[m]; }));
        std::printf("| %.1f | (oracle: true relevance / random) | 1 | | %.4f / %.4f | |\n", l.ranker_bias,
                    l.mean([](const Replicate& r) { return r.oracle_top_ctr; }),
                    l.mean([](const Replicate& r) { return r.random_top_ctr; }));
    }
    std::printf("\nTop-slot CTR: mean true relevance of each user's top-ranked item, i.e. the CTR of slot 1 if "
                "it is examined. AUC on held-out logs: each model predicts the logged clicks (with their "
                "positions; PAL as ProbSeen x pCTR).\n\n");
}

static void print_defaults(const StudyOptions& o, const StudyReport& rep) {
    const Level& l = rep.levels.back();
    std::printf("## Position as feature: NDCG@%d depends on the default slot it is served at (ranker bias %.1f)\n\n|",
                o.ndcg_k, l.ranker_bias);
    for (int k = 0; k < o.data.list_size; ++k) std::printf(" slot %d |", k + 1);
    std::printf("\n|");
    for (int k = 0; k < o.data.list_size; ++k) std::printf("---|");
    std::printf("\n|");
    for (int k = 0; k < o.data.list_size; ++k)
        std::printf(" %.4f |", l.mean([&](const Replicate& r) { return r.ndcg_at_default[size_t(k)]; }));
    std::printf("\n\nPAL, for comparison, needs no default: %.4f.\n\n", l.ndcg(kPAL));
}

static void print_curves(const StudyOptions& o, const StudyReport& rep) {
    const Level& l = rep.levels.back();
    std::printf("## Examination probability relative to slot 1 (ranker bias %.1f, mean over worlds)\n\n", l.ranker_bias);
    std::printf("| slot | truth 1/k | PAL: ProbSeen_k / ProbSeen_1 | naive: CTR_k / CTR_1 |\n|---|---|---|---|\n");
    for (int k = 0; k < o.data.list_size; ++k)
        std::printf("| %d | %.3f | %.3f | %.3f |\n", k + 1, l.mean([&](const Replicate& r) { return r.exam_true[size_t(k)]; }),
                    l.mean([&](const Replicate& r) { return r.exam_pal[size_t(k)]; }),
                    l.mean([&](const Replicate& r) { return r.exam_naive[size_t(k)]; }));
    std::printf("\nLargest error over slots: PAL %.3f, naive %.3f.\n\n", l.exam_error(), l.naive_error());
}

static void print_claims(const StudyReport& rep) {
    const Level& l = rep.levels.back();
    auto gap = [&](const Level& v, int a, int b) { return v.min([&](const Replicate& r) { return r.ndcg[a] - r.ndcg[b]; }); };
    std::printf("## The paper's claims in this run (ranker bias %.1f unless stated)\n\n| claim | holds | numbers |\n|---|---|---|\n",
                l.ranker_bias);
    print_claim("PAL ranks by relevance better than position-unaware", gap(l, kPAL, kUnaware) > 0,
                num("%.4f", l.ndcg(kPAL)) + " vs " + num("%.4f", l.ndcg(kUnaware)) + ", smallest gap " +
                    num("%+.4f", gap(l, kPAL, kUnaware)));
    print_claim("PAL ranks by relevance better than position as feature", gap(l, kPAL, kPosFeature) > 0,
                num("%.4f", l.ndcg(kPAL)) + " vs " + num("%.4f", l.ndcg(kPosFeature)) + ", smallest gap " +
                    num("%+.4f", gap(l, kPAL, kPosFeature)));
    print_claim("PAL's ProbSeen recovers the planted curve better than raw CTR per slot", l.exam_error() < l.naive_error(),
                "largest error " + num("%.3f", l.exam_error()) + " vs " + num("%.3f", l.naive_error()));
    const Level& f = rep.levels.front();
    print_claim("(not the paper's) with an unbiased logging ranker (bias " + num("%.1f", f.ranker_bias) + ") PAL still wins",
                gap(f, kPAL, kUnaware) > 0, num("%.4f", f.ndcg(kPAL)) + " vs " + num("%.4f", f.ndcg(kUnaware)));
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"ranker_bias", "world", "model", "ndcg", "top_ctr", "log_auc"});
    CsvLogger curves(dir + "/exam_curves.csv", {"ranker_bias", "world", "slot", "truth", "pal", "naive"});
    for (const Level& l : rep.levels)
        for (size_t r = 0; r < l.reps.size(); ++r) {
            const Replicate& x = l.reps[r];
            for (int m = 0; m < kNumModels; ++m)
                runs.row({num("%.1f", l.ranker_bias), std::to_string(r), kModelNames[m], num("%.6g", x.ndcg[m]),
                          num("%.6g", x.top_ctr[m]), num("%.6g", x.log_auc[m])});
            for (size_t k = 0; k < x.exam_true.size(); ++k)
                curves.row({num("%.1f", l.ranker_bias), std::to_string(r), std::to_string(k + 1), num("%.6g", x.exam_true[k]),
                            num("%.6g", x.exam_pal[k]), num("%.6g", x.exam_naive[k])});
        }
    const Level& l = rep.levels.back();
    LineChart chart{"Examination per slot, relative to slot 1 (ranker bias " + num("%.1f", l.ranker_bias) + ")",
                    "slot", "exam_k / exam_1", {}, false, 560, 360};
    Series truth{"truth 1/k", {}, {}}, pal{"PAL ProbSeen", {}, {}}, naive{"naive CTR per slot", {}, {}};
    for (int k = 0; k < o.data.list_size; ++k) {
        const size_t i = size_t(k);
        for (Series* s : {&truth, &pal, &naive}) s->x.push_back(k + 1);
        truth.y.push_back(l.mean([&](const Replicate& r) { return r.exam_true[i]; }));
        pal.y.push_back(l.mean([&](const Replicate& r) { return r.exam_pal[i]; }));
        naive.y.push_back(l.mean([&](const Replicate& r) { return r.exam_naive[i]; }));
    }
    chart.series = {truth, pal, naive};
    write_text_file(dir + "/exam_curves.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch71_pal", "PAL vs position as a feature vs a position-unaware CTR model on simulated "
                            "position-biased logs (Guo et al., RecSys 2019).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, lists = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "worlds per ranker bias; 0: the configuration's own (5; --quick 2)");
    flags.add("lists", &lists, "ranked lists of 10 slots per world; 0: the configuration's own (20000; --quick 12000)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("dim", &o.dim, "FM factor size D");
    flags.add("default-position", &o.default_position, "slot (0-based) that position-as-feature is served at");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 2, o.data.num_lists = 12000, o.ranker_biases = {0.0, 2.0};
    if (replicates > 0) o.replicates = replicates;
    if (lists > 0) o.data.num_lists = lists;

    std::printf("# Chapter 71: PAL, position-bias aware learning\n\n");
    std::printf("%d users, %d items, %d lists of %d slots per world (90%% train), exam_k = 1/k; FM with D = %d; "
                "Adam lr %g, batch %d, %d epochs; %d worlds per ranker bias; seed %llu\n\n",
                o.data.num_users, o.data.num_items, o.data.num_lists, o.data.list_size, o.dim, o.lr, o.batch,
                o.epochs, o.replicates, static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_ranking(o, rep);
    print_defaults(o, rep);
    print_curves(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch71_pal", [&] { return run_main(argc, argv); });
}
