/*
** The executor: turns stored events into transfers and runs them.
**
** It is the Host (runtime/host.h) of real runs. For an integration's
** pending events it makes transfers and revisions (store.h), then claims
** due runs one at a time and runs the integration's flow on the
** revision's record. For each operation the flow asks for it records the
** mapped record as a stage, finds the connection's connector, and for a
** write goes through the effects protocol (runtime/effects.h) so that the
** write happens once however often the process dies. It ends each run as
** done, skipped (with the reason), failed (with the reason and the flow
** rule; a person is told through the outbox), waiting (a transient
** problem: retried with backoff, runtime/retry.h) or attention (an
** outcome that could not be reconciled).
**
** A flow is whatever implements `Flow`: the VM running a .iexb
** (runtime/vm.h), or, for tests and until the VM lands, a scripted flow
** (a small JSON description, executor_script.c). flow_load() picks by the
** file's first bytes.
**
** Connections come from the integration's connections JSON:
**   {"books": {"system": "economic", "base_url": "http://...",
**              "secrets": {"app_secret_token": "env:ECO_APP"}, ...}}
** Secrets are resolved (runtime/secrets.h) just before each call and wiped
** after it. A connection's rate limit (`rate_per_second`) is a token
** bucket in this process, taken before every HTTP request; its circuit
** breaker lives in the store (store_circuit_allow/record), shared by every
** worker and process. A changed source record is a new revision, run as
** the flow's `updates:` says (docs/runtime.md, "Updates").
**
** One Executor per process and thread; it holds the Store it was given
** (borrowed), and caches the integrations' flows it loaded.
*/
#ifndef IEX_RUNTIME_EXECUTOR_H
#define IEX_RUNTIME_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/str.h"
#include "connectors/connector.h"
#include "runtime/clock.h"
#include "runtime/host.h"
#include "runtime/retry.h"
#include "runtime/settings.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "runtime/value.h"

/* ---- Flows ------------------------------------------------------------ */

/* What a flow does with a changed source record (`updates:`). */
typedef enum FlowUpdates {
  FLOW_UPDATES_APPLY,  /* effects are per transfer: what an earlier
                          revision made is updated where the operation can
                          (OP_UPDATE_REPLACES), else its answer reused */
  FLOW_UPDATES_AGAIN,  /* effects are per revision: each revision writes */
  FLOW_UPDATES_IGNORE  /* a revision after a transferred one is skipped */
} FlowUpdates;

/* What the executor needs to know about a flow besides running it. */
typedef struct FlowInfo {
  const char *name;
  /* Fields of the source record: its id (what makes a transfer), what
  ** people search for ("#1001"; NULL: the id), and its update time (kept
  ** with each revision; NULL: none). */
  const char *id_field, *key_field, *time_field;
  FlowUpdates updates; /* with the declared defaults; see Flow.updates */
  const FlowSetting *settings; /* declared settings */
  size_t n_settings;
} FlowInfo;

typedef struct Flow {
  FlowInfo info;
  void *ctx;
  /* Run the flow on one source record with its settings (a RECORD, see
  ** settings_values) against `host`. Everything it makes lives in `a`.
  ** HOST_SKIP and HOST_FAIL carry the reason, code and flow location in
  ** `err` (see runtime/host.h). */
  HostAnswer (*run)(void *ctx, Arena *a, Value record, Value settings,
                    const Host *host, Err *err);
  /* The flow's `updates:` choice with these settings (it may be a
  ** setting: `updates: settings.on_update`). NULL: info.updates. The
  ** executor asks before every run, so a changed setting applies to the
  ** very next run. */
  FlowUpdates (*updates)(void *ctx, Value settings);
  void (*close)(void *ctx); /* release ctx; may be NULL */
} Flow;

/* Load the compiled flow `bytes` (`origin` names it in messages).
** IEX_E_INVALID with a message when it cannot be run by this iex. */
IexStatus flow_load(Str bytes, const char *origin, Flow *out, Err *err);
/* Release what flow_load() made. */
void flow_close(Flow *f);

/* A compiled flow (.iexb, starts with BYTECODE_MAGIC) run by the VM
** (flow_vm.c). */
IexStatus flow_vm_load(Str bytes, const char *origin, Flow *out, Err *err);

