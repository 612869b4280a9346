/*
** The poller (runtime/poller.h).
*/
#include "runtime/poller.h"

#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/datetime.h"
#include "connectors/http.h"
#include "connectors/rec.h"
#include "runtime/clock.h"
#include "runtime/json_value.h"
#include "runtime/retry.h"
#include "runtime/secrets.h"
#include "runtime/serve.h"

static void note(Poller *p, const char *fmt, ...) IEX_PRINTF(2, 3);
static void note(Poller *p, const char *fmt, ...) {
  FILE *f = p->log ? p->log : stderr;
  char t[CLOCK_TEXT_SIZE];
  fprintf(f, "%s poller: ", clock_format_utc(clock_now_us(p->clock), t, sizeof t));
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fflush(f);
}

static void wipe_secret(void *value) { secret_wipe(value, strlen(value)); }

/* Connection.pace of a source connection with `rate_per_second`. */
static void pace_call(void *ctx) {
  int64_t wait;
  while ((wait = rate_take(ctx, clock_now_us(NULL))) > 0) clock_sleep_us(wait);
}

IexStatus poller_connection(const char *connections_json, const char *alias,
                            HttpClient *http, Arena *a, Connection *out,
                            Err *err) {
  memset(out, 0, sizeof *out);
  json_t *root = json_loads(connections_json ? connections_json : "{}", 0, NULL);
  json_t *c = json_object_get(root, alias);
  if (!json_is_object(c)) {
    json_decref(root);
    return err_set(err, IEX_E_NOT_FOUND, "no connection `%s`", alias);
  }
  /* Secret references are read where the executor reads them (the
  ** connection's "secrets" object, docs/runtime.md) and, for connections
  ** written before that, as top-level keys. */
  json_t *nested = json_object_get(c, "secrets");
  size_t n = json_object_size(c) + (json_is_object(nested) ? json_object_size(nested) : 0);
  const char **names = ARENA_NEW_ARRAY(a, const char *, n + 1);
  const char **values = ARENA_NEW_ARRAY(a, const char *, n + 1);
  json_t *sys = json_object_get(c, "system");
  json_t *url = json_object_get(c, "base_url");
  out->name = arena_strndup(a, alias, strlen(alias));
  out->system = json_is_string(sys) ? arena_printf(a, "%s", json_string_value(sys))
                                    : out->name;
  out->base_url = json_is_string(url) ? arena_printf(a, "%s", json_string_value(url)) : "";
  out->http = http;
  json_t *rate = json_object_get(c, "rate_per_second");
  if (json_is_integer(rate) && json_integer_value(rate) > 0) {
    /* The source's rate limit, for this connection's calls (each page). */
    json_t *burst = json_object_get(c, "burst");
    RateLimiter *rl = ARENA_NEW(a, RateLimiter);
    rate_init(rl, json_integer_value(rate),
              json_is_integer(burst) ? json_integer_value(burst) : 1);
    out->pace = pace_call;
    out->pace_ctx = rl;
  }
  const char *key;
  json_t *v;
  IexStatus rc = IEX_OK;
  json_t *scopes[2] = {c, json_is_object(nested) ? nested : NULL};
  for (int sc = 0; sc < 2 && scopes[sc] && rc == IEX_OK; sc++) {
    json_object_foreach(scopes[sc], key, v) {
    if (!json_is_string(v) || !secret_is_reference(json_string_value(v))) continue;
    char secret[2048];
    rc = secret_resolve(json_string_value(v), secret, sizeof secret, err);
    if (rc != IEX_OK) {
      err_prefix(err, "connection %s, %s", alias, key);
      break;
    }
    names[out->n_secrets] = arena_printf(a, "%s", key);
    char *value = arena_printf(a, "%s", secret);
    /* The arena's memory goes back to malloc: wipe the value first. */
    arena_on_free(a, wipe_secret, value);
    values[out->n_secrets++] = value;
    secret_wipe(secret, sizeof secret);
    }
  }
  out->secret_names = names;
  out->secret_values = values;
  json_decref(root);
  return rc;
}

