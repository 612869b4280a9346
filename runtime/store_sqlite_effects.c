/*
** The SQLite store's operations on what iex does to other systems and
** tells people: the effect ledger (each external write reserved, started
** and settled once) and the usage it counts, the outbox of messages, and
** each connection's health, the circuit breaker every process shares.
** Part of the SQLite store (store_sqlite_int.h says how it is split); its
** rules on durability, transactions and statements are in store_sqlite.c's
** header.
*/
#include <sqlite3.h>
#include <string.h>

#include "runtime/crash.h"
#include "runtime/store_sqlite_int.h"

/* ---- Effects and usage ---------------------------------------------- */

/* The columns read_effect() reads, in its order. */
#define EFFECT_COLUMNS                                                    \
  "id, transfer_id, revision_id, run_id, key, step, target_system, "      \
  "operation, reference, counts_usage, state, attempts, external_id, "    \
  "result, reason, reserved_at, started_at, finished_at, unknown_since, " \
  "updated_at FROM effects"

static const char SQL_EFFECT_RESERVE[] =
    "INSERT INTO effects (transfer_id, revision_id, run_id, key, step, "
    "target_system, operation, reference, counts_usage, state, "
    "reserved_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'reserved', ?10, ?10) "
    "ON CONFLICT (transfer_id, key) DO NOTHING";
static const char SQL_EFFECT_FIND[] =
    "SELECT " EFFECT_COLUMNS " WHERE transfer_id = ?1 AND key = ?2";
static const char SQL_EFFECT_STATE[] =
    "SELECT state, transfer_id, key, operation FROM effects WHERE id = ?1";
static const char SQL_EFFECT_START[] =
    "UPDATE effects SET state = 'started', attempts = attempts + 1, "
    "run_id = ?2, started_at = ?3, unknown_since = NULL, reason = NULL, "
    "updated_at = ?3 WHERE id = ?1";
static const char SQL_EFFECT_DONE[] =
    "UPDATE effects SET state = 'done', result = ?2, external_id = ?3, "
    "reason = NULL, finished_at = ?4, updated_at = ?4 WHERE id = ?1";
static const char SQL_EFFECT_REFUSED[] =
    "UPDATE effects SET state = 'refused', reason = ?2, finished_at = ?3, "
    "updated_at = ?3 WHERE id = ?1";
static const char SQL_EFFECT_UNKNOWN[] =
    "UPDATE effects SET state = 'unknown', reason = ?2, "
    "unknown_since = coalesce(unknown_since, ?3), updated_at = ?3 "
    "WHERE id = ?1";
static const char SQL_EFFECT_UNSETTLED[] =
    "SELECT " EFFECT_COLUMNS
    " WHERE state IN ('started', 'unknown') ORDER BY id";
static const char SQL_EFFECT_LIST[] =
    "SELECT " EFFECT_COLUMNS " WHERE transfer_id = ?1 ORDER BY id";
static const char SQL_USAGE_COUNT_EFFECT[] =
    "INSERT INTO usage (integration_id, transfer_id, target_system, "
    "effect_id, counted_at) "
    "SELECT t.integration_id, e.transfer_id, e.target_system, e.id, ?2 "
    "FROM effects e JOIN transfers t ON t.id = e.transfer_id "
    "WHERE e.id = ?1 AND e.counts_usage = 1 "
    "ON CONFLICT (transfer_id, target_system) DO NOTHING";
static const char SQL_USAGE_MONTH[] =
    "SELECT count(*) FROM usage WHERE counted_at >= ?1 "
    "AND counted_at < ?2 AND (?3 = 0 OR integration_id = ?3)";

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

