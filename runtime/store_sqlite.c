/*
** The SQLite store: the operations of store.h on one SQLite file.
**
** Durability. The file is in WAL mode with synchronous=FULL: every COMMIT
** syncs the WAL before it returns, so a webhook acknowledged after its
** commit survives a power cut, not only a crash of iex (with NORMAL, the
** last commits may roll back after a power loss). foreign_keys=ON makes
** the references between tables hold. A busy timeout makes a locked store
** wait, then fail with a message that says so.
**
** Transactions. Every write operation runs in a transaction of its own,
** started with BEGIN IMMEDIATE (it takes the write lock first, so it can
** never fail half-way to upgrade a read lock). Inside an explicit
** store_begin() transaction, an operation runs in a SAVEPOINT instead, so
** that a failing operation undoes exactly its own changes. Reads of
** several statements (store_transfer_show) run in one read transaction,
** so they see one snapshot.
**
** Statements. Each SQL text is written once, in sql_text below, with
** numbered parameters; it is prepared on first use and kept for the life
** of the Store. No SQL is ever formatted from values: the log query is put
** together from constant pieces, one cached statement per combination of
** filters, and every value is bound.
**
** Shape of each operation: acquire (transaction, statement) at the top,
** one `done:` or a chain of `rc == IEX_OK` steps, release in reverse at
** the end; no return from the middle of a function holding either.
*/
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "runtime/crash.h"
#include "runtime/store_int.h"

/* The columns the row readers below read, in their order, and the tables
** they come from. */
#define INTEGRATION_COLUMNS                                           \
  "id, name, iexb, iexb_hash, connections, activated_at, is_active, " \
  "created_at, updated_at"
#define INBOX_COLUMNS                                             \
  "id, integration_id, dedup_key, source, topic, headers, body, " \
  "received_at, processed_at, outcome, transfer_id, n_duplicates"
#define TRANSFER_COLUMNS                                                   \
  "t.id, t.integration_id, i.name, t.source_id, t.display_key, t.status, " \
  "t.code, t.message, t.location, "                                        \
  "(SELECT count(*) FROM revisions WHERE transfer_id = t.id), "            \
  "(SELECT count(*) FROM runs WHERE transfer_id = t.id), "                 \
  "(SELECT max(id) FROM revisions WHERE transfer_id = t.id), "             \
  "t.created_at, t.updated_at "                                            \
  "FROM transfers t JOIN integrations i ON i.id = t.integration_id"
#define REVISION_COLUMNS                                              \
  "id, transfer_id, number, data, source_time, inbox_id, created_at " \
  "FROM revisions"
#define RUN_COLUMNS                                                          \
  "r.id, r.transfer_id, r.revision_id, t.integration_id, r.attempt, "        \
  "r.reason, r.status, r.due_at, r.lease_owner, r.lease_expires_at, "        \
  "r.n_claims, r.started_at, r.finished_at, r.code, r.message, r.location, " \
  "r.created_at FROM runs r JOIN transfers t ON t.id = r.transfer_id"
#define STAGE_COLUMNS                                                   \
  "id, run_id, step, kind, data, code, message, location, started_at, " \
  "finished_at FROM stages"
#define EFFECT_COLUMNS                                                    \
  "id, transfer_id, revision_id, run_id, key, step, target_system, "      \
  "operation, reference, counts_usage, state, attempts, external_id, "    \
  "result, reason, reserved_at, started_at, finished_at, unknown_since, " \
  "updated_at FROM effects"
#define HEALTH_COLUMNS                                               \
  "integration_id, alias, state, failures, opened_at, retry_at, "    \
  "last_error_code, last_error, updated_at FROM connection_health"
/* Every statement the store runs, prepared on first use (see use()).
** Parameters are numbered; every text is a constant. */
typedef enum SqlId {
  SQL_BEGIN,
  SQL_BEGIN_READ,
  SQL_COMMIT,
  SQL_ROLLBACK,
  SQL_SAVEPOINT,
  SQL_RELEASE,
  SQL_ROLLBACK_TO,
  SQL_INTEGRITY_CHECK,
  SQL_FOREIGN_KEY_CHECK,
  SQL_INTEGRATION_ADD,
  SQL_INTEGRATION_GET,
  SQL_INTEGRATION_LIST,
  SQL_INTEGRATION_EXISTS,
  SQL_INTEGRATION_SET_ACTIVE,
  SQL_SETTINGS_GET,
  SQL_SETTINGS_SET,
  SQL_INBOX_ADD,
  SQL_INBOX_PENDING,
  SQL_INBOX_DONE,
  SQL_INBOX_OF_TRANSFER,
  SQL_CURSOR_GET,
  SQL_CURSOR_SET,
  SQL_TRANSFER_FIND,
  SQL_TRANSFER_ADD,
  SQL_TRANSFER_SET_KEY,
  SQL_TRANSFER_GET,
  SQL_TRANSFER_TOUCH,
  SQL_TRANSFER_QUEUED,
  SQL_TRANSFER_SET_STATUS,
  SQL_TRANSFER_RUNNING,
  SQL_TRANSFERS_FAILED,
  SQL_REVISION_LATEST,
  SQL_REVISION_ADD,
  SQL_REVISION_GET,
  SQL_REVISION_LIST,
  SQL_RUN_ADD,
  SQL_RUN_PICK,
  SQL_RUN_TAKE,
  SQL_RUN_RENEW,
  SQL_RUN_FINISH,
  SQL_RUN_STATE,
  SQL_RUN_ADD_RETRY,
  SQL_RUN_GET,
  SQL_RUN_LIST,
  SQL_RUN_OWNERS,
  SQL_RUN_RELEASE,
  SQL_STAGE_ADD,
  SQL_STAGE_LIST,
  SQL_STAGE_LIST_TRANSFER,
  SQL_EFFECT_RESERVE,
  SQL_EFFECT_FIND,
  SQL_EFFECT_STATE,
  SQL_EFFECT_START,
  SQL_EFFECT_DONE,
  SQL_EFFECT_REFUSED,
  SQL_EFFECT_UNKNOWN,
  SQL_EFFECT_UNSETTLED,
  SQL_EFFECT_LIST,
  SQL_USAGE_COUNT_EFFECT,
  SQL_USAGE_MONTH,
  SQL_OUTBOX_ADD,
  SQL_OUTBOX_FIND,
  SQL_OUTBOX_PICK,
  SQL_OUTBOX_TAKE,
  SQL_OUTBOX_SENT,
  SQL_OUTBOX_DEFER,
  SQL_HEALTH_GET,
  SQL_HEALTH_LIST,
  SQL_HEALTH_PUT,
  SQL_RUNS_DUE_NOW,
  SQL__COUNT
} SqlId;

