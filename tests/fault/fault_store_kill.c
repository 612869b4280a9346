/*
** Crash safety of the store under kill -9: what was acknowledged is on
** disk, every transaction is whole, and every invoice is sent once.
**
** A child process runs a small executor on the store, order after order:
** it receives the order's webhook into the inbox, accepts it into a
** transfer (revision + queued run, one transaction), claims the run,
** reserves the invoice effect, starts it, "sends" it, marks it done (which
** counts usage), records a stage, and finishes the run together with its
** e-mail; every fifth order it also commits a poll (event + cursor). Each
** time a store call returns, it writes an acknowledgement to a pipe.
**
** The parent kills the child with SIGKILL at a random moment, or arms a
** named crash point (runtime/crashpoints.def) at a random hit, then
** reopens the store and checks:
** - integrity_check and foreign_key_check are clean;
** - every acknowledged operation is there ("acknowledged is on disk");
** - transactions are whole: usage <-> done effects, revision <-> run,
**   finished run <-> its e-mail, cursor <-> its poll's events.
** At the end a last child runs to quiescence, and the "target system" (a
** ledger file the child appends to when it sends, and searches when it
** reconciles an effect whose outcome is unknown) must hold every order's
** invoice exactly once: 0 lost, 0 duplicated.
**
** IEX_FAULT_KILLS sets the number of kills (default 200 x IEX_FAULT_SCALE),
** IEX_FAULT_SEED the random seed (printed, so a failure can be replayed),
** IEX_FAULT_DEBUG=1 prints each kill's timing.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "runtime/clock.h"
#include "runtime/crash.h"
#include "runtime/store.h"
#include "tests/fault/store_oracle.h"
#include "tests/lib/check.h"

#define SEC INT64_C(1000000)
#define CANARY "CANARY-fault-authorization-5150"

static char db_path[512];
static char ledger_path[512];

/* ---- The child: a small executor ------------------------------------ */

typedef struct Child {
  Store *s;
  int ack_fd; /* acknowledgements go here, after each commit */
  /* Added to the real clock, so that a later child sees the leases of the
  ** dead ones expired. */
  int64_t offset_us;
  Clock clock;
  Arena a;
  char worker[32];
  int64_t integration;
} Child;

static int64_t offset_now(void *ctx) {
  return clock_now_us(&clock_system) + ((Child *)ctx)->offset_us;
}

/* Tell the parent; one write() of a short line is atomic on a pipe. */
static void ack(Child *c, const char *kind, const char *what) {
  char line[96];
  int len = snprintf(line, sizeof line, "%s %s\n", kind, what);
  if (write(c->ack_fd, line, (size_t)len) != len) _exit(3);
}

/* A store call failed in the child: report it and stop (the parent turns
** it into a FAIL). */
static void die(Child *c, const char *what, const Err *err) {
  char line[700];
  int len = snprintf(line, sizeof line, "error %s: %s: %s\n", what,
                     status_name(err->code), err_text(err));
  if (write(c->ack_fd, line, (size_t)len) < 0) _exit(4);
  _exit(2);
}

