/*
** The SQLite store's operations on what comes in and what is done with
** it: the inbox of received events and the poll cursors, transfers and
** the revisions of their source record, runs (claimed under leases,
** finished, retried) and their stages, and the queries for people (the
** log, a transfer's whole story for `iex show`). Part of the SQLite store
** (store_sqlite_int.h says how it is split); its rules on durability,
** transactions and statements are in store_sqlite.c's header.
*/
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "runtime/crash.h"
#include "runtime/store_sqlite_int.h"

/* ---- Inbox and cursors ---------------------------------------------- */

/* The columns read_inbox() reads, in its order. */
#define INBOX_COLUMNS                                             \
  "id, integration_id, dedup_key, source, topic, headers, body, " \
  "received_at, processed_at, outcome, transfer_id, n_duplicates"

static const char SQL_INBOX_ADD[] =
    "INSERT INTO inbox (integration_id, dedup_key, source, topic, "
    "headers, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (integration_id, dedup_key) "
    "DO UPDATE SET n_duplicates = n_duplicates + 1, "
    "last_duplicate_at = excluded.received_at RETURNING id, n_duplicates";
static const char SQL_INBOX_PENDING[] =
    "SELECT " INBOX_COLUMNS
    " FROM inbox WHERE processed_at IS NULL ORDER BY id LIMIT ?1";
static const char SQL_INBOX_DONE[] =
    "UPDATE inbox "
    "SET processed_at = ?2, outcome = ?3, transfer_id = nullif(?4, 0) "
    "WHERE id = ?1";
static const char SQL_INBOX_OF_TRANSFER[] =
    "SELECT " INBOX_COLUMNS " FROM inbox WHERE transfer_id = ?1 "
    "ORDER BY id";
static const char SQL_CURSOR_GET[] =
    "SELECT value FROM cursors WHERE integration_id = ?1 "
    "AND record_type = ?2";
static const char SQL_CURSOR_SET[] =
    "INSERT INTO cursors (integration_id, record_type, value, updated_at) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (integration_id, record_type) "
    "DO UPDATE SET value = excluded.value, "
    "updated_at = excluded.updated_at";

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

IexStatus sq_inbox_add(Store *base, const StoreEvent *ev, int64_t *id_out,
                       bool *is_duplicate, Err *err) {
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

IexStatus sq_inbox_pending(Store *base, size_t limit, Arena *a,
                           StoreInboxItem **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_INBOX_PENDING, (int64_t)limit, sizeof **items,
              read_inbox, "reading pending events", a, (void **)items, n_items,
              err);
}

