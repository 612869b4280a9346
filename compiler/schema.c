/*
** Connector schemas -> types (types.h): the records, operations and
** triggers of one connector, from the AST of all its .schema files.
**
** Records may name each other in any order and across files, so building
** takes two passes: first every `record` gets an empty named Type, then
** fields, operations and triggers are filled in and their type names
** looked up.
*/
#include "compiler/types.h"

#include "common/util.h"

#include <string.h>

static Str qualified(Arena *a, Str conn, Str name) {
  if (!conn.len) return arena_str(a, name);
  char *s = arena_printf(a, "%.*s.%.*s", STR_FMT(conn), STR_FMT(name));
  return str_from_cstr(s);
}

const Type *connector_record(const Connector *c, Str name) {
  if (!c) return NULL;
  for (uint32_t i = 0; i < c->n_records; i++) {
    Str n = c->records[i]->name;
    /* records are named "conn.name" (or "name" without a connector name) */
    if (str_eq(n, name) || (n.len > name.len && n.ptr[n.len - name.len - 1] == '.' &&
                            memcmp(n.ptr + n.len - name.len, name.ptr, name.len) == 0))
      return c->records[i];
  }
  return NULL;
}

const Operation *connector_operation(const Connector *c, Str record, Str name) {
  for (uint32_t i = 0; c && i < c->n_ops; i++)
    if (str_eq(c->ops[i].record, record) && str_eq(c->ops[i].name, name)) return &c->ops[i];
  return NULL;
}

const TriggerDecl *connector_trigger(const Connector *c, Str record, bool created) {
  for (uint32_t i = 0; c && i < c->n_triggers; i++)
    if (str_eq(c->triggers[i].record, record) && c->triggers[i].created == created)
      return &c->triggers[i];
  return NULL;
}

static Str doc_text(AstNode *doc) {
  if (doc && doc->kind == AST_STRING) return AST_AS(AstText, doc)->text;
  return (Str){0};
}

static const struct { const char *name; TypeKind kind; } prim_names[] = {
  {"bool", TY_BOOL}, {"int", TY_INT}, {"decimal", TY_DECIMAL}, {"money", TY_MONEY},
  {"string", TY_STRING}, {"date", TY_DATE}, {"datetime", TY_DATETIME},
  {"secret", TY_SECRET}, {"any", TY_ANY},
};

static void fill_fields(Arena *a, Diags *d, const Connector *conn, Type *rec,
                        const AstList *fields, Str owner);

const Type *type_from_ast(Arena *a, Diags *d, const Connector *conn, AstNode *node,
                          Str owner) {
  if (!node) return type_prim(TY_ANY);
  switch (node->kind) {
  case AST_TYPE_NAME: {
    Str name = AST_AS(AstText, node)->text;
    for (size_t i = 0; i < ARRAY_LEN(prim_names); i++)
      if (str_eq_cstr(name, prim_names[i].name)) return type_prim(prim_names[i].kind);
    const Type *r = connector_record(conn, name);
    if (r) return r;
    Diag *dg = diag_report(d, DIAG_E0301, node->span, "unknown type `%s`", diag_quote(d, name));
    /* did you mean: a primitive or a record */
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < ARRAY_LEN(prim_names); i++) {
      size_t dist = str_edit_distance(name, str_from_cstr(prim_names[i].name), 2);
      if (dist < best_d) { best_d = dist; best = prim_names[i].name; }
    }
    for (uint32_t i = 0; conn && i < conn->n_records; i++) {
      Str rn = conn->records[i]->name;
      const char *dot = memchr(rn.ptr, '.', rn.len);
      Str shortn = dot ? str_make(dot + 1, rn.len - (size_t)(dot + 1 - rn.ptr)) : rn;
      size_t dist = str_edit_distance(name, shortn, 2);
      if (dist < best_d) { best_d = dist; best = arena_strndup(a, shortn.ptr, shortn.len); }
    }
    if (best) diag_help(d, dg, "did you mean `%s`?", best);
    else diag_help(d, dg, "types are bool, int, decimal, money, string, date, datetime, "
                          "an enumeration `a | b`, `list of T` or a record of the connector");
    return type_prim(TY_ANY);
  }
  case AST_TYPE_ENUM: {
    AstSeq *s = AST_AS(AstSeq, node);
    Str *v = ARENA_NEW_ARRAY(a, Str, s->items.n ? s->items.n : 1);
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->items.n; i++) {
      AstNode *it = s->items.items[i];
      if (it->kind != AST_NAME && it->kind != AST_STRING) continue;
      Str val = AST_AS(AstText, it)->text;
      bool dup = false;
      for (uint32_t j = 0; j < n; j++) dup |= str_eq(v[j], val);
      if (dup) {
        diag_report(d, DIAG_E0302, it->span, "`%s` is listed twice in this enumeration",
                    diag_quote(d, val));
        continue;
      }
      v[n++] = val;
    }
    return type_enum(a, owner, v, n);
  }
  case AST_TYPE_LIST:
    return type_list(a, type_from_ast(a, d, conn, AST_AS(AstUnary, node)->operand, owner));
  case AST_TYPE_TABLE: {
    AstBinary *b = AST_AS(AstBinary, node);
    return type_table(a, type_from_ast(a, d, conn, b->left, owner),
                      type_from_ast(a, d, conn, b->right, owner));
  }
  case AST_TYPE_RECORD: {
    AstSeq *s = AST_AS(AstSeq, node);
    Type *rec = type_record(a, (Str){0}, s->items.n);
    fill_fields(a, d, conn, rec, &s->items, owner);
    return rec;
  }
  default:
    return type_prim(TY_ANY);
  }
}

