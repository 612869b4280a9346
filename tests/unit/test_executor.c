/*
** Unit tests of the executor's parts: backoff, Retry-After, the rate
** limiter and the circuit breaker (retry.h); secret references
** (secrets.h); typed settings (settings.h); the effects protocol against a
** scripted connector (effects.h), every path through the state machine;
** and the executor end to end on a store with a fake clock: statuses,
** retries with backoff, the circuit opening once, dead workers' leases.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/arena.h"
#include "runtime/clock.h"
#include "runtime/effects.h"
#include "runtime/executor.h"
#include "runtime/json_value.h"
#include "runtime/retry.h"
#include "runtime/secrets.h"
#include "runtime/settings.h"
#include "runtime/store.h"
#include "tests/lib/check_status.h"

#define SEC INT64_C(1000000)

static Err err;

#define CHECK_OK(call) CHECK_IEX_OK(err, call)

/* ---- retry.h ------------------------------------------------------------ */

TEST(backoff_is_full_jitter_and_capped) {
  RetryRandom r;
  retry_random_seed(&r, 42);
  RetryPolicy p = {.base_us = SEC, .cap_us = 60 * SEC, .horizon_us = 0};
  int64_t max_seen[12] = {0};
  for (int i = 0; i < 2000; i++)
    for (int a = 1; a <= 11; a++) {
      int64_t d = retry_backoff_us(&p, a, &r);
      CHECK(d >= 0);
      int64_t ceiling = a <= 6 ? SEC << (a - 1) : 60 * SEC;
      CHECK(d <= ceiling);
      if (d > max_seen[a]) max_seen[a] = d;
    }
  /* Full jitter reaches close to the ceiling, and the cap holds. */
  CHECK(max_seen[1] > SEC * 9 / 10);
  CHECK(max_seen[4] > 8 * SEC * 9 / 10);
  CHECK(max_seen[11] > 54 * SEC && max_seen[11] <= 60 * SEC);
  /* Huge attempts do not overflow. */
  CHECK(retry_backoff_us(&p, 1000, &r) <= 60 * SEC);
}

