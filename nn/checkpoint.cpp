// Checkpoint writing and reading. The reader parses the whole file into a list of entries,
// checks every length against the bytes that remain, the checksum and the model's names and
// shapes, and only then copies values: all or nothing.
#include "nn/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "core/atomic_file.h"

namespace minirec {

namespace {

const unsigned char kMagic[8] = {'M', 'R', 'C', 'K', 'P', 'T', 0, 1};

void put_u32(std::vector<unsigned char>& b, uint32_t v) {
    for (int k = 0; k < 4; ++k) b.push_back(static_cast<unsigned char>(v >> (8 * k)));
}

uint32_t get_u32(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

[[noreturn]] void fail(const std::string& path, const std::string& why) {
    throw CheckpointError("checkpoint '" + path + "': " + why);
}

// One entry as found in the file: where its values start (they are copied only at the end).
struct Parsed {
    std::string name;
    Shape shape;
    const unsigned char* values;
};

// Reads past each field, failing with the entry's number when the file ends too early.
class Reader {
public:
    Reader(const std::string& path, const unsigned char* p, size_t n) : path_(path), p_(p), left_(n) {}
    const unsigned char* take(size_t n, const std::string& what) {
        if (n > left_)
            fail(path_, "truncated or corrupted: " + what + " needs " + std::to_string(n) + " bytes, only " +
                            std::to_string(left_) + " remain");
        const unsigned char* q = p_;
        p_ += n;
        left_ -= n;
        return q;
    }
    uint32_t u32(const std::string& what) { return get_u32(take(4, what)); }
    size_t left() const { return left_; }
private:
    const std::string& path_;
    const unsigned char* p_;
    size_t left_;
};

}  // namespace

uint32_t fnv1a32(const unsigned char* data, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 16777619u;
    return h;
}

void save_tensors(const std::string& path, const TensorRefs& entries) {
    std::set<std::string> names;
    for (const auto& e : entries)
        if (!names.insert(e.first).second) fail(path, "entry name '" + e.first + "' appears twice");
    std::vector<unsigned char> b(kMagic, kMagic + 8);
    put_u32(b, kCheckpointVersion);
    put_u32(b, static_cast<uint32_t>(entries.size()));
    for (const auto& [name, t] : entries) {
        put_u32(b, static_cast<uint32_t>(name.size()));
        b.insert(b.end(), name.begin(), name.end());
        put_u32(b, static_cast<uint32_t>(t->rank()));
        for (int d : t->shape()) put_u32(b, static_cast<uint32_t>(d));
        for (size_t i = 0; i < t->size(); ++i) {
            uint32_t bits;
            std::memcpy(&bits, t->data() + i, 4);  // the exact IEEE-754 bits: a bit-exact round trip
            put_u32(b, bits);
        }
    }
    put_u32(b, fnv1a32(b.data(), b.size()));

    // Atomic replace: a temporary file next to the target, flushed to disk, renamed (core/atomic_file.h).
    try {
        write_file_atomic(path, b.data(), b.size());
    } catch (const std::runtime_error& e) {
        fail(path, e.what());
    }
}

void load_tensors(const std::string& path, const TensorRefs& entries) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open for reading");
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    // 1. Header. A file shorter than the magic is "truncated" when what it has is the magic's start.
    if (bytes.empty()) fail(path, "empty file (0 bytes)");
    if (std::memcmp(bytes.data(), kMagic, std::min<size_t>(8, bytes.size())) != 0)
        fail(path, "not a minirec checkpoint (bad magic bytes)");
    if (bytes.size() < 20) fail(path, "truncated: " + std::to_string(bytes.size()) + " bytes is shorter than the header");
    Reader r(path, bytes.data() + 8, bytes.size() - 8 - 4);  // the last 4 bytes are the checksum
    const uint32_t version = r.u32("version");
    if (version != kCheckpointVersion)
        fail(path, "format version " + std::to_string(version) + ", this build reads version " +
                       std::to_string(kCheckpointVersion));
    const uint32_t count = r.u32("entry count");

