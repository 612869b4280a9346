/*
** JSON <-> Value (see json_value.h): a recursive-descent decoder that
** builds Values directly, an encoder that writes them directly, a JSON
** Lines reader, and the jansson conversions.
**
** Speed comes from three things. Strings are scanned eight bytes at a
** time for the four kinds of byte that need attention (`"`, `\`, control
** characters, non-ASCII), and are not copied. Containers are collected on
** a scratch stack owned by the decoder and copied into the arena once,
** at their exact size, when they close. The encoder stages output in a
** local buffer and hands it to the Buf in large pieces.
*/
#include "runtime/json_value.h"

#include "common/utf8.h"
#include "common/util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Byte classes inside strings: what the scanners must stop at. */
enum { C_PLAIN, C_QUOTE, C_BACKSLASH, C_CONTROL, C_HIGH };

#define _ C_PLAIN
#define Q C_QUOTE
#define B C_BACKSLASH
#define C C_CONTROL
#define H C_HIGH
static const uint8_t STR_CLASS[256] = {
    C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
    C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
    _, _, Q, _, _, _, _, _, _, _, _, _, _, _, _, _,
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    _, _, _, _, _, _, _, _, _, _, _, _, B, _, _, _,
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
};
#undef _
#undef Q
#undef B
#undef C
#undef H

#define ONES  0x0101010101010101u
#define HIGHS 0x8080808080808080u

/* A mask with the high bit set in each of the 8 bytes of `w` that is `"`,
** `\`, below 0x20 or above 0x7f: the classic "has zero byte" test applied
** to each condition. Borrows can flag a byte above a flagged one, so only
** the lowest flag is exact, which is all the scanners use. */
static inline uint64_t special_bytes(uint64_t w) {
  uint64_t q = w ^ (ONES * '"');
  uint64_t b = w ^ (ONES * '\\');
  return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w) | w) & HIGHS;
}

/* Index of the first special byte of a word with mask `m` != 0, or 0
** where the byte order makes the mask's lowest bit not the first byte
** (then the byte loops after the word scan find it). */
static inline size_t first_special(uint64_t m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return (size_t)__builtin_ctzll(m) >> 3;
#else
  (void)m;
  return 0;
#endif
}

/* ---- Errors ---------------------------------------------------------------- */

/* Fill line, column and excerpt of `e` from `input` and e->offset. */
static void locate(JsonvError *e, Str input) {
  const unsigned char *s = (const unsigned char *)input.ptr;
  size_t off = e->offset < input.len ? e->offset : input.len;
  size_t line_start = 0;
  e->line = 1;
  for (size_t i = 0; i < off; i++) {
    if (s[i] == '\n') {
      e->line++;
      line_start = i + 1;
    }
  }
  e->column = 1;
  for (size_t i = line_start; i < off; i++)
    if ((s[i] & 0xc0) != 0x80) e->column++;
  /* About 30 bytes either side, on the error's line, whole characters. */
  size_t from = off - line_start > 30 ? off - 30 : line_start;
  size_t to = off + 30 < input.len ? off + 30 : input.len;
  const unsigned char *nl = memchr(s + off, '\n', to - off);
  if (nl) to = (size_t)(nl - s);
  while (from < off && (s[from] & 0xc0) == 0x80) from++;
  size_t n = 0;
  for (size_t i = from; i < to && n + 5 < sizeof e->excerpt;) {
    size_t len = utf8_len((const char *)s + i, to - i);
    if (len == 0) {
      e->excerpt[n++] = '?';
      i++;
    } else if (len == 1) {
      e->excerpt[n++] = s[i] < 0x20 || s[i] == 0x7f ? ' ' : (char)s[i];
      i++;
    } else {
      memcpy(e->excerpt + n, s + i, len);
      n += len;
      i += len;
    }
  }
  e->excerpt[n] = '\0';
}

const char *jsonv_error_text(const JsonvError *err, char *out, size_t size) {
  if (err->excerpt[0])
    snprintf(out, size, "%s at line %u, column %u, near `%s`", err->message, err->line,
             err->column, err->excerpt);
  else
    snprintf(out, size, "%s at line %u, column %u", err->message, err->line, err->column);
  return out;
}

/* ---- Decoder --------------------------------------------------------------- */

typedef struct Parser {
  JsonvDecoder *d;
  Arena *arena;
  const char *p;     /* next byte to read */
  const char *begin; /* the text being parsed (the arena copy, usually) */
  const char *end;
  bool writable; /* `begin` is our own copy: unescape in place */
  uint32_t depth;
  JsonvError *err; /* may be NULL */
} Parser;

static bool fail_at(Parser *ps, const char *at, const char *fmt, ...) IEX_PRINTF(3, 4);
static bool fail_at(Parser *ps, const char *at, const char *fmt, ...) {
  if (ps->err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->message, sizeof ps->err->message, fmt, ap);
    va_end(ap);
    ps->err->offset = (size_t)(at - ps->begin);
  }
  return false;
}

static bool fail_memory(Parser *ps) {
  return fail_at(ps, ps->p, "record needs more memory than the limit of %zu bytes",
                 ps->arena->limit_bytes);
}