TEST(retry_after_seconds_and_http_date) {
  int64_t d = -1;
  CHECK(retry_after_parse("120", 0, &d));
  CHECK_EQ_INT(d, 120 * SEC);
  int64_t now = clock_utc_us(2015, 10, 21, 7, 27, 0);
  CHECK(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", now, &d));
  CHECK_EQ_INT(d, 60 * SEC);
  CHECK(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", now + 3600 * SEC, &d));
  CHECK_EQ_INT(d, 0);
  CHECK(!retry_after_parse("soon", 0, &d));
  CHECK(!retry_after_parse("-5", 0, &d));
  CHECK(!retry_after_parse("12abc", 0, &d));
}

TEST(token_bucket_limits_rate_and_allows_bursts) {
  RateLimiter rl;
  rate_init(&rl, 2, 3); /* 2/s, bursts of 3 */
  int64_t t = 1000 * SEC;
  CHECK_EQ_INT(rate_take(&rl, t), 0);
  CHECK_EQ_INT(rate_take(&rl, t), 0);
  CHECK_EQ_INT(rate_take(&rl, t), 0);
  int64_t wait = rate_take(&rl, t);
  CHECK_EQ_INT(wait, SEC / 2);
  CHECK_EQ_INT(rate_take(&rl, t + SEC / 2), 0);
  /* A long idle period refills only up to the burst. */
  t += 100 * SEC;
  int taken = 0;
  while (rate_take(&rl, t) == 0) taken++;
  CHECK_EQ_INT(taken, 3);
}

TEST(circuit_opens_once_pauses_and_half_opens) {
  CircuitBreaker cb = {.threshold = 3, .pause_us = 10 * SEC};
  int64_t t = 5000 * SEC;
  CHECK(circuit_allow(&cb, t));
  CHECK(!circuit_record(&cb, false, t));
  CHECK(!circuit_record(&cb, false, t));
  CHECK(circuit_record(&cb, false, t)); /* opened: tell a person */
  CHECK(!circuit_allow(&cb, t + SEC));
  CHECK_EQ_INT(circuit_retry_at(&cb), t + 10 * SEC);
  CHECK(circuit_allow(&cb, t + 10 * SEC));   /* the one trial call */
  CHECK(!circuit_allow(&cb, t + 10 * SEC));  /* nobody else meanwhile */
  CHECK(!circuit_record(&cb, false, t + 11 * SEC)); /* reopens, not told again */
  CHECK(!circuit_allow(&cb, t + 12 * SEC));
  CHECK(circuit_allow(&cb, t + 21 * SEC));
  CHECK(!circuit_record(&cb, true, t + 21 * SEC));
  CHECK(cb.state == CIRCUIT_CLOSED);
  CHECK(circuit_allow(&cb, t + 21 * SEC));
  /* A trial that never reports (its worker died) lapses after a pause. */
  CircuitBreaker lost = {.threshold = 1, .pause_us = 10 * SEC};
  CHECK(circuit_record(&lost, false, t));
  CHECK(circuit_allow(&lost, t + 10 * SEC));
  CHECK(!circuit_allow(&lost, t + 19 * SEC));
  CHECK_EQ_INT(circuit_retry_at(&lost), t + 20 * SEC);
  CHECK(circuit_allow(&lost, t + 20 * SEC));
  CHECK(!circuit_allow(&lost, t + 20 * SEC));
}

/* ---- secrets.h ---------------------------------------------------------- */

TEST(secrets_resolve_env_and_private_files_only) {
  char v[64];
  CHECK(secret_is_reference("env:SHOP_TOKEN"));
  CHECK(secret_is_reference("file:/etc/iex/token"));
  CHECK(!secret_is_reference("shpat_123abc"));
  CHECK(!secret_is_reference("env:1BAD"));
  CHECK(!secret_is_reference("file:relative"));
  setenv("IEX_TEST_SECRET", "s3cr3t-value", 1);
  CHECK_OK(secret_resolve("env:IEX_TEST_SECRET", v, sizeof v, &err));
  CHECK_EQ_STR(v, "s3cr3t-value");
  err_init(&err);
  CHECK_EQ_INT(secret_resolve("env:IEX_TEST_UNSET_X", v, sizeof v, &err), IEX_E_NOT_FOUND);
  err_init(&err);
  CHECK_EQ_INT(secret_resolve("s3cr3t-value", v, sizeof v, &err), IEX_E_SECRET_VALUE);
  CHECK(!strstr(err.message, "s3cr3t"));

  char path[] = "/tmp/iex-secret-XXXXXX";
  int fd = mkstemp(path);
  CHECK_FATAL(fd >= 0);
  CHECK(write(fd, "file-secret\n", 12) == 12);
  close(fd);
  char ref[64];
  snprintf(ref, sizeof ref, "file:%s", path);
  chmod(path, 0600);
  CHECK_OK(secret_resolve(ref, v, sizeof v, &err));
  CHECK_EQ_STR(v, "file-secret");
  chmod(path, 0640);
  err_init(&err);
  CHECK_EQ_INT(secret_resolve(ref, v, sizeof v, &err), IEX_E_INVALID);
  CHECK(strstr(err.message, "can be read by others") != NULL);
  CHECK(!strstr(err.message, "file-secret"));
  unlink(path);
  secret_wipe(v, sizeof v);
  CHECK_EQ_INT(v[0], 0);
}

/* ---- settings.h --------------------------------------------------------- */

static const char *const modes[] = {"draft", "booked"};
static const FlowSetting decl[] = {
    {"invoice_mode", SETTING_CHOICE, modes, 2, "\"draft\"", "mode"},
    {"cent_threshold", SETTING_MONEY, NULL, 0, "0.05", "cents"},
    {"layout", SETTING_INT, NULL, 0, "19", NULL},
    {"oss", SETTING_BOOL, NULL, 0, "false", NULL},
    {"heading", SETTING_STRING, NULL, 0, "\"Ordre\"", NULL},
    {"layouts", SETTING_TABLE, NULL, 0, "{}", NULL},
};

TEST(settings_parse_by_type) {
  Arena a;
  arena_init(&a);
  const char *j;
  CHECK_OK(setting_parse(&decl[0], "booked", &a, &j, &err));
  CHECK_EQ_STR(j, "\"booked\"");
  err_init(&err);
  CHECK_EQ_INT(setting_parse(&decl[0], "posted", &a, &j, &err), IEX_E_INVALID);
  CHECK(strstr(err.message, "allowed values: draft, booked") != NULL);
  CHECK_OK(setting_parse(&decl[1], "0.10", &a, &j, &err));
  CHECK_EQ_STR(j, "0.10"); /* exact, the digits kept */
  CHECK_EQ_INT(setting_parse(&decl[1], "0,10", &a, &j, &err), IEX_E_INVALID);
  CHECK_OK(setting_parse(&decl[2], "21", &a, &j, &err));
  CHECK_EQ_STR(j, "21");
  CHECK_EQ_INT(setting_parse(&decl[2], "21.5", &a, &j, &err), IEX_E_INVALID);
  CHECK_OK(setting_parse(&decl[3], "true", &a, &j, &err));
  CHECK_EQ_INT(setting_parse(&decl[3], "yes", &a, &j, &err), IEX_E_INVALID);
  CHECK_OK(setting_parse(&decl[4], "Faktura \"x\"", &a, &j, &err));
  CHECK_EQ_STR(j, "\"Faktura \\\"x\\\"\"");
  CHECK_OK(setting_parse(&decl[5], "{\"stripe\": 19}", &a, &j, &err));
  CHECK_EQ_INT(setting_parse(&decl[5], "[1]", &a, &j, &err), IEX_E_INVALID);
  CHECK_EQ_STR(setting_type_text(&decl[0], &a), "draft | booked");
  arena_fini(&a);
}

/* ---- A store for the executor tests -------------------------------------- */

typedef struct Fx {
  char dir[64], path[128], ledger[160];
  ClockFake clock;
  Store *s;
  int64_t ig;
} Fx;

static const char *flow_text =
    "#!iex-script-flow\n"
    "{\"name\": \"t\", \"id\": \"id\", \"key\": \"name\", \"updates\": \"apply\","
    " \"settings\": [{\"name\": \"mode\", \"type\": \"draft | booked\","
    "   \"default\": \"draft\"}],"
    " \"when\": {\"field\": \"status\", \"in\": [\"paid\"], \"location\": \"t:1:1\"},"
    " \"steps\": [{\"name\": \"invoice\", \"use\": \"books\", \"system\": \"ledger\","
    "   \"op\": \"invoice.create\", \"writes\": true, \"location\": \"t:4:2\","
    "   \"map\": {\"reference\": \"{name}\", \"mode\": \"{settings.mode}\","
    "            \"total\": \"{total!}\"}}]}";

static bool fx_open(Fx *fx) {
  memset(fx, 0, sizeof *fx);
  snprintf(fx->dir, sizeof fx->dir, "/tmp/iex-exec-XXXXXX");
  if (!mkdtemp(fx->dir)) return false;
  snprintf(fx->path, sizeof fx->path, "%s/iex.db", fx->dir);
  snprintf(fx->ledger, sizeof fx->ledger, "%s/ledger.txt", fx->dir);
  clock_fake_init(&fx->clock, clock_utc_us(2024, 5, 1, 0, 0, 0));
  StoreOptions o = {.clock = &fx->clock.clock};
  err_init(&err);
  if (store_open(fx->path, &o, &fx->s, &err) != IEX_OK) return false;
  char conns[300];
  snprintf(conns, sizeof conns,
           "{\"books\": {\"system\": \"ledger\", \"base_url\": \"file:%s\","
           " \"circuit_failures\": 2, \"circuit_pause_seconds\": 600}}",
           fx->ledger);
  StoreIntegrationNew in = {.name = "t",
                            .iexb = str_from_cstr(flow_text),
                            .iexb_hash = "h",
                            .connections_json = conns,
                            .activated_at_us = 1,
                            .is_active = true};
  return store_integration_add(fx->s, &in, &fx->ig, &err) == IEX_OK;
}

static void fx_close(Fx *fx) {
  store_close(fx->s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
  if (system(cmd) != 0) check_fail(__FILE__, __LINE__, "cannot remove %s", fx->dir);
}

static int ledger_lines(Fx *fx) {
  FILE *f = fopen(fx->ledger, "r");
  if (!f) return 0;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

static Executor *fx_executor(Fx *fx) {
  ExecutorOptions o = {.clock = &fx->clock.clock, .seed = 7, .quiet = true};
  return executor_new(fx->s, &o);
}

static void submit(Fx *fx, Executor *x, const char *json) {
  CHECK_OK(executor_submit(x, fx->ig, str_from_cstr(json), "import", NULL, &err));
}

/* Orders #1..#n, paid, one currency unit each. */
static void submit_paid_orders(Fx *fx, Executor *x, int n) {
  for (int i = 1; i <= n; i++) {
    char j[128];
    snprintf(j, sizeof j, "{\"id\": %d, \"name\": \"#%d\", \"status\": \"paid\", \"total\": 1}", i, i);
    submit(fx, x, j);
  }
}

static StoreTransfer transfer(Fx *fx, int64_t id, Arena *a) {
  StoreTransfer t;
  memset(&t, 0, sizeof t);
  CHECK_OK(store_transfer_get(fx->s, id, a, &t, &err));
  return t;
}

TEST(executor_done_skipped_failed_with_rule) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  Executor *x = fx_executor(&fx);
  submit(&fx, x, "{\"id\": 1, \"name\": \"#1\", \"status\": \"paid\", \"total\": 1.50}");
  submit(&fx, x, "{\"id\": 2, \"name\": \"#2\", \"status\": \"open\", \"total\": 2}");
  submit(&fx, x, "{\"id\": 3, \"name\": \"#3\", \"status\": \"paid\"}");
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_pending(x, &st, &err));
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(st.skipped, 1);
  CHECK_EQ_INT(st.failed, 1);
  Arena a;
  arena_init(&a);
  StoreTransfer t2 = transfer(&fx, 2, &a), t3 = transfer(&fx, 3, &a);
  CHECK_EQ_STR(t2.code, "SKIP_STATE");
  CHECK_EQ_STR(t3.code, "E_MAPPING");
  CHECK_EQ_STR(t3.location, "t:4:2");
  CHECK_EQ_INT(ledger_lines(&fx), 1);
  /* The failure told a person, through the outbox. */
  StoreMessage m;
  bool claimed = false;
  CHECK_OK(store_outbox_claim(fx.s, "w", SEC, &a, &m, &claimed, &err));
  CHECK(claimed && strstr(m.subject, "#3 failed") && strstr(m.body, "t:4:2"));
  arena_fini(&a);
  executor_free(x);
  fx_close(&fx);
}

TEST(executor_transient_failure_waits_with_backoff_then_runs) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  Executor *x = fx_executor(&fx);
  submit(&fx, x, "{\"id\": 1, \"name\": \"#1\", \"status\": \"paid\", \"total\": 1}");
  setenv("IEX_LEDGER_FAULT", "busy", 1);
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_pending(x, &st, &err));
  CHECK_EQ_INT(st.waiting, 1);
  Arena a;
  arena_init(&a);
  CHECK_EQ_INT(transfer(&fx, 1, &a).status, STORE_RUN_WAITING);
  /* Retry-After: 7 s holds it back even if the backoff was shorter. */
  StoreRun *runs;
  size_t n;
  CHECK_OK(store_run_list(fx.s, 1, &a, &runs, &n, &err));
  CHECK_FATAL(n == 2);
  CHECK(runs[1].due_at_us >= clock_now_us(&fx.clock.clock) + 7 * SEC);
  unsetenv("IEX_LEDGER_FAULT");
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(x, 0, &st, &err));
  CHECK_EQ_INT(st.runs, 0); /* not due yet */
  clock_fake_advance(&fx.clock, 8 * SEC);
  CHECK_OK(executor_run_due(x, 0, &st, &err));
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(ledger_lines(&fx), 1);
  arena_fini(&a);
  executor_free(x);
  fx_close(&fx);
}

