/*
** Redaction of secret headers and the reference rule for connection
** configs (see redact.h).
**
** Header redaction does not re-print the JSON through a parser's tree:
** that would turn 12.10 into 12.1 or 12.0999… and reorder members. A small
** scanner walks the text instead, checking its structure, and notes the
** byte ranges of the values to hide; the output is the input with those
** ranges replaced by "***".
*/
#include "runtime/redact.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

/* Deeper nesting than this is refused: it bounds the scanner's recursion,
** and no header list or recorded request nests anywhere near it. */
#define MAX_DEPTH 256

static const char *const secret_words[] = {
    "token", "secret", "password", "passwd", "key", "auth", "cookie"};

bool redact_is_secret_name(Str name) {
  char low[128];
  if (name.len >= sizeof low)
    return true; /* no real header is this long: hide it */
  for (size_t i = 0; i < name.len; i++)
    low[i] = (char)tolower((unsigned char)name.ptr[i]);
  low[name.len] = '\0';
  if (strcmp(low, "idempotency-key") == 0 ||
      strcmp(low, "x-idempotency-key") == 0)
    return false;
  for (size_t i = 0; i < ARRAY_LEN(secret_words); i++)
    if (strstr(low, secret_words[i])) return true;
  return false;
}

/* ---- The scanner ----------------------------------------------------- */

typedef enum Mode {
  MODE_PLAIN,  /* copy as it is */
  MODE_NESTED, /* look for members called "headers" */
  MODE_HEADERS /* this value is a header container */
} Mode;

typedef struct Range {
  size_t start, end; /* byte offsets into the input, end exclusive */
} Range;

typedef struct Scan {
  const char *s;   /* the input; borrowed */
  size_t len, pos; /* input length and the next byte to read */
  int depth;       /* nesting of objects and arrays */
  Range *ranges;   /* owned; values to replace, ascending and disjoint */
  size_t n_ranges, cap_ranges;
  const char *error; /* static text of the first syntax error, or NULL */
} Scan;

static bool fail_at(Scan *sc, const char *what) {
  if (!sc->error) sc->error = what;
  return false;
}

static void skip_ws(Scan *sc) {
  while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) &&
         sc->s[sc->pos])
    sc->pos++;
}

static bool peek(Scan *sc, char c) {
  skip_ws(sc);
  return sc->pos < sc->len && sc->s[sc->pos] == c;
}

static bool expect(Scan *sc, char c, const char *what) {
  if (!peek(sc, c)) return fail_at(sc, what);
  sc->pos++;
  return true;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Scan a string; if `decoded` is not NULL, append its decoded bytes
** (escapes above U+007F become '?': good enough to compare header names). */
static bool scan_string(Scan *sc, Buf *decoded) {
  if (!expect(sc, '"', "expected a string")) return false;
  while (sc->pos < sc->len) {
    unsigned char c = (unsigned char)sc->s[sc->pos++];
    if (c == '"') return true;
    if (c < 0x20) return fail_at(sc, "control character in a string");
    if (c != '\\') {
      if (decoded) buf_putc(decoded, (char)c);
      continue;
    }
    if (sc->pos >= sc->len) break;
    char e = sc->s[sc->pos++];
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      if (decoded) buf_putc(decoded, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
    } else if (e == 'u') {
      if (sc->len - sc->pos < 4) return fail_at(sc, "short \\u escape");
      int v = 0;
      for (int i = 0; i < 4; i++) {
        int h = hex_value(sc->s[sc->pos++]);
        if (h < 0) return fail_at(sc, "bad \\u escape");
        v = v * 16 + h;
      }
      if (decoded) buf_putc(decoded, v < 0x80 ? (char)v : '?');
    } else {
      return fail_at(sc, "bad escape in a string");
    }
  }
  return fail_at(sc, "unterminated string");
}

static bool scan_number(Scan *sc) {
  size_t start = sc->pos;
  if (sc->pos < sc->len && sc->s[sc->pos] == '-') sc->pos++;
  size_t digits = sc->pos;
  while (sc->pos < sc->len && isdigit((unsigned char)sc->s[sc->pos])) sc->pos++;
  if (sc->pos == digits) return fail_at(sc, "expected a value");
  if (sc->s[digits] == '0' && sc->pos - digits > 1)
    return fail_at(sc, "leading zero in a number");
  if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
    size_t frac = ++sc->pos;
    while (sc->pos < sc->len && isdigit((unsigned char)sc->s[sc->pos]))
      sc->pos++;
    if (sc->pos == frac) return fail_at(sc, "expected digits after '.'");
  }
  if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
    sc->pos++;
    if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
      sc->pos++;
    size_t exp = sc->pos;
    while (sc->pos < sc->len && isdigit((unsigned char)sc->s[sc->pos]))
      sc->pos++;
    if (sc->pos == exp) return fail_at(sc, "expected digits in an exponent");
  }
  return sc->pos > start;
}

