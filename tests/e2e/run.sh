#!/usr/bin/env bash
# End-to-end suite: the shipped flows against the API emulators
# (tests/e2e/e2e.py says what is checked). Prints "PASS e2e/<name>" or
# "FAIL e2e/<name>: why" per case.
set -u
exec python3 "$IEX_ROOT/tests/e2e/e2e.py"
