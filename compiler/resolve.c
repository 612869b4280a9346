/*
** Scopes and names of a flow (resolve.h): one pass to declare what the top
** level declares, then one pass in file order that resolves the trigger,
** every `let`, step, table, guard and test, typing their expressions with
** resolve_expr.c. Locals (record `let`s, `for` variables, key function
** parameters) are scoped by a stack; every name lives once in a flow.
**
** Errors here never stop the walk: an unknown name gets type `any`, which
** fits everywhere, so one mistake gives one diagnostic.
*/
#include "compiler/resolve_int.h"

#include "common/util.h"
#include "compiler/check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Scopes ---------------------------------------------------------------- */

static const char *const rounding_rules[] = {"half_up", "half_even", "half_away_from_zero",
                                             "half_down", "down"};

/* Append to an arena-owned array of Decls (the Resolved lives in the arena,
** so its arrays must too). */
static void push_decl(R *r, Decl ***arr, uint32_t *n, size_t *cap, Decl *d) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    Decl **na = ARENA_NEW_ARRAY(r->a, Decl *, nc);
    if (*n) memcpy(na, *arr, sizeof *na * *n);
    *arr = na;
    *cap = nc;
  }
  (*arr)[(*n)++] = d;
}

/* Declaration order of top-level names; locals use UINT32_MAX. Kept
** next to Decl in a side array indexed by Decl->index per kind is more
** bookkeeping than this: a small struct that wraps the public Decl. */
typedef struct GDecl {
  Decl d;
  uint32_t order;
} GDecl;

uint32_t resolve_decl_order(const Decl *d) {
  switch (d->kind) {
  case DECL_LET: case DECL_STEP: return ((const GDecl *)d)->order;
  default: return 0;
  }
}

Decl *resolve_new_decl(R *r, DeclKind kind, Str name, Span span, AstNode *node) {
  Decl *d;
  if (kind == DECL_LET || kind == DECL_STEP) {
    GDecl *g = ARENA_NEW(r->a, GDecl);
    g->order = r->cur_order;
    d = &g->d;
  } else {
    d = ARENA_NEW(r->a, Decl);
  }
  d->kind = kind;
  d->name = name;
  d->span = span;
  d->node = node;
  d->type = type_prim(TY_ANY);
  return d;
}

const char *resolve_kind_word(DeclKind k) {
  switch (k) {
  case DECL_INPUT: return "the trigger record";
  case DECL_CONNECTION: return "a connection";
  case DECL_SETTING: return "a setting";
  case DECL_LET: case DECL_LOCAL: return "a binding";
  case DECL_STEP: return "a step";
  case DECL_TABLE: return "a table";
  case DECL_FOR_VAR: case DECL_FOR_INDEX: return "a `for` variable";
  case DECL_KEY_PARAM: return "a key function's parameter";
  default: return "a name";
  }
}

static void report_twice(R *r, Str name, Span span, const Decl *prev) {
  LineCol lc = sources_line_col(&r->c->sources, prev->span.file_id, prev->span.offset);
  Diag *dg = diag_report(r->d, DIAG_E0205, span, "`%s` is already %s (line %u)",
                         diag_quote(r->d, name), resolve_kind_word(prev->kind), lc.line);
  diag_help(r->d, dg, "names may not be reused or shadowed in a flow; pick another name");
}

static void declare_global(R *r, Decl *d) {
  Decl *prev = strmap_get(&r->globals, d->name);
  if (prev) {
    report_twice(r, d->name, d->span, prev);
    return;
  }
  strmap_put(&r->globals, d->name, d);
}

Decl *resolve_find_local(R *r, Str name) {
  for (size_t i = r->n_locals; i-- > 0;)
    if (str_eq(r->locals[i]->name, name)) return r->locals[i];
  return NULL;
}

void resolve_push_local(R *r, Decl *d) {
  Decl *prev = resolve_find_local(r, d->name);
  if (!prev) prev = strmap_get(&r->globals, d->name);
  if (prev) report_twice(r, d->name, d->span, prev);
  d->index = r->res->n_local_slots++;
  VEC_PUSH(r->locals, r->n_locals, r->cap_locals, d);
}

/* ---- Helpers for messages ------------------------------------------------- */