int64_t poller_record_time(Value rec, Arena *a, const char **text) {
  static const char *const fields[] = {"updated_at", "date_modified_gmt",
                                       "date_modified", "created_at",
                                       "date_created_gmt"};
  if (text) *text = NULL;
  for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
    Value v = rec_get(rec, fields[i]);
    DateTime dt;
    if (v.kind != VAL_STRING || !datetime_parse(value_as_str(v), &dt, NULL))
      continue;
    if (text) *text = rec_text(a, v);
    return dt.secs * 1000000 + dt.usec;
  }
  return 0;
}

/* The record types `alias` polls: config "poll" (a list of names), else
** "order". */
static size_t poll_types(const char *config, const char *alias, Arena *a,
                         const char **types, size_t max) {
  json_t *root = json_loads(config ? config : "{}", 0, NULL);
  json_t *list = json_object_get(json_object_get(root, alias), "poll");
  size_t n = 0;
  if (json_is_array(list)) {
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
      if (json_is_string(t) && n < max)
        types[n++] = arena_printf(a, "%s", json_string_value(t));
    }
  } else {
    types[n++] = "order";
  }
  json_decref(root);
  return n;
}

static void iso_utc(int64_t us, char *out, size_t size) {
  DateTime dt = {.secs = us / 1000000, .usec = 0, .offset_min = 0, .flags = 0};
  char t[DATETIME_TEXT_SIZE];
  datetime_format_iso(dt, t);
  snprintf(out, size, "%s", t);
}

/* Poll one record type of one connection. */
static IexStatus poll_type(Poller *p, Store *s, const StoreIntegration *it,
                           const Connector *cn, const Connection *conn,
                           const char *type, Err *err) {
  Arena a;
  arena_init(&a);
  const char *stored = NULL;
  IexStatus rc = store_cursor_get(s, it->id, type, &a, &stored, err);
  char cursor_key[160];
  snprintf(cursor_key, sizeof cursor_key, "%s/%s", conn->name, type);
  if (rc == IEX_OK) rc = store_cursor_get(s, it->id, cursor_key, &a, &stored, err);
  if (rc != IEX_OK) {
    arena_fini(&a);
    return rc;
  }
  int64_t high = it->activated_at_us;
  DateTime dt;
  if (stored && datetime_parse(str_from_cstr(stored), &dt, NULL))
    high = dt.secs * 1000000;
  char since[64];
  /* One second back: records sharing the cursor's second are listed
  ** again and deduplicated, rather than missed. */
  iso_utc(high - 1000000, since, sizeof since);
  char page_cursor[sizeof ((ListPage *)0)->next_cursor] = "";
  int64_t added = 0, seen = 0;
  Arena page_arena;
  arena_init(&page_arena);
  for (;;) {
    arena_reset(&page_arena);
    ListPage page;
    memset(&page, 0, sizeof page);
    rc = cn->list(conn, &page_arena, type, page_cursor, since, &page, err);
    if (rc != IEX_OK) break;
    bool last = page.next_cursor[0] == '\0' || serve_stopping();
    /* The last page and the cursor go together; earlier pages alone
    ** (their events are safe to see again). */
    if (last && (rc = store_begin(s, err)) != IEX_OK) break;
    for (uint32_t i = 0; rc == IEX_OK && page.records.kind == VAL_LIST &&
                         i < page.records.len; i++) {
      Value r = page.records.as.items[i];
      const char *ttext = NULL;
      int64_t t = poller_record_time(r, &page_arena, &ttext);
      const char *id = rec_text(&page_arena, rec_get(r, "id"));
      if (!id) continue;
      seen++;
      if (t > high) high = t;
      Buf body;
      buf_init(&body, 0);
      if (!jsonv_encode(r, &body, NULL)) {
        buf_fini(&body);
        rc = err_set(err, IEX_E_INVALID, "a %s record of %s cannot be encoded", type,
                     conn->system);
        break;
      }
      char key[256];
      snprintf(key, sizeof key, "poll:%s:%s:%s", type, id, ttext ? ttext : "");
      StoreEvent ev = {.integration_id = it->id, .dedup_key = key, .source = "poll",
                       .topic = type, .headers_json = NULL, .body = buf_str(&body)};
      int64_t eid;
      bool dup = false;
      rc = store_inbox_add(s, &ev, &eid, &dup, err);
      buf_fini(&body);
      if (rc == IEX_OK && !dup) added++;
    }
    if (last) {
      if (rc == IEX_OK) {
        char hi[64];
        iso_utc(high, hi, sizeof hi);
        rc = store_cursor_set(s, it->id, cursor_key, hi, err);
      }
      if (rc == IEX_OK) rc = store_commit(s, err);
      else store_rollback(s);
      break;
    }
    snprintf(page_cursor, sizeof page_cursor, "%s", page.next_cursor);
  }
  if (rc == IEX_OK && added)
    note(p, "%s/%s: %lld new %s event(s) of %lld listed", it->name, conn->name,
         (long long)added, type, (long long)seen);
  p->n_events += added;
  arena_fini(&page_arena);
  arena_fini(&a);
  return rc;
}

