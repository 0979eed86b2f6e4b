// Chapter 62: privileged features distillation as a lab. A simulated log where a post-event
// reading X* (think dwell time) explains much of each label; a teacher that sees it, students that
// do not, trained synchronously; serving AUC of each student, and how it moves with lambda.
// Markdown tables on stdout; CSV and SVG pictures under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch62_pfd.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch62;

static void print_models(const StudyReport& rep) {
    std::printf("## Serving quality (mean over %zu worlds; held-out events)\n\n", rep.reps.size());
    std::printf("| model | servable | AUC | min over worlds | corr(logit, true s) |\n|---|---|---|---|---|\n");
    auto row = [&](const std::string& name, const char* servable, auto auc_of, auto corr_of, bool has_corr = true) {
        std::printf("| %s | %s | %.4f | %.4f | %s |\n", name.c_str(), servable, rep.mean(auc_of), rep.min(auc_of),
                    has_corr ? num("%.4f", rep.mean(corr_of)).c_str() : "");
    };
    const auto teacher = [](const Replicate& r) { return r.teacher_auc; };
    row("teacher, with X*", "**no**", teacher, teacher, false);
    for (size_t k = 0; k < rep.students.size(); ++k)
        row(rep.students[k].name(), "yes", [k](const Replicate& r) { return r.auc[k]; },
            [k](const Replicate& r) { return r.corr[k]; });
    const double main_lambda = rep.students.back().lambda;
    row("PFD student, lambda " + num("%.2f", main_lambda) + ", factors shared with its teacher", "yes",
        [](const Replicate& r) { return r.shared_auc; }, [](const Replicate& r) { return r.shared_corr; });
    row("teacher's FM alone (X* dropped at serving)", "yes", [](const Replicate& r) { return r.teacher_fm_auc; },
        [](const Replicate& r) { return r.teacher_fm_corr; });
    row("(oracle: the true s(u, i))", "-", [](const Replicate& r) { return r.truth_auc; }, [](const Replicate&) { return 1.0; });
    std::printf("\nAUC: of the serving score (user and item only; the teacher also gets X*) on held-out events. "
                "corr: Pearson correlation of the serving logit with the true s(u, i) over every (user, item) pair.\n\n");
}

static void print_claims(const StudyReport& rep) {
    const int base = rep.index_of(0.0, false), main = int(rep.students.size()) - 1;
    const int warm = rep.index_of(rep.students.back().lambda, true);
    auto gap = [&](int a, int b) { return rep.min([&](const Replicate& r) { return r.auc[size_t(a)] - r.auc[size_t(b)]; }); };
    std::printf("## The paper's claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    if (warm >= 0 && base >= 0) {
        print_claim("the PFD student beats the same student trained on labels alone, in every world", gap(warm, base) > 0,
                    "smallest AUC gap " + num("%+.4f", gap(warm, base)));
        const double t = rep.min([&](const Replicate& r) { return r.teacher_auc - r.auc[size_t(warm)]; });
        print_claim("the teacher with X* is better still (but cannot serve)", t > 0, "smallest AUC gap " + num("%+.4f", t));
        print_claim("lambda warm-up helps synchronous training", gap(warm, main) > 0,
                    "smallest gap warm-up - none " + num("%+.4f", gap(warm, main)));
    }
    std::printf("\n");
}

static void print_epochs(const StudyReport& rep) {
    std::printf("## Serving AUC after each epoch (mean over worlds)\n\n| model |");
    const size_t epochs = rep.reps[0].auc_by_epoch[0].size();
    for (size_t e = 0; e < epochs; ++e) std::printf(" %zu |", e + 1);
    std::printf("\n|---|");
    for (size_t e = 0; e < epochs; ++e) std::printf("---|");
    std::printf("\n");
    for (size_t k = 0; k < rep.students.size(); ++k) {
        std::printf("| %s |", rep.students[k].name().c_str());
        for (size_t e = 0; e < epochs; ++e) std::printf(" %.4f |", rep.mean([&](const Replicate& r) { return r.auc_by_epoch[k][e]; }));
        std::printf("\n");
    }
    std::printf("\n");
}

