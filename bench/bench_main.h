// The one main() of every benchmark executable: Google Benchmark's own flags (--help lists them),
// and anything else refused before any benchmark runs, with exit 2 as the tutorials do (exit 1 is
// Google Benchmark's default). An exception from a benchmark body is one line and exit 1, never an
// abort. help: what --help prints (Google Benchmark's flags, and a benchmark's own if it has any).
#pragma once
#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>

namespace minirec {

inline int run_benchmarks(int argc, char** argv, void (*help)() = benchmark::PrintDefaultHelp) {
    try {
        benchmark::Initialize(&argc, argv, help);   // removes the flags it knows
        if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
        benchmark::RunSpecifiedBenchmarks();
        benchmark::Shutdown();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
        return 1;
    }
}

}  // namespace minirec