/* Up to about 40 bytes of `s` for a one-line message: control
** characters as `?`, cut at a character boundary. Returns `out`. */
static const char *printable(Str s, char *out, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < s.len && n + 4 < size && n < 40;) {
    size_t len = utf8_len(s.ptr + i, s.len - i);
    if (len <= 1) {
      unsigned char c = (unsigned char)s.ptr[i];
      out[n++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
      i++;
    } else {
      memcpy(out + n, s.ptr + i, len);
      n += len;
      i += len;
    }
  }
  out[n] = '\0';
  return out;
}

/* What was found, for "expected X, found Y" messages. */
static const char *found(Parser *ps, char *buf, size_t size) {
  if (ps->p >= ps->end) return "end of input";
  unsigned char c = (unsigned char)*ps->p;
  if (c >= 0x21 && c < 0x7f)
    snprintf(buf, size, "`%c`", c);
  else
    snprintf(buf, size, "byte 0x%02x", c);
  return buf;
}

static inline void skip_ws(Parser *ps) {
  const char *p = ps->p, *end = ps->end;
  /* Compact JSON has no whitespace: leave at once on anything above ' '. */
  if (p < end && (unsigned char)*p > ' ') return;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  ps->p = p;
}

static inline void push_val(JsonvDecoder *d, Value v) {
  if (d->n_vals == d->cap_vals)
    d->vals = grow_array(d->vals, &d->cap_vals, d->n_vals + 1, sizeof(Value));
  d->vals[d->n_vals++] = v;
}
static inline void push_key(JsonvDecoder *d, Str k, size_t offset) {
  if (d->n_keys == d->cap_keys)
    d->keys = grow_array(d->keys, &d->cap_keys, d->n_keys + 1, sizeof(JsonvKey));
  d->keys[d->n_keys].key = k;
  d->keys[d->n_keys].offset = offset;
  d->n_keys++;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Read 4 hex digits at p (bounds checked by the caller's `end`). */
static long hex4(const char *p, const char *end) {
  if (end - p < 4) return -1;
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_digit(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Unescape the rest of a string from `r` (at a backslash) into `w`, up to
** the closing quote. `w` may trail `r` in the same buffer: no escape
** produces more bytes than it consumes. */
static bool unescape(Parser *ps, const char *quote_at, const char *r, char *w,
                     char **w_end) {
  const char *end = ps->end;
  for (;;) {
    if (r >= end) return fail_at(ps, quote_at, "unterminated string");
    unsigned char c = (unsigned char)*r;
    switch (STR_CLASS[c]) {
      case C_PLAIN: *w++ = *r++; break;
      case C_QUOTE:
        ps->p = r + 1;
        *w_end = w;
        return true;
      case C_CONTROL:
        return fail_at(ps, r, "control character U+%04X in string (write it as \\u%04X)",
                       c, c);
      case C_HIGH: {
        size_t n = utf8_len(r, (size_t)(end - r));
        if (!n) return fail_at(ps, r, "invalid UTF-8 in string");
        memmove(w, r, n);
        w += n;
        r += n;
        break;
      }
      case C_BACKSLASH: {
        if (r + 1 >= end) return fail_at(ps, quote_at, "unterminated string");
        char e = r[1];
        static const char SIMPLE_FROM[] = "\"\\/bfnrt", SIMPLE_TO[] = "\"\\/\b\f\n\r\t";
        const char *s = e ? strchr(SIMPLE_FROM, e) : NULL;
        if (s) {
          *w++ = SIMPLE_TO[s - SIMPLE_FROM];
          r += 2;
          break;
        }
        if (e != 'u')
          return fail_at(ps, r, "invalid escape `\\%c` in string",
                         e >= 0x20 && e < 0x7f ? e : '?');
        long cp = hex4(r + 2, end);
        if (cp < 0)
          return fail_at(ps, r, "invalid \\u escape (expected four hex digits)");
        const char *esc = r;
        r += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff)
          return fail_at(ps, esc, "unpaired surrogate in \\u escape");
        if (cp >= 0xd800 && cp <= 0xdbff) {
          long lo = end - r >= 2 && r[0] == '\\' && r[1] == 'u' ? hex4(r + 2, end) : -1;
          if (lo < 0xdc00 || lo > 0xdfff)
            return fail_at(ps, esc, "unpaired surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          r += 6;
        }
        w += utf8_encode((uint32_t)cp, w);
        break;
      }
    }
  }
}

/* A string; ps->p is just after the opening quote. `*plain` tells whether
** it had no escapes (so its bytes are JSON-safe as they are). */
static bool parse_string(Parser *ps, Str *out, bool *plain) {
  const char *s = ps->p, *p = s, *end = ps->end;
  for (;;) {
    while (end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      uint64_t m = special_bytes(w);
      if (m) {
        p += first_special(m);
        break;
      }
      p += 8;
    }
    while (p < end && STR_CLASS[(unsigned char)*p] == C_PLAIN) p++;
    if (p >= end) return fail_at(ps, s - 1, "unterminated string");
    unsigned char c = (unsigned char)*p;
    switch (STR_CLASS[c]) {
      case C_QUOTE:
        *out = str_make(s, (size_t)(p - s));
        *plain = true;
        ps->p = p + 1;
        return true;
      case C_HIGH: {
        size_t n = utf8_len(p, (size_t)(end - p));
        if (!n) return fail_at(ps, p, "invalid UTF-8 in string");
        p += n;
        continue;
      }
      case C_CONTROL:
        return fail_at(ps, p, "control character U+%04X in string (write it as \\u%04X)",
                       c, c);
      case C_BACKSLASH: {
        char *w, *w_end = NULL;
        char *dst;
        if (ps->writable) {
          /* Our own copy of the input: unescape where the string is. */
          dst = (char *)s;
          w = (char *)p;
        } else {
          /* Borrowed input: find the end, then unescape into the arena. */
          const char *q = p;
          while (q < end && *q != '"') q += *q == '\\' ? 2 : 1;
          if (q >= end) {
            /* No end: unescape into scratch memory anyway, so the error
            ** is the first problem in the string, as when copying. */
            char *scratch = xmalloc((size_t)(end - p) + 1);
            bool ok = unescape(ps, s - 1, p, scratch, &w_end);
            free(scratch);
            assert(!ok);
            return ok;
          }
          dst = arena_alloc(ps->arena, (size_t)(q - s) + 1);
          if (!dst) return fail_memory(ps);
          memcpy(dst, s, (size_t)(p - s));
          w = dst + (p - s);
        }
        if (!unescape(ps, s - 1, p, w, &w_end)) return false;
        *out = str_make(dst, (size_t)(w_end - dst));
        *plain = false;
        return true;
      }
      case C_PLAIN: break; /* not reached: the loop above skips these */
    }
  }
}

/* The parse functions return Values in registers (a 16-byte struct of
** two integers comes back in RAX:RDX) and signal failure with this kind,
** after fail_at() has described the error. Passing Values back through a
** pointer instead cost a store-forwarding stall per value: a quarter of
** the decoder's time. */
#define KIND_FAILED 0xff
static inline Value failed(bool described) {
  (void)described;
  return (Value){.kind = KIND_FAILED};
}

static Value parse_number(Parser *ps) {
  const char *s = ps->p, *p = s, *end = ps->end;
  bool negative = false, has_exp = false;
  if (*p == '-') {
    negative = true;
    p++;
  }
  if (p >= end || *p < '0' || *p > '9')
    return failed(fail_at(ps, p, "expected a digit after `-`"));
  uint64_t acc = 0;
  int n_int = 0, n_frac = 0;
  if (*p == '0') {
    p++;
    if (p < end && *p >= '0' && *p <= '9')
      return failed(fail_at(ps, s, "leading zeros are not allowed in numbers"));
  } else {
    for (; p < end && *p >= '0' && *p <= '9'; p++, n_int++)
      if (n_int < 19) acc = acc * 10 + (uint64_t)(*p - '0');
  }
  bool is_int = true;
  if (p < end && *p == '.') {
    is_int = false;
    p++;
    if (p >= end || *p < '0' || *p > '9')
      return failed(fail_at(ps, p, "expected a digit after `.` in number"));
    for (; p < end && *p >= '0' && *p <= '9'; p++, n_frac++)
      if (n_int + n_frac < 19) acc = acc * 10 + (uint64_t)(*p - '0');
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    is_int = false;
    has_exp = true;
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || *p < '0' || *p > '9')
      return failed(fail_at(ps, p, "expected a digit in the exponent"));
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  ps->p = p;
  /* Fast paths: the integers and two-decimal amounts of real orders. */
  if (is_int) {
    if (n_int <= 18 || (n_int == 19 && acc <= (uint64_t)INT64_MAX)) {
      return value_int(negative ? -(int64_t)acc : (int64_t)acc);
    }
    if (n_int == 19 && negative && acc == (uint64_t)INT64_MAX + 1) {
      return value_int(INT64_MIN);
    }
  } else if (!has_exp && n_int + n_frac <= DECIMAL_MAX_DIGITS) {
    return value_decimal(decimal_make(negative ? -(int64_t)acc : (int64_t)acc, n_frac));
  } else {
    Decimal d;
    if (decimal_parse(str_make(s, (size_t)(p - s)), &d, NULL) == DECIMAL_OK) {
      return value_decimal(d);
    }
  }
  /* Too long for an int or a decimal: keep the text, which lives as long
  ** as the input does (the arena copy, or the caller's promise). */
  return value_numtext(s, (size_t)(p - s));
}

static Value parse_value(Parser *ps);

static bool enter(Parser *ps) {
  if (++ps->depth > ps->d->opt.max_depth)
    return fail_at(ps, ps->p, "nesting deeper than %u levels", ps->d->opt.max_depth);
  ps->p++;
  skip_ws(ps);
  return true;
}

static Value parse_array(Parser *ps) {
  static const Value NO_ITEMS[1];
  JsonvDecoder *d = ps->d;
  if (!enter(ps)) return failed(false);
  size_t base = d->n_vals;
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    ps->depth--;
    return value_list(NO_ITEMS, 0);
  }
  for (;;) {
    Value v = parse_value(ps);
    if (v.kind == KIND_FAILED) return v;
    push_val(d, v);
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      break;
    }
    return failed(fail_at(ps, ps->p, "expected `,` or `]` after array element"));
  }
  size_t n = d->n_vals - base;
  if (n > VALUE_MAX_LEN)
    return failed(fail_at(ps, ps->p, "array has more than %u elements", VALUE_MAX_LEN));
  Value *items = arena_alloc(ps->arena, n * sizeof(Value));
  if (!items) return failed(fail_memory(ps));
  memcpy(items, d->vals + base, n * sizeof(Value));
  d->n_vals = base;
  ps->depth--;
  return value_list(items, n);
}

/* A quick hash of a key from its length and its first and last bytes:
** enough to spread the keys of one object, which is all it is used for. */
static inline size_t key_hash(Str k) {
  uint64_t a = 0, b = 0;
  if (k.len >= 8) {
    memcpy(&a, k.ptr, 8);
    memcpy(&b, k.ptr + k.len - 8, 8);
  } else if (k.len >= 4) {
    uint32_t x, y;
    memcpy(&x, k.ptr, 4);
    memcpy(&y, k.ptr + k.len - 4, 4);
    a = x, b = y;
  } else if (k.len > 0) {
    a = (uint64_t)(unsigned char)k.ptr[0] |
        (uint64_t)(unsigned char)k.ptr[k.len / 2] << 8 |
        (uint64_t)(unsigned char)k.ptr[k.len - 1] << 16;
  }
  uint64_t h = ((a * 0x9e3779b97f4a7c15u) ^ b ^ k.len) * 0xc2b2ae3d27d4eb4fu;
  return (size_t)(h >> 32);
}

/* Index of the first key that repeats an earlier one, or -1. Small
** objects compare all pairs; bigger ones use the decoder's hash slots. */
static long find_duplicate(JsonvDecoder *d, const JsonvKey *keys, size_t n) {
  if (n <= 12) {
    for (size_t j = 1; j < n; j++)
      for (size_t i = 0; i < j; i++)
        if (str_eq(keys[i].key, keys[j].key)) return (long)j;
    return -1;
  }
  size_t n_slots = 32;
  while (n_slots < 2 * n) n_slots *= 2;
  if (d->cap_slots < n_slots) {
    free(d->slots);
    d->slots = xmalloc(n_slots * sizeof *d->slots);
    d->cap_slots = n_slots;
  }
  memset(d->slots, 0, n_slots * sizeof *d->slots);
  for (size_t j = 0; j < n; j++) {
    size_t s = key_hash(keys[j].key) & (n_slots - 1);
    for (; d->slots[s]; s = (s + 1) & (n_slots - 1))
      if (str_eq(keys[d->slots[s] - 1].key, keys[j].key)) return (long)j;
    d->slots[s] = (uint32_t)(j + 1);
  }
  return -1;
}

static Value parse_object(Parser *ps) {
  JsonvDecoder *d = ps->d;
  if (!enter(ps)) return failed(false);
  size_t base_v = d->n_vals, base_k = d->n_keys;
  bool keys_plain = true;
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
  } else {
    for (;;) {
      char what[16];
      if (ps->p >= ps->end || *ps->p != '"')
        return failed(fail_at(ps, ps->p,
                              "expected a string key in double quotes, found %s",
                              found(ps, what, sizeof what)));
      size_t key_at = (size_t)(ps->p - ps->begin);
      ps->p++;
      Str key;
      bool plain;
      if (!parse_string(ps, &key, &plain)) return failed(false);
      keys_plain &= plain;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':')
        return failed(fail_at(ps, ps->p, "expected `:` after object key, found %s",
                              found(ps, what, sizeof what)));
      ps->p++;
      Value v = parse_value(ps);
      if (v.kind == KIND_FAILED) return v;
      push_key(d, key, key_at);
      push_val(d, v);
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        skip_ws(ps);
        continue;
      }
      if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        break;
      }
      return failed(fail_at(ps, ps->p,
                            "expected `,` or `}` after object member, found %s",
                            found(ps, what, sizeof what)));
    }
  }
  size_t n = d->n_keys - base_k;
  if (n > VALUE_MAX_LEN)
    return failed(fail_at(ps, ps->p, "object has more than %u members", VALUE_MAX_LEN));
  if (!d->opt.allow_duplicate_keys && n > 1) {
    long dup = find_duplicate(d, d->keys + base_k, n);
    if (dup >= 0) {
      const JsonvKey *k = &d->keys[base_k + (size_t)dup];
      char shown[64];
      return failed(fail_at(ps, ps->begin + k->offset, "duplicate key \"%s\" in object",
                            printable(k->key, shown, sizeof shown)));
    }
  }
  Record *rec = record_new(ps->arena, (uint32_t)n);
  if (!rec) return failed(fail_memory(ps));
  if (keys_plain) rec->flags |= RECORD_KEYS_JSON_SAFE;
  for (size_t i = 0; i < n; i++) {
    rec->fields[i].key = d->keys[base_k + i].key;
    rec->fields[i].value = d->vals[base_v + i];
  }
  d->n_keys = base_k;
  d->n_vals = base_v;
  ps->depth--;
  return value_record(rec);
}

