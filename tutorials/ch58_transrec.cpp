// Chapter 58: TransRec, translation-based recommendation, as a lab. Sequences where each user's
// next item lies near (previous item + her own translation); TransRec against PopRec, BPR-MF,
// FMC and FPMC, leave-one-out, at three data sizes. Markdown tables on stdout; CSV and SVG
// pictures (test AUC per epoch, Hit@10 per data size) under --out.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch58_transrec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch58;

static void print_results(const StudyOptions& o, const StudyReport& rep) {
    for (const Level& l : rep.levels) {
        std::printf("## %d users (%d training transitions, mean over %d worlds)\n\n", l.users,
                    int(l.mean([](const Replicate& r) { return r.train_transitions; })), int(l.reps.size()));
        std::printf("| model | AUC | min AUC over worlds | Hit@10 | Hit@50 |\n|---|---|---|---|---|\n");
        for (int m = 0; m < kNumModels; ++m)
            std::printf("| %s | %.4f | %.4f | %.4f | %.4f |\n", kModelNames[m], l.auc(m),
                        l.min([&](const Replicate& r) { return r.auc[m]; }), l.hit10(m), l.hit50(m));
        std::printf("\n");
    }
    std::printf("AUC and Hit@K: the held-out last item of each user against the %d items minus those she "
                "touched in training (the paper's protocol); D = %d for every model.\n\n", o.data.num_items, o.dim);
}

static void print_claims(const StudyReport& rep) {
    // The smallest gap over worlds of metric(a) - metric(b).
    auto gap = [](const Level& l, int a, int b, bool hit) {
        return l.min([&](const Replicate& r) { return hit ? r.hit10[a] - r.hit10[b] : r.auc[a] - r.auc[b]; });
    };
    std::printf("## The paper's claims in this run (smallest gap over worlds)\n\n| claim | holds | numbers |\n|---|---|---|\n");
    for (const Level& l : rep.levels) {
        const std::string at = " (" + std::to_string(l.users) + " users)";
        const double g_pop = gap(l, kTransL2, kPop, false), g_mf = gap(l, kTransL2, kBprMf, false);
        print_claim("TransRec (L2^2) has a higher AUC than PopRec and BPR-MF" + at, g_pop > 0 && g_mf > 0,
                    num("%+.4f", g_pop) + " and " + num("%+.4f", g_mf));
        const double g_fpmc = gap(l, kTransL2, kFpmc, false), g_fmc = gap(l, kTransL2, kFmc, false);
        print_claim("TransRec (L2^2) has a higher AUC than FPMC and FMC" + at, g_fpmc > 0 && g_fmc > 0,
                    num("%+.4f", g_fpmc) + " and " + num("%+.4f", g_fmc));
        const double h_fpmc = gap(l, kTransL2, kFpmc, true), h_l1 = gap(l, kTransL1, kFpmc, true);
        print_claim("TransRec has a higher Hit@10 than FPMC (L2^2, L1)" + at, h_fpmc > 0 || h_l1 > 0,
                    num("%+.4f", h_fpmc) + ", " + num("%+.4f", h_l1));
        const double u_gap = l.mean([](const Replicate& r) { return r.auc[kFpmc] - r.auc[kFmc]; });
        print_claim("(not the paper's) the user term helps: FPMC beats FMC" + at, u_gap > 0.005,
                    "mean AUC gap " + num("%+.4f", u_gap));
    }
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"users", "world", "model", "auc", "hit10", "hit50"});
    CsvLogger curves(dir + "/auc_curves.csv", {"users", "model", "epoch", "auc"});
    for (const Level& l : rep.levels) {
        for (size_t r = 0; r < l.reps.size(); ++r)
            for (int m = 0; m < kNumModels; ++m)
                runs.row({std::to_string(l.users), std::to_string(r), kModelNames[m], num("%.6g", l.reps[r].auc[m]),
                          num("%.6g", l.reps[r].hit10[m]), num("%.6g", l.reps[r].hit50[m])});
        const Replicate& first = l.reps.front();
        for (int m = kBprMf; m < kTrained; ++m)
            for (size_t k = 0; k < first.curve_epoch.size(); ++k)
                curves.row({std::to_string(l.users), kModelNames[m], num("%g", first.curve_epoch[k]),
                            num("%.6g", first.curve_auc[size_t(m)][k])});
    }
    const Level& mid = rep.levels[rep.levels.size() / 2];
    LineChart chart{"Test AUC during training (" + std::to_string(mid.users) + " users, first world)", "epoch", "AUC",
                    {}, false, 560, 360};
    for (int m = kBprMf; m < kTrained; ++m)
        chart.series.push_back({kModelNames[m], mid.reps.front().curve_epoch, mid.reps.front().curve_auc[size_t(m)]});
    write_text_file(dir + "/auc_curves.svg", line_chart_svg(chart));
    LineChart sizes{"Hit@10 by data size (mean over worlds)", "users", "Hit@10", {}, false, 560, 360};
    for (int m = 0; m < kNumModels; ++m) {
        Series s{kModelNames[m], {}, {}};
        for (const Level& l : rep.levels) s.x.push_back(l.users), s.y.push_back(l.hit10(m));
        sizes.series.push_back(s);
    }
    write_text_file(dir + "/hit10_by_users.svg", line_chart_svg(sizes));
    (void)o;
}

static int run_main(int argc, char** argv) {
    Flags flags("ch58_transrec", "TransRec vs PopRec, BPR-MF, FMC and FPMC on sequences with a planted "
                                 "translation structure (He, Kang & McAuley, RecSys 2017).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, items = 0, users = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "worlds per data size; 0: the configuration's own (3; --quick 1)");
    flags.add("users", &users, "one data size instead of the configuration's three (500, 1000, 2000; --quick 1000)");
    flags.add("items", &items, "number of items; 0: the configuration's own (500)");
    flags.add("dim", &o.dim, "embedding size D of every model");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("weight-decay", &o.weight_decay, "L2 penalty Omega on every parameter");
    flags.add("step", &o.data.step, "length of the planted user translations");
    flags.add("min-length", &o.data.min_length, "shortest sequence (items per user)");
    flags.add("max-length", &o.data.max_length, "longest sequence (items per user)");
    flags.add("width", &o.data.width, "kernel width of the planted next-item choice");
    flags.add("restart", &o.data.restart_prob, "probability of a popularity jump instead of a translation step");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 1, o.users = {1000};
    if (replicates > 0) o.replicates = replicates;
    if (items > 0) o.data.num_items = items;
    if (users > 0) o.users = {users};
    if (o.dim < 1 || o.epochs < 1) {
        std::fprintf(stderr, "ch58_transrec: --dim and --epochs must be >= 1\n");
        return 2;
    }

    std::printf("# Chapter 58: TransRec, translation-based recommendation\n\n");
    std::printf("%d items in a %d-D unit ball, user translations of length %g, kernel width %g, restart "
                "probability %g, sequences of %d-%d items; D = %d, Adam lr %g, weight decay %g, batch %d, %d epochs; "
                "%d worlds per size; seed %llu\n\n",
                o.data.num_items, o.data.dim, o.data.step, o.data.width, o.data.restart_prob, o.data.min_length,
                o.data.max_length, o.dim, o.lr, o.weight_decay, o.batch, o.epochs, o.replicates,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);                    // bad sizes throw from the generator, naming it
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", "ch58_transrec", e.what());
        return 2;
    }
    print_results(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch58_transrec", [&] { return run_main(argc, argv); });
}
