/*
** The inside of the store: what every implementation provides.
**
** Included only by runtime/store*.c. store.c holds what is the same for
** every implementation: checking arguments, redacting secrets, the effect
** state machine and the text forms of enumerations; then it calls the
** implementation through the StoreOps table. An implementation (SQLite in
** store_sqlite.c, PostgreSQL later) embeds `Store` as the first member of
** its own struct and does the reading and writing.
**
** When an operation is called, its arguments have been checked as the
** public comment in store.h promises (JSON is JSON, required strings are
** there, header JSON is redacted), so an implementation trusts them.
*/
#ifndef IEX_RUNTIME_STORE_INT_H
#define IEX_RUNTIME_STORE_INT_H

#include "runtime/store.h"

typedef struct StoreOps StoreOps;

struct Store {
  const StoreOps *ops; /* the implementation; static */
  const Clock *clock;  /* time source; borrowed from StoreOptions */
  char *path;          /* where the store is, for messages; owned */
};

/* One entry per public function that touches data, with the same
** arguments. See store.h for what each does. */
struct StoreOps {
  const char *name; /* "sqlite" */
  void (*close)(Store *s);
  int (*schema_version)(Store *s);
  IexStatus (*check)(Store *s, Err *err);

  IexStatus (*begin)(Store *s, Err *err);
  IexStatus (*commit)(Store *s, Err *err);
  void (*rollback)(Store *s);

  IexStatus (*integration_add)(Store *s, const StoreIntegrationNew *in,
                               int64_t *id_out, Err *err);
  IexStatus (*integration_get)(Store *s, int64_t id, const char *name, Arena *a,
                               StoreIntegration *out, Err *err);
  IexStatus (*integration_list)(Store *s, Arena *a, StoreIntegration **items,
                                size_t *n_items, Err *err);
  IexStatus (*integration_set_active)(Store *s, int64_t id, bool active,
                                      int64_t activated_at_us, Err *err);
  IexStatus (*settings_get)(Store *s, int64_t integration_id, Arena *a,
                            const char **json_out, Err *err);
  IexStatus (*settings_set)(Store *s, int64_t integration_id, const char *json,
                            Err *err);

  IexStatus (*inbox_add)(Store *s, const StoreEvent *ev, int64_t *id_out,
                         bool *is_duplicate, Err *err);
  IexStatus (*inbox_pending)(Store *s, size_t limit, Arena *a,
                             StoreInboxItem **items, size_t *n_items, Err *err);
  IexStatus (*inbox_done)(Store *s, int64_t id, int64_t transfer_id,
                          const char *outcome, Err *err);
  IexStatus (*cursor_get)(Store *s, int64_t integration_id,
                          const char *record_type, Arena *a,
                          const char **value_out, Err *err);
  IexStatus (*cursor_set)(Store *s, int64_t integration_id,
                          const char *record_type, const char *value, Err *err);

  IexStatus (*transfer_get_or_add)(Store *s, int64_t integration_id,
                                   const char *source_id,
                                   const char *display_key, int64_t *id_out,
                                   bool *created, Err *err);
  IexStatus (*transfer_get)(Store *s, int64_t id, Arena *a, StoreTransfer *out,
                            Err *err);
  IexStatus (*revision_add)(Store *s, int64_t transfer_id,
                            const char *data_json, const char *source_time,
                            int64_t inbox_id, int64_t *id_out, bool *is_new,
                            Err *err);
  IexStatus (*revision_get)(Store *s, int64_t id, Arena *a, StoreRevision *out,
                            Err *err);
  IexStatus (*revision_list)(Store *s, int64_t transfer_id, Arena *a,
                             StoreRevision **items, size_t *n_items, Err *err);

  IexStatus (*run_add)(Store *s, int64_t revision_id, int64_t due_at_us,
                       const char *reason, int64_t *id_out, Err *err);
  IexStatus (*run_claim)(Store *s, const char *worker_id, int64_t lease_us,
                         Arena *a, StoreRun *out, bool *claimed, Err *err);
  IexStatus (*run_renew)(Store *s, int64_t run_id, const char *worker_id,
                         int64_t lease_us, Err *err);
  /* Finishes as `status`; when `next_due_us` > 0 (status WAITING) also
  ** queues the next attempt and returns its id in `*next_id_out`. */
  IexStatus (*run_finish)(Store *s, int64_t run_id, const char *worker_id,
                          StoreRunStatus status, const StoreOutcome *outcome,
                          int64_t next_due_us, int64_t *next_id_out, Err *err);
  IexStatus (*run_release_dead)(Store *s,
                                bool (*is_dead)(void *ctx, const char *owner),
                                void *ctx, size_t *n_released, Err *err);
  IexStatus (*run_get)(Store *s, int64_t id, Arena *a, StoreRun *out, Err *err);
  IexStatus (*run_list)(Store *s, int64_t transfer_id, Arena *a,
                        StoreRun **items, size_t *n_items, Err *err);
  IexStatus (*transfers_failed)(Store *s, int64_t integration_id, Arena *a,
                                StoreTransfer **items, size_t *n_items,
                                Err *err);

