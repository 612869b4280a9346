/*
** Unit tests of what a changed source record does (`updates:`,
** docs/runtime.md "Updates"): the executor on a store with a fake clock,
** a scripted flow whose `updates:` is a setting, and a fake accounting
** system with one operation that replaces by reference (invoice.create,
** OP_UPDATE_REPLACES) and one that keeps what it made (payment.create).
**
**   apply   the invoice is sent again as an update (not counted as an
**           order), the payment is kept; a retry sends nothing more;
**   ignore  an update of a transferred record is skipped and the transfer
**           stays done; a record never transferred still goes;
**   again   a new invoice and a new payment;
**   and: a setting change applies to the very next run; a booked invoice
**   left alone is said on the run and the transfer; an update whose
**   answer was lost is sent again, not looked up (the lookup would find
**   the invoice as the earlier revision left it).
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "connectors/connector.h"
#include "runtime/clock.h"
#include "runtime/executor.h"
#include "runtime/json_value.h"
#include "runtime/settings.h"
#include "runtime/store.h"
#include "tests/lib/check_status.h"

#define SEC INT64_C(1000000)

static Err err;

#define CHECK_OK(call) CHECK_IEX_OK(err, call)

/* ---- The fake accounting system ----------------------------------------- */

static struct {
  int invoice_runs, invoice_finds, payment_runs;
  char last_total[32];   /* the total the invoice has in the system now */
  bool booked;           /* the invoice was booked: it changes no more */
  bool lose_answer_once; /* apply the next invoice call, then lose the answer */
  bool paced;            /* the connection came with a pace (rate limit) */
} books;

static Value invoice_record(Arena *a) {
  RecordBuilder rb;
  record_builder_init(&rb, a, 2);
  record_builder_add(&rb, STR_LIT("id"), value_int(500));
  record_builder_add(&rb, STR_LIT("total"),
                     value_string(arena_strndup(a, books.last_total,
                                                strlen(books.last_total)),
                                  strlen(books.last_total)));
  return record_builder_finish(&rb);
}

static IexStatus invoice_create(const Connection *c, const OpCall *call,
                                Value *out, Err *e) {
  books.invoice_runs++;
  books.paced = c->pace != NULL;
  if (c->pace) c->pace(c->pace_ctx); /* the first token: no wait */
  if (books.booked) {
    connector_note(call, "booked invoice 500 is left alone");
    *out = invoice_record(call->arena);
    return IEX_OK;
  }
  const Value *t = value_field(call->input, STR_LIT("total"), NULL);
  if (t) {
    Buf b;
    buf_init(&b, 0);
    jsonv_encode(*t, &b, NULL);
    snprintf(books.last_total, sizeof books.last_total, "%s", buf_cstr(&b));
    buf_fini(&b);
  }
  if (books.lose_answer_once) {
    books.lose_answer_once = false;
    return err_set(e, IEX_E_OUTCOME_UNKNOWN, "the answer was lost");
  }
  *out = invoice_record(call->arena);
  return IEX_OK;
}

static IexStatus invoice_find(const Connection *c, const OpCall *call,
                              bool *found, Value *out, Err *e) {
  (void)c, (void)e;
  books.invoice_finds++;
  *found = books.invoice_runs > 0;
  if (*found) *out = invoice_record(call->arena);
  return IEX_OK;
}

static IexStatus payment_create(const Connection *c, const OpCall *call,
                                Value *out, Err *e) {
  (void)c, (void)e;
  books.payment_runs++;
  RecordBuilder rb;
  record_builder_init(&rb, call->arena, 1);
  record_builder_add(&rb, STR_LIT("id"), value_int(900 + books.payment_runs));
  *out = record_builder_finish(&rb);
  return IEX_OK;
}

static IexStatus payment_find(const Connection *c, const OpCall *call,
                              bool *found, Value *out, Err *e) {
  (void)c, (void)call, (void)out, (void)e;
  *found = false;
  return IEX_OK;
}

static const ConnectorOp books_ops[] = {
    {"invoice.create", OP_WRITES, invoice_create, invoice_find, OP_UPDATE_REPLACES},
    {"payment.create", OP_WRITES, payment_create, payment_find, OP_UPDATE_KEEPS},
};
static const Connector books_connector = {.system = "fakebooks",
                                          .title = "a fake accounting system",
                                          .ops = books_ops,
                                          .n_ops = 2};