/* The closest of `n` names to `name`, or NULL. */
const char *resolve_closest(R *r, Str name, const Str *names, size_t n) {
  size_t best_d = name.len <= 3 ? 2 : 3;
  const Str *best = NULL;
  for (size_t i = 0; i < n; i++) {
    size_t limit = best_d - 1;
    size_t d = str_edit_distance(name, names[i], limit);
    if (d <= limit) {
      best_d = d;
      best = &names[i];
    }
  }
  return best ? arena_strndup(&r->d->arena, best->ptr, best->len) : NULL;
}

const char *resolve_closest_in_map(R *r, Str name, const StrMap *m) {
  if (m->n_entries == 0) return NULL;  /* (entries is NULL then) */
  Str *names = xcalloc(m->n_entries + 1, sizeof *names);
  size_t n = 0;
  STRMAP_FOREACH(m, e) names[n++] = e->key;
  const char *s = resolve_closest(r, name, names, n);
  free(names);
  return s;
}

/* ---- Declarations ----------------------------------------------------------------- */

static const Connector *connector_for(R *r, Str system) {
  for (size_t i = 0; i < r->c->n_schemas; i++)
    if (str_eq(r->c->schemas[i].system, system)) return r->c->schemas[i].conn;
  return NULL;
}

static void declare_pass(R *r, AstSeq *file) {
  for (uint32_t i = 0; i < file->items.n; i++) {
    AstNode *decl = file->items.items[i];
    r->cur_order = i;
    switch (decl->kind) {
    case AST_USE: {
      AstUse *u = AST_AS(AstUse, decl);
      if (!u->name.text.ptr) break;
      Decl *d = resolve_new_decl(r, DECL_CONNECTION, u->name.text, u->name.span, decl);
      if (decl->flags & AST_FLAG_LUA) {
        Str file_name = u->lua_file && u->lua_file->kind == AST_STRING
                            ? AST_AS(AstText, u->lua_file)->text : STR_LIT("");
        d->lua_path = compile_path_beside(r->c, file_name);
      } else {
        d->connector = connector_for(r, u->system.text);
      }
      decl->decl = d;
      declare_global(r, d);
      push_decl(r, &r->res->connections, &r->res->n_connections, &r->cap_conn, d);
      break;
    }
    case AST_SETTING: {
      AstSetting *s = AST_AS(AstSetting, decl);
      if (!s->name.text.ptr) break;
      Decl *d = resolve_new_decl(r, DECL_SETTING, s->name.text, s->name.span, decl);
      d->type = type_from_ast(r->a, r->d, NULL, s->type, s->name.text);
      d->index = r->res->n_settings;
      decl->decl = d;
      Decl *prev = strmap_get(&r->settings, d->name);
      if (prev) report_twice(r, d->name, d->span, prev);
      else strmap_put(&r->settings, d->name, d);
      /* The runtime's built-in settings (runtime/settings.c; compiler/ does
      ** not include it) belong to every integration: a flow's setting of
      ** that name would never be the one set. tests/usage checks that this
      ** list names every built-in `iex settings get` shows. */
      static const char *const builtin[] = {"included_orders"};
      for (size_t k = 0; k < sizeof builtin / sizeof builtin[0]; k++)
        if (str_eq_cstr(d->name, builtin[k])) {
          Diag *dg = diag_report(r->d, DIAG_E0205, d->span,
                                 "`%s` is already a built-in setting of every integration",
                                 builtin[k]);
          diag_help(r->d, dg, "built-ins are set per integration (iex settings set NAME %s N), not declared; pick another name",
                    builtin[k]);
        }
      push_decl(r, &r->res->settings, &r->res->n_settings, &r->cap_settings, d);
      break;
    }
    case AST_LET: {
      AstNamed *l = AST_AS(AstNamed, decl);
      if (!l->name.text.ptr) break;
      Decl *d = resolve_new_decl(r, DECL_LET, l->name.text, l->name.span, decl);
      d->index = r->res->n_lets;
      decl->decl = d;
      declare_global(r, d);
      push_decl(r, &r->res->lets, &r->res->n_lets, &r->cap_lets, d);
      break;
    }
    case AST_STEP: {
      AstStep *s = AST_AS(AstStep, decl);
      if (!s->name.text.ptr) break;
      Decl *d = resolve_new_decl(r, DECL_STEP, s->name.text, s->name.span, decl);
      d->index = r->res->n_steps;
      d->uses = 1;  /* steps send; they are never "unused" */
      decl->decl = d;
      declare_global(r, d);
      push_decl(r, &r->res->steps, &r->res->n_steps, &r->cap_steps, d);
      break;
    }
    case AST_TABLE: {
      AstTable *t = AST_AS(AstTable, decl);
      if (!t->name.text.ptr) break;
      Decl *d = resolve_new_decl(r, DECL_TABLE, t->name.text, t->name.span, decl);
      d->index = r->res->n_tables;
      decl->decl = d;
      declare_global(r, d);
      push_decl(r, &r->res->tables, &r->res->n_tables, &r->cap_tables, d);
      break;
    }
    case AST_ROUNDING: {
      AstDoc *rd = AST_AS(AstDoc, decl);
      bool ok = false;
      for (size_t k = 0; k < ARRAY_LEN(rounding_rules); k++)
        ok |= str_eq_cstr(rd->name.text, rounding_rules[k]);
      if (ok) {
        r->res->rounding = rd->name.text;
      } else if (rd->name.text.ptr) {
        AstNode tmp = {.span = rd->name.span};
        resolve_report_not_in_enum(r, &tmp, rd->name.text, r->res->rounding_type);
      }
      break;
    }
    case AST_TRIGGER: {
      AstTrigger *t = AST_AS(AstTrigger, decl);
      if (r->res->input) {
        Diag *dg = diag_report(r->d, DIAG_E0502, decl->span, "a flow has exactly one trigger");
        diag_help(r->d, dg, "write a second flow for the other event");
        break;
      }
      Str bind = t->binding.text.ptr ? t->binding.text : t->record.text;
      Span bspan = t->binding.text.ptr ? t->binding.span : t->record.span;
      Decl *d = resolve_new_decl(r, DECL_INPUT, bind, bspan, decl);
      d->uses = 1;
      decl->decl = d;
      r->res->input = d;
      declare_global(r, d);
      /* The type is found in the second pass, once connections are known. */
      break;
    }
    default:
      break;
    }
  }
}

