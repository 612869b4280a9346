/* Integration tests of the connectors against the emulators
** (tests/emulators/), started by tests/connectors/run.sh, which passes
** their URLs in SHOPIFY_URL, WOO_URL, ECONOMIC_URL and DINERO_URL.
**
** Each test drives real HTTP through connectors/http.c and checks what
** the connector returned and, for writes, what reached the emulator (its
** ledger). Faults are switched on through the emulators' control API. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/arena.h"
#include "common/buf.h"
#include "connectors/connector.h"
#include "connectors/http.h"
#include "connectors/rec.h"
#include "connectors/webhook.h"
#include "runtime/json_value.h"
#include "tests/lib/check.h"

static Arena A;
static HttpClient *client;
static HttpClient *small_pages; /* page_size 5, for pagination */
static const char *shop_url, *woo_url, *eco_url, *din_url;

/* ---- Emulator control (plain libcurl, outside the code under test) ---- */

static size_t collect(char *p, size_t s, size_t n, void *ctx) {
  buf_append(ctx, p, s * n);
  return s * n;
}

/* `method` /_emulator`path` on the emulator at `base` with JSON `body`
** (NULL for none); the decoded answer in A. */
static Value emu(const char *base, const char *method, const char *path, const char *body) {
  char url[1024];
  const char *slash = strstr(base, "://");
  const char *p = slash ? strchr(slash + 3, '/') : NULL;
  int origin = p ? (int)(p - base) : (int)strlen(base);
  snprintf(url, sizeof url, "%.*s/_emulator%s", origin, base, path);
  CURL *h = curl_easy_init();
  Buf out;
  buf_init(&out, 0);
  struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  curl_easy_perform(h);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  Value v = value_null();
  if (out.len) jsonv_decode(&A, buf_str(&out), NULL, &v, NULL);
  buf_fini(&out);
  return v;
}

static void faults(const char *base, const char *json) { emu(base, "POST", "/faults", json); }
static void no_faults(const char *base) { emu(base, "DELETE", "/faults", NULL); }

/* Ledger entries of `base` with `reference` (all when NULL). */
static Value ledger(const char *base, const char *reference) {
  char path[512];
  snprintf(path, sizeof path, "/ledger%s%s", reference ? "?reference=" : "",
           reference ? rec_urlencode(&A, reference) : "");
  return rec_get(emu(base, "GET", path, NULL), "entries");
}

/* ---- Connections ---------------------------------------------------------- */

static const char *shop_names[] = {"access_token"};
static const char *shop_values[] = {"shpat_emulator_token"};
static const char *shop_bad[] = {"shpat_wrong_token_0123"};
static const char *woo_names[] = {"consumer_key", "consumer_secret"};
static const char *woo_values[] = {"ck_emulator0000000000000000000000000000000",
                                   "cs_emulator0000000000000000000000000000000"};
static const char *eco_names[] = {"app_secret_token", "agreement_grant_token"};
static const char *eco_values[] = {"econ-app-secret-token", "econ-agreement-grant-token"};
static const char *eco_bad[] = {"econ-app-secret-token", "revoked-grant-token-42"};
static const char *din_names[] = {"client_id", "client_secret", "api_key"};
static const char *din_values[] = {"dinero-client-id", "dinero-client-secret", "dinero-user-api-key"};

static Connection conn(const char *system, const char *base, const char **names,
                       const char **values, size_t n, HttpClient *c) {
  Connection k = {.name = "test", .system = system, .base_url = base,
                  .secret_names = names, .secret_values = values, .n_secrets = n, .http = c};
  return k;
}

static Connection shop(void) {
  return conn("shopify", arena_printf(&A, "%s/admin/api/2023-10", shop_url), shop_names,
              shop_values, 1, client);
}
static Connection woo(void) {
  return conn("woocommerce", arena_printf(&A, "%s/wp-json/wc/v3", woo_url), woo_names,
              woo_values, 2, client);
}
static Connection eco(void) {
  return conn("economic", eco_url, eco_names, eco_values, 2, client);
}
static Connection din(void) {
  return conn("dinero", arena_printf(&A, "%s/v1/123456", din_url), din_names, din_values, 3,
              client);
}

