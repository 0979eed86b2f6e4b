// Chapter 60: TransFM, translation-based factorization machines, as a lab. FM and TransFM with and
// without item categories, and TransRec, in a translation world and a dot-product control world.
// Markdown on stdout; CSV under --out.
#include <chrono>
#include <string>

#include "tutorials/ch60_transfm.h"
#include "tutorials/common/claims.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch60;

static Table model_table(const Results& r) {
    Table t("models", {"model", "main AUC", "main Hit@10", "control AUC", "control Hit@10"});
    for (int m = 0; m < kNumModels; ++m)
        t.add({kModelNames[m], num("%.4f", mean_over(r.main, [m](const WorldRun& x) { return x.auc[m]; })),
               num("%.4f", mean_over(r.main, [m](const WorldRun& x) { return x.hit10[m]; })),
               num("%.4f", mean_over(r.control, [m](const WorldRun& x) { return x.auc[m]; })),
               num("%.4f", mean_over(r.control, [m](const WorldRun& x) { return x.hit10[m]; }))});
    return t;
}

int main(int argc, char** argv) {
    return guarded_main("ch60_transfm", [&] {
        Options o;
        Flags flags("ch60_transfm", "TransFM vs FM (with and without item categories) and TransRec on sequences with a "
                                    "planted translation structure, and a dot-product control (Pasricha & McAuley, RecSys 2018).");
        flags.add("epochs", &o.epochs, "passes over the training transitions", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell (main, control)", at_least(1));
        flags.add("items", &o.data.num_items, "items in the catalogue", at_least(200));
        flags.add("users", &o.data.num_users, "number of users", at_least(10));
        flags.add("categories", &o.data.num_categories, "number of item categories (cells of the planted space)", at_least(1));
        flags.add("dim", &o.dim, "embedding size D of every model", between(1, 256));
        flags.add("lr", &o.adam.lr, "Adam learning rate", above(0.0));
        flags.add("weight-decay", &o.adam.weight_decay, "L2 penalty Omega on every parameter", at_least(0.0));
        flags.add("temperature", &o.control_temperature, "the control world's softmax temperature", above(0.0));
        flags.on_quick([&] { o = quick_options(); });
        flags.check([&] {
            if (o.data.num_categories > o.data.num_items) throw FlagError("--categories must be at most --items");
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 60: TransFM, translation-based factorization machines");
        report.text(std::to_string(o.data.num_users) + " users, " + std::to_string(o.data.num_items) + " items in a " +
                    std::to_string(o.data.dim) + "-D unit ball in " + std::to_string(o.data.num_categories) +
                    " categories, user translations of length " + num("%g", o.data.step) + ", kernel width " +
                    num("%g", o.data.width) + ", restart probability " + num("%g", o.data.restart_prob) + "; D = " +
                    std::to_string(o.dim) + ", Adam lr " + num("%g", o.adam.lr) + ", weight decay " + num("%g", o.adam.weight_decay) +
                    ", batch " + std::to_string(o.batch) + ", " + std::to_string(o.epochs) + " epochs; " +
                    std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed) + ".");
        report.text("What the main world builds in: the next item lies near (previous item + the user's translation), "
                    "TransFM's own form. The control world keeps the items and users but draws the next item by a dot "
                    "product <previous item + translation, next item> / " + num("%g", o.control_temperature) + ", FM's form.");
        const auto start = std::chrono::steady_clock::now();
        const Results r = run_experiment(o);
        report.table(model_table(r), "Held-out last item against " + std::to_string(o.negatives) +
                                         " sampled items: AUC and Hit@10, mean over worlds");
        Claims claims = judge(o, r);
        claims.quick = flags.quick;
        claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}
