#!/usr/bin/env bash
# Golden tests of iexc's front end (STYLE.md 3.9). Run by tests/run, which
# sets IEX_BUILD (the build to test) and IEX_ROOT; prints PASS/FAIL lines.
#
#   ok/*.iexflow, ok/*.schema   must check with no diagnostics and status 0;
#                               ok/NAME.ast, when present, is the exact
#                               output of `iexc --emit=ast`.
#   syntax/*.iexflow            grammar exercises that need not make sense
#                               as flows: `--emit=ast` must print no
#                               diagnostics; syntax/NAME.ast as above.
#   err/*                       each diagnostic expected inline, as a comment
#                               `# expect error E0101 14:29` (severity, code,
#                               line:col); every one must appear and nothing
#                               else. NAME.expected is the exact text output
#                               (carets, help), NAME.jsonl the exact
#                               --format=json output. A file needs at least
#                               one of the three.
# Then: exit statuses and usage errors, the error cap, every code in
# compiler/diag.def covered by a test, docs/diagnostics.md up to date, the
# shipped connector schemas and flows, and the speed and memory of a 100,000-line flow.
set -u
cd "$IEX_ROOT" || exit 2
iexc="$IEX_BUILD/bin/iexc"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS check/$1"; }
fail() { # fail <id> <why> [detail...]
  local id=$1 why=$2
  shift 2
  echo "FAIL check/$id: $why"
  local d
  for d in "$@"; do printf '%s\n' "$d" | head -n 40 | sed 's/^/    /'; done
}