static void fill_fields(Arena *a, Diags *d, const Connector *conn, Type *rec,
                        const AstList *fields, Str owner) {
  (void)owner;
  for (uint32_t i = 0; i < fields->n; i++) {
    AstNode *n = fields->items[i];
    if (n->kind != AST_FIELD_DECL && n->kind != AST_PARAM) continue;
    AstFieldDecl *fd = AST_AS(AstFieldDecl, n);
    if (!fd->name.text.ptr) continue;
    if (type_field(rec, fd->name.text)) {
      diag_report(d, DIAG_E0302, fd->name.span, "field `%s` is declared twice",
                  diag_quote(d, fd->name.text));
      continue;
    }
    const Type *t = type_from_ast(a, d, conn, fd->type, fd->name.text);
    TypeField *f = type_record_add(a, rec, fd->name.text, t);
    f->span = fd->name.span;
    f->doc = doc_text(fd->doc);
    for (uint32_t m = 0; m < fd->modifiers.n; m++) {
      AstNode *mod = fd->modifiers.items[m];
      switch (mod->kind) {
      case AST_MOD_REQUIRED: f->required = true; break;
      case AST_MOD_READONLY: f->readonly = true; break;
      case AST_MOD_MAX: f->has_max = true; f->max = AST_AS(AstInt, mod)->value; break;
      case AST_MOD_MIN: f->has_min = true; f->min = AST_AS(AstInt, mod)->value; break;
      case AST_MOD_DECIMALS: f->decimals = (int)AST_AS(AstInt, mod)->value; break;
      case AST_MOD_AS: f->as_string = true; break;
      default: break;
      }
    }
  }
}

