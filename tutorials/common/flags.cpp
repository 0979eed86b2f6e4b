// The tutorials' command line: strict parsing, ranges, --out checked at once, and main()'s frame.
#include "tutorials/common/flags.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace minirec {

Flags::Flags(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {
    add("seed", &seed, "random seed: every random choice of the run derives from it");
    add("quick", &quick, "a seconds-long configuration (tests, CI)");
    add("out", &out, "directory for CSV and SVG results, created if missing (empty: write nothing)");
}

void Flags::add_flag(const std::string& name, Type type, void* target, const std::string& help, Range range) {
    if (name.empty() || name[0] == '-') throw std::logic_error("Flags::add: give the name without dashes: '" + name + "'");
    for (const Flag& f : flags_)
        if (f.name == name) throw std::logic_error("Flags::add: --" + name + " is registered twice");
    flags_.push_back({name, help, type, target, range});
}

void Flags::add(const std::string& n, int* t, const std::string& h, Range r) { add_flag(n, Type::i32, t, h, r); }
void Flags::add(const std::string& n, long* t, const std::string& h, Range r) { add_flag(n, Type::i64, t, h, r); }
void Flags::add(const std::string& n, uint64_t* t, const std::string& h) { add_flag(n, Type::u64, t, h, {}); }
void Flags::add(const std::string& n, float* t, const std::string& h, Range r) { add_flag(n, Type::f32, t, h, r); }
void Flags::add(const std::string& n, double* t, const std::string& h, Range r) { add_flag(n, Type::f64, t, h, r); }
void Flags::add(const std::string& n, bool* t, const std::string& h) { add_flag(n, Type::boolean, t, h, {}); }
void Flags::add(const std::string& n, std::string* t, const std::string& h) { add_flag(n, Type::text, t, h, {}); }

void Flags::on_quick(std::function<void()> f) { on_quick_.push_back(std::move(f)); }
void Flags::check(std::function<void()> f) { checks_.push_back(std::move(f)); }

std::string Flags::value_text(const Flag& f) {
    char b[32];
    switch (f.type) {
        case Type::i32: return std::to_string(*static_cast<int*>(f.target));
        case Type::i64: return std::to_string(*static_cast<long*>(f.target));
        case Type::u64: return std::to_string(*static_cast<uint64_t*>(f.target));
        case Type::f32: std::snprintf(b, sizeof b, "%g", double(*static_cast<float*>(f.target))); return b;
        case Type::f64: std::snprintf(b, sizeof b, "%g", *static_cast<double*>(f.target)); return b;
        case Type::boolean: return *static_cast<bool*>(f.target) ? "true" : "false";
        case Type::text: return "\"" + *static_cast<std::string*>(f.target) + "\"";
    }
    return "";
}

static std::string range_text(const Range& r) {
    char b[96];
    const bool lo = std::isfinite(r.lo), hi = std::isfinite(r.hi);
    if (lo && hi) std::snprintf(b, sizeof b, "between %g and %g", r.lo, r.hi);
    else if (lo) std::snprintf(b, sizeof b, r.lo_open ? "above %g" : "at least %g", r.lo);
    else if (hi) std::snprintf(b, sizeof b, "at most %g", r.hi);
    else return "";
    return b;
}

// Parses the whole string strictly or throws naming the flag: no surrounding spaces (strtoll would
// skip them, and " -1" would wrap round to 2^64 - 1 in an unsigned flag), no trailing junk, no
// sign on an unsigned value, and the value inside the flag's range.
void Flags::set(Flag& f, const std::string& v) {
    const std::string where = "--" + f.name + ": ";
    auto bad = [&](const std::string& expected) { throw FlagError(where + "expected " + expected + ", got '" + v + "'"); };
    const bool clean = !v.empty() && !std::isspace(static_cast<unsigned char>(v.front())) &&
                       !std::isspace(static_cast<unsigned char>(v.back()));
    auto in_range = [&](double x) {
        const Range& r = f.range;
        if (x < r.lo || (r.lo_open && x == r.lo) || x > r.hi) bad("a value " + range_text(r));
    };
    char* end = nullptr;
    errno = 0;
    switch (f.type) {
        case Type::i32: case Type::i64: {
            const long long x = clean ? std::strtoll(v.c_str(), &end, 10) : 0;
            if (!clean || *end || errno == ERANGE) bad("an integer");
            if (f.type == Type::i32 && (x < -2147483648LL || x > 2147483647LL)) bad("an integer that fits in 32 bits");
            in_range(double(x));
            if (f.type == Type::i32) *static_cast<int*>(f.target) = static_cast<int>(x);
            else *static_cast<long*>(f.target) = static_cast<long>(x);
            break;
        }
        case Type::u64: {
            if (!clean || !std::isdigit(static_cast<unsigned char>(v[0]))) bad("a non-negative integer");
            const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
            if (*end || errno == ERANGE) bad("a non-negative integer below 2^64");
            *static_cast<uint64_t*>(f.target) = static_cast<uint64_t>(x);
            break;
        }
        case Type::f32: case Type::f64: {
            const double x = clean ? std::strtod(v.c_str(), &end) : 0.0;
            if (!clean || *end || errno == ERANGE || !std::isfinite(x)) bad("a finite number");
            in_range(x);
            if (f.type == Type::f32) *static_cast<float*>(f.target) = static_cast<float>(x);
            else *static_cast<double*>(f.target) = x;
            break;
        }
        case Type::boolean:
            if (v == "true" || v == "1" || v == "yes") *static_cast<bool*>(f.target) = true;
            else if (v == "false" || v == "0" || v == "no") *static_cast<bool*>(f.target) = false;
            else bad("true or false");
            break;
        case Type::text: *static_cast<std::string*>(f.target) = v; break;
    }
    f.given = true;
}

bool Flags::parse(const std::vector<std::string>& args) {
    // --help wins wherever it is, before any value changes (so help shows the defaults).
    for (const std::string& a : args)
        if (a == "--help" || a == "-h") return false;
    // Pass 1: split into (flag, value) pairs, so that --quick can set the quick configuration
    // before any typed value is stored: what the user typed always wins, under --quick too.
    std::vector<std::pair<Flag*, std::string>> typed;
    bool quick_typed = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() < 3 || a.compare(0, 2, "--") != 0)
            throw FlagError("unexpected argument '" + a + "' (flags look like --name value; see --help)");
        const size_t eq = a.find('=');
        const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        Flag* flag = nullptr;
        for (Flag& f : flags_)
            if (f.name == name) flag = &f;
        if (!flag) {
            std::vector<std::string> names;
            for (const Flag& f : flags_) names.push_back("--" + f.name);
            std::sort(names.begin(), names.end());
            std::string list;
            for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
            throw FlagError("unknown flag --" + name + " (this chapter takes " + list + ", --help)");
        }
        std::string value;
        if (eq != std::string::npos) value = a.substr(eq + 1);
        else if (flag->type == Type::boolean) value = "true";      // --quick alone means true
        else if (i + 1 >= args.size()) throw FlagError("--" + name + ": missing value");
        else value = args[++i];
        if (flag->target == &quick) {
            set(*flag, value);
            quick_typed = quick;
        } else {
            typed.emplace_back(flag, value);
        }
    }
    if (quick_typed)
        for (auto& f : on_quick_) f();
    for (auto& [flag, value] : typed) set(*flag, value);
    if (!out.empty()) check_output_dir(out);
    for (auto& c : checks_) c();
    return true;
}

