/*
** The checks after names and types (check.h): what a step sends against
** what its operation takes, operation arguments, unused names, and the
** files a flow names.
**
** Required fields are tracked per path: a field is set by a record when
** every path through its `if` entries sets it (or stops the transfer with
** skip/fail), or a spread record always carries it.
*/
#include "compiler/check.h"

#include "common/csv.h"
#include "common/util.h"
#include "compiler/compile.h"
#include "compiler/resolve.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *tstr(Compilation *c, const Type *t) { return type_str(&c->diags.arena, t); }

static Str node_text(Compilation *c, const AstNode *n) {
  const SourceFile *f = sources_file(&c->sources, n->span.file_id);
  return str_make(f->text + n->span.offset, n->span.len);
}

/* ---- Values against expected types ------------------------------------------ */

void check_value(Compilation *c, AstNode *value, const Type *got, const Type *want,
                 const char *what) {
  Diags *d = &c->diags;
  if (!got || !want || type_assignable(got, want)) return;
  const Type *sg = type_strip(got), *sw = type_strip(want);
  if (type_is_nullable(got) && !type_is_nullable(want) &&
      (got->kind == TY_NULL || type_assignable(sg, want))) {
    Diag *dg = diag_report(d, DIAG_E0305, value->span,
                           got->kind == TY_NULL ? "%s cannot be null" : "%s needs a value, but this may be null",
                           what);
    if (got->kind != TY_NULL)
      diag_help(d, dg, "say what to use when it is null: `%s ?? ...`, or fail: `?? fail(\"...\")`",
                diag_quote(d, node_text(c, value)));
    return;
  }
  if (sg->kind == TY_ENUM && sw->kind == TY_ENUM) {
    for (uint32_t i = 0; i < sg->n_values; i++) {
      if (type_enum_has(sw, sg->values[i])) continue;
      Diag *dg = diag_report(d, DIAG_E0306, value->span, "%s is one of `%s`, but this may be `%.*s`",
                             what, tstr(c, sw), STR_FMT(sg->values[i]));
      diag_help(d, dg, "map the values: `match %s { ... }`", diag_quote(d, node_text(c, value)));
      return;
    }
  }
  Diag *dg = diag_report(d, DIAG_E0304, value->span, "%s must be `%s`, but this is `%s`", what,
                         tstr(c, type_is_nullable(got) ? want : sw), tstr(c, got));
  if (sg->kind == TY_STRING && type_is_numeric(sw))
    diag_help(d, dg, "read the number with `%s(%s)`", sw->kind == TY_INT ? "int" : "decimal",
              diag_quote(d, node_text(c, value)));
  else if (sg->kind == TY_LIST && sw->kind == TY_LIST && type_strip(sg->elem)->kind == TY_RECORD &&
           type_strip(sw->elem)->kind == TY_RECORD)
    diag_help(d, dg, "build each element: `for x in %s { ... }`", diag_quote(d, node_text(c, value)));
  else if (type_is_numeric(sg) && sw->kind == TY_STRING)
    diag_help(d, dg, "write the number as text: `\"{%s}\"`", diag_quote(d, node_text(c, value)));
  else if (sg->kind == TY_LIST && sw->kind == TY_RECORD)
    diag_help(d, dg, "this is a list: take one element (`first(...)`, `find(...)`, `[0]`)");
  else if (sg->kind == TY_RECORD && sw->kind != TY_RECORD && sw->kind != TY_ANY)
    diag_help(d, dg, "this is a record: pick the field that holds the value");
  else if (sg->kind == TY_STRING && sw->kind == TY_ENUM)
    diag_help(d, dg, "a text is not checked against the values; map it: `match %s { \"x\" => %.*s ... }`",
              diag_quote(d, node_text(c, value)), STR_FMT(sw->values[0]));
  else if ((sg->kind == TY_DATETIME && sw->kind == TY_DATE))
    diag_help(d, dg, "take its calendar date: `date(%s)`", diag_quote(d, node_text(c, value)));
  else if (sg->kind == TY_STRING && (sw->kind == TY_DATE || sw->kind == TY_DATETIME))
    diag_help(d, dg, "read it with `%s(%s)`", sw->kind == TY_DATE ? "date" : "datetime",
              diag_quote(d, node_text(c, value)));
}

