// Chapter 59's world: a click log over one-hot fields whose pair interactions are field-pair
// specific (a feature meets each other field through a different latent vector: the world FFM
// assumes), plus fields of pure noise. With field_aware = false the same generator plants an FM
// instead (one latent vector per value, shared by all of its pairs): the control world.
// Also the chapter's evaluation on it: the row splits, labels as a tensor, AUC and log loss of
// logits, the oracle's, and attention weights by the kind of field (signal or noise).
// Deliberately left out: numeric fields, multi-valued fields, any time order.
//
//   logit = bias + sum_{f signal} w_f[x_f] + sum_{f<g signal} <u_{f->g}[x_f], u_{g->f}[x_g]>
//   u_{f->g}: field f's latent table for meeting field g (k numbers per value), independent per
//   pair when field_aware, u_{f->g} = u_f for every g otherwise. Noise fields enter nowhere.
//   click ~ Bernoulli(sigmoid(logit)).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct FieldPairOptions {
    int n = 60000;               // rows: train, then valid_fraction for early stopping, then test_fraction
    double valid_fraction = 0.1;
    double test_fraction = 0.2;
    int signal_fields = 4;
    int noise_fields = 4;
    int values = 40;             // per field
    int latent = 4;              // k
    double pair_std = 0.8;       // std of each planted pair term
    double first_order_std = 0.3;
    double bias = -0.5;
    bool field_aware = true;     // false: an FM truth (the control world)
    uint64_t seed = 1;
};

struct FieldPairWorld {
    int fields = 0, signal_fields = 0, values = 0, n = 0;
    int n_train = 0, n_valid = 0;     // rows [0, n_train) train, [n_train, n_valid) validation, [n_valid, n) test
    Ids cat;                          // (n * F) field-local values, row-major
    std::vector<float> labels, true_prob;
    bool is_signal(int f) const { return f < signal_fields; }
    int vocabulary() const { return fields * values; }
    // The model ids of some rows: field f's value x becomes f * values + x.
    Ids ids(const std::vector<int>& rows) const;
    // The labels of some rows as a (rows, 1) tensor, the target of the cross-entropy.
    Tensor labels_of(const std::vector<int>& rows) const;
    std::vector<int> valid_rows() const;   // [n_train, n_valid)
    std::vector<int> test_rows() const;    // [n_valid, n)
};

FieldPairWorld field_pair_clicks(const FieldPairOptions& o);
// The chapter's two cells on one seed: `o` with field_aware (main) or an FM truth (control) and `seed`.
FieldPairWorld field_pair_clicks(FieldPairOptions o, bool field_aware, uint64_t seed);

// The data in the report's words: "20000 rows per world (70% train, 10% validation, 20% test), 4
// signal fields + 4 noise fields of 20 values"; or, for a log read from `path` (datasets/ctr_logs.h's
// to_field_pairs), its rows by split and its hashed fields.
std::string describe(const FieldPairOptions& o);
std::string describe(const FieldPairWorld& w, const std::string& path);

struct ClickQuality {
    double auc = 0, logloss = 0;
};
// AUC and log loss of sigmoid(logits) against the labels of `rows` (one logit per row).
ClickQuality click_quality(const FieldPairWorld& w, const std::vector<int>& rows, const std::vector<float>& logits);
// The oracle's: the true click probability on the test rows (synthetic worlds only).
ClickQuality oracle_quality(const FieldPairWorld& w);

// Weights S (B, F, F) over the fields of B rows (FAT-DeepFFM's s_{i,f}): the mean over i != f
// (v_{i,i} never enters a pair) of the weights of signal fields' vectors (*signal) and of noise
// fields' vectors (*noise; NaN without noise fields).
void mean_weight_by_field_kind(const FieldPairWorld& w, const Tensor& S, double* signal, double* noise);

}  // namespace datasets
}  // namespace minirec