TEST(executor_rate_limited_answers_wait_but_do_not_open_the_circuit) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  Executor *x = fx_executor(&fx);
  submit_paid_orders(&fx, x, 4);
  setenv("IEX_LEDGER_FAULT", "busy", 1);
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_pending(x, &st, &err));
  unsetenv("IEX_LEDGER_FAULT");
  CHECK_EQ_INT(st.waiting, 4);
  Arena a;
  arena_init(&a);
  /* Every call went out and was told to wait; none found the circuit open. */
  for (int i = 1; i <= 4; i++) CHECK_EQ_STR(transfer(&fx, i, &a).code, "E_HTTP_429");
  /* After the 7 s the ledger asked for (not a circuit pause), all go through. */
  clock_fake_advance(&fx.clock, 8 * SEC);
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(x, 0, &st, &err));
  CHECK_EQ_INT(st.done, 4);
  arena_fini(&a);
  executor_free(x);
  fx_close(&fx);
}

TEST(executor_circuit_opens_after_repeated_failures_and_tells_once) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  Executor *x = fx_executor(&fx);
  submit_paid_orders(&fx, x, 4);
  setenv("IEX_LEDGER_FAULT", "down", 1);
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_pending(x, &st, &err));
  unsetenv("IEX_LEDGER_FAULT");
  CHECK_EQ_INT(st.waiting, 4);
  Arena a;
  arena_init(&a);
  /* Two real failures opened it; the others did not even call. */
  CHECK_EQ_STR(transfer(&fx, 4, &a).code, "E_CIRCUIT_OPEN");
  int notices = 0;
  StoreMessage m;
  bool claimed = true;
  while (claimed) {
    CHECK_OK(store_outbox_claim(fx.s, "w", SEC, &a, &m, &claimed, &err));
    if (claimed) {
      notices += strstr(m.subject, "paused") != NULL;
      store_outbox_sent(fx.s, m.id, &err);
    }
  }
  CHECK_EQ_INT(notices, 1);
  /* After the pause, the trial call succeeds and everything goes through. */
  clock_fake_advance(&fx.clock, 3600 * SEC);
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(x, 0, &st, &err));
  CHECK_EQ_INT(st.done, 4);
  CHECK_EQ_INT(ledger_lines(&fx), 4);
  arena_fini(&a);
  executor_free(x);
  fx_close(&fx);
}

