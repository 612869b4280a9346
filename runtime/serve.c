/*
** iex serve: HTTP server, webhook intake, JSON API, worker and poller
** threads, graceful shutdown (runtime/serve.h).
*/
#include "runtime/serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "connectors/webhook.h"
#include "runtime/secrets.h"

#define DEFAULT_MAX_BODY ((size_t)1024 * 1024)
#define DEFAULT_POLL_US ((int64_t)60 * 1000000)
#define DEFAULT_GRACE_US ((int64_t)10 * 1000000)
#define MAX_HEADERS 64

static volatile sig_atomic_t stop_requested;

void serve_request_stop(void) { stop_requested = 1; }
bool serve_stopping(void) { return stop_requested != 0; }

/* Sleep up to `us`, waking early when a stop is requested. */
static void nap(int64_t us) {
  while (us > 0 && !serve_stopping()) {
    int64_t step = us < 100000 ? us : 100000;
    struct timespec ts = {(time_t)(step / 1000000), (long)(step % 1000000) * 1000};
    nanosleep(&ts, NULL);
    us -= step;
  }
}

/* ---- A little JSON writer (API answers embed stored JSON text as is) -- */

static void jw_str(Buf *b, const char *s) {
  if (!s) {
    buf_puts(b, "null");
    return;
  }
  buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      buf_putc(b, '\\');
      buf_putc(b, (char)*p);
    } else if (*p < 0x20) {
      buf_printf(b, "\\u%04x", *p);
    } else {
      buf_putc(b, (char)*p);
    }
  }
  buf_putc(b, '"');
}

/* `"key":` with a leading comma unless it is the first member. */
static void jw_key(Buf *b, bool *first, const char *key) {
  if (!*first) buf_putc(b, ',');
  *first = false;
  jw_str(b, key);
  buf_putc(b, ':');
}

static void jw_time(Buf *b, int64_t us) {
  if (!us) {
    buf_puts(b, "null");
    return;
  }
  char t[CLOCK_TEXT_SIZE];
  jw_str(b, clock_format_utc(us, t, sizeof t));
}

/* Stored JSON is checked by the store, so it is embedded unchanged. */
static void jw_raw(Buf *b, const char *json) { buf_puts(b, json ? json : "null"); }

/* ---- The server's state ----------------------------------------------- */

typedef struct Server {
  const ServeOptions *opt;
  Store *store; /* the HTTP thread's handle */
  FILE *log;
  pthread_mutex_t log_lock;
  int64_t started_us;
  int n_workers_running;
} Server;

static void logf_(Server *sv, const char *fmt, ...) IEX_PRINTF(2, 3);
static void logf_(Server *sv, const char *fmt, ...) {
  char t[CLOCK_TEXT_SIZE];
  clock_format_utc(clock_now_us(sv->opt->clock), t, sizeof t);
  pthread_mutex_lock(&sv->log_lock);
  fprintf(sv->log, "%s ", t);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(sv->log, fmt, ap);
  va_end(ap);
  fputc('\n', sv->log);
  fflush(sv->log);
  pthread_mutex_unlock(&sv->log_lock);
}

/* One request being received. */
typedef struct Request {
  Buf body;
  bool too_large;
} Request;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *content_type, Buf *body) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      body->len, body->data ? body->data : (void *)"", MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", content_type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  enum MHD_Result rc = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return rc;
}

/* {"error": message} with `status`. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status,
                                   const char *message) {
  Buf b;
  buf_init(&b, 4096);
  buf_puts(&b, "{\"error\":");
  jw_str(&b, message);
  buf_puts(&b, "}\n");
  enum MHD_Result rc = reply(c, status, "application/json", &b);
  buf_fini(&b);
  return rc;
}

/* ---- Webhooks ----------------------------------------------------------- */

typedef struct HeaderList {
  WebhookHeader h[MAX_HEADERS];
  size_t n;
} HeaderList;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  HeaderList *l = cls;
  if (l->n < MAX_HEADERS) l->h[l->n++] = (WebhookHeader){key, value ? value : ""};
  return MHD_YES;
}

