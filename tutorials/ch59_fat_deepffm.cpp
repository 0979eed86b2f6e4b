// Chapter 59: FM -> FFM -> DeepFFM -> FAT-DeepFFM, and attention before vs after the interactions,
// as a lab: the five models on the same batches of a main and a control world, judged early-stopped.
// Markdown on stdout; CSV under --out. --data: the five models on a Criteo log.
#include <chrono>
#include <cmath>
#include <string>

#include "datasets/ctr_logs.h"
#include "tutorials/ch59_fat_deepffm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch59;

static Table model_table(const Results& r) {
    Table t("models", {"world", "model", "AUC (early-stopped)", "log loss (early-stopped)", "best epoch",
                       "AUC (last epoch)", "log loss (last epoch)"});
    for (int cell = 0; cell < 2; ++cell) {
        const std::vector<WorldRun>& runs = cell == 0 ? r.main : r.control;
        const std::string world = cell == 0 ? (r.control.empty() ? "real data" : "main") : "control";
        if (runs.empty()) continue;
        for (int m = 0; m < kNumModels; ++m) {
            std::vector<std::string> row = {world, kModelNames[m]};
            for (double Fit::*f : {&Fit::es_auc, &Fit::es_logloss, &Fit::best_epoch, &Fit::auc, &Fit::logloss})
                row.push_back(num(f == &Fit::best_epoch ? "%.1f" : "%.4f", mean_over(runs, [&](const WorldRun& x) { return x.m[m].*f; })));
            t.add(row);
        }
        if (!std::isnan(runs[0].oracle.auc))
            t.add({world, "oracle (true probability)", num("%.4f", mean_over(runs, [](const WorldRun& x) { return x.oracle.auc; })),
                   num("%.4f", mean_over(runs, [](const WorldRun& x) { return x.oracle.logloss; })), "", "", ""});
    }
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch59_fat_deepffm", [&] {
        Options o;
        Flags flags("ch59_fat_deepffm", "FM, FFM, DeepFFM, attention after the interactions and FAT-DeepFFM (Zhang et al. "
                                        "2019) on a synthetic click log, in a field-aware world and an FM control world.");
        flags.add("epochs", &o.epochs, "passes over the training data (the best by validation log loss is judged)", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        std::string data_path;
        datasets::FieldPairWorld real;   // read while the flags are checked: a bad file stops the run before any training
        add_data_flag(flags, &data_path, "a Criteo log (TSV as published, or CSV with a label,I1..C26 header) instead of the synthetic worlds",
                      [&](const std::string& p) {   // --rows caps the rows read (CtrLogOptions::max_rows)
                          real = datasets::to_field_pairs(datasets::load_criteo_hashed(p, {flags.given("rows") ? o.world.n : 0}));
                      });
        flags.add("rows", &o.world.n, "rows per world (70% train, 10% validation, 20% test); with --data, read at most this many rows", at_least(1000));
        flags.add("noise-fields", &o.world.noise_fields, "fields that carry no signal", between(0, 32));
        flags.add("signal-fields", &o.world.signal_fields, "fields whose pairs interact", between(2, 16));
        flags.add("values", &o.world.values, "values per field", between(2, 1000));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("dim", &o.dim, "embedding size D of every model", between(1, 64));
        flags.add("reduction", &o.reduction, "CENet's reduction ratio r", at_least(1));
        bool inner = false;
        flags.add("inner", &inner, "DeepFFM and its variants use inner products (eq. 4) instead of Hadamard products (eq. 5)");
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        if (inner) o.interaction = Interaction::inner;

        Report report(flags);
        report.heading("Chapter 59: FAT-DeepFFM, field attention before the interactions");
        const bool on_real = !data_path.empty();
        const std::string training = "D = " + std::to_string(o.dim) + ", Adam lr " + num("%g", o.lr) + ", batch " +
                                     std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs" +
                                     (on_real ? " (early-stopped)" : "") + ", CENet r = " + std::to_string(o.reduction);
        if (on_real) {
            report.text(datasets::describe(real, data_path) + "; " + training + "; " + std::to_string(o.worlds) +
                        " initialisations; seed " + std::to_string(o.seed) + ".");
        } else {
            report.text(datasets::describe(o.world) + "; " + training + ", " + (o.interaction == Interaction::hadamard ? "Hadamard" :
                        "inner-product") + " interactions; " + std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed) + ".");
            report.text("What the main world builds in: every pair of signal fields interacts through its own latent "
                        "vectors (FFM's assumption), and the noise fields carry nothing. The control world plants an FM "
                        "instead (one vector per value for all of its pairs), with the same noise fields.");
        }
        const auto start = std::chrono::steady_clock::now();
        const Results r = run_experiment(o, on_real ? &real : nullptr);
        report.table(model_table(r), on_real ? "Test AUC and log loss on the file's test rows, mean over initialisations"
                                             : "Test AUC and log loss, mean over worlds (early-stopped: the epoch with the best "
                                               "validation log loss)");
        Claims claims = judge(o, r);
        claims.quick = flags.quick;
        claims.one_dataset = on_real;   // one data set: n counts initialisations, not worlds
        if (on_real) report.text("With --data the runs share one data set and differ only in initialisation: no verdicts.");
        claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}
