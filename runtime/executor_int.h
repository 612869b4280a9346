/*
** What the executor's two files share (runtime/executor.c: inbox ->
** transfers -> runs; runtime/executor_host.c: the Host that carries out a
** flow's operations). Private to them: everyone else uses executor.h.
*/
#ifndef IEX_RUNTIME_EXECUTOR_INT_H
#define IEX_RUNTIME_EXECUTOR_INT_H

#include "connectors/http.h"
#include "runtime/executor.h"
#include "runtime/retry.h"

#define SEC INT64_C(1000000)

/* An integration as runs need it, loaded once. */
typedef struct Loaded {
  int64_t id;
  Arena arena;          /* ig's strings, connections */
  StoreIntegration ig;
  Flow flow;
  Value connections;    /* RECORD alias -> {system, base_url, secrets} */
} Loaded;

/* What a connection keeps between calls in this process: its token
** bucket, and its breaker's settings. The breaker itself is in the store
** (store_circuit_allow/record), shared by every worker and process. */
typedef struct ConnState {
  int64_t integration_id;
  char alias[64];
  RateLimiter rate;
  bool limited;
  StoreCircuitPolicy circuit;
} ConnState;

struct Executor {
  Store *store;
  ExecutorOptions opt;
  char worker[128];
  RetryRandom rnd;
  Loaded **loaded;
  size_t n_loaded, cap_loaded;
  ConnState *conns;
  size_t n_conns, cap_conns;
  /* executor_replay: this transfer runs `override` instead. */
  int64_t override_transfer;
  Flow *override;
  StoreRunStatus last_status; /* of the last run run_one ended */
  HttpClient *http;           /* made at the first call that needs it */
};

static inline int64_t now_us(Executor *x) { return clock_now_us(x->opt.clock); }

/* One run of one revision, as the Host sees it. */
typedef struct RunCtx {
  Executor *x;
  Loaded *l;
  const Flow *flow;
  StoreRun run;
  StoreRevision rev;
  StoreTransfer transfer;
  Arena *a;
  IexStatus store_rc; /* a store failure inside the host: stop the run */
  Err store_err;
  int64_t wait_until_us; /* Retry-After or an open circuit; 0: backoff */
  ExecutorStats *stats;
  FlowUpdates updates;   /* the flow's `updates:` with this run's settings */
  bool transferred;      /* a run of an earlier revision ended done */
  const char *notes;     /* what connectors said (OpNote), for the run */
} RunCtx;

/* Record a stage of the run (a store failure stops the run: store_rc). */
void executor_add_stage(RunCtx *r, const char *step, StoreStageKind kind,
                        const char *data_json, IexStatus code,
                        const char *message, const char *location);

/* The Host of a run (runtime/host.h), with a RunCtx as its ctx. */
HostAnswer executor_host_operation(void *ctx, const OpCall *call,
                                   Value *result, Err *err);
void executor_host_stage(void *ctx, const char *name, Value data);

#endif /* IEX_RUNTIME_EXECUTOR_INT_H */
