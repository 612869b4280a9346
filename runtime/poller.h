/*
** The poller: fetch what changed in each source system since a stored
** cursor and put it into the inbox, because webhooks are not guaranteed
** (a shop drops them, a subscription is removed after failures, a
** delivery is cut off by a restart). It runs in `iex serve` on an
** interval, for every active integration, also where webhooks are used;
** the inbox's dedup makes the overlap harmless.
**
** For each connection of an integration whose connector can `list`, and
** each record type it polls (config "poll": ["order", ...]; default
** "order"), the poller lists from the stored cursor (the latest record
** time seen, minus a second, so records sharing that second are not
** missed), page by page. Each page's events are committed with
** store_inbox_add (dedup key "poll:<type>:<id>:<updated time>"); the last
** page's events and the new cursor are committed in one transaction, so a
** cursor never runs ahead of the events it covers. The first poll starts
** at the integration's activation time: earlier records come only through
** `iex import`.
**
** Webhook subscriptions: for a shop connection with "webhooks": true in its
** config, the poller also lists the shop's subscriptions that point at
** this integration's address (/webhooks/<integration>/<alias>) and records
** a notice (a log line and an outbox notification, once per
** subscription) when one it saw active is gone or no longer active, or
** when there is none: deliveries will not come, polling carries on.
*/
#ifndef IEX_RUNTIME_POLLER_H
#define IEX_RUNTIME_POLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/arena.h"
#include "connectors/connector.h"
#include "runtime/clock.h"
#include "runtime/status.h"
#include "runtime/store.h"

typedef struct Poller {
  HttpClient *http;   /* shared client; borrowed */
  const Clock *clock; /* NULL: the system clock */
  FILE *log;          /* one line per poll with news; NULL: stderr */
  /* Which connector serves a system: connector_find, or a test double. */
  const Connector *(*find)(const char *system);
  int64_t n_events;   /* events added since the Poller was set up */
} Poller;

/* The connection `alias` of `connections_json` as a Connection, with its
** credentials resolved from their references (secret_resolve, runtime/secrets.h) into
** `a` (wiped when `a` is reset or finalised), and `http` as its client. IEX_E_NOT_FOUND when there is no such
** alias. */
IexStatus poller_connection(const char *connections_json, const char *alias,
                            HttpClient *http, Arena *a, Connection *out,
                            Err *err);

/* Poll every source connection of integration `it` once. */
IexStatus poller_poll_integration(Poller *p, Store *s, const StoreIntegration *it,
                                  Err *err);

/* Poll every active integration once; the ServePoll.poll_all of `iex
** serve` with a Poller as `ctx`. A failing integration is logged and the
** others are still polled; the first failure is returned. */
IexStatus poller_poll_all(void *ctx, Store *s, Err *err);

/* The record time that orders changes ("updated_at", WooCommerce's
** "date_modified_gmt", ...) of `rec` in UTC microseconds, and its text in
** `*text` (in `a`; `text` may be NULL); 0 when it has none. */
int64_t poller_record_time(Value rec, Arena *a, const char **text);

#endif /* IEX_RUNTIME_POLLER_H */
