/*
** Unit tests of the storage layer as a whole: result codes, the clock,
** crash points, opening and migrating a store file and finding it damaged,
** integrations and settings, transactions, a locked store, and secrets
** that must never reach the file. The operations on transfers and on
** effects have programs of their own (test_store_transfers.c,
** test_store_effects.c); all use real SQLite files in a temporary folder
** with a fake clock (store_fixture.h). The crash-safety tests live in
** tests/fault/.
*/
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/util.h"
#include "runtime/clock.h"
#include "runtime/crash.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "tests/lib/check.h"
#include "tests/unit/store_fixture.h"

/* ---- Result codes, Err, clock, crash points ------------------------- */

TEST(status_table_is_complete) {
  for (int i = 0; i < IEX__STATUS_COUNT; i++) {
    IexStatus back;
    CHECK(status_message((IexStatus)i)[0] != '\0');
    CHECK(status_from_name(status_name((IexStatus)i), &back));
    CHECK_EQ_INT(back, i);
  }
  CHECK_EQ_INT(status_group(IEX_OK), STATUS_GROUP_OK);
  CHECK_EQ_INT(status_group(IEX_SKIP_STATE), STATUS_GROUP_SKIP);
  CHECK_EQ_INT(status_group(IEX_E_HTTP_5XX), STATUS_GROUP_RETRY);
  CHECK_EQ_INT(status_group(IEX_E_STORE_BUSY), STATUS_GROUP_RETRY);
  CHECK_EQ_INT(status_group(IEX_E_VALIDATION), STATUS_GROUP_FAIL);
  CHECK_EQ_INT(status_group(IEX_FAIL), STATUS_GROUP_FAIL);
  CHECK_EQ_INT(status_group(IEX_E_OUTCOME_UNKNOWN), STATUS_GROUP_RECONCILE);
  CHECK_EQ_INT(status_group(IEX_E_STORE_IO), STATUS_GROUP_INTERNAL);
  CHECK_EQ_STR(status_name(IEX_E_HTTP_429), "E_HTTP_429");
  CHECK_EQ_STR(status_group_name(STATUS_GROUP_RECONCILE), "reconcile");
  IexStatus unused;
  CHECK(!status_from_name("E_NO_SUCH_CODE", &unused));
}

TEST(err_carries_detail) {
  Err e;
  err_init(&e);
  CHECK_EQ_STR(err_text(&e), "ok");
  CHECK_EQ_INT(
      err_set(&e, IEX_E_VALIDATION, "product `%s` does not exist", "SKU-9"),
      IEX_E_VALIDATION);
  err_prefix(&e, "invoice for %s", "#1001");
  CHECK_EQ_STR(e.message, "invoice for #1001: product `SKU-9` does not exist");
  err_set_location(&e, "flows/shop.iexflow:22:14");
  CHECK_EQ_STR(e.location, "flows/shop.iexflow:22:14");
  CHECK_EQ_INT(err_set(NULL, IEX_E_AUTH, "nobody listens"), IEX_E_AUTH);
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  err_set(&e, IEX_E_INTERNAL, "%s", big);
  CHECK_EQ_INT(strlen(e.message), sizeof e.message - 1);
  err_prefix(&e, "context"); /* cut at the end, never past it */
  CHECK_EQ_INT(strlen(e.message), sizeof e.message - 1);
}

