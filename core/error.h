// Errors that say what and where: "matmul: [32,64] x [16,8]: inner sizes 64 != 16".
// One exception type per kind of mistake, and two helpers to build messages.
// Deliberately left out: error codes, logging frameworks.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace minirec {

// A tensor had the wrong shape for the op that received it.
struct ShapeError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// An argument was out of range or otherwise invalid (not a shape problem).
struct ArgumentError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// "[32,64]" for the shape {32, 64}; "[]" for a scalar.
std::string shape_str(const std::vector<int>& shape);

// Throws ShapeError("op: [a] vs [b]: why") - the op name and both shapes, always.
[[noreturn]] void shape_fail(const char* op, const std::vector<int>& a, const std::vector<int>& b,
                             const std::string& why);

// Throws ShapeError("op: [a]: why") for ops with one operand.
[[noreturn]] void shape_fail(const char* op, const std::vector<int>& a, const std::string& why);

// Throws ArgumentError("op: why").
[[noreturn]] void arg_fail(const char* op, const std::string& why);

}  // namespace minirec
