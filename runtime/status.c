/*
** The tables behind status.h, generated from status.def, and the Err
** helpers.
*/
#include "runtime/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  StatusGroup group;
  const char *message;
} status_table[] = {
#define STATUS(name, group, message) {#name, STATUS_GROUP_##group, message},
#include "runtime/status.def"
#undef STATUS
};
_Static_assert(ARRAY_LEN(status_table) == IEX__STATUS_COUNT,
               "status_table must have one entry per code");

static bool valid(IexStatus code) {
  return (unsigned)code < (unsigned)IEX__STATUS_COUNT;
}

const char *status_message(IexStatus code) {
  return valid(code) ? status_table[code].message : "unknown result code";
}

StatusGroup status_group(IexStatus code) {
  return valid(code) ? status_table[code].group : STATUS_GROUP_INTERNAL;
}

const char *status_name(IexStatus code) {
  return valid(code) ? status_table[code].name : "E_UNKNOWN";
}

const char *status_group_name(StatusGroup group) {
  switch (group) {
  case STATUS_GROUP_OK: return "ok";
  case STATUS_GROUP_SKIP: return "skip";
  case STATUS_GROUP_RETRY: return "retry";
  case STATUS_GROUP_FAIL: return "fail";
  case STATUS_GROUP_RECONCILE: return "reconcile";
  case STATUS_GROUP_INTERNAL: return "internal";
  }
  return "internal";
}

bool status_from_name(const char *name, IexStatus *out) {
  for (size_t i = 0; i < ARRAY_LEN(status_table); i++) {
    if (strcmp(status_table[i].name, name) == 0) {
      *out = (IexStatus)i;
      return true;
    }
  }
  return false;
}

void err_init(Err *e) {
  e->code = IEX_OK;
  e->http_status = 0;
  e->retry_after_us = 0;
  e->location[0] = '\0';
  e->message[0] = '\0';
}

IexStatus err_set(Err *e, IexStatus code, const char *fmt, ...) {
  if (!e) return code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  e->code = code;
  return code;
}

void err_prefix(Err *e, const char *fmt, ...) {
  if (!e) return;
  char old[sizeof e->message];
  snprintf(old, sizeof old, "%s",
           e->message[0] ? e->message : status_message(e->code));
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  /* Append ": old" by hand, cutting at the buffer's end. */
  size_t at = n < 0 ? 0 : IEX_MIN((size_t)n, sizeof e->message - 1);
  const char *parts[] = {": ", old};
  for (size_t p = 0; p < 2; p++) {
    size_t len = IEX_MIN(strlen(parts[p]), sizeof e->message - 1 - at);
    memcpy(e->message + at, parts[p], len);
    at += len;
  }
  e->message[at] = '\0';
}

void err_set_location(Err *e, const char *location) {
  if (!e) return;
  snprintf(e->location, sizeof e->location, "%s", location ? location : "");
}

const char *err_text(const Err *e) {
  return e->message[0] ? e->message : status_message(e->code);
}