/* ---- Webhook subscriptions ------------------------------------------------ */

/* Whether a subscription's address is this integration's endpoint. */
static bool ours(const char *address, const char *integration, const char *alias) {
  char path[300];
  snprintf(path, sizeof path, "/webhooks/%s/%s", integration, alias);
  const char *at = address ? strstr(address, path) : NULL;
  return at && (at[strlen(path)] == '\0' || at[strlen(path)] == '?');
}

static IexStatus notify(Poller *p, Store *s, const StoreIntegration *it,
                        const char *key, const char *subject, Err *err) {
  StoreMessageNew m = {.key = key, .kind = "notification", .recipient = "operator",
                       .subject = subject,
                       .body = "Webhook deliveries will not arrive; iex goes on "
                               "polling. Re-create or re-activate the webhook "
                               "in the shop to get changes sooner.",
                       .transfer_id = 0};
  bool created = false;
  IexStatus rc = store_outbox_add(s, &m, NULL, &created, err);
  if (rc == IEX_OK && created) note(p, "%s: notice: %s", it->name, subject);
  return rc;
}

static IexStatus check_webhooks(Poller *p, Store *s, const StoreIntegration *it,
                                const Connection *conn, Err *err) {
  bool shopify = strcmp(conn->system, "shopify") == 0;
  if (!shopify && strcmp(conn->system, "woocommerce") != 0) return IEX_OK;
  Arena a;
  arena_init(&a);
  HttpRequest req = {.style = shopify ? HTTP_STYLE_SHOPIFY : HTTP_STYLE_WOOCOMMERCE,
                     .method = "GET",
                     .url = shopify ? "/webhooks.json?limit=250" : "/webhooks?per_page=100",
                     .body = value_null(),
                     .what = "the list of webhooks"};
  HttpAnswer ans;
  IexStatus rc = http_call(conn, &a, &req, &ans, err);
  if (rc != IEX_OK) {
    arena_fini(&a);
    return rc;
  }
  Value items = shopify ? rec_get(ans.json, "webhooks") : ans.json;
  Buf active;
  buf_init(&active, 4096);
  buf_putc(&active, ',');
  for (uint32_t i = 0; items.kind == VAL_LIST && i < items.len; i++) {
    Value w = items.as.items[i];
    const char *addr = rec_text(&a, rec_get(w, shopify ? "address" : "delivery_url"));
    const char *status = shopify ? "active" : rec_text(&a, rec_get(w, "status"));
    const char *id = rec_text(&a, rec_get(w, "id"));
    if (id && ours(addr, it->name, conn->name) && status && strcmp(status, "active") == 0)
      buf_printf(&active, "%s,", id);
  }
  char ckey[160];
  snprintf(ckey, sizeof ckey, "%s/webhooks", conn->name);
  const char *before = NULL;
  rc = store_cursor_get(s, it->id, ckey, &a, &before, err);
  /* Every id active before and not now: removed or disabled. */
  for (const char *q = before ? before + 1 : ""; rc == IEX_OK && *q;) {
    const char *comma = strchr(q, ',');
    if (!comma) break;
    char needle[80];
    snprintf(needle, sizeof needle, ",%.*s,", (int)(comma - q), q);
    if (!strstr(buf_cstr(&active), needle)) {
      char key[256], subject[300];
      snprintf(key, sizeof key, "webhook-gone:%s:%s:%.*s", it->name, conn->name,
               (int)(comma - q), q);
      snprintf(subject, sizeof subject,
               "%s: the %s webhook subscription %.*s for connection %s was "
               "removed or disabled",
               it->name, conn->system, (int)(comma - q), q, conn->name);
      rc = notify(p, s, it, key, subject, err);
    }
    q = comma + 1;
  }
  if (rc == IEX_OK && strcmp(buf_cstr(&active), ",") == 0 && !before) {
    char key[256], subject[300];
    snprintf(key, sizeof key, "webhook-none:%s:%s", it->name, conn->name);
    snprintf(subject, sizeof subject,
             "%s: %s sends no webhooks for connection %s; only polling finds changes",
             it->name, conn->system, conn->name);
    rc = notify(p, s, it, key, subject, err);
  }
  if (rc == IEX_OK && (!before || strcmp(before, buf_cstr(&active)) != 0))
    rc = store_cursor_set(s, it->id, ckey, buf_cstr(&active), err);
  buf_fini(&active);
  arena_fini(&a);
  return rc;
}

