// Chapter 52's world (datasets/ch52_atrank_world.h): the planted rule and the generator.
#include "datasets/ch52_atrank_world.h"

namespace minirec {
namespace ch52 {

bool rule(const World& w, const std::vector<Behaviour>& h, int j) {
    for (const Behaviour& click : h) {
        if (click.is_query || click.item != j) continue;
        if (time_bucket(w.options, click.age_hours) >= w.options.recent_buckets) continue;
        if (w.options.control) return true;
        for (const Behaviour& q : h)
            if (q.is_query && q.session == click.session) return true;
    }
    return false;
}

Kind kind_of(const World& w, const std::vector<Behaviour>& h, int j, bool clicked) {
    if (rule(w, h, j)) return kSearchedRecent;
    if (!clicked) return kRandom;
    bool stale_searched = false, searched_elsewhere = false;
    for (const Behaviour& click : h) {
        if (click.is_query || click.item != j) continue;
        for (const Behaviour& q : h) {
            if (!q.is_query) continue;
            if (q.session == click.session) stale_searched = true;
            else if (q.category == click.category) searched_elsewhere = true;
        }
    }
    return stale_searched ? kSearchedStale : searched_elsewhere ? kElsewhere : kUnsearched;
}

World make_world(const WorldOptions& o) {
    if (o.recent_sessions > o.recent_buckets || o.sessions - o.recent_sessions > o.time_buckets - o.recent_buckets)
        throw std::invalid_argument("ch52 make_world: more sessions than distinct time buckets");
    World w;
    w.options = o;
    Rng rng(splitmix64(o.seed * 7919ull + 52));
    const int N = w.items(), M = o.items_per_category;
    auto click = [&](int item) { Behaviour b; b.item = item; b.category = item / M; b.action = rng.bernoulli(0.2f); return b; };
    auto query = [&](int c) { Behaviour b; b.is_query = true; b.category = c; return b; };
    auto item_outside = [&](int c) { int i = rng.randint(N); while (i / M == c) i = rng.randint(N); return i; };
    const int total = o.train_histories + o.test_histories, S = o.sessions;
    for (int u = 0; u < total; ++u) {
        // Session kinds: 0 searched, 1 browsing, 2 elsewhere.
        std::vector<int> kind(static_cast<size_t>(S));
        for (int& k : kind) { const float r = rng.uniform(); k = r < 0.4f ? 0 : r < 0.7f ? 1 : 2; }
        std::vector<std::vector<Behaviour>> s(static_cast<size_t>(S));
        std::vector<int> browsed;   // categories clicked in browsing sessions
        for (int k = 0; k < S; ++k) {
            std::vector<Behaviour>& x = s[size_t(k)];
            if (kind[size_t(k)] == 0) {
                const int c = rng.randint(o.categories);
                x = {query(c), click(c * M + rng.randint(M)), click(c * M + rng.randint(M))};
            } else if (kind[size_t(k)] == 1) {
                const int n = 2 + rng.randint(2);
                for (int j = 0; j < n; ++j) x.push_back(click(rng.randint(N))), browsed.push_back(x.back().category);
            }
        }
        for (int k = 0; k < S; ++k) {
            if (kind[size_t(k)] != 2) continue;
            const int c = browsed.empty() ? rng.randint(o.categories) : browsed[size_t(rng.randint(int(browsed.size())))];
            std::vector<Behaviour>& x = s[size_t(k)];
            x = {query(c), click(item_outside(c))};
            if (rng.bernoulli(0.5f)) x.push_back(click(item_outside(c)));
        }
        // Ages: recent sessions in distinct buckets of 0..recent-1, the others in distinct stale ones.
        std::vector<int> recent(size_t(o.recent_buckets)), stale;
        for (int k = 0; k < o.recent_buckets; ++k) recent[size_t(k)] = k;
        for (int k = o.recent_buckets; k < o.time_buckets; ++k) stale.push_back(k);
        rng.shuffle(recent);
        rng.shuffle(stale);
        std::vector<double> age(static_cast<size_t>(S));
        for (int k = 0; k < S; ++k) {   // uniform inside the bucket, leaving room for the minutes
            const int bucket = k < o.recent_sessions ? recent[size_t(k)] : stale[size_t(k - o.recent_sessions)];
            const double lo = std::pow(o.time_base, bucket) - 1.0, hi = std::pow(o.time_base, bucket + 1) - 1.0;
            age[size_t(k)] = lo + (hi - lo - 0.45) * rng.uniform_double();
        }
        std::vector<int> order(static_cast<size_t>(S));
        for (int k = 0; k < S; ++k) order[size_t(k)] = k;
        std::sort(order.begin(), order.end(), [&](int a, int b) { return age[size_t(a)] > age[size_t(b)]; });
        std::vector<Behaviour> h;
        for (int k : order)
            for (size_t j = 0; j < s[size_t(k)].size(); ++j) {   // in a session, earlier behaviours are older
                Behaviour b = s[size_t(k)][j];
                b.session = k;
                b.age_hours = age[size_t(k)] + 0.1 * double(s[size_t(k)].size() - 1 - j);
                h.push_back(b);
            }
        w.histories.push_back(h);
        // Candidates: four clicked items, another item of a clicked category, a random item.
        std::vector<int> clicks;
        for (size_t t = 0; t < h.size(); ++t)
            if (!h[t].is_query) clicks.push_back(int(t));
        std::vector<std::pair<int, bool>> cands;
        for (int j = 0; j < 4; ++j) cands.push_back({h[size_t(clicks[size_t(rng.randint(int(clicks.size())))])].item, true});
        cands.push_back({h[size_t(clicks[size_t(rng.randint(int(clicks.size())))])].category * M + rng.randint(M), false});
        cands.push_back({rng.randint(N), false});
        for (size_t c = 0; c < cands.size(); ++c) {
            Example e;
            e.history = u;
            e.candidate = cands[c].first;
            e.truth = rule(w, h, e.candidate);
            e.kind = kind_of(w, h, e.candidate, cands[c].second);
            if (e.kind == kRandom && c == 4) e.kind = kSameCategory;
            e.label = float(e.truth != rng.bernoulli(float(o.label_noise)));
            (u < o.train_histories ? w.train : w.test).push_back(e);
        }
    }
    return w;
}

// One log: the behaviours items[begin..end) of a time-ordered history (at most max_len, the newest).
static std::vector<Behaviour> log_of(const std::vector<datasets::TimedItem>& h, size_t end, int max_len, const World& w) {
    std::vector<Behaviour> log;
    for (size_t t = end > size_t(max_len) ? end - size_t(max_len) : 0; t < end; ++t) {
        Behaviour b;
        b.item = h[t].item, b.category = w.category_of(b.item);
        b.action = h[t].rating <= 2.0f ? 0 : int(h[t].rating) - 2;   // 1-2, 3, 4, 5 -> 0..3
        b.age_hours = double(h[end - 1].time - h[t].time) / 3600.0;
        log.push_back(b);
    }
    return log;
}

std::vector<std::vector<int>> train_rows_by_history(const World& w) {
    std::vector<std::vector<int>> rows(size_t(w.options.train_histories));
    for (size_t i = 0; i < w.train.size(); ++i) rows[size_t(w.train[i].history)].push_back(int(i));
    return rows;
}

std::vector<int> rows_of(const std::vector<std::vector<int>>& by_history, const std::vector<int>& histories) {
    std::vector<int> rows;
    for (int u : histories) rows.insert(rows.end(), by_history[size_t(u)].begin(), by_history[size_t(u)].end());
    return rows;
}

std::vector<int> first_of_kind(const std::vector<Example>& examples, Kind kind, size_t max) {
    std::vector<int> rows;
    for (size_t i = 0; i < examples.size() && rows.size() < max; ++i)
        if (examples[i].kind == kind && (rows.empty() || examples[size_t(rows.back())].history != examples[i].history))
            rows.push_back(int(i));
    return rows;
}

HeldOutScores held_out_scores(const World& w, const std::vector<float>& p) {
    std::vector<float> y_test, truth_test;
    for (const Example& e : w.test) y_test.push_back(e.label), truth_test.push_back(float(e.truth));
    HeldOutScores r;
    r.auc = auc(p, y_test), r.truth_auc = auc(p, truth_test);
    double count[kNumKinds] = {};
    for (size_t i = 0; i < p.size(); ++i) r.mean_score[w.test[i].kind] += p[i], count[w.test[i].kind] += 1.0;
    for (int k = 0; k < kNumKinds; ++k) r.mean_score[k] /= std::max(1.0, count[k]);
    return r;
}

void search_attention_shares(const World& w, const std::vector<Example>& examples, const std::vector<int>& rows,
                             const std::vector<double>& A, int T, double* own, double* other) {
    double own_sum = 0.0, other_sum = 0.0, clicks = 0.0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const std::vector<Behaviour>& h = w.histories[size_t(examples[size_t(rows[i])].history)];
        for (size_t t = 0; t < h.size(); ++t) {   // only clicks that have a search in their session (one at most)
            auto searched = [&](const Behaviour& q) { return q.is_query && q.session == h[t].session; };
            if (h[t].is_query || std::none_of(h.begin(), h.end(), searched)) continue;
            for (size_t q = 0; q < h.size(); ++q) {
                const double a = A[(i * size_t(T) + t) * size_t(T) + q];
                if (h[q].is_query) (h[q].session == h[t].session ? own_sum : other_sum) += a;
            }
            ++clicks;
        }
    }
    *own = own_sum / std::max(1.0, clicks), *other = other_sum / std::max(1.0, clicks);
}

std::vector<Example> every_item(size_t first, int count, int items) {
    std::vector<Example> ex;
    for (int u = 0; u < count * items; ++u) ex.push_back({int(first) + u / items, u % items});
    return ex;
}

RealLogs movielens_logs(const datasets::MovieLens100k& ml, const RealLogOptions& o) {
    const auto histories = datasets::user_histories(ml.ratings.rows, ml.ratings.num_users);
    RealLogs r;
    r.split = datasets::next_item_split(datasets::item_sequences(histories), ml.ratings.num_items);
    World w;
    w.options.categories = 19, w.options.time_base = 4, w.options.time_buckets = 8;
    for (int i = 0; i < ml.ratings.num_items; ++i) {
        const auto& g = ml.movies[size_t(i)].genres;
        w.categories.push_back(int(std::find(g.begin(), g.end(), uint8_t(1)) - g.begin()) % 19);   // none: "unknown"
    }
    r.train = r.valid = r.test = w;
    Rng rng(splitmix64(o.seed + 52));
    const int N = w.items();
    for (const datasets::NextItemUser& u : r.split.users) {
        const auto& h = histories[size_t(u.user)];
        const size_t n = u.history.size();   // h[n] is the validation item, h[n + 1] the test item
        r.valid.histories.push_back(log_of(h, n, o.max_len, w));
        r.test.histories.push_back(log_of(h, n + 1, o.max_len, w));
        std::vector<char> rated(size_t(N), 0);
        for (const datasets::TimedItem& e : h) rated[size_t(e.item)] = 1;
        for (size_t c = n > size_t(o.cuts) ? n - size_t(o.cuts) : 1; c < n; ++c) {   // predict h[c] from h[..c)
            const int log = int(r.train.histories.size());
            r.train.histories.push_back(log_of(h, c, o.max_len, w));
            r.train.train.push_back({log, h[c].item, kSearchedRecent, 1.0f, true});
            for (int k = 0; k < o.negatives; ++k) {
                int j = int(rng.randint(N));
                while (rated[size_t(j)]) j = int(rng.randint(N));
                r.train.train.push_back({log, j, kRandom, 0.0f, false});
            }
        }
    }
    r.train.options.train_histories = int(r.train.histories.size());
    return r;
}

}  // namespace ch52
}  // namespace minirec
