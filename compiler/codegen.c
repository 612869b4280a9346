/*
** Code generation (codegen.h): AST -> bytecode, one block per expression
** that the graph runs on its own (a `let`'s value, a step's mapping, its
** parameters and `when`, the trigger's stages and `where`, test entries).
**
** Stack depths are not tracked here: program_verify() computes them from
** the opcode table when the program is done, the same walk the loader
** makes, so the two cannot disagree.
*/
#include "compiler/codegen.h"

#include "common/csv.h"
#include "common/util.h"
#include "runtime/host.h"
#include "runtime/json_value.h"
#include "stdlib/lookup.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files a flow reads at compile time (fixtures, CSV tables). */
#define MAX_DATA_FILE_BYTES ((size_t)16 * 1024 * 1024)
/* Parameters of one stdlib function, and functions in stdlib.def. */
#define MAX_PARAMS 8

/* ---- The stdlib's signatures, parsed from stdlib.def -------------------- */

typedef struct StdParam {
  Str name;
  bool is_key;      /* `T => K`: a key function */
  bool is_numeric;  /* decimal/money (or a list of them): text is read as a number */
  bool is_temporal; /* date/datetime, not string: ISO text is read as one */
  bool has_default;
  Str default_text; /* as written: 0, null, flow, " ", false */
} StdParam;

typedef struct StdSig {
  const char *name;
  StdParam params[MAX_PARAMS];
  uint32_t n_params;
} StdSig;

static const struct {
  const char *name, *signature;
} std_table[] = {
#define FN(name, family, signature, doc) {#name, signature},
#include "stdlib/stdlib.def"
#undef FN
};

static Str trim_str(Str s) {
  while (s.len && (s.ptr[0] == ' ')) s.ptr++, s.len--;
  while (s.len && (s.ptr[s.len - 1] == ' ')) s.len--;
  return s;
}

static bool contains(Str s, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= s.len; i++)
    if (memcmp(s.ptr + i, needle, n) == 0) return true;
  return false;
}

/* Parse "(a: T, b: U = D) -> R" into `sig`. */
static void parse_signature(const char *name, const char *text, StdSig *sig) {
  memset(sig, 0, sizeof *sig);
  sig->name = name;
  const char *p = strchr(text, '(');
  if (!p) return;
  p++;
  int depth = 0;
  bool quoted = false;
  const char *start = p;
  for (; *p; p++) {
    char ch = *p;
    if (quoted) {
      if (ch == '\\' && p[1]) p++;
      else if (ch == '"') quoted = false;
      continue;
    }
    if (ch == '"') quoted = true;
    else if (ch == '(' || ch == '{') depth++;
    else if ((ch == ')' || ch == '}') && depth > 0) depth--;
    else if ((ch == ',' || ch == ')') && depth == 0) {
      Str part = trim_str(str_make(start, (size_t)(p - start)));
      if (part.len && sig->n_params < MAX_PARAMS) {
        StdParam *prm = &sig->params[sig->n_params++];
        const char *colon = memchr(part.ptr, ':', part.len);
        size_t nlen = colon ? (size_t)(colon - part.ptr) : part.len;
        prm->name = trim_str(str_make(part.ptr, nlen));
        Str type = colon ? str_make(colon + 1, part.len - nlen - 1) : str_make("", 0);
        /* The default is after the last top-level ` = `. */
        for (size_t i = 0; i + 2 < type.len; i++) {
          if (type.ptr[i] == ' ' && type.ptr[i + 1] == '=' && type.ptr[i + 2] == ' ') {
            prm->has_default = true;
            prm->default_text = trim_str(str_make(type.ptr + i + 3, type.len - i - 3));
            type.len = i;
            break;
          }
        }
        prm->is_key = contains(type, "=>");
        prm->is_temporal = !prm->is_key && contains(type, "date") && !contains(type, "string");
        prm->is_numeric = !prm->is_key && (contains(type, "decimal") || contains(type, "money")) &&
                          !contains(type, "string");
      }
      start = p + 1;
      if (ch == ')') break;
    }
  }
}

static StdSig std_sigs[ARRAY_LEN(std_table)];
static bool std_sigs_ready;

static int std_find(Str name, const StdSig **sig) {
  if (!std_sigs_ready) {
    for (size_t i = 0; i < ARRAY_LEN(std_table); i++)
      parse_signature(std_table[i].name, std_table[i].signature, &std_sigs[i]);
    std_sigs_ready = true;
  }
  for (size_t i = 0; i < ARRAY_LEN(std_table); i++) {
    if (str_eq_cstr(name, std_table[i].name)) {
      *sig = &std_sigs[i];
      return (int)i;
    }
  }
  return -1;
}

/* ---- The generator ---------------------------------------------------------- */

/* What the connector schemas say about a value, as far as code generation
** needs it: a record's field declarations (to type the fields read from
** it), or a list of such records. Fields typed money/decimal or
** date/datetime are converted when read (opcodes NUMERIC, TEMPORAL):
** Shopify sends amounts as "19.99", WooCommerce dates without offset. */
typedef struct SType {
  enum { ST_NONE, ST_RECORD, ST_LIST } kind;
  const AstList *fields; /* FIELD_DECL nodes of the record (or element) */
  Str system;            /* whose schema names the record types in it */
} SType;

typedef struct Local {
  Str name;
  uint32_t slot;
  SType type;
} Local;

typedef struct Global {
  Str name;
  enum { G_SLOT, G_TABLE, G_CONN } kind;
  uint32_t index;   /* slot, constant, or - */
  Str system;       /* G_CONN: the connector, or "" for Lua */
  bool is_lua;
  SType type;       /* G_SLOT: what the schema says it holds */
} Global;

typedef struct Gen {
  Compilation *c;
  Program *p;
  Arena *arena;       /* the compilation's: temporary Values */
  jmp_buf fail;       /* where an error goes */
  char *err;
  size_t err_size;
  Global *globals;
  size_t n_globals, cap_globals;
  Local *locals;      /* the scopes in force, innermost last */
  size_t n_locals, cap_locals;
  uint32_t n_global_slots; /* slots below this belong to globals */
  uint32_t local_top;      /* next free local slot */
  DebugPos pos;       /* of the node being compiled */
  char flow_dir[PATH_MAX];
  EVP_MD_CTX *hash;
  SType last_type;    /* of the expression expr() compiled last */
} Gen;

static DebugPos pos_of(Gen *g, AstNode *n) {
  LineCol lc = sources_line_col(&g->c->sources, n->span.file_id, n->span.offset);
  return (DebugPos){lc.line, lc.col};
}

static void gen_error(Gen *g, AstNode *at, const char *fmt, ...) IEX_PRINTF(3, 4);
static void gen_error(Gen *g, AstNode *at, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const SourceFile *f = sources_file(&g->c->sources, g->c->main_file);
  DebugPos d = at ? pos_of(g, at) : (DebugPos){0, 0};
  snprintf(g->err, g->err_size, "%s:%u:%u: %s", f ? f->path : "?", d.line, d.col, msg);
  longjmp(g->fail, 1);
}

static uint32_t emit(Gen *g, Opcode op, uint32_t a, uint32_t b) {
  if (b > UINT16_MAX) gen_error(g, NULL, "the flow is too large (operand %u)", b);
  return program_emit(g->p, op, a, (uint16_t)b, g->pos);
}

static uint32_t here(Gen *g) { return g->p->n_code; }
static void patch(Gen *g, uint32_t at) { g->p->code[at].a = here(g); }

static uint32_t k_str(Gen *g, Str s) {
  return program_add_const(g->p, value_string(s.ptr, s.len));
}

static Str source_text(Gen *g, AstNode *n) {
  const SourceFile *f = sources_file(&g->c->sources, n->span.file_id);
  return str_make(f->text + n->span.offset, n->span.len);
}

