/*
** The type of every expression of a flow (resolve_int.h): names, fields,
** operators, calls of stdlib and Lua functions and the builtins, records,
** lists, `for`, `match`, `if` and `??`; each node gets node->type (and
** node->decl where it names something).
**
** Expected types flow down: an operation argument, a setting default, a
** record entry whose target field is known, the other side of a
** comparison. They decide what a bare name means in an enum context (an
** enumeration value wins over a binding of the same name, see
** docs/language.md) and which record type a record literal builds; check.c
** then compares what was built with what was expected.
**
** Errors here never stop the walk: an unknown name gets type `any`, which
** fits everywhere, so one mistake gives one diagnostic.
*/
#include "compiler/resolve_int.h"

#include "common/util.h"
#include "compiler/check.h"

#include <stdlib.h>
#include <string.h>

/* ---- Expressions ----------------------------------------------------------- */

/* Narrowing: inside `if x != null { ... }` (and the `else` of `x == null`)
** the path `x` is not null. Facts are the paths' source text, so
** `order.shipping_address` narrows every later `order.shipping_address`. */
void resolve_add_facts(R *r, AstNode *cond, bool when_true) {
  if (cond->kind == (when_true ? AST_AND : AST_OR)) {
    resolve_add_facts(r, AST_AS(AstBinary, cond)->left, when_true);
    resolve_add_facts(r, AST_AS(AstBinary, cond)->right, when_true);
    return;
  }
  if (cond->kind == AST_NOT) {
    resolve_add_facts(r, AST_AS(AstUnary, cond)->operand, !when_true);
    return;
  }
  if (cond->kind != (when_true ? AST_NE : AST_EQ)) return;
  AstBinary *b = AST_AS(AstBinary, cond);
  AstNode *path = b->right->kind == AST_NULL ? b->left : b->left->kind == AST_NULL ? b->right : NULL;
  if (!path || (path->kind != AST_NAME && path->kind != AST_FIELD && path->kind != AST_INDEX)) return;
  const SourceFile *f = sources_file(&r->c->sources, path->span.file_id);
  VEC_PUSH(r->facts, r->n_facts, r->cap_facts, str_make(f->text + path->span.offset, path->span.len));
}

static const Type *narrow(R *r, AstNode *n, const Type *t) {
  if (t->kind != TY_NULLABLE || !r->n_facts) return t;
  const SourceFile *f = sources_file(&r->c->sources, n->span.file_id);
  Str text = str_make(f->text + n->span.offset, n->span.len);
  for (size_t i = 0; i < r->n_facts; i++)
    if (str_eq(r->facts[i], text)) return t->elem;
  return t;
}

static const Type *set_type(AstNode *n, const Type *t) {
  n->type = t;
  return t;
}

/* A condition: must be bool. */
void resolve_condition(R *r, AstNode *n, const char *what) {
  const Type *t = resolve_expr(r, n, type_prim(TY_BOOL));
  if (t->kind == TY_BOOL || t->kind == TY_ANY || t->kind == TY_NEVER) return;
  if (t->kind == TY_NULLABLE && t->elem->kind == TY_BOOL) {
    Diag *dg = diag_report(r->d, DIAG_E0305, n->span, "%s may be null", what);
    diag_help(r->d, dg, "say what null means: `(%s) ?? false`",
              diag_quote(r->d, node_text(r, n)));
    return;
  }
  Diag *dg = diag_report(r->d, DIAG_E0307, n->span, "%s must be `bool`, not `%s`", what,
                         tstr(r, t));
  diag_help(r->d, dg, "there is no truthiness: compare explicitly, e.g. `x != null` or `x != \"\"`");
}

static const Type *enum_of(const Type *expect) {
  if (!expect) return NULL;
  expect = type_strip(expect);
  if (expect->kind == TY_LIST) expect = type_strip(expect->elem);  /* `x in [a, b]` */
  return expect->kind == TY_ENUM ? expect : NULL;
}

void resolve_report_not_in_enum(R *r, AstNode *n, Str value, const Type *en) {
  Diag *dg = en->n_values > 6 && en->name.len
                 ? diag_report(r->d, DIAG_E0306, n->span, "`%s` is not a value of `%.*s`",
                               diag_quote(r->d, value), STR_FMT(en->name))
                 : diag_report(r->d, DIAG_E0306, n->span, "`%s` is not one of `%s`",
                               diag_quote(r->d, value), tstr(r, en));
  const char *best = resolve_closest(r, value, en->values, en->n_values);
  if (best) {
    diag_help(r->d, dg, "did you mean `%s`?", best);
  } else if (en->n_values > 6) {
    Buf b;
    buf_init(&b, 0);
    for (uint32_t i = 0; i < en->n_values; i++)
      buf_printf(&b, "%s%.*s", i ? ", " : "", STR_FMT(en->values[i]));
    diag_help(r->d, dg, "the values are: %s", buf_cstr(&b));
    buf_fini(&b);
  }
}

static Decl enum_value_decl = {.kind = DECL_ENUM_VALUE};

static const Type *name_expr(R *r, AstNode *n, const Type *expect) {
  Str name = AST_AS(AstText, n)->text;
  const Type *en = enum_of(expect);
  if (en && type_enum_has(en, name)) {
    n->decl = &enum_value_decl;
    return set_type(n, en);
  }
  Decl *d = resolve_find_local(r, name);
  if (!d) d = strmap_get(&r->globals, name);
  if (!d) {
    if (en) {
      resolve_report_not_in_enum(r, n, name, en);
      return set_type(n, type_prim(TY_ANY));
    }
    Diag *dg;
    if (resolve_stdlib_lookup(name) >= 0) {
      dg = diag_report(r->d, DIAG_E0202, n->span, "`%s` is a function, not a value",
                       diag_quote(r->d, name));
      diag_help(r->d, dg, "call it: `%s(...)`", diag_quote(r->d, name));
      return set_type(n, type_prim(TY_ANY));
    }
    dg = diag_report(r->d, DIAG_E0202, n->span, "unknown name `%s`", diag_quote(r->d, name));
    const char *best = NULL;
    for (size_t i = r->n_locals; i-- > 0 && !best;) {
      Str one = r->locals[i]->name;
      best = resolve_closest(r, name, &one, 1);
    }
    if (!best) best = resolve_closest_in_map(r, name, &r->globals);
    if (best) {
      diag_help(r->d, dg, "did you mean `%s`?", best);
    } else if (strmap_get(&r->settings, name)) {
      diag_help(r->d, dg, "settings are read as `settings.%s`", diag_quote(r->d, name));
    } else if (r->res->input) {
      diag_help(r->d, dg, "the trigger record is `%s`; bindings are declared with `let`",
                diag_quote(r->d, r->res->input->name));
    }
    return set_type(n, type_prim(TY_ANY));
  }
  if (d->kind == DECL_CONNECTION) {
    Diag *dg = diag_report(r->d, DIAG_E0202, n->span, "`%s` is a connection, not a value",
                           diag_quote(r->d, name));
    diag_help(r->d, dg, "steps send through it: `step x = %s.RECORD.OPERATION(...) { ... }`",
              diag_quote(r->d, name));
    return set_type(n, type_prim(TY_ANY));
  }
  if ((d->kind == DECL_LET || d->kind == DECL_STEP) && !r->in_test &&
      resolve_decl_order(d) >= r->cur_order) {
    if (d->kind == DECL_STEP) {
      bool self = r->cur_step == d;
      Diag *dg = diag_report(r->d, DIAG_E0501, n->span,
                             self ? "step `%s` uses its own result"
                                  : "step `%s` is used before it is declared",
                             diag_quote(r->d, name));
      diag_help(r->d, dg, self ? "a step's result exists only after it ran; use the values "
                                 "it is built from instead"
                               : "steps run in the order they are written: move this use "
                                 "after the step, or the step before it");
    } else {
      Diag *dg = diag_report(r->d, DIAG_E0203, n->span, "`%s` is used before it is declared",
                             diag_quote(r->d, name));
      diag_help(r->d, dg, "move `let %s` above its first use", diag_quote(r->d, name));
    }
  }
  d->uses++;
  n->decl = d;
  return set_type(n, narrow(r, n, d->type));
}

