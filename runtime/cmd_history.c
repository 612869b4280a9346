/*
** `iex log`, `iex show`, `iex usage`: the transfer history and the month's
** usage, for people (and for tools with --json).
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "runtime/cli.h"
#include "runtime/clock.h"
#include "runtime/cmd_common.h"
#include "runtime/json_value.h"
#include "runtime/settings.h"

/* Add a string field (NULL: null) to a record under construction. */
static void add_text(RecordBuilder *rb, const char *key, const char *v) {
  Value s = v ? value_string(v, strlen(v)) : value_null();
  record_builder_add(rb, str_from_cstr(key), s);
}

static const char *time_text(int64_t us, Arena *a) {
  if (!us) return NULL;
  char buf[CLOCK_TEXT_SIZE];
  clock_format_utc(us, buf, sizeof buf);
  return arena_strndup(a, buf, strlen(buf));
}

int cmd_log(int argc, char **argv) {
  bool json = cmd_flag(&argc, argv, "json");
  const char *status = cmd_option(&argc, argv, "status");
  const char *integration = cmd_option(&argc, argv, "integration");
  const char *order = cmd_option(&argc, argv, "order");
  const char *from = cmd_option(&argc, argv, "from");
  const char *to = cmd_option(&argc, argv, "to");
  const char *limit = cmd_option(&argc, argv, "limit");
  Store *s = cmd_open_store("log", &argc, argv);
  if (!s) return 2;
  StoreLogFilter f = {.status = STORE_RUN_ANY, .key = order, .limit = 50};
  const char *bad = cmd_unknown_option(argc, argv);
  int rc = 0;
  if (bad || argc != 1)
    rc = cli_usage_error("log", bad ? "unknown option %s" : "takes only options", bad);
  else if (status && !store_run_status_parse(status, &f.status))
    rc = cli_usage_error("log", "--status `%s`: use done, skipped, failed, "
                                "waiting, attention, queued or running", status);
  else if (from && !cmd_parse_time(from, &f.from_us))
    rc = cli_usage_error("log", "--from `%s` is not a date", from);
  else if (to && !cmd_parse_time(to, &f.to_us))
    rc = cli_usage_error("log", "--to `%s` is not a date", to);
  if (rc == 0 && to && strlen(to) == 10) f.to_us += 86400 * INT64_C(1000000); /* a whole day */
  if (rc == 0 && limit) f.limit = (size_t)strtoul(limit, NULL, 10);
  Arena a;
  arena_init(&a);
  StoreIntegration ig;
  if (rc == 0 && integration) {
    if (cmd_find_integration(s, "log", integration, &a, &ig))
      f.integration_id = ig.id;
    else
      rc = 1;
  }
  StoreTransfer *items = NULL;
  size_t n = 0;
  Err err;
  err_init(&err);
  if (rc == 0 && store_log(s, &f, &a, &items, &n, &err) != IEX_OK) {
    fprintf(stderr, "iex log: %s\n", err_text(&err));
    rc = 2;
  }
  if (rc == 0 && json) {
    ListBuilder lb;
    list_builder_init(&lb, &a, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
      StoreTransfer *t = &items[i];
      RecordBuilder rb;
      record_builder_init(&rb, &a, 11);
      record_builder_add(&rb, STR_LIT("id"), value_int(t->id));
      add_text(&rb, "integration", t->integration_name);
      add_text(&rb, "source_id", t->source_id);
      add_text(&rb, "key", t->display_key);
      add_text(&rb, "status", store_run_status_name(t->status));
      add_text(&rb, "code", t->code);
      add_text(&rb, "message", t->message);
      add_text(&rb, "location", t->location);
      record_builder_add(&rb, STR_LIT("revisions"), value_int(t->n_revisions));
      record_builder_add(&rb, STR_LIT("runs"), value_int(t->n_runs));
      add_text(&rb, "updated_at", time_text(t->updated_at_us, &a));
      list_builder_push(&lb, record_builder_finish(&rb));
    }
    const char *text = jsonv_encode_arena(list_builder_finish(&lb), &a);
    if (text) {
      printf("%s\n", text);
    } else {
      /* Never a shorter list that looks complete. */
      fprintf(stderr, "iex log: the transfers cannot be written as JSON (a "
                      "stored text is not UTF-8); see them without --json\n");
      rc = 2;
    }
  } else if (rc == 0) {
    for (size_t i = 0; i < n; i++) {
      StoreTransfer *t = &items[i];
      char at[CLOCK_TEXT_SIZE];
      clock_format_utc(t->updated_at_us, at, sizeof at);
      at[19] = '\0'; /* to the second, for reading */
      printf("%-6lld %-20s %-12s %-9s %sZ", (long long)t->id,
             t->integration_name ? t->integration_name : "",
             t->display_key ? t->display_key : t->source_id,
             store_run_status_name(t->status), at);
      if (t->message) printf("  %s", t->message);
      if (t->location) printf(" (%s)", t->location);
      printf("\n");
    }
    if (n == 0) printf("no transfers\n");
  }
  arena_fini(&a);
  store_close(s);
  return rc;
}