static Value parse_literal(Parser *ps, const char *word, size_t len, Value v) {
  if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
    return failed(
        fail_at(ps, ps->p, "invalid literal (expected `true`, `false` or `null`)"));
  ps->p += len;
  return v;
}

static Value parse_value(Parser *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end)
    return failed(fail_at(ps, ps->p, "expected a value, found end of input"));
  switch (*ps->p) {
    case '{': return parse_object(ps);
    case '[': return parse_array(ps);
    case '"': {
      Str s;
      bool plain;
      ps->p++;
      if (!parse_string(ps, &s, &plain)) return failed(false);
      Value v = value_string(s.ptr, s.len);
      if (plain) v.aux = VALUE_STR_JSON_SAFE;
      return v;
    }
    case 't': return parse_literal(ps, "true", 4, value_bool(true));
    case 'f': return parse_literal(ps, "false", 5, value_bool(false));
    case 'n': return parse_literal(ps, "null", 4, value_null());
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': return parse_number(ps);
    default: {
      char what[16];
      return failed(
          fail_at(ps, ps->p, "expected a value, found %s", found(ps, what, sizeof what)));
    }
  }
}

void jsonv_decoder_init(JsonvDecoder *d, const JsonvOptions *opt) {
  memset(d, 0, sizeof *d);
  if (opt) d->opt = *opt;
  if (!d->opt.max_bytes || d->opt.max_bytes > UINT32_MAX)
    d->opt.max_bytes = d->opt.max_bytes ? UINT32_MAX : JSONV_DEFAULT_MAX_BYTES;
  if (!d->opt.max_depth) d->opt.max_depth = JSONV_DEFAULT_MAX_DEPTH;
}