/* The type a field access yields: nullable when the object may be null or
** the field is optional. */
static const Type *field_type(R *r, const Type *obj, const TypeField *f) {
  const Type *t = f->type;
  if (!f->required || type_is_nullable(obj)) t = type_nullable(r->a, t);
  return t;
}

static const Type *access_field(R *r, AstNode *n, const Type *obj, Ident name) {
  const Type *s = type_strip(obj);
  if (s->kind == TY_ANY || s->kind == TY_NEVER) return type_prim(TY_ANY);
  if (obj->kind == TY_NULL) return type_prim(TY_NULL);
  if (s->kind != TY_RECORD) {
    Diag *dg = diag_report(r->d, DIAG_E0311, name.span, "`%s` is %s `%s`, which has no fields",
                           diag_quote(r->d, node_text(r, AST_AS(AstField, n)->object)),
                           s->kind == TY_LIST ? "a list," : "of type", tstr(r, s));
    if (s->kind == TY_LIST)
      diag_help(r->d, dg, "take one element (`[0]`, `first(...)`, `find(...)`) or map "
                          "every element: `for x in %s => x.%s`",
                diag_quote(r->d, node_text(r, AST_AS(AstField, n)->object)),
                diag_quote(r->d, name.text));
    return type_prim(TY_ANY);
  }
  const TypeField *f = type_field(s, name.text);
  if (!f) {
    if (s->open) return type_prim(TY_ANY);
    Diag *dg = diag_report(r->d, DIAG_E0212, name.span, "unknown field `%s` on %s",
                           diag_quote(r->d, name.text),
                           s->name.len ? tstr(r, s) : "this record");
    const char *best = type_suggest_field(&r->d->arena, s, name.text);
    if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
    else if (s->name.len) diag_help(r->d, dg, "if the system sends it, add it to the schema "
                                              "of %s first", tstr(r, s));
    return type_prim(TY_ANY);
  }
  return field_type(r, obj, f);
}

static const Type *settings_field(R *r, AstNode *n) {
  AstField *f = AST_AS(AstField, n);
  Decl *d = strmap_get(&r->settings, f->name.text);
  if (!d) {
    Diag *dg = diag_report(r->d, DIAG_E0401, f->name.span, "unknown setting `%s`",
                           diag_quote(r->d, f->name.text));
    const char *best = resolve_closest_in_map(r, f->name.text, &r->settings);
    if (best) diag_help(r->d, dg, "did you mean `settings.%s`?", best);
    else diag_help(r->d, dg, "declare it: `setting %s: TYPE = DEFAULT \"what it does\"`",
                   diag_quote(r->d, f->name.text));
    return set_type(n, type_prim(TY_ANY));
  }
  d->uses++;
  n->decl = d;
  f->object->type = type_prim(TY_ANY);
  return set_type(n, d->type);
}

static bool is_null_lit(const AstNode *n) { return n->kind == AST_NULL; }

static const Type *arith(R *r, AstNode *n) {
  AstBinary *b = AST_AS(AstBinary, n);
  const Type *l = resolve_expr(r, b->left, NULL);
  const Type *rt = resolve_expr(r, b->right, NULL);
  bool nullable = type_is_nullable(l) || type_is_nullable(rt);
  const Type *sl = type_strip(l), *sr = type_strip(rt);
  if (sl->kind == TY_ANY || sr->kind == TY_ANY) return set_type(n, type_prim(TY_ANY));
  if (sl->kind == TY_NEVER || sr->kind == TY_NEVER) return set_type(n, type_prim(TY_NEVER));
  const Type *res = NULL;
  if (n->kind == AST_ADD && (sl->kind == TY_STRING || sl->kind == TY_ENUM) &&
      (sr->kind == TY_STRING || sr->kind == TY_ENUM)) {
    res = type_prim(TY_STRING);
  } else if (type_is_numeric(sl) && type_is_numeric(sr)) {
    if (sl->kind == TY_INT && sr->kind == TY_INT && n->kind != AST_DIV) res = type_prim(TY_INT);
    else if (sl->kind == TY_MONEY || sr->kind == TY_MONEY) res = type_prim(TY_MONEY);
    else res = type_prim(TY_DECIMAL);
  }
  if (!res) {
    const char *op = ast_kind_name((AstKind)n->kind);
    Diag *dg = diag_report(r->d, DIAG_E0308, n->span, "`%s` cannot be applied to `%s` and `%s`",
                           op, tstr(r, l), tstr(r, rt));
    if ((sl->kind == TY_STRING && type_is_numeric(sr)) || (sr->kind == TY_STRING && type_is_numeric(sl)))
      diag_help(r->d, dg, "read a number from text with `decimal(...)` or `int(...)`; "
                          "write it as text with interpolation \"{...}\"");
    else if (n->kind == AST_ADD)
      diag_help(r->d, dg, "`+` adds numbers or joins two strings");
    return set_type(n, type_prim(TY_ANY));
  }
  return set_type(n, nullable ? type_nullable(r->a, res) : res);
}

static bool comparable(const Type *a, const Type *b) {
  a = type_strip(a);
  b = type_strip(b);
  if (a->kind == TY_NULL || b->kind == TY_NULL) return true;
  return type_assignable(a, b) || type_assignable(b, a) ||
         (type_is_numeric(a) && type_is_numeric(b));
}

