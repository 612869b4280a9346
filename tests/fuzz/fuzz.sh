#!/bin/sh
# Real fuzzing with libFuzzer: `make fuzz` (FUZZ_SECONDS, default 60, per
# target) and, for 25 seconds, every `make test` (tests/fuzz/run.sh).
#
# Builds the targets with clang into build/fuzz/ (MODE=fuzz), then runs each
# on a working corpus in build/fuzz/corpus/<target>/ seeded from
# tests/fuzz/corpus/, the golden test inputs, the shipped connectors and
# flows. A crash leaves its input in tests/fuzz/crash-* (ignored by git):
# fix the bug, then move that file into tests/fuzz/corpus/ so that every
# `make test` replays it from then on.
#
# Prints PASS/FAIL lines like every suite. Usage: sh tests/fuzz/fuzz.sh [SECONDS]
set -u
secs=${1:-60}
cd "$(dirname "$0")/../.." || exit 2
build=build/fuzz
targets="compile"

# This may run inside `make test`: a clean make, not a sub-make of it.
if ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory MODE=fuzz \
       $(for t in $targets; do echo "$build/tests/fuzz/libfuzzer_$t"; done) >"$build.log" 2>&1; then
  echo "FAIL fuzz/build: the clang build of the fuzz targets failed"
  sed 's/^/    /' "$build.log" | tail -n 30
  exit 0
fi

for t in $targets; do
  corpus=$build/corpus/$t
  mkdir -p "$corpus"
  log=$build/libfuzzer_$t.log
  "$build/tests/fuzz/libfuzzer_$t" "$corpus" tests/fuzz/corpus tests/check/ok tests/check/err \
    tests/check/connectors connectors flows \
    -max_total_time="$secs" -timeout=2 -rss_limit_mb=512 -max_len=16384 \
    -dict=tests/fuzz/iexflow.dict -artifact_prefix=tests/fuzz/ -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  if [ $rc -eq 0 ]; then
    echo "PASS fuzz/libfuzzer/$t (${runs:-?} runs in ${secs} s)"
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "FAIL fuzz/libfuzzer/$t: libFuzzer stopped (status $rc); input: ${artifact:-see $log}"
    grep -E 'ERROR|SUMMARY|#[0-9]+ 0x' "$log" | head -n 20 | sed 's/^/    /'
  fi
done
