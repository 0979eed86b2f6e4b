// The translation-walk generator (see translation_walks.h for the planted process).
// Deliberately left out: anything not needed by chapters 58 and 60.
#include "datasets/translation_walks.h"

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

namespace {

void check(const TranslationWalkOptions& o) {
    if (o.num_users < 1 || o.num_items < 2 || o.dim < 1)
        arg_fail("translation_walks", "need num_users >= 1, num_items >= 2, dim >= 1");
    if (o.min_length < 2 || o.max_length < o.min_length)
        arg_fail("translation_walks", "need 2 <= min_length <= max_length");
    if (!(o.width > 0) || o.step < 0) arg_fail("translation_walks", "need width > 0 and step >= 0");
    if (o.restart_prob < 0 || o.restart_prob > 1) arg_fail("translation_walks", "restart_prob must be in [0, 1]");
    if (o.num_categories < 1 || o.num_categories > o.num_items)
        arg_fail("translation_walks", "need 1 <= num_categories <= num_items");
}

// A uniform random unit vector in R^dim (a normalised Gaussian).
std::vector<double> unit_vector(int dim, Rng& rng) {
    std::vector<double> v(static_cast<size_t>(dim));
    double n2 = 0.0;
    while (n2 < 1e-12) {
        n2 = 0.0;
        for (double& x : v) x = rng.normal(), n2 += x * x;
    }
    for (double& x : v) x /= std::sqrt(n2);
    return v;
}

// A uniform random point in the unit ball: a unit direction times radius U^(1/dim).
std::vector<double> in_ball(int dim, Rng& rng) {
    std::vector<double> v = unit_vector(dim, rng);
    const double r = std::pow(rng.uniform_double(), 1.0 / dim);
    for (double& x : v) x *= r;
    return v;
}

double dist2(const float* a, const std::vector<double>& b) {
    double s = 0.0;
    for (size_t k = 0; k < b.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return s;
}

// x_prev + tau_u, and whether it is still inside the unit ball.
std::vector<double> target_of(const TranslationWalkData& d, int user, int prev, bool* inside) {
    std::vector<double> t(static_cast<size_t>(d.dim));
    double n2 = 0.0;
    for (int k = 0; k < d.dim; ++k) {
        t[size_t(k)] = double(d.item_pos[size_t(prev) * d.dim + k]) + d.user_shift[size_t(user) * d.dim + k];
        n2 += t[size_t(k)] * t[size_t(k)];
    }
    *inside = n2 <= 1.0;
    return t;
}

// The kernel weights exp(-|target - x_j|^2 / (2 width^2)), j = 0..N-1.
std::vector<double> kernel(const TranslationWalkData& d, const std::vector<double>& target) {
    std::vector<double> w(static_cast<size_t>(d.num_items));
    for (int j = 0; j < d.num_items; ++j)
        w[size_t(j)] = std::exp(-dist2(&d.item_pos[size_t(j) * d.dim], target) / (2.0 * d.width * d.width));
    return w;
}

}  // namespace

TranslationWalkData translation_walks(const TranslationWalkOptions& o) {
    check(o);
    Rng rng(o.seed);
    TranslationWalkData d;
    d.num_users = o.num_users, d.num_items = o.num_items, d.dim = o.dim, d.num_categories = o.num_categories;
    d.width = o.width, d.restart_prob = o.restart_prob;
    for (int j = 0; j < o.num_items; ++j)
        for (double x : in_ball(o.dim, rng)) d.item_pos.push_back(float(x));
    // Popularity: Zipf over a random order, so position and popularity are independent.
    const std::vector<int> order = rng.permutation(o.num_items);
    const std::vector<double> zipf = zipf_weights(o.num_items, o.zipf_exponent);
    d.popularity.assign(size_t(o.num_items), 0.0);
    for (int r = 0; r < o.num_items; ++r) d.popularity[size_t(order[size_t(r)])] = zipf[size_t(r)];
    const Discrete pop(d.popularity);
    d.popularity = pop.probs();
    // Categories: the nearest centre.
    std::vector<std::vector<double>> centres;
    for (int c = 0; c < o.num_categories; ++c) centres.push_back(in_ball(o.dim, rng));
    for (int j = 0; j < o.num_items; ++j) {
        int best = 0;
        for (int c = 1; c < o.num_categories; ++c)
            if (dist2(&d.item_pos[size_t(j) * o.dim], centres[size_t(c)]) <
                dist2(&d.item_pos[size_t(j) * o.dim], centres[size_t(best)]))
                best = c;
        d.item_category.push_back(best);
    }
    for (int u = 0; u < o.num_users; ++u)
        for (double x : unit_vector(o.dim, rng)) d.user_shift.push_back(float(o.step * x));
    // The walks.
    for (int u = 0; u < o.num_users; ++u) {
        const int len = o.min_length + rng.randint(o.max_length - o.min_length + 1);
        Ids s = {pop.sample(rng)};
        while (int(s.size()) < len) {
            bool inside = false;
            const std::vector<double> target = target_of(d, u, s.back(), &inside);
            const bool restart = rng.uniform_double() < o.restart_prob;
            s.push_back(restart || !inside ? pop.sample(rng) : Discrete(kernel(d, target)).sample(rng));
        }
        d.sequences.push_back(std::move(s));
    }
    return d;
}

std::vector<double> true_next_distribution(const TranslationWalkData& d, int user, int prev) {
    if (user < 0 || user >= d.num_users) arg_fail("true_next_distribution", "user out of range");
    if (prev < 0 || prev >= d.num_items) arg_fail("true_next_distribution", "prev out of range");
    bool inside = false;
    const std::vector<double> target = target_of(d, user, prev, &inside);
    if (!inside) return d.popularity;
    std::vector<double> p = kernel(d, target);
    double total = 0.0;
    for (double w : p) total += w;
    for (size_t j = 0; j < p.size(); ++j)
        p[j] = d.restart_prob * d.popularity[j] + (1.0 - d.restart_prob) * p[j] / total;
    return p;
}

}  // namespace datasets
}  // namespace minirec
