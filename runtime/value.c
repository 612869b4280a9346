/*
** Runtime values (see value.h for the ownership rule): field lookup,
** builders, comparison, hashing, type names and the debug printer.
*/
#include "runtime/value.h"

#include "common/util.h"

#include <stdio.h>
#include <string.h>

__extension__ typedef __int128 i128;

/* Records up to this many fields are scanned; bigger ones get an index.
** A scan compares lengths first, so it is cheap well past a dozen fields,
** and the hint makes most lookups on same-shaped records hit at once. */
#define SCAN_LIMIT 16

bool value_string_copy(Arena *a, Str s, Value *out) {
  if (s.len > VALUE_MAX_LEN) return false;
  char *p = arena_alloc(a, s.len ? s.len : 1);
  if (!p) return false;
  if (s.len) memcpy(p, s.ptr, s.len);
  *out = value_string(p, s.len);
  return true;
}

/* ---- Field lookup ---------------------------------------------------------- */

static inline bool key_is(const Field *f, Str key) {
  return f->key.len == key.len && memcmp(f->key.ptr, key.ptr, key.len) == 0;
}

/* Build rec->index; false if the arena refuses the memory. Keys are
** inserted first to last, and a repeated key keeps its first slot, so the
** index finds the same field a scan would. */
static bool build_index(Record *rec) {
  uint32_t n_slots = 32;
  while (n_slots < rec->n_fields * 2) n_slots *= 2;
  uint32_t *slots = arena_zalloc(rec->arena, n_slots * sizeof *slots);
  if (!slots) return false;
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    Str k = rec->fields[i].key;
    uint32_t s = (uint32_t)hash_bytes(k.ptr, k.len) & (n_slots - 1);
    while (slots[s] && !key_is(&rec->fields[slots[s] - 1], k))
      s = (s + 1) & (n_slots - 1);
    if (!slots[s]) slots[s] = i + 1;
  }
  rec->index = slots;
  rec->n_slots = n_slots;
  return true;
}

const Value *value_field(Value v, Str key, uint32_t *hint) {
  assert(v.kind == VAL_RECORD);
  Record *rec = v.as.rec;
  uint32_t n = rec->n_fields;
  if (hint && *hint < n && key_is(&rec->fields[*hint], key))
    return &rec->fields[*hint].value;
  uint32_t found = UINT32_MAX;
  if (n > SCAN_LIMIT && (rec->index || build_index(rec))) {
    uint32_t mask = rec->n_slots - 1;
    uint32_t s = (uint32_t)hash_bytes(key.ptr, key.len) & mask;
    for (; rec->index[s]; s = (s + 1) & mask) {
      if (key_is(&rec->fields[rec->index[s] - 1], key)) {
        found = rec->index[s] - 1;
        break;
      }
    }
  } else {
    for (uint32_t i = 0; i < n; i++) {
      if (key_is(&rec->fields[i], key)) {
        found = i;
        break;
      }
    }
  }
  if (found == UINT32_MAX) return NULL;
  if (hint) *hint = found;
  return &rec->fields[found].value;
}

/* ---- Builders -------------------------------------------------------------- */

void list_builder_init(ListBuilder *b, Arena *a, uint32_t cap_hint) {
  b->arena = a;
  b->items = NULL;
  b->n = 0;
  b->cap = 0;
  b->failed = false;
  if (cap_hint) {
    b->items = arena_alloc(a, (size_t)cap_hint * sizeof(Value));
    if (b->items)
      b->cap = cap_hint;
    else
      b->failed = true;
  }
}

bool list_builder_push(ListBuilder *b, Value v) {
  if (b->failed) return false;
  if (b->n == b->cap) {
    if (b->cap == VALUE_MAX_LEN) goto fail;
    uint32_t cap = b->cap < 8                   ? 8
                   : b->cap > VALUE_MAX_LEN / 2 ? VALUE_MAX_LEN
                                                : b->cap * 2;
    Value *items = arena_alloc(b->arena, (size_t)cap * sizeof(Value));
    if (!items) goto fail;
    if (b->n) memcpy(items, b->items, (size_t)b->n * sizeof(Value));
    b->items = items;
    b->cap = cap;
  }
  b->items[b->n++] = v;
  return true;
fail:
  b->failed = true;
  return false;
}

Value list_builder_finish(ListBuilder *b) {
  static const Value NO_ITEMS[1];
  return value_list(b->n ? b->items : NO_ITEMS, b->n);
}

Record *record_new(Arena *a, uint32_t n) {
  Record *rec = arena_alloc(a, sizeof(Record) + (size_t)n * sizeof(Field));
  if (!rec) return NULL;
  rec->n_fields = n;
  rec->cap_fields = n;
  rec->n_slots = 0;
  rec->flags = 0;
  rec->index = NULL;
  rec->arena = a;
  return rec;
}

