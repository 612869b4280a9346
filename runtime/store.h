/*
** The store: everything iex keeps between one moment and the next.
**
** Integrations, the inbox of received events, transfers with every
** revision of their source record, runs and their stages, the effect
** ledger that makes each external write happen once, poll cursors, usage
** and the outbox of e-mails. docs/runtime.md is the design; this is its
** interface. One interface, several implementations behind a table of
** operations (runtime/store_int.h): SQLite today (store_sqlite.c),
** PostgreSQL later as a second file.
**
** Rules every caller can rely on:
** - Atomicity. Every function is atomic on its own: it happens completely
**   or not at all. To make several atomic together (a poll's events and its
**   cursor; an effect marked done and the e-mail it causes), wrap them in
**   store_begin() ... store_commit(). Transactions do not nest.
** - Durability. When a write function (or store_commit) returns IEX_OK the
**   change is on disk and survives a crash or power cut. Only then may the
**   caller acknowledge it (answer a webhook with 2xx).
** - Time. Every timestamp is UTC microseconds since the Unix epoch
**   (int64_t, names ending `_us`), read from the Clock given at open.
** - JSON is stored as the caller's text, byte for byte (amounts are never
**   re-printed through a double); the store checks that it is JSON.
** - Secrets. The store never holds a secret value: header JSON is redacted
**   before it is written (runtime/redact.h) and a connections config must
**   name credentials by reference (env:NAME, file:/path).
** - Results. Functions return an IexStatus; detail goes into `err` (may be
**   NULL). Out-parameters hold results only when IEX_OK is returned.
**   Strings and arrays in results are allocated in the Arena the caller
**   passes and live as long as it does. IDs are positive int64_t.
** - Threads. A Store is used by one thread at a time.
*/
#ifndef IEX_RUNTIME_STORE_H
#define IEX_RUNTIME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/str.h"
#include "runtime/clock.h"
#include "runtime/status.h"

typedef struct Store Store;

/* ---- Enumerations stored as text ------------------------------------ */

/* The status of a run, and of a transfer (its latest run's). */
typedef enum StoreRunStatus {
  STORE_RUN_ANY,      /* in filters only: any status */
  STORE_RUN_QUEUED,   /* waiting to be claimed once due */
  STORE_RUN_RUNNING,  /* claimed by a worker holding a lease */
  STORE_RUN_WAITING,  /* a transient problem; the next attempt is queued */
  STORE_RUN_DONE,     /* every step that should run ran */
  STORE_RUN_SKIPPED,  /* the record is not for this flow */
  STORE_RUN_FAILED,   /* cannot be transferred as it is; a person is told */
  STORE_RUN_ATTENTION /* an effect's outcome is unknown and unresolved */
} StoreRunStatus;

/* What a stage records. */
typedef enum StoreStageKind {
  STORE_STAGE_RECEIVED, /* the data the trigger received */
  STORE_STAGE_MAPPED,   /* a step's mapped record */
  STORE_STAGE_REQUEST,  /* a request sent to a system (headers redacted) */
  STORE_STAGE_RESPONSE, /* its response */
  STORE_STAGE_ERROR,    /* a failure, with its reason and flow location */
  STORE_STAGE_SKIPPED,  /* why the record is not for this flow */
  STORE_STAGE_NOTE      /* anything else worth showing (a reconcile lookup) */
} StoreStageKind;

/* The states of an effect (docs/runtime.md, "Steps and effects"). */
typedef enum StoreEffectState {
  STORE_EFFECT_RESERVED, /* reference chosen, nothing sent */
  STORE_EFFECT_STARTED,  /* the request may have reached the target */
  STORE_EFFECT_DONE,     /* result known and kept */
  STORE_EFFECT_REFUSED,  /* the target rejected it; nothing was created */
  STORE_EFFECT_UNKNOWN   /* outcome unknown; look it up before resending */
} StoreEffectState;

