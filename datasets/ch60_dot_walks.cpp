#include "datasets/ch60_dot_walks.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

std::vector<double> dot_next_distribution(const TranslationWalkData& d, int user, int prev, double temperature) {
    if (user < 0 || user >= d.num_users || prev < 0 || prev >= d.num_items)
        arg_fail("dot_next_distribution", "user or prev out of range");
    std::vector<double> z(size_t(d.num_items));
    for (int j = 0; j < d.num_items; ++j) {
        double s = 0.0;
        for (int k = 0; k < d.dim; ++k)
            s += (double(d.item_pos[size_t(prev) * d.dim + k]) + d.user_shift[size_t(user) * d.dim + k]) *
                 d.item_pos[size_t(j) * d.dim + k];
        z[size_t(j)] = s / temperature;
    }
    const double top = *std::max_element(z.begin(), z.end());
    double total = 0.0;
    for (double& x : z) x = std::exp(x - top), total += x;
    for (size_t j = 0; j < z.size(); ++j) z[j] = d.restart_prob * d.popularity[j] + (1.0 - d.restart_prob) * z[j] / total;
    return z;
}

TranslationWalkData dot_product_walks(const TranslationWalkOptions& o, double temperature) {
    if (!(temperature > 0)) arg_fail("dot_product_walks", "temperature must be > 0");
    TranslationWalkData d = translation_walks(o);   // items, users, categories, popularity; walks redrawn
    Rng rng(splitmix64(o.seed + 60));
    const Discrete pop(d.popularity);
    for (int u = 0; u < d.num_users; ++u) {
        Ids& s = d.sequences[size_t(u)];
        const size_t len = s.size();
        s = {pop.sample(rng)};
        while (s.size() < len) s.push_back(Discrete(dot_next_distribution(d, u, s.back(), temperature)).sample(rng));
    }
    return d;
}

}  // namespace datasets
}  // namespace minirec