/* ---- show ------------------------------------------------------------- */

static void print_value(Value v) {
  Buf b;
  buf_init(&b, 0);
  if (value_kind(v) == VAL_NULL)
    buf_puts(&b, "(none)");
  else
    jsonv_encode(v, &b, NULL);
  printf("%s", buf_cstr(&b));
  buf_fini(&b);
}

/* Print what differs between `a` and `b` under `path`. Returns the count. */
static int diff(Value a, Value b, Buf *path) {
  if (value_kind(a) == VAL_RECORD && value_kind(b) == VAL_RECORD) {
    int n = 0;
    size_t at = path->len;
    for (uint32_t i = 0; i < a.len; i++) {
      const Field *f = value_field_at(a, i);
      const Value *other = value_field(b, f->key, NULL);
      buf_printf(path, "%s%.*s", at ? "." : "", STR_FMT(f->key));
      n += diff(f->value, other ? *other : value_null(), path);
      path->len = at;
      path->data[at] = '\0';
    }
    for (uint32_t i = 0; i < b.len; i++) {
      const Field *f = value_field_at(b, i);
      if (value_field(a, f->key, NULL)) continue;
      buf_printf(path, "%s%.*s", at ? "." : "", STR_FMT(f->key));
      n += diff(value_null(), f->value, path);
      path->len = at;
      path->data[at] = '\0';
    }
    return n;
  }
  if (value_kind(a) == VAL_LIST && value_kind(b) == VAL_LIST) {
    int n = 0;
    size_t at = path->len;
    uint32_t max = a.len > b.len ? a.len : b.len;
    for (uint32_t i = 0; i < max; i++) {
      buf_printf(path, "[%u]", i);
      n += diff(i < a.len ? a.as.items[i] : value_null(),
                i < b.len ? b.as.items[i] : value_null(), path);
      path->len = at;
      path->data[at] = '\0';
    }
    return n;
  }
  if (value_equal(a, b)) return 0;
  printf("      %s: ", path->len ? path->data : "(record)");
  print_value(a);
  printf(" -> ");
  print_value(b);
  printf("\n");
  return 1;
}

/* "reason: CODE: message at file:line:col"; a done one with a message
** (what a connector did instead, a skipped later update) is a note. */
static void print_outcome(const char *code, const char *message,
                          const char *location, const char *indent) {
  if (code && strcmp(code, "OK") == 0) code = NULL;
  if (!code && !message) return;
  if (!code) {
    printf("%s%s%s%s\n", indent, message, location ? " at " : "",
           location ? location : "");
    return;
  }
  printf("%s%s%s%s%s%s\n", indent, code ? code : "", message ? ": " : "",
         message ? message : "", location ? " at " : "",
         location ? location : "");
}