/* Call `call` with `err`; on failure report and stop. */
#define DO(c, call)                              \
  do {                                           \
    if ((call) != IEX_OK) die((c), #call, &err); \
  } while (0)

/* The target system: does its ledger hold `reference`? */
static bool ledger_has(const char *reference) {
  size_t len = 0;
  char why[128];
  char *data = read_file(ledger_path, (size_t)64 << 20, &len, why, sizeof why);
  if (!data) return false;
  char needle[64];
  snprintf(needle, sizeof needle, "%s\n", reference);
  bool found = strncmp(data, needle, strlen(needle)) == 0;
  char line_start[68];
  snprintf(line_start, sizeof line_start, "\n%s", needle);
  found = found || strstr(data, line_start) != NULL;
  free(data);
  return found;
}

/* The target system creates the invoice (one append; a kill cannot split
** a small write to a regular file). */
static void ledger_send(const char *reference) {
  int fd = open(ledger_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
  char line[64];
  int len = snprintf(line, sizeof line, "%s\n", reference);
  if (fd < 0 || write(fd, line, (size_t)len) != len) _exit(5);
  close(fd);
}

static void order_body(long n, char *out, size_t size) {
  snprintf(out, size, "{\"id\": %ld, \"name\": \"#%ld\", \"total\": \"12.10\"}",
           n, n);
}

/* The webhook for order `n` arrives. */
static void receive(Child *c, long n) {
  Err err;
  char key[32], body[128], headers[160];
  snprintf(key, sizeof key, "evt-%ld", n);
  order_body(n, body, sizeof body);
  snprintf(headers, sizeof headers,
           "{\"Authorization\": \"Bearer %s\", \"X-Order\": \"%ld\"}", CANARY,
           n);
  StoreEvent ev = {.integration_id = c->integration,
                   .dedup_key = key,
                   .source = "webhook",
                   .topic = "orders/paid",
                   .headers_json = headers,
                   .body = str_from_cstr(body)};
  DO(c, store_inbox_add(c->s, &ev, NULL, NULL, &err));
  ack(c, "inbox", key);
}

/* Every fifth order is also found by a poll: its event and the cursor
** that found it are committed together. */
static void poll_once(Child *c, long n) {
  Err err;
  char key[32], body[128], cursor[32];
  snprintf(key, sizeof key, "poll-%ld", n);
  snprintf(cursor, sizeof cursor, "%08ld", n);
  order_body(n, body, sizeof body);
  /* A poller only moves its cursor forward. */
  const char *current = NULL;
  DO(c, store_cursor_get(c->s, c->integration, "order", &c->a, &current, &err));
  if (current && strcmp(current, cursor) >= 0) return;
  StoreEvent ev = {.integration_id = c->integration,
                   .dedup_key = key,
                   .source = "poll",
                   .body = str_from_cstr(body)};
  DO(c, store_begin(c->s, &err));
  DO(c, store_inbox_add(c->s, &ev, NULL, NULL, &err));
  DO(c, store_cursor_set(c->s, c->integration, "order", cursor, &err));
  DO(c, store_commit(c->s, &err));
  ack(c, "cursor", cursor);
}

/* Turn every pending event into a transfer revision and a queued run. */
static void accept_pending(Child *c) {
  Err err;
  StoreInboxItem *items;
  size_t n_items;
  DO(c, store_inbox_pending(c->s, 100, &c->a, &items, &n_items, &err));
  for (size_t i = 0; i < n_items; i++) {
    long n = strtol(strchr(items[i].dedup_key, '-') + 1, NULL, 10);
    char source[32], key[32], data[128];
    snprintf(source, sizeof source, "src-%ld", n);
    snprintf(key, sizeof key, "#%ld", n);
    snprintf(data, sizeof data, "%.*s", STR_FMT(items[i].body));
    int64_t transfer, revision;
    bool is_new;
    DO(c, store_begin(c->s, &err));
    DO(c, store_transfer_get_or_add(c->s, c->integration, source, key,
                                    &transfer, NULL, &err));
    DO(c, store_revision_add(c->s, transfer, data, NULL, items[i].id, &revision,
                             &is_new, &err));
    if (is_new) DO(c, store_run_add(c->s, revision, 0, "event", NULL, &err));
    DO(c, store_inbox_done(c->s, items[i].id, transfer,
                           is_new ? "new revision" : "same content", &err));
    DO(c, store_commit(c->s, &err));
    ack(c, "accepted", items[i].dedup_key);
  }
}

/* Run every due run: the invoice effect, a stage, the end with its e-mail. */
static void run_due(Child *c) {
  Err err;
  for (;;) {
    StoreRun run;
    bool claimed;
    DO(c,
       store_run_claim(c->s, c->worker, 30 * SEC, &c->a, &run, &claimed, &err));
    if (!claimed) break;
    StoreTransfer t;
    DO(c, store_transfer_get(c->s, run.transfer_id, &c->a, &t, &err));
    const char *n = t.source_id + 4; /* "src-<n>" */
    char reference[48], outbox_key[48];
    snprintf(reference, sizeof reference, "order-%s", n);
    snprintf(outbox_key, sizeof outbox_key, "done-%s", n);
    StoreEffectNew in = {.transfer_id = run.transfer_id,
                         .revision_id = run.revision_id,
                         .run_id = run.id,
                         .key = "invoice",
                         .step = "invoice",
                         .target_system = "economic",
                         .operation = "invoice.create",
                         .reference = reference,
                         .counts_usage = true};
    StoreEffect e;
    DO(c, store_effect_reserve(c->s, &in, &c->a, &e, NULL, &err));
    if (e.state == STORE_EFFECT_STARTED) {
      /* A run before this one died after starting the effect. */
      DO(c,
         store_effect_unknown(c->s, e.id, "started when a worker died", &err));
      ack(c, "unknown", n);
      e.state = STORE_EFFECT_UNKNOWN;
    }
    if (e.state == STORE_EFFECT_UNKNOWN && ledger_has(reference)) {
      DO(c, store_effect_done(c->s, e.id, "{\"adopted\": true}", reference,
                              NULL, &err));
      ack(c, "done", n);
    } else if (e.state != STORE_EFFECT_DONE) {
      DO(c, store_effect_start(c->s, e.id, run.id, &err));
      ack(c, "started", n);
      ledger_send(reference);
      DO(c, store_effect_done(c->s, e.id, "{\"draftInvoiceNumber\": 1}",
                              reference, NULL, &err));
      ack(c, "done", n);
    }
    StoreStageNew stage = {.run_id = run.id,
                           .step = "invoice",
                           .kind = STORE_STAGE_RESPONSE,
                           .data_json = "{\"status\": 201}"};
    DO(c, store_stage_add(c->s, &stage, NULL, &err));
    ack(c, "stage", n);
    StoreMessageNew m = {.key = outbox_key,
                         .kind = "email",
                         .recipient = "ops@shop.dk",
                         .subject = "transferred",
                         .body = "ok",
                         .transfer_id = t.id};
    StoreOutcome ok = {IEX_OK, NULL, NULL};
    DO(c, store_begin(c->s, &err));
    DO(c, store_run_finish(c->s, run.id, c->worker, STORE_RUN_DONE, &ok, &err));
    DO(c, store_outbox_add(c->s, &m, NULL, NULL, &err));
    DO(c, store_commit(c->s, &err));
    ack(c, "finished", n);
    arena_reset(&c->a);
  }
}

/* Process orders from `start` on until killed; with `quiesce`, receive
** nothing new and stop when no work is left. */
static void child_main(int ack_fd, long start, int64_t offset_us,
                       bool quiesce) {
  Child c = {.ack_fd = ack_fd, .offset_us = offset_us};
  Err err;
  c.clock = (Clock){offset_now, &c};
  arena_init(&c.a);
  snprintf(c.worker, sizeof c.worker, "child-%d", (int)getpid());
  StoreOptions o = {.clock = &c.clock};
  DO(&c, store_open(db_path, &o, &c.s, &err));
  StoreIntegration it;
  DO(&c, store_integration_find(c.s, "kill-test", &c.a, &it, &err));
  c.integration = it.id;
  for (long n = start;; n++) {
    if (!quiesce) receive(&c, n);
    accept_pending(&c);
    run_due(&c);
    if (quiesce) break;
    if (n % 5 == 0) poll_once(&c, n);
    arena_reset(&c.a);
  }
  store_close(c.s);
  arena_fini(&c.a);
  _exit(0);
}

/* ---- The parent: kill, reopen, check -------------------------------- */

typedef struct Acks {
  Ack *items;
  size_t n, cap;
} Acks;

/* Start a child; return its pid and the read end of its pipe. */
static pid_t spawn(long start, int64_t offset_us, bool quiesce,
                   const char *crash_at, int *fd) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (crash_at)
      setenv("IEX_CRASH_AT", crash_at, 1);
    else
      unsetenv("IEX_CRASH_AT");
    crash_reset(); /* the parent's hits are not the child's */
    child_main(fds[1], start, offset_us, quiesce);
  }
  close(fds[1]);
  *fd = fds[0];
  return pid;
}