IexStatus sq_inbox_done(Store *base, int64_t id, int64_t transfer_id,
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

IexStatus sq_cursor_get(Store *base, int64_t integration_id,
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

IexStatus sq_cursor_set(Store *base, int64_t integration_id,
                        const char *record_type, const char *value, Err *err) {
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

/* The columns read_transfer() and read_revision() read, in their order,
** and the tables they come from. */
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

static const char SQL_TRANSFER_FIND[] =
    "SELECT id, display_key FROM transfers WHERE integration_id = ?1 "
    "AND source_id = ?2";
static const char SQL_TRANSFER_ADD[] =
    "INSERT INTO transfers (integration_id, source_id, display_key, "
    "status, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?4)";
static const char SQL_TRANSFER_SET_KEY[] =
    "UPDATE transfers SET display_key = ?2 WHERE id = ?1";
static const char SQL_TRANSFER_GET[] =
    "SELECT " TRANSFER_COLUMNS " WHERE t.id = ?1";
static const char SQL_TRANSFER_TOUCH[] =
    "UPDATE transfers SET updated_at = ?2 WHERE id = ?1";
static const char SQL_REVISION_LATEST[] =
    "SELECT id, number, data FROM revisions WHERE transfer_id = ?1 "
    "ORDER BY number DESC LIMIT 1";
static const char SQL_REVISION_ADD[] =
    "INSERT INTO revisions (transfer_id, number, data, source_time, "
    "inbox_id, created_at) VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), ?6)";
static const char SQL_REVISION_GET[] =
    "SELECT " REVISION_COLUMNS " WHERE id = ?1";
static const char SQL_REVISION_LIST[] =
    "SELECT " REVISION_COLUMNS " WHERE transfer_id = ?1 ORDER BY number";

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

IexStatus sq_transfer_get_or_add(Store *base, int64_t integration_id,
                                 const char *source_id, const char *display_key,
                                 int64_t *id_out, bool *created, Err *err) {
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

IexStatus sq_transfer_get(Store *base, int64_t id, Arena *a, StoreTransfer *out,
                          Err *err) {
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

IexStatus sq_revision_add(Store *base, int64_t transfer_id,
                          const char *data_json, const char *source_time,
                          int64_t inbox_id, int64_t *id_out, bool *is_new,
                          Err *err) {
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

IexStatus sq_revision_get(Store *base, int64_t id, Arena *a, StoreRevision *out,
                          Err *err) {
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

IexStatus sq_revision_list(Store *base, int64_t transfer_id, Arena *a,
                           StoreRevision **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_REVISION_LIST, transfer_id, sizeof **items,
              read_revision, "listing revisions", a, (void **)items, n_items,
              err);
}

/* ---- Runs ----------------------------------------------------------- */

/* The columns read_run() reads, in its order, and the tables they come
** from. */
#define RUN_COLUMNS                                                          \
  "r.id, r.transfer_id, r.revision_id, t.integration_id, r.attempt, "        \
  "r.reason, r.status, r.due_at, r.lease_owner, r.lease_expires_at, "        \
  "r.n_claims, r.started_at, r.finished_at, r.code, r.message, r.location, " \
  "r.created_at FROM runs r JOIN transfers t ON t.id = r.transfer_id"

static const char SQL_RUN_ADD[] =
    "INSERT INTO runs (transfer_id, revision_id, attempt, reason, status, "
    "due_at, created_at) SELECT v.transfer_id, v.id, (SELECT count(*) "
    "FROM runs WHERE revision_id = v.id) + 1, ?2, 'queued', ?3, ?4 "
    "FROM revisions v WHERE v.id = ?1";
static const char SQL_TRANSFER_QUEUED[] =
    "UPDATE transfers SET status = CASE status WHEN 'running' THEN status "
    "ELSE 'queued' END, updated_at = ?2 WHERE id = (SELECT transfer_id "
    "FROM revisions WHERE id = ?1)";
/* The oldest due run: queued, or running under an expired lease; never
** of a transfer another worker holds, nor of an inactive integration. */
static const char SQL_RUN_PICK[] =
    "SELECT r.id, r.transfer_id FROM runs r "
    "JOIN transfers t ON t.id = r.transfer_id "
    "JOIN integrations i ON i.id = t.integration_id "
    "WHERE r.status IN ('queued', 'running') AND r.due_at <= ?1 "
    "AND (r.status = 'queued' OR r.lease_expires_at <= ?1) "
    "AND i.is_active = 1 AND NOT EXISTS (SELECT 1 FROM runs o "
    "WHERE o.transfer_id = r.transfer_id AND o.status = 'running' "
    "AND o.id <> r.id AND o.lease_expires_at > ?1) "
    "ORDER BY r.due_at, r.id LIMIT 1";
static const char SQL_RUN_TAKE[] =
    "UPDATE runs SET status = 'running', lease_owner = ?2, "
    "lease_expires_at = ?3, n_claims = n_claims + 1, "
    "started_at = coalesce(started_at, ?4) WHERE id = ?1";
static const char SQL_TRANSFER_RUNNING[] =
    "UPDATE transfers SET status = 'running', updated_at = ?2 "
    "WHERE id = ?1";
static const char SQL_RUN_STATE[] =
    "SELECT status, lease_owner FROM runs WHERE id = ?1";
static const char SQL_RUN_RENEW[] =
    "UPDATE runs SET lease_expires_at = ?3 WHERE id = ?1 "
    "AND status = 'running' AND lease_owner = ?2";
static const char SQL_RUN_OWNERS[] =
    "SELECT DISTINCT lease_owner FROM runs "
    "WHERE status = 'running' AND lease_owner IS NOT NULL";
static const char SQL_RUN_RELEASE[] =
    "UPDATE runs SET lease_expires_at = 0 WHERE status = 'running' "
    "AND lease_owner = ?1";
static const char SQL_RUN_FINISH[] =
    "UPDATE runs SET status = ?3, finished_at = ?4, code = ?5, "
    "message = ?6, location = ?7, lease_owner = NULL, "
    "lease_expires_at = NULL WHERE id = ?1 AND status = 'running' "
    "AND lease_owner = ?2 RETURNING transfer_id";
/* A transfer that was done stays done when a later revision is
** skipped (an order that moved on to refunded, an update the flow
** ignores): its records exist. The skip is said in its message. */
static const char SQL_TRANSFER_SET_STATUS[] =
    "UPDATE transfers SET status = CASE WHEN ?2 = 'skipped' AND EXISTS "
    "(SELECT 1 FROM runs WHERE transfer_id = ?1 AND status = 'done') "
    "THEN 'done' ELSE ?2 END, code = ?3, message = CASE WHEN ?2 = "
    "'skipped' AND EXISTS (SELECT 1 FROM runs WHERE transfer_id = ?1 AND "
    "status = 'done') THEN 'transferred; a later update was skipped: ' || "
    "coalesce(?4, 'no reason given') ELSE ?4 END, location = ?5, "
    "updated_at = ?6 WHERE id = ?1";
static const char SQL_RUN_ADD_RETRY[] =
    "INSERT INTO runs (transfer_id, revision_id, attempt, reason, status, "
    "due_at, created_at) SELECT transfer_id, revision_id, attempt + 1, "
    "'retry', 'queued', ?2, ?3 FROM runs WHERE id = ?1";
static const char SQL_RUN_GET[] = "SELECT " RUN_COLUMNS " WHERE r.id = ?1";
static const char SQL_RUN_LIST[] =
    "SELECT " RUN_COLUMNS " WHERE r.transfer_id = ?1 ORDER BY r.id";
static const char SQL_TRANSFERS_FAILED[] =
    "SELECT " TRANSFER_COLUMNS
    " WHERE t.status = 'failed' AND (?1 = 0 OR t.integration_id = ?1) "
    "ORDER BY t.updated_at, t.id";

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

IexStatus sq_run_add(Store *base, int64_t revision_id, int64_t due_at_us,
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

IexStatus sq_run_claim(Store *base, const char *worker_id, int64_t lease_us,
                       Arena *a, StoreRun *out, bool *claimed, Err *err) {
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

IexStatus sq_run_renew(Store *base, int64_t run_id, const char *worker_id,
                       int64_t lease_us, Err *err) {
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

IexStatus sq_run_release_dead(Store *base,
                              bool (*is_dead)(void *, const char *), void *ctx,
                              size_t *n_released, Err *err) {
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

IexStatus sq_run_finish(Store *base, int64_t run_id, const char *worker_id,
                        StoreRunStatus status, const StoreOutcome *outcome,
                        int64_t next_due_us, int64_t *next_id_out, Err *err) {
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

IexStatus sq_run_get(Store *base, int64_t id, Arena *a, StoreRun *out,
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

IexStatus sq_run_list(Store *base, int64_t transfer_id, Arena *a,
                      StoreRun **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_RUN_LIST, transfer_id, sizeof **items, read_run,
              "listing runs", a, (void **)items, n_items, err);
}

IexStatus sq_transfers_failed(Store *base, int64_t integration_id, Arena *a,
                              StoreTransfer **items, size_t *n_items,
                              Err *err) {
  return list(sq(base), SQL_TRANSFERS_FAILED, integration_id, sizeof **items,
              read_transfer, "listing failed transfers", a, (void **)items,
              n_items, err);
}

/* ---- Stages --------------------------------------------------------- */

/* The columns read_stage() reads, in its order. */
#define STAGE_COLUMNS                                                   \
  "id, run_id, step, kind, data, code, message, location, started_at, " \
  "finished_at FROM stages"

static const char SQL_STAGE_ADD[] =
    "INSERT INTO stages (run_id, step, kind, data, code, message, "
    "location, started_at, finished_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_STAGE_LIST[] =
    "SELECT " STAGE_COLUMNS " WHERE run_id = ?1 ORDER BY id";
static const char SQL_STAGE_LIST_TRANSFER[] =
    "SELECT " STAGE_COLUMNS
    " WHERE run_id IN (SELECT id FROM runs WHERE transfer_id = ?1) "
    "ORDER BY run_id, id";

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

IexStatus sq_stage_add(Store *base, const StoreStageNew *in, int64_t *id_out,
                       Err *err) {
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

IexStatus sq_stage_list(Store *base, int64_t run_id, Arena *a,
                        StoreStage **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_STAGE_LIST, run_id, sizeof **items, read_stage,
              "listing stages", a, (void **)items, n_items, err);
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
  if (src != SQLITE_OK)
    rc = store_sqlite_error(s, src, "preparing the log query", err);
  buf_fini(&sql);
  *out = s->log_stmts[variant];
  return rc;
}

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t v) {
  int i = sqlite3_bind_parameter_index(st, name);
  if (i > 0) sqlite3_bind_int64(st, i, v);
}

IexStatus sq_log(Store *base, const StoreLogFilter *f, Arena *a,
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

IexStatus sq_transfer_show(Store *base, int64_t id, Arena *a,
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
    rc = sq_effect_list(base, id, a, &out->effects, &out->n_effects, err);
  return tx_end(s, &tx, rc, err);
}