/* The text of a `where` condition as its skip reason shows it, on one
** line: runs of whitespace (the line breaks and the indentation of a
** condition written over several lines) become one space and comments
** are left out, except in the text of strings, which is kept as written
** (the code of an interpolation in a string is code again). Valid source
** only: code generation runs after the checks. */
static Str one_line_text(Gen *g, Str s) {
  enum { MAX_DEPTH = 64 };
  bool in_string[MAX_DEPTH] = {false}; /* per level: a string, or code */
  uint32_t braces[MAX_DEPTH] = {0};    /* per code level: open `{` */
  int top = 0;
  bool space = false;
  Buf b;
  buf_init(&b, 0);
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (in_string[top]) {
      buf_putc(&b, c);
      if (c == '\\' && i + 1 < s.len) buf_putc(&b, s.ptr[++i]);
      else if (c == '"') top--;
      else if (c == '{' && top + 1 < MAX_DEPTH) in_string[++top] = false, braces[top] = 0;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (c == '#') {
      while (i + 1 < s.len && s.ptr[i + 1] != '\n') i++;
      space = true;
      continue;
    }
    if (space && b.len) buf_putc(&b, ' ');
    space = false;
    buf_putc(&b, c);
    if (c == '"' && top + 1 < MAX_DEPTH) in_string[++top] = true;
    else if (c == '{') braces[top]++;
    else if (c == '}' && braces[top]) braces[top]--;
    else if (c == '}' && top > 0) top--; /* the end of an interpolation */
  }
  Str out = program_str(g->p, buf_str(&b));
  buf_fini(&b);
  return out;
}

/* ---- Scopes ------------------------------------------------------------------- */

static void add_global(Gen *g, Str name, int kind, uint32_t index) {
  Global gl = {.name = name, .kind = kind, .index = index};
  VEC_PUSH(g->globals, g->n_globals, g->cap_globals, gl);
}

static const Global *find_global(Gen *g, Str name) {
  for (size_t i = g->n_globals; i-- > 0;)
    if (str_eq(g->globals[i].name, name)) return &g->globals[i];
  return NULL;
}

/* A fresh local slot (slots of finished scopes are reused). */
static uint32_t new_slot(Gen *g, Str name) {
  uint32_t s = g->local_top++;
  if (s == g->p->n_slots) program_add_slot(g->p, name);
  return s;
}

static uint32_t bind_local_typed(Gen *g, Str name, SType type) {
  Local l = {name, new_slot(g, name), type};
  VEC_PUSH(g->locals, g->n_locals, g->cap_locals, l);
  return l.slot;
}

static uint32_t bind_local(Gen *g, Str name) {
  Local l = {name, new_slot(g, name), {ST_NONE, NULL, {"", 0}}};
  VEC_PUSH(g->locals, g->n_locals, g->cap_locals, l);
  return l.slot;
}

typedef struct Scope {
  size_t n_locals;
  uint32_t local_top;
} Scope;

static Scope scope_open(Gen *g) { return (Scope){g->n_locals, g->local_top}; }
static void scope_close(Gen *g, Scope s) {
  g->n_locals = s.n_locals;
  g->local_top = s.local_top;
}

/* ---- Constants ----------------------------------------------------------------- */

static void hash_file(Gen *g, const char *name, const char *data, size_t len) {
  uint64_t n = len;
  EVP_DigestUpdate(g->hash, name, strlen(name) + 1);
  EVP_DigestUpdate(g->hash, &n, sizeof n);
  EVP_DigestUpdate(g->hash, data, len);
}

/* Read file `rel` (relative to the flow's folder); malloc'd. */
static char *read_beside(Gen *g, AstNode *at, Str rel, size_t *len) {
  char path[PATH_MAX + 256];
  if (rel.len && rel.ptr[0] == '/')
    snprintf(path, sizeof path, "%.*s", STR_FMT(rel));
  else
    snprintf(path, sizeof path, "%s/%.*s", g->flow_dir, STR_FMT(rel));
  char why[256];
  char *data = read_file(path, MAX_DATA_FILE_BYTES, len, why, sizeof why);
  if (!data) gen_error(g, at, "cannot read `%.*s`: %s", STR_FMT(rel), why);
  hash_file(g, path, data, *len);
  return data;
}

static Value file_value(Gen *g, AstNode *at, Str rel) {
  size_t len;
  char *data = read_beside(g, at, rel, &len);
  Value v;
  JsonvError jerr;
  bool ok = jsonv_decode(g->arena, str_make(data, len), NULL, &v, &jerr);
  free(data);
  if (!ok) {
    char why[300];
    gen_error(g, at, "`%.*s` is not valid JSON: %s", STR_FMT(rel), jsonv_error_text(&jerr, why, sizeof why));
  }
  return v;
}

/* A CSV table (common/csv.h, as the checker read it): first row names the
** columns, first column is the key; a record from key to a record of
** strings (stdlib/lookup.h). A malformed file is an error naming its line. */
static Value csv_value(Gen *g, AstNode *at, Str rel) {
  size_t len;
  char *data = read_beside(g, at, rel, &len);
  char name[256], why[512];
  snprintf(name, sizeof name, "%.*s", STR_FMT(rel));
  CsvData csv;
  Value v = value_null();
  Buf err;
  buf_init(&err, 0);
  bool ok = csv_parse(g->arena, name, str_make(data, len), NULL, &csv, &err, NULL);
  if (ok && !lookup_from_csv(g->arena, &csv, &v)) {
    ok = false;
    buf_printf(&err, "%s: the memory limit is reached", name);
  }
  snprintf(why, sizeof why, "%s", buf_cstr(&err));
  buf_fini(&err);
  free(data);
  if (!ok) gen_error(g, at, "%s", why);
  return v;
}

/* The value of a literal tree (settings' defaults, match patterns, table
** arms), or false when `n` is not a literal. */
static bool const_value(Gen *g, AstNode *n, Value *out) {
  const char *why = NULL;
  switch ((AstKind)n->kind) {
    case AST_INT: *out = value_int(AST_AS(AstInt, n)->value); return true;
    case AST_DECIMAL: {
      Decimal d;
      Str t = AST_AS(AstText, n)->text;
      if (decimal_parse(t, &d, &why) != DECIMAL_OK)
        gen_error(g, n, "the number %.*s does not fit a decimal (18 digits)", STR_FMT(t));
      *out = value_decimal(d);
      return true;
    }
    case AST_STRING:
    case AST_NAME: {
      Str t = AST_AS(AstText, n)->text;
      *out = value_string(t.ptr, t.len);
      return true;
    }
    case AST_TRUE: *out = value_bool(true); return true;
    case AST_FALSE: *out = value_bool(false); return true;
    case AST_NULL: *out = value_null(); return true;
    case AST_DATE: {
      int32_t days;
      if (!date_parse(AST_AS(AstText, n)->text, &days, &why)) gen_error(g, n, "not a date: %s", why);
      *out = value_date(days);
      return true;
    }
    case AST_DATETIME: {
      DateTime dt;
      if (!datetime_parse(AST_AS(AstText, n)->text, &dt, &why)) gen_error(g, n, "not a date-time: %s", why);
      *out = value_datetime(dt);
      return true;
    }
    case AST_NEG: {
      Value v;
      if (!const_value(g, AST_AS(AstUnary, n)->operand, &v)) return false;
      if (v.kind == VAL_INT) *out = value_int(-v.as.i);
      else if (v.kind == VAL_DECIMAL) *out = value_decimal(decimal_neg(value_as_decimal(v)));
      else return false;
      return true;
    }
    case AST_INTERP: {
      /* A default like "Thank you {order.name}" keeps its text. */
      Str t = source_text(g, n);
      if (t.len >= 2) t = str_make(t.ptr + 1, t.len - 2);
      *out = value_string(t.ptr, t.len);
      return true;
    }
    case AST_LIST: {
      const AstList *items = &AST_AS(AstSeq, n)->items;
      ListBuilder lb;
      list_builder_init(&lb, g->arena, items->n);
      for (uint32_t i = 0; i < items->n; i++) {
        Value v;
        if (!const_value(g, items->items[i], &v)) return false;
        list_builder_push(&lb, v);
      }
      *out = list_builder_finish(&lb);
      return true;
    }
    case AST_RECORD: {
      const AstList *items = &AST_AS(AstSeq, n)->items;
      RecordBuilder rb;
      record_builder_init(&rb, g->arena, items->n);
      for (uint32_t i = 0; i < items->n; i++) {
        AstNode *e = items->items[i];
        if (e->kind != AST_FIELD_ENTRY) return false;
        Value v;
        if (!const_value(g, AST_AS(AstNamed, e)->value, &v)) return false;
        record_builder_add(&rb, AST_AS(AstNamed, e)->name.text, v);
      }
      *out = record_builder_finish(&rb);
      return true;
    }
    case AST_CALL: {
      const AstCall *call = AST_AS(AstCall, n);
      if (call->callee->kind == AST_NAME && call->args.n == 1) {
        Str f = AST_AS(AstText, call->callee)->text;
        AstNode *arg = AST_AS(AstNamed, call->args.items[0])->value;
        if (arg && arg->kind == AST_STRING) {
          if (str_eq_cstr(f, "file")) {
            *out = file_value(g, n, AST_AS(AstText, arg)->text);
            return true;
          }
          if (str_eq_cstr(f, "csv")) {
            *out = csv_value(g, n, AST_AS(AstText, arg)->text);
            return true;
          }
        }
      }
      return false;
    }
    default: return false;
  }
}