/* The connection `alias` of the integration's config: its system and the
** reference of its signing secret, copied into `system`/`ref`. */
static bool find_connection(const char *config, const char *alias,
                            char *system, size_t system_size, char *ref,
                            size_t ref_size) {
  json_t *root = json_loads(config ? config : "{}", 0, NULL);
  json_t *conn = json_object_get(root, alias);
  bool ok = json_is_object(conn);
  if (ok) {
    json_t *sys = json_object_get(conn, "system");
    snprintf(system, system_size, "%s",
             json_is_string(sys) ? json_string_value(sys) : alias);
    static const char *const names[] = {"webhook_secret", "client_secret",
                                        "secret"};
    ref[0] = '\0';
    for (size_t i = 0; i < ARRAY_LEN(names) && !ref[0]; i++) {
      json_t *r = json_object_get(conn, names[i]);
      if (json_is_string(r)) snprintf(ref, ref_size, "%s", json_string_value(r));
    }
  }
  json_decref(root);
  return ok;
}

/* The headers as a JSON list of [name, value] pairs (the store redacts
** secret ones). NULL when jansson cannot encode them. */
static char *headers_json(const HeaderList *l) {
  json_t *list = json_array();
  for (size_t i = 0; i < l->n; i++) {
    json_t *pair = json_pack("[ss]", l->h[i].name, l->h[i].value);
    if (pair) json_array_append_new(list, pair);
  }
  char *text = json_dumps(list, JSON_COMPACT);
  json_decref(list);
  return text;
}

static enum MHD_Result handle_webhook(Server *sv, struct MHD_Connection *c,
                                      const char *integration,
                                      const char *alias, Request *rq) {
  Arena a;
  arena_init(&a);
  Err err;
  err_init(&err);
  enum MHD_Result rc;
  StoreIntegration it;
  char system[64], ref[512], secret[1024];
  secret[0] = '\0';
  if (store_integration_find(sv->store, integration, &a, &it, &err) != IEX_OK) {
    logf_(sv, "webhook %s/%s: refused (no such integration)", integration, alias);
    rc = reply_error(c, MHD_HTTP_NOT_FOUND, "no such integration");
    goto done;
  }
  if (!find_connection(it.connections_json, alias, system, sizeof system, ref,
                       sizeof ref)) {
    logf_(sv, "webhook %s/%s: refused (no such connection)", integration, alias);
    rc = reply_error(c, MHD_HTTP_NOT_FOUND, "no such connection");
    goto done;
  }
  if (ref[0] &&
      secret_resolve(ref, secret, sizeof secret, &err) != IEX_OK) {
    /* Our configuration is broken, not the delivery: 503 makes the shop
    ** retry once someone has fixed it. */
    logf_(sv, "webhook %s/%s: cannot verify: %s", integration, alias,
          err_text(&err));
    rc = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "the webhook secret is not available");
    goto done;
  }
  HeaderList hl = {.n = 0};
  MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
  WebhookCheck chk = {.system = system,
                      .secret = secret,
                      .headers = hl.h,
                      .n_headers = hl.n,
                      .body = rq->body.data ? rq->body.data : "",
                      .body_len = rq->body.len,
                      .now_us = clock_now_us(sv->opt->clock),
                      .replay_window_us = sv->opt->replay_window_us};
  WebhookDelivery d;
  char why[256] = "";
  WebhookVerdict v = webhook_verify(&chk, &d, why, sizeof why);
  if (v == WEBHOOK_PING) {
    logf_(sv, "webhook %s/%s: ping answered", integration, alias);
    Buf b;
    buf_init(&b, 64);
    buf_puts(&b, "{\"ok\":true,\"ping\":true}\n");
    rc = reply(c, MHD_HTTP_OK, "application/json", &b);
    buf_fini(&b);
    goto done;
  }
  if (v != WEBHOOK_OK) {
    logf_(sv, "webhook %s/%s: refused (%s): %s", integration, alias,
          webhook_verdict_name(v), why);
    rc = reply_error(c, (unsigned)webhook_http_status(v), why);
    goto done;
  }
  char *hj = headers_json(&hl);
  StoreEvent ev = {.integration_id = it.id,
                   .dedup_key = d.dedup_key,
                   .source = "webhook",
                   .topic = d.topic,
                   .headers_json = hj,
                   .body = buf_str(&rq->body)};
  int64_t id = 0;
  bool dup = false;
  IexStatus st = store_inbox_add(sv->store, &ev, &id, &dup, &err);
  free(hj);
  if (st != IEX_OK) {
    logf_(sv, "webhook %s/%s %s: not stored: %s", integration, alias, d.topic,
          err_text(&err));
    rc = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "could not store the delivery; send it again");
    goto done;
  }
  /* On disk now: only from here on may the sender hear 2xx. */
  logf_(sv, "webhook %s/%s %s %s: %s event %lld", integration, alias, d.topic,
        d.record_id, dup ? "duplicate of" : "stored as", (long long)id);
  Buf b;
  buf_init(&b, 256);
  buf_printf(&b, "{\"ok\":true,\"event\":%lld,\"duplicate\":%s}\n",
             (long long)id, dup ? "true" : "false");
  rc = reply(c, MHD_HTTP_OK, "application/json", &b);
  buf_fini(&b);
