// Chapter 69: YouTube's multitask ranker with a shallow position tower (Zhao et al., RecSys 2019),
// as a lab. Trains the MMoE ranker with and without the shallow tower on position-biased clicks,
// prints Markdown tables and writes CSV and SVG under --out. The experiment itself is in
// ch69_youtube_mtl.h.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nn/plot.h"
#include "tutorials/ch69_youtube_mtl.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch69;

// The main result: how well each serving score orders the held-out lists by true relevance.
static void print_ranking(const Results& rep) {
    std::printf("## Serving without position: agreement with true relevance on %ld held-out rows\n\n",
                rep.test_rows);
    std::printf("| ranker | pairwise agreement | NDCG@10 (gains = rel) | satisfaction task pairwise | "
                "click AUC (with position) | seconds |\n|---|---|---|---|---|---|\n");
    std::printf("| random order | 0.5000 | %.4f | | | |\n", rep.ideal_ndcg_random);
    std::printf("| the logged (production) order | %.4f | | | | |\n", rep.logged_pairwise);
    const ModelReport* m[] = {&rep.baseline, &rep.shallow};
    const char* names[] = {"MMoE, no shallow tower", "MMoE + shallow tower (dropped at serving)"};
    for (int i = 0; i < 2; ++i)
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.1f |\n", names[i], m[i]->pairwise, m[i]->ndcg,
                    m[i]->satisfaction_pairwise, m[i]->click_auc, m[i]->seconds);
    std::printf("\nPairwise agreement: share of item pairs within a list that the engagement logit orders "
                "as rel(u, i) does. The click AUC scores P(click) with the position (eq. 4) on the "
                "logged clicks.\n\n");
}

// What the shallow tower learned per position, next to the planted examination curve.
static void print_positions(const Results& rep) {
    std::printf("## The shallow tower's position effect (w[k] - w[0]) and the planted examination\n\n");
    std::printf("| position | exam[k] | log exam[k] | logged CTR | learned w[k] - w[0] |\n|---|---|---|---|---|\n");
    for (size_t k = 0; k < rep.exam.size(); ++k)
        std::printf("| %zu | %.3f | %.3f | %.3f | %.3f |\n", k + 1, rep.exam[k], std::log(rep.exam[k]), rep.ctr[k],
                    rep.shallow.position_bias[k]);
    std::printf("| unknown (dropout) | | | | %.3f |\n\n", rep.shallow.unknown_bias);
}

static void print_claims(const Results& rep) {
    const std::vector<double>& w = rep.shallow.position_bias;
    int falls = 0, head_falls = 0;
    for (size_t k = 1; k < w.size(); ++k) falls += w[k] < w[k - 1], head_falls += k < 5 && w[k] < w[k - 1];
    std::vector<double> log_exam;
    for (double e : rep.exam) log_exam.push_back(std::log(e));
    std::printf("## The paper's claims in this run\n\n| claim | holds | numbers |\n|---|---|---|\n");
    print_claim("with the shallow tower the main model ranks closer to true relevance",
                rep.shallow.pairwise > rep.baseline.pairwise,
                num("%.4f", rep.shallow.pairwise) + " vs " + num("%.4f", rep.baseline.pairwise) + " pairwise; NDCG " +
                    num("%.4f", rep.shallow.ndcg) + " vs " + num("%.4f", rep.baseline.ndcg));
    print_claim("the learned position effect falls over positions 1-5", head_falls == 4,
                std::to_string(head_falls) + " of 4 steps fall");
    print_claim("... and at every step down to position 10", falls == int(w.size()) - 1,
                std::to_string(falls) + " of " + std::to_string(w.size() - 1) + " steps fall; w[10] - w[1] = " +
                    num("%.3f", w.back()));
    print_claim("it follows the planted examination curve (Pearson with log exam)", pearson(w, log_exam) > 0.9,
                num("%.3f", pearson(w, log_exam)));
    print_claim("both rankers beat the logged order", rep.baseline.pairwise > rep.logged_pairwise,
                num("%.4f", rep.logged_pairwise) + " logged");
    std::printf("\n");
}

static void write_outputs(const Results& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger pos(dir + "/positions.csv", {"position", "exam", "log_exam", "ctr", "learned_bias"});
    Series planted{"planted log exam[k]", {}, {}}, learned{"shallow tower w[k] - w[1]", {}, {}};
    for (size_t k = 0; k < rep.exam.size(); ++k) {
        pos.row({double(k + 1), rep.exam[k], std::log(rep.exam[k]), rep.ctr[k], rep.shallow.position_bias[k]});
        planted.x.push_back(double(k + 1)), planted.y.push_back(std::log(rep.exam[k]));
        learned.x.push_back(double(k + 1)), learned.y.push_back(rep.shallow.position_bias[k]);
    }
    CsvLogger rank(dir + "/ranking.csv", {"shallow_tower", "pairwise", "ndcg", "satisfaction_pairwise", "click_auc"});
    rank.row({0, rep.baseline.pairwise, rep.baseline.ndcg, rep.baseline.satisfaction_pairwise, rep.baseline.click_auc});
    rank.row({1, rep.shallow.pairwise, rep.shallow.ndcg, rep.shallow.satisfaction_pairwise, rep.shallow.click_auc});
    LineChart chart{"Position effect: learned by the shallow tower vs planted", "position",
                    "logit offset vs position 1", {planted, learned}, false, 560, 340};
    write_text_file(dir + "/position_effect.svg", line_chart_svg(chart));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch69_youtube_mtl", "MMoE ranker with and without the shallow position tower on "
                                    "position-biased clicks (Zhao et al., RecSys 2019, synthetic logs).");
    int epochs = 0;
    flags.add("epochs", &epochs, "passes over the training data");
    Options o;
    epochs = 0;
    flags.add("lists", &o.lists, "ranked lists of 10 in the log, 20% held out (default 40000; --quick 8000)");
    flags.add("ranker-bias", &o.ranker_item_bias, "std of the ranker's per-item promotion (the confounder)");
    flags.add("dropout", &o.position_dropout, "position dropout probability while training (paper: 0.1)");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("batch", &o.batch, "batch size");
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;
    if (flags.quick) o.lists = 8000, o.epochs = 4;
    if (epochs > 0) o.epochs = epochs;

    std::printf("# Chapter 69: MMoE ranking with a shallow position tower\n\n");
    std::printf("%d lists of 10 (%.0f%% held out), ranker item bias %.2f, embeddings %d, MMoE 8 experts x 16, "
                "batch %d, Adam lr %g, %d epochs, position dropout %.2f, seed %llu\n\n",
                o.lists, 100 * o.test_share, o.ranker_item_bias, o.embed, o.batch, o.lr, o.epochs,
                o.position_dropout, static_cast<unsigned long long>(o.seed));
    const Results rep = run(o);
    print_ranking(rep);
    print_positions(rep);
    print_claims(rep);
    if (!flags.out.empty()) {
        write_outputs(rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch69_youtube_mtl", [&] { return run_main(argc, argv); });
}