/* A scripted flow (executor_script.c): the file starts with the line
** "#!iex-script-flow" and a JSON object follows. For tests, and for
** running the runtime end to end before the VM lands. See the file. */
#define FLOW_SCRIPT_MAGIC "#!iex-script-flow"
IexStatus flow_script_load(Str bytes, const char *origin, Flow *out, Err *err);

/* ---- The executor ----------------------------------------------------- */

typedef struct ExecutorOptions {
  const Clock *clock;      /* NULL: the system clock; give the store's */
  const char *worker_id;   /* NULL: "host:pid" */
  int64_t lease_us;        /* run lease; 0: 5 min */
  RetryPolicy retry;       /* zero fields: retry_default's */
  int max_attempts;        /* fail a run after this many; 0: by horizon */
  uint64_t seed;           /* jitter; 0: from the clock and pid */
  /* Lookups that miss within this long after an outcome became unknown
  ** are repeated later instead of sending again (search lags in some
  ** systems); 0: send again after the first miss. */
  int64_t reconcile_window_us;
  /* Connector lookup; NULL: connector_find() (connectors/registry.def),
  ** then the runtime's own (executor_builtin_connector). */
  const Connector *(*find_connector)(const char *system);
  const char *notify_to;   /* who is told of failures; NULL: "operator" */
  bool quiet;              /* no progress lines on stderr */
} ExecutorOptions;

/* Counts of what a call did. */
typedef struct ExecutorStats {
  size_t events;     /* inbox events turned into transfers/revisions */
  size_t unchanged;  /* events whose record had not changed */
  size_t runs;       /* runs claimed */
  size_t done, skipped, failed, waiting, attention;
  size_t sent;       /* effects sent */
  size_t reused;     /* effects already done, result reused */
  size_t adopted;    /* effects found by reference after an unknown outcome */
} ExecutorStats;

typedef struct Executor Executor;

/* A new executor on `store` (borrowed). `opt` may be NULL. */
Executor *executor_new(Store *store, const ExecutorOptions *opt);
void executor_free(Executor *x);

/* At startup: free the leases of runs whose worker died on this host, and
** mark every started effect unknown, so nothing is sent again before it
** is looked up. */
IexStatus executor_recover(Executor *x, Err *err);

/* Store a record for `integration_id` in the inbox (source "import", the
** dedup key from the flow's id and time fields), as a poll or file drop
** would. `*is_duplicate` (may be NULL) says it was there already. */
IexStatus executor_submit(Executor *x, int64_t integration_id, Str record_json,
                          const char *source, bool *is_duplicate, Err *err);

/* Turn every pending inbox event into a transfer revision and a queued
** run (one transaction per event). */
IexStatus executor_accept_pending(Executor *x, ExecutorStats *stats, Err *err);

/* Claim and run due runs until none is due (or `max_runs`, 0: no limit).
** Returns IEX_OK unless the store itself fails. */
IexStatus executor_run_due(Executor *x, size_t max_runs, ExecutorStats *stats,
                           Err *err);

/* executor_recover + accept_pending + run_due: `iex run`. */
IexStatus executor_run_pending(Executor *x, ExecutorStats *stats, Err *err);

/* Queue a new run of the latest revision of `transfer_id` now (`iex
** retry`). `reason` is stored with it. */
IexStatus executor_retry(Executor *x, int64_t transfer_id, const char *reason,
                         Err *err);

/* Run the latest revision of `transfer_id` again now with `flow` instead
** of the integration's (`iex replay`): effects already done are reused,
** the others are made. The run's outcome goes to `*status_out`. */
IexStatus executor_replay(Executor *x, int64_t transfer_id, Flow *flow,
                          StoreRunStatus *status_out, Err *err);

/* The flow of `integration_id`, loaded once and cached (owned by `x`). */
IexStatus executor_flow(Executor *x, int64_t integration_id, Flow **out,
                        Err *err);

/* ---- Connectors --------------------------------------------------------- */

/* The connectors the runtime itself carries: "ledger", a target that
** appends every write to a file (runtime/ledger.h). NULL when unknown. */
const Connector *executor_builtin_connector(const char *system);

#endif /* IEX_RUNTIME_EXECUTOR_H */