void jsonv_decoder_fini(JsonvDecoder *d) {
  free(d->vals);
  free(d->keys);
  free(d->slots);
  memset(d, 0, sizeof *d);
}

bool jsonv_decode_with(JsonvDecoder *d, Arena *a, Str input, Value *out,
                       JsonvError *err) {
  Parser ps = {.d = d, .arena = a, .err = err};
  d->n_vals = d->n_keys = 0;
  ps.begin = ps.p = input.ptr;
  ps.end = input.ptr + input.len;
  if (input.len > d->opt.max_bytes) {
    fail_at(&ps, ps.p, "document is larger than the limit of %zu bytes",
            d->opt.max_bytes);
    goto failed;
  }
  if (!d->opt.input_outlives_arena) {
    char *copy = arena_alloc(a, input.len + 1);
    if (!copy) {
      fail_memory(&ps);
      goto failed;
    }
    memcpy(copy, input.ptr, input.len);
    ps.begin = ps.p = copy;
    ps.end = copy + input.len;
    ps.writable = true;
  }
  /* RFC 8259 lets a parser ignore a byte order mark; Windows tools add one. */
  if (input.len >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0) ps.p += 3;
  Value v = parse_value(&ps);
  if (v.kind == KIND_FAILED) goto failed;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    fail_at(&ps, ps.p, "unexpected text after the JSON value");
    goto failed;
  }
  *out = v;
  return true;
