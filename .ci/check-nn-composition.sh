#!/usr/bin/env bash
# nn/ is composition: layers call the ops of core/ops.h (the fast ones included) and never the
# kernels, nor build graph nodes by hand. This check fails when a kernels:: call, a make_result
# or a set_backward appears in nn/ (comments included: say "core's kernels" instead).
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -nE 'kernels::|core/kernels|make_result|set_backward' nn/*.h nn/*.cpp; then
    echo "nn/ must compose the ops of core/ops.h: move the code above to an op in core/ (with its"
    echo "plain version in core/ops_reference.h and a test that holds them together)"
    exit 1
fi
echo "nn/ is composition: no kernels:: calls, no hand-built autograd nodes"