IexStatus sq_effect_find(Store *base, int64_t transfer_id, const char *key,
                         Arena *a, StoreEffect *out, bool *found, Err *err) {
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

IexStatus sq_effect_reserve(Store *base, const StoreEffectNew *in, Arena *a,
                            StoreEffect *out, bool *created, Err *err) {
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

IexStatus sq_effect_move(Store *base, int64_t id, StoreEffectState to,
                         int64_t run_id, const char *result_json,
                         const char *external_id, const char *reason,
                         bool *counted, Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  bool found = false;
  StoreEffectState from = STORE_EFFECT_UNKNOWN;
  int64_t now = store_now(base);
  static const char *const update_for[] = {
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

IexStatus sq_effect_list_unsettled(Store *base, Arena *a, StoreEffect **items,
                                   size_t *n_items, Err *err) {
  return list(sq(base), SQL_EFFECT_UNSETTLED, 0, sizeof **items, read_effect,
              "listing unsettled effects", a, (void **)items, n_items, err);
}

IexStatus sq_effect_list(Store *base, int64_t transfer_id, Arena *a,
                         StoreEffect **items, size_t *n_items, Err *err) {
  return list(sq(base), SQL_EFFECT_LIST, transfer_id, sizeof **items,
              read_effect, "listing effects", a, (void **)items, n_items, err);
}

IexStatus sq_usage_count(Store *base, int64_t from_us, int64_t to_us,
                         int64_t integration_id, int64_t *used, Err *err) {
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

static const char SQL_OUTBOX_ADD[] =
    "INSERT INTO outbox (key, kind, recipient, subject, body, "
    "transfer_id, state, due_at, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, 0), 'pending', ?7, ?7) "
    "ON CONFLICT (key) DO NOTHING";
static const char SQL_OUTBOX_FIND[] = "SELECT id FROM outbox WHERE key = ?1";
static const char SQL_OUTBOX_PICK[] =
    "SELECT id FROM outbox WHERE state <> 'sent' AND due_at <= ?1 "
    "AND (state = 'pending' OR lease_expires_at <= ?1) "
    "ORDER BY due_at, id LIMIT 1";
static const char SQL_OUTBOX_TAKE[] =
    "UPDATE outbox SET state = 'sending', lease_owner = ?2, "
    "lease_expires_at = ?3, attempts = attempts + 1 WHERE id = ?1 "
    "RETURNING id, key, kind, recipient, subject, body, transfer_id, "
    "attempts, created_at";
static const char SQL_OUTBOX_SENT[] =
    "UPDATE outbox SET state = 'sent', sent_at = ?2, lease_owner = NULL, "
    "lease_expires_at = NULL WHERE id = ?1";
static const char SQL_OUTBOX_DEFER[] =
    "UPDATE outbox SET state = 'pending', due_at = ?2, last_error = ?3, "
    "lease_owner = NULL, lease_expires_at = NULL WHERE id = ?1 "
    "AND state <> 'sent'";

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

IexStatus sq_outbox_add(Store *base, const StoreMessageNew *in, int64_t *id_out,
                        bool *created, Err *err) {
  SqliteStore *s = sq(base);
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK) rc = outbox_insert(s, in, id_out, created, err);
  return tx_end(s, &tx, rc, err);
}

IexStatus sq_outbox_claim(Store *base, const char *worker_id, int64_t lease_us,
                          Arena *a, StoreMessage *out, bool *claimed,
                          Err *err) {
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

IexStatus sq_outbox_sent(Store *base, int64_t id, Err *err) {
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

IexStatus sq_outbox_defer(Store *base, int64_t id, int64_t due_at_us,
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

/* The columns read_health() reads, in its order. */
#define HEALTH_COLUMNS                                               \
  "integration_id, alias, state, failures, opened_at, retry_at, "    \
  "last_error_code, last_error, updated_at FROM connection_health"

static const char SQL_HEALTH_GET[] =
    "SELECT " HEALTH_COLUMNS " WHERE integration_id = ?1 AND alias = ?2";
static const char SQL_HEALTH_LIST[] =
    "SELECT " HEALTH_COLUMNS " WHERE integration_id = ?1 ORDER BY alias";
static const char SQL_HEALTH_PUT[] =
    "INSERT INTO connection_health (integration_id, alias, state, "
    "failures, opened_at, retry_at, last_error_code, last_error, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), nullif(?6, 0), "
    "?7, ?8, ?9) ON CONFLICT (integration_id, alias) DO UPDATE SET "
    "state = excluded.state, failures = excluded.failures, "
    "opened_at = excluded.opened_at, retry_at = excluded.retry_at, "
    "last_error_code = excluded.last_error_code, "
    "last_error = excluded.last_error, updated_at = excluded.updated_at";
/* After a resume: the retries of waiting transfers go now. */
static const char SQL_RUNS_DUE_NOW[] =
    "UPDATE runs SET due_at = ?2 WHERE status = 'queued' AND due_at > ?2 "
    "AND transfer_id IN (SELECT id FROM transfers WHERE "
    "integration_id = ?1 AND status = 'waiting')";

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

IexStatus sq_health_get(Store *base, int64_t integration_id, const char *alias,
                        Arena *a, StoreConnectionHealth *out, bool *found,
                        Err *err) {
  return health_read(sq(base), integration_id, alias, a, out, found, err);
}

IexStatus sq_health_list(Store *base, int64_t integration_id, Arena *a,
                         StoreConnectionHealth **items, size_t *n_items,
                         Err *err) {
  return list(sq(base), SQL_HEALTH_LIST, integration_id, sizeof **items,
              read_health, "listing connections' health", a, (void **)items,
              n_items, err);
}

IexStatus sq_health_update(Store *base, int64_t integration_id,
                           const char *alias,
                           bool (*update)(void *ctx, StoreConnectionHealth *h,
                                          int64_t now_us, bool *notify),
                           void *ctx, const StoreMessageNew *notify_msg,
                           Arena *a, StoreConnectionHealth *out, Err *err) {
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

IexStatus sq_runs_due_now(Store *base, int64_t integration_id, size_t *n_runs,
                          Err *err) {
  SqliteStore *s = sq(base);
  sqlite3_stmt *st = NULL;
  Tx tx;
  IexStatus rc = tx_begin(s, &tx, err);
  if (rc == IEX_OK)
    rc = store_sqlite_integration_exists(s, integration_id, err);
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