/* ---- Schema types ------------------------------------------------------------------ */

static const SType NO_TYPE = {ST_NONE, NULL, {"", 0}};

/* The fields of record `name` in `system`'s schema, or NULL. */
static const AstList *schema_record(Gen *g, Str system, Str name) {
  for (size_t i = 0; i < g->c->n_schemas; i++) {
    const ConnectorSchema *cs = &g->c->schemas[i];
    if (!str_eq(cs->system, system)) continue;
    for (uint32_t f = 0; f < cs->files.n; f++) {
      const AstList *d = &AST_AS(AstSeq, cs->files.items[f])->items;
      for (uint32_t j = 0; j < d->n; j++)
        if (d->items[j]->kind == AST_RECORD_DECL && str_eq(AST_AS(AstRecordDecl, d->items[j])->name.text, name))
          return &AST_AS(AstRecordDecl, d->items[j])->fields;
    }
  }
  return NULL;
}

/* The SType of a schema type node (records and lists of records only). */
static SType stype_of(Gen *g, Str system, AstNode *t) {
  SType st = NO_TYPE;
  st.system = system;
  bool list = false;
  if (t && t->kind == AST_TYPE_LIST) {
    list = true;
    t = AST_AS(AstUnary, t)->operand;
  }
  if (!t) return NO_TYPE;
  if (t->kind == AST_TYPE_RECORD) st.fields = &AST_AS(AstSeq, t)->items;
  else if (t->kind == AST_TYPE_NAME) st.fields = schema_record(g, system, AST_AS(AstText, t)->text);
  if (!st.fields) return NO_TYPE;
  st.kind = list ? ST_LIST : ST_RECORD;
  return st;
}

/* Field `name` of record type `rec`: its type node, or NULL. */
static AstNode *field_type(SType rec, Str name) {
  if (rec.kind != ST_RECORD) return NULL;
  for (uint32_t i = 0; i < rec.fields->n; i++) {
    AstNode *f = rec.fields->items[i];
    if (f->kind == AST_FIELD_DECL && str_eq(AST_AS(AstFieldDecl, f)->name.text, name))
      return AST_AS(AstFieldDecl, f)->type;
  }
  return NULL;
}

static SType elem_type(SType list) {
  if (list.kind != ST_LIST) return NO_TYPE;
  list.kind = ST_RECORD;
  return list;
}

/* ---- Expressions ------------------------------------------------------------------- */

static void expr(Gen *g, AstNode *n);
static void record_entries(Gen *g, const AstList *items);
static void list_element(Gen *g, AstNode *n);

static bool record_may_repeat(const AstList *items) {
  for (uint32_t i = 0; i < items->n; i++) {
    AstKind k = (AstKind)items->items[i]->kind;
    if (k == AST_SPREAD || k == AST_IF_ENTRY) return true;
    if (k == AST_FIELD_ENTRY) {
      for (uint32_t j = 0; j < i; j++)
        if (items->items[j]->kind == AST_FIELD_ENTRY &&
            str_eq(AST_AS(AstNamed, items->items[j])->name.text, AST_AS(AstNamed, items->items[i])->name.text))
          return true;
    }
  }
  return false;
}

static void record(Gen *g, AstNode *n) {
  const AstList *items = &AST_AS(AstSeq, n)->items;
  emit(g, OP_REC_BEGIN, items->n, record_may_repeat(items));
  Scope s = scope_open(g);
  record_entries(g, items);
  scope_close(g, s);
  emit(g, OP_REC_END, 0, 0);
}

/* `if C { ... } else { ... }` entries add to the record being built. */
static void if_entry(Gen *g, AstNode *n) {
  const AstIf *f = AST_AS(AstIf, n);
  expr(g, f->cond);
  uint32_t jf = emit(g, OP_JUMP_IF_FALSE, 0, 0);
  Scope s = scope_open(g);
  record_entries(g, &AST_AS(AstSeq, f->then_node)->items);
  scope_close(g, s);
  if (f->else_node) {
    uint32_t j = emit(g, OP_JUMP, 0, 0);
    patch(g, jf);
    if (f->else_node->kind == AST_IF_ENTRY) {
      if_entry(g, f->else_node);
    } else {
      s = scope_open(g);
      record_entries(g, &AST_AS(AstSeq, f->else_node)->items);
      scope_close(g, s);
    }
    patch(g, j);
  } else {
    patch(g, jf);
  }
}

static void record_entries(Gen *g, const AstList *items) {
  for (uint32_t i = 0; i < items->n; i++) {
    AstNode *e = items->items[i];
    g->pos = pos_of(g, e);
    switch ((AstKind)e->kind) {
      case AST_FIELD_ENTRY: {
        const AstNamed *f = AST_AS(AstNamed, e);
        expr(g, f->value);
        g->pos = pos_of(g, e);
        emit(g, OP_REC_SET, k_str(g, f->name.text), 0);
        break;
      }
      case AST_LET: {
        const AstNamed *f = AST_AS(AstNamed, e);
        expr(g, f->value);
        emit(g, OP_STORE, bind_local_typed(g, f->name.text, g->last_type), 0);
        break;
      }
      case AST_SPREAD:
        expr(g, AST_AS(AstUnary, e)->operand);
        emit(g, OP_REC_SPREAD, 0, 0);
        break;
      case AST_IF_ENTRY: if_entry(g, e); break;
      case AST_EXPR_ENTRY:
        expr(g, AST_AS(AstUnary, e)->operand);
        emit(g, OP_POP, 0, 0);
        break;
      case AST_ERROR: break;
      default: gen_error(g, e, "unexpected %s in a record", ast_kind_name((AstKind)e->kind));
    }
  }
}