/* ---- Records against their targets ------------------------------------------- */

static void check_record(Compilation *c, AstNode *rec, const Type *target, Span where,
                         Str field, const char *what);

/* "`field`", made only when a report needs it. */
static const char *field_what(Compilation *c, Str field, const char *what) {
  return what ? what : arena_printf(&c->diags.arena, "`%.*s`", STR_FMT(field));
}

/* Check a value set into field `field` (or a list element of it) of type
** `want`, descending into record literals, `for` bodies and list literals. */
static void check_into(Compilation *c, AstNode *value, const Type *want, Span where,
                       Str field) {
  const char *what = NULL;
  const Type *sw = type_strip(want);
  switch (value->kind) {
  case AST_RECORD:
    if (sw->kind == TY_RECORD) {
      check_record(c, value, sw, where, field, NULL);
      return;
    }
    break;
  case AST_FOR:
    if (sw->kind == TY_LIST) {
      check_into(c, AST_AS(AstFor, value)->body, sw->elem, where, field);
      return;
    }
    break;
  case AST_LIST:
    if (sw->kind == TY_LIST) {
      AstSeq *s = AST_AS(AstSeq, value);
      for (uint32_t i = 0; i < s->items.n; i++) {
        AstNode *e = s->items.items[i];
        if (e->kind == AST_FOR) check_into(c, e, sw, where, field);
        else if (e->kind == AST_IF_ELEMENT) check_into(c, AST_AS(AstIf, e)->then_node, sw->elem, where, field);
        else check_into(c, e, sw->elem, where, field);
      }
      return;
    }
    break;
  case AST_IF: {
    AstIf *f = AST_AS(AstIf, value);
    check_into(c, f->then_node, want, where, field);
    if (f->else_node) check_into(c, f->else_node, want, where, field);
    else if (!type_is_nullable(want)) check_value(c, value, type_prim(TY_NULL), want, field_what(c, field, what));
    return;
  }
  case AST_COALESCE: {
    AstBinary *b = AST_AS(AstBinary, value);
    if (b->right->kind == AST_RECORD || b->right->kind == AST_LIST) {
      check_into(c, b->right, want, where, field);
      return;
    }
    break;
  }
  default:
    break;
  }
  if (value->type && !type_assignable(value->type, want))
    check_value(c, value, value->type, want, field_what(c, field, what));
}

/* Mark in `set` (indexed like target->fields) the fields the entries set
** on every path. Returns true when every path stops (skip/fail). */
static bool fields_set(const AstSeq *rec, const Type *target, bool *set) {
  for (uint32_t i = 0; i < rec->items.n; i++) {
    AstNode *e = rec->items.items[i];
    switch (e->kind) {
    case AST_FIELD_ENTRY: {
      const TypeField *f = type_field(target, AST_AS(AstNamed, e)->name.text);
      if (f && e->type && e->type->kind != TY_NULL) set[f - target->fields] = true;
      break;
    }
    case AST_SPREAD: {
      const Type *t = e->type ? type_strip(e->type) : type_prim(TY_ANY);
      if (t->kind == TY_ANY || (t->kind == TY_RECORD && t->open)) {
        for (uint32_t k = 0; k < target->n_fields; k++) set[k] = true;
      } else if (t->kind == TY_RECORD && !type_is_nullable(e->type)) {
        for (uint32_t k = 0; k < t->n_fields; k++) {
          const TypeField *f = type_field(target, t->fields[k].name);
          if (f && t->fields[k].required) set[f - target->fields] = true;
        }
      }
      break;
    }
    case AST_EXPR_ENTRY:
      if (e->type && e->type->kind == TY_NEVER) return true;
      break;
    case AST_IF_ENTRY: {
      AstIf *f = AST_AS(AstIf, e);
      bool *a = xcalloc(target->n_fields + 1, sizeof *a);
      bool *b = xcalloc(target->n_fields + 1, sizeof *b);
      bool a_stops = fields_set(AST_AS(AstSeq, f->then_node), target, a);
      bool b_stops = false;
      if (f->else_node) {
        if (f->else_node->kind == AST_IF_ENTRY) {
          AstNode *one = f->else_node;
          AstSeq wrap = {.items = {&one, 1, 1}};
          b_stops = fields_set(&wrap, target, b);
        } else {
          b_stops = fields_set(AST_AS(AstSeq, f->else_node), target, b);
        }
      }
      for (uint32_t k = 0; k < target->n_fields; k++)
        if ((a[k] || a_stops) && (b[k] || b_stops)) set[k] = true;
      free(a);
      free(b);
      if (a_stops && b_stops) return true;
      break;
    }
    default:
      break;
    }
  }
  return false;
}

