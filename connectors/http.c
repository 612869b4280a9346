/*
** The shared HTTP core of the connectors (connectors/http.h): the libcurl
** client, the four vendors' sign-in, error shapes and page envelopes.
*/
#include "connectors/http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "connectors/rec.h"
#include "runtime/json_value.h"

#define POOL_MAX 8
#define TOKENS_MAX 16
/* Refresh a Dinero token this long before it expires, so that a request
** never starts with a token that dies in flight. */
#define TOKEN_MARGIN_S 60

/* One cached Dinero access token, per (token URL, client id, API key). */
typedef struct Token {
  char key[512];     /* token URL + "\n" + client id + "\n" + API key */
  char access[256];  /* the bearer token; "" when the slot is free */
  char refresh[256]; /* refresh token, "" if none */
  time_t expires_at; /* CLOCK_MONOTONIC seconds */
} Token;

struct HttpClient {
  CURLSH *share;                            /* DNS, TLS sessions, connections */
  pthread_mutex_t locks[CURL_LOCK_DATA_LAST]; /* one per shared kind */
  pthread_mutex_t pool_lock;                /* guards pool and n_pool */
  CURL *pool[POOL_MAX];                     /* idle easy handles, owned */
  int n_pool;
  pthread_mutex_t token_lock;               /* guards tokens */
  Token tokens[TOKENS_MAX];
  HttpOptions opt;                          /* defaults filled in */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *ctx) {
  (void)h; (void)access;
  HttpClient *c = ctx;
  pthread_mutex_lock(&c->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx) {
  (void)h;
  HttpClient *c = ctx;
  pthread_mutex_unlock(&c->locks[data]);
}

HttpClient *http_client_new(const HttpOptions *opt) {
  pthread_once(&global_once, global_init);
  HttpClient *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  if (opt) c->opt = *opt;
  if (c->opt.connect_timeout_ms <= 0) c->opt.connect_timeout_ms = 10000;
  if (c->opt.timeout_ms <= 0) c->opt.timeout_ms = 60000;
  if (c->opt.max_body_bytes == 0) c->opt.max_body_bytes = (size_t)32 << 20;
  if (!c->opt.user_agent) c->opt.user_agent = "iex/0.1 (+https://iex.dk)";
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&c->locks[i], NULL);
  pthread_mutex_init(&c->pool_lock, NULL);
  pthread_mutex_init(&c->token_lock, NULL);
  c->share = curl_share_init();
  if (!c->share) { http_client_free(c); return NULL; }
  curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return c;
}

void http_client_free(HttpClient *c) {
  if (!c) return;
  for (int i = 0; i < c->n_pool; i++) curl_easy_cleanup(c->pool[i]);
  if (c->share) curl_share_cleanup(c->share);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&c->locks[i]);
  pthread_mutex_destroy(&c->pool_lock);
  pthread_mutex_destroy(&c->token_lock);
  /* The tokens are credentials: do not leave them in freed memory. */
  memset(c->tokens, 0, sizeof c->tokens);
  free(c);
}

void http_client_forget_tokens(HttpClient *c) {
  pthread_mutex_lock(&c->token_lock);
  memset(c->tokens, 0, sizeof c->tokens);
  pthread_mutex_unlock(&c->token_lock);
}

static CURL *handle_get(HttpClient *c) {
  CURL *h = NULL;
  pthread_mutex_lock(&c->pool_lock);
  if (c->n_pool > 0) h = c->pool[--c->n_pool];
  pthread_mutex_unlock(&c->pool_lock);
  if (h) curl_easy_reset(h);
  else h = curl_easy_init();
  return h;
}

static void handle_put(HttpClient *c, CURL *h) {
  pthread_mutex_lock(&c->pool_lock);
  if (c->n_pool < POOL_MAX) { c->pool[c->n_pool++] = h; h = NULL; }
  pthread_mutex_unlock(&c->pool_lock);
  if (h) curl_easy_cleanup(h);
}

const char *http_style_vendor(HttpStyle style) {
  switch (style) {
    case HTTP_STYLE_SHOPIFY: return "Shopify";
    case HTTP_STYLE_WOOCOMMERCE: return "WooCommerce";
    case HTTP_STYLE_ECONOMIC: return "e-conomic";
    case HTTP_STYLE_DINERO: return "Dinero";
  }
  return "the system";
}

const char *http_secret(const Connection *conn, const char *name) {
  for (size_t i = 0; i < conn->n_secrets; i++)
    if (conn->secret_names[i] && strcmp(conn->secret_names[i], name) == 0)
      return conn->secret_values[i];
  return NULL;
}

/* ---- One transfer --------------------------------------------------------- */

/* What the callbacks collect. */
typedef struct Raw {
  Buf body;
  size_t max_body;
  bool too_big;
  char retry_after[64];
  char call_limit[32];
  char wp_total[32];
  char wp_pages[32];
  char link[4096];
  char location[1024];
} Raw;

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
  Raw *r = ctx;
  size_t len = size * n;
  if (r->body.len + len > r->max_body || !buf_append(&r->body, p, len)) {
    r->too_big = true;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  return len;
}

