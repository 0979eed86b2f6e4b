// Chapter 67: COEC, clicks over expected clicks, as a lab. Prints the chapter's worked example,
// then ranks the ads of a simulated, position-biased ad server by raw CTR and by COEC under the
// chapter's three estimates of the expected CTR per position, against the true ad quality.
// Markdown tables on stdout; CSV and an SVG of the position curves under --out.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch67_coec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch67;

static void print_worked_example() {
    const WorkedExample w;
    std::printf("## The worked example: A looks better by CTR, B by COEC\n\n");
    std::printf("| | position 1 | position 2 | position 3 | position 4 | impressions | clicks | CTR | expected clicks | COEC |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| expected CTR of the position | %.2f | %.2f | %.2f | %.2f | | | | | |\n", w.position_ctr[0],
                w.position_ctr[1], w.position_ctr[2], w.position_ctr[3]);
    auto row = [](const char* name, const std::vector<double>& shown, double clicks, double ctr, double ec, double c) {
        std::printf("| ad %s (impressions) | %.0f | %.0f | %.0f | %.0f | 10 | %.0f | %.2f | %.2f | %.3f |\n", name,
                    shown[0], shown[1], shown[2], shown[3], clicks, ctr, ec, c);
    };
    row("A", w.shown_a, w.clicks_a, w.ctr_a(), w.expected_a(), w.coec_a());
    row("B", w.shown_b, w.clicks_b, w.ctr_b(), w.expected_b(), w.coec_b());
    std::printf("\nCTR ranks A first (%.2f > %.2f); COEC ranks B first (%.3f > %.3f): B earned more clicks "
                "than its low slots promised.\n\n", w.ctr_a(), w.ctr_b(), w.coec_b(), w.coec_a());
}

static void print_curves(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Expected CTR per position, relative to position 1 (mean over %d replicates)\n\n", o.replicates);
    std::printf("| position | truth (exam_k) | (1) raw CTR of the position | (2) random bucket | (3) LR model |\n|---|---|---|---|---|\n");
    for (int k = 0; k < o.server.slots; ++k)
        std::printf("| %d | %.3f | %.3f | %.3f | %.3f |\n", k + 1, rep.mean_curve(0, k), rep.mean_curve(1, k),
                    rep.mean_curve(2, k), rep.mean_curve(3, k));
    std::printf("\n");
}

static void print_taus(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Kendall's tau between each ranking of the %d ads and their true quality\n\n", o.server.ads);
    std::printf("| ranking | mean tau | sd over replicates | per replicate |\n|---|---|---|---|\n");
    for (int m = 0; m < kNumMethods; ++m) {
        std::string per;
        for (const Replicate& r : rep.reps) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%s%.3f", per.empty() ? "" : " ", r.tau[m]);
            per += buf;
        }
        std::printf("| %s | %.3f | %.3f | %s |\n", kMethodNames[m], rep.mean_tau(m), rep.sd_tau(m), per.c_str());
    }
    std::printf("\n");
}

static void print_claims(const StudyOptions& o, const StudyReport& rep) {
    const int last = o.server.slots - 1;
    auto row = [](const char* claim, bool holds, double a, double b, const char* what) {
        std::printf("| %s | %s | %.3f vs %.3f (%s) |\n", claim, holds ? "yes" : "**no**", a, b, what);
    };
    std::printf("## The chapter's claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    row("COEC with (2) ranks closer to the truth than raw CTR", rep.min_gap(kCoecRandom, kRawCtr) > 0,
        rep.mean_tau(kCoecRandom), rep.mean_tau(kRawCtr), "mean tau; holds in every replicate if yes");
    row("COEC with (3) ranks closer to the truth than raw CTR", rep.min_gap(kCoecModel, kRawCtr) > 0,
        rep.mean_tau(kCoecModel), rep.mean_tau(kRawCtr), "mean tau; holds in every replicate if yes");
    row("(1) is biased: its curve falls faster than the truth", rep.mean_curve(1, last) < rep.mean_curve(0, last),
        rep.mean_curve(1, last), rep.mean_curve(0, last), "last position relative to the first");
    row("COEC with (1) ranks worse than with (2) and (3)",
        rep.min_gap(kCoecRandom, kCoecRaw) > 0 && rep.min_gap(kCoecModel, kCoecRaw) > 0, rep.mean_tau(kCoecRaw),
        std::min(rep.mean_tau(kCoecRandom), rep.mean_tau(kCoecModel)), "mean tau of (1) vs the lower of (2), (3)");
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger taus(dir + "/tau.csv", {"replicate", "method", "kendall_tau"});
    for (size_t r = 0; r < rep.reps.size(); ++r)
        for (int m = 0; m < kNumMethods; ++m)
            taus.row({std::to_string(r), kMethodNames[m], std::to_string(rep.reps[r].tau[m])});
    CsvLogger curves(dir + "/position_curves.csv", {"position", "truth", "raw_position_ctr", "random_bucket", "lr_model"});
    LineChart chart{"Expected CTR per position, relative to position 1", "position", "EC_k / EC_1", {}, false, 560, 360};
    const char* names[] = {"truth", "(1) raw CTR of the position", "(2) random bucket", "(3) LR model"};
    for (int c = 0; c < 4; ++c) {
        Series s{names[c], {}, {}};
        for (int k = 0; k < o.server.slots; ++k) s.x.push_back(k + 1), s.y.push_back(rep.mean_curve(c, k));
        chart.series.push_back(s);
    }
    for (int k = 0; k < o.server.slots; ++k)
        curves.row(std::vector<double>{double(k + 1), rep.mean_curve(0, k), rep.mean_curve(1, k), rep.mean_curve(2, k),
                                       rep.mean_curve(3, k)});
    write_text_file(dir + "/position_curves.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch67_coec", "COEC (clicks over expected clicks) vs raw CTR for ranking ads on a position-biased "
                             "simulated ad server; expected CTR per position estimated three ways.");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    epochs = 0;   // 0: the chapter's default, 3 epochs of the LR model (10 with --quick)
    int replicates = 0, requests = 0;
    flags.add("replicates", &replicates, "independent simulated worlds (default 10; --quick 3)");
    flags.add("requests", &requests, "requests per world, each showing --slots ads (default 200000; --quick 20000)");
    flags.add("ads", &o.server.ads, "number of ads");
    flags.add("slots", &o.server.slots, "positions per request");
    flags.add("random-share", &o.server.random_share, "share of requests served in random order (estimate 2)");
    flags.add("serving-noise", &o.server.serving_noise, "noise of the production ranking score (log scale)");
    flags.add("lr", &o.train.lr, "Adam learning rate of the position model (estimate 3)");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    if (flags.quick) o.replicates = 3, o.server.requests = 20000, o.train.epochs = 10;
    if (epochs > 0) o.train.epochs = epochs;
    if (replicates > 0) o.replicates = replicates;
    if (requests > 0) o.server.requests = requests;

    std::printf("# Chapter 67: COEC, clicks over expected clicks\n\n");
    print_worked_example();
    std::printf("Simulation: %d ads, %d slots, %d requests per world (%.0f%% in random order), %d worlds; "
                "LR %d epochs, Adam lr %g; seed %llu\n\n", o.server.ads, o.server.slots, o.server.requests,
                100 * o.server.random_share, o.replicates, o.train.epochs, o.train.lr,
                static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_curves(o, rep);
    print_taus(o, rep);
    print_claims(o, rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch67_coec", [&] { return run_main(argc, argv); });
}
