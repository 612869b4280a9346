#!/usr/bin/env bash
# Connector integration tests: starts the four emulators on free ports,
# runs the C tests (tests/connectors/test_connectors.c) against them, and
# stops them again. Prints the PASS/FAIL lines of the C program.
set -u
root=${IEX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${IEX_BUILD:-$root/build/test}
prog=$build/tests/connectors/test_connectors
if [ ! -x "$prog" ]; then echo "FAIL connectors/build: $prog is not built"; exit 0; fi
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
for s in shopify woocommerce economic dinero; do
  if ! python3 "$root/tests/emulators/client.py" start "$s" --seed 5 >"$tmp/$s" 2>"$tmp/$s.err"; then
    echo "FAIL connectors/emulator-$s: did not start"; sed 's/^/    /' "$tmp/$s.err"; exit 0
  fi
  read -r url pid <"$tmp/$s"
  pids+=("$pid")
  printf -v "url_$s" '%s' "$url"
done
SHOPIFY_URL=$url_shopify WOO_URL=$url_woocommerce ECONOMIC_URL=$url_economic \
DINERO_URL=$url_dinero "$prog"
rc=$?
if [ "$rc" -gt 1 ]; then echo "FAIL connectors/program: exited with status $rc"; fi
exit 0