TEST(clock_utc_arithmetic) {
  CHECK_EQ_INT(clock_utc_us(1970, 1, 1, 0, 0, 0), 0);
  CHECK_EQ_INT(clock_utc_us(2024, 1, 1, 0, 0, 0), INT64_C(1704067200) * SEC);
  CHECK_EQ_INT(clock_utc_us(2024, 13, 1, 0, 0, 0),
               clock_utc_us(2025, 1, 1, 0, 0, 0));
  CHECK_EQ_INT(
      clock_utc_us(2024, 3, 1, 0, 0, 0) - clock_utc_us(2024, 2, 1, 0, 0, 0),
      29 * 86400 * SEC); /* 2024 is a leap year */
  char text[CLOCK_TEXT_SIZE];
  CHECK_EQ_STR(clock_format_utc(clock_utc_us(2024, 2, 29, 23, 59, 59) + 123456,
                                text, sizeof text),
               "2024-02-29T23:59:59.123456Z");
  CHECK_EQ_STR(clock_format_utc(-1, text, sizeof text),
               "1969-12-31T23:59:59.999999Z");
  /* For people, whole seconds, never earlier than the instant. */
  CHECK_EQ_STR(clock_format_utc_seconds(clock_utc_us(2024, 2, 29, 23, 59, 59),
                                        text, sizeof text),
               "2024-02-29T23:59:59Z");
  CHECK_EQ_STR(clock_format_utc_seconds(
                   clock_utc_us(2024, 2, 29, 23, 59, 59) + 1, text, sizeof text),
               "2024-03-01T00:00:00Z");
  CHECK_EQ_STR(clock_format_utc_seconds(-1, text, sizeof text),
               "1970-01-01T00:00:00Z");
  int y, m;
  clock_utc_month(clock_utc_us(2024, 2, 1, 0, 0, 0) - 1, &y, &m);
  CHECK(y == 2024 && m == 1);
  clock_utc_month(clock_utc_us(2024, 2, 1, 0, 0, 0), &y, &m);
  CHECK(y == 2024 && m == 2);
  ClockFake f;
  clock_fake_init(&f, 42);
  clock_fake_advance(&f, 8);
  CHECK_EQ_INT(clock_now_us(&f.clock), 50);
  CHECK(clock_now_us(NULL) > clock_utc_us(2024, 1, 1, 0, 0, 0));
}

/* Hit `point` `hits` times in a child with IEX_CRASH_AT=`spec`; return
** how it ended (wait status) and how many hits it reported surviving. */
static int crash_child(const char *spec, CrashPoint point, int hits,
                       int *survived) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (!freopen("/dev/null", "w", stderr))
      _exit(4); /* the fatal message is expected */
    setenv("IEX_CRASH_AT", spec, 1);
    for (int i = 0; i < hits; i++) {
      crash_point(point);
      if (write(fds[1], "x", 1) != 1) _exit(3);
    }
    _exit(0);
  }
  close(fds[1]);
  char buf[64];
  ssize_t n, total = 0;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) total += n;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *survived = (int)total;
  return status;
}