static void resolve_trigger(R *r, AstNode *decl) {
  AstTrigger *t = AST_AS(AstTrigger, decl);
  if (decl->decl != r->res->input) return;
  Decl *input = r->res->input;
  Decl *conn = strmap_get(&r->globals, t->connection.text);
  const Type *rec = NULL;
  const TypeField *stage = NULL;
  if (!conn || conn->kind != DECL_CONNECTION) {
    Diag *dg = diag_report(r->d, DIAG_E0209, t->connection.span, "unknown connection `%s`",
                           diag_quote(r->d, t->connection.text));
    diag_help(r->d, dg, "declare it first: `use %s: SYSTEM`", diag_quote(r->d, t->connection.text));
  } else if (conn->lua_path) {
    diag_report(r->d, DIAG_E0509, t->connection.span, "`%s` is a Lua file; a trigger needs a connector",
                diag_quote(r->d, t->connection.text));
  } else if (conn->connector) {
    conn->uses++;
    const Connector *cn = conn->connector;
    r->res->trigger_connector = cn;
    rec = connector_record(cn, t->record.text);
    bool created = (decl->flags & AST_FLAG_CREATED) != 0;
    const TriggerDecl *td = connector_trigger(cn, t->record.text, created);
    if (!td) {
      Buf b;
      buf_init(&b, 0);
      for (uint32_t i = 0; i < cn->n_triggers; i++)
        buf_printf(&b, "%s`%.*s %s%.*s`", i ? ", " : "", STR_FMT(cn->triggers[i].record),
                   cn->triggers[i].created ? "created" : "reaches ",
                   STR_FMT(cn->triggers[i].stage_field));
      Diag *dg = diag_report(r->d, DIAG_E0506, t->record.span, "%.*s cannot trigger on `%s %s`",
                             STR_FMT(cn->name), diag_quote(r->d, t->record.text),
                             created ? "created" : "reaches");
      if (cn->n_triggers) diag_help(r->d, dg, "its triggers are %s", buf_cstr(&b));
      else diag_help(r->d, dg, "%.*s declares no triggers: flows send to it, they do not start from it",
                     STR_FMT(cn->name));
      buf_fini(&b);
    } else {
      r->res->trigger = td;
      if (!created) stage = type_field(rec, td->stage_field);
    }
    if (!rec) rec = type_prim(TY_ANY);
  }
  input->type = rec ? rec : type_prim(TY_ANY);
  const Type *stage_t = stage ? type_strip(stage->type) : NULL;
  for (uint32_t i = 0; i < t->stages.n; i++) {
    AstNode *s = t->stages.items[i];
    const Type *st = resolve_expr(r, s, stage_t);
    if (stage_t && !type_assignable(type_strip(st), stage_t) &&
        !(type_strip(st)->kind == TY_LIST && type_assignable(type_strip(st)->elem, stage_t))) {
      Diag *dg = diag_report(r->d, DIAG_E0304, s->span, "the stages must be values of `%.*s` (%s), not `%s`",
                             STR_FMT(stage->name), tstr(r, stage_t), tstr(r, st));
      diag_help(r->d, dg, "a setting of stages has the type `list of %s`", tstr(r, stage_t));
    }
  }
  for (uint32_t i = 0; i < t->clauses.n; i++) {
    AstNode *cl = t->clauses.items[i];
    if (cl->kind == AST_WHERE) {
      resolve_condition(r, AST_AS(AstUnary, cl)->operand, "the `where` condition");
    } else if (cl->kind == AST_UPDATES) {
      AstNode *op = AST_AS(AstUnary, cl)->operand;
      const Type *ut = resolve_expr(r, op, r->t_updates);
      if (!type_assignable(ut, r->t_updates)) {
        Diag *dg = diag_report(r->d, DIAG_E0304, op->span, "`updates:` is one of `%s`, not `%s`",
                               tstr(r, r->t_updates), tstr(r, ut));
        diag_help(r->d, dg, "a setting for it has the type `ignore | apply | again`");
      }
    }
  }
}