/* Copy header value `v` (len bytes, trimmed) into `dst` if `line` is the
** header `name`. */
static void take_header(const char *line, size_t len, const char *name,
                        char *dst, size_t dst_size) {
  size_t nl = strlen(name);
  if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
  const char *v = line + nl + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
  size_t vl = (size_t)(end - v);
  if (vl >= dst_size) vl = dst_size - 1;
  memcpy(dst, v, vl);
  dst[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx) {
  Raw *r = ctx;
  size_t len = size * n;
  if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
    /* A new header block (after a 100 Continue): forget the earlier one. */
    r->retry_after[0] = r->call_limit[0] = r->wp_total[0] = r->wp_pages[0] = '\0';
    r->link[0] = r->location[0] = '\0';
    return len;
  }
  take_header(p, len, "Retry-After", r->retry_after, sizeof r->retry_after);
  take_header(p, len, "X-Shopify-Shop-Api-Call-Limit", r->call_limit, sizeof r->call_limit);
  take_header(p, len, "X-WP-Total", r->wp_total, sizeof r->wp_total);
  take_header(p, len, "X-WP-TotalPages", r->wp_pages, sizeof r->wp_pages);
  take_header(p, len, "Link", r->link, sizeof r->link);
  take_header(p, len, "Location", r->location, sizeof r->location);
  return len;
}

/* A prepared transfer: everything curl needs, owned until perform returns. */
typedef struct Xfer {
  bool fresh;                 /* open a new connection (writes, see below) */
  const char *method;
  const char *url;
  struct curl_slist *headers; /* owned */
  const char *body;           /* NULL for none */
  size_t body_len;
  const char *user, *password; /* Basic auth, or NULL */
} Xfer;

typedef struct XferResult {
  CURLcode rc;
  long status;
  long connects;
  long request_size; /* bytes of the request that left (headers + body) */
  char curl_error[CURL_ERROR_SIZE];
} XferResult;

static void perform(HttpClient *c, const Xfer *x, Raw *raw, XferResult *res) {
  memset(res, 0, sizeof *res);
  CURL *h = handle_get(c);
  if (!h) { res->rc = CURLE_OUT_OF_MEMORY; return; }
  curl_easy_setopt(h, CURLOPT_SHARE, c->share);
  curl_easy_setopt(h, CURLOPT_URL, x->url);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->curl_error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->opt.user_agent);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opt.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opt.timeout_ms);
  /* TLS is always verified; there is deliberately no option to turn it off. */
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (c->opt.ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, c->opt.ca_file);
  /* Only HTTP(S), never redirects: a redirected POST could be resent and
  ** a redirect to another host would carry the credentials there. */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, raw);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, raw);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
  /* libcurl silently sends a request again when a reused connection turns
  ** out to be closed before any answer byte arrived. For a POST that may
  ** have reached the server that is a second invoice, so writes go over a
  ** connection of their own, where libcurl never resends. */
  if (x->fresh) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  if (x->user) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, x->user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, x->password ? x->password : "");
  }
  if (strcmp(x->method, "GET") == 0) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    if (strcmp(x->method, "POST") != 0)
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body ? x->body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(x->body ? x->body_len : 0));
  }
  res->rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &res->connects);
  curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &res->request_size);
  handle_put(c, h);
}

static void raw_init(Raw *r, size_t max_body) {
  memset(r, 0, sizeof *r);
  buf_init(&r->body, max_body + 1);
  r->max_body = max_body;
}

/* ---- Credentials ---------------------------------------------------------- */

/* Cut every secret value of `conn` out of `msg` (a vendor may echo a
** token back in an error body). */
static void scrub(const Connection *conn, char *msg) {
  for (size_t i = 0; i < conn->n_secrets; i++) {
    const char *s = conn->secret_values[i];
    size_t sl = s ? strlen(s) : 0;
    if (sl < 4) continue; /* too short to be a credential; would cut words */
    char *hit;
    while ((hit = strstr(msg, s)) != NULL) {
      size_t rest = strlen(hit + sl);
      memcpy(hit, "***", 3);
      memmove(hit + 3, hit + sl, rest + 1);
    }
  }
}

static IexStatus missing_secret(const Connection *conn, HttpStyle style,
                                const char *name, Err *err) {
  return err_set(err, IEX_E_AUTH,
                 "the connection '%s' has no %s for %s; add it to the "
                 "connection's credentials",
                 conn->name ? conn->name : "?", name, http_style_vendor(style));
}

static time_t now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

/* Where Dinero hands out tokens: authz.dinero.dk for the real API, the
** same origin as base_url for anything else (an emulator, a proxy), or the
** connection's `token_url`. */
static void dinero_token_url(const Connection *conn, char *out, size_t size) {
  const char *u = http_secret(conn, "token_url");
  if (u) { snprintf(out, size, "%s", u); return; }
  const char *base = conn->base_url ? conn->base_url : "";
  if (strstr(base, "://api.dinero.dk")) {
    snprintf(out, size, "https://authz.dinero.dk/dineroapi/oauth/token");
    return;
  }
  const char *scheme = strstr(base, "://");
  const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
  size_t origin = path ? (size_t)(path - base) : strlen(base);
  snprintf(out, size, "%.*s/dineroapi/oauth/token", (int)origin, base);
}