/* The text form, as stored and shown ("waiting"); static strings. */
const char *store_run_status_name(StoreRunStatus status);
const char *store_stage_kind_name(StoreStageKind kind);
const char *store_effect_state_name(StoreEffectState state);
/* Parse the text form; false when `name` is none of them. */
bool store_run_status_parse(const char *name, StoreRunStatus *out);

/* ---- Records returned by queries ------------------------------------ */
/* All strings are NUL-terminated and live in the caller's Arena; a column
** that has no value gives NULL (for JSON: NULL, not "null"). */

typedef struct StoreIntegration {
  int64_t id;
  const char *name;             /* unique, chosen by the person adding it */
  Str iexb;                     /* the compiled flow; empty in lists */
  const char *iexb_hash;        /* hash of the .iexb, to see which flow ran */
  const char *connections_json; /* which shop, which agreement; references */
  int64_t activated_at_us;      /* transfers start from this moment */
  bool is_active;               /* false: events are kept but not run */
  int64_t created_at_us, updated_at_us;
} StoreIntegration;

typedef struct StoreInboxItem {
  int64_t id;
  int64_t integration_id;
  const char *dedup_key;    /* what made it unique (Shopify event id, ...) */
  const char *source;       /* "webhook", "poll", "import", "resend" */
  const char *topic;        /* "orders/paid", a record type; may be NULL */
  const char *headers_json; /* redacted headers */
  Str body;                 /* the raw body, as received */
  int64_t received_at_us;
  int64_t processed_at_us; /* 0 while pending */
  const char *outcome;     /* what became of it; NULL while pending */
  int64_t transfer_id;     /* the transfer it went to; 0 if none */
  int64_t n_duplicates;    /* deliveries of the same event after this one */
} StoreInboxItem;

typedef struct StoreTransfer {
  int64_t id;
  int64_t integration_id;
  const char *integration_name;
  const char *source_id;   /* the source record's id */
  const char *display_key; /* what people search for: "#1001" */
  StoreRunStatus status;   /* of the latest run that changed it */
  const char *code;        /* status.def name of the outcome, or NULL */
  const char *message;     /* its reason; may be NULL */
  const char *location;    /* "file:line:col" in the flow, or NULL */
  int64_t n_revisions, n_runs;
  int64_t latest_revision_id;  /* what a resend or a retry runs; 0: none */
  int64_t created_at_us, updated_at_us;
} StoreTransfer;

typedef struct StoreRevision {
  int64_t id;
  int64_t transfer_id;
  int64_t number;        /* 1, 2, ... within the transfer */
  const char *data_json; /* the source record */
  /* The record's own update time as the source wrote it, with its UTC
  ** offset ("2024-05-01T10:00:00+02:00"); may be NULL. */
  const char *source_time;
  int64_t inbox_id; /* the event it came from; 0 if none */
  int64_t created_at_us;
} StoreRevision;

typedef struct StoreRun {
  int64_t id;
  int64_t transfer_id;
  int64_t revision_id;
  int64_t integration_id;
  int64_t attempt;    /* 1 for a revision's first run, +1 per retry */
  const char *reason; /* why queued: "event", "retry", "resend" */
  StoreRunStatus status;
  int64_t due_at_us;        /* claimable from */
  const char *lease_owner;  /* worker holding it; NULL when not running */
  int64_t lease_expires_us; /* 0 when not running */
  int64_t n_claims;         /* claims so far; > 1 means a worker died */
  int64_t started_at_us;    /* the run's now(): set at its first claim */
  int64_t finished_at_us;   /* 0 while not finished */
  const char *code, *message, *location; /* outcome; may be NULL */
  int64_t created_at_us;
} StoreRun;

typedef struct StoreStage {
  int64_t id;
  int64_t run_id;
  const char *step; /* step name; "" for the trigger */
  StoreStageKind kind;
  const char *data_json; /* what SHOW DATA shows; may be NULL */
  const char *code;      /* status.def name */
  const char *message;   /* may be NULL */
  const char *location;  /* may be NULL */
  int64_t started_at_us, finished_at_us;
} StoreStage;