/* Read the child's acknowledgements until `deadline_us` (real time) or
** its end; then kill it (if still alive) and read the rest. Returns the
** wait status. Lines starting with "error" are copied to `error`. */
static int reap(pid_t pid, int fd, int64_t deadline_us, Acks *acks, char *error,
                size_t err_size) {
  Buf text;
  buf_init(&text, 0);
  char chunk[4096];
  bool open_pipe = true, killed = false;
  while (open_pipe) {
    int64_t left_ms = (deadline_us - clock_now_us(NULL)) / 1000;
    if (!killed && left_ms <= 0) {
      kill(pid, SIGKILL);
      killed = true;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, killed ? 1000 : (int)IEX_MAX(left_ms, 1));
    if (ready > 0) {
      ssize_t got = read(fd, chunk, sizeof chunk);
      if (got > 0)
        buf_append(&text, chunk, (size_t)got);
      else
        open_pipe = false; /* the child is gone and the pipe drained */
    }
  }
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  /* Whole lines only: a line is written by one write(), so a kill leaves
  ** none half-written; the check is for safety. */
  char *line = text.data;
  while (line && *line) {
    char *end = strchr(line, '\n');
    if (!end) break;
    *end = '\0';
    if (strncmp(line, "error ", 6) == 0) {
      snprintf(error, err_size, "%s", line + 6);
    } else {
      Ack a = {{0}, {0}};
      if (sscanf(line, "%15s %31s", a.kind, a.what) == 2)
        VEC_PUSH(acks->items, acks->n, acks->cap, a);
    }
    line = end + 1;
  }
  buf_fini(&text);
  return status;
}

