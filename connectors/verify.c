/*
** Connector.verify_webhook on connectors/webhook.h (connectors/verify.h).
*/
#include "connectors/verify.h"

#include <string.h>

#include "connectors/http.h"
#include "connectors/rec.h"
#include "connectors/webhook.h"
#include "runtime/clock.h"

#define MAX_HEADERS 64

IexStatus connector_verify_signed(const Connection *conn, Arena *arena, Value headers,
                                  const char *body, size_t len, Str *dedup_key,
                                  Str *record_type, bool *ping, Err *err) {
  *ping = false;
  const char *secret = http_secret(conn, "webhook_secret");
  if (!secret) secret = http_secret(conn, "client_secret");
  if (!secret) secret = http_secret(conn, "secret");
  if (!secret)
    return err_set(err, IEX_E_AUTH, "the connection '%s' has no webhook_secret to check "
                   "%s's signatures with", conn->name ? conn->name : "?", conn->system);
  WebhookHeader h[MAX_HEADERS];
  size_t n = 0;
  for (uint32_t i = 0; headers.kind == VAL_RECORD && i < headers.len && n < MAX_HEADERS; i++) {
    const Field *f = value_field_at(headers, i);
    const char *v = rec_text(arena, f->value);
    if (!v) continue;
    h[n++] = (WebhookHeader){arena_strndup(arena, f->key.ptr, f->key.len), v};
  }
  WebhookCheck chk = {.system = conn->system, .secret = secret, .headers = h, .n_headers = n,
                      .body = body, .body_len = len, .now_us = clock_now_us(NULL)};
  WebhookDelivery d;
  char why[256] = "";
  WebhookVerdict v = webhook_verify(&chk, &d, why, sizeof why);
  switch (v) {
    case WEBHOOK_OK:
      *dedup_key = arena_str(arena, str_from_cstr(d.dedup_key));
      *record_type = arena_str(arena, str_from_cstr(d.record_type));
      return IEX_OK;
    case WEBHOOK_PING:
      *ping = true;
      *dedup_key = *record_type = str_make("", 0);
      return IEX_OK;
    case WEBHOOK_UNSIGNED:
    case WEBHOOK_BAD_SIGNATURE:
      return err_set(err, IEX_E_AUTH, "%s webhook refused: %s", conn->system, why);
    case WEBHOOK_MALFORMED:
    case WEBHOOK_STALE:
    case WEBHOOK_UNKNOWN_SYSTEM:
      break;
  }
  return err_set(err, IEX_E_INVALID, "%s webhook refused (%s): %s", conn->system,
                 webhook_verdict_name(v), why);
}