/* `for X[, N] in LIST [where C] body`: pushes every element it makes onto
** the list being built. */
static void for_loop(Gen *g, AstNode *n) {
  const AstFor *f = AST_AS(AstFor, n);
  expr(g, f->iter);
  SType elem = elem_type(g->last_type);
  g->pos = pos_of(g, n);
  Scope s = scope_open(g);
  uint32_t base = new_slot(g, STR_LIT("(list)"));
  new_slot(g, STR_LIT("(position)"));
  emit(g, OP_ITER_INIT, base, 0);
  uint32_t loop = emit(g, OP_ITER_NEXT, 0, base);
  emit(g, OP_STORE, bind_local_typed(g, f->var.text, elem), 0);
  if (f->index.text.ptr) {
    uint32_t idx = bind_local(g, f->index.text);
    emit(g, OP_LOAD, base + 1, 0);
    emit(g, OP_CONST, program_add_const(g->p, value_int(1)), 0);
    emit(g, OP_ADD, 0, 0);
    emit(g, OP_STORE, idx, 0);
  }
  if (f->where) {
    expr(g, f->where);
    emit(g, OP_JUMP_IF_FALSE, loop, 0);
  }
  if (n->flags & AST_FLAG_ARROW) expr(g, f->body);
  else record(g, f->body);
  emit(g, OP_LIST_PUSH, 0, 0);
  emit(g, OP_JUMP, loop, 0);
  patch(g, loop);
  scope_close(g, s);
}

static void list_element(Gen *g, AstNode *n) {
  g->pos = pos_of(g, n);
  if (n->kind == AST_FOR) {
    for_loop(g, n);
  } else if (n->kind == AST_IF_ELEMENT) {
    const AstIf *f = AST_AS(AstIf, n);
    expr(g, f->cond);
    uint32_t jf = emit(g, OP_JUMP_IF_FALSE, 0, 0);
    if (n->flags & AST_FLAG_ARROW) expr(g, f->then_node);
    else record(g, f->then_node);
    emit(g, OP_LIST_PUSH, 0, 0);
    patch(g, jf);
  } else if (n->kind != AST_ERROR) {
    expr(g, n);
    emit(g, OP_LIST_PUSH, 0, 0);
  }
}

static void match_expr(Gen *g, AstNode *n) {
  const AstMatch *m = AST_AS(AstMatch, n);
  expr(g, m->subject);
  Scope s = scope_open(g);
  uint32_t tmp = new_slot(g, STR_LIT("(match)"));
  emit(g, OP_STORE, tmp, 0);
  uint32_t ends[256];
  uint32_t n_ends = 0;
  bool has_else = false;
  for (uint32_t i = 0; i < m->arms.n; i++) {
    AstNode *an = m->arms.items[i];
    if (an->kind != AST_ARM) continue;
    const AstArm *arm = AST_AS(AstArm, an);
    g->pos = pos_of(g, an);
    if (an->flags & AST_FLAG_ELSE) {
      expr(g, arm->value);
      has_else = true;
      break;
    }
    uint32_t hits[64];
    uint32_t n_hits = 0;
    for (uint32_t j = 0; j < arm->patterns.n && n_hits < 64; j++) {
      Value v;
      if (!const_value(g, arm->patterns.items[j], &v)) gen_error(g, arm->patterns.items[j], "a pattern must be a literal");
      emit(g, OP_LOAD, tmp, 0);
      emit(g, OP_CONST, program_add_const(g->p, v), 0);
      emit(g, OP_EQ, 0, 0);
      hits[n_hits++] = emit(g, OP_JUMP_IF_TRUE, 0, 0);
    }
    uint32_t next = emit(g, OP_JUMP, 0, 0);
    for (uint32_t j = 0; j < n_hits; j++) patch(g, hits[j]);
    expr(g, arm->value);
    if (n_ends == ARRAY_LEN(ends)) gen_error(g, n, "a match of more than %zu arms", ARRAY_LEN(ends));
    ends[n_ends++] = emit(g, OP_JUMP, 0, 0);
    patch(g, next);
  }
  if (!has_else) {
    g->pos = pos_of(g, n);
    emit(g, OP_LOAD, tmp, 0);
    emit(g, OP_NO_MATCH, 0, 0);
  }
  for (uint32_t i = 0; i < n_ends; i++) patch(g, ends[i]);
  scope_close(g, s);
}

/* A key function `x => body` applied to every element of slot `list`:
** leaves the list of keys (stdlib.h: key functions are not closures). */
static void key_list(Gen *g, uint32_t list, AstNode *lambda, SType elem) {
  const AstNamed *l = AST_AS(AstNamed, lambda);
  Scope s = scope_open(g);
  emit(g, OP_LIST_BEGIN, 0, 0);
  uint32_t base = new_slot(g, STR_LIT("(list)"));
  new_slot(g, STR_LIT("(position)"));
  emit(g, OP_LOAD, list, 0);
  emit(g, OP_ITER_INIT, base, 0);
  uint32_t loop = emit(g, OP_ITER_NEXT, 0, base);
  emit(g, OP_STORE, bind_local_typed(g, l->name.text, elem), 0);
  expr(g, l->value);
  emit(g, OP_LIST_PUSH, 0, 0);
  emit(g, OP_JUMP, loop, 0);
  patch(g, loop);
  emit(g, OP_LIST_END, 0, 0);
  scope_close(g, s);
}

static void default_arg(Gen *g, AstNode *at, const StdParam *prm) {
  Str t = prm->default_text;
  if (str_eq_cstr(t, "null")) {
    emit(g, OP_NULL, 0, 0);
  } else if (str_eq_cstr(t, "flow")) {
    const char *r = rounding_name((Rounding)g->p->rounding);
    emit(g, OP_CONST, k_str(g, str_from_cstr(r)), 0);
  } else if (str_eq_cstr(t, "true") || str_eq_cstr(t, "false")) {
    emit(g, t.ptr[0] == 't' ? OP_TRUE : OP_FALSE, 0, 0);
  } else if (t.len >= 2 && t.ptr[0] == '"') {
    Buf b;
    buf_init(&b, 0);
    for (size_t i = 1; i + 1 < t.len; i++) {
      if (t.ptr[i] == '\\' && i + 2 < t.len) i++;
      buf_putc(&b, t.ptr[i]);
    }
    Str s = arena_str(g->arena, buf_str(&b));
    buf_fini(&b);
    emit(g, OP_CONST, k_str(g, s), 0);
  } else {
    Decimal d;
    if (decimal_parse(t, &d, NULL) != DECIMAL_OK) gen_error(g, at, "bad default `%.*s` in stdlib.def", STR_FMT(t));
    Value v = d.scale == 0 ? value_int(d.coef) : value_decimal(d);
    emit(g, OP_CONST, program_add_const(g->p, v), 0);
  }
}

static void std_call(Gen *g, AstNode *n, int fn, const StdSig *sig) {
  const AstCall *call = AST_AS(AstCall, n);
  AstNode *given[MAX_PARAMS] = {0};
  uint32_t next_pos = 0;
  for (uint32_t i = 0; i < call->args.n; i++) {
    const AstNamed *a = AST_AS(AstNamed, call->args.items[i]);
    uint32_t at = UINT32_MAX;
    if (a->name.text.ptr) {
      for (uint32_t j = 0; j < sig->n_params; j++)
        if (str_eq(sig->params[j].name, a->name.text)) at = j;
      if (at == UINT32_MAX)
        gen_error(g, call->args.items[i], "%s() has no parameter `%.*s`", sig->name, STR_FMT(a->name.text));
    } else {
      at = next_pos++;
      if (at >= sig->n_params) gen_error(g, call->args.items[i], "too many arguments to %s()", sig->name);
    }
    given[at] = a->value;
  }
  /* A key function needs its list twice: once as the values, once to
  ** compute the keys, so the list goes to a slot first. */
  bool has_key = false;
  for (uint32_t j = 0; j < sig->n_params; j++)
    if (given[j] && given[j]->kind == AST_LAMBDA) has_key = true;
  Scope s = scope_open(g);
  uint32_t list_slot = 0;
  SType elem = NO_TYPE;
  if (has_key) {
    if (!given[0]) gen_error(g, n, "%s() needs its list", sig->name);
    expr(g, given[0]);
    elem = elem_type(g->last_type);
    list_slot = new_slot(g, STR_LIT("(values)"));
    emit(g, OP_STORE, list_slot, 0);
  }
  for (uint32_t j = 0; j < sig->n_params; j++) {
    const StdParam *prm = &sig->params[j];
    g->pos = pos_of(g, n);
    if (has_key && j == 0) {
      emit(g, OP_LOAD, list_slot, 0);
    } else if (given[j] && given[j]->kind == AST_LAMBDA) {
      if (!has_key) gen_error(g, given[j], "a key function needs a list");
      key_list(g, list_slot, given[j], elem);
    } else if (given[j]) {
      expr(g, given[j]);
      if (prm->is_numeric) emit(g, OP_NUMERIC, 0, 0);
      if (prm->is_temporal) emit(g, OP_TEMPORAL, 0, 0);
    } else if (prm->has_default) {
      default_arg(g, n, prm);
    } else {
      gen_error(g, n, "%s() needs the argument `%.*s`", sig->name, STR_FMT(prm->name));
    }
  }
  scope_close(g, s);
  g->pos = pos_of(g, n);
  emit(g, OP_CALL, (uint32_t)fn, sig->n_params);
}