static const char *const sql_text[SQL__COUNT] = {
    [SQL_BEGIN] = "BEGIN IMMEDIATE",
    [SQL_BEGIN_READ] = "BEGIN",
    [SQL_COMMIT] = "COMMIT",
    [SQL_ROLLBACK] = "ROLLBACK",
    [SQL_SAVEPOINT] = "SAVEPOINT store_op",
    [SQL_RELEASE] = "RELEASE store_op",
    [SQL_ROLLBACK_TO] = "ROLLBACK TO store_op",
    [SQL_INTEGRITY_CHECK] = "PRAGMA integrity_check",
    [SQL_FOREIGN_KEY_CHECK] = "PRAGMA foreign_key_check",

    /* integrations and settings */
    [SQL_INTEGRATION_ADD] =
        "INSERT INTO integrations (name, iexb, iexb_hash, connections, "
        "activated_at, is_active, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    [SQL_INTEGRATION_GET] = "SELECT " INTEGRATION_COLUMNS
                            " FROM integrations WHERE id = ?1 OR name = ?2",
    [SQL_INTEGRATION_LIST] =
        "SELECT id, name, NULL, iexb_hash, connections, activated_at, "
        "is_active, created_at, updated_at FROM integrations ORDER BY name",
    [SQL_INTEGRATION_EXISTS] = "SELECT 1 FROM integrations WHERE id = ?1",
    [SQL_INTEGRATION_SET_ACTIVE] =
        "UPDATE integrations SET is_active = ?2, activated_at = "
        "CASE WHEN ?3 > 0 THEN ?3 ELSE activated_at END, updated_at = ?4 "
        "WHERE id = ?1",
    [SQL_SETTINGS_GET] =
        "SELECT json FROM settings WHERE integration_id = ?1 "
        "ORDER BY version DESC LIMIT 1",
    [SQL_SETTINGS_SET] =
        "INSERT INTO settings (integration_id, version, json, set_at) "
        "SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3 FROM settings "
        "WHERE integration_id = ?1",

    /* inbox and cursors */
    [SQL_INBOX_ADD] =
        "INSERT INTO inbox (integration_id, dedup_key, source, topic, "
        "headers, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (integration_id, dedup_key) "
        "DO UPDATE SET n_duplicates = n_duplicates + 1, "
        "last_duplicate_at = excluded.received_at RETURNING id, n_duplicates",
    [SQL_INBOX_PENDING] =
        "SELECT " INBOX_COLUMNS
        " FROM inbox WHERE processed_at IS NULL ORDER BY id LIMIT ?1",
    [SQL_INBOX_DONE] =
        "UPDATE inbox "
        "SET processed_at = ?2, outcome = ?3, transfer_id = nullif(?4, 0) "
        "WHERE id = ?1",
    [SQL_INBOX_OF_TRANSFER] = "SELECT " INBOX_COLUMNS
                              " FROM inbox WHERE transfer_id = ?1 "
                              "ORDER BY id",
    [SQL_CURSOR_GET] =
        "SELECT value FROM cursors WHERE integration_id = ?1 "
        "AND record_type = ?2",
    [SQL_CURSOR_SET] =
        "INSERT INTO cursors (integration_id, record_type, value, updated_at) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (integration_id, record_type) "
        "DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at",

    /* transfers and revisions */
    [SQL_TRANSFER_FIND] =
        "SELECT id, display_key FROM transfers WHERE integration_id = ?1 "
        "AND source_id = ?2",
    [SQL_TRANSFER_ADD] =
        "INSERT INTO transfers (integration_id, source_id, display_key, "
        "status, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?4)",
    [SQL_TRANSFER_SET_KEY] =
        "UPDATE transfers SET display_key = ?2 WHERE id = ?1",
    [SQL_TRANSFER_GET] = "SELECT " TRANSFER_COLUMNS " WHERE t.id = ?1",
    [SQL_TRANSFER_TOUCH] = "UPDATE transfers SET updated_at = ?2 WHERE id = ?1",
    [SQL_TRANSFER_QUEUED] =
        "UPDATE transfers SET status = CASE status WHEN 'running' THEN status "
        "ELSE 'queued' END, updated_at = ?2 WHERE id = (SELECT transfer_id "
        "FROM revisions WHERE id = ?1)",
    /* A transfer that was done stays done when a later revision is
    ** skipped (an order that moved on to refunded, an update the flow
    ** ignores): its records exist. The skip is said in its message. */
    [SQL_TRANSFER_SET_STATUS] =
        "UPDATE transfers SET status = CASE WHEN ?2 = 'skipped' AND EXISTS "
        "(SELECT 1 FROM runs WHERE transfer_id = ?1 AND status = 'done') "
        "THEN 'done' ELSE ?2 END, code = ?3, message = CASE WHEN ?2 = "
        "'skipped' AND EXISTS (SELECT 1 FROM runs WHERE transfer_id = ?1 AND "
        "status = 'done') THEN 'transferred; a later update was skipped: ' || "
        "coalesce(?4, 'no reason given') ELSE ?4 END, location = ?5, "
        "updated_at = ?6 WHERE id = ?1",
    [SQL_TRANSFER_RUNNING] =
        "UPDATE transfers SET status = 'running', updated_at = ?2 "
        "WHERE id = ?1",
    [SQL_TRANSFERS_FAILED] =
        "SELECT " TRANSFER_COLUMNS
        " WHERE t.status = 'failed' AND (?1 = 0 OR t.integration_id = ?1) "
        "ORDER BY t.updated_at, t.id",
    [SQL_REVISION_LATEST] =
        "SELECT id, number, data FROM revisions WHERE transfer_id = ?1 "
        "ORDER BY number DESC LIMIT 1",
    [SQL_REVISION_ADD] =
        "INSERT INTO revisions (transfer_id, number, data, source_time, "
        "inbox_id, created_at) VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), ?6)",
    [SQL_REVISION_GET] = "SELECT " REVISION_COLUMNS " WHERE id = ?1",
    [SQL_REVISION_LIST] =
        "SELECT " REVISION_COLUMNS " WHERE transfer_id = ?1 ORDER BY number",

    /* runs */
    [SQL_RUN_ADD] =
        "INSERT INTO runs (transfer_id, revision_id, attempt, reason, status, "
        "due_at, created_at) SELECT v.transfer_id, v.id, (SELECT count(*) "
        "FROM runs WHERE revision_id = v.id) + 1, ?2, 'queued', ?3, ?4 "
        "FROM revisions v WHERE v.id = ?1",

    /* The oldest due run: queued, or running under an expired lease; never
    ** of a transfer another worker holds, nor of an inactive integration. */
    [SQL_RUN_PICK] =
        "SELECT r.id, r.transfer_id FROM runs r "
        "JOIN transfers t ON t.id = r.transfer_id "
        "JOIN integrations i ON i.id = t.integration_id "
        "WHERE r.status IN ('queued', 'running') AND r.due_at <= ?1 "
        "AND (r.status = 'queued' OR r.lease_expires_at <= ?1) "
        "AND i.is_active = 1 AND NOT EXISTS (SELECT 1 FROM runs o "
        "WHERE o.transfer_id = r.transfer_id AND o.status = 'running' "
        "AND o.id <> r.id AND o.lease_expires_at > ?1) "
        "ORDER BY r.due_at, r.id LIMIT 1",
    [SQL_RUN_TAKE] =
        "UPDATE runs SET status = 'running', lease_owner = ?2, "
        "lease_expires_at = ?3, n_claims = n_claims + 1, "
        "started_at = coalesce(started_at, ?4) WHERE id = ?1",
    [SQL_RUN_RENEW] =
        "UPDATE runs SET lease_expires_at = ?3 WHERE id = ?1 "
        "AND status = 'running' AND lease_owner = ?2",
    [SQL_RUN_FINISH] =
        "UPDATE runs SET status = ?3, finished_at = ?4, code = ?5, "
        "message = ?6, location = ?7, lease_owner = NULL, "
        "lease_expires_at = NULL WHERE id = ?1 AND status = 'running' "
        "AND lease_owner = ?2 RETURNING transfer_id",
    [SQL_RUN_STATE] = "SELECT status, lease_owner FROM runs WHERE id = ?1",
    [SQL_RUN_ADD_RETRY] =
        "INSERT INTO runs (transfer_id, revision_id, attempt, reason, status, "
        "due_at, created_at) SELECT transfer_id, revision_id, attempt + 1, "
        "'retry', 'queued', ?2, ?3 FROM runs WHERE id = ?1",
    [SQL_RUN_OWNERS] = "SELECT DISTINCT lease_owner FROM runs "
                       "WHERE status = 'running' AND lease_owner IS NOT NULL",
    [SQL_RUN_RELEASE] =
        "UPDATE runs SET lease_expires_at = 0 WHERE status = 'running' "
        "AND lease_owner = ?1",
    [SQL_RUN_GET] = "SELECT " RUN_COLUMNS " WHERE r.id = ?1",
    [SQL_RUN_LIST] =
        "SELECT " RUN_COLUMNS " WHERE r.transfer_id = ?1 ORDER BY r.id",

    /* stages */
    [SQL_STAGE_ADD] =
        "INSERT INTO stages (run_id, step, kind, data, code, message, "
        "location, started_at, finished_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [SQL_STAGE_LIST] = "SELECT " STAGE_COLUMNS " WHERE run_id = ?1 ORDER BY id",
    [SQL_STAGE_LIST_TRANSFER] =
        "SELECT " STAGE_COLUMNS
        " WHERE run_id IN (SELECT id FROM runs WHERE transfer_id = ?1) "
        "ORDER BY run_id, id",

    /* effects and usage */
    [SQL_EFFECT_RESERVE] =
        "INSERT INTO effects (transfer_id, revision_id, run_id, key, step, "
        "target_system, operation, reference, counts_usage, state, "
        "reserved_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'reserved', ?10, ?10) "
        "ON CONFLICT (transfer_id, key) DO NOTHING",
    [SQL_EFFECT_FIND] =
        "SELECT " EFFECT_COLUMNS " WHERE transfer_id = ?1 AND key = ?2",
    [SQL_EFFECT_STATE] =
        "SELECT state, transfer_id, key, operation FROM effects WHERE id = ?1",
    [SQL_EFFECT_START] =
        "UPDATE effects SET state = 'started', attempts = attempts + 1, "
        "run_id = ?2, started_at = ?3, unknown_since = NULL, reason = NULL, "
        "updated_at = ?3 WHERE id = ?1",
    [SQL_EFFECT_DONE] =
        "UPDATE effects SET state = 'done', result = ?2, external_id = ?3, "
        "reason = NULL, finished_at = ?4, updated_at = ?4 WHERE id = ?1",
    [SQL_EFFECT_REFUSED] =
        "UPDATE effects SET state = 'refused', reason = ?2, finished_at = ?3, "
        "updated_at = ?3 WHERE id = ?1",
    [SQL_EFFECT_UNKNOWN] =
        "UPDATE effects SET state = 'unknown', reason = ?2, "
        "unknown_since = coalesce(unknown_since, ?3), updated_at = ?3 "
        "WHERE id = ?1",
    [SQL_EFFECT_UNSETTLED] =
        "SELECT " EFFECT_COLUMNS
        " WHERE state IN ('started', 'unknown') ORDER BY id",
    [SQL_EFFECT_LIST] =
        "SELECT " EFFECT_COLUMNS " WHERE transfer_id = ?1 ORDER BY id",
    [SQL_USAGE_COUNT_EFFECT] =
        "INSERT INTO usage (integration_id, transfer_id, target_system, "
        "effect_id, counted_at) "
        "SELECT t.integration_id, e.transfer_id, e.target_system, e.id, ?2 "
        "FROM effects e JOIN transfers t ON t.id = e.transfer_id "
        "WHERE e.id = ?1 AND e.counts_usage = 1 "
        "ON CONFLICT (transfer_id, target_system) DO NOTHING",
    [SQL_USAGE_MONTH] =
        "SELECT count(*) FROM usage WHERE counted_at >= ?1 "
        "AND counted_at < ?2 AND (?3 = 0 OR integration_id = ?3)",

    /* outbox */
    [SQL_OUTBOX_ADD] =
        "INSERT INTO outbox (key, kind, recipient, subject, body, "
        "transfer_id, state, due_at, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, 0), 'pending', ?7, ?7) "
        "ON CONFLICT (key) DO NOTHING",
    [SQL_OUTBOX_FIND] = "SELECT id FROM outbox WHERE key = ?1",
    [SQL_OUTBOX_PICK] =
        "SELECT id FROM outbox WHERE state <> 'sent' AND due_at <= ?1 "
        "AND (state = 'pending' OR lease_expires_at <= ?1) "
        "ORDER BY due_at, id LIMIT 1",
    [SQL_OUTBOX_TAKE] =
        "UPDATE outbox SET state = 'sending', lease_owner = ?2, "
        "lease_expires_at = ?3, attempts = attempts + 1 WHERE id = ?1 "
        "RETURNING id, key, kind, recipient, subject, body, transfer_id, "
        "attempts, created_at",
    [SQL_OUTBOX_SENT] =
        "UPDATE outbox SET state = 'sent', sent_at = ?2, lease_owner = NULL, "
        "lease_expires_at = NULL WHERE id = ?1",
    [SQL_OUTBOX_DEFER] =
        "UPDATE outbox SET state = 'pending', due_at = ?2, last_error = ?3, "
        "lease_owner = NULL, lease_expires_at = NULL WHERE id = ?1 "
        "AND state <> 'sent'",

    /* connection health */
    [SQL_HEALTH_GET] = "SELECT " HEALTH_COLUMNS
                       " WHERE integration_id = ?1 AND alias = ?2",
    [SQL_HEALTH_LIST] = "SELECT " HEALTH_COLUMNS
                        " WHERE integration_id = ?1 ORDER BY alias",
    [SQL_HEALTH_PUT] =
        "INSERT INTO connection_health (integration_id, alias, state, "
        "failures, opened_at, retry_at, last_error_code, last_error, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), nullif(?6, 0), "
        "?7, ?8, ?9) ON CONFLICT (integration_id, alias) DO UPDATE SET "
        "state = excluded.state, failures = excluded.failures, "
        "opened_at = excluded.opened_at, retry_at = excluded.retry_at, "
        "last_error_code = excluded.last_error_code, "
        "last_error = excluded.last_error, updated_at = excluded.updated_at",
    /* After a resume: the retries of waiting transfers go now. */
    [SQL_RUNS_DUE_NOW] =
        "UPDATE runs SET due_at = ?2 WHERE status = 'queued' AND due_at > ?2 "
        "AND transfer_id IN (SELECT id FROM transfers WHERE "
        "integration_id = ?1 AND status = 'waiting')",
};