/* Paused-connection notices in the outbox (each claimed and sent). */
static int paused_notices(Fx *fx, Arena *a) {
  int notices = 0;
  StoreMessage m;
  bool claimed = true;
  while (claimed) {
    CHECK_OK(store_outbox_claim(fx->s, "w", SEC, a, &m, &claimed, &err));
    if (claimed) {
      notices += strstr(m.subject, "paused") != NULL;
      store_outbox_sent(fx->s, m.id, &err);
    }
  }
  return notices;
}

static Executor *fx_executor_on(Fx *fx, Store *s, const char *worker) {
  ExecutorOptions o = {.clock = &fx->clock.clock, .seed = 7, .quiet = true,
                       .worker_id = worker};
  return executor_new(s, &o);
}

static Store *fx_store(Fx *fx) {
  StoreOptions o = {.clock = &fx->clock.clock};
  Store *s = NULL;
  CHECK_OK(store_open(fx->path, &o, &s, &err));
  return s;
}

static size_t transfers_with_code(Fx *fx, int n, const char *code, Arena *a) {
  size_t k = 0;
  for (int i = 1; i <= n; i++) {
    const char *c = transfer(fx, i, a).code;
    k += c && strcmp(c, code) == 0;
  }
  return k;
}

/* The breaker is the store's: two workers (two handles on the store, as
** two processes have) add up their failures, a new process finds the
** pause, one person is told once, the trial after the pause is one call,
** and a resume lets everything through at once. (circuit_failures 2,
** circuit_pause_seconds 600.) */
TEST(executor_circuit_is_shared_by_workers_and_processes) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  Store *s2 = fx_store(&fx);
  CHECK_FATAL(s2 != NULL);
  Executor *x1 = fx_executor_on(&fx, fx.s, "w1"), *x2 = fx_executor_on(&fx, s2, "w2");
  submit_paid_orders(&fx, x1, 3);
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_accept_pending(x1, &st, &err));
  setenv("IEX_LEDGER_FAULT", "down", 1);
  /* One failure each: two in all, which is the threshold. */
  CHECK_OK(executor_run_due(x1, 1, &st, &err));
  CHECK_OK(executor_run_due(x2, 1, &st, &err));
  CHECK_OK(executor_run_due(x1, 1, &st, &err));
  CHECK_EQ_INT(st.runs, 3);
  Arena a;
  arena_init(&a);
  CHECK_EQ_STR(transfer(&fx, 1, &a).code, "E_NETWORK");
  CHECK_EQ_STR(transfer(&fx, 2, &a).code, "E_NETWORK");
  StoreTransfer t3 = transfer(&fx, 3, &a);
  CHECK_EQ_STR(t3.code, "E_CIRCUIT_OPEN"); /* refused without a call */
  /* Until when, and why: the error that opened it. */
  CHECK(strstr(t3.message, "paused until 2024-05-01T00:10:00Z after 2 failures"));
  CHECK(strstr(t3.message, "E_NETWORK: could not reach the ledger of books"));
  CHECK_EQ_INT(paused_notices(&fx, &a), 1);
  executor_free(x1);
  executor_free(x2);
  store_close(s2);

  /* A new process (`iex run` again): the connection is still paused, even
  ** though the ledger is back. */
  unsetenv("IEX_LEDGER_FAULT");
  Store *s3 = fx_store(&fx);
  CHECK_FATAL(s3 != NULL);
  Executor *x3 = fx_executor_on(&fx, s3, "w3");
  submit(&fx, x3, "{\"id\": 4, \"name\": \"#4\", \"status\": \"paid\", \"total\": 1}");
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_pending(x3, &st, &err));
  CHECK_EQ_INT(st.done, 0);
  CHECK_EQ_STR(transfer(&fx, 4, &a).code, "E_CIRCUIT_OPEN");
  CHECK_EQ_INT(ledger_lines(&fx), 0);

  /* After the pause, still down: one trial call, the rest keep waiting,
  ** and nobody is told again. */
  clock_fake_advance(&fx.clock, 3600 * SEC);
  setenv("IEX_LEDGER_FAULT", "down", 1);
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(x3, 0, &st, &err));
  unsetenv("IEX_LEDGER_FAULT");
  CHECK_EQ_INT(st.waiting, 4);
  CHECK_EQ_INT(transfers_with_code(&fx, 4, "E_NETWORK", &a), 1);
  CHECK_EQ_INT(transfers_with_code(&fx, 4, "E_CIRCUIT_OPEN", &a), 3);
  CHECK_EQ_INT(paused_notices(&fx, &a), 0);

  /* A person fixed it and resumes (`iex integration resume`): the waiting
  ** runs go now, not at the end of their pause. */
  bool was_paused = false;
  size_t woken = 0;
  CHECK_OK(store_circuit_close(fx.s, fx.ig, "books", &was_paused, &err));
  CHECK_OK(store_runs_due_now(fx.s, fx.ig, &woken, &err));
  CHECK(was_paused);
  CHECK_EQ_INT(woken, 4);
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(x3, 0, &st, &err));
  CHECK_EQ_INT(st.done, 4);
  CHECK_EQ_INT(ledger_lines(&fx), 4);
  arena_fini(&a);
  executor_free(x3);
  store_close(s3);
  fx_close(&fx);
}

