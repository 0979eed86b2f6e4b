// Chapter 62's experiment as a function: a world where each event's label depends on the user
// and item (known at serving) and on a per-event intent that only a post-event reading, the
// privileged feature X*, reveals (dwell time for CVR). One teacher sees X*; students see user and
// item only and learn from labels, from the teacher (PFD), or both, for several lambdas; all train
// in one synchronous loop. Printing and pictures live in ch62_pfd.cpp.
// Deliberately left out: the paper's two-stage (teacher first) training, model distillation (UD).
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/ch62_pfd.h"
#include "nn/metrics.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace minirec {
namespace ch62 {

// ---- The world -----------------------------------------------------------------------------------
//   s(u, i) = base + q_i + <p_u, v_i>          what the serving features can know
//   e ~ N(0, intent_std^2), fresh per event   the user's intent in this one visit
//   y ~ Bernoulli(sigmoid(s(u, i) + e))
//   X* = s(u, i) + e + N(0, reading_noise^2)   the privileged reading of this visit's interest,
//                                             logged after the event (dwell time, say)
// X* tells the teacher about e (which no servable model can know) and, event by event, about
// s(u, i) itself, which the student must otherwise estimate from a few noisy labels per pair.
// Ranking by s(u, i) is the best any servable model can do; E[y | u, i] is increasing in s.
struct WorldOptions {
    int users = 200, items = 100, latent_dim = 4;
    int train_events = 40000, test_events = 20000;
    double base = -1.0, quality_std = 0.7, affinity_std = 0.8;
    double intent_std = 1.0;       // how much of the label the serving features cannot know
    double reading_noise = 0.5;    // how well X* reads the visit's interest s + e (0 = exactly)
};

struct Event {
    int32_t user, item;
    float privileged, label;
};

struct World {
    int users = 0, items = 0;
    std::vector<double> truth;     // (users x items) s(u, i)
    std::vector<Event> train, test;
    double click_rate = 0.0;       // of the training events
};

inline World make_world(const WorldOptions& o, uint64_t seed) {
    Rng rng(seed);
    World w;
    w.users = o.users, w.items = o.items;
    const double scale = o.affinity_std / std::sqrt(double(o.latent_dim));   // <p, v> has std affinity_std
    std::vector<double> p(size_t(o.users) * o.latent_dim), v(size_t(o.items) * o.latent_dim), q(size_t(o.items));
    for (double& x : p) x = rng.normal() * std::sqrt(scale);
    for (double& x : v) x = rng.normal() * std::sqrt(scale);
    for (double& x : q) x = rng.normal() * o.quality_std;
    w.truth.resize(size_t(o.users) * o.items);
    for (int u = 0; u < o.users; ++u)
        for (int i = 0; i < o.items; ++i) {
            double s = o.base + q[size_t(i)];
            for (int c = 0; c < o.latent_dim; ++c) s += p[size_t(u) * o.latent_dim + c] * v[size_t(i) * o.latent_dim + c];
            w.truth[size_t(u) * o.items + size_t(i)] = s;
        }
    auto draw = [&](int n, std::vector<Event>& out) {
        for (int k = 0; k < n; ++k) {
            Event e;
            e.user = rng.randint(o.users), e.item = rng.randint(o.items);
            const double intent = rng.normal() * o.intent_std;
            const double s = w.truth[size_t(e.user) * o.items + size_t(e.item)];
            e.label = rng.bernoulli(float(1.0 / (1.0 + std::exp(-(s + intent))))) ? 1.0f : 0.0f;
            e.privileged = float(s + intent + rng.normal() * o.reading_noise);
            out.push_back(e);
        }
    };
    draw(o.train_events, w.train);
    draw(o.test_events, w.test);
    for (const Event& e : w.train) w.click_rate += e.label / double(w.train.size());
    return w;
}

// ---- The models ----------------------------------------------------------------------------------
// A student trained with a fixed lambda (0 = labels only) and warm-up; lambda = 0 is the baseline.
struct StudentSpec {
    double lambda = 0.0;
    long warmup = 0;               // optimizer steps of the linear lambda warm-up
    std::string name() const {
        char buf[64];
        if (lambda == 0.0) return "student, labels only";
        std::snprintf(buf, sizeof buf, "PFD student, lambda %.2f%s", lambda, warmup > 0 ? "" : ", no warm-up");
        return buf;
    }
};

struct StudyOptions {
    WorldOptions world;
    std::vector<double> lambdas = {0.0, 0.25, 0.5, 0.75, 0.9, 1.0};   // each with warm-up
    double main_lambda = 0.9;      // also trained without warm-up, and with shared factors
    double warmup_epochs = 1.0;    // lambda reaches its value after this many epochs
    int replicates = 3;            // independent worlds, seeds derived from `seed`
    int epochs = 4;
    int batch = 256;
    double lr = 0.01;              // Adam
    int dim = 8;                   // D, the FM factor size of teacher and student
    int tower_hidden = 8;          // the teacher's privileged tower
    uint64_t seed = 42;
    bool verbose = true;
};

// One world's results. "Serving AUC" is on held-out events with only user and item; "corr" is the
// Pearson correlation of a model's serving logit with the true s(u, i) over every pair.
struct Replicate {
    std::vector<std::string> names;            // students, in the order below
    std::vector<double> auc, corr;             // per student
    std::vector<std::vector<double>> auc_by_epoch;   // [student][epoch]
    double teacher_auc = 0.0;                  // with X*: the unservable upper line
    double teacher_fm_auc = 0.0, teacher_fm_corr = 0.0;   // the teacher served with X* dropped
    double shared_auc = 0.0, shared_corr = 0.0;           // PFD student with shared factors
    double truth_auc = 0.0;                    // ranking test events by the true s(u, i)
    double click_rate = 0.0;
};

struct StudyReport {
    std::vector<StudentSpec> students;
    std::vector<Replicate> reps;
    double seconds = 0.0;
    int index_of(double lambda, bool warm) const {
        for (size_t k = 0; k < students.size(); ++k)
            if (students[k].lambda == lambda && (students[k].warmup > 0) == warm) return int(k);
        return -1;
    }
    template <class F> double mean(F f) const { return mean_over(reps, f); }
    template <class F> double min(F f) const { return min_over(reps, f); }
};

// Events as model inputs: ids (n, 2) user and item; X* (n, 1); labels (n, 1).
struct Batch {
    Ids user_item;
    Tensor privileged, label;
};

inline Batch gather(const World& w, const std::vector<Event>& events, const std::vector<int>& rows) {
    Batch b;
    b.privileged = Tensor({int(rows.size()), 1});
    b.label = Tensor({int(rows.size()), 1});
    for (size_t j = 0; j < rows.size(); ++j) {
        const Event& e = events[size_t(rows[j])];
        b.user_item.insert(b.user_item.end(), {e.user, w.users + e.item});
        b.privileged[j] = e.privileged;
        b.label[j] = e.label;
    }
    return b;
}

inline double pearson(const std::vector<float>& a, const std::vector<double>& b) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    const double n = double(a.size());
    for (size_t k = 0; k < a.size(); ++k) ma += a[k] / n, mb += b[k] / n;
    for (size_t k = 0; k < a.size(); ++k)
        sab += (a[k] - ma) * (b[k] - mb), saa += (a[k] - ma) * (a[k] - ma), sbb += (b[k] - mb) * (b[k] - mb);
    return sab / std::sqrt(saa * sbb);
}

