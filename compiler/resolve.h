/*
** Name resolution and typing: what every name in a flow refers to, and the
** static type of every expression. This is the contract between the
** checker and code generation.
**
** resolve_flow() (after parsing and loading schemas) annotates the AST in
** place and builds a Resolved (Compilation.resolved). check_flow() (check.c)
** then reports what is wrong. Code generation runs only when both left no
** errors, and may then rely on everything below.
**
** What codegen can rely on, node by node (after an error-free check):
**
**  - Every expression node has `node->type` (types.h), never NULL. A node
**    whose type is TY_NEVER always stops the transfer (skip/fail).
**  - NAME: `node->decl` is the Decl it refers to (DECL_INPUT, DECL_LET,
**    DECL_LOCAL, DECL_STEP, DECL_FOR_VAR, DECL_FOR_INDEX, DECL_KEY_PARAM,
**    DECL_TABLE), or a DECL_ENUM_VALUE: the name is an enumeration value in
**    an enum context (`mode: draft`, `x == booked`, a `match` pattern, a
**    setting default); its value is the string AstText.text.
**  - STRING used as an enum value keeps kind STRING (decl NULL), type enum.
**  - FIELD `settings.NAME`: decl = the DECL_SETTING. Any other FIELD: decl
**    NULL, type = the field's type (nullable when the object may be null or
**    the field is not required).
**  - FIELD whose object is a NAME of a DECL_CONNECTION appears only as the
**    callee of a Lua call (below).
**  - INDEX: left is a list (right int: element from 0), a table (a
**    DECL_TABLE name or a `table of` setting; right is the key), or a record
**    (right a string: the field).
**  - CALL: `node->decl` says what is called:
**      DECL_STDLIB   decl->index is the StdFunction number (stdlib.def
**                    position); AstCall.argv/argc hold the argument values
**                    in signature order, defaults filled in (literal nodes;
**                    a `rounding = flow` default is a NAME node with a
**                    DECL_ENUM_VALUE decl naming the flow's rule). A key
**                    function argument is the LAMBDA node itself.
**      DECL_LUA_FN   decl->name is the Lua function, decl->conn the
**                    DECL_CONNECTION (its lua_path the file); argv/argc the
**                    arguments as written (Lua takes positional ones only).
**      DECL_BUILTIN  decl->index is a Builtin: skip(reason), fail(reason)
**                    (argc 1, a string), file(path) (tests; argc 1, a
**                    STRING), csv(path) (table sources; argc 1, a STRING).
**  - LAMBDA: decl = its DECL_KEY_PARAM; value = the body (typed).
**  - FOR: AstFor.base.decl = the DECL_FOR_VAR; the index Decl (`for x, n`)
**    is reached through Decl.index_decl of the element's Decl (NULL without).
**  - LET (top level or entry), STEP, SETTING, TABLE: node->decl = the Decl
**    they declare. Step Decls carry the Operation and its arguments.
**  - RECORD literal: type is a TY_RECORD of the fields it sets; for a step
**    body or a nested record checked against a schema it is that schema
**    type. FIELD_ENTRY: node->type = the value's type.
**
** Slots. Settings, steps, top-level lets and tables are numbered in
** declaration order from 0 per kind (Decl.index). Every local (DECL_LOCAL,
** DECL_FOR_VAR, DECL_FOR_INDEX, DECL_KEY_PARAM) has a slot unique in the
** whole flow, 0 .. Resolved.n_local_slots-1, so one frame of that size
** holds them all.
**
** Ownership: Decls, the Resolved and every Type live in the compilation's
** arena and die with it.
*/
#ifndef IEX_COMPILER_RESOLVE_H
#define IEX_COMPILER_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/str.h"
#include "compiler/ast.h"
#include "compiler/types.h"

typedef struct Compilation Compilation;  /* compile.h */