/* An OpCall of `op` with the params record `params` and input `input`. */
static OpCall call_of(const char *system, const char *op, Value params, Value input) {
  OpCall c = {.arena = &A, .step = STR_LIT("step"), .connection = STR_LIT("test"),
              .system = str_from_cstr(system), .operation = str_from_cstr(op),
              .params = params, .input = input, .effect_key = STR_LIT("step"),
              .location = "test.iexflow:1:1"};
  const Connector *k = connector_find(system);
  const ConnectorOp *o = k ? connector_op(k, c.operation) : NULL;
  c.effect = o ? o->effect : OP_READS;
  return c;
}

/* Run `op` of `system` over `k`; the status, result in *out. */
static IexStatus run_op(const Connection *k, const char *op, Value params, Value input,
                        Value *out, Err *err) {
  const Connector *c = connector_find(k->system);
  const ConnectorOp *o = c ? connector_op(c, str_from_cstr(op)) : NULL;
  if (!o) { err_set(err, IEX_E_INTERNAL, "no operation %s", op); return IEX_E_INTERNAL; }
  OpCall call = call_of(k->system, op, params, input);
  err_init(err);
  *out = value_null();
  return o->run(k, &call, out, err);
}

static IexStatus find_op(const Connection *k, const char *op, Value params, Value input,
                         bool *found, Value *out, Err *err) {
  const Connector *c = connector_find(k->system);
  const ConnectorOp *o = connector_op(c, str_from_cstr(op));
  OpCall call = call_of(k->system, op, params, input);
  err_init(err);
  *out = value_null();
  *found = false;
  if (!o || !o->find) { err_set(err, IEX_E_INTERNAL, "no find for %s", op); return IEX_E_INTERNAL; }
  return o->find(k, &call, found, out, err);
}

/* JSON text -> Value in A (fatal on bad test data). */
static Value J(const char *json) {
  Value v;
  JsonvError e;
  if (!jsonv_decode(&A, str_from_cstr(json), NULL, &v, &e)) {
    fprintf(stderr, "bad test JSON: %s: %s\n", e.message, json);
    exit(2);
  }
  return v;
}

static bool contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

#define CHECK_MSG(err, needle)                                                       \
  do { if (!contains((err).message, needle))                                         \
         check_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", (err).message, \
                    needle); } while (0)

static const char *T(Value v) { return rec_text(&A, v); }

/* ---- Registry ---------------------------------------------------------------- */

TEST(registry_finds_systems_and_ops) {
  CHECK(connector_find("shopify") != NULL);
  CHECK(connector_find("woocommerce") != NULL);
  CHECK(connector_find("economic") != NULL);
  CHECK(connector_find("dinero") != NULL);
  CHECK(connector_find("billy") == NULL);
  CHECK(connector_op(connector_find("shopify"), STR_LIT("order.get")) != NULL);
  CHECK(connector_op(connector_find("shopify"), STR_LIT("order.put")) == NULL);
}

/* ---- Shopify --------------------------------------------------------------------- */

TEST(shopify_order_get_and_reuse) {
  no_faults(shop_url);
  Connection k = shop();
  Value orders;
  Err err;
  ListPage page;
  const Connector *c = connector_find("shopify");
  CHECK_FATAL(c->list(&k, &A, "order", "", "", &page, &err) == IEX_OK);
  CHECK_FATAL(page.records.kind == VAL_LIST && page.records.len > 0);
  orders = page.records;
  int64_t id;
  CHECK_FATAL(rec_int(rec_get(orders.as.items[0], "id"), &id));
  Value o;
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(id), NULL), value_null(), &o, &err), IEX_OK);
  int64_t got = 0;
  CHECK(rec_int(rec_get(o, "id"), &got) && got == id);
  CHECK(rec_get(o, "line_items").kind == VAL_LIST);
  /* Money strings stay exact strings. */
  CHECK(rec_get(o, "total_price").kind == VAL_STRING);
  /* The second call went over the same connection. */
  HttpRequest req = {.style = HTTP_STYLE_SHOPIFY, .method = "GET", .url = "/shop.json",
                     .body = value_null(), .what = "the shop"};
  HttpAnswer ans;
  CHECK_EQ_INT(http_call(&k, &A, &req, &ans, &err), IEX_OK);
  CHECK_EQ_INT(ans.connects, 0);
  CHECK(ans.call_limit_max == 40 && ans.call_limit_used >= 1);
}