static void entry_fields(Compilation *c, AstSeq *rec, const Type *target) {
  Diags *d = &c->diags;
  for (uint32_t i = 0; i < rec->items.n; i++) {
    AstNode *e = rec->items.items[i];
    if (e->kind == AST_IF_ENTRY) {
      AstIf *f = AST_AS(AstIf, e);
      entry_fields(c, AST_AS(AstSeq, f->then_node), target);
      if (f->else_node) {
        if (f->else_node->kind == AST_IF_ENTRY) {
          AstNode *one = f->else_node;
          AstSeq wrap = {.items = {&one, 1, 1}};
          entry_fields(c, &wrap, target);
        } else {
          entry_fields(c, AST_AS(AstSeq, f->else_node), target);
        }
      }
      continue;
    }
    if (e->kind != AST_FIELD_ENTRY) continue;
    AstNamed *fe = AST_AS(AstNamed, e);
    const TypeField *f = type_field(target, fe->name.text);
    if (!f) {
      if (target->open) continue;
      Diag *dg = diag_report(d, DIAG_E0213, fe->name.span, "%s has no field `%s`", tstr(c, target),
                             diag_quote(d, fe->name.text));
      const char *best = type_suggest_field(&d->arena, target, fe->name.text);
      if (best) diag_help(d, dg, "did you mean `%s`?", best);
      else diag_help(d, dg, "the system would not accept it; remove it, or add the field to "
                            "the connector's schema if the system has it");
      continue;
    }
    if (f->readonly) {
      Diag *dg = diag_report(d, DIAG_E0214, fe->name.span, "`%s` of %s is set by the system",
                             diag_quote(d, fe->name.text), tstr(c, target));
      diag_help(d, dg, "remove this line: the system fills it in and ignores or rejects a value");
      continue;
    }
    const Type *want = f->required ? f->type : type_nullable(&c->arena, f->type);
    AstNode *v = fe->value;
    /* Most values fit; name the field only when something is reported. */
    if (v->kind != AST_RECORD && v->kind != AST_FOR && v->kind != AST_LIST && v->kind != AST_IF &&
        v->kind != AST_COALESCE && v->type && type_assignable(v->type, want))
      continue;
    check_into(c, v, want, fe->name.span, fe->name.text);
  }
}

/* Whether any entry, on any path, sets `name`. */
static bool sets_anywhere(const AstSeq *rec, Str name) {
  for (uint32_t i = 0; i < rec->items.n; i++) {
    AstNode *e = rec->items.items[i];
    if (e->kind == AST_FIELD_ENTRY && str_eq(AST_AS(AstNamed, e)->name.text, name)) return true;
    if (e->kind != AST_IF_ENTRY) continue;
    AstIf *f = AST_AS(AstIf, e);
    if (sets_anywhere(AST_AS(AstSeq, f->then_node), name)) return true;
    if (f->else_node) {
      AstNode *one = f->else_node;
      AstSeq wrap = {.items = {&one, 1, 1}};
      if (sets_anywhere(f->else_node->kind == AST_IF_ENTRY ? &wrap : AST_AS(AstSeq, f->else_node), name))
        return true;
    }
  }
  return false;
}