// Every (user, item) pair as ids, row-major, for the correlation with the truth.
inline Ids all_pairs(const World& w) {
    Ids ids;
    for (int u = 0; u < w.users; ++u)
        for (int i = 0; i < w.items; ++i) ids.insert(ids.end(), {u, w.users + i});
    return ids;
}

inline Replicate run_replicate(const StudyOptions& o, const std::vector<StudentSpec>& specs, uint64_t seed) {
    const World w = make_world(o.world, seed);
    const int vocab = w.users + w.items;
    Rng rng(splitmix64(seed + 11));
    Teacher teacher(vocab, o.dim, 1, o.tower_hidden, rng);
    std::vector<Student> students;
    for (size_t k = 0; k < specs.size(); ++k) students.emplace_back(vocab, o.dim, rng);
    Student shared_student(vocab, o.dim, rng);             // a second pair whose FM factors are shared
    Teacher shared_teacher(vocab, o.dim, 1, o.tower_hidden, rng);
    share_factors(shared_teacher, shared_student);

    NamedParams params = teacher.named_parameters("teacher.");
    for (size_t k = 0; k < students.size(); ++k) append(params, students[k].named_parameters("s" + std::to_string(k) + "."));
    append(params, shared_pair_parameters(shared_student, shared_teacher));
    Adam adam(vars_of(params), o.lr);
    const long steps_per_epoch = (long(w.train.size()) + o.batch - 1) / o.batch;
    const long warmup = long(o.warmup_epochs * double(steps_per_epoch));

    std::vector<int> test_rows(w.test.size());
    for (size_t k = 0; k < test_rows.size(); ++k) test_rows[k] = int(k);
    const Batch test = gather(w, w.test, test_rows);
    const std::vector<float> test_y = test.label.vec();
    Replicate rep;
    rep.auc_by_epoch.resize(specs.size());

    long step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        for (const std::vector<int>& rows : make_batches(int(w.train.size()), o.batch, rng)) {
            const Batch b = gather(w, w.train, rows);
            const Var x_star = constant(b.privileged);
            const Var t = teacher(b.user_item, x_star);                       // f(X, X*; Wt)
            Var loss = bce_with_logits(t, b.label);                           // L_t
            for (size_t k = 0; k < students.size(); ++k)                      // each student's part
                loss = loss + student_loss(students[k](b.user_item), t, b.label,
                                           lambda_at(specs[k].lambda, step, specs[k].warmup));
            loss = loss + pfd_loss(shared_student(b.user_item), shared_teacher(b.user_item, x_star), b.label,
                                   lambda_at(o.main_lambda, step, warmup));
            adam.zero_grad();
            backward(loss);
            adam.step();
            if (++step % 50 == 0) check_finite(loss.item(), step);
        }
        NoGrad no_grad;                                                       // serving AUC per epoch
        for (size_t k = 0; k < students.size(); ++k)
            rep.auc_by_epoch[k].push_back(auc(students[k](test.user_item).value().vec(), test_y));
    }

    NoGrad no_grad;
    const Ids pairs = all_pairs(w);
    for (size_t k = 0; k < students.size(); ++k) {
        rep.names.push_back(specs[k].name());
        rep.auc.push_back(rep.auc_by_epoch[k].back());
        rep.corr.push_back(pearson(students[k](pairs).value().vec(), w.truth));
    }
    rep.teacher_auc = auc(teacher(test.user_item, constant(test.privileged)).value().vec(), test_y);
    rep.teacher_fm_auc = auc(teacher.fm(test.user_item, 2).value().vec(), test_y);
    rep.teacher_fm_corr = pearson(teacher.fm(pairs, 2).value().vec(), w.truth);
    rep.shared_auc = auc(shared_student(test.user_item).value().vec(), test_y);
    rep.shared_corr = pearson(shared_student(pairs).value().vec(), w.truth);
    std::vector<float> truth_scores;
    for (const Event& e : w.test) truth_scores.push_back(float(w.truth[size_t(e.user) * w.items + size_t(e.item)]));
    rep.truth_auc = auc(truth_scores, test_y);
    rep.click_rate = w.click_rate;
    return rep;
}

