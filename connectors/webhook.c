/*
** Webhook verification for Shopify and WooCommerce (connectors/webhook.h).
*/
#include "connectors/webhook.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/datetime.h"

static void say(char *why, size_t size, const char *fmt, const char *arg) {
  if (why && size) snprintf(why, size, fmt, arg ? arg : "");
}

const char *webhook_header(const WebhookHeader *h, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (h[i].name && strcasecmp(h[i].name, name) == 0) return h[i].value;
  return NULL;
}

void webhook_sign(const char *secret, const void *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_SIZE]) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  /* An empty body signs as the empty message; HMAC() wants a non-NULL
  ** pointer for it. */
  static const unsigned char empty[1];
  HMAC(EVP_sha256(), secret, (int)strlen(secret),
       len ? (const unsigned char *)body : empty, len, mac, &mac_len);
  /* 32 bytes of digest are 44 characters of base64 plus the NUL. */
  EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
}

bool webhook_signature_ok(const char *secret, const void *body, size_t len,
                          const char *sig) {
  char want[WEBHOOK_SIGNATURE_SIZE];
  webhook_sign(secret, body, len, want);
  while (*sig == ' ' || *sig == '\t') sig++;
  size_t n = strlen(sig);
  while (n && (sig[n - 1] == ' ' || sig[n - 1] == '\t')) n--;
  /* The length is not secret (every SHA-256 signature is 44 characters);
  ** the bytes are compared without an early exit. */
  bool same = n == strlen(want) && CRYPTO_memcmp(sig, want, n) == 0;
  OPENSSL_cleanse(want, sizeof want);
  return same;
}

int webhook_http_status(WebhookVerdict v) {
  switch (v) {
    case WEBHOOK_OK:
    case WEBHOOK_PING: return 200;
    case WEBHOOK_UNSIGNED:
    case WEBHOOK_BAD_SIGNATURE: return 401;
    case WEBHOOK_MALFORMED: return 400;
    case WEBHOOK_STALE: return 409;
    case WEBHOOK_UNKNOWN_SYSTEM: return 404;
  }
  return 400;
}

const char *webhook_verdict_name(WebhookVerdict v) {
  switch (v) {
    case WEBHOOK_OK: return "ok";
    case WEBHOOK_PING: return "ping";
    case WEBHOOK_UNSIGNED: return "unsigned";
    case WEBHOOK_BAD_SIGNATURE: return "bad signature";
    case WEBHOOK_MALFORMED: return "malformed";
    case WEBHOOK_STALE: return "replayed or stale";
    case WEBHOOK_UNKNOWN_SYSTEM: return "unknown system";
  }
  return "?";
}

/* WooCommerce's ping: a form body `webhook_id=<digits>`, nothing else
** (WC_Webhook::deliver_ping). */
static bool is_woo_ping(const char *body, size_t len) {
  static const char prefix[] = "webhook_id=";
  size_t n = sizeof prefix - 1;
  if (len <= n || len > n + 20 || memcmp(body, prefix, n) != 0) return false;
  for (size_t i = n; i < len; i++)
    if (!isdigit((unsigned char)body[i])) return false;
  return true;
}

/* The id member of a resource as text ("" if none). */
static void id_text(json_t *obj, char *out, size_t size) {
  json_t *id = json_object_get(obj, "id");
  out[0] = '\0';
  if (json_is_integer(id))
    snprintf(out, size, "%lld", (long long)json_integer_value(id));
  else if (json_is_string(id))
    snprintf(out, size, "%s", json_string_value(id));
}

/* The first of `names` that is a parseable date-time string in `obj`, as
** UTC microseconds; 0 when none is. Zone-less text is UTC (WooCommerce's
** *_gmt fields). */
static int64_t body_time(json_t *obj, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_object_get(obj, names[i]);
    if (!json_is_string(v)) continue;
    DateTime dt;
    if (datetime_parse(str_from_cstr(json_string_value(v)), &dt, NULL))
      return dt.secs * 1000000 + dt.usec;
  }
  return 0;
}

static int64_t header_time(const char *text) {
  DateTime dt;
  if (!text || !datetime_parse(str_from_cstr(text), &dt, NULL)) return 0;
  return dt.secs * 1000000 + dt.usec;
}

/* Whether snprintf's result `n` fitted in `size` bytes: a key cut short
** could make two different deliveries look the same. */
static bool fits(int n, size_t size) { return n >= 0 && (size_t)n < size; }
#define PUT(out, ...) fits(snprintf((out), sizeof(out), __VA_ARGS__), sizeof(out))

/* "orders/paid" -> "order", "refunds/create" -> "refund". */
static bool shopify_record_type(const char *topic, char *out, size_t size) {
  const char *slash = strchr(topic, '/');
  if (!slash || slash == topic) return false;
  size_t n = (size_t)(slash - topic);
  if (n > 1 && topic[n - 1] == 's') n--;
  if (n >= size) return false;
  memcpy(out, topic, n);
  out[n] = '\0';
  return true;
}

