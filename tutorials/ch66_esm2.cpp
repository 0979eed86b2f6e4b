// Chapter 66: ESM2 vs ESMM vs a naive click-space CVR model (Wen et al., SIGIR 2020), as a lab.
// Trains the three models on the synthetic purchase funnel at several purchase rates, prints
// Markdown tables and writes CSV and SVG under --out. The experiment itself is in ch66_esm2.h.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch66_esm2.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch66;

// The data each scale trains on: how sparse the labels are.
static void print_funnel(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## The training funnel (%d impressions, mean over %d funnels)\n\n", o.train_rows, o.runs);
    std::printf("| buy scale | p(buy after D-Action) | p(buy after O-Action) | clicks | D-Actions | purchases |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < o.buy_scales.size(); ++i)
        std::printf("| %.2f | %.4f | %.4f | %.0f | %.0f | %.0f |\n", o.buy_scales[i], 0.15 * o.buy_scales[i],
                    0.01 * o.buy_scales[i], rep.stats[i].clicks, rep.stats[i].dactions, rep.stats[i].purchases);
    std::printf("\n");
}

// The main result: each model's pCVR judged against the true pCVR on every test impression.
static void print_results(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Test results on all %d test impressions (mean over %d runs)\n\n", o.test_rows, o.runs);
    std::printf("| buy scale | model | params | CVR AUC | worst run | CTCVR AUC | mean pCVR / true |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < o.buy_scales.size(); ++i)
        for (int m = 0; m < kNumModels; ++m) {
            const Cell& c = rep.cells[i][size_t(m)];
            double worst = 1.0;
            for (const Evaluation& e : c.runs) worst = std::min(worst, e.cvr_auc);
            std::printf("| %.2f | %s | %ld | %.4f | %.4f | %s | %.2f |\n", o.buy_scales[i], kModels[m], c.parameters,
                        c.mean(&Evaluation::cvr_auc), worst,
                        m == 0 ? "-" : num("%.4f", c.mean(&Evaluation::ctcvr_auc)).c_str(),
                        c.mean(&Evaluation::cvr_ratio));
        }
    std::printf("\nAUCs are expected AUCs against the generator's true probabilities (no label noise): "
                "CVR AUC ranks pCVR against p(purchase | click, x) over every impression, clicked or not.\n\n");
}

// The claims, each with the numbers it rests on.
static void print_claims(const StudyOptions& o, const StudyReport& rep) {
    auto auc = [&](size_t i, int m) { return rep.cells[i][size_t(m)].mean(&Evaluation::cvr_auc); };
    const size_t sparse = o.buy_scales.size() - 1;
    std::printf("## The paper's claims in this run\n\n| claim | holds | numbers (mean CVR AUC) |\n|---|---|---|\n");
    for (size_t i = 0; i < o.buy_scales.size(); ++i) {
        const std::string at = " (buy scale " + num("%.2f", o.buy_scales[i]) + ")";
        print_claim("ESMM beats the naive CVR model" + at, auc(i, 1) > auc(i, 0),
                    num("%.4f", auc(i, 1)) + " vs " + num("%.4f", auc(i, 0)));
        print_claim("ESM2 beats the naive CVR model" + at, auc(i, 2) > auc(i, 0),
                    num("%.4f", auc(i, 2)) + " vs " + num("%.4f", auc(i, 0)));
    }
    print_claim("ESM2 beats ESMM when purchases are sparse (buy scale " + num("%.2f", o.buy_scales[sparse]) + ")",
                auc(sparse, 2) > auc(sparse, 1), num("%.4f", auc(sparse, 2)) + " vs " + num("%.4f", auc(sparse, 1)));
    print_claim("ESM2's lead over ESMM grows as purchases get sparser",
                auc(sparse, 2) - auc(sparse, 1) > auc(0, 2) - auc(0, 1),
                num("%+.4f", auc(sparse, 2) - auc(sparse, 1)) + " at scale " + num("%.2f", o.buy_scales[sparse]) + " vs " +
                    num("%+.4f", auc(0, 2) - auc(0, 1)) + " at scale " + num("%.2f", o.buy_scales[0]));
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger csv(dir + "/results.csv", {"buy_scale", "model", "run", "cvr_auc", "ctcvr_auc", "cvr_ratio"});
    LineChart chart{"CVR AUC over the entire space vs purchase rate", "purchase-rate scale (log2)",
                    "mean CVR AUC vs true pCVR", {}, false};
    for (int m = 0; m < kNumModels; ++m) {
        Series s{kModels[m], {}, {}};
        for (size_t i = 0; i < o.buy_scales.size(); ++i) {
            const Cell& c = rep.cells[i][size_t(m)];
            for (size_t r = 0; r < c.runs.size(); ++r)
                csv.row({num("%g", o.buy_scales[i]), kModels[m], std::to_string(r), num("%.6f", c.runs[r].cvr_auc),
                         num("%.6f", c.runs[r].ctcvr_auc), num("%.6f", c.runs[r].cvr_ratio)});
            s.x.push_back(std::log2(o.buy_scales[i]));
            s.y.push_back(c.mean(&Evaluation::cvr_auc));
        }
        chart.series.push_back(s);
    }
    write_text_file(dir + "/cvr_auc.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch66_esm2", "Naive CVR vs ESMM vs ESM2 on a synthetic purchase funnel as purchases get "
                             "sparser (Wen et al., SIGIR 2020).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    epochs = o.epochs;
    int runs = 0;
    flags.add("runs", &runs, "runs per (buy scale, model); 0: the configuration's own (5; --quick 2)");
    flags.add("train-rows", &o.train_rows, "training impressions per funnel");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("batch", &o.batch, "batch size");
    flags.add("ctr", &o.ctr, "mean click probability of the funnel");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.runs = 2, o.buy_scales = {4.0, 0.25}, o.train_rows = 30000, o.test_rows = 10000;
    if (runs > 0) o.runs = runs;

    std::printf("# Chapter 66: ESM2 vs ESMM vs a naive CVR model\n\n");
    std::printf("funnel: ctr %.2f, D-Action rate 0.20 after a click; %d train + %d test impressions; "
                "towers %d-32-1 on a shared 8-dim item embedding; batch %d, Adam lr %g, %d epochs, %d runs, seed %llu\n\n",
                o.ctr, o.train_rows, o.test_rows, 16, o.batch, o.lr, o.epochs, o.runs,
                static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_funnel(o, rep);
    print_results(o, rep);
    print_claims(o, rep);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch66_esm2", [&] { return run_main(argc, argv); });
}