/* Reopen the store as iex would after the crash, check it, then check
** acknowledgements from `from` on and the invariants. Returns the number
** of problems (each reported with check_fail). */
static int verify(const Acks *acks, size_t from, int kill_no) {
  int problems = 0;
  Store *s = NULL;
  Err err;
  err_init(&err);
  if (store_open(db_path, NULL, &s, &err) != IEX_OK ||
      store_check(s, &err) != IEX_OK) {
    check_fail(__FILE__, __LINE__, "after kill %d: %s", kill_no,
               err_text(&err));
    store_close(s);
    return 1;
  }
  store_close(s);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    check_fail(__FILE__, __LINE__, "after kill %d: cannot open the store",
               kill_no);
    sqlite3_close(db);
    return 1;
  }
  for (size_t i = from; i < acks->n && problems < 5; i++) {
    if (!ack_holds(db, &acks->items[i])) {
      check_fail(__FILE__, __LINE__,
                 "after kill %d: acknowledged `%s %s` is not in the store",
                 kill_no, acks->items[i].kind, acks->items[i].what);
      problems++;
    }
  }
  for (size_t i = 0; i < ARRAY_LEN(invariants); i++) {
    int64_t bad = count(db, invariants[i].sql, NULL);
    if (bad != 0) {
      check_fail(__FILE__, __LINE__, "after kill %d: %s: %lld violations",
                 kill_no, invariants[i].rule, (long long)bad);
      problems++;
    }
  }
  sqlite3_close(db);
  return problems;
}

/* The named crash points of the store, armed in turn. */
static const char *const store_points[] = {
    "store_before_commit", "store_after_commit", "inbox_before_commit",
    "inbox_after_commit", "usage_counted"};

static long env_long(const char *name, long fallback) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : fallback;
}

static int n_kills;