static void check_record(Compilation *c, AstNode *rec, const Type *target, Span where,
                         Str field, const char *what) {
  Diags *d = &c->diags;
  target = type_strip(target);
  if (target->kind != TY_RECORD || rec->kind != AST_RECORD) return;
  AstSeq *s = AST_AS(AstSeq, rec);
  entry_fields(c, s, target);
  bool *set = xcalloc(target->n_fields + 1, sizeof *set);
  bool stops = fields_set(s, target, set);
  if (!stops) {
    Buf missing;
    buf_init(&missing, 0);
    uint32_t n = 0;
    const TypeField *first = NULL;
    for (uint32_t k = 0; k < target->n_fields; k++) {
      const TypeField *f = &target->fields[k];
      if (!f->required || f->readonly || set[k]) continue;
      buf_printf(&missing, "%s`%.*s`", n++ ? ", " : "", STR_FMT(f->name));
      if (!first) first = f;
    }
    if (n) {
      /* Was it set somewhere, only not on every path? */
      bool somewhere = first && sets_anywhere(s, first->name);
      Diag *dg = diag_report(d, DIAG_E0310, where, "%s is missing %s required by %s",
                             field_what(c, field, what), buf_cstr(&missing), tstr(c, target));
      if (somewhere)
        diag_help(d, dg, "`%.*s` is set inside an `if` but not on every path: add an `else`",
                  STR_FMT(first->name));
      else
        diag_help(d, dg, "set %s: `%.*s = ...`%s", n == 1 ? "it" : "them", STR_FMT(first->name),
                  first->doc.len ? "" : "");
    }
    buf_fini(&missing);
  }
  free(set);
}

/* ---- Steps ---------------------------------------------------------------------- */

static void check_step(Compilation *c, Decl *step) {
  Diags *d = &c->diags;
  AstStep *s = AST_AS(AstStep, step->node);
  const Operation *op = step->op;
  if (!op) return;
  for (uint32_t k = 0; k < op->params->n_fields; k++) {
    const TypeField *p = &op->params->fields[k];
    AstNode *v = step->op_args[k];
    if (!v) {
      if (p->required) {
        Diag *dg = diag_report(d, DIAG_E0505, s->operation.span,
                               "`%.*s.%.*s` needs the parameter `%.*s`", STR_FMT(op->record),
                               STR_FMT(op->name), STR_FMT(p->name));
        diag_help(d, dg, "add `%.*s: ...` (of type `%s`) to the arguments", STR_FMT(p->name),
                  tstr(c, p->type));
      }
      continue;
    }
    const Type *want = p->required ? p->type : type_nullable(&c->arena, p->type);
    check_value(c, v, v->type, want, arena_printf(&d->arena, "parameter `%.*s`", STR_FMT(p->name)));
  }
  if (!s->body) return;
  if (!op->takes) {
    if (AST_AS(AstSeq, s->body)->items.n) {
      Diag *dg = diag_report(d, DIAG_E0508, s->body->span, "`%.*s.%.*s` takes no record",
                             STR_FMT(op->record), STR_FMT(op->name));
      diag_help(d, dg, "leave the body empty: `{}`; its parameters say what it needs");
    }
    return;
  }
  check_record(c, s->body, op->takes, s->name.span, s->name.text,
               arena_printf(&d->arena, "step `%.*s`", STR_FMT(s->name.text)));
}

/* ---- Unused names ------------------------------------------------------------------ */

static void unused_lets(AstNode *n, void *ctx) {
  Compilation *c = ctx;
  if (n->kind == AST_LET && n->decl && n->decl->uses == 0) {
    Diag *dg = diag_report(&c->diags, DIAG_W0201, n->decl->span, "`%s` is never used",
                           diag_quote(&c->diags, n->decl->name));
    diag_help(&c->diags, dg, "remove the `let`, or use it");
  }
  ast_visit_children(n, unused_lets, ctx);
}

static void check_unused(Compilation *c) {
  Resolved *res = c->resolved;
  Diags *d = &c->diags;
  ast_visit_children(c->flow, unused_lets, c);
  for (uint32_t i = 0; i < res->n_settings; i++) {
    Decl *s = res->settings[i];
    if (s->uses) continue;
    Diag *dg = diag_report(d, DIAG_W0401, s->span, "setting `%s` is never read",
                           diag_quote(d, s->name));
    diag_help(d, dg, "read it as `settings.%s`, or remove it so support staff do not "
                     "change it in vain", diag_quote(d, s->name));
  }
  for (uint32_t i = 0; i < res->n_connections; i++) {
    Decl *s = res->connections[i];
    if (s->uses) continue;
    Diag *dg = diag_report(d, DIAG_W0202, s->span, "connection `%s` is never used",
                           diag_quote(d, s->name));
    diag_help(d, dg, s->lua_path ? "call its functions as `%s.function(...)`, or remove it"
                                 : "send to it with a step, or remove it",
              diag_quote(d, s->name));
  }
}