static void resolve_step(R *r, AstNode *decl) {
  AstStep *s = AST_AS(AstStep, decl);
  Decl *d = decl->decl;
  r->cur_step = d;
  const Type *result = NULL;
  if (s->connection.text.ptr) {
    Decl *conn = strmap_get(&r->globals, s->connection.text);
    const Operation *op = NULL;
    if (!conn || conn->kind != DECL_CONNECTION) {
      Diag *dg = diag_report(r->d, DIAG_E0209, s->connection.span, "unknown connection `%s`",
                             diag_quote(r->d, s->connection.text));
      const char *best = resolve_closest_in_map(r, s->connection.text, &r->globals);
      if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
      else diag_help(r->d, dg, "declare it: `use %s: SYSTEM`", diag_quote(r->d, s->connection.text));
    } else if (conn->lua_path) {
      conn->uses++;
      Diag *dg = diag_report(r->d, DIAG_E0509, s->connection.span,
                             "`%s` is a Lua file; steps send through connectors",
                             diag_quote(r->d, s->connection.text));
      diag_help(r->d, dg, "call a Lua function in an expression: `%s.function(...)`",
                diag_quote(r->d, s->connection.text));
    } else if (conn->connector) {
      conn->uses++;
      d->step_conn = conn;
      const Connector *cn = conn->connector;
      bool has_ops = false;
      for (uint32_t i = 0; i < cn->n_ops; i++) has_ops |= str_eq(cn->ops[i].record, s->record.text);
      if (!connector_record(cn, s->record.text) && !has_ops) {
        Diag *dg = diag_report(r->d, DIAG_E0210, s->record.span, "%.*s has no record `%s`",
                               STR_FMT(cn->name), diag_quote(r->d, s->record.text));
        Str names[256];
        uint32_t nn = 0;
        for (uint32_t i = 0; i < cn->n_records && nn < 256; i++) {
          Str q = cn->records[i]->name;
          names[nn++] = str_make(q.ptr + cn->name.len + 1, q.len - cn->name.len - 1);
        }
        const char *best = resolve_closest(r, s->record.text, names, nn);
        if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
      } else if (!(op = connector_operation(cn, s->record.text, s->operation.text))) {
        Diag *dg = diag_report(r->d, DIAG_E0503, s->operation.span,
                               "%.*s has no operation `%s.%s`", STR_FMT(cn->name),
                               diag_quote(r->d, s->record.text), diag_quote(r->d, s->operation.text));
        Str names[64];
        uint32_t nn = 0;
        Buf b;
        buf_init(&b, 0);
        for (uint32_t i = 0; i < cn->n_ops && nn < 64; i++)
          if (str_eq(cn->ops[i].record, s->record.text)) {
            names[nn++] = cn->ops[i].name;
            buf_printf(&b, "%s`%.*s`", nn > 1 ? ", " : "", STR_FMT(cn->ops[i].name));
          }
        const char *best = resolve_closest(r, s->operation.text, names, nn);
        if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
        else if (nn) diag_help(r->d, dg, "the operations of `%s` are %s",
                               diag_quote(r->d, s->record.text), buf_cstr(&b));
        else diag_help(r->d, dg, "no operation of %.*s works on `%s`", STR_FMT(cn->name),
                       diag_quote(r->d, s->record.text));
        buf_fini(&b);
      }
    }
    d->op = op;
    if (op) {
      d->op_args = ARENA_NEW_ARRAY(r->a, AstNode *, op->params->n_fields + 1);
      d->body_type = op->takes;
      result = op->returns;
    }
    for (uint32_t i = 0; i < s->args.n; i++) {
      AstNamed *arg = AST_AS(AstNamed, s->args.items[i]);
      const TypeField *p = op && arg->name.text.ptr ? type_field(op->params, arg->name.text) : NULL;
      /* With the operation unknown, a bare name is probably one of its enum
      ** values: do not add "unknown name" to the report about the operation. */
      if (!op && arg->value->kind == AST_NAME &&
          !resolve_find_local(r, AST_AS(AstText, arg->value)->text) &&
          !strmap_get(&r->globals, AST_AS(AstText, arg->value)->text)) {
        arg->value->type = type_prim(TY_ANY);
        continue;
      }
      if (arg->value->kind == AST_LAMBDA) resolve_lambda(r, arg->value, type_prim(TY_ANY), NULL);
      else s->args.items[i]->type = resolve_expr(r, arg->value, p ? p->type : NULL);
      if (!op) continue;
      if (!arg->name.text.ptr) {
        Diag *dg = diag_report(r->d, DIAG_E0504, s->args.items[i]->span,
                               "arguments of operations are named");
        if (op->params->n_fields)
          diag_help(r->d, dg, "write `%.*s: ...`", STR_FMT(op->params->fields[0].name));
        continue;
      }
      if (!p) {
        Diag *dg = diag_report(r->d, DIAG_E0504, arg->name.span, "`%s.%s` has no parameter `%s`",
                               diag_quote(r->d, s->record.text), diag_quote(r->d, s->operation.text),
                               diag_quote(r->d, arg->name.text));
        const char *best = type_suggest_field(&r->d->arena, op->params, arg->name.text);
        if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
        else {
          Buf b;
          buf_init(&b, 0);
          for (uint32_t k = 0; k < op->params->n_fields; k++)
            buf_printf(&b, "%s`%.*s`", k ? ", " : "", STR_FMT(op->params->fields[k].name));
          diag_help(r->d, dg, op->params->n_fields ? "its parameters are %s" : "it takes no parameters%s",
                    buf_cstr(&b));
          buf_fini(&b);
        }
        continue;
      }
      uint32_t k = (uint32_t)(p - op->params->fields);
      if (d->op_args[k]) {
        diag_report(r->d, DIAG_E0504, arg->name.span, "`%s` is given twice",
                    diag_quote(r->d, arg->name.text));
        continue;
      }
      d->op_args[k] = arg->value;
    }
  } else {
    for (uint32_t i = 0; i < s->args.n; i++) resolve_expr(r, AST_AS(AstNamed, s->args.items[i])->value, NULL);
  }
  size_t fmark = r->n_facts;
  if (s->when) {
    resolve_condition(r, s->when, "the `when` condition");
    resolve_add_facts(r, s->when, true);
  }
  if (s->body) {
    const Type *bt = resolve_expr(r, s->body, d->body_type);
    r->n_facts = fmark;
    if (!s->connection.text.ptr) result = bt;  /* a computed step's result is its record */
  }
  if (!result) result = type_prim(TY_ANY);
  if (s->when) result = type_nullable(r->a, result);
  d->type = result;
  r->cur_step = NULL;
}