/* ---- effects.h with a scripted connector ----------------------------------- */

typedef struct Script {
  int runs, finds;
  IexStatus run_rc;   /* what run answers */
  bool find_found;    /* what find answers */
  IexStatus find_rc;
} Script;
static Script sc;

static IexStatus sc_run(const Connection *c, const OpCall *call, Value *out, Err *e) {
  sc.runs++;
  if (sc.run_rc != IEX_OK) return err_set(e, sc.run_rc, "scripted failure");
  RecordBuilder rb;
  record_builder_init(&rb, call->arena, 1);
  record_builder_add(&rb, STR_LIT("id"), value_int(100 + sc.runs));
  *out = record_builder_finish(&rb);
  return IEX_OK;
}

static IexStatus sc_find(const Connection *c, const OpCall *call, bool *found,
                         Value *out, Err *e) {
  sc.finds++;
  if (sc.find_rc != IEX_OK) return err_set(e, sc.find_rc, "lookup down");
  *found = sc.find_found;
  if (*found) {
    RecordBuilder rb;
    record_builder_init(&rb, call->arena, 1);
    record_builder_add(&rb, STR_LIT("id"), value_int(55));
    *out = record_builder_finish(&rb);
  }
  return IEX_OK;
}

static const ConnectorOp sc_op = {"invoice.create", OP_WRITES, sc_run, sc_find, OP_UPDATE_KEEPS};

