/*
** `iex integration add|list|show|activate|deactivate|resume` and
** `iex settings get|set`: what an integration is and how it is set up,
** and the health of its connections (paused after repeated failures, and
** resumed by hand).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "runtime/cli.h"
#include "runtime/clock.h"
#include "runtime/cmd_common.h"
#include "runtime/executor.h"
#include "runtime/json_value.h"
#include "runtime/secrets.h"
#include "runtime/settings.h"

#define MAX_FLOW_BYTES ((size_t)64 * 1024 * 1024)

/* The connections JSON from --connections: a file, or inline JSON. Every
** member of a connection's "secrets" must be a reference. */
static char *read_connections(const char *arg, Arena *a) {
  char *text;
  if (arg[0] == '{') {
    text = arena_strndup(a, arg, strlen(arg));
  } else {
    char why[256];
    size_t len;
    char *buf = read_file(arg, 1 << 20, &len, why, sizeof why);
    if (!buf) {
      fprintf(stderr, "iex integration: cannot read %s: %s\n", arg, why);
      return NULL;
    }
    text = arena_strndup(a, buf, len);
    free(buf);
  }
  Value v;
  JsonvError je;
  if (!jsonv_decode(a, str_from_cstr(text), NULL, &v, &je) ||
      value_kind(v) != VAL_RECORD) {
    fprintf(stderr, "iex integration: the connections must be a JSON object "
                    "of connections by alias\n");
    return NULL;
  }
  for (uint32_t i = 0; i < v.len; i++) {
    const Field *c = value_field_at(v, i);
    const Value *sec = value_kind(c->value) == VAL_RECORD
                           ? value_field(c->value, STR_LIT("secrets"), NULL)
                           : NULL;
    for (uint32_t j = 0; sec && value_kind(*sec) == VAL_RECORD && j < sec->len;
         j++) {
      const Field *f = value_field_at(*sec, j);
      Str ref = value_kind(f->value) == VAL_STRING ? value_as_str(f->value)
                                                   : STR_LIT("");
      if (!secret_is_reference(arena_strndup(a, ref.ptr, ref.len))) {
        /* Never echo the value: it may be the secret itself. */
        fprintf(stderr,
                "iex integration: connection %.*s, secret %.*s: give a "
                "reference (env:NAME or file:/path), not the value\n",
                STR_FMT(c->key), STR_FMT(f->key));
        return NULL;
      }
    }
  }
  return text;
}

static int integration_add(int argc, char **argv) {
  const char *flow_path = cmd_option(&argc, argv, "flow");
  const char *conns = cmd_option(&argc, argv, "connections");
  const char *from = cmd_option(&argc, argv, "activate-at");
  bool inactive = cmd_flag(&argc, argv, "inactive");
  Store *s = cmd_open_store("integration", &argc, argv);
  if (!s) return 2;
  int status = 2;
  Arena a;
  arena_init(&a);
  char *bytes = NULL;
  Flow flow;
  memset(&flow, 0, sizeof flow);
  if (cmd_unknown_option(argc, argv) || argc != 2 || !flow_path ||
      !*flow_path) {
    cli_usage_error("integration", "add NAME --flow FILE.iexb [--connections "
                                   "FILE|JSON] [--activate-at TIME] [--inactive]");
    goto out;
  }
  char why[256];
  size_t len;
  bytes = read_file(flow_path, MAX_FLOW_BYTES, &len, why, sizeof why);
  if (!bytes) {
    fprintf(stderr, "iex integration: cannot read %s: %s\n", flow_path, why);
    goto out;
  }
  Err err;
  err_init(&err);
  if (flow_load(str_make(bytes, len), flow_path, &flow, &err) != IEX_OK) {
    fprintf(stderr, "iex integration: %s\n", err_text(&err));
    status = 1;
    goto out;
  }
  const char *cj = conns ? read_connections(conns, &a) : "{}";
  if (!cj) goto out;
  int64_t at = clock_now_us(NULL);
  if (from && !cmd_parse_time(from, &at)) {
    fprintf(stderr, "iex integration: --activate-at `%s` is not a date or "
                    "date-time\n", from);
    goto out;
  }
  char hash[32];
  snprintf(hash, sizeof hash, "%016llx",
           (unsigned long long)hash_bytes(bytes, len));
  StoreIntegrationNew in = {.name = argv[1],
                            .iexb = str_make(bytes, len),
                            .iexb_hash = hash,
                            .connections_json = cj,
                            .activated_at_us = at,
                            .is_active = !inactive};
  int64_t id;
  if (store_integration_add(s, &in, &id, &err) != IEX_OK) {
    fprintf(stderr, "iex integration: %s\n", err_text(&err));
    status = 1;
    goto out;
  }
  printf("added integration %s (id %lld, flow %s, %s)\n", argv[1],
         (long long)id, flow.info.name, inactive ? "inactive" : "active");
  status = 0;
out:
  flow_close(&flow);
  free(bytes);
  arena_fini(&a);
  store_close(s);
  return status;
}