TEST(crash_points_kill_at_the_nth_hit) {
  int survived = 0;
  CHECK_EQ_STR(crash_point_name(CRASH_EFFECT_STARTED), "effect_started");
  int st = crash_child("effect_started:3", CRASH_EFFECT_STARTED, 5, &survived);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  CHECK_EQ_INT(survived, 2);
  /* Other points do not count towards it. */
  st = crash_child("effect_started:1", CRASH_EFFECT_DONE, 5, &survived);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_EQ_INT(survived, 5);
  /* A misspelt point is fatal, never silently ignored. */
  st = crash_child("effect_startd:1", CRASH_EFFECT_STARTED, 1, &survived);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  st = crash_child("effect_started:0", CRASH_EFFECT_STARTED, 1, &survived);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

/* ---- Open, migrate, reopen ------------------------------------------ */

TEST(open_creates_migrates_and_reopens) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  CHECK(store_schema_version(f.s) >= 1);
  CHECK_OK(store_check(f.s, &err));
  int64_t id = 0;
  bool dup = true;
  StoreEvent ev = {.integration_id = f.shop,
                   .dedup_key = "evt-1",
                   .source = "webhook",
                   .body = STR_LIT("{\"id\": 1}")};
  CHECK_OK(store_inbox_add(f.s, &ev, &id, &dup, &err));
  CHECK(!dup);
  /* Customers' data: the files are readable by their owner only. */
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", f.path);
  struct stat st_db, st_wal;
  CHECK(stat(f.path, &st_db) == 0 && (st_db.st_mode & 0077) == 0);
  CHECK(stat(wal, &st_wal) == 0 && (st_wal.st_mode & 0077) == 0);
  int version = store_schema_version(f.s);
  store_close(f.s);
  /* The file is in WAL mode (a property of the file) and marked as ours. */
  CHECK_EQ_INT(sql_int(f.path, "PRAGMA application_id"), 0x69657821);
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM schema_version"),
               version);
  f.s = open_at(&f, f.path, 0);
  CHECK_FATAL(f.s != NULL);
  CHECK_OK(store_inbox_add(f.s, &ev, &id, &dup, &err));
  CHECK(dup); /* the event survived the reopen */
  StoreIntegration it;
  CHECK_OK(store_integration_find(f.s, "shop-to-books", &f.a, &it, &err));
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM schema_version"),
               version); /* not re-applied */
  sqlite3 *db;
  sqlite3_stmt *st;
  CHECK_FATAL(sqlite3_open(f.path, &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW &&
        strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  fx_close(&f);
}

/* A store made by the iex before migration 2 (the schema of migration 1,
** with data) is brought up to date at open, its data kept. */
TEST(migration_2_adds_connection_health_to_an_older_store) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t transfer = 0;
  make_run(&f, "1", "#1001", &transfer, NULL, NULL);
  store_close(f.s);
  f.s = NULL;
  sqlite3 *db;
  CHECK_FATAL(sqlite3_open(f.path, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db,
                     "DROP TABLE connection_health;"
                     "DELETE FROM schema_version WHERE version >= 2;",
                     NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  CHECK_EQ_INT(sql_int(f.path, "SELECT max(version) FROM schema_version"), 1);
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM sqlite_schema WHERE "
                               "name = 'connection_health'"),
               0);
  f.s = open_at(&f, f.path, 0);
  CHECK_FATAL(f.s != NULL);
  CHECK(store_schema_version(f.s) >= 2);
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM schema_version WHERE "
                               "version = 2 AND summary LIKE '%circuit%'"),
               1);
  StoreTransfer t;
  CHECK_OK(store_transfer_get(f.s, transfer, &f.a, &t, &err));
  CHECK_EQ_STR(t.display_key, "#1001");
  StoreCircuitPolicy p = {.threshold = 1, .pause_us = 60 * SEC};
  bool opened = false;
  CHECK_OK(store_circuit_record(f.s, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "down", NULL, &opened, &err));
  CHECK(opened);
  CHECK_OK(store_check(f.s, &err));
  fx_close(&f);
}

