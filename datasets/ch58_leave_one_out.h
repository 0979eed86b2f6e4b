// Chapter 58's leave-one-out protocol (the paper's): each user's last item is her test item, every
// transition before it trains (S-BPR examples), and the test item is scored by AUC and rank against
// the items the user never touched - on the synthetic walks (datasets/translation_walks.h), and the
// training transitions of a real split (datasets/next_item.h; its own metrics score the test item).
// Also the oracle's scores and the real split's scorer that the evaluation ranks by.
#pragma once
#include <algorithm>
#include <vector>

#include "core/tensor.h"
#include "datasets/next_item.h"
#include "datasets/translation_walks.h"

namespace minirec {
namespace ch58 {

// One training example of S-BPR: user u moved from prev to next; neg is a sampled item j' != next.
struct Transitions {
    Ids user, prev, next;
};

// Leave-one-out: every transition but each user's last one trains.
inline Transitions training_transitions(const datasets::TranslationWalkData& d) {
    Transitions t;
    for (int u = 0; u < d.num_users; ++u) {
        const Ids& s = d.sequences[size_t(u)];
        for (size_t k = 1; k + 1 < s.size(); ++k) t.user.push_back(u), t.prev.push_back(s[k - 1]), t.next.push_back(s[k]);
    }
    return t;
}

// A real split's transitions up to each user's test item (history and validation item); the user
// is her index in s.users.
inline Transitions real_transitions(const datasets::NextItemSplit& s) {
    Transitions t;
    for (size_t b = 0; b < s.users.size(); ++b) {
        const Ids seq = seen_before(s.users[b], datasets::Target::test);
        for (size_t k = 1; k < seq.size(); ++k) t.user.push_back(int(b)), t.prev.push_back(seq[k - 1]), t.next.push_back(seq[k]);
    }
    return t;
}

// AUC and rank of one user's held-out item among the items she never touched in training:
//   AUC_u = (1 / |I \ S_u|) sum_{j' in I \ S_u} [p_{u,g} > p_{u,j'}]   (ties count one half)
// and the number of those items scored at least as high (Hit@K = rank < K; ties count against).
inline void evaluate_user(const std::vector<float>& score, const Ids& seq, double* auc_u, int* rank) {
    std::vector<char> seen(score.size(), 0);
    for (size_t k = 0; k + 1 < seq.size(); ++k) seen[size_t(seq[k])] = 1;
    const int target = seq.back();
    seen[size_t(target)] = 1;
    double below = 0.0;
    int negatives = 0, ahead = 0;
    for (size_t j = 0; j < score.size(); ++j) {
        if (seen[j]) continue;
        ++negatives;
        if (score[j] < score[size_t(target)]) below += 1.0;
        else if (score[j] == score[size_t(target)]) below += 0.5, ++ahead;
        else ++ahead;
    }
    *auc_u = below / negatives;
    *rank = ahead;
}

// Mean AUC, Hit@10, Hit@50 over users for a scorer f(user, prev) -> (N) scores.
struct HeldOutQuality {
    double auc = 0.0, hit10 = 0.0, hit50 = 0.0;
};
template <class Scorer>
HeldOutQuality evaluate(const datasets::TranslationWalkData& d, Scorer f) {
    HeldOutQuality q;
    for (int u = 0; u < d.num_users; ++u) {
        const Ids& s = d.sequences[size_t(u)];
        double a = 0.0;
        int rank = 0;
        evaluate_user(f(u, s[s.size() - 2]), s, &a, &rank);
        q.auc += a / d.num_users;
        q.hit10 += (rank < 10 ? 1.0 : 0.0) / d.num_users;
        q.hit50 += (rank < 50 ? 1.0 : 0.0) / d.num_users;
    }
    return q;
}

// The oracle's scores: the world's true next-item distribution (as floats, like a model's).
inline std::vector<float> oracle_scores(const datasets::TranslationWalkData& d, int user, int prev) {
    const std::vector<double> p = datasets::true_next_distribution(d, user, prev);
    return std::vector<float>(p.begin(), p.end());
}

// A real split's scorer (datasets::UserScores) from f(user, prev) -> (N) scores: each user is
// scored from her validation item, the one just before her test item.
template <class Scorer>
datasets::UserScores from_validation_item(const datasets::NextItemSplit& s, Scorer f) {
    return [&s, f](size_t first, int count, std::vector<float>& z) {
        for (int b = 0; b < count; ++b) {
            const std::vector<float> v = f(int(first) + b, s.users[first + size_t(b)].valid);
            std::copy(v.begin(), v.end(), z.begin() + std::ptrdiff_t(b) * s.num_items);
        }
    };
}

}  // namespace ch58
}  // namespace minirec