failed:
  /* Offsets are the same in the copy; the caller's input is unchanged, so
  ** the excerpt comes from there (the copy may be unescaped in places). */
  if (err) locate(err, input);
  return false;
}

bool jsonv_decode(Arena *a, Str input, const JsonvOptions *opt, Value *out,
                  JsonvError *err) {
  JsonvDecoder d;
  jsonv_decoder_init(&d, opt);
  bool ok = jsonv_decode_with(&d, a, input, out, err);
  jsonv_decoder_fini(&d);
  return ok;
}

/* ---- Encoder ----------------------------------------------------------- */

#define OUT_STAGE        8192
#define ENCODE_MAX_DEPTH (JSONV_DEFAULT_MAX_DEPTH * 4)

typedef struct Out {
  Buf *buf;
  JsonvError *err;
  bool failed;
  bool pretty;
  size_t n; /* bytes staged in `stage` */
  char stage[OUT_STAGE];
} Out;

static bool out_error(Out *o, const char *msg) {
  if (!o->failed && o->err) {
    snprintf(o->err->message, sizeof o->err->message, "%s", msg);
    o->err->offset = o->buf->len + o->n;
    o->err->line = o->err->column = 0;
    o->err->excerpt[0] = '\0';
  }
  o->failed = true;
  return false;
}

static void out_flush(Out *o) {
  if (o->n && !buf_append(o->buf, o->stage, o->n))
    out_error(o, "encoded JSON is larger than the output limit");
  o->n = 0;
}

/* Room for `k` (<= OUT_STAGE) bytes in the stage; the caller writes them
** and adds to o->n. */
static inline char *out_room(Out *o, size_t k) {
  if (OUT_STAGE - o->n < k) out_flush(o);
  return o->stage + o->n;
}