/* ---- Integrations --------------------------------------------------------- */

IexStatus poller_poll_integration(Poller *p, Store *s, const StoreIntegration *it,
                                  Err *err) {
  json_t *root = json_loads(it->connections_json ? it->connections_json : "{}", 0, NULL);
  IexStatus first = IEX_OK;
  const char *alias;
  json_t *c;
  json_object_foreach(root, alias, c) {
    if (serve_stopping()) break;
    json_t *sys = json_object_get(c, "system");
    const Connector *cn = p->find(json_is_string(sys) ? json_string_value(sys) : alias);
    if (!cn || !cn->list) continue;
    Arena a;
    arena_init(&a);
    Connection conn;
    Err e;
    err_init(&e);
    IexStatus rc = poller_connection(it->connections_json, alias, p->http, &a, &conn, &e);
    if (rc == IEX_OK && !conn.base_url[0]) {
      arena_fini(&a); /* nowhere to poll (webhooks only) */
      continue;
    }
    const char *types[16];
    size_t n = rc == IEX_OK ? poll_types(it->connections_json, alias, &a, types, 16) : 0;
    for (size_t i = 0; rc == IEX_OK && i < n; i++)
      rc = poll_type(p, s, it, cn, &conn, types[i], &e);
    if (rc == IEX_OK && json_is_true(json_object_get(c, "webhooks")))
      rc = check_webhooks(p, s, it, &conn, &e);
    if (rc != IEX_OK) {
      note(p, "%s/%s: %s", it->name, alias, err_text(&e));
      if (first == IEX_OK) {
        first = rc;
        if (err) *err = e;
      }
    }
    arena_fini(&a);
  }
  json_decref(root);
  return first;
}

IexStatus poller_poll_all(void *ctx, Store *s, Err *err) {
  Poller *p = ctx;
  Arena a;
  arena_init(&a);
  StoreIntegration *items;
  size_t n;
  IexStatus rc = store_integration_list(s, &a, &items, &n, err);
  IexStatus first = rc;
  for (size_t i = 0; rc == IEX_OK && i < n && !serve_stopping(); i++) {
    if (!items[i].is_active) continue;
    Arena one;
    arena_init(&one);
    StoreIntegration full;
    Err e;
    err_init(&e);
    /* The list leaves out nothing the poller needs but is re-read so the
    ** config is current. */
    IexStatus r = store_integration_get(s, items[i].id, &one, &full, &e);
    if (r == IEX_OK) r = poller_poll_integration(p, s, &full, &e);
    if (r != IEX_OK && first == IEX_OK) {
      first = r;
      if (err) *err = e;
    }
    arena_fini(&one);
  }
  arena_fini(&a);
  return first;
}
