/*
** The registry of stdlib functions (from stdlib.def) and what the family
** files share: argument checks, messages, results, UTF-8, and the text
** form of values that interpolation and string() both use.
*/
#include "stdlib/stdlib.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/json_value.h"
#include "stdlib/std_int.h"

const StdEntry std_functions[STD__COUNT] = {
#define FN(name, family, signature, doc) {#name, #family, signature, doc, std_##name},
#include "stdlib/stdlib.def"
#undef FN
};

const StdEntry *std_lookup(Str name) {
  for (size_t i = 0; i < STD__COUNT; i++) {
    if (str_eq_cstr(name, std_functions[i].name)) return &std_functions[i];
  }
  return NULL;
}

/* ---- Errors ------------------------------------------------------------- */

bool std_fail(StdCall *call, const char *fmt, ...) {
  va_list ap;
  buf_reset(call->error);
  va_start(ap, fmt);
  buf_vprintf(call->error, fmt, ap);
  va_end(ap);
  return false;
}

bool std_fail_memory(StdCall *call) {
  return std_fail(call, "the memory limit of one record is reached");
}

const char *std_show(Value v, char out[STD_SHOW_SIZE]) {
  char text[DECIMAL_TEXT_SIZE + DATETIME_TEXT_SIZE];
  switch (value_kind(v)) {
  case VAL_STRING: {
    /* Cut at a character boundary after at most 40 characters; control
    ** characters would garble a one-line message, so they become `?`. */
    Str s = value_as_str(v);
    size_t o = 0, chars = 0, i = 0;
    out[o++] = '`';
    while (i < s.len && chars < 40 && o < STD_SHOW_SIZE - 8) {
      size_t n;
      uint32_t cp = utf8_decode(s.ptr + i, s.len - i, &n);
      if (cp == UTF8_INVALID || cp < 0x20 || cp == 0x7F) {
        out[o++] = '?';
      } else {
        memcpy(out + o, s.ptr + i, n);
        o += n;
      }
      i += n;
      chars++;
    }
    if (i < s.len) {
      memcpy(out + o, "\xE2\x80\xA6", 3); /* … */
      o += 3;
    }
    out[o++] = '`';
    out[o] = '\0';
    return out;
  }
  case VAL_INT:
    snprintf(out, STD_SHOW_SIZE, "%" PRId64, v.as.i);
    return out;
  case VAL_DECIMAL:
    decimal_format(value_as_decimal(v), text);
    snprintf(out, STD_SHOW_SIZE, "%s", text);
    return out;
  case VAL_DATE:
    date_format_iso(v.as.days, text);
    snprintf(out, STD_SHOW_SIZE, "%s", text);
    return out;
  case VAL_DATETIME:
    datetime_format_iso(value_as_datetime(v), text);
    snprintf(out, STD_SHOW_SIZE, "%s", text);
    return out;
  case VAL_BOOL:
    snprintf(out, STD_SHOW_SIZE, "%s", v.as.b ? "true" : "false");
    return out;
  case VAL_NULL:
    snprintf(out, STD_SHOW_SIZE, "null");
    return out;
  case VAL_NUMTEXT:
  case VAL_LIST:
  case VAL_RECORD:
  case VAL__COUNT:
    break;
  }
  char type[STD_SHOW_SIZE - 8];
  value_type_name(v, type, sizeof type);
  snprintf(out, STD_SHOW_SIZE, "%s %s", type[0] && strchr("aeiou", type[0]) ? "an" : "a", type);
  return out;
}

/* "`abc` (a string)" style description of a wrong argument. */
static bool wrong_kind(StdCall *call, const char *name, Value v, const char *expected) {
  char shown[STD_SHOW_SIZE], type[64];
  value_type_name(v, type, sizeof type);
  if (value_kind(v) == VAL_LIST || value_kind(v) == VAL_RECORD || value_kind(v) == VAL_NULL)
    return std_fail(call, "`%s` must be %s, not %s", name, expected, std_show(v, shown));
  return std_fail(call, "`%s` must be %s, not %s %s", name, expected, type,
                  std_show(v, shown));
}

/* ---- Arguments ------------------------------------------------------------ */

bool std_arg_int(StdCall *call, uint32_t i, const char *name, int64_t *out) {
  Value v = call->args[i];
  if (value_kind(v) != VAL_INT) return wrong_kind(call, name, v, "an integer");
  *out = v.as.i;
  return true;
}

bool std_arg_decimal(StdCall *call, uint32_t i, const char *name, Decimal *out) {
  Value v = call->args[i];
  char shown[STD_SHOW_SIZE];
  switch (value_kind(v)) {
  case VAL_DECIMAL:
    *out = value_as_decimal(v);
    return true;
  case VAL_INT:
    if (decimal_from_int(v.as.i, out) != DECIMAL_OK)
      return std_fail(call, "`%s` is %s, which has more than 18 digits", name,
                      std_show(v, shown));
    return true;
  case VAL_NUMTEXT:
    return std_fail(call, "`%s` is %.*s, which has more digits than a decimal holds", name,
                    (int)IEX_MIN(v.len, 60), v.as.str);
  default:
    return wrong_kind(call, name, v, "a number");
  }
}

