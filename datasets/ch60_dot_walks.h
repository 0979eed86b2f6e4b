// Chapter 60's control world: the items, users, categories and popularity of
// datasets/translation_walks.h, but the next item follows a dot product, FM's own form, instead
// of a translation:
//   p(j | u, prev) = restart_prob pop_j + (1 - restart_prob) softmax_j(<x_prev + tau_u, x_j> / temperature)
// <x_prev + tau_u, x_j> = <x_prev, x_j> + <tau_u, x_j>: a sum of the pairwise inner products an
// FM over (user, previous item, next item) computes. Deliberately left out: anything else.
#pragma once
#include <vector>

#include "datasets/translation_walks.h"

namespace minirec {
namespace datasets {

TranslationWalkData dot_product_walks(const TranslationWalkOptions& opts, double temperature);
std::vector<double> dot_next_distribution(const TranslationWalkData& data, int user, int prev, double temperature);

}  // namespace datasets
}  // namespace minirec
