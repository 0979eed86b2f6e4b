// How a chapter judges a paper's claim: a paired comparison over independent worlds. For each
// world the method and its comparator run on the same data; the claim's figure is the per-world
// difference d_w, oriented so that d_w > 0 means "the claim's direction". Over the n worlds we
// report the mean, a 90% Student's t interval, and a verdict:
//     holds         the interval lies above the chapter's practical margin (lo > margin)
//     fails         the interval lies below zero (hi < 0)
//     inconclusive  otherwise (too few worlds, too much spread, or a gain smaller than the margin)
// n counts worlds (fresh data and fresh initialisation each), never epochs or users in one world.
// Deliberately left out: corrections for many claims, bootstrap intervals, one-sided tests.
#pragma once
#include <string>
#include <vector>

#include "tutorials/common/report.h"

namespace minirec {

enum class Verdict { holds, fails, inconclusive };
const char* verdict_name(Verdict v);   // "holds", "fails", "inconclusive"

// The mean of d over n worlds and its 90% interval mean +- t_{0.95, n-1} s / sqrt(n), where s is
// the sample standard deviation. With fewer than two worlds the interval is (-inf, +inf).
struct Interval {
    double mean = 0, lo = 0, hi = 0;
    int n = 0;
};
Interval t_interval90(const std::vector<double>& d);
// The 0.95 quantile of Student's t with df degrees of freedom (the two-sided 90% factor), from
// the usual table for df <= 30 and interpolated in 1/df above (1.645 as df -> infinity).
double t_quantile95(int df);
Verdict judge(const Interval& ci, double margin);

// One row of the claims table. `diffs` holds one paired difference per world.
struct Claim {
    std::string claim;          // "MMoE's test loss below Shared-Bottom's at rho = 0.5"
    std::string world;          // "main" or "control" (what the world builds in, or not)
    std::string paper;          // what the paper reports, with its table or figure
    std::vector<double> diffs;  // per world: method - comparator, oriented so that > 0 is the claim
    double margin = 0.0;        // the practical margin the interval must clear to hold
    int digits = 4;             // decimals shown
    Interval interval() const { return t_interval90(diffs); }
    Verdict verdict() const { return judge(interval(), margin); }
};

// One number per world, f(run) for each run in order: a Claim's diffs.
template <class T, class F> std::vector<double> per_world(const std::vector<T>& runs, F f) {
    std::vector<double> d;
    for (const T& x : runs) d.push_back(f(x));
    return d;
}

// The chapter's claims, and its sanity checks (checks that cannot fail by construction, shown
// apart so they are never mistaken for evidence). A quick run prints the intervals but no
// verdicts: "quick run: too short for verdicts"; so does a run on one real data set, whose n runs
// differ only in initialisation and order.
struct Claims {
    std::vector<Claim> rows;
    struct Sanity {
        std::string check, numbers;
        bool ok;
    };
    std::vector<Sanity> sanity;
    bool quick = false;
    bool one_dataset = false;   // real data: the n runs share one data set (init only), so no verdicts

    Claim& add(Claim c) { rows.push_back(std::move(c)); return rows.back(); }
    void add_sanity(const std::string& check, bool ok, const std::string& numbers) { sanity.push_back({check, numbers, ok}); }
    // claim | world | the paper reports | this run: mean difference [90% interval], n | margin | verdict
    Table table() const;
    Table sanity_table() const;
    // Prints both tables (and the quick-run line) through the report; CSV as claims.csv.
    void print(Report& report) const;
    // How many rows have each verdict in `world` ("" = all): {holds, fails, inconclusive}.
    std::vector<int> count(const std::string& world = "") const;
    const Claim& find(const std::string& claim, const std::string& world = "main") const;
};

}  // namespace minirec