static void resolve_table(R *r, AstNode *decl) {
  AstTable *t = AST_AS(AstTable, decl);
  Decl *d = decl->decl;
  if (t->source) {
    const Type *rows = NULL;
    if (t->source->kind == AST_CALL && AST_AS(AstCall, t->source)->callee->kind == AST_NAME &&
        str_eq_cstr(AST_AS(AstText, AST_AS(AstCall, t->source)->callee)->text, "csv")) {
      AstCall *call = AST_AS(AstCall, t->source);
      t->source->decl = resolve_builtin(r, BUILTIN_CSV);
      call->callee->decl = t->source->decl;
      call->callee->type = type_prim(TY_ANY);
      call->argv = ARENA_NEW_ARRAY(r->a, AstNode *, call->args.n + 1);
      for (uint32_t i = 0; i < call->args.n; i++) {
        AstNode *v = AST_AS(AstNamed, call->args.items[i])->value;
        resolve_expr(r, v, NULL);
        call->argv[call->argc++] = v;
      }
      if (call->argc == 1 && call->argv[0]->kind == AST_STRING) {
        rows = check_csv_table(r->c, call->argv[0]);
      } else {
        diag_report(r->d, DIAG_E0309, t->source->span, "`csv` takes the file name as one plain string");
      }
      t->source->type = type_prim(TY_ANY);
      d->type = type_table(r->a, type_prim(TY_STRING), rows ? rows : type_prim(TY_ANY));
      return;
    }
    const Type *st = resolve_expr(r, t->source, NULL);
    if (type_strip(st)->kind != TY_TABLE && type_strip(st)->kind != TY_ANY) {
      Diag *dg = diag_report(r->d, DIAG_E0304, t->source->span, "a table is made from `csv(\"FILE\")` or a table, not `%s`",
                             tstr(r, st));
      diag_help(r->d, dg, "write the entries instead: `table %s { \"key\" => value ... }`",
                diag_quote(r->d, t->name.text));
      st = type_prim(TY_ANY);
    }
    d->type = type_strip(st)->kind == TY_TABLE ? type_strip(st) : type_table(r->a, type_prim(TY_STRING), type_prim(TY_ANY));
    return;
  }
  const Type *key = NULL, *val = NULL;
  for (uint32_t i = 0; i < t->arms.n; i++) {
    AstArm *arm = AST_AS(AstArm, t->arms.items[i]);
    for (uint32_t k = 0; k < arm->patterns.n; k++) {
      const Type *pt = resolve_expr(r, arm->patterns.items[k], key);
      if (pt->kind == TY_NULL) continue;
      key = key ? resolve_join_or_report(r, key, pt, arm->patterns.items[k], "this key") : pt;
    }
    const Type *vt = resolve_expr(r, arm->value, NULL);
    t->arms.items[i]->type = vt;
    val = val ? resolve_join_or_report(r, val, vt, arm->value, "this value") : vt;
  }
  d->type = type_table(r->a, key ? type_strip(key) : type_prim(TY_STRING),
                       val ? val : type_prim(TY_ANY));
}

