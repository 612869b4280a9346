/*
** The SQLite store's schema and its migrations.
**
** Migrations are numbered from 1 and only ever appended: a released
** migration is never edited, a change is a new migration. Each one runs in
** its own transaction together with the row in schema_version that records
** it, so a crash leaves the store at one version or the next, never in
** between. A store whose version is newer than the newest migration here
** was written by a newer iex and is refused, untouched.
**
** Conventions of the schema (docs/runtime.md, "The store"):
** - times are INTEGER microseconds since 1970-01-01 UTC, `*_at` columns
**   (in the sqlite3 shell: datetime(received_at / 1e6, 'unixepoch'));
** - enumerations are lower-case TEXT with a CHECK listing the values, so the
**   file reads well in the sqlite3 shell and a bad value cannot get in;
** - result codes are the TEXT names from runtime/status.def;
** - JSON is TEXT exactly as given; raw bodies are BLOB.
*/
#include <sqlite3.h>
#include <stdio.h>

#include "runtime/store_int.h"

/* The application_id in the database header ("iex!"), so that an SQLite
** file of some other program is not mistaken for a store. */
#define IEX_APPLICATION_ID 1768257569 /* 0x69657821 */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

typedef struct Migration {
  int version;
  const char *summary; /* recorded in schema_version */
  const char *sql;     /* constant text: no formatted SQL, ever */
} Migration;
static const Migration migrations[] = {
    {1, "the first schema: integrations to outbox",
     "CREATE TABLE integrations (\n"
     "  id           INTEGER PRIMARY KEY,\n"
     "  name         TEXT NOT NULL UNIQUE,\n"
     "  iexb         BLOB NOT NULL,\n"
     "  iexb_hash    TEXT NOT NULL,\n"
     "  connections  TEXT NOT NULL,  -- JSON; secret references only\n"
     "  activated_at INTEGER NOT NULL,\n"
     "  is_active    INTEGER NOT NULL CHECK (is_active IN (0, 1)),\n"
     "  created_at   INTEGER NOT NULL,\n"
     "  updated_at   INTEGER NOT NULL\n"
     ");\n"
     /* Every settings change is kept; the highest version is current. */
     "CREATE TABLE settings (\n"
     "  integration_id INTEGER NOT NULL REFERENCES integrations(id),\n"
     "  version        INTEGER NOT NULL,\n"
     "  json           TEXT NOT NULL,\n"
     "  set_at         INTEGER NOT NULL,\n"
     "  PRIMARY KEY (integration_id, version)\n"
     ");\n"
     /* Every event, stored before it is acknowledged. A repeated delivery
     ** adds nothing but n_duplicates. */
     "CREATE TABLE inbox (\n"
     "  id                INTEGER PRIMARY KEY,\n"
     "  integration_id    INTEGER NOT NULL REFERENCES integrations(id),\n"
     "  dedup_key         TEXT NOT NULL,\n"
     "  source            TEXT NOT NULL,\n"
     "  topic             TEXT,\n"
     "  headers           TEXT NOT NULL,  -- JSON, secrets redacted\n"
     "  body              BLOB NOT NULL,\n"
     "  received_at       INTEGER NOT NULL,\n"
     "  processed_at      INTEGER,        -- NULL while pending\n"
     "  outcome           TEXT,\n"
     "  transfer_id       INTEGER REFERENCES transfers(id),\n"
     "  n_duplicates      INTEGER NOT NULL DEFAULT 0,\n"
     "  last_duplicate_at INTEGER,\n"
     "  UNIQUE (integration_id, dedup_key)\n"
     ");\n"
     "CREATE INDEX inbox_pending ON inbox(id) WHERE processed_at IS NULL;\n"
     "CREATE INDEX inbox_by_transfer ON inbox(transfer_id)\n"
     "  WHERE transfer_id IS NOT NULL;\n"
     "CREATE TABLE cursors (\n"
     "  integration_id INTEGER NOT NULL REFERENCES integrations(id),\n"
     "  record_type    TEXT NOT NULL,\n"
     "  value          TEXT NOT NULL,\n"
     "  updated_at     INTEGER NOT NULL,\n"
     "  PRIMARY KEY (integration_id, record_type)\n"
     ");\n"
     /* One row per (integration, source record). status, code, message
     ** and location repeat the latest outcome, so that the log is one
     ** indexed query. */
     "CREATE TABLE transfers (\n"
     "  id             INTEGER PRIMARY KEY,\n"
     "  integration_id INTEGER NOT NULL REFERENCES integrations(id),\n"
     "  source_id      TEXT NOT NULL,\n"
     "  display_key    TEXT NOT NULL,\n"
     "  status         TEXT NOT NULL CHECK (status IN ('queued', 'running',\n"
     "                   'waiting', 'done', 'skipped', 'failed',\n"
     "                   'attention')),\n"
     "  code           TEXT,\n"
     "  message        TEXT,\n"
     "  location       TEXT,\n"
     "  created_at     INTEGER NOT NULL,\n"
     "  updated_at     INTEGER NOT NULL,\n"
     "  UNIQUE (integration_id, source_id)\n"
     ");\n"
     "CREATE INDEX transfers_by_time ON transfers(updated_at);\n"
     "CREATE INDEX transfers_by_status ON transfers(status, updated_at);\n"
     "CREATE INDEX transfers_by_integration\n"
     "  ON transfers(integration_id, updated_at);\n"
     "CREATE INDEX transfers_by_key ON transfers(display_key);\n"
     "CREATE INDEX transfers_by_source ON transfers(source_id);\n"
     "CREATE TABLE revisions (\n"
     "  id          INTEGER PRIMARY KEY,\n"
     "  transfer_id INTEGER NOT NULL REFERENCES transfers(id),\n"
     "  number      INTEGER NOT NULL,\n"
     "  data        TEXT NOT NULL,  -- the source record, JSON\n"
     "  source_time TEXT,           -- as the source wrote it\n"
     "  inbox_id    INTEGER REFERENCES inbox(id),\n"
     "  created_at  INTEGER NOT NULL,\n"
     "  UNIQUE (transfer_id, number)\n"
     ");\n"
     "CREATE TABLE runs (\n"
     "  id               INTEGER PRIMARY KEY,\n"
     "  transfer_id      INTEGER NOT NULL REFERENCES transfers(id),\n"
     "  revision_id      INTEGER NOT NULL REFERENCES revisions(id),\n"
     "  attempt          INTEGER NOT NULL,\n"
     "  reason           TEXT NOT NULL,\n"
     "  status           TEXT NOT NULL CHECK (status IN ('queued',\n"
     "                     'running', 'waiting', 'done', 'skipped',\n"
     "                     'failed', 'attention')),\n"
     "  due_at           INTEGER NOT NULL,\n"
     "  lease_owner      TEXT,\n"
     "  lease_expires_at INTEGER,\n"
     "  n_claims         INTEGER NOT NULL DEFAULT 0,\n"
     "  started_at       INTEGER,  -- the run's now()\n"
     "  finished_at      INTEGER,\n"
     "  code             TEXT,\n"
     "  message          TEXT,\n"
     "  location         TEXT,\n"
     "  created_at       INTEGER NOT NULL\n"
     ");\n"
     "CREATE INDEX runs_claimable ON runs(due_at)\n"
     "  WHERE status IN ('queued', 'running');\n"
     "CREATE INDEX runs_by_transfer ON runs(transfer_id, status);\n"
     "CREATE TABLE stages (\n"
     "  id          INTEGER PRIMARY KEY,\n"
     "  run_id      INTEGER NOT NULL REFERENCES runs(id),\n"
     "  step        TEXT NOT NULL,\n"
     "  kind        TEXT NOT NULL CHECK (kind IN ('received', 'mapped',\n"
     "                'request', 'response', 'error', 'skipped', 'note')),\n"
     "  data        TEXT,  -- JSON, headers redacted\n"
     "  code        TEXT NOT NULL,\n"
     "  message     TEXT,\n"
     "  location    TEXT,\n"
     "  started_at  INTEGER NOT NULL,\n"
     "  finished_at INTEGER NOT NULL\n"
     ");\n"
     "CREATE INDEX stages_by_run ON stages(run_id);\n"
     /* The ledger of external writes (docs/runtime.md, "Steps and
     ** effects"). */
     "CREATE TABLE effects (\n"
     "  id            INTEGER PRIMARY KEY,\n"
     "  transfer_id   INTEGER NOT NULL REFERENCES transfers(id),\n"
     "  revision_id   INTEGER NOT NULL REFERENCES revisions(id),\n"
     "  run_id        INTEGER NOT NULL REFERENCES runs(id),\n"
     "  key           TEXT NOT NULL,\n"
     "  step          TEXT NOT NULL,\n"
     "  target_system TEXT NOT NULL,\n"
     "  operation     TEXT NOT NULL,\n"
     "  reference     TEXT NOT NULL,\n"
     "  counts_usage  INTEGER NOT NULL CHECK (counts_usage IN (0, 1)),\n"
     "  state         TEXT NOT NULL CHECK (state IN ('reserved', 'started',\n"
     "                  'done', 'refused', 'unknown')),\n"
     "  attempts      INTEGER NOT NULL DEFAULT 0,\n"
     "  external_id   TEXT,\n"
     "  result        TEXT,  -- JSON\n"
     "  reason        TEXT,\n"
     "  reserved_at   INTEGER NOT NULL,\n"
     "  started_at    INTEGER,\n"
     "  finished_at   INTEGER,\n"
     "  unknown_since INTEGER,\n"
     "  updated_at    INTEGER NOT NULL,\n"
     "  UNIQUE (transfer_id, key)\n"
     ");\n"
     "CREATE INDEX effects_unsettled ON effects(id)\n"
     "  WHERE state IN ('started', 'unknown');\n"
     /* An order counts once per (transfer, receiving system), when first
     ** created there; the UNIQUE constraint is what makes it once. */
     "CREATE TABLE usage (\n"
     "  id             INTEGER PRIMARY KEY,\n"
     "  integration_id INTEGER NOT NULL REFERENCES integrations(id),\n"
     "  transfer_id    INTEGER NOT NULL REFERENCES transfers(id),\n"
     "  target_system  TEXT NOT NULL,\n"
     "  effect_id      INTEGER NOT NULL REFERENCES effects(id),\n"
     "  counted_at     INTEGER NOT NULL,\n"
     "  UNIQUE (transfer_id, target_system)\n"
     ");\n"
     "CREATE INDEX usage_by_time ON usage(counted_at);\n"
     "CREATE TABLE outbox (\n"
     "  id               INTEGER PRIMARY KEY,\n"
     "  key              TEXT NOT NULL UNIQUE,\n"
     "  kind             TEXT NOT NULL,\n"
     "  recipient        TEXT NOT NULL,\n"
     "  subject          TEXT NOT NULL,\n"
     "  body             TEXT NOT NULL,\n"
     "  transfer_id      INTEGER REFERENCES transfers(id),\n"
     "  state            TEXT NOT NULL\n"
     "                     CHECK (state IN ('pending', 'sending', 'sent')),\n"
     "  due_at           INTEGER NOT NULL,\n"
     "  lease_owner      TEXT,\n"
     "  lease_expires_at INTEGER,\n"
     "  attempts         INTEGER NOT NULL DEFAULT 0,\n"
     "  last_error       TEXT,\n"
     "  created_at       INTEGER NOT NULL,\n"
     "  sent_at          INTEGER\n"
     ");\n"
     "CREATE INDEX outbox_unsent ON outbox(due_at) WHERE state <> 'sent';\n"},
    /* The circuit breaker of each connection, shared by every worker and
    ** every `iex run` (store.h, "Connection health"). No row: closed. */
    {2, "connection health: the circuit breaker in the store",
     "CREATE TABLE connection_health (\n"
     "  integration_id  INTEGER NOT NULL REFERENCES integrations(id),\n"
     "  alias           TEXT NOT NULL,  -- the connection, as the flow uses it\n"
     "  state           TEXT NOT NULL\n"
     "                    CHECK (state IN ('closed', 'open', 'half_open')),\n"
     "  failures        INTEGER NOT NULL DEFAULT 0,  -- in a row\n"
     "  opened_at       INTEGER,  -- when it last paused\n"
     "  retry_at        INTEGER,  -- open: pause ends; half_open: trial lapses\n"
     "  last_error_code TEXT,\n"
     "  last_error      TEXT,     -- never a secret\n"
     "  updated_at      INTEGER NOT NULL,\n"
     "  PRIMARY KEY (integration_id, alias)\n"
     ");\n"},
};

