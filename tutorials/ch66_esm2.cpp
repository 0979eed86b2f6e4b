// Chapter 66: ESM2 vs ESMM vs a naive click-space CVR model (Wen et al., SIGIR 2020), as a lab: the experiment of
// ch66_esm2.h (main and control world, several purchase rates, or --data Ali-CCP), its tables, claims, CSV and SVG.
#include <chrono>

#include "tutorials/ch66_esm2.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch66;

static const char* const kKinds[] = {"main", "control"};

// The data each scale trains on: how sparse the labels are.
static void print_funnel(Report& report, const Options& o, const Results& rep) {
    Table t("funnel", {"world", "buy scale", "p(buy after D-Action)", "p(buy after O-Action)", "clicks", "D-Actions", "purchases"});
    for (int kind = 0; kind < 2; ++kind)
        for (size_t i = 0; i < o.buy_scales.size(); ++i) {
            const datasets::FunnelOptions fo = funnel_options(o, o.buy_scales[i], kind == 1, 0);
            t.add({kKinds[kind], num("%.2f", o.buy_scales[i]), num("%.4f", fo.buy_after_daction), num("%.4f", fo.buy_after_oaction),
                   num("%.0f", rep.stats[kind][i].clicks), num("%.0f", rep.stats[kind][i].dactions),
                   num("%.0f", rep.stats[kind][i].purchases)});
        }
    report.table(t, "The training funnel (" + std::to_string(o.train_rows) + " impressions, mean over " + std::to_string(o.worlds) + " worlds)");
}

// The main result: each model's pCVR judged against the true pCVR on every test impression.
static void print_results(Report& report, const Options& o, const Results& rep) {
    Table t("results", {"world", "buy scale", "model", "params", "CVR AUC", "worst world", "CTCVR AUC", "mean pCVR / true"});
    LineChart chart{"CVR AUC over the entire space vs purchase rate (main world)", "purchase-rate scale (log2)",
                    "mean CVR AUC vs true pCVR", {}, false};
    for (int kind = 0; kind < 2; ++kind)
        for (int m = 0; m < kNumModels; ++m) {
            Series s{kModels[m], {}, {}};
            for (size_t i = 0; i < o.buy_scales.size(); ++i) {
                const Cell& c = rep.cells[kind][i][size_t(m)];
                const double worst = min_over(c.runs, [](const Evaluation& e) { return e.cvr_auc; });
                t.add({kKinds[kind], num("%.2f", o.buy_scales[i]), kModels[m], std::to_string(c.parameters),
                       num("%.4f", c.mean(&Evaluation::cvr_auc)), num("%.4f", worst),
                       m == 0 ? "-" : num("%.4f", c.mean(&Evaluation::ctcvr_auc)), num("%.2f", c.mean(&Evaluation::cvr_ratio))});
                s.x.push_back(std::log2(o.buy_scales[i])), s.y.push_back(c.mean(&Evaluation::cvr_auc));
            }
            if (kind == 0) chart.series.push_back(s);
        }
    report.table(t, "Test results on all " + std::to_string(o.test_rows) + " test impressions (mean over " + std::to_string(o.worlds) + " worlds)");
    report.text("AUCs are expected AUCs against the generator's true probabilities (no label noise): CVR AUC ranks "
                "pCVR against p(purchase | click, x) over every impression, clicked or not.");
    report.chart(chart, "cvr_auc");
}

// --data: one row per model, mean over initialisations (CVR AUC on the clicked test impressions).
static void print_real(Report& report, const Options& o, const Results& rep) {
    Table t("results", {"model", "params", "CTR AUC", "CVR AUC (clicked)", "worst init", "CTCVR AUC"});
    for (int m = 0; m < 2; ++m) {
        const Cell& c = rep.cells[0][0][size_t(m)];
        auto cell = [&](double Evaluation::*f) { return m == 0 && f != &Evaluation::cvr_auc ? std::string("-") : num("%.4f", c.mean(f)); };
        t.add({kModels[m], std::to_string(c.parameters), cell(&Evaluation::ctr_auc), cell(&Evaluation::cvr_auc),
               num("%.4f", min_over(c.runs, [](const Evaluation& e) { return e.cvr_auc; })), cell(&Evaluation::ctcvr_auc)});
    }
    report.table(t, "Test AUC on the test file (mean over " + std::to_string(o.worlds) + " initialisations)");
}

int main(int argc, char** argv) {
    return guarded_main("ch66_esm2", [&] {
        Options o;
        Flags flags("ch66_esm2", "Naive CVR vs ESMM vs ESM2 on a synthetic purchase funnel as purchases get "
                                 "sparser (Wen et al., SIGIR 2020).");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds (funnel and inits) per buy scale", at_least(2));
        flags.add("train-rows", &o.train_rows, "training impressions per funnel", at_least(1000));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("batch", &o.batch, "batch size", at_least(1));
        flags.add("ctr", &o.ctr, "mean click probability of the funnel", between(0.01, 0.5));
        std::string data_path;
        datasets::AliCcp real;   // read while the flags are checked: a bad file stops the run before any training
        add_data_flag(flags, &data_path, "a folder with Ali-CCP's ali_ccp_{train,val,test}_sample.csv instead of the synthetic funnel",
                      [&](const std::string& p) { real = datasets::load_ali_ccp(p); });
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        if (!data_path.empty()) o.buy_scales = {1.0};   // one cell: the file as it is
        const auto start = std::chrono::steady_clock::now();
        Report report(flags);
        report.heading("Chapter 66: ESM2 vs ESMM vs a naive CVR model");
        if (!data_path.empty())
            report.text(data_path + " (Ali-CCP): " + std::to_string(real.n_train) + " train, " + std::to_string(real.n_valid - real.n_train) + " val (read, not used), " +
                        std::to_string(real.n - real.n_valid) + " test impressions; x = the " + std::to_string(real.f.x.dim(1) - 32) + " D columns and 32 hashed "
                        "slots of the other fields, item = field 205 hashed into 200 ids (datasets/ctr_logs.h); the naive model and ESMM only (no "
                        "D-Action label for ESM2); " + std::to_string(o.worlds) + " initialisations of one data set: no verdicts.");
        else
            report.text("funnel: ctr " + num("%.2f", o.ctr) + ", D-Action rate 0.20 after a click; " + std::to_string(o.train_rows) +
                        " train + " + std::to_string(o.test_rows) + " test impressions; towers 16-32-1 on a shared 8-dim item "
                        "embedding; batch " + std::to_string(o.batch) + ", Adam lr " + num("%g", o.lr) + ", " +
                        std::to_string(o.epochs) + " epochs, " + std::to_string(o.worlds) + " worlds, seed " +
                        std::to_string(o.seed) + ". The main world builds in a D-Action that predicts the purchase (15% "
                        "after it, 1% after any other action); the control world gives both the same rate (3.8%).");
        const Results rep = run_experiment(o, data_path.empty() ? nullptr : &real);
        if (data_path.empty()) print_funnel(report, o, rep), print_results(report, o, rep);
        else print_real(report, o, rep);
        Claims claims = judge(o, rep);
        claims.quick = flags.quick, claims.one_dataset = !data_path.empty(), claims.print(report);   // --data: n counts initialisations
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}