int cmd_show(int argc, char **argv) {
  Store *s = cmd_open_store("show", &argc, argv);
  if (!s) return 2;
  if (argc != 2 || cmd_unknown_option(argc, argv)) {
    store_close(s);
    return cli_usage_error("show", "give one transfer id");
  }
  int64_t id = 0;
  Arena a;
  arena_init(&a);
  StoreTransferDetail d;
  Err err;
  err_init(&err);
  int rc = 0;
  if (!cmd_resolve_transfer(s, "show", argv[1], &id)) {
    arena_fini(&a);
    store_close(s);
    return 1;
  }
  if (store_transfer_show(s, id, &a, &d, &err) != IEX_OK) {
    fprintf(stderr, "iex show: transfer %lld: %s\n", (long long)id, err_text(&err));
    arena_fini(&a);
    store_close(s);
    return 1;
  }
  StoreTransfer *t = &d.transfer;
  printf("transfer %lld: %s %s (source id %s)\n", (long long)t->id,
         t->integration_name, t->display_key ? t->display_key : t->source_id,
         t->source_id);
  printf("  status: %s\n", store_run_status_name(t->status));
  if (t->message || (t->code && strcmp(t->code, "OK") != 0))
    print_outcome(t->code, t->message, t->location,
                  t->status == STORE_RUN_DONE ? "  note: " : "  reason: ");
  printf("\nevents (%zu):\n", d.n_events);
  for (size_t i = 0; i < d.n_events; i++)
    printf("  #%lld %s %s at %s, %s%s\n", (long long)d.events[i].id,
           d.events[i].source, d.events[i].dedup_key,
           time_text(d.events[i].received_at_us, &a),
           d.events[i].outcome ? d.events[i].outcome : "pending",
           d.events[i].n_duplicates
               ? arena_printf(&a, " (%lld duplicates ignored)",
                              (long long)d.events[i].n_duplicates)
               : "");
  printf("\nrevisions (%zu):\n", d.n_revisions);
  Value prev = value_null();
  for (size_t i = 0; i < d.n_revisions; i++) {
    StoreRevision *r = &d.revisions[i];
    printf("  revision %lld, stored %s%s%s\n", (long long)r->number,
           time_text(r->created_at_us, &a), r->source_time ? ", updated " : "",
           r->source_time ? r->source_time : "");
    Value cur;
    if (!jsonv_decode(&a, str_from_cstr(r->data_json), NULL, &cur, NULL))
      cur = value_null();
    if (i == 0) {
      cmd_print_json(r->data_json, "    ");
    } else {
      printf("    changes from revision %lld:\n", (long long)r->number - 1);
      Buf path;
      buf_init(&path, 0);
      buf_puts(&path, "");
      if (diff(prev, cur, &path) == 0) printf("      (none)\n");
      buf_fini(&path);
    }
    prev = cur;
  }
  printf("\nruns (%zu):\n", d.n_runs);
  for (size_t i = 0; i < d.n_runs; i++) {
    StoreRun *r = &d.runs[i];
    int64_t rev_no = 0;
    for (size_t j = 0; j < d.n_revisions; j++)
      if (d.revisions[j].id == r->revision_id) rev_no = d.revisions[j].number;
    printf("  run %lld (revision %lld, attempt %lld, %s): %s%s%s\n",
           (long long)r->id, (long long)rev_no, (long long)r->attempt,
           r->reason ? r->reason : "-", store_run_status_name(r->status),
           r->started_at_us ? ", started " : "",
           r->started_at_us ? time_text(r->started_at_us, &a) : "");
    if (r->message || (r->code && strcmp(r->code, "OK") != 0))
      print_outcome(r->code, r->message, r->location,
                    r->status == STORE_RUN_DONE ? "    note: " : "    reason: ");
    for (size_t j = 0; j < d.n_stages; j++) {
      StoreStage *st = &d.stages[j];
      if (st->run_id != r->id) continue;
      printf("    [%s]%s%s\n", store_stage_kind_name(st->kind),
             st->step && *st->step ? " " : "", st->step ? st->step : "");
      if (st->code && strcmp(st->code, "OK") != 0)
        print_outcome(st->code, st->message, st->location, "      ");
      else if (st->message)
        printf("      %s\n", st->message);
      if (st->data_json) cmd_print_json(st->data_json, "      ");
    }
  }
  printf("\neffects (%zu):\n", d.n_effects);
  for (size_t i = 0; i < d.n_effects; i++) {
    StoreEffect *e = &d.effects[i];
    printf("  %s: %s %s, %s, reference %s, %lld attempts%s%s%s%s\n", e->key,
           e->target_system, e->operation, store_effect_state_name(e->state),
           e->reference, (long long)e->attempts,
           e->external_id ? ", id " : "", e->external_id ? e->external_id : "",
           e->reason ? ": " : "", e->reason ? e->reason : "");
  }
  arena_fini(&a);
  store_close(s);
  return rc;
}

/* ---- usage ------------------------------------------------------------ */