static const Type *compare(R *r, AstNode *n) {
  AstBinary *b = AST_AS(AstBinary, n);
  const Type *l, *rt;
  /* Type the side that is not a bare name first, so a name on the other
  ** side can be an enumeration value. */
  if (b->left->kind == AST_NAME && b->right->kind != AST_NAME) {
    rt = resolve_expr(r, b->right, NULL);
    l = resolve_expr(r, b->left, n->kind == AST_IN ? type_strip(rt)->kind == TY_LIST ? type_strip(rt)->elem : NULL : rt);
  } else {
    l = resolve_expr(r, b->left, NULL);
    rt = resolve_expr(r, b->right, n->kind == AST_IN ? type_list(r->a, l) : l);
  }
  if (n->kind == AST_IN) {
    const Type *sr = type_strip(rt);
    if (sr->kind != TY_LIST && sr->kind != TY_ANY && sr->kind != TY_NEVER) {
      diag_report(r->d, DIAG_E0308, b->right->span, "`in` needs a list on its right, not `%s`",
                  tstr(r, rt));
    } else if (sr->kind == TY_LIST && !comparable(l, sr->elem)) {
      diag_report(r->d, DIAG_E0308, n->span, "a `%s` is never in a `%s`", tstr(r, l), tstr(r, rt));
    }
    return set_type(n, type_prim(TY_BOOL));
  }
  if (!comparable(l, rt)) {
    Diag *dg = diag_report(r->d, DIAG_E0308, n->span, "cannot compare `%s` with `%s`",
                           tstr(r, l), tstr(r, rt));
    const Type *sl = type_strip(l), *sr = type_strip(rt);
    if ((sl->kind == TY_STRING && type_is_numeric(sr)) || (sr->kind == TY_STRING && type_is_numeric(sl)))
      diag_help(r->d, dg, "a string is never equal to a number: convert with `decimal(...)` or `int(...)`");
  } else if (n->kind != AST_EQ && n->kind != AST_NE) {
    const Type *sl = type_strip(l);
    bool ordered = type_is_numeric(sl) || sl->kind == TY_STRING || sl->kind == TY_DATE ||
                   sl->kind == TY_DATETIME || sl->kind == TY_ANY || sl->kind == TY_NEVER;
    if (!ordered || is_null_lit(b->left) || is_null_lit(b->right))
      diag_report(r->d, DIAG_E0308, n->span, "`%s` cannot order values of type `%s`",
                  ast_kind_name((AstKind)n->kind), tstr(r, l));
  }
  return set_type(n, type_prim(TY_BOOL));
}

/* ---- Calls -------------------------------------------------------------------- */

typedef struct Bindings {
  Str names[4];
  const Type *types[4];
  uint32_t n;
} Bindings;

static const Type *bound(Bindings *bs, Str name) {
  for (uint32_t i = 0; i < bs->n; i++)
    if (str_eq(bs->names[i], name)) return bs->types[i];
  return NULL;
}

/* Bind type variables in `p` from the argument type `a`. */
static void unify(Bindings *bs, const Type *p, const Type *a) {
  if (!a) return;
  if (p->kind == TY_NULLABLE) { unify(bs, p->elem, type_strip(a)); return; }
  if (p->kind == TY_VAR) {
    if (!bound(bs, p->name) && bs->n < ARRAY_LEN(bs->names) && a->kind != TY_ANY) {
      bs->names[bs->n] = p->name;
      bs->types[bs->n++] = a;
    }
    return;
  }
  a = type_strip(a);
  if (p->kind == TY_LIST && a->kind == TY_LIST) unify(bs, p->elem, a->elem);
}

static const Type *subst(R *r, Bindings *bs, const Type *t) {
  switch (t->kind) {
  case TY_VAR: { const Type *b = bound(bs, t->name); return b ? b : type_prim(TY_ANY); }
  case TY_NULLABLE: return type_nullable(r->a, subst(r, bs, t->elem));
  case TY_LIST: return type_list(r->a, subst(r, bs, t->elem));
  case TY_KEYFN: {
    Type *k = ARENA_NEW(r->a, Type);
    *k = *t;
    k->key = subst(r, bs, t->key);
    k->elem = subst(r, bs, t->elem);
    return k;
  }
  case TY_RECORD: {
    Type *rec = type_record(r->a, t->name, t->n_fields);
    for (uint32_t i = 0; i < t->n_fields; i++)
      type_record_add(r->a, rec, t->fields[i].name, subst(r, bs, t->fields[i].type))->required =
          t->fields[i].required;
    return rec;
  }
  default: return t;
  }
}

static AstNode *default_node(R *r, const StdParam *p, Span span) {
  Str v = str_make(p->deflt, p->deflt_len);
  while (v.len && v.ptr[v.len - 1] == ' ') v.len--;
  AstNode *n;
  if (str_eq_cstr(v, "null")) {
    n = ast_new(&r->b, AST_NULL, span);
    n->type = type_prim(TY_NULL);
  } else if (str_eq_cstr(v, "true") || str_eq_cstr(v, "false")) {
    n = ast_new(&r->b, v.ptr[0] == 't' ? AST_TRUE : AST_FALSE, span);
    n->type = type_prim(TY_BOOL);
  } else if (str_eq_cstr(v, "flow")) {
    n = ast_new(&r->b, AST_NAME, span);
    AST_AS(AstText, n)->text = r->res->rounding;
    n->decl = &enum_value_decl;
    n->type = r->res->rounding_type;
  } else if (v.len && v.ptr[0] == '"') {
    n = ast_new(&r->b, AST_STRING, span);
    /* decode the few escapes stdlib.def uses */
    char *s = arena_strndup(r->a, v.ptr + 1, v.len >= 2 ? v.len - 2 : 0);
    char *w = s;
    for (const char *q = s; *q; q++) *w++ = (*q == '\\' && q[1]) ? *++q : *q;
    *w = '\0';
    AST_AS(AstText, n)->text = str_from_cstr(s);
    n->type = type_prim(TY_STRING);
  } else {
    n = ast_new(&r->b, AST_INT, span);
    int64_t x = 0;
    bool neg = v.len && v.ptr[0] == '-';
    for (size_t i = neg; i < v.len; i++) x = x * 10 + (v.ptr[i] - '0');
    AST_AS(AstInt, n)->value = neg ? -x : x;
    n->type = type_prim(TY_INT);
  }
  return n;
}

const Type *resolve_lambda(R *r, AstNode *lam, const Type *param, const Type *expect_body) {
  AstNamed *l = AST_AS(AstNamed, lam);
  Decl *d = resolve_new_decl(r, DECL_KEY_PARAM, l->name.text, l->name.span, lam);
  d->type = param;
  d->uses = 1;  /* key parameters are never reported unused */
  size_t mark = r->n_locals;
  resolve_push_local(r, d);
  lam->decl = d;
  const Type *t = resolve_expr(r, l->value, expect_body);
  r->n_locals = mark;
  return set_type(lam, t);
}

