#!/bin/sh
# make demo: the main job, from a fresh clone (the Makefile has installed
# the Debian packages and built build/release/bin before it calls this).
#
# First, what `iexc --check` does for a consultant: the shipped flows check
# cleanly against the shipped connector schemas, and a realistic first
# draft with several mistakes (tests/check/demo/broken-order-flow.iexflow)
# gets its diagnostics.
#
# Then the flows run (tools/demo_run.py): the four API emulators start on
# free ports; a few dozen realistic orders are made in the emulated Shopify
# and WooCommerce shops (tools/demo_orders.py); the shipped flows are
# compiled and set up as integrations against the emulated e-conomic and
# Dinero; the orders are imported and transferred; later a refund and a
# changed order follow; then the transfer history (`iex log`): what was
# created, skipped and failed and why, one failed transfer in full
# (`iex show`) and the month's usage.
#
# Nothing keeps running afterwards: the emulators are stopped on every
# exit (demo_run.py stops them itself; the trap covers a kill), and the
# store and files live in a temporary folder that is removed.
# Usage: tools/demo.sh BUILD_BIN_DIR
set -u
bin=${1:-build/release/bin}
cd "$(dirname "$0")/.." || exit 2
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
iexc=$bin/iexc
work=$(mktemp -d "${TMPDIR:-/tmp}/iex-demo-XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
status=0

echo "== 1. The shipped flows check cleanly"
for f in flows/*.iexflow; do
  if "$iexc" --check --connectors connectors "$f"; then
    echo "   ok  $f"
  else
    echo "   FAILED  $f"
    status=1
  fi
done

echo
echo "== 2. A first draft with mistakes: iexc --check says what and where"
echo "   (tests/check/demo/broken-order-flow.iexflow)"
echo
"$iexc" --check --connectors connectors tests/check/demo/broken-order-flow.iexflow
rc=$?
echo
echo "   exit status $rc (1: the flow has errors; 0 would mean it may be deployed)"
[ $rc -eq 1 ] || status=1

echo
echo "== 3. The same for editors and CI: --format=json, one object per line"
"$iexc" --check --format=json --connectors connectors tests/check/demo/broken-order-flow.iexflow | head -n 2
echo "   ..."

echo
echo "== 4. Every code is explained: iexc --explain E0310"
"$iexc" --explain E0310 | sed 's/^/   /'

echo
echo "== 5. The flows at work, against emulated Shopify, WooCommerce, e-conomic and Dinero"
echo
python3 tools/demo_run.py --bin "$bin" --work "$work" &
pid=$!
wait "$pid" || status=1
pid=
exit $status