static void call_expr(Gen *g, AstNode *n) {
  const AstCall *call = AST_AS(AstCall, n);
  AstNode *callee = call->callee;
  if (callee->kind == AST_NAME) {
    Str name = AST_AS(AstText, callee)->text;
    if (str_eq_cstr(name, "skip") || str_eq_cstr(name, "fail")) {
      if (call->args.n != 1) gen_error(g, n, "%.*s() takes one reason", STR_FMT(name));
      expr(g, AST_AS(AstNamed, call->args.items[0])->value);
      g->pos = pos_of(g, n);
      emit(g, name.ptr[0] == 's' ? OP_SKIP : OP_FAIL, 0, 0);
      /* Never reached; keeps the stack picture of an expression. */
      emit(g, OP_NULL, 0, 0);
      return;
    }
    if (str_eq_cstr(name, "file") || str_eq_cstr(name, "csv")) {
      Value v;
      if (!const_value(g, n, &v)) gen_error(g, n, "%.*s() takes a file name in quotes", STR_FMT(name));
      emit(g, OP_CONST, program_add_const(g->p, v), 0);
      return;
    }
    const StdSig *sig;
    int fn = std_find(name, &sig);
    if (fn < 0) gen_error(g, callee, "unknown function `%.*s`", STR_FMT(name));
    std_call(g, n, fn, sig);
    return;
  }
  if (callee->kind == AST_FIELD) {
    const AstField *f = AST_AS(AstField, callee);
    if (f->object->kind == AST_NAME) {
      const Global *gl = find_global(g, AST_AS(AstText, f->object)->text);
      if (gl && gl->kind == G_CONN && gl->is_lua) {
        for (uint32_t i = 0; i < call->args.n; i++) expr(g, AST_AS(AstNamed, call->args.items[i])->value);
        char name[256];
        snprintf(name, sizeof name, "%.*s.%.*s", STR_FMT(gl->name), STR_FMT(f->name.text));
        Str s = arena_str(g->arena, str_from_cstr(name));
        g->pos = pos_of(g, n);
        emit(g, OP_CALL_LUA, k_str(g, s), call->args.n);
        return;
      }
    }
  }
  gen_error(g, n, "this cannot be called");
}

static void binary(Gen *g, AstNode *n, Opcode op) {
  const AstBinary *b = AST_AS(AstBinary, n);
  expr(g, b->left);
  expr(g, b->right);
  g->pos = pos_of(g, n);
  emit(g, op, 0, 0);
}

static void name_expr(Gen *g, AstNode *n) {
  Str name = AST_AS(AstText, n)->text;
  for (size_t i = g->n_locals; i-- > 0;) {
    if (str_eq(g->locals[i].name, name)) {
      emit(g, OP_LOAD, g->locals[i].slot, 0);
      g->last_type = g->locals[i].type;
      return;
    }
  }
  const Global *gl = find_global(g, name);
  if (gl && gl->kind == G_SLOT) {
    emit(g, OP_LOAD, gl->index, 0);
    g->last_type = gl->type;
  } else if (gl && gl->kind == G_TABLE) {
    emit(g, OP_CONST, gl->index, 0);
  } else {
    /* An enumeration value is its own name as text (docs/language.md). */
    emit(g, OP_CONST, k_str(g, name), 0);
  }
}

static void expr(Gen *g, AstNode *n) {
  DebugPos saved = g->pos;
  g->pos = pos_of(g, n);
  Value v;
  SType type = NO_TYPE; /* what g->last_type becomes */
  switch ((AstKind)n->kind) {
    case AST_NAME:
      g->last_type = NO_TYPE;
      name_expr(g, n);
      type = g->last_type;
      break;
    case AST_INT:
    case AST_DECIMAL:
    case AST_STRING:
    case AST_DATE:
    case AST_DATETIME:
      const_value(g, n, &v);
      emit(g, OP_CONST, program_add_const(g->p, v), 0);
      break;
    case AST_TRUE: emit(g, OP_TRUE, 0, 0); break;
    case AST_FALSE: emit(g, OP_FALSE, 0, 0); break;
    case AST_NULL: emit(g, OP_NULL, 0, 0); break;
    case AST_INTERP: {
      const AstList *items = &AST_AS(AstSeq, n)->items;
      for (uint32_t i = 0; i < items->n; i++) expr(g, items->items[i]);
      g->pos = pos_of(g, n);
      emit(g, OP_CONCAT, items->n, 0);
      break;
    }
    case AST_FIELD: {
      const AstField *f = AST_AS(AstField, n);
      if (f->object->kind == AST_SETTINGS) {
        int i = program_setting_index(g->p, f->name.text);
        if (i < 0) gen_error(g, n, "unknown setting `%.*s`", STR_FMT(f->name.text));
        emit(g, OP_SETTING, (uint32_t)i, 0);
        break;
      }
      expr(g, f->object);
      g->pos = pos_of(g, n);
      emit(g, OP_FIELD, k_str(g, f->name.text), g->p->n_cache++);
      SType obj = g->last_type;
      AstNode *ft = field_type(obj, f->name.text);
      if (ft && ft->kind == AST_TYPE_NAME) {
        Str tn = AST_AS(AstText, ft)->text;
        if (str_eq_cstr(tn, "money") || str_eq_cstr(tn, "decimal")) emit(g, OP_NUMERIC, 0, 0);
        else if (str_eq_cstr(tn, "date") || str_eq_cstr(tn, "datetime")) emit(g, OP_TEMPORAL, 0, 0);
      }
      if (ft) type = stype_of(g, obj.system, ft);
      break;
    }
    case AST_INDEX: {
      const AstBinary *b = AST_AS(AstBinary, n);
      expr(g, b->left);
      SType list = g->last_type;
      expr(g, b->right);
      g->pos = pos_of(g, n);
      emit(g, OP_INDEX, 0, 0);
      type = elem_type(list);
      break;
    }
    case AST_CALL: call_expr(g, n); break;
    case AST_NEG:
      expr(g, AST_AS(AstUnary, n)->operand);
      g->pos = pos_of(g, n);
      emit(g, OP_NEG, 0, 0);
      break;
    case AST_NOT:
      expr(g, AST_AS(AstUnary, n)->operand);
      g->pos = pos_of(g, n);
      emit(g, OP_NOT, 0, 0);
      break;
    case AST_ADD: binary(g, n, OP_ADD); break;
    case AST_SUB: binary(g, n, OP_SUB); break;
    case AST_MUL: binary(g, n, OP_MUL); break;
    case AST_DIV: binary(g, n, OP_DIV); break;
    case AST_MOD: binary(g, n, OP_MOD); break;
    case AST_EQ: binary(g, n, OP_EQ); break;
    case AST_NE: binary(g, n, OP_NE); break;
    case AST_LT: binary(g, n, OP_LT); break;
    case AST_LE: binary(g, n, OP_LE); break;
    case AST_GT: binary(g, n, OP_GT); break;
    case AST_GE: binary(g, n, OP_GE); break;
    case AST_IN: binary(g, n, OP_IN); break;
    case AST_AND:
    case AST_OR: {
      const AstBinary *b = AST_AS(AstBinary, n);
      bool is_and = n->kind == AST_AND;
      expr(g, b->left);
      g->pos = pos_of(g, n);
      uint32_t short_jump = emit(g, is_and ? OP_JUMP_IF_FALSE : OP_JUMP_IF_TRUE, 0, 0);
      expr(g, b->right);
      /* The right side must be a bool too: `not not x` checks it cheaply. */
      emit(g, OP_NOT, 0, 0);
      emit(g, OP_NOT, 0, 0);
      uint32_t end = emit(g, OP_JUMP, 0, 0);
      patch(g, short_jump);
      emit(g, is_and ? OP_FALSE : OP_TRUE, 0, 0);
      patch(g, end);
      break;
    }
    case AST_COALESCE: {
      const AstBinary *b = AST_AS(AstBinary, n);
      expr(g, b->left);
      g->pos = pos_of(g, n);
      type = g->last_type;
      uint32_t j = emit(g, OP_JUMP_IF_NOT_NULL, 0, 0);
      expr(g, b->right);
      if (type.kind == ST_NONE) type = g->last_type;
      patch(g, j);
      break;
    }
    case AST_IF: {
      const AstIf *f = AST_AS(AstIf, n);
      expr(g, f->cond);
      uint32_t jf = emit(g, OP_JUMP_IF_FALSE, 0, 0);
      expr(g, f->then_node);
      uint32_t end = emit(g, OP_JUMP, 0, 0);
      patch(g, jf);
      if (f->else_node) expr(g, f->else_node);
      else emit(g, OP_NULL, 0, 0);
      patch(g, end);
      break;
    }
    case AST_RECORD: record(g, n); break;
    case AST_LIST: {
      const AstList *items = &AST_AS(AstSeq, n)->items;
      emit(g, OP_LIST_BEGIN, items->n, 0);
      for (uint32_t i = 0; i < items->n; i++) list_element(g, items->items[i]);
      g->pos = pos_of(g, n);
      emit(g, OP_LIST_END, 0, 0);
      break;
    }
    case AST_FOR:
      emit(g, OP_LIST_BEGIN, 0, 0);
      for_loop(g, n);
      emit(g, OP_LIST_END, 0, 0);
      break;
    case AST_MATCH: match_expr(g, n); break;
    case AST_ERROR: emit(g, OP_NULL, 0, 0); break;
    default: gen_error(g, n, "%s cannot be used as a value here", ast_kind_name((AstKind)n->kind));
  }
  g->pos = saved;
  g->last_type = type;
}