static int integration_list(int argc, char **argv) {
  bool json = cmd_flag(&argc, argv, "json");
  Store *s = cmd_open_store("integration", &argc, argv);
  if (!s) return 2;
  if (argc != 1 || cmd_unknown_option(argc, argv)) {
    store_close(s);
    return cli_usage_error("integration", "list takes only --json");
  }
  Arena a;
  arena_init(&a);
  StoreIntegration *items;
  size_t n;
  Err err;
  err_init(&err);
  int status = 0;
  if (store_integration_list(s, &a, &items, &n, &err) != IEX_OK) {
    fprintf(stderr, "iex integration: %s\n", err_text(&err));
    status = 2;
  } else {
    if (json) printf("[");
    for (size_t i = 0; i < n; i++) {
      char at[CLOCK_TEXT_SIZE];
      clock_format_utc(items[i].activated_at_us, at, sizeof at);
      if (json)
        printf("%s{\"id\":%lld,\"name\":\"%s\",\"active\":%s,"
               "\"activated_at\":\"%s\",\"flow_hash\":\"%s\"}",
               i ? "," : "", (long long)items[i].id, items[i].name,
               items[i].is_active ? "true" : "false", at,
               items[i].iexb_hash ? items[i].iexb_hash : "");
      else
        printf("%-24s %-8s since %s\n", items[i].name,
               items[i].is_active ? "active" : "inactive", at);
    }
    if (json) printf("]\n");
  }
  arena_fini(&a);
  store_close(s);
  return status;
}

/* ---- Connection health ---------------------------------------------------- */

/* The aliases of the integration's connections JSON, then those only the
** store still knows (a connection since removed that was paused). */
static const char **connection_aliases(Store *s, const StoreIntegration *ig,
                                       Arena *a, size_t *n_out) {
  Value conns = value_null();
  JsonvError je;
  const char *cj = ig->connections_json ? ig->connections_json : "{}";
  if (!jsonv_decode(a, str_from_cstr(cj), NULL, &conns, &je) ||
      value_kind(conns) != VAL_RECORD)
    conns = value_null();
  StoreConnectionHealth *stored = NULL;
  size_t n_stored = 0;
  if (store_connection_health_list(s, ig->id, a, &stored, &n_stored, NULL) !=
      IEX_OK)
    n_stored = 0;
  size_t n_conf = value_kind(conns) == VAL_RECORD ? conns.len : 0, n = 0;
  const char **out = arena_alloc(a, (n_conf + n_stored + 1) * sizeof *out);
  for (size_t i = 0; i < n_conf; i++) {
    const Field *f = value_field_at(conns, (uint32_t)i);
    out[n++] = arena_strndup(a, f->key.ptr, f->key.len);
  }
  for (size_t i = 0; i < n_stored; i++) {
    bool known = false;
    for (size_t j = 0; j < n_conf && !known; j++)
      known = strcmp(out[j], stored[i].alias) == 0;
    if (!known) out[n++] = stored[i].alias;
  }
  *n_out = n;
  return out;
}

/* One line for people: "paused until ... after 5 failures (last: ...)". */
static void print_health(const StoreConnectionHealth *h, int64_t now) {
  char at[CLOCK_TEXT_SIZE];
  const char *code = h->last_error_code ? h->last_error_code : "-";
  const char *last = h->last_error ? h->last_error : "";
  const char *sep = *last ? ": " : "";
  switch (h->state) {
  case STORE_CIRCUIT_CLOSED:
    if (h->failures == 0)
      printf("    %s: ok\n", h->alias);
    else
      printf("    %s: ok, %lld failures in a row (last: %s%s%s)\n", h->alias,
             (long long)h->failures, code, sep, last);
    break;
  case STORE_CIRCUIT_OPEN:
    clock_format_utc_seconds(h->retry_at_us, at, sizeof at);
    printf("    %s: paused until %s%s after %lld failures (last: %s%s%s)\n",
           h->alias, at, now >= h->retry_at_us ? " (over: the next call tries)"
                                               : "",
           (long long)h->failures, code, sep, last);
    break;
  case STORE_CIRCUIT_HALF_OPEN:
    clock_format_utc_seconds(h->retry_at_us, at, sizeof at);
    printf("    %s: paused, one trial call out (until %s at most) after "
           "%lld failures (last: %s%s%s)\n",
           h->alias, at, (long long)h->failures, code, sep, last);
    break;
  }
}

