#!/bin/sh
# make bench: run every measuring program on the reference workload and
# print its figures next to its peers'. Usage: bench/run.sh BUILD_BIN_DIR
#
# The workload comes from the shared generator (not copied into the
# repository): ../shared/bench/gen_orders.py next to this checkout, or
# $IEX_BENCH_SHARED. Generated files go to bench/out/ (not committed).
set -eu
bin=$1
sh "$(dirname "$0")/check_large.sh" "$bin"  # iexc --check, 100,000 lines
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${IEX_BENCH_SHARED:-$(dirname "$root")/shared/bench}
out=$root/bench/out
orders=$out/orders-100k.jsonl
mkdir -p "$out"
if [ ! -f "$orders" ]; then
  if [ ! -f "$shared/gen_orders.py" ]; then
    echo "bench: $shared/gen_orders.py not found; set IEX_BENCH_SHARED" >&2
    exit 1
  fi
  (cd "$shared" && python3 gen_orders.py --n 100000 --seed 1 --out "$orders")
fi

echo "== JSON decode + encode, 100,000 orders ($(du -m "$orders" | cut -f1) MB)"
"$bin/json_roundtrip" --check "$orders"
"$bin/json_roundtrip" --borrow "$orders"
"$bin/json_roundtrip" --decode-only "$orders"
"$bin/json_roundtrip" --jansson "$orders"
"$bin/json_roundtrip" --jansson --decode-only "$orders"

sh "$root/bench/mapping.sh" "$bin" 100000

echo "== iex import + iex run against a rate-limited e-conomic (60 orders, 20 calls/s)"
sh "$root/bench/import_rate.sh" "$bin" 60 20 10
