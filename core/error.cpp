// Message builders for the exceptions in error.h.
#include "core/error.h"

namespace minirec {

std::string shape_str(const std::vector<int>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

void shape_fail(const char* op, const std::vector<int>& a, const std::vector<int>& b,
                const std::string& why) {
    throw ShapeError(std::string(op) + ": " + shape_str(a) + " vs " + shape_str(b) + ": " + why);
}

void shape_fail(const char* op, const std::vector<int>& a, const std::string& why) {
    throw ShapeError(std::string(op) + ": " + shape_str(a) + ": " + why);
}

void arg_fail(const char* op, const std::string& why) {
    throw ArgumentError(std::string(op) + ": " + why);
}

}  // namespace minirec
