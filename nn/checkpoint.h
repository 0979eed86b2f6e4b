// Checkpoints: named tensors (parameters, buffers, optimizer state) in a small versioned binary
// file with a checksum, written atomically. Loading validates the whole file against the model
// before it writes a single value, so a bad file leaves the model exactly as it was.
// Deliberately left out: compression, partial (non-strict) loading, big-endian hosts' native order
// (the format is little-endian everywhere; we encode bytes explicitly).
//
// Format, version 1 (all integers little-endian):
//   "MRCKPT\0\1"                    8-byte magic
//   u32 version, u32 entry count
//   per entry: u32 name length, name bytes (UTF-8), u32 rank, rank x i32 dims,
//              numel x f32 values (IEEE-754 bits as u32)
//   u32 FNV-1a (32-bit) of every byte before it
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/optim.h"
#include "nn/params.h"

namespace minirec {

struct CheckpointError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr unsigned kCheckpointVersion = 1;

// (name, tensor) pairs to save or to load into.
using TensorRefs = std::vector<std::pair<std::string, Tensor*>>;

// Writes the entries to `path` atomically (write_file_atomic: a temporary file in the same directory,
// fsync, rename): a crash never leaves a half-written checkpoint under the real name, and the
// previous file stays intact until the rename. Names must be distinct.
void save_tensors(const std::string& path, const TensorRefs& entries);
// Reads `path` and copies each entry into the tensor of the same name. Strict: the file must hold
// exactly these names with exactly these shapes. Throws CheckpointError (naming the file and the
// problem: truncated, bad checksum, unknown version, missing/extra name, wrong shape) before
// changing anything.
void load_tensors(const std::string& path, const TensorRefs& entries);

// The entries of a model (+ buffers, + one optimizer): "param:<name>", "buffer:<name>",
// "optim:<i>.<state>" (see Optimizer::state()). With several optimizers (GANs), concatenate
// optimizer_entries("optim_g:", g) and optimizer_entries("optim_d:", d) yourself.
TensorRefs checkpoint_entries(const NamedParams& params, const NamedBuffers& buffers = {},
                              Optimizer* opt = nullptr);
TensorRefs optimizer_entries(const std::string& prefix, Optimizer& opt);

// save_tensors / load_tensors of checkpoint_entries(params, buffers, opt).
void save_checkpoint(const std::string& path, const NamedParams& params, Optimizer* opt = nullptr,
                     const NamedBuffers& buffers = {});
void load_checkpoint(const std::string& path, const NamedParams& params, Optimizer* opt = nullptr,
                     const NamedBuffers& buffers = {});

// FNV-1a, 32 bits (Fowler-Noll-Vo): h = (h ^ byte) * 16777619 from h = 2166136261.
uint32_t fnv1a32(const unsigned char* data, size_t n);

}  // namespace minirec
