/*
** Private to the SQLite store (runtime/store_int.h's StoreOps on one SQLite
** file), which is four files:
**   store_sqlite.c            open, close and check; errors; the statement
**                             cache; transactions; integrations and
**                             settings; the table of operations;
**   store_sqlite_transfers.c  the inbox and poll cursors, transfers,
**                             revisions, runs and stages, and the queries
**                             for people (log, show);
**   store_sqlite_effects.c    the effect ledger and usage, the outbox, and
**                             connections' health (the circuit breaker);
**   store_sqlite_schema.c     the migrations.
** What they share: the SqliteStore struct, the helpers every operation is
** written with (statements, binding, reading columns, transactions, lists)
** and the operations themselves, which store_sqlite.c puts in its table.
**
** Statements. Each SQL text is a `static const char SQL_...[]` in the
** file that runs it, next to the code that uses it, with numbered
** parameters; use() prepares it on first use and keeps it for the life of
** the Store, found again by the address of its text. So there is no list
** of statements to keep in step with anything. Never give use() text that
** is built at run time: the log query, the one statement put together from
** pieces, has its own cache (log_stmts).
*/
#ifndef IEX_RUNTIME_STORE_SQLITE_INT_H
#define IEX_RUNTIME_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/store_int.h"

/* The log query has five optional filters: one statement per combination. */
enum {
  LOG_STATUS = 1,
  LOG_INTEGRATION = 2,
  LOG_KEY = 4,
  LOG_FROM = 8,
  LOG_TO = 16,
  LOG_VARIANTS = 32
};

/* A prepared statement and the SQL text it was prepared from. */
typedef struct SqlCached {
  const char *sql; /* a static SQL_... text; the key */
  sqlite3_stmt *st;
} SqlCached;

typedef struct SqliteStore {
  Store base;  /* must be first: a Store * is a SqliteStore * */
  sqlite3 *db; /* owned; closed by sq_close */
  /* Owned: every statement prepared so far, in the order of first use.
  ** There are a few dozen, so use() looks one up by scanning. */
  SqlCached *stmts;
  size_t n_stmts, cap_stmts;
  sqlite3_stmt
      *log_stmts[LOG_VARIANTS]; /* owned; the log query per filter set */
  bool in_tx;                   /* a store_begin() transaction is open */
  int busy_timeout_ms;          /* for messages */
  int version;                  /* schema version after migration */
} SqliteStore;

static inline SqliteStore *sq(Store *s) { return (SqliteStore *)s; }

/* An operation's transaction: its own, or a savepoint inside the caller's. */
typedef struct Tx {
  bool active;    /* begun and not yet ended */
  bool savepoint; /* inside a store_begin() transaction */
  bool read_only; /* a read transaction (never commits anything) */
} Tx;

/* ---- Defined in store_sqlite.c ---------------------------------------- */
/* Under the module's prefix, so that libiex.a exports no generic names;
** the operations call them by the short names below. */

/* Turn SQLite result `src` into a store code and a message a support
** person can act on. `doing` says what the store was doing ("adding
** event shopify:123"). */
IexStatus store_sqlite_error(SqliteStore *s, int src, const char *doing,
                             Err *err);
/* Give out the cached statement of `sql` (a static SQL_... text), ready to
** bind; prepared on first use. */
IexStatus store_sqlite_use(SqliteStore *s, const char *sql, sqlite3_stmt **out,
                           Err *err);
/* Begin `tx` for a write: BEGIN IMMEDIATE, or a savepoint inside the
** caller's store_begin() transaction. */
IexStatus store_sqlite_tx_begin(SqliteStore *s, Tx *tx, Err *err);
/* A snapshot for reads of several statements; nothing when a transaction
** is already open. */
IexStatus store_sqlite_tx_begin_read(SqliteStore *s, Tx *tx, Err *err);
/* End `tx`: commit (or release the savepoint) when `rc` is IEX_OK, undo
** otherwise. Returns `rc`, or the commit's failure. */
IexStatus store_sqlite_tx_end(SqliteStore *s, Tx *tx, IexStatus rc, Err *err);
/* IEX_OK if integration `id` exists, IEX_E_NOT_FOUND otherwise. */
IexStatus store_sqlite_integration_exists(SqliteStore *s, int64_t id, Err *err);

