/*
** The store under failing I/O: every injected error becomes a clean store
** code with a message, never a crash, a corrupt file or half a
** transaction.
**
** A fault VFS sits between SQLite and the real file system (the seam
** STYLE.md 3.9 asks for). It counts reads, writes, syncs and truncations
** and fails the N-th one: once (transient), or that one and every later
** one (persistent: the disk went away), with an I/O error or, for writes,
** with "disk full". A short workload drives the store the way the
** executor will (receive, accept, claim, effect, stage, finish with its
** e-mail, poll with its cursor), acknowledging every call that returned
** IEX_OK. It runs once without faults to count the operations, then once
** per N for every N and every mode, each time on a fresh copy of the same
** store. After each run the store is reopened normally and must pass
** integrity_check and foreign_key_check, show every acknowledged write,
** and keep the invariants of tests/fault/store_oracle.h.
**
** IEX_FAULT_DEBUG=1 prints every call with the operation count and stops
** at the first problem.
*/
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/util.h"
#include "runtime/store.h"
#include "tests/fault/store_oracle.h"
#include "tests/lib/check.h"

#define SEC INT64_C(1000000)

/* ---- The fault VFS --------------------------------------------------- */

enum { OP_READ = 1, OP_WRITE = 2, OP_SYNC = 4, OP_TRUNCATE = 8, OP_ALL = 15 };

typedef struct Fault {
  int ops;         /* which operations are counted (OP_* bits) */
  long fail_at;    /* the count at which to fail; 0: never */
  bool persistent; /* keep failing after the first */
  bool disk_full;  /* fail writes with SQLITE_FULL instead of an I/O error */
  long count;      /* operations counted so far */
  long n_failed;   /* operations failed so far */
} Fault;

static Fault fault;

/* Should this operation of kind `op` fail? */
static bool fail_now(int op) {
  if (!(fault.ops & op)) return false;
  fault.count++;
  bool fail =
      fault.fail_at > 0 && (fault.count == fault.fail_at ||
                            (fault.persistent && fault.count > fault.fail_at));
  if (fail) fault.n_failed++;
  return fail;
}

typedef struct FaultFile {
  sqlite3_file base;  /* must be first; its methods are fault_io */
  sqlite3_file *real; /* the real file, right after this struct */
} FaultFile;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_io_methods fault_io;

#define REAL(f) (((FaultFile *)(f))->real)