static const Connector *find_books(const char *system) {
  return strcmp(system, "fakebooks") == 0 ? &books_connector : NULL;
}

/* ---- Fixture -------------------------------------------------------------- */

static const char *flow_text =
    "#!iex-script-flow\n"
    "{\"name\": \"t\", \"id\": \"id\", \"key\": \"name\", \"time\": \"updated_at\","
    " \"updates\": \"settings.on_update\","
    " \"settings\": [{\"name\": \"on_update\", \"type\": \"ignore | apply | again\","
    "   \"default\": \"apply\"}],"
    " \"when\": {\"field\": \"status\", \"in\": [\"paid\"], \"location\": \"t:1:1\"},"
    " \"steps\": ["
    "  {\"name\": \"invoice\", \"use\": \"books\", \"system\": \"fakebooks\","
    "   \"op\": \"invoice.create\", \"writes\": true, \"location\": \"t:4:2\","
    "   \"map\": {\"reference\": \"{name}\", \"total\": \"{total!}\"}},"
    "  {\"name\": \"payment\", \"use\": \"books\", \"system\": \"fakebooks\","
    "   \"op\": \"payment.create\", \"writes\": true, \"location\": \"t:8:2\","
    "   \"map\": {\"invoice\": \"{invoice.id}\", \"amount\": \"{total}\"}}]}";

static const char *const on_update_choices[] = {"ignore", "apply", "again"};
static const FlowSetting decl[] = {
    {"on_update", SETTING_CHOICE, on_update_choices, 3, "\"apply\"", NULL}};

typedef struct Fx {
  char dir[64], path[96];
  ClockFake clock;
  Store *s;
  int64_t ig;
  Executor *x;
  Arena a;
} Fx;

static const char *connections = "{\"books\": {\"system\": \"fakebooks\"}}";

static bool fx_open(Fx *fx) {
  memset(fx, 0, sizeof *fx);
  memset(&books, 0, sizeof books);
  snprintf(fx->dir, sizeof fx->dir, "/tmp/iex-updates-XXXXXX");
  if (!mkdtemp(fx->dir)) return false;
  snprintf(fx->path, sizeof fx->path, "%s/iex.db", fx->dir);
  clock_fake_init(&fx->clock, clock_utc_us(2024, 5, 1, 0, 0, 0));
  StoreOptions o = {.clock = &fx->clock.clock};
  err_init(&err);
  if (store_open(fx->path, &o, &fx->s, &err) != IEX_OK) return false;
  StoreIntegrationNew in = {
      .name = "t",
      .iexb = str_from_cstr(flow_text),
      .iexb_hash = "h",
      .connections_json = connections,
      .activated_at_us = 1,
      .is_active = true};
  if (store_integration_add(fx->s, &in, &fx->ig, &err) != IEX_OK) return false;
  ExecutorOptions xo = {.clock = &fx->clock.clock, .seed = 7, .quiet = true,
                        .find_connector = find_books};
  fx->x = executor_new(fx->s, &xo);
  arena_init(&fx->a);
  return true;
}

static void fx_close(Fx *fx) {
  arena_fini(&fx->a);
  executor_free(fx->x);
  store_close(fx->s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
  if (system(cmd) != 0) check_fail(__FILE__, __LINE__, "cannot remove %s", fx->dir);
}

/* Order #1 at `status` with `total`, changed a minute after its last
** event, as a new event; then run what is due. */
static ExecutorStats order(Fx *fx, const char *status, const char *total) {
  static int minute;
  char j[200];
  snprintf(j, sizeof j,
           "{\"id\": 1, \"name\": \"#1\", \"status\": \"%s\", \"total\": %s,"
           " \"updated_at\": \"2024-05-01T10:%02d:00Z\"}",
           status, total, ++minute % 60);
  CHECK_OK(executor_submit(fx->x, fx->ig, str_from_cstr(j), "import", NULL, &err));
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_pending(fx->x, &st, &err));
  return st;
}

