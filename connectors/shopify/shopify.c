/*
** Shopify Admin REST API (2023-10): the source side of orders, refunds,
** transactions, customers and products (connectors/shopify/README.md).
**
** The connection's base_url is the versioned API root,
** "https://SHOP.myshopify.com/admin/api/2023-10"; its secret is
** `access_token` (sent as X-Shopify-Access-Token by connectors/http.c).
** Shopify is only read here, so no operation has a `find`.
**
** Listing (polling and `iex import`) walks Shopify's cursor pagination:
** the first page carries the filters (status=any, updated_at_min, oldest
** change first), every later page only page_info and limit, as Shopify
** requires. The cursor handed back is the page_info of the next page.
** Webhook signatures: connector_verify_signed (connectors/verify.h).
*/
#include <stdio.h>
#include <string.h>

#include "connectors/connector.h"
#include "connectors/http.h"
#include "connectors/rec.h"
#include "connectors/verify.h"

#define STYLE HTTP_STYLE_SHOPIFY

/* GET `path` and return the member `key` of the answer ({"order": …}). */
static IexStatus get_member(const Connection *conn, Arena *a, const char *path,
                            const char *key, const char *what, Value *out,
                            Err *err) {
  HttpRequest req = {.style = STYLE, .method = "GET", .url = path,
                     .body = value_null(), .what = what};
  HttpAnswer ans;
  IexStatus rc = http_call(conn, a, &req, &ans, err);
  if (rc != IEX_OK) {
    if (ans.status == 404)
      err_set(err, IEX_E_HTTP_4XX, "Shopify has no %s (HTTP 404); it may have been "
              "deleted, or be older than 60 days without the read_all_orders scope", what);
    return rc;
  }
  *out = rec_get(ans.json, key);
  if (out->kind == VAL_NULL)
    return err_set(err, IEX_E_HTTP_4XX, "Shopify answered without \"%s\" for %s", key, what);
  return IEX_OK;
}

static IexStatus id_param(const OpCall *call, const char *name, int64_t *id, Err *err) {
  if (!rec_int(rec_get(call->params, name), id) || *id <= 0)
    return err_set(err, IEX_E_INVALID, "%.*s needs a positive `%s`", STR_FMT(call->operation), name);
  return IEX_OK;
}

static IexStatus order_get(const Connection *conn, const OpCall *call, Value *result, Err *err) {
  int64_t id;
  IexStatus rc = id_param(call, "id", &id, err);
  if (rc != IEX_OK) return rc;
  return get_member(conn, call->arena, arena_printf(call->arena, "/orders/%lld.json", (long long)id),
                    "order", arena_printf(call->arena, "order %lld", (long long)id), result, err);
}

static IexStatus customer_get(const Connection *conn, const OpCall *call, Value *result, Err *err) {
  int64_t id;
  IexStatus rc = id_param(call, "id", &id, err);
  if (rc != IEX_OK) return rc;
  return get_member(conn, call->arena, arena_printf(call->arena, "/customers/%lld.json", (long long)id),
                    "customer", arena_printf(call->arena, "customer %lld", (long long)id), result, err);
}

static IexStatus transaction_list(const Connection *conn, const OpCall *call, Value *result,
                                  Err *err) {
  int64_t id;
  IexStatus rc = id_param(call, "order_id", &id, err);
  if (rc != IEX_OK) return rc;
  return get_member(conn, call->arena,
                    arena_printf(call->arena, "/orders/%lld/transactions.json", (long long)id),
                    "transactions", arena_printf(call->arena, "the transactions of order %lld",
                                                 (long long)id), result, err);
}

/* Refunds have no list endpoint of their own: they come with the orders
** changed since `since`, so a page of orders yields their refunds. */
static Value refunds_of(Arena *a, Value orders) {
  Value out = value_list(NULL, 0);
  for (uint32_t i = 0; i < orders.len; i++) {
    Value rs = rec_get(orders.as.items[i], "refunds");
    for (uint32_t j = 0; rs.kind == VAL_LIST && j < rs.len; j++)
      out = rec_append(a, out, rs.as.items[j]);
  }
  return out;
}

static IexStatus list(const Connection *conn, Arena *a, const char *record_type,
                      const char *cursor, const char *since, ListPage *page, Err *err) {
  bool refunds;
  const char *resource = rec_shop_resource(record_type, &refunds);
  if (!resource)
    return err_set(err, IEX_E_INVALID, "Shopify cannot list %s records", record_type);
  int limit = http_page_size(conn, STYLE);
  const char *url;
  if (cursor && *cursor) {
    /* Shopify refuses any filter next to page_info: it is in the cursor. */
    url = arena_printf(a, "/%s.json?limit=%d&page_info=%s", resource, limit,
                       rec_urlencode(a, cursor));
  } else {
    url = arena_printf(a, "/%s.json?limit=%d&order=updated_at%%20asc%s%s%s", resource, limit,
                       strcmp(resource, "orders") == 0 ? "&status=any" : "",
                       since && *since ? "&updated_at_min=" : "",
                       since && *since ? rec_urlencode(a, since) : "");
  }
  HttpRequest req = {.style = STYLE, .method = "GET", .url = url, .body = value_null(),
                     .what = arena_printf(a, "the list of %s", resource)};
  HttpAnswer ans;
  IexStatus rc = http_call(conn, a, &req, &ans, err);
  if (rc != IEX_OK) return rc;
  Value items = http_page_items(STYLE, &ans);
  page->records = refunds ? refunds_of(a, items) : items;
  page->next_cursor[0] = '\0';
  const char *next = http_next_url(STYLE, a, url, &ans);
  const char *pi = next ? http_query_param(a, next, "page_info") : NULL;
  if (pi) {
    if (strlen(pi) >= sizeof page->next_cursor)
      return err_set(err, IEX_E_INTERNAL, "Shopify's page cursor is longer than %zu bytes",
                     sizeof page->next_cursor - 1);
    snprintf(page->next_cursor, sizeof page->next_cursor, "%s", pi);
  }
  return IEX_OK;
}

static const ConnectorOp ops[] = {
  {"order.get", OP_READS, order_get, NULL, OP_UPDATE_KEEPS},
  {"transaction.list", OP_READS, transaction_list, NULL, OP_UPDATE_KEEPS},
  {"customer.get", OP_READS, customer_get, NULL, OP_UPDATE_KEEPS},
};

const Connector connector_shopify = {
  .system = "shopify",
  .title = "Shopify Admin REST API (2023-10)",
  .ops = ops,
  .n_ops = sizeof ops / sizeof ops[0],
  .list = list,
  .verify_webhook = connector_verify_signed,
};
