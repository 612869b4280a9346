/*
** iex serve: the long-running process. One HTTP server (libmicrohttpd) for
** webhook deliveries and a small JSON API, the polling scheduler
** (runtime/poller.h) and the workers that turn inbox events into
** transfers and runs (the executor, runtime/executor.h).
**
**   POST /webhooks/<integration>/<connection>   a delivery from a shop
**   GET  /api/health                            liveness and queue sizes
**   GET  /api/transfers[?status=&integration=&key=&limit=&offset=]
**   GET  /api/transfers/<id>                    everything about one
**   POST /api/transfers/<id>/retry              queue a new run
**
** Invariants:
** - A delivery is verified over its raw bytes (connectors/webhook.h) and
**   answered 2xx only once store_inbox_add() has returned, i.e. once it
**   is on disk; a forged, malformed, oversized or replayed one gets a 4xx
**   and nothing is stored; a store failure gets a 503 so the shop sends
**   it again, and the dedup key makes the repeat harmless.
** - Every thread has its own Store handle (a Store is one thread's). The
**   HTTP server runs in one thread, so its handle is never shared.
** - The API reads, except retry, which only queues a run.
** - Shutdown (serve_request_stop(), from SIGTERM/SIGINT): stop accepting
**   connections, answer what is being answered, let each worker finish
**   the step it is in, stop the poller between integrations. A run that a
**   worker could not finish keeps its lease in the store, which expires
**   and is claimed again by the next start (docs/runtime.md, "Runs").
**
** The connections config of an integration (StoreIntegration.connections_json)
** is an object of aliases, each naming its `system` and, for a shop that
** sends webhooks, its signing secret by reference: `webhook_secret` (or
** `client_secret` for Shopify, `secret`) = "env:NAME" | "file:/path".
*/
#ifndef IEX_RUNTIME_SERVE_H
#define IEX_RUNTIME_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/clock.h"
#include "runtime/status.h"
#include "runtime/store.h"

/* What a worker does: one step of work with its own Store handle (one
** inbox event ingested, or one run claimed and executed). Sets `*did_work`
** false when there was nothing to do, so the worker sleeps a little. It
** should return soon after serve_stopping() turns true. Until the
** executor is glued in, `iex serve` runs without workers (events wait in
** the inbox; nothing is lost). */
typedef struct ServeWork {
  void *ctx;
  IexStatus (*step)(void *ctx, Store *store, const char *worker_id,
                    bool *did_work, Err *err);
} ServeWork;

/* What the poller does for one integration, every interval, with the
** poller's own Store (runtime/poller.h fills this in). NULL: no polling. */
typedef struct ServePoll {
  void *ctx;
  IexStatus (*poll_all)(void *ctx, Store *store, Err *err);
} ServePoll;

typedef struct ServeOptions {
  const char *store_path;    /* required */
  const char *listen_addr;   /* IPv4 address; NULL: "127.0.0.1" */
  int port;                  /* 0: any free port */
  const char *port_file;     /* write the port here once listening; or NULL */
  size_t max_body_bytes;     /* larger deliveries get 413; 0: 1 MiB */
  int64_t replay_window_us;  /* 0: WEBHOOK_REPLAY_WINDOW_US */
  int n_workers;             /* worker threads (when work.step is set) */
  int64_t poll_interval_us;  /* 0: 60 s */
  /* How long a shutdown waits for connections in flight (a delivery
  ** still being received) before closing them; 0: 10 s. A delivery cut
  ** off was not answered, so the shop sends it again. */
  int64_t grace_us;
  const Clock *clock;        /* NULL: the system clock */
  ServeWork work;
  ServePoll poll;
  FILE *log;                 /* one line per event; NULL: stderr */
} ServeOptions;

/* Serve until serve_request_stop() is called (typically from a signal
** handler), then shut down gracefully. Prints "listening ADDR:PORT" on
** stdout once the server accepts connections. Returns IEX_OK after a clean
** shutdown, or the code that kept it from starting (`err` says why). */
IexStatus serve_run(const ServeOptions *opts, Err *err);

/* Ask the running serve_run() to stop. Async-signal-safe. */
void serve_request_stop(void);
/* True once a stop was requested: long work should wind down. */
bool serve_stopping(void);

#endif /* IEX_RUNTIME_SERVE_H */