int store_sqlite_latest_version(void) {
  return migrations[ARRAY_LEN(migrations) - 1].version;
}

/* Run constant SQL text; on failure fill `err` with what we were doing. */
static int exec_const(sqlite3 *db, const char *sql, char **errmsg) {
  return sqlite3_exec(db, sql, NULL, NULL, errmsg);
}

/* One integer from a constant query (PRAGMA application_id, COUNT(*)). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      *out = 0;
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* Is `db` an iex store at the newest version, read without a lock? Any
** doubt (an error, another version) answers false: the slow path, under
** the write lock, then looks closely. */
static bool store_is_current(sqlite3 *db) {
  int64_t app_id = 0, n_tables = 0, version = 0;
  return query_int(db, "PRAGMA application_id", &app_id) == SQLITE_OK &&
         app_id == IEX_APPLICATION_ID &&
         query_int(db,
                   "SELECT count(*) FROM sqlite_schema "
                   "WHERE name = 'schema_version'",
                   &n_tables) == SQLITE_OK &&
         n_tables == 1 &&
         query_int(db, "SELECT max(version) FROM schema_version", &version) ==
             SQLITE_OK &&
         version == store_sqlite_latest_version();
}

/* Map an SQLite failure during migration to a store code and message. */
static IexStatus migrate_error(sqlite3 *db, int rc, const char *path,
                               const char *doing, const char *detail,
                               Err *err) {
  const char *why = detail ? detail : sqlite3_errmsg(db);
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return err_set(err, IEX_E_STORE_BUSY,
                   "the store at %s is locked by another iex process (or a "
                   "long transaction) while %s; try again when it is done",
                   path, doing);
  case SQLITE_FULL:
    return err_set(err, IEX_E_STORE_FULL,
                   "the disk holding %s is full (while %s)", path, doing);
  case SQLITE_READONLY:
    return err_set(err, IEX_E_STORE_READONLY,
                   "the store at %s can only be read (while %s); check the "
                   "file's permissions",
                   path, doing);
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return err_set(err, IEX_E_STORE_CORRUPT,
                   "%s is damaged or is not an iex store (while %s: %s)", path,
                   doing, why);
  case SQLITE_IOERR:
    return err_set(err, IEX_E_STORE_IO, "I/O error on %s while %s: %s", path,
                   doing, why);
  default:
    return err_set(err, IEX_E_INTERNAL, "%s: %s failed: %s", path, doing, why);
  }
}

