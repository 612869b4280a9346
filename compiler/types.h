/*
** Static types of flows, and the connector schemas that supply most of them.
**
** A Type is an immutable arena object (the compilation's arena). Primitive
** types are shared singletons (type_bool(), ...); compound types are built
** with the type_*() constructors below. Types are compared structurally by
** type_equal() and type_assignable(), never by pointer, except record types
** declared in a schema, which are one object per declaration.
**
** The kinds (docs/language.md "Types"):
**   null bool int decimal money string date datetime secret
**   enum        a string restricted to `values`
**   list of T   `elem`
**   record      `fields` (name, type, required, readonly, doc); `open`
**               records (Lua results, `any` spread in) allow unknown fields
**   table of K to V  `key`, `elem`
**   any         unknown until run time (Lua results, `any` in stdlib)
**   never       skip(...) and fail(...): fits everywhere
**   nullable T  `elem` may also be null; never nested, never of null/any/never
** Signature-only kinds (stdlib.def, resolve_stdlib.c): union (`date | datetime`),
** type variable (`T`), key function (`T => K`).
**
** Subtyping (type_assignable): never fits everything; any fits and takes
** everything; null fits nullable T; T fits nullable T; int fits decimal and
** money; decimal and money fit each other; an enum fits string and any
** enum holding all its values; secret fits string; list, table and
** nullable are covariant; a record fits a record type when every field it
** has exists there with an assignable type and every required field of the
** target is present and required in it (open records fit any record).
*/
#ifndef IEX_COMPILER_TYPES_H
#define IEX_COMPILER_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"
#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/source.h"

typedef enum TypeKind {
  TY_NEVER,
  TY_NULL,
  TY_BOOL,
  TY_INT,
  TY_DECIMAL,
  TY_MONEY,
  TY_STRING,
  TY_DATE,
  TY_DATETIME,
  TY_SECRET,
  TY_ANY,
  TY_ENUM,
  TY_LIST,
  TY_RECORD,
  TY_TABLE,
  TY_NULLABLE,
  TY_UNION,   /* stdlib signatures only */
  TY_VAR,     /* stdlib signatures only */
  TY_KEYFN,   /* stdlib signatures only: key = parameter, elem = result */
} TypeKind;

typedef struct Type Type;

/* A field of a record type (or a parameter of an operation). */
typedef struct TypeField {
  Str name;          /* borrowed from the source or the arena */
  const Type *type;  /* never TY_NULLABLE when required */
  bool required;     /* schema `required`; in a record literal: set on every path */
  bool readonly;     /* schema `readonly`: a flow cannot set it */
  bool as_string;    /* schema `as string`: sent as a JSON string */
  bool has_min, has_max;
  int64_t min, max;  /* schema `min N` / `max N` */
  int decimals;      /* schema `decimals N`, or -1 */
  Span span;         /* where it is declared (schema) or set (literal) */
  Str doc;           /* the doc string, or empty */
} TypeField;

struct Type {
  TypeKind kind;
  Str name;             /* RECORD: "economic.draft_invoice" or empty for an
                           anonymous record; ENUM: the setting or field it
                           came from, or empty; VAR: "T" */
  const Type *elem;     /* LIST element, TABLE value, NULLABLE inner, KEYFN result */
  const Type *key;      /* TABLE key, KEYFN parameter */
  TypeField *fields;    /* RECORD: n_fields fields in declaration order */
  uint32_t n_fields;
  bool open;            /* RECORD: unknown fields are `any`, not errors */
  Str *values;          /* ENUM: n_values values in declaration order */
  uint32_t n_values;
  const Type **members; /* UNION: n_members alternatives */
  uint32_t n_members;
  const Type *nullable; /* cache of type_nullable(this), or NULL */
};

/* ---- Construction (every result is arena-owned or a singleton) ---------- */

