// The command line of a tutorial: every chapter takes --help, --seed, --quick and --out, and
// registers only the other flags it really reads (so --data exists only where a chapter reads real
// data, and --epochs only where it trains for a number of epochs). Values are parsed strictly and
// checked before any work starts; a mistake is one line on stderr and exit code 2.
// Deliberately left out: short options, positional arguments, config files.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace minirec {

// A mistake in what the user typed (a flag, a value, a path): main() prints it and exits 2.
struct FlagError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// The values a numeric flag accepts, both ends included: at_least(1), between(0.0, 0.5).
struct Range {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false;   // true: lo itself is refused (above(0.0) for a learning rate)
};
inline Range at_least(double lo) { return Range{lo, std::numeric_limits<double>::infinity(), false}; }
inline Range above(double lo) { return Range{lo, std::numeric_limits<double>::infinity(), true}; }
inline Range between(double lo, double hi) { return Range{lo, hi, false}; }

// Usage, in a chapter's main():
//     Options o;                                          // the chapter's default run
//     Flags flags("ch68_mmoe", "MMoE vs Shared-Bottom as task correlation falls.");
//     flags.add("epochs", &o.epochs, "passes over the training data", at_least(1));
//     flags.on_quick([&] { o = quick_options(); });       // before the user's values are set
//     flags.parse_or_exit(argc, argv);
// Syntax: --name value or --name=value; a bool flag alone (--quick) means true.
class Flags {
public:
    Flags(std::string program, std::string description);

    uint64_t seed = 42;       // --seed: every random choice of the run derives from it
    bool quick = false;       // --quick: a seconds-long configuration for tests and CI
    std::string out;          // --out DIR: where CSV and SVG results go ("" = write nothing)

    void add(const std::string& name, int* target, const std::string& help, Range range = {});
    void add(const std::string& name, long* target, const std::string& help, Range range = {});
    void add(const std::string& name, uint64_t* target, const std::string& help);
    void add(const std::string& name, float* target, const std::string& help, Range range = {});
    void add(const std::string& name, double* target, const std::string& help, Range range = {});
    void add(const std::string& name, bool* target, const std::string& help);
    void add(const std::string& name, std::string* target, const std::string& help);

    // Runs when --quick is given, before the typed values are stored: it sets the quick
    // configuration, and whatever the user typed still wins (and is still checked).
    void on_quick(std::function<void()> set_quick_configuration);
    // Runs after parsing, before any work: checks that need several values, or that a --data path
    // exists and its first lines parse. It throws FlagError (or any exception) to refuse the run.
    void check(std::function<void()> validate);

    // Parses the arguments (without the program name). Returns false when --help was asked for;
    // throws FlagError for an unknown flag (listing the valid ones), a malformed or out-of-range
    // value, a positional argument, an --out directory that cannot be created or written, or a
    // failed check().
    bool parse(const std::vector<std::string>& args);
    // For main(): prints help and exits 0 on --help; prints "<program>: <error>" and exits 2.
    void parse_or_exit(int argc, char** argv);
    // True when the user typed --name (after parse).
    bool given(const std::string& name) const;
    std::string help() const;

private:
    enum class Type { i32, i64, u64, f32, f64, boolean, text };
    struct Flag {
        std::string name, help;
        Type type;
        void* target;
        Range range;
        bool given = false;
    };
    void add_flag(const std::string& name, Type type, void* target, const std::string& help, Range range);
    void set(Flag& f, const std::string& value);
    static std::string value_text(const Flag& f);
    std::string program_, description_;
    std::vector<Flag> flags_;
    std::vector<std::function<void()>> on_quick_, checks_;
};

// Registers --data PATH; when given, load(PATH) runs among the checks and whatever it throws becomes
// FlagError("--data PATH: <what>"), so a bad file stops the run before any work.
inline void add_data_flag(Flags& flags, std::string* path, const std::string& help, std::function<void(const std::string&)> load) {
    flags.add("data", path, help);
    flags.check([path, load] {
        try {
            if (!path->empty()) load(*path);
        } catch (const std::exception& e) {
            throw FlagError("--data " + *path + ": " + e.what());
        }
    });
}

// Creates `dir` (and its parents) and proves it writable by creating and removing a file in it;
// throws FlagError("--out DIR: ...") otherwise. Flags::parse calls it for --out.
void check_output_dir(const std::string& dir);

// main()'s frame: runs body and turns every exception into one line on stderr, so that nothing
// reaches std::terminate. FlagError -> "<program>: <message>", exit 2; anything else ->
// "<program>: error: <message>", exit 1. Returns body's exit code otherwise.
int guarded_main(const std::string& program, const std::function<int()>& body);

}  // namespace minirec