static void arg_mismatch(R *r, AstNode *arg, const Type *got, const Type *want, Str param,
                         const char *fn) {
  if (type_is_nullable(got) && !type_is_nullable(want) && type_assignable(type_strip(got), want)) {
    Diag *dg = diag_report(r->d, DIAG_E0305, arg->span,
                           "argument `%s` of `%s` may be null, but `%s` needs a value",
                           diag_quote(r->d, node_text(r, arg)), fn, diag_quote(r->d, param));
    diag_help(r->d, dg, "give a value for null: `%s ?? ...`", diag_quote(r->d, node_text(r, arg)));
    return;
  }
  Diag *dg = diag_report(r->d, DIAG_E0304, arg->span,
                         "`%s` of `%s` must be `%s`, but this is `%s`", diag_quote(r->d, param),
                         fn, tstr(r, want), tstr(r, got));
  const Type *sg = type_strip(got), *sw = type_strip(want);
  if (sg->kind == TY_STRING && type_is_numeric(sw))
    diag_help(r->d, dg, "read the number with `decimal(...)`");
  else if (sg->kind == TY_LIST && sw->kind != TY_LIST)
    diag_help(r->d, dg, "this is a list: take one element, or use `sum`, `first`, `find`");
}

static const Type *stdlib_call(R *r, AstNode *n, int fn) {
  AstCall *call = AST_AS(AstCall, n);
  const char *fname = r->std[fn].name;
  StdSig *sig = &r->std[fn];
  if (!r->std_decls[fn]) {
    Decl *d = resolve_new_decl(r, DECL_STDLIB, str_from_cstr(fname), call->callee->span, NULL);
    d->index = (uint32_t)fn;
    r->std_decls[fn] = d;
  }
  n->decl = r->std_decls[fn];
  call->callee->decl = n->decl;
  call->callee->type = type_prim(TY_ANY);
  AstNode **slot = ARENA_NEW_ARRAY(r->a, AstNode *, sig->n_params + 1);
  bool named_seen = false, bad = false;
  uint32_t pos = 0;
  for (uint32_t i = 0; i < call->args.n; i++) {
    AstNamed *arg = AST_AS(AstNamed, call->args.items[i]);
    int idx = -1;
    if (arg->name.text.ptr) {
      named_seen = true;
      for (uint32_t k = 0; k < sig->n_params; k++)
        if (str_eq(sig->params[k].name, arg->name.text)) idx = (int)k;
      if (idx < 0) {
        Str names[8];
        for (uint32_t k = 0; k < sig->n_params; k++) names[k] = sig->params[k].name;
        Diag *dg = diag_report(r->d, DIAG_E0309, arg->name.span, "`%s` has no parameter `%s`",
                               fname, diag_quote(r->d, arg->name.text));
        const char *best = resolve_closest(r, arg->name.text, names, sig->n_params);
        if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
        else diag_help(r->d, dg, "its signature is %s%s", fname, r->std[fn].text);
        bad = true;
        resolve_expr(r, arg->value, NULL);
        continue;
      }
    } else {
      if (named_seen) {
        diag_report(r->d, DIAG_E0309, call->args.items[i]->span,
                    "a positional argument cannot follow a named one");
        bad = true;
      }
      if (pos >= sig->n_params) {
        Diag *dg = diag_report(r->d, DIAG_E0309, call->args.items[i]->span,
                               "`%s` takes %u argument%s", fname, sig->n_params,
                               sig->n_params == 1 ? "" : "s");
        diag_help(r->d, dg, "its signature is %s%s", fname, r->std[fn].text);
        bad = true;
        resolve_expr(r, arg->value, NULL);
        continue;
      }
      idx = (int)pos++;
    }
    if (slot[idx]) {
      diag_report(r->d, DIAG_E0309, call->args.items[i]->span, "`%.*s` is given twice",
                  STR_FMT(sig->params[idx].name));
      bad = true;
      continue;
    }
    slot[idx] = arg->value;
    call->args.items[i]->type = NULL;
  }
  /* Type the arguments in parameter order, binding type variables. */
  Bindings bs = {0};
  const Type *first_arg = NULL;
  for (uint32_t k = 0; k < sig->n_params; k++) {
    const StdParam *p = &sig->params[k];
    AstNode *v = slot[k];
    if (!v) {
      if (!p->deflt) {
        if (!bad) {
          Diag *dg = diag_report(r->d, DIAG_E0309, n->span, "`%s` needs its argument `%.*s`",
                                 fname, STR_FMT(p->name));
          diag_help(r->d, dg, "its signature is %s%s", fname, r->std[fn].text);
          bad = true;
        }
        slot[k] = ast_new(&r->b, AST_NULL, n->span);
        slot[k]->type = type_prim(TY_ANY);
        continue;
      }
      slot[k] = default_node(r, p, n->span);
      continue;
    }
    const Type *pt = subst(r, &bs, p->type);
    if (type_strip(p->type)->kind == TY_KEYFN) {
      if (v->kind != AST_LAMBDA) {
        Diag *dg = diag_report(r->d, DIAG_E0309, v->span, "`%.*s` of `%s` is a key function",
                               STR_FMT(p->name), fname);
        diag_help(r->d, dg, "write it as `%.*s: x => ...`, with `x` standing for each element",
                  STR_FMT(p->name));
        resolve_expr(r, v, NULL);
        continue;
      }
      const Type *kt = type_strip(pt);
      const Type *body = resolve_lambda(r, v, kt->key, NULL);
      const Type *want = type_strip(p->type)->elem;
      unify(&bs, want, body);
      const Type *w = subst(r, &bs, want);
      if (!type_assignable(body, w)) {
        if (w->kind == TY_BOOL && body->kind == TY_NULLABLE && body->elem->kind == TY_BOOL) {
          Diag *dg = diag_report(r->d, DIAG_E0305, AST_AS(AstNamed, v)->value->span,
                                 "this condition may be null");
          diag_help(r->d, dg, "say what null means: `... ?? false`");
        } else {
          arg_mismatch(r, AST_AS(AstNamed, v)->value, body, w, p->name, fname);
        }
      }
      continue;
    }
    if (v->kind == AST_LAMBDA) {
      diag_report(r->d, DIAG_E0309, v->span, "`%.*s` of `%s` is not a key function",
                  STR_FMT(p->name), fname);
      continue;
    }
    const Type *at = resolve_expr(r, v, pt);
    if (k == 0) first_arg = at;
    unify(&bs, p->type, at);
    pt = subst(r, &bs, p->type);
    if (!type_assignable(at, pt)) arg_mismatch(r, v, at, pt, p->name, fname);
  }
  call->argv = slot;
  call->argc = sig->n_params;
  const Type *ret = subst(r, &bs, sig->ret);
  /* A union result mirrors the first argument: add_days(date) is a date. */
  if (type_strip(ret)->kind == TY_UNION && first_arg && type_strip(first_arg)->kind != TY_ANY)
    ret = type_is_nullable(ret) ? type_nullable(r->a, type_strip(first_arg)) : type_strip(first_arg);
  /* Null in, null out: a nullable result is null only for a null first
  ** argument, unless the function returns null for other reasons too. */
  if (ret->kind == TY_NULLABLE && !sig->always_nullable && sig->n_params > 0 &&
      sig->params[0].type->kind == TY_NULLABLE && first_arg && !type_is_nullable(first_arg))
    ret = ret->elem;
  return set_type(n, ret);
}

