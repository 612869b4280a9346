/*
** Static types: construction, subtyping, printing (types.h). Connector
** schemas are turned into types in schema.c.
*/
#include "compiler/types.h"

#include "common/util.h"

#include <ctype.h>
#include <string.h>

static const Type prims[] = {
  [TY_NEVER] = {.kind = TY_NEVER},     [TY_NULL] = {.kind = TY_NULL},
  [TY_BOOL] = {.kind = TY_BOOL},       [TY_INT] = {.kind = TY_INT},
  [TY_DECIMAL] = {.kind = TY_DECIMAL}, [TY_MONEY] = {.kind = TY_MONEY},
  [TY_STRING] = {.kind = TY_STRING},   [TY_DATE] = {.kind = TY_DATE},
  [TY_DATETIME] = {.kind = TY_DATETIME}, [TY_SECRET] = {.kind = TY_SECRET},
  [TY_ANY] = {.kind = TY_ANY},
};

/* `T?` of each primitive, so the common case allocates nothing. */
static const Type prim_nullables[] = {
  [TY_BOOL] = {.kind = TY_NULLABLE, .elem = &prims[TY_BOOL]},
  [TY_INT] = {.kind = TY_NULLABLE, .elem = &prims[TY_INT]},
  [TY_DECIMAL] = {.kind = TY_NULLABLE, .elem = &prims[TY_DECIMAL]},
  [TY_MONEY] = {.kind = TY_NULLABLE, .elem = &prims[TY_MONEY]},
  [TY_STRING] = {.kind = TY_NULLABLE, .elem = &prims[TY_STRING]},
  [TY_DATE] = {.kind = TY_NULLABLE, .elem = &prims[TY_DATE]},
  [TY_DATETIME] = {.kind = TY_NULLABLE, .elem = &prims[TY_DATETIME]},
  [TY_SECRET] = {.kind = TY_NULLABLE, .elem = &prims[TY_SECRET]},
};

const Type *type_prim(TypeKind kind) {
  return kind <= TY_ANY ? &prims[kind] : &prims[TY_ANY];
}

const Type *type_list(Arena *a, const Type *elem) {
  Type *t = ARENA_NEW(a, Type);
  t->kind = TY_LIST;
  t->elem = elem;
  return t;
}

const Type *type_table(Arena *a, const Type *key, const Type *value) {
  Type *t = ARENA_NEW(a, Type);
  t->kind = TY_TABLE;
  t->key = key;
  t->elem = value;
  return t;
}

const Type *type_nullable(Arena *a, const Type *t) {
  switch (t->kind) {
  case TY_NULLABLE: case TY_NULL: case TY_ANY: case TY_NEVER: return t;
  default: break;
  }
  if (t >= prims && t < prims + ARRAY_LEN(prims)) return &prim_nullables[t->kind];
  if (t->nullable) return t->nullable;
  Type *n = ARENA_NEW(a, Type);
  n->kind = TY_NULLABLE;
  n->elem = t;
  ((Type *)t)->nullable = n;  /* every non-primitive Type is an arena object */
  return n;
}

const Type *type_strip(const Type *t) {
  return t->kind == TY_NULLABLE ? t->elem : t;
}

const Type *type_enum(Arena *a, Str name, const Str *values, uint32_t n) {
  Type *t = ARENA_NEW(a, Type);
  t->kind = TY_ENUM;
  t->name = name;
  t->values = ARENA_NEW_ARRAY(a, Str, n ? n : 1);
  memcpy(t->values, values, sizeof *values * n);
  t->n_values = n;
  return t;
}

Type *type_record(Arena *a, Str name, uint32_t cap) {
  Type *t = ARENA_NEW(a, Type);
  t->kind = TY_RECORD;
  t->name = name;
  t->fields = ARENA_NEW_ARRAY(a, TypeField, cap ? cap : 1);
  t->n_values = cap;  /* capacity, kept in an unused slot while building */
  return t;
}