static void show_health(Store *s, const StoreIntegration *ig, Arena *a) {
  size_t n;
  const char **aliases = connection_aliases(s, ig, a, &n);
  int64_t now = clock_now_us(NULL);
  bool paused = false;
  printf("  health:\n");
  for (size_t i = 0; i < n; i++) {
    StoreConnectionHealth h;
    Err err;
    err_init(&err);
    if (store_connection_health(s, ig->id, aliases[i], a, &h, &err) != IEX_OK) {
      printf("    %s: ? (%s)\n", aliases[i], err_text(&err));
      continue;
    }
    print_health(&h, now);
    paused |= h.state != STORE_CIRCUIT_CLOSED;
  }
  if (n == 0) printf("    (no connections)\n");
  if (paused)
    printf("  Once the cause is fixed, `iex integration resume %s` ends the "
           "pause now.\n",
           ig->name);
}

/* `iex integration resume NAME [CONNECTION]`: a person fixed the cause;
** close the circuit(s) now and let the transfers that waited for the
** pause run at once, instead of at the end of the pause. */
static int integration_resume(int argc, char **argv) {
  Store *s = cmd_open_store("integration", &argc, argv);
  if (!s) return 2;
  if ((argc != 2 && argc != 3) || cmd_unknown_option(argc, argv)) {
    store_close(s);
    return cli_usage_error("integration", "resume NAME [CONNECTION]");
  }
  Arena a;
  arena_init(&a);
  StoreIntegration ig;
  int status = 1;
  Err err;
  err_init(&err);
  if (!cmd_find_integration(s, "integration", argv[1], &a, &ig)) goto out;
  size_t n;
  const char **aliases = connection_aliases(s, &ig, &a, &n);
  if (argc == 3) {
    bool known = false;
    for (size_t i = 0; i < n && !known; i++)
      known = strcmp(aliases[i], argv[2]) == 0;
    if (!known) {
      fprintf(stderr, "iex integration: %s has no connection `%s`; its "
                      "connections:", ig.name, argv[2]);
      for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", aliases[i]);
      fprintf(stderr, "%s\n", n ? "" : " none");
      goto out;
    }
    aliases = (const char **)&argv[2];
    n = 1;
  }
  /* What each was, to say so; then close them all and wake the waiting
  ** runs in one transaction. */
  StoreConnectionHealth *before = arena_alloc(&a, (n + 1) * sizeof *before);
  IexStatus rc = IEX_OK;
  for (size_t i = 0; i < n && rc == IEX_OK; i++)
    rc = store_connection_health(s, ig.id, aliases[i], &a, &before[i], &err);
  size_t woken = 0, resumed = 0;
  if (rc == IEX_OK) rc = store_begin(s, &err);
  if (rc == IEX_OK) {
    for (size_t i = 0; i < n && rc == IEX_OK; i++) {
      bool was_paused = false;
      rc = store_circuit_close(s, ig.id, aliases[i], &was_paused, &err);
      resumed += was_paused;
    }
    if (rc == IEX_OK && resumed)
      rc = store_runs_due_now(s, ig.id, &woken, &err);
    if (rc == IEX_OK)
      rc = store_commit(s, &err);
    else
      store_rollback(s);
  }
  if (rc != IEX_OK) {
    fprintf(stderr, "iex integration: %s\n", err_text(&err));
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    char at[CLOCK_TEXT_SIZE];
    if (before[i].state == STORE_CIRCUIT_CLOSED) {
      printf("%s was not paused\n", aliases[i]);
      continue;
    }
    clock_format_utc_seconds(before[i].retry_at_us, at, sizeof at);
    printf("resumed %s of %s (was paused until %s after %lld failures)\n",
           aliases[i], ig.name, at, (long long)before[i].failures);
  }
  if (resumed)
    printf("%zu waiting transfers run now (iex serve) or at the next iex "
           "run\n",
           woken);
  status = 0;
out:
  arena_fini(&a);
  store_close(s);
  return status;
}