static const Type *call_expr(R *r, AstNode *n, const Type *expect) {
  AstCall *call = AST_AS(AstCall, n);
  AstNode *callee = call->callee;
  /* Lua: CONNECTION.function(...) */
  if (callee->kind == AST_FIELD && AST_AS(AstField, callee)->object->kind == AST_NAME) {
    AstField *f = AST_AS(AstField, callee);
    Str cname = AST_AS(AstText, f->object)->text;
    Decl *conn = resolve_find_local(r, cname) ? NULL : strmap_get(&r->globals, cname);
    if (conn && conn->kind == DECL_CONNECTION) {
      conn->uses++;
      f->object->decl = conn;
      f->object->type = type_prim(TY_ANY);
      callee->type = type_prim(TY_ANY);
      if (!conn->lua_path) {
        Diag *dg = diag_report(r->d, DIAG_E0509, callee->span,
                               "`%s` is a connection to %s, not a Lua file",
                               diag_quote(r->d, cname), diag_quote(r->d, conn->connector ? conn->connector->name : cname));
        diag_help(r->d, dg, "a connection's operations are called by steps: "
                            "`step x = %s.RECORD.%s(...) { ... }`",
                  diag_quote(r->d, cname), diag_quote(r->d, f->name.text));
      }
      Decl *d = resolve_new_decl(r, DECL_LUA_FN, f->name.text, f->name.span, NULL);
      d->conn = conn;
      n->decl = d;
      call->argv = ARENA_NEW_ARRAY(r->a, AstNode *, call->args.n + 1);
      for (uint32_t i = 0; i < call->args.n; i++) {
        AstNamed *arg = AST_AS(AstNamed, call->args.items[i]);
        if (arg->name.text.ptr)
          diag_report(r->d, DIAG_E0309, arg->name.span,
                      "Lua functions take positional arguments only");
        if (arg->value->kind == AST_LAMBDA)
          diag_report(r->d, DIAG_E0309, arg->value->span, "Lua functions take no key functions");
        else resolve_expr(r, arg->value, NULL);
        call->argv[call->argc++] = arg->value;
      }
      return set_type(n, type_prim(TY_ANY));
    }
  }
  if (callee->kind != AST_NAME) {
    resolve_expr(r, callee, NULL);
    diag_report(r->d, DIAG_E0308, callee->span, "only functions can be called");
    for (uint32_t i = 0; i < call->args.n; i++) {
      AstNode *v = AST_AS(AstNamed, call->args.items[i])->value;
      if (v->kind != AST_LAMBDA) resolve_expr(r, v, NULL);
    }
    return set_type(n, type_prim(TY_ANY));
  }
  Str name = AST_AS(AstText, callee)->text;
  static const char *const builtin_names[] = {"skip", "fail", "file", "csv"};
  for (int b = 0; b < 4; b++) {
    if (!str_eq_cstr(name, builtin_names[b])) continue;
    n->decl = resolve_builtin(r, (Builtin)b);
    callee->decl = n->decl;
    callee->type = type_prim(TY_ANY);
    call->argv = ARENA_NEW_ARRAY(r->a, AstNode *, call->args.n + 1);
    for (uint32_t i = 0; i < call->args.n; i++) {
      AstNode *v = AST_AS(AstNamed, call->args.items[i])->value;
      if (v->kind != AST_LAMBDA) resolve_expr(r, v, type_prim(TY_STRING));
      call->argv[call->argc++] = v;
    }
    if (call->args.n != 1 || AST_AS(AstNamed, call->args.items[0])->name.text.ptr) {
      Diag *dg = diag_report(r->d, DIAG_E0309, n->span, "`%s` takes one argument", builtin_names[b]);
      diag_help(r->d, dg, b <= BUILTIN_FAIL ? "the reason: `%s(\"...\")`" : "the file: `%s(\"NAME\")`",
                builtin_names[b]);
    } else if (b >= BUILTIN_FILE && call->argv[0]->kind != AST_STRING) {
      diag_report(r->d, DIAG_E0309, call->argv[0]->span,
                  "`%s` needs the file name as a plain string", builtin_names[b]);
    } else if (b <= BUILTIN_FAIL) {
      const Type *t = call->argv[0]->type;
      if (t && !type_assignable(t, type_prim(TY_STRING)))
        arg_mismatch(r, call->argv[0], t, type_prim(TY_STRING), STR_LIT("reason"), builtin_names[b]);
    }
    if (b <= BUILTIN_FAIL) return set_type(n, type_prim(TY_NEVER));
    if (b == BUILTIN_FILE) {
      if (!r->in_test) {
        diag_report(r->d, DIAG_E0309, n->span, "`file(...)` reads test fixtures; use it in `test` blocks");
      } else if (call->argc == 1 && call->argv[0]->kind == AST_STRING) {
        check_fixture(r->c, call->argv[0]);
      }
      /* A fixture is the expected record, as far as the checker knows. */
      return set_type(n, expect ? type_strip(expect) : type_prim(TY_ANY));
    }
    diag_report(r->d, DIAG_E0309, n->span, "`csv(...)` is the source of a `table`: "
                                           "`table NAME = csv(\"FILE\")`");
    return set_type(n, type_prim(TY_ANY));
  }
  int fn = resolve_stdlib_lookup(name);
  if (fn >= 0 && r->std[fn].ret) return stdlib_call(r, n, fn);
  Decl *local = resolve_find_local(r, name);
  if (!local) local = strmap_get(&r->globals, name);
  Diag *dg;
  if (local) {
    local->uses++;
    dg = diag_report(r->d, DIAG_E0207, callee->span, "`%s` is %s, not a function",
                     diag_quote(r->d, name), resolve_kind_word(local->kind));
  } else {
    dg = diag_report(r->d, DIAG_E0207, callee->span, "unknown function `%s`",
                     diag_quote(r->d, name));
    Str names[64];
    size_t nn = 0;
    for (uint32_t i = 0; i < r->n_std && nn < ARRAY_LEN(names); i++) names[nn++] = str_from_cstr(r->std[i].name);
    const char *best = resolve_closest(r, name, names, nn);
    if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
    else diag_help(r->d, dg, "docs/stdlib.md lists the functions; Lua functions are called "
                             "through their connection: `helpers.%s(...)`", diag_quote(r->d, name));
  }
  for (uint32_t i = 0; i < call->args.n; i++) {
    AstNode *v = AST_AS(AstNamed, call->args.items[i])->value;
    if (v->kind == AST_LAMBDA) resolve_lambda(r, v, type_prim(TY_ANY), NULL);
    else resolve_expr(r, v, NULL);
  }
  return set_type(n, type_prim(TY_ANY));
}