TypeField *type_record_add(Arena *a, Type *rec, Str name, const Type *t) {
  if (rec->n_fields == rec->n_values) {
    uint32_t cap = rec->n_values ? rec->n_values * 2 : 4;
    TypeField *f = ARENA_NEW_ARRAY(a, TypeField, cap);
    if (rec->n_fields) memcpy(f, rec->fields, sizeof *f * rec->n_fields);
    rec->fields = f;
    rec->n_values = cap;
  }
  TypeField *f = &rec->fields[rec->n_fields++];
  memset(f, 0, sizeof *f);
  f->name = name;
  f->type = t;
  f->decimals = -1;
  return f;
}

bool type_is_numeric(const Type *t) {
  t = type_strip(t);
  return t->kind == TY_INT || t->kind == TY_DECIMAL || t->kind == TY_MONEY;
}

const TypeField *type_field(const Type *t, Str name) {
  t = type_strip(t);
  if (t->kind != TY_RECORD) return NULL;
  for (uint32_t i = 0; i < t->n_fields; i++)
    if (str_eq(t->fields[i].name, name)) return &t->fields[i];
  return NULL;
}

bool type_enum_has(const Type *t, Str value) {
  t = type_strip(t);
  for (uint32_t i = 0; i < t->n_values && t->kind == TY_ENUM; i++)
    if (str_eq(t->values[i], value)) return true;
  return false;
}

bool type_equal(const Type *a, const Type *b) {
  if (a == b) return true;
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case TY_LIST: case TY_NULLABLE: return type_equal(a->elem, b->elem);
  case TY_TABLE: case TY_KEYFN:
    return type_equal(a->key, b->key) && type_equal(a->elem, b->elem);
  case TY_ENUM:
    if (a->n_values != b->n_values) return false;
    for (uint32_t i = 0; i < a->n_values; i++)
      if (!type_enum_has(b, a->values[i])) return false;
    return true;
  case TY_RECORD:
    if (a->name.len || b->name.len) return str_eq(a->name, b->name);
    if (a->n_fields != b->n_fields) return false;
    for (uint32_t i = 0; i < a->n_fields; i++) {
      const TypeField *f = type_field(b, a->fields[i].name);
      if (!f || !type_equal(f->type, a->fields[i].type)) return false;
    }
    return true;
  case TY_VAR: return str_eq(a->name, b->name);
  default: return true;
  }
}

static bool record_assignable(const Type *from, const Type *to) {
  if (from->open || to->open) return true;
  if (from->name.len && str_eq(from->name, to->name)) return true;
  for (uint32_t i = 0; i < from->n_fields; i++) {
    const TypeField *f = &from->fields[i];
    const TypeField *g = type_field(to, f->name);
    if (!g || !type_assignable(f->type, g->type)) return false;
  }
  for (uint32_t i = 0; i < to->n_fields; i++) {
    const TypeField *g = &to->fields[i];
    if (!g->required || g->readonly) continue;
    const TypeField *f = type_field(from, g->name);
    if (!f || !f->required) return false;
  }
  return true;
}

bool type_assignable(const Type *from, const Type *to) {
  if (from == to) return true;
  if (from->kind == TY_NEVER || from->kind == TY_ANY || to->kind == TY_ANY) return true;
  if (to->kind == TY_NULLABLE) {
    if (from->kind == TY_NULL) return true;
    return type_assignable(type_strip(from), to->elem);
  }
  if (from->kind == TY_NULLABLE || from->kind == TY_NULL) return false;
  if (to->kind == TY_UNION) {
    for (uint32_t i = 0; i < to->n_members; i++)
      if (type_assignable(from, to->members[i])) return true;
    return false;
  }
  if (from->kind == TY_UNION) {
    for (uint32_t i = 0; i < from->n_members; i++)
      if (!type_assignable(from->members[i], to)) return false;
    return true;
  }
  if (to->kind == TY_VAR || from->kind == TY_VAR) return true;
  switch (to->kind) {
  case TY_DECIMAL: case TY_MONEY:
    return from->kind == TY_INT || from->kind == TY_DECIMAL || from->kind == TY_MONEY;
  case TY_STRING: return from->kind == TY_STRING || from->kind == TY_ENUM || from->kind == TY_SECRET;
  case TY_ENUM:
    if (from->kind != TY_ENUM) return false;
    for (uint32_t i = 0; i < from->n_values; i++)
      if (!type_enum_has(to, from->values[i])) return false;
    return true;
  case TY_LIST: return from->kind == TY_LIST && type_assignable(from->elem, to->elem);
  case TY_TABLE:
    return from->kind == TY_TABLE && type_assignable(from->key, to->key) &&
           type_assignable(from->elem, to->elem);
  case TY_RECORD: return from->kind == TY_RECORD && record_assignable(from, to);
  case TY_KEYFN: return from->kind == TY_KEYFN;
  default: return from->kind == to->kind;
  }
}