void record_builder_init(RecordBuilder *b, Arena *a, uint32_t cap_hint) {
  b->arena = a;
  b->failed = false;
  b->rec = record_new(a, cap_hint);
  if (b->rec)
    b->rec->n_fields = 0;
  else
    b->failed = true;
}

bool record_builder_add(RecordBuilder *b, Str key, Value v) {
  if (b->failed) return false;
  Record *rec = b->rec;
  if (rec->n_fields == rec->cap_fields) {
    if (rec->cap_fields == VALUE_MAX_LEN) goto fail;
    uint32_t cap = rec->cap_fields < 8                   ? 8
                   : rec->cap_fields > VALUE_MAX_LEN / 2 ? VALUE_MAX_LEN
                                                         : rec->cap_fields * 2;
    Record *bigger = record_new(b->arena, cap);
    if (!bigger) goto fail;
    memcpy(bigger->fields, rec->fields, (size_t)rec->n_fields * sizeof(Field));
    bigger->n_fields = rec->n_fields;
    b->rec = rec = bigger;
  }
  rec->fields[rec->n_fields].key = key;
  rec->fields[rec->n_fields].value = v;
  rec->n_fields++;
  return true;
fail:
  b->failed = true;
  return false;
}

Value record_builder_finish(RecordBuilder *b) {
  /* A builder that could not even allocate its header yields an empty
  ** record; `failed` already told the caller. The static empty record is
  ** never written: with no fields, no index is ever built. */
  static Record EMPTY;
  return value_record(b->rec ? b->rec : &EMPTY);
}

/* ---- Comparison ----------------------------------------------------------- */

/* Rank of a kind in the order across kinds (value.h); ints and decimals
** share one rank because they compare by number. */
static int kind_rank(ValueKind k) {
  switch (k) {
    case VAL_NULL: return 0;
    case VAL_BOOL: return 1;
    case VAL_INT:
    case VAL_DECIMAL: return 2;
    case VAL_NUMTEXT: return 3;
    case VAL_STRING: return 4;
    case VAL_DATE: return 5;
    case VAL_DATETIME: return 6;
    case VAL_LIST: return 7;
    case VAL_RECORD: return 8;
    case VAL__COUNT: break;
  }
  return 9;
}

/* Numbers as (coefficient, scale) in 128 bits: an int is (i, 0). */
static int compare_numbers(Value a, Value b) {
  int sa = a.kind == VAL_DECIMAL ? a.aux : 0, sb = b.kind == VAL_DECIMAL ? b.aux : 0;
  int scale = sa > sb ? sa : sb;
  static const int64_t P10[19] = {1,
                                  10,
                                  100,
                                  1000,
                                  10000,
                                  100000,
                                  1000000,
                                  10000000,
                                  100000000,
                                  1000000000,
                                  10000000000,
                                  100000000000,
                                  1000000000000,
                                  10000000000000,
                                  100000000000000,
                                  1000000000000000,
                                  10000000000000000,
                                  100000000000000000,
                                  1000000000000000000};
  /* |int64| * 10^18 < 2^126: exact. */
  i128 x = (i128)a.as.i * P10[scale - sa], y = (i128)b.as.i * P10[scale - sb];
  return (x > y) - (x < y);
}

static int compare_bytes(Str a, Str b) {
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
  if (c) return c < 0 ? -1 : 1;
  return (a.len > b.len) - (a.len < b.len);
}

int value_compare(Value a, Value b) {
  int ra = kind_rank((ValueKind)a.kind), rb = kind_rank((ValueKind)b.kind);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch ((ValueKind)a.kind) {
    case VAL_NULL: return 0;
    case VAL_BOOL: return (a.as.b > b.as.b) - (a.as.b < b.as.b);
    case VAL_INT:
    case VAL_DECIMAL: return compare_numbers(a, b);
    case VAL_NUMTEXT:
    case VAL_STRING: return compare_bytes(value_as_str(a), value_as_str(b));
    case VAL_DATE: return (a.as.days > b.as.days) - (a.as.days < b.as.days);
    case VAL_DATETIME: return datetime_cmp(value_as_datetime(a), value_as_datetime(b));
    case VAL_LIST: {
      uint32_t n = a.len < b.len ? a.len : b.len;
      for (uint32_t i = 0; i < n; i++) {
        int c = value_compare(a.as.items[i], b.as.items[i]);
        if (c) return c;
      }
      return (a.len > b.len) - (a.len < b.len);
    }
    case VAL_RECORD: {
      uint32_t n = a.len < b.len ? a.len : b.len;
      for (uint32_t i = 0; i < n; i++) {
        const Field *fa = &a.as.rec->fields[i], *fb = &b.as.rec->fields[i];
        int c = compare_bytes(fa->key, fb->key);
        if (!c) c = value_compare(fa->value, fb->value);
        if (c) return c;
      }
      return (a.len > b.len) - (a.len < b.len);
    }
    case VAL__COUNT: break;
  }
  return 0;
}

