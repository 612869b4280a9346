/*
** A compilation: one flow (or one schema file) and everything checked
** with it, taken through the phases of iexc.
**
** The Compilation owns the arena (AST, names, later types and IR), the
** loaded sources, the diagnostics and the parsed connector schemas, and
** frees them all in compile_free(). Phases are functions that take the
** Compilation and append to its diagnostics:
**
**   compile_parse()        lex + parse the main file          (parse.c)
**   compile_load_schemas() find, read and parse the .schema files of the
**                          connectors the flow `use`s
**   resolve_flow()         names and types (resolve.h)         (resolve*.c)
**   check_flow()           every other rule of --check          (check.c)
**   -- lower, codegen plug in after these (compile.c, compile_check());
**      each runs only if the ones before it left no errors, so it may
**      assume a well-formed AST.
**
** I/O failures (a file that cannot be read) are not diagnostics: they set
** `io_error` and the caller exits with status 2.
*/
#ifndef IEX_COMPILER_COMPILE_H
#define IEX_COMPILER_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/parse.h"
#include "compiler/source.h"

typedef struct CompileOptions {
  const char *connectors_dir;  /* --connectors DIR, or NULL to search (see below) */
  const char *exe_path;        /* iexc's own path, for the search; may be NULL */
  size_t max_errors;           /* 0: DIAG_MAX_ERRORS */
  bool no_schemas;             /* never read connector schemas (fuzzing) */
  bool no_files;               /* never read the files a flow names: Lua,
                                  CSV tables, test fixtures, sibling
                                  schemas (fuzzing) */
} CompileOptions;

/* The schema of one connector a flow uses. */
typedef struct ConnectorSchema {
  Str system;          /* the name after `use x:`; arena-owned */
  Span used_at;        /* the first `use` that names it */
  bool found;          /* its folder and at least one .schema file exist */
  AstList files;       /* AST_FILE per .schema file, in file-name order */
  struct Connector *conn; /* its types (schema.c), once resolve_flow() ran */
} ConnectorSchema;

typedef struct Compilation {
  CompileOptions opt;        /* copied; its strings are borrowed */
  Arena arena;               /* owns AST nodes and everything phases build */
  Sources sources;           /* every file read: the main file is the first */
  Diags diags;
  uint32_t main_file;        /* file_id of the flow (or schema) being compiled */
  ParseMode main_mode;
  AstNode *flow;             /* AST_FILE of the main file; NULL before parsing */
  ConnectorSchema *schemas;  /* owned (malloc'd array) */
  size_t n_schemas;
  size_t cap_schemas;
  char *connectors_dir;      /* owned; where schemas were found, or NULL */
  bool connectors_searched;  /* the search for connectors_dir has run */
  struct Resolved *resolved; /* resolve_flow()'s result (resolve.h), or NULL */
  bool has_io_error;
  char io_error[512];        /* one line, for "iexc: <io_error>" */
} Compilation;

/* A new, empty compilation. The caller owns it; free with compile_free(). */
Compilation *compile_new(const CompileOptions *opt);
void compile_free(Compilation *c);

/* Read the main file from `path`: a `.schema` file is parsed as a connector
** schema, anything else as a flow. Returns false on an I/O error. */
bool compile_load(Compilation *c, const char *path);
/* Use `len` bytes of `text` (copied) as the main file, named `name`. */
void compile_set_text(Compilation *c, const char *name, const char *text, size_t len,
                      ParseMode mode);

/* Phases (see the file comment). Each may be called once, in order. */
void compile_parse(Compilation *c);
void compile_load_schemas(Compilation *c);

/* Run every phase that is implemented, stopping after the first that
** reports errors. Returns true when there are no errors (warnings are
** allowed) and no I/O error. This is `iexc --check`. */
bool compile_check(Compilation *c);

/* Print c's diagnostics, sorted (text to stderr, JSON to stdout), then
** its I/O error, if any, as "iexc: <io_error>" on stderr. Returns whether
** there was an I/O error (exit status 2). */
bool compile_report(Compilation *c, DiagFormat format);

/* The path of a file the flow names (a Lua file, a CSV table, a test
** fixture): `name` itself when absolute, else `name` in the main file's
** folder. In c's arena. */
const char *compile_path_beside(Compilation *c, Str name);

/* The schema of connector `system`, or NULL if the flow does not use it. */
const ConnectorSchema *compile_schema(const Compilation *c, Str system);

#endif /* IEX_COMPILER_COMPILE_H */
