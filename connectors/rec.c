/*
** Records for connectors: field paths, small builders and copies
** (connectors/rec.h).
*/
#include "connectors/rec.h"
#include "common/datetime.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The field `key` (len bytes) of `rec`, exact or ignoring case. */
static const Value *field_of(Value rec, const char *key, size_t len,
                             bool ignore_case) {
  if (rec.kind != VAL_RECORD) return NULL;
  if (!ignore_case) return value_field(rec, str_make(key, len), NULL);
  for (uint32_t i = 0; i < rec.len; i++) {
    const Field *f = value_field_at(rec, i);
    if (f->key.len == len && strncasecmp(f->key.ptr, key, len) == 0)
      return &f->value;
  }
  return NULL;
}

static Value get_path(Value rec, const char *path, bool ignore_case) {
  Value cur = rec;
  const char *p = path;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    const Value *v = field_of(cur, p, len, ignore_case);
    if (!v) return value_null();
    cur = *v;
    if (!dot) return cur;
    p = dot + 1;
  }
}

Value rec_get(Value rec, const char *path) { return get_path(rec, path, false); }
Value rec_geti(Value rec, const char *path) { return get_path(rec, path, true); }

const char *rec_text(Arena *a, Value v) {
  char num[DECIMAL_TEXT_SIZE];
  switch ((ValueKind)v.kind) {
    case VAL_STRING:
    case VAL_NUMTEXT:
      return arena_strndup(a, v.as.str, v.len);
    case VAL_INT:
      return arena_printf(a, "%lld", (long long)v.as.i);
    case VAL_DECIMAL:
      decimal_format(value_as_decimal(v), num);
      return arena_strndup(a, num, strlen(num));
    /* Flows compute dates (`date(order.processed_at)`); systems take
    ** them as ISO text. */
    case VAL_DATE: {
      char d[DATE_TEXT_SIZE];
      size_t n = date_format_iso(v.as.days, d);
      return arena_strndup(a, d, n);
    }
    case VAL_DATETIME: {
      char d[DATETIME_TEXT_SIZE];
      size_t n = datetime_format_iso(value_as_datetime(v), d);
      return arena_strndup(a, d, n);
    }
    case VAL_NULL:
    case VAL_BOOL:
    case VAL_LIST:
    case VAL_RECORD:
    case VAL__COUNT:
      break;
  }
  return NULL;
}

bool rec_decimal(Value v, Decimal *out) {
  if (v.kind == VAL_DECIMAL) { *out = value_as_decimal(v); return true; }
  if (v.kind == VAL_INT) return decimal_from_int(v.as.i, out) == DECIMAL_OK;
  if (v.kind == VAL_STRING && v.len > 0) {
    const char *why = NULL;
    return decimal_parse(value_as_str(v), out, &why) == DECIMAL_OK;
  }
  return false;
}

bool rec_int(Value v, int64_t *out) {
  if (v.kind == VAL_INT) { *out = v.as.i; return true; }
  Decimal d;
  if ((v.kind == VAL_DECIMAL || v.kind == VAL_STRING) && rec_decimal(v, &d) &&
      decimal_is_integer(d)) {
    *out = decimal_to_int(d, ROUND_DOWN);
    return true;
  }
  return false;
}

bool rec_true(Value v) { return v.kind == VAL_BOOL && v.as.b; }

Value rec_str(Arena *a, const char *s) {
  size_t n = strlen(s);
  char *p = arena_strndup(a, s, n);
  return p ? value_string(p, n) : value_null();
}

Value rec_strf(Arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[1];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) { va_end(ap); return value_null(); }
  char *p = arena_alloc(a, (size_t)n + 1);
  if (!p) { va_end(ap); return value_null(); }
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return value_string(p, (size_t)n);
}

Value rec_make(Arena *a, ...) {
  RecordBuilder b;
  record_builder_init(&b, a, 8);
  va_list ap;
  va_start(ap, a);
  for (;;) {
    const char *key = va_arg(ap, const char *);
    if (!key) break;
    Value v = va_arg(ap, Value);
    if (v.kind != VAL_NULL) record_builder_add(&b, str_from_cstr(key), v);
  }
  va_end(ap);
  return b.failed ? value_null() : record_builder_finish(&b);
}

