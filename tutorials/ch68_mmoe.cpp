// Chapter 68: MMoE and the task-correlation study (Ma et al., KDD 2018), as a lab.
// Trains Shared-Bottom, OMoE and MMoE on the paper's synthetic two-task data at rho = 0.5, 0.9, 1.0,
// prints Markdown tables and writes CSV and SVG under --out. The experiment itself is in ch68_mmoe.h.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch68_mmoe.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch68;

// Figure 2 of the paper as a table: the labels' correlation rises with the weights' cosine.
static void print_pearson(const StudyReport& rep) {
    std::printf("## The label correlation rises with rho\n\n| rho (cosine of w1, w2) |");
    for (double r : rep.pearson_rhos) std::printf(" %.1f |", r);
    std::printf("\n|---|");
    for (size_t i = 0; i < rep.pearson_rhos.size(); ++i) std::printf("---|");
    std::printf("\n| Pearson(y1, y2) |");
    for (double p : rep.pearson) std::printf(" %.2f |", p);
    std::printf("\n\n");
}

// The main result: median and IQR of the final test loss, and the stalled runs, per rho and model.
static void print_losses(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Final test loss (mean per-task MSE after %d steps, %d runs per cell)\n\n", o.steps, o.runs);
    std::printf("| rho | model | params | median | IQR (q25 - q75) | stalled | MMoE gate TV |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < o.rhos.size(); ++i)
        for (int m = 0; m < kNumModels; ++m) {
            const Cell& c = rep.cells[i][size_t(m)];
            std::printf("| %.1f | %s | %ld | %.4f | %.4f - %.4f | %d/%d | %s |\n", o.rhos[i], kModels[m],
                        c.parameters, c.quantile_loss(0.5), c.quantile_loss(0.25), c.quantile_loss(0.75),
                        c.stalled(o.stall_ratio), o.runs,
                        m == 2 ? num("%.3f", quantile(c.gate_tv, 0.5)).c_str() : "");
        }
    std::printf("\nA run stalls when its final loss is above %.0f%% of the loss of predicting each label's "
                "mean. Gate TV: median over runs of the mean total-variation distance between the two "
                "tasks' gates (0 = identical, 1 = disjoint experts).\n\n", 100 * o.stall_ratio);
}

// How much each model loses when the tasks become less related: median(rho_min) - median(rho = 1).
static void print_degradation(const StudyOptions& o, const StudyReport& rep) {
    const size_t lo = 0, hi = o.rhos.size() - 1;
    std::printf("## Degradation from rho = %.1f to rho = %.1f (difference of medians)\n\n", o.rhos[hi], o.rhos[lo]);
    std::printf("| model | median at %.1f | median at %.1f | degradation | IQR width at %.1f |\n|---|---|---|---|---|\n",
                o.rhos[hi], o.rhos[lo], o.rhos[lo]);
    for (int m = 0; m < kNumModels; ++m) {
        const Cell &a = rep.cells[hi][size_t(m)], &b = rep.cells[lo][size_t(m)];
        std::printf("| %s | %.4f | %.4f | %+.4f | %.4f |\n", kModels[m], a.quantile_loss(0.5), b.quantile_loss(0.5),
                    b.quantile_loss(0.5) - a.quantile_loss(0.5), b.quantile_loss(0.75) - b.quantile_loss(0.25));
    }
    std::printf("\n");
}

// The claims, each with the numbers it rests on. The first four are what the test asserts
// (on a quicker budget); the last three we only report.
static void print_claims(const StudyOptions& o, const StudyReport& rep) {
    const size_t lo = 0, hi = o.rhos.size() - 1;
    auto med = [&](size_t i, int m) { return rep.cells[i][size_t(m)].quantile_loss(0.5); };
    auto iqr = [&](size_t i, int m) {
        return rep.cells[i][size_t(m)].quantile_loss(0.75) - rep.cells[i][size_t(m)].quantile_loss(0.25);
    };
    auto tv = [&](size_t i) { return quantile(rep.cells[i][2].gate_tv, 0.5); };
    const double d_sb = med(lo, 0) - med(hi, 0), d_om = med(lo, 1) - med(hi, 1), d_mm = med(lo, 2) - med(hi, 2);
    std::printf("## The paper's claims in this run (rho %.1f vs %.1f)\n\n| claim | holds | numbers |\n|---|---|---|\n",
                o.rhos[lo], o.rhos[hi]);
    print_claim("label correlation rises with rho", rep.pearson.back() > rep.pearson.front(),
                num("%.2f", rep.pearson.front()) + " at rho 0 -> " + num("%.2f", rep.pearson.back()) + " at rho 1");
    print_claim("MMoE below OMoE at low rho (medians)", med(lo, 2) < med(lo, 1),
                num("%.4f", med(lo, 2)) + " vs " + num("%.4f", med(lo, 1)));
    print_claim("OMoE degrades more than MMoE", d_om > d_mm, num("%+.4f", d_om) + " vs " + num("%+.4f", d_mm));
    print_claim("MMoE's gates differ more at low rho (TV)", tv(lo) > tv(hi), num("%.3f", tv(lo)) + " vs " + num("%.3f", tv(hi)));
    print_claim("Shared-Bottom degrades as rho falls", d_sb > 0, num("%+.4f", d_sb));
    print_claim("MMoE < OMoE < Shared-Bottom at low rho", med(lo, 2) < med(lo, 1) && med(lo, 1) < med(lo, 0),
                num("%.4f", med(lo, 2)) + " < " + num("%.4f", med(lo, 1)) + " < " + num("%.4f", med(lo, 0)));
    print_claim("MMoE's runs vary less than OMoE's (IQR at low rho)", iqr(lo, 2) < iqr(lo, 1),
                num("%.4f", iqr(lo, 2)) + " vs " + num("%.4f", iqr(lo, 1)));
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger pearson(dir + "/pearson.csv", {"rho", "label_pearson"});
    for (size_t i = 0; i < rep.pearson.size(); ++i) pearson.row(std::vector<double>{rep.pearson_rhos[i], rep.pearson[i]});
    CsvLogger curves(dir + "/curves.csv", {"rho", "model", "run", "step", "test_loss"});
    CsvLogger finals(dir + "/final.csv", {"rho", "model", "run", "final_loss", "mean_predictor_loss", "gate_tv"});
    CsvLogger gates(dir + "/gates.csv", {"rho", "model", "gate", "expert", "mean_weight"});
    for (size_t i = 0; i < o.rhos.size(); ++i) {
        const std::string rho = num("%.1f", o.rhos[i]);
        LineChart median{"Test loss, rho = " + rho + " (median over " + std::to_string(o.runs) + " runs)",
                         "step", "mean per-task MSE", {}, true};
        LineChart sorted{"Final loss of every run, rho = " + rho, "run (sorted by final loss)", "final test loss",
                         {}, true};
        for (int m = 0; m < kNumModels; ++m) {
            const Cell& c = rep.cells[i][size_t(m)];
            Series med{kModels[m], {}, {}}, fin{kModels[m], {}, {}};
            for (size_t e = 0; e < rep.eval_steps.size(); ++e) {
                std::vector<double> at_e;
                for (size_t r = 0; r < c.curves.size(); ++r) {
                    at_e.push_back(c.curves[r][e]);
                    curves.row({rho, kModels[m], std::to_string(r), std::to_string(rep.eval_steps[e]),
                                num("%.6g", c.curves[r][e])});
                }
                med.x.push_back(rep.eval_steps[e]);
                med.y.push_back(quantile(at_e, 0.5));
            }
            std::vector<double> f = c.final_loss;
            std::sort(f.begin(), f.end());
            for (size_t r = 0; r < f.size(); ++r) fin.x.push_back(double(r + 1)), fin.y.push_back(f[r]);
            for (size_t r = 0; r < c.final_loss.size(); ++r)
                finals.row({rho, kModels[m], std::to_string(r), num("%.6g", c.final_loss[r]),
                            num("%.6g", c.baseline[r]), num("%.6g", c.gate_tv[r])});
            for (size_t g = 0; g < c.mean_gate.size(); ++g)
                for (size_t e = 0; e < c.mean_gate[g].size(); ++e)
                    gates.row({rho, kModels[m], std::to_string(g + 1), std::to_string(e + 1), num("%.6g", c.mean_gate[g][e])});
            median.series.push_back(med);
            sorted.series.push_back(fin);
        }
        write_text_file(dir + "/loss_curves_rho" + rho + ".svg", line_chart_svg(median));
        write_text_file(dir + "/final_losses_rho" + rho + ".svg", line_chart_svg(sorted));
    }
    // The gates of MMoE's first run at each rho: one row per (rho, task), one column per expert.
    Heatmap map{"MMoE mean gates (run 1)", "expert", "rho, task", 0, 0, {}, {}, {}, 28};
    for (size_t i = 0; i < o.rhos.size(); ++i)
        for (size_t g = 0; g < rep.cells[i][2].mean_gate.size(); ++g) {
            for (double w : rep.cells[i][2].mean_gate[g]) map.values.push_back(float(w));
            map.row_labels.push_back("rho " + num("%.1f", o.rhos[i]) + " task " + std::to_string(g + 1));
            map.rows++;
        }
    map.cols = map.rows ? int(map.values.size()) / map.rows : 0;
    for (int e = 0; e < map.cols; ++e) map.col_labels.push_back(std::to_string(e + 1));
    write_text_file(dir + "/gates.svg", heatmap_svg(map));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch68_mmoe", "Shared-Bottom vs OMoE vs MMoE as the two tasks' correlation rho falls "
                             "(Ma et al., KDD 2018, synthetic data).");
    StudyOptions o;
    int runs = 0, steps = 0;
    bool paper = false;
    flags.add("runs", &runs, "runs per (rho, model); 0: the configuration's own (20; --quick 3; --paper 200)");
    flags.add("steps", &steps, "Adam steps per run, one fresh batch each; 0: the configuration's own (2000; --quick 1000; --paper 10000)");
    flags.add("paper", &paper, "closer to the paper: input size 100, 10000 steps, 200 runs (hours)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("batch", &o.batch, "batch size");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    if (flags.quick) o.runs = 3, o.steps = 1000, o.test_rows = 500, o.pearson_rows = 2000;
    if (paper) o.input = 100, o.steps = 10000, o.runs = 200;
    if (runs > 0) o.runs = runs;
    if (steps > 0) o.steps = steps;

    MultiTaskOptions mo;
    mo.input = o.input;
    std::printf("# Chapter 68: MMoE and the task-correlation study\n\n");
    std::printf("input d = %d, experts E = %d x %d units, towers %d units, Shared-Bottom bottom %d units "
                "(matched weights: %d); batch %d, Adam lr %g, %d steps, %d runs, seed %llu\n\n",
                o.input, mo.experts, mo.expert_hidden, mo.tower_hidden, matched_bottom_hidden(mo),
                o.input * mo.expert_hidden * mo.experts + mo.expert_hidden * mo.tower_hidden * mo.tasks,
                o.batch, o.lr, o.steps, o.runs, static_cast<unsigned long long>(o.seed));

    const StudyReport rep = run_study(o);
    print_pearson(rep);
    print_losses(o, rep);
    print_degradation(o, rep);
    print_claims(o, rep);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch68_mmoe", [&] { return run_main(argc, argv); });
}
