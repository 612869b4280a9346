/*
** Unit tests of the storage layer: result codes, the clock, crash points,
** and every operation of the store on real SQLite files in a temporary
** folder, with a fake clock so that leases expire and months end on
** command. The crash-safety tests live in tests/fault/.
*/
#include <dirent.h>
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
#include "tests/lib/check_status.h"

static Err err;

#define CHECK_OK(call) CHECK_IEX_OK(err, call)

/* Run a store call that must fail with `want`. */
#define CHECK_RC(call, want)                                              \
  do {                                                                    \
    err_init(&err);                                                       \
    IexStatus rc_ = (call);                                               \
    if (rc_ != (want))                                                    \
      check_fail(__FILE__, __LINE__, "%s -> %s (%s), expected %s", #call, \
                 status_name(rc_), err_text(&err), status_name(want));    \
  } while (0)


/* ---- Fixture: a store in a fresh temporary folder ------------------- */

typedef struct Fx {
  char dir[64];    /* the temporary folder */
  char path[128];  /* the store file in it */
  ClockFake clock; /* starts at 2024-05-01T00:00:00Z */
  Store *s;
  Arena a;      /* results of one test */
  int64_t shop; /* an integration added by fx_open */
} Fx;

#define T0 clock_utc_us(2024, 5, 1, 0, 0, 0)
#define SEC INT64_C(1000000)

static Store *open_at(Fx *f, const char *path, int busy_ms) {
  StoreOptions o = {.clock = &f->clock.clock, .busy_timeout_ms = busy_ms};
  Store *s = NULL;
  CHECK_OK(store_open(path, &o, &s, &err));
  return s;
}

static int64_t add_integration(Fx *f, const char *name) {
  StoreIntegrationNew in = {
      .name = name,
      .iexb = STR_LIT("IEXB\x01\x00bytes"),
      .iexb_hash = "fnv1a:0123456789abcdef",
      .connections_json =
          "{\"shop\": {\"domain\": \"x.myshopify.com\", \"access_token\": "
          "\"env:SHOP_TOKEN\"}}",
      .activated_at_us = T0,
      .is_active = true,
  };
  int64_t id = 0;
  CHECK_OK(store_integration_add(f->s, &in, &id, &err));
  return id;
}

static bool fx_open(Fx *f) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/iex-test-store-XXXXXX");
  if (!mkdtemp(f->dir)) return false;
  snprintf(f->path, sizeof f->path, "%s/iex.db", f->dir);
  clock_fake_init(&f->clock, T0);
  arena_init(&f->a);
  f->s = open_at(f, f->path, 0);
  if (f->s) f->shop = add_integration(f, "shop-to-books");
  return f->s != NULL;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static void fx_close(Fx *f) {
  store_close(f->s);
  arena_fini(&f->a);
  remove_dir(f->dir);
}

/* A transfer with one revision and one queued run; ids out. */
static void make_run(Fx *f, const char *source_id, const char *key,
                     int64_t *transfer, int64_t *revision, int64_t *run) {
  int64_t t = 0, r = 0, n = 0;
  CHECK_OK(
      store_transfer_get_or_add(f->s, f->shop, source_id, key, &t, NULL, &err));
  CHECK_OK(store_revision_add(f->s, t, "{\"id\": 1}", NULL, 0, &r, NULL, &err));
  CHECK_OK(store_run_add(f->s, r, 0, "event", &n, &err));
  if (transfer) *transfer = t;
  if (revision) *revision = r;
  if (run) *run = n;
}

/* Raw SQL on the store's file, for checks the API does not offer. */
static int64_t sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_open(path, &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

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

/* ---- Inbox and cursors ---------------------------------------------- */

TEST(inbox_dedups_and_marks_processed) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t woo = add_integration(&f, "woo");
  StoreEvent ev = {.integration_id = f.shop,
                   .dedup_key = "shopify:evt-1",
                   .source = "webhook",
                   .topic = "orders/paid",
                   .headers_json = "{\"X-Shopify-Event-Id\": \"evt-1\"}",
                   .body = STR_LIT("{\"id\": 450789469, \"total\": 12.10}")};
  int64_t id1 = 0, id2 = 0, id3 = 0;
  bool dup = true;
  CHECK_OK(store_inbox_add(f.s, &ev, &id1, &dup, &err));
  CHECK(!dup);
  clock_fake_advance(&f.clock, 4 * 3600 * SEC); /* Shopify retries within 4 h */
  CHECK_OK(store_inbox_add(f.s, &ev, &id2, &dup, &err));
  CHECK(dup);
  CHECK_EQ_INT(id2, id1);
  ev.integration_id =
      woo; /* the same key in another integration is another event */
  CHECK_OK(store_inbox_add(f.s, &ev, &id3, &dup, &err));
  CHECK(!dup);
  CHECK(id3 != id1);

  StoreInboxItem *items;
  size_t n;
  CHECK_OK(store_inbox_pending(f.s, 10, &f.a, &items, &n, &err));
  CHECK_FATAL(n == 2);
  CHECK_EQ_INT(items[0].id, id1);
  CHECK_EQ_INT(items[0].n_duplicates, 1);
  CHECK_EQ_STR(items[0].topic, "orders/paid");
  CHECK(
      str_eq(items[0].body, STR_LIT("{\"id\": 450789469, \"total\": 12.10}")));
  CHECK_EQ_INT(items[0].received_at_us, T0);
  CHECK_EQ_INT(items[0].processed_at_us, 0);
  CHECK(items[0].outcome == NULL);

  int64_t t = 0;
  CHECK_OK(store_transfer_get_or_add(f.s, f.shop, "450789469", "#1001", &t,
                                     NULL, &err));
  CHECK_OK(store_inbox_done(f.s, id1, t, "new revision", &err));
  CHECK_OK(store_inbox_pending(f.s, 10, &f.a, &items, &n, &err));
  CHECK_FATAL(n == 1);
  CHECK_EQ_INT(items[0].id, id3);
  CHECK_EQ_INT(
      sql_int(f.path,
              "SELECT processed_at FROM inbox WHERE transfer_id IS NOT NULL"),
      T0 + 4 * 3600 * SEC);
  CHECK_RC(store_inbox_done(f.s, 999, 0, "x", &err), IEX_E_NOT_FOUND);

  ev.dedup_key = "";
  CHECK_RC(store_inbox_add(f.s, &ev, &id1, &dup, &err), IEX_E_INVALID);
  ev.dedup_key = "k";
  ev.integration_id = 999;
  CHECK_RC(store_inbox_add(f.s, &ev, &id1, &dup, &err), IEX_E_NOT_FOUND);
  ev.integration_id = f.shop;
  ev.headers_json = "\"just a string\"";
  CHECK_RC(store_inbox_add(f.s, &ev, &id1, &dup, &err), IEX_E_INVALID_JSON);
  fx_close(&f);
}