Value rec_set(Arena *a, Value rec, const char *key, Value v) {
  Str k = str_from_cstr(key);
  uint32_t n = rec.kind == VAL_RECORD ? rec.len : 0;
  RecordBuilder b;
  record_builder_init(&b, a, n + 1);
  bool done = false;
  for (uint32_t i = 0; i < n; i++) {
    const Field *f = value_field_at(rec, i);
    if (str_eq(f->key, k)) {
      record_builder_add(&b, f->key, v);
      done = true;
    } else {
      record_builder_add(&b, f->key, f->value);
    }
  }
  if (!done) record_builder_add(&b, k, v);
  return b.failed ? value_null() : record_builder_finish(&b);
}

Value rec_set_path(Arena *a, Value rec, const char *path, Value v) {
  const char *dot = strchr(path, '.');
  if (!dot) return rec_set(a, rec, path, v);
  char *head = arena_strndup(a, path, (size_t)(dot - path));
  if (!head) return value_null();
  Value inner = rec_get(rec, head);
  return rec_set(a, rec, head, rec_set_path(a, inner, dot + 1, v));
}

Value rec_drop(Arena *a, Value rec, const char *key) {
  if (rec.kind != VAL_RECORD) return rec;
  Str k = str_from_cstr(key);
  RecordBuilder b;
  record_builder_init(&b, a, rec.len);
  for (uint32_t i = 0; i < rec.len; i++) {
    const Field *f = value_field_at(rec, i);
    if (!str_eq(f->key, k)) record_builder_add(&b, f->key, f->value);
  }
  return b.failed ? value_null() : record_builder_finish(&b);
}

/* Deep copy of lists and records, dropping null fields and/or lowering the
** first letter of keys. */
static Value transform(Arena *a, Value v, bool drop_nulls, bool camel) {
  if (v.kind == VAL_LIST) {
    ListBuilder lb;
    list_builder_init(&lb, a, v.len);
    for (uint32_t i = 0; i < v.len; i++)
      list_builder_push(&lb, transform(a, v.as.items[i], drop_nulls, camel));
    return lb.failed ? value_null() : list_builder_finish(&lb);
  }
  if (v.kind != VAL_RECORD) return v;
  RecordBuilder b;
  record_builder_init(&b, a, v.len);
  for (uint32_t i = 0; i < v.len; i++) {
    const Field *f = value_field_at(v, i);
    if (drop_nulls && f->value.kind == VAL_NULL) continue;
    Str key = f->key;
    if (camel && key.len > 0 && isupper((unsigned char)key.ptr[0])) {
      char *k = arena_strndup(a, key.ptr, key.len);
      if (!k) return value_null();
      k[0] = (char)tolower((unsigned char)k[0]);
      key = str_make(k, key.len);
    }
    record_builder_add(&b, key, transform(a, f->value, drop_nulls, camel));
  }
  return b.failed ? value_null() : record_builder_finish(&b);
}

Value rec_drop_nulls(Arena *a, Value v) { return transform(a, v, true, false); }
Value rec_camel(Arena *a, Value v) { return transform(a, v, false, true); }

Value rec_list(Arena *a, const Value *items, size_t n) {
  Value *copy = arena_alloc(a, sizeof(Value) * (n ? n : 1));
  if (!copy) return value_null();
  if (n) memcpy(copy, items, sizeof(Value) * n);
  return value_list(copy, n);
}

Value rec_append(Arena *a, Value list, Value v) {
  uint32_t n = list.kind == VAL_LIST ? list.len : 0;
  Value *items = arena_alloc(a, sizeof(Value) * (n + 1));
  if (!items) return value_null();
  if (n) memcpy(items, list.as.items, sizeof(Value) * n);
  items[n] = v;
  return value_list(items, n + 1);
}

const char *rec_urlencode(Arena *a, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = arena_alloc(a, n * 3 + 1);
  if (!out) return NULL;
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

const char *rec_shop_resource(const char *record_type, bool *refunds) {
  *refunds = strcmp(record_type, "refund") == 0;
  if (strcmp(record_type, "order") == 0 || *refunds) return "orders";
  if (strcmp(record_type, "customer") == 0) return "customers";
  if (strcmp(record_type, "product") == 0) return "products";
  return NULL;
}
