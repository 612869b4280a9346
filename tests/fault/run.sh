#!/usr/bin/env bash
# Fault suite: kill -9 at random moments and at named crash points,
# injected I/O errors, and (later) end-to-end crash runs against the
# emulators. Each case prints "PASS fault/..." or "FAIL fault/...".
#
# To add a case, add either
#   tests/fault/fault_<name>.c  a C program (built by tests/module.mk), or
#   tests/fault/case_<name>.sh  a script, run with IEX_BUILD and IEX_ROOT set.
# Both run in a fresh temporary folder given as IEX_FAULT_TMP, and get
# IEX_FAULT_SCALE (default 1; the nightly run sets 10) to multiply their
# number of kills or iterations.
set -u
export IEX_FAULT_SCALE=${IEX_FAULT_SCALE:-1}
run_case() { # run_case <name> <command...>
  local name=$1; shift
  local tmp; tmp=$(mktemp -d "${TMPDIR:-/tmp}/iex-fault-XXXXXX")
  IEX_FAULT_TMP=$tmp "$@"
  local rc=$?
  # A program that died without its own FAIL line (a sanitizer report, a
  # crash of the parent) must still count as a failure.
  if [ "$rc" -gt 1 ]; then echo "FAIL fault/$name: exited with status $rc"; fi
  rm -rf "$tmp"
}
for t in "$IEX_BUILD"/tests/fault/fault_*; do
  [ -x "$t" ] || continue
  run_case "$(basename "$t")" "$t"
done
for s in "$IEX_ROOT"/tests/fault/case_*.sh; do
  [ -f "$s" ] || continue
  run_case "$(basename "$s" .sh)" bash "$s"
done
exit 0