static void resolve_test(R *r, AstNode *decl) {
  AstTest *t = AST_AS(AstTest, decl);
  r->in_test = true;
  for (uint32_t i = 0; i < t->entries.n; i++) {
    AstNode *e = t->entries.items[i];
    switch (e->kind) {
    case AST_TEST_SETTINGS: {
      AstNode *rec = AST_AS(AstUnary, e)->operand;
      AstSeq *s = AST_AS(AstSeq, rec);
      for (uint32_t k = 0; k < s->items.n; k++) {
        AstNode *fe = s->items.items[k];
        if (fe->kind != AST_FIELD_ENTRY) {
          diag_report(r->d, DIAG_E0606, fe->span, "a test's `settings` block only sets settings: `NAME = VALUE`");
          continue;
        }
        AstNamed *f = AST_AS(AstNamed, fe);
        Decl *sd = strmap_get(&r->settings, f->name.text);
        if (!sd) {
          Diag *dg = diag_report(r->d, DIAG_E0606, f->name.span, "the test sets an unknown setting `%s`",
                                 diag_quote(r->d, f->name.text));
          const char *best = resolve_closest_in_map(r, f->name.text, &r->settings);
          if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
          if (f->value->kind == AST_NAME) f->value->type = type_prim(TY_ANY);  /* an enum value, likely */
          else resolve_expr(r, f->value, NULL);
          continue;
        }
        fe->decl = sd;
        fe->type = resolve_expr(r, f->value, sd->type);
        check_value(r->c, f->value, fe->type, sd->type, "the setting");
      }
      rec->type = type_prim(TY_ANY);
      break;
    }
    case AST_TEST_INPUT: {
      AstNamed *in = AST_AS(AstNamed, e);
      const Decl *input = r->res->input;
      if (input && !str_eq(in->name.text, input->name)) {
        Diag *dg = diag_report(r->d, DIAG_E0609, in->name.span, "the trigger record is `%s`, not `%s`",
                               diag_quote(r->d, input->name), diag_quote(r->d, in->name.text));
        diag_help(r->d, dg, "write `input %s = ...`", diag_quote(r->d, input->name));
      }
      e->decl = (Decl *)input;
      resolve_expr(r, in->value, input ? input->type : NULL);
      break;
    }
    case AST_TEST_GIVEN: case AST_TEST_EXPECT: case AST_TEST_EXPECT_NO: {
      AstNamed *g = AST_AS(AstNamed, e);
      Decl *sd = strmap_get(&r->globals, g->name.text);
      if (!sd || sd->kind != DECL_STEP) {
        Diag *dg = diag_report(r->d, DIAG_E0605, g->name.span, "the test names an unknown step `%s`",
                               diag_quote(r->d, g->name.text));
        Str names[256];
        uint32_t nn = 0;
        for (uint32_t k = 0; k < r->res->n_steps && nn < 256; k++) names[nn++] = r->res->steps[k]->name;
        const char *best = resolve_closest(r, g->name.text, names, nn);
        if (best) diag_help(r->d, dg, "did you mean `%s`?", best);
        sd = NULL;
      }
      e->decl = sd;
      if (g->value) {
        const Type *want = NULL;
        if (sd) want = e->kind == AST_TEST_GIVEN ? type_strip(sd->type) : sd->body_type;
        if (sd && e->kind == AST_TEST_EXPECT && !sd->op) want = type_strip(sd->type);
        resolve_expr(r, g->value, want);
      }
      break;
    }
    default:
      break;
    }
  }
  r->in_test = false;
}