TEST(open_refuses_newer_and_foreign_databases) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  store_close(f.s);
  f.s = NULL;
  sqlite3 *db;
  CHECK_FATAL(sqlite3_open(f.path, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(
            db, "INSERT INTO schema_version VALUES (999, 'from the future', 0)",
            NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  StoreOptions o = {.clock = &f.clock.clock};
  Store *s = NULL;
  CHECK_RC(store_open(f.path, &o, &s, &err), IEX_E_STORE_NEWER);
  CHECK(s == NULL);
  CHECK_CONTAINS(err.message, f.path);
  CHECK_CONTAINS(err.message, "999");
  CHECK_CONTAINS(err.message, "newer iex");
  CHECK_EQ_INT(sql_int(f.path, "SELECT max(version) FROM schema_version"),
               999); /* untouched */

  char other[160];
  snprintf(other, sizeof other, "%s/other.db", f.dir);
  CHECK_FATAL(sqlite3_open(other, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "CREATE TABLE notes (x)", NULL, NULL, NULL) ==
        SQLITE_OK);
  sqlite3_close(db);
  CHECK_RC(store_open(other, &o, &s, &err), IEX_E_STORE_CORRUPT);
  CHECK_CONTAINS(err.message, "not an iex store");

  char junk[160];
  snprintf(junk, sizeof junk, "%s/junk.db", f.dir);
  FILE *fp = fopen(junk, "w");
  CHECK_FATAL(fp != NULL);
  fputs(
      "this is not a database, it is a text file that is long enough to "
      "matter\n",
      fp);
  fclose(fp);
  CHECK_RC(store_open(junk, &o, &s, &err), IEX_E_STORE_CORRUPT);

  CHECK_RC(store_open("/nonexistent-dir/iex.db", &o, &s, &err),
           IEX_E_STORE_OPEN);
  CHECK_CONTAINS(err.message, "/nonexistent-dir/iex.db");
  CHECK_RC(store_open("postgres://db/iex", &o, &s, &err), IEX_E_STORE_OPEN);
  fx_close(&f);
}

TEST(a_damaged_file_is_reported_not_trusted) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  StoreEvent ev = {.integration_id = f.shop,
                   .dedup_key = "evt",
                   .source = "webhook",
                   .body = STR_LIT("{}")};
  CHECK_OK(store_inbox_add(f.s, &ev, NULL, NULL, &err));
  store_close(f.s);
  /* Scribble over every page but the first (the header and the schema). */
  FILE *fp = fopen(f.path, "r+b");
  CHECK_FATAL(fp != NULL);
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  char junk[512];
  memset(junk, 0x5a, sizeof junk);
  for (long at = 4096; at + (long)sizeof junk <= size; at += 1024) {
    fseek(fp, at, SEEK_SET);
    fwrite(junk, 1, sizeof junk, fp);
  }
  fclose(fp);
  StoreOptions o = {.clock = &f.clock.clock};
  f.s = NULL;
  IexStatus rc = store_open(f.path, &o, &f.s, &err);
  if (rc == IEX_OK) rc = store_check(f.s, &err);
  CHECK_EQ_STR(status_name(rc), "E_STORE_CORRUPT");
  CHECK_CONTAINS(err.message, f.path);
  CHECK_CONTAINS(err.message, "damaged");
  fx_close(&f);
}

/* Replace the first `from` in page `page` of `path` by `to` (same length). */
static bool patch_page(const char *path, int64_t page, const char *from,
                       const char *to) {
  size_t len = 0;
  char why[128];
  char *data = read_file(path, (size_t)64 << 20, &len, why, sizeof why);
  bool done = false;
  size_t start = (size_t)(page - 1) * 4096, n = strlen(from);
  for (size_t i = start; data && i + n <= start + 4096 && i + n <= len; i++) {
    if (memcmp(data + i, from, n) == 0) {
      FILE *fp = fopen(path, "r+b");
      done =
          fp && fseek(fp, (long)i, SEEK_SET) == 0 && fwrite(to, 1, n, fp) == n;
      if (fp) fclose(fp);
      break;
    }
  }
  free(data);
  return done;
}

TEST(damage_that_sqlite_reads_past_is_found_by_the_check) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t t;
  CHECK_OK(store_transfer_get_or_add(f.s, f.shop, "450789469", "#1001", &t,
                                     NULL, &err));
  store_close(f.s);
  /* The index no longer matches its table: reads go on, the check sees it. */
  int64_t page = sql_int(
      f.path,
      "SELECT rootpage FROM sqlite_schema WHERE name = 'transfers_by_key'");
  CHECK_FATAL(patch_page(f.path, page, "#1001", "#9001"));
  f.s = open_at(&f, f.path, 0);
  CHECK_FATAL(f.s != NULL);
  CHECK_RC(store_check(f.s, &err), IEX_E_STORE_CORRUPT);
  CHECK_CONTAINS(err.message, "transfers_by_key");
  store_close(f.s);

  /* A row that refers to nothing (written with foreign keys off). */
  sqlite3 *db;
  CHECK_FATAL(sqlite3_open(f.path, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db,
                     "REINDEX; PRAGMA foreign_keys = OFF; INSERT INTO cursors "
                     "VALUES (999, 'order', 'x', 0)",
                     NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  f.s = open_at(&f, f.path, 0);
  CHECK_FATAL(f.s != NULL);
  CHECK_RC(store_check(f.s, &err), IEX_E_STORE_CORRUPT);
  CHECK_CONTAINS(err.message, "`cursors` refers to a missing `integrations`");
  fx_close(&f);
}

/* ---- Integrations and settings -------------------------------------- */

TEST(integrations_add_get_list_activate) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t woo = add_integration(&f, "woo.dinero");
  StoreIntegration it;
  CHECK_OK(store_integration_get(f.s, f.shop, &f.a, &it, &err));
  CHECK_EQ_STR(it.name, "shop-to-books");
  CHECK(
      str_eq(it.iexb, STR_LIT("IEXB\x01\x00bytes"))); /* bytes, NUL included */
  CHECK_EQ_STR(it.iexb_hash, "fnv1a:0123456789abcdef");
  CHECK_CONTAINS(it.connections_json, "env:SHOP_TOKEN");
  CHECK_EQ_INT(it.activated_at_us, T0);
  CHECK(it.is_active);
  CHECK_OK(store_integration_find(f.s, "woo.dinero", &f.a, &it, &err));
  CHECK_EQ_INT(it.id, woo);
  CHECK_RC(store_integration_find(f.s, "nope", &f.a, &it, &err),
           IEX_E_NOT_FOUND);
  CHECK_CONTAINS(err.message, "`nope`");
  CHECK_RC(store_integration_get(f.s, 999, &f.a, &it, &err), IEX_E_NOT_FOUND);

  StoreIntegration *items;
  size_t n;
  CHECK_OK(store_integration_list(f.s, &f.a, &items, &n, &err));
  CHECK_FATAL(n == 2);
  CHECK_EQ_STR(items[0].name, "shop-to-books"); /* by name */
  CHECK_EQ_INT(items[0].iexb.len, 0);           /* lists leave the bytes out */

  /* A taken name, a bad name. */
  StoreIntegrationNew in = {.name = "woo.dinero",
                            .iexb = STR_LIT("x"),
                            .iexb_hash = "h",
                            .connections_json = "{}",
                            .activated_at_us = T0};
  CHECK_RC(store_integration_add(f.s, &in, NULL, &err), IEX_E_EXISTS);
  CHECK_CONTAINS(err.message, "`woo.dinero` exists already");
  in.name = "shop to books";
  CHECK_RC(store_integration_add(f.s, &in, NULL, &err), IEX_E_INVALID);
  in.name = "ok-name";
  in.connections_json = "[1, 2";
  CHECK_RC(store_integration_add(f.s, &in, NULL, &err), IEX_E_INVALID_JSON);

  clock_fake_advance(&f.clock, 10 * SEC);
  CHECK_OK(store_integration_deactivate(f.s, woo, &err));
  CHECK_OK(store_integration_get(f.s, woo, &f.a, &it, &err));
  CHECK(!it.is_active);
  CHECK_EQ_INT(it.updated_at_us, T0 + 10 * SEC);
  CHECK_OK(store_integration_activate(f.s, woo, 0,
                                      &err)); /* keeps the activation time */
  CHECK_OK(store_integration_get(f.s, woo, &f.a, &it, &err));
  CHECK(it.is_active);
  CHECK_EQ_INT(it.activated_at_us, T0);
  CHECK_OK(store_integration_activate(f.s, woo, T0 + 5 * SEC, &err));
  CHECK_OK(store_integration_get(f.s, woo, &f.a, &it, &err));
  CHECK_EQ_INT(it.activated_at_us, T0 + 5 * SEC);
  CHECK_RC(store_integration_deactivate(f.s, 777, &err), IEX_E_NOT_FOUND);
  fx_close(&f);
}

TEST(settings_keep_every_version) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  const char *json = NULL;
  CHECK_OK(store_settings_get(f.s, f.shop, &f.a, &json, &err));
  CHECK_EQ_STR(json, "{}");
  CHECK_OK(
      store_settings_set(f.s, f.shop, "{\"invoice_mode\": \"draft\"}", &err));
  CHECK_OK(store_settings_set(
      f.s, f.shop, "{\"invoice_mode\": \"booked\", \"cent\": 0.05}", &err));
  CHECK_OK(store_settings_get(f.s, f.shop, &f.a, &json, &err));
  CHECK_EQ_STR(
      json,
      "{\"invoice_mode\": \"booked\", \"cent\": 0.05}"); /* bytes as given */
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM settings"), 2);
  CHECK_RC(store_settings_set(f.s, f.shop, "[1]", &err), IEX_E_INVALID_JSON);
  CHECK_RC(store_settings_set(f.s, f.shop, "{\"a\": }", &err),
           IEX_E_INVALID_JSON);
  CHECK_RC(store_settings_set(f.s, 42, "{}", &err), IEX_E_NOT_FOUND);
  CHECK_RC(store_settings_get(f.s, 42, &f.a, &json, &err), IEX_E_NOT_FOUND);
  fx_close(&f);
}