static bool scan_value(Scan *sc, Mode mode, Range *span);

static void add_range(Scan *sc, Range r) {
  VEC_PUSH(sc->ranges, sc->n_ranges, sc->cap_ranges, r);
}

/* An element of a header list: ["Name", value...] or
** {"name": .., "value": ..}. */
static bool scan_header_entry(Scan *sc) {
  Buf name;
  buf_init(&name, 4096);
  bool ok = false;
  if (peek(sc, '[')) {
    sc->pos++;
    if (peek(sc, ']')) {
      sc->pos++;
      ok = true;
      goto done;
    }
    if (!scan_string(sc, &name)) goto done;
    bool secret = redact_is_secret_name(buf_str(&name));
    while (peek(sc, ',')) {
      sc->pos++;
      Range r;
      if (!scan_value(sc, MODE_PLAIN, &r)) goto done;
      if (secret) add_range(sc, r);
    }
    ok = expect(sc, ']', "expected ',' or ']'");
  } else if (peek(sc, '{')) {
    /* {"name": "Authorization", "value": "..."}: members in any order. */
    sc->pos++;
    bool secret = false, has_value = false;
    Range value = {0, 0};
    if (!peek(sc, '}')) {
      for (;;) {
        Buf key;
        buf_init(&key, 4096);
        bool key_ok = scan_string(sc, &key);
        bool is_name = key_ok && str_eq_cstr(buf_str(&key), "name");
        bool is_value = key_ok && str_eq_cstr(buf_str(&key), "value");
        buf_fini(&key);
        if (!key_ok || !expect(sc, ':', "expected ':'")) goto done;
        if (is_name && peek(sc, '"')) {
          buf_reset(&name);
          if (!scan_string(sc, &name)) goto done;
          secret = redact_is_secret_name(buf_str(&name));
        } else {
          Range r;
          if (!scan_value(sc, MODE_PLAIN, &r)) goto done;
          if (is_value) {
            value = r;
            has_value = true;
          }
        }
        if (!peek(sc, ',')) break;
        sc->pos++;
      }
    }
    if (!expect(sc, '}', "expected ',' or '}'")) goto done;
    if (secret && has_value) add_range(sc, value);
    ok = true;
  } else {
    ok = scan_value(sc, MODE_NESTED, NULL);
  }
done:
  buf_fini(&name);
  return ok;
}

static bool scan_object(Scan *sc, Mode mode) {
  sc->pos++; /* '{' */
  if (peek(sc, '}')) {
    sc->pos++;
    return true;
  }
  Buf key;
  buf_init(&key, 4096);
  bool ok = false;
  for (;;) {
    buf_reset(&key);
    if (!scan_string(sc, mode == MODE_PLAIN ? NULL : &key)) goto done;
    if (!expect(sc, ':', "expected ':'")) goto done;
    Mode sub = mode;
    bool secret = false;
    if (mode == MODE_HEADERS) {
      secret = redact_is_secret_name(buf_str(&key));
      sub = secret ? MODE_PLAIN : MODE_NESTED;
    } else if (mode == MODE_NESTED) {
      Str k = buf_str(&key);
      sub = (k.len == 7 && strncasecmp(k.ptr, "headers", 7) == 0) ? MODE_HEADERS
                                                                  : MODE_NESTED;
    }
    Range r;
    if (!scan_value(sc, sub, &r)) goto done;
    if (secret) add_range(sc, r);
    if (!peek(sc, ',')) break;
    sc->pos++;
  }
  ok = expect(sc, '}', "expected ',' or '}'");
done:
  buf_fini(&key);
  return ok;
}

static bool scan_array(Scan *sc, Mode mode) {
  sc->pos++; /* '[' */
  if (peek(sc, ']')) {
    sc->pos++;
    return true;
  }
  for (;;) {
    bool ok = mode == MODE_HEADERS ? scan_header_entry(sc)
                                   : scan_value(sc, mode, NULL);
    if (!ok) return false;
    if (!peek(sc, ',')) break;
    sc->pos++;
  }
  return expect(sc, ']', "expected ',' or ']'");
}

/* Scan one value; its byte range goes to `span` when not NULL. */
static bool scan_value(Scan *sc, Mode mode, Range *span) {
  skip_ws(sc);
  if (sc->pos >= sc->len) return fail_at(sc, "unexpected end of the text");
  size_t start = sc->pos;
  bool ok;
  char c = sc->s[sc->pos];
  if (c == '{' || c == '[') {
    if (++sc->depth > MAX_DEPTH) return fail_at(sc, "nested too deeply");
    ok = c == '{' ? scan_object(sc, mode) : scan_array(sc, mode);
    sc->depth--;
  } else if (c == '"') {
    ok = scan_string(sc, NULL);
  } else if (c == 't' || c == 'f' || c == 'n') {
    const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
    size_t n = strlen(word);
    ok = sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, word, n) == 0;
    if (ok)
      sc->pos += n;
    else
      fail_at(sc, "expected a value");
  } else {
    ok = scan_number(sc);
  }
  if (span) *span = (Range){start, sc->pos};
  return ok;
}

