/*
** WooCommerce REST API v3: the source side of orders, refunds, customers
** and products (connectors/woocommerce/README.md).
**
** The connection's base_url is the API root, "https://SITE/wp-json/wc/v3";
** its secrets are `consumer_key` and `consumer_secret` (HTTP Basic, sent
** by connectors/http.c; WooCommerce requires HTTPS for it).
**
** Two translations the schema promises happen here: the status values
** "on-hold" and "checkout-draft" become on_hold and checkout_draft (the
** schema language has no "-" in enumeration values), and a refund gets
** `order_id`, which WooCommerce only puts in the refund's URL.
** Listing walks page/per_page with X-WP-TotalPages (oldest id first so
** pages do not shift while new orders arrive); the cursor is the next
** page number. Webhook signatures: connector_verify_signed
** (connectors/verify.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "connectors/http.h"
#include "connectors/rec.h"
#include "connectors/verify.h"

#define STYLE HTTP_STYLE_WOOCOMMERCE

/* An order with its status spelled as the schema spells it. */
static Value order_in(Arena *a, Value order) {
  Value st = rec_get(order, "status");
  if (st.kind == VAL_STRING && memchr(st.as.str, '-', st.len)) {
    char *s = arena_strndup(a, st.as.str, st.len);
    for (char *p = s; *p; p++)
      if (*p == '-') *p = '_';
    order = rec_set(a, order, "status", value_string(s, st.len));
  }
  return order;
}

static IexStatus get(const Connection *conn, Arena *a, const char *path, const char *what,
                     Value *out, Err *err) {
  HttpRequest req = {.style = STYLE, .method = "GET", .url = path, .body = value_null(),
                     .what = what};
  HttpAnswer ans;
  IexStatus rc = http_call(conn, a, &req, &ans, err);
  if (rc != IEX_OK) {
    if (ans.status == 404) err_set(err, IEX_E_HTTP_4XX, "WooCommerce has no %s (HTTP 404)", what);
    return rc;
  }
  *out = ans.json;
  return IEX_OK;
}

static IexStatus order_get(const Connection *conn, const OpCall *call, Value *result, Err *err) {
  int64_t id;
  if (!rec_int(rec_get(call->params, "id"), &id) || id <= 0)
    return err_set(err, IEX_E_INVALID, "order.get needs a positive `id`");
  Value o;
  IexStatus rc = get(conn, call->arena, arena_printf(call->arena, "/orders/%lld", (long long)id),
                     arena_printf(call->arena, "order %lld", (long long)id), &o, err);
  if (rc == IEX_OK) *result = order_in(call->arena, o);
  return rc;
}

static IexStatus customer_get(const Connection *conn, const OpCall *call, Value *result,
                              Err *err) {
  int64_t id;
  if (!rec_int(rec_get(call->params, "id"), &id) || id <= 0)
    return err_set(err, IEX_E_INVALID, "customer.get needs a positive `id` (0 is a guest)");
  return get(conn, call->arena, arena_printf(call->arena, "/customers/%lld", (long long)id),
             arena_printf(call->arena, "customer %lld", (long long)id), result, err);
}

/* The full refunds of the orders on a page, each with its order_id. */
static IexStatus refunds_of(const Connection *conn, Arena *a, Value orders, Value *out,
                            Err *err) {
  *out = value_list(NULL, 0);
  for (uint32_t i = 0; i < orders.len; i++) {
    int64_t oid;
    if (!rec_int(rec_get(orders.as.items[i], "id"), &oid)) continue;
    Value rs = rec_get(orders.as.items[i], "refunds");
    for (uint32_t j = 0; rs.kind == VAL_LIST && j < rs.len; j++) {
      int64_t rid;
      if (!rec_int(rec_get(rs.as.items[j], "id"), &rid)) continue;
      Value r;
      IexStatus rc = get(conn, a, arena_printf(a, "/orders/%lld/refunds/%lld", (long long)oid,
                                               (long long)rid),
                         arena_printf(a, "refund %lld of order %lld", (long long)rid,
                                      (long long)oid), &r, err);
      if (rc != IEX_OK) return rc;
      *out = rec_append(a, *out, rec_set(a, r, "order_id", value_int(oid)));
    }
  }
  return IEX_OK;
}

static IexStatus list(const Connection *conn, Arena *a, const char *record_type,
                      const char *cursor, const char *since, ListPage *page, Err *err) {
  bool refunds;
  const char *resource = rec_shop_resource(record_type, &refunds);
  if (!resource)
    return err_set(err, IEX_E_INVALID, "WooCommerce cannot list %s records", record_type);
  long long pg = cursor && *cursor ? strtoll(cursor, NULL, 10) : 1;
  if (pg < 1) return err_set(err, IEX_E_INVALID, "bad WooCommerce page cursor '%s'", cursor);
  bool orders = strcmp(resource, "orders") == 0;
  const char *url = arena_printf(a, "/%s?per_page=%d&page=%lld&orderby=id&order=asc%s%s%s",
                                 resource, http_page_size(conn, STYLE), pg,
                                 orders && since && *since ? "&dates_are_gmt=true&modified_after=" : "",
                                 orders && since && *since ? rec_urlencode(a, since) : "", "");
  HttpRequest req = {.style = STYLE, .method = "GET", .url = url, .body = value_null(),
                     .what = arena_printf(a, "the list of %s", resource)};
  HttpAnswer ans;
  IexStatus rc = http_call(conn, a, &req, &ans, err);
  if (rc != IEX_OK) return rc;
  Value items = http_page_items(STYLE, &ans);
  if (refunds) {
    rc = refunds_of(conn, a, items, &page->records, err);
    if (rc != IEX_OK) return rc;
  } else if (orders) {
    Value *conv = arena_alloc(a, sizeof(Value) * (items.len ? items.len : 1));
    for (uint32_t i = 0; i < items.len; i++) conv[i] = order_in(a, items.as.items[i]);
    page->records = value_list(conv, items.len);
  } else {
    page->records = items;
  }
  page->next_cursor[0] = '\0';
  const char *next = http_next_url(STYLE, a, url, &ans);
  const char *np = next ? http_query_param(a, next, "page") : NULL;
  if (np) snprintf(page->next_cursor, sizeof page->next_cursor, "%s", np);
  return IEX_OK;
}

static const ConnectorOp ops[] = {
  {"order.get", OP_READS, order_get, NULL, OP_UPDATE_KEEPS},
  {"customer.get", OP_READS, customer_get, NULL, OP_UPDATE_KEEPS},
};

const Connector connector_woocommerce = {
  .system = "woocommerce",
  .title = "WooCommerce REST API v3",
  .ops = ops,
  .n_ops = sizeof ops / sizeof ops[0],
  .list = list,
  .verify_webhook = connector_verify_signed,
};