done:
  secret_wipe(secret, sizeof secret);
  arena_fini(&a);
  return rc;
}

/* ---- JSON API ------------------------------------------------------------ */

static void transfer_json(Buf *b, const StoreTransfer *t) {
  bool f = true;
  buf_putc(b, '{');
  jw_key(b, &f, "id");
  buf_printf(b, "%lld", (long long)t->id);
  jw_key(b, &f, "integration");
  jw_str(b, t->integration_name);
  jw_key(b, &f, "source_id");
  jw_str(b, t->source_id);
  jw_key(b, &f, "display_key");
  jw_str(b, t->display_key);
  jw_key(b, &f, "status");
  jw_str(b, store_run_status_name(t->status));
  jw_key(b, &f, "code");
  jw_str(b, t->code);
  jw_key(b, &f, "message");
  jw_str(b, t->message);
  jw_key(b, &f, "location");
  jw_str(b, t->location);
  jw_key(b, &f, "revisions");
  buf_printf(b, "%lld", (long long)t->n_revisions);
  jw_key(b, &f, "runs");
  buf_printf(b, "%lld", (long long)t->n_runs);
  jw_key(b, &f, "created_at");
  jw_time(b, t->created_at_us);
  jw_key(b, &f, "updated_at");
  jw_time(b, t->updated_at_us);
  buf_putc(b, '}');
}

/* The value of query argument `name`, or NULL. */
static const char *arg(struct MHD_Connection *c, const char *name) {
  return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* A decimal number in [0, max], or -1. */
static long long parse_count(const char *s, long long max) {
  if (!s || !*s) return -1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < 0 || v > max) return -1;
  return v;
}

static enum MHD_Result api_transfers(Server *sv, struct MHD_Connection *c) {
  Arena a;
  arena_init(&a);
  Err err;
  err_init(&err);
  StoreLogFilter f = {.status = STORE_RUN_ANY};
  const char *s = arg(c, "status");
  const char *integ = arg(c, "integration");
  const char *lim = arg(c, "limit"), *off = arg(c, "offset");
  enum MHD_Result rc;
  if (s && !store_run_status_parse(s, &f.status)) {
    rc = reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown status");
    goto done;
  }
  if (integ) {
    StoreIntegration it;
    if (store_integration_find(sv->store, integ, &a, &it, &err) != IEX_OK) {
      rc = reply_error(c, MHD_HTTP_NOT_FOUND, "no such integration");
      goto done;
    }
    f.integration_id = it.id;
  }
  f.key = arg(c, "key");
  if ((lim && parse_count(lim, 1000) < 1) || (off && parse_count(off, 1LL << 40) < 0)) {
    rc = reply_error(c, MHD_HTTP_BAD_REQUEST, "limit must be 1..1000, offset >= 0");
    goto done;
  }
  f.limit = lim ? (size_t)parse_count(lim, 1000) : 50;
  f.offset = off ? (size_t)parse_count(off, 1LL << 40) : 0;
  StoreTransfer *items;
  size_t n;
  if (store_log(sv->store, &f, &a, &items, &n, &err) != IEX_OK) {
    rc = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, err_text(&err));
    goto done;
  }
  Buf b;
  buf_init(&b, 0);
  buf_puts(&b, "{\"transfers\":[");
  for (size_t i = 0; i < n; i++) {
    if (i) buf_putc(&b, ',');
    transfer_json(&b, &items[i]);
  }
  buf_puts(&b, "]}\n");
  rc = reply(c, MHD_HTTP_OK, "application/json", &b);
  buf_fini(&b);