const Type *type_join(Arena *a, const Type *x, const Type *y) {
  if (x->kind == TY_NEVER) return y;
  if (y->kind == TY_NEVER) return x;
  if (x->kind == TY_ANY || y->kind == TY_ANY) return type_prim(TY_ANY);
  if (x->kind == TY_NULL) return type_nullable(a, y);
  if (y->kind == TY_NULL) return type_nullable(a, x);
  bool nullable = x->kind == TY_NULLABLE || y->kind == TY_NULLABLE;
  const Type *sx = type_strip(x), *sy = type_strip(y);
  const Type *r = NULL;
  if (type_assignable(sx, sy)) r = sy;
  else if (type_assignable(sy, sx)) r = sx;
  else if (type_is_numeric(sx) && type_is_numeric(sy)) r = type_prim(TY_DECIMAL);
  else if (sx->kind == TY_ENUM && sy->kind == TY_ENUM) {
    Str *v = ARENA_NEW_ARRAY(a, Str, sx->n_values + sy->n_values);
    uint32_t n = 0;
    for (uint32_t i = 0; i < sx->n_values; i++) v[n++] = sx->values[i];
    for (uint32_t i = 0; i < sy->n_values; i++)
      if (!type_enum_has(sx, sy->values[i])) v[n++] = sy->values[i];
    r = type_enum(a, (Str){0}, v, n);
  } else if ((sx->kind == TY_ENUM || sx->kind == TY_STRING) &&
             (sy->kind == TY_ENUM || sy->kind == TY_STRING)) {
    r = type_prim(TY_STRING);
  } else if (sx->kind == TY_RECORD && sy->kind == TY_RECORD) {
    /* Two different records: a record with the fields of both, each
    ** required only when both require it. */
    Type *rec = type_record(a, (Str){0}, sx->n_fields + sy->n_fields);
    rec->open = sx->open || sy->open;
    for (uint32_t i = 0; i < sx->n_fields; i++) {
      const TypeField *g = type_field(sy, sx->fields[i].name);
      const Type *ft = g ? type_join(a, sx->fields[i].type, g->type) : sx->fields[i].type;
      if (!ft) ft = type_prim(TY_ANY);
      TypeField *f = type_record_add(a, rec, sx->fields[i].name, ft);
      f->required = sx->fields[i].required && g && g->required;
      f->span = sx->fields[i].span;
    }
    for (uint32_t i = 0; i < sy->n_fields; i++)
      if (!type_field(sx, sy->fields[i].name))
        type_record_add(a, rec, sy->fields[i].name, sy->fields[i].type)->span = sy->fields[i].span;
    r = rec;
  } else if (sx->kind == TY_LIST && sy->kind == TY_LIST) {
    const Type *e = type_join(a, sx->elem, sy->elem);
    r = e ? type_list(a, e) : NULL;
  }
  if (!r) return NULL;
  return nullable ? type_nullable(a, r) : r;
}