/* Scan all of `json` in `mode` and build the redacted copy. */
static IexStatus redact(Str json, Mode mode, char **out, Err *err) {
  Scan sc = {.s = json.ptr, .len = json.len};
  IexStatus rc = IEX_OK;
  Buf b;
  buf_init(&b, 0);
  *out = NULL;
  skip_ws(&sc);
  if (mode == MODE_HEADERS && !peek(&sc, '{') && !peek(&sc, '[')) {
    rc = err_set(
        err, IEX_E_INVALID_JSON,
        "headers must be a JSON object or a list of [name, value] pairs");
    goto done;
  }
  bool ok = scan_value(&sc, mode, NULL);
  skip_ws(&sc);
  if (ok && sc.pos != sc.len) ok = fail_at(&sc, "text after the value");
  if (!ok) {
    rc = err_set(err, IEX_E_INVALID_JSON, "not valid JSON at byte %zu: %s",
                 sc.pos, sc.error ? sc.error : "syntax error");
    goto done;
  }
  size_t at = 0;
  for (size_t i = 0; i < sc.n_ranges; i++) {
    buf_append(&b, json.ptr + at, sc.ranges[i].start - at);
    buf_puts(&b, "\"" REDACTED "\"");
    at = sc.ranges[i].end;
  }
  buf_append(&b, json.ptr + at, json.len - at);
  if (!buf_ok(&b)) {
    rc = err_set(err, IEX_E_INVALID, "JSON of %zu bytes is too large to store",
                 json.len);
    goto done;
  }
  *out = buf_take(&b);
done:
  buf_fini(&b);
  free(sc.ranges);
  return rc;
}

IexStatus redact_headers(Str json, char **out, Err *err) {
  return redact(json, MODE_HEADERS, out, err);
}

IexStatus redact_nested_headers(Str json, char **out, Err *err) {
  return redact(json, MODE_NESTED, out, err);
}

IexStatus redact_check_json(Str json, Err *err) {
  Scan sc = {.s = json.ptr, .len = json.len};
  bool ok = scan_value(&sc, MODE_PLAIN, NULL);
  skip_ws(&sc);
  if (ok && sc.pos != sc.len) ok = fail_at(&sc, "text after the value");
  free(sc.ranges);
  if (ok) return IEX_OK;
  return err_set(err, IEX_E_INVALID_JSON, "not valid JSON at byte %zu: %s",
                 sc.pos, sc.error ? sc.error : "syntax error");
}

/* ---- The reference rule for configs ---------------------------------- */

static bool is_reference(const char *s) {
  return strncmp(s, "env:", 4) == 0 || strncmp(s, "file:", 5) == 0;
}

/* Cut `path` back to `len` bytes, keeping it NUL-terminated. */
static void path_truncate(Buf *path, size_t len) {
  path->len = len;
  if (path->data) path->data[len] = '\0';
}

/* Walk `v` at `path`; on a secret value fill `err` and return its code. */
static IexStatus check_refs(json_t *v, Buf *path, Err *err) {
  size_t path_len = path->len;
  if (json_is_object(v)) {
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member) {
      path_truncate(path, path_len);
      if (path_len) buf_putc(path, '.');
      buf_puts(path, key);
      if (redact_is_secret_name(str_from_cstr(key)) &&
          (json_is_number(member) || json_is_boolean(member) ||
           (json_is_string(member) &&
            !is_reference(json_string_value(member))))) {
        return err_set(
            err, IEX_E_SECRET_VALUE,
            "connections config: `%s` holds a value; store a reference to "
            "it instead (env:NAME or file:/path/to/file)",
            buf_cstr(path));
      }
      IexStatus rc = check_refs(member, path, err);
      if (rc != IEX_OK) return rc;
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
      path_truncate(path, path_len);
      buf_printf(path, "[%zu]", i);
      IexStatus rc = check_refs(item, path, err);
      if (rc != IEX_OK) return rc;
    }
  }
  path_truncate(path, path_len);
  return IEX_OK;
}

IexStatus redact_check_references(Str json, Err *err) {
  json_error_t jerr;
  json_t *root = json_loadb(json.ptr, json.len, JSON_DECODE_ANY, &jerr);
  if (!root)
    return err_set(err, IEX_E_INVALID_JSON,
                   "connections config is not valid JSON: %s (line %d)",
                   jerr.text, jerr.line);
  Buf path;
  buf_init(&path, 4096);
  IexStatus rc = check_refs(root, &path, err);
  buf_fini(&path);
  json_decref(root);
  return rc;
}
