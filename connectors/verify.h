/*
** Connector.verify_webhook for the systems that sign their webhooks
** (Shopify, WooCommerce), on connectors/webhook.h.
**
** `iex serve` verifies deliveries with webhook_verify() itself; this
** adapter gives the same verdict through the Connector contract
** (connectors/connector.h), so that any other caller that holds a
** Connection (a test, a replay tool) checks a delivery the same way. The
** signing secret is the connection's `webhook_secret`, else
** `client_secret`, else `secret` (the names serve looks for).
*/
#ifndef IEX_CONNECTORS_VERIFY_H
#define IEX_CONNECTORS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/str.h"
#include "connectors/connector.h"
#include "runtime/status.h"
#include "runtime/value.h"

/* Verify one delivery to `conn` (system "shopify" or "woocommerce"):
** IEX_OK with `*dedup_key` and `*record_type` (in `arena`) and `*ping`
** false for a signed delivery; IEX_OK with `*ping` true for WooCommerce's
** unsigned ping; IEX_E_AUTH for a missing or wrong signature or a missing
** secret; IEX_E_INVALID for a malformed or stale delivery. `headers` is a
** RECORD of header names to string values. The replay window is
** webhook.h's default, on the system clock. */
IexStatus connector_verify_signed(const Connection *conn, Arena *arena, Value headers,
                                  const char *body, size_t len, Str *dedup_key,
                                  Str *record_type, bool *ping, Err *err);

#endif /* IEX_CONNECTORS_VERIFY_H */