static inline IexStatus use(SqliteStore *s, const char *sql, sqlite3_stmt **out,
                            Err *err) {
  return store_sqlite_use(s, sql, out, err);
}
static inline IexStatus tx_begin(SqliteStore *s, Tx *tx, Err *err) {
  return store_sqlite_tx_begin(s, tx, err);
}
static inline IexStatus tx_begin_read(SqliteStore *s, Tx *tx, Err *err) {
  return store_sqlite_tx_begin_read(s, tx, err);
}
static inline IexStatus tx_end(SqliteStore *s, Tx *tx, IexStatus rc, Err *err) {
  return store_sqlite_tx_end(s, tx, rc, err);
}

/* ---- Statements ------------------------------------------------------- */

/* Return a statement to the cache: reset it (which also ends its read of
** the database, so it holds back no checkpoint) and drop its bindings,
** which point at the caller's memory. NULL is allowed. */
static inline void release(sqlite3_stmt *st) {
  if (!st) return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* Step `st`: IEX_OK with `*row` true when a row is ready, false when the
** statement is done. */
static inline IexStatus step(SqliteStore *s, sqlite3_stmt *st,
                             const char *doing, bool *row, Err *err) {
  int src = sqlite3_step(st);
  *row = src == SQLITE_ROW;
  if (src == SQLITE_ROW || src == SQLITE_DONE) return IEX_OK;
  sqlite3_reset(st); /* the extended error code is in the connection */
  return store_sqlite_error(s, sqlite3_extended_errcode(s->db), doing, err);
}

/* Step a statement that returns no rows. */
static inline IexStatus run(SqliteStore *s, sqlite3_stmt *st, const char *doing,
                            Err *err) {
  bool row;
  return step(s, st, doing, &row, err);
}

/* Run a bound UPDATE that must change exactly one row; IEX_E_NOT_FOUND
** (with `what`) when it changed none. */
static inline IexStatus update_one(SqliteStore *s, sqlite3_stmt *st,
                                   const char *doing, const char *what,
                                   int64_t id, Err *err) {
  IexStatus rc = run(s, st, doing, err);
  if (rc == IEX_OK && sqlite3_changes(s->db) == 0)
    rc = err_set(err, IEX_E_NOT_FOUND, "%s: there is no %s with id %lld", doing,
                 what, (long long)id);
  return rc;
}

/* Bind text; NULL binds SQL NULL. The text must outlive the step (it
** does: statements are released before the operation returns). */
static inline void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static inline void bind_int(sqlite3_stmt *st, int i, int64_t v) {
  sqlite3_bind_int64(st, i, v);
}

static inline void bind_blob(sqlite3_stmt *st, int i, Str v) {
  sqlite3_bind_blob64(st, i, v.len ? v.ptr : "", v.len, SQLITE_STATIC);
}

/* Column readers; text and blobs are copied into `a`. */
static inline const char *col_text(sqlite3_stmt *st, int i, Arena *a) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
  const char *t = (const char *)sqlite3_column_text(st, i);
  return arena_strndup(a, t ? t : "", (size_t)sqlite3_column_bytes(st, i));
}

static inline Str col_blob(sqlite3_stmt *st, int i, Arena *a) {
  const void *p = sqlite3_column_blob(st, i);
  size_t n = (size_t)sqlite3_column_bytes(st, i);
  return str_make(arena_strndup(a, p ? p : "", n), n);
}

static inline int64_t col_int(sqlite3_stmt *st, int i) {
  return sqlite3_column_int64(st, i);
}

/* A stored result code or enumeration that this binary does not know is
** shown as it is, never trusted: these parse with a fallback. */
static inline StoreRunStatus col_run_status(sqlite3_stmt *st, int i) {
  StoreRunStatus v = STORE_RUN_ANY;
  store_run_status_parse((const char *)sqlite3_column_text(st, i), &v);
  return v;
}

/* ---- Lists ------------------------------------------------------------ */

/* Reads the current row of a statement into one result record. */
typedef void (*RowReader)(sqlite3_stmt *st, Arena *a, void *out);

