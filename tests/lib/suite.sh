# Shared by the shell suites that drive `iex` commands (tests/runtime,
# tests/usage). Source it after setting SUITE (the name in PASS/FAIL lines)
# and tmp (the suite's scratch directory; its `out`, `err` and `rc` files
# hold the last command's output and exit status). HAS_GREP sets how `has`
# matches: "-q" (basic regular expressions, the default) or "-Eq".
pass() { echo "PASS $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: $2"; shift 2; for l in "$@"; do echo "    $l"; done; }
# out COMMAND...: run it, keeping its output and status for rc/has.
out() { "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc"; }
rc() { cat "$tmp/rc"; }
has() { grep ${HAS_GREP:--q} -- "$1" "$tmp/out" "$tmp/err"; }
show_out() { sed 's/^/    /' "$tmp/out" "$tmp/err" | head -20; }