/* Ask the token endpoint for a token: the refresh grant when `refresh` is
** given, else the password grant with the API key. Fills `t`. */
static IexStatus dinero_grant(const Connection *conn, Arena *a,
                              const char *token_url, const char *refresh,
                              Token *t, Err *err) {
  const char *cid = http_secret(conn, "client_id");
  const char *csec = http_secret(conn, "client_secret");
  const char *key = http_secret(conn, "api_key");
  Buf form;
  buf_init(&form, 4096);
  if (refresh && *refresh) {
    buf_printf(&form, "grant_type=refresh_token&refresh_token=%s",
               rec_urlencode(a, refresh));
  } else {
    const char *k = rec_urlencode(a, key);
    buf_printf(&form, "grant_type=password&scope=read%%20write&username=%s&password=%s",
               k, k);
  }
  Xfer x = {.method = "POST", .url = token_url, .body = buf_cstr(&form),
            .body_len = form.len, .user = cid, .password = csec};
  x.headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
  x.headers = curl_slist_append(x.headers, "Accept: application/json");
  Raw raw;
  raw_init(&raw, 1 << 16);
  XferResult res;
  if (conn->pace) conn->pace(conn->pace_ctx);
  perform(conn->http, &x, &raw, &res);
  curl_slist_free_all(x.headers);
  buf_fini(&form);
  IexStatus rc = IEX_OK;
  Value doc = value_null();
  if (raw.body.len)
    jsonv_decode(a, buf_str(&raw.body), NULL, &doc, NULL);
  if (res.rc != CURLE_OK) {
    rc = err_set(err, IEX_E_NETWORK, "could not reach Dinero's sign-in at %s: %s",
                 token_url, res.curl_error[0] ? res.curl_error : curl_easy_strerror(res.rc));
  } else if (res.status != 200) {
    const char *code = rec_text(a, rec_get(doc, "error"));
    const char *desc = rec_text(a, rec_get(doc, "error_description"));
    IexStatus c = res.status >= 500 ? IEX_E_HTTP_5XX
                : res.status == 429 ? IEX_E_HTTP_429 : IEX_E_AUTH;
    rc = err_set(err, c,
                 "Dinero refused to sign in connection '%s' (HTTP %ld%s%s%s%s): "
                 "check the client id and secret and the API key",
                 conn->name ? conn->name : "?", res.status, code ? ": " : "",
                 code ? code : "", desc ? ", " : "", desc ? desc : "");
    if (err) err->http_status = (int)res.status;
  } else {
    const char *acc = rec_text(a, rec_get(doc, "access_token"));
    const char *ref = rec_text(a, rec_get(doc, "refresh_token"));
    int64_t ttl = 3600;
    rec_int(rec_get(doc, "expires_in"), &ttl);
    if (!acc || strlen(acc) >= sizeof t->access) {
      rc = err_set(err, IEX_E_AUTH, "Dinero's sign-in answered without a usable access token");
    } else {
      snprintf(t->access, sizeof t->access, "%s", acc);
      snprintf(t->refresh, sizeof t->refresh, "%s", ref ? ref : "");
      t->expires_at = now_s() + (time_t)ttl;
    }
  }
  if (rc != IEX_OK && err) scrub(conn, err->message);
  buf_fini(&raw.body);
  return rc;
}

/* A valid Dinero access token for `conn` in `out` (arena): the cached one
** unless it is about to expire or `stale` (a 401 said it was refused) is
** that token; then refreshed, or a new one from the password grant. */
static IexStatus dinero_token(const Connection *conn, Arena *a, const char *stale,
                              const char **out, Err *err) {
  HttpClient *c = conn->http;
  const char *cid = http_secret(conn, "client_id");
  const char *key = http_secret(conn, "api_key");
  if (!cid) return missing_secret(conn, HTTP_STYLE_DINERO, "client_id", err);
  if (!http_secret(conn, "client_secret"))
    return missing_secret(conn, HTTP_STYLE_DINERO, "client_secret", err);
  if (!key) return missing_secret(conn, HTTP_STYLE_DINERO, "api_key", err);
  char url[512];
  dinero_token_url(conn, url, sizeof url);
  const char *k = arena_printf(a, "%s\n%s\n%s", url, cid, key);

  /* The lock is held across the grant so that concurrent calls wait for
  ** one sign-in instead of each asking for a token. */
  pthread_mutex_lock(&c->token_lock);
  Token *slot = NULL, *free_slot = NULL;
  for (int i = 0; i < TOKENS_MAX; i++) {
    if (c->tokens[i].access[0] && strcmp(c->tokens[i].key, k) == 0) slot = &c->tokens[i];
    else if (!c->tokens[i].access[0] && !free_slot) free_slot = &c->tokens[i];
  }
  IexStatus rc = IEX_OK;
  bool fresh = slot && slot->expires_at - TOKEN_MARGIN_S > now_s() &&
               !(stale && strcmp(stale, slot->access) == 0);
  if (!fresh) {
    Token t = {{0}, {0}, {0}, 0};
    rc = IEX_E_AUTH;
    if (slot && slot->refresh[0]) rc = dinero_grant(conn, a, url, slot->refresh, &t, NULL);
    if (rc != IEX_OK) rc = dinero_grant(conn, a, url, NULL, &t, err);
    if (rc == IEX_OK) {
      if (!slot) slot = free_slot ? free_slot : &c->tokens[0];
      snprintf(t.key, sizeof t.key, "%s", k);
      *slot = t;
    }
  }
  if (rc == IEX_OK) *out = arena_strndup(a, slot->access, strlen(slot->access));
  pthread_mutex_unlock(&c->token_lock);
  return rc;
}