done:
  arena_fini(&a);
  return rc;
}

static void detail_json(Buf *b, const StoreTransferDetail *d) {
  buf_puts(b, "{\"transfer\":");
  transfer_json(b, &d->transfer);
  buf_puts(b, ",\"events\":[");
  for (size_t i = 0; i < d->n_events; i++) {
    const StoreInboxItem *e = &d->events[i];
    bool f = true;
    buf_puts(b, i ? ",{" : "{");
    jw_key(b, &f, "id");
    buf_printf(b, "%lld", (long long)e->id);
    jw_key(b, &f, "source");
    jw_str(b, e->source);
    jw_key(b, &f, "topic");
    jw_str(b, e->topic);
    jw_key(b, &f, "dedup_key");
    jw_str(b, e->dedup_key);
    jw_key(b, &f, "received_at");
    jw_time(b, e->received_at_us);
    jw_key(b, &f, "outcome");
    jw_str(b, e->outcome);
    jw_key(b, &f, "duplicates");
    buf_printf(b, "%lld", (long long)e->n_duplicates);
    jw_key(b, &f, "body_bytes");
    buf_printf(b, "%zu", e->body.len);
    buf_putc(b, '}');
  }
  buf_puts(b, "],\"revisions\":[");
  for (size_t i = 0; i < d->n_revisions; i++) {
    const StoreRevision *r = &d->revisions[i];
    bool f = true;
    buf_puts(b, i ? ",{" : "{");
    jw_key(b, &f, "id");
    buf_printf(b, "%lld", (long long)r->id);
    jw_key(b, &f, "number");
    buf_printf(b, "%lld", (long long)r->number);
    jw_key(b, &f, "source_time");
    jw_str(b, r->source_time);
    jw_key(b, &f, "created_at");
    jw_time(b, r->created_at_us);
    jw_key(b, &f, "data");
    jw_raw(b, r->data_json);
    buf_putc(b, '}');
  }
  buf_puts(b, "],\"runs\":[");
  for (size_t i = 0; i < d->n_runs; i++) {
    const StoreRun *r = &d->runs[i];
    bool f = true;
    buf_puts(b, i ? ",{" : "{");
    jw_key(b, &f, "id");
    buf_printf(b, "%lld", (long long)r->id);
    jw_key(b, &f, "revision");
    buf_printf(b, "%lld", (long long)r->revision_id);
    jw_key(b, &f, "attempt");
    buf_printf(b, "%lld", (long long)r->attempt);
    jw_key(b, &f, "reason");
    jw_str(b, r->reason);
    jw_key(b, &f, "status");
    jw_str(b, store_run_status_name(r->status));
    jw_key(b, &f, "code");
    jw_str(b, r->code);
    jw_key(b, &f, "message");
    jw_str(b, r->message);
    jw_key(b, &f, "location");
    jw_str(b, r->location);
    jw_key(b, &f, "due_at");
    jw_time(b, r->due_at_us);
    jw_key(b, &f, "started_at");
    jw_time(b, r->started_at_us);
    jw_key(b, &f, "finished_at");
    jw_time(b, r->finished_at_us);
    buf_puts(b, ",\"stages\":[");
    bool first_stage = true;
    for (size_t k = 0; k < d->n_stages; k++) {
      const StoreStage *s = &d->stages[k];
      if (s->run_id != r->id) continue;
      bool g = true;
      buf_puts(b, first_stage ? "{" : ",{");
      first_stage = false;
      jw_key(b, &g, "step");
      jw_str(b, s->step);
      jw_key(b, &g, "kind");
      jw_str(b, store_stage_kind_name(s->kind));
      jw_key(b, &g, "code");
      jw_str(b, s->code);
      jw_key(b, &g, "message");
      jw_str(b, s->message);
      jw_key(b, &g, "location");
      jw_str(b, s->location);
      jw_key(b, &g, "data");
      jw_raw(b, s->data_json);
      buf_putc(b, '}');
    }
    buf_puts(b, "]}");
  }
  buf_puts(b, "],\"effects\":[");
  for (size_t i = 0; i < d->n_effects; i++) {
    const StoreEffect *e = &d->effects[i];
    bool f = true;
    buf_puts(b, i ? ",{" : "{");
    jw_key(b, &f, "key");
    jw_str(b, e->key);
    jw_key(b, &f, "system");
    jw_str(b, e->target_system);
    jw_key(b, &f, "operation");
    jw_str(b, e->operation);
    jw_key(b, &f, "reference");
    jw_str(b, e->reference);
    jw_key(b, &f, "state");
    jw_str(b, store_effect_state_name(e->state));
    jw_key(b, &f, "external_id");
    jw_str(b, e->external_id);
    jw_key(b, &f, "attempts");
    buf_printf(b, "%lld", (long long)e->attempts);
    jw_key(b, &f, "reason");
    jw_str(b, e->reason);
    buf_putc(b, '}');
  }
  buf_puts(b, "]}\n");
}

