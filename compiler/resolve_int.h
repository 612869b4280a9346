/*
** Private to the resolver (resolve.h), which is three files:
**   resolve.c         scopes and names: declarations, the two passes over
**                     the flow, the trigger, steps, tables and tests;
**   resolve_expr.c    the type of every expression, calls included;
**   resolve_stdlib.c  stdlib.def's signatures, parsed into types.
** What they share: the resolver's state R and the functions each calls in
** the others.
*/
#ifndef IEX_COMPILER_RESOLVE_INT_H
#define IEX_COMPILER_RESOLVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/str.h"
#include "common/strmap.h"
#include "compiler/ast.h"
#include "compiler/compile.h"
#include "compiler/diag.h"
#include "compiler/resolve.h"
#include "compiler/source.h"
#include "compiler/types.h"

/* ---- stdlib.def's signatures (resolve_stdlib.c) ---------------------------- */

typedef struct StdParam {
  Str name;
  const Type *type;
  const char *deflt;  /* the default as written, or NULL */
  size_t deflt_len;
} StdParam;

typedef struct StdSig {
  const char *name;
  const char *family;
  const char *text;      /* the signature as stdlib.def writes it (messages) */
  StdParam params[8];
  uint32_t n_params;
  const Type *ret;
  bool always_nullable;  /* the doc says null comes back for other reasons */
} StdSig;

/* Every stdlib.def function's signature, parsed, in stdlib.def order (so
** indexed by StdFunction), `*n` of them, in arena `a`. A signature that
** does not parse has `ret` NULL. `rounding` is the type a `rounding`
** parameter has. */
StdSig *resolve_stdlib_signatures(Arena *a, const Type *rounding, uint32_t *n);

/* ---- The resolver's state (resolve.c) --------------------------------------- */

typedef struct R {
  Compilation *c;
  Arena *a;
  Diags *d;
  Resolved *res;
  AstBuilder b;
  StrMap globals;    /* connections, input, lets, steps, tables */
  StrMap settings;
  Decl **locals;     /* innermost last */
  size_t n_locals, cap_locals;
  uint32_t cur_order;  /* position of the top-level declaration being resolved */
  Decl *cur_step;
  bool in_test;
  StdSig *std;       /* n_std parsed signatures (ret NULL: did not parse) */
  uint32_t n_std;
  Decl **std_decls;  /* n_std, made on first use */
  Decl builtins[4];
  const Type *t_updates;
  size_t cap_conn, cap_settings, cap_lets, cap_steps, cap_tables;
  Str *facts;        /* paths known not to be null here (`if x != null`) */
  size_t n_facts, cap_facts;
} R;

/* A new Decl of `kind` (arena), typed `any` until its type is known; a
** top-level `let` or step remembers the declaration being resolved. */
Decl *resolve_new_decl(R *r, DeclKind kind, Str name, Span span, AstNode *node);
/* Where a top-level `let` or step is declared (its position in the file);
** 0 for other Decls. */
uint32_t resolve_decl_order(const Decl *d);
/* "a binding", "a step", ...: what a Decl is, for messages. */
const char *resolve_kind_word(DeclKind k);
/* The innermost local named `name`, or NULL. */
Decl *resolve_find_local(R *r, Str name);
/* Bring local `d` into scope with a slot of its own; reusing a name in
** scope is reported (E0205). Scopes end by resetting r->n_locals. */
void resolve_push_local(R *r, Decl *d);
/* The closest of `n` names to `name` for "did you mean", or NULL. */
const char *resolve_closest(R *r, Str name, const Str *names, size_t n);
/* The same over the keys of `m`. */
const char *resolve_closest_in_map(R *r, Str name, const StrMap *m);

static inline const char *tstr(R *r, const Type *t) { return type_str(&r->d->arena, t); }

static inline Str node_text(R *r, const AstNode *n) {
  const SourceFile *f = sources_file(&r->c->sources, n->span.file_id);
  return str_make(f->text + n->span.offset, n->span.len);
}

static inline Decl *resolve_builtin(R *r, Builtin b) { return &r->builtins[b]; }

/* ---- Expressions (resolve_expr.c) ------------------------------------------- */

/* Type expression `n` (and everything in it), annotating node->type and
** node->decl; `expect` is the type the context wants, or NULL (see
** resolve_expr.c). Returns the type, never NULL. */
const Type *resolve_expr(R *r, AstNode *n, const Type *expect);
/* Type `n` as a condition: it must be bool (E0305, E0307); `what` names
** it in messages ("the `where` condition"). */
void resolve_condition(R *r, AstNode *n, const char *what);
/* Record the paths `cond` proves not null when it is `when_true`, for
** narrowing; undone by resetting r->n_facts. */
void resolve_add_facts(R *r, AstNode *cond, bool when_true);
/* Type a key function `x => body` with `x` of type `param`. */
const Type *resolve_lambda(R *r, AstNode *lam, const Type *param, const Type *expect_body);
/* The join of `a` and `b`, or `any` after reporting (E0313) that `what`
** (at `at`) does not fit the values before it. */
const Type *resolve_join_or_report(R *r, const Type *a, const Type *b, AstNode *at,
                                   const char *what);
/* Report that `value` (at `n`) is not a value of enumeration `en` (E0306). */
void resolve_report_not_in_enum(R *r, AstNode *n, Str value, const Type *en);

#endif /* IEX_COMPILER_RESOLVE_INT_H */