/* ---- Error shapes --------------------------------------------------------- */

/* Append `s` to `out`, separated from what is there by "; ". */
static void add_part(Buf *out, const char *s) {
  if (!s || !*s) return;
  if (out->len) buf_puts(out, "; ");
  buf_puts(out, s);
}

/* Shopify: {"errors": "text"} | {"errors": {"field": ["msg", …]}} |
** {"errors": ["msg"]} | {"error": "text"}. */
static void shopify_reason(Arena *a, Value doc, Buf *out) {
  Value e = rec_get(doc, "errors");
  if (e.kind == VAL_NULL) e = rec_get(doc, "error");
  if (e.kind == VAL_STRING) { add_part(out, rec_text(a, e)); return; }
  if (e.kind == VAL_LIST) {
    for (uint32_t i = 0; i < e.len; i++) add_part(out, rec_text(a, e.as.items[i]));
    return;
  }
  if (e.kind != VAL_RECORD) return;
  for (uint32_t i = 0; i < e.len; i++) {
    const Field *f = value_field_at(e, i);
    Value msgs = f->value;
    uint32_t n = msgs.kind == VAL_LIST ? msgs.len : 1;
    for (uint32_t j = 0; j < n; j++) {
      const char *m = rec_text(a, msgs.kind == VAL_LIST ? msgs.as.items[j] : msgs);
      if (!m) continue;
      bool base = str_eq_cstr(f->key, "base");
      add_part(out, base ? m : arena_printf(a, "%.*s %s", STR_FMT(f->key), m));
    }
  }
}

/* WooCommerce: {"code": "woocommerce_rest_…", "message": "…", "data":
** {"status": 400, "params": {"name": "why"}}}. */
static void woo_reason(Arena *a, Value doc, Buf *out) {
  const char *m = rec_text(a, rec_get(doc, "message"));
  add_part(out, m);
  Value params = rec_get(doc, "data.params");
  if (params.kind == VAL_RECORD)
    for (uint32_t i = 0; i < params.len; i++) {
      const Field *f = value_field_at(params, i);
      const char *why = rec_text(a, f->value);
      if (why && !(m && strstr(m, why)))
        add_part(out, arena_printf(a, "%.*s: %s", STR_FMT(f->key), why));
    }
  const char *code = rec_text(a, rec_get(doc, "code"));
  if (code && out->len) buf_printf(out, " (%s)", code);
}

/* One e-conomic property error: "lines[0].product: product 'X' does not
** exist (E06000)". e-conomic's own messages read "product does not
** exist."; the value is put in so a person sees which product. */
static void economic_one(Arena *a, const char *path, Value e, Buf *out) {
  const char *msg = rec_text(a, rec_get(e, "message"));
  const char *code = rec_text(a, rec_get(e, "errorCode"));
  const char *val = rec_text(a, rec_get(e, "value"));
  if (!msg) return;
  size_t ml = strlen(msg);
  while (ml && msg[ml - 1] == '.') ml--;
  const char *tail = " does not exist";
  size_t tl = strlen(tail);
  Buf one;
  buf_init(&one, 2048);
  if (val && ml > tl && strncmp(msg + ml - tl, tail, tl) == 0)
    buf_printf(&one, "%.*s '%s'%s", (int)(ml - tl), msg, val, tail);
  else
    buf_printf(&one, "%s: %.*s", *path ? path : "document", (int)ml, msg);
  if (code) buf_printf(&one, " (%s)", code);
  add_part(out, buf_cstr(&one));
  buf_fini(&one);
}

/* Walk e-conomic's error document, which mirrors the request: a property
** holds {"errors": [ … ]}, arrays hold {"items": [{"arrayIndex": i, …}]}. */
static void economic_walk(Arena *a, Value node, const char *path, Buf *out,
                          int depth) {
  if (node.kind != VAL_RECORD || depth > 12) return;
  for (uint32_t i = 0; i < node.len; i++) {
    const Field *f = value_field_at(node, i);
    if (str_eq_cstr(f->key, "errors") && f->value.kind == VAL_LIST) {
      for (uint32_t j = 0; j < f->value.len; j++)
        economic_one(a, path, f->value.as.items[j], out);
    } else if (str_eq_cstr(f->key, "items") && f->value.kind == VAL_LIST) {
      for (uint32_t j = 0; j < f->value.len; j++) {
        Value item = f->value.as.items[j];
        int64_t idx = j;
        rec_int(rec_get(item, "arrayIndex"), &idx);
        economic_walk(a, item, arena_printf(a, "%s[%lld]", path, (long long)idx),
                      out, depth + 1);
      }
    } else if (f->value.kind == VAL_RECORD) {
      const char *sub = *path ? arena_printf(a, "%s.%.*s", path, STR_FMT(f->key))
                              : arena_printf(a, "%.*s", STR_FMT(f->key));
      economic_walk(a, f->value, sub, out, depth + 1);
    }
  }
}