/* One line per setting of `vals` (declared by `decl`, in its order): the
** value, and whether it is the default; `kind` ("built-in" or "") is said
** in the same parentheses. */
static void print_setting_values(Value vals, const FlowSetting *decl,
                                 const char *stored, const char *kind,
                                 Arena *a) {
  for (uint32_t i = 0; i < vals.len; i++) {
    const Field *f = value_field_at(vals, i);
    bool set = settings_is_set(stored, decl[i].name, a);
    const char *json = jsonv_encode_arena(f->value, a);
    printf("    %-28.*s %s", STR_FMT(f->key), json ? json : "?");
    if (*kind || !set)
      printf("  (%s%s%s)", kind, *kind && !set ? ", " : "", set ? "" : "default");
    printf("\n");
  }
}

static int integration_show(int argc, char **argv) {
  Store *s = cmd_open_store("integration", &argc, argv);
  if (!s) return 2;
  if (argc != 2 || cmd_unknown_option(argc, argv)) {
    store_close(s);
    return cli_usage_error("integration", "show NAME");
  }
  Arena a;
  arena_init(&a);
  StoreIntegration ig;
  int status = 1;
  if (cmd_find_integration(s, "integration", argv[1], &a, &ig)) {
    char at[CLOCK_TEXT_SIZE];
    clock_format_utc(ig.activated_at_us, at, sizeof at);
    Flow flow;
    Err err;
    err_init(&err);
    bool loaded = flow_load(ig.iexb, ig.name, &flow, &err) == IEX_OK;
    printf("integration %s (id %lld)\n", ig.name, (long long)ig.id);
    printf("  status:      %s\n", ig.is_active ? "active" : "inactive");
    printf("  activated:   %s\n", at);
    printf("  flow:        %s (hash %s)\n", loaded ? flow.info.name : "?",
           ig.iexb_hash ? ig.iexb_hash : "-");
    printf("  connections:\n");
    cmd_print_json(ig.connections_json, "    ");
    show_health(s, &ig, &a);
    /* The flow's settings, then the runtime's own (the monthly quota),
    ** whatever the flow. */
    printf("  settings:\n");
    const char *stored = NULL;
    store_settings_get(s, ig.id, &a, &stored, NULL);
    Value vals;
    if (loaded) {
      if (settings_values(s, ig.id, flow.info.settings, flow.info.n_settings,
                          &a, &vals, &err) == IEX_OK)
        print_setting_values(vals, flow.info.settings, stored, "", &a);
      flow_close(&flow);
    }
    size_t nb;
    const FlowSetting *builtins = settings_builtins(&nb);
    if (settings_builtin_values(s, ig.id, &a, &vals, &err) == IEX_OK)
      print_setting_values(vals, builtins, stored, "built-in", &a);
    status = 0;
  }
  arena_fini(&a);
  store_close(s);
  return status;
}

static int integration_activate(int argc, char **argv, bool on) {
  const char *from = on ? cmd_option(&argc, argv, "from") : NULL;
  Store *s = cmd_open_store("integration", &argc, argv);
  if (!s) return 2;
  if (argc != 2 || cmd_unknown_option(argc, argv)) {
    store_close(s);
    return cli_usage_error("integration", on ? "activate NAME [--from TIME]"
                                             : "deactivate NAME");
  }
  int64_t at = 0;
  if (from && !cmd_parse_time(from, &at)) {
    store_close(s);
    return cli_usage_error("integration", "--from `%s` is not a date", from);
  }
  Arena a;
  arena_init(&a);
  StoreIntegration ig;
  int status = 1;
  Err err;
  err_init(&err);
  if (cmd_find_integration(s, "integration", argv[1], &a, &ig)) {
    IexStatus rc = on ? store_integration_activate(s, ig.id, at, &err)
                      : store_integration_deactivate(s, ig.id, &err);
    if (rc == IEX_OK) {
      printf("%s %s\n", on ? "activated" : "deactivated", ig.name);
      status = 0;
    } else {
      fprintf(stderr, "iex integration: %s\n", err_text(&err));
    }
  }
  arena_fini(&a);
  store_close(s);
  return status;
}

