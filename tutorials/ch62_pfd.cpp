// Chapter 62: privileged features distillation as a lab. A simulated log where a post-event
// reading X* (think dwell time) explains much of each label; a teacher that sees it, students that
// do not, trained synchronously, in a main world and a control world where X* is a weak reading.
// Markdown on stdout; CSV under --out.
#include <chrono>
#include <string>

#include "tutorials/ch62_pfd.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch62;

static Table serving_table(const Results& r) {
    Table t("serving_auc", {"model", "servable", "main world AUC", "control world AUC"});
    auto row = [&](const std::string& name, const char* servable, auto g) {
        t.add({name, servable, num("%.4f", mean_over(r.main, g)), num("%.4f", mean_over(r.control, g))});
    };
    row("teacher, with X*", "**no**", [](const WorldRun& x) { return x.teacher_auc; });
    for (size_t k = 0; k < r.students.size(); ++k) row(r.students[k].name(), "yes", [k](const WorldRun& x) { return x.auc[k]; });
    const std::string lambda = ", lambda " + num("%.2f", r.students.back().lambda);   // the claims' lambda
    row("PFD student" + lambda + ", factors shared with its teacher", "yes", [](const WorldRun& x) { return x.shared_auc; });
    row("MD teacher: bigger, same features", "costly", [](const WorldRun& x) { return x.md_teacher_auc; });
    row("MD student" + lambda, "yes", [](const WorldRun& x) { return x.md_auc; });
    row("PFD+MD teacher: bigger, with X*", "**no**", [](const WorldRun& x) { return x.both_teacher_auc; });
    row("PFD+MD student" + lambda, "yes", [](const WorldRun& x) { return x.both_auc; });
    row("(oracle: the true s(u, i))", "-", [](const WorldRun& x) { return x.truth_auc; });
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch62_pfd", [&] {
        Options o;
        Flags flags("ch62_pfd", "Privileged features distillation (Xu et al., KDD 2020): a teacher that sees a "
                                "post-event feature teaches a student that serves without it.");
        flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("events", &o.world.train_events, "training events per world", at_least(1000));
        flags.add("users", &o.world.users, "users per world", at_least(2));
        flags.add("items", &o.world.items, "items per world", at_least(2));
        flags.add("batch", &o.batch, "mini-batch size", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("dim", &o.dim, "FM factor size D of teacher and students", between(1, 256));
        flags.add("lambda", &o.lambda, "the claims' lambda (also run without warm-up and with shared factors)", between(0.01, 1.0));
        flags.add("warmup-epochs", &o.warmup_epochs, "epochs of the linear lambda warm-up", above(0.0));
        flags.add("intent-std", &o.world.intent_std, "std of the per-event intent that only X* reveals", at_least(0.0));
        flags.add("reading-noise", &o.world.reading_noise, "std of the noise in X* in the main world", at_least(0.0));
        flags.add("control-reading-noise", &o.control_reading_noise, "std of the noise in X* in the control world", at_least(0.0));
        flags.on_quick([&] { o = quick_options(); });
        flags.check([&] {
            if (o.world.train_events < o.batch) throw FlagError("--events must be at least --batch");
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 62: privileged features distillation");
        report.text(std::to_string(o.world.users) + " users, " + std::to_string(o.world.items) + " items, " +
                    std::to_string(o.world.train_events) + " training and " + std::to_string(o.world.test_events) +
                    " test events per world; intent std " + num("%.2f", o.world.intent_std) + "; X* reading noise " +
                    num("%.2f", o.world.reading_noise) + " (main) and " + num("%.2f", o.control_reading_noise) +
                    " (control); FM with D = " + std::to_string(o.dim) + "; Adam lr " + num("%g", o.lr) + ", batch " +
                    std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs, lambda warm-up over " +
                    num("%.1f", o.warmup_epochs) + " epochs; " + std::to_string(o.worlds) + " worlds per cell; seed " +
                    std::to_string(o.seed) + ".");
        report.text("What the main world builds in: X* is the label's own logit plus a little noise, so a teacher "
                    "that sees it knows almost everything about the event. In the control world X* is the same "
                    "reading under noise of std " + num("%.1f", o.control_reading_noise) + ": weakly informative.");
        const auto start = std::chrono::steady_clock::now();
        const Results r = run_experiment(o);
        report.text("Training click rate " + num("%.3f", r.click_rate) + ".");
        report.table(serving_table(r), "Serving AUC on held-out events (user and item only; the teacher also gets X*), "
                                       "mean over worlds");
        Claims claims = judge(o, r);
        claims.quick = flags.quick;
        claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}