/* ---- Transactions --------------------------------------------------- */

TEST(transactions_misuse_and_partial_failure) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  CHECK_RC(store_commit(f.s, &err), IEX_E_MISUSE);
  CHECK_OK(store_begin(f.s, &err));
  CHECK_RC(store_begin(f.s, &err), IEX_E_MISUSE);
  /* A failing operation inside a transaction undoes only itself. */
  StoreEvent ev = {
      .integration_id = f.shop, .dedup_key = "a", .source = "webhook"};
  CHECK_OK(store_inbox_add(f.s, &ev, NULL, NULL, &err));
  CHECK_RC(store_settings_set(f.s, 999, "{}", &err), IEX_E_NOT_FOUND);
  ev.integration_id = 999;
  ev.dedup_key = "b";
  CHECK_RC(store_inbox_add(f.s, &ev, NULL, NULL, &err), IEX_E_NOT_FOUND);
  CHECK_OK(store_commit(f.s, &err));
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM inbox"), 1);
  store_rollback(f.s); /* nothing open: harmless */
  fx_close(&f);
}

/* ---- Locked store --------------------------------------------------- */

TEST(a_locked_store_says_so) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  store_close(f.s);
  f.s = open_at(&f, f.path, 100);
  CHECK_FATAL(f.s != NULL);
  sqlite3 *other;
  CHECK_FATAL(sqlite3_open(f.path, &other) == SQLITE_OK);
  CHECK_FATAL(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
              SQLITE_OK);
  StoreEvent ev = {
      .integration_id = f.shop, .dedup_key = "evt", .source = "webhook"};
  CHECK_RC(store_inbox_add(f.s, &ev, NULL, NULL, &err), IEX_E_STORE_BUSY);
  CHECK_CONTAINS(err.message, f.path);
  CHECK_CONTAINS(err.message, "locked by another iex process");
  CHECK_EQ_INT(status_group(err.code), STATUS_GROUP_RETRY);
  CHECK_RC(store_begin(f.s, &err), IEX_E_STORE_BUSY);
  /* Reads go on (WAL), and so does writing once the lock is gone. */
  StoreIntegration it;
  CHECK_OK(store_integration_get(f.s, f.shop, &f.a, &it, &err));
  /* `iex log` can open the store while `iex serve` writes to it. */
  Store *reader = open_at(&f, f.path, 100);
  CHECK(reader != NULL);
  if (reader) CHECK_OK(store_integration_get(reader, f.shop, &f.a, &it, &err));
  store_close(reader);
  sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(other);
  CHECK_OK(store_inbox_add(f.s, &ev, NULL, NULL, &err));
  CHECK_OK(store_check(f.s, &err));
  fx_close(&f);
}

