#!/bin/sh
# Print docs/bytecode.md from runtime/opcodes.def: the file comment's
# description of the format, then one entry per instruction with the
# comment written above it. Run by tools/gendocs.sh (make docs); the vm
# test suite fails when the committed file differs from this output.
set -eu
cd "$(dirname "$0")/.."
cat <<'HEAD'
# Bytecode

Generated from `runtime/opcodes.def` by `tools/gen_bytecode_doc.sh`
(`make docs`); do not edit. The file format and the VM are described in
`runtime/bytecode.h` and `runtime/vm.h`.

A compiled flow (`.iexb`) is an 8-byte mark (`IEXB\r\n\x1a\n`), the format
version (u32, now 2), the SHA-256 of the flow's sources, the payload's length
(u32) and FNV-1a 64 checksum, then the payload: the flow's name, rounding
rule, trigger, constants, settings (name, type, allowed values, default,
description), the code with a `line:col` for every instruction, its blocks,
the slots, the graph nodes (let, guard, step with its system, operation and
whether it writes) and the inline tests. All integers are little-endian.
`iex` refuses a file of another version, a damaged one (checksum, bounds)
and code that does not verify (operands, jumps, stack depths). A file of an
older version (format 1 is what iexc wrote during development) is refused
with "compiled by an older iexc; compile the flow again with iexc -o": the
`.iexflow` is the source of truth, and compiling it again is all it takes.

An instruction is 8 bytes: opcode (u8), pad (u8), operand `b` (u16),
operand `a` (u32). The machine is a stack machine over 16-byte Values;
records and lists are made on a second stack of builders.

Operand kinds: `K` constant, `KSTR` string constant, `SLOT` frame slot,
`SET` setting, `JUMP` instruction in the same block, `FN` stdlib function
(`stdlib/stdlib.def` position), `N` count, `CACHE` field-lookup cache slot.
Stack effects: pops, pushes; `-1` is the count in an operand.

| # | Instruction | a | b | pops | pushes | Effect |
|---|---|---|---|---|---|---|
HEAD
awk '
  /^\/\*/ { comment = ""; in_c = 1 }
  in_c {
    line = $0
    sub(/^\/\*+ ?/, "", line); sub(/^\*\*? ?/, "", line); sub(/ ?\*\/$/, "", line)
    if (line ~ /^-+ .* -+$/ || line ~ /^---- /) { comment = ""; }
    else comment = comment (comment == "" ? "" : " ") line
    if ($0 ~ /\*\//) in_c = 0
    next
  }
  /^OP\(/ {
    s = $0; sub(/^OP\(/, "", s)
    n = split(s, f, ", ")
    name = f[1]; a = f[2]; b = f[3]; pops = f[4]; pushes = f[5]
    gsub(/\|/, "\\|", comment)
    printf "| %d | `%s` | %s | %s | %s | %s | %s |\n", num++, name, a, b, pops, pushes, comment
    comment = ""
  }
' runtime/opcodes.def