/* ---- Records, lists, for, match -------------------------------------------------- */

static void record_entries(R *r, AstSeq *rec, const Type *target, Type *built, bool cond);

/* The type a record entry sets for field `key` in `target`, or NULL. */
static const Type *target_field(const Type *target, Str key) {
  if (!target) return NULL;
  const Type *t = type_strip(target);
  if (t->kind == TY_TABLE) return t->elem;
  const TypeField *f = type_field(t, key);
  return f ? f->type : NULL;
}

static void add_built(R *r, Type *built, Str key, const Type *t, bool required, Span span) {
  if (!built) return;  /* checked against a known target: nothing to build */
  for (uint32_t i = 0; i < built->n_fields; i++) {
    TypeField *f = &built->fields[i];
    if (!str_eq(f->name, key)) continue;
    const Type *j = type_join(r->a, f->type, t);
    f->type = j ? j : type_prim(TY_ANY);
    f->required |= required;
    return;
  }
  TypeField *f = type_record_add(r->a, built, key, t);
  f->required = required;
  f->span = span;
}

static void record_entries(R *r, AstSeq *rec, const Type *target, Type *built, bool cond) {
  size_t mark = r->n_locals;
  for (uint32_t i = 0; i < rec->items.n; i++) {
    AstNode *e = rec->items.items[i];
    switch (e->kind) {
    case AST_FIELD_ENTRY: {
      AstNamed *fe = AST_AS(AstNamed, e);
      const Type *t = resolve_expr(r, fe->value, target_field(target, fe->name.text));
      e->type = t;
      add_built(r, built, fe->name.text, t, !cond && !type_is_nullable(t), fe->name.span);
      break;
    }
    case AST_LET: {
      AstNamed *l = AST_AS(AstNamed, e);
      const Type *t = resolve_expr(r, l->value, NULL);
      Decl *d = resolve_new_decl(r, DECL_LOCAL, l->name.text, l->name.span, e);
      d->type = t;
      e->decl = d;
      e->type = t;
      resolve_push_local(r, d);
      break;
    }
    case AST_SPREAD: {
      const Type *t = resolve_expr(r, AST_AS(AstUnary, e)->operand, target);
      e->type = t;
      const Type *s = type_strip(t);
      if (s->kind == TY_RECORD) {
        for (uint32_t k = 0; k < s->n_fields; k++)
          add_built(r, built, s->fields[k].name, s->fields[k].type,
                    !cond && !type_is_nullable(t) && s->fields[k].required, s->fields[k].span);
        if (built) built->open |= s->open;
      } else if (s->kind == TY_ANY) {
        if (built) built->open = true;
      } else if (s->kind != TY_NEVER && s->kind != TY_NULL) {
        diag_report(r->d, DIAG_E0311, e->span, "only a record can be spread with `...`, not `%s`",
                    tstr(r, t));
      }
      break;
    }
    case AST_IF_ENTRY: {
      AstIf *f = AST_AS(AstIf, e);
      resolve_condition(r, f->cond, "the condition of `if`");
      /* Each branch sets fields only when it runs; check.c works out which
      ** are set on every path. */
      Type *then_t = built ? type_record(r->a, (Str){0}, 4) : NULL;
      size_t fmark = r->n_facts;
      resolve_add_facts(r, f->cond, true);
      record_entries(r, AST_AS(AstSeq, f->then_node), target, then_t, true);
      r->n_facts = fmark;
      resolve_add_facts(r, f->cond, false);
      f->then_node->type = then_t;
      for (uint32_t k = 0; then_t && k < then_t->n_fields; k++)
        add_built(r, built, then_t->fields[k].name, then_t->fields[k].type, false, then_t->fields[k].span);
      if (built) built->open |= then_t->open;
      if (!f->else_node) r->n_facts = fmark;
      if (f->else_node) {
        Type *else_t = built ? type_record(r->a, (Str){0}, 4) : NULL;
        if (f->else_node->kind == AST_IF_ENTRY) {
          AstSeq wrap = {.items = {&f->else_node, 1, 1}};
          record_entries(r, &wrap, target, else_t, true);
        } else {
          record_entries(r, AST_AS(AstSeq, f->else_node), target, else_t, true);
        }
        f->else_node->type = else_t;
        r->n_facts = fmark;
        for (uint32_t k = 0; else_t && k < else_t->n_fields; k++)
          add_built(r, built, else_t->fields[k].name, else_t->fields[k].type, false, else_t->fields[k].span);
        if (built) built->open |= else_t->open;
      }
      e->type = built ? (const Type *)built : target;
      break;
    }
    case AST_EXPR_ENTRY:
      resolve_expr(r, AST_AS(AstUnary, e)->operand, NULL);
      e->type = type_prim(TY_NEVER);
      break;
    default:
      break;
    }
  }
  r->n_locals = mark;
}

static const Type *record_expr(R *r, AstNode *n, const Type *expect) {
  const Type *target = expect ? type_strip(expect) : NULL;
  if (target && target->kind != TY_RECORD && target->kind != TY_TABLE) target = NULL;
  if (target && target->kind == TY_TABLE) {
    /* A table literal: string keys, values of the table's value type. */
    AstSeq *s = AST_AS(AstSeq, n);
    for (uint32_t i = 0; i < s->items.n; i++) {
      AstNode *e = s->items.items[i];
      if (e->kind == AST_FIELD_ENTRY) {
        e->type = resolve_expr(r, AST_AS(AstNamed, e)->value, target->elem);
      } else {
        diag_report(r->d, DIAG_E0304, e->span, "a table is written `{ \"key\": value, ... }`");
      }
    }
    return set_type(n, target);
  }
  Type *built = target ? NULL : type_record(r->a, (Str){0}, AST_AS(AstSeq, n)->items.n);
  record_entries(r, AST_AS(AstSeq, n), target, built, false);
  /* Checked against a schema record, a literal has that type (check.c
  ** compares its fields); otherwise it has the fields it sets. */
  return set_type(n, target ? target : built);
}