static inline void out_char(Out *o, char c) { *out_room(o, 1) = c, o->n++; }

static void out_bytes(Out *o, const char *s, size_t len) {
  if (OUT_STAGE - o->n < len) {
    out_flush(o);
    if (len > OUT_STAGE / 2) {
      if (!buf_append(o->buf, s, len))
        out_error(o, "encoded JSON is larger than the output limit");
      return;
    }
  }
  memcpy(o->stage + o->n, s, len);
  o->n += len;
}

/* Write `s` as a JSON string; `safe` says its bytes need no checks. */
static void encode_string(Out *o, Str s, bool safe) {
  const char *p = s.ptr, *end = s.ptr + s.len, *run = p;
  if (safe && s.len <= OUT_STAGE / 2) {
    char *w = out_room(o, s.len + 2);
    w[0] = '"';
    memcpy(w + 1, s.ptr, s.len);
    w[s.len + 1] = '"';
    o->n += s.len + 2;
    return;
  }
  out_char(o, '"');
  for (;;) {
    while (end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      uint64_t m = special_bytes(w);
      if (m) {
        p += first_special(m);
        break;
      }
      p += 8;
    }
    while (p < end && STR_CLASS[(unsigned char)*p] == C_PLAIN) p++;
    if (p >= end) break;
    unsigned char c = (unsigned char)*p;
    if (c >= 0x80) {
      size_t n = utf8_len(p, (size_t)(end - p));
      if (!n) {
        out_error(o, "string is not valid UTF-8");
        return;
      }
      p += n; /* passed through as part of the run */
      continue;
    }
    out_bytes(o, run, (size_t)(p - run));
    char *w = out_room(o, 6);
    size_t k = 2;
    w[0] = '\\';
    switch (c) {
      case '"': w[1] = '"'; break;
      case '\\': w[1] = '\\'; break;
      case '\n': w[1] = 'n'; break;
      case '\r': w[1] = 'r'; break;
      case '\t': w[1] = 't'; break;
      case '\b': w[1] = 'b'; break;
      case '\f': w[1] = 'f'; break;
      default:
        w[1] = 'u', w[2] = '0', w[3] = '0';
        w[4] = "0123456789abcdef"[c >> 4], w[5] = "0123456789abcdef"[c & 15];
        k = 6;
    }
    o->n += k;
    run = ++p;
  }
  out_bytes(o, run, (size_t)(end - run));
  out_char(o, '"');
}

static void encode_int(Out *o, int64_t v) {
  char tmp[24];
  size_t n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[sizeof tmp - ++n] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) tmp[sizeof tmp - ++n] = '-';
  out_bytes(o, tmp + sizeof tmp - n, n);
}

static void newline_indent(Out *o, uint32_t depth) {
  out_char(o, '\n');
  for (uint32_t i = 0; i < depth; i++) {
    out_char(o, ' ');
    out_char(o, ' ');
  }
}

static void encode_value(Out *o, Value v, uint32_t depth) {
  if (o->failed) return;
  switch ((ValueKind)v.kind) {
    case VAL_NULL: out_bytes(o, "null", 4); return;
    case VAL_BOOL: v.as.b ? out_bytes(o, "true", 4) : out_bytes(o, "false", 5); return;
    case VAL_INT: encode_int(o, v.as.i); return;
    case VAL_DECIMAL: {
      char *w = out_room(o, DECIMAL_TEXT_SIZE);
      o->n += decimal_format(value_as_decimal(v), w);
      return;
    }
    case VAL_NUMTEXT: out_bytes(o, v.as.str, v.len); return;
    case VAL_STRING:
      encode_string(o, value_as_str(v), v.aux & VALUE_STR_JSON_SAFE);
      return;
    case VAL_DATE: {
      char *w = out_room(o, DATE_TEXT_SIZE + 2);
      w[0] = '"';
      size_t n = date_format_iso(v.as.days, w + 1);
      w[n + 1] = '"';
      o->n += n + 2;
      return;
    }
    case VAL_DATETIME: {
      char *w = out_room(o, DATETIME_TEXT_SIZE + 2);
      w[0] = '"';
      size_t n = datetime_format_iso(value_as_datetime(v), w + 1);
      w[n + 1] = '"';
      o->n += n + 2;
      return;
    }
    case VAL_LIST:
    case VAL_RECORD: {
      if (depth >= ENCODE_MAX_DEPTH) {
        out_error(o, "value is nested too deeply to encode");
        return;
      }
      bool is_list = v.kind == VAL_LIST;
      out_char(o, is_list ? '[' : '{');
      for (uint32_t i = 0; i < v.len && !o->failed; i++) {
        if (i) out_char(o, ',');
        if (o->pretty) newline_indent(o, depth + 1);
        if (is_list) {
          encode_value(o, v.as.items[i], depth + 1);
        } else {
          const Field *f = &v.as.rec->fields[i];
          encode_string(o, f->key, v.as.rec->flags & RECORD_KEYS_JSON_SAFE);
          out_char(o, ':');
          if (o->pretty) out_char(o, ' ');
          encode_value(o, f->value, depth + 1);
        }
      }
      if (o->pretty && v.len) newline_indent(o, depth);
      out_char(o, is_list ? ']' : '}');
      return;
    }
    case VAL__COUNT: break;
  }
  out_error(o, "value of unknown kind");
}