static enum MHD_Result api_transfer(Server *sv, struct MHD_Connection *c,
                                    int64_t id, bool retry) {
  Arena a;
  arena_init(&a);
  Err err;
  err_init(&err);
  enum MHD_Result rc;
  Buf b;
  buf_init(&b, 0);
  if (!retry) {
    StoreTransferDetail d;
    IexStatus st = store_transfer_show(sv->store, id, &a, &d, &err);
    if (st == IEX_E_NOT_FOUND)
      rc = reply_error(c, MHD_HTTP_NOT_FOUND, "no such transfer");
    else if (st != IEX_OK)
      rc = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, err_text(&err));
    else {
      detail_json(&b, &d);
      rc = buf_ok(&b) ? reply(c, MHD_HTTP_OK, "application/json", &b)
                      : reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                    "the transfer is too large to show");
    }
    goto done;
  }
  StoreTransfer t;
  IexStatus st = store_transfer_get(sv->store, id, &a, &t, &err);
  if (st == IEX_E_NOT_FOUND) {
    rc = reply_error(c, MHD_HTTP_NOT_FOUND, "no such transfer");
    goto done;
  }
  if (st != IEX_OK) {
    rc = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, err_text(&err));
    goto done;
  }
  if (t.status == STORE_RUN_QUEUED || t.status == STORE_RUN_RUNNING) {
    rc = reply_error(c, MHD_HTTP_CONFLICT, "the transfer is already queued or running");
    goto done;
  }
  if (!t.latest_revision_id) {
    rc = reply_error(c, MHD_HTTP_CONFLICT, "the transfer has no data to run");
    goto done;
  }
  int64_t run = 0;
  if (store_run_add(sv->store, t.latest_revision_id, 0, "retry", &run, &err) !=
      IEX_OK) {
    rc = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, err_text(&err));
    goto done;
  }
  logf_(sv, "api: transfer %lld queued again as run %lld", (long long)id,
        (long long)run);
  buf_printf(&b, "{\"ok\":true,\"transfer\":%lld,\"run\":%lld}\n",
             (long long)id, (long long)run);
  rc = reply(c, MHD_HTTP_ACCEPTED, "application/json", &b);
done:
  buf_fini(&b);
  arena_fini(&a);
  return rc;
}

static enum MHD_Result api_health(Server *sv, struct MHD_Connection *c) {
  Arena a;
  arena_init(&a);
  Err err;
  err_init(&err);
  StoreInboxItem *items;
  size_t n = 0;
  IexStatus st = store_inbox_pending(sv->store, 10000, &a, &items, &n, &err);
  Buf b;
  buf_init(&b, 0);
  buf_printf(&b,
             "{\"ok\":%s,\"store\":%s,\"inbox_pending\":%zu,\"workers\":%d,"
             "\"polling\":%s,\"stopping\":%s,\"started_at\":",
             st == IEX_OK ? "true" : "false", st == IEX_OK ? "\"ok\"" : "\"error\"",
             n, sv->n_workers_running, sv->opt->poll.poll_all ? "true" : "false",
             serve_stopping() ? "true" : "false");
  jw_time(&b, sv->started_us);
  buf_puts(&b, "}\n");
  enum MHD_Result rc = reply(
      c, st == IEX_OK ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
      "application/json", &b);
  buf_fini(&b);
  arena_fini(&a);
  return rc;
}

