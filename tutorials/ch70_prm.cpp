// Chapter 70: PRM, personalized re-ranking with a transformer, as a lab. Candidate lists whose
// clicks interact (a similar item shown earlier suppresses a later one), an initial ranker that
// scores items one by one, and re-rankers trained with the same list loss, judged by the true
// expected clicks of their top K over independent worlds. The experiment is in ch70_prm.h.
#include <chrono>
#include <string>
#include <vector>

#include "tutorials/ch70_prm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch70;

int main(int argc, char** argv) {
    return guarded_main("ch70_prm", [&] {
        Flags flags("ch70_prm", "PRM (a transformer re-ranker with a pre-trained personalized vector) vs DLCM, a pointwise "
                                "scorer and its own ablations, on lists whose clicks interact (Pei et al., RecSys 2019).");
        Options o;
        flags.add("epochs", &o.epochs, "passes over the training lists", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per kind (main, control)", at_least(2));
        flags.add("requests", &o.data.num_requests, "lists per world, train + test", at_least(1));
        flags.add("lr", &o.lr, "Adam learning rate", above(0.0));
        flags.add("dim", &o.prm.dim, "d, the encoder width", at_least(1));
        flags.add("blocks", &o.prm.blocks, "Nx, encoder blocks", at_least(1));
        flags.add("noise", &o.ranker_noise, "std of the initial ranker's error on the relevance logit", at_least(0.0));
        flags.add("redundancy", &o.data.redundancy, "main world: how much an earlier similar item suppresses a later one",
                  between(0.0, 1.0));
        flags.add("top-k", &o.top_k, "K of the clicks@K metric", at_least(1));
        flags.on_quick([&] { o = quick_options(); });
        flags.check([&] {
            if (o.top_k > o.data.num_candidates)
                throw FlagError("--top-k must be at most " + std::to_string(o.data.num_candidates));
            if (o.data.num_requests < o.test_requests + o.batch)
                throw FlagError("--requests must be at least " + std::to_string(o.test_requests + o.batch));
            if (o.prm.dim % o.prm.heads != 0) throw FlagError("--dim must be a multiple of " + std::to_string(o.prm.heads) + " heads");
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        const auto start = std::chrono::steady_clock::now();
        Report report(flags);
        report.heading("Chapter 70: PRM, personalized re-ranking");
        report.text(std::to_string(o.data.num_requests) + " lists of " + std::to_string(o.data.num_candidates) +
                    " candidates per world (" + std::to_string(o.test_requests) + " for test), " +
                    std::to_string(o.data.num_topics) + " topics, ranker noise " + num("%.2f", o.ranker_noise) +
                    "; PV: " + std::to_string(o.pv_dim) + " units, pre-trained " + std::to_string(o.pretrain_epochs) +
                    " epochs; PRM d = " + std::to_string(o.prm.dim) + ", " + std::to_string(o.prm.heads) + " heads, Nx = " +
                    std::to_string(o.prm.blocks) + "; Adam lr " + num("%g", o.lr) + ", batch " + std::to_string(o.batch) + ", " +
                    std::to_string(o.epochs) + " epochs; " + std::to_string(o.worlds) + " worlds per kind; seed " +
                    std::to_string(o.seed));
        const Results r = run_experiment(o);
        Table t("clicks", {"world", "order", "clicks@" + std::to_string(o.top_k), "min over worlds",
                           "distinct topics in top " + std::to_string(o.top_k)});
        for (int kind = 0; kind < 2; ++kind)
            for (int m = 0; m < kNumOrders; ++m) {
                auto clicks = [m](const World& w) { return w.clicks_at_k[m]; };
                t.add({kind == 0 ? "main (redundancy " + num("%.1f", o.data.redundancy) + ")" : "control (redundancy 0)",
                       kOrderNames[m], num("%.4f", mean_over(r.worlds[kind], clicks)), num("%.4f", min_over(r.worlds[kind], clicks)),
                       num("%.2f", mean_over(r.worlds[kind], [m](const World& w) { return w.topics_at_k[m]; }))});
            }
        report.table(t, "Re-ranking the initial list: expected clicks under the true click model (mean over " +
                            std::to_string(o.worlds) + " worlds, " + std::to_string(o.test_requests) + " test lists each)");
        report.text("The main world's clicks interact: an item shown below a similar one loses clicks, which only a "
                    "re-ranker that reads the whole list can see; the control world has redundancy 0, so every "
                    "item's click is independent of the list and list context has nothing to add.");
        Claims claims = judge(o, r);
        claims.quick = flags.quick;
        claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}
