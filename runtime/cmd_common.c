/*
** Helpers of the runtime's commands (runtime/cmd_common.h).
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/datetime.h"
#include "runtime/cmd_common.h"
#include "runtime/json_value.h"

static void drop(int *argc, char **argv, int at, int n) {
  for (int i = at; i + n <= *argc; i++) argv[i] = argv[i + n];
  *argc -= n;
}

const char *cmd_option(int *argc, char **argv, const char *name) {
  size_t len = strlen(name);
  for (int i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, len) != 0) continue;
    if (a[2 + len] == '=') {
      drop(argc, argv, i, 1);
      return a + 3 + len;
    }
    if (a[2 + len] != '\0') continue;
    if (i + 1 >= *argc) {
      drop(argc, argv, i, 1);
      return "";
    }
    const char *v = argv[i + 1];
    drop(argc, argv, i, 2);
    return v;
  }
  return NULL;
}

bool cmd_flag(int *argc, char **argv, const char *name) {
  for (int i = 1; i < *argc; i++)
    if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0) {
      drop(argc, argv, i, 1);
      return true;
    }
  return false;
}

const char *cmd_unknown_option(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--", 2) == 0) return argv[i];
  return NULL;
}

Store *cmd_open_store(const char *command, int *argc, char **argv) {
  const char *path = cmd_option(argc, argv, "store");
  if (!path || !*path) path = getenv("IEX_STORE");
  if (!path || !*path) path = "iex.db";
  Store *s = NULL;
  Err err;
  err_init(&err);
  if (store_open(path, NULL, &s, &err) != IEX_OK) {
    fprintf(stderr, "iex %s: %s\n", command, err_text(&err));
    return NULL;
  }
  return s;
}

bool cmd_find_integration(Store *s, const char *command, const char *name,
                     Arena *a, StoreIntegration *out) {
  Err err;
  err_init(&err);
  if (store_integration_find(s, name, a, out, &err) == IEX_OK) return true;
  if (err.code == IEX_E_NOT_FOUND)
    fprintf(stderr, "iex %s: no integration `%s` (see `iex integration list`)\n",
            command, name);
  else
    fprintf(stderr, "iex %s: %s\n", command, err_text(&err));
  return false;
}

bool cmd_parse_time(const char *text, int64_t *out_us) {
  int32_t days;
  if (date_parse(str_from_cstr(text), &days, NULL)) {
    *out_us = (int64_t)days * 86400 * INT64_C(1000000);
    return true;
  }
  DateTime dt;
  if (datetime_parse(str_from_cstr(text), &dt, NULL)) {
    *out_us = dt.secs * INT64_C(1000000) + dt.usec;
    return true;
  }
  return false;
}

void cmd_print_json(const char *json, const char *indent) {
  if (!json) {
    printf("%snull\n", indent);
    return;
  }
  Arena a;
  arena_init(&a);
  Value v;
  Buf b;
  buf_init(&b, 0);
  if (jsonv_decode(&a, str_from_cstr(json), NULL, &v, NULL) &&
      jsonv_encode_pretty(v, &b, NULL)) {
    const char *p = buf_cstr(&b);
    while (*p) {
      const char *nl = strchr(p, '\n');
      size_t n = nl ? (size_t)(nl - p) : strlen(p);
      printf("%s%.*s\n", indent, (int)n, p);
      p += n + (nl ? 1 : 0);
    }
  } else {
    printf("%s%s\n", indent, json);
  }
  buf_fini(&b);
  arena_fini(&a);
}

/* The transfer named by `text`: its id, or a display key / source id that
** names exactly one transfer ("#1001", "1001"). */
bool cmd_resolve_transfer(Store *s, const char *command, const char *text,
                          int64_t *id) {
  bool digits = *text != '\0';
  for (const char *p = text; *p; p++) digits = digits && isdigit((unsigned char)*p);
  Arena a;
  arena_init(&a);
  Err err;
  err_init(&err);
  bool ok = false;
  StoreTransfer t;
  if (digits && store_transfer_get(s, strtoll(text, NULL, 10), &a, &t, &err) == IEX_OK) {
    *id = t.id;
    ok = true;
  } else {
    StoreLogFilter f = {.status = STORE_RUN_ANY, .key = text, .limit = 2};
    StoreTransfer *items;
    size_t n = 0;
    if (store_log(s, &f, &a, &items, &n, &err) != IEX_OK)
      fprintf(stderr, "iex %s: %s\n", command, err_text(&err));
    else if (n == 0)
      fprintf(stderr, "iex %s: no transfer `%s` (see `iex log`)\n", command, text);
    else if (n > 1)
      fprintf(stderr, "iex %s: `%s` names several transfers; give its id "
                      "(see `iex log --order %s`)\n", command, text, text);
    else {
      *id = items[0].id;
      ok = true;
    }
  }
  arena_fini(&a);
  return ok;
}
