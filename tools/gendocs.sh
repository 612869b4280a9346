#!/bin/sh
# make docs: regenerate the generated parts of docs/ from the .def files,
# through the programs that include them. Usage: sh tools/gendocs.sh BIN_DIR
# tests/check/run.sh fails when a committed file differs from this output.
set -eu
bin=${1:?usage: tools/gendocs.sh BIN_DIR}
cd "$(dirname "$0")/.."
"$bin/iexc" --list-diagnostics >docs/diagnostics.md.tmp
mv docs/diagnostics.md.tmp docs/diagnostics.md
echo "docs: wrote docs/diagnostics.md"
sh tools/gen_bytecode_doc.sh >docs/bytecode.md.tmp && mv docs/bytecode.md.tmp docs/bytecode.md && echo "docs: wrote docs/bytecode.md"
"$bin/gendoc" >docs/stdlib.md.tmp
mv docs/stdlib.md.tmp docs/stdlib.md
echo "docs: wrote docs/stdlib.md"
