// Chapter 70: PRM, personalized re-ranking with a transformer, as a lab. Candidate lists whose
// clicks interact (a similar item shown earlier suppresses a later one), an initial ranker that
// scores items one by one, and re-rankers judged by the true expected clicks of their top K.
// Markdown tables on stdout; CSV and an SVG of the training losses under --out.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch70_prm.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch70;

static void print_results(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Re-ranking the initial list: expected clicks under the true click model (mean over %d worlds, "
                "%d test lists each)\n\n",
                o.replicates, o.test_requests);
    std::printf("| order | clicks@%d | min over worlds | clicks on the whole list | distinct topics in top %d |\n",
                o.top_k, o.top_k);
    std::printf("|---|---|---|---|---|\n");
    for (int m = 0; m < kNumOrders; ++m)
        std::printf("| %s | %.4f | %.4f | %.4f | %.2f |\n", kOrderNames[m],
                    rep.mean([&](const Replicate& r) { return r.clicks_at_k[m]; }),
                    rep.min([&](const Replicate& r) { return r.clicks_at_k[m]; }),
                    rep.mean([&](const Replicate& r) { return r.clicks_list[m]; }),
                    rep.mean([&](const Replicate& r) { return r.topics_at_k[m]; }));
    std::printf("\n");
}

static void print_claims(const StudyOptions& o, const StudyReport& rep) {
    auto gap = [&](int a, int b) { return rep.min([&](const Replicate& r) { return r.clicks_at_k[a] - r.clicks_at_k[b]; }); };
    auto row = [&](const std::string& claim, int a, int b) {
        const double g = gap(a, b);
        std::printf("| %s | %s | smallest gap over worlds %+.4f clicks@%d |\n", claim.c_str(), g > 0 ? "yes" : "**no**", g,
                    o.top_k);
    };
    std::printf("## The paper's claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    row("PRM beats the initial ranker's order", kPRM, kInitial);
    row("PRM beats a pointwise re-ranker on the same inputs", kPRM, kPointwise);
    row("PV helps: PRM beats PRM without PV", kPRM, kPRMNoPV);
    row("positions help: PRM beats PRM without PE", kPRM, kPRMNoPos);
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"world", "order", "clicks_at_k", "clicks_list", "topics_at_k"});
    CsvLogger losses(dir + "/loss.csv", {"world", "model", "epoch", "loss"});
    for (size_t w = 0; w < rep.reps.size(); ++w) {
        const Replicate& r = rep.reps[w];
        for (int m = 0; m < kNumOrders; ++m)
            runs.row({std::to_string(w), kOrderNames[m], num("%.6g", r.clicks_at_k[m]), num("%.6g", r.clicks_list[m]),
                      num("%.6g", r.topics_at_k[m])});
        for (int m = 0; m < kNumLearned; ++m)
            for (size_t e = 0; e < r.loss[size_t(m)].size(); ++e)
                losses.row({std::to_string(w), kOrderNames[kPointwise + m], std::to_string(e + 1), num("%.6g", r.loss[size_t(m)][e])});
    }
    // Expected clicks of the top k for k = 1..K is not stored; the bar of each order is shown as a
    // line over the worlds instead: clicks@K per world.
    LineChart chart{"Expected clicks@" + std::to_string(o.top_k) + " per world", "world", "expected clicks", {}, false, 560, 360};
    for (int m = 0; m < kNumOrders; ++m) {
        Series s{kOrderNames[m], {}, {}};
        for (size_t w = 0; w < rep.reps.size(); ++w) s.x.push_back(double(w + 1)), s.y.push_back(rep.reps[w].clicks_at_k[m]);
        chart.series.push_back(s);
    }
    write_text_file(dir + "/clicks_per_world.svg", line_chart_svg(chart));
    LineChart lc{"PRM training loss ([loss]), world 1", "epoch", "list cross-entropy", {}, false, 560, 360};
    for (int m = 1; m < kNumLearned; ++m) {
        Series s{kOrderNames[kPointwise + m], {}, {}};
        for (size_t e = 0; e < rep.reps[0].loss[size_t(m)].size(); ++e) s.x.push_back(double(e + 1)), s.y.push_back(rep.reps[0].loss[size_t(m)][e]);
        lc.series.push_back(s);
    }
    write_text_file(dir + "/prm_loss.svg", line_chart_svg(lc));
}

static int run(int argc, char** argv) {
    Flags flags("ch70_prm", "PRM (a transformer re-ranker over the initial list) vs the initial order and a pointwise "
                            "re-ranker, on lists whose clicks interact (Pei et al., RecSys 2019).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    StudyOptions o;
    int replicates = 0, requests = 0;
    epochs = o.epochs;
    flags.add("replicates", &replicates, "independent worlds; 0: the configuration's own (2; --quick 1)");
    flags.add("requests", &requests, "lists per world, train + test; 0: the configuration's own (16000; --quick 5000)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("dim", &o.dim, "d, the encoder width");
    flags.add("blocks", &o.blocks, "Nx, encoder blocks");
    flags.add("noise", &o.ranker_noise, "std of the initial ranker's error on the relevance logit");
    flags.add("redundancy", &o.data.redundancy, "how much an earlier similar item suppresses a later one (0..1)");
    flags.add("top-k", &o.top_k, "K of the clicks@K metric");
    flags.add("topics", &o.data.num_topics, "number of topics");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    o.epochs = epochs;
    if (flags.quick) o.replicates = 1, o.data.num_requests = 5000, o.test_requests = 500;
    if (replicates > 0) o.replicates = replicates;
    if (requests > 0) o.data.num_requests = requests;
    if (o.top_k < 1 || o.top_k > o.data.num_candidates) throw std::invalid_argument("--top-k must be in 1.." + std::to_string(o.data.num_candidates));
    if (o.data.redundancy < 0 || o.data.redundancy > 1) throw std::invalid_argument("--redundancy must be in [0, 1]");
    if (o.data.num_requests < o.test_requests + o.batch)
        throw std::invalid_argument("--requests must exceed " + std::to_string(o.test_requests + o.batch));

    std::printf("# Chapter 70: PRM, personalized re-ranking\n\n");
    std::printf("%d lists of %d candidates per world (%d for test), %d topics, redundancy %.2f, ranker noise %.2f; "
                "PRM d = %d, %d heads, Nx = %d; Adam lr %g, batch %d, %d epochs; %d worlds; seed %llu\n\n",
                o.data.num_requests, o.data.num_candidates, o.test_requests, o.data.num_topics, o.data.redundancy,
                o.ranker_noise, o.dim, o.heads, o.blocks, o.lr, o.batch, o.epochs, o.replicates,
                static_cast<unsigned long long>(o.seed));
    const StudyReport rep = run_study(o);
    print_results(o, rep);
    print_claims(o, rep);
    std::printf("(%.1f s)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

static int run_main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ch70_prm: %s\n", e.what());
        return 2;
    }
}

int main(int argc, char** argv) {
    return guarded_main("ch70_prm", [&] { return run_main(argc, argv); });
}