TEST(shopify_pagination_several_pages) {
  no_faults(shop_url);
  Connection k = shop();
  k.http = small_pages;
  const Connector *c = connector_find("shopify");
  ListPage page;
  Err err;
  char cursor[512] = "";
  int pages = 0, records = 0;
  int64_t last = -1;
  bool ordered = true, distinct = true;
  do {
    if (c->list(&k, &A, "order", cursor, "", &page, &err) != IEX_OK) {
      check_fail(__FILE__, __LINE__, "list: %s", err.message);
      return;
    }
    pages++;
    for (uint32_t i = 0; i < page.records.len; i++) {
      int64_t id = 0;
      rec_int(rec_get(page.records.as.items[i], "id"), &id);
      if (id == last) distinct = false;
      last = id;
      records++;
    }
    snprintf(cursor, sizeof cursor, "%s", page.next_cursor);
  } while (cursor[0] && pages < 50);
  CHECK(pages >= 3);
  CHECK(records >= 30);
  CHECK(ordered && distinct);
  /* The same walk with the default page size is one page. */
  k.http = client;
  CHECK_EQ_INT(c->list(&k, &A, "order", "", "", &page, &err), IEX_OK);
  CHECK_EQ_INT((long long)page.records.len, records);
  CHECK_EQ_STR(page.next_cursor, "");
}

TEST(shopify_429_reports_retry_after) {
  faults(shop_url, "{\"burst_429\": {\"count\": 1, \"retry_after\": 2}}");
  Connection k = shop();
  Value o;
  Err err;
  IexStatus rc = run_op(&k, "customer.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err);
  CHECK_EQ_INT(rc, IEX_E_HTTP_429);
  CHECK_EQ_INT(err.http_status, 429);
  CHECK_MSG(err, "rate limiting");
  CHECK_MSG(err, "2000 ms");
  /* The executor's scheduler waits what the system asked for. */
  CHECK_EQ_INT(err.retry_after_us, 2000000);
  HttpRequest req = {.style = HTTP_STYLE_SHOPIFY, .method = "GET", .url = "/shop.json",
                     .body = value_null(), .what = "the shop"};
  HttpAnswer ans;
  faults(shop_url, "{\"burst_429\": {\"count\": 1, \"retry_after\": 3}}");
  CHECK_EQ_INT(http_call(&k, &A, &req, &ans, &err), IEX_E_HTTP_429);
  CHECK_EQ_INT(ans.retry_after_ms, 3000);
  no_faults(shop_url);
}

TEST(shopify_auth_failure_message) {
  no_faults(shop_url);
  Connection k = shop();
  k.secret_values = shop_bad;
  Value o;
  Err err;
  IexStatus rc = run_op(&k, "customer.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err);
  CHECK_EQ_INT(rc, IEX_E_AUTH);
  CHECK_MSG(err, "Shopify refused the credentials of connection 'test'");
  CHECK_MSG(err, "access token");
  CHECK(!contains(err.message, shop_bad[0]));
  /* No credential at all. */
  k.n_secrets = 0;
  rc = run_op(&k, "customer.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err);
  CHECK_EQ_INT(rc, IEX_E_AUTH);
  CHECK_MSG(err, "has no access_token");
}

TEST(shopify_5xx_and_404) {
  faults(shop_url, "{\"server_errors\": {\"count\": 1, \"status\": 503}}");
  Connection k = shop();
  Value o;
  Err err;
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err),
               IEX_E_HTTP_5XX);
  CHECK_EQ_INT(err.http_status, 503);
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err),
               IEX_E_HTTP_4XX);
  CHECK_MSG(err, "Shopify has no order 1");
}

TEST(shopify_transactions_and_refunds) {
  no_faults(shop_url);
  Connection k = shop();
  Value labels = emu(shop_url, "GET", "/labels", NULL);
  int64_t id;
  CHECK_FATAL(rec_int(rec_get(labels, "refund"), &id));
  Value t;
  Err err;
  CHECK_EQ_INT(run_op(&k, "transaction.list", rec_make(&A, "order_id", value_int(id), NULL),
                      value_null(), &t, &err), IEX_OK);
  CHECK(t.kind == VAL_LIST && t.len >= 1);
  ListPage page;
  CHECK_EQ_INT(connector_find("shopify")->list(&k, &A, "refund", "", "", &page, &err), IEX_OK);
  CHECK(page.records.len >= 1);
}

