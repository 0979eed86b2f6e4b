// Synthetic click logs with fields, for CTR models (FM, FFM, DeepFM, AutoInt, ...), where we
// know the true click probability of every row. Deliberately left out: sequences and time.
//
// Planted structure. Every row has
//   - F categorical fields; field f takes a value in 0..V_f-1 with Zipf(zipf_exponent)
//     frequencies (value 0 the most frequent);
//   - one multi-hot "tags" field: 1..max_tags distinct tags out of T, also Zipf;
//   - one numeric field z ~ N(0, 1).
// The true logit is
//   bias + sum_f w_f[x_f] + mean_{t in tags} w_tag[t] + w_num z                 (first order)
//        + sum_{(f,g) in pairs} <v_f[x_f], v_g[x_g]>                            (FM-style pairs)
//        + sum_{(f,g) in field_aware_pairs} <v_{f->g}[x_f], v_{g->f}[x_g]>      (FFM-style pairs)
//        + [three_way] sum_k a[x_f,k] b[x_g,k] c[x_h,k]  for the fields (f,g,h)  (3rd order)
// with all weights Gaussian (first order std first_order_std, latent vectors of size
// latent_dim with std chosen so each pair term has std pair_std). click ~ Bernoulli(sigmoid(logit)).
// Pairs not listed have no interaction, so a model that finds interactions everywhere overfits.
#pragma once
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct CtrOptions {
    int n = 20000;
    uint64_t seed = 1;
    std::vector<int> vocab_sizes = {100, 50, 20, 200, 10, 30};   // V_f per categorical field
    double zipf_exponent = 1.1;
    int num_tags = 40;             // T
    int max_tags = 4;
    double bias = -1.5;            // sets the base click rate (about 20% with the defaults)
    double first_order_std = 0.5;
    double numeric_weight = 0.4;
    int latent_dim = 4;
    double pair_std = 0.8;         // std of each planted pair term
    std::vector<std::pair<int, int>> pairs = {{0, 1}, {2, 3}};        // FM-style
    std::vector<std::pair<int, int>> field_aware_pairs = {{0, 4}};    // FFM-style
    bool three_way = true;
    std::array<int, 3> three_way_fields = {1, 3, 5};
    double three_way_std = 0.8;
};

struct CtrData {
    int num_fields = 0;                // F categorical fields
    std::vector<int> vocab_sizes;      // V_f, field-local ids 0..V_f-1
    Ids cat;                           // (N * F) row-major: cat[r * F + f]
    std::vector<int> tag_offsets;      // (N + 1): the tags of row r are tag_ids[tag_offsets[r] .. [r+1])
    Ids tag_ids;
    int num_tags = 0;
    Tensor numeric;                    // (N, 1)
    std::vector<float> labels;         // (N) 0 or 1
    std::vector<float> true_prob;      // (N) sigmoid(true logit)
    std::vector<float> true_logit;     // (N)
    double base_rate = 0.0;            // mean of true_prob
    double oracle_logloss = 0.0;       // logloss of true_prob on labels: the best a model can do
    // The planted pairs and the triple, copied from the options so that a report can show them.
    std::vector<std::pair<int, int>> pairs, field_aware_pairs;
    bool three_way = false;
    std::array<int, 3> three_way_fields = {0, 0, 0};
};

CtrData synthetic_ctr(const CtrOptions& opts);

// Every field pair that interacts in `data` (0-based, first < second): the FM pairs, the
// field-aware pairs, and the three pairs inside the 3-field term when there is one.
std::vector<std::pair<int, int>> planted_pairs(const CtrData& data);

}  // namespace datasets
}  // namespace minirec