/* The log query has five optional filters: one statement per combination. */
enum {
  LOG_STATUS = 1,
  LOG_INTEGRATION = 2,
  LOG_KEY = 4,
  LOG_FROM = 8,
  LOG_TO = 16,
  LOG_VARIANTS = 32
};

typedef struct SqliteStore {
  Store base;  /* must be first: a Store * is a SqliteStore * */
  sqlite3 *db; /* owned; closed by sq_close */
  sqlite3_stmt *stmts[SQL__COUNT]; /* owned; prepared on first use */
  sqlite3_stmt
      *log_stmts[LOG_VARIANTS]; /* owned; the log query per filter set */
  bool in_tx;                   /* a store_begin() transaction is open */
  int busy_timeout_ms;          /* for messages */
  int version;                  /* schema version after migration */
} SqliteStore;

static SqliteStore *sq(Store *s) { return (SqliteStore *)s; }

/* ---- Errors --------------------------------------------------------- */

/* Turn SQLite result `src` into a store code and a message a support
** person can act on. `doing` says what the store was doing ("adding
** event shopify:123"). */
static IexStatus db_error(SqliteStore *s, int src, const char *doing,
                          Err *err) {
  const char *path = s->base.path;
  const char *why = sqlite3_errmsg(s->db);
  switch (src & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return err_set(
        err, IEX_E_STORE_BUSY,
        "the store at %s is locked by another iex process (or a long "
        "transaction) and stayed locked for %d ms while %s; it will be "
        "tried again",
        path, s->busy_timeout_ms, doing);
  case SQLITE_FULL:
    return err_set(err, IEX_E_STORE_FULL,
                   "the disk holding the store at %s is full (while %s); "
                   "free space, nothing was lost",
                   path, doing);
  case SQLITE_READONLY:
    return err_set(err, IEX_E_STORE_READONLY,
                   "the store at %s can only be read (while %s); check the "
                   "permissions of the file and its folder",
                   path, doing);
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return err_set(
        err, IEX_E_STORE_CORRUPT,
        "the store at %s is damaged (while %s: %s); restore it from a backup",
        path, doing, why);
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
    return err_set(err, IEX_E_STORE_IO,
                   "I/O error on the store at %s while %s: %s (errno %d)", path,
                   doing, why, sqlite3_system_errno(s->db));
  case SQLITE_CONSTRAINT:
    if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
      return err_set(err, IEX_E_NOT_FOUND,
                     "%s: a record it refers to does not exist", doing);
    if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY)
      return err_set(err, IEX_E_EXISTS, "%s: it exists already", doing);
    return err_set(err, IEX_E_INVALID, "%s: %s", doing, why);
  default:
    return err_set(err, IEX_E_INTERNAL, "store at %s: %s failed: %s", path,
                   doing, why);
  }
}

/* ---- Statements ----------------------------------------------------- */

/* Give out cached statement `id`, ready to bind. */
static IexStatus use(SqliteStore *s, SqlId id, sqlite3_stmt **out, Err *err) {
  *out = NULL;
  if (!s->stmts[id]) {
    int src =
        sqlite3_prepare_v3(s->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->stmts[id], NULL);
    if (src != SQLITE_OK) return db_error(s, src, "preparing a statement", err);
  }
  *out = s->stmts[id];
  return IEX_OK;
}

/* Return a statement to the cache: reset it (which also ends its read of
** the database, so it holds back no checkpoint) and drop its bindings,
** which point at the caller's memory. NULL is allowed. */
static void release(sqlite3_stmt *st) {
  if (!st) return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* Step `st`: IEX_OK with `*row` true when a row is ready, false when the
** statement is done. */
static IexStatus step(SqliteStore *s, sqlite3_stmt *st, const char *doing,
                      bool *row, Err *err) {
  int src = sqlite3_step(st);
  *row = src == SQLITE_ROW;
  if (src == SQLITE_ROW || src == SQLITE_DONE) return IEX_OK;
  sqlite3_reset(st); /* the extended error code is in the connection */
  return db_error(s, sqlite3_extended_errcode(s->db), doing, err);
}

/* Step a statement that returns no rows. */
static IexStatus run(SqliteStore *s, sqlite3_stmt *st, const char *doing,
                     Err *err) {
  bool row;
  return step(s, st, doing, &row, err);
}

/* Prepare, run and release a statement that takes no parameters. */
static IexStatus run_sql(SqliteStore *s, SqlId id, const char *doing,
                         Err *err) {
  sqlite3_stmt *st;
  IexStatus rc = use(s, id, &st, err);
  if (rc == IEX_OK) rc = run(s, st, doing, err);
  release(st);
  return rc;
}

/* Bind text; NULL binds SQL NULL. The text must outlive the step (it
** does: statements are released before the operation returns). */
static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v) {
  sqlite3_bind_int64(st, i, v);
}

static void bind_blob(sqlite3_stmt *st, int i, Str v) {
  sqlite3_bind_blob64(st, i, v.len ? v.ptr : "", v.len, SQLITE_STATIC);
}

/* Column readers; text and blobs are copied into `a`. */
static const char *col_text(sqlite3_stmt *st, int i, Arena *a) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
  const char *t = (const char *)sqlite3_column_text(st, i);
  return arena_strndup(a, t ? t : "", (size_t)sqlite3_column_bytes(st, i));
}

static Str col_blob(sqlite3_stmt *st, int i, Arena *a) {
  const void *p = sqlite3_column_blob(st, i);
  size_t n = (size_t)sqlite3_column_bytes(st, i);
  return str_make(arena_strndup(a, p ? p : "", n), n);
}

static int64_t col_int(sqlite3_stmt *st, int i) {
  return sqlite3_column_int64(st, i);
}

/* A stored result code or enumeration that this binary does not know is
** shown as it is, never trusted: these parse with a fallback. */
static StoreRunStatus col_run_status(sqlite3_stmt *st, int i) {
  StoreRunStatus v = STORE_RUN_ANY;
  store_run_status_parse((const char *)sqlite3_column_text(st, i), &v);
  return v;
}

/* ---- Transactions --------------------------------------------------- */

/* An operation's transaction: its own, or a savepoint inside the caller's. */
typedef struct Tx {
  bool active;    /* begun and not yet ended */
  bool savepoint; /* inside a store_begin() transaction */
  bool read_only; /* a read transaction (never commits anything) */
} Tx;

static IexStatus tx_begin(SqliteStore *s, Tx *tx, Err *err) {
  *tx = (Tx){.savepoint = s->in_tx};
  IexStatus rc = run_sql(s, s->in_tx ? SQL_SAVEPOINT : SQL_BEGIN,
                         "taking the write lock", err);
  tx->active = rc == IEX_OK;
  return rc;
}

/* A snapshot for reads of several statements; nothing when a transaction
** is already open. */
static IexStatus tx_begin_read(SqliteStore *s, Tx *tx, Err *err) {
  *tx = (Tx){.read_only = true};
  if (s->in_tx) return IEX_OK;
  IexStatus rc = run_sql(s, SQL_BEGIN_READ, "starting a read", err);
  tx->active = rc == IEX_OK;
  return rc;
}

/* Undo what is not committed; used on every failure path. */
static void rollback_all(SqliteStore *s) {
  if (!sqlite3_get_autocommit(s->db))
    run_sql(s, SQL_ROLLBACK, "rolling back", NULL);
}

/* COMMIT the connection's transaction, with the store's crash points
** around it. On failure the transaction is rolled back. */
static IexStatus commit(SqliteStore *s, Err *err) {
  crash_point(CRASH_STORE_BEFORE_COMMIT);
  IexStatus rc = run_sql(s, SQL_COMMIT, "committing", err);
  if (rc != IEX_OK)
    rollback_all(s);
  else
    crash_point(CRASH_STORE_AFTER_COMMIT);
  return rc;
}

/* End `tx`: commit (or release the savepoint) when `rc` is IEX_OK, undo
** otherwise. Returns `rc`, or the commit's failure. */
static IexStatus tx_end(SqliteStore *s, Tx *tx, IexStatus rc, Err *err) {
  if (!tx->active) return rc;
  tx->active = false;
  if (tx->read_only) {
    run_sql(s, SQL_COMMIT, "ending a read", NULL); /* a read commits nothing */
  } else if (!tx->savepoint) {
    if (rc == IEX_OK)
      rc = commit(s, err);
    else
      rollback_all(s);
  } else if (rc == IEX_OK) {
    rc = run_sql(s, SQL_RELEASE, "ending an operation", err);
  } else if (!sqlite3_get_autocommit(s->db)) {
    /* Undo this operation only; the caller decides about the rest. */
    run_sql(s, SQL_ROLLBACK_TO, "undoing an operation", NULL);
    run_sql(s, SQL_RELEASE, "undoing an operation", NULL);
  }
  return rc;
}

static IexStatus sq_begin(Store *base, Err *err) {
  SqliteStore *s = sq(base);
  if (s->in_tx)
    return err_set(err, IEX_E_MISUSE, "a store transaction is already open");
  IexStatus rc = run_sql(s, SQL_BEGIN, "taking the write lock", err);
  s->in_tx = rc == IEX_OK;
  return rc;
}

