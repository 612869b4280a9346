#!/usr/bin/env bash
# Fuzz suite of `make test` (STYLE.md 3.9): replays the corpus and every
# golden test input through the fuzz target under ASan/UBSan (gcc test
# build), then inputs made to hurt (10 MB on one line, 100,000 nested
# brackets, 100,000 errors, deep operator chains, truncated flows, binary
# data), then a short real libFuzzer session (tests/fuzz/fuzz.sh).
set -u
cd "$IEX_ROOT" || exit 2
replay="$IEX_BUILD/tests/fuzz/replay_compile"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# replay <label> <max seconds> <paths...>
replay() {
  local label=$1 limit=$2
  shift 2
  local start rc
  start=$(date +%s%N)
  timeout "$limit" "$replay" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  local secs="$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  if [ $rc -ne 0 ]; then
    echo "FAIL fuzz/$label: status $rc after ${secs}s on $(grep '^replay: ' "$tmp/err" | tail -n 1 | cut -c9-)"
    grep -v '^replay: ' "$tmp/err" | head -n 30 | sed 's/^/    /'
  else
    grep '^FAIL' "$tmp/out"
    echo "PASS fuzz/$label ($(grep -c '^replay: ' "$tmp/err") inputs, ${secs}s)"
  fi
}

replay corpus 120 tests/fuzz/corpus tests/check/ok tests/check/err tests/check/connectors \
  connectors flows

# Inputs made to hurt; each must finish (bounded time and memory, no crash).
mkdir -p "$tmp/nasty"
python3 - "$tmp/nasty" <<'PY'
import os, random, sys
d = sys.argv[1]
def put(name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())
mb10 = 10 * 1024 * 1024
put('long-line-name', 'flow x "d"\nlet a = ' + 'a' * mb10 + '\n')
put('long-line-string', 'flow x "d"\nlet a = "' + 'b' * mb10 + '"\n')
put('long-line-comment', '# ' + 'c' * mb10)
put('long-line-unterminated', 'let a = "' + 'd' * mb10)
put('long-line-stray', '$' * mb10)
put('long-line-expression-1mb', 'flow x "d"\nlet a = ' + '1 + ' * (1024 * 256) + '1\n')
for ch, name in (('(', 'parens'), ('[', 'lists'), ('{', 'braces'), ('([{', 'mixed')):
    put('nested-' + name + '-100k', 'flow x "d"\nlet a = ' + ch * (100000 // len(ch)))
put('nested-closed-100k', 'let a = ' + '(' * 100000 + '1' + ')' * 100000)
put('nested-strings', 'let a = ' + '"{' * 50000)
put('not-chain-100k', 'let a = ' + 'not ' * 100000 + 'x\n')
put('minus-chain-100k', 'let a = ' + '-' * 100000 + '1\n')
put('coalesce-chain-100k', 'let a = ' + 'a ?? ' * 100000 + 'b\n')
put('if-chain-10k', 'let a = ' + 'if c then 1 else ' * 10000 + '0\n')
put('errors-100k', 'flow x "d"\n' + 'let x = = 1\n' * 100000)
put('unclosed-100k', 'step a = {\n' * 100000)
put('closers-100k', ')]}' * 100000)
r = random.Random(1)
put('random-1mb', bytes(r.randrange(256) for _ in range(1024 * 1024)))
put('random-ascii-1mb', bytes(r.choice(b'abc =(){}[]"\\{}\n.,:|?+-*/#@0123456789') for _ in range(1024 * 1024)))
# Every valid flow cut at several places, including inside strings.
src = 'tests/check/ok'
for name in sorted(os.listdir(src)):
    if not name.endswith(('.iexflow', '.schema')):
        continue
    data = open(os.path.join(src, name), 'rb').read()
    for i, cut in enumerate(sorted(set([1, len(data) // 3, len(data) // 2, 2 * len(data) // 3,
                                        max(0, data.find(b'"') + 3), max(0, data.find(b'{') + 1)]))):
        put('truncated-%s-%d' % (name, i), data[:cut])
PY
for f in "$tmp"/nasty/*; do
  replay "nasty/$(basename "$f")" 60 "$f"
done

sh tests/fuzz/fuzz.sh "${IEX_FUZZ_SECONDS:-25}"