    // 2. Structure: every length checked against what remains, before any allocation it implies.
    std::vector<Parsed> parsed;
    for (uint32_t e = 0; e < count; ++e) {
        const std::string what = "entry " + std::to_string(e);
        const uint32_t name_len = r.u32(what + " name length");
        const unsigned char* name = r.take(name_len, what + " name");
        Parsed p{std::string(reinterpret_cast<const char*>(name), name_len), {}, nullptr};
        const uint32_t rank = r.u32(what + " rank");
        if (rank > 4) fail(path, "corrupted: " + what + " ('" + p.name + "') has rank " + std::to_string(rank));
        size_t n = 1;
        for (uint32_t k = 0; k < rank; ++k) {
            const int32_t d = static_cast<int32_t>(r.u32(what + " shape"));
            if (d < 0) fail(path, "corrupted: entry '" + p.name + "' has a negative dimension");
            p.shape.push_back(d);
            // Saturate instead of overflowing: any n above what remains is reported below.
            const size_t cap = r.left() / 4 + 1;
            n = (n >= cap && d != 0) ? cap : std::min(cap, n * static_cast<size_t>(d));
        }
        const std::string values = "the values of entry '" + p.name + "' " + shape_str(p.shape);
        if (n > r.left() / 4)
            fail(path, "truncated or corrupted: " + values + " need more than the " + std::to_string(r.left()) +
                           " bytes that remain");
        p.values = r.take(n * 4, values);
        parsed.push_back(std::move(p));
    }
    if (r.left() != 0)
        fail(path, "corrupted: " + std::to_string(r.left()) + " unexpected byte(s) after the entries (trailing data?)");

    // 3. Checksum over everything before the last 4 bytes.
    const uint32_t stored = get_u32(bytes.data() + bytes.size() - 4);
    const uint32_t computed = fnv1a32(bytes.data(), bytes.size() - 4);
    if (stored != computed) fail(path, "checksum mismatch: the file is corrupted");

    // 4. Names and shapes against the model: strict, and every problem listed at once.
    std::map<std::string, const Parsed*> by_name;
    for (const Parsed& p : parsed)
        if (!by_name.emplace(p.name, &p).second) fail(path, "entry '" + p.name + "' appears twice");
    std::string problems;
    std::set<std::string> wanted;
    for (const auto& [name, t] : entries) {
        wanted.insert(name);
        auto it = by_name.find(name);
        if (it == by_name.end()) problems += "\n  missing entry '" + name + "'";
        else if (it->second->shape != t->shape())
            problems += "\n  entry '" + name + "': file has " + shape_str(it->second->shape) + ", model has " +
                        shape_str(t->shape());
    }
    for (const Parsed& p : parsed)
        if (!wanted.count(p.name)) problems += "\n  file has entry '" + p.name + "' that the model does not";
    if (!problems.empty()) fail(path, "does not match the model (nothing was loaded):" + problems);

    // 5. Only now write into the model.
    for (const auto& [name, t] : entries) {
        const Parsed& p = *by_name.at(name);
        for (size_t i = 0; i < t->size(); ++i) {
            const uint32_t bits = get_u32(p.values + 4 * i);
            std::memcpy(t->data() + i, &bits, 4);
        }
    }
}

TensorRefs optimizer_entries(const std::string& prefix, Optimizer& opt) {
    TensorRefs out;
    for (auto& [name, t] : opt.state()) out.emplace_back(prefix + name, t);
    return out;
}

TensorRefs checkpoint_entries(const NamedParams& params, const NamedBuffers& buffers, Optimizer* opt) {
    TensorRefs out;
    for (const auto& [name, v] : params) {
        Var handle = v;  // a shared handle: value_mut() points into the layer's own node
        out.emplace_back("param:" + name, &handle.value_mut());
    }
    for (const auto& [name, t] : buffers) out.emplace_back("buffer:" + name, t);
    if (opt)
        for (auto& e : optimizer_entries("optim:", *opt)) out.push_back(e);
    return out;
}

void save_checkpoint(const std::string& path, const NamedParams& params, Optimizer* opt, const NamedBuffers& buffers) {
    save_tensors(path, checkpoint_entries(params, buffers, opt));
}

void load_checkpoint(const std::string& path, const NamedParams& params, Optimizer* opt, const NamedBuffers& buffers) {
    load_tensors(path, checkpoint_entries(params, buffers, opt));
}

}  // namespace minirec