static IexStatus sq_commit(Store *base, Err *err) {
  SqliteStore *s = sq(base);
  if (!s->in_tx)
    return err_set(err, IEX_E_MISUSE, "store_commit() without store_begin()");
  s->in_tx = false;
  /* SQLite rolls a whole transaction back by itself after some errors
  ** (a full disk, an I/O error); committing then would report success
  ** for changes that are gone. */
  if (sqlite3_get_autocommit(s->db))
    return err_set(
        err, IEX_E_STORE_IO,
        "the transaction on the store at %s was rolled back after an "
        "earlier error; none of it was stored",
        s->base.path);
  return commit(s, err);
}

static void sq_rollback(Store *base) {
  SqliteStore *s = sq(base);
  s->in_tx = false;
  rollback_all(s);
}

/* ---- Lists ---------------------------------------------------------- */

/* Reads the current row of a statement into one result record. */
typedef void (*RowReader)(sqlite3_stmt *st, Arena *a, void *out);

/* Step a bound statement to its end, reading every row with `read` into
** an array of `elem_size` records in `a`. */
static IexStatus collect(SqliteStore *s, sqlite3_stmt *st, size_t elem_size,
                         RowReader read, const char *doing, Arena *a,
                         void **items, size_t *n_items, Err *err) {
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
static IexStatus list(SqliteStore *s, SqlId id, int64_t param, size_t elem_size,
                      RowReader read, const char *doing, Arena *a, void **items,
                      size_t *n_items, Err *err) {
  sqlite3_stmt *st;
  IexStatus rc = use(s, id, &st, err);
  if (rc == IEX_OK) {
    if (sqlite3_bind_parameter_count(st) > 0) bind_int(st, 1, param);
    rc = collect(s, st, elem_size, read, doing, a, items, n_items, err);
  }
  release(st);
  return rc;
}

/* A query for one record by `key`: IEX_OK with `*found`. */
static IexStatus get_one(SqliteStore *s, sqlite3_stmt *st, RowReader read,
                         const char *doing, Arena *a, void *out, bool *found,
                         Err *err) {
  IexStatus rc = step(s, st, doing, found, err);
  if (rc == IEX_OK && *found) read(st, a, out);
  return rc;
}

/* ---- Row readers (column orders: the *_COLUMNS macros) -------------- */

static void read_integration(sqlite3_stmt *st, Arena *a, void *out) {
  StoreIntegration *it = out;
  it->id = col_int(st, 0);
  it->name = col_text(st, 1, a);
  it->iexb = sqlite3_column_type(st, 2) == SQLITE_NULL ? STR_LIT("")
                                                       : col_blob(st, 2, a);
  it->iexb_hash = col_text(st, 3, a);
  it->connections_json = col_text(st, 4, a);
  it->activated_at_us = col_int(st, 5);
  it->is_active = col_int(st, 6) != 0;
  it->created_at_us = col_int(st, 7);
  it->updated_at_us = col_int(st, 8);
}

static void read_inbox(sqlite3_stmt *st, Arena *a, void *out) {
  StoreInboxItem *it = out;
  it->id = col_int(st, 0);
  it->integration_id = col_int(st, 1);
  it->dedup_key = col_text(st, 2, a);
  it->source = col_text(st, 3, a);
  it->topic = col_text(st, 4, a);
  it->headers_json = col_text(st, 5, a);
  it->body = col_blob(st, 6, a);
  it->received_at_us = col_int(st, 7);
  it->processed_at_us = col_int(st, 8);
  it->outcome = col_text(st, 9, a);
  it->transfer_id = col_int(st, 10);
  it->n_duplicates = col_int(st, 11);
}

static void read_transfer(sqlite3_stmt *st, Arena *a, void *out) {
  StoreTransfer *t = out;
  t->id = col_int(st, 0);
  t->integration_id = col_int(st, 1);
  t->integration_name = col_text(st, 2, a);
  t->source_id = col_text(st, 3, a);
  t->display_key = col_text(st, 4, a);
  t->status = col_run_status(st, 5);
  t->code = col_text(st, 6, a);
  t->message = col_text(st, 7, a);
  t->location = col_text(st, 8, a);
  t->n_revisions = col_int(st, 9);
  t->n_runs = col_int(st, 10);
  t->latest_revision_id = col_int(st, 11);
  t->created_at_us = col_int(st, 12);
  t->updated_at_us = col_int(st, 13);
}

static void read_revision(sqlite3_stmt *st, Arena *a, void *out) {
  StoreRevision *r = out;
  r->id = col_int(st, 0);
  r->transfer_id = col_int(st, 1);
  r->number = col_int(st, 2);
  r->data_json = col_text(st, 3, a);
  r->source_time = col_text(st, 4, a);
  r->inbox_id = col_int(st, 5);
  r->created_at_us = col_int(st, 6);
}

static void read_run(sqlite3_stmt *st, Arena *a, void *out) {
  StoreRun *r = out;
  r->id = col_int(st, 0);
  r->transfer_id = col_int(st, 1);
  r->revision_id = col_int(st, 2);
  r->integration_id = col_int(st, 3);
  r->attempt = col_int(st, 4);
  r->reason = col_text(st, 5, a);
  r->status = col_run_status(st, 6);
  r->due_at_us = col_int(st, 7);
  r->lease_owner = col_text(st, 8, a);
  r->lease_expires_us = col_int(st, 9);
  r->n_claims = col_int(st, 10);
  r->started_at_us = col_int(st, 11);
  r->finished_at_us = col_int(st, 12);
  r->code = col_text(st, 13, a);
  r->message = col_text(st, 14, a);
  r->location = col_text(st, 15, a);
  r->created_at_us = col_int(st, 16);
}

static void read_stage(sqlite3_stmt *st, Arena *a, void *out) {
  StoreStage *g = out;
  g->id = col_int(st, 0);
  g->run_id = col_int(st, 1);
  g->step = col_text(st, 2, a);
  g->kind = STORE_STAGE_NOTE;
  store_stage_kind_parse((const char *)sqlite3_column_text(st, 3), &g->kind);
  g->data_json = col_text(st, 4, a);
  g->code = col_text(st, 5, a);
  g->message = col_text(st, 6, a);
  g->location = col_text(st, 7, a);
  g->started_at_us = col_int(st, 8);
  g->finished_at_us = col_int(st, 9);
}

static void read_effect(sqlite3_stmt *st, Arena *a, void *out) {
  StoreEffect *e = out;
  e->id = col_int(st, 0);
  e->transfer_id = col_int(st, 1);
  e->revision_id = col_int(st, 2);
  e->run_id = col_int(st, 3);
  e->key = col_text(st, 4, a);
  e->step = col_text(st, 5, a);
  e->target_system = col_text(st, 6, a);
  e->operation = col_text(st, 7, a);
  e->reference = col_text(st, 8, a);
  e->counts_usage = col_int(st, 9) != 0;
  e->state =
      STORE_EFFECT_UNKNOWN; /* a state this binary does not know: reconcile */
  store_effect_state_parse((const char *)sqlite3_column_text(st, 10),
                           &e->state);
  e->attempts = col_int(st, 11);
  e->external_id = col_text(st, 12, a);
  e->result_json = col_text(st, 13, a);
  e->reason = col_text(st, 14, a);
  e->reserved_at_us = col_int(st, 15);
  e->started_at_us = col_int(st, 16);
  e->finished_at_us = col_int(st, 17);
  e->unknown_since_us = col_int(st, 18);
  e->updated_at_us = col_int(st, 19);
}

static void read_message(sqlite3_stmt *st, Arena *a, void *out) {
  StoreMessage *m = out;
  m->id = col_int(st, 0);
  m->key = col_text(st, 1, a);
  m->kind = col_text(st, 2, a);
  m->recipient = col_text(st, 3, a);
  m->subject = col_text(st, 4, a);
  m->body = col_text(st, 5, a);
  m->transfer_id = col_int(st, 6);
  m->attempts = col_int(st, 7);
  m->created_at_us = col_int(st, 8);
}

static void read_health(sqlite3_stmt *st, Arena *a, void *out) {
  StoreConnectionHealth *h = out;
  h->integration_id = col_int(st, 0);
  h->alias = col_text(st, 1, a);
  /* An unknown state reads as open: never let calls through on a guess. */
  h->state = STORE_CIRCUIT_OPEN;
  store_circuit_state_parse((const char *)sqlite3_column_text(st, 2),
                            &h->state);
  h->failures = col_int(st, 3);
  h->opened_at_us = col_int(st, 4);
  h->retry_at_us = col_int(st, 5);
  h->last_error_code = col_text(st, 6, a);
  h->last_error = col_text(st, 7, a);
  h->updated_at_us = col_int(st, 8);
}

/* ---- Open, close, check --------------------------------------------- */

static void sq_close(Store *base) {
  SqliteStore *s = sq(base);
  if (s->in_tx) sq_rollback(base);
  for (int i = 0; i < SQL__COUNT; i++) sqlite3_finalize(s->stmts[i]);
  for (int i = 0; i < LOG_VARIANTS; i++) sqlite3_finalize(s->log_stmts[i]);
  sqlite3_close(s->db);
  free(s->base.path);
  free(s);
}

static int sq_schema_version(Store *base) { return sq(base)->version; }

static IexStatus sq_check(Store *base, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool row = false;
  IexStatus rc = use(s, SQL_INTEGRITY_CHECK, &st, err);
  if (rc == IEX_OK) rc = step(s, st, "checking the store", &row, err);
  if (rc == IEX_OK && row &&
      strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
    rc = err_set(err, IEX_E_STORE_CORRUPT, "the store at %s is damaged: %s",
                 s->base.path, (const char *)sqlite3_column_text(st, 0));
  release(st);
  st = NULL;
  if (rc == IEX_OK) rc = use(s, SQL_FOREIGN_KEY_CHECK, &st, err);
  if (rc == IEX_OK)
    rc = step(s, st, "checking the store's references", &row, err);
  if (rc == IEX_OK && row)
    rc = err_set(err, IEX_E_STORE_CORRUPT,
                 "the store at %s is damaged: a row of `%s` refers to a "
                 "missing `%s` row",
                 s->base.path, (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 2));
  release(st);
  return rc;
}

/* Run a PRAGMA that answers with one row and check its answer. */
static IexStatus pragma(SqliteStore *s, const char *sql, const char *want,
                        Err *err) {
  sqlite3_stmt *st = NULL;
  IexStatus rc = IEX_OK;
  int src = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (src == SQLITE_OK) src = sqlite3_step(st);
  if (src != SQLITE_ROW && src != SQLITE_DONE) {
    rc = db_error(s, sqlite3_extended_errcode(s->db), sql, err);
  } else if (want &&
             (src != SQLITE_ROW ||
              strcmp((const char *)sqlite3_column_text(st, 0), want) != 0)) {
    rc = err_set(
        err, IEX_E_STORE_OPEN,
        "the store at %s could not be set up: `%s` answered `%s`, not `%s`",
        s->base.path, sql,
        src == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                          : "nothing",
        want);
  }
  sqlite3_finalize(st);
  return rc;
}

static const StoreOps sqlite_ops;

IexStatus store_sqlite_open(const char *path, const StoreOptions *opts,
                            Store **out, Err *err) {
  SqliteStore *s = xcalloc(1, sizeof *s);
  IexStatus rc = IEX_OK;
  s->base.ops = &sqlite_ops;
  s->base.clock = opts->clock;
  s->base.path = xstrdup(path);
  s->busy_timeout_ms = opts->busy_timeout_ms;

  /* The store holds customers' names and addresses: a new one is made
  ** readable by its owner only. SQLite gives the -wal and -shm files the
  ** mode of the database file. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  int src = sqlite3_open_v2(
      path, &s->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      opts->sqlite_vfs);
  if (src != SQLITE_OK) {
    rc = err_set(err, IEX_E_STORE_OPEN,
                 "cannot open the store at %s: %s (errno %d)", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory",
                 s->db ? sqlite3_system_errno(s->db) : 0);
    goto done;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
  /* WAL: readers never block the writer (`iex log` while iex runs).
  ** FULL: a commit is on disk, power cut included, before it returns.
  ** The answers are checked: a build or file system that cannot give
  ** these guarantees must not run silently without them. */
  rc = pragma(s, "PRAGMA journal_mode = WAL", "wal", err);
  if (rc == IEX_OK) rc = pragma(s, "PRAGMA synchronous = FULL", NULL, err);
  if (rc == IEX_OK) rc = pragma(s, "PRAGMA synchronous", "2", err);
  if (rc == IEX_OK) rc = pragma(s, "PRAGMA foreign_keys = ON", NULL, err);
  if (rc == IEX_OK) rc = pragma(s, "PRAGMA foreign_keys", "1", err);
  if (rc == IEX_OK) rc = pragma(s, "PRAGMA trusted_schema = OFF", NULL, err);
  if (rc == IEX_OK)
    rc = store_sqlite_migrate(s->db, path, clock_now_us(s->base.clock),
                              &s->version, err);
done:
  if (rc != IEX_OK) {
    sq_close(&s->base);
    s = NULL;
  }
  *out = s ? &s->base : NULL;
  return rc;
}

/* ---- Integrations and settings -------------------------------------- */

static IexStatus sq_integration_add(Store *base, const StoreIntegrationNew *in,
                                    int64_t *id_out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_INTEGRATION_ADD, &st, err);
  if (rc == IEX_OK) {
    bind_text(st, 1, in->name);
    bind_blob(st, 2, in->iexb);
    bind_text(st, 3, in->iexb_hash);
    bind_text(st, 4, in->connections_json);
    bind_int(st, 5, in->activated_at_us);
    bind_int(st, 6, in->is_active);
    bind_int(st, 7, store_now(base));
    rc = run(s, st, "adding the integration", err);
    if (rc == IEX_E_EXISTS)
      rc = err_set(err, IEX_E_EXISTS,
                   "an integration called `%s` exists already", in->name);
    if (rc == IEX_OK && id_out) *id_out = sqlite3_last_insert_rowid(s->db);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_integration_get(Store *base, int64_t id, const char *name,
                                    Arena *a, StoreIntegration *out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_INTEGRATION_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    bind_text(st, 2, name);
    rc = get_one(s, st, read_integration, "reading an integration", a, out,
                 &found, err);
  }
  if (rc == IEX_OK && !found) {
    rc = name ? err_set(err, IEX_E_NOT_FOUND,
                        "there is no integration called `%s`", name)
              : err_set(err, IEX_E_NOT_FOUND,
                        "there is no integration with id %lld", (long long)id);
  }
  release(st);
  return rc;
}

static IexStatus sq_integration_list(Store *base, Arena *a,
                                     StoreIntegration **items, size_t *n_items,
                                     Err *err) {
  return list(sq(base), SQL_INTEGRATION_LIST, 0, sizeof **items,
              read_integration, "listing integrations", a, (void **)items,
              n_items, err);
}

/* IEX_OK if integration `id` exists, IEX_E_NOT_FOUND otherwise. */
static IexStatus integration_exists(SqliteStore *s, int64_t id, Err *err) {
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_INTEGRATION_EXISTS, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    rc = step(s, st, "looking up an integration", &found, err);
  }
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_NOT_FOUND, "there is no integration with id %lld",
                 (long long)id);
  release(st);
  return rc;
}

