// Privileged features distillation (PFD) of Xu et al. (KDD 2020, arXiv 1907.05171): a teacher that
// also sees features only logged at training time (dwell time, post-click behaviour) teaches a
// student that sees only what is known at serving time. Both train together in one loop.
// Deliberately left out: the paper's two-tower and deep student networks (our student is an FM over
// user and item, nn/factorization.h's), multi-GPU training tricks. Model distillation (MD) is here:
// a bigger teacher over the same features; PFD+MD, a bigger teacher that also sees X*.
//
//   MD   (model distillation):   min_Ws (1 - lambda) L_s(y, f(X; Ws)) + lambda L_d(f(X; Wt), f(X; Ws))
//   PFD  (privileged features):  min_Ws (1 - lambda) L_s(y, f(X; Ws)) + lambda L_d(f(X, X*; Wt), f(X; Ws))
//   synchronous PFD:  min_{Ws, Wt} (1 - lambda) L_s(y, f(X; Ws)) + lambda L_d(f(X, X*; Wt), f(X; Ws))
//                                  + L_t(y, f(X, X*; Wt))
//   with L_s, L_t the cross-entropy with the labels, L_d the cross-entropy with the teacher's
//   probability as a soft label; the teacher's output is a constant inside L_d (L_d never updates
//   the teacher), and lambda warms up from 0 while the teacher is still poor.
//   serving: the student f(X; Ws) alone; X* is not needed (and not available).
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/factorization.h"   // FM: the CTR network both models share
#include "nn/layers.h"
#include "nn/losses.h"

namespace minirec {
namespace ch62 {

// The student f(X; Ws): an FM over the serving features, user and item (ids offset into one
// vocabulary of users then items). This is the model that serves.
struct Student {
    FM fm;
    Student() = default;
    Student(int vocabulary, int dim, Rng& rng) : fm(vocabulary, dim, rng, false) {}   // no w0: the user weights absorb it
    // ids (B, 2) user and item -> logits (B, 1)
    Var operator()(const Ids& user_item) const { return fm(user_item, 2); }
    NamedParams named_parameters(const std::string& prefix = "") const { return fm.named_parameters(prefix + "fm."); }
};

// The teacher f(X, X*; Wt): the same FM over X, plus a small tower over the privileged features X*
// (P dense values per example), added in logit space:  logit = FM(X) + MLP(X*).
struct Teacher {
    FM fm;
    Linear hidden, out;   // X* (B, P) -> (B, H) ReLU -> (B, 1)
    Teacher() = default;
    Teacher(int vocabulary, int dim, int privileged, int tower_hidden, Rng& rng)
        : fm(vocabulary, dim, rng, false),
          hidden(privileged, tower_hidden, rng, true, Init::kaiming_uniform),
          out(tower_hidden, 1, rng) {}
    // ids (B, 2), privileged (B, P) -> logits (B, 1)
    Var operator()(const Ids& user_item, const Var& privileged) const {
        return fm(user_item, 2) + out(relu(hidden(privileged)));
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = fm.named_parameters(prefix + "fm.");
        append(p, hidden.named_parameters(prefix + "hidden."));
        append(p, out.named_parameters(prefix + "out."));
        return p;
    }
};

// MD's and PFD+MD's teacher: a bigger network, a wider FM plus a deep tower over the user and
// item factors and (PFD+MD only, P = 1) the privileged features:
//   logit = FM_big(X) + MLP([v_u ; v_i ; X*])     MLP: 2 D_big + P -> H -> H -> 1, ReLU
// With P = 0 it is MD's teacher: the student's features, more capacity.
struct DeepTeacher {
    FM fm;
    MLP deep;
    DeepTeacher() = default;
    DeepTeacher(int vocabulary, int dim, int privileged, int hidden, Rng& rng)
        : fm(vocabulary, dim, rng, false), deep(MLPOptions{{2 * dim + privileged, hidden, hidden, 1}}, rng) {}
    // ids (B, 2), privileged (B, P) or nothing when P = 0 -> logits (B, 1)
    Var operator()(const Ids& user_item, const Var* privileged = nullptr) {
        const int B = int(user_item.size()) / 2;
        Var x = reshape(fm.v(user_item, {B, 2}), {B, 2 * fm.v.dim()});
        if (privileged) x = concat({x, *privileged}, 1);
        return fm(user_item, 2) + deep(x);
    }
    NamedParams named_parameters(const std::string& prefix = "") const {
        NamedParams p = fm.named_parameters(prefix + "fm.");
        append(p, deep.named_parameters(prefix + "deep."));
        return p;
    }
};

// Embedding sharing (the paper shares the feature embeddings of teacher and student): the
// teacher's FM factors become the student's table itself (one Var, two users), so the student's
// losses and the teacher's both update it. Parameters to optimise: the student's, then the
// teacher's except the shared table (listing it twice would step it twice).
inline void share_factors(Teacher& t, const Student& s) { t.fm.v = s.fm.v; }
inline NamedParams shared_pair_parameters(const Student& s, const Teacher& t) {
    NamedParams p = s.named_parameters("student.");
    append(p, t.fm.w.named_parameters("teacher.fm.w."));
    append(p, t.hidden.named_parameters("teacher.hidden."));
    append(p, t.out.named_parameters("teacher.out."));
    return p;
}

// lambda at optimizer step `step` (0-based): a linear warm-up from 0 to `lambda` over `warmup`
// steps, then constant. The paper warms lambda up because early in synchronous training the
// teacher is no better than the student and would mislead it.
inline double lambda_at(double lambda, long step, long warmup) {
    if (warmup <= 0) return lambda;
    return lambda * std::min(1.0, double(step) / double(warmup));
}

// The student's part of the objective: (1 - lambda) L_s(y, f_s) + lambda L_d(f_t, f_s).
// student_logit, teacher_logit (B, 1); y (B, 1) labels. The teacher enters as a constant soft
// label sigma(teacher_logit): gradients from this loss reach the student only.
inline Var student_loss(const Var& student_logit, const Var& teacher_logit, const Tensor& y, double lambda) {
    const Tensor soft = sigmoid(detach(teacher_logit)).value();             // (B, 1) p_teacher
    const Var hard_part = bce_with_logits(student_logit, y);                  // L_s
    const Var soft_part = bce_with_logits(student_logit, soft);               // L_d
    return hard_part * float(1.0 - lambda) + soft_part * float(lambda);
}

// The whole synchronous objective: the student's part plus the teacher's own L_t(y, f_t).
inline Var pfd_loss(const Var& student_logit, const Var& teacher_logit, const Tensor& y, double lambda) {
    return student_loss(student_logit, teacher_logit, y, lambda) + bce_with_logits(teacher_logit, y);
}

// ---- Everything chapter 62 trains, in one synchronous objective --------------------------------
// One teacher f(X, X*; Wt) and a student per lambda schedule; a second pair whose FM factors are
// shared; MD's bigger teacher (the student's features) and PFD+MD's (with X*), each with its own
// student. The teacher's output is detached inside L_d and the pairs share nothing else, so one
// summed loss trains every student exactly as separate runs would.
struct Models {
    Teacher teacher;
    std::vector<Student> students;          // one per lambda schedule
    Student shared_student;                 // its FM factors are shared_teacher's
    Teacher shared_teacher;
    DeepTeacher md_teacher, both_teacher;   // MD (P = 0) and PFD+MD (P = 1): FM size big_dim, MLP width big_hidden
    Student md_student, both_student;