/* ---- Files ------------------------------------------------------------------------- */

/* Read the file the string node `pathn` names (compile_path_beside), a
** regular file of at most SOURCE_MAX_BYTES: malloc'd text, its path in
** *path. NULL when reading files is off (fuzzing), or after reporting
** `code`, "<what> missing: <why>". */
static char *read_named(Compilation *c, AstNode *pathn, DiagCode code, const char *what,
                        const char **path, size_t *len) {
  *path = NULL;
  *len = 0;
  if (c->opt.no_schemas || c->opt.no_files) return NULL;
  const char *p = *path = compile_path_beside(c, AST_AS(AstText, pathn)->text);
  char why[600];
  char *text = NULL;
  struct stat st;
  if (stat(p, &st) != 0) {
    snprintf(why, sizeof why, "there is no file `%s`", p);
  } else if (!S_ISREG(st.st_mode)) {
    snprintf(why, sizeof why, "`%s` is not a file", p);
  } else {
    char err[128];
    text = read_file(p, SOURCE_MAX_BYTES, len, err, sizeof err);
    if (!text) snprintf(why, sizeof why, "cannot read `%s`: %s", p, err);
  }
  if (!text) {
    Diag *dg = diag_report(&c->diags, code, pathn->span, "%s missing: %s", what, why);
    diag_help(&c->diags, dg, "the path is relative to the flow's folder");
  }
  return text;
}

static void check_lua(Compilation *c, Decl *conn) {
  Diags *d = &c->diags;
  AstUse *u = AST_AS(AstUse, conn->node);
  if (!u->lua_file || u->lua_file->kind != AST_STRING) return;
  const char *path;
  size_t len;
  char *text = read_named(c, u->lua_file, DIAG_E0601, "Lua file", &path, &len);
  if (!text) return;
  lua_State *L = luaL_newstate();
  if (!L) {
    free(text);
    return;
  }
  /* "=name" makes Lua's messages start with the name itself. */
  const char *base = strrchr(path, '/');
  char chunk[300];
  snprintf(chunk, sizeof chunk, "=%s", base ? base + 1 : path);
  if (luaL_loadbufferx(L, text, len, chunk, "t") != LUA_OK) {
    /* Lua's message quotes a little of the file ("near ..."): keep it on
    ** one line of printable text. */
    char msg[256];
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    for (char *q = msg; *q; q++)
      if ((unsigned char)*q < 0x20 || *q == 0x7f) *q = ' ';
    Diag *dg = diag_report(d, DIAG_E0602, u->lua_file->span, "Lua syntax error: %s", msg);
    diag_help(d, dg, "fix the Lua file; `luac -p %s` shows the same error", path);
  }
  lua_close(L);
  free(text);
}

void check_fixture(Compilation *c, AstNode *pathn) {
  Diags *d = &c->diags;
  const char *path;
  size_t len;
  char *text = read_named(c, pathn, DIAG_E0607, "test fixture", &path, &len);
  if (!text) return;
  json_error_t err;
  json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &err);
  if (!j) {
    diag_report(d, DIAG_E0607, pathn->span, "test fixture `%s` is not JSON: line %d: %s", path,
                err.line, err.text);
  }
  json_decref(j);
  free(text);
}

