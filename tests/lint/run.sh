#!/usr/bin/env bash
# make lint as a test suite: include directions, banned functions,
# self-contained headers (tools/lint.sh).
out=$(sh "$IEX_ROOT/tools/lint.sh" 2>&1)
if [ $? -eq 0 ]; then echo "PASS lint/sources"; else
  echo "FAIL lint/sources: tools/lint.sh found problems"; echo "$out" | sed 's/^/    /'; fi
