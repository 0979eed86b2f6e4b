#!/usr/bin/env bash
# Every tutorial executable fails early and clearly on what a user can mistype: for each one,
#   --help                       exit 0, a usage line
#   --data /nonexistent/x        exit 2, one line naming --data (unknown flag, or the missing path)
#   --out <unwritable>           exit 2, one line naming --out
#   --seed ' -1', --seed 3x      exit 2, one line naming --seed (no wrap-round, no trailing junk)
#   --quick --epochs -3          exit 2 (refused or unknown; never run with a replaced value)
#   --bogus                      exit 2, the list of valid flags
# each within a second (the check comes before any work), and never an abort (exit 134).
# The benchmark executables (second argument) take Google Benchmark's flags: for each one,
#   --help                       exit 0, Google Benchmark's usage
#   --bogus                      exit 2, one line naming --bogus, before any benchmark runs
# and bench_train_step's own --batch=N (read before Google Benchmark sees the flags):
#   --help                       also lists --batch
#   --batch=0, =3x, =-1, bare    exit 2, one line naming --batch, before any benchmark runs
# Usage: tests/cli/check_executables.sh build/tutorials [build/bench]
set -uo pipefail
dir=${1:-build/tutorials}
bench_dir=${2:-}
fails=0; count=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
blocker="$tmp/file"; echo x > "$blocker"           # --out under a regular file cannot be created

expect() {   # expect <exe> <want-rc> <want-in-message> args...
    local exe=$1 want=$2 text=$3; shift 3
    local t0 t1 rc ms
    t0=$(date +%s%N)
    timeout 10 "$exe" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    t1=$(date +%s%N); ms=$(( (t1 - t0) / 1000000 ))
    local msg; msg=$(cat "$tmp/err" "$tmp/out" | head -c 400)
    local ok=1
    [ "$rc" = "$want" ] || ok=0
    grep -qF -- "$text" "$tmp/err" "$tmp/out" || ok=0
    [ "$ms" -le 1000 ] || ok=0
    if [ "$want" = 2 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then ok=0; fi
    count=$((count + 1))
    if [ $ok = 0 ]; then
        fails=$((fails + 1))
        echo "FAIL $(basename "$exe") $*: exit $rc (want $want), ${ms} ms, message: ${msg}"
    fi
}

for exe in "$dir"/*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    expect "$exe" 0 "usage:" --help
    expect "$exe" 2 "--data" --data /nonexistent/x
    expect "$exe" 2 "--out" --out "$blocker/sub"
    expect "$exe" 2 "--seed" --seed ' -1'
    expect "$exe" 2 "--seed" --seed 3x
    expect "$exe" 2 "--epochs" --quick --epochs -3
    expect "$exe" 2 "--bogus" --bogus 1
done
if [ -n "$bench_dir" ]; then
    for exe in "$bench_dir"/*; do
        [ -f "$exe" ] && [ -x "$exe" ] || continue
        expect "$exe" 0 "--benchmark_filter" --help
        expect "$exe" 2 "--bogus" --bogus
        expect "$exe" 2 "--bogus" --benchmark_filter=nothing --bogus
        if [ "$(basename "$exe")" = bench_train_step ]; then
            expect "$exe" 0 "--batch" --help
            expect "$exe" 2 "--batch" --batch=0
            expect "$exe" 2 "--batch" --batch=3x
            expect "$exe" 2 "--batch" --batch=-1
            expect "$exe" 2 "--batch" --benchmark_filter=nothing --batch
        fi
    done
fi
[ "$count" -gt 0 ] || { echo "no executables in $dir"; exit 1; }
echo "cli checks: $count run, $fails failed"
[ "$fails" -eq 0 ]