static IexStatus sq_integration_set_active(Store *base, int64_t id, bool active,
                                           int64_t activated_at_us, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = integration_exists(s, id, err);
  if (rc == IEX_OK) rc = use(s, SQL_INTEGRATION_SET_ACTIVE, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    bind_int(st, 2, active);
    bind_int(st, 3, activated_at_us);
    bind_int(st, 4, store_now(base));
    rc = run(
        s, st,
        active ? "activating the integration" : "deactivating the integration",
        err);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_settings_get(Store *base, int64_t integration_id, Arena *a,
                                 const char **json_out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  IexStatus rc = integration_exists(s, integration_id, err);
  if (rc == IEX_OK) rc = use(s, SQL_SETTINGS_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    rc = step(s, st, "reading settings", &found, err);
  }
  if (rc == IEX_OK)
    *json_out = found ? col_text(st, 0, a) : arena_strndup(a, "{}", 2);
  release(st);
  return rc;
}

static IexStatus sq_settings_set(Store *base, int64_t integration_id,
                                 const char *json, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = integration_exists(s, integration_id, err);
  if (rc == IEX_OK) rc = use(s, SQL_SETTINGS_SET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, json);
    bind_int(st, 3, store_now(base));
    rc = run(s, st, "saving settings", err);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

/* ---- Inbox and cursors ---------------------------------------------- */

static IexStatus sq_inbox_add(Store *base, const StoreEvent *ev,
                              int64_t *id_out, bool *is_duplicate, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool row = false;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_INBOX_ADD, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, ev->integration_id);
    bind_text(st, 2, ev->dedup_key);
    bind_text(st, 3, ev->source);
    bind_text(st, 4, ev->topic);
    bind_text(st, 5, ev->headers_json);
    bind_blob(st, 6, ev->body);
    bind_int(st, 7, store_now(base));
    rc = step(s, st, "storing a received event", &row, err);
  }
  if (rc == IEX_OK && !row)
    rc = err_set(err, IEX_E_INTERNAL, "the inbox insert returned no row");
  if (rc == IEX_OK) {
    if (id_out) *id_out = col_int(st, 0);
    if (is_duplicate) *is_duplicate = col_int(st, 1) > 0;
  }
  release(st);
  if (rc == IEX_OK) crash_point(CRASH_INBOX_BEFORE_COMMIT);
  bool own = !tx.savepoint;
  rc = tx_end(s, &tx, rc, err);
  if (rc == IEX_OK && own) crash_point(CRASH_INBOX_AFTER_COMMIT);
  return rc;
}

static IexStatus sq_inbox_pending(Store *base, size_t limit, Arena *a,
                                  StoreInboxItem **items, size_t *n_items,
                                  Err *err) {
  return list(sq(base), SQL_INBOX_PENDING, (int64_t)limit, sizeof **items,
              read_inbox, "reading pending events", a, (void **)items, n_items,
              err);
}

/* Run a bound UPDATE that must change exactly one row; IEX_E_NOT_FOUND
** (with `what`) when it changed none. */
static IexStatus update_one(SqliteStore *s, sqlite3_stmt *st, const char *doing,
                            const char *what, int64_t id, Err *err) {
  IexStatus rc = run(s, st, doing, err);
  if (rc == IEX_OK && sqlite3_changes(s->db) == 0)
    rc = err_set(err, IEX_E_NOT_FOUND, "%s: there is no %s with id %lld", doing,
                 what, (long long)id);
  return rc;
}

static IexStatus sq_inbox_done(Store *base, int64_t id, int64_t transfer_id,
                               const char *outcome, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_INBOX_DONE, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    bind_int(st, 2, store_now(base));
    bind_text(st, 3, outcome);
    bind_int(st, 4, transfer_id);
    rc = update_one(s, st, "marking an event processed", "event", id, err);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_cursor_get(Store *base, int64_t integration_id,
                               const char *record_type, Arena *a,
                               const char **value_out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_CURSOR_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, record_type);
    rc = step(s, st, "reading a poll cursor", &found, err);
  }
  if (rc == IEX_OK) *value_out = found ? col_text(st, 0, a) : NULL;
  release(st);
  return rc;
}

static IexStatus sq_cursor_set(Store *base, int64_t integration_id,
                               const char *record_type, const char *value,
                               Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_CURSOR_SET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, record_type);
    bind_text(st, 3, value);
    bind_int(st, 4, store_now(base));
    rc = run(s, st, "advancing a poll cursor", err);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

/* ---- Transfers and revisions ---------------------------------------- */

static IexStatus sq_transfer_get_or_add(Store *base, int64_t integration_id,
                                        const char *source_id,
                                        const char *display_key,
                                        int64_t *id_out, bool *created,
                                        Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false, rename = false;
  int64_t id = 0;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_TRANSFER_FIND, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, source_id);
    rc = step(s, st, "looking up a transfer", &found, err);
  }
  if (rc == IEX_OK && found) {
    id = col_int(st, 0);
    rename = strcmp((const char *)sqlite3_column_text(st, 1), display_key) != 0;
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK && (!found || rename))
    rc = use(s, found ? SQL_TRANSFER_SET_KEY : SQL_TRANSFER_ADD, &st, err);
  if (rc == IEX_OK && found && rename) {
    bind_int(st, 1, id);
    bind_text(st, 2, display_key);
    rc = run(s, st, "renaming a transfer", err);
  } else if (rc == IEX_OK && !found) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, source_id);
    bind_text(st, 3, display_key);
    bind_int(st, 4, store_now(base));
    rc = run(s, st, "adding a transfer", err);
    id = sqlite3_last_insert_rowid(s->db);
  }
  release(st);
  rc = tx_end(s, &tx, rc, err);
  if (rc == IEX_OK) {
    *id_out = id;
    *created = !found;
  }
  return rc;
}