static const Type *for_expr(R *r, AstNode *n, const Type *expect) {
  AstFor *f = AST_AS(AstFor, n);
  const Type *it = resolve_expr(r, f->iter, NULL);
  const Type *s = type_strip(it);
  const Type *elem = type_prim(TY_ANY);
  if (s->kind == TY_LIST) {
    elem = s->elem;
  } else if (s->kind != TY_ANY && s->kind != TY_NEVER) {
    Diag *dg = diag_report(r->d, DIAG_E0304, f->iter->span, "`for` needs a list, not `%s`",
                           tstr(r, it));
    if (s->kind == TY_RECORD) diag_help(r->d, dg, "a record is not a list: map its fields one by one");
  }
  size_t mark = r->n_locals;
  Decl *d = resolve_new_decl(r, DECL_FOR_VAR, f->var.text, f->var.span, n);
  d->type = elem;
  d->uses = 1;
  resolve_push_local(r, d);
  n->decl = d;
  if (f->index.text.ptr) {
    Decl *ix = resolve_new_decl(r, DECL_FOR_INDEX, f->index.text, f->index.span, n);
    ix->type = type_prim(TY_INT);
    ix->uses = 1;
    resolve_push_local(r, ix);
    d->index_decl = ix;
  }
  size_t fmark = r->n_facts;
  if (f->where) {
    resolve_condition(r, f->where, "the `where` condition");
    resolve_add_facts(r, f->where, true);
  }
  const Type *want = expect ? type_strip(expect) : NULL;
  const Type *body = resolve_expr(r, f->body, want && want->kind == TY_LIST ? want->elem : NULL);
  r->n_facts = fmark;
  r->n_locals = mark;
  return set_type(n, type_list(r->a, body));
}

static const Type *list_expr(R *r, AstNode *n, const Type *expect) {
  AstSeq *s = AST_AS(AstSeq, n);
  const Type *want = expect ? type_strip(expect) : NULL;
  const Type *ew = want && want->kind == TY_LIST ? want->elem : NULL;
  const Type *elem = NULL;
  for (uint32_t i = 0; i < s->items.n; i++) {
    AstNode *e = s->items.items[i];
    const Type *t;
    if (e->kind == AST_FOR) {
      t = type_strip(for_expr(r, e, want))->elem;
    } else if (e->kind == AST_IF_ELEMENT) {
      AstIf *f = AST_AS(AstIf, e);
      resolve_condition(r, f->cond, "the condition of `if`");
      size_t fmark = r->n_facts;
      resolve_add_facts(r, f->cond, true);
      t = resolve_expr(r, f->then_node, ew);
      r->n_facts = fmark;
      e->type = t;
    } else {
      t = resolve_expr(r, e, ew);
    }
    if (!elem) {
      elem = t;
    } else {
      const Type *j = type_join(r->a, elem, t);
      if (!j) {
        diag_report(r->d, DIAG_E0313, e->span, "this element is `%s`, the ones before are `%s`",
                    tstr(r, t), tstr(r, elem));
        j = type_prim(TY_ANY);
      }
      elem = j;
    }
  }
  if (!elem) elem = ew ? ew : type_prim(TY_ANY);
  return set_type(n, type_list(r->a, elem));
}

const Type *resolve_join_or_report(R *r, const Type *a, const Type *b, AstNode *at,
                                  const char *what) {
  const Type *j = type_join(r->a, a, b);
  if (j) return j;
  diag_report(r->d, DIAG_E0313, at->span, "%s is `%s`, but before it is `%s`", what,
              tstr(r, b), tstr(r, a));
  return type_prim(TY_ANY);
}

static const Type *match_expr(R *r, AstNode *n, const Type *expect) {
  AstMatch *m = AST_AS(AstMatch, n);
  const Type *subj = resolve_expr(r, m->subject, NULL);
  const Type *en = type_strip(subj)->kind == TY_ENUM ? type_strip(subj) : NULL;
  const Type *res = NULL;
  bool has_else = false;
  bool *covered = en ? ARENA_NEW_ARRAY(r->a, bool, en->n_values + 1) : NULL;
  for (uint32_t i = 0; i < m->arms.n; i++) {
    AstArm *arm = AST_AS(AstArm, m->arms.items[i]);
    if (m->arms.items[i]->flags & AST_FLAG_ELSE) has_else = true;
    for (uint32_t k = 0; k < arm->patterns.n; k++) {
      AstNode *p = arm->patterns.items[k];
      const Type *pt = resolve_expr(r, p, subj);
      if (en && (p->kind == AST_NAME || p->kind == AST_STRING)) {
        Str v = AST_AS(AstText, p)->text;
        for (uint32_t j = 0; j < en->n_values; j++)
          if (str_eq(en->values[j], v)) covered[j] = true;
        if (p->kind == AST_STRING && !type_enum_has(en, v)) resolve_report_not_in_enum(r, p, v, en);
      } else if (!comparable(pt, subj)) {
        diag_report(r->d, DIAG_E0308, p->span, "this pattern is `%s`, but the value matched is `%s`",
                    tstr(r, pt), tstr(r, subj));
      }
    }
    const Type *t = resolve_expr(r, arm->value, expect);
    m->arms.items[i]->type = t;
    res = res ? resolve_join_or_report(r, res, t, arm->value, "this arm's value") : t;
  }
  if (en && !has_else) {
    Buf b;
    buf_init(&b, 0);
    uint32_t missing = 0;
    for (uint32_t j = 0; j < en->n_values; j++)
      if (!covered[j]) buf_printf(&b, "%s`%.*s`", missing++ ? ", " : "", STR_FMT(en->values[j]));
    if (missing) {
      Diag *dg = diag_report(r->d, DIAG_E0312, m->subject->span,
                             "`match` does not cover %s", buf_cstr(&b));
      diag_help(r->d, dg, "add an arm for %s, or an `else =>` arm", missing == 1 ? "it" : "each");
    }
    buf_fini(&b);
  }
  return set_type(n, res ? res : type_prim(TY_ANY));
}

static const Type *index_expr(R *r, AstNode *n) {
  AstBinary *b = AST_AS(AstBinary, n);
  const Type *obj = resolve_expr(r, b->left, NULL);
  const Type *s = type_strip(obj);
  bool nullable_obj = type_is_nullable(obj);
  if (s->kind == TY_LIST) {
    const Type *it = resolve_expr(r, b->right, type_prim(TY_INT));
    if (type_strip(it)->kind != TY_INT && type_strip(it)->kind != TY_ANY)
      diag_report(r->d, DIAG_E0304, b->right->span, "a list index must be `int`, not `%s`", tstr(r, it));
    return set_type(n, type_nullable(r->a, s->elem));
  }
  if (s->kind == TY_TABLE) {
    const Type *kt = resolve_expr(r, b->right, s->key);
    if (!type_assignable(type_strip(kt), s->key))
      diag_report(r->d, DIAG_E0304, b->right->span, "this table's keys are `%s`, not `%s`",
                  tstr(r, s->key), tstr(r, kt));
    return set_type(n, type_nullable(r->a, s->elem));
  }
  if (s->kind == TY_RECORD) {
    resolve_expr(r, b->right, type_prim(TY_STRING));
    if (b->right->kind == AST_STRING) {
      const TypeField *f = type_field(s, AST_AS(AstText, b->right)->text);
      if (f) return set_type(n, field_type(r, obj, f));
      if (!s->open) {
        Diag *dg = diag_report(r->d, DIAG_E0212, b->right->span, "unknown field `%s` on %s",
                               diag_quote(r->d, AST_AS(AstText, b->right)->text),
                               s->name.len ? tstr(r, s) : "this record");
        const char *best = type_suggest_field(&r->d->arena, s, AST_AS(AstText, b->right)->text);
        if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
      }
    }
    return set_type(n, type_prim(TY_ANY));
  }
  resolve_expr(r, b->right, NULL);
  if (s->kind != TY_ANY && s->kind != TY_NEVER && s->kind != TY_NULL)
    diag_report(r->d, DIAG_E0311, n->span, "`%s` cannot be indexed", tstr(r, obj));
  (void)nullable_obj;
  return set_type(n, type_prim(TY_ANY));
}

