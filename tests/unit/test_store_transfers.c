/*
** Unit tests of the store's operations on what comes in and what is done
** with it: the inbox and poll cursors, transfers and their revisions, runs
** under leases, stages, and the queries for people (the log, retry
** --failed, show). Real SQLite files in a temporary folder with a fake
** clock, so that leases expire on command (store_fixture.h).
*/
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/util.h"
#include "runtime/clock.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "tests/lib/check.h"
#include "tests/unit/store_fixture.h"

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

int main(void) {
  check_suite = "unit/store_transfers";
  RUN(inbox_dedups_and_marks_processed);
  RUN(cursor_moves_with_its_poll_or_not_at_all);
  RUN(transfers_and_revisions_only_on_change);
  RUN(runs_are_claimed_with_leases);
  RUN(runs_retry_later_and_never_run_one_transfer_twice);
  RUN(inactive_integrations_do_not_run);
  RUN(stages_record_each_step);
  RUN(log_filters_and_orders_newest_first);
  RUN(show_transfer_gathers_everything);
  return check_done();
}
