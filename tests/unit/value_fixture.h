/*
** Value builders the unit tests share (test_value, test_json,
** test_lua_bridge, test_vm and the stdlib tests through test_stdlib.h):
** S("text"), DEC("1.50"), DAY("2025-03-14"), DT("2025-03-14T09:30:00Z"),
** LIST(n, v...), REC(n, "k", v, ...), J("{json}"), and DEBUG(v), which
** renders a value with value_debug() into a static buffer.
**
** LIST, REC and J build in the arena `A`, which the test program
** initializes. Each test program is one file linked with check.o and
** libiex.a only, so everything here is `static` (inline, so a program need
** not use all of it).
*/
#ifndef IEX_TESTS_UNIT_VALUE_FIXTURE_H
#define IEX_TESTS_UNIT_VALUE_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "runtime/json_value.h"
#include "runtime/value.h"

static Arena A;

static inline Value S(const char *s) { return value_string(s, strlen(s)); }
static inline Value DEC(const char *s) {
  Decimal d;
  if (decimal_parse(str_from_cstr(s), &d, NULL) != DECIMAL_OK) iex_fatal("bad decimal %s", s);
  return value_decimal(d);
}
static inline Value DAY(const char *s) {
  int32_t days;
  if (!date_parse(str_from_cstr(s), &days, NULL)) iex_fatal("bad date %s", s);
  return value_date(days);
}
static inline Value DT(const char *s) {
  DateTime dt;
  if (!datetime_parse(str_from_cstr(s), &dt, NULL)) iex_fatal("bad datetime %s", s);
  return value_datetime(dt);
}
static inline Value LIST(int n, ...) {
  va_list ap;
  ListBuilder b;
  list_builder_init(&b, &A, 0);
  va_start(ap, n);
  for (int i = 0; i < n; i++) list_builder_push(&b, va_arg(ap, Value));
  va_end(ap);
  return list_builder_finish(&b);
}
/* REC(n, "k1", v1, "k2", v2, ...) */
static inline Value REC(int n, ...) {
  va_list ap;
  RecordBuilder b;
  record_builder_init(&b, &A, 0);
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    const char *k = va_arg(ap, const char *);
    record_builder_add(&b, str_from_cstr(k), va_arg(ap, Value));
  }
  va_end(ap);
  return record_builder_finish(&b);
}

/* Decode `text` (a C string) or stop the test program saying why. */
static inline Value J(const char *text) {
  Value v;
  JsonvError err;
  if (!jsonv_decode(&A, str_from_cstr(text), NULL, &v, &err)) {
    char msg[300];
    iex_fatal("test JSON does not decode: %s: %s", jsonv_error_text(&err, msg, sizeof msg), text);
  }
  return v;
}

/* `v` as value_debug() shows it, in a static buffer. */
static inline const char *DEBUG(Value v) {
  static char text[4096];
  Buf b;
  buf_init(&b, sizeof text - 1);
  value_debug(v, &b);
  snprintf(text, sizeof text, "%s", buf_cstr(&b));
  buf_fini(&b);
  return text;
}

#endif /* IEX_TESTS_UNIT_VALUE_FIXTURE_H */
