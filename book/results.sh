#!/bin/bash
# make results: run the command named in every results marker of the chapter pages and splice what
# it printed (stdout) between the markers, so that a page shows only numbers the code produced.
#
#   <!-- results:begin cmd="build/tutorials/ch67_coec" -->
#   ... replaced by the command's stdout (its first line dropped when it is the "# Chapter" title,
#       which the page has already) ...
#   <!-- results:end -->
#
# Text outside the markers is written by hand. A page's first command (its default run) runs with
# --out build/results/<page>, and the SVG pictures it wrote there that the page links
# (img/chNN/NAME.svg) are copied to book/img/chNN/; a later command on the same page (a --data run,
# a sweep) runs with --out build/results/<page>_<k> and its pictures stay there. A command may be any program that
# takes --out DIR (book/tools/ch72_tau_sweep.py runs chapter 72 at five temperatures).
# For each block it prints the chapter, the seconds it took and the claims table's verdicts per world
# (holds/fails/inconclusive), then a total.
#
#   book/results.sh [PAGE ...]            (default: every book/ch*.md)
#   book/results.sh --dry-run [PAGE ...]  list the commands, run nothing
#
# A command whose --data folder is missing is skipped with a line saying so (the block keeps its old
# text). A command that fails stops the script with its exit status; the page is left as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi
if [ "$#" -gt 0 ]; then pages=("$@"); else pages=(book/ch*.md); fi

# The verdicts of a run's claims table, per world: "main 4/0/0, control 2/1/1" (holds/fails/inconclusive).
summarise() {
    # A claims row: | claim | world | the paper reports | this run | margin | verdict |; a run on
    # real data prints "—" for the verdict (one data set: intervals, no verdicts).
    awk -F'|' 'NF == 8 && $6 ~ /^ *[0-9.]+ *$/ && $7 ~ /^ *(\*\*holds\*\*|\*\*fails\*\*|inconclusive|—) *$/ {
        w = $3; gsub(/^ +| +$/, "", w)
        verdict = $7; gsub(/^ +| +$/, "", verdict)
        if (!(w in seen)) { seen[w] = 1; order[++n] = w }
        if (verdict == "**holds**") h[w]++; else if (verdict == "**fails**") f[w]++
        else if (verdict == "—") d[w]++; else i[w]++
    }
    END {
        if (n == 0) { printf "no claims table"; exit }
        for (k = 1; k <= n; ++k) {
            w = order[k]
            if (d[w] > 0 && h[w] + f[w] + i[w] == 0) printf "%s%s: %d claims, no verdicts", (k > 1 ? ", " : ""), w, d[w]
            else printf "%s%s %d/%d/%d", (k > 1 ? ", " : ""), w, h[w], f[w], i[w]
        }
    }' "$1"
}

total_start=$(date +%s)
blocks=0
for page in "${pages[@]}"; do
    [ -f "$page" ] || { echo "results.sh: $page: no such page" >&2; exit 2; }
    grep -q '<!-- results:begin cmd="' "$page" || continue
    mapfile -t cmds < <(sed -n 's/.*<!-- results:begin cmd="\([^"]*\)" -->.*/\1/p' "$page")
    k=0
    for cmd in "${cmds[@]}"; do
        blocks=$((blocks + 1)); k=$((k + 1))
        if [ "$dry" = 1 ]; then echo "$page: $cmd"; continue; fi
        data=$(sed -n 's/.*--data[ =]\([^ ]*\).*/\1/p' <<<"$cmd")
        if [ -n "$data" ] && [ ! -e "$data" ]; then
            echo "$page: skipped ($data not found): $cmd"
            continue
        fi
        out=$(mktemp)
        name=$(basename "$page" .md)
        # The page's first block is its default run: its folder is build/results/<page>, and only its
        # pictures go to book/img (a --data run writes pictures of the same names). Later blocks
        # write to build/results/<page>_<k>.
        results_dir=build/results/$name
        [ "$k" = 1 ] || results_dir=build/results/${name}_$k
        rm -rf "$results_dir"
        start=$(date +%s%N)
        # shellcheck disable=SC2086  # the command is a word list on purpose
        if ! $cmd --out "$results_dir" > "$out" 2>/dev/null; then
            status=$?
            echo "results.sh: $page: '$cmd' failed (exit $status); the page is unchanged" >&2
            rm -f "$out"
            exit "$status"
        fi
        secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
        # Splice: keep everything outside this command's markers, replace what is inside.
        awk -v cmd="$cmd" -v out="$out" '
            index($0, "<!-- results:begin cmd=\"" cmd "\" -->") {
                print; inside = 1
                first = 1
                while ((getline line < out) > 0) {
                    if (first && line ~ /^# /) { first = 0; getline line < out; if (line == "") continue }
                    first = 0
                    print line
                }
                close(out)
                next
            }
            inside && /<!-- results:end -->/ { inside = 0 }
            !inside { print }' "$page" > "$page.tmp"
        mv "$page.tmp" "$page"
        # The pictures the page links (img/chNN/NAME.svg) are copied from the default run's folder.
        if [ "$k" = 1 ]; then
            for svg in "$results_dir"/*.svg; do
                [ -e "$svg" ] || continue
                img="img/${name%%_*}/$(basename "$svg")"
                grep -qF "($img)" "$page" && { mkdir -p "book/$(dirname "$img")"; cp "$svg" "book/$img"; }
            done
        fi
        printf '%-32s %7s s  %s\n' "$(basename "$page" .md)" "$secs" "$(summarise "$out")"
        rm -f "$out"
    done
done
[ "$dry" = 1 ] || printf 'results: %d blocks in %d s\n' "$blocks" "$(( $(date +%s) - total_start ))"
