#!/usr/bin/env bash
# The Makefile's OpenBLAS detection, tried on fake include trees (no container needed): Debian's
# reference BLAS only (a cblas.h without openblas_set_num_threads), OpenBLAS (its own directory
# with openblas_config.h, as libopenblas-dev installs it), OpenBLAS found through pkg-config, and
# neither. For each we check what `make blas-info` and `make -n bench` choose; in the reference-only
# and neither cases `make bench` must compile and link bench_gemm, and with the fake OpenBLAS
# headers bench_gemm.cpp must compile against them (not linked: the fake has no library).
# The real system's pkg-config files are hidden (PKG_CONFIG_LIBDIR) so only the fake trees count.
# The benchmarks are built in a directory of their own (build-blascheck) but link the library of the
# normal build (build/libminirec.a, which make test has built in CI): LIB=... LIB_OBJS= on make's
# command line, so the library is not compiled a second time. Only bench_gemm is built: it is the
# one executable that the detection changes.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=build-blascheck            # a build directory of its own for the benchmarks
lib=build/libminirec.a           # the normal build's library, reused (built here if missing)
fails=0
ok()   { echo "  ok: $*"; }
bad()  { echo "  FAIL: $*"; fails=$((fails + 1)); }

# Debian's reference BLAS: /usr/include/x86_64-linux-gnu/cblas.h -> cblas-netlib.h (alternatives).
make_reference() {
    local inc="$1/usr/include/x86_64-linux-gnu"
    mkdir -p "$inc"
    printf '/* netlib reference CBLAS: no openblas_set_num_threads */\nvoid cblas_sgemm(void);\n' > "$inc/cblas-netlib.h"
    ln -s cblas-netlib.h "$inc/cblas.h"
}
# libopenblas-pthread-dev: its headers in openblas-pthread/, cblas.h also linked into the arch dir.
# The fake declares just what bench_gemm.cpp uses, so the comparator compiles against it.
make_openblas() {
    local inc="$1/usr/include/x86_64-linux-gnu"
    mkdir -p "$inc/openblas-pthread"
    cat > "$inc/openblas-pthread/cblas.h" <<'EOF'
/* fake OpenBLAS cblas.h for .ci/check-blas-detection.sh */
#include "openblas_config.h"
#ifdef __cplusplus
extern "C" {
#endif
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
void openblas_set_num_threads(int num_threads);
void cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);
#ifdef __cplusplus
}
#endif
EOF
    echo '#define OPENBLAS_VERSION " OpenBLAS 0.0.0-fake "' > "$inc/openblas-pthread/openblas_config.h"
    ln -sf openblas-pthread/cblas.h "$inc/cblas.h"
}