/* A block computing `n`; returns its number. */
static uint32_t block_of(Gen *g, AstNode *n) {
  uint32_t b = program_begin_block(g->p);
  g->local_top = g->n_global_slots;
  g->n_locals = 0;
  expr(g, n);
  emit(g, OP_RET, 0, 0);
  return b;
}

/* ---- Declarations --------------------------------------------------------------- */

static AstNode *find_decl(AstNode *file, AstKind kind) {
  const AstList *d = &AST_AS(AstSeq, file)->items;
  for (uint32_t i = 0; i < d->n; i++)
    if (d->items[i]->kind == kind) return d->items[i];
  return NULL;
}

static void setting_decl(Gen *g, AstNode *n) {
  const AstSetting *s = AST_AS(AstSetting, n);
  ProgSetting *ps = program_add_setting(g->p);
  ps->name = program_str(g->p, s->name.text);
  ps->type = program_str(g->p, source_text(g, s->type));
  if (s->doc && s->doc->kind == AST_STRING) ps->doc = program_str(g->p, AST_AS(AstText, s->doc)->text);
  AstNode *t = s->type;
  AstNode *enum_node = NULL;
  ps->kind = SETK_OTHER;
  if (t->kind == AST_TYPE_NAME) {
    static const struct { const char *name; SettingKind kind; } names[] = {
        {"bool", SETK_BOOL},     {"int", SETK_INT},       {"decimal", SETK_DECIMAL},
        {"money", SETK_MONEY},   {"string", SETK_STRING}, {"date", SETK_DATE},
        {"datetime", SETK_DATETIME}, {"secret", SETK_SECRET}};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
      if (str_eq_cstr(AST_AS(AstText, t)->text, names[i].name)) ps->kind = (uint8_t)names[i].kind;
  } else if (t->kind == AST_TYPE_ENUM) {
    ps->kind = SETK_ENUM;
    enum_node = t;
  } else if (t->kind == AST_TYPE_LIST) {
    ps->kind = SETK_LIST;
    if (AST_AS(AstUnary, t)->operand->kind == AST_TYPE_ENUM) enum_node = AST_AS(AstUnary, t)->operand;
  } else if (t->kind == AST_TYPE_TABLE) {
    ps->kind = SETK_TABLE;
  }
  if (enum_node) {
    const AstList *vals = &AST_AS(AstSeq, enum_node)->items;
    ps->allowed = arena_alloc(&g->p->arena, vals->n * sizeof(Str) + 1);
    for (uint32_t i = 0; i < vals->n; i++)
      ps->allowed[ps->n_allowed++] = program_str(g->p, AST_AS(AstText, vals->items[i])->text);
  }
  if (s->value) {
    Value v;
    if (!const_value(g, s->value, &v)) gen_error(g, s->value, "the default of a setting must be a literal");
    /* A money setting written `= 5` is still a decimal. */
    if ((ps->kind == SETK_MONEY || ps->kind == SETK_DECIMAL) && v.kind == VAL_INT)
      v = value_decimal(decimal_make(v.as.i, 0));
    ps->default_k = program_add_const(g->p, v);
  }
}

static Str trigger_stage_field(Gen *g, Str system, Str record) {
  for (size_t i = 0; i < g->c->n_schemas; i++) {
    const ConnectorSchema *cs = &g->c->schemas[i];
    if (!str_eq(cs->system, system)) continue;
    for (uint32_t f = 0; f < cs->files.n; f++) {
      const AstList *d = &AST_AS(AstSeq, cs->files.items[f])->items;
      for (uint32_t j = 0; j < d->n; j++) {
        if (d->items[j]->kind != AST_TRIGGER_SPEC || (d->items[j]->flags & AST_FLAG_CREATED)) continue;
        const AstTriggerSpec *ts = AST_AS(AstTriggerSpec, d->items[j]);
        if (str_eq(ts->record.text, record)) return ts->field.text;
      }
    }
  }
  return str_make("", 0);
}

