/*
** iex import: earlier orders, on request. Transfers normally start at an
** integration's activation; `iex import` brings in the orders from a date
** (and from an order number) before it, in two ways:
**
** - The dry run lists the orders and, per order, what would block it
**   before anything is sent: lines without SKU, products the accounting
**   system does not have, a customer without name, e-mail or country, no
**   VAT zone for the customer's country, a date in a closed or missing
**   fiscal year; and the quota: how many orders the import takes from this
**   month's included orders and how many it would cost as extra orders.
** - The real run puts every order into the inbox as an "import" event
**   (dedup key "order:<id>:<updated time>", the poller's, so an order that
**   is both polled and imported is one event), page by page, each page in
**   one transaction with the import's resume position. Interrupted, it
**   goes on from the last committed page; run twice, it adds nothing
**   twice. The workers of `iex serve` (or an ImportWork hook) transfer the
**   events, as fast as the target's rate limit allows; the progress line
**   follows them.
*/
#ifndef IEX_RUNTIME_IMPORT_H
#define IEX_RUNTIME_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/arena.h"
#include "connectors/connector.h"
#include "runtime/status.h"
#include "runtime/store.h"

/* What blocks one order; a bit set. */
typedef enum ImportBlocker {
  IMPORT_NO_SKU = 1 << 0,          /* a line has no SKU */
  IMPORT_NO_PRODUCT = 1 << 1,      /* the target has no product for a SKU */
  IMPORT_NO_NAME = 1 << 2,         /* the customer has no name */
  IMPORT_NO_EMAIL = 1 << 3,        /* ... no e-mail */
  IMPORT_NO_COUNTRY = 1 << 4,      /* ... no country */
  IMPORT_NO_VAT = 1 << 5,          /* no VAT zone for the country */
  IMPORT_CLOSED_YEAR = 1 << 6      /* the order date is in a closed or
                                      missing fiscal year */
} ImportBlocker;

typedef struct ImportOptions {
  const char *integration;  /* name */
  const char *since;        /* "YYYY-MM-DD" or an ISO date-time */
  int64_t from_number;      /* 0: every number */
  bool dry_run;
  HttpClient *http;
  const Connector *(*find)(const char *system);
  FILE *out;                /* the report and progress; NULL: stdout */
  bool is_tty;              /* progress bar (true) or plain lines */
  int64_t now_us;           /* for the month of the quota; 0: now */
} ImportOptions;

typedef struct ImportSummary {
  int64_t n_orders;     /* orders from `since` (and `from_number`) on */
  int64_t n_blocked;    /* dry run: with at least one blocker */
  int64_t n_added;      /* real run: new inbox events */
  int64_t n_already;    /* real run: already in the inbox */
  int64_t quota_included, quota_extra; /* what the orders would cost */
} ImportSummary;

/* Run the import described by `o` against the store `s`. */
IexStatus import_run(const ImportOptions *o, Store *s, ImportSummary *sum, Err *err);

/* Progress for people: "[#####-----] 120/360  35.2/s  0:07 left" on a
** terminal (redrawn with \r), a plain line otherwise. `total` 0: unknown. */
void import_progress(FILE *f, bool is_tty, const char *what, int64_t done,
                     int64_t total, double elapsed_s);

#endif /* IEX_RUNTIME_IMPORT_H */