TEST(cursor_moves_with_its_poll_or_not_at_all) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  const char *cursor = "x";
  CHECK_OK(store_cursor_get(f.s, f.shop, "order", &f.a, &cursor, &err));
  CHECK(cursor == NULL);

  /* A poll that fails half-way: events and cursor vanish together. */
  StoreEvent ev = {.integration_id = f.shop,
                   .dedup_key = "poll:1:2024-05-01",
                   .source = "poll",
                   .body = STR_LIT("{}")};
  CHECK_OK(store_begin(f.s, &err));
  CHECK_OK(store_inbox_add(f.s, &ev, NULL, NULL, &err));
  CHECK_OK(
      store_cursor_set(f.s, f.shop, "order", "2024-05-01T00:00:00Z", &err));
  store_rollback(f.s);
  CHECK_OK(store_cursor_get(f.s, f.shop, "order", &f.a, &cursor, &err));
  CHECK(cursor == NULL);
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM inbox"), 0);

  /* The same poll committed: both are there. */
  CHECK_OK(store_begin(f.s, &err));
  CHECK_OK(store_inbox_add(f.s, &ev, NULL, NULL, &err));
  CHECK_OK(
      store_cursor_set(f.s, f.shop, "order", "2024-05-01T00:00:00Z", &err));
  CHECK_OK(store_commit(f.s, &err));
  CHECK_OK(store_cursor_get(f.s, f.shop, "order", &f.a, &cursor, &err));
  CHECK_EQ_STR(cursor, "2024-05-01T00:00:00Z");
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM inbox"), 1);
  CHECK_OK(
      store_cursor_set(f.s, f.shop, "order", "2024-05-02T00:00:00Z", &err));
  CHECK_OK(store_cursor_get(f.s, f.shop, "order", &f.a, &cursor, &err));
  CHECK_EQ_STR(cursor, "2024-05-02T00:00:00Z");
  CHECK_OK(store_cursor_get(f.s, f.shop, "customer", &f.a, &cursor, &err));
  CHECK(cursor == NULL);
  fx_close(&f);
}

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

/* ---- Transfers and revisions ---------------------------------------- */

TEST(transfers_and_revisions_only_on_change) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t t1 = 0, t2 = 0;
  bool created = false, is_new = false;
  CHECK_OK(store_transfer_get_or_add(f.s, f.shop, "450789469", "#1001", &t1,
                                     &created, &err));
  CHECK(created);
  CHECK_OK(store_transfer_get_or_add(f.s, f.shop, "450789469", "#1001", &t2,
                                     &created, &err));
  CHECK(!created);
  CHECK_EQ_INT(t2, t1);
  CHECK_OK(store_transfer_get_or_add(f.s, f.shop, "450789469", "#1001-A", &t2,
                                     &created, &err));
  StoreTransfer t;
  CHECK_OK(store_transfer_get(f.s, t1, &f.a, &t, &err));
  CHECK_EQ_STR(t.display_key, "#1001-A"); /* the newest name wins */
  CHECK_EQ_STR(t.integration_name, "shop-to-books");
  CHECK_EQ_INT(t.status, STORE_RUN_QUEUED);
  CHECK_RC(store_transfer_get(f.s, 999, &f.a, &t, &err), IEX_E_NOT_FOUND);

  /* Amounts and big numbers are kept as written, never re-printed. */
  const char *a = "{\"total\": 12.10, \"big\": 123456789012345678901234567890}";
  const char *b = "{\"total\": 12.20, \"big\": 123456789012345678901234567890}";
  int64_t r1 = 0, r2 = 0, r3 = 0, r4 = 0;
  CHECK_OK(store_revision_add(f.s, t1, a, "2024-05-01T10:00:00+02:00", 0, &r1,
                              &is_new, &err));
  CHECK(is_new);
  CHECK_OK(store_revision_add(f.s, t1, a, NULL, 0, &r2, &is_new, &err));
  CHECK(!is_new);
  CHECK_EQ_INT(r2, r1);
  CHECK_OK(store_revision_add(f.s, t1, b, NULL, 0, &r3, &is_new, &err));
  CHECK(is_new);
  CHECK_OK(store_revision_add(f.s, t1, a, NULL, 0, &r4, &is_new,
                              &err)); /* back to a */
  CHECK(is_new);
  /* Bytes decide, to the last one: a prefix of the latest is a change. */
  int64_t other = 0, rp = 0;
  CHECK_OK(
      store_transfer_get_or_add(f.s, f.shop, "2", "#1002", &other, NULL, &err));
  CHECK_OK(store_revision_add(f.s, other, "{\"a\": 1} ", NULL, 0, &rp, &is_new,
                              &err));
  CHECK_OK(store_revision_add(f.s, other, "{\"a\": 1}", NULL, 0, &rp, &is_new,
                              &err));
  CHECK(is_new);
  StoreRevision *revs;
  size_t n;
  CHECK_OK(store_revision_list(f.s, t1, &f.a, &revs, &n, &err));
  CHECK_FATAL(n == 3);
  CHECK_EQ_INT(revs[0].number, 1);
  CHECK_EQ_INT(revs[2].number, 3);
  CHECK_EQ_STR(revs[0].data_json, a);
  CHECK_EQ_STR(revs[0].source_time, "2024-05-01T10:00:00+02:00");
  CHECK_EQ_STR(revs[1].data_json, b);
  CHECK_OK(store_transfer_get(f.s, t1, &f.a, &t, &err));
  CHECK_EQ_INT(t.latest_revision_id, r4);
  CHECK_EQ_INT(t.n_revisions, 3);
  StoreRevision rev;
  CHECK_OK(store_revision_get(f.s, r3, &f.a, &rev, &err));
  CHECK_EQ_INT(rev.number, 2);
  CHECK_RC(
      store_revision_add(f.s, t1, "{not json", NULL, 0, &r4, &is_new, &err),
      IEX_E_INVALID_JSON);
  CHECK_RC(store_revision_add(f.s, 999, a, NULL, 0, &r4, &is_new, &err),
           IEX_E_NOT_FOUND);
  fx_close(&f);
}

/* ---- Runs ----------------------------------------------------------- */