/* Step a bound statement to its end, reading every row with `read` into
** an array of `elem_size` records in `a`. */
static inline IexStatus collect(SqliteStore *s, sqlite3_stmt *st,
                                size_t elem_size, RowReader read,
                                const char *doing, Arena *a, void **items,
                                size_t *n_items, Err *err) {
  char *rows = NULL;
  size_t n = 0, cap = 0;
  bool row = true;
  IexStatus rc = IEX_OK;
  while (rc == IEX_OK) {
    rc = step(s, st, doing, &row, err);
    if (rc != IEX_OK || !row) break;
    if (n == cap) rows = grow_array(rows, &cap, n + 1, elem_size);
    memset(rows + n * elem_size, 0, elem_size);
    read(st, a, rows + n * elem_size);
    n++;
  }
  *items = NULL;
  *n_items = 0;
  if (rc == IEX_OK && n > 0) {
    *items = arena_alloc(a, n * elem_size);
    memcpy(*items, rows, n * elem_size);
    *n_items = n;
  }
  free(rows);
  return rc;
}

/* A list query with at most one integer parameter (`param` is bound as
** ?1 when the statement has one). */
static inline IexStatus list(SqliteStore *s, const char *sql, int64_t param,
                             size_t elem_size, RowReader read,
                             const char *doing, Arena *a, void **items,
                             size_t *n_items, Err *err) {
  sqlite3_stmt *st;
  IexStatus rc = use(s, sql, &st, err);
  if (rc == IEX_OK) {
    if (sqlite3_bind_parameter_count(st) > 0) bind_int(st, 1, param);
    rc = collect(s, st, elem_size, read, doing, a, items, n_items, err);
  }
  release(st);
  return rc;
}

/* A query for one record by `key`: IEX_OK with `*found`. */
static inline IexStatus get_one(SqliteStore *s, sqlite3_stmt *st,
                                RowReader read, const char *doing, Arena *a,
                                void *out, bool *found, Err *err) {
  IexStatus rc = step(s, st, doing, found, err);
  if (rc == IEX_OK && *found) read(st, a, out);
  return rc;
}

/* ---- The operations (StoreOps, see store_int.h) ----------------------- */
/* Defined in the file named above each group; store_sqlite.c's table
** holds them. Some call each other across files (show lists effects). */

/* store_sqlite.c */
void sq_close(Store *base);
int sq_schema_version(Store *base);
IexStatus sq_check(Store *base, Err *err);
IexStatus sq_begin(Store *base, Err *err);
IexStatus sq_commit(Store *base, Err *err);
void sq_rollback(Store *base);
IexStatus sq_integration_add(Store *base, const StoreIntegrationNew *in,
                             int64_t *id_out, Err *err);
IexStatus sq_integration_get(Store *base, int64_t id, const char *name,
                             Arena *a, StoreIntegration *out, Err *err);
IexStatus sq_integration_list(Store *base, Arena *a, StoreIntegration **items,
                              size_t *n_items, Err *err);
IexStatus sq_integration_set_active(Store *base, int64_t id, bool active,
                                    int64_t activated_at_us, Err *err);
IexStatus sq_settings_get(Store *base, int64_t integration_id, Arena *a,
                          const char **json_out, Err *err);
IexStatus sq_settings_set(Store *base, int64_t integration_id, const char *json,
                          Err *err);

/* store_sqlite_transfers.c */
IexStatus sq_inbox_add(Store *base, const StoreEvent *ev, int64_t *id_out,
                       bool *is_duplicate, Err *err);
IexStatus sq_inbox_pending(Store *base, size_t limit, Arena *a,
                           StoreInboxItem **items, size_t *n_items, Err *err);
IexStatus sq_inbox_done(Store *base, int64_t id, int64_t transfer_id,
                        const char *outcome, Err *err);
IexStatus sq_cursor_get(Store *base, int64_t integration_id,
                        const char *record_type, Arena *a,
                        const char **value_out, Err *err);
IexStatus sq_cursor_set(Store *base, int64_t integration_id,
                        const char *record_type, const char *value, Err *err);
IexStatus sq_transfer_get_or_add(Store *base, int64_t integration_id,
                                 const char *source_id, const char *display_key,
                                 int64_t *id_out, bool *created, Err *err);
IexStatus sq_transfer_get(Store *base, int64_t id, Arena *a, StoreTransfer *out,
                          Err *err);
IexStatus sq_revision_add(Store *base, int64_t transfer_id,
                          const char *data_json, const char *source_time,
                          int64_t inbox_id, int64_t *id_out, bool *is_new,
                          Err *err);
IexStatus sq_revision_get(Store *base, int64_t id, Arena *a, StoreRevision *out,
                          Err *err);