int cmd_integration(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("integration", "which: add, list, show, activate, "
                                          "deactivate, resume?");
  const char *sub = argv[1];
  /* The subcommand's argv: argv[0] is the subcommand. */
  if (strcmp(sub, "add") == 0) return integration_add(argc - 1, argv + 1);
  if (strcmp(sub, "list") == 0) return integration_list(argc - 1, argv + 1);
  if (strcmp(sub, "show") == 0) return integration_show(argc - 1, argv + 1);
  if (strcmp(sub, "activate") == 0)
    return integration_activate(argc - 1, argv + 1, true);
  if (strcmp(sub, "deactivate") == 0)
    return integration_activate(argc - 1, argv + 1, false);
  if (strcmp(sub, "resume") == 0) return integration_resume(argc - 1, argv + 1);
  return cli_usage_error("integration", "no subcommand `%s`", sub);
}

/* ---- iex settings -------------------------------------------------------- */

int cmd_settings(int argc, char **argv) {
  if (argc < 3)
    return cli_usage_error("settings", "give get or set, and the integration");
  const char *sub = argv[1];
  bool get = strcmp(sub, "get") == 0, set = strcmp(sub, "set") == 0;
  if (!get && !set) return cli_usage_error("settings", "no subcommand `%s`", sub);
  argc--;
  argv++;
  Store *s = cmd_open_store("settings", &argc, argv);
  if (!s) return 2;
  if (cmd_unknown_option(argc, argv) || (get && (argc < 2 || argc > 3)) ||
      (set && argc != 4)) {
    store_close(s);
    return cli_usage_error("settings", get ? "get INTEGRATION [NAME]"
                                           : "set INTEGRATION NAME VALUE");
  }
  Arena a;
  arena_init(&a);
  StoreIntegration ig;
  Flow flow;
  memset(&flow, 0, sizeof flow);
  Err err;
  err_init(&err);
  int status = 1;
  if (!cmd_find_integration(s, "settings", argv[1], &a, &ig)) goto out;
  /* A built-in is the runtime's, not the flow's: it can be read and set
  ** also when this iex cannot load the integration's flow. */
  bool loaded = flow_load(ig.iexb, ig.name, &flow, &err) == IEX_OK;
  if (!loaded && !(argc >= 3 && setting_builtin(argv[2]))) {
    fprintf(stderr, "iex settings: %s\n", err_text(&err));
    goto out;
  }
  const FlowSetting *decl = loaded ? flow.info.settings : NULL;
  size_t n = loaded ? flow.info.n_settings : 0;
  if (set) {
    if (settings_set(s, ig.id, decl, n, argv[2], argv[3], &err) != IEX_OK) {
      fprintf(stderr, "iex settings: %s\n", err_text(&err));
      goto out;
    }
    printf("%s.%s = %s\n", ig.name, argv[2], argv[3]);
    status = 0;
    goto out;
  }
  if (argc == 3 && !setting_find(decl, n, argv[2])) {
    settings_set(s, ig.id, decl, n, argv[2], "", &err); /* for the message */
    fprintf(stderr, "iex settings: %s\n", err_text(&err));
    goto out;
  }
  const char *stored = NULL;
  Value vals, builtin_vals;
  size_t nb;
  const FlowSetting *builtin = settings_builtins(&nb);
  if (store_settings_get(s, ig.id, &a, &stored, &err) != IEX_OK ||
      settings_values(s, ig.id, decl, n, &a, &vals, &err) != IEX_OK ||
      settings_builtin_values(s, ig.id, &a, &builtin_vals, &err) != IEX_OK) {
    fprintf(stderr, "iex settings: %s\n", err_text(&err));
    goto out;
  }
  /* The flow's settings, then the built-ins every integration has. */
  for (size_t k = 0; k < 2; k++) {
    const FlowSetting *d = k ? builtin : decl;
    Value v = k ? builtin_vals : vals;
    for (uint32_t i = 0; i < v.len; i++) {
      const Field *f = value_field_at(v, i);
      /* A flow's setting of a built-in's name: the built-in is meant. */
      if (!k && setting_builtin(d[i].name)) continue;
      if (argc == 3 && !str_eq_cstr(f->key, argv[2])) continue;
      const char *json = jsonv_encode_arena(f->value, &a);
      if (!json) json = "?";
      if (argc == 3)
        printf("%s\n", json);
      else
        printf("%-28s = %-20s %s%s%s  %s\n", d[i].name, json,
               setting_type_text(&d[i], &a),
               settings_is_set(stored, d[i].name, &a) ? "" : ", default",
               k ? ", built-in" : "", d[i].doc ? d[i].doc : "");
    }
  }
  status = 0;
out:
  flow_close(&flow);
  arena_fini(&a);
  store_close(s);
  return status;
}