const Type *type_prim(TypeKind kind);   /* NEVER .. ANY */
const Type *type_list(Arena *a, const Type *elem);
const Type *type_table(Arena *a, const Type *key, const Type *value);
/* `t` that may also be null. Idempotent; null, any and never stay as they are. */
const Type *type_nullable(Arena *a, const Type *t);
/* `t` without its null: the inner type of a nullable, else `t`. */
const Type *type_strip(const Type *t);
/* An enum of `n` values (copied into the arena). */
const Type *type_enum(Arena *a, Str name, const Str *values, uint32_t n);
/* A record with room for `cap` fields; fill it with type_record_add(). */
Type *type_record(Arena *a, Str name, uint32_t cap);
TypeField *type_record_add(Arena *a, Type *rec, Str name, const Type *t);

/* ---- Queries ----------------------------------------------------------- */

static inline bool type_is_nullable(const Type *t) {
  return t->kind == TY_NULLABLE || t->kind == TY_NULL;
}
/* int, decimal or money (after stripping null). */
bool type_is_numeric(const Type *t);
/* The field `name` of record `t` (nullable allowed), or NULL. */
const TypeField *type_field(const Type *t, Str name);
/* Whether enum `t` holds `value`. */
bool type_enum_has(const Type *t, Str value);
bool type_equal(const Type *a, const Type *b);
/* May a value of `from` be used where `to` is expected? (file comment) */
bool type_assignable(const Type *from, const Type *to);
/* The type of `if c then a else b` and `match` arms: the least type both
** fit, or NULL when they have none (then the caller reports). */
const Type *type_join(Arena *a, const Type *x, const Type *y);
/* Append a readable name: `money`, `list of shopify.line_item`, `string?`,
** `draft | booked`. */
void type_print(const Type *t, Buf *out);
/* type_print() into the arena, for messages. */
const char *type_str(Arena *a, const Type *t);
/* The closest name to `name` among the record's fields (edit distance at
** most 2, or a case-insensitive match), or NULL. */
const char *type_suggest_field(Arena *a, const Type *rec, Str name);

/* ---- Connector schemas (schema.c) --------------------------------------- */

/* An operation a step can call: `operation RECORD.NAME(PARAMS) takes T returns U`. */
typedef struct Operation {
  Str record;            /* `invoice` */
  Str name;              /* `create` */
  Type *params;          /* a record type: one field per parameter, in order */
  const Type *takes;     /* the record the mapping builds; NULL: `takes nothing` */
  const Type *returns;   /* what the step's name holds afterwards */
  Str doc;
  Span span;
} Operation;

/* `trigger RECORD reaches FIELD` / `trigger RECORD created`. */
typedef struct TriggerDecl {
  Str record;
  Str stage_field;       /* empty for `created` */
  bool created;
  Span span;
} TriggerDecl;

/* One connector, built from all its .schema files. */
typedef struct Connector {
  Str name;              /* `economic` */
  Type **records;        /* n_records named record types, in file order */
  uint32_t n_records;
  Operation *ops;
  uint32_t n_ops;
  TriggerDecl *triggers;
  uint32_t n_triggers;
} Connector;

/* Build the types of one connector from the AST_FILE nodes in `files`
** (all parsed as schemas). Reports unknown type names (E0301), duplicate
** records, fields and operations (E0302), operations and triggers on
** unknown records, and trigger stage fields that are not enums (E0303).
** `name` is the connector's folder name (arena-owned). */
Connector *schema_build(Arena *a, Diags *d, Str name, const AstList *files);

const Type *connector_record(const Connector *c, Str name);
const Operation *connector_operation(const Connector *c, Str record, Str name);
const TriggerDecl *connector_trigger(const Connector *c, Str record, bool created);

/* A type written in a flow or schema (TYPE_* node). Record names are looked
** up in `conn` (may be NULL). Unknown names are reported as E0301 and give
** `any`. `owner` names enums built here ("invoice_mode"). */
const Type *type_from_ast(Arena *a, Diags *d, const Connector *conn, AstNode *node,
                          Str owner);

#endif /* IEX_COMPILER_TYPES_H */