IexStatus sq_revision_list(Store *base, int64_t transfer_id, Arena *a,
                           StoreRevision **items, size_t *n_items, Err *err);
IexStatus sq_run_add(Store *base, int64_t revision_id, int64_t due_at_us,
                     const char *reason, int64_t *id_out, Err *err);
IexStatus sq_run_claim(Store *base, const char *worker_id, int64_t lease_us,
                       Arena *a, StoreRun *out, bool *claimed, Err *err);
IexStatus sq_run_renew(Store *base, int64_t run_id, const char *worker_id,
                       int64_t lease_us, Err *err);
IexStatus sq_run_finish(Store *base, int64_t run_id, const char *worker_id,
                        StoreRunStatus status, const StoreOutcome *outcome,
                        int64_t next_due_us, int64_t *next_id_out, Err *err);
IexStatus sq_run_release_dead(Store *base,
                              bool (*is_dead)(void *ctx, const char *owner),
                              void *ctx, size_t *n_released, Err *err);
IexStatus sq_run_get(Store *base, int64_t id, Arena *a, StoreRun *out,
                     Err *err);
IexStatus sq_run_list(Store *base, int64_t transfer_id, Arena *a,
                      StoreRun **items, size_t *n_items, Err *err);
IexStatus sq_transfers_failed(Store *base, int64_t integration_id, Arena *a,
                              StoreTransfer **items, size_t *n_items, Err *err);
IexStatus sq_stage_add(Store *base, const StoreStageNew *in, int64_t *id_out,
                       Err *err);
IexStatus sq_stage_list(Store *base, int64_t run_id, Arena *a,
                        StoreStage **items, size_t *n_items, Err *err);
IexStatus sq_log(Store *base, const StoreLogFilter *f, Arena *a,
                 StoreTransfer **items, size_t *n_items, Err *err);
IexStatus sq_transfer_show(Store *base, int64_t id, Arena *a,
                           StoreTransferDetail *out, Err *err);

/* store_sqlite_effects.c */
IexStatus sq_effect_reserve(Store *base, const StoreEffectNew *in, Arena *a,
                            StoreEffect *out, bool *created, Err *err);
IexStatus sq_effect_move(Store *base, int64_t id, StoreEffectState to,
                         int64_t run_id, const char *result_json,
                         const char *external_id, const char *reason,
                         bool *counted, Err *err);
IexStatus sq_effect_find(Store *base, int64_t transfer_id, const char *key,
                         Arena *a, StoreEffect *out, bool *found, Err *err);
IexStatus sq_effect_list_unsettled(Store *base, Arena *a, StoreEffect **items,
                                   size_t *n_items, Err *err);
IexStatus sq_effect_list(Store *base, int64_t transfer_id, Arena *a,
                         StoreEffect **items, size_t *n_items, Err *err);
IexStatus sq_usage_count(Store *base, int64_t from_us, int64_t to_us,
                         int64_t integration_id, int64_t *used, Err *err);
IexStatus sq_outbox_add(Store *base, const StoreMessageNew *in, int64_t *id_out,
                        bool *created, Err *err);
IexStatus sq_outbox_claim(Store *base, const char *worker_id, int64_t lease_us,
                          Arena *a, StoreMessage *out, bool *claimed, Err *err);
IexStatus sq_outbox_sent(Store *base, int64_t id, Err *err);
IexStatus sq_outbox_defer(Store *base, int64_t id, int64_t due_at_us,
                          const char *error, Err *err);
IexStatus sq_health_get(Store *base, int64_t integration_id, const char *alias,
                        Arena *a, StoreConnectionHealth *out, bool *found,
                        Err *err);
IexStatus sq_health_list(Store *base, int64_t integration_id, Arena *a,
                         StoreConnectionHealth **items, size_t *n_items,
                         Err *err);
IexStatus sq_health_update(Store *base, int64_t integration_id,
                           const char *alias,
                           bool (*update)(void *ctx, StoreConnectionHealth *h,
                                          int64_t now_us, bool *notify),
                           void *ctx, const StoreMessageNew *notify_msg,
                           Arena *a, StoreConnectionHealth *out, Err *err);
IexStatus sq_runs_due_now(Store *base, int64_t integration_id, size_t *n_runs,
                          Err *err);

#endif /* IEX_RUNTIME_STORE_SQLITE_INT_H */