static IexStatus sq_transfer_get(Store *base, int64_t id, Arena *a,
                                 StoreTransfer *out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_TRANSFER_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    rc = get_one(s, st, read_transfer, "reading a transfer", a, out, &found,
                 err);
  }
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_NOT_FOUND, "there is no transfer with id %lld",
                 (long long)id);
  release(st);
  return rc;
}

/* Bump a transfer's last-activity time. */
static IexStatus touch_transfer(SqliteStore *s, int64_t transfer_id, Err *err) {
  sqlite3_stmt *st;
  IexStatus rc = use(s, SQL_TRANSFER_TOUCH, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, transfer_id);
    bind_int(st, 2, store_now(&s->base));
    rc = run(s, st, "updating a transfer", err);
  }
  release(st);
  return rc;
}

static IexStatus sq_revision_add(Store *base, int64_t transfer_id,
                                 const char *data_json, const char *source_time,
                                 int64_t inbox_id, int64_t *id_out,
                                 bool *is_new, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false, same = false;
  int64_t latest_id = 0, number = 0;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_REVISION_LATEST, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, transfer_id);
    rc = step(s, st, "reading the latest revision", &found, err);
  }
  if (rc == IEX_OK && found) {
    latest_id = col_int(st, 0);
    number = col_int(st, 1);
    size_t len = strlen(data_json);
    same = (size_t)sqlite3_column_bytes(st, 2) == len &&
           memcmp(sqlite3_column_text(st, 2), data_json, len) == 0;
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK && !same) rc = use(s, SQL_REVISION_ADD, &st, err);
  if (rc == IEX_OK && !same) {
    bind_int(st, 1, transfer_id);
    bind_int(st, 2, number + 1);
    bind_text(st, 3, data_json);
    bind_text(st, 4, source_time);
    bind_int(st, 5, inbox_id);
    bind_int(st, 6, store_now(base));
    rc = run(s, st, "adding a revision", err);
    latest_id = sqlite3_last_insert_rowid(s->db);
  }
  release(st);
  if (rc == IEX_OK && !same) rc = touch_transfer(s, transfer_id, err);
  rc = tx_end(s, &tx, rc, err);
  if (rc == IEX_OK) {
    *id_out = latest_id;
    *is_new = !same;
  }
  return rc;
}

static IexStatus sq_revision_get(Store *base, int64_t id, Arena *a,
                                 StoreRevision *out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_REVISION_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    rc = get_one(s, st, read_revision, "reading a revision", a, out, &found,
                 err);
  }
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_NOT_FOUND, "there is no revision with id %lld",
                 (long long)id);
  release(st);
  return rc;
}

static IexStatus sq_revision_list(Store *base, int64_t transfer_id, Arena *a,
                                  StoreRevision **items, size_t *n_items,
                                  Err *err) {
  return list(sq(base), SQL_REVISION_LIST, transfer_id, sizeof **items,
              read_revision, "listing revisions", a, (void **)items, n_items,
              err);
}

/* ---- Runs ----------------------------------------------------------- */

static IexStatus sq_run_add(Store *base, int64_t revision_id, int64_t due_at_us,
                            const char *reason, int64_t *id_out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  int64_t id = 0;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_RUN_ADD, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, revision_id);
    bind_text(st, 2, reason);
    bind_int(st, 3, due_at_us);
    bind_int(st, 4, store_now(base));
    rc = update_one(s, st, "queueing a run", "revision", revision_id, err);
    id = sqlite3_last_insert_rowid(s->db);
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK) rc = use(s, SQL_TRANSFER_QUEUED, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, revision_id);
    bind_int(st, 2, store_now(base));
    rc = run(s, st, "marking the transfer queued", err);
  }
  release(st);
  rc = tx_end(s, &tx, rc, err);
  if (rc == IEX_OK && id_out) *id_out = id;
  return rc;
}

static IexStatus sq_run_get(Store *base, int64_t id, Arena *a, StoreRun *out,
                            Err *err);

static IexStatus sq_run_claim(Store *base, const char *worker_id,
                              int64_t lease_us, Arena *a, StoreRun *out,
                              bool *claimed, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  int64_t now = store_now(base), run_id = 0, transfer_id = 0;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_RUN_PICK, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, now);
    rc = step(s, st, "looking for a due run", &found, err);
  }
  if (rc == IEX_OK && found) {
    run_id = col_int(st, 0);
    transfer_id = col_int(st, 1);
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK && found) rc = use(s, SQL_RUN_TAKE, &st, err);
  if (rc == IEX_OK && found) {
    bind_int(st, 1, run_id);
    bind_text(st, 2, worker_id);
    bind_int(st, 3, now + lease_us);
    bind_int(st, 4, now);
    rc = run(s, st, "claiming a run", err);
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK && found) rc = use(s, SQL_TRANSFER_RUNNING, &st, err);
  if (rc == IEX_OK && found) {
    bind_int(st, 1, transfer_id);
    bind_int(st, 2, now);
    rc = run(s, st, "marking the transfer running", err);
  }
  release(st);
  if (rc == IEX_OK && found) rc = sq_run_get(base, run_id, a, out, err);
  rc = tx_end(s, &tx, rc, err);
  *claimed = rc == IEX_OK && found;
  return rc;
}

/* Explain why `worker_id` cannot finish or renew `run_id`. */
static IexStatus lease_lost(SqliteStore *s, int64_t run_id,
                            const char *worker_id, Err *err) {
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_RUN_STATE, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, run_id);
    rc = step(s, st, "reading a run", &found, err);
  }
  if (rc == IEX_OK && !found) {
    rc = err_set(err, IEX_E_NOT_FOUND, "there is no run with id %lld",
                 (long long)run_id);
  } else if (rc == IEX_OK) {
    const char *owner = (const char *)sqlite3_column_text(st, 1);
    rc = err_set(err, IEX_E_LEASE_LOST,
                 "run %lld is no longer leased to worker `%s`: it is "
                 "%s%s%s; this worker's result was not recorded",
                 (long long)run_id, worker_id,
                 (const char *)sqlite3_column_text(st, 0),
                 owner ? " under worker " : "", owner ? owner : "");
  }
  release(st);
  return rc;
}

static IexStatus sq_run_renew(Store *base, int64_t run_id,
                              const char *worker_id, int64_t lease_us,
                              Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_RUN_RENEW, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, run_id);
    bind_text(st, 2, worker_id);
    bind_int(st, 3, store_now(base) + lease_us);
    rc = run(s, st, "renewing a lease", err);
  }
  release(st);
  if (rc == IEX_OK && sqlite3_changes(s->db) == 0)
    rc = lease_lost(s, run_id, worker_id, err);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_run_release_dead(Store *base,
                                    bool (*is_dead)(void *, const char *),
                                    void *ctx, size_t *n_released, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  Arena a;
  arena_init(&a);
  const char **owners = NULL;
  size_t n = 0, cap = 0;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_RUN_OWNERS, &st, err);
  bool row = true;
  while (rc == IEX_OK && row) {
    rc = step(s, st, "listing lease owners", &row, err);
    if (rc == IEX_OK && row) VEC_PUSH(owners, n, cap, col_text(st, 0, &a));
  }
  release(st);
  for (size_t i = 0; rc == IEX_OK && i < n; i++) {
    if (!is_dead(ctx, owners[i])) continue;
    rc = use(s, SQL_RUN_RELEASE, &st, err);
    if (rc == IEX_OK) {
      bind_text(st, 1, owners[i]);
      rc = run(s, st, "releasing the leases of a dead worker", err);
    }
    if (rc == IEX_OK) *n_released += (size_t)sqlite3_changes(s->db);
    release(st);
  }
  free(owners);
  arena_fini(&a);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_run_finish(Store *base, int64_t run_id,
                               const char *worker_id, StoreRunStatus status,
                               const StoreOutcome *outcome, int64_t next_due_us,
                               int64_t *next_id_out, Err *err) {
  SqliteStore *s = sq(base);
  StoreOutcome o = outcome ? *outcome : (StoreOutcome){IEX_OK, NULL, NULL};
  sqlite3_stmt *st = NULL;
  bool row = false;
  int64_t now = store_now(base), transfer_id = 0;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_RUN_FINISH, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, run_id);
    bind_text(st, 2, worker_id);
    bind_text(st, 3, store_run_status_name(status));
    bind_int(st, 4, now);
    bind_text(st, 5, status_name(o.code));
    bind_text(st, 6, o.message);
    bind_text(st, 7, o.location);
    rc = step(s, st, "recording the end of a run", &row, err);
    if (rc == IEX_OK && row) transfer_id = col_int(st, 0);
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK && !row) rc = lease_lost(s, run_id, worker_id, err);
  if (rc == IEX_OK) rc = use(s, SQL_TRANSFER_SET_STATUS, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, transfer_id);
    bind_text(st, 2, store_run_status_name(status));
    bind_text(st, 3, status_name(o.code));
    bind_text(st, 4, o.message);
    bind_text(st, 5, o.location);
    bind_int(st, 6, now);
    rc = run(s, st, "recording the transfer's status", err);
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK && next_due_us > 0) rc = use(s, SQL_RUN_ADD_RETRY, &st, err);
  if (rc == IEX_OK && next_due_us > 0) {
    bind_int(st, 1, run_id);
    bind_int(st, 2, next_due_us);
    bind_int(st, 3, now);
    rc = run(s, st, "queueing the next attempt", err);
    if (rc == IEX_OK) *next_id_out = sqlite3_last_insert_rowid(s->db);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_run_get(Store *base, int64_t id, Arena *a, StoreRun *out,
                            Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  bool found = false;
  IexStatus rc = use(s, SQL_RUN_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    rc = get_one(s, st, read_run, "reading a run", a, out, &found, err);
  }
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_NOT_FOUND, "there is no run with id %lld",
                 (long long)id);
  release(st);
  return rc;
}