typedef struct StoreEffect {
  int64_t id;
  int64_t transfer_id;
  int64_t revision_id; /* the revision that reserved it */
  int64_t run_id;      /* the run that last moved it */
  const char *key;     /* unique in the transfer: "invoice@r2" */
  const char *step;
  const char *target_system; /* "economic" */
  const char *operation;     /* "invoice.create" */
  const char *reference;     /* the target keeps it; lookups search it */
  bool counts_usage;         /* a create that counts as a transferred order */
  StoreEffectState state;
  int64_t attempts;        /* times started */
  const char *external_id; /* the id the target gave; may be NULL */
  const char *result_json; /* the response or adopted record; may be NULL */
  const char *reason;      /* why refused or unknown; may be NULL */
  int64_t reserved_at_us, started_at_us, finished_at_us;
  int64_t unknown_since_us; /* when it became unknown; 0 if it is not */
  int64_t updated_at_us;
} StoreEffect;

typedef struct StoreMessage {
  int64_t id;
  const char *key;  /* unique: enqueueing twice gives one message */
  const char *kind; /* "email", "notification" */
  const char *recipient;
  const char *subject;
  const char *body;
  int64_t transfer_id; /* 0 if none */
  int64_t attempts;
  int64_t created_at_us;
} StoreMessage;

/* ---- Open and close ------------------------------------------------- */

typedef struct StoreOptions {
  /* The time source; NULL: the system clock. Borrowed: it must outlive
  ** the Store. */
  const Clock *clock;
  int busy_timeout_ms;    /* wait this long for a lock; 0: 5000 */
  const char *sqlite_vfs; /* SQLite VFS name (fault tests); NULL: default */
} StoreOptions;

/* Open the store at `path`, creating it and bringing its schema up to date
** (numbered migrations, each applied atomically). A path is an SQLite
** file; "postgres://..." is reserved for the PostgreSQL store. `opts` may be
** NULL. On success `*out` is a Store the caller closes with store_close().
** Fails with IEX_E_STORE_OPEN (cannot create or open the file),
** IEX_E_STORE_CORRUPT (not an iex store), IEX_E_STORE_NEWER (written by a
** newer iex), IEX_E_STORE_BUSY, and the other store codes. */
IexStatus store_open(const char *path, const StoreOptions *opts, Store **out,
                     Err *err);
/* Close `s` (NULL is allowed). An open transaction is rolled back. */
void store_close(Store *s);
/* The schema version of the open store. */
int store_schema_version(Store *s);
/* Check the store's files for damage (SQLite's integrity_check). IEX_OK or
** IEX_E_STORE_CORRUPT with the first problem in `err`. */
IexStatus store_check(Store *s, Err *err);

/* ---- Transactions --------------------------------------------------- */

/* Start a transaction taking the write lock at once (so it cannot fail to
** upgrade later). IEX_E_MISUSE if one is open; IEX_E_STORE_BUSY after the
** busy timeout. */
IexStatus store_begin(Store *s, Err *err);
/* Commit the open transaction; on IEX_OK it is on disk. On failure the
** transaction is rolled back. */
IexStatus store_commit(Store *s, Err *err);
/* Roll back the open transaction, if any. */
void store_rollback(Store *s);

/* ---- Integrations and settings -------------------------------------- */

typedef struct StoreIntegrationNew {
  const char *name;             /* unique; [A-Za-z0-9._-], 1-64 bytes */
  Str iexb;                     /* the compiled flow */
  const char *iexb_hash;        /* its hash, as `iexc` printed it */
  const char *connections_json; /* JSON; secrets by reference only */
  int64_t activated_at_us;      /* transfers start from this moment */
  bool is_active;
} StoreIntegrationNew;

/* Add an integration; its id goes to `*id_out`. IEX_E_EXISTS when the name
** is taken, IEX_E_SECRET_VALUE when the config holds a secret value,
** IEX_E_INVALID for a bad name. */
IexStatus store_integration_add(Store *s, const StoreIntegrationNew *in,
                                int64_t *id_out, Err *err);