static void resolve_pass(R *r, AstSeq *file) {
  /* The trigger first: its record is visible everywhere. */
  for (uint32_t i = 0; i < file->items.n; i++)
    if (file->items.items[i]->kind == AST_TRIGGER) {
      r->cur_order = UINT32_MAX;
      resolve_trigger(r, file->items.items[i]);
    }
  for (uint32_t i = 0; i < file->items.n && !r->d->stopped; i++) {
    AstNode *decl = file->items.items[i];
    r->cur_order = i;
    switch (decl->kind) {
    case AST_SETTING: {
      AstSetting *s = AST_AS(AstSetting, decl);
      if (!decl->decl || !s->value) break;
      r->cur_order = 0;
      const Type *want = decl->decl->type;
      const Type *t = resolve_expr(r, s->value, want);
      if (!type_assignable(t, want)) {
        Diag *dg = diag_report(r->d, DIAG_E0402, s->value->span,
                               "the default of `%s` must be `%s`, but this is `%s`",
                               diag_quote(r->d, s->name.text), tstr(r, want), tstr(r, t));
        if (type_strip(t)->kind == TY_STRING && type_is_numeric(want))
          diag_help(r->d, dg, "write the number without quotes");
      }
      break;
    }
    case AST_LET: {
      if (!decl->decl) break;
      const Type *t = resolve_expr(r, AST_AS(AstNamed, decl)->value, NULL);
      decl->decl->type = t;
      decl->type = t;
      break;
    }
    case AST_STEP:
      if (decl->decl) resolve_step(r, decl);
      break;
    case AST_TABLE:
      if (decl->decl) resolve_table(r, decl);
      break;
    case AST_GUARD: {
      AstBinary *g = AST_AS(AstBinary, decl);
      resolve_condition(r, g->left, "the condition of `if`");
      resolve_expr(r, g->right, NULL);
      break;
    }
    case AST_TEST:
      resolve_test(r, decl);
      break;
    default:
      break;
    }
  }
}