bool std_arg_str(StdCall *call, uint32_t i, const char *name, Str *out) {
  Value v = call->args[i];
  if (value_kind(v) != VAL_STRING) return wrong_kind(call, name, v, "a string");
  *out = value_as_str(v);
  return true;
}

bool std_arg_list(StdCall *call, uint32_t i, const char *name, const Value **items,
                  uint32_t *n) {
  Value v = call->args[i];
  if (value_kind(v) == VAL_NULL) {
    *items = NULL;
    *n = 0;
    return true;
  }
  if (value_kind(v) != VAL_LIST) return wrong_kind(call, name, v, "a list");
  *items = v.as.items;
  *n = v.len;
  return true;
}

bool std_arg_rounding(StdCall *call, uint32_t i, Rounding *out) {
  Value v = call->args[i];
  if (value_kind(v) == VAL_NULL) {
    *out = call->rounding;
    return true;
  }
  if (value_kind(v) == VAL_STRING) {
    Str s = value_as_str(v);
    if (str_eq_cstr(s, "flow")) {
      *out = call->rounding;
      return true;
    }
    if (rounding_from_name(s, out)) return true;
  }
  char shown[STD_SHOW_SIZE];
  return std_fail(call,
                  "%s is not a rounding rule (half_up, half_even, half_away_from_zero, "
                  "half_down, down)",
                  std_show(v, shown));
}

bool std_arg_day(StdCall *call, uint32_t i, const char *name, int32_t *out) {
  Value v = call->args[i];
  if (value_kind(v) == VAL_DATE) {
    *out = v.as.days;
    return true;
  }
  if (value_kind(v) == VAL_DATETIME) {
    *out = datetime_local_date(value_as_datetime(v));
    return true;
  }
  return wrong_kind(call, name, v, "a date or datetime");
}

bool std_arg_keys(StdCall *call, uint32_t i, uint32_t n_values, const Value **keys) {
  Value v = call->args[i];
  uint32_t n = 0;
  *keys = NULL;
  if (value_kind(v) == VAL_LIST) {
    *keys = v.as.items;
    n = v.len;
  } else if (value_kind(v) != VAL_NULL) {
    return wrong_kind(call, "key list", v, "a list");
  }
  if (n != n_values)
    return std_fail(call, "%" PRIu32 " keys were computed for %" PRIu32 " values", n,
                    n_values);
  return true;
}

/* ---- Results ---------------------------------------------------------------- */

bool std_return_str(StdCall *call, Str s, Value *out) {
  if (s.len > STD_MAX_TEXT_BYTES)
    return std_fail(call, "the result would be longer than the limit of %zu MiB",
                    STD_MAX_TEXT_BYTES >> 20);
  if (!value_string_copy(call->arena, s, out)) return std_fail_memory(call);
  return true;
}

bool std_return_buf(StdCall *call, Buf *b, Value *out) {
  if (!buf_ok(b))
    return std_fail(call, "the result would be longer than the limit of %zu MiB",
                    STD_MAX_TEXT_BYTES >> 20);
  return std_return_str(call, buf_str(b), out);
}

bool std_return_decimal(StdCall *call, DecimalStatus st, Decimal d, const char *what,
                        Value *out) {
  if (st != DECIMAL_OK) return std_fail(call, "%s: %s", what, decimal_status_message(st));
  *out = value_decimal(d);
  return true;
}

bool std_is_space(uint32_t cp) {
  switch (cp) {
  case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
  case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
  case 0x205F: case 0x3000: case 0xFEFF:
    return true;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

/* ---- Text ------------------------------------------------------------------ */

bool std_write_text(Value v, Buf *out) {
  char text[DECIMAL_TEXT_SIZE + DATETIME_TEXT_SIZE];
  switch (value_kind(v)) {
  case VAL_NULL:
    return true;
  case VAL_BOOL:
    return buf_puts(out, v.as.b ? "true" : "false");
  case VAL_INT:
    return buf_printf(out, "%" PRId64, v.as.i);
  case VAL_DECIMAL:
    decimal_format(value_as_decimal(v), text);
    return buf_puts(out, text);
  case VAL_STRING:
  case VAL_NUMTEXT:
    return buf_append_str(out, value_as_str(v));
  case VAL_DATE:
    date_format_iso(v.as.days, text);
    return buf_puts(out, text);
  case VAL_DATETIME:
    datetime_format_iso(value_as_datetime(v), text);
    return buf_puts(out, text);
  case VAL_LIST:
  case VAL_RECORD:
    return jsonv_encode(v, out, NULL);
  case VAL__COUNT:
    break;
  }
  return false;
}
