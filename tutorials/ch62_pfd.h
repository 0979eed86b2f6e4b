// Chapter 62's experiment as functions: the students (models/ch62_pfd.h's Models) learn from labels,
// from a teacher that sees X* (PFD) at several lambdas, without the warm-up, with shared factors, or
// from bigger teachers (MD, PFD+MD), all in one synchronous loop, in a main world (X* almost reads the
// label's logit) and a control world (X* weakly informative). Deliberately left out: the paper's
// asynchronous (teacher first) training, its deep and two-tower student networks.
#pragma once
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "datasets/ch62_privileged.h"
#include "models/ch62_pfd.h"
#include "core/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tutorials/common/claims.h"

namespace minirec {
namespace ch62 {

// A student trained with a fixed lambda (0 = labels only, the baseline) and a warm-up.
struct StudentSpec {
    double lambda = 0.0;
    long warmup = 0;               // optimizer steps of the linear lambda warm-up
    std::string name() const {
        if (lambda == 0.0) return "student, labels only";
        return "PFD student, lambda " + std::to_string(lambda).substr(0, 4) + (warmup > 0 ? "" : ", no warm-up");
    }
};

struct Options {
    datasets::PrivilegedOptions world;
    double control_reading_noise = 4.0;   // the control world's X*: a weak reading of s + e
    std::vector<double> lambdas = {0.0, 0.5, 0.9};   // each with warm-up (0 = labels only)
    double lambda = 0.9;           // the claims' lambda: also run without warm-up, and with shared factors
    double warmup_epochs = 1.0;    // lambda reaches its value after this many epochs
    int worlds = 10;               // independent worlds per cell
    int epochs = 4;
    int batch = 256;
    double lr = 0.01;              // Adam
    int dim = 8;                   // D, the FM factor size of teacher and students
    int tower_hidden = 8;          // the teacher's privileged tower
    int big_dim = 32, big_hidden = 64;   // MD's and PFD+MD's bigger teachers: FM factor size, MLP width
    uint64_t seed = 42;
    bool verbose = true;
};
inline Options quick_options() {
    Options o;
    o.worlds = 2;
    o.world.train_events = 20000, o.world.test_events = 10000;
    return o;
}

// One world's serving AUCs (held-out events, user and item only).
struct WorldRun {
    std::vector<double> auc;       // per student spec
    double shared_auc = 0.0;       // the PFD student whose factors are its teacher's
    double md_auc = 0.0, both_auc = 0.0;                   // the MD and PFD+MD students (lambda, warm-up)
    double md_teacher_auc = 0.0, both_teacher_auc = 0.0;   // their bigger teachers
    double teacher_auc = 0.0;      // with X*: not servable
    double truth_auc = 0.0;        // ranking by the true s(u, i)
};
struct Results {
    std::vector<StudentSpec> students;
    std::vector<WorldRun> main, control;
    double click_rate = 0.0;
    int index_of(double lambda, bool warm) const {
        for (size_t k = 0; k < students.size(); ++k)
            if (students[k].lambda == lambda && (students[k].warmup > 0 || lambda == 0.0) == warm) return int(k);
        return -1;
    }
};

inline std::vector<StudentSpec> student_specs(const Options& o) {
    const long warmup = long(o.warmup_epochs * double((o.world.train_events + o.batch - 1) / o.batch));
    std::vector<StudentSpec> specs;
    for (double l : o.lambdas) specs.push_back({l, l == 0.0 ? 0 : warmup});
    if (std::find(o.lambdas.begin(), o.lambdas.end(), o.lambda) == o.lambdas.end()) specs.push_back({o.lambda, warmup});
    specs.push_back({o.lambda, 0});   // the same lambda from step 0
    return specs;
}

inline WorldRun run_world(const Options& o, const datasets::PrivilegedOptions& wo, const std::vector<StudentSpec>& specs,
                          uint64_t seed, double* click_rate) {
    const datasets::PrivilegedWorld w = datasets::privileged_events(wo, seed);
    *click_rate = w.click_rate;
    Rng rng(splitmix64(seed + 11)), big_rng(splitmix64(seed + 12));   // MD and PFD+MD draw from a stream of their own
    Models m(w.users + w.items, int(specs.size()), o.dim, o.tower_hidden, o.big_dim, o.big_hidden, rng, big_rng);
    Adam adam(vars_of(m.named_parameters()), o.lr);
    const long warmup = long(o.warmup_epochs * double((long(w.train.size()) + o.batch - 1) / o.batch));
    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch)
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            const datasets::PrivilegedBatch b = datasets::gather(w, w.train, rows);
            std::vector<double> lambdas;   // each student's lambda at this step
            for (const StudentSpec& s : specs) lambdas.push_back(lambda_at(s.lambda, step, s.warmup));
            const Var loss = m.loss(b.user_item, b.privileged, b.label, lambdas, lambda_at(o.lambda, step, warmup));
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
    NoGrad no_grad;
    const datasets::PrivilegedBatch test = datasets::gather_all(w, w.test);
    const Var x_test = constant(test.privileged);
    const std::vector<float> y = test.label.vec();
    auto serving_auc = [&](const Var& logits) { return auc(logits.value().vec(), y); };
    WorldRun run;
    for (const Student& s : m.students) run.auc.push_back(serving_auc(s(test.user_item)));
    run.shared_auc = serving_auc(m.shared_student(test.user_item));
    run.teacher_auc = serving_auc(m.teacher(test.user_item, x_test));
    run.md_auc = serving_auc(m.md_student(test.user_item));
    run.both_auc = serving_auc(m.both_student(test.user_item));
    run.md_teacher_auc = serving_auc(m.md_teacher(test.user_item));
    run.both_teacher_auc = serving_auc(m.both_teacher(test.user_item, &x_test));
    run.truth_auc = auc(datasets::truth_scores(w, w.test), y);
    return run;
}

inline Results run_experiment(const Options& o) {
    Results r;
    r.students = student_specs(o);
    datasets::PrivilegedOptions control = o.world;
    control.reading_noise = o.control_reading_noise;
    for (int w = 0; w < o.worlds; ++w) {
        const uint64_t seed = replicate_seed(o.seed, w);   // the same draws in both cells, X*'s noise aside
        double rate = 0.0;
        r.main.push_back(run_world(o, o.world, r.students, seed, &rate));
        r.control.push_back(run_world(o, control, r.students, seed, &rate));
        r.click_rate += rate / o.worlds;
        if (o.verbose)
            std::fprintf(stderr, "world %d/%d: serving AUC labels only %.4f, PFD %.4f (main) / %.4f (control)\n", w + 1,
                         o.worlds, r.main.back().auc[0], r.main.back().auc[size_t(r.index_of(o.lambda, true))],
                         r.control.back().auc[size_t(r.index_of(o.lambda, true))]);
    }
    return r;
}

inline Claims judge(const Options& o, const Results& r) {
    Claims c;
    const int base = r.index_of(0.0, true), warm = r.index_of(o.lambda, true), cold = r.index_of(o.lambda, false);
    for (int cell = 0; cell < 2; ++cell) {
        const std::vector<WorldRun>& runs = cell == 0 ? r.main : r.control;
        const std::string world = cell == 0 ? "main" : "control";
        auto paper = [&](const char* text) { return cell == 0 ? std::string(text) : std::string("—"); };
        auto diffs = [&](auto g) {
            std::vector<double> d;
            for (const WorldRun& x : runs) d.push_back(g(x));
            return d;
        };
        c.add({"the PFD student's serving AUC above the labels-only student's", world,
               paper("Table 2: +0.0087 (CTR, 1 day); Table 4: +0.0044 (CVR, 30 days)"),
               diffs([&](const WorldRun& x) { return x.auc[size_t(warm)] - x.auc[size_t(base)]; }), 0.002});
        c.add({"the lambda warm-up helps: PFD with warm-up above PFD without", world,
               paper("used (k = 10^6 steps); no with/without numbers"),
               diffs([&](const WorldRun& x) { return x.auc[size_t(warm)] - x.auc[size_t(cold)]; }), 0.001});
        c.add({"sharing the FM factors with the teacher helps the student", world,
               paper("Table 7: -0.0031 (CTR, Share vs Ind, Sync); Table 8: +0.0013 (CVR, PFD+MD)"),
               diffs([&](const WorldRun& x) { return x.shared_auc - x.auc[size_t(warm)]; }), 0.001});
        c.add({"MD: a bigger teacher on the same features helps the student (MD - labels only)", world,
               paper("Table 2: +0.0079 (CTR, 1 day: 0.6704 vs 0.6625); Table 4: +0.0012 (CVR, 30 days), by subtraction"),
               diffs([&](const WorldRun& x) { return x.md_auc - x.auc[size_t(base)]; }), 0.002});
        if (cell == 0)   // MD's precondition; the control world changes only X*, which MD's teacher never sees
            c.add({"MD's bigger teacher above the labels-only student (teacher - student)", world,
                   "Table 2: 0.6892 vs 0.6625 (CTR, 1 day); Table 4: 0.9058 vs 0.9040 (CVR, 30 days)",
                   diffs([&](const WorldRun& x) { return x.md_teacher_auc - x.auc[size_t(base)]; }), 0.002});
        c.add({"PFD+MD: a bigger teacher that sees X* beats PFD's (PFD+MD - PFD)", world,
               paper("Table 2: +0.0033 (CTR, 1 day: 0.6745 vs 0.6712); Table 4: -0.0002 (CVR, 30 days), by subtraction"),
               diffs([&](const WorldRun& x) { return x.both_auc - x.auc[size_t(warm)]; }), 0.001});
        bool teacher_above = true, truth_above = true;
        for (const WorldRun& x : runs)
            for (double a : x.auc) teacher_above = teacher_above && x.teacher_auc > a, truth_above = truth_above && x.truth_auc > a;
        if (cell == 0) c.add_sanity("the teacher, which sees X*, above every student (main)", teacher_above, "");
        c.add_sanity("the true s(u, i) above every student (" + world + ")", truth_above, "");
    }
    return c;
}

}  // namespace ch62
}  // namespace minirec