# ---- Valid flows and schemas ---------------------------------------------
for f in tests/check/ok/*.iexflow tests/check/ok/*.schema tests/check/connectors/*/*.schema; do
  [ -e "$f" ] || continue
  case $f in tests/check/connectors/broken/*) continue ;; esac
  id=ok/${f#tests/check/}
  id=${id#ok/ok/}
  out=$("$iexc" --check "$f" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    fail "$id" "expected no diagnostics and status 0, got status $rc" "$out"
  else
    pass "$id"
  fi
  golden=${f%.*}.ast
  if [ -f "$golden" ]; then
    if diff -u "$golden" <("$iexc" --emit=ast "$f" 2>&1) >"$tmp/diff"; then
      pass "${id%.*}.ast"
    else
      fail "${id%.*}.ast" "--emit=ast differs from $golden" "$(cat "$tmp/diff")"
    fi
  fi
done

# ---- Syntax exercises: parse cleanly, exact AST --------------------------------
for f in tests/check/syntax/*.iexflow tests/check/syntax/*.schema; do
  [ -e "$f" ] || continue
  id=syntax/$(basename "$f")
  "$iexc" --emit=ast "$f" >"$tmp/ast" 2>"$tmp/err"
  rc=$?
  if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
    fail "$id" "expected no syntax diagnostics, got status $rc" "$(cat "$tmp/err")"
  else
    pass "$id"
  fi
  golden=${f%.*}.ast
  if [ -f "$golden" ]; then
    if diff -u "$golden" "$tmp/ast" >"$tmp/diff"; then pass "${id%.*}.ast"; else
      fail "${id%.*}.ast" "--emit=ast differs from $golden" "$(cat "$tmp/diff")"; fi
  fi
done

# ---- Diagnostics: inline expectations, exact text, exact JSON ---------------
for f in tests/check/err/*.iexflow tests/check/err/*.schema; do
  [ -e "$f" ] || continue
  id=err/$(basename "$f")
  base=${f%.*}
  want=$(grep -a -o '# expect \(error\|warning\) [EW][0-9]\{4\} [0-9]*:[0-9]*' "$f" |
         cut -c10- | sort)
  if [ -z "$want" ] && [ ! -f "$base.expected" ] && [ ! -f "$base.jsonl" ]; then
    fail "$id" "no expectations (inline, .expected or .jsonl)"
    continue
  fi
  "$iexc" --check --format=json "$f" >"$tmp/json" 2>"$tmp/stderr"
  rc=$?
  if ! got=$(jq -r 'select(.code != null) | "\(.severity) \(.code) \(.line):\(.col)"' \
               "$tmp/json" 2>"$tmp/jq"); then
    fail "$id" "--format=json output is not JSON lines" "$(cat "$tmp/jq" "$tmp/json")"
    continue
  fi
  got=$(printf '%s\n' "$got" | sed '/^$/d' | sort)
  if [ -n "$want" ]; then
    if [ "$want" != "$got" ]; then
      fail "$id" "diagnostics differ from the expectations in the file" \
        "missing: $(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ';')" \
        "unexpected: $(comm -13 <(echo "$want") <(echo "$got") | tr '\n' ';')"
      continue
    fi
  fi
  want_rc=0
  grep -q '^error' <<<"$got" && want_rc=1
  if [ $rc -ne $want_rc ]; then
    fail "$id" "exit status $rc, expected $want_rc"
    continue
  fi
  pass "$id"
  if [ -f "$base.expected" ]; then
    "$iexc" --check "$f" 2>"$tmp/text" >/dev/null
    if diff -u "$base.expected" "$tmp/text" >"$tmp/diff"; then
      pass "${id%.*}.expected"
    else
      fail "${id%.*}.expected" "text output differs" "$(cat "$tmp/diff")"
    fi
  fi
  if [ -f "$base.jsonl" ]; then
    if diff -u "$base.jsonl" "$tmp/json" >"$tmp/diff"; then
      pass "${id%.*}.jsonl"
    else
      fail "${id%.*}.jsonl" "JSON output differs" "$(cat "$tmp/diff")"
    fi
  fi
done

# ---- The demo's broken flow, against the shipped connectors (make demo) --------
f=tests/check/demo/broken-order-flow
"$iexc" --check --connectors connectors "$f.iexflow" 2>"$tmp/text" >/dev/null
rc=$?
if [ $rc -eq 1 ] && diff -u "$f.expected" "$tmp/text" >"$tmp/diff"; then pass "demo/broken-order-flow"; else
  fail "demo/broken-order-flow" "status $rc (expected 1) or text differs" "$(cat "$tmp/diff")"; fi

# ---- Exit statuses and the command line --------------------------------------
# expect_status <id> <status> <stderr or stdout substring> <iexc args...>
expect_status() {
  local id=$1 want=$2 text=$3
  shift 3
  "$iexc" "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ $rc -ne "$want" ]; then
    fail "cli/$id" "status $rc, expected $want" "$(cat "$tmp/out")"
  elif [ -z "$text" ] && [ -s "$tmp/out" ]; then
    fail "cli/$id" "expected no output" "$(cat "$tmp/out")"
  elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/out"; then
    fail "cli/$id" "output lacks: $text" "$(cat "$tmp/out")"
  else
    pass "cli/$id"
  fi
}
ok=tests/check/ok/language-example.iexflow
warn=tests/check/err/match-arm-after-else.iexflow
expect_status clean 0 "" --check "$ok"
expect_status errors 1 "error[E0101]" --check tests/check/err/missing-equals.iexflow
expect_status warning-allowed 0 "warning[W0101]" --check "$warn"
expect_status werror 1 "warning[W0101]" --check --werror "$warn"
expect_status missing-file 2 "iexc: cannot read \`tests/check/nope.iexflow\`: No such file or directory" \
  --check tests/check/nope.iexflow
expect_status directory 2 "iexc: cannot read \`tests/check/ok\`: is a directory" --check tests/check/ok
expect_status missing-among-good 2 "No such file" --check "$ok" tests/check/nope.iexflow
expect_status no-arguments 2 "iexc: nothing to do" 
expect_status no-files 2 "iexc: no files given" --check
expect_status unknown-option 2 "iexc: unknown option \`--chek\`" --chek "$ok"
expect_status bad-format 2 "unknown format" --check --format=xml "$ok"
expect_status bad-emit 2 "unknown --emit=dot" --emit=dot "$ok"
expect_status no-mode 2 "say what to do" "$ok"
expect_status connectors-missing-arg 2 "--connectors needs a folder" --check --connectors
expect_status connectors-not-a-folder 2 "--connectors \`tests/check/nope\` is not a folder" \
  --check --connectors tests/check/nope "$ok"
expect_status connectors-given 0 "" --check --connectors tests/check/connectors "$ok"
expect_status explain 0 "E0101: syntax error (error)" --explain E0101
expect_status explain-lowercase 0 "W0101: match arm after" --explain w0101
expect_status explain-unknown 2 "iexc: unknown diagnostic code \`E9999\`" --explain E9999
expect_status explain-missing 2 "--explain needs a code" --explain
expect_status help 0 "usage: iexc --check" --help
expect_status version 0 "iexc " --version
expect_status emit-ast 0 "file tests/check/ok/language-example.iexflow" --emit=ast "$ok"
# Text goes to stderr, JSON to stdout.
if "$iexc" --check tests/check/err/missing-equals.iexflow 2>/dev/null | grep -q . ||
   "$iexc" --check --format=json tests/check/err/missing-equals.iexflow 2>&1 >/dev/null | grep -q .; then
  fail "cli/streams" "text diagnostics must go to stderr and JSON to stdout"
else
  pass "cli/streams"
fi

# ---- The error cap: 100,000 errors print 50 and "50 errors, stopping" --------
awk 'BEGIN { print "flow many \"d\""; for (i = 0; i < 100000; i++) print "let x = = 1" }' \
  >"$tmp/many.iexflow"
"$iexc" --check "$tmp/many.iexflow" 2>"$tmp/text"
rc=$?
n=$(grep -c 'error\[E0101\]' "$tmp/text")
last=$(tail -n 1 "$tmp/text")
if [ $rc -eq 1 ] && [ "$n" -eq 50 ] && [ "$last" = "50 errors, stopping" ]; then
  pass "cap/text"
else
  fail "cap/text" "status $rc, $n errors, last line '$last'"
fi
"$iexc" --check --format=json "$tmp/many.iexflow" >"$tmp/json"
if [ "$(jq -r 'select(.code != null) | .code' "$tmp/json" | wc -l)" -eq 50 ] &&
   [ "$(tail -n 1 "$tmp/json" | jq -r .message)" = "50 errors, stopping" ]; then
  pass "cap/json"
else
  fail "cap/json" "expected 50 diagnostics and a final note" "$(tail -n 2 "$tmp/json")"
fi

# ---- Every code in diag.def has a golden test ----------------------------------
codes=$(grep -o '^DIAG([EW][0-9]\{4\}' compiler/diag.def | cut -c6-)
missing=""
for c in $codes; do
  grep -a -q -r -e "# expect [a-z]* $c " -e "\[$c\]" tests/check/err/ || missing="$missing $c"
done
if [ -z "$missing" ]; then pass "codes-covered"; else
  fail "codes-covered" "codes in compiler/diag.def without a test in tests/check/err/:$missing"; fi

# ---- docs/diagnostics.md is generated from diag.def ------------------------------
if "$iexc" --list-diagnostics | diff -u docs/diagnostics.md - >"$tmp/diff"; then
  pass "docs/diagnostics.md"
else
  fail "docs/diagnostics.md" "stale: run \`make docs\` and commit it" "$(head -n 20 "$tmp/diff")"
fi

# ---- The shipped connector schemas and flows check ---------------------------------
for f in connectors/*/*.schema flows/*.iexflow; do
  [ -e "$f" ] || continue
  out=$("$iexc" --check "$f" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then pass "shipped/$f"; else
    fail "shipped/$f" "status $rc" "$out"; fi
done

# ---- 100,000 lines: checked cleanly in under 64 MB (release build) -----------
# Speed is a bench/ figure (bench/check_large.sh, "well under a second"), not
# a test limit: a test timed on a busy machine measures the machine. Memory
# does not depend on load, so its limit stays here.
release="$IEX_ROOT/build/release/bin/iexc"
if [ -x "$release" ] && [ -x /usr/bin/time ]; then
  sh tests/check/gen_large_flow.sh 100000 >"$tmp/large.iexflow"
  /usr/bin/time -f '%U %S %e %M' -o "$tmp/time" "$release" --check --connectors tests/check/connectors "$tmp/large.iexflow" >"$tmp/out" 2>&1
  rc=$?
  read -r usr sys wall kb <"$tmp/time"
  cpu=$(awk "BEGIN{print $usr + $sys}")
  lines=$(wc -l <"$tmp/large.iexflow")
  if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ] && [ "$kb" -lt 65536 ]; then
    pass "large/100k-lines (${lines} lines: ${cpu} s CPU, ${wall} s wall, ${kb} KB)"
  else
    fail "large/100k-lines" "status $rc, ${cpu} s CPU, ${kb} KB (limit: 65536 KB)" "$(head -n 5 "$tmp/out")"
  fi
else
  fail "large/100k-lines" "needs build/release/bin/iexc and /usr/bin/time"
fi
exit 0
