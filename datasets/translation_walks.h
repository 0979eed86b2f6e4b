// Next-item sequences with a planted *translation* structure, for TransRec (chapter 58) and
// TransFM (chapter 60): items are points in a small latent space, every user is a translation
// vector, and a user's next item lies near (previous item + her translation). The next item thus
// depends on the user AND the previous item together (a third-order interaction), which neither a
// user-item nor an item-item model can capture alone. Deliberately left out: time stamps,
// sessions, repeat-consumption effects.
//
// Planted process (dim = latent dimension, 2 by default so it can be drawn):
//   Items: x_j uniform in the unit ball. Popularity pop_j: Zipf over a random order of the items.
//     Category of j: the nearest of num_categories centres (uniform in the ball), so the category
//     says roughly where an item lies (content for chapter 60).
//   Users: tau_u = step * (a uniform random unit vector), one direction per user.
//   Sequences: the first item is drawn from popularity. Then target = x_prev + tau_u; with
//     probability restart_prob, or when the target leaves the unit ball, the next item is drawn
//     from popularity again (a restart); otherwise j is drawn with probability proportional to
//     exp(-|target - x_j|^2 / (2 width^2)): an item close to the target.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct TranslationWalkOptions {
    int num_users = 1000;
    int num_items = 500;
    int dim = 2;                  // latent dimension of the planted space
    int min_length = 5;           // items per user (uniform in [min_length, max_length])
    int max_length = 15;
    double step = 0.25;           // |tau_u|
    double width = 0.05;          // kernel width around the target
    double restart_prob = 0.05;   // chance of a popularity draw instead of a translation step
    double zipf_exponent = 0.8;   // popularity skew
    int num_categories = 16;      // content: Voronoi cells of random centres
    uint64_t seed = 1;
};

struct TranslationWalkData {
    int num_users = 0, num_items = 0, dim = 0, num_categories = 0;
    std::vector<float> item_pos;       // (N, dim) x_j
    std::vector<float> user_shift;     // (U, dim) tau_u
    std::vector<double> popularity;    // (N) pop_j, sums to 1
    Ids item_category;                 // (N)
    std::vector<Ids> sequences;        // sequences[u]: her items in order
    double width = 0.0, restart_prob = 0.0;
};

TranslationWalkData translation_walks(const TranslationWalkOptions& opts);

// The true distribution of user u's next item after `prev` (N probabilities): the planted
// process above, restarts included. The oracle ranks by it.
std::vector<double> true_next_distribution(const TranslationWalkData& data, int user, int prev);

}  // namespace datasets
}  // namespace minirec
