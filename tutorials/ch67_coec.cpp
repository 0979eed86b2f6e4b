// Chapter 67: COEC, clicks over expected clicks, as a lab. Prints the chapter's worked example,
// then ranks the ads of a simulated, position-biased ad server by raw CTR and by COEC under the
// chapter's three estimates of the expected CTR per position, against the true ad quality, in the
// main world and in a control world without position effect; then the claims table.
#include <chrono>
#include <string>
#include <vector>

#include "tutorials/ch67_coec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch67;

static void worked_example(Report& report) {
    const WorkedExample w;
    Table t("worked_example", {"", "position 1", "position 2", "position 3", "position 4", "impressions", "clicks",
                               "CTR", "expected clicks", "COEC"});
    t.add({"expected CTR of the position", num("%.2f", w.position_ctr[0]), num("%.2f", w.position_ctr[1]),
           num("%.2f", w.position_ctr[2]), num("%.2f", w.position_ctr[3]), "", "", "", "", ""});
    auto row = [&](const char* name, const std::vector<double>& s, double clicks, double ctr, double e, double c) {
        t.add({name, num("%.0f", s[0]), num("%.0f", s[1]), num("%.0f", s[2]), num("%.0f", s[3]), "10",
               num("%.0f", clicks), num("%.2f", ctr), num("%.2f", e), num("%.3f", c)});
    };
    row("ad A (impressions)", w.shown_a, w.clicks_a, w.ctr_a(), w.expected_a(), w.coec_a());
    row("ad B (impressions)", w.shown_b, w.clicks_b, w.ctr_b(), w.expected_b(), w.coec_b());
    report.table(t, "The worked example: A looks better by CTR, B by COEC");
    report.text("CTR ranks A first (" + num("%.2f", w.ctr_a()) + " > " + num("%.2f", w.ctr_b()) +
                "); COEC ranks B first (" + num("%.3f", w.coec_b()) + " > " + num("%.3f", w.coec_a()) +
                "): B earned more clicks than its low slots promised.");
}

static void world_tables(Report& report, const Options& o, const std::vector<World>& ws, const std::string& kind) {
    Table curves("position_curves_" + kind, {"position", "truth (exam_k)", "(1) raw CTR of the position",
                                             "(2) random bucket", "(3) LR model"});
    LineChart chart{"Expected CTR per position, relative to position 1 (" + kind + " world)", "position", "EC_k / EC_1",
                    {{"truth", {}, {}}, {"(1) raw CTR of the position", {}, {}}, {"(2) random bucket", {}, {}}, {"(3) LR model", {}, {}}},
                    false, 560, 360};
    for (int k = 0; k < o.server.slots; ++k) {
        std::vector<std::string> row = {std::to_string(k + 1)};
        for (int c = 0; c < 4; ++c) {
            const double mean = mean_over(ws, [&](const World& w) { return w.curve[c][size_t(k)]; });
            row.push_back(num("%.3f", mean));
            chart.series[size_t(c)].x.push_back(k + 1), chart.series[size_t(c)].y.push_back(mean);
        }
        curves.add(row);
    }
    report.table(curves, "Expected CTR per position, relative to position 1 (" + kind + " world, mean over " +
                             std::to_string(ws.size()) + " worlds)");
    report.chart(chart, "position_curves_" + kind);
    Table taus("tau_" + kind, {"ranking", "mean tau", "sd over worlds", "per world"});
    for (int m = 0; m < kNumMethods; ++m) {
        std::string per;
        for (const World& w : ws) per += (per.empty() ? "" : " ") + num("%.3f", w.tau[m]);
        taus.add({kMethodNames[m], num("%.3f", mean_over(ws, [&](const World& w) { return w.tau[m]; })),
                  num("%.3f", stdev_over(ws, [&](const World& w) { return w.tau[m]; })), per});
    }
    report.table(taus, "Kendall's tau between each ranking of the " + std::to_string(o.server.ads) +
                           " ads and their true quality (" + kind + " world)");
}

int main(int argc, char** argv) {
    return guarded_main("ch67_coec", [&] {
        Options o;
        Flags flags("ch67_coec", "COEC (clicks over expected clicks) vs raw CTR for ranking ads on a position-biased "
                                 "simulated ad server; expected CTR per position estimated three ways.");
        flags.add("epochs", &o.epochs, "passes of the LR position model over the log", at_least(1));
        flags.add("worlds", &o.worlds, "independent simulated worlds per world kind", at_least(2));
        flags.add("requests", &o.server.requests, "requests per world, each showing --slots ads", at_least(1000));
        flags.add("ads", &o.server.ads, "number of ads", at_least(10));
        flags.add("slots", &o.server.slots, "positions per request", between(2, 10));
        flags.add("random-share", &o.server.random_share, "share of requests served in random order (estimate 2)",
                  between(0.001, 1.0));
        flags.add("serving-noise", &o.server.serving_noise, "noise of the production ranking score (log scale)",
                  at_least(0.0));
        flags.add("lr", &o.lr, "Adam learning rate of the position model (estimate 3)", above(0.0));
        flags.on_quick([&] { o = quick_options(); });
        flags.check([&] {
            if (o.server.slots > o.server.ads) throw FlagError("--slots: more slots than --ads");
        });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;
        Report report(flags);
        report.heading("Chapter 67: COEC, clicks over expected clicks");
        worked_example(report);
        report.text("Simulation: " + std::to_string(o.server.ads) + " ads, " + std::to_string(o.server.slots) +
                    " slots, " + std::to_string(o.server.requests) + " requests per world (" +
                    num("%.0f", 100 * o.server.random_share) + "% in random order), " + std::to_string(o.worlds) +
                    " worlds of each kind; LR " + std::to_string(o.epochs) + " epochs, Adam lr " +
                    num("%g", o.lr) + "; seed " + std::to_string(o.seed) + ". The main world builds in a "
                    "click probability that falls with the position (exam_k = 1/k) while the server puts good and "
                    "rich ads on top; the control world keeps the biased serving but clicks ignore the position.");
        const auto start = std::chrono::steady_clock::now();
        const Results res = run_experiment(o);
        world_tables(report, o, res.main, "main");
        world_tables(report, o, res.control, "control");
        Claims claims = judge(o, res);
        claims.quick = flags.quick;
        claims.print(report);
        report.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return 0;
    });
}