  IexStatus (*stage_add)(Store *s, const StoreStageNew *in, int64_t *id_out,
                         Err *err);
  IexStatus (*stage_list)(Store *s, int64_t run_id, Arena *a,
                          StoreStage **items, size_t *n_items, Err *err);

  IexStatus (*effect_reserve)(Store *s, const StoreEffectNew *in, Arena *a,
                              StoreEffect *out, bool *created, Err *err);
  /* Move effect `id` to `to` if store_effect_can_move() allows it from the
  ** state it is in, setting the fields `to` implies (see store.c). */
  IexStatus (*effect_move)(Store *s, int64_t id, StoreEffectState to,
                           int64_t run_id, const char *result_json,
                           const char *external_id, const char *reason,
                           bool *counted, Err *err);
  IexStatus (*effect_find)(Store *s, int64_t transfer_id, const char *key,
                           Arena *a, StoreEffect *out, bool *found, Err *err);
  IexStatus (*effect_list_unsettled)(Store *s, Arena *a, StoreEffect **items,
                                     size_t *n_items, Err *err);
  IexStatus (*effect_list)(Store *s, int64_t transfer_id, Arena *a,
                           StoreEffect **items, size_t *n_items, Err *err);

  IexStatus (*usage_count)(Store *s, int64_t from_us, int64_t to_us,
                           int64_t integration_id, int64_t *used, Err *err);

  IexStatus (*outbox_add)(Store *s, const StoreMessageNew *in, int64_t *id_out,
                          bool *created, Err *err);
  IexStatus (*outbox_claim)(Store *s, const char *worker_id, int64_t lease_us,
                            Arena *a, StoreMessage *out, bool *claimed,
                            Err *err);
  IexStatus (*outbox_sent)(Store *s, int64_t id, Err *err);
  IexStatus (*outbox_defer)(Store *s, int64_t id, int64_t due_at_us,
                            const char *error, Err *err);

  /* Connection health. health_get fills a closed record (found false)
  ** when none is stored; reads take no lock. health_update does one
  ** read-modify-write under the write lock, inside the caller's
  ** transaction if one is open: it reads the row (or a closed one), calls
  ** `update`, and when that returns true writes the row back (the
  ** implementation sets updated_at) and, if `update` set `*notify` and
  ** `notify_msg` is not NULL, enqueues it as outbox_add does. The row as
  ** it is afterwards goes to `*out` (in `a`) when `out` is not NULL. The
  ** logic is store.c's, so every implementation behaves alike. */
  IexStatus (*health_get)(Store *s, int64_t integration_id, const char *alias,
                          Arena *a, StoreConnectionHealth *out, bool *found,
                          Err *err);
  IexStatus (*health_list)(Store *s, int64_t integration_id, Arena *a,
                           StoreConnectionHealth **items, size_t *n_items,
                           Err *err);
  IexStatus (*health_update)(Store *s, int64_t integration_id,
                             const char *alias,
                             bool (*update)(void *ctx,
                                            StoreConnectionHealth *h,
                                            int64_t now_us, bool *notify),
                             void *ctx, const StoreMessageNew *notify_msg,
                             Arena *a, StoreConnectionHealth *out, Err *err);
  IexStatus (*runs_due_now)(Store *s, int64_t integration_id, size_t *n_runs,
                            Err *err);

  IexStatus (*log)(Store *s, const StoreLogFilter *f, Arena *a,
                   StoreTransfer **items, size_t *n_items, Err *err);
  IexStatus (*transfer_show)(Store *s, int64_t id, Arena *a,
                             StoreTransferDetail *out, Err *err);
};

/* The SQLite implementation: open `path` with `opts` (already defaulted)
** and bring its schema up to date. store_sqlite.c. */
IexStatus store_sqlite_open(const char *path, const StoreOptions *opts,
                            Store **out, Err *err);

/* Migrations of the SQLite schema (store_sqlite_schema.c): apply every
** migration `db` has not had, each in its own transaction, recorded as
** applied at `now_us`. `path` is for messages. Refuses a database newer
** than this binary. The version the store is at afterwards goes to
** `*version_out`. */
struct sqlite3;
IexStatus store_sqlite_migrate(struct sqlite3 *db, const char *path,
                               int64_t now_us, int *version_out, Err *err);
/* The newest schema version this binary knows. */
int store_sqlite_latest_version(void);

/* The effect state machine: may an effect in state `from` move to `to`? */
bool store_effect_can_move(StoreEffectState from, StoreEffectState to);
/* Parse the stored text forms (false: not one of them). */
bool store_stage_kind_parse(const char *name, StoreStageKind *out);
bool store_effect_state_parse(const char *name, StoreEffectState *out);
bool store_circuit_state_parse(const char *name, StoreCircuitState *out);

/* The current time of `s`'s clock. */
static inline int64_t store_now(Store *s) { return clock_now_us(s->clock); }

#endif /* IEX_RUNTIME_STORE_INT_H */