bool Flags::given(const std::string& name) const {
    for (const Flag& f : flags_)
        if (f.name == name) return f.given;
    return false;
}

void Flags::parse_or_exit(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!parse(args)) {
            std::cout << help();
            std::exit(0);
        }
    } catch (const std::exception& e) {
        std::cerr << program_ << ": " << e.what() << "\n";
        std::exit(2);
    }
}

std::string Flags::help() const {
    std::string s = "usage: " + program_ + " [flags]\n" + description_ + "\n\nflags:\n";
    for (const Flag& f : flags_) {
        std::string left = "  --" + f.name + (f.type == Type::boolean ? "" : " VALUE");
        left.resize(std::max<size_t>(left.size() + 2, 22), ' ');
        const std::string r = range_text(f.range);
        s += left + f.help + " (default " + value_text(f) + (r.empty() ? "" : "; " + r) + ")\n";
    }
    return s + "  --help              print this help and exit\n";
}

void check_output_dir(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw FlagError("--out " + dir + ": cannot create the directory: " + ec.message());
    if (!fs::is_directory(dir, ec)) throw FlagError("--out " + dir + ": not a directory");
    const std::string probe = (fs::path(dir) / ".minirec-write-test").string();
    {
        std::ofstream f(probe);
        if (!(f << "ok") || !(f.flush())) throw FlagError("--out " + dir + ": the directory is not writable");
    }
    fs::remove(probe, ec);
}

int guarded_main(const std::string& program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const FlagError& e) {
        std::cerr << program << ": " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": error: " << e.what() << "\n";
        return 1;
    } catch (...) {
        std::cerr << program << ": error: unknown exception\n";
        return 1;
    }
}

}  // namespace minirec