/* The integration `id`, with its .iexb bytes. IEX_E_NOT_FOUND if none. */
IexStatus store_integration_get(Store *s, int64_t id, Arena *a,
                                StoreIntegration *out, Err *err);
/* The integration called `name`. IEX_E_NOT_FOUND if none. */
IexStatus store_integration_find(Store *s, const char *name, Arena *a,
                                 StoreIntegration *out, Err *err);
/* Every integration, by name, without .iexb bytes. */
IexStatus store_integration_list(Store *s, Arena *a, StoreIntegration **items,
                                 size_t *n_items, Err *err);
/* Activate `id`: events from `activated_at_us` on are run (0 keeps the
** activation time it has). IEX_E_NOT_FOUND if none. */
IexStatus store_integration_activate(Store *s, int64_t id,
                                     int64_t activated_at_us, Err *err);
/* Deactivate `id`: events are still stored, nothing runs. */
IexStatus store_integration_deactivate(Store *s, int64_t id, Err *err);
/* The settings values of integration `id` as a JSON object ("{}" when
** never set) into `*json_out`. Every change is kept; this is the latest. */
IexStatus store_settings_get(Store *s, int64_t integration_id, Arena *a,
                             const char **json_out, Err *err);
/* Replace the settings values of `integration_id` with `json` (an object). */
IexStatus store_settings_set(Store *s, int64_t integration_id, const char *json,
                             Err *err);

/* ---- Inbox and cursors ---------------------------------------------- */

typedef struct StoreEvent {
  int64_t integration_id;
  /* Unique per integration. Shopify: X-Shopify-Event-Id; WooCommerce:
  ** source/resource/id/date_modified; polling: record id/updated time. */
  const char *dedup_key;
  const char *source; /* "webhook", "poll", "import", "resend" */
  const char *topic;  /* may be NULL */
  /* An object or a [name, value] list, redacted here; NULL: {}. */
  const char *headers_json;
  Str body; /* raw bytes */
} StoreEvent;

/* Store an event before anything else happens to it. When (integration,
** dedup key) was seen before, nothing new is stored: the earlier event's
** duplicate count goes up, `*is_duplicate` is true and `*id_out` is the
** earlier event's id. Header values that are secret are replaced by "***"
** before they are written. */
IexStatus store_inbox_add(Store *s, const StoreEvent *ev, int64_t *id_out,
                          bool *is_duplicate, Err *err);
/* Up to `limit` unprocessed events, oldest first. */
IexStatus store_inbox_pending(Store *s, size_t limit, Arena *a,
                              StoreInboxItem **items, size_t *n_items,
                              Err *err);
/* Mark event `id` processed with `outcome` ("new revision", "same content",
** "skipped: before activation") and the transfer it went to (0: none). */
IexStatus store_inbox_done(Store *s, int64_t id, int64_t transfer_id,
                           const char *outcome, Err *err);

/* The poll cursor of (integration, record type) into `*value_out`, NULL
** when the integration never polled that record type. */
IexStatus store_cursor_get(Store *s, int64_t integration_id,
                           const char *record_type, Arena *a,
                           const char **value_out, Err *err);
/* Set the cursor. Call it in the transaction that adds the poll's events. */
IexStatus store_cursor_set(Store *s, int64_t integration_id,
                           const char *record_type, const char *value,
                           Err *err);

/* ---- Transfers and revisions ---------------------------------------- */

/* The transfer of (integration, source id), created when there is none.
** `display_key` is what people search for ("#1001"); a changed one
** replaces the old. `*created` (may be NULL) tells which happened. */
IexStatus store_transfer_get_or_add(Store *s, int64_t integration_id,
                                    const char *source_id,
                                    const char *display_key, int64_t *id_out,
                                    bool *created, Err *err);
/* Transfer `id` with its latest status. IEX_E_NOT_FOUND if none. */
IexStatus store_transfer_get(Store *s, int64_t id, Arena *a, StoreTransfer *out,
                             Err *err);

