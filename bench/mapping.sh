#!/bin/sh
# make bench, part 2: the reference mapping (../shared/bench/mapping-spec.md)
# side by side. iex (`iex map` on bench/order_to_invoice.iexflow), jq, gojq,
# JSONata and the hand-written C program on jansson map the same orders;
# their outputs must be equal after `jq -S -c .`; each gets wall time,
# orders/s, MB/s and peak RSS. iex also runs on a tenth of the input to
# show its memory does not grow with the number of orders.
#
# Usage: bench/mapping.sh BUILD_BIN_DIR [N]   (N orders, default 100000)
# The peers come from ../shared/bench (not copied here); JSONata is
# installed with npm into a scratch folder outside the repository.
set -eu
bin=$(cd "$1" && pwd)
n=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${IEX_BENCH_SHARED:-$(dirname "$root")/shared/bench}
out=$root/bench/out
scratch=${IEX_BENCH_SCRATCH:-${TMPDIR:-/tmp}/iex-bench-peers}
mkdir -p "$out" "$scratch"
orders=$out/orders-$n.jsonl
[ "$n" != 100000 ] || orders=$out/orders-100k.jsonl   # the file bench/run.sh makes
small=$out/orders-$((n / 10)).jsonl
for f in "$orders:$n" "$small:$((n / 10))"; do
  file=${f%%:*}
  [ -f "$file" ] || (cd "$shared" && python3 gen_orders.py --n "${f##*:}" --seed 1 --out "$file")
done
mb=$(awk -v b="$(wc -c <"$orders")" 'BEGIN { printf "%.1f", b / 1048576 }')

"$bin/iexc" "$root/bench/order_to_invoice.iexflow" -o "$out/order_to_invoice.iexb"
cc -O2 -o "$out/map_jansson" "$shared/map_jansson.c" $(pkg-config --cflags --libs jansson)
jsonata=""
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$scratch/node_modules/jsonata" ]; then
    cp "$shared/package.json" "$scratch/"
    (cd "$scratch" && npm install --silent --no-audit --no-fund >/dev/null 2>&1) || true
  fi
  [ -d "$scratch/node_modules/jsonata" ] && jsonata=yes
fi

# run NAME INPUT COMMAND...: time COMMAND (stdout to out/NAME.jsonl), print a row.
jq_s=""
run() {
  name=$1; input=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$out/$name.time" "$@" >"$out/$name.jsonl" 2>"$out/$name.err" \
    || { echo "| $name | failed: $(head -c 200 "$out/$name.err") |"; return; }
  set -- $(cat "$out/$name.time")
  secs=$1; rss_kb=$2
  count=$(wc -l <"$input")
  bytes=$(wc -c <"$input")
  [ -n "$jq_s" ] || jq_s=$secs
  ratio=$jq_s; [ "$input" = "$orders" ] || ratio=0
  same="-"
  if [ "$input" = "$orders" ]; then
    jq -S -c "del(.layout)" "$out/$name.jsonl" >"$out/$name.norm"  # the spec has no layout
    if [ -f "$out/jq.norm" ] && [ "$name" != jq ]; then
      cmp -s "$out/jq.norm" "$out/$name.norm" && same=yes || same=NO
    elif [ "$name" = jq ]; then same=reference; fi
  fi
  awk -v n="$name" -v s="$secs" -v c="$count" -v b="$bytes" -v r="$rss_kb" -v j="$ratio" -v e="$same" 'BEGIN {
    if (s < 0.005) s = 0.005
    vs = j > 0 ? sprintf("%.1fx", j / s) : "-"
    printf "| %s | %d | %.2f | %d | %.1f | %.1f | %s | %s |\n", n, c, s, c / s, b / s / 1048576, r / 1024, vs, e }'
}

echo "== mapping, $n orders ($mb MB): mapping-spec.md, outputs compared after jq -S -c ."
echo "| program | orders in | wall s | orders/s | MB/s | peak MiB | vs jq | same output |"
echo "|---|---|---|---|---|---|---|---|"
run jq "$orders" jq -c -f "$shared/map.jq" "$orders"
run gojq "$orders" gojq -c -f "$shared/map.jq" "$orders"
[ -n "$jsonata" ] && run jsonata "$orders" env NODE_PATH="$scratch/node_modules" node "$shared/map_jsonata.js" "$orders"
run jansson "$orders" "$out/map_jansson" "$orders"
run iex "$orders" "$bin/iex" map "$out/order_to_invoice.iexb" --input "$orders"
run iex-tenth "$small" "$bin/iex" map "$out/order_to_invoice.iexb" --input "$small"