TEST(runs_are_claimed_with_leases) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t transfer, revision, run;
  make_run(&f, "1", "#1001", &transfer, &revision, &run);
  StoreRun r;
  bool claimed = false;
  CHECK_OK(
      store_run_claim(f.s, "worker-a", 30 * SEC, &f.a, &r, &claimed, &err));
  CHECK_FATAL(claimed);
  CHECK_EQ_INT(r.id, run);
  CHECK_EQ_INT(r.status, STORE_RUN_RUNNING);
  CHECK_EQ_STR(r.lease_owner, "worker-a");
  CHECK_EQ_INT(r.lease_expires_us, T0 + 30 * SEC);
  CHECK_EQ_INT(r.started_at_us, T0);
  CHECK_EQ_INT(r.attempt, 1);
  CHECK_EQ_INT(r.integration_id, f.shop);
  StoreTransfer t;
  CHECK_OK(store_transfer_get(f.s, transfer, &f.a, &t, &err));
  CHECK_EQ_INT(t.status, STORE_RUN_RUNNING);

  /* A live lease is not claimable; an expired one is. */
  clock_fake_advance(&f.clock, 29 * SEC);
  CHECK_OK(
      store_run_claim(f.s, "worker-b", 30 * SEC, &f.a, &r, &claimed, &err));
  CHECK(!claimed);
  CHECK_OK(
      store_run_renew(f.s, run, "worker-a", 30 * SEC, &err)); /* to T0+59 */
  clock_fake_advance(&f.clock, 29 * SEC);
  CHECK_OK(
      store_run_claim(f.s, "worker-b", 30 * SEC, &f.a, &r, &claimed, &err));
  CHECK(!claimed);
  clock_fake_advance(&f.clock, 1 * SEC); /* T0+59: expired */
  CHECK_OK(
      store_run_claim(f.s, "worker-b", 30 * SEC, &f.a, &r, &claimed, &err));
  CHECK_FATAL(claimed);
  CHECK_EQ_INT(r.id, run);
  CHECK_EQ_INT(r.n_claims, 2);
  CHECK_EQ_INT(r.started_at_us, T0); /* the run's now() does not move */

  /* The worker that lost its lease cannot record anything. */
  CHECK_RC(store_run_renew(f.s, run, "worker-a", 30 * SEC, &err),
           IEX_E_LEASE_LOST);
  StoreOutcome ok = {IEX_OK, NULL, NULL};
  CHECK_RC(store_run_finish(f.s, run, "worker-a", STORE_RUN_DONE, &ok, &err),
           IEX_E_LEASE_LOST);
  CHECK_CONTAINS(err.message, "worker-b");
  StoreOutcome failed = {IEX_E_VALIDATION,
                         "e-conomic refused the invoice: product 'SKU-9' "
                         "does not exist",
                         "flows/shop.iexflow:22:14"};
  CHECK_OK(
      store_run_finish(f.s, run, "worker-b", STORE_RUN_FAILED, &failed, &err));
  CHECK_OK(store_run_get(f.s, run, &f.a, &r, &err));
  CHECK_EQ_INT(r.status, STORE_RUN_FAILED);
  CHECK_EQ_STR(r.code, "E_VALIDATION");
  CHECK_EQ_STR(r.location, "flows/shop.iexflow:22:14");
  CHECK(r.lease_owner == NULL);
  CHECK_EQ_INT(r.finished_at_us, T0 + 59 * SEC);
  CHECK_OK(store_transfer_get(f.s, transfer, &f.a, &t, &err));
  CHECK_EQ_INT(t.status, STORE_RUN_FAILED);
  CHECK_CONTAINS(t.message, "SKU-9");
  CHECK_EQ_STR(t.location, "flows/shop.iexflow:22:14");
  CHECK_RC(store_run_finish(f.s, run, "worker-b", STORE_RUN_DONE, &ok, &err),
           IEX_E_LEASE_LOST);
  CHECK_RC(store_run_finish(f.s, 999, "worker-b", STORE_RUN_DONE, &ok, &err),
           IEX_E_NOT_FOUND);
  CHECK_RC(store_run_finish(f.s, run, "worker-b", STORE_RUN_QUEUED, &ok, &err),
           IEX_E_MISUSE);
  CHECK_OK(
      store_run_claim(f.s, "worker-b", 30 * SEC, &f.a, &r, &claimed, &err));
  CHECK(!claimed);
  fx_close(&f);
}