typedef struct EffFx {
  Fx fx;
  Arena a;
  int64_t transfer, revision, run;
  OpCall call;
  Connection conn;
  EffectCall ec;
} EffFx;

static bool eff_open(EffFx *e) {
  if (!fx_open(&e->fx)) return false;
  arena_init(&e->a);
  bool created;
  store_transfer_get_or_add(e->fx.s, e->fx.ig, "1", "#1", &e->transfer, &created, &err);
  bool is_new;
  store_revision_add(e->fx.s, e->transfer, "{}", NULL, 0, &e->revision, &is_new, &err);
  store_run_add(e->fx.s, e->revision, 0, "event", &e->run, &err);
  e->call = (OpCall){.arena = &e->a, .step = STR_LIT("invoice"),
                     .connection = STR_LIT("books"), .system = STR_LIT("x"),
                     .operation = STR_LIT("invoice.create"), .effect = OP_WRITES,
                     .effect_key = STR_LIT("invoice")};
  e->conn = (Connection){.name = "books", .system = "x"};
  e->ec = (EffectCall){.store = e->fx.s, .transfer_id = e->transfer,
                       .revision_id = e->revision, .run_id = e->run,
                       .key = "invoice", .reference = "t/1/invoice",
                       .counts_usage = true, .conn = &e->conn, .op = &sc_op,
                       .call = &e->call};
  memset(&sc, 0, sizeof sc);
  return err.code == IEX_OK;
}

