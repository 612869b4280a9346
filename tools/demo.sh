#!/bin/sh
# make demo (for now): what `iexc --check` does for a consultant. It checks
# the shipped flows against the shipped connector schemas, then shows the
# diagnostics of a realistic first draft with several mistakes
# (tests/check/demo/broken-order-flow.iexflow). Later issues replace this
# with the runtime demo. Usage: tools/demo.sh BUILD_BIN_DIR
set -u
bin=${1:-build/release/bin}
cd "$(dirname "$0")/.." || exit 2
iexc=$bin/iexc
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
exit $status
