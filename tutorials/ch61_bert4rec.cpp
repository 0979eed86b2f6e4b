// Chapter 61: BERT4Rec as a lab. Synthetic sequences (sessions of one interest, a planted
// item-to-item successor graph); BERT4Rec trained with the Cloze task against the same network
// trained left to right, BERT4Rec trained on the last position only, and popularity.
// Markdown tables on stdout; CSV and SVG (loss curves) under --out.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "tutorials/common/plot.h"
#include "tutorials/ch61_bert4rec.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch61;

static void print_table(const StudyOptions& o, const StudyReport& rep) {
    std::printf("## Next-item ranking, leave-one-out (mean over %d worlds)\n\n", o.replicates);
    std::printf("| model | HR@%d | NDCG@%d | MRR | HR@%d (all items) | NDCG@%d (all items) | train CPU s |\n",
                o.k, o.k, o.k, o.k);
    std::printf("|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < kNumModels; ++m) {
        const double secs = m < kNumTrained ? mean_over(rep.reps, [&](const Replicate& r) { return r.train_seconds[m]; }) : 0.0;
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %s |\n", kModelNames[m], rep.mean(m, &Scores::hr),
                    rep.mean(m, &Scores::ndcg), rep.mean(m, &Scores::mrr), rep.mean(m, &Scores::hr_full),
                    rep.mean(m, &Scores::ndcg_full), m < kNumTrained ? num("%.1f", secs).c_str() : "");
    }
    auto oracle = [&](double Scores::*f) { return mean_over(rep.reps, [&](const Replicate& r) { return r.oracle.*f; }); };
    std::printf("| (oracle: the generator's next-item distribution, knowing the session's interest) | %.4f | %.4f | | %.4f | %.4f | |\n\n",
                oracle(&Scores::hr), oracle(&Scores::ndcg), oracle(&Scores::hr_full), oracle(&Scores::ndcg_full));
}

static void print_claims(const StudyReport& rep) {
    auto line = [&](const char* claim, int a, int b) {
        const double gap = rep.min_gap(a, b, &Scores::ndcg);
        print_claim(claim, gap > 0, num("%.4f", rep.mean(a, &Scores::ndcg)) + " vs " + num("%.4f", rep.mean(b, &Scores::ndcg)) +
                                        ", smallest gap over worlds " + num("%+.4f", gap));
    };
    std::printf("## The paper's claims in this run (NDCG@10, sampled negatives)\n\n| claim | holds | numbers |\n|---|---|---|\n");
    line("BERT4Rec beats the left-to-right transformer trained with SASRec's loss", kBert4Rec, kSASRec);
    line("(not the paper's) BERT4Rec beats the left-to-right transformer trained with the full softmax", kBert4Rec, kCausal);
    line("the Cloze task beats masking only the last item (paper, Table 3: \"BERT4Rec (1 mask)\")", kBert4Rec, kLastOnly);
    line("BERT4Rec beats popularity", kBert4Rec, kPopularity);
    std::printf("\n");
}

static void print_curve(const StudyOptions& o, const StudyReport& rep) {
    if (o.eval_every <= 0 || rep.reps[0].ndcg_curve[0].empty()) return;
    std::printf("## Sampled NDCG@%d during training (mean over worlds): who learns faster\n\n| epoch |", o.k);
    for (int m = 0; m < kNumTrained; ++m) std::printf(" %s |", kModelNames[m]);
    std::printf("\n|---|");
    for (int m = 0; m < kNumTrained; ++m) std::printf("---|");
    std::printf("\n");
    for (size_t e = 0; e < rep.reps[0].ndcg_curve[0].size(); ++e) {
        std::printf("| %d |", int(e + 1) * o.eval_every);
        for (int m = 0; m < kNumTrained; ++m)
            std::printf(" %.4f |", mean_over(rep.reps, [&](const Replicate& r) { return r.ndcg_curve[m][e]; }));
        std::printf("\n");
    }
    std::printf("\n");
}