/* ---- Secrets never reach the file ----------------------------------- */

static const char *const canaries[] = {
    "CANARY-authorization-7f3a", "CANARY-shopify-token-91bc",
    "CANARY-appsecret-55de",     "CANARY-grant-0a1b",
    "CANARY-cookie-c00c",        "CANARY-apikey-4242",
    "CANARY-request-auth-e1e1",  "CANARY-config-secret-9999",
};

/* How many times `needle` occurs in the bytes of file `path`. */
static int count_in_file(const char *path, const char *needle) {
  size_t len = 0;
  char why[128];
  char *data = read_file(path, (size_t)256 << 20, &len, why, sizeof why);
  if (!data) return 0;
  int hits = 0;
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(data + i, needle, n) == 0) hits++;
  free(data);
  return hits;
}

/* Occurrences of `needle` in the store and its -wal and -shm files. */
static int count_in_store(const char *path, const char *needle) {
  char p[256];
  int hits = count_in_file(path, needle);
  snprintf(p, sizeof p, "%s-wal", path);
  hits += count_in_file(p, needle);
  snprintf(p, sizeof p, "%s-shm", path);
  hits += count_in_file(p, needle);
  return hits;
}

TEST(canary_secrets_never_reach_the_file) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  char headers[1024];
  snprintf(headers, sizeof headers,
           "{\"Authorization\": \"Bearer %s\", \"X-Shopify-Access-Token\": "
           "\"%s\", \"X-AppSecretToken\": \"%s\", "
           "\"X-AgreementGrantToken\": \"%s\", \"Cookie\": "
           "[\"session=%s\"], \"X-Api-Key\": \"%s\", \"X-Shopify-Topic\": "
           "\"orders/paid CANARY-visible-topic\", "
           "\"X-WC-Webhook-Signature\": \"CANARY-visible-signature\"}",
           canaries[0], canaries[1], canaries[2], canaries[3], canaries[4],
           canaries[5]);
  StoreEvent ev = {.integration_id = f.shop,
                   .dedup_key = "evt-canary",
                   .source = "webhook",
                   .headers_json = headers,
                   .body = STR_LIT("{\"id\": 1}")};
  int64_t id;
  CHECK_OK(store_inbox_add(f.s, &ev, &id, NULL, &err));
  StoreInboxItem *items;
  size_t n;
  CHECK_OK(store_inbox_pending(f.s, 10, &f.a, &items, &n, &err));
  CHECK_FATAL(n == 1);
  CHECK_CONTAINS(items[0].headers_json, "\"Authorization\": \"***\"");
  CHECK_CONTAINS(items[0].headers_json, "\"Cookie\": \"***\"");
  CHECK_CONTAINS(items[0].headers_json, "CANARY-visible-signature");

  /* A recorded request keeps its headers, minus the secrets. */
  int64_t run;
  make_run(&f, "1", "#1001", NULL, NULL, &run);
  char request[512];
  snprintf(request, sizeof request,
           "{\"method\": \"POST\", \"url\": "
           "\"https://restapi.e-conomic.com/invoices/drafts\", \"headers\": "
           "[[\"X-AppSecretToken\", \"%s\"], [\"Content-Type\", "
           "\"application/json\"]], \"body\": {\"total\": 12.10}}",
           canaries[6]);
  StoreStageNew stage = {.run_id = run,
                         .step = "invoice",
                         .kind = STORE_STAGE_REQUEST,
                         .data_json = request};
  CHECK_OK(store_stage_add(f.s, &stage, NULL, &err));

  /* A config that holds a secret value is refused, and the message does
  ** not repeat the value. */
  char config[256];
  snprintf(config, sizeof config,
           "{\"books\": {\"agreement\": {\"grant_token\": \"%s\"}}}",
           canaries[7]);
  StoreIntegrationNew in = {.name = "leaky",
                            .iexb = STR_LIT("x"),
                            .iexb_hash = "h",
                            .connections_json = config,
                            .activated_at_us = T0};
  CHECK_RC(store_integration_add(f.s, &in, NULL, &err), IEX_E_SECRET_VALUE);
  CHECK_CONTAINS(err.message, "books.agreement.grant_token");
  CHECK(!strstr(err.message, canaries[7]));

  /* Grep the bytes: the WAL holds everything written so far. */
  for (size_t i = 0; i < ARRAY_LEN(canaries); i++) {
    int hits = count_in_store(f.path, canaries[i]);
    if (hits)
      check_fail(__FILE__, __LINE__, "%s found %d times in the store",
                 canaries[i], hits);
  }
  /* The grep can see what is there: the non-secret values are found. */
  CHECK(count_in_store(f.path, "CANARY-visible-topic") > 0);
  CHECK(count_in_store(f.path, "CANARY-visible-signature") > 0);
  /* After a checkpoint and close, the main file holds it all. */
  store_close(f.s);
  f.s = NULL;
  for (size_t i = 0; i < ARRAY_LEN(canaries); i++)
    CHECK_EQ_INT(count_in_store(f.path, canaries[i]), 0);
  CHECK(count_in_file(f.path, "CANARY-visible-topic") > 0);
  fx_close(&f);
}

int main(void) {
  check_suite = "unit/store";
  RUN(status_table_is_complete);
  RUN(err_carries_detail);
  RUN(clock_utc_arithmetic);
  RUN(crash_points_kill_at_the_nth_hit);
  RUN(open_creates_migrates_and_reopens);
  RUN(migration_2_adds_connection_health_to_an_older_store);
  RUN(open_refuses_newer_and_foreign_databases);
  RUN(a_damaged_file_is_reported_not_trusted);
  RUN(damage_that_sqlite_reads_past_is_found_by_the_check);
  RUN(integrations_add_get_list_activate);
  RUN(settings_keep_every_version);
  RUN(transactions_misuse_and_partial_failure);
  RUN(a_locked_store_says_so);
  RUN(canary_secrets_never_reach_the_file);
  return check_done();
}