static void trigger_decl(Gen *g, AstNode *n) {
  const AstTrigger *t = AST_AS(AstTrigger, n);
  ProgTrigger *pt = &g->p->trigger;
  g->p->has_trigger = true;
  pt->pos = pos_of(g, n);
  pt->connection = program_str(g->p, t->connection.text);
  const Global *conn = find_global(g, t->connection.text);
  if (!conn || conn->kind != G_CONN) gen_error(g, n, "unknown connection `%.*s`", STR_FMT(t->connection.text));
  pt->system = program_str(g->p, conn->system);
  pt->record = program_str(g->p, t->record.text);
  pt->binding = program_str(g->p, t->binding.text.ptr ? t->binding.text : t->record.text);
  pt->created = (n->flags & AST_FLAG_CREATED) != 0;
  if (!pt->created) {
    pt->stage_field = program_str(g->p, trigger_stage_field(g, conn->system, t->record.text));
    if (pt->stage_field.len == 0)
      gen_error(g, n, "connector %.*s declares no `trigger %.*s reaches FIELD`", STR_FMT(conn->system),
                STR_FMT(t->record.text));
    if (t->stages.n == 1) {
      pt->stages = block_of(g, t->stages.items[0]);
    } else {
      pt->stages = program_begin_block(g->p);
      emit(g, OP_LIST_BEGIN, t->stages.n, 0);
      for (uint32_t i = 0; i < t->stages.n; i++) {
        expr(g, t->stages.items[i]);
        emit(g, OP_LIST_PUSH, 0, 0);
      }
      emit(g, OP_LIST_END, 0, 0);
      emit(g, OP_RET, 0, 0);
    }
  }
  for (uint32_t i = 0; i < t->clauses.n; i++) {
    AstNode *cl = t->clauses.items[i];
    if (cl->kind == AST_WHERE) {
      AstNode *cond = AST_AS(AstUnary, cl)->operand;
      pt->where = block_of(g, cond);
      pt->where_text = one_line_text(g, source_text(g, cond));
    } else if (cl->kind == AST_UPDATES) {
      pt->updates = block_of(g, AST_AS(AstUnary, cl)->operand);
    } else if (cl->kind == AST_VIA) {
      const AstList *ch = &AST_AS(AstSeq, cl)->items;
      for (uint32_t j = 0; j < ch->n; j++) {
        if (ch->items[j]->kind == AST_WEBHOOK) {
          pt->webhook = true;
        } else if (ch->items[j]->kind == AST_POLL) {
          const AstPoll *pl = AST_AS(AstPoll, ch->items[j]);
          Str u = pl->unit.text;
          int64_t mult = str_starts_with(u, STR_LIT("second")) ? 1 : str_starts_with(u, STR_LIT("hour")) ? 3600 : 60;
          pt->poll_seconds = (uint32_t)(pl->every * mult);
        }
      }
    }
  }
}

/* Whether an operation changes the target system (runtime/host.h). */
static OpEffect effect_of(Str op) {
  static const char *const writes[] = {"create", "update", "book", "match_or_create", "delete",
                                       "send", "send_email", "cancel", "refund", "upsert"};
  for (size_t i = 0; i < ARRAY_LEN(writes); i++)
    if (str_eq_cstr(op, writes[i])) return OP_WRITES;
  return OP_READS;
}

static void step_decl(Gen *g, AstNode *n, const Global *self) {
  const AstStep *s = AST_AS(AstStep, n);
  ProgNode *node = program_add_node(g->p);
  uint32_t node_i = g->p->n_nodes - 1;
  node->kind = NODE_STEP;
  node->slot = self->index;
  node->name = program_str(g->p, s->name.text);
  node->pos = pos_of(g, n);
  if (s->operation.text.ptr) {
    const Global *conn = find_global(g, s->connection.text);
    if (!conn || conn->kind != G_CONN) gen_error(g, n, "unknown connection `%.*s`", STR_FMT(s->connection.text));
    node->connection = program_str(g->p, s->connection.text);
    node->system = program_str(g->p, conn->system);
    char op[256];
    snprintf(op, sizeof op, "%.*s.%.*s", STR_FMT(s->record.text), STR_FMT(s->operation.text));
    node->operation = program_str(g->p, str_from_cstr(op));
    node->effect = (uint8_t)effect_of(s->operation.text);
  }
  uint32_t when = s->when ? block_of(g, s->when) : PROG_NONE;
  uint32_t body = block_of(g, s->body);
  uint32_t params = PROG_NONE;
  if (s->operation.text.ptr) {
    params = program_begin_block(g->p);
    g->local_top = g->n_global_slots;
    g->pos = node->pos;
    emit(g, OP_REC_BEGIN, s->args.n, 0);
    for (uint32_t i = 0; i < s->args.n; i++) {
      const AstNamed *a = AST_AS(AstNamed, s->args.items[i]);
      expr(g, a->value);
      g->pos = pos_of(g, s->args.items[i]);
      emit(g, OP_REC_SET, k_str(g, a->name.text), 0);
    }
    emit(g, OP_REC_END, 0, 0);
    emit(g, OP_RET, 0, 0);
  }
  node = &g->p->nodes[node_i]; /* the array may have moved */
  node->when = when;
  node->body = body;
  node->params = params;
}

static void guard_decl(Gen *g, AstNode *n) {
  const AstBinary *b = AST_AS(AstBinary, n);
  uint32_t block = program_begin_block(g->p);
  g->local_top = g->n_global_slots;
  g->n_locals = 0;
  expr(g, b->left);
  uint32_t jf = emit(g, OP_JUMP_IF_FALSE, 0, 0);
  const AstList *items = &AST_AS(AstSeq, b->right)->items;
  for (uint32_t i = 0; i < items->n; i++) {
    AstNode *e = items->items[i];
    if (e->kind == AST_EXPR_ENTRY) {
      expr(g, AST_AS(AstUnary, e)->operand);
      emit(g, OP_POP, 0, 0);
    } else if (e->kind == AST_LET) {
      expr(g, AST_AS(AstNamed, e)->value);
      emit(g, OP_STORE, bind_local(g, AST_AS(AstNamed, e)->name.text), 0);
    }
  }
  patch(g, jf);
  emit(g, OP_NULL, 0, 0);
  emit(g, OP_RET, 0, 0);
  ProgNode *node = program_add_node(g->p);
  node->kind = NODE_GUARD;
  node->body = block;
  node->pos = pos_of(g, n);
}

static void test_decl(Gen *g, AstNode *n) {
  const AstTest *t = AST_AS(AstTest, n);
  ProgTest *pt = program_add_test(g->p);
  uint32_t test_i = g->p->n_tests - 1;
  if (t->name && t->name->kind == AST_STRING) pt->name = program_str(g->p, AST_AS(AstText, t->name)->text);
  pt->pos = pos_of(g, n);
  for (uint32_t i = 0; i < t->entries.n; i++) {
    AstNode *e = t->entries.items[i];
    pt = &g->p->tests[test_i];
    ProgTestEntry *pe = program_add_test_entry(g->p, pt);
    uint32_t entry_i = pt->n_entries - 1;
    DebugPos pos = pos_of(g, e);
    uint32_t block = PROG_NONE;
    Str name = {"", 0}, text = {"", 0};
    uint8_t kind = TEST_SETTINGS;
    switch ((AstKind)e->kind) {
      case AST_TEST_SETTINGS:
        kind = TEST_SETTINGS;
        block = block_of(g, AST_AS(AstUnary, e)->operand);
        break;
      case AST_TEST_INPUT:
      case AST_TEST_GIVEN:
      case AST_TEST_EXPECT:
        kind = e->kind == AST_TEST_INPUT ? TEST_INPUT : e->kind == AST_TEST_GIVEN ? TEST_GIVEN : TEST_EXPECT;
        name = AST_AS(AstNamed, e)->name.text;
        block = block_of(g, AST_AS(AstNamed, e)->value);
        break;
      case AST_TEST_EXPECT_NO:
        kind = TEST_EXPECT_NO;
        name = AST_AS(AstNamed, e)->name.text;
        break;
      case AST_TEST_EXPECT_SKIP:
      case AST_TEST_EXPECT_FAIL: {
        kind = e->kind == AST_TEST_EXPECT_SKIP ? TEST_EXPECT_SKIP : TEST_EXPECT_FAIL;
        AstNode *s = AST_AS(AstUnary, e)->operand;
        if (s->kind == AST_STRING) text = AST_AS(AstText, s)->text;
        else gen_error(g, s, "the expected reason must be a plain string");
        break;
      }
      default: gen_error(g, e, "unexpected %s in a test", ast_kind_name((AstKind)e->kind));
    }
    pe = &g->p->tests[test_i].entries[entry_i];
    pe->kind = kind;
    pe->block = block;
    pe->name = program_str(g->p, name);
    pe->text = program_str(g->p, text);
    pe->pos = pos;
  }
}

