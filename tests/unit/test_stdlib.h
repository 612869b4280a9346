/*
** Helpers shared by the stdlib unit tests (tests/unit/test_stdlib_*.c):
** value constructors (with those of value_fixture.h), and R(), which calls a function through the
** registry and renders the result (value_debug) or the error, so a test
** reads as `CHECK_EQ_STR(R(STD_trim, 1, S(" a ")), "\"a\"")`.
**
** R() also checks the calling convention: the number of arguments given
** must be the signature's parameter count (so a test that forgets a
** default fails), and a failure must leave a lower-case message without
** a final period, while a success must leave none.
*/
#ifndef IEX_TESTS_UNIT_TEST_STDLIB_H
#define IEX_TESTS_UNIT_TEST_STDLIB_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/tz.h"
#include "common/util.h"
#include "runtime/value.h"
#include "stdlib/stdlib.h"
#include "tests/lib/check.h"
#include "tests/unit/value_fixture.h"

static Buf ERR;
static TzDb *TZ;
static Rounding ROUNDING = ROUND_HALF_UP;
static Value NOW;

static inline void stdlib_test_init(void) {
  arena_init(&A);
  buf_init(&ERR, 4096);
  TZ = tz_db_new(NULL);
  DateTime now;
  datetime_parse(STR_LIT("2025-03-14T09:30:00+01:00"), &now, NULL);
  NOW = value_datetime(now);
}

static inline void stdlib_test_fini(void) {
  tz_db_free(TZ);
  buf_fini(&ERR);
  arena_fini(&A);
}

static inline Value I(int64_t i) { return value_int(i); }
static inline Value B(bool b) { return value_bool(b); }
static inline Value N(void) { return value_null(); }

/* The number of parameters of a signature "(a: T, b: T = x) -> R". */
static inline uint32_t signature_params(const char *sig) {
  uint32_t n = 0, depth = 0;
  bool any = false, quoted = false;
  for (const char *p = sig; *p; p++) {
    if (quoted) {
      if (*p == '\\' && p[1]) p++;
      else if (*p == '"') quoted = false;
      continue;
    }
    if (*p == '"') quoted = true;
    else if (*p == '(' || *p == '{') depth++;
    else if (*p == '}') depth--;
    else if (*p == ')') {
      if (--depth == 0) break;
    } else if (depth == 1 && *p == ',') n++;
    else if (depth == 1 && *p != ' ') any = true;
  }
  return any ? n + 1 : 0;
}

/* Call function `f` with `n` arguments; the rendered result or "error: …". */
static inline const char *R(StdFunction f, int n, ...) {
  static char results[16][4096];
  static int next;
  char *text = results[next++ % 16];
  Value args[16], out = value_null();
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n && i < 16; i++) args[i] = va_arg(ap, Value);
  va_end(ap);
  const StdEntry *e = &std_functions[f];
  if (signature_params(e->signature) != (uint32_t)n) {
    snprintf(text, 4096, "test bug: %s takes %u arguments, not %d", e->name,
             signature_params(e->signature), n);
    return text;
  }
  StdCall call = {&A, args, (uint32_t)n, ROUNDING, NOW, TZ, &ERR};
  buf_reset(&ERR);
  bool ok = e->fn(&call, &out);
  Buf b;
  buf_init(&b, 4000);
  if (ok) {
    if (ERR.len) buf_printf(&b, "bug: success with a message: %s", buf_cstr(&ERR));
    else value_debug(out, &b);
  } else {
    const char *m = buf_cstr(&ERR);
    size_t len = strlen(m);
    if (len == 0) buf_puts(&b, "bug: failure without a message");
    else if (m[0] >= 'A' && m[0] <= 'Z' && strncmp(m, "VAT", 3) != 0)
      buf_printf(&b, "bug: message starts upper-case: %s", m);
    else if (m[len - 1] == '.') buf_printf(&b, "bug: message ends with a period: %s", m);
    else buf_printf(&b, "error: %s", m);
  }
  snprintf(text, 4096, "%s", buf_cstr(&b));
  buf_fini(&b);
  return text;
}

/* Whether R()'s text starts with `prefix` (for long error messages). */
#define CHECK_PREFIX(text, prefix)                                                  \
  do { const char *t_ = (text), *p_ = (prefix);                                    \
       if (strncmp(t_, p_, strlen(p_)) != 0)                                       \
         check_fail(__FILE__, __LINE__, "%s is \"%s\", expected it to start with \"%s\"", \
                    #text, t_, p_); } while (0)

#endif /* IEX_TESTS_UNIT_TEST_STDLIB_H */