/* "/api/transfers/<id>[/retry]" -> id and whether retry; 0 when not. */
static int64_t transfer_path(const char *rest, bool *retry) {
  char *end;
  errno = 0;
  long long id = strtoll(rest, &end, 10);
  if (errno || id <= 0 || end == rest) return 0;
  *retry = strcmp(end, "/retry") == 0;
  return (*end == '\0' || *retry) ? id : 0;
}

/* ---- Dispatch ------------------------------------------------------------ */

/* Copy the segment of `p` up to the next '/' into `out`; returns where the
** next segment starts, or NULL when the segment is empty or too long. */
static const char *segment(const char *p, char *out, size_t size) {
  size_t n = strcspn(p, "/");
  if (n == 0 || n >= size) return NULL;
  memcpy(out, p, n);
  out[n] = '\0';
  return p + n;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
  Server *sv = cls;
  Request *rq = *con_cls;
  bool is_post = strcmp(method, "POST") == 0;
  if (!rq) {
    rq = xcalloc(1, sizeof *rq);
    size_t max = sv->opt->max_body_bytes ? sv->opt->max_body_bytes : DEFAULT_MAX_BODY;
    buf_init(&rq->body, max);
    *con_cls = rq;
    /* Refuse an announced oversized body before reading any of it. */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > max) rq->too_large = true;
    if (!rq->too_large) return MHD_YES;
  }
  if (*upload_data_size) {
    if (!rq->too_large && !buf_append(&rq->body, upload_data, *upload_data_size))
      rq->too_large = true;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (rq->too_large) {
    logf_(sv, "%s %s: refused (body larger than the limit)", method, url);
    return reply_error(c, 413 /* Content Too Large */, "the body is too large");
  }

  if (strncmp(url, "/webhooks/", 10) == 0) {
    if (!is_post) return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
    char integ[128], alias[128];
    const char *p = segment(url + 10, integ, sizeof integ);
    if (p && *p == '/') p = segment(p + 1, alias, sizeof alias);
    else p = NULL;
    if (!p || *p) return reply_error(c, MHD_HTTP_NOT_FOUND,
                                     "use /webhooks/<integration>/<connection>");
    /* Also while stopping: a delivery already being received is finished
    ** and stored (new connections are no longer accepted). */
    return handle_webhook(sv, c, integ, alias, rq);
  }
  if (strcmp(url, "/api/health") == 0) {
    if (strcmp(method, "GET") != 0)
      return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
    return api_health(sv, c);
  }
  if (strcmp(url, "/api/transfers") == 0) {
    if (strcmp(method, "GET") != 0)
      return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
    return api_transfers(sv, c);
  }
  if (strncmp(url, "/api/transfers/", 15) == 0) {
    bool retry = false;
    int64_t id = transfer_path(url + 15, &retry);
    if (!id) return reply_error(c, MHD_HTTP_NOT_FOUND, "no such resource");
    if (retry != is_post || (!retry && strcmp(method, "GET") != 0))
      return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                         retry ? "use POST" : "use GET");
    return api_transfer(sv, c, id, retry);
  }
  return reply_error(c, MHD_HTTP_NOT_FOUND, "no such resource");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  Request *rq = *con_cls;
  if (!rq) return;
  buf_fini(&rq->body);
  free(rq);
  *con_cls = NULL;
}

/* ---- Workers and the poller ---------------------------------------------- */

typedef struct Worker {
  Server *sv;
  pthread_t thread;
  char id[64];
} Worker;

static void *worker_main(void *p) {
  Worker *w = p;
  Server *sv = w->sv;
  Err err;
  err_init(&err);
  StoreOptions so = {.clock = sv->opt->clock};
  Store *s = NULL;
  if (store_open(sv->opt->store_path, &so, &s, &err) != IEX_OK) {
    logf_(sv, "%s: cannot open the store: %s", w->id, err_text(&err));
    return NULL;
  }
  while (!serve_stopping()) {
    bool did = false;
    err_init(&err);
    IexStatus st = sv->opt->work.step(sv->opt->work.ctx, s, w->id, &did, &err);
    if (st != IEX_OK) {
      logf_(sv, "%s: %s", w->id, err_text(&err));
      nap(1000000);
    } else if (!did) {
      nap(200000);
    }
  }
  store_close(s);
  return NULL;
}