static void init_r(R *r, Compilation *c) {
  memset(r, 0, sizeof *r);
  r->c = c;
  r->a = &c->arena;
  r->d = &c->diags;
  r->res = ARENA_NEW(r->a, Resolved);
  r->b = (AstBuilder){&c->arena, &c->diags, &c->sources, false};
  strmap_init(&r->globals);
  strmap_init(&r->settings);
  Str rules[ARRAY_LEN(rounding_rules)];
  for (size_t i = 0; i < ARRAY_LEN(rounding_rules); i++) rules[i] = str_from_cstr(rounding_rules[i]);
  r->res->rounding_type = type_enum(r->a, STR_LIT("rounding"), rules, ARRAY_LEN(rules));
  r->res->rounding = STR_LIT("half_up");
  Str upd[] = {STR_LIT("ignore"), STR_LIT("apply"), STR_LIT("again")};
  r->t_updates = type_enum(r->a, (Str){0}, upd, 3);
  for (int b = 0; b < 4; b++) {
    r->builtins[b].kind = DECL_BUILTIN;
    r->builtins[b].index = (uint32_t)b;
    r->builtins[b].type = type_prim(TY_ANY);
  }
  r->std = resolve_stdlib_signatures(r->a, r->res->rounding_type, &r->n_std);
  r->std_decls = ARENA_NEW_ARRAY(r->a, Decl *, r->n_std + 1);
}

static void fini_r(R *r) {
  strmap_fini(&r->globals);
  strmap_fini(&r->settings);
  free(r->locals);
  free(r->facts);
}

static void build_schemas(Compilation *c) {
  for (size_t i = 0; i < c->n_schemas; i++) {
    ConnectorSchema *cs = &c->schemas[i];
    if (cs->found && !cs->conn)
      cs->conn = schema_build(&c->arena, &c->diags, cs->system, &cs->files);
  }
}

/* A connector's schema may be split over several files that name each
** other's records, so a schema checked on its own is built together with
** the other .schema files of its folder (the folder is the connector).
** Only the diagnostics about the file being checked are kept; the others
** belong to the checks of those files. */
void resolve_schema(Compilation *c) {
  if (!c->flow) return;
  const SourceFile *main = sources_file(&c->sources, c->main_file);
  const char *slash = strrchr(main->path, '/');
  char *dir = slash ? xstrndup(main->path, (size_t)(slash - main->path)) : xstrdup(".");
  const char *base = slash ? slash + 1 : main->path;
  Str name = str_from_cstr(arena_strndup(&c->arena, dir, strlen(dir)));
  const char *last = strrchr(name.ptr, '/');
  if (last) name = str_from_cstr(last + 1);
  Diags tmp;
  diags_init(&tmp, 1000000);
  AstBuilder b = {&c->arena, &tmp, &c->sources, false};
  AstList files = ast_list_empty();
  ast_list_push(&b, &files, c->flow);
  DIR *d = c->opt.no_schemas || c->opt.no_files ? NULL : opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.' || n < 7 || strcmp(e->d_name + n - 7, ".schema") != 0 ||
        strcmp(e->d_name, base) == 0)
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    uint32_t id;
    char err[256];
    if (!sources_load(&c->sources, path, &id, err, sizeof err)) continue;
    AstNode *f = parse_file(&c->arena, &tmp, &c->sources, id, PARSE_SCHEMA);
    if (f) ast_list_push(&b, &files, f);
  }
  if (d) closedir(d);
  schema_build(&c->arena, &tmp, name, &files);
  for (size_t i = 0; i < tmp.n_items; i++) {
    const Diag *dg = &tmp.items[i];
    if (dg->span.file_id != c->main_file) continue;
    Diag *copy = diag_report(&c->diags, dg->code, dg->span, "%s", dg->message);
    if (dg->help) diag_help(&c->diags, copy, "%s", dg->help);
  }
  diags_fini(&tmp);
  free(dir);
}

void resolve_flow(Compilation *c) {
  if (!c->flow || c->main_mode != PARSE_FLOW) return;
  build_schemas(c);
  R r;
  init_r(&r, c);
  c->resolved = r.res;
  AstSeq *file = AST_AS(AstSeq, c->flow);
  declare_pass(&r, file);
  resolve_pass(&r, file);
  fini_r(&r);
}
