#!/usr/bin/env bash
# The Makefile finds sources by wildcard; meson.build lists them by name. This check fails when a
# .cpp file in the tree is missing from meson.build (or listed there but gone), so neither rots.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for f in core/*.cpp nn/*.cpp datasets/*.cpp tests/*.cpp tutorials/*.cpp tutorials/common/*.cpp bench/*.cpp; do
    [ -e "$f" ] || continue
    name=${f#*/}
    grep -q "'$name'" "$(dirname "$f")/meson.build" 2>/dev/null || grep -q "'$f'" meson.build || {
        echo "meson.build does not list $f"; status=1; }
done
for f in $(grep -oE "'[a-z_/0-9]+\.cpp'" meson.build | tr -d "'"); do
    [ -e "$f" ] || { echo "meson.build lists $f, which does not exist"; status=1; }
done
exit $status