/* Add a revision to `transfer_id` unless its latest revision has exactly
** the same `data_json` bytes (then `*is_new` is false and `*id_out` is that
** latest revision). Callers normalise the record first if some field
** changes without the content changing. `inbox_id` (0: none) and
** `source_time` (NULL: none) are kept with it. */
IexStatus store_revision_add(Store *s, int64_t transfer_id,
                             const char *data_json, const char *source_time,
                             int64_t inbox_id, int64_t *id_out, bool *is_new,
                             Err *err);
/* Revision `id`. IEX_E_NOT_FOUND if none. */
IexStatus store_revision_get(Store *s, int64_t id, Arena *a, StoreRevision *out,
                             Err *err);
/* Every revision of `transfer_id`, oldest first. */
IexStatus store_revision_list(Store *s, int64_t transfer_id, Arena *a,
                              StoreRevision **items, size_t *n_items, Err *err);

/* ---- Runs ----------------------------------------------------------- */

/* The outcome of a run or a stage. */
typedef struct StoreOutcome {
  IexStatus code;
  const char *message;  /* for a person; may be NULL (the code's message) */
  const char *location; /* flow location "file:line:col"; may be NULL */
} StoreOutcome;

/* Queue a run of `revision_id`, claimable from `due_at_us` (0: now).
** `reason` says why ("event", "resend", "retry --failed"). */
IexStatus store_run_add(Store *s, int64_t revision_id, int64_t due_at_us,
                        const char *reason, int64_t *id_out, Err *err);
/* Claim the next due run for `worker_id` for `lease_us` microseconds: the
** oldest queued run that is due, or a running one whose lease expired (its
** worker died). A transfer is never run by two workers at once. `*claimed`
** is false when nothing is due. The run's started_at (its now()) is set at
** its first claim and kept by later ones. */
IexStatus store_run_claim(Store *s, const char *worker_id, int64_t lease_us,
                          Arena *a, StoreRun *out, bool *claimed, Err *err);
/* Extend `worker_id`'s lease on `run_id`. IEX_E_LEASE_LOST when the run is
** not running under that worker's lease any more. */
IexStatus store_run_renew(Store *s, int64_t run_id, const char *worker_id,
                          int64_t lease_us, Err *err);
/* End `run_id` with `status` (done, skipped, failed or attention) and
** `outcome` (NULL: ok). IEX_E_LEASE_LOST when `worker_id` does not hold it
** (its late result is not recorded: another worker owns the run). */
IexStatus store_run_finish(Store *s, int64_t run_id, const char *worker_id,
                           StoreRunStatus status, const StoreOutcome *outcome,
                           Err *err);
/* End `run_id` as `waiting` with `outcome` and queue the next attempt of
** the same revision, due at `due_at_us`; its id goes to `*next_id_out`
** (may be NULL). Same lease rule as store_run_finish. */
IexStatus store_run_retry(Store *s, int64_t run_id, const char *worker_id,
                          int64_t due_at_us, const StoreOutcome *outcome,
                          int64_t *next_id_out, Err *err);
/* Free the leases of running runs whose worker is gone: for each distinct
** lease owner, `is_dead(ctx, owner)` decides; a dead owner's runs become
** claimable at once instead of when their lease expires (a restarted
** `iex run` on the same machine need not wait out the lease of the
** process that was killed). `*n_released` (may be NULL) counts the runs. */
IexStatus store_run_release_dead(Store *s,
                                 bool (*is_dead)(void *ctx, const char *owner),
                                 void *ctx, size_t *n_released, Err *err);
/* Run `id`. IEX_E_NOT_FOUND if none. */
IexStatus store_run_get(Store *s, int64_t id, Arena *a, StoreRun *out,
                        Err *err);
/* Every run of `transfer_id`, oldest first. */
IexStatus store_run_list(Store *s, int64_t transfer_id, Arena *a,
                         StoreRun **items, size_t *n_items, Err *err);
/* The transfers whose status is `failed` (of `integration_id`, 0: all),
** oldest first, for `iex retry --failed`: queue a new run of each one's
** latest_revision_id with store_run_add(). */
IexStatus store_transfers_failed(Store *s, int64_t integration_id, Arena *a,
                                 StoreTransfer **items, size_t *n_items,
                                 Err *err);

