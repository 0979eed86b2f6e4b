// Chapter 60: TransFM, translation-based factorization machines, as a lab. Chapter 58's
// translation walks with many items and item categories as content; FM and TransFM with and
// without the categories, and TransRec. Markdown tables on stdout; CSV and an SVG under --out.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch60_transfm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch60;

static void print_results(const StudyOptions& o, const StudyReport& rep) {
    for (const Level& l : rep.levels) {
        std::printf("## %d items (%d training transitions, mean over %d worlds)\n\n", l.items,
                    int(l.mean([](const Replicate& r) { return r.train_transitions; })), int(l.reps.size()));
        std::printf("| model | AUC | min AUC over worlds | Hit@10 |\n|---|---|---|---|\n");
        for (int m = 0; m < kNumModels; ++m)
            std::printf("| %s | %.4f | %.4f | %.4f |\n", kModelNames[m], l.auc(m), l.min([&](const Replicate& r) { return r.auc[m]; }),
                        l.hit10(m));
        std::printf("\n");
    }
    std::printf("Each user's held-out last item against %d sampled items she never touched; D = %d for every model.\n\n",
                o.negatives, o.dim);
}

static void print_claims(const StudyReport& rep) {
    auto gap = [](const Level& l, int a, int b) { return l.min([&](const Replicate& r) { return r.auc[a] - r.auc[b]; }); };
    std::printf("## The paper's claims in this run (smallest AUC gap over worlds)\n\n| claim | holds | numbers |\n|---|---|---|\n");
    for (const Level& l : rep.levels) {
        const std::string at = " (" + std::to_string(l.items) + " items)";
        print_claim("TransFM beats FM, both with categories" + at, gap(l, kTransFMCat, kFMCat) > 0,
                    num("%+.4f", gap(l, kTransFMCat, kFMCat)));
        print_claim("TransFM beats FM, both without content" + at, gap(l, kTransFM, kFM) > 0,
                    num("%+.4f", gap(l, kTransFM, kFM)));
        print_claim("categories improve TransFM" + at, gap(l, kTransFMCat, kTransFM) > 0,
                    num("%+.4f", gap(l, kTransFMCat, kTransFM)));
        print_claim("TransFM with categories beats TransRec" + at, gap(l, kTransFMCat, kTransRec) > 0,
                    num("%+.4f", gap(l, kTransFMCat, kTransRec)));
    }
    std::printf("\n");
}

static void write_outputs(const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"items", "world", "model", "auc", "hit10"});
    for (const Level& l : rep.levels)
        for (size_t r = 0; r < l.reps.size(); ++r)
            for (int m = 0; m < kNumModels; ++m)
                runs.row({std::to_string(l.items), std::to_string(r), kModelNames[m], num("%.6g", l.reps[r].auc[m]),
                          num("%.6g", l.reps[r].hit10[m])});
    LineChart chart{"AUC by catalogue size (mean over worlds)", "items", "AUC", {}, false, 560, 360};
    for (int m = 0; m < kNumModels; ++m) {
        Series s{kModelNames[m], {}, {}};
        for (const Level& l : rep.levels) s.x.push_back(l.items), s.y.push_back(l.auc(m));
        chart.series.push_back(s);
    }
    write_text_file(dir + "/auc_by_items.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch60_transfm", "TransFM vs FM (with and without item categories) and TransRec on sequences with a "
                                "planted translation structure (Pasricha & McAuley, RecSys 2018).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, items = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "worlds per catalogue size; 0: the configuration's own (2; --quick 1)");
    flags.add("items", &items, "one catalogue size instead of the configuration's (1000, 2000; --quick 1000)");
    flags.add("users", &o.data.num_users, "number of users");
    flags.add("categories", &o.data.num_categories, "number of item categories (cells of the planted space)");
    flags.add("dim", &o.dim, "embedding size D of every model");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("weight-decay", &o.weight_decay, "L2 penalty Omega on every parameter");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 1, o.items = {1000};
    if (replicates > 0) o.replicates = replicates;
    if (items > 0) o.items = {items};
    if (o.dim < 1 || o.epochs < 1 || o.data.num_users < 1) {
        std::fprintf(stderr, "ch60_transfm: --dim, --epochs and --users must be >= 1\n");
        return 2;
    }

    std::printf("# Chapter 60: TransFM, translation-based factorization machines\n\n");
    std::printf("%d users, items in a %d-D unit ball in %d categories, user translations of length %g, kernel width %g, "
                "restart probability %g, sequences of %d-%d items; D = %d, Adam lr %g, weight decay %g, batch %d, "
                "%d epochs; %d worlds per size; seed %llu\n\n",
                o.data.num_users, o.data.dim, o.data.num_categories, o.data.step, o.data.width, o.data.restart_prob,
                o.data.min_length, o.data.max_length, o.dim, o.lr, o.weight_decay, o.batch, o.epochs, o.replicates,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);                    // bad sizes throw from the generator, naming it
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", "ch60_transfm", e.what());
        return 2;
    }
    print_results(o, rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch60_transfm", [&] { return run_main(argc, argv); });
}
