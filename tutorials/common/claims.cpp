// Paired differences over worlds -> mean, 90% Student's t interval, verdict; the claims table.
#include "tutorials/common/claims.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace minirec {

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::holds: return "holds";
        case Verdict::fails: return "fails";
        case Verdict::inconclusive: return "inconclusive";
    }
    return "?";
}

double t_quantile95(int df) {
    // t_{0.95, df} for df = 1..30, as in any statistics table.
    static const double table[30] = {6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
                                     1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725,
                                     1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697};
    if (df < 1) return std::numeric_limits<double>::infinity();
    if (df <= 30) return table[df - 1];
    // Above 30 the quantile is close to linear in 1/df between t_{30} = 1.697 and z = 1.645.
    return 1.645 + (1.697 - 1.645) * 30.0 / double(df);
}

Interval t_interval90(const std::vector<double>& d) {
    Interval ci;
    ci.n = int(d.size());
    if (d.empty()) {
        ci.lo = -std::numeric_limits<double>::infinity(), ci.hi = std::numeric_limits<double>::infinity();
        return ci;
    }
    for (double x : d) ci.mean += x / double(d.size());
    if (d.size() < 2) {
        ci.lo = -std::numeric_limits<double>::infinity(), ci.hi = std::numeric_limits<double>::infinity();
        return ci;
    }
    double ss = 0.0;
    for (double x : d) ss += (x - ci.mean) * (x - ci.mean);
    const double se = std::sqrt(ss / double(d.size() - 1)) / std::sqrt(double(d.size()));   // s / sqrt(n)
    const double half = t_quantile95(ci.n - 1) * se;
    ci.lo = ci.mean - half, ci.hi = ci.mean + half;
    return ci;
}

Verdict judge(const Interval& ci, double margin) {
    if (ci.n < 2) return Verdict::inconclusive;
    if (ci.lo > margin) return Verdict::holds;
    if (ci.hi < 0.0) return Verdict::fails;
    return Verdict::inconclusive;
}

static std::string signed_num(double x, int digits) {
    if (!std::isfinite(x)) return x > 0 ? "+inf" : "-inf";
    return num(("%+." + std::to_string(digits) + "f").c_str(), x);
}

Table Claims::table() const {
    Table t("claims", {"claim", "world", "the paper reports", "this run: mean difference [90% interval], n", "margin",
                       "verdict"});
    for (const Claim& c : rows) {
        const Interval ci = c.interval();
        const std::string run = signed_num(ci.mean, c.digits) + " [" + signed_num(ci.lo, c.digits) + ", " +
                                signed_num(ci.hi, c.digits) + "], n = " + std::to_string(ci.n);
        const std::string verdict = quick || one_dataset ? "—" : (c.verdict() == Verdict::holds ? "**holds**" :
                                                   c.verdict() == Verdict::fails ? "**fails**" : "inconclusive");
        t.add({c.claim, c.world, c.paper.empty() ? "—" : c.paper, run,
               num(("%." + std::to_string(c.digits) + "f").c_str(), c.margin), verdict});
    }
    return t;
}

Table Claims::sanity_table() const {
    Table t("sanity_checks", {"sanity check (cannot fail by construction; not evidence)", "numbers", "ok"});
    for (const Sanity& s : sanity) t.add({s.check, s.numbers, s.ok ? "yes" : "**no**"});
    return t;
}

void Claims::print(Report& report) const {
    if (one_dataset)
        report.text("One data set: the n runs differ only in initialisation and training order, not in data, so the "
                    "intervals are shown without verdicts.");
    else if (quick)
        report.text("quick run: too short for verdicts (the intervals are shown; the default run decides).");
    report.table(table(), one_dataset ? "Claims: paired differences over runs on one data set"
                                      : "Claims: paired differences over independent worlds");
    if (!sanity.empty()) report.table(sanity_table(), "Sanity checks");
}

std::vector<int> Claims::count(const std::string& world) const {
    std::vector<int> n(3, 0);
    for (const Claim& c : rows)
        if (world.empty() || c.world == world) ++n[size_t(c.verdict())];
    return n;
}

const Claim& Claims::find(const std::string& claim, const std::string& world) const {
    for (const Claim& c : rows)
        if (c.claim == claim && c.world == world) return c;
    throw std::invalid_argument("no claim '" + claim + "' in world '" + world + "'");
}

}  // namespace minirec