static void eff_close(EffFx *e) {
  arena_fini(&e->a);
  fx_close(&e->fx);
}

static StoreEffectState eff_state(EffFx *e) {
  StoreEffect ef;
  bool found = false;
  store_effect_find(e->fx.s, e->transfer, "invoice", &e->a, &ef, &found, &err);
  return found ? ef.state : (StoreEffectState)-1;
}

TEST(effect_sent_once_then_reused) {
  EffFx e;
  CHECK_FATAL(eff_open(&e));
  Value v;
  EffectReport rep;
  CHECK_OK(effect_perform(&e.ec, &v, &rep, &err));
  CHECK(rep.how == EFFECT_SENT && rep.counted);
  CHECK_OK(effect_perform(&e.ec, &v, &rep, &err));
  CHECK(rep.how == EFFECT_REUSED && !rep.counted);
  CHECK_EQ_INT(value_field(v, STR_LIT("id"), NULL)->as.i, 101);
  CHECK_EQ_INT(sc.runs, 1);
  CHECK_EQ_INT(sc.finds, 0);
  eff_close(&e);
}

TEST(effect_started_before_a_crash_is_looked_up_and_adopted) {
  EffFx e;
  CHECK_FATAL(eff_open(&e));
  StoreEffectNew in = {e.transfer, e.revision, e.run, "invoice", "invoice", "x",
                       "invoice.create", "t/1/invoice", true};
  StoreEffect ef;
  bool created;
  CHECK_OK(store_effect_reserve(e.fx.s, &in, &e.a, &ef, &created, &err));
  CHECK_OK(store_effect_start(e.fx.s, ef.id, e.run, &err)); /* then: crash */
  sc.find_found = true;
  Value v;
  EffectReport rep;
  CHECK_OK(effect_perform(&e.ec, &v, &rep, &err));
  CHECK(rep.how == EFFECT_ADOPTED && rep.looked_up);
  CHECK_EQ_INT(sc.runs, 0); /* never sent twice */
  CHECK_EQ_INT(eff_state(&e), STORE_EFFECT_DONE);
  eff_close(&e);
}

