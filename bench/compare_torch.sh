#!/bin/sh
# minirec vs PyTorch eager, one thread each, on the five reference training steps at a sweep of
# batch sizes (issue 17): runs build/bench/bench_train_step --batch=N and bench/torch_batch.py
# --batch N (which times ../shared/reference/torch_ref.py's models at that batch) in alternation -
# round 1: minirec at 32, torch at 32, minirec at 128, torch at 128, ...; round 2: the same - so
# that both sides see the same machine load, then prints one Markdown table per batch size of the
# medians over the rounds and their ratio. bert4rec runs up to batch 512 only: beyond, one step
# (B x 50 tokens) takes seconds on both sides and the sweep hours. A developer tool: it needs
# Debian's python3-torch (see ../shared/reference/README.md); CI never runs it.
#
#   bench/compare_torch.sh [ROUNDS]               (default 5; batches 32 128 512 1024 4096)
#   BATCHES="32 4096" bench/compare_torch.sh 3    (any batch sizes, 1 to 16384)
#   BATCHES=ref bench/compare_torch.sh 5          (each configuration at its own batch - 256, 256,
#                                                  256, 128, 512 - the table of before the sweep)
#   BUILD=build-perf bench/compare_torch.sh 3
#   MIN_TIME=0.1 STEPS=10 BATCHES="32 1024" bench/compare_torch.sh 1    (a smoke test, seconds)
#
# The figure for one round is, on both sides, the median wall time of one step after warm-up:
# minirec's over the steps Google Benchmark runs in at least MIN_TIME seconds (its counter
# median_ms), torch's over STEPS steps (torch_ref.py's median_step_ms). A mean would count every
# preemption of a loaded machine, which for a step of a millisecond decides the figure.
set -eu

ROUNDS=${1:-5}
BATCHES=${BATCHES:-32 128 512 1024 4096}
B4R_MAX=512   # bert4rec's largest batch in the sweep
BUILD=${BUILD:-build}
MIN_TIME=${MIN_TIME:-1}
STEPS=${STEPS:-100}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=$HERE/$BUILD/bench/bench_train_step
REF=${TORCH_REF:-$HERE/../shared/reference/torch_ref.py}
DRIVER=$HERE/bench/torch_batch.py
PY=/usr/bin/python3   # Debian's python with torch, not the first python3 on PATH

[ -x "$BIN" ] || { echo "compare_torch.sh: $BIN not found (make BUILD=$BUILD bench)" >&2; exit 1; }
[ -f "$REF" ] || { echo "compare_torch.sh: $REF not found (set TORCH_REF)" >&2; exit 1; }
for b in $BATCHES; do
    case $b in
        ref) ;;
        '' | 0* | *[!0-9]*) echo "compare_torch.sh: BATCHES: '$b' is neither a batch size nor ref" >&2; exit 2 ;;
    esac
done

# One thread everywhere: OpenBLAS (torch's GEMM on Debian), OpenMP, and our single-threaded engine.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Debian 12's OpenBLAS (0.3.21) does not recognise newer AVX-512 Xeons (Sapphire Rapids) and falls
# back to its SSE3 "Prescott" kernels, which made torch's GEMMs three times slower than they can
# be. On an AVX-512 CPU we give it the kernels it would pick for Skylake-X, unless the caller set
# OPENBLAS_CORETYPE. The core torch used is printed under the tables.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# run CMD...: quiet, but a failing command's messages are shown before the script stops.
run() {
    "$@" 2>"$OUT/err" || { cat "$OUT/err" >&2; echo "compare_torch.sh: failed: $*" >&2; exit 1; }
}

