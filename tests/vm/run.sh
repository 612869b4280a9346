#!/usr/bin/env bash
# tests/vm: iexc -o / --emit=bytecode / --emit=graph / --test end to end,
# and the .iexb loader's refusals as `iex preview` reports them.
set -u
bin=$IEX_BUILD/bin
cd "$IEX_ROOT" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS vm/$1"; }
fail() { echo "FAIL vm/$1: $2"; }

# iexc --test: the flow's own tests pass; the summary line is last.
out=$("$bin/iexc" --connectors tests/vm/connectors --test tests/vm/basic.iexflow 2>&1)
if [ $? -eq 0 ] && [ "$(echo "$out" | tail -n 1)" = "6 passed, 0 failed" ]; then pass test-basic
else fail test-basic "$(echo "$out" | sed 's/^/    /')"; fi

# A `where` over several lines gives a one-line skip reason (where.iexflow's test).
out=$("$bin/iexc" --connectors tests/vm/connectors --test tests/vm/where.iexflow 2>&1)
if [ $? -eq 0 ] && [ "$(echo "$out" | tail -n 1)" = "1 passed, 0 failed" ]; then pass test-where-one-line
else fail test-where-one-line "$(echo "$out" | sed 's/^/    /')"; fi

# A failing expectation: exit 1 and a diff naming each field by its path.
out=$("$bin/iexc" --connectors tests/vm/connectors --test tests/vm/diff.iexflow 2>&1); rc=$?
if [ $rc -eq 1 ] && [ "$out" = "$(cat tests/vm/diff.expected)" ]; then pass test-diff
else fail test-diff "status $rc, output:"; echo "$out" | sed 's/^/    /'; fi

# -o writes an .iexb; the same source gives the same bytes.
if "$bin/iexc" --connectors tests/vm/connectors tests/vm/basic.iexflow -o "$tmp/a.iexb" && "$bin/iexc" --connectors tests/vm/connectors tests/vm/basic.iexflow -o "$tmp/b.iexb" \
   && cmp -s "$tmp/a.iexb" "$tmp/b.iexb" && [ "$(head -c 4 "$tmp/a.iexb")" = "IEXB" ]; then pass compile-reproducible
else fail compile-reproducible "iexc -o failed or is not reproducible"; fi

# --emit=bytecode prints every block with line:col; --emit=graph is DOT.
out=$("$bin/iexc" --connectors tests/vm/connectors --emit=bytecode tests/vm/basic.iexflow 2>&1)
if echo "$out" | grep -q '^block .*: step invoice$' && echo "$out" | grep -q 'ITER_NEXT' \
   && echo "$out" | grep -q '@[0-9]*:[0-9]*$'; then pass emit-bytecode
else fail emit-bytecode "missing blocks or positions"; fi
out=$("$bin/iexc" --connectors tests/vm/connectors --emit=graph tests/vm/basic.iexflow 2>&1)
if echo "$out" | head -n 1 | grep -q '^digraph "vm_basic"' && echo "$out" | grep -q 'invoice.create (writes)'; then
  pass emit-graph
else fail emit-graph "not the expected DOT"; fi

# Every opcode appears in docs/bytecode.md, generated from opcodes.def.
sh tools/gen_bytecode_doc.sh >"$tmp/bytecode.md" 2>&1
if cmp -s "$tmp/bytecode.md" docs/bytecode.md; then pass docs-current
else fail docs-current "docs/bytecode.md differs from opcodes.def (run make docs)"; fi

# Opcode numbers are part of the format: renumbering shows here.
if diff -u tests/vm/opcodes.txt <(grep -o '^OP([A-Z_]*' runtime/opcodes.def | sed 's/^OP(//' | nl -v0 -w1 -s' ') >"$tmp/op.diff"; then
  pass opcode-numbers
else fail opcode-numbers "opcode numbering changed; bump BYTECODE_VERSION and update tests/vm/opcodes.txt"; sed 's/^/    /' "$tmp/op.diff"; fi