bool value_equal(Value a, Value b) {
  /* The common cases without the general machinery. */
  if (a.kind == b.kind) {
    switch ((ValueKind)a.kind) {
      case VAL_NULL: return true;
      case VAL_BOOL: return a.as.b == b.as.b;
      case VAL_INT: return a.as.i == b.as.i;
      case VAL_STRING:
      case VAL_NUMTEXT: return a.len == b.len && memcmp(a.as.str, b.as.str, a.len) == 0;
      case VAL_DATE: return a.as.days == b.as.days;
      case VAL_DECIMAL:
      case VAL_LIST:
      case VAL_RECORD:
      case VAL_DATETIME:
      case VAL__COUNT: break;
    }
  }
  return value_compare(a, b) == 0;
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
  return h;
}

uint64_t value_hash(Value v) {
  switch ((ValueKind)v.kind) {
    case VAL_NULL: return 0x6e756c6c;
    case VAL_BOOL: return v.as.b ? 0x74727565 : 0x66616c73;
    case VAL_INT:
    case VAL_DECIMAL: {
      /* Equal numbers hash alike: use the reduced decimal when there is one. */
      Decimal d;
      if (v.kind == VAL_DECIMAL)
        d = decimal_reduce(value_as_decimal(v));
      else if (decimal_from_int(v.as.i, &d) != DECIMAL_OK)
        return mix(0x696e74, (uint64_t)v.as.i);
      return mix(mix(0x6e756d, (uint64_t)d.coef), (uint64_t)d.scale);
    }
    case VAL_STRING: return mix(0x737472, hash_bytes(v.as.str, v.len));
    case VAL_NUMTEXT: return mix(0x6e7478, hash_bytes(v.as.str, v.len));
    case VAL_DATE: return mix(0x64617465, (uint64_t)v.as.days);
    case VAL_DATETIME: return mix(mix(0x6474, (uint64_t)v.as.i), v.len);
    case VAL_LIST: {
      uint64_t h = mix(0x6c697374, v.len);
      for (uint32_t i = 0; i < v.len; i++) h = mix(h, value_hash(v.as.items[i]));
      return h;
    }
    case VAL_RECORD: {
      uint64_t h = mix(0x726563, v.len);
      for (uint32_t i = 0; i < v.len; i++) {
        const Field *f = &v.as.rec->fields[i];
        h = mix(mix(h, hash_bytes(f->key.ptr, f->key.len)), value_hash(f->value));
      }
      return h;
    }
    case VAL__COUNT: break;
  }
  return 0;
}

/* ---- Names ---------------------------------------------------------------- */

const char *value_kind_name(ValueKind kind) {
  switch (kind) {
    case VAL_NULL: return "null";
    case VAL_BOOL: return "bool";
    case VAL_INT: return "int";
    case VAL_DECIMAL: return "decimal";
    case VAL_STRING: return "string";
    case VAL_LIST: return "list";
    case VAL_RECORD: return "record";
    case VAL_DATE: return "date";
    case VAL_DATETIME: return "datetime";
    case VAL_NUMTEXT: return "number";
    case VAL__COUNT: break;
  }
  return "?";
}

/* Append the type of `v` to `b`. A list names its element type when the
** elements agree on it; ints among decimals count as decimals, since an
** int widens to a decimal wherever one is expected. */
static void type_name(Value v, Buf *b) {
  if (v.kind == VAL_NUMTEXT) {
    buf_puts(b, "number too long for a decimal");
    return;
  }
  if (v.kind != VAL_LIST) {
    buf_puts(b, value_kind_name((ValueKind)v.kind));
    return;
  }
  if (v.len == 0) {
    buf_puts(b, "empty list");
    return;
  }
  Buf elem, other;
  buf_init(&elem, 1024);
  buf_init(&other, 1024);
  type_name(v.as.items[0], &elem);
  bool same = true;
  for (uint32_t i = 1; i < v.len && same; i++) {
    buf_reset(&other);
    type_name(v.as.items[i], &other);
    if (str_eq(buf_str(&elem), buf_str(&other))) continue;
    if (str_eq_cstr(buf_str(&elem), "int") && str_eq_cstr(buf_str(&other), "decimal")) {
      buf_reset(&elem);
      buf_puts(&elem, "decimal");
    } else if (!(str_eq_cstr(buf_str(&elem), "decimal") &&
                 str_eq_cstr(buf_str(&other), "int"))) {
      same = false;
    }
  }
  if (same) {
    buf_puts(b, "list of ");
    buf_append_str(b, buf_str(&elem));
  } else {
    buf_puts(b, "list of mixed values");
  }
  buf_fini(&elem);
  buf_fini(&other);
}