static void write_outputs(const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"world", "model", "lambda", "warmup_steps", "serving_auc", "corr_truth"});
    CsvLogger epochs(dir + "/auc_by_epoch.csv", {"world", "model", "epoch", "serving_auc"});
    for (size_t w = 0; w < rep.reps.size(); ++w) {
        const Replicate& r = rep.reps[w];
        for (size_t k = 0; k < rep.students.size(); ++k) {
            runs.row({std::to_string(w), r.names[k], num("%.2f", rep.students[k].lambda), std::to_string(rep.students[k].warmup),
                      num("%.6g", r.auc[k]), num("%.6g", r.corr[k])});
            for (size_t e = 0; e < r.auc_by_epoch[k].size(); ++e)
                epochs.row({std::to_string(w), r.names[k], std::to_string(e + 1), num("%.6g", r.auc_by_epoch[k][e])});
        }
        runs.row({std::to_string(w), "teacher with X*", "", "", num("%.6g", r.teacher_auc), ""});
        runs.row({std::to_string(w), "shared-factor PFD student", "", "", num("%.6g", r.shared_auc), num("%.6g", r.shared_corr)});
        runs.row({std::to_string(w), "teacher FM alone", "", "", num("%.6g", r.teacher_fm_auc), num("%.6g", r.teacher_fm_corr)});
        runs.row({std::to_string(w), "truth", "", "", num("%.6g", r.truth_auc), "1"});
    }
    // Serving AUC against lambda (warm-up runs), with the labels-only student and the oracle as lines.
    LineChart chart{"Serving AUC of the student against lambda (mean over worlds)", "lambda", "AUC", {}, false, 560, 360};
    Series pfd{"PFD student (warm-up)", {}, {}}, base{"labels only (lambda 0)", {}, {}}, oracle{"true s(u, i)", {}, {}};
    const int b = rep.index_of(0.0, false);
    for (size_t k = 0; k < rep.students.size(); ++k) {
        if (rep.students[k].lambda > 0.0 && rep.students[k].warmup == 0) continue;
        pfd.x.push_back(rep.students[k].lambda);
        pfd.y.push_back(rep.mean([&](const Replicate& r) { return r.auc[k]; }));
    }
    for (double x : {pfd.x.front(), pfd.x.back()}) {
        base.x.push_back(x), oracle.x.push_back(x);
        base.y.push_back(b >= 0 ? rep.mean([&](const Replicate& r) { return r.auc[size_t(b)]; }) : 0.0);
        oracle.y.push_back(rep.mean([](const Replicate& r) { return r.truth_auc; }));
    }
    chart.series = {pfd, base, oracle};
    write_text_file(dir + "/auc_vs_lambda.svg", line_chart_svg(chart));
    // Serving AUC by epoch: labels only against PFD at the main lambda.
    LineChart curve{"Serving AUC after each epoch (mean over worlds)", "epoch", "AUC", {}, false, 560, 360};
    for (size_t k = 0; k < rep.students.size(); ++k) {
        Series s{rep.students[k].name(), {}, {}};
        for (size_t e = 0; e < rep.reps[0].auc_by_epoch[k].size(); ++e) {
            s.x.push_back(double(e + 1));
            s.y.push_back(rep.mean([&](const Replicate& r) { return r.auc_by_epoch[k][e]; }));
        }
        curve.series.push_back(s);
    }
    write_text_file(dir + "/auc_by_epoch.svg", line_chart_svg(curve));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch62_pfd", "Privileged features distillation (Xu et al., KDD 2020): a teacher that sees a "
                            "post-event feature teaches a student that serves without it.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, events = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "independent worlds; 0: the configuration's own (3; --quick 2)");
    flags.add("events", &events, "training events per world; 0: the configuration's own (40000; --quick 20000)");
    flags.add("users", &o.world.users, "users per world");
    flags.add("items", &o.world.items, "items per world");
    flags.add("batch", &o.batch, "mini-batch size");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("dim", &o.dim, "FM factor size D of teacher and students");
    flags.add("lambda", &o.main_lambda, "the lambda also run without warm-up and with shared factors");
    flags.add("warmup-epochs", &o.warmup_epochs, "epochs of the linear lambda warm-up");
    flags.add("intent-std", &o.world.intent_std, "std of the per-event intent that only X* reveals");
    flags.add("reading-noise", &o.world.reading_noise, "std of the noise in X* as a reading of the intent");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 2, o.world.train_events = 20000, o.world.test_events = 10000;
    if (replicates > 0) o.replicates = replicates;
    if (events > 0) o.world.train_events = events;
    if (o.main_lambda <= 0.0 || o.main_lambda > 1.0) {
        std::fprintf(stderr, "ch62_pfd: --lambda must be in (0, 1], got %g\n", o.main_lambda);
        return 2;
    }

    std::printf("# Chapter 62: privileged features distillation\n\n");
    std::printf("%d users, %d items, %d training and %d test events per world; intent std %.2f, X* reading "
                "noise %.2f; FM with D = %d; Adam lr %g, batch %d, %d epochs, lambda warm-up over %.1f epochs; "
                "%d worlds; seed %llu\n\n",
                o.world.users, o.world.items, o.world.train_events, o.world.test_events, o.world.intent_std,
                o.world.reading_noise, o.dim, o.lr, o.batch, o.epochs, o.warmup_epochs, o.replicates,
                static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch62_pfd: %s\n", e.what());
        return 2;
    }
    std::printf("Training click rate %.3f.\n\n", rep.mean([](const Replicate& r) { return r.click_rate; }));
    print_models(rep);
    print_epochs(rep);
    print_claims(rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch62_pfd", [&] { return run_main(argc, argv); });
}