static void *poller_main(void *p) {
  Server *sv = p;
  Err err;
  err_init(&err);
  StoreOptions so = {.clock = sv->opt->clock};
  Store *s = NULL;
  if (store_open(sv->opt->store_path, &so, &s, &err) != IEX_OK) {
    logf_(sv, "poller: cannot open the store: %s", err_text(&err));
    return NULL;
  }
  int64_t interval = sv->opt->poll_interval_us ? sv->opt->poll_interval_us
                                               : DEFAULT_POLL_US;
  while (!serve_stopping()) {
    err_init(&err);
    if (sv->opt->poll.poll_all(sv->opt->poll.ctx, s, &err) != IEX_OK)
      logf_(sv, "poller: %s", err_text(&err));
    nap(interval);
  }
  store_close(s);
  return NULL;
}

/* ---- Lifecycle ------------------------------------------------------------ */

IexStatus serve_run(const ServeOptions *opt, Err *err) {
  Server sv = {.opt = opt, .log = opt->log ? opt->log : stderr};
  pthread_mutex_init(&sv.log_lock, NULL);
  StoreOptions so = {.clock = opt->clock};
  IexStatus st = store_open(opt->store_path, &so, &sv.store, err);
  if (st != IEX_OK) {
    pthread_mutex_destroy(&sv.log_lock);
    return st;
  }
  sv.started_us = clock_now_us(opt->clock);

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)opt->port);
  const char *host = opt->listen_addr ? opt->listen_addr : "127.0.0.1";
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    store_close(sv.store);
    pthread_mutex_destroy(&sv.log_lock);
    return err_set(err, IEX_E_INVALID, "--listen %s is not an IPv4 address", host);
  }
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
      (uint16_t)opt->port, NULL, NULL, handle, &sv, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed, &sv,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
  if (!d) {
    store_close(sv.store);
    pthread_mutex_destroy(&sv.log_lock);
    return err_set(err, IEX_E_INVALID, "cannot listen on %s:%d", host, opt->port);
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  unsigned port = info ? info->port : (unsigned)opt->port;
  if (opt->port_file) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", opt->port_file);
    FILE *f = fopen(tmp, "w");
    if (f) {
      fprintf(f, "%u\n", port);
      fclose(f);
      rename(tmp, opt->port_file);
    }
  }
  printf("listening %s:%u\n", host, port);
  fflush(stdout);
  logf_(&sv, "serving on %s:%u", host, port);

  int n_workers = opt->work.step ? (opt->n_workers > 0 ? opt->n_workers : 2) : 0;
  Worker *workers = xcalloc((size_t)(n_workers ? n_workers : 1), sizeof *workers);
  for (int i = 0; i < n_workers; i++) {
    workers[i].sv = &sv;
    snprintf(workers[i].id, sizeof workers[i].id, "serve-%ld-w%d",
             (long)getpid(), i + 1);
    if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) == 0)
      sv.n_workers_running++;
  }
  pthread_t poller;
  bool has_poller =
      opt->poll.poll_all && pthread_create(&poller, NULL, poller_main, &sv) == 0;

  while (!serve_stopping()) nap(1000000);

  /* Graceful shutdown: no new connections; answer those in flight (their
  ** handlers run in the server thread, which MHD_stop_daemon joins). */
  logf_(&sv, "stopping: no new connections; finishing work in flight");
  MHD_quiesce_daemon(d);
  int64_t grace = opt->grace_us ? opt->grace_us : DEFAULT_GRACE_US;
  for (int64_t waited = 0; waited < grace; waited += 50000) {
    const union MHD_DaemonInfo *ci =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    if (!ci || ci->num_connections == 0) break;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(d);
  for (int i = 0; i < sv.n_workers_running; i++) pthread_join(workers[i].thread, NULL);
  if (has_poller) pthread_join(poller, NULL);
  free(workers);
  store_close(sv.store);
  logf_(&sv, "stopped");
  pthread_mutex_destroy(&sv.log_lock);
  return IEX_OK;
}