TEST(runs_retry_later_and_never_run_one_transfer_twice) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t transfer, revision, run, next = 0, other_run;
  make_run(&f, "1", "#1001", &transfer, &revision, &run);
  StoreRun r;
  bool claimed;
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK(claimed);
  /* A second run of the same transfer (a new revision) waits for the first. */
  int64_t rev2, run2;
  CHECK_OK(store_revision_add(f.s, transfer, "{\"id\": 2}", NULL, 0, &rev2,
                              NULL, &err));
  CHECK_OK(store_run_add(f.s, rev2, 0, "event", &run2, &err));
  make_run(&f, "2", "#1002", NULL, NULL, &other_run);
  CHECK_OK(store_run_claim(f.s, "w2", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK(claimed);
  CHECK_EQ_INT(r.id, other_run); /* not run2: its transfer is busy */
  CHECK_OK(store_run_claim(f.s, "w2", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK(!claimed);

  StoreOutcome busy = {IEX_E_HTTP_5XX, "e-conomic answered 503", NULL};
  CHECK_OK(store_run_retry(f.s, run, "w", T0 + 120 * SEC, &busy, &next, &err));
  CHECK_OK(store_run_get(f.s, run, &f.a, &r, &err));
  CHECK_EQ_INT(r.status, STORE_RUN_WAITING);
  StoreTransfer t;
  CHECK_OK(store_transfer_get(f.s, transfer, &f.a, &t, &err));
  CHECK_EQ_INT(t.status, STORE_RUN_WAITING);
  CHECK_EQ_STR(t.code, "E_HTTP_5XX");
  /* run2 is due now and goes first; the retry waits for its time. */
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK(claimed);
  CHECK_EQ_INT(r.id, run2);
  StoreOutcome ok = {IEX_OK, NULL, NULL};
  CHECK_OK(store_run_finish(f.s, run2, "w", STORE_RUN_DONE, &ok, &err));
  CHECK_OK(store_run_finish(f.s, other_run, "w2", STORE_RUN_DONE, &ok, &err));
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK(!claimed);
  clock_fake_advance(&f.clock, 120 * SEC);
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK_FATAL(claimed);
  CHECK_EQ_INT(r.id, next);
  CHECK_EQ_INT(r.attempt, 2);
  CHECK_EQ_STR(r.reason, "retry");
  CHECK_EQ_INT(r.revision_id, revision);
  CHECK_EQ_INT(r.started_at_us,
               T0 + 120 * SEC); /* a retry is a new run with a new now() */

  StoreRun *runs;
  size_t n;
  CHECK_OK(store_run_list(f.s, transfer, &f.a, &runs, &n, &err));
  CHECK_EQ_INT(n, 3);
  fx_close(&f);
}

TEST(inactive_integrations_do_not_run) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t run;
  make_run(&f, "1", "#1001", NULL, NULL, &run);
  CHECK_OK(store_integration_deactivate(f.s, f.shop, &err));
  StoreRun r;
  bool claimed = true;
  CHECK_OK(store_run_claim(f.s, "w", SEC, &f.a, &r, &claimed, &err));
  CHECK(!claimed);
  CHECK_OK(store_integration_activate(f.s, f.shop, 0, &err));
  CHECK_OK(store_run_claim(f.s, "w", SEC, &f.a, &r, &claimed, &err));
  CHECK(claimed);
  CHECK_RC(store_run_claim(f.s, "", SEC, &f.a, &r, &claimed, &err),
           IEX_E_INVALID);
  CHECK_RC(store_run_claim(f.s, "w", 0, &f.a, &r, &claimed, &err),
           IEX_E_INVALID);
  fx_close(&f);
}

/* ---- Stages --------------------------------------------------------- */

TEST(stages_record_each_step) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t run;
  make_run(&f, "1", "#1001", NULL, NULL, &run);
  StoreStageNew in = {.run_id = run,
                      .kind = STORE_STAGE_RECEIVED,
                      .data_json = "{\"order\": {\"name\": \"#1001\"}}"};
  CHECK_OK(store_stage_add(f.s, &in, NULL, &err));
  clock_fake_advance(&f.clock, SEC);
  in = (StoreStageNew){
      .run_id = run,
      .step = "invoice",
      .kind = STORE_STAGE_ERROR,
      .data_json = "{\"status\": 422}",
      .outcome = {IEX_E_VALIDATION, "product 'SKU-9' does not exist",
                  "flows/shop.iexflow:22:14"},
      .started_at_us = T0 + 1,
      .finished_at_us = T0 + 2};
  int64_t id = 0;
  CHECK_OK(store_stage_add(f.s, &in, &id, &err));
  CHECK(id > 0);
  StoreStage *stages;
  size_t n;
  CHECK_OK(store_stage_list(f.s, run, &f.a, &stages, &n, &err));
  CHECK_FATAL(n == 2);
  CHECK_EQ_STR(stages[0].step, "");
  CHECK_EQ_INT(stages[0].kind, STORE_STAGE_RECEIVED);
  CHECK_EQ_STR(stages[0].code, "OK");
  CHECK_EQ_INT(stages[0].started_at_us, T0);
  CHECK_EQ_STR(stages[1].step, "invoice");
  CHECK_EQ_INT(stages[1].kind, STORE_STAGE_ERROR);
  CHECK_EQ_STR(stages[1].code, "E_VALIDATION");
  CHECK_EQ_STR(stages[1].location, "flows/shop.iexflow:22:14");
  CHECK_EQ_INT(stages[1].finished_at_us, T0 + 2);
  CHECK_EQ_STR(store_stage_kind_name(STORE_STAGE_RESPONSE), "response");
  in.data_json = "{";
  CHECK_RC(store_stage_add(f.s, &in, NULL, &err), IEX_E_INVALID_JSON);
  in.data_json = NULL;
  in.run_id = 999;
  CHECK_RC(store_stage_add(f.s, &in, NULL, &err), IEX_E_NOT_FOUND);
  fx_close(&f);
}

/* ---- Effects and usage ---------------------------------------------- */

static StoreEffectNew effect_new(int64_t transfer, int64_t revision,
                                 int64_t run, const char *key,
                                 const char *system, bool counts) {
  return (StoreEffectNew){
      .transfer_id = transfer,
      .revision_id = revision,
      .run_id = run,
      .key = key,
      .step = "invoice",
      .target_system = system,
      .operation = counts ? "invoice.create" : "invoice.update",
      .reference = "iex:shop-to-books:450789469",
      .counts_usage = counts};
}

TEST(effects_follow_their_state_machine) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t transfer, revision, run;
  make_run(&f, "450789469", "#1001", &transfer, &revision, &run);
  StoreEffectNew in =
      effect_new(transfer, revision, run, "invoice", "economic", true);
  StoreEffect e, again;
  bool created = false, found = true, counted = false;
  CHECK_OK(store_effect_find(f.s, transfer, "invoice", &f.a, &e, &found, &err));
  CHECK(!found);
  CHECK_OK(store_effect_reserve(f.s, &in, &f.a, &e, &created, &err));
  CHECK(created);
  CHECK_EQ_INT(e.state, STORE_EFFECT_RESERVED);
  CHECK_EQ_STR(e.reference, "iex:shop-to-books:450789469");
  CHECK_OK(store_effect_reserve(f.s, &in, &f.a, &again, &created, &err));
  CHECK(!created);
  CHECK_EQ_INT(again.id, e.id);

  /* Illegal moves are refused and change nothing. */
  CHECK_RC(store_effect_refused(f.s, e.id, "no", &err), IEX_E_EFFECT_STATE);
  CHECK_RC(store_effect_unknown(f.s, e.id, "no", &err), IEX_E_EFFECT_STATE);
  CHECK_CONTAINS(err.message, "is reserved and cannot become unknown");

  CHECK_OK(store_effect_start(f.s, e.id, run, &err));
  CHECK_RC(store_effect_start(f.s, e.id, run, &err),
           IEX_E_EFFECT_STATE); /* would send twice */
  StoreEffect *list;
  size_t n;
  CHECK_OK(store_effect_list_unsettled(f.s, &f.a, &list, &n, &err));
  CHECK_FATAL(n == 1);
  CHECK_EQ_INT(list[0].state, STORE_EFFECT_STARTED);
  CHECK_EQ_INT(list[0].attempts, 1);

  /* Crash after start: unknown, then found by lookup and adopted. */
  clock_fake_advance(&f.clock, SEC);
  CHECK_OK(store_effect_unknown(f.s, e.id, "timeout after sending", &err));
  clock_fake_advance(&f.clock, SEC);
  CHECK_OK(store_effect_unknown(f.s, e.id, "lookup found nothing yet", &err));
  CHECK_OK(store_effect_find(f.s, transfer, "invoice", &f.a, &e, &found, &err));
  CHECK(found);
  CHECK_EQ_INT(e.state, STORE_EFFECT_UNKNOWN);
  CHECK_EQ_INT(e.unknown_since_us,
               T0 + SEC); /* the first time it became unknown */
  CHECK_EQ_STR(e.reason, "lookup found nothing yet");
  CHECK_OK(store_effect_list_unsettled(f.s, &f.a, &list, &n, &err));
  CHECK_EQ_INT(n, 1);
  CHECK_OK(store_effect_done(f.s, e.id, "{\"draftInvoiceNumber\": 17}", "17",
                             &counted, &err));
  CHECK(counted);
  CHECK_OK(store_effect_find(f.s, transfer, "invoice", &f.a, &e, &found, &err));
  CHECK_EQ_INT(e.state, STORE_EFFECT_DONE);
  CHECK_EQ_STR(e.external_id, "17");
  CHECK_EQ_STR(e.result_json, "{\"draftInvoiceNumber\": 17}");
  CHECK(e.reason == NULL);
  CHECK_OK(store_effect_list_unsettled(f.s, &f.a, &list, &n, &err));
  CHECK_EQ_INT(n, 0);
  /* Done is final. */
  CHECK_RC(store_effect_start(f.s, e.id, run, &err), IEX_E_EFFECT_STATE);
  CHECK_RC(store_effect_done(f.s, e.id, NULL, NULL, &counted, &err),
           IEX_E_EFFECT_STATE);
  CHECK_RC(store_effect_unknown(f.s, e.id, "x", &err), IEX_E_EFFECT_STATE);

  /* Refused: nothing was created, so it may be started again. */
  in = effect_new(transfer, revision, run, "customer", "economic", false);
  CHECK_OK(store_effect_reserve(f.s, &in, &f.a, &e, &created, &err));
  CHECK_OK(store_effect_start(f.s, e.id, run, &err));
  CHECK_OK(store_effect_refused(f.s, e.id, "e-conomic: the VAT zone is missing",
                                &err));
  CHECK_RC(store_effect_done(f.s, e.id, NULL, NULL, &counted, &err),
           IEX_E_EFFECT_STATE);
  CHECK_OK(store_effect_start(f.s, e.id, run, &err));
  CHECK_OK(
      store_effect_find(f.s, transfer, "customer", &f.a, &e, &found, &err));
  CHECK_EQ_INT(e.attempts, 2);
  CHECK(e.reason == NULL);
  /* Reserved -> done: a lookup before the first send found the record. */
  in = effect_new(transfer, revision, run, "customer-match", "economic", false);
  CHECK_OK(store_effect_reserve(f.s, &in, &f.a, &e, &created, &err));
  CHECK_OK(store_effect_done(f.s, e.id, "{\"customerNumber\": 5}", "5",
                             &counted, &err));
  CHECK(!counted);

  CHECK_OK(store_effect_list(f.s, transfer, &f.a, &list, &n, &err));
  CHECK_EQ_INT(n, 3);
  CHECK_RC(store_effect_start(f.s, 999, run, &err), IEX_E_NOT_FOUND);
  CHECK_RC(store_effect_done(f.s, list[0].id, "{bad", NULL, &counted, &err),
           IEX_E_INVALID_JSON);
  in.key = NULL;
  CHECK_RC(store_effect_reserve(f.s, &in, &f.a, &e, &created, &err),
           IEX_E_INVALID);
  fx_close(&f);
}

