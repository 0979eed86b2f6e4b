// A loader for Criteo display-ad click logs: a label, 13 integer count features I1..I13 and 26
// hashed categoricals C1..C26. We read both the original tab-separated form without a header
// and the comma-separated form with a "label,I1,...,C26" header (the DeepCTR sample).
// Here: vocabularies over the whole file in memory; datasets/ctr_logs.h streams a file and hashes
// every field into a fixed number of ids instead.
//
// Transforms (fit on training rows, applied to any rows):
//   integers: missing -> bucket 0; v < 0 -> 1; v = 0, 1, 2 -> 2, 3, 4;
//             v > 2 -> 5 + floor(ln(v)^2)   (the Criteo-contest log bucketing)
//   categoricals: missing -> 0; values seen fewer than min_count times -> 1 ("other");
//             frequent values -> 2, 3, ... ordered by count (descending), then by string.
// Unknown values at encode time also become "other", and are counted.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/movielens.h"  // LoadOptions
#include "datasets/text_reader.h"

namespace minirec {
namespace datasets {

constexpr int kCriteoInts = 13;
constexpr int kCriteoCats = 26;
constexpr int kCriteoFields = kCriteoInts + kCriteoCats;   // 39

enum class CriteoFormat { Auto, TsvNoHeader, CsvWithHeader };

struct CriteoOptions {
    CriteoFormat format = CriteoFormat::Auto;   // Auto: a first line starting with "label" means CSV
    bool skip_bad_lines = false;
};

// One row as read: integers may be missing; categoricals are strings ("" = missing).
struct CriteoRow {
    float label = 0.0f;
    std::array<int64_t, kCriteoInts> ints{};
    std::array<bool, kCriteoInts> int_missing{};
    std::array<std::string, kCriteoCats> cats;
};

struct CriteoRaw {
    std::vector<CriteoRow> rows;
    CriteoFormat format = CriteoFormat::Auto;   // the format actually read
    long missing_cells = 0;                     // empty integer or categorical fields
    LoadReport report;
};

// One line of either format (fmt is not Auto), for streaming readers; `missing` counts empty cells.
// Throws DataError at `where`. The header of the CSV form must be exactly label,I1..I13,C1..C26.
CriteoRow parse_criteo_row(const std::string& line, CriteoFormat fmt, const Where& where, long& missing);
void check_criteo_header(const std::string& line, const Where& where);

CriteoRaw parse_criteo(const std::string& text, const std::string& name, const CriteoOptions& opts = {});
CriteoRaw load_criteo_raw(const std::string& path, const CriteoOptions& opts = {});

// The integer bucket described above.
int criteo_int_bucket(int64_t v, bool missing);

// Vocabularies of the 26 categorical fields, fit on training rows.
struct CriteoEncoder {
    int min_count = 10;
    std::array<std::map<std::string, int32_t>, kCriteoCats> vocab;   // value -> id (>= 2)
    std::array<int, kCriteoFields> field_sizes{};                    // ids per field (incl. 0 and 1)
};
CriteoEncoder fit_criteo_encoder(const CriteoRaw& train, int min_count = 10);

struct CriteoData {
    std::vector<float> labels;     // (N)
    Ids fields;                    // (N * 39) row-major: 13 integer buckets, then 26 categorical ids
    Tensor dense;                  // (N, 13) log(1 + max(v, 0)), missing -> 0, for models with dense inputs
    std::array<int, kCriteoFields> field_sizes{};   // ids per field: embedding table sizes
    std::vector<std::string> field_names;           // "I1".."I13", "C1".."C26"
    long rare_to_other = 0;        // categorical cells mapped to "other"
    long missing_cells = 0;
};
CriteoData encode_criteo(const CriteoRaw& raw, const CriteoEncoder& enc);

// Parse, fit on the same rows, encode: the one-call version for a single file.
CriteoData load_criteo(const std::string& path, int min_count = 10, const CriteoOptions& opts = {});

}  // namespace datasets
}  // namespace minirec
