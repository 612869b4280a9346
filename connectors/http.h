/*
** The shared HTTP core of the connectors, on libcurl.
**
** One HttpClient per process (or per worker pool) holds what makes HTTP
** cheap and safe across every connection that uses it: a CURL share (DNS,
** TLS sessions and the connection cache, so keep-alive connections are
** reused across calls and threads), a small pool of easy handles,
** timeouts, TLS verification always on, proxies taken from the
** environment the way libcurl reads them (http_proxy, https_proxy,
** no_proxy, all_proxy), and the Dinero access tokens with their refresh.
**
** A connector describes a request (HttpRequest) in its vendor's style
** (HttpStyle); http_call() signs it the vendor's way (Shopify
** X-Shopify-Access-Token, WooCommerce Basic consumer key/secret, e-conomic
** X-AppSecretToken + X-AgreementGrantToken, Dinero Bearer from the
** password grant, refreshed before it expires and once on a 401), sends
** it, decodes the JSON answer into the caller's arena with exact decimals,
** and reports what the answer said: status, Retry-After, Shopify's call
** limit, WooCommerce's totals, the next page. A failure becomes an Err
** whose code says what the scheduler does (connectors/connector.h) and
** whose message is the vendor's own reason in a sentence a support person
** can act on. Retrying, backoff and rate limiting are not done here: they
** are the executor's decisions (runtime/retry.h), made from what this
** module reports.
**
** Secrets: credentials go into request headers only. They never appear in
** an Err, and any secret value a vendor echoes back in an error body is
** cut out of the message before it is returned.
*/
#ifndef IEX_CONNECTORS_HTTP_H
#define IEX_CONNECTORS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/str.h"
#include "connectors/connector.h"
#include "runtime/status.h"
#include "runtime/value.h"

/* How a client is set up; zero fields take the defaults. */
typedef struct HttpOptions {
  long connect_timeout_ms; /* TCP + TLS handshake; default 10 000 */
  long timeout_ms;         /* whole request; default 60 000 */
  size_t max_body_bytes;   /* largest answer accepted; default 32 MiB */
  const char *user_agent;  /* default "iex/0.1 (+https://iex.dk)" */
  const char *ca_file;     /* extra CA bundle (tests); NULL: the system's */
  int page_size;           /* records per page of list calls; 0: each
                           ** vendor's maximum (tests use small pages) */
} HttpOptions;

/* A new client, or NULL when libcurl cannot be initialised. The caller
** owns it and frees it with http_client_free() after every call using it
** has returned. Thread-safe: calls may run concurrently. */
HttpClient *http_client_new(const HttpOptions *opt);
void http_client_free(HttpClient *c);

/* The vendor conventions a request follows: authentication, error shape,
** pagination and page envelope. */
typedef enum HttpStyle {
  HTTP_STYLE_SHOPIFY,     /* X-Shopify-Access-Token; {"errors": …}; Link page_info */
  HTTP_STYLE_WOOCOMMERCE, /* Basic ck:cs; {"code","message","data"}; page/per_page */
  HTTP_STYLE_ECONOMIC,    /* two token headers; validation document; skippages */
  HTTP_STYLE_DINERO       /* Bearer; {"code","message","validationErrors"}; page */
} HttpStyle;

/* The vendor's name as messages print it: "e-conomic". */
const char *http_style_vendor(HttpStyle style);

/* One request. */
typedef struct HttpRequest {
  HttpStyle style;
  const char *method;  /* "GET", "POST", "PUT", "DELETE" */
  const char *url;     /* absolute ("http…"), or a path appended to the
                       ** connection's base_url ("/invoices/drafts?x=1") */
  Value body;          /* JSON body, or null for none */
  const char *what;    /* what is being sent or read, for messages:
                       ** "the invoice" -> "e-conomic refused the invoice: …" */
  bool is_write;       /* a lost answer leaves the outcome unknown
                       ** (IEX_E_OUTCOME_UNKNOWN) rather than E_NETWORK */
} HttpRequest;