/* Mark a new effect of `transfer` done at the clock's time. */
static bool effect_done_now(Fx *f, int64_t transfer, int64_t revision,
                            int64_t run, const char *key, const char *system,
                            bool counts) {
  StoreEffectNew in = effect_new(transfer, revision, run, key, system, counts);
  StoreEffect e;
  bool counted = false;
  CHECK_OK(store_effect_reserve(f->s, &in, &f->a, &e, NULL, &err));
  CHECK_OK(store_effect_start(f->s, e.id, run, &err));
  CHECK_OK(store_effect_done(f->s, e.id, "{}", "1", &counted, &err));
  return counted;
}

TEST(usage_counts_once_per_transfer_and_system) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t t1, r1, n1, t2, r2, n2;
  make_run(&f, "1", "#1001", &t1, &r1, &n1);
  make_run(&f, "2", "#1002", &t2, &r2, &n2);
  CHECK(effect_done_now(&f, t1, r1, n1, "invoice", "economic", true));
  /* The same order created again in the same system (updates: again,
  ** a re-created draft) does not count again. */
  CHECK(!effect_done_now(&f, t1, r1, n1, "invoice@r2", "economic", true));
  /* Updates never count. */
  CHECK(!effect_done_now(&f, t1, r1, n1, "invoice-update", "economic", false));
  /* Another receiving system counts once more (shop -> warehouse -> books:
  ** 2). */
  CHECK(effect_done_now(&f, t1, r1, n1, "shipment", "warehouse", true));
  CHECK(effect_done_now(&f, t2, r2, n2, "invoice", "economic", true));
  StoreUsage u;
  CHECK_OK(store_usage_month(f.s, 2024, 5, 2, 0, &u, &err));
  CHECK_EQ_INT(u.used, 3);
  CHECK_EQ_INT(u.included, 2);
  CHECK_EQ_INT(u.extra, 1);
  CHECK_OK(store_usage_month(f.s, 2024, 5, 200, 0, &u, &err));
  CHECK_EQ_INT(u.included, 3);
  CHECK_EQ_INT(u.extra, 0);
  CHECK_EQ_INT(sql_int(f.path, "SELECT count(*) FROM usage"), 3);
  CHECK_RC(store_usage_month(f.s, 2024, 13, 2, 0, &u, &err), IEX_E_INVALID);
  CHECK_RC(store_usage_month(f.s, 2024, 5, -1, 0, &u, &err), IEX_E_INVALID);
  fx_close(&f);
}

TEST(usage_months_are_utc) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t woo = add_integration(&f, "woo");
  int64_t t, r, n;
  /* The last microsecond of January (01:00 on 1 February in Copenhagen). */
  f.clock.now_us = clock_utc_us(2024, 2, 1, 0, 0, 0) - 1;
  make_run(&f, "jan", "#1", &t, &r, &n);
  CHECK(effect_done_now(&f, t, r, n, "invoice", "economic", true));
  f.clock.now_us = clock_utc_us(2024, 2, 1, 0, 0, 0);
  make_run(&f, "feb", "#2", &t, &r, &n);
  CHECK(effect_done_now(&f, t, r, n, "invoice", "economic", true));
  f.clock.now_us =
      clock_utc_us(2024, 3, 1, 0, 0, 0) - 1; /* leap day's last microsecond */
  int64_t tw, rw, nw;
  CHECK_OK(store_transfer_get_or_add(f.s, woo, "w1", "#W1", &tw, NULL, &err));
  CHECK_OK(store_revision_add(f.s, tw, "{}", NULL, 0, &rw, NULL, &err));
  CHECK_OK(store_run_add(f.s, rw, 0, "event", &nw, &err));
  CHECK(effect_done_now(&f, tw, rw, nw, "invoice", "economic", true));
  StoreUsage u;
  CHECK_OK(store_usage_month(f.s, 2024, 1, 10, 0, &u, &err));
  CHECK_EQ_INT(u.used, 1);
  CHECK_OK(store_usage_month(f.s, 2024, 2, 10, 0, &u, &err));
  CHECK_EQ_INT(u.used, 2);
  CHECK_OK(store_usage_month(f.s, 2024, 2, 10, woo, &u, &err));
  CHECK_EQ_INT(u.used, 1);
  CHECK_OK(store_usage_month(f.s, 2024, 3, 10, 0, &u, &err));
  CHECK_EQ_INT(u.used, 0);
  CHECK_OK(store_usage_month(f.s, 2023, 12, 10, 0, &u, &err));
  CHECK_EQ_INT(u.used, 0);
  fx_close(&f);
}

/* ---- Outbox --------------------------------------------------------- */