static bool encode(Value v, Buf *out, JsonvError *err, bool pretty) {
  /* The stage is large; keep it off small thread stacks. */
  Out *o = xmalloc(sizeof *o);
  o->buf = out;
  o->err = err;
  o->failed = false;
  o->pretty = pretty;
  o->n = 0;
  encode_value(o, v, 0);
  out_flush(o);
  bool ok = !o->failed;
  free(o);
  return ok;
}

bool jsonv_encode(Value v, Buf *out, JsonvError *err) {
  return encode(v, out, err, false);
}

const char *jsonv_encode_arena(Value v, Arena *a) {
  Buf b;
  buf_init(&b, 0);
  const char *out = NULL;
  if (jsonv_encode(v, &b, NULL)) out = arena_strndup(a, buf_cstr(&b), b.len);
  buf_fini(&b);
  return out;
}
bool jsonv_encode_pretty(Value v, Buf *out, JsonvError *err) {
  return encode(v, out, err, true);
}

/* ---- JSON Lines ------------------------------------------------------------- */

#define LINES_CHUNK ((size_t)64 * 1024)

void jsonv_lines_init_fd(JsonvLines *r, int fd, size_t max_line) {
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->max_line = max_line ? max_line : 1;
  r->cap = LINES_CHUNK * 4;
  r->buf = xmalloc(r->cap);
}

bool jsonv_lines_open(JsonvLines *r, const char *path, size_t max_line, char *err,
                      size_t err_size) {
  if (strcmp(path, "-") == 0) {
    jsonv_lines_init_fd(r, STDIN_FILENO, max_line);
    return true;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
    return false;
  }
  jsonv_lines_init_fd(r, fd, max_line);
  r->owns_fd = true;
  return true;
}

void jsonv_lines_close(JsonvLines *r) {
  if (r->owns_fd) close(r->fd);
  free(r->buf);
  memset(r, 0, sizeof *r);
}

static bool is_blank(Str s) {
  for (size_t i = 0; i < s.len; i++)
    if (s.ptr[i] != ' ' && s.ptr[i] != '\t' && s.ptr[i] != '\r') return false;
  return true;
}

int jsonv_lines_next(JsonvLines *r, Str *line, char *err, size_t err_size) {
  size_t scanned = 0; /* bytes after r->start known to hold no '\n' */
  for (;;) {
    char *from = r->buf + r->start;
    size_t pending = r->end - r->start;
    char *nl = memchr(from + scanned, '\n', pending - scanned);
    if (nl || (r->at_eof && pending)) {
      size_t len = nl ? (size_t)(nl - from) : pending;
      r->start += nl ? len + 1 : len;
      scanned = 0;
      if (r->skipping) {
        /* The end of an over-long line, reported already. */
        r->skipping = false;
        continue;
      }
      r->line_no++;
      if (len > r->max_line) {
        snprintf(err, err_size, "line %llu is longer than the limit of %zu bytes",
                 (unsigned long long)r->line_no, r->max_line);
        return -1;
      }
      if (len && from[len - 1] == '\r') len--;
      *line = str_make(from, len);
      if (is_blank(*line)) continue;
      return 1;
    }
    if (r->at_eof) return 0;
    scanned = pending;
    if (pending > r->max_line) {
      /* Too long already: report it once, then drop bytes up to its end. */
      bool first = !r->skipping;
      r->start = r->end = 0;
      scanned = 0;
      if (first) {
        r->line_no++;
        r->skipping = true;
        snprintf(err, err_size, "line %llu is longer than the limit of %zu bytes",
                 (unsigned long long)r->line_no, r->max_line);
        return -1;
      }
      continue;
    }
    if (r->start > 0) {
      memmove(r->buf, r->buf + r->start, pending);
      r->start = 0;
      r->end = pending;
    }
    if (r->cap - r->end < LINES_CHUNK) {
      r->cap *= 2;
      r->buf = xrealloc(r->buf, r->cap);
    }
    ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (got < 0) {
      if (errno == EINTR) continue;
      snprintf(err, err_size, "read error after line %llu: %s",
               (unsigned long long)r->line_no, strerror(errno));
      return -1;
    }
    if (got == 0) r->at_eof = true;
    r->end += (size_t)got;
  }
}

/* ---- jansson ---------------------------------------------------------------- */