# detect ROOT PCDIR: what make reports, with the fixed places under ROOT and pkg-config seeing only PCDIR.
detect() { PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$2" make --no-print-directory blas-info BLAS_ROOT="$1"; }
# make ROOT PCDIR args...: make in $build with the fake trees, linking the prebuilt library.
mk() { local root=$1 pc=$2; shift 2
       PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$pc" make --no-print-directory BLAS_ROOT="$root" BUILD="$build" \
           LIB="$lib" LIB_OBJS= "$@"; }
bench_cmds() { rm -rf "$build/bench"; mk "$1" "$2" -n bench | grep bench_gemm || true; }
bench_build() {
    rm -rf "$build/bench"
    mk "$1" "$2" "$build/bench/bench_gemm" > "$tmp/bench.log" 2>&1 || { tail -n 20 "$tmp/bench.log"; return 1; }
}

mkdir -p "$tmp/nopc" "$tmp/pc"
echo "the library: $lib (make lib: up to date after make test)"
make --no-print-directory -j2 lib > "$tmp/lib.log" 2>&1 || { tail -n 20 "$tmp/lib.log"; exit 1; }
have_benchmark=1
[ -f /usr/include/benchmark/benchmark.h ] || { have_benchmark=0; bad "Google Benchmark (libbenchmark-dev) is missing: make bench cannot be tried"; }

echo "case 1: only the reference BLAS (cblas.h, no OpenBLAS)"
make_reference "$tmp/ref"
[ "$(detect "$tmp/ref" "$tmp/nopc")" = "openblas: none" ] && ok "detected none" || bad "detected: $(detect "$tmp/ref" "$tmp/nopc")"
bench_cmds "$tmp/ref" "$tmp/nopc" | grep -q -- '-DMINIREC_HAVE_OPENBLAS\|-lopenblas' && bad "make -n bench uses OpenBLAS" || ok "make -n bench leaves OpenBLAS out"
if [ $have_benchmark = 1 ]; then bench_build "$tmp/ref" "$tmp/nopc" && ok "bench_gemm compiles and links (the bench rules)" || bad "bench_gemm failed to build"; fi

echo "case 2: neither"
mkdir -p "$tmp/none/usr/include"
[ "$(detect "$tmp/none" "$tmp/nopc")" = "openblas: none" ] && ok "detected none" || bad "detected: $(detect "$tmp/none" "$tmp/nopc")"
bench_cmds "$tmp/none" "$tmp/nopc" | grep -q -- '-DMINIREC_HAVE_OPENBLAS\|-lopenblas' && bad "make -n bench uses OpenBLAS" || ok "make -n bench leaves OpenBLAS out"
if [ $have_benchmark = 1 ]; then bench_build "$tmp/none" "$tmp/nopc" && ok "bench_gemm compiles and links (the bench rules)" || bad "bench_gemm failed to build"; fi

echo "case 3: OpenBLAS headers (and the reference BLAS beside them)"
make_reference "$tmp/ob"
make_openblas "$tmp/ob"
want="$tmp/ob/usr/include/x86_64-linux-gnu/openblas-pthread"
[ "$(detect "$tmp/ob" "$tmp/nopc")" = "openblas: $want" ] && ok "detected $want" || bad "detected: $(detect "$tmp/ob" "$tmp/nopc")"
cmds=$(bench_cmds "$tmp/ob" "$tmp/nopc")
echo "$cmds" | grep -q -- "-DMINIREC_HAVE_OPENBLAS -I$want" && ok "make -n bench compiles against $want" || bad "make -n bench: $cmds"
echo "$cmds" | grep -q -- "-lopenblas" && ok "make -n bench links -lopenblas" || bad "make -n bench does not link OpenBLAS"
if [ $have_benchmark = 1 ]; then
    rm -rf "$build/bench"
    mk "$tmp/ob" "$tmp/nopc" "$build/bench/bench_gemm.o" > "$tmp/ob.log" 2>&1 \
        && ok "bench_gemm.cpp compiles against the (fake) OpenBLAS headers" || { tail -n 20 "$tmp/ob.log"; bad "bench_gemm.o"; }
fi

echo "case 4: OpenBLAS found through pkg-config only (the fixed places hold nothing)"
make_openblas "$tmp/pcob"
mkdir -p "$tmp/none2/usr/include"
want="$tmp/pcob/usr/include/x86_64-linux-gnu/openblas-pthread"
cat > "$tmp/pc/openblas.pc" <<EOF
libdir=$tmp/pcob/usr/lib
includedir=$want/
Name: openblas
Description: fake OpenBLAS
Version: 0.0.0
Libs: -L\${libdir} -lopenblas
Cflags: -I\${includedir}
EOF
[ "$(detect "$tmp/none2" "$tmp/pc")" = "openblas: $want" ] && ok "detected $want" || bad "detected: $(detect "$tmp/none2" "$tmp/pc")"
bench_cmds "$tmp/none2" "$tmp/pc" | grep -q -- "-L$tmp/pcob/usr/lib -lopenblas" && ok "links with pkg-config's flags" || bad "pkg-config's libs not used"

rm -rf "$build"
if [ $fails -ne 0 ]; then echo "blas detection: $fails check(s) failed"; exit 1; fi
echo "blas detection: all checks passed"