TEST(outbox_messages_go_out_once_their_state_change_commits) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t transfer, run;
  make_run(&f, "1", "#1001", &transfer, NULL, &run);
  StoreRun r;
  bool claimed, created;
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  StoreMessageNew m = {.key = "run-1-failed",
                       .kind = "email",
                       .recipient = "support@shop.dk",
                       .subject = "Order #1001 did not reach e-conomic",
                       .body = "product 'SKU-9' does not exist",
                       .transfer_id = transfer};
  StoreOutcome failed = {IEX_E_VALIDATION, "product 'SKU-9' does not exist",
                         NULL};

  /* Rolled back: neither the failure nor the e-mail. */
  CHECK_OK(store_begin(f.s, &err));
  CHECK_OK(store_run_finish(f.s, run, "w", STORE_RUN_FAILED, &failed, &err));
  CHECK_OK(store_outbox_add(f.s, &m, NULL, &created, &err));
  store_rollback(f.s);
  StoreMessage msg;
  CHECK_OK(
      store_outbox_claim(f.s, "mailer", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK(!claimed);
  CHECK_OK(store_run_get(f.s, run, &f.a, &r, &err));
  CHECK_EQ_INT(r.status, STORE_RUN_RUNNING);

  /* Committed: both, and a replay of the same change adds no second e-mail. */
  int64_t id1 = 0, id2 = 0;
  CHECK_OK(store_begin(f.s, &err));
  CHECK_OK(store_run_finish(f.s, run, "w", STORE_RUN_FAILED, &failed, &err));
  CHECK_OK(store_outbox_add(f.s, &m, &id1, &created, &err));
  CHECK(created);
  CHECK_OK(store_commit(f.s, &err));
  CHECK_OK(store_outbox_add(f.s, &m, &id2, &created, &err));
  CHECK(!created);
  CHECK_EQ_INT(id2, id1);

  CHECK_OK(
      store_outbox_claim(f.s, "mailer", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK_FATAL(claimed);
  CHECK_EQ_INT(msg.id, id1);
  CHECK_EQ_STR(msg.recipient, "support@shop.dk");
  CHECK_EQ_INT(msg.attempts, 1);
  CHECK_OK(
      store_outbox_claim(f.s, "mailer", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK(!claimed);                        /* leased */
  clock_fake_advance(&f.clock, 61 * SEC); /* the mailer died */
  CHECK_OK(
      store_outbox_claim(f.s, "mailer2", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK_FATAL(claimed);
  CHECK_EQ_INT(msg.attempts, 2);
  CHECK_OK(store_outbox_defer(f.s, msg.id, T0 + 300 * SEC, "SMTP 451 try later",
                              &err));
  CHECK_OK(
      store_outbox_claim(f.s, "mailer2", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK(!claimed);
  f.clock.now_us = T0 + 300 * SEC;
  CHECK_OK(
      store_outbox_claim(f.s, "mailer2", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK_FATAL(claimed);
  CHECK_OK(store_outbox_sent(f.s, msg.id, &err));
  clock_fake_advance(&f.clock, 3600 * SEC);
  CHECK_OK(
      store_outbox_claim(f.s, "mailer2", 60 * SEC, &f.a, &msg, &claimed, &err));
  CHECK(!claimed);
  CHECK_RC(store_outbox_defer(f.s, msg.id, T0, "late", &err),
           IEX_E_NOT_FOUND); /* sent */
  CHECK_RC(store_outbox_sent(f.s, 999, &err), IEX_E_NOT_FOUND);
  m.recipient = NULL;
  CHECK_RC(store_outbox_add(f.s, &m, NULL, NULL, &err), IEX_E_INVALID);
  fx_close(&f);
}

/* ---- The log, show, retry --failed ---------------------------------- */

/* A transfer ended with `status` at time `at`. */
static int64_t transfer_at(Fx *f, int64_t integration, const char *source,
                           const char *key, StoreRunStatus status, int64_t at) {
  int64_t t, r, n;
  StoreRun run;
  bool claimed;
  f->clock.now_us = at;
  CHECK_OK(store_transfer_get_or_add(f->s, integration, source, key, &t, NULL,
                                     &err));
  CHECK_OK(store_revision_add(f->s, t, "{}", NULL, 0, &r, NULL, &err));
  CHECK_OK(store_run_add(f->s, r, 0, "event", &n, &err));
  CHECK_OK(store_run_claim(f->s, "w", SEC, &f->a, &run, &claimed, &err));
  CHECK(claimed && run.id == n);
  StoreOutcome o = {status == STORE_RUN_FAILED ? IEX_FAIL : IEX_OK,
                    status == STORE_RUN_FAILED ? "order has no email" : NULL,
                    NULL};
  CHECK_OK(store_run_finish(f->s, n, "w", status, &o, &err));
  return t;
}

/* ---- Connection health: the circuit breaker -------------------------- */

static int outbox_count(Fx *f, const char *like) {
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox WHERE key LIKE '%s'",
           like);
  return (int)sql_int(f->path, sql);
}

static StoreMessageNew notice(const char *key) {
  return (StoreMessageNew){.key = key, .kind = "notification",
                           .recipient = "ops", .subject = "books paused",
                           .body = "e-conomic is down"};
}

/* Two handles on one file are two processes: they count the same
** failures, see the same pause, claim one trial between them, and tell a
** person once. */
TEST(circuit_is_shared_by_every_handle_on_the_store) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  Store *s1 = f.s, *s2 = open_at(&f, f.path, 0);
  CHECK_FATAL(s2 != NULL);
  StoreCircuitPolicy p = {.threshold = 3, .pause_us = 60 * SEC};
  StoreConnectionHealth h;
  CHECK_OK(store_connection_health(s1, f.shop, "books", &f.a, &h, &err));
  CHECK(h.state == STORE_CIRCUIT_CLOSED && h.failures == 0 &&
        h.updated_at_us == 0);
  StoreMessageNew m1 = notice("circuit-1"), m2 = notice("circuit-2"),
                  m3 = notice("circuit-3");
  bool opened = true, allowed = false;
  CHECK_OK(store_circuit_record(s1, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "no route", &m1, &opened, &err));
  CHECK(!opened);
  CHECK_OK(store_circuit_record(s2, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_HTTP_5XX, "503", &m2, &opened, &err));
  CHECK(!opened);
  CHECK_OK(store_circuit_allow(s1, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(allowed); /* 2 of 3: still closed */
  CHECK_OK(store_circuit_record(s1, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "timed out", &m3, &opened,
                                &err));
  CHECK(opened); /* the third failure in total, from either handle */
  /* A call that was out before it opened fails too: no second notice. */
  StoreMessageNew m4 = notice("circuit-4");
  CHECK_OK(store_circuit_record(s2, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "timed out", &m4, &opened,
                                &err));
  CHECK(!opened);
  CHECK_EQ_INT(outbox_count(&f, "circuit-%"), 1);
  CHECK_EQ_INT(outbox_count(&f, "circuit-3"), 1);

  clock_fake_advance(&f.clock, SEC);
  CHECK_OK(store_circuit_allow(s2, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(!allowed);
  CHECK(h.state == STORE_CIRCUIT_OPEN);
  CHECK_EQ_INT(h.retry_at_us, T0 + 60 * SEC);
  CHECK_EQ_INT(h.failures, 4);
  CHECK_EQ_STR(h.last_error_code, "E_NETWORK");
  CHECK_EQ_STR(h.last_error, "timed out");

  /* The pause is over: one trial between both handles. */
  clock_fake_advance(&f.clock, 59 * SEC);
  CHECK_OK(store_circuit_allow(s1, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(allowed);
  CHECK_OK(store_circuit_allow(s2, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(!allowed);
  CHECK(h.state == STORE_CIRCUIT_HALF_OPEN);
  CHECK_OK(store_circuit_allow(s1, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(!allowed);
  /* The trial's worker died: its claim lapses after a pause. */
  clock_fake_advance(&f.clock, 60 * SEC);
  CHECK_OK(store_circuit_allow(s2, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(allowed);
  /* A 429 is no verdict: the claim goes back, the next call is the trial. */
  CHECK_OK(store_circuit_record(s2, f.shop, "books", &p, STORE_CALL_NEUTRAL,
                                IEX_E_HTTP_429, NULL, NULL, &opened, &err));
  CHECK_OK(store_circuit_allow(s1, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(allowed);
  /* The trial fails: paused again, nobody told again. */
  StoreMessageNew m5 = notice("circuit-5");
  CHECK_OK(store_circuit_record(s1, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_HTTP_5XX, "502", &m5, &opened, &err));
  CHECK(!opened);
  CHECK_OK(store_connection_health(s2, f.shop, "books", &f.a, &h, &err));
  CHECK(h.state == STORE_CIRCUIT_OPEN);
  CHECK_EQ_INT(h.retry_at_us, clock_now_us(&f.clock.clock) + 60 * SEC);
  CHECK_EQ_INT(outbox_count(&f, "circuit-%"), 1);

  /* A person resumes it from another process. */
  bool was_paused = false;
  CHECK_OK(store_circuit_close(s2, f.shop, "books", &was_paused, &err));
  CHECK(was_paused);
  CHECK_OK(store_circuit_allow(s1, f.shop, "books", &p, &allowed, &f.a, &h,
                               &err));
  CHECK(allowed && h.state == STORE_CIRCUIT_CLOSED && h.failures == 0);
  CHECK_EQ_STR(h.last_error, "502"); /* kept, for people */
  CHECK_OK(store_circuit_close(s2, f.shop, "books", &was_paused, &err));
  CHECK(!was_paused);

  /* A success on a healthy connection writes nothing. */
  int64_t updated = h.updated_at_us;
  clock_fake_advance(&f.clock, SEC);
  CHECK_OK(store_circuit_record(s1, f.shop, "books", &p, STORE_CALL_OK,
                                IEX_OK, NULL, NULL, &opened, &err));
  CHECK_OK(store_connection_health(s1, f.shop, "books", &f.a, &h, &err));
  CHECK_EQ_INT(h.updated_at_us, updated);
  /* A success after failures closes and resets the count. */
  CHECK_OK(store_circuit_record(s1, f.shop, "books", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "x", NULL, &opened, &err));
  CHECK_OK(store_circuit_record(s2, f.shop, "books", &p, STORE_CALL_OK,
                                IEX_OK, NULL, NULL, &opened, &err));
  CHECK_OK(store_connection_health(s1, f.shop, "books", &f.a, &h, &err));
  CHECK_EQ_INT(h.failures, 0);

  StoreConnectionHealth *items;
  size_t n;
  CHECK_OK(store_circuit_record(s1, f.shop, "shop", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "y", NULL, &opened, &err));
  CHECK_OK(store_connection_health_list(s2, f.shop, &f.a, &items, &n, &err));
  CHECK_FATAL(n == 2);
  CHECK_EQ_STR(items[0].alias, "books");
  CHECK_EQ_STR(items[1].alias, "shop");
  CHECK_EQ_INT(items[1].failures, 1);
  CHECK_RC(store_circuit_record(s1, f.shop, "", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "y", NULL, &opened, &err),
           IEX_E_INVALID);
  CHECK_RC(store_circuit_record(s1, 999, "books", &p, STORE_CALL_FAILED,
                                IEX_E_NETWORK, "y", NULL, &opened, &err),
           IEX_E_NOT_FOUND);
  store_close(s2);
  fx_close(&f);
}

/* Processes that record failures at the same moment lose none of them, and
** exactly one of them opens the circuit. */
TEST(circuit_records_from_many_processes_lose_nothing) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  enum { PROCS = 4, EACH = 15 };
  StoreCircuitPolicy p = {.threshold = PROCS * EACH - 5, .pause_us = 60 * SEC};
  pid_t pids[PROCS];
  for (int i = 0; i < PROCS; i++) {
    pids[i] = fork();
    CHECK_FATAL(pids[i] >= 0);
    if (pids[i] == 0) {
      Store *s = NULL;
      StoreOptions o = {.clock = &f.clock.clock, .busy_timeout_ms = 30000};
      Err e;
      err_init(&e);
      if (store_open(f.path, &o, &s, &e) != IEX_OK) _exit(100);
      int opened_here = 0;
      for (int k = 0; k < EACH; k++) {
        char key[64];
        snprintf(key, sizeof key, "circuit-%d-%d", i, k);
        StoreMessageNew m = notice(key);
        bool opened = false;
        if (store_circuit_record(s, f.shop, "books", &p, STORE_CALL_FAILED,
                                 IEX_E_NETWORK, "down", &m, &opened,
                                 &e) != IEX_OK)
          _exit(101);
        opened_here += opened;
      }
      store_close(s);
      _exit(opened_here);
    }
  }
  int opened_total = 0;
  for (int i = 0; i < PROCS; i++) {
    int st = 0;
    waitpid(pids[i], &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) < 100);
    if (WIFEXITED(st)) opened_total += WEXITSTATUS(st);
  }
  CHECK_EQ_INT(opened_total, 1);
  StoreConnectionHealth h;
  CHECK_OK(store_connection_health(f.s, f.shop, "books", &f.a, &h, &err));
  CHECK_EQ_INT(h.failures, PROCS * EACH);
  CHECK(h.state == STORE_CIRCUIT_OPEN);
  CHECK_EQ_INT(outbox_count(&f, "circuit-%"), 1);
  fx_close(&f);
}

/* After a resume, the retries of the integration's waiting transfers are
** due at once; other integrations' and first runs keep their time. */
TEST(runs_waiting_for_a_pause_are_due_now_after_a_resume) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t run1, run2, next1 = 0, next2 = 0;
  make_run(&f, "1", "#1001", NULL, NULL, &run1);
  make_run(&f, "2", "#1002", NULL, NULL, &run2);
  StoreRun r;
  bool claimed;
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  StoreOutcome paused = {IEX_E_CIRCUIT_OPEN, "connection books is paused",
                         NULL};
  StoreOutcome broken = {IEX_E_HTTP_5XX, "503", NULL};
  CHECK_OK(store_run_retry(f.s, run1, "w", T0 + 900 * SEC, &paused, &next1,
                           &err));
  CHECK_OK(store_run_retry(f.s, run2, "w", T0 + 900 * SEC, &broken, &next2,
                           &err));
  /* Another integration's waiting transfer, and a first run due later. */
  int64_t other = add_integration(&f, "other"), t = 0, rev = 0, orun = 0,
          onext = 0, later = 0;
  CHECK_OK(store_transfer_get_or_add(f.s, other, "9", "#9", &t, NULL, &err));
  CHECK_OK(store_revision_add(f.s, t, "{\"id\": 9}", NULL, 0, &rev, NULL,
                              &err));
  CHECK_OK(store_run_add(f.s, rev, 0, "event", &orun, &err));
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  CHECK_OK(store_run_retry(f.s, orun, "w", T0 + 900 * SEC, &paused, &onext,
                           &err));
  int64_t t3 = 0, rev3 = 0;
  CHECK_OK(store_transfer_get_or_add(f.s, f.shop, "3", "#1003", &t3, NULL,
                                     &err));
  CHECK_OK(store_revision_add(f.s, t3, "{\"id\": 3}", NULL, 0, &rev3, NULL,
                              &err));
  CHECK_OK(store_run_add(f.s, rev3, T0 + 900 * SEC, "event", &later, &err));

  size_t n = 99;
  CHECK_OK(store_runs_due_now(f.s, f.shop, &n, &err));
  CHECK_EQ_INT(n, 2);
  CHECK_OK(store_run_get(f.s, next1, &f.a, &r, &err));
  CHECK_EQ_INT(r.due_at_us, T0);
  CHECK_OK(store_run_get(f.s, next2, &f.a, &r, &err));
  CHECK_EQ_INT(r.due_at_us, T0);
  CHECK_OK(store_run_get(f.s, onext, &f.a, &r, &err));
  CHECK_EQ_INT(r.due_at_us, T0 + 900 * SEC);
  CHECK_OK(store_run_get(f.s, later, &f.a, &r, &err));
  CHECK_EQ_INT(r.due_at_us, T0 + 900 * SEC);
  CHECK_RC(store_runs_due_now(f.s, 999, &n, &err), IEX_E_NOT_FOUND);
  fx_close(&f);
}

TEST(log_filters_and_orders_newest_first) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t woo = add_integration(&f, "woo");
  int64_t day = 86400 * SEC;
  int64_t a = transfer_at(&f, f.shop, "1", "#1001", STORE_RUN_DONE, T0);
  int64_t b = transfer_at(&f, f.shop, "2", "#1002", STORE_RUN_FAILED, T0 + day);
  int64_t c =
      transfer_at(&f, woo, "3", "#1001", STORE_RUN_SKIPPED, T0 + 2 * day);
  int64_t d =
      transfer_at(&f, woo, "4", "#1004", STORE_RUN_FAILED, T0 + 3 * day);

  StoreTransfer *items;
  size_t n;
  StoreLogFilter all = {0};
  CHECK_OK(store_log(f.s, &all, &f.a, &items, &n, &err));
  CHECK_FATAL(n == 4);
  CHECK(items[0].id == d && items[1].id == c && items[2].id == b &&
        items[3].id == a);
  CHECK_EQ_INT(items[0].n_runs, 1);
  CHECK_EQ_INT(items[0].n_revisions, 1);
  CHECK_EQ_STR(items[0].integration_name, "woo");
  CHECK_EQ_STR(items[2].message, "order has no email");

  StoreLogFilter by_status = {.status = STORE_RUN_FAILED};
  CHECK_OK(store_log(f.s, &by_status, &f.a, &items, &n, &err));
  CHECK(n == 2 && items[0].id == d && items[1].id == b);
  StoreLogFilter by_integration = {.integration_id = woo};
  CHECK_OK(store_log(f.s, &by_integration, &f.a, &items, &n, &err));
  CHECK(n == 2 && items[0].id == d && items[1].id == c);
  StoreLogFilter by_key = {.key = "1001"}; /* without the '#' */
  CHECK_OK(store_log(f.s, &by_key, &f.a, &items, &n, &err));
  CHECK(n == 2 && items[0].id == c && items[1].id == a);
  by_key.key = "#1002";
  CHECK_OK(store_log(f.s, &by_key, &f.a, &items, &n, &err));
  CHECK(n == 1 && items[0].id == b);
  by_key.key = "4"; /* the source id */
  CHECK_OK(store_log(f.s, &by_key, &f.a, &items, &n, &err));
  CHECK(n == 1 && items[0].id == d);
  StoreLogFilter range = {.from_us = T0 + day,
                          .to_us = T0 + 3 * day}; /* [from, to) */
  CHECK_OK(store_log(f.s, &range, &f.a, &items, &n, &err));
  CHECK(n == 2 && items[0].id == c && items[1].id == b);
  StoreLogFilter combined = {.status = STORE_RUN_FAILED,
                             .integration_id = woo,
                             .key = "1004",
                             .from_us = T0,
                             .to_us = T0 + 10 * day};
  CHECK_OK(store_log(f.s, &combined, &f.a, &items, &n, &err));
  CHECK(n == 1 && items[0].id == d);
  StoreLogFilter page = {.limit = 2, .offset = 1};
  CHECK_OK(store_log(f.s, &page, &f.a, &items, &n, &err));
  CHECK(n == 2 && items[0].id == c && items[1].id == b);
  StoreLogFilter none = {.key = "9999"};
  CHECK_OK(store_log(f.s, &none, &f.a, &items, &n, &err));
  CHECK_EQ_INT(n, 0);
  CHECK_OK(store_log(f.s, NULL, &f.a, &items, &n, &err));
  CHECK_EQ_INT(n, 4);

  /* retry --failed: the failed transfers, oldest first. */
  CHECK_OK(store_transfers_failed(f.s, 0, &f.a, &items, &n, &err));
  CHECK(n == 2 && items[0].id == b && items[1].id == d);
  CHECK_FATAL(n == 2);
  int64_t retry_run = 0;
  CHECK_OK(store_run_add(f.s, items[0].latest_revision_id, 0, "retry --failed",
                         &retry_run, &err));
  StoreTransfer again;
  CHECK_OK(store_transfer_get(f.s, b, &f.a, &again, &err));
  CHECK_EQ_INT(again.status, STORE_RUN_QUEUED);
  CHECK_EQ_INT(again.n_runs, 2);
  CHECK_OK(store_transfers_failed(f.s, woo, &f.a, &items, &n, &err));
  CHECK(n == 1 && items[0].id == d);
  CHECK_OK(store_transfers_failed(f.s, f.shop, &f.a, &items, &n, &err));
  CHECK_EQ_INT(n, 0);  /* b is queued again */
  fx_close(&f);
}

TEST(show_transfer_gathers_everything) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t transfer, revision, run;
  make_run(&f, "450789469", "#1001", &transfer, &revision, &run);
  StoreEvent ev = {.integration_id = f.shop,
                   .dedup_key = "evt-1001",
                   .source = "webhook",
                   .body = STR_LIT("{}")};
  int64_t event;
  CHECK_OK(store_inbox_add(f.s, &ev, &event, NULL, &err));
  CHECK_OK(store_inbox_add(f.s, &ev, &event, NULL, &err));
  CHECK_OK(store_inbox_done(f.s, event, transfer, "new revision", &err));
  StoreRun r;
  bool claimed;
  CHECK_OK(store_run_claim(f.s, "w", 60 * SEC, &f.a, &r, &claimed, &err));
  StoreStageNew stage = {
      .run_id = run, .kind = STORE_STAGE_RECEIVED, .data_json = "{\"a\": 1}"};
  CHECK_OK(store_stage_add(f.s, &stage, NULL, &err));
  stage.kind = STORE_STAGE_REQUEST;
  stage.step = "invoice";
  CHECK_OK(store_stage_add(f.s, &stage, NULL, &err));
  CHECK(effect_done_now(&f, transfer, revision, run, "invoice", "economic",
                        true));
  StoreOutcome ok = {IEX_OK, NULL, NULL};
  CHECK_OK(store_run_finish(f.s, run, "w", STORE_RUN_DONE, &ok, &err));
  int64_t other;
  make_run(&f, "2", "#1002", NULL, NULL,
           &other); /* must not leak into the first */

  StoreTransferDetail d;
  CHECK_OK(store_transfer_show(f.s, transfer, &f.a, &d, &err));
  CHECK_EQ_STR(d.transfer.display_key, "#1001");
  CHECK_EQ_INT(d.transfer.status, STORE_RUN_DONE);
  CHECK_EQ_INT(d.n_revisions, 1);
  CHECK_EQ_INT(d.n_runs, 1);
  CHECK_EQ_INT(d.n_stages, 2);
  CHECK_EQ_INT(d.n_effects, 1);
  CHECK_FATAL(d.n_events == 1);
  CHECK_EQ_STR(d.events[0].dedup_key, "evt-1001");
  CHECK_EQ_INT(d.events[0].n_duplicates, 1); /* "duplicate, ignored" */
  CHECK_FATAL(d.n_stages == 2 && d.n_effects == 1);
  CHECK_EQ_INT(d.stages[1].kind, STORE_STAGE_REQUEST);
  CHECK_EQ_INT(d.effects[0].state, STORE_EFFECT_DONE);
  CHECK_RC(store_transfer_show(f.s, 999, &f.a, &d, &err), IEX_E_NOT_FOUND);
  /* Inside a transaction it reads the transaction's own writes. */
  CHECK_OK(store_begin(f.s, &err));
  CHECK_OK(store_revision_add(f.s, transfer, "{\"b\": 2}", NULL, 0, &revision,
                              NULL, &err));
  CHECK_OK(store_transfer_show(f.s, transfer, &f.a, &d, &err));
  CHECK_EQ_INT(d.n_revisions, 2);
  store_rollback(f.s);
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
  RUN(inbox_dedups_and_marks_processed);
  RUN(cursor_moves_with_its_poll_or_not_at_all);
  RUN(transactions_misuse_and_partial_failure);
  RUN(transfers_and_revisions_only_on_change);
  RUN(runs_are_claimed_with_leases);
  RUN(runs_retry_later_and_never_run_one_transfer_twice);
  RUN(inactive_integrations_do_not_run);
  RUN(stages_record_each_step);
  RUN(effects_follow_their_state_machine);
  RUN(usage_counts_once_per_transfer_and_system);
  RUN(usage_months_are_utc);
  RUN(outbox_messages_go_out_once_their_state_change_commits);
  RUN(circuit_is_shared_by_every_handle_on_the_store);
  RUN(circuit_records_from_many_processes_lose_nothing);
  RUN(runs_waiting_for_a_pause_are_due_now_after_a_resume);
  RUN(log_filters_and_orders_newest_first);
  RUN(show_transfer_gathers_everything);
  RUN(a_locked_store_says_so);
  RUN(canary_secrets_never_reach_the_file);
  return check_done();
}
