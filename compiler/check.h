/*
** The checks of `iexc --check` that come after names and types (check.c):
** step bodies against the records their operations take (unknown and
** read-only fields, required fields on every path, types), operation
** arguments, unused bindings, settings and connections, and the files a
** flow names (Lua, CSV tables, test fixtures).
**
** check_flow() runs after resolve_flow() on the annotated AST. The other
** functions are called by the resolver (resolve.c, resolve_expr.c) where
** it meets the thing checked.
*/
#ifndef IEX_COMPILER_CHECK_H
#define IEX_COMPILER_CHECK_H

#include "compiler/ast.h"
#include "compiler/types.h"

typedef struct Compilation Compilation;  /* compile.h */

void check_flow(Compilation *c);

/* Report (E0304, E0305, E0306) when a value of type `got` cannot go where
** `want` is expected. `what` names the place: "the default",
** "parameter `mode`", "field `currency`". */
void check_value(Compilation *c, AstNode *value, const Type *got, const Type *want,
                 const char *what);

/* A test fixture `file("PATH")`: it must exist next to the flow and be
** JSON (E0607). `path` is the STRING node. */
void check_fixture(Compilation *c, AstNode *path);

/* A CSV lookup table `csv("PATH")`: it must exist next to the flow
** (E0603) and be well-formed (E0604) as common/csv.h reads it, the reader
** iexc compiles the table with. Returns the type of a row, a record of
** string fields named by the header, or NULL when it cannot be read. */
const Type *check_csv_table(Compilation *c, AstNode *path);

#endif /* IEX_COMPILER_CHECK_H */
