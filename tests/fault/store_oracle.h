/*
** What must be true of a store after a crash or a failed write, for the
** fault programs that drive the store the way the executor will
** (fault_store_kill.c, fault_store_ioerr.c).
**
** The programs acknowledge each operation that returned IEX_OK as a line
** "kind what"; ack_holds says whether the store
** shows it, and invariants[] lists the rules that hold at every moment
** whatever was acknowledged: the transactions of the pipeline are whole.
** Static functions: each program includes this once.
*/
#ifndef IEX_TESTS_FAULT_STORE_ORACLE_H
#define IEX_TESTS_FAULT_STORE_ORACLE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One acknowledgement: "kind what". */
typedef struct Ack {
  char kind[16];
  char what[32];
} Ack;

/* A count from the store file, with one optional text parameter. */
static inline int64_t count(sqlite3 *db, const char *sql, const char *param) {
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (param) sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

/* Is acknowledgement `a` true of the store? */
static inline bool ack_holds(sqlite3 *db, const Ack *a) {
  char src[48];
  snprintf(src, sizeof src, "src-%s", a->what);
  if (strcmp(a->kind, "inbox") == 0)
    return count(db,
                 "SELECT count(*) FROM inbox WHERE integration_id = 1 AND "
                 "dedup_key = ?1",
                 a->what) == 1;
  if (strcmp(a->kind, "accepted") == 0)
    return count(db,
                 "SELECT count(*) FROM inbox i JOIN revisions r ON "
                 "r.transfer_id = i.transfer_id JOIN runs u ON "
                 "u.revision_id = r.id WHERE i.integration_id = 1 AND "
                 "i.dedup_key = ?1 AND i.processed_at IS NOT NULL",
                 a->what) >= 1;
  if (strcmp(a->kind, "started") == 0 || strcmp(a->kind, "unknown") == 0)
    return count(db,
                 "SELECT count(*) FROM effects e JOIN transfers t ON t.id = "
                 "e.transfer_id WHERE t.source_id = ?1 AND e.state IN "
                 "('started', 'unknown', 'done')",
                 src) == 1;
  if (strcmp(a->kind, "done") == 0)
    return count(db,
                 "SELECT count(*) FROM effects e JOIN transfers t ON t.id = "
                 "e.transfer_id JOIN usage u ON u.effect_id = e.id WHERE "
                 "t.source_id = ?1 AND e.state = 'done'",
                 src) == 1;
  if (strcmp(a->kind, "stage") == 0)
    return count(db,
                 "SELECT count(*) FROM stages g JOIN runs r ON r.id = "
                 "g.run_id JOIN transfers t ON t.id = r.transfer_id WHERE "
                 "t.source_id = ?1",
                 src) >= 1;
  if (strcmp(a->kind, "finished") == 0)
    return count(db,
                 "SELECT count(*) FROM runs r JOIN transfers t ON t.id = "
                 "r.transfer_id WHERE t.source_id = ?1 AND r.status = 'done'",
                 src) >= 1 &&
           count(db, "SELECT count(*) FROM outbox WHERE key = 'done-' || ?1",
                 a->what) == 1;
  if (strcmp(a->kind, "cursor") == 0)
    return count(db, "SELECT count(*) FROM cursors WHERE value >= ?1",
                 a->what) == 1;
  return false;
}

/* Rules that hold at every moment, whatever was acknowledged. */
static const struct {
  const char *rule;
  const char *sql; /* counts violations */
} invariants[] = {
    {"a done create has its usage row",
     "SELECT count(*) FROM effects e WHERE e.state = 'done' AND "
     "e.counts_usage = 1 AND NOT EXISTS (SELECT 1 FROM usage u WHERE "
     "u.effect_id = e.id)"},
    {"usage is counted only for done effects",
     "SELECT count(*) FROM usage u JOIN effects e ON e.id = u.effect_id "
     "WHERE e.state <> 'done'"},
    {"every revision has its run",
     "SELECT count(*) FROM revisions r WHERE NOT EXISTS (SELECT 1 FROM runs "
     "WHERE revision_id = r.id)"},
    {"every processed event has its transfer",
     "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL AND "
     "transfer_id IS NULL"},
    {"a finished run has its e-mail",
     "SELECT count(*) FROM runs r JOIN transfers t ON t.id = r.transfer_id "
     "WHERE r.status = 'done' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE "
     "o.key = 'done-' || substr(t.source_id, 5))"},
    {"the cursor and its poll's events moved together",
     "SELECT (SELECT coalesce(max(CAST(substr(dedup_key, 6) AS INTEGER)), "
     "0) FROM inbox WHERE dedup_key LIKE 'poll-%') <> (SELECT "
     "coalesce(max(CAST(value AS INTEGER)), 0) FROM cursors)"},
    {"no transfer is running twice",
     "SELECT count(*) FROM (SELECT transfer_id FROM runs WHERE status = "
     "'running' GROUP BY transfer_id HAVING count(*) > 1)"},
};

#endif /* IEX_TESTS_FAULT_STORE_ORACLE_H */