static int f_close(sqlite3_file *f) {
  return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off) {
  if (fail_now(OP_READ)) return SQLITE_IOERR_READ;
  return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off) {
  if (fail_now(OP_WRITE))
    return fault.disk_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
  if (fail_now(OP_TRUNCATE)) return SQLITE_IOERR_TRUNCATE;
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
/* A sync that succeeds returns at once: this program never loses power,
** so waiting for the disk would only make the sweep slow. */
static int f_sync(sqlite3_file *f, int flags) {
  return fail_now(OP_SYNC) ? SQLITE_IOERR_FSYNC : SQLITE_OK;
}
static int f_file_size(sqlite3_file *f, sqlite3_int64 *size) {
  return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int level) {
  return REAL(f)->pMethods->xLock(REAL(f), level);
}
static int f_unlock(sqlite3_file *f, int level) {
  return REAL(f)->pMethods->xUnlock(REAL(f), level);
}
static int f_check_reserved(sqlite3_file *f, int *out) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_file_control(sqlite3_file *f, int op, void *arg) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector_size(sqlite3_file *f) {
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_device(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int page, int size, int extend,
                     void volatile **out) {
  return REAL(f)->pMethods->xShmMap(REAL(f), page, size, extend, out);
}
static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
  return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) {
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int delete_flag) {
  return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out) {
  return REAL(f)->pMethods->xFetch(REAL(f), off, n, out);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
  return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                  int flags, int *out_flags) {
  FaultFile *ff = (FaultFile *)file;
  ff->real = (sqlite3_file *)&ff[1];
  int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
  ff->base.pMethods = rc == SQLITE_OK && ff->real->pMethods ? &fault_io : NULL;
  return rc;
}

static void fault_vfs_register(void) {
  real_vfs = sqlite3_vfs_find(NULL);
  fault_vfs = *real_vfs;
  fault_vfs.zName = "iex-fault";
  fault_vfs.szOsFile = (int)sizeof(FaultFile) + real_vfs->szOsFile;
  fault_vfs.xOpen = f_open;
  fault_vfs.pNext = NULL;
  fault_io = (sqlite3_io_methods){
      .iVersion = 3,
      .xClose = f_close,
      .xRead = f_read,
      .xWrite = f_write,
      .xTruncate = f_truncate,
      .xSync = f_sync,
      .xFileSize = f_file_size,
      .xLock = f_lock,
      .xUnlock = f_unlock,
      .xCheckReservedLock = f_check_reserved,
      .xFileControl = f_file_control,
      .xSectorSize = f_sector_size,
      .xDeviceCharacteristics = f_device,
      .xShmMap = f_shm_map,
      .xShmLock = f_shm_lock,
      .xShmBarrier = f_shm_barrier,
      .xShmUnmap = f_shm_unmap,
      .xFetch = f_fetch,
      .xUnfetch = f_unfetch,
  };
  sqlite3_vfs_register(&fault_vfs, 0);
}

/* ---- The workload ---------------------------------------------------- */

typedef struct Work {
  Store *s;
  Arena a;
  int64_t integration;
  Ack *acks; /* what returned IEX_OK */
  size_t n_acks, cap_acks;
  long n_errors; /* calls that failed */
  char bad[700]; /* the first failure that was not clean; "" if none */
} Work;

static const char *path_work;

/* Record the outcome of a call: an acknowledgement on success; on failure
** check that it is a clean store error. Returns rc == IEX_OK. */
static bool outcome(Work *w, IexStatus rc, const Err *err, const char *kind,
                    const char *what) {
  if (getenv("IEX_FAULT_DEBUG") && rc == IEX_OK)
    fprintf(stderr, "  op %ld: ok %s %s\n", fault.count, kind ? kind : "-",
            what);
  if (rc == IEX_OK) {
    if (kind) {
      Ack a = {{0}, {0}};
      snprintf(a.kind, sizeof a.kind, "%s", kind);
      snprintf(a.what, sizeof a.what, "%s", what);
      VEC_PUSH(w->acks, w->n_acks, w->cap_acks, a);
    }
    return true;
  }
  w->n_errors++;
  if (getenv("IEX_FAULT_DEBUG"))
    fprintf(stderr, "  op %ld: `%s %s` -> %s: %s\n", fault.count,
            kind ? kind : "-", what, status_name(rc), err_text(err));
  bool clean = (rc == IEX_E_STORE_IO || rc == IEX_E_STORE_FULL ||
                rc == IEX_E_STORE_OPEN) &&
               strstr(err->message, path_work) != NULL;
  if (!clean && !w->bad[0])
    snprintf(w->bad, sizeof w->bad, "%s (%s) while doing `%s %s`",
             status_name(rc), err_text(err), kind ? kind : "?", what);
  return false;
}

#define TRY(w, call, kind, what) \
  outcome((w), (err_init(&err), (call)), &err, (kind), (what))

static void order_once(Work *w, long n) {
  Err err;
  char key[32], poll_key[32], src[32], display[32], body[96], cursor[32],
      ref[48], mail[48];
  snprintf(key, sizeof key, "evt-%ld", n);
  snprintf(poll_key, sizeof poll_key, "poll-%ld", n);
  snprintf(src, sizeof src, "src-%ld", n);
  snprintf(display, sizeof display, "#%ld", n);
  snprintf(body, sizeof body, "{\"id\": %ld, \"total\": \"12.10\"}", n);
  snprintf(cursor, sizeof cursor, "%08ld", n);
  snprintf(ref, sizeof ref, "order-%ld", n);
  snprintf(mail, sizeof mail, "done-%ld", n);
  char what[32];
  snprintf(what, sizeof what, "%ld", n);

  /* A caller that ignores a failure inside its transaction and commits
  ** anyway: the commit must not report success for changes SQLite has
  ** already rolled back. */
  char pair_a[32], pair_b[32];
  snprintf(pair_a, sizeof pair_a, "pair-%ld-a", n);
  snprintf(pair_b, sizeof pair_b, "pair-%ld-b", n);
  StoreEvent pa = {.integration_id = w->integration,
                   .dedup_key = pair_a,
                   .source = "import"};
  StoreEvent pb = {.integration_id = w->integration,
                   .dedup_key = pair_b,
                   .source = "import"};
  if (TRY(w, store_begin(w->s, &err), NULL, "begin")) {
    bool a_ok =
        TRY(w, store_inbox_add(w->s, &pa, NULL, NULL, &err), NULL, "pair a");
    bool b_ok =
        TRY(w, store_inbox_add(w->s, &pb, NULL, NULL, &err), NULL, "pair b");
    if (TRY(w, store_commit(w->s, &err), NULL, "pair commit")) {
      if (a_ok) outcome(w, IEX_OK, &err, "inbox", pair_a);
      if (b_ok) outcome(w, IEX_OK, &err, "inbox", pair_b);
    }
  }

  StoreEvent ev = {.integration_id = w->integration,
                   .dedup_key = key,
                   .source = "webhook",
                   .headers_json = "{\"Authorization\": \"Bearer x\"}",
                   .body = str_from_cstr(body)};
  int64_t inbox_id = 0, transfer = 0, revision = 0;
  bool is_new = false;
  if (!TRY(w, store_inbox_add(w->s, &ev, &inbox_id, NULL, &err), "inbox", key))
    return;

  bool ok =
      TRY(w, store_begin(w->s, &err), NULL, "begin") &&
      TRY(w,
          store_transfer_get_or_add(w->s, w->integration, src, display,
                                    &transfer, NULL, &err),
          NULL, "transfer") &&
      TRY(w,
          store_revision_add(w->s, transfer, body, NULL, inbox_id, &revision,
                             &is_new, &err),
          NULL, "revision") &&
      (!is_new || TRY(w, store_run_add(w->s, revision, 0, "event", NULL, &err),
                      NULL, "run")) &&
      TRY(w, store_inbox_done(w->s, inbox_id, transfer, "new", &err), NULL,
          "inbox done") &&
      TRY(w, store_commit(w->s, &err), "accepted", key);
  if (!ok) {
    store_rollback(w->s);
    return;
  }

  StoreRun run;
  bool claimed = false;
  if (!TRY(w,
           store_run_claim(w->s, "worker", 30 * SEC, &w->a, &run, &claimed,
                           &err),
           NULL, "claim") ||
      !claimed)
    return;
  /* The claimed run may be an earlier order's whose claim failed before:
  ** acknowledge under the order it belongs to. */
  StoreTransfer t;
  if (!TRY(w, store_transfer_get(w->s, run.transfer_id, &w->a, &t, &err), NULL,
           "transfer"))
    return;
  snprintf(what, sizeof what, "%s", t.source_id + 4);
  snprintf(ref, sizeof ref, "order-%s", what);
  snprintf(mail, sizeof mail, "done-%s", what);
  StoreEffectNew in = {.transfer_id = run.transfer_id,
                       .revision_id = run.revision_id,
                       .run_id = run.id,
                       .key = "invoice",
                       .step = "invoice",
                       .target_system = "economic",
                       .operation = "invoice.create",
                       .reference = ref,
                       .counts_usage = true};
  StoreEffect e;
  StoreStageNew stage = {.run_id = run.id,
                         .step = "invoice",
                         .kind = STORE_STAGE_RESPONSE,
                         .data_json = "{\"status\": 201}"};
  StoreMessageNew m = {.key = mail,
                       .kind = "email",
                       .recipient = "ops@shop.dk",
                       .subject = "done",
                       .body = "ok"};
  StoreOutcome done = {IEX_OK, NULL, NULL};
  ok = TRY(w, store_effect_reserve(w->s, &in, &w->a, &e, NULL, &err), NULL,
           "reserve") &&
       TRY(w, store_effect_start(w->s, e.id, run.id, &err), "started", what) &&
       TRY(w, store_effect_done(w->s, e.id, "{}", ref, NULL, &err), "done",
           what) &&
       TRY(w, store_stage_add(w->s, &stage, NULL, &err), "stage", what);
  if (!ok) return;
  ok =
      TRY(w, store_begin(w->s, &err), NULL, "begin") &&
      TRY(w,
          store_run_finish(w->s, run.id, "worker", STORE_RUN_DONE, &done, &err),
          NULL, "finish") &&
      TRY(w, store_outbox_add(w->s, &m, NULL, NULL, &err), NULL, "outbox") &&
      TRY(w, store_commit(w->s, &err), "finished", what);
  if (!ok) {
    store_rollback(w->s);
    return;
  }

  StoreEvent poll_ev = {.integration_id = w->integration,
                        .dedup_key = poll_key,
                        .source = "poll",
                        .body = str_from_cstr(body)};
  ok = TRY(w, store_begin(w->s, &err), NULL, "begin") &&
       TRY(w, store_inbox_add(w->s, &poll_ev, NULL, NULL, &err), NULL,
           "poll event") &&
       TRY(w, store_cursor_set(w->s, w->integration, "order", cursor, &err),
           NULL, "cursor") &&
       TRY(w, store_commit(w->s, &err), "cursor", cursor);
  if (!ok) store_rollback(w->s);
}

/* Open the work copy through the fault VFS and run `n_orders` orders. */
static void workload(Work *w, long n_orders) {
  Err err;
  StoreOptions o = {.sqlite_vfs = "iex-fault", .busy_timeout_ms = 100};
  arena_init(&w->a);
  if (TRY(w, store_open(path_work, &o, &w->s, &err), NULL, "open")) {
    StoreIntegration it;
    if (TRY(w, store_integration_find(w->s, "io-test", &w->a, &it, &err), NULL,
            "find")) {
      w->integration = it.id;
      for (long n = 1; n <= n_orders; n++) order_once(w, n);
    }
  }
  store_close(w->s); /* must be safe whatever failed */
  arena_fini(&w->a);
}

/* Copy the clean store to the work path, without -wal and -shm. */
static bool fresh_copy(const char *from) {
  char p[600];
  size_t len = 0;
  char why[128];
  char *data = read_file(from, (size_t)64 << 20, &len, why, sizeof why);
  if (!data) return false;
  snprintf(p, sizeof p, "%s-wal", path_work);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path_work);
  unlink(p);
  int fd = open(path_work, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
  if (fd >= 0) close(fd);
  free(data);
  return ok;
}

/* After a run: the store opens normally, is intact, holds what was
** acknowledged and keeps the invariants. Returns a problem or "". */
static void check_after(const Work *w, char *problem, size_t size) {
  Store *s = NULL;
  Err err;
  err_init(&err);
  problem[0] = '\0';
  if (store_open(path_work, NULL, &s, &err) != IEX_OK ||
      store_check(s, &err) != IEX_OK) {
    snprintf(problem, size, "reopening: %s", err_text(&err));
    store_close(s);
    return;
  }
  store_close(s);
  sqlite3 *db = NULL;
  sqlite3_open_v2(path_work, &db, SQLITE_OPEN_READONLY, NULL);
  for (size_t i = 0; i < w->n_acks && !problem[0]; i++)
    if (!ack_holds(db, &w->acks[i]))
      snprintf(problem, size, "acknowledged `%s %s` is not in the store",
               w->acks[i].kind, w->acks[i].what);
  for (size_t i = 0; i < ARRAY_LEN(invariants) && !problem[0]; i++)
    if (count(db, invariants[i].sql, NULL) != 0)
      snprintf(problem, size, "broken: %s", invariants[i].rule);
  sqlite3_close(db);
}

static char path_base[512], path_work_buf[512];

/* Run the workload failing the N-th counted operation for every N. A
** transient fault runs two orders, so that the second shows the store
** carries on after the failure; after a persistent one every call fails,
** so one order covers every point where the first failure can land. */
static void sweep(const char *mode, int ops, bool persistent, bool disk_full) {
  long n_orders = persistent ? 1 : 2;
  /* Count the operations of a run without faults. */
  Work w = {0};
  fault = (Fault){.ops = ops};
  CHECK_FATAL(fresh_copy(path_base));
  workload(&w, n_orders);
  long total = fault.count;
  if (w.n_errors)
    check_fail(__FILE__, __LINE__, "%s: the run without faults failed", mode);
  free(w.acks);
  long runs = 0, failed_calls = 0, problems = 0;
  for (long n = 1; n <= total && problems < 3; n++) {
    w = (Work){0};
    if (getenv("IEX_FAULT_DEBUG")) fprintf(stderr, "run %ld\n", n);
    fault = (Fault){.ops = ops,
                    .fail_at = n,
                    .persistent = persistent,
                    .disk_full = disk_full};
    CHECK_FATAL(fresh_copy(path_base));
    workload(&w, n_orders);
    fault.fail_at = 0;
    runs++;
    failed_calls += w.n_errors;
    char problem[800];
    check_after(&w, problem, sizeof problem);
    if (w.bad[0]) {
      check_fail(__FILE__, __LINE__,
                 "%s, failing operation %ld: not a clean error: %s", mode, n,
                 w.bad);
      problems++;
    } else if (problem[0]) {
      check_fail(__FILE__, __LINE__, "%s, failing operation %ld: %s", mode, n,
                 problem);
      problems++;
      if (getenv("IEX_FAULT_DEBUG")) exit(1);
    }
    free(w.acks);
  }
  printf(
      "# fault/store_ioerr %s: %ld runs (one per counted operation), %ld calls "
      "failed "
      "cleanly\n",
      mode, runs, failed_calls);
  CHECK(failed_calls >= runs / 2); /* the faults did reach the store */
}

TEST(transient_io_errors) {
  sweep("transient I/O error", OP_ALL, false, false);
}
TEST(persistent_io_errors) {
  sweep("persistent I/O error", OP_ALL, true, false);
}
TEST(disk_full) { sweep("disk full", OP_WRITE, true, true); }

int main(void) {
  check_suite = "fault/store_ioerr";
  const char *tmp = getenv("IEX_FAULT_TMP");
  char own_tmp[] = "/tmp/iex-fault-ioerr-XXXXXX";
  if (!tmp) tmp = mkdtemp(own_tmp);
  if (!tmp) return 2;
  snprintf(path_base, sizeof path_base, "%s/base.db", tmp);
  snprintf(path_work_buf, sizeof path_work_buf, "%s/work.db", tmp);
  path_work = path_work_buf;
  fault_vfs_register();

  /* The clean store every run starts from. */
  Store *s = NULL;
  Err err;
  err_init(&err);
  StoreIntegrationNew in = {.name = "io-test",
                            .iexb = STR_LIT("iexb"),
                            .iexb_hash = "h",
                            .connections_json = "{}",
                            .activated_at_us = 1,
                            .is_active = true};
  if (store_open(path_base, NULL, &s, &err) != IEX_OK ||
      store_integration_add(s, &in, NULL, &err) != IEX_OK) {
    printf("FAIL fault/store_ioerr: cannot make the base store: %s\n",
           err_text(&err));
    return 1;
  }
  store_close(s);

  RUN(transient_io_errors);
  RUN(persistent_io_errors);
  RUN(disk_full);
  return check_done();
}