static void economic_reason(Arena *a, Value doc, Buf *out) {
  Value errs = rec_get(doc, "errors");
  size_t before = out->len;
  if (errs.kind == VAL_RECORD) economic_walk(a, errs, "", out, 0);
  if (out->len == before) {
    const char *m = rec_text(a, rec_get(doc, "message"));
    const char *code = rec_text(a, rec_get(doc, "errorCode"));
    if (m) add_part(out, code ? arena_printf(a, "%s (%s)", m, code) : m);
  }
}

/* Dinero: {"code": 51, "message": "…", "validationErrors": {"Prop":
** "why"}}; the sign-in's {"error", "error_description"}. */
static void dinero_reason(Arena *a, Value doc, Buf *out) {
  Value v = rec_geti(doc, "validationErrors");
  if (v.kind == VAL_RECORD && v.len > 0) {
    for (uint32_t i = 0; i < v.len; i++) {
      const Field *f = value_field_at(v, i);
      const char *why = rec_text(a, f->value);
      if (why) add_part(out, arena_printf(a, "%.*s: %s", STR_FMT(f->key), why));
    }
    return;
  }
  const char *m = rec_text(a, rec_geti(doc, "message"));
  if (!m) m = rec_text(a, rec_get(doc, "error_description"));
  if (!m) m = rec_text(a, rec_get(doc, "error"));
  add_part(out, m);
}

/* The vendor's reason for refusing, from the answer body; falls back to a
** short excerpt of a body that is not in the vendor's shape. */
static void vendor_reason(HttpStyle style, Arena *a, const HttpAnswer *ans,
                          Buf *out) {
  switch (style) {
    case HTTP_STYLE_SHOPIFY: shopify_reason(a, ans->json, out); break;
    case HTTP_STYLE_WOOCOMMERCE: woo_reason(a, ans->json, out); break;
    case HTTP_STYLE_ECONOMIC: economic_reason(a, ans->json, out); break;
    case HTTP_STYLE_DINERO: dinero_reason(a, ans->json, out); break;
  }
  if (out->len == 0 && ans->raw.len > 0 && ans->json.kind == VAL_NULL) {
    /* Not JSON (an HTML error page from a proxy): a printable excerpt. */
    size_t n = ans->raw.len < 120 ? ans->raw.len : 120;
    buf_puts(out, "answer: ");
    for (size_t i = 0; i < n; i++) {
      unsigned char ch = (unsigned char)ans->raw.ptr[i];
      buf_putc(out, (ch < 32 || ch == 127) ? ' ' : (char)ch);
    }
  }
}

/* What to check after a 401/403, per vendor. */
static const char *auth_hint(HttpStyle style) {
  switch (style) {
    case HTTP_STYLE_SHOPIFY:
      return "check the access token and the app's access scopes";
    case HTTP_STYLE_WOOCOMMERCE:
      return "check the consumer key and secret and their read/write permission";
    case HTTP_STYLE_ECONOMIC:
      return "check the app secret token and the agreement grant token (the grant "
             "is revoked when the app is removed from the agreement)";
    case HTTP_STYLE_DINERO:
      return "check the client id and secret, the API key and the organisation id";
  }
  return "check the credentials";
}

/* Seconds and fractions ("2.0") or an HTTP date, as milliseconds. */
static int64_t parse_retry_after(const char *s) {
  if (!*s) return -1;
  if (isdigit((unsigned char)s[0])) {
    Decimal d, ms, thousand = decimal_make(1000, 0);
    if (decimal_parse(str_from_cstr(s), &d, NULL) != DECIMAL_OK) return -1;
    if (decimal_mul(d, thousand, &ms) != DECIMAL_OK) return -1;
    return decimal_to_int(ms, ROUND_HALF_UP);
  }
  time_t t = curl_getdate(s, NULL);
  if (t < 0) return -1;
  time_t now = time(NULL);
  return t > now ? (int64_t)(t - now) * 1000 : 0;
}

