/*
** String functions of the standard library (stdlib.def, "Strings").
**
** Positions, lengths and widths count characters (Unicode code points),
** never bytes, so length("Kjær") is 4 and truncate() never cuts a
** character in half. Case mapping covers Latin (with the Extended-A,
** Extended-B parts used by European languages and Vietnamese), Greek and
** Cyrillic, the scripts of the addresses iex sees; other characters are
** left as they are. Results that are part of an argument (trim,
** substring, truncate) share its bytes instead of copying them.
*/
#include <inttypes.h>
#include <string.h>

#include "stdlib/std_int.h"

/* ---- Case mapping ------------------------------------------------------ */

/* Upper-case of `cp`, or `cp` when it has none (ß is handled by callers). */
static uint32_t to_upper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  if (cp < 0x100) {
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
    if (cp == 0xFF) return 0x178;
    if (cp == 0xB5) return 0x39C;
    return cp;
  }
  if (cp <= 0x17F) {
    if (cp == 0x131) return 'I';
    if (cp == 0x17F) return 'S';
    if ((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) ||
        (cp >= 0x14A && cp <= 0x177))
      return (cp & 1) ? cp - 1 : cp;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
      return (cp & 1) ? cp : cp - 1;
    return cp;
  }
  if ((cp >= 0x200 && cp <= 0x21F) || (cp >= 0x222 && cp <= 0x233))
    return (cp & 1) ? cp - 1 : cp;
  if (cp >= 0x370 && cp <= 0x3FF) {
    if (cp >= 0x3B1 && cp <= 0x3CB && cp != 0x3C2) return cp - 32;
    if (cp == 0x3C2) return 0x3A3; /* final sigma */
    if (cp == 0x3AC) return 0x386;
    if (cp >= 0x3AD && cp <= 0x3AF) return cp - 37;
    if (cp == 0x3CC) return 0x38C;
    if (cp == 0x3CD || cp == 0x3CE) return cp - 63;
    return cp;
  }
  if (cp >= 0x400 && cp <= 0x52F) {
    if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
    if (cp >= 0x450 && cp <= 0x45F) return cp - 80;
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) ||
        (cp >= 0x4D0 && cp <= 0x52F))
      return (cp & 1) ? cp - 1 : cp;
    if (cp == 0x4CF) return 0x4C0;
    if (cp >= 0x4C1 && cp <= 0x4CE) return (cp & 1) ? cp : cp - 1;
    return cp;
  }
  if ((cp >= 0x1E00 && cp <= 0x1E95) || (cp >= 0x1EA0 && cp <= 0x1EFF))
    return (cp & 1) ? cp - 1 : cp;
  return cp;
}

/* Lower-case of `cp`, or `cp` when it has none. */
static uint32_t to_lower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp < 0x100) {
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    return cp;
  }
  if (cp <= 0x17F) {
    if (cp == 0x130) return 'i';
    if (cp == 0x178) return 0xFF;
    if ((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) ||
        (cp >= 0x14A && cp <= 0x177))
      return (cp & 1) ? cp : cp + 1;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
      return (cp & 1) ? cp + 1 : cp;
    return cp;
  }
  if ((cp >= 0x200 && cp <= 0x21F) || (cp >= 0x222 && cp <= 0x233))
    return (cp & 1) ? cp : cp + 1;
  if (cp >= 0x370 && cp <= 0x3FF) {
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 63;
    return cp;
  }
  if (cp >= 0x400 && cp <= 0x52F) {
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) ||
        (cp >= 0x4D0 && cp <= 0x52F))
      return (cp & 1) ? cp : cp + 1;
    if (cp == 0x4C0) return 0x4CF;
    if (cp >= 0x4C1 && cp <= 0x4CE) return (cp & 1) ? cp + 1 : cp;
    return cp;
  }
  if ((cp >= 0x1E00 && cp <= 0x1E95) || (cp >= 0x1EA0 && cp <= 0x1EFF))
    return (cp & 1) ? cp : cp + 1;
  return cp;
}

/* Letters and digits, for word boundaries (capitalize) and final sigma.
** Everything cased, ASCII digits, and any other character from U+00C0 up
** that is not white space or general punctuation (so CJK and the like
** count as letters). */
static bool is_word_char(uint32_t cp) {
  if (cp == UTF8_INVALID) return false;
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
  if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (std_is_space(cp)) return false;
  if (cp >= 0x2000 && cp <= 0x206F) return false; /* general punctuation */
  if (cp >= 0x3000 && cp <= 0x303F) return false; /* CJK punctuation */
  return true;
}

/* An apostrophe inside a word ("O'Brien", "d’Artagnan") does not start a
** new word. */
static bool is_apostrophe(uint32_t cp) { return cp == '\'' || cp == 0x2019; }