const char *value_type_name(Value v, char *out, size_t size) {
  Buf b;
  buf_init(&b, 4096);
  type_name(v, &b);
  snprintf(out, size, "%s", buf_cstr(&b));
  buf_fini(&b);
  return out;
}

/* ---- Debug printing ------------------------------------------------------- */

static void debug_string(Str s, Buf *out) {
  buf_putc(out, '"');
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char)s.ptr[i];
    if (c == '"' || c == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)c);
    } else if (c < 0x20 || c == 0x7f) {
      buf_printf(out, "\\u%04x", c);
    } else {
      buf_putc(out, (char)c);
    }
  }
  buf_putc(out, '"');
}

void value_debug(Value v, Buf *out) {
  char text[DATETIME_TEXT_SIZE + DECIMAL_TEXT_SIZE];
  switch ((ValueKind)v.kind) {
    case VAL_NULL: buf_puts(out, "null"); return;
    case VAL_BOOL: buf_puts(out, v.as.b ? "true" : "false"); return;
    case VAL_INT: buf_printf(out, "%lld", (long long)v.as.i); return;
    case VAL_DECIMAL:
      decimal_format(value_as_decimal(v), text);
      /* "7" would read as an int: say so when there is no point. */
      if (v.aux == 0)
        buf_printf(out, "decimal(%s)", text);
      else
        buf_puts(out, text);
      return;
    case VAL_STRING: debug_string(value_as_str(v), out); return;
    case VAL_NUMTEXT: buf_printf(out, "numtext(%.*s)", STR_FMT(value_as_str(v))); return;
    case VAL_DATE:
      date_format_iso(v.as.days, text);
      buf_printf(out, "date(%s)", text);
      return;
    case VAL_DATETIME:
      datetime_format_iso(value_as_datetime(v), text);
      buf_printf(out, "datetime(%s)", text);
      return;
    case VAL_LIST:
      buf_putc(out, '[');
      for (uint32_t i = 0; i < v.len; i++) {
        if (i) buf_puts(out, ", ");
        value_debug(v.as.items[i], out);
      }
      buf_putc(out, ']');
      return;
    case VAL_RECORD:
      buf_putc(out, '{');
      for (uint32_t i = 0; i < v.len; i++) {
        const Field *f = &v.as.rec->fields[i];
        if (i) buf_puts(out, ", ");
        debug_string(f->key, out);
        buf_puts(out, ": ");
        value_debug(f->value, out);
      }
      buf_putc(out, '}');
      return;
    case VAL__COUNT: break;
  }
  buf_puts(out, "<bad value>");
}

/* ---- Copying --------------------------------------------------------------- */

bool value_copy(Arena *dst, Value v, Value *out) {
  switch ((ValueKind)v.kind) {
    case VAL_STRING:
    case VAL_NUMTEXT: {
      Value s;
      if (!value_string_copy(dst, value_as_str(v), &s)) return false;
      s.kind = v.kind;
      s.aux = v.aux;
      *out = s;
      return true;
    }
    case VAL_LIST: {
      Value *items = arena_alloc(dst, (v.len ? v.len : 1) * sizeof(Value));
      if (!items) return false;
      for (uint32_t i = 0; i < v.len; i++)
        if (!value_copy(dst, v.as.items[i], &items[i])) return false;
      *out = value_list(items, v.len);
      return true;
    }
    case VAL_RECORD: {
      Record *rec = record_new(dst, v.len);
      if (!rec) return false;
      rec->flags = v.as.rec->flags;
      for (uint32_t i = 0; i < v.len; i++) {
        const Field *f = &v.as.rec->fields[i];
        Value key;
        if (!value_string_copy(dst, f->key, &key) ||
            !value_copy(dst, f->value, &rec->fields[i].value))
          return false;
        rec->fields[i].key = value_as_str(key);
      }
      *out = value_record(rec);
      return true;
    }
    case VAL_NULL:
    case VAL_BOOL:
    case VAL_INT:
    case VAL_DECIMAL:
    case VAL_DATE:
    case VAL_DATETIME:
    case VAL__COUNT: break;
  }
  *out = v;
  return true;
}