static bool from_jansson(Arena *a, const json_t *j, Value *out, uint32_t depth) {
  switch (json_typeof(j)) {
    case JSON_NULL: *out = value_null(); return true;
    case JSON_TRUE: *out = value_bool(true); return true;
    case JSON_FALSE: *out = value_bool(false); return true;
    case JSON_INTEGER: *out = value_int((int64_t)json_integer_value(j)); return true;
    case JSON_REAL: {
      /* The shortest text that reads back as the same double is the text
      ** the sender most likely wrote ("19.99", not 19.989999999999998). */
      double x = json_real_value(j);
      char text[40];
      for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, x);
        if (strtod(text, NULL) == x) break;
      }
      Decimal d;
      if (decimal_parse(str_from_cstr(text), &d, NULL) == DECIMAL_OK) {
        *out = value_decimal(d);
        return true;
      }
      Value s;
      if (!value_string_copy(a, str_from_cstr(text), &s)) return false;
      *out = value_numtext(s.as.str, s.len);
      return true;
    }
    case JSON_STRING:
      return value_string_copy(a, str_make(json_string_value(j), json_string_length(j)),
                               out);
    case JSON_ARRAY: {
      size_t n = json_array_size(j);
      if (depth > ENCODE_MAX_DEPTH || n > VALUE_MAX_LEN) return false;
      Value *items = arena_alloc(a, (n ? n : 1) * sizeof(Value));
      if (!items) return false;
      for (size_t i = 0; i < n; i++)
        if (!from_jansson(a, json_array_get(j, i), &items[i], depth + 1)) return false;
      *out = value_list(items, n);
      return true;
    }
    case JSON_OBJECT: {
      size_t n = json_object_size(j);
      if (depth > ENCODE_MAX_DEPTH || n > VALUE_MAX_LEN) return false;
      Record *rec = record_new(a, (uint32_t)n);
      if (!rec) return false;
      /* jansson keeps insertion order, which is the document's order. */
      size_t i = 0;
      const char *key;
      json_t *member;
      json_object_foreach((json_t *)j, key, member) {
        Value k;
        if (!value_string_copy(a, str_from_cstr(key), &k)) return false;
        rec->fields[i].key = value_as_str(k);
        if (!from_jansson(a, member, &rec->fields[i].value, depth + 1)) return false;
        i++;
      }
      *out = value_record(rec);
      return true;
    }
  }
  return false;
}

bool jsonv_from_jansson(Arena *a, const json_t *j, Value *out, char *err,
                        size_t err_size) {
  if (from_jansson(a, j, out, 0)) return true;
  snprintf(err, err_size,
           "cannot convert the jansson value: memory limit of the record reached");
  return false;
}

static json_t *to_jansson(Value v, char *err, size_t err_size, uint32_t depth) {
  char text[DATETIME_TEXT_SIZE + DECIMAL_TEXT_SIZE];
  switch ((ValueKind)v.kind) {
    case VAL_NULL: return json_null();
    case VAL_BOOL: return json_boolean(v.as.b);
    case VAL_INT: return json_integer((json_int_t)v.as.i);
    case VAL_DECIMAL: {
      Decimal d = decimal_reduce(value_as_decimal(v));
      int64_t mag = d.coef < 0 ? -d.coef : d.coef;
      if (mag > INT64_C(999999999999999)) {
        decimal_format(value_as_decimal(v), text);
        snprintf(err, err_size,
                 "decimal %s has more than 15 significant digits, which jansson cannot "
                 "hold exactly",
                 text);
        return NULL;
      }
      decimal_format(d, text);
      return json_real(strtod(text, NULL));
    }
    case VAL_NUMTEXT:
      snprintf(err, err_size, "number %.*s is too long for jansson to hold exactly",
               (int)(v.len > 40 ? 40 : v.len), v.as.str);
      return NULL;
    case VAL_STRING: {
      json_t *s = json_stringn(v.as.str, v.len);
      if (!s) snprintf(err, err_size, "string is not valid UTF-8");
      return s;
    }
    case VAL_DATE: date_format_iso(v.as.days, text); return json_string(text);
    case VAL_DATETIME:
      datetime_format_iso(value_as_datetime(v), text);
      return json_string(text);
    case VAL_LIST:
    case VAL_RECORD: {
      if (depth > ENCODE_MAX_DEPTH) {
        snprintf(err, err_size, "value is nested too deeply");
        return NULL;
      }
      bool is_list = v.kind == VAL_LIST;
      json_t *c = is_list ? json_array() : json_object();
      for (uint32_t i = 0; i < v.len; i++) {
        Value item = is_list ? v.as.items[i] : v.as.rec->fields[i].value;
        json_t *j = to_jansson(item, err, err_size, depth + 1);
        if (!j) {
          json_decref(c);
          return NULL;
        }
        int rc;
        if (is_list) {
          rc = json_array_append_new(c, j);
        } else {
          Str k = v.as.rec->fields[i].key;
          rc = json_object_setn_new(c, k.ptr, k.len, j);
          if (rc)
            snprintf(err, err_size, "key \"%.*s\" is not valid for jansson",
                     (int)(k.len > 40 ? 40 : k.len), k.ptr);
        }
        if (rc) {
          if (is_list) snprintf(err, err_size, "jansson refused an array element");
          json_decref(c);
          return NULL;
        }
      }
      return c;
    }
    case VAL__COUNT: break;
  }
  snprintf(err, err_size, "value of unknown kind");
  return NULL;
}

json_t *jsonv_to_jansson(Value v, char *err, size_t err_size) {
  return to_jansson(v, err, err_size, 0);
}
