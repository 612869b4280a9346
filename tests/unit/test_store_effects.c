/*
** Unit tests of the store's operations on what iex does to other systems
** and tells people: the effect ledger's state machine, usage counted once
** per transfer and system in UTC months, the outbox, and each connection's
** health (the circuit breaker every handle and process on the store
** shares, and the runs a resume makes due). Real SQLite files in a
** temporary folder with a fake clock (store_fixture.h).
*/
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/util.h"
#include "runtime/clock.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "tests/lib/check.h"
#include "tests/unit/store_fixture.h"

/* ---- Effects and usage ---------------------------------------------- */

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

int main(void) {
  check_suite = "unit/store_effects";
  RUN(effects_follow_their_state_machine);
  RUN(usage_counts_once_per_transfer_and_system);
  RUN(usage_months_are_utc);
  RUN(outbox_messages_go_out_once_their_state_change_commits);
  RUN(circuit_is_shared_by_every_handle_on_the_store);
  RUN(circuit_records_from_many_processes_lose_nothing);
  RUN(runs_waiting_for_a_pause_are_due_now_after_a_resume);
  return check_done();
}
