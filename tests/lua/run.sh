#!/usr/bin/env bash
# tests/lua: a flow that calls Lua (tests/lua/phone.iexflow), compiled by
# iexc and run by `iex preview`: results come back exact, a Lua error
# fails the record with the Lua file:line and the flow rule, and a Lua
# file that does not load stops preview with its line.
# (The bridge itself is tested in tests/unit/test_lua_bridge.c.)
set -u
bin=$IEX_BUILD/bin
cd "$IEX_ROOT" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS lua/$1"; }
fail() { echo "FAIL lua/$1: $2"; }

if ! "$bin/iexc" --connectors tests/vm/connectors tests/lua/phone.iexflow -o "$tmp/phone.iexb" 2>"$tmp/err"; then
  fail compile "$(cat "$tmp/err")"
  exit 0
fi
pass compile

out=$("$bin/iex" preview "$tmp/phone.iexb" --input tests/lua/preview-in.jsonl 2>&1); rc=$?
line1=$(echo "$out" | sed -n 1p)
case $line1 in *'"sends":{"phone":"+4512345678","net":80.00}'*) pass preview-result ;;
  *) fail preview-result "$line1" ;; esac
line2=$(echo "$out" | sed -n 2p)
want='{"record":2,"outcome":"failed","reason":"helpers.normalize_phone(): tests/lua/phone.lua:4: phone `12` is too short (in Lua function `normalize_phone`)","location":"tests/lua/phone.iexflow:11:11"}'
if [ $rc -eq 1 ] && [ "$line2" = "$want" ]; then pass preview-lua-error
else fail preview-lua-error "status $rc: $line2"; fi

# A Lua file with a syntax error compiles into the .iexb (iexc only reads
# it) and is refused when the flow is loaded, with the file and line.
mkdir -p "$tmp/flows"
cp tests/lua/phone.iexflow "$tmp/flows/"
printf 'function normalize_phone(p)\n  return p +\nend\n' >"$tmp/flows/phone.lua"
# iexc --check (E0602) now refuses the flow first; either refusal names the line.
out=$(cd "$tmp" && "$bin/iexc" --connectors "$IEX_ROOT/tests/vm/connectors" flows/phone.iexflow -o bad.iexb 2>&1); rc=$?
if [ -f "$tmp/bad.iexb" ]; then
  out=$(cd "$tmp" && "$bin/iex" preview bad.iexb </dev/null 2>&1); rc=$?
fi
case "$rc:$out" in [12]:*"phone.lua:3:"*) pass preview-lua-syntax ;;
  *) fail preview-lua-syntax "status $rc: $out" ;; esac
# iexc --test runs the flow's inline tests with its Lua helpers loaded.
out=$("$bin/iexc" --connectors tests/vm/connectors --test tests/lua/phone.iexflow 2>&1); rc=$?
case "$rc:$out" in 0:*"1 passed, 0 failed"*) pass iexc-test-calls-lua ;;
  *) fail iexc-test-calls-lua "status $rc: $out" ;; esac
exit 0
