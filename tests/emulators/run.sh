#!/usr/bin/env bash
# Emulator self-tests for tests/run: starts each emulator on a free port and
# checks its behaviour with plain HTTP (urllib). Prints PASS/FAIL lines.
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/check/main.py" "$@"