/* What an answer said. Strings live in the arena given to http_call(). */
typedef struct HttpAnswer {
  long status;            /* HTTP status; 0 when no answer was read */
  Value json;             /* the decoded body; null when empty or not JSON */
  Str raw;                /* the body's bytes (arena) */
  int64_t retry_after_ms; /* Retry-After, in milliseconds; -1 when absent */
  int call_limit_used;    /* X-Shopify-Shop-Api-Call-Limit "used/max"; */
  int call_limit_max;     /*   both 0 when absent */
  int64_t total;          /* X-WP-Total; -1 when absent */
  int64_t total_pages;    /* X-WP-TotalPages; -1 when absent */
  const char *link_next;  /* Link header's rel="next" target, or NULL */
  const char *location;   /* Location header, or NULL */
  long connects;          /* new connections this call opened (0 = reused) */
} HttpAnswer;

/* Send `req` over `conn` (its base_url, secrets and client) and read the
** answer into `ans`, allocating in `a`. Returns IEX_OK for a 2xx answer.
** Otherwise returns the code for the scheduler, fills `err` (message,
** http_status) and still fills `ans` as far as an answer was read, so the
** caller can look at a 404 or a vendor error code:
**   no connection, DNS, TLS handshake       IEX_E_NETWORK
**   sent, no (complete) answer              IEX_E_NETWORK for reads,
**                                           IEX_E_OUTCOME_UNKNOWN for writes
**   401, 403, 402                           IEX_E_AUTH
**   400, 409, 422                           IEX_E_VALIDATION
**   429                                     IEX_E_HTTP_429 (retry_after_ms)
**   500, 503 and other 5xx                  IEX_E_HTTP_5XX; a write answered
**                                           502 or 504 (a gateway gave up
**                                           waiting for the origin) is
**                                           IEX_E_OUTCOME_UNKNOWN
**   other 4xx (404 included)                IEX_E_HTTP_4XX
** A connection without a client (conn->http NULL) or without a credential
** its style needs fails with IEX_E_AUTH naming the missing credential. */
IexStatus http_call(const Connection *conn, Arena *a, const HttpRequest *req,
                    HttpAnswer *ans, Err *err);

/* ---- Pages ---------------------------------------------------------------
** The four pagination styles, read from an answer: the records of a page
** and the URL of the next one. */

/* The records of a list answer: Shopify's plural key ({"orders": […]}),
** WooCommerce's top-level array, e-conomic's "collection", Dinero's
** "Collection". An empty list when there is none. */
Value http_page_items(HttpStyle style, const HttpAnswer *ans);

/* The absolute URL of the page after the one `url` (absolute) fetched, in
** `a`, or NULL on the last page: Shopify's and WooCommerce's Link
** rel="next" (WooCommerce falls back to page+1 while below
** X-WP-TotalPages), e-conomic's pagination.nextPage, Dinero's page+1 while
** (Page+1)·PageSize < Result. */
const char *http_next_url(HttpStyle style, Arena *a, const char *url,
                          const HttpAnswer *ans);

/* Records per page for `style`: the client's page_size, at most the
** vendor's maximum (Shopify 250, WooCommerce 100, e-conomic and Dinero
** 1000). */
int http_page_size(const Connection *conn, HttpStyle style);

/* Every record of the listing at `path` (absolute, or after base_url; it
** may carry a query of its own), page after page with this style's
** page-size parameter at http_page_size() (e-conomic `pagesize`, Dinero
** `page=0&pageSize`, Shopify `limit`, WooCommerce `per_page`), into one
** list in `a`. `what` names the listing in messages ("the customer
** search"). Stops after 1000 pages. */
IexStatus http_get_all(const Connection *conn, Arena *a, HttpStyle style, const char *path,
                       const char *what, Value *out, Err *err);

/* The value of query parameter `name` in `url`, decoded, in `a`; NULL when
** absent. (Shopify's page_info cursor.) */
const char *http_query_param(Arena *a, const char *url, const char *name);

/* ---- Credentials ------------------------------------------------------- */

/* The secret `name` of `conn`, or NULL. The pointer is the Connection's. */
const char *http_secret(const Connection *conn, const char *name);

/* Forget every cached Dinero token (tests; after a credentials change). */
void http_client_forget_tokens(HttpClient *c);

#endif /* IEX_CONNECTORS_HTTP_H */