TEST(network_failure_is_e_network) {
  Connection k = conn("shopify", "http://127.0.0.1:1/admin/api/2023-10", shop_names, shop_values, 1,
                      client);
  Value o;
  Err err;
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err),
               IEX_E_NETWORK);
  CHECK_MSG(err, "could not reach Shopify at 127.0.0.1:1");
}

/* ---- WooCommerce ---------------------------------------------------------------- */

TEST(woocommerce_list_pages_and_get) {
  no_faults(woo_url);
  Connection k = woo();
  k.http = small_pages;
  const Connector *c = connector_find("woocommerce");
  ListPage page;
  Err err;
  char cursor[512] = "";
  int pages = 0, records = 0;
  int64_t last = 0;
  bool ascending = true;
  do {
    if (c->list(&k, &A, "order", cursor, "", &page, &err) != IEX_OK) {
      check_fail(__FILE__, __LINE__, "list: %s", err.message);
      return;
    }
    pages++;
    for (uint32_t i = 0; i < page.records.len; i++) {
      int64_t id = 0;
      rec_int(rec_get(page.records.as.items[i], "id"), &id);
      if (id <= last) ascending = false;
      last = id;
      records++;
      Value st = rec_get(page.records.as.items[i], "status");
      if (st.kind == VAL_STRING && memchr(st.as.str, '-', st.len)) ascending = false;
    }
    snprintf(cursor, sizeof cursor, "%s", page.next_cursor);
  } while (cursor[0] && pages < 50);
  CHECK(pages >= 3);
  CHECK(records >= 30);
  CHECK(ascending);
  k.http = client;
  Value o;
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(last), NULL), value_null(), &o, &err),
               IEX_OK);
  int64_t got = 0;
  CHECK(rec_int(rec_get(o, "id"), &got) && got == last);
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(999999), NULL), value_null(), &o, &err),
               IEX_E_HTTP_4XX);
  CHECK_MSG(err, "WooCommerce has no order 999999");
}

TEST(woocommerce_refunds_carry_order_id) {
  no_faults(woo_url);
  Connection k = woo();
  ListPage page;
  Err err;
  CHECK_EQ_INT(connector_find("woocommerce")->list(&k, &A, "refund", "", "", &page, &err), IEX_OK);
  CHECK_FATAL(page.records.len >= 1);
  int64_t oid = 0;
  CHECK(rec_int(rec_get(page.records.as.items[0], "order_id"), &oid) && oid > 0);
}

TEST(woocommerce_auth_failure_message) {
  no_faults(woo_url);
  static const char *bad[] = {"ck_wrong", "cs_wrong_secret_value"};
  Connection k = woo();
  k.secret_values = bad;
  Value o;
  Err err;
  CHECK_EQ_INT(run_op(&k, "order.get", rec_make(&A, "id", value_int(1), NULL), value_null(), &o, &err),
               IEX_E_AUTH);
  CHECK_MSG(err, "WooCommerce refused the credentials");
  CHECK_MSG(err, "consumer key");
  CHECK(!contains(err.message, "cs_wrong_secret_value"));
}


TEST(sources_list_since) {
  no_faults(shop_url);
  no_faults(woo_url);
  Connection k = shop();
  ListPage page;
  Err err;
  CHECK_EQ_INT(connector_find("shopify")->list(&k, &A, "order", "", "2099-01-01T00:00:00Z", &page, &err), IEX_OK);
  CHECK_EQ_INT((long long)page.records.len, 0);
  CHECK_EQ_INT(connector_find("shopify")->list(&k, &A, "order", "", "2000-01-01T00:00:00Z", &page, &err), IEX_OK);
  CHECK(page.records.len > 30);
  Connection w = woo();
  CHECK_EQ_INT(connector_find("woocommerce")->list(&w, &A, "order", "", "2099-01-01T00:00:00", &page, &err), IEX_OK);
  CHECK_EQ_INT((long long)page.records.len, 0);
  CHECK_EQ_INT(connector_find("woocommerce")->list(&w, &A, "invoice", "", "", &page, &err), IEX_E_INVALID);
}