/* ---- Stages --------------------------------------------------------- */

typedef struct StoreStageNew {
  int64_t run_id;
  const char *step; /* step name; NULL or "" for the trigger */
  StoreStageKind kind;
  const char *data_json;  /* or NULL; "headers" members are redacted */
  StoreOutcome outcome;   /* code IEX_OK for a plain record of data */
  int64_t started_at_us;  /* 0: now */
  int64_t finished_at_us; /* 0: now */
} StoreStageNew;

/* Append a stage to its run. */
IexStatus store_stage_add(Store *s, const StoreStageNew *in, int64_t *id_out,
                          Err *err);
/* Every stage of `run_id`, in the order they were added. */
IexStatus store_stage_list(Store *s, int64_t run_id, Arena *a,
                           StoreStage **items, size_t *n_items, Err *err);

/* ---- Effects -------------------------------------------------------- */

typedef struct StoreEffectNew {
  int64_t transfer_id;
  int64_t revision_id;
  int64_t run_id;
  /* Unique within the transfer: "invoice" for `updates: apply`,
  ** "invoice@r3" for `updates: again`. */
  const char *key;
  const char *step;
  const char *target_system; /* "economic" */
  const char *operation;     /* "invoice.create" */
  const char *reference;     /* deterministic; the target keeps it */
  bool counts_usage;         /* a create of an order in a receiving system */
} StoreEffectNew;

/* Reserve the effect (transfer, key), or find the one already reserved:
** `*created` tells which, `*out` is the effect as it is now (in any
** state). The caller acts on its state: reserved/refused -> start and
** send; started/unknown -> reconcile; done -> reuse its result. */
IexStatus store_effect_reserve(Store *s, const StoreEffectNew *in, Arena *a,
                               StoreEffect *out, bool *created, Err *err);
/* reserved, unknown or refused -> started, by `run_id`; attempts + 1.
** Commit this before the request is written. IEX_E_EFFECT_STATE from any
** other state (done -> started would send twice). */
IexStatus store_effect_start(Store *s, int64_t effect_id, int64_t run_id,
                             Err *err);
/* started, unknown or reserved -> done with the response or adopted record
** and the target's id. When the effect counts usage, the order is counted
** for (transfer, target system) in the same transaction, once ever:
** `*counted` (may be NULL) says whether this call counted it. */
IexStatus store_effect_done(Store *s, int64_t effect_id,
                            const char *result_json, const char *external_id,
                            bool *counted, Err *err);
/* started -> refused: the target rejected it and created nothing. */
IexStatus store_effect_refused(Store *s, int64_t effect_id, const char *reason,
                               Err *err);
/* started -> unknown (or unknown -> unknown, to update the reason): the
** request may have reached the target. */
IexStatus store_effect_unknown(Store *s, int64_t effect_id, const char *reason,
                               Err *err);
/* The effect (transfer, key); `*found` false when there is none. */
IexStatus store_effect_find(Store *s, int64_t transfer_id, const char *key,
                            Arena *a, StoreEffect *out, bool *found, Err *err);
/* Every effect that is started or unknown, oldest first: at startup, each
** is marked unknown and reconciled before anything is sent again. */
IexStatus store_effect_list_unsettled(Store *s, Arena *a, StoreEffect **items,
                                      size_t *n_items, Err *err);
/* Every effect of `transfer_id`, in the order they were reserved. */
IexStatus store_effect_list(Store *s, int64_t transfer_id, Arena *a,
                            StoreEffect **items, size_t *n_items, Err *err);

/* ---- Usage ---------------------------------------------------------- */

typedef struct StoreUsage {
  int year, month;  /* the UTC month counted */
  int64_t used;     /* orders counted in it */
  int64_t included; /* of those, within the quota */
  int64_t extra;    /* of those, beyond the quota */
  int64_t quota;    /* the quota it was measured against */
} StoreUsage;

