#!/bin/sh
# make lint: mechanical checks on the C sources.
#  1. Include directions (STYLE.md 3.1): compiler/ includes common/ and only
#     the runtime contract headers; runtime/ never includes compiler/;
#     common/ includes nothing of ours but common/.
#  2. Banned functions (curl's checksrc list that matters to us).
#  3. Every header compiles on its own.
# Prints one line per problem and exits 1 if there is any.
set -u
cd "$(dirname "$0")/.." || exit 2
status=0
problem() { echo "lint: $*"; status=1; }

files=$(git ls-files '*.c' '*.h' '*.re' '*.y' 2>/dev/null)

# 1. include directions
for f in $files; do
  case $f in
    common/*)
      grep -n '#include "' "$f" | grep -v '#include "common/' | while IFS= read -r l; do
        echo "lint: $f:${l%%:*}: common/ may include only common/ headers"; done ;;
    compiler/*)
      grep -n '#include "runtime/' "$f" \
        | grep -v -E '#include "runtime/(opcodes\.def|bytecode\.h|value\.h|status\.def|vm\.h|host\.h|json_value\.h|lua_bridge\.h)"' \
        | while IFS= read -r l; do
            echo "lint: $f:${l%%:*}: compiler/ may include only the runtime contract headers"; done ;;
    runtime/*|stdlib/*|connectors/*)
      grep -n '#include "compiler/' "$f" | while IFS= read -r l; do
        echo "lint: $f:${l%%:*}: $(dirname "$f")/ must not include compiler/"; done ;;
  esac
done > build-lint.tmp 2>/dev/null
if [ -s build-lint.tmp ]; then cat build-lint.tmp; status=1; fi
rm -f build-lint.tmp

# 2. banned functions
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets)[[:space:]]*\('
for f in $files; do
  grep -n -E "$banned" "$f" | grep -v 'lint: allow' | while IFS= read -r l; do
    echo "lint: $f:${l%%:*}: banned function: $(echo "$l" | grep -o -E "$banned")"
  done
done > build-lint.tmp
if [ -s build-lint.tmp ]; then cat build-lint.tmp; status=1; fi
rm -f build-lint.tmp

# 3. self-contained headers
cflags="-std=c11 -D_GNU_SOURCE -I. -Ibuild/release -Wall -Wextra -Werror $(pkg-config --cflags lua5.4 libcurl jansson sqlite3 libmicrohttpd 2>/dev/null)"
for h in $(git ls-files '*.h'); do
  case $h in tests/*) continue ;; esac
  if ! printf '#include "%s"\n#include "%s"\n' "$h" "$h" | ${CC:-gcc} $cflags -x c -fsyntax-only - 2>/dev/null; then
    problem "$h does not compile on its own (or twice)"
  fi
done

[ $status -eq 0 ] && echo "lint: ok"
exit $status
