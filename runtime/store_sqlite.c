/*
** The SQLite store: the operations of store.h on one SQLite file. This
** file opens, closes and checks it, turns SQLite's errors into the store's,
** keeps the statement cache, runs transactions, keeps integrations and
** their settings, and holds the table of operations (sqlite_ops) that
** store.c calls. The other operations are in store_sqlite_transfers.c and
** store_sqlite_effects.c, the migrations in store_sqlite_schema.c; what
** they share is store_sqlite_int.h.
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
** Statements. Each SQL text is written once, as a constant beside the code
** that runs it, with numbered parameters; it is prepared on first use and
** kept for the life of the Store (store_sqlite_int.h). No SQL is ever
** formatted from values: the log query is put together from constant
** pieces, one cached statement per combination of filters, and every value
** is bound.
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

#include "runtime/crash.h"
#include "runtime/store_sqlite_int.h"

/* ---- Errors --------------------------------------------------------- */

/* Turn SQLite result `src` into a store code and a message a support
** person can act on. `doing` says what the store was doing ("adding
** event shopify:123"). */
IexStatus store_sqlite_error(SqliteStore *s, int src, const char *doing,
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

IexStatus store_sqlite_use(SqliteStore *s, const char *sql, sqlite3_stmt **out,
                           Err *err) {
  *out = NULL;
  for (size_t i = 0; i < s->n_stmts; i++) {
    if (s->stmts[i].sql == sql) {
      *out = s->stmts[i].st;
      return IEX_OK;
    }
  }
  sqlite3_stmt *st = NULL;
  int src =
      sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
  if (src != SQLITE_OK)
    return store_sqlite_error(s, src, "preparing a statement", err);
  VEC_PUSH(s->stmts, s->n_stmts, s->cap_stmts, ((SqlCached){sql, st}));
  *out = st;
  return IEX_OK;
}

/* Prepare, run and release a statement that takes no parameters. */
static IexStatus run_sql(SqliteStore *s, const char *sql, const char *doing,
                         Err *err) {
  sqlite3_stmt *st;
  IexStatus rc = use(s, sql, &st, err);
  if (rc == IEX_OK) rc = run(s, st, doing, err);
  release(st);
  return rc;
}

/* ---- Transactions --------------------------------------------------- */

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN_READ[] = "BEGIN";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT store_op";
static const char SQL_RELEASE[] = "RELEASE store_op";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO store_op";

IexStatus store_sqlite_tx_begin(SqliteStore *s, Tx *tx, Err *err) {
  *tx = (Tx){.savepoint = s->in_tx};
  IexStatus rc = run_sql(s, s->in_tx ? SQL_SAVEPOINT : SQL_BEGIN,
                         "taking the write lock", err);
  tx->active = rc == IEX_OK;
  return rc;
}

/* A snapshot for reads of several statements; nothing when a transaction
** is already open. */
IexStatus store_sqlite_tx_begin_read(SqliteStore *s, Tx *tx, Err *err) {
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
IexStatus store_sqlite_tx_end(SqliteStore *s, Tx *tx, IexStatus rc, Err *err) {
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

IexStatus sq_begin(Store *base, Err *err) {
  SqliteStore *s = sq(base);
  if (s->in_tx)
    return err_set(err, IEX_E_MISUSE, "a store transaction is already open");
  IexStatus rc = run_sql(s, SQL_BEGIN, "taking the write lock", err);
  s->in_tx = rc == IEX_OK;
  return rc;
}

IexStatus sq_commit(Store *base, Err *err) {
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

void sq_rollback(Store *base) {
  SqliteStore *s = sq(base);
  s->in_tx = false;
  rollback_all(s);
}

/* ---- Open, close, check --------------------------------------------- */

static const char SQL_INTEGRITY_CHECK[] = "PRAGMA integrity_check";
static const char SQL_FOREIGN_KEY_CHECK[] = "PRAGMA foreign_key_check";

void sq_close(Store *base) {
  SqliteStore *s = sq(base);
  if (s->in_tx) sq_rollback(base);
  for (size_t i = 0; i < s->n_stmts; i++) sqlite3_finalize(s->stmts[i].st);
  free(s->stmts);
  for (int i = 0; i < LOG_VARIANTS; i++) sqlite3_finalize(s->log_stmts[i]);
  sqlite3_close(s->db);
  free(s->base.path);
  free(s);
}

int sq_schema_version(Store *base) { return sq(base)->version; }

IexStatus sq_check(Store *base, Err *err) {
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
    rc = store_sqlite_error(s, sqlite3_extended_errcode(s->db), sql, err);
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

/* The columns read_integration() reads, in its order. */
#define INTEGRATION_COLUMNS                                           \
  "id, name, iexb, iexb_hash, connections, activated_at, is_active, " \
  "created_at, updated_at"

static const char SQL_INTEGRATION_ADD[] =
    "INSERT INTO integrations (name, iexb, iexb_hash, connections, "
    "activated_at, is_active, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
static const char SQL_INTEGRATION_GET[] =
    "SELECT " INTEGRATION_COLUMNS
    " FROM integrations WHERE id = ?1 OR name = ?2";
static const char SQL_INTEGRATION_LIST[] =
    "SELECT id, name, NULL, iexb_hash, connections, activated_at, "
    "is_active, created_at, updated_at FROM integrations ORDER BY name";
static const char SQL_INTEGRATION_EXISTS[] =
    "SELECT 1 FROM integrations WHERE id = ?1";
static const char SQL_INTEGRATION_SET_ACTIVE[] =
    "UPDATE integrations SET is_active = ?2, activated_at = "
    "CASE WHEN ?3 > 0 THEN ?3 ELSE activated_at END, updated_at = ?4 "
    "WHERE id = ?1";
static const char SQL_SETTINGS_GET[] =
    "SELECT json FROM settings WHERE integration_id = ?1 "
    "ORDER BY version DESC LIMIT 1";
static const char SQL_SETTINGS_SET[] =
    "INSERT INTO settings (integration_id, version, json, set_at) "
    "SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3 FROM settings "
    "WHERE integration_id = ?1";

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

IexStatus sq_integration_add(Store *base, const StoreIntegrationNew *in,
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

IexStatus sq_integration_get(Store *base, int64_t id, const char *name,
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

IexStatus sq_integration_list(Store *base, Arena *a, StoreIntegration **items,
                              size_t *n_items, Err *err) {
  return list(sq(base), SQL_INTEGRATION_LIST, 0, sizeof **items,
              read_integration, "listing integrations", a, (void **)items,
              n_items, err);
}

IexStatus store_sqlite_integration_exists(SqliteStore *s, int64_t id,
                                          Err *err) {
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

IexStatus sq_integration_set_active(Store *base, int64_t id, bool active,
                                    int64_t activated_at_us, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = store_sqlite_integration_exists(s, id, err);
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

IexStatus sq_settings_get(Store *base, int64_t integration_id, Arena *a,
                          const char **json_out, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  IexStatus rc = store_sqlite_integration_exists(s, integration_id, err);
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

IexStatus sq_settings_set(Store *base, int64_t integration_id, const char *json,
                          Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK)
    rc = store_sqlite_integration_exists(s, integration_id, err);
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