static void write_outputs(const StudyOptions& o, const StudyReport& rep, const std::string& dir) {
    ensure_dir(dir);
    CsvLogger runs(dir + "/runs.csv", {"world", "model", "hr", "ndcg", "mrr", "hr_full", "ndcg_full"});
    CsvLogger curves(dir + "/curves.csv", {"world", "model", "epoch", "loss", "ndcg"});
    for (size_t r = 0; r < rep.reps.size(); ++r) {
        const Replicate& x = rep.reps[r];
        for (int m = 0; m < kNumModels; ++m)
            runs.row({std::to_string(r), kModelNames[m], num("%.6g", x.s[m].hr), num("%.6g", x.s[m].ndcg),
                      num("%.6g", x.s[m].mrr), num("%.6g", x.s[m].hr_full), num("%.6g", x.s[m].ndcg_full)});
        for (int m = 0; m < kNumTrained; ++m)
            for (size_t e = 0; e < x.loss_curve[m].size(); ++e) {
                const bool evaluated = o.eval_every > 0 && (e + 1) % size_t(o.eval_every) == 0;
                const size_t i = (e + 1) / size_t(std::max(1, o.eval_every)) - 1;
                curves.row({std::to_string(r), kModelNames[m], std::to_string(e + 1), num("%.6g", x.loss_curve[m][e]),
                            evaluated ? num("%.6g", x.ndcg_curve[m][i]) : std::string()});
            }
    }
    LineChart loss{"Training loss, world 1 (SASRec's is a binary cross-entropy)", "epoch", "loss", {}, false, 560, 360};
    LineChart ndcg{"Sampled NDCG@" + std::to_string(o.k) + " during training, mean over worlds", "epoch", "NDCG", {}, false, 560, 360};
    for (int m = 0; m < kNumTrained; ++m) {
        Series l{kModelNames[m], {}, {}}, n{kModelNames[m], {}, {}};
        for (size_t e = 0; e < rep.reps[0].loss_curve[m].size(); ++e) {
            l.x.push_back(double(e + 1));
            l.y.push_back(rep.reps[0].loss_curve[m][e]);
        }
        for (size_t e = 0; e < rep.reps[0].ndcg_curve[m].size(); ++e) {
            n.x.push_back(double(e + 1) * o.eval_every);
            n.y.push_back(mean_over(rep.reps, [&](const Replicate& r) { return r.ndcg_curve[m][e]; }));
        }
        loss.series.push_back(l);
        ndcg.series.push_back(n);
    }
    write_text_file(dir + "/loss.svg", line_chart_svg(loss));
    write_text_file(dir + "/ndcg.svg", line_chart_svg(ndcg));
}

static int run_main(int argc, char** argv) {
    Flags flags("ch61_bert4rec", "BERT4Rec (Cloze, bidirectional) vs a left-to-right transformer vs popularity "
                                 "on synthetic item sequences (Sun et al., CIKM 2019).");
    StudyOptions o;
    flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
    flags.add("replicates", &o.replicates, "independent worlds", at_least(1));
    flags.add("users", &o.data.num_users, "users per world", at_least(10));
    flags.add("items", &o.data.num_items, "items N (a multiple of the interests)");
    flags.add("order", &o.data.order_strength, "probability that the next item follows the planted successor graph");
    flags.add("sessions", &o.data.sessions_per_user, "sessions per user");
    flags.add("lr", &o.lr, "Adam learning rate");
    flags.add("dim", &o.model.dim, "hidden size d");
    flags.add("max-len", &o.model.max_len, "T, the most recent items the model reads");
    flags.add("mask-prob", &o.mask_prob, "rho, the Cloze masking proportion");
    flags.add("dropout", &o.model.dropout, "dropout rate");
    flags.add("eval-every", &o.eval_every, "epochs between NDCG evaluations during training (0: none)");
    // the quick configuration; whatever the user typed still wins
    flags.on_quick([&] { o.replicates = 1, o.data.num_users = 400, o.epochs = 15; });
    flags.parse_or_exit(argc, argv);
    o.seed = flags.seed;

    std::printf("# Chapter 61: BERT4Rec\n\n");
    std::printf("%d users, %d items in %d interests, %d sessions of %d-%d items, order strength %.2f; "
                "T = %d, d = %d, %d layers, %d heads, dropout %.2f; rho = %.2f; Adam lr %g, batch %d, %d epochs; "
                "%d worlds; seed %llu\n\n",
                o.data.num_users, o.data.num_items, o.data.num_interests, o.data.sessions_per_user,
                o.data.min_session_length, o.data.max_session_length, o.data.order_strength, o.model.max_len,
                o.model.dim, o.model.layers, o.model.heads, double(o.model.dropout), o.mask_prob, o.lr, o.batch,
                o.epochs, o.replicates, static_cast<unsigned long long>(o.seed));
    StudyReport rep;
    try {
        rep = run_study(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    print_table(o, rep);
    print_curve(o, rep);
    print_claims(rep);
    std::printf("(%.1f s wall clock)\n", rep.seconds);
    if (!flags.out.empty()) {
        write_outputs(o, rep, flags.out);
        std::fprintf(stderr, "wrote CSV and SVG to %s\n", flags.out.c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    return guarded_main("ch61_bert4rec", [&] { return run_main(argc, argv); });
}