void type_print(const Type *t, Buf *out) {
  switch (t->kind) {
  case TY_NEVER: buf_puts(out, "never"); break;
  case TY_NULL: buf_puts(out, "null"); break;
  case TY_BOOL: buf_puts(out, "bool"); break;
  case TY_INT: buf_puts(out, "int"); break;
  case TY_DECIMAL: buf_puts(out, "decimal"); break;
  case TY_MONEY: buf_puts(out, "money"); break;
  case TY_STRING: buf_puts(out, "string"); break;
  case TY_DATE: buf_puts(out, "date"); break;
  case TY_DATETIME: buf_puts(out, "datetime"); break;
  case TY_SECRET: buf_puts(out, "secret"); break;
  case TY_ANY: buf_puts(out, "any"); break;
  case TY_ENUM:
    if (t->n_values > 6 && t->name.len) {
      buf_printf(out, "%.*s", STR_FMT(t->name));
      break;
    }
    for (uint32_t i = 0; i < t->n_values; i++) {
      /* A value that is not a name was written as a string: show it so. */
      Str v = t->values[i];
      bool name = v.len > 0 && !isdigit((unsigned char)v.ptr[0]);
      for (size_t k = 0; k < v.len && name; k++)
        name = isalnum((unsigned char)v.ptr[k]) || v.ptr[k] == '_';
      buf_printf(out, name ? "%s%.*s" : "%s\"%.*s\"", i ? " | " : "", STR_FMT(v));
    }
    break;
  case TY_LIST: buf_puts(out, "list of "); type_print(t->elem, out); break;
  case TY_TABLE:
    buf_puts(out, "table of ");
    type_print(t->key, out);
    buf_puts(out, " to ");
    type_print(t->elem, out);
    break;
  case TY_RECORD:
    if (t->name.len) {
      buf_printf(out, "%.*s", STR_FMT(t->name));
    } else {
      buf_puts(out, "{ ");
      for (uint32_t i = 0; i < t->n_fields && i < 4; i++)
        buf_printf(out, "%s%.*s", i ? ", " : "", STR_FMT(t->fields[i].name));
      buf_puts(out, t->n_fields > 4 ? ", … }" : " }");
    }
    break;
  case TY_NULLABLE: {
    bool paren = t->elem->kind == TY_ENUM || t->elem->kind == TY_LIST ||
                 t->elem->kind == TY_TABLE || t->elem->kind == TY_UNION;
    if (paren) buf_puts(out, "(");
    type_print(t->elem, out);
    buf_puts(out, paren ? ")?" : "?");
    break;
  }
  case TY_UNION:
    for (uint32_t i = 0; i < t->n_members; i++) {
      if (i) buf_puts(out, " | ");
      type_print(t->members[i], out);
    }
    break;
  case TY_VAR: buf_printf(out, "%.*s", STR_FMT(t->name)); break;
  case TY_KEYFN:
    type_print(t->key, out);
    buf_puts(out, " => ");
    type_print(t->elem, out);
    break;
  }
}

const char *type_str(Arena *a, const Type *t) {
  Buf b;
  buf_init(&b, 0);
  type_print(t, &b);
  char *s = arena_strndup(a, buf_cstr(&b), b.len);
  buf_fini(&b);
  return s;
}

static bool case_eq(Str a, Str b) {
  if (a.len != b.len) return false;
  for (size_t i = 0; i < a.len; i++)
    if (tolower((unsigned char)a.ptr[i]) != tolower((unsigned char)b.ptr[i])) return false;
  return true;
}

const char *type_suggest_field(Arena *a, const Type *rec, Str name) {
  rec = type_strip(rec);
  if (rec->kind != TY_RECORD) return NULL;
  const TypeField *best = NULL;
  size_t best_d = 3;
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    const TypeField *f = &rec->fields[i];
    if (case_eq(f->name, name)) { best = f; break; }
    size_t limit = name.len <= 3 ? 1 : 2;
    size_t d = str_edit_distance(name, f->name, limit);
    if (d <= limit && d < best_d) {
      best_d = d;
      best = f;
    }
  }
  return best ? arena_strndup(a, best->name.ptr, best->name.len) : NULL;
}