Connector *schema_build(Arena *a, Diags *d, Str name, const AstList *files) {
  Connector *c = ARENA_NEW(a, Connector);
  c->name = name;
  uint32_t n_rec = 0, n_ops = 0, n_trig = 0;
  for (uint32_t f = 0; f < files->n; f++) {
    AstSeq *file = AST_AS(AstSeq, files->items[f]);
    for (uint32_t i = 0; i < file->items.n; i++) {
      AstNode *decl = file->items.items[i];
      n_rec += decl->kind == AST_RECORD_DECL;
      n_ops += decl->kind == AST_OPERATION;
      n_trig += decl->kind == AST_TRIGGER_SPEC;
    }
  }
  c->records = ARENA_NEW_ARRAY(a, Type *, n_rec + 1);
  c->ops = ARENA_NEW_ARRAY(a, Operation, n_ops + 1);
  c->triggers = ARENA_NEW_ARRAY(a, TriggerDecl, n_trig + 1);
  /* Pass 1: a named type per record. */
  for (uint32_t f = 0; f < files->n; f++) {
    AstSeq *file = AST_AS(AstSeq, files->items[f]);
    for (uint32_t i = 0; i < file->items.n; i++) {
      AstNode *decl = file->items.items[i];
      if (decl->kind != AST_RECORD_DECL) continue;
      AstRecordDecl *r = AST_AS(AstRecordDecl, decl);
      if (!r->name.text.ptr) continue;
      if (connector_record(c, r->name.text)) {
        diag_report(d, DIAG_E0302, r->name.span, "record `%s` is declared twice",
                    diag_quote(d, r->name.text));
        continue;
      }
      Type *t = type_record(a, qualified(a, name, r->name.text), r->fields.n);
      decl->type = t;
      c->records[c->n_records++] = t;
    }
  }
  /* Pass 2: fields. */
  for (uint32_t f = 0; f < files->n; f++) {
    AstSeq *file = AST_AS(AstSeq, files->items[f]);
    for (uint32_t i = 0; i < file->items.n; i++) {
      AstNode *decl = file->items.items[i];
      if (decl->kind == AST_RECORD_DECL && decl->type) {
        AstRecordDecl *r = AST_AS(AstRecordDecl, decl);
        fill_fields(a, d, c, (Type *)decl->type, &r->fields, r->name.text);
      }
    }
  }
  /* Pass 3: operations and triggers, which look into the records. */
  for (uint32_t f = 0; f < files->n; f++) {
    AstSeq *file = AST_AS(AstSeq, files->items[f]);
    for (uint32_t i = 0; i < file->items.n; i++) {
      AstNode *decl = file->items.items[i];
      if (decl->kind == AST_OPERATION) {
        AstOperation *o = AST_AS(AstOperation, decl);
        if (!o->record.text.ptr || !o->name.text.ptr) continue;
        /* RECORD names the resource; it must be a record unless `takes`
        ** and `returns` both say what goes in and out. */
        const Type *rec = connector_record(c, o->record.text);
        if (!rec && (!o->takes || !o->returns)) {
          Diag *dg = diag_report(d, DIAG_E0301, o->record.span,
                                 "operation on unknown record `%s`", diag_quote(d, o->record.text));
          diag_help(d, dg, "declare the record, or give both `takes` and `returns`");
          continue;
        }
        if (connector_operation(c, o->record.text, o->name.text)) {
          diag_report(d, DIAG_E0302, o->name.span, "operation `%s.%s` is declared twice",
                      diag_quote(d, o->record.text), diag_quote(d, o->name.text));
          continue;
        }
        Operation *op = &c->ops[c->n_ops++];
        op->record = o->record.text;
        op->name = o->name.text;
        op->span = decl->span;
        op->doc = doc_text(o->doc);
        op->params = type_record(a, (Str){0}, o->params.n);
        fill_fields(a, d, c, op->params, &o->params, o->name.text);
        if (!o->takes) op->takes = rec;
        else if (o->takes->kind == AST_TYPE_NOTHING) op->takes = NULL;
        else op->takes = type_from_ast(a, d, c, o->takes, o->name.text);
        op->returns = o->returns ? type_from_ast(a, d, c, o->returns, o->name.text) : rec;
      } else if (decl->kind == AST_TRIGGER_SPEC) {
        AstTriggerSpec *t = AST_AS(AstTriggerSpec, decl);
        if (!t->record.text.ptr) continue;
        const Type *rec = connector_record(c, t->record.text);
        if (!rec) {
          diag_report(d, DIAG_E0301, t->record.span, "trigger on unknown record `%s`",
                      diag_quote(d, t->record.text));
          continue;
        }
        TriggerDecl *td = &c->triggers[c->n_triggers++];
        td->record = t->record.text;
        td->created = (decl->flags & AST_FLAG_CREATED) != 0;
        td->span = decl->span;
        if (!td->created && t->field.text.ptr) {
          td->stage_field = t->field.text;
          const TypeField *sf = type_field(rec, t->field.text);
          if (!sf || type_strip(sf->type)->kind != TY_ENUM) {
            Diag *dg = diag_report(d, DIAG_E0303, t->field.span,
                                   "stage field `%s` of `%s` is %s",
                                   diag_quote(d, t->field.text), diag_quote(d, t->record.text),
                                   sf ? "not an enumeration" : "not a field of the record");
            diag_help(d, dg, "`reaches` needs a field whose type lists the stages: `a | b | c`");
          }
        }
      }
    }
  }
  return c;
}