static void set_on_update(Fx *fx, const char *value) {
  CHECK_OK(settings_set(fx->s, fx->ig, decl, 1, "on_update", value, &err));
}

static StoreTransfer the_transfer(Fx *fx) {
  StoreTransfer t;
  memset(&t, 0, sizeof t);
  CHECK_OK(store_transfer_get(fx->s, 1, &fx->a, &t, &err));
  return t;
}

/* The effect keys of the transfer, joined by spaces, in reservation order. */
static const char *effect_keys(Fx *fx) {
  StoreEffect *e;
  size_t n;
  CHECK_OK(store_effect_list(fx->s, 1, &fx->a, &e, &n, &err));
  const char *out = "";
  for (size_t i = 0; i < n; i++)
    out = arena_printf(&fx->a, "%s%s%s", out, i ? " " : "", e[i].key);
  return out;
}

static int64_t orders_counted(Fx *fx) {
  StoreUsage u;
  CHECK_OK(store_usage_month(fx->s, 2024, 5, 100, 0, &u, &err));
  return u.used;
}

/* ---- Tests ------------------------------------------------------------------ */

TEST(apply_updates_what_replaces_and_keeps_the_rest) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);
  CHECK_EQ_INT(books.invoice_runs, 1);
  CHECK_EQ_INT(books.payment_runs, 1);
  CHECK_EQ_STR(books.last_total, "10");

  ExecutorStats st = order(&fx, "paid", "12"); /* the order changed */
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(books.invoice_runs, 2);  /* the invoice was updated... */
  CHECK_EQ_STR(books.last_total, "12"); /* ...with the new revision's data */
  CHECK_EQ_INT(books.payment_runs, 1);  /* the payment was kept */
  CHECK_EQ_INT(books.invoice_finds, 0);
  CHECK_EQ_STR(effect_keys(&fx), "invoice payment invoice@r2-update");
  CHECK_EQ_INT(orders_counted(&fx), 1); /* updates do not count */
  CHECK_EQ_INT(the_transfer(&fx).status, STORE_RUN_DONE);

  /* Running the same revision again sends nothing more. */
  CHECK_OK(executor_retry(fx.x, 1, "retry", &err));
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(fx.x, 0, &st, &err));
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(books.invoice_runs, 2);
  CHECK_EQ_INT(books.payment_runs, 1);
  fx_close(&fx);
}

TEST(a_changed_updates_setting_applies_to_the_very_next_run) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);

  set_on_update(&fx, "ignore");
  ExecutorStats st = order(&fx, "paid", "11");
  CHECK_EQ_INT(st.skipped, 1);
  CHECK_EQ_INT(books.invoice_runs, 1);
  StoreTransfer t = the_transfer(&fx);
  CHECK_EQ_INT(t.status, STORE_RUN_DONE); /* its invoice exists */
  CHECK(t.message && strstr(t.message, "a later update was skipped") &&
        strstr(t.message, "ignores updates"));

  set_on_update(&fx, "again");
  st = order(&fx, "paid", "12");
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(books.invoice_runs, 2);
  CHECK_EQ_INT(books.payment_runs, 2); /* a new record: a new payment too */
  CHECK_EQ_STR(effect_keys(&fx), "invoice payment invoice@r3 payment@r3");

  set_on_update(&fx, "apply");
  st = order(&fx, "paid", "13");
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(books.invoice_runs, 3);
  CHECK_EQ_INT(books.payment_runs, 2);
  fx_close(&fx);
}

TEST(ignore_still_transfers_a_record_that_was_never_transferred) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  set_on_update(&fx, "ignore");
  CHECK_EQ_INT(order(&fx, "pending", "10").skipped, 1); /* not paid yet */
  CHECK_EQ_INT(the_transfer(&fx).status, STORE_RUN_SKIPPED);
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1); /* revision 2: now paid */
  CHECK_EQ_INT(books.invoice_runs, 1);
  CHECK_EQ_INT(the_transfer(&fx).status, STORE_RUN_DONE);
  fx_close(&fx);
}