typedef enum CaseMode { CASE_UPPER, CASE_LOWER, CASE_TITLE } CaseMode;

static bool put_upper(Buf *b, uint32_t cp) {
  if (cp == 0xDF) return buf_append(b, "SS", 2); /* Straße -> STRASSE */
  return utf8_put(b, to_upper(cp));
}

/* The lower case of Σ is ς at the end of a word (a letter before it and
** none after it), σ elsewhere. */
static uint32_t lower_at(Str s, size_t i, size_t n, uint32_t cp, bool after_letter) {
  if (cp != 0x3A3) return to_lower(cp);
  if (!after_letter) return 0x3C3;
  size_t m;
  if (i + n < s.len &&
      is_word_char(utf8_decode(s.ptr + i + n, s.len - i - n, &m)))
    return 0x3C3;
  return 0x3C2;
}

static bool map_case(StdCall *call, CaseMode mode, Value *out) {
  Value v = call->args[0];
  if (value_is_null(v)) {
    *out = v;
    return true;
  }
  Str s;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  bool in_word = false;
  size_t n;
  for (size_t i = 0; i < s.len; i += n) {
    uint32_t cp = utf8_decode(s.ptr + i, s.len - i, &n);
    if (cp == UTF8_INVALID) {
      buf_append(&b, s.ptr + i, 1);
      in_word = false;
      continue;
    }
    bool upper = mode == CASE_UPPER || (mode == CASE_TITLE && !in_word);
    if (upper)
      put_upper(&b, cp);
    else
      utf8_put(&b, lower_at(s, i, n, cp, in_word));
    in_word = is_word_char(cp) || (in_word && is_apostrophe(cp));
  }
  bool ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

bool std_upper(StdCall *call, Value *out) { return map_case(call, CASE_UPPER, out); }
bool std_lower(StdCall *call, Value *out) { return map_case(call, CASE_LOWER, out); }
bool std_capitalize(StdCall *call, Value *out) { return map_case(call, CASE_TITLE, out); }

/* ---- Pieces of text --------------------------------------------------------- */

/* `s` without white space at either end. */
static Str trimmed(Str s) {
  size_t start = 0, end = 0, n;
  for (size_t i = 0; i < s.len; i += n) {
    uint32_t cp = utf8_decode(s.ptr + i, s.len - i, &n);
    if (!std_is_space(cp)) {
      if (end == 0) start = i;
      end = i + n;
    }
  }
  return str_make(s.ptr + start, end - start);
}

/* A string result that is part of the argument's bytes (no copy). */
static Value view(Str s) { return value_string(s.ptr, s.len); }

bool std_trim(StdCall *call, Value *out) {
  Str s;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  *out = view(trimmed(s));
  return true;
}

bool std_nonempty(StdCall *call, Value *out) {
  Str s;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  *out = trimmed(s).len == 0 ? value_null() : call->args[0];
  return true;
}

bool std_length(StdCall *call, Value *out) {
  Value v = call->args[0];
  switch (value_kind(v)) {
  case VAL_NULL:
    *out = value_int(0);
    return true;
  case VAL_STRING: {
    Str s = value_as_str(v);
    *out = value_int((int64_t)utf8_count(s.ptr, s.len));
    return true;
  }
  case VAL_LIST:
    *out = value_int(v.len);
    return true;
  default: {
    char shown[STD_SHOW_SIZE];
    return std_fail(call, "length() needs a string or a list, not %s", std_show(v, shown));
  }
  }
}

static bool arg_count(StdCall *call, uint32_t i, const char *name, int64_t *out) {
  if (!std_arg_int(call, i, name, out)) return false;
  if (*out < 0) return std_fail(call, "`%s` is %" PRId64 ", which is negative", name, *out);
  return true;
}

bool std_substring(StdCall *call, Value *out) {
  Str s;
  int64_t start, length = -1;
  if (!arg_count(call, 1, "start", &start)) return false;
  if (!value_is_null(call->args[2]) && !arg_count(call, 2, "length", &length)) return false;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  size_t from = utf8_offset(s.ptr, s.len, (size_t)IEX_MIN(start, (int64_t)s.len));
  Str rest = str_make(s.ptr + from, s.len - from);
  if (length >= 0)
    rest.len = utf8_offset(rest.ptr, rest.len, (size_t)IEX_MIN(length, (int64_t)rest.len));
  *out = view(rest);
  return true;
}

bool std_truncate(StdCall *call, Value *out) {
  Str s;
  int64_t max;
  if (!arg_count(call, 1, "max", &max)) return false;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  s.len = utf8_offset(s.ptr, s.len, (size_t)IEX_MIN(max, (int64_t)s.len));
  *out = view(s);
  return true;
}

/* The first occurrence of `needle` in `hay` at or after byte `from`, or
** SIZE_MAX. `needle` is not empty. Valid UTF-8 cannot match in the middle
** of a character, so byte search is character search. */
static size_t find_bytes(Str hay, Str needle, size_t from) {
  if (needle.len > hay.len) return SIZE_MAX;
  const char *p = memmem(hay.ptr + from, hay.len - from, needle.ptr, needle.len);
  return p ? (size_t)(p - hay.ptr) : SIZE_MAX;
}

bool std_split(StdCall *call, Value *out) {
  Str s, sep;
  if (!std_arg_str(call, 1, "separator", &sep)) return false;
  ListBuilder lb;
  if (value_is_null(call->args[0])) {
    *out = value_list(NULL, 0);
    return true;
  }
  if (!std_arg_str(call, 0, "text", &s)) return false;
  list_builder_init(&lb, call->arena, 4);
  if (s.len == 0) {
    /* "" has no pieces: splitting an empty field gives an empty list. */
  } else if (sep.len == 0) {
    size_t n; /* every character on its own */
    for (size_t i = 0; i < s.len; i += n) {
      utf8_decode(s.ptr + i, s.len - i, &n);
      list_builder_push(&lb, view(str_make(s.ptr + i, n)));
    }
  } else {
    size_t from = 0, at;
    while ((at = find_bytes(s, sep, from)) != SIZE_MAX) {
      list_builder_push(&lb, view(str_make(s.ptr + from, at - from)));
      from = at + sep.len;
    }
    list_builder_push(&lb, view(str_make(s.ptr + from, s.len - from)));
  }
  if (lb.failed) return std_fail_memory(call);
  *out = list_builder_finish(&lb);
  return true;
}

bool std_join(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  Str sep;
  if (!std_arg_list(call, 0, "parts", &items, &n)) return false;
  if (!std_arg_str(call, 1, "separator", &sep)) return false;
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  bool first = true, ok = true;
  for (uint32_t i = 0; i < n && ok; i++) {
    Value v = items[i];
    if (value_is_null(v) || (value_kind(v) == VAL_STRING && v.len == 0)) continue;
    if (value_kind(v) == VAL_LIST || value_kind(v) == VAL_RECORD) {
      char shown[STD_SHOW_SIZE];
      ok = std_fail(call, "part %" PRIu32 " is %s, not a string", i + 1, std_show(v, shown));
      break;
    }
    if (!first) buf_append_str(&b, sep);
    std_write_text(v, &b);
    first = false;
  }
  if (ok) ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

bool std_replace(StdCall *call, Value *out) {
  Str s, find, with;
  if (!std_arg_str(call, 1, "find", &find)) return false;
  if (!std_arg_str(call, 2, "with", &with)) return false;
  if (find.len == 0) return std_fail(call, "`find` is the empty string, which occurs everywhere");
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  if (find_bytes(s, find, 0) == SIZE_MAX) return *out = call->args[0], true;
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  size_t from = 0, at;
  while ((at = find_bytes(s, find, from)) != SIZE_MAX && buf_ok(&b)) {
    buf_append(&b, s.ptr + from, at - from);
    buf_append_str(&b, with);
    from = at + find.len;
  }
  buf_append(&b, s.ptr + from, s.len - from);
  bool ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

/* contains/starts_with/ends_with: false for a null text. */
static bool test_text(StdCall *call, const char *part_name, int where, Value *out) {
  Str s, part;
  if (!std_arg_str(call, 1, part_name, &part)) return false;
  if (value_is_null(call->args[0])) return *out = value_bool(false), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  bool r;
  if (part.len > s.len) r = false;
  else if (where < 0) r = memcmp(s.ptr, part.ptr, part.len) == 0;
  else if (where > 0) r = memcmp(s.ptr + s.len - part.len, part.ptr, part.len) == 0;
  else r = part.len == 0 || find_bytes(s, part, 0) != SIZE_MAX;
  *out = value_bool(r);
  return true;
}

bool std_contains(StdCall *call, Value *out) { return test_text(call, "part", 0, out); }
bool std_starts_with(StdCall *call, Value *out) { return test_text(call, "prefix", -1, out); }
bool std_ends_with(StdCall *call, Value *out) { return test_text(call, "suffix", 1, out); }

/* pad_left/pad_right: `fill` repeats, cut so the result is exactly
** `width` characters ("ab" filling 5 on the left of "x" is "ababx"). */
static bool pad(StdCall *call, bool left, Value *out) {
  Str s, fill;
  int64_t width;
  if (!arg_count(call, 1, "width", &width)) return false;
  if (width > STD_MAX_PAD_WIDTH)
    return std_fail(call, "`width` is %" PRId64 ", more than the limit of %d characters", width,
                    STD_MAX_PAD_WIDTH);
  if (!std_arg_str(call, 2, "fill", &fill)) return false;
  if (fill.len == 0) return std_fail(call, "`fill` is the empty string, which cannot pad");
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  size_t have = utf8_count(s.ptr, s.len);
  if (have >= (size_t)width) return *out = call->args[0], true;
  size_t missing = (size_t)width - have, fill_chars = utf8_count(fill.ptr, fill.len);
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  if (!left) buf_append_str(&b, s);
  for (size_t k = 0; k < missing / fill_chars && buf_ok(&b); k++) buf_append_str(&b, fill);
  buf_append(&b, fill.ptr, utf8_offset(fill.ptr, fill.len, missing % fill_chars));
  if (left) buf_append_str(&b, s);
  bool ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

bool std_pad_left(StdCall *call, Value *out) { return pad(call, true, out); }
bool std_pad_right(StdCall *call, Value *out) { return pad(call, false, out); }

bool std_digits(StdCall *call, Value *out) {
  Str s;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  char *d = arena_alloc(call->arena, s.len + 1);
  if (!d) return std_fail_memory(call);
  size_t n = 0;
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] >= '0' && s.ptr[i] <= '9') d[n++] = s.ptr[i];
  }
  *out = value_string(d, n);
  return true;
}

bool std_string(StdCall *call, Value *out) {
  Value v = call->args[0];
  if (value_is_null(v) || value_kind(v) == VAL_STRING) return *out = v, true;
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  bool ok;
  if (!std_write_text(v, &b) && buf_ok(&b))
    ok = std_fail(call, "the value holds text that is not valid UTF-8");
  else
    ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

bool std_format_number(StdCall *call, Value *out) {
  Decimal d;
  int64_t decimals;
  Str mark, thousands;
  if (!std_arg_int(call, 1, "decimals", &decimals)) return false;
  if (decimals < 0 || decimals > DECIMAL_MAX_SCALE)
    return std_fail(call, "`decimals` is %" PRId64 ", not in 0..18", decimals);
  if (!std_arg_str(call, 2, "decimal_mark", &mark)) return false;
  if (!std_arg_str(call, 3, "thousands", &thousands)) return false;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_decimal(call, 0, "value", &d)) return false;
  char text[DECIMAL_TEXT_SIZE];
  size_t len = decimal_format_fixed(d, (int)decimals, call->rounding, text);
  const char *digits = text, *point = memchr(text, '.', len);
  size_t int_len = (size_t)((point ? point : text + len) - text);
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  if (*digits == '-') {
    buf_putc(&b, '-');
    digits++;
    int_len--;
  }
  for (size_t i = 0; i < int_len; i++) {
    if (i > 0 && (int_len - i) % 3 == 0) buf_append_str(&b, thousands);
    buf_putc(&b, digits[i]);
  }
  if (point) {
    buf_append_str(&b, mark);
    buf_puts(&b, point + 1);
  }
  bool ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

/* format(): `{name}` placeholders filled from a record. Unlike string
** interpolation the template is data (a setting), so its mistakes are
** reported as run-time errors naming the placeholder. */
bool std_format(StdCall *call, Value *out) {
  Str t;
  Value values = call->args[1];
  char shown[STD_SHOW_SIZE];
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "template", &t)) return false;
  if (value_kind(values) != VAL_RECORD && !value_is_null(values))
    return std_fail(call, "`values` must be a record, not %s", std_show(values, shown));
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  bool ok = true;
  for (size_t i = 0; i < t.len && ok; i++) {
    char c = t.ptr[i];
    if ((c == '{' || c == '}') && i + 1 < t.len && t.ptr[i + 1] == c) {
      buf_putc(&b, c);
      i++;
    } else if (c == '}') {
      ok = std_fail(call, "template %s has a `}` without `{` (write `}}` for a brace)",
                    std_show(call->args[0], shown));
    } else if (c == '{') {
      const char *close = memchr(t.ptr + i + 1, '}', t.len - i - 1);
      if (!close) {
        ok = std_fail(call, "template %s has a `{` without `}` (write `{{` for a brace)",
                      std_show(call->args[0], shown));
        break;
      }
      Str name = trimmed(str_make(t.ptr + i + 1, (size_t)(close - t.ptr - i - 1)));
      const Value *v = value_is_null(values) ? NULL : value_field(values, name, NULL);
      if (!v) {
        ok = std_fail(call, "template %s has the placeholder `{%.*s}`, which `values` has no field for",
                      std_show(call->args[0], shown), (int)IEX_MIN(name.len, 60), name.ptr);
        break;
      }
      if (!std_write_text(*v, &b) && buf_ok(&b))
        ok = std_fail(call, "field `%.*s` holds text that is not valid UTF-8",
                      (int)IEX_MIN(name.len, 60), name.ptr);
      i = (size_t)(close - t.ptr);
    } else {
      buf_putc(&b, c);
    }
  }
  if (ok) ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}
