#!/bin/sh
# iexc --check on a generated 100,000-line flow (tests/check/gen_large_flow.sh),
# against the fixture connectors of tests/check: wall and CPU time and peak
# RSS from /usr/bin/time -v, median of 5 runs by CPU time.
# Usage: bench/check_large.sh BUILD_BIN_DIR [LINES]
set -eu
bin=$1
lines=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bench/out
mkdir -p "$out"
flow=$out/large-$lines.iexflow
sh "$root/tests/check/gen_large_flow.sh" "$lines" >"$flow"
if ! "$bin/iexc" --check --connectors "$root/tests/check/connectors" "$flow"; then
  echo "bench: the generated flow does not check cleanly" >&2
  exit 1
fi
# measure <label> <args...>: prints "label: wall s, cpu s, rss KB" (median of 5)
measure() {
  label=$1
  shift
  for i in 1 2 3 4 5; do
    /usr/bin/time -v "$@" >/dev/null 2>"$out/time.txt" || true
    awk -F': ' '
      /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = t[n] + (n > 1 ? t[n-1] * 60 : 0) }
      /User time/ { u = $2 } /System time/ { s = $2 }
      /Maximum resident set size/ { m = $2 }
      END { printf "%.2f %.2f %d\n", u + s, w, m }' "$out/time.txt"
  done | sort -n | sed -n 3p | {
    read -r cpu wall kb
    printf '%-28s %5s s CPU  %5s s wall  %6s KB peak RSS\n' "$label:" "$cpu" "$wall" "$kb"
  }
}
echo "== iexc --check, $(wc -l <"$flow") lines ($(du -k "$flow" | cut -f1) KB)"
measure "check" "$bin/iexc" --check --connectors "$root/tests/check/connectors" "$flow"
