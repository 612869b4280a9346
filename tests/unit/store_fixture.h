/*
** The fixture the store's unit tests share (tests/unit/test_store*.c): a
** store in a fresh temporary folder with a fake clock, one integration in
** it, checks that show the store's error message when a call fails, and a
** few builders (a queued run, an effect, raw SQL on the file). Each test
** program is one file linked with check.o and libiex.a only, so everything
** here is `static` (inline, so a program need not use all of it).
*/
#ifndef IEX_TESTS_UNIT_STORE_FIXTURE_H
#define IEX_TESTS_UNIT_STORE_FIXTURE_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/util.h"
#include "runtime/clock.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "tests/lib/check.h"
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

static inline Store *open_at(Fx *f, const char *path, int busy_ms) {
  StoreOptions o = {.clock = &f->clock.clock, .busy_timeout_ms = busy_ms};
  Store *s = NULL;
  CHECK_OK(store_open(path, &o, &s, &err));
  return s;
}

static inline int64_t add_integration(Fx *f, const char *name) {
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

static inline bool fx_open(Fx *f) {
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

static inline void remove_dir(const char *dir) {
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

static inline void fx_close(Fx *f) {
  store_close(f->s);
  arena_fini(&f->a);
  remove_dir(f->dir);
}

/* A transfer with one revision and one queued run; ids out. */
static inline void make_run(Fx *f, const char *source_id, const char *key,
                            int64_t *transfer, int64_t *revision,
                            int64_t *run) {
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
static inline int64_t sql_int(const char *path, const char *sql) {
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

/* ---- Effects -------------------------------------------------------- */

static inline StoreEffectNew effect_new(int64_t transfer, int64_t revision,
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

/* Mark a new effect of `transfer` done at the clock's time. */
static inline bool effect_done_now(Fx *f, int64_t transfer,
                                   int64_t revision, int64_t run,
                                   const char *key, const char *system,
                                   bool counts) {
  StoreEffectNew in = effect_new(transfer, revision, run, key, system, counts);
  StoreEffect e;
  bool counted = false;
  CHECK_OK(store_effect_reserve(f->s, &in, &f->a, &e, NULL, &err));
  CHECK_OK(store_effect_start(f->s, e.id, run, &err));
  CHECK_OK(store_effect_done(f->s, e.id, "{}", "1", &counted, &err));
  return counted;
}

#endif /* IEX_TESTS_UNIT_STORE_FIXTURE_H */