/* ---- Webhooks through the Connector contract -------------------------------------- */

TEST(webhooks_verified_through_connectors) {
  static const char *names[] = {"access_token", "webhook_secret"};
  static const char *values[] = {"shpat_emulator_token", "shopify_client_secret"};
  Connection k = conn("shopify", "http://127.0.0.1:1", names, values, 2, client);
  time_t now = time(NULL);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  const char *body = arena_printf(&A, "{\"id\":5610000001001,\"name\":\"#1001\",\"updated_at\":\"%s\"}", stamp);
  char sig[WEBHOOK_SIGNATURE_SIZE];
  webhook_sign("shopify_client_secret", body, strlen(body), sig);
  Value h = rec_make(&A, "x-shopify-hmac-sha256", rec_str(&A, sig), "x-shopify-topic",
                     rec_str(&A, "orders/paid"), "x-shopify-webhook-id", rec_str(&A, "w-1"),
                     "x-shopify-event-id", rec_str(&A, "ev-7"), NULL);
  const Connector *c = connector_find("shopify");
  CHECK_FATAL(c->verify_webhook != NULL);
  Str key, type;
  bool ping = true;
  Err err;
  err_init(&err);
  CHECK_EQ_INT(c->verify_webhook(&k, &A, h, body, strlen(body), &key, &type, &ping, &err), IEX_OK);
  CHECK(!ping && str_eq_cstr(key, "shopify:event:ev-7") && str_eq_cstr(type, "order"));
  char *tampered = arena_strndup(&A, body, strlen(body));
  tampered[8] = '9';
  CHECK_EQ_INT(c->verify_webhook(&k, &A, h, tampered, strlen(tampered), &key, &type, &ping, &err),
               IEX_E_AUTH);
  CHECK(!contains(err.message, "shopify_client_secret"));
  /* WooCommerce's unsigned ping is answered, not stored. */
  Connection w = conn("woocommerce", "http://127.0.0.1:1", names, values, 2, client);
  const char *pingbody = "webhook_id=7";
  Value wh = rec_make(&A, "content-type", rec_str(&A, "application/x-www-form-urlencoded"), NULL);
  CHECK_EQ_INT(connector_find("woocommerce")->verify_webhook(&w, &A, wh, pingbody, strlen(pingbody), &key,
                                                             &type, &ping, &err), IEX_OK);
  CHECK(ping);
  /* Without a secret nothing is accepted. */
  k.n_secrets = 1;
  CHECK_EQ_INT(c->verify_webhook(&k, &A, h, body, strlen(body), &key, &type, &ping, &err), IEX_E_AUTH);
  CHECK_MSG(err, "no webhook_secret");
}

#include "tests/connectors/test_targets.inc"

int main(void) {
  check_suite = "connectors";
  arena_init(&A);
  shop_url = getenv("SHOPIFY_URL");
  woo_url = getenv("WOO_URL");
  eco_url = getenv("ECONOMIC_URL");
  din_url = getenv("DINERO_URL");
  if (!shop_url || !woo_url || !eco_url || !din_url) {
    printf("FAIL connectors/setup: SHOPIFY_URL, WOO_URL, ECONOMIC_URL and DINERO_URL must be set\n");
    return 1;
  }
  client = http_client_new(NULL);
  HttpOptions small = {.page_size = 5};
  small_pages = http_client_new(&small);
  RUN(registry_finds_systems_and_ops);
  RUN(shopify_order_get_and_reuse);
  RUN(shopify_pagination_several_pages);
  RUN(shopify_429_reports_retry_after);
  RUN(shopify_auth_failure_message);
  RUN(shopify_5xx_and_404);
  RUN(shopify_transactions_and_refunds);
  RUN(network_failure_is_e_network);
  RUN(woocommerce_list_pages_and_get);
  RUN(woocommerce_refunds_carry_order_id);
  RUN(woocommerce_auth_failure_message);
  RUN(webhooks_verified_through_connectors);
  RUN(sources_list_since);
  run_target_tests();
  http_client_free(client);
  http_client_free(small_pages);
  arena_fini(&A);
  return check_done();
}