/* The orders counted in UTC month `year`-`month` (of `integration_id`, 0:
** all), split into included (up to `quota`) and extra. */
IexStatus store_usage_month(Store *s, int year, int month, int64_t quota,
                            int64_t integration_id, StoreUsage *out, Err *err);

/* ---- Outbox --------------------------------------------------------- */

typedef struct StoreMessageNew {
  /* Unique, e.g. "run-42-failed": a replayed state change enqueues
  ** nothing new. */
  const char *key;
  const char *kind; /* "email", "notification" */
  const char *recipient;
  const char *subject;
  const char *body;
  int64_t transfer_id; /* 0 if none */
} StoreMessageNew;

/* Enqueue a message; call it in the transaction of the state change that
** causes it. `*created` (may be NULL) is false when `key` was enqueued
** before (nothing is added). */
IexStatus store_outbox_add(Store *s, const StoreMessageNew *in, int64_t *id_out,
                           bool *created, Err *err);
/* Claim the oldest due unsent message for `lease_us`. `*claimed` false
** when there is none. A message whose claim expired is claimed again (the
** sender died; it may go out twice, with the same id for Message-ID). */
IexStatus store_outbox_claim(Store *s, const char *worker_id, int64_t lease_us,
                             Arena *a, StoreMessage *out, bool *claimed,
                             Err *err);
/* Message `id` went out. */
IexStatus store_outbox_sent(Store *s, int64_t id, Err *err);
/* Sending `id` failed with `error`; try again from `due_at_us`. */
IexStatus store_outbox_defer(Store *s, int64_t id, int64_t due_at_us,
                             const char *error, Err *err);

/* ---- Connection health: the circuit breaker -------------------------- */
/* After repeated transient failures a connection pauses (docs/runtime.md,
** "Retries, rate limits, circuit breaker"). Its breaker lives here, one per
** (integration, connection alias), so that every worker of `iex serve` and
** every `iex run` counts the same failures, honours the same pause, and
** tells a person once per outage. The logic is retry.h's; the store makes
** each read-modify-write atomic across processes. */

typedef enum StoreCircuitState {
  STORE_CIRCUIT_CLOSED,   /* calls go through */
  STORE_CIRCUIT_OPEN,     /* paused until retry_at */
  STORE_CIRCUIT_HALF_OPEN /* one trial call is out; others wait */
} StoreCircuitState;

/* The text form, as stored and shown ("half_open"); a static string. */
const char *store_circuit_state_name(StoreCircuitState state);

typedef struct StoreConnectionHealth {
  int64_t integration_id;
  const char *alias; /* the connection's alias in the flow ("books") */
  StoreCircuitState state;
  int64_t failures;      /* consecutive transient failures */
  int64_t opened_at_us;  /* when it last paused; 0: never */
  /* Open: when the pause ends and one trial call may go. Half open: when
  ** the trial's claim lapses (its worker died). Closed: 0. */
  int64_t retry_at_us;
  const char *last_error_code; /* status.def name of the last failure */
  const char *last_error;      /* its reason; never a secret; may be NULL */
  int64_t updated_at_us;       /* 0: never recorded */
} StoreConnectionHealth;

/* A connection's breaker settings (its connections JSON:
** circuit_failures, circuit_pause_seconds). */
typedef struct StoreCircuitPolicy {
  int threshold;    /* consecutive failures that pause it; 0: 5 */
  int64_t pause_us; /* how long a pause lasts; 0: 60 s */
} StoreCircuitPolicy;

/* What a call through a connection showed about it. */
typedef enum StoreCallResult {
  STORE_CALL_OK,     /* it answered (a refusal of the data, 4xx, too) */
  STORE_CALL_FAILED, /* a transient failure: network, 5xx, unknown outcome */
  STORE_CALL_NEUTRAL /* no verdict (a 429: it works, and asks us to slow
                     ** down); only gives back a trial call's claim */
} StoreCallResult;

/* The health of connection `alias` of `integration_id` into `*out`; one
** never recorded is closed with no failures. */
IexStatus store_connection_health(Store *s, int64_t integration_id,
                                  const char *alias, Arena *a,
                                  StoreConnectionHealth *out, Err *err);
