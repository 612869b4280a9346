/*
** The parser: one file's tokens -> its AST (an AST_FILE node).
**
** parse_file() drives the lexer (lexer.h) and the Lemon parser generated
** from grammar.y, the way SQLite's tokenize.c drives parse.y. Syntax errors
** are collected, not fatal: Lemon's `error` token and the recovery in
** parse.c resynchronise at the next declaration or record entry, so one run
** reports every independent mistake without cascades.
**
** String literals are parsed here too: escapes are decoded, and each
** `{expr}` interpolation is lexed and parsed as an expression on its own,
** with spans in the enclosing file.
*/
#ifndef IEX_COMPILER_PARSE_H
#define IEX_COMPILER_PARSE_H

#include <stdint.h>

#include "common/arena.h"
#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/source.h"

typedef enum ParseMode {
  PARSE_FLOW,    /* a .iexflow file: must start with `flow` (E0107) */
  PARSE_SCHEMA,  /* a connector's .schema file */
} ParseMode;

/* Parse file `file_id` of `sources`. Nodes are allocated in `arena`,
** diagnostics go to `diags`. Always returns an AST_FILE node (with the
** declarations that could be parsed), never NULL. */
AstNode *parse_file(Arena *arena, Diags *diags, const Sources *sources,
                    uint32_t file_id, ParseMode mode);

#endif /* IEX_COMPILER_PARSE_H */