static IexStatus sq_run_list(Store *base, int64_t transfer_id, Arena *a,
                             StoreRun **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_RUN_LIST, transfer_id, sizeof **items, read_run,
              "listing runs", a, (void **)items, n_items, err);
}

static IexStatus sq_transfers_failed(Store *base, int64_t integration_id,
                                     Arena *a, StoreTransfer **items,
                                     size_t *n_items, Err *err) {
  return list(sq(base), SQL_TRANSFERS_FAILED, integration_id, sizeof **items,
              read_transfer, "listing failed transfers", a, (void **)items,
              n_items, err);
}

/* ---- Stages --------------------------------------------------------- */

static IexStatus sq_stage_add(Store *base, const StoreStageNew *in,
                              int64_t *id_out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_STAGE_ADD, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, in->run_id);
    bind_text(st, 2, in->step);
    bind_text(st, 3, store_stage_kind_name(in->kind));
    bind_text(st, 4, in->data_json);
    bind_text(st, 5, status_name(in->outcome.code));
    bind_text(st, 6, in->outcome.message);
    bind_text(st, 7, in->outcome.location);
    bind_int(st, 8, in->started_at_us);
    bind_int(st, 9, in->finished_at_us);
    rc = run(s, st, "recording a stage", err);
    if (rc == IEX_OK && id_out) *id_out = sqlite3_last_insert_rowid(s->db);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_stage_list(Store *base, int64_t run_id, Arena *a,
                               StoreStage **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_STAGE_LIST, run_id, sizeof **items, read_stage,
              "listing stages", a, (void **)items, n_items, err);
}

/* ---- Effects and usage ---------------------------------------------- */

static IexStatus sq_effect_find(Store *base, int64_t transfer_id,
                                const char *key, Arena *a, StoreEffect *out,
                                bool *found, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  IexStatus rc = use(s, SQL_EFFECT_FIND, &st, err);
  *found = false;
  if (rc == IEX_OK) {
    bind_int(st, 1, transfer_id);
    bind_text(st, 2, key);
    rc = get_one(s, st, read_effect, "reading an effect", a, out, found, err);
  }
  release(st);
  return rc;
}

static IexStatus sq_effect_reserve(Store *base, const StoreEffectNew *in,
                                   Arena *a, StoreEffect *out, bool *created,
                                   Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_EFFECT_RESERVE, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, in->transfer_id);
    bind_int(st, 2, in->revision_id);
    bind_int(st, 3, in->run_id);
    bind_text(st, 4, in->key);
    bind_text(st, 5, in->step);
    bind_text(st, 6, in->target_system);
    bind_text(st, 7, in->operation);
    bind_text(st, 8, in->reference);
    bind_int(st, 9, in->counts_usage);
    bind_int(st, 10, store_now(base));
    rc = run(s, st, "reserving an effect", err);
    *created = rc == IEX_OK && sqlite3_changes(s->db) == 1;
  }
  release(st);
  if (rc == IEX_OK)
    rc = sq_effect_find(base, in->transfer_id, in->key, a, out, &found, err);
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_INTERNAL,
                 "effect `%s` vanished after it was reserved", in->key);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_effect_move(Store *base, int64_t id, StoreEffectState to,
                                int64_t run_id, const char *result_json,
                                const char *external_id, const char *reason,
                                bool *counted, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  StoreEffectState from = STORE_EFFECT_UNKNOWN;
  int64_t now = store_now(base);
  static const SqlId update_for[] = {
      [STORE_EFFECT_STARTED] = SQL_EFFECT_START,
      [STORE_EFFECT_DONE] = SQL_EFFECT_DONE,
      [STORE_EFFECT_REFUSED] = SQL_EFFECT_REFUSED,
      [STORE_EFFECT_UNKNOWN] = SQL_EFFECT_UNKNOWN};
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);

  /* Read the state under the write lock, check the move, then make it. */
  if (rc == IEX_OK) rc = use(s, SQL_EFFECT_STATE, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    rc = step(s, st, "reading an effect", &found, err);
  }
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_NOT_FOUND, "there is no effect with id %lld",
                 (long long)id);
  if (rc == IEX_OK && !store_effect_state_parse(
                          (const char *)sqlite3_column_text(st, 0), &from))
    rc = err_set(err, IEX_E_STORE_CORRUPT,
                 "effect %lld has the state `%s`, which is not one",
                 (long long)id, (const char *)sqlite3_column_text(st, 0));
  if (rc == IEX_OK && !store_effect_can_move(from, to))
    rc = err_set(
        err, IEX_E_EFFECT_STATE,
        "effect %lld (`%s`, %s of transfer %lld) is %s and cannot become %s",
        (long long)id, (const char *)sqlite3_column_text(st, 2),
        (const char *)sqlite3_column_text(st, 3), (long long)col_int(st, 1),
        store_effect_state_name(from), store_effect_state_name(to));
  release(st);
  st = NULL;

  if (rc == IEX_OK) rc = use(s, update_for[to], &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    switch (to) {
    case STORE_EFFECT_STARTED:
      bind_int(st, 2, run_id);
      bind_int(st, 3, now);
      break;
    case STORE_EFFECT_DONE:
      bind_text(st, 2, result_json);
      bind_text(st, 3, external_id);
      bind_int(st, 4, now);
      break;
    case STORE_EFFECT_REFUSED:
    case STORE_EFFECT_UNKNOWN:
      bind_text(st, 2, reason);
      bind_int(st, 3, now);
      break;
    case STORE_EFFECT_RESERVED: break; /* can_move() never allows it */
    }
    rc = run(s, st, "moving an effect", err);
  }
  release(st);
  st = NULL;

  /* A create that counts: count it once per (transfer, target system), in
  ** this same transaction, so "done" and "counted" cannot part. */
  if (rc == IEX_OK && to == STORE_EFFECT_DONE)
    rc = use(s, SQL_USAGE_COUNT_EFFECT, &st, err);
  if (rc == IEX_OK && to == STORE_EFFECT_DONE) {
    bind_int(st, 1, id);
    bind_int(st, 2, now);
    rc = run(s, st, "counting usage", err);
    if (rc == IEX_OK) *counted = sqlite3_changes(s->db) == 1;
    if (rc == IEX_OK) crash_point(CRASH_USAGE_COUNTED);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_effect_list_unsettled(Store *base, Arena *a,
                                          StoreEffect **items, size_t *n_items,
                                          Err *err) {
  return list(sq(base), SQL_EFFECT_UNSETTLED, 0, sizeof **items, read_effect,
              "listing unsettled effects", a, (void **)items, n_items, err);
}

static IexStatus sq_effect_list(Store *base, int64_t transfer_id, Arena *a,
                                StoreEffect **items, size_t *n_items,
                                Err *err) {
  return list(sq(base), SQL_EFFECT_LIST, transfer_id, sizeof **items,
              read_effect, "listing effects", a, (void **)items, n_items, err);
}

static IexStatus sq_usage_count(Store *base, int64_t from_us, int64_t to_us,
                                int64_t integration_id, int64_t *used,
                                Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st;
  bool row = false;
  IexStatus rc = use(s, SQL_USAGE_MONTH, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, from_us);
    bind_int(st, 2, to_us);
    bind_int(st, 3, integration_id);
    rc = step(s, st, "counting usage", &row, err);
  }
  if (rc == IEX_OK) *used = row ? col_int(st, 0) : 0;
  release(st);
  return rc;
}

/* ---- Outbox --------------------------------------------------------- */

/* Enqueue a message in the transaction the caller holds. */
static IexStatus outbox_insert(SqliteStore *s, const StoreMessageNew *in,
                               int64_t *id_out, bool *created, Err *err) {
  sqlite3_stmt *st = NULL;
  bool found = false;
  IexStatus rc = use(s, SQL_OUTBOX_ADD, &st, err);
  if (rc == IEX_OK) {
    bind_text(st, 1, in->key);
    bind_text(st, 2, in->kind);
    bind_text(st, 3, in->recipient);
    bind_text(st, 4, in->subject);
    bind_text(st, 5, in->body);
    bind_int(st, 6, in->transfer_id);
    bind_int(st, 7, store_now(&s->base));
    rc = run(s, st, "queueing a message", err);
    *created = rc == IEX_OK && sqlite3_changes(s->db) == 1;
  }
  release(st);
  st = NULL;
  if (rc == IEX_OK) rc = use(s, SQL_OUTBOX_FIND, &st, err);
  if (rc == IEX_OK) {
    bind_text(st, 1, in->key);
    rc = step(s, st, "reading a queued message", &found, err);
  }
  if (rc == IEX_OK && !found)
    rc = err_set(err, IEX_E_INTERNAL,
                 "message `%s` vanished after it was queued", in->key);
  if (rc == IEX_OK && id_out) *id_out = col_int(st, 0);
  release(st);
  return rc;
}

static IexStatus sq_outbox_add(Store *base, const StoreMessageNew *in,
                               int64_t *id_out, bool *created, Err *err) {
  SqliteStore *s = sq(base);
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = outbox_insert(s, in, id_out, created, err);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_outbox_claim(Store *base, const char *worker_id,
                                 int64_t lease_us, Arena *a, StoreMessage *out,
                                 bool *claimed, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  int64_t now = store_now(base), id = 0;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_OUTBOX_PICK, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, now);
    rc = step(s, st, "looking for a message to send", &found, err);
  }
  if (rc == IEX_OK && found) id = col_int(st, 0);
  release(st);
  st = NULL;
  if (rc == IEX_OK && found) rc = use(s, SQL_OUTBOX_TAKE, &st, err);
  if (rc == IEX_OK && found) {
    bind_int(st, 1, id);
    bind_text(st, 2, worker_id);
    bind_int(st, 3, now + lease_us);
    bool row = false;
    rc = get_one(s, st, read_message, "claiming a message", a, out, &row, err);
  }
  release(st);
  rc = tx_end(s, &tx, rc, err);
  *claimed = rc == IEX_OK && found;
  return rc;
}

