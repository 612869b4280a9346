#!/usr/bin/env bash
# iex serve: webhooks (signatures, oversized, replayed, duplicates, ack
# only after the inbox commit), the JSON API, graceful shutdown, polling.
# Prints PASS/FAIL lines (see tests/run).
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/serve_test.py" "$@"
