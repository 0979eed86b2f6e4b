// Real click logs for the CTR chapters, streamed line by line (never the whole file in memory) and
// hashed into a fixed number of ids per field, in the shapes the chapters' synthetic worlds have:
//   Criteo (ch59, ch64): the published TSV (label, I1..I13, C1..C26, no header) or the CSV with a
//     "label,I1,...,C26" header, up to max_rows rows, split by row order into 80% train, 10%
//     validation, 10% test (the AutoInt paper's proportions; it splits at random, we by order).
//   Ali-CCP (ch66): the three preprocessed CSV files (train, val, test) with a header
//     "click,purchase,<field ids...>,D<...>": categorical field ids, then dense "D" columns.
// Malformed input is a DataError naming the file and the line; nothing is skipped.
// Deliberately left out: frequency thresholds (see criteo.h for vocabularies), shuffling, the
// Criteo 1TB day files.
#pragma once
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/ch59_field_pairs.h"
#include "datasets/criteo.h"
#include "datasets/funnel.h"
#include "datasets/synthetic_ctr.h"

namespace minirec {
namespace datasets {

// 32-bit FNV-1a: h = 2166136261; for each byte h = (h ^ byte) * 16777619 (mod 2^32).
uint32_t fnv1a32(const std::string& bytes);
// A categorical value's id in [1, buckets): 1 + fnv1a32(field + ":" + value) mod (buckets - 1);
// an empty (missing) value is id 0, its own id.
int32_t hash_bucket(const std::string& field, const std::string& value, int buckets);
// The AutoInt paper's count transform (from the Criteo contest winner): z > 2 -> ln(z)^2, else z;
// a missing count is 0.
float log_square(int64_t z, bool missing);

struct CtrLogOptions {
    long max_rows = 0;            // read at most this many data rows (0 = all)
    int buckets = 1000;           // ids per field, 0 = missing
    double valid_fraction = 0.1;  // by row order: train, then validation, then test
    double test_fraction = 0.1;
};

struct HashedCriteo {
    int buckets = 0;
    long n = 0, n_train = 0, n_valid = 0;   // rows [0, n_train) train, [n_train, n_valid) validation, [n_valid, n) test
    Ids ids;                      // (n * 39) field-local ids in [0, buckets): I1..I13 by criteo_int_bucket (capped
                                  // at buckets - 1), then C1..C26 by hash_bucket("C7", value)
    std::vector<float> dense;     // (n * 13) log_square of I1..I13, for models with dense inputs
    std::vector<float> labels;    // (n)
    CriteoFormat format = CriteoFormat::Auto;
    long missing_cells = 0;
};
// The split's sizes for n rows: test = floor(n * test_fraction), validation likewise, train the rest.
void split_by_order(HashedCriteo& d, const CtrLogOptions& o);
HashedCriteo read_criteo_hashed(std::istream& in, const std::string& name, const CtrLogOptions& o);
HashedCriteo load_criteo_hashed(const std::string& path, const CtrLogOptions& o);

// In the chapters' shapes. ch59: every field one-hot, values = buckets, no true probabilities (all
// fields count as "signal"). ch64: 39 one-hot fields; the tags bag is empty and the numeric z is 0
// (the integers enter bucketed), so those two slots of the models carry nothing.
FieldPairWorld to_field_pairs(const HashedCriteo& d);
CtrData to_ctr_data(const HashedCriteo& d);

// Ali-CCP as a funnel: x = [the D columns, then `slots` hashed counts of the categorical fields
// (the hashing trick: slot fnv1a32(field:value) mod slots gets +1)], item = hash_bucket("205", ...)
// into `items` ids. click and purchase are labels; daction is 0 everywhere (the data has no D-Action
// label, so ESM2 cannot be trained on it); oaction and every true probability are empty (no truth).
struct AliCcpOptions {
    int slots = 32;
    int items = 200;
};
struct AliCcp {
    FunnelData f;
    int n = 0, n_train = 0, n_valid = 0;     // train file rows, then val, then test
    std::vector<std::string> columns;        // the header of the train file
};
// Appends one file's rows (its header must match `d.columns` once set). DataError with file:line.
void read_ali_ccp(std::istream& in, const std::string& name, const AliCcpOptions& o, AliCcp& d);
// dir/ali_ccp_train_sample.csv, dir/ali_ccp_val_sample.csv, dir/ali_ccp_test_sample.csv.
AliCcp load_ali_ccp(const std::string& dir, const AliCcpOptions& o = {});

}  // namespace datasets
}  // namespace minirec