inline std::vector<StudentSpec> student_specs(const StudyOptions& o) {
    const long steps_per_epoch = (long(o.world.train_events) + o.batch - 1) / o.batch;
    const long warmup = long(o.warmup_epochs * double(steps_per_epoch));
    std::vector<StudentSpec> specs;
    for (double l : o.lambdas) specs.push_back({l, l == 0.0 ? 0 : warmup});
    if (o.main_lambda > 0.0) specs.push_back({o.main_lambda, 0});   // the same lambda from step 0
    return specs;
}

inline StudyReport run_study(const StudyOptions& o) {
    if (o.replicates < 1 || o.epochs < 1 || o.batch < 1 || o.world.train_events < o.batch || o.world.test_events < 10)
        throw std::invalid_argument("ch62: need replicates, epochs >= 1 and at least one batch of training events");
    if (o.world.users < 2 || o.world.items < 2 || o.world.latent_dim < 1 || o.dim < 1)
        throw std::invalid_argument("ch62: need at least 2 users, 2 items and positive sizes");
    for (double l : o.lambdas)
        if (l < 0.0 || l > 1.0) throw std::invalid_argument("ch62: every lambda must be in [0, 1]");
    StudyReport rep;
    rep.students = student_specs(o);
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.replicates; ++r) {
        rep.reps.push_back(run_replicate(o, rep.students, replicate_seed(o.seed, r)));
        const Replicate& x = rep.reps.back();
        if (o.verbose) {
            std::fprintf(stderr, "world %d/%d: serving AUC labels-only %.4f", r + 1, o.replicates, x.auc[0]);
            for (size_t k = 1; k < x.auc.size(); ++k) std::fprintf(stderr, "  %.4f", x.auc[k]);
            std::fprintf(stderr, "  | teacher (with X*) %.4f\n", x.teacher_auc);
        }
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

}  // namespace ch62
}  // namespace minirec
