/*
** Webhook verification: is this delivery really from the shop, is it new,
** and what makes it unique?
**
** `iex serve` calls webhook_verify() on the raw bytes it received, before
** anything is stored (docs/runtime.md, "The pipeline"). It knows the two
** webshops that sign their deliveries:
**
**   Shopify      X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(body, client secret))
**   WooCommerce  X-WC-Webhook-Signature: base64(HMAC-SHA256(body, secret)),
**                and the unsigned ping `webhook_id=N` sent when a webhook
**                is created or activated, which must be answered with 200.
**
** The signature is computed over the exact bytes received (never over
** re-serialised JSON) and compared in constant time (CRYPTO_memcmp).
**
** Replays. Headers are not signed, so an old delivery can be sent again
** with fresh headers. Two guards: the dedup key (a delivery seen before is
** stored once, however often it comes), and the replay window on the
** record's own time, which is inside the signed body (Shopify `updated_at`,
** WooCommerce `date_modified_gmt`; Shopify's X-Shopify-Triggered-At when
** the body has none): a delivery whose record time is older than the
** window, or too far in the future, is refused. The window must be shorter
** than the inbox keeps dedup keys (7 days) and longer than the shop retries
** (Shopify: up to 48 h), hence the 72 h default.
**
** Connectors (connectors/<system>/<system>.c) may implement their
** Connector.verify_webhook with webhook_verify(); it needs only the secret.
*/
#ifndef IEX_CONNECTORS_WEBHOOK_H
#define IEX_CONNECTORS_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"

/* The default replay window and the clock skew tolerated into the future. */
#define WEBHOOK_REPLAY_WINDOW_US ((int64_t)72 * 3600 * 1000000)
#define WEBHOOK_FUTURE_SKEW_US ((int64_t)15 * 60 * 1000000)

/* The verdict, each with the HTTP status the sender gets. */
typedef enum WebhookVerdict {
  WEBHOOK_OK = 0,        /* 200 after it is stored */
  WEBHOOK_PING,          /* 200, nothing stored (WooCommerce ping) */
  WEBHOOK_UNSIGNED,      /* 401: no signature header */
  WEBHOOK_BAD_SIGNATURE, /* 401: the signature does not match */
  WEBHOOK_MALFORMED,     /* 400: not JSON, no id, unknown topic, ... */
  WEBHOOK_STALE,         /* 409: outside the replay window */
  WEBHOOK_UNKNOWN_SYSTEM /* 404: the connection's system sends no webhooks */
} WebhookVerdict;

/* One request header as received; names compare case-insensitively. */
typedef struct WebhookHeader {
  const char *name;
  const char *value;
} WebhookHeader;

/* What a verified delivery is. Strings are NUL-terminated, cut to size. */
typedef struct WebhookDelivery {
  char dedup_key[256]; /* "shopify:event:<id>", "woocommerce:<src>:order:7:<t>" */
  char topic[64];      /* "orders/paid", "order.updated" */
  char record_type[32]; /* the schema's record: "order", "refund", "customer" */
  char record_id[64];  /* the resource id from the body, "" if none */
  int64_t record_time_us; /* the time the replay window was checked on; 0 */
} WebhookDelivery;

typedef struct WebhookCheck {
  const char *system;    /* "shopify" or "woocommerce" */
  const char *secret;    /* the signing secret (never copied or logged) */
  const WebhookHeader *headers;
  size_t n_headers;
  const char *body;      /* the raw bytes */
  size_t body_len;
  int64_t now_us;        /* UTC microseconds */
  int64_t replay_window_us; /* 0: WEBHOOK_REPLAY_WINDOW_US; < 0: no check */
} WebhookCheck;

/* Verify one delivery. On WEBHOOK_OK `*out` says what it is; on anything
** else `why` (may be NULL) gets a reason fit for a log line and an HTTP
** answer; it never holds the secret or the expected signature. */
WebhookVerdict webhook_verify(const WebhookCheck *in, WebhookDelivery *out,
                              char *why, size_t why_size);

/* The HTTP status to answer with for `v` (200, 400, 401, 404 or 409). */
int webhook_http_status(WebhookVerdict v);
/* The verdict's name for logs: "ok", "ping", "bad signature", ... */
const char *webhook_verdict_name(WebhookVerdict v);

/* The value of header `name` (case-insensitive), or NULL. */
const char *webhook_header(const WebhookHeader *h, size_t n, const char *name);

/* base64(HMAC-SHA256(body, secret)) into `out` (at least 45 bytes,
** NUL-terminated): what a sender puts in its signature header. Tests and
** the emulator-facing tools sign with it. */
#define WEBHOOK_SIGNATURE_SIZE 45
void webhook_sign(const char *secret, const void *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_SIZE]);

/* Whether `sig` (a received header value; surrounding blanks ignored) is
** the signature of `body` under `secret`, compared in constant time. */
bool webhook_signature_ok(const char *secret, const void *body, size_t len,
                          const char *sig);

#endif /* IEX_CONNECTORS_WEBHOOK_H */