TEST(sigkill_keeps_acknowledged_writes_and_sends_once) {
  const char *tmp = getenv("IEX_FAULT_TMP");
  char own_tmp[] = "/tmp/iex-fault-kill-XXXXXX";
  if (!tmp) tmp = mkdtemp(own_tmp);
  CHECK_FATAL(tmp != NULL);
  snprintf(db_path, sizeof db_path, "%s/iex.db", tmp);
  snprintf(ledger_path, sizeof ledger_path, "%s/economic-ledger.txt", tmp);

  Store *s = NULL;
  Err err;
  err_init(&err);
  StoreIntegrationNew in = {
      .name = "kill-test",
      .iexb = STR_LIT("iexb"),
      .iexb_hash = "h",
      .connections_json = "{\"books\": {\"token\": \"env:T\"}}",
      .activated_at_us = 1,
      .is_active = true};
  CHECK_FATAL(store_open(db_path, NULL, &s, &err) == IEX_OK);
  CHECK_FATAL(store_integration_add(s, &in, NULL, &err) == IEX_OK);
  store_close(s);

  unsigned seed = (unsigned)env_long("IEX_FAULT_SEED", (long)time(NULL));
  srand(seed);
  Acks acks = {0};
  long start = 1, by_point = 0, by_timer = 0;
  int problems = 0;
  int64_t t_start = clock_now_us(NULL);
  for (int k = 1; k <= n_kills && problems == 0; k++) {
    char crash_at[64];
    bool armed = k % 3 == 0;
    if (armed)
      snprintf(crash_at, sizeof crash_at, "%s:%d",
               store_points[rand() % ARRAY_LEN(store_points)], 1 + rand() % 12);
    int fd;
    size_t before = acks.n;
    pid_t pid =
        spawn(start, k * 3600 * SEC, false, armed ? crash_at : NULL, &fd);
    CHECK_FATAL(pid > 0);
    /* A timer kill lands anywhere in 2-42 ms (opening the store, mid
    ** transaction, mid commit); an armed crash point gets 2 s to fire. */
    int64_t delay = armed ? 2000 * 1000 : 2000 + rand() % 40000;
    int64_t t_kill = clock_now_us(NULL);
    char child_error[700] = "";
    int status = reap(pid, fd, clock_now_us(NULL) + delay, &acks, child_error,
                      sizeof child_error);
    if (child_error[0] || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
      check_fail(__FILE__, __LINE__, "kill %d (seed %u): the child failed: %s",
                 k, seed,
                 child_error[0] ? child_error : "it did not die by SIGKILL");
      problems++;
      break;
    }
    if (armed)
      by_point++;
    else
      by_timer++;
    int64_t tv = clock_now_us(NULL);
    problems += verify(&acks, before, k);
    if (getenv("IEX_FAULT_DEBUG"))
      fprintf(stderr, "kill %d: %s, child %.1f ms, verify %.1f ms, %zu acks\n",
              k, armed ? crash_at : "timer", (double)(tv - t_kill) / 1000,
              (double)(clock_now_us(NULL) - tv) / 1000, acks.n - before);
    /* The next child starts after the last finished order. */
    for (size_t i = before; i < acks.n; i++)
      if (strcmp(acks.items[i].kind, "finished") == 0)
        start = IEX_MAX(start, strtol(acks.items[i].what, NULL, 10) + 1);
  }

  /* Quiescence: a last child finishes every accepted order, unkilled. */
  int fd;
  char child_error[700] = "";
  pid_t pid = spawn(start, (n_kills + 1) * 3600 * SEC, true, NULL, &fd);
  int status = reap(pid, fd, clock_now_us(NULL) + 60 * SEC, &acks, child_error,
                    sizeof child_error);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    check_fail(__FILE__, __LINE__, "the last child failed: %s", child_error);
  problems += verify(&acks, 0, n_kills + 1);

  /* The oracle: every transfer's invoice is in the ledger exactly once. */
  sqlite3 *db = NULL;
  CHECK_FATAL(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
              SQLITE_OK);
  int64_t n_transfers = count(db, "SELECT count(*) FROM transfers", NULL);
  int64_t n_done =
      count(db, "SELECT count(*) FROM effects WHERE state = 'done'", NULL);
  int64_t n_usage = count(db, "SELECT count(*) FROM usage", NULL);
  int64_t n_open = count(
      db, "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')",
      NULL);
  sqlite3_close(db);
  size_t len = 0;
  char why[128];
  char *ledger =
      read_file(ledger_path, (size_t)64 << 20, &len, why, sizeof why);
  if (!ledger) ledger = xstrdup(""); /* nothing was ever sent */
  long lost = 0, duplicated = 0;
  for (int64_t n = 1; n <= n_transfers; n++) {
    char needle[48];
    int hits = 0;
    snprintf(needle, sizeof needle, "order-%lld\n", (long long)n);
    for (char *p = ledger; (p = strstr(p, needle)); p += strlen(needle))
      if (p == ledger || p[-1] == '\n') hits++;
    if (hits == 0) lost++;
    if (hits > 1) duplicated++;
  }
  free(ledger);
  CHECK_EQ_INT(lost, 0);
  CHECK_EQ_INT(duplicated, 0);
  CHECK_EQ_INT(n_done, n_transfers);
  CHECK_EQ_INT(n_usage, n_transfers);
  CHECK_EQ_INT(n_open, 0);
  CHECK(n_transfers >
        n_kills / 4); /* the children did real work between kills */

  /* The canary header value never reached the files. */
  const char *files[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < ARRAY_LEN(files); i++) {
    char p[600];
    snprintf(p, sizeof p, "%s%s", db_path, files[i]);
    char *data = read_file(p, (size_t)256 << 20, &len, why, sizeof why);
    if (data && memmem(data, len, CANARY, strlen(CANARY)))
      check_fail(__FILE__, __LINE__, "the canary secret is in %s", p);
    free(data);
  }
  printf(
      "# fault/store_kill: %d kills (%ld at random moments, %ld at crash "
      "points), %zu "
      "acknowledgements checked, %lld orders, %ld lost, %ld duplicated, %.1f "
      "s, seed %u\n",
      n_kills, by_timer, by_point, acks.n, (long long)n_transfers, lost,
      duplicated, (double)(clock_now_us(NULL) - t_start) / 1e6, seed);
  free(acks.items);
  if (tmp == own_tmp) {
    unlink(db_path);
    unlink(ledger_path);
  }
}

int main(void) {
  check_suite = "fault/store";
  n_kills =
      (int)env_long("IEX_FAULT_KILLS", 200 * env_long("IEX_FAULT_SCALE", 1));
  signal(SIGPIPE, SIG_IGN);
  RUN(sigkill_keeps_acknowledged_writes_and_sends_once);
  return check_done();
}