/* One row of `iex usage`: the month's figures of an integration, or the
** total. */
static Value usage_record(Arena *a, const char *name, const StoreUsage *u) {
  RecordBuilder rb;
  record_builder_init(&rb, a, 5);
  if (name) add_text(&rb, "name", name);
  record_builder_add(&rb, STR_LIT("orders"), value_int(u->used));
  record_builder_add(&rb, STR_LIT("included"), value_int(u->included));
  record_builder_add(&rb, STR_LIT("extra"), value_int(u->extra));
  record_builder_add(&rb, STR_LIT("quota"), value_int(u->quota));
  return record_builder_finish(&rb);
}

static void usage_row(int width, const char *name, const StoreUsage *u) {
  printf("%-*s %8lld %9lld %9lld %9lld\n", width, name, (long long)u->used,
         (long long)u->included, (long long)u->quota, (long long)u->extra);
}

/* Each integration's orders of the month measured against its own quota,
** the built-in setting included_orders (settings.h), and their total. */
int cmd_usage(int argc, char **argv) {
  bool json = cmd_flag(&argc, argv, "json");
  const char *month = cmd_option(&argc, argv, "month");
  const char *integration = cmd_option(&argc, argv, "integration");
  Store *s = cmd_open_store("usage", &argc, argv);
  if (!s) return 2;
  int y, m;
  clock_utc_month(clock_now_us(NULL), &y, &m);
  int rc = 0;
  const char *bad = cmd_unknown_option(argc, argv);
  if (bad || argc != 1)
    rc = cli_usage_error("usage", bad ? "unknown option %s" : "takes only options", bad);
  else if (month && (sscanf(month, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12))
    rc = cli_usage_error("usage", "--month `%s`: use YYYY-MM", month);
  Arena a;
  arena_init(&a);
  Err err;
  err_init(&err);
  StoreIntegration *items = NULL, one;
  size_t n = 0;
  if (rc == 0 && integration) {
    if (cmd_find_integration(s, "usage", integration, &a, &one)) {
      items = &one;
      n = 1;
    } else {
      rc = 1;
    }
  } else if (rc == 0 && store_integration_list(s, &a, &items, &n, &err) != IEX_OK) {
    fprintf(stderr, "iex usage: %s\n", err_text(&err));
    rc = 2;
  }
  StoreUsage *rows = n ? arena_zalloc(&a, sizeof *rows * n) : NULL;
  StoreUsage total = {.year = y, .month = m};
  for (size_t i = 0; rc == 0 && i < n; i++) {
    int64_t quota;
    if (settings_included_orders(s, items[i].id, &quota, &err) != IEX_OK ||
        store_usage_month(s, y, m, quota, items[i].id, &rows[i], &err) != IEX_OK) {
      fprintf(stderr, "iex usage: %s: %s\n", items[i].name, err_text(&err));
      rc = 2;
      break;
    }
    /* Included orders are within each integration's own quota: the total
    ** adds them up, it is not the total orders against the summed quota. */
    total.used += rows[i].used;
    total.included += rows[i].included;
    total.extra += rows[i].extra;
    total.quota += rows[i].quota;
  }
  if (rc == 0 && json) {
    ListBuilder lb;
    list_builder_init(&lb, &a, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
      list_builder_push(&lb, usage_record(&a, items[i].name, &rows[i]));
    RecordBuilder rb;
    record_builder_init(&rb, &a, 3);
    add_text(&rb, "month", arena_printf(&a, "%04d-%02d", y, m));
    record_builder_add(&rb, STR_LIT("integrations"), list_builder_finish(&lb));
    record_builder_add(&rb, STR_LIT("total"), usage_record(&a, NULL, &total));
    const char *text = jsonv_encode_arena(record_builder_finish(&rb), &a);
    if (text) {
      printf("%s\n", text);
    } else {
      fprintf(stderr, "iex usage: the figures cannot be written as JSON\n");
      rc = 2;
    }
  } else if (rc == 0) {
    int width = 24;
    for (size_t i = 0; i < n; i++)
      if ((int)strlen(items[i].name) > width) width = (int)strlen(items[i].name);
    printf("usage %04d-%02d (UTC)\n", y, m);
    printf("%-*s %8s %9s %9s %9s\n", width, "integration", "orders", "included",
           "quota", "extra");
    for (size_t i = 0; i < n; i++) usage_row(width, items[i].name, &rows[i]);
    usage_row(width, "total", &total);
  }
  arena_fini(&a);
  store_close(s);
  return rc;
}