/* The recorded health of every connection of `integration_id`, by alias
** (connections never recorded are not listed: they are closed). */
IexStatus store_connection_health_list(Store *s, int64_t integration_id,
                                       Arena *a, StoreConnectionHealth **items,
                                       size_t *n_items, Err *err);
/* May a call through the connection go out now? `*allowed` says; `*out`
** (may be NULL) is the health after the decision, for the reason of a
** refusal. When the pause of an open circuit is over, exactly one caller
** in every process on the store is allowed (the trial call, claimed in
** the transaction that decided it); the others are refused until its
** result is recorded or its claim lapses. A closed circuit costs one read
** and no write. */
IexStatus store_circuit_allow(Store *s, int64_t integration_id,
                              const char *alias, const StoreCircuitPolicy *p,
                              bool *allowed, Arena *a,
                              StoreConnectionHealth *out, Err *err);
/* Record the result of a call through the connection, atomically with
** every other process: failures count up (`code` and `message` are kept
** as the last error), `threshold` of them in a row open the circuit; a
** success closes it. `*opened` (may be NULL) is true for exactly one
** caller per outage: the one whose failure opened the circuit from
** closed; a failed trial opens it again without it. `notify` (may be
** NULL) is enqueued (store_outbox_add) in the same transaction when, and
** only when, this call opened it: one message per outage. */
IexStatus store_circuit_record(Store *s, int64_t integration_id,
                               const char *alias, const StoreCircuitPolicy *p,
                               StoreCallResult result, IexStatus code,
                               const char *message,
                               const StoreMessageNew *notify, bool *opened,
                               Err *err);
/* Close the circuit by hand (`iex integration resume`): a person fixed the
** cause. `*was_paused` (may be NULL) says whether it was open or half
** open. The failure count goes to 0; the last error is kept. */
IexStatus store_circuit_close(Store *s, int64_t integration_id,
                              const char *alias, bool *was_paused, Err *err);
/* Make the queued retries of `integration_id`'s waiting transfers due now
** instead of at the end of their backoff or pause: after a person resumed
** a paused connection, what waited for it goes at once. `*n_runs` (may be
** NULL) counts them. */
IexStatus store_runs_due_now(Store *s, int64_t integration_id, size_t *n_runs,
                             Err *err);

/* ---- Queries for people (iex log, iex show) ------------------------- */

typedef struct StoreLogFilter {
  StoreRunStatus status;  /* STORE_RUN_ANY: every status */
  int64_t integration_id; /* 0: all */
  /* A display key or source id ("1001" also finds "#1001"); NULL: all. */
  const char *key;
  int64_t from_us, to_us; /* last activity in [from, to); 0: open */
  size_t limit;           /* 0: 50 */
  size_t offset;
} StoreLogFilter;

/* Transfers matching `f`, most recent activity first. */
IexStatus store_log(Store *s, const StoreLogFilter *f, Arena *a,
                    StoreTransfer **items, size_t *n_items, Err *err);

/* Everything about one transfer, for `iex show`. */
typedef struct StoreTransferDetail {
  StoreTransfer transfer;
  /* The deliveries that reached it, oldest first, each with its count of
  ** ignored duplicates. */
  StoreInboxItem *events;
  size_t n_events;
  StoreRevision *revisions; /* oldest first */
  size_t n_revisions;
  StoreRun *runs; /* oldest first */
  size_t n_runs;
  StoreStage *stages; /* by run, then in the order added */
  size_t n_stages;
  StoreEffect *effects; /* in the order reserved */
  size_t n_effects;
} StoreTransferDetail;

/* The transfer `id` with its events, revisions, runs, stages and effects,
** read in one snapshot. IEX_E_NOT_FOUND if none. */
IexStatus store_transfer_show(Store *s, int64_t id, Arena *a,
                              StoreTransferDetail *out, Err *err);

#endif /* IEX_RUNTIME_STORE_H */
