// Streaming Criteo and Ali-CCP readers: one line at a time, hashed ids, errors with file:line.
#include "datasets/ctr_logs.h"

#include <algorithm>
#include <cmath>
#include <fstream>

namespace minirec {
namespace datasets {

uint32_t fnv1a32(const std::string& bytes) {
    uint32_t h = 2166136261u;                      // h = (h ^ byte) * 16777619, mod 2^32
    for (unsigned char c : bytes) h = (h ^ c) * 16777619u;
    return h;
}

int32_t hash_bucket(const std::string& field, const std::string& value, int buckets) {
    if (value.empty()) return 0;                   // 1 + fnv1a32(field:value) mod (buckets - 1)
    return 1 + int32_t(fnv1a32(field + ":" + value) % uint32_t(buckets - 1));
}

float log_square(int64_t z, bool missing) {
    if (missing) return 0.0f;                      // z > 2 -> ln(z)^2, else z
    if (z <= 2) return float(z);
    const double l = std::log(double(z));
    return float(l * l);
}

namespace {

// getline without the '\r' of CRLF files; false at the end of the stream.
bool next_line(std::istream& in, std::string& line) {
    if (!std::getline(in, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
}

std::ifstream open_or_fail(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) data_fail({path, 0}, "cannot open the file");
    return in;
}

}  // namespace

void split_by_order(HashedCriteo& d, const CtrLogOptions& o) {
    const long test = long(double(d.n) * o.test_fraction), valid = long(double(d.n) * o.valid_fraction);
    d.n_train = d.n - test - valid;
    d.n_valid = d.n - test;
}

HashedCriteo read_criteo_hashed(std::istream& in, const std::string& name, const CtrLogOptions& o) {
    if (o.buckets < 8) data_fail({name, 0}, "buckets must be >= 8");
    HashedCriteo d;
    d.buckets = o.buckets;
    std::string line;
    long line_no = 0;
    std::vector<std::string> field(kCriteoCats);
    for (int c = 0; c < kCriteoCats; ++c) field[size_t(c)] = "C" + std::to_string(c + 1);
    while ((o.max_rows <= 0 || d.n < o.max_rows) && next_line(in, line)) {
        const Where where{name, ++line_no};
        if (line_no == 1) {
            d.format = line.rfind("label", 0) == 0 ? CriteoFormat::CsvWithHeader : CriteoFormat::TsvNoHeader;
            if (d.format == CriteoFormat::CsvWithHeader) {
                check_criteo_header(line, where);
                continue;
            }
        }
        if (line.empty()) data_fail(where, "empty line");
        const CriteoRow row = parse_criteo_row(line, d.format, where, d.missing_cells);
        d.labels.push_back(row.label);
        for (int i = 0; i < kCriteoInts; ++i) {
            d.ids.push_back(std::min(criteo_int_bucket(row.ints[size_t(i)], row.int_missing[size_t(i)]), o.buckets - 1));
            d.dense.push_back(log_square(row.ints[size_t(i)], row.int_missing[size_t(i)]));
        }
        for (int c = 0; c < kCriteoCats; ++c) d.ids.push_back(hash_bucket(field[size_t(c)], row.cats[size_t(c)], o.buckets));
        ++d.n;
    }
    if (line_no == 0) data_fail({name, 0}, "file is empty");
    if (d.n == 0) data_fail({name, 0}, "no data rows");
    split_by_order(d, o);
    return d;
}

HashedCriteo load_criteo_hashed(const std::string& path, const CtrLogOptions& o) {
    std::ifstream in = open_or_fail(path);
    return read_criteo_hashed(in, path, o);
}

FieldPairWorld to_field_pairs(const HashedCriteo& d) {
    FieldPairWorld w;
    w.fields = w.signal_fields = kCriteoFields;
    w.values = d.buckets;
    w.n = int(d.n), w.n_train = int(d.n_train), w.n_valid = int(d.n_valid);
    w.cat = d.ids;
    w.labels = d.labels;
    return w;
}

CtrData to_ctr_data(const HashedCriteo& d) {
    CtrData c;
    c.num_fields = kCriteoFields;
    c.vocab_sizes.assign(size_t(kCriteoFields), d.buckets);
    c.cat = d.ids;
    c.tag_offsets.assign(size_t(d.n) + 1, 0);    // every tags bag empty
    c.num_tags = 1;
    c.numeric = Tensor({int(d.n), 1});           // z = 0
    c.labels = d.labels;
    for (float y : d.labels) c.base_rate += y / double(d.n);
    c.three_way = false;
    return c;
}

void read_ali_ccp(std::istream& in, const std::string& name, const AliCcpOptions& o, AliCcp& d) {
    std::string line;
    if (!next_line(in, line)) data_fail({name, 0}, "file is empty");
    const std::vector<std::string> header = split_csv(line, ',', {name, 1});
    if (d.columns.empty()) d.columns = header;
    if (header != d.columns) data_fail({name, 1}, "header differs from the first file's");
    if (header.size() < 3 || header[0] != "click" || header[1] != "purchase")
        data_fail({name, 1}, "header: expected click,purchase,<fields...>");
    int item_col = -1, dense = 0;
    for (size_t j = 2; j < header.size(); ++j) {
        if (header[j] == "205") item_col = int(j);
        dense += !header[j].empty() && header[j][0] == 'D';
    }
    if (item_col < 0) data_fail({name, 1}, "header: no item column 205");
    const int dim = dense + o.slots;
    std::vector<float> x;
    long line_no = 1;
    int rows = 0;
    while (next_line(in, line)) {
        const Where where{name, ++line_no};
        if (line.empty()) data_fail(where, "empty line");
        const std::vector<std::string> f = split_csv(line, ',', where);
        if (f.size() != header.size())
            data_fail(where, "expected " + std::to_string(header.size()) + " comma-separated fields, got " + std::to_string(f.size()));
        const int64_t click = parse_int(f[0], where, "click"), buy = parse_int(f[1], where, "purchase");
        if (click < 0 || click > 1 || buy < 0 || buy > 1) data_fail(where, "click and purchase must be 0 or 1");
        if (buy > click) data_fail(where, "a purchase without a click");
        std::vector<float> row(size_t(dim), 0.0f);
        int k = 0;
        for (size_t j = 2; j < header.size(); ++j)
            if (!header[j].empty() && header[j][0] == 'D') row[size_t(k++)] = float(parse_double(f[j], where, header[j].c_str()));
            else if (int(j) != item_col) row[size_t(dense) + fnv1a32(header[j] + ":" + f[j]) % uint32_t(o.slots)] += 1.0f;
        x.insert(x.end(), row.begin(), row.end());
        d.f.item.push_back(hash_bucket("205", f[size_t(item_col)], o.items));
        d.f.click.push_back(float(click)), d.f.purchase.push_back(float(buy)), d.f.daction.push_back(0.0f);
        ++rows;
    }
    if (rows == 0) data_fail({name, 0}, "no data rows");
    Tensor all({d.n + rows, dim});                // the rows read so far, then this file's
    std::copy(d.f.x.data(), d.f.x.data() + size_t(d.n) * size_t(dim), all.data());
    std::copy(x.begin(), x.end(), all.data() + size_t(d.n) * size_t(dim));
    d.f.x = all;
    d.n += rows;
}

AliCcp load_ali_ccp(const std::string& dir, const AliCcpOptions& o) {
    AliCcp d;
    for (const char* part : {"train", "val", "test"}) {
        const std::string path = join_path(dir, std::string("ali_ccp_") + part + "_sample.csv");
        std::ifstream in = open_or_fail(path);
        read_ali_ccp(in, path, o, d);
        if (std::string(part) == "train") d.n_train = d.n;
        if (std::string(part) == "val") d.n_valid = d.n;
    }
    return d;
}

}  // namespace datasets
}  // namespace minirec