/* Report why a CSV table's file is refused (E0604). The reader
** (common/csv.h) is the one iexc compiles the table with; the messages of
** the mistakes people make most keep their wording here. */
static void csv_refused(Compilation *c, AstNode *pathn, const char *path, Str name,
                        const CsvError *why, Buf *err) {
  Diags *d = &c->diags;
  Span at = pathn->span;
  Diag *dg;
  switch (why->kind) {
  case CSV_EMPTY:
  case CSV_UNCLOSED_QUOTE:
    if (why->kind == CSV_EMPTY || why->in_header) {
      dg = diag_report(d, DIAG_E0604, at, "CSV file `%s` %s", path,
                       why->kind == CSV_EMPTY ? "has no header row"
                                              : "has an unterminated quote in its header");
      diag_help(d, dg, "the first row names the columns; the first column is the key");
    } else {
      diag_report(d, DIAG_E0604, at, "CSV file `%s` line %u: unterminated quote", path, why->line);
    }
    return;
  case CSV_UNNAMED_COLUMN:
  case CSV_REPEATED_COLUMN:
    diag_report(d, DIAG_E0604, at, "CSV file `%s`: column %u of the header is %s", path,
                why->column, why->kind == CSV_REPEATED_COLUMN ? "a repeated name" : "empty");
    return;
  case CSV_FIELD_COUNT:
    dg = diag_report(d, DIAG_E0604, at, "CSV file `%s` line %u: wrong number of columns", path,
                     why->line);
    diag_help(d, dg, "the header has %u columns, this row %u; quote values that contain a comma",
              why->n_columns, why->n_fields);
    return;
  case CSV_REPEATED_KEY:
    diag_report(d, DIAG_E0604, at, "CSV table %.*s:%u: key `%s` is also on line %u; keys must be unique",
                STR_FMT(name), why->line, diag_quote(d, why->text), why->first_line);
    return;
  case CSV_EMPTY_KEY:
    diag_report(d, DIAG_E0604, at, "CSV table %.*s:%u: the key (column `%s`) is empty",
                STR_FMT(name), why->line, diag_quote(d, why->text));
    return;
  default:
    /* The reader's own message, which quotes nothing of the file. */
    diag_report(d, DIAG_E0604, at, "CSV table %s", buf_cstr(err));
    return;
  }
}

const Type *check_csv_table(Compilation *c, AstNode *pathn) {
  Str name = AST_AS(AstText, pathn)->text;
  const char *path;
  size_t len;
  char *text = read_named(c, pathn, DIAG_E0603, "CSV file", &path, &len);
  if (!text) return NULL;
  /* The rows live in a scratch arena: only the header is kept. */
  Arena scratch;
  arena_init(&scratch);
  Buf err;
  buf_init(&err, 0);
  CsvData csv;
  CsvError fault;
  const Type *row = NULL;
  const char *shown = arena_printf(&c->arena, "%.*s", STR_FMT(name));
  if (!csv_parse(&scratch, shown, str_make(text, len), NULL, &csv, &err, &fault)) {
    csv_refused(c, pathn, path, name, &fault, &err);
  } else {
    Type *rec = type_record(&c->arena, str_from_cstr(arena_printf(&c->arena, "row of %.*s", STR_FMT(name))),
                            csv.n_columns);
    /* An empty field is null (stdlib/lookup.h), so every column may be. */
    for (uint32_t i = 0; i < csv.n_columns; i++)
      type_record_add(&c->arena, rec, arena_str(&c->arena, csv.columns[i]), type_prim(TY_STRING));
    row = rec;
  }
  buf_fini(&err);
  arena_fini(&scratch);
  free(text);
  return row;
}

/* ---- The flow ---------------------------------------------------------------------- */

void check_flow(Compilation *c) {
  Resolved *res = c->resolved;
  if (!res || !c->flow) return;
  Diags *d = &c->diags;
  if (!res->input) {
    AstSeq *file = AST_AS(AstSeq, c->flow);
    Span at = file->items.n ? file->items.items[0]->span : c->flow->span;
    Diag *dg = diag_report(d, DIAG_E0502, at, "the flow has no trigger");
    diag_help(d, dg, "say which records start a transfer: `on shop.order reaches paid`");
  }
  for (uint32_t i = 0; i < res->n_connections; i++)
    if (res->connections[i]->lua_path) check_lua(c, res->connections[i]);
  for (uint32_t i = 0; i < res->n_steps && !d->stopped; i++) check_step(c, res->steps[i]);
  check_unused(c);
}
