// Chapter 72 (Yi et al., RecSys 2019) as a lab: streaming frequency estimation on the paper's drifting
// stream, then a two-tower model trained plain or corrected, beside popularity; the claims judged.
#include "tutorials/ch72_two_tower.h"
#include "tutorials/common/flags.h"
#include "tutorials/common/report.h"

using namespace minirec;
using namespace minirec::ch72;

static Table frequency_table(const Results& r) {
    Table t("frequency", {"estimator", "steady-state error", "error after the switch", "error mid-phase (control)"});
    for (auto group : {&FrequencyResult::alphas, &FrequencyResult::hashes, &FrequencyResult::control_hashes})
        for (size_t i = 0; i < (r.frequency[0].*group).size(); ++i) {
            std::vector<double> s, a, m;
            for (const FrequencyResult& f : r.frequency)
                s.push_back((f.*group)[i].steady), a.push_back((f.*group)[i].after_switch), m.push_back((f.*group)[i].mid_phase);
            t.add({(r.frequency[0].*group)[i].name, num("%.5f", nan_mean(s)), num("%.5f", nan_mean(a)), num("%.5f", nan_mean(m))});
        }
    return t;
}

static Table retrieval_table(const Options& o, const Results& r) {
    const std::string k0 = std::to_string(o.retrieval.ks[0]), k1 = std::to_string(o.retrieval.ks[1]);
    Table t("retrieval", {"world", "method", "Recall@" + k0, "Recall@" + k1, "head share of top " + k0});
    for (const char* world : {"main", "control"}) {
        const auto& cell = std::string(world) == "main" ? r.retrieval : r.control;
        for (size_t m = 0; !cell.empty() && m < cell[0].size(); ++m) {
            std::vector<double> a, b, sh;
            for (const auto& w : cell) a.push_back(w[m].recall[0]), b.push_back(w[m].recall[1]), sh.push_back(w[m].head_share);
            t.add({world, cell[0][m].name, num("%.4f", nan_mean(a)), num("%.4f", nan_mean(b)), num("%.3f", nan_mean(sh))});
        }
    }
    return t;
}

static LineChart alpha_chart(const Results& r) {
    LineChart c{"World 1: estimation error vs step, by alpha (popularity flips halfway)", "step",
                "mean |p_hat - B q| over the batch", {}, true};
    const std::vector<long>& x = r.frequency[0].window_end;
    for (const EstimatorTrace& t : r.frequency[0].alphas) c.series.push_back({t.name, {x.begin(), x.begin() + long(t.error.size())}, t.error});
    return c;
}

int main(int argc, char** argv) {
    return guarded_main("ch72_two_tower", [&] {
        Options o;
        Flags flags("ch72_two_tower", "Streaming frequency estimation and the sampling-bias-corrected two-tower model (Yi et al., "
                                      "RecSys 2019), over independent worlds with a control world (synthetic, or --data ml-100k "
                                      "for the retrieval part).");
        flags.check([&] {   // registered first: it runs before --data is read
            if (o.frequency.recovery_window * 2 > o.frequency.steps_per_phase)
                throw FlagError("--steps-per-phase: at least " + std::to_string(2 * o.frequency.recovery_window) +
                                " (twice the recovery window)");
        });
        std::string data_path;
        datasets::RetrievalData real;   // loaded while the flags are checked, so a bad path fails before any work
        add_data_flag(flags, &data_path, "path to the MovieLens-100k folder (u.data, u.item) instead of the synthetic catalogue",
                      [&](const std::string& p) { real = datasets::movielens_retrieval(p); });
        flags.add("epochs", &o.retrieval.train.epochs, "passes over the retrieval training data", at_least(1));
        flags.add("worlds", &o.worlds, "independent worlds per cell", at_least(1));
        flags.add("alpha", &o.retrieval.train.estimator.alpha, "alpha of the estimator used in training", between(1e-4, 1.0));
        flags.add("hashes", &o.retrieval.train.estimator.hashes, "hash functions of the estimator used in training", at_least(1));
        flags.add("tau", &o.retrieval.train.tau, "temperature of the in-batch softmax", above(0.0));
        flags.add("items", &o.retrieval.catalogue.num_items, "synthetic catalogue size N", at_least(100));
        flags.add("noise", &o.retrieval.catalogue.query_noise, "synthetic query noise (std per coordinate)", above(0.0));
        flags.add("steps-per-phase", &o.frequency.steps_per_phase, "stream steps before (and after) the switch", at_least(1000));
        flags.on_quick([&] { o = quick_options(); });
        flags.parse_or_exit(argc, argv);
        o.seed = flags.seed;

        Report report(flags);
        report.heading("Chapter 72: sampling-bias-corrected two-tower retrieval");
        report.text(std::string(data_path.empty() ? "Main world: item popularity follows a power law (q_j ~ 1/(j+1)), so "
                                "popular items fill the in-batch negatives and the plain softmax over-penalises them; the "
                                "control catalogue has uniform popularity (no sampling bias to correct)."
                              : "Retrieval on MovieLens-100k (one data set: the worlds are initialisations); the estimator's "
                                "stream stays synthetic.") + " For the estimator: the control of the recovery claims is a window "
                    "in mid-phase where nothing switched, and of the hash claims a budget of " + std::to_string(o.frequency.control_slots) +
                    " slots where collisions are rare.");
        const std::string data = data_path.empty() ? std::to_string(o.retrieval.catalogue.num_items) + " items, " +
                                 std::to_string(o.retrieval.train_rows) + " training rows" : "MovieLens-100k from " + data_path;
        report.text("Stream: M = " + std::to_string(o.frequency.items) + ", B = " + std::to_string(o.frequency.batch) +
                    ", switch at step " + std::to_string(o.frequency.steps_per_phase) + ". Retrieval: " + data + ", batch " +
                    std::to_string(o.retrieval.train.batch) + ", " + std::to_string(o.retrieval.train.epochs) + " epochs, tau " +
                    num("%g", o.retrieval.train.tau) + "; " + std::to_string(o.worlds) + " worlds per cell; seed " + std::to_string(o.seed));
        const Results r = run_experiment(o, data_path.empty() ? nullptr : &real);
        report.table(frequency_table(r), "Streaming frequency estimation: error, mean over worlds");
        report.table(retrieval_table(o, r), "Retrieval over the full catalogue, mean over worlds (head: the " +
                                                std::to_string(r.head_size) + " most popular items)");
        Claims claims = judge(o, r);
        claims.quick = claims.quick || flags.quick, claims.one_dataset = !data_path.empty();
        claims.print(report);
        report.chart(alpha_chart(r), "frequency_alpha");
        report.finish(r.seconds);
        return 0;
    });
}