WebhookVerdict webhook_verify(const WebhookCheck *in, WebhookDelivery *out,
                              char *why, size_t why_size) {
  memset(out, 0, sizeof *out);
  bool is_shopify = strcmp(in->system, "shopify") == 0;
  bool is_woo = strcmp(in->system, "woocommerce") == 0;
  if (!is_shopify && !is_woo) {
    say(why, why_size, "%s does not send webhooks iex can verify", in->system);
    return WEBHOOK_UNKNOWN_SYSTEM;
  }
  const WebhookHeader *h = in->headers;
  size_t nh = in->n_headers;
  const char *sig = webhook_header(
      h, nh, is_shopify ? "X-Shopify-Hmac-Sha256" : "X-WC-Webhook-Signature");
  if (!sig) {
    if (is_woo && is_woo_ping(in->body, in->body_len)) {
      snprintf(out->topic, sizeof out->topic, "ping");
      return WEBHOOK_PING;
    }
    say(why, why_size, "no %s header",
        is_shopify ? "X-Shopify-Hmac-Sha256" : "X-WC-Webhook-Signature");
    return WEBHOOK_UNSIGNED;
  }
  if (!in->secret || !in->secret[0]) {
    say(why, why_size, "%s", "no webhook secret is configured for this connection");
    return WEBHOOK_BAD_SIGNATURE;
  }
  if (!webhook_signature_ok(in->secret, in->body, in->body_len, sig)) {
    say(why, why_size, "%s", "the signature does not match the body");
    return WEBHOOK_BAD_SIGNATURE;
  }

  /* Authentic from here on; still refuse what we cannot deduplicate. */
  json_error_t jerr;
  json_t *doc = json_loadb(in->body, in->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(doc)) {
    json_decref(doc);
    say(why, why_size, "%s", "the body is not a JSON object");
    return WEBHOOK_MALFORMED;
  }
  WebhookVerdict v = WEBHOOK_OK;
  id_text(doc, out->record_id, sizeof out->record_id);
  if (is_shopify) {
    const char *topic = webhook_header(h, nh, "X-Shopify-Topic");
    const char *event = webhook_header(h, nh, "X-Shopify-Event-Id");
    const char *hook = webhook_header(h, nh, "X-Shopify-Webhook-Id");
    /* The event id is the same for every retry and for every subscription
    ** that receives the event; older deliveries carry only the webhook
    ** id, which is stable across retries (docs/runtime.md). */
    const char *kind = event && *event ? "event" : "webhook";
    const char *id = event && *event ? event : hook;
    static const char *const times[] = {"updated_at", "created_at"};
    if (!topic || !*topic || !PUT(out->topic, "%s", topic) ||
        !shopify_record_type(topic, out->record_type, sizeof out->record_type)) {
      say(why, why_size, "%s", "missing or unknown X-Shopify-Topic");
      v = WEBHOOK_MALFORMED;
    } else if (!id || !*id ||
               !PUT(out->dedup_key, "shopify:%s:%s", kind, id)) {
      say(why, why_size, "%s", "missing X-Shopify-Webhook-Id");
      v = WEBHOOK_MALFORMED;
    } else {
      out->record_time_us = body_time(doc, times, 2);
      if (!out->record_time_us)
        out->record_time_us =
            header_time(webhook_header(h, nh, "X-Shopify-Triggered-At"));
    }
  } else {
    const char *topic = webhook_header(h, nh, "X-WC-Webhook-Topic");
    const char *res = webhook_header(h, nh, "X-WC-Webhook-Resource");
    const char *src = webhook_header(h, nh, "X-WC-Webhook-Source");
    json_t *mod = json_object_get(doc, "date_modified_gmt");
    static const char *const times[] = {"date_modified_gmt", "date_created_gmt"};
    if (!topic || !*topic || !res || !*res ||
        !PUT(out->topic, "%s", topic) || !PUT(out->record_type, "%s", res)) {
      say(why, why_size, "%s", "missing X-WC-Webhook-Topic or -Resource");
      v = WEBHOOK_MALFORMED;
    } else if (!out->record_id[0]) {
      say(why, why_size, "%s", "the body has no resource id");
      v = WEBHOOK_MALFORMED;
    } else if (!PUT(out->dedup_key, "woocommerce:%s:%s:%s:%s", src ? src : "", res,
                    out->record_id,
                    json_is_string(mod) ? json_string_value(mod) : topic)) {
      say(why, why_size, "%s", "the delivery's identity is too long");
      v = WEBHOOK_MALFORMED;
    } else {
      out->record_time_us = body_time(doc, times, 2);
    }
  }
  json_decref(doc);
  if (v != WEBHOOK_OK) return v;

  int64_t window = in->replay_window_us ? in->replay_window_us
                                        : WEBHOOK_REPLAY_WINDOW_US;
  if (window > 0 && out->record_time_us) {
    if (out->record_time_us < in->now_us - window) {
      say(why, why_size, "%s",
          "the record is older than the replay window; a replayed delivery?");
      return WEBHOOK_STALE;
    }
    if (out->record_time_us > in->now_us + WEBHOOK_FUTURE_SKEW_US) {
      say(why, why_size, "%s", "the record's time is in the future");
      return WEBHOOK_STALE;
    }
  }
  return WEBHOOK_OK;
}