IexStatus store_sqlite_migrate(sqlite3 *db, const char *path, int64_t now_us,
                               int *version_out, Err *err) {
  IexStatus rc = IEX_OK;
  char *msg = NULL;
  int64_t app_id = 0, n_tables = 0, version = 0;
  int src = SQLITE_OK;
  bool in_tx = false;
  char doing[96] = "reading the schema version";

  /* An up-to-date store needs no write lock: `iex log` opens the store
  ** while `iex serve` writes to it. */
  if (store_is_current(db)) {
    version = store_sqlite_latest_version();
    goto done;
  }
  /* Otherwise the write lock first, so that two processes opening a new
  ** store at once cannot both create its tables; then look again. */
  src = exec_const(db, "BEGIN IMMEDIATE", &msg);
  if (src != SQLITE_OK) goto sqlite_failed;
  in_tx = true;
  src = query_int(db, "PRAGMA application_id", &app_id);
  if (src == SQLITE_OK)
    src = query_int(
        db, "SELECT count(*) FROM sqlite_schema WHERE name = 'schema_version'",
        &n_tables);
  if (src != SQLITE_OK) goto sqlite_failed;
  if (n_tables == 0) {
    int64_t n_any = 0;
    src = query_int(db, "SELECT count(*) FROM sqlite_schema", &n_any);
    if (src != SQLITE_OK) goto sqlite_failed;
    if (n_any > 0 || (app_id != 0 && app_id != IEX_APPLICATION_ID)) {
      rc = err_set(err, IEX_E_STORE_CORRUPT,
                   "%s is an SQLite database of some other program, not an iex "
                   "store; give iex a path of its own",
                   path);
      goto done;
    }
    src = exec_const(db,
                     "PRAGMA application_id = "
                     STRINGIFY(IEX_APPLICATION_ID) ";"
                     "CREATE TABLE schema_version ("
                     "  version    INTEGER PRIMARY KEY,"
                     "  summary    TEXT NOT NULL,"
                     "  applied_at INTEGER NOT NULL"  /* microseconds, UTC */
                     ");",
                     &msg);
    if (src != SQLITE_OK) goto sqlite_failed;
  } else if (app_id != IEX_APPLICATION_ID) {
    rc = err_set(
        err, IEX_E_STORE_CORRUPT,
        "%s has a schema_version table but is not marked as an iex store",
        path);
    goto done;
  }
  src = query_int(db, "SELECT coalesce(max(version), 0) FROM schema_version",
                  &version);
  if (src != SQLITE_OK) goto sqlite_failed;
  if (version > store_sqlite_latest_version()) {
    rc = err_set(err, IEX_E_STORE_NEWER,
                 "the store at %s has schema version %lld, but this iex "
                 "knows versions up to %d: it was written by a newer iex. "
                 "Run that iex, or restore a backup made with this one; the "
                 "store was not changed",
                 path, (long long)version, store_sqlite_latest_version());
    goto done;
  }

  /* Each migration in its own transaction: the first one is already open. */
  for (size_t i = 0; i < ARRAY_LEN(migrations); i++) {
    const Migration *m = &migrations[i];
    if (m->version <= version) continue;
    if (!in_tx) {
      src = exec_const(db, "BEGIN IMMEDIATE", &msg);
      if (src != SQLITE_OK) goto sqlite_failed;
      in_tx = true;
    }
    snprintf(doing, sizeof doing, "applying migration %d (%s)", m->version,
             m->summary);
    src = exec_const(db, m->sql, &msg);
    if (src != SQLITE_OK) goto sqlite_failed;
    sqlite3_stmt *st = NULL;
    src = sqlite3_prepare_v2(
        db,
        "INSERT INTO schema_version (version, summary, applied_at) VALUES "
        "(?1, ?2, ?3)",
        -1, &st, NULL);
    if (src == SQLITE_OK) {
      sqlite3_bind_int(st, 1, m->version);
      sqlite3_bind_text(st, 2, m->summary, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 3, now_us);
      src = sqlite3_step(st);
      if (src == SQLITE_DONE) src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_OK) goto sqlite_failed;
    src = exec_const(db, "COMMIT", &msg);
    if (src != SQLITE_OK) goto sqlite_failed;
    in_tx = false;
    version = m->version;
  }
  goto done;

sqlite_failed:
  rc = migrate_error(db, src, path, doing, msg, err);
done:
  if (in_tx) {
    if (rc == IEX_OK) {
      src = exec_const(db, "COMMIT", NULL);
      if (src != SQLITE_OK)
        rc = migrate_error(db, src, path, "committing", NULL, err);
    }
    if (rc != IEX_OK) exec_const(db, "ROLLBACK", NULL);
  }
  sqlite3_free(msg);
  *version_out = (int)version;
  return rc;
}