static void table_decl(Gen *g, AstNode *n) {
  const AstTable *t = AST_AS(AstTable, n);
  Value v;
  if (t->source) {
    if (!const_value(g, t->source, &v)) gen_error(g, t->source, "a table is read from csv(\"FILE\")");
  } else {
    RecordBuilder rb;
    record_builder_init(&rb, g->arena, t->arms.n);
    for (uint32_t i = 0; i < t->arms.n; i++) {
      const AstArm *arm = AST_AS(AstArm, t->arms.items[i]);
      Value val;
      if (!const_value(g, arm->value, &val)) gen_error(g, arm->value, "a table's values must be literals");
      for (uint32_t j = 0; j < arm->patterns.n; j++) {
        Value key;
        if (!const_value(g, arm->patterns.items[j], &key)) gen_error(g, arm->patterns.items[j], "a key must be a literal");
        Buf b;
        buf_init(&b, 0);
        if (key.kind == VAL_STRING) buf_append_str(&b, value_as_str(key));
        else value_debug(key, &b);
        record_builder_add(&rb, arena_str(g->arena, buf_str(&b)), val);
        buf_fini(&b);
      }
    }
    v = record_builder_finish(&rb);
  }
  add_global(g, t->name.text, G_TABLE, program_add_const(g->p, v));
}

static void gen_flow(Gen *g) {
  AstNode *file = g->c->flow;
  const AstList *decls = &AST_AS(AstSeq, file)->items;
  Program *p = g->p;
  AstNode *flow = find_decl(file, AST_FLOW);
  if (flow) {
    p->flow_name = program_str(p, AST_AS(AstDoc, flow)->name.text);
    AstNode *doc = AST_AS(AstDoc, flow)->doc;
    if (doc && doc->kind == AST_STRING) p->flow_doc = program_str(p, AST_AS(AstText, doc)->text);
  }
  AstNode *rounding = find_decl(file, AST_ROUNDING);
  if (rounding) {
    Rounding r;
    if (!rounding_from_name(AST_AS(AstDoc, rounding)->name.text, &r)) gen_error(g, rounding, "unknown rounding rule");
    p->rounding = (uint8_t)r;
  }
  /* Slot 0 is the trigger record; then one slot per top-level name. */
  AstNode *trig = find_decl(file, AST_TRIGGER);
  Str binding = STR_LIT("input");
  if (trig) {
    const AstTrigger *t = AST_AS(AstTrigger, trig);
    binding = t->binding.text.ptr ? t->binding.text : t->record.text;
  }
  add_global(g, binding, G_SLOT, program_add_slot(p, binding));
  if (trig) {
    const AstTrigger *t = AST_AS(AstTrigger, trig);
    for (uint32_t i = 0; i < decls->n; i++) {
      AstNode *d = decls->items[i];
      if (d->kind == AST_USE && str_eq(AST_AS(AstUse, d)->name.text, t->connection.text)) {
        Str system = AST_AS(AstUse, d)->system.text;
        const AstList *fields = schema_record(g, system, t->record.text);
        if (fields) g->globals[0].type = (SType){ST_RECORD, fields, system};
      }
    }
  }
  for (uint32_t i = 0; i < decls->n; i++) {
    AstNode *d = decls->items[i];
    if (d->kind == AST_USE) {
      const AstUse *u = AST_AS(AstUse, d);
      add_global(g, u->name.text, G_CONN, 0);
      Global *gl = &g->globals[g->n_globals - 1];
      gl->is_lua = (d->flags & AST_FLAG_LUA) != 0;
      gl->system = gl->is_lua ? str_make("", 0) : u->system.text;
      ProgUse *pu = program_add_use(p);
      pu->name = program_str(p, u->name.text);
      pu->system = program_str(p, gl->system);
      if (gl->is_lua && u->lua_file && u->lua_file->kind == AST_STRING) {
        Str lua_file = AST_AS(AstText, u->lua_file)->text;
        size_t len;
        char *text = read_beside(g, d, lua_file, &len);
        pu = &p->uses[p->n_uses - 1];
        pu->lua_file = program_str(p, lua_file);
        pu->lua_source = program_str(p, str_make(text, len));
        free(text);
      }
    } else if (d->kind == AST_SETTING) {
      setting_decl(g, d);
    } else if (d->kind == AST_LET) {
      Str name = AST_AS(AstNamed, d)->name.text;
      add_global(g, name, G_SLOT, program_add_slot(p, name));
    } else if (d->kind == AST_STEP) {
      Str name = AST_AS(AstStep, d)->name.text;
      add_global(g, name, G_SLOT, program_add_slot(p, name));
    } else if (d->kind == AST_TABLE) {
      table_decl(g, d);
    }
  }
  g->n_global_slots = p->n_slots;
  if (trig) trigger_decl(g, trig);
  for (uint32_t i = 0; i < decls->n; i++) {
    AstNode *d = decls->items[i];
    g->pos = pos_of(g, d);
    switch ((AstKind)d->kind) {
      case AST_LET: {
        const AstNamed *l = AST_AS(AstNamed, d);
        uint32_t block = block_of(g, l->value);
        /* A later use of the name sees what the schema says of its value. */
        for (size_t k = g->n_globals; k-- > 0;)
          if (g->globals[k].kind == G_SLOT && str_eq(g->globals[k].name, l->name.text)) {
            g->globals[k].type = g->last_type;
            break;
          }
        ProgNode *node = program_add_node(p);
        node->kind = NODE_LET;
        node->name = program_str(p, l->name.text);
        node->slot = find_global(g, l->name.text)->index;
        node->body = block;
        node->pos = pos_of(g, d);
        break;
      }
      case AST_STEP: step_decl(g, d, find_global(g, AST_AS(AstStep, d)->name.text)); break;
      case AST_GUARD: guard_decl(g, d); break;
      case AST_TEST: test_decl(g, d); break;
      default: break;
    }
  }
}

Program *codegen_flow(Compilation *c, char *err, size_t err_size) {
  if (!c->flow) {
    snprintf(err, err_size, "nothing to compile");
    return NULL;
  }
  Gen *g = xcalloc(1, sizeof *g);
  g->c = c;
  g->arena = &c->arena;
  g->err = err;
  g->err_size = err_size;
  g->p = program_new();
  g->hash = EVP_MD_CTX_new();
  EVP_DigestInit_ex(g->hash, EVP_sha256(), NULL);
  const SourceFile *main_file = sources_file(&c->sources, c->main_file);
  g->p->source_path = program_str(g->p, str_from_cstr(main_file->path));
  hash_file(g, "", main_file->text, main_file->len);
  char real[PATH_MAX];
  if (realpath(main_file->path, real)) {
    char *slash = strrchr(real, '/');
    if (slash) *slash = '\0';
    snprintf(g->flow_dir, sizeof g->flow_dir, "%s", real);
  } else {
    snprintf(g->flow_dir, sizeof g->flow_dir, ".");
  }
  Program *result = NULL;
  if (setjmp(g->fail) == 0) {
    gen_flow(g);
    unsigned int n = 0;
    EVP_DigestFinal_ex(g->hash, g->p->source_hash, &n);
    char why[300];
    if (program_verify(g->p, why, sizeof why)) {
      result = g->p;
      g->p = NULL;
    } else {
      snprintf(err, err_size, "%s: internal error: the generated code does not verify: %s",
               main_file->path, why);
    }
  }
  EVP_MD_CTX_free(g->hash);
  program_free(g->p);
  free(g->globals);
  free(g->locals);
  free(g);
  return result;
}
