// Candidate sets with title similarity and a redundancy-aware set-level click model.
// Deliberately left out: learned policies (the chapter's job).
#include "datasets/slates.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

namespace {

double jaccard(const Ids& a, const Ids& b) {
    std::set<int32_t> sa(a.begin(), a.end()), sb(b.begin(), b.end()), all = sa;
    all.insert(sb.begin(), sb.end());
    int inter = 0;
    for (int32_t w : sa) inter += sb.count(w) > 0;
    return all.empty() ? 0.0 : double(inter) / double(all.size());
}

}  // namespace

SlateData slates(const SlateOptions& o) {
    if (o.slate_size < 1 || o.slate_size > o.num_candidates || o.num_topics < 1 || o.title_words < 1 ||
        o.words_per_topic < 1 || o.shared_words < 1 || o.num_users < 1)
        arg_fail("slates", "need 1 <= slate_size <= num_candidates and positive sizes");
    Rng rng(o.seed);
    SlateData d;
    d.redundancy = o.redundancy, d.sim_threshold = o.sim_threshold, d.slate_size = o.slate_size;
    // Each user likes some topics: affinity ~ N(0, 1) per (user, topic).
    std::vector<float> affinity(size_t(o.num_users) * o.num_topics);
    for (float& a : affinity) a = rng.normal();
    const int shared_base = o.num_topics * o.words_per_topic;
    int next_item = 0;
    for (int r = 0; r < o.num_requests; ++r) {
        SlateRequest q;
        q.user = rng.randint(o.num_users);
        const int C = o.num_candidates;
        for (int i = 0; i < C; ++i) {
            int topic = rng.randint(o.num_topics);
            Ids title;
            for (int w = 0; w < o.title_words; ++w)
                title.push_back(rng.uniform() < 0.3f ? shared_base + rng.randint(o.shared_words)
                                                     : topic * o.words_per_topic + rng.randint(o.words_per_topic));
            double quality = o.quality_mean + 0.5 * rng.normal();
            q.items.push_back(next_item++);
            q.topic.push_back(topic);
            q.titles.push_back(title);
            q.relevance.push_back(float(sigmoid(quality + affinity[size_t(q.user) * o.num_topics + topic])));
        }
        q.similarity = Tensor({C, C});
        for (int i = 0; i < C; ++i)
            for (int j = 0; j < C; ++j) q.similarity[size_t(i) * C + j] = float(i == j ? 1.0 : jaccard(q.titles[i], q.titles[j]));
        std::vector<int> perm = rng.permutation(C);
        q.logged_slate.assign(perm.begin(), perm.begin() + o.slate_size);
        d.requests.push_back(std::move(q));
        SlateRequest& last = d.requests.back();
        for (double a : slate_item_click_probs(d, last, last.logged_slate))
            last.logged_clicks.push_back(rng.uniform_double() < a ? 1.0f : 0.0f);
    }
    return d;
}

std::vector<double> slate_item_click_probs(const SlateData& d, const SlateRequest& q, const Ids& slate) {
    const int C = static_cast<int>(q.items.size());
    std::vector<double> a;
    for (size_t k = 0; k < slate.size(); ++k) {
        int i = slate[k];
        if (i < 0 || i >= C) arg_fail("slate_item_click_probs", "candidate index out of range");
        double v = q.relevance[i];
        for (size_t j = 0; j < k; ++j) v *= 1.0 - d.redundancy * q.similarity[size_t(i) * C + slate[j]];
        a.push_back(v);
    }
    return a;
}

double slate_click_prob(const SlateData& d, const SlateRequest& q, const Ids& slate) {
    double none = 1.0;
    for (double a : slate_item_click_probs(d, q, slate)) none *= 1.0 - a;
    return 1.0 - none;
}

bool slate_feasible(const SlateData& d, const SlateRequest& q, const Ids& slate) {
    const int C = static_cast<int>(q.items.size());
    for (size_t a = 0; a < slate.size(); ++a)
        for (size_t b = a + 1; b < slate.size(); ++b)
            if (slate[a] == slate[b] || q.similarity[size_t(slate[a]) * C + slate[b]] > d.sim_threshold) return false;
    return true;
}

// Depth-first search over ordered slates; we keep the best feasible one.
static void search(const SlateData& d, const SlateRequest& q, Ids& cur, std::vector<bool>& used, Ids& best, double& best_p) {
    if (static_cast<int>(cur.size()) == d.slate_size) {
        double p = slate_click_prob(d, q, cur);
        if (p > best_p) best_p = p, best = cur;
        return;
    }
    for (int i = 0; i < static_cast<int>(q.items.size()); ++i) {
        if (used[i]) continue;
        cur.push_back(i);
        if (slate_feasible(d, q, cur)) {
            used[i] = true;
            search(d, q, cur, used, best, best_p);
            used[i] = false;
        }
        cur.pop_back();
    }
}

Ids best_slate_bruteforce(const SlateData& d, const SlateRequest& q) {
    Ids cur, best;
    std::vector<bool> used(q.items.size(), false);
    double best_p = -1.0;
    search(d, q, cur, used, best, best_p);
    return best;  // empty if no feasible slate exists
}

}  // namespace datasets
}  // namespace minirec