# The configurations at batch $1, comma-separated.
models_at() {
    if [ "$1" != ref ] && [ "$1" -gt "$B4R_MAX" ]; then
        echo ctr_mlp,mmoe,autoint,two_tower
    else
        echo ctr_mlp,mmoe,autoint,bert4rec,two_tower
    fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for b in $BATCHES; do
        models=$(models_at "$b")
        if [ "$b" = ref ]; then ours="" theirs=""; else ours="--batch=$b" theirs="--batch $b"; fi
        echo "round $r/$ROUNDS, batch $b: minirec" >&2
        run "$BIN" $ours --benchmark_filter="^($(echo "$models" | tr , '|'))/" \
            --benchmark_min_time="$MIN_TIME" --benchmark_format=csv > "$OUT/minirec_${b}_$r.csv"
        echo "round $r/$ROUNDS, batch $b: torch" >&2
        run "$PY" "$DRIVER" --ref "$REF" $theirs --model "$models" --threads 1 --steps "$STEPS" \
            --warmup 20 --csv "$OUT/torch_$b.csv" >/dev/null
    done
    r=$((r + 1))
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$OUT" "$ROUNDS" "$LOAD_BEFORE" "$LOAD_AFTER" $BATCHES <<'EOF'
import csv, glob, os, statistics, sys
out, rounds, load_before, load_after, batches = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
models = ["ctr_mlp", "mmoe", "autoint", "bert4rec", "two_tower"]
cores = set()


def minirec_rows(b):
    """{config: [bench_train_step's CSV row of each round at batch b]}"""
    rows = {}
    for path in sorted(glob.glob(os.path.join(out, f"minirec_{b}_*.csv"))):
        lines = open(path).read().splitlines()
        start = next(i for i, l in enumerate(lines) if l.startswith("name,"))
        for row in csv.DictReader(lines[start:]):
            rows.setdefault(row["name"].split("/")[0], []).append(row)
    return rows


def medians(b):
    """{config: ([minirec median_ms per round], [torch median_step_ms per round], batch)}"""
    got = {m: ([float(r["median_ms"]) for r in rows], [], int(float(rows[0]["batch"])))
           for m, rows in minirec_rows(b).items()}
    for row in csv.DictReader(open(os.path.join(out, f"torch_{b}.csv"))):
        got[row["model"]][1].append(float(row["median_step_ms"]))
        cores.add(row["openblas_core"])
        if int(row["batch"]) != got[row["model"]][2]:  # both sides must have run the same work
            sys.exit(f"{row['model']}: torch at batch {row['batch']}, minirec at {got[row['model']][2]}")
    return got


for b in batches:
    got = medians(b)
    print(f"\n**batch {b}**\n" if b != "ref" else "\n**each configuration at its own batch**\n")
    print("| config | minirec ms/step | PyTorch ms/step | speed-up (PyTorch / minirec) |")
    print("|---|---:|---:|---:|")
    for m in (m for m in models if m in got):
        ours, theirs, batch = got[m]
        a, t = statistics.median(ours), statistics.median(theirs)
        name = m if b != "ref" else f"{m} (batch {batch})"
        print(f"| {name} | {a:.2f} | {t:.2f} | {t / a:.2f}x |")
# Where minirec's step goes at its largest batch of the sweep (bert4rec's stops at 512): the GEMM
# counters bench_train_step takes over a few extra steps (its GEMM entry points wrapped to add up
# FLOPs and time).
numeric = sorted((b for b in batches if b != "ref"), key=int, reverse=True) or ["ref"]
print("\n**minirec's GEMMs at each configuration's largest batch**" if numeric != ["ref"]
      else "\n**minirec's GEMMs at each configuration's own batch**")
print("\n| config | batch | step ms | GEMM GFLOP/step | GEMM ms/step | GEMM GFLOP/s | step / GEMM time |")
print("|---|---:|---:|---:|---:|---:|---:|")
by_batch = {b: minirec_rows(b) for b in numeric}
for m in models:
    b = next((b for b in numeric if m in by_batch[b]), None)
    if b is None:
        continue
    rows = by_batch[b][m]
    med = lambda k: statistics.median(float(r[k]) for r in rows)
    step, gemm, gflop = med("step_ms"), med("gemm_ms"), med("gemm_gflop")
    print(f"| {m} | {int(float(rows[0]['batch']))} | {step:.2f} | {gflop:.3f} | {gemm:.2f} | {gflop / gemm * 1e3:.0f} | {step / gemm:.2f}x |")
print(f"\nmedians over {rounds} interleaved rounds, one thread each; "
      f"load average {load_before} before, {load_after} after; torch's OpenBLAS core: {', '.join(sorted(cores))}")
EOF