static IexStatus classify(const Connection *conn, Arena *a, const HttpRequest *req,
                          const HttpAnswer *ans, Err *err) {
  const char *vendor = http_style_vendor(req->style);
  const char *what = req->what ? req->what : "the request";
  long st = ans->status;
  Buf why;
  buf_init(&why, 1024);
  vendor_reason(req->style, a, ans, &why);
  const char *reason = why.len ? buf_cstr(&why) : NULL;
  IexStatus rc;
  if (st == 401 || st == 403 || st == 402) {
    rc = err_set(err, IEX_E_AUTH, "%s refused the credentials of connection '%s' "
                 "(HTTP %ld%s%s): %s", vendor, conn->name ? conn->name : "?", st,
                 reason ? ": " : "", reason ? reason : "", auth_hint(req->style));
  } else if (st == 429) {
    Buf more;
    buf_init(&more, 256);
    if (ans->retry_after_ms >= 0)
      buf_printf(&more, "; it asks to wait %lld ms", (long long)ans->retry_after_ms);
    if (ans->call_limit_max > 0)
      buf_printf(&more, "; call limit %d/%d", ans->call_limit_used, ans->call_limit_max);
    rc = err_set(err, IEX_E_HTTP_429, "%s is rate limiting requests (HTTP 429)%s%s%s",
                 vendor, buf_cstr(&more), reason ? ": " : "", reason ? reason : "");
    buf_fini(&more);
  } else if (st >= 500) {
    bool unknown = req->is_write && (st == 502 || st == 504);
    rc = err_set(err, unknown ? IEX_E_OUTCOME_UNKNOWN : IEX_E_HTTP_5XX,
                 "%s answered %s with a server error (HTTP %ld)%s%s%s", vendor,
                 req->method, st, reason ? ": " : "", reason ? reason : "",
                 unknown ? "; it may have been carried out" : "");
  } else if (st == 400 || st == 409 || st == 422) {
    rc = err_set(err, IEX_E_VALIDATION, "%s refused %s: %s", vendor, what,
                 reason ? reason : "no reason given");
    if (err) {
      size_t l = strlen(err->message);
      snprintf(err->message + l, sizeof err->message - l, " (HTTP %ld)", st);
    }
  } else {
    rc = err_set(err, IEX_E_HTTP_4XX, "%s refused %s (HTTP %ld)%s%s", vendor, what,
                 st, reason ? ": " : "", reason ? reason : "");
  }
  buf_fini(&why);
  /* The scheduler waits as long as the system asked (429, 503), not its
  ** own backoff: runtime/retry.h reads this. */
  if (err && (st == 429 || st == 503) && ans->retry_after_ms > 0)
    err->retry_after_us = ans->retry_after_ms * 1000;
  if (err) err->http_status = (int)st;
  return rc;
}

/* ---- The call ------------------------------------------------------------- */

/* The request's host, for messages (never the query: it may hold keys). */
static const char *host_of(Arena *a, const char *url) {
  const char *s = strstr(url, "://");
  s = s ? s + 3 : url;
  size_t n = strcspn(s, "/?#");
  return arena_strndup(a, s, n);
}