TEST(a_later_revision_skipped_by_its_stage_leaves_the_transfer_done) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);
  CHECK_EQ_INT(order(&fx, "refunded", "10").skipped, 1);
  StoreTransfer t = the_transfer(&fx);
  CHECK_EQ_INT(t.status, STORE_RUN_DONE);
  CHECK(t.message && strstr(t.message, "not in allowed states"));
  fx_close(&fx);
}

TEST(a_booked_invoice_left_alone_is_said_on_the_run_and_the_transfer) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);
  books.booked = true; /* a person booked it in the accounting system */
  CHECK_EQ_INT(order(&fx, "paid", "12").done, 1);
  CHECK_EQ_STR(books.last_total, "10"); /* unchanged */
  StoreTransfer t = the_transfer(&fx);
  CHECK_EQ_INT(t.status, STORE_RUN_DONE);
  CHECK(t.message && strstr(t.message, "invoice: booked invoice 500 is left alone"));
  /* The step's answer says it too. */
  StoreRun *runs;
  size_t n;
  CHECK_OK(store_run_list(fx.s, 1, &fx.a, &runs, &n, &err));
  CHECK_FATAL(n == 2);
  StoreStage *stages;
  size_t ns;
  CHECK_OK(store_stage_list(fx.s, runs[1].id, &fx.a, &stages, &ns, &err));
  bool said = false;
  for (size_t i = 0; i < ns; i++)
    if (stages[i].kind == STORE_STAGE_RESPONSE && stages[i].message &&
        strstr(stages[i].message, "sent as an update; booked invoice 500 is left alone"))
      said = true;
  CHECK(said);
  fx_close(&fx);
}

TEST(an_update_whose_answer_was_lost_is_sent_again_not_looked_up) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);
  books.lose_answer_once = true;
  CHECK_EQ_INT(order(&fx, "paid", "12").waiting, 1);
  CHECK_EQ_INT(books.invoice_runs, 2);
  clock_fake_advance(&fx.clock, 3600 * SEC);
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(fx.x, 0, &st, &err));
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(books.invoice_finds, 0); /* a lookup would adopt the old one */
  CHECK_EQ_INT(books.invoice_runs, 3);
  CHECK_EQ_STR(books.last_total, "12");
  CHECK_EQ_INT(orders_counted(&fx), 1);
  fx_close(&fx);
}

TEST(a_first_revision_lost_answer_is_still_looked_up_before_sending) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  books.lose_answer_once = true;
  CHECK_EQ_INT(order(&fx, "paid", "10").waiting, 1);
  clock_fake_advance(&fx.clock, 3600 * SEC);
  ExecutorStats st;
  memset(&st, 0, sizeof st);
  CHECK_OK(executor_run_due(fx.x, 0, &st, &err));
  CHECK_EQ_INT(st.done, 1);
  CHECK_EQ_INT(books.invoice_finds, 1); /* found: adopted, not sent twice */
  CHECK_EQ_INT(books.invoice_runs, 1);
  fx_close(&fx);
}

/* rate_per_second reaches the connector as Connection.pace, which
** connectors/http.c calls before every request (tests/connectors). */
TEST(a_rate_limited_connection_is_paced_per_call) {
  Fx fx;
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);
  CHECK(!books.paced);
  fx_close(&fx);
  connections = "{\"books\": {\"system\": \"fakebooks\", \"rate_per_second\": 5}}";
  CHECK_FATAL(fx_open(&fx));
  CHECK_EQ_INT(order(&fx, "paid", "10").done, 1);
  CHECK(books.paced);
  fx_close(&fx);
}

int main(void) {
  check_suite = "unit/updates";
  RUN(apply_updates_what_replaces_and_keeps_the_rest);
  RUN(a_changed_updates_setting_applies_to_the_very_next_run);
  RUN(ignore_still_transfers_a_record_that_was_never_transferred);
  RUN(a_later_revision_skipped_by_its_stage_leaves_the_transfer_done);
  RUN(a_booked_invoice_left_alone_is_said_on_the_run_and_the_transfer);
  RUN(an_update_whose_answer_was_lost_is_sent_again_not_looked_up);
  RUN(a_first_revision_lost_answer_is_still_looked_up_before_sending);
  RUN(a_rate_limited_connection_is_paced_per_call);
  return check_done();
}
