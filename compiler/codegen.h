/*
** Code generation: a checked flow's AST -> a Program (runtime/bytecode.h).
**
** Runs after compile_check() left no errors. Every expression becomes a
** block of stack code; the flow's declarations become the graph nodes in
** the order written (docs/language.md, Steps). Literal files the flow
** names (`file("fixtures/order.json")`, `csv("products.csv")`) are read
** now, relative to the flow's folder, and kept as constants, so a
** compiled flow needs nothing but itself. The SHA-256 of the flow's text
** and of every file read goes into the Program.
**
** Names are resolved here by the language's scope rules (a local `let`,
** `for` variable or key-function parameter; a top-level `let`, step or the
** trigger binding; a table; otherwise an enumeration value, which is its
** own name as text), so code generation does not depend on the checker's
** annotations.
*/
#ifndef IEX_COMPILER_CODEGEN_H
#define IEX_COMPILER_CODEGEN_H

#include <stddef.h>

#include "compiler/compile.h"
#include "runtime/bytecode.h"

/* Compile the parsed (and checked) flow of `c`. Returns a new Program the
** caller owns (program_free), already verified; or NULL with a one-line
** message in `err` ("flows/x.iexflow:12:5: cannot read `fixtures/a.json`:
** No such file or directory"). */
Program *codegen_flow(Compilation *c, char *err, size_t err_size);

#endif /* IEX_COMPILER_CODEGEN_H */