IexStatus http_call(const Connection *conn, Arena *a, const HttpRequest *req,
                    HttpAnswer *ans, Err *err) {
  memset(ans, 0, sizeof *ans);
  ans->json = value_null();
  ans->retry_after_ms = -1;
  ans->total = ans->total_pages = -1;
  ans->raw = str_make("", 0);
  HttpStyle style = req->style;
  const char *vendor = http_style_vendor(style);
  if (!conn->http)
    return err_set(err, IEX_E_INTERNAL, "connection '%s' has no HTTP client",
                   conn->name ? conn->name : "?");

  const char *url = req->url;
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
    const char *base = conn->base_url ? conn->base_url : "";
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') bl--;
    url = arena_printf(a, "%.*s%s", (int)bl, base, url);
  }

  Buf body;
  buf_init(&body, (size_t)16 << 20);
  if (req->body.kind != VAL_NULL) {
    JsonvError je;
    if (!jsonv_encode(req->body, &body, &je)) {
      buf_fini(&body);
      return err_set(err, IEX_E_INVALID, "%s cannot be sent as JSON: %s",
                     req->what ? req->what : "the request", je.message);
    }
  }
  const char *stale = NULL;
  IexStatus rc = IEX_OK;
  for (int attempt = 0; attempt < 2; attempt++) {
    Xfer x = {.method = req->method, .url = url, .fresh = req->is_write};
    x.headers = curl_slist_append(NULL, "Accept: application/json");
    if (req->body.kind != VAL_NULL) {
      x.body = buf_cstr(&body);
      x.body_len = body.len;
      x.headers = curl_slist_append(x.headers, "Content-Type: application/json; charset=utf-8");
    }
    x.headers = curl_slist_append(x.headers, "Expect:"); /* no 100-continue round trip */
    const char *bearer = NULL;
    switch (style) {
      case HTTP_STYLE_SHOPIFY: {
        const char *t = http_secret(conn, "access_token");
        if (!t) { rc = missing_secret(conn, style, "access_token", err); break; }
        x.headers = curl_slist_append(x.headers, arena_printf(a, "X-Shopify-Access-Token: %s", t));
        break;
      }
      case HTTP_STYLE_WOOCOMMERCE:
        x.user = http_secret(conn, "consumer_key");
        x.password = http_secret(conn, "consumer_secret");
        if (!x.user) rc = missing_secret(conn, style, "consumer_key", err);
        else if (!x.password) rc = missing_secret(conn, style, "consumer_secret", err);
        break;
      case HTTP_STYLE_ECONOMIC: {
        const char *app = http_secret(conn, "app_secret_token");
        const char *grant = http_secret(conn, "agreement_grant_token");
        if (!app) { rc = missing_secret(conn, style, "app_secret_token", err); break; }
        if (!grant) { rc = missing_secret(conn, style, "agreement_grant_token", err); break; }
        x.headers = curl_slist_append(x.headers, arena_printf(a, "X-AppSecretToken: %s", app));
        x.headers = curl_slist_append(x.headers, arena_printf(a, "X-AgreementGrantToken: %s", grant));
        break;
      }
      case HTTP_STYLE_DINERO:
        rc = dinero_token(conn, a, stale, &bearer, err);
        if (rc == IEX_OK)
          x.headers = curl_slist_append(x.headers, arena_printf(a, "Authorization: Bearer %s", bearer));
        break;
    }
    if (rc != IEX_OK) { curl_slist_free_all(x.headers); break; }

    Raw raw;
    raw_init(&raw, conn->http->opt.max_body_bytes);
    XferResult res;
    if (conn->pace) conn->pace(conn->pace_ctx);
    perform(conn->http, &x, &raw, &res);
    curl_slist_free_all(x.headers);

    ans->status = res.status;
    ans->connects = res.connects;
    ans->raw = str_make(arena_strndup(a, buf_cstr(&raw.body), raw.body.len), raw.body.len);
    ans->retry_after_ms = parse_retry_after(raw.retry_after);
    if (raw.call_limit[0] && sscanf(raw.call_limit, "%d/%d", &ans->call_limit_used,
                                    &ans->call_limit_max) != 2)
      ans->call_limit_used = ans->call_limit_max = 0;
    if (raw.wp_total[0]) ans->total = strtoll(raw.wp_total, NULL, 10);
    if (raw.wp_pages[0]) ans->total_pages = strtoll(raw.wp_pages, NULL, 10);
    if (raw.location[0]) ans->location = arena_strndup(a, raw.location, strlen(raw.location));
    ans->link_next = NULL;
    if (raw.link[0]) {
      /* <url>; rel="previous", <url>; rel="next" */
      char *p = raw.link;
      while ((p = strchr(p, '<')) != NULL) {
        char *end = strchr(p, '>');
        if (!end) break;
        char *rel = strstr(end, "rel=");
        char *next_lt = strchr(end, '<');
        if (rel && (!next_lt || rel < next_lt) && strncmp(rel + 4, "\"next\"", 6) == 0) {
          ans->link_next = arena_strndup(a, p + 1, (size_t)(end - p - 1));
          break;
        }
        p = end;
      }
    }
    bool too_big = raw.too_big;
    if (ans->raw.len && !too_big) {
      Value doc;
      if (jsonv_decode(a, ans->raw, NULL, &doc, NULL)) ans->json = doc;
    }
    buf_fini(&raw.body);

    if (res.rc != CURLE_OK) {
      const char *detail = too_big
          ? arena_printf(a, "the answer is larger than %zu bytes", conn->http->opt.max_body_bytes)
          : (res.curl_error[0] ? res.curl_error : curl_easy_strerror(res.rc));
      bool sent = res.request_size > 0 &&
                  res.rc != CURLE_COULDNT_CONNECT && res.rc != CURLE_COULDNT_RESOLVE_HOST &&
                  res.rc != CURLE_COULDNT_RESOLVE_PROXY && res.rc != CURLE_SSL_CONNECT_ERROR &&
                  res.rc != CURLE_PEER_FAILED_VERIFICATION;
      if (sent && req->is_write)
        rc = err_set(err, IEX_E_OUTCOME_UNKNOWN,
                     "%s did not answer %s %s (%s); it may have been carried out, "
                     "so it is looked up before being sent again",
                     vendor, req->method, req->what ? req->what : "the request", detail);
      else
        rc = err_set(err, IEX_E_NETWORK, "could not reach %s at %s: %s", vendor,
                     host_of(a, url), detail);
      if (err) err->http_status = 0;
      break;
    }
    if (res.status >= 200 && res.status < 300) { rc = IEX_OK; break; }
    if (style == HTTP_STYLE_DINERO && res.status == 401 && attempt == 0) {
      /* The token may have been revoked or expired early: sign in again
      ** once. The request was refused, so sending it again is safe. */
      stale = bearer;
      continue;
    }
    rc = classify(conn, a, req, ans, err);
    break;
  }
  buf_fini(&body);
  if (rc != IEX_OK && err) scrub(conn, err->message);
  return rc;
}

/* ---- Pages ---------------------------------------------------------------- */

Value http_page_items(HttpStyle style, const HttpAnswer *ans) {
  Value doc = ans->json;
  switch (style) {
    case HTTP_STYLE_SHOPIFY:
      /* {"orders": [...]}: the one list-valued member. */
      if (doc.kind == VAL_RECORD)
        for (uint32_t i = 0; i < doc.len; i++)
          if (value_field_at(doc, i)->value.kind == VAL_LIST)
            return value_field_at(doc, i)->value;
      break;
    case HTTP_STYLE_WOOCOMMERCE:
      if (doc.kind == VAL_LIST) return doc;
      break;
    case HTTP_STYLE_ECONOMIC: {
      Value c = rec_get(doc, "collection");
      if (c.kind == VAL_LIST) return c;
      break;
    }
    case HTTP_STYLE_DINERO: {
      Value c = rec_geti(doc, "Collection");
      if (c.kind == VAL_LIST) return c;
      if (doc.kind == VAL_LIST) return doc;
      break;
    }
  }
  return value_list(NULL, 0);
}

