#!/bin/sh
# minirec vs PyTorch eager, one thread each, on the five reference training steps: runs
# build/bench/bench_train_step and ../shared/reference/torch_ref.py in alternation (minirec,
# torch, minirec, torch, ...) so that both see the same machine load, then prints a Markdown table
# of the medians over the rounds and their ratio. A developer tool: it needs Debian's
# python3-torch (see ../shared/reference/README.md); CI never runs it.
#
#   bench/compare_torch.sh [ROUNDS]         (default 5)
#   BUILD=build-perf bench/compare_torch.sh 3
#
# The figure for one round is, on both sides, the median wall time of one step after warm-up:
# minirec's over the steps Google Benchmark runs in at least MIN_TIME seconds (its counter
# median_ms), torch's over STEPS steps (torch_ref.py's median_step_ms). A mean would count every
# preemption of a loaded machine, which for a step of a millisecond decides the figure.
set -eu

ROUNDS=${1:-5}
BUILD=${BUILD:-build}
MIN_TIME=${MIN_TIME:-1}
STEPS=${STEPS:-100}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=$HERE/$BUILD/bench/bench_train_step
REF=${TORCH_REF:-$HERE/../shared/reference/torch_ref.py}
PY=/usr/bin/python3   # Debian's python with torch, not the first python3 on PATH

[ -x "$BIN" ] || { echo "compare_torch.sh: $BIN not found (make BUILD=$BUILD bench)" >&2; exit 1; }
[ -f "$REF" ] || { echo "compare_torch.sh: $REF not found (set TORCH_REF)" >&2; exit 1; }

# One thread everywhere: OpenBLAS (torch's GEMM on Debian), OpenMP, and our single-threaded engine.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Debian 12's OpenBLAS (0.3.21) does not recognise newer AVX-512 Xeons (Sapphire Rapids) and falls
# back to its SSE3 "Prescott" kernels, which made torch's GEMMs three times slower than they can
# be. On an AVX-512 CPU we give it the kernels it would pick for Skylake-X, unless the caller set
# OPENBLAS_CORETYPE. The core torch used is printed under the table.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "round $r/$ROUNDS: minirec" >&2
    "$BIN" --benchmark_min_time="$MIN_TIME" --benchmark_format=csv 2>/dev/null > "$OUT/minirec_$r.csv"
    echo "round $r/$ROUNDS: torch" >&2
    "$PY" "$REF" --model all --threads 1 --steps "$STEPS" --warmup 20 --csv "$OUT/torch.csv" >/dev/null 2>&1
    r=$((r + 1))
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$OUT" "$ROUNDS" "$LOAD_BEFORE" "$LOAD_AFTER" <<'EOF'
import csv, glob, os, statistics, sys
out, rounds, load_before, load_after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
models = ["ctr_mlp", "mmoe", "autoint", "bert4rec", "two_tower"]
ours = {m: [] for m in models}
for path in sorted(glob.glob(os.path.join(out, "minirec_*.csv"))):
    lines = open(path).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("name,"))
    for row in csv.DictReader(lines[start:]):
        name = row["name"].split("/")[0]
        if name in ours:
            ours[name].append(float(row["median_ms"]))  # the median step, as torch_ref.py's
theirs = {m: [] for m in models}
cores = set()
for row in csv.DictReader(open(os.path.join(out, "torch.csv"))):
    theirs[row["model"]].append(float(row["median_step_ms"]))
    cores.add(row["openblas_core"])
print(f"| config | minirec ms/step | PyTorch ms/step | speed-up (PyTorch / minirec) |")
print(f"|---|---:|---:|---:|")
for m in models:
    a, b = statistics.median(ours[m]), statistics.median(theirs[m])
    print(f"| {m} | {a:.2f} | {b:.2f} | {b / a:.2f}x |")
print(f"\nmedians over {rounds} interleaved rounds, one thread each; "
      f"load average {load_before} before, {load_after} after; torch's OpenBLAS core: {', '.join(sorted(cores))}")
EOF
