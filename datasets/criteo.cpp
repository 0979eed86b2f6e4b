// Criteo TSV/CSV parsing, log-bucketing of counts and frequency-thresholded vocabularies.
// Deliberately left out: the 1TB dataset's day files; feature hashing is in ctr_logs.cpp.
#include "datasets/criteo.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <unordered_map>

#include "core/error.h"

namespace minirec {
namespace datasets {

namespace {

CriteoFormat detect(const std::string& first_line, CriteoFormat asked) {
    if (asked != CriteoFormat::Auto) return asked;
    return first_line.rfind("label", 0) == 0 ? CriteoFormat::CsvWithHeader : CriteoFormat::TsvNoHeader;
}

}  // namespace

void check_criteo_header(const std::string& line, const Where& where) {
    std::vector<std::string> f = split_csv(line, ',', where);
    if (f.size() != size_t(1 + kCriteoFields))
        data_fail(where, "header: expected 40 columns (label,I1..I13,C1..C26), got " + std::to_string(f.size()));
    for (int i = 0; i < kCriteoInts; ++i)
        if (f[1 + i] != "I" + std::to_string(i + 1)) data_fail(where, "header: column " + std::to_string(i + 2) + " should be I" + std::to_string(i + 1) + ", got '" + f[1 + i] + "'");
    for (int c = 0; c < kCriteoCats; ++c)
        if (f[1 + kCriteoInts + c] != "C" + std::to_string(c + 1))
            data_fail(where, "header: column " + std::to_string(c + 15) + " should be C" + std::to_string(c + 1));
}

namespace {
// Integers come as "7", "-1" or (in the CSV sample) "260.0": we accept a number that is whole.
int64_t parse_count(const std::string& s, const Where& where, int i) {
    std::string what = "I" + std::to_string(i + 1);
    if (s.find_first_of(".eE") == std::string::npos) return parse_int(s, where, what.c_str());
    double v = parse_double(s, where, what.c_str());
    if (v != std::floor(v) || std::fabs(v) > 9e15) data_fail(where, what + ": expected a whole number, got '" + s + "'");
    return static_cast<int64_t>(v);
}
}  // namespace

CriteoRow parse_criteo_row(const std::string& line, CriteoFormat fmt, const Where& where, long& missing) {
    std::vector<std::string> f = fmt == CriteoFormat::CsvWithHeader ? split_csv(line, ',', where) : split_fields(line, '\t');
    if (f.size() != size_t(1 + kCriteoFields))
        data_fail(where, std::string("expected 40 ") + (fmt == CriteoFormat::CsvWithHeader ? "comma" : "tab") +
                             "-separated fields, got " + std::to_string(f.size()));
    CriteoRow row;
    if (f[0] != "0" && f[0] != "1") data_fail(where, "label: expected 0 or 1, got '" + f[0].substr(0, 40) + "'");
    row.label = f[0] == "1" ? 1.0f : 0.0f;
    for (int i = 0; i < kCriteoInts; ++i) {
        const std::string& s = f[1 + i];
        row.int_missing[i] = s.empty();
        if (s.empty()) ++missing;
        else row.ints[i] = parse_count(s, where, i);
    }
    for (int c = 0; c < kCriteoCats; ++c) {
        row.cats[c] = f[1 + kCriteoInts + c];
        if (row.cats[c].empty()) ++missing;
    }
    return row;
}

CriteoRaw parse_criteo(const std::string& text, const std::string& name, const CriteoOptions& opts) {
    if (text.empty()) data_fail({name, 0}, "file is empty");
    std::vector<std::string> lines = split_lines(text);
    CriteoRaw raw;
    raw.format = detect(lines[0], opts.format);
    size_t first = 0;
    if (raw.format == CriteoFormat::CsvWithHeader) {
        check_criteo_header(lines[0], {name, 1});  // a bad header is never skippable
        first = 1;
        ++raw.report.lines_read;
    }
    for (size_t i = first; i < lines.size(); ++i) {
        Where where{name, static_cast<long>(i + 1)};
        ++raw.report.lines_read;
        long missing = 0;
        try {
            if (lines[i].empty()) data_fail(where, "empty line");
            raw.rows.push_back(parse_criteo_row(lines[i], raw.format, where, missing));
            raw.missing_cells += missing;
            ++raw.report.rows_kept;
        } catch (const DataError& e) {
            if (!opts.skip_bad_lines) throw;
            raw.report.skip(where, e.what());
        }
    }
    if (raw.report.lines_skipped > 0) std::cerr << name << ": " << raw.report.summary() << "\n";
    if (raw.rows.empty()) data_fail({name, 0}, "no data rows");
    return raw;
}

CriteoRaw load_criteo_raw(const std::string& path, const CriteoOptions& opts) {
    return parse_criteo(read_file(path), path, opts);
}

int criteo_int_bucket(int64_t v, bool missing) {
    if (missing) return 0;
    if (v < 0) return 1;
    if (v <= 2) return 2 + static_cast<int>(v);
    double l = std::log(static_cast<double>(v));
    return 5 + static_cast<int>(std::floor(l * l));
}

CriteoEncoder fit_criteo_encoder(const CriteoRaw& train, int min_count) {
    if (min_count < 1) arg_fail("fit_criteo_encoder", "min_count must be >= 1");
    CriteoEncoder enc;
    enc.min_count = min_count;
    // Integer fields: the largest possible bucket, so that test rows never overflow the table.
    const int max_bucket = criteo_int_bucket(INT64_MAX, false);
    for (int i = 0; i < kCriteoInts; ++i) enc.field_sizes[i] = max_bucket + 1;
    for (int c = 0; c < kCriteoCats; ++c) {
        std::unordered_map<std::string, long> count;
        for (const CriteoRow& r : train.rows)
            if (!r.cats[c].empty()) ++count[r.cats[c]];
        std::vector<std::pair<std::string, long>> frequent;
        for (auto& kv : count)
            if (kv.second >= min_count) frequent.push_back(kv);
        // Most frequent first; equal counts by string, so the ids never depend on hash order.
        std::sort(frequent.begin(), frequent.end(), [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second > b.second : a.first < b.first;
        });
        for (size_t j = 0; j < frequent.size(); ++j) enc.vocab[c][frequent[j].first] = static_cast<int32_t>(2 + j);
        enc.field_sizes[kCriteoInts + c] = static_cast<int>(2 + frequent.size());
    }
    return enc;
}

CriteoData encode_criteo(const CriteoRaw& raw, const CriteoEncoder& enc) {
    CriteoData d;
    const int n = static_cast<int>(raw.rows.size());
    d.field_sizes = enc.field_sizes;
    for (int i = 0; i < kCriteoInts; ++i) d.field_names.push_back("I" + std::to_string(i + 1));
    for (int c = 0; c < kCriteoCats; ++c) d.field_names.push_back("C" + std::to_string(c + 1));
    d.fields.resize(size_t(n) * kCriteoFields);
    d.dense = Tensor({n, kCriteoInts});
    d.missing_cells = raw.missing_cells;
    for (int r = 0; r < n; ++r) {
        const CriteoRow& row = raw.rows[r];
        d.labels.push_back(row.label);
        int32_t* out = d.fields.data() + size_t(r) * kCriteoFields;
        for (int i = 0; i < kCriteoInts; ++i) {
            out[i] = criteo_int_bucket(row.ints[i], row.int_missing[i]);
            double v = row.int_missing[i] ? 0.0 : std::max<double>(0.0, static_cast<double>(row.ints[i]));
            d.dense[size_t(r) * kCriteoInts + i] = static_cast<float>(std::log1p(v));
        }
        for (int c = 0; c < kCriteoCats; ++c) {
            const std::string& s = row.cats[c];
            int32_t id = 0;
            if (!s.empty()) {
                auto it = enc.vocab[c].find(s);
                id = it == enc.vocab[c].end() ? 1 : it->second;
                d.rare_to_other += id == 1;
            }
            out[kCriteoInts + c] = id;
        }
    }
    return d;
}

CriteoData load_criteo(const std::string& path, int min_count, const CriteoOptions& opts) {
    CriteoRaw raw = load_criteo_raw(path, opts);
    return encode_criteo(raw, fit_criteo_encoder(raw, min_count));
}

}  // namespace datasets
}  // namespace minirec