/* `url` with query parameter `name` set to `value` (replaced or added). */
static const char *with_param(Arena *a, const char *url, const char *name,
                              long long value) {
  Buf b;
  buf_init(&b, 8192);
  const char *q = strchr(url, '?');
  size_t nl = strlen(name);
  bool done = false;
  if (!q) {
    buf_printf(&b, "%s?%s=%lld", url, name, value);
  } else {
    buf_append(&b, url, (size_t)(q - url) + 1);
    const char *p = q + 1;
    bool first = true;
    while (*p) {
      size_t len = strcspn(p, "&");
      if (!first) buf_putc(&b, '&');
      first = false;
      if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
        buf_printf(&b, "%s=%lld", name, value);
        done = true;
      } else {
        buf_append(&b, p, len);
      }
      p += len;
      if (*p == '&') p++;
    }
    if (!done) buf_printf(&b, "%s%s=%lld", first ? "" : "&", name, value);
  }
  const char *out = arena_strndup(a, buf_cstr(&b), b.len);
  buf_fini(&b);
  return out;
}

const char *http_next_url(HttpStyle style, Arena *a, const char *url,
                          const HttpAnswer *ans) {
  switch (style) {
    case HTTP_STYLE_SHOPIFY:
      return ans->link_next;
    case HTTP_STYLE_WOOCOMMERCE: {
      if (ans->link_next) return ans->link_next;
      const char *pg = http_query_param(a, url, "page");
      long long page = pg ? strtoll(pg, NULL, 10) : 1;
      if (ans->total_pages >= 0 && page < ans->total_pages)
        return with_param(a, url, "page", page + 1);
      return NULL;
    }
    case HTTP_STYLE_ECONOMIC: {
      const char *n = rec_text(a, rec_get(ans->json, "pagination.nextPage"));
      return n && *n ? n : NULL;
    }
    case HTTP_STYLE_DINERO: {
      Value p = rec_geti(ans->json, "Pagination");
      int64_t page = 0, size = 0, result = 0;
      if (!rec_int(rec_geti(p, "Page"), &page) || !rec_int(rec_geti(p, "PageSize"), &size) ||
          !rec_int(rec_geti(p, "Result"), &result) || size <= 0)
        return NULL;
      if ((page + 1) * size >= result) return NULL;
      return with_param(a, url, "page", (long long)(page + 1));
    }
  }
  return NULL;
}

IexStatus http_get_all(const Connection *conn, Arena *a, HttpStyle style, const char *path,
                       const char *what, Value *out, Err *err) {
  static const char *const size_param[] = {
    [HTTP_STYLE_SHOPIFY] = "limit", [HTTP_STYLE_WOOCOMMERCE] = "per_page",
    [HTTP_STYLE_ECONOMIC] = "pagesize", [HTTP_STYLE_DINERO] = "page=0&pageSize"};
  *out = value_list(NULL, 0);
  const char *url = arena_printf(a, "%s%s%s=%d", path, strchr(path, '?') ? "&" : "?",
                                 size_param[style], http_page_size(conn, style));
  for (int pages = 0; url && pages < 1000; pages++) {
    HttpRequest req = {.style = style, .method = "GET", .url = url, .body = value_null(),
                       .what = what};
    HttpAnswer ans;
    IexStatus rc = http_call(conn, a, &req, &ans, err);
    if (rc != IEX_OK) return rc;
    Value items = http_page_items(style, &ans);
    for (uint32_t i = 0; i < items.len; i++) *out = rec_append(a, *out, items.as.items[i]);
    url = http_next_url(style, a, url, &ans);
  }
  return IEX_OK;
}

const char *http_query_param(Arena *a, const char *url, const char *name) {
  const char *q = strchr(url, '?');
  if (!q) return NULL;
  size_t nl = strlen(name);
  for (const char *p = q + 1; *p;) {
    size_t len = strcspn(p, "&#");
    if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
      const char *v = p + nl + 1;
      size_t vl = len - nl - 1;
      char *out = arena_alloc(a, vl + 1);
      if (!out) return NULL;
      size_t o = 0;
      for (size_t i = 0; i < vl; i++) {
        if (v[i] == '%' && i + 2 < vl && isxdigit((unsigned char)v[i + 1]) &&
            isxdigit((unsigned char)v[i + 2])) {
          char hex[3] = {v[i + 1], v[i + 2], 0};
          out[o++] = (char)strtol(hex, NULL, 16);
          i += 2;
        } else {
          out[o++] = v[i] == '+' ? ' ' : v[i];
        }
      }
      out[o] = '\0';
      return out;
    }
    p += len;
    if (*p != '&') break;
    p++;
  }
  return NULL;
}

int http_page_size(const Connection *conn, HttpStyle style) {
  int max = 1000;
  if (style == HTTP_STYLE_SHOPIFY) max = 250;
  if (style == HTTP_STYLE_WOOCOMMERCE) max = 100;
  int n = conn->http ? conn->http->opt.page_size : 0;
  return n > 0 && n < max ? n : max;
}
