#!/usr/bin/env bash
# iex serve: webhooks (signatures, oversized, replayed, duplicates, ack
# only after the inbox commit), the JSON API, graceful shutdown, polling.
# Prints PASS/FAIL lines (see tests/run).
#
# The suite's temporary files go into one directory of its own (TMPDIR for
# the suite and everything it starts): serve_test.py removes what it made
# however it ends, which serve/cleanup checks, and the trap removes the
# directory itself, also when the suite is stopped.
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/iex-serve-run-XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
TMPDIR=$scratch python3 "$here/serve_test.py" "$@"
rc=$?
left=$(ls -A "$scratch")
if [ -z "$left" ]; then echo "PASS serve/cleanup"
else echo "FAIL serve/cleanup: the suite left temporary files behind: $(echo "$left" | tr '\n' ' ')"; fi
exit $rc