const Type *resolve_expr(R *r, AstNode *n, const Type *expect) {
  switch (n->kind) {
  case AST_NAME: return name_expr(r, n, expect);
  case AST_INT: return set_type(n, type_prim(TY_INT));
  case AST_DECIMAL: return set_type(n, type_prim(TY_DECIMAL));
  case AST_STRING: {
    const Type *en = enum_of(expect);
    if (en && !(expect && type_strip(expect)->kind == TY_LIST)) {
      Str v = AST_AS(AstText, n)->text;
      if (!type_enum_has(en, v)) resolve_report_not_in_enum(r, n, v, en);
      return set_type(n, en);
    }
    return set_type(n, type_prim(TY_STRING));
  }
  case AST_INTERP: {
    AstSeq *s = AST_AS(AstSeq, n);
    for (uint32_t i = 0; i < s->items.n; i++) {
      AstNode *part = s->items.items[i];
      if (part->kind == AST_STRING) {
        part->type = type_prim(TY_STRING);
        continue;
      }
      const Type *t = type_strip(resolve_expr(r, part, NULL));
      if (t->kind == TY_LIST || t->kind == TY_RECORD || t->kind == TY_TABLE) {
        Diag *dg = diag_report(r->d, DIAG_E0304, part->span, "a %s cannot be written into a string",
                               t->kind == TY_LIST ? "list" : t->kind == TY_TABLE ? "table" : "record");
        diag_help(r->d, dg, "write one field, or join a list with `join(...)`");
      } else if (t->kind == TY_SECRET) {
        diag_report(r->d, DIAG_E0304, part->span, "a secret setting cannot be written into a string");
      }
    }
    return set_type(n, type_prim(TY_STRING));
  }
  case AST_TRUE: case AST_FALSE: return set_type(n, type_prim(TY_BOOL));
  case AST_NULL: return set_type(n, type_prim(TY_NULL));
  case AST_DATE: return set_type(n, type_prim(TY_DATE));
  case AST_DATETIME: return set_type(n, type_prim(TY_DATETIME));
  case AST_SETTINGS: {
    Diag *dg = diag_report(r->d, DIAG_E0401, n->span, "`settings` is not a value");
    diag_help(r->d, dg, "read one setting: `settings.NAME`");
    return set_type(n, type_prim(TY_ANY));
  }
  case AST_FIELD: {
    AstField *f = AST_AS(AstField, n);
    if (f->object->kind == AST_SETTINGS) return settings_field(r, n);
    const Type *obj = resolve_expr(r, f->object, NULL);
    return set_type(n, narrow(r, n, access_field(r, n, obj, f->name)));
  }
  case AST_INDEX: return set_type(n, narrow(r, n, index_expr(r, n)));
  case AST_CALL: return call_expr(r, n, expect);
  case AST_LAMBDA: {
    diag_report(r->d, DIAG_E0309, n->span, "a key function `x => ...` is only an argument "
                                           "of functions such as `sort` and `find`");
    return set_type(n, type_prim(TY_ANY));
  }
  case AST_NEG: {
    const Type *t = resolve_expr(r, AST_AS(AstUnary, n)->operand, NULL);
    if (!type_is_numeric(t) && type_strip(t)->kind != TY_ANY && t->kind != TY_NEVER) {
      diag_report(r->d, DIAG_E0308, n->span, "`-` cannot be applied to `%s`", tstr(r, t));
      return set_type(n, type_prim(TY_ANY));
    }
    return set_type(n, t);
  }
  case AST_NOT:
    resolve_condition(r, AST_AS(AstUnary, n)->operand, "the operand of `not`");
    return set_type(n, type_prim(TY_BOOL));
  case AST_ADD: case AST_SUB: case AST_MUL: case AST_DIV: case AST_MOD:
    return arith(r, n);
  case AST_EQ: case AST_NE: case AST_LT: case AST_LE: case AST_GT: case AST_GE: case AST_IN:
    return compare(r, n);
  case AST_AND: case AST_OR: {
    AstBinary *b = AST_AS(AstBinary, n);
    const char *what = n->kind == AST_AND ? "each side of `and`" : "each side of `or`";
    resolve_condition(r, b->left, what);
    resolve_condition(r, b->right, what);
    return set_type(n, type_prim(TY_BOOL));
  }
  case AST_COALESCE: {
    AstBinary *b = AST_AS(AstBinary, n);
    const Type *l = resolve_expr(r, b->left, expect);
    const Type *rt = resolve_expr(r, b->right, expect ? expect : type_strip(l));
    if (l->kind == TY_NULL) return set_type(n, rt);
    const Type *j = type_join(r->a, type_strip(l), rt);
    if (!j) {
      Diag *dg = diag_report(r->d, DIAG_E0313, b->right->span,
                             "the value for null is `%s`, but the value itself is `%s`",
                             tstr(r, rt), tstr(r, type_strip(l)));
      diag_help(r->d, dg, "both sides of `??` must have the same type");
      j = type_prim(TY_ANY);
    }
    return set_type(n, j);
  }
  case AST_IF: {
    AstIf *f = AST_AS(AstIf, n);
    resolve_condition(r, f->cond, "the condition of `if`");
    size_t fmark = r->n_facts;
    resolve_add_facts(r, f->cond, true);
    const Type *a = resolve_expr(r, f->then_node, expect);
    r->n_facts = fmark;
    resolve_add_facts(r, f->cond, false);
    const Type *b = f->else_node ? resolve_expr(r, f->else_node, expect) : type_prim(TY_NULL);
    r->n_facts = fmark;
    return set_type(n, f->else_node ? resolve_join_or_report(r, a, b, f->else_node, "the `else` value")
                                    : type_nullable(r->a, a));
  }
  case AST_RECORD: return record_expr(r, n, expect);
  case AST_LIST: return list_expr(r, n, expect);
  case AST_FOR: return for_expr(r, n, expect);
  case AST_MATCH: return match_expr(r, n, expect);
  case AST_ERROR: return set_type(n, type_prim(TY_ANY));
  default:
    return set_type(n, type_prim(TY_ANY));
  }
}