static IexStatus sq_outbox_sent(Store *base, int64_t id, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_OUTBOX_SENT, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    bind_int(st, 2, store_now(base));
    rc = update_one(s, st, "marking a message sent", "message", id, err);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

static IexStatus sq_outbox_defer(Store *base, int64_t id, int64_t due_at_us,
                                 const char *error, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = use(s, SQL_OUTBOX_DEFER, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, id);
    bind_int(st, 2, due_at_us);
    bind_text(st, 3, error);
    rc = update_one(s, st, "deferring a message", "unsent message", id, err);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

/* ---- Connection health ----------------------------------------------- */

/* The stored health of (integration, alias), or a closed one. */
static IexStatus health_read(SqliteStore *s, int64_t integration_id,
                             const char *alias, Arena *a,
                             StoreConnectionHealth *out, bool *found,
                             Err *err) {
  sqlite3_stmt *st;
  *found = false;
  IexStatus rc = use(s, SQL_HEALTH_GET, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, alias);
    rc = get_one(s, st, read_health, "reading a connection's health", a, out,
                 found, err);
  }
  release(st);
  if (rc == IEX_OK && !*found)
    *out = (StoreConnectionHealth){
        .integration_id = integration_id,
        .alias = arena_strndup(a, alias, strlen(alias)),
        .state = STORE_CIRCUIT_CLOSED};
  return rc;
}

static IexStatus sq_health_get(Store *base, int64_t integration_id,
                               const char *alias, Arena *a,
                               StoreConnectionHealth *out, bool *found,
                               Err *err) {
  return health_read(sq(base), integration_id, alias, a, out, found, err);
}

static IexStatus sq_health_list(Store *base, int64_t integration_id, Arena *a,
                                StoreConnectionHealth **items, size_t *n_items,
                                Err *err) {
  return list(sq(base), SQL_HEALTH_LIST, integration_id, sizeof **items,
              read_health, "listing connections' health", a, (void **)items,
              n_items, err);
}

static IexStatus sq_health_update(
    Store *base, int64_t integration_id, const char *alias,
    bool (*update)(void *ctx, StoreConnectionHealth *h, int64_t now_us,
                   bool *notify),
    void *ctx, const StoreMessageNew *notify_msg, Arena *a,
    StoreConnectionHealth *out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  StoreConnectionHealth h;
  bool found = false, notify = false, changed = false;
  int64_t now = store_now(base);
  Tx tx;
  /* BEGIN IMMEDIATE: the row is read under the write lock, so no other
  ** process changes it between this read and the write below. */
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK)
    rc = health_read(s, integration_id, alias, a, &h, &found, err);
  if (rc == IEX_OK) changed = update(ctx, &h, now, &notify);
  if (rc == IEX_OK && changed) {
    h.updated_at_us = now;
    rc = use(s, SQL_HEALTH_PUT, &st, err);
  }
  if (rc == IEX_OK && changed) {
    bind_int(st, 1, integration_id);
    bind_text(st, 2, alias);
    bind_text(st, 3, store_circuit_state_name(h.state));
    bind_int(st, 4, h.failures);
    bind_int(st, 5, h.opened_at_us);
    bind_int(st, 6, h.retry_at_us);
    bind_text(st, 7, h.last_error_code);
    bind_text(st, 8, h.last_error);
    bind_int(st, 9, now);
    rc = run(s, st, "recording a connection's health", err);
  }
  release(st);
  if (rc == IEX_OK && changed && notify && notify_msg) {
    bool created = false;
    rc = outbox_insert(s, notify_msg, NULL, &created, err);
  }
  rc = tx_end(s, &tx, rc, err);
  if (rc == IEX_OK && out) *out = h;
  return rc;
}

static IexStatus sq_runs_due_now(Store *base, int64_t integration_id,
                                 size_t *n_runs, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = integration_exists(s, integration_id, err);
  if (rc == IEX_OK) rc = use(s, SQL_RUNS_DUE_NOW, &st, err);
  if (rc == IEX_OK) {
    bind_int(st, 1, integration_id);
    bind_int(st, 2, store_now(base));
    rc = run(s, st, "making waiting runs due", err);
    if (rc == IEX_OK) *n_runs = (size_t)sqlite3_changes(s->db);
  }
  release(st);
  return tx_end(s, &tx, rc, err);
}

/* ---- Queries for people --------------------------------------------- */

/* The log statement for one combination of filters, built from constant
** pieces only and cached; values are bound by name. */
static IexStatus log_statement(SqliteStore *s, unsigned variant,
                               sqlite3_stmt **out, Err *err) {
  *out = s->log_stmts[variant];
  if (*out) return IEX_OK;
  Buf sql;
  buf_init(&sql, 4096);
  buf_puts(&sql, "SELECT " TRANSFER_COLUMNS " WHERE 1");
  if (variant & LOG_STATUS) buf_puts(&sql, " AND t.status = :status");
  if (variant & LOG_INTEGRATION)
    buf_puts(&sql, " AND t.integration_id = :integration");
  /* "1001" finds "#1001": support staff type the number without the '#'. */
  if (variant & LOG_KEY)
    buf_puts(&sql,
             " AND (t.display_key = :key OR t.display_key = '#' || :key OR "
             "t.source_id = :key)");
  if (variant & LOG_FROM) buf_puts(&sql, " AND t.updated_at >= :from");
  if (variant & LOG_TO) buf_puts(&sql, " AND t.updated_at < :to");
  buf_puts(
      &sql,
      " ORDER BY t.updated_at DESC, t.id DESC LIMIT :limit OFFSET :offset");
  IexStatus rc = IEX_OK;
  int src =
      sqlite3_prepare_v3(s->db, buf_cstr(&sql), -1, SQLITE_PREPARE_PERSISTENT,
                         &s->log_stmts[variant], NULL);
  if (src != SQLITE_OK) rc = db_error(s, src, "preparing the log query", err);
  buf_fini(&sql);
  *out = s->log_stmts[variant];
  return rc;
}

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t v) {
  int i = sqlite3_bind_parameter_index(st, name);
  if (i > 0) sqlite3_bind_int64(st, i, v);
}

static IexStatus sq_log(Store *base, const StoreLogFilter *f, Arena *a,
                        StoreTransfer **items, size_t *n_items, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  unsigned variant = (f->status != STORE_RUN_ANY ? LOG_STATUS : 0) |
                     (f->integration_id ? LOG_INTEGRATION : 0) |
                     (f->key ? LOG_KEY : 0) | (f->from_us ? LOG_FROM : 0) |
                     (f->to_us ? LOG_TO : 0);
  IexStatus rc = log_statement(s, variant, &st, err);
  if (rc == IEX_OK) {
    int i = sqlite3_bind_parameter_index(st, ":status");
    if (i > 0) bind_text(st, i, store_run_status_name(f->status));
    if ((i = sqlite3_bind_parameter_index(st, ":key")) > 0)
      bind_text(st, i, f->key);
    bind_named_int(st, ":integration", f->integration_id);
    bind_named_int(st, ":from", f->from_us);
    bind_named_int(st, ":to", f->to_us);
    bind_named_int(st, ":limit", (int64_t)f->limit);
    bind_named_int(st, ":offset", (int64_t)f->offset);
    rc = collect(s, st, sizeof **items, read_transfer, "reading the log", a,
                 (void **)items, n_items, err);
  }
  release(st);
  return rc;
}

static IexStatus sq_transfer_show(Store *base, int64_t id, Arena *a,
                                  StoreTransferDetail *out, Err *err) {
  SqliteStore *s = sq(base);
  Tx tx;
  memset(out, 0, sizeof *out);
  IexStatus rc = tx_begin_read(s, &tx, err);
  if (rc == IEX_OK) rc = sq_transfer_get(base, id, a, &out->transfer, err);
  if (rc == IEX_OK)
    rc = list(s, SQL_REVISION_LIST, id, sizeof *out->revisions, read_revision,
              "listing revisions", a, (void **)&out->revisions,
              &out->n_revisions, err);
  if (rc == IEX_OK)
    rc = list(s, SQL_RUN_LIST, id, sizeof *out->runs, read_run, "listing runs",
              a, (void **)&out->runs, &out->n_runs, err);
  if (rc == IEX_OK)
    rc = list(s, SQL_STAGE_LIST_TRANSFER, id, sizeof *out->stages, read_stage,
              "listing stages", a, (void **)&out->stages, &out->n_stages, err);
  if (rc == IEX_OK)
    rc = list(s, SQL_INBOX_OF_TRANSFER, id, sizeof *out->events, read_inbox,
              "listing events", a, (void **)&out->events, &out->n_events, err);
  if (rc == IEX_OK)
    rc = list(s, SQL_EFFECT_LIST, id, sizeof *out->effects, read_effect,
              "listing effects", a, (void **)&out->effects, &out->n_effects,
              err);
  return tx_end(s, &tx, rc, err);
}

static const StoreOps sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .check = sq_check,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .integration_add = sq_integration_add,
    .integration_get = sq_integration_get,
    .integration_list = sq_integration_list,
    .integration_set_active = sq_integration_set_active,
    .settings_get = sq_settings_get,
    .settings_set = sq_settings_set,
    .inbox_add = sq_inbox_add,
    .inbox_pending = sq_inbox_pending,
    .inbox_done = sq_inbox_done,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .transfer_get_or_add = sq_transfer_get_or_add,
    .transfer_get = sq_transfer_get,
    .revision_add = sq_revision_add,
    .revision_get = sq_revision_get,
    .revision_list = sq_revision_list,
    .run_add = sq_run_add,
    .run_claim = sq_run_claim,
    .run_renew = sq_run_renew,
    .run_finish = sq_run_finish,
    .run_release_dead = sq_run_release_dead,
    .run_get = sq_run_get,
    .run_list = sq_run_list,
    .transfers_failed = sq_transfers_failed,
    .stage_add = sq_stage_add,
    .stage_list = sq_stage_list,
    .effect_reserve = sq_effect_reserve,
    .effect_move = sq_effect_move,
    .effect_find = sq_effect_find,
    .effect_list_unsettled = sq_effect_list_unsettled,
    .effect_list = sq_effect_list,
    .usage_count = sq_usage_count,
    .outbox_add = sq_outbox_add,
    .outbox_claim = sq_outbox_claim,
    .outbox_sent = sq_outbox_sent,
    .outbox_defer = sq_outbox_defer,
    .health_get = sq_health_get,
    .health_list = sq_health_list,
    .health_update = sq_health_update,
    .runs_due_now = sq_runs_due_now,
    .log = sq_log,
    .transfer_show = sq_transfer_show,
};
