// Chapter 61's evaluation protocol on datasets/sequences.h (the paper's, Sec. 4.1): a
// leave-one-out split (each user's last item is the test target), 100 negatives per user sampled by
// popularity among items the user never touched, and HR@k / NDCG@k / MRR against them and over all
// items. Items are tokens as in models/ch61_bert4rec.h: item i is token i + 1 (0 is [pad], N + 1
// is [mask]). world_protocol / real_protocol bundle a synthetic world or MovieLens-100k for the
// experiment. Deliberately left out: a validation item (fixed epochs, no early stopping).
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "datasets/next_item.h"
#include "datasets/sampling.h"
#include "datasets/sequences.h"
#include "core/metrics.h"
#include "nn/train.h"

namespace minirec {
namespace ch61 {

// The chapter's synthetic world (datasets/sequences.h): 400 users, 400 items in 20 interests, 4
// sessions of 3-7 items each, half of the steps along the planted successor graph, item events only.
inline datasets::SequenceOptions world_options() {
    datasets::SequenceOptions d;
    d.num_users = 400, d.num_items = 400, d.num_interests = 20, d.sessions_per_user = 4;
    d.min_session_length = 3, d.max_session_length = 7, d.order_strength = 0.5;
    d.search_prob = d.coupon_prob = 0.0;
    return d;
}

// The data in the report's words: "400 users, 400 items in 20 interests, 4 sessions of 3-7 items; ",
// or MovieLens-100k's users and items and how they are used.
inline std::string describe(const datasets::SequenceOptions& d) {
    using std::to_string;
    return to_string(d.num_users) + " users, " + to_string(d.num_items) + " items in " + to_string(d.num_interests) + " interests, " +
           to_string(d.sessions_per_user) + " sessions of " + to_string(d.min_session_length) + "-" + to_string(d.max_session_length) +
           " items; ";
}
inline std::string describe(const datasets::NextItemSplit& s, const std::string& path) {
    return "MovieLens-100k from " + path + ": " + std::to_string(s.users.size()) + " users, " + std::to_string(s.num_items) +
           " items, the protocol of book/05_datasets.md (100 popularity negatives drawn once); training windows of T + 1 items; ";
}

// Ranking quality of one model in one world (means over users).
struct Scores {
    double hr = 0, ndcg = 0, mrr = 0;            // against the sampled negatives
    double hr_full = 0, ndcg_full = 0, mrr_full = 0;   // against every item
    Scores() = default;
    Scores(const datasets::NextItemQuality& q)           // the same metrics under datasets/next_item.h
        : hr(q.hr), ndcg(q.ndcg), mrr(q.mrr), hr_full(q.hr_full), ndcg_full(q.ndcg_full), mrr_full(q.mrr_full) {}
};

// One user's data: items as tokens (1..N), the last one held out.
struct UserSeq {
    Ids train;          // tokens, oldest first
    int target = 0;     // token
    int interest = 0;   // ground truth: the interest of the target's session
    int prev_item = -1; // the item before the target in the same session (-1 at a session start)
};

inline std::vector<UserSeq> split_users(const datasets::SequenceData& d) {
    std::vector<UserSeq> out;
    for (const std::vector<datasets::Event>& ev : d.events) {
        std::vector<const datasets::Event*> items;
        for (const datasets::Event& e : ev)
            if (e.item >= 0) items.push_back(&e);
        if (items.size() < 3) continue;
        UserSeq u;
        for (size_t i = 0; i + 1 < items.size(); ++i) u.train.push_back(items[i]->item + 1);
        const datasets::Event& t = *items.back();
        u.target = t.item + 1;
        u.interest = t.interest;
        const datasets::Event& p = *items[items.size() - 2];
        u.prev_item = p.session == t.session ? p.item : -1;
        out.push_back(u);
    }
    return out;
}

// Each user's training tokens: the model's input when it ranks her held-out item.
inline std::vector<Ids> train_sequences(const std::vector<UserSeq>& users) {
    std::vector<Ids> out;
    for (const UserSeq& u : users) out.push_back(u.train);
    return out;
}

// The paper's evaluation: per user, `n` negatives drawn by popularity (training counts, returned
// in *count, indexed by token), never an item the user has interacted with.
inline std::vector<Ids> popularity_negatives(const std::vector<UserSeq>& users, int V, int n, uint64_t seed,
                                             std::vector<double>* count) {
    count->assign(size_t(V), 0.0);
    for (const UserSeq& u : users)
        for (int t : u.train) (*count)[size_t(t)] += 1.0;
    std::vector<double> weight(count->begin() + 1, count->end() - 1);   // items 0..N-1
    for (double& w : weight) w += 1e-3;                                  // every item can be drawn
    const datasets::Discrete pop(weight);
    Rng neg_rng(splitmix64(seed + 11));
    std::vector<Ids> negatives;
    for (const UserSeq& u : users) {
        std::vector<char> seen(size_t(V), 0);
        for (int t : u.train) seen[size_t(t)] = 1;
        seen[size_t(u.target)] = 1;
        Ids neg;
        while (int(neg.size()) < n) {
            const int tok = 1 + pop.sample(neg_rng);                         // item i is token i + 1
            if (!seen[size_t(tok)]) seen[size_t(tok)] = 1, neg.push_back(tok);
        }
        negatives.push_back(neg);
    }
    return negatives;
}

// Leave-one-out scores of one model from its logits over the vocabulary (users, V): the target
// against `negatives[u]` (sampled) and against every item.
inline Scores score(const std::vector<UserSeq>& users, const std::vector<Ids>& negatives, int k,
                    const std::vector<std::vector<float>>& logits) {
    Scores s;
    const double n = double(users.size());
    for (size_t u = 0; u < users.size(); ++u) {
        const std::vector<float>& z = logits[u];
        std::vector<float> cand = {z[size_t(users[u].target)]};
        for (int j : negatives[u]) cand.push_back(z[size_t(j)]);
        const int r = rank_of(cand, 0);
        s.hr += (r < k) / n;
        s.ndcg += (r < k ? 1.0 / std::log2(r + 2.0) : 0.0) / n;
        s.mrr += 1.0 / (r + 1.0) / n;
        std::vector<float> all(z.begin() + 1, z.end() - 1);     // items 1..N only
        const int rf = rank_of(all, users[u].target - 1);
        s.hr_full += (rf < k) / n;
        s.ndcg_full += (rf < k ? 1.0 / std::log2(rf + 2.0) : 0.0) / n;
        s.mrr_full += 1.0 / (rf + 1.0) / n;
    }
    return s;
}

// Real data (datasets/next_item.h's split) as tokens: each user's items before the test item (the
// model's input at test time), and the same cut into training windows of T + 1 items, stride T, so
// that every item is a Cloze label and every transition a next-item label exactly once per epoch.
struct TokenSplit {
    std::vector<UserSeq> seen, windows;   // seen[u].target is the test item's token
};
inline TokenSplit token_split(const datasets::NextItemSplit& s, int T) {
    TokenSplit t;
    for (const datasets::NextItemUser& u : s.users) {
        UserSeq x;
        for (int i : datasets::seen_before(u, datasets::Target::test)) x.train.push_back(i + 1);
        x.target = u.test + 1;
        for (const Ids& w : datasets::sliding_windows(x.train, T + 1, T)) t.windows.push_back({w});
        t.seen.push_back(x);
    }
    return t;
}

// The generator's true next-item distribution for each user, as logits over the vocabulary (the oracle).
inline std::vector<std::vector<float>> oracle_logits(const datasets::SequenceData& d, const std::vector<UserSeq>& users) {
    std::vector<std::vector<float>> truth;
    for (const UserSeq& u : users) {
        const std::vector<float> p = datasets::next_item_distribution(d, u.interest, u.prev_item);
        std::vector<float> z(size_t(d.num_items + 2), -1.0f);   // [pad] and [mask] below every item
        for (int i = 0; i < d.num_items; ++i) z[size_t(i + 1)] = p[size_t(i)];
        truth.push_back(z);
    }
    return truth;
}

// Popularity as logits: every user gets the training counts (indexed by token).
inline std::vector<std::vector<float>> popularity_logits(const std::vector<UserSeq>& users, const std::vector<double>& count) {
    return std::vector<std::vector<float>>(users.size(), std::vector<float>(count.begin(), count.end()));
}

inline std::vector<std::vector<float>> rows_of(const Tensor& t) {
    std::vector<std::vector<float>> out;
    const size_t V = size_t(t.dim(1));
    for (int r = 0; r < t.dim(0); ++r) out.emplace_back(t.data() + size_t(r) * V, t.data() + size_t(r + 1) * V);
    return out;
}

// ---- One data set as the experiment sees it ----------------------------------------------------------
// A model's next-item logits over the vocabulary, (S, V), for S input sequences
// (models/ch61_bert4rec.h: Bert4Rec::next_item_logits).
using LogitsOf = std::function<Tensor(const std::vector<Ids>&)>;

// What the models train on, how one is scored from its logits, and the references, scored once:
// popularity and (synthetic worlds only) the oracle.
struct Protocol {
    int num_items = 0;                              // N
    std::vector<Ids> train;                         // training sequences (users; windows on real data)
    std::function<Scores(const LogitsOf&)> evaluate;
    Scores popularity;
    std::optional<Scores> oracle;
};

// A synthetic world (drawn from `world` with order strength `order` and seed `seed`) under the
// paper's protocol: each user's last item held out, `n` popularity negatives per user, HR@k /
// NDCG@k / MRR; the oracle is the generator's next-item distribution.
inline Protocol world_protocol(datasets::SequenceOptions world, double order, uint64_t seed, int n, int k) {
    world.order_strength = order, world.seed = seed;
    const datasets::SequenceData d = datasets::sequences(world);
    Protocol p;
    p.num_items = d.num_items;
    const std::vector<UserSeq> users = split_users(d);
    p.train = train_sequences(users);                            // also the input when a model ranks the held-out item
    std::vector<double> count;                                   // popularity = training counts
    const std::vector<Ids> negatives = popularity_negatives(users, d.num_items + 2, n, seed, &count);
    p.evaluate = [users, inputs = p.train, negatives, k](const LogitsOf& logits) {
        return score(users, negatives, k, rows_of(logits(inputs)));   // BERT4Rec appends [mask] to each input
    };
    p.popularity = score(users, negatives, k, popularity_logits(users, count));
    p.oracle = score(users, negatives, k, oracle_logits(d, users));
    return p;
}

// Real data under datasets/next_item.h's protocol: the models train on windows of T + 1 items
// (token_split) and rank each user's test item against `n` popularity negatives drawn once with
// `seed`. No oracle. The protocol reads `s`, which must outlive it.
inline Protocol real_protocol(const datasets::NextItemSplit& s, int T, int n, int k, uint64_t seed) {
    const int N = s.num_items, V = N + 2;
    const std::vector<Ids> negatives = datasets::popularity_negatives(s, n, seed);
    const TokenSplit t = token_split(s, T);
    Protocol p;
    p.num_items = N;
    p.train = train_sequences(t.windows);
    p.evaluate = [&s, negatives, inputs = train_sequences(t.seen), N, V, k](const LogitsOf& logits) {
        return Scores(evaluate_next_item(s, negatives, datasets::Target::test, k, [&](size_t first, int count, std::vector<float>& z) {
            const Tensor y = logits({inputs.begin() + long(first), inputs.begin() + long(first) + count});
            for (int b = 0; b < count; ++b) std::copy_n(y.data() + b * V + 1, N, z.begin() + b * N);   // item i is token i + 1
        }));
    };
    p.popularity = evaluate_next_item(s, negatives, datasets::Target::test, k, datasets::popularity_scorer(s));
    return p;
}

}  // namespace ch61
}  // namespace minirec