    // rng draws the teacher, the students and the shared pair; big_rng the MD and PFD+MD pairs.
    Models(int vocab, int num_students, int dim, int tower_hidden, int big_dim, int big_hidden, Rng& rng, Rng& big_rng)
        : teacher(vocab, dim, 1, tower_hidden, rng) {
        for (int k = 0; k < num_students; ++k) students.emplace_back(vocab, dim, rng);
        shared_student = Student(vocab, dim, rng);
        shared_teacher = Teacher(vocab, dim, 1, tower_hidden, rng);
        share_factors(shared_teacher, shared_student);
        md_teacher = DeepTeacher(vocab, big_dim, 0, big_hidden, big_rng);
        both_teacher = DeepTeacher(vocab, big_dim, 1, big_hidden, big_rng);
        md_student = Student(vocab, dim, big_rng);
        both_student = Student(vocab, dim, big_rng);
    }

    NamedParams named_parameters() const {
        NamedParams p = teacher.named_parameters("teacher.");
        for (size_t k = 0; k < students.size(); ++k) append(p, students[k].named_parameters("s" + std::to_string(k) + "."));
        append(p, shared_pair_parameters(shared_student, shared_teacher));
        for (const NamedParams& q : {md_teacher.named_parameters("md_teacher."), both_teacher.named_parameters("both_teacher."),
                                     md_student.named_parameters("md_student."), both_student.named_parameters("both_student.")})
            append(p, q);
        return p;
    }

    // Synchronous PFD on one batch, ids (B, 2), X* (B, 1), y (B, 1): L_t, plus each student's part
    // at its own lambda (student_lambdas[k]), plus the whole objective of the shared, MD and PFD+MD
    // pairs at `lambda`.
    Var loss(const Ids& user_item, const Tensor& privileged, const Tensor& y, const std::vector<double>& student_lambdas,
             double lambda) {
        const Var x_star = constant(privileged);
        const Var t = teacher(user_item, x_star);                         // f(X, X*; Wt)
        Var loss = bce_with_logits(t, y);                                 // L_t
        for (size_t k = 0; k < students.size(); ++k)                      // each student's part
            loss = loss + student_loss(students[k](user_item), t, y, student_lambdas[k]);
        loss = loss + pfd_loss(shared_student(user_item), shared_teacher(user_item, x_star), y, lambda) +
               pfd_loss(md_student(user_item), md_teacher(user_item), y, lambda) +        // MD
               pfd_loss(both_student(user_item), both_teacher(user_item, &x_star), y, lambda);  // PFD+MD
        return loss;
    }
};

}  // namespace ch62
}  // namespace minirec