TEST(effect_not_found_after_unknown_is_sent_again) {
  EffFx e;
  CHECK_FATAL(eff_open(&e));
  sc.run_rc = IEX_E_OUTCOME_UNKNOWN; /* the answer is lost */
  Value v;
  EffectReport rep;
  err_init(&err);
  CHECK_EQ_INT(effect_perform(&e.ec, &v, &rep, &err), IEX_E_OUTCOME_UNKNOWN);
  CHECK_EQ_INT(eff_state(&e), STORE_EFFECT_UNKNOWN);
  /* The lookup fails: still unknown, nothing sent. */
  sc.run_rc = IEX_OK;
  sc.find_rc = IEX_E_NETWORK;
  err_init(&err);
  CHECK_EQ_INT(effect_perform(&e.ec, &v, &rep, &err), IEX_E_LOOKUP_FAILED);
  CHECK_EQ_INT(sc.runs, 1);
  CHECK_EQ_INT(eff_state(&e), STORE_EFFECT_UNKNOWN);
  /* Within the reconcile window a miss waits; after it, it is sent. */
  sc.find_rc = IEX_OK;
  sc.find_found = false;
  e.ec.reconcile_window_us = 60 * SEC;
  e.ec.now_us = clock_now_us(&e.fx.clock.clock);
  err_init(&err);
  CHECK_EQ_INT(effect_perform(&e.ec, &v, &rep, &err), IEX_E_OUTCOME_UNKNOWN);
  CHECK_EQ_INT(sc.runs, 1);
  e.ec.now_us += 61 * SEC;
  CHECK_OK(effect_perform(&e.ec, &v, &rep, &err));
  CHECK(rep.how == EFFECT_SENT);
  CHECK_EQ_INT(sc.runs, 2);
  CHECK_EQ_INT(sc.finds, 3);
  eff_close(&e);
}

TEST(effect_refused_or_transient_creates_nothing_and_may_be_resent) {
  EffFx e;
  CHECK_FATAL(eff_open(&e));
  sc.run_rc = IEX_E_VALIDATION;
  Value v;
  EffectReport rep;
  err_init(&err);
  CHECK_EQ_INT(effect_perform(&e.ec, &v, &rep, &err), IEX_E_VALIDATION);
  CHECK_EQ_INT(eff_state(&e), STORE_EFFECT_REFUSED);
  sc.run_rc = IEX_E_HTTP_5XX;
  err_init(&err);
  CHECK_EQ_INT(effect_perform(&e.ec, &v, &rep, &err), IEX_E_HTTP_5XX);
  sc.run_rc = IEX_OK;
  CHECK_OK(effect_perform(&e.ec, &v, &rep, &err));
  CHECK_EQ_INT(sc.finds, 0); /* nothing was created: no lookup needed */
  CHECK_EQ_INT(sc.runs, 3);
  CHECK(effect_counts_usage(STR_LIT("invoice.create")));
  CHECK(!effect_counts_usage(STR_LIT("customer.create")));
  eff_close(&e);
}

int main(void) {
  check_suite = "unit/executor";
  unsetenv("IEX_LEDGER_FAULT");
  RUN(backoff_is_full_jitter_and_capped);
  RUN(retry_after_seconds_and_http_date);
  RUN(token_bucket_limits_rate_and_allows_bursts);
  RUN(circuit_opens_once_pauses_and_half_opens);
  RUN(executor_rate_limited_answers_wait_but_do_not_open_the_circuit);
  RUN(secrets_resolve_env_and_private_files_only);
  RUN(settings_parse_by_type);
  RUN(executor_done_skipped_failed_with_rule);
  RUN(executor_transient_failure_waits_with_backoff_then_runs);
  RUN(executor_circuit_opens_after_repeated_failures_and_tells_once);
  RUN(executor_circuit_is_shared_by_workers_and_processes);
  RUN(effect_sent_once_then_reused);
  RUN(effect_started_before_a_crash_is_looked_up_and_adopted);
  RUN(effect_not_found_after_unknown_is_sent_again);
  RUN(effect_refused_or_transient_creates_nothing_and_may_be_resent);
  return check_done();
}