# iex preview: what each step would send, skips and failures with their
# rule, fixtures answering steps; exit 1 because one record failed.
if "$bin/iexc" --connectors tests/vm/connectors tests/vm/basic.iexflow -o "$tmp/basic.iexb"; then
  out=$("$bin/iex" preview "$tmp/basic.iexb" --input tests/vm/preview-in.jsonl --fixtures tests/vm/fixtures.json); rc=$?
  if [ $rc -eq 1 ] && [ "$out" = "$(cat tests/vm/preview.expected)" ]; then pass preview
  else fail preview "status $rc, output differs:"; echo "$out" | diff tests/vm/preview.expected - | sed 's/^/    /'; fi
  out=$("$bin/iex" preview "$tmp/basic.iexb" --set invoice_mode=booked <tests/vm/preview-in.jsonl | head -n 1)
  case $out in *'"params":{"mode":"booked"}'*'"answer":"would create"'*) pass preview-set ;;
    *) fail preview-set "$out" ;; esac
  out=$("$bin/iex" preview "$tmp/basic.iexb" --set invoice_mode=maybe </dev/null 2>&1); rc=$?
  case "$rc:$out" in 2:*"setting \`invoice_mode\`"*) pass preview-bad-setting ;;
    *) fail preview-bad-setting "status $rc: $out" ;; esac
  # Output that cannot be written is an error, not a silent status 0.
  if [ -w /dev/full ]; then
    out=$("$bin/iex" preview "$tmp/basic.iexb" --input tests/vm/preview-in.jsonl --fixtures tests/vm/fixtures.json 2>&1 >/dev/full); rc=$?
    case "$rc:$out" in 2:*"iex preview: cannot write the output: No space left on device"*) pass preview-write-error ;;
      *) fail preview-write-error "status $rc: $out" ;; esac
    out=$("$bin/iex" map "$tmp/basic.iexb" --input tests/vm/preview-in.jsonl 2>&1 >/dev/full); rc=$?
    case "$rc:$out" in 2:*"iex map: cannot write the output: No space left on device"*) pass map-write-error ;;
      *) fail map-write-error "status $rc: $out" ;; esac
    out=$("$bin/iexc" --connectors tests/vm/connectors tests/vm/basic.iexflow --emit=bytecode 2>&1 >/dev/full); rc=$?
    case "$rc:$out" in 2:*"iexc: cannot write the output: No space left on device"*) pass iexc-emit-write-error ;;
      *) fail iexc-emit-write-error "status $rc: $out" ;; esac
  fi
  out=$("$bin/iex" map "$tmp/basic.iexb" --input tests/vm/preview-in.jsonl 2>/dev/null)
  if [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q '"net":39.98'; then pass map
  else fail map "$out"; fi
  # A damaged or foreign file is refused with a clear message.
  cp "$tmp/basic.iexb" "$tmp/bad.iexb"
  printf 'X' | dd of="$tmp/bad.iexb" bs=1 seek=200 conv=notrunc 2>/dev/null
  out=$("$bin/iex" preview "$tmp/bad.iexb" </dev/null 2>&1); rc=$?
  case "$rc:$out" in 2:*"damaged .iexb: checksum mismatch"*) pass refuse-damaged ;;
    *) fail refuse-damaged "status $rc: $out" ;; esac
  printf '\003' | dd of="$tmp/basic.iexb" bs=1 seek=8 conv=notrunc 2>/dev/null
  out=$("$bin/iex" preview "$tmp/basic.iexb" </dev/null 2>&1); rc=$?
  case "$rc:$out" in 2:*"made for .iexb format 3"*"compile the flow again"*) pass refuse-version ;;
    *) fail refuse-version "status $rc: $out" ;; esac
  printf '\001' | dd of="$tmp/basic.iexb" bs=1 seek=8 conv=notrunc 2>/dev/null
  out=$("$bin/iex" preview "$tmp/basic.iexb" </dev/null 2>&1); rc=$?
  case "$rc:$out" in 2:*"compiled by an older iexc; compile the flow again with iexc -o"*) pass refuse-old-version ;;
    *) fail refuse-old-version "status $rc: $out" ;; esac
else
  fail preview "iexc -o failed"
fi
# A Lua helper's text travels inside the .iexb; a missing one is an error
# naming the `use`; without a Lua bridge a call fails naming the rule.
out=$("$bin/iexc" --connectors tests/vm/connectors --emit=bytecode tests/vm/lua.iexflow 2>&1)
case $out in *'use helpers: lua "helpers.lua" (47 bytes)'*) pass lua-embedded ;;
  *) fail lua-embedded "no use line with the Lua text" ;; esac
sed 's/helpers.lua/nope.lua/' tests/vm/lua.iexflow >tests/vm/nolua.tmp.iexflow
out=$("$bin/iexc" --connectors tests/vm/connectors tests/vm/nolua.tmp.iexflow -o "$tmp/x.iexb" 2>&1); rc=$?
rm -f tests/vm/nolua.tmp.iexflow
case "$rc:$out" in 1:*"nolua.tmp.iexflow:6:18: error[E0601]"*"nope.lua"*) pass lua-missing ;;
  *) fail lua-missing "status $rc: $out" ;; esac

# Once the stdlib is in the build: every shipped flow's inline tests and
# the benchmark flow's pass (priority (2) of issue 3).
if [ -f stdlib/stdlib.c ]; then
  out=$("$bin/iexc" --connectors connectors --test flows/*.iexflow bench/order_to_invoice.iexflow 2>&1); rc=$?
  if [ $rc -eq 0 ] && echo "$out" | tail -n 1 | grep -q ' passed, 0 failed$'; then pass flows-inline-tests
  else fail flows-inline-tests "status $rc:"; echo "$out" | grep -v '^PASS' | sed 's/^/    /'; fi
fi
exit 0