typedef enum DeclKind {
  DECL_INPUT,       /* the trigger record: `order` (or `on ... as NAME`) */
  DECL_CONNECTION,  /* `use NAME: SYSTEM` or `use NAME: lua "FILE"` */
  DECL_SETTING,     /* `setting NAME: ...`, read as settings.NAME */
  DECL_LET,         /* top-level `let` */
  DECL_STEP,        /* `step NAME = ...`: its result */
  DECL_TABLE,       /* `table NAME ...` */
  DECL_LOCAL,       /* `let` inside a record */
  DECL_FOR_VAR,     /* the element of `for X in ...` */
  DECL_FOR_INDEX,   /* the position of `for X, N in ...`, from 1 */
  DECL_KEY_PARAM,   /* the parameter of a key function `x => ...` */
  DECL_STDLIB,      /* a stdlib.def function */
  DECL_LUA_FN,      /* a function of a Lua file */
  DECL_BUILTIN,     /* skip, fail, file, csv */
  DECL_ENUM_VALUE,  /* an enumeration value used in an enum context */
} DeclKind;

typedef enum Builtin {
  BUILTIN_SKIP,
  BUILTIN_FAIL,
  BUILTIN_FILE,
  BUILTIN_CSV,
} Builtin;

typedef struct Decl Decl;
struct Decl {
  DeclKind kind;
  Str name;              /* as declared */
  Span span;             /* the declaring name (or the use, for functions) */
  AstNode *node;         /* the declaring node (LET, STEP, SETTING, TABLE,
                            USE, FOR, LAMBDA, TRIGGER); NULL for functions */
  const Type *type;      /* of the value the name stands for; for a STEP the
                            operation's `returns` (nullable with `when`) */
  uint32_t index;        /* slot or number, see the file comment;
                            STDLIB: StdFunction; BUILTIN: Builtin */
  uint32_t uses;         /* references found (for unused warnings) */
  Decl *index_decl;      /* FOR_VAR: the DECL_FOR_INDEX, or NULL */
  /* CONNECTION */
  const Connector *connector; /* the system's schema; NULL for Lua or unknown */
  const char *lua_path;       /* Lua file path as resolved (arena), or NULL */
  /* LUA_FN */
  Decl *conn;
  /* STEP */
  Decl *step_conn;            /* the connection, or NULL for a computed step */
  const Operation *op;        /* NULL for a computed step */
  AstNode **op_args;          /* op->params->n_fields values in parameter
                                 order (NULL where left out) */
  const Type *body_type;      /* the record the body must build (op->takes),
                                 or NULL (takes nothing / computed step) */
};

/* Everything resolve_flow() found, in declaration order. */
typedef struct Resolved {
  Decl *input;                 /* the trigger binding; NULL without a trigger */
  const Connector *trigger_connector;
  const TriggerDecl *trigger;  /* the schema's trigger declaration */
  Decl **connections;  uint32_t n_connections;
  Decl **settings;     uint32_t n_settings;
  Decl **lets;         uint32_t n_lets;
  Decl **steps;        uint32_t n_steps;
  Decl **tables;       uint32_t n_tables;
  uint32_t n_local_slots;
  Str rounding;                /* the flow's rule: "half_up" unless `rounding` */
  const Type *rounding_type;   /* the enumeration of rounding rules */
} Resolved;

/* Resolve and type the flow of `c` (c->flow, c->schemas); reports E02xx and
** E03xx diagnostics, sets c->resolved. Runs only on a flow without syntax
** errors. */
void resolve_flow(Compilation *c);

/* Build connector types for a schema compiled on its own (`iexc --check
** x.schema`), reporting what schema_build() reports. */
void resolve_schema(Compilation *c);

/* The stdlib function named `name`: its StdFunction number, or -1. */
int resolve_stdlib_lookup(Str name);
/* Its parsed signature: parameter count and types (stdlib.def syntax),
** for code generation's sanity checks. */
uint32_t resolve_stdlib_arity(int fn);

#endif /* IEX_COMPILER_RESOLVE_H */
