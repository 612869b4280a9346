/*
** Unit tests of runtime/settings.h's built-in settings: every integration
** has `included_orders` (its monthly quota) whatever its flow declares;
** it is found, checked, stored and read like a declared setting, the flow
** does not see it, and settings_included_orders() is the one reader.
** (The declared settings' parsing is tested in test_executor.c.)
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "runtime/settings.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "tests/lib/check_status.h"

static Err err;

#define CHECK_OK(call) CHECK_IEX_OK(err, call)


/* What a flow declares; it has no setting of a built-in's name. */
static const char *const modes[] = {"draft", "booked"};
static const FlowSetting decl[] = {
    {"invoice_mode", SETTING_CHOICE, modes, 2, "\"draft\"", "mode"},
};

/* ---- Fixture: a store with one integration, in a temporary folder ---- */

typedef struct Fx {
  char dir[64], path[128];
  Store *s;
  int64_t shop;
} Fx;

static bool fx_open(Fx *f) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/iex-test-settings-XXXXXX");
  if (!mkdtemp(f->dir)) return false;
  snprintf(f->path, sizeof f->path, "%s/iex.db", f->dir);
  CHECK_OK(store_open(f->path, NULL, &f->s, &err));
  if (!f->s) return false;
  StoreIntegrationNew in = {.name = "shop",
                            .iexb = STR_LIT("IEXB"),
                            .iexb_hash = "0",
                            .connections_json = "{}",
                            .is_active = true};
  CHECK_OK(store_integration_add(f->s, &in, &f->shop, &err));
  return f->shop != 0;
}

static void fx_close(Fx *f) {
  store_close(f->s);
  char p[160];
  const char *names[] = {"iex.db", "iex.db-wal", "iex.db-shm"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", f->dir, names[i]);
    unlink(p);
  }
  rmdir(f->dir);
}

/* ---- Tests ---------------------------------------------------------- */

TEST(builtin_included_orders_is_listed_and_found) {
  size_t n = 0;
  const FlowSetting *b = settings_builtins(&n);
  CHECK_FATAL(n >= 1);
  CHECK_EQ_STR(b[0].name, "included_orders");
  CHECK_EQ_INT(b[0].type, SETTING_COUNT);
  CHECK_EQ_STR(b[0].default_json, "100");
  CHECK(b[0].doc != NULL);
  CHECK(setting_builtin("included_orders") == &b[0]);
  CHECK(setting_builtin("invoice_mode") == NULL);
  /* setting_find knows the built-in and the flow's own */
  CHECK(setting_find(decl, 1, "included_orders") == &b[0]);
  CHECK(setting_find(decl, 1, "invoice_mode") == &decl[0]);
  CHECK(setting_find(decl, 1, "nope") == NULL);
  /* a flow's setting of a built-in's name does not replace the built-in */
  const FlowSetting clash[] = {
      {"included_orders", SETTING_INT, NULL, 0, "5", NULL}};
  CHECK(setting_find(clash, 1, "included_orders") == &b[0]);
}

TEST(builtin_included_orders_takes_whole_numbers_from_zero) {
  Arena a;
  arena_init(&a);
  const FlowSetting *s = setting_builtin("included_orders");
  CHECK_FATAL(s != NULL);
  const char *j = NULL;
  CHECK_OK(setting_parse(s, "0", &a, &j, &err));
  CHECK_EQ_STR(j, "0");
  CHECK_OK(setting_parse(s, "250", &a, &j, &err));
  CHECK_EQ_STR(j, "250");
  const char *bad[] = {"-1", "-0", "1.5", "ten", "", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err_init(&err);
    CHECK_EQ_INT(setting_parse(s, bad[i], &a, &j, &err), IEX_E_INVALID);
    CHECK_CONTAINS(err_text(&err), "whole number, 0 or more");
  }
  CHECK_EQ_STR(setting_type_text(s, &a), "int >= 0");
  arena_fini(&a);
}

TEST(included_orders_defaults_then_is_set_and_read_back) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  int64_t q = -1;
  CHECK_OK(settings_included_orders(f.s, f.shop, &q, &err));
  CHECK_EQ_INT(q, SETTING_INCLUDED_ORDERS_DEFAULT);
  CHECK_EQ_INT(q, 100);

  CHECK_OK(settings_set(f.s, f.shop, decl, 1, "invoice_mode", "booked", &err));
  CHECK_OK(settings_set(f.s, f.shop, decl, 1, "included_orders", "7", &err));
  CHECK_OK(settings_included_orders(f.s, f.shop, &q, &err));
  CHECK_EQ_INT(q, 7);
  CHECK_OK(settings_set(f.s, f.shop, decl, 1, "included_orders", "0", &err));
  CHECK_OK(settings_included_orders(f.s, f.shop, &q, &err));
  CHECK_EQ_INT(q, 0);

  Arena a;
  arena_init(&a);
  /* stored with the flow's values, which are kept */
  const char *stored = NULL;
  CHECK_OK(store_settings_get(f.s, f.shop, &a, &stored, &err));
  CHECK_CONTAINS(stored, "\"invoice_mode\":\"booked\"");
  CHECK_CONTAINS(stored, "\"included_orders\":0");
  CHECK(settings_is_set(stored, "included_orders", &a));
  /* the flow sees its own settings only */
  Value v;
  CHECK_OK(settings_values(f.s, f.shop, decl, 1, &a, &v, &err));
  CHECK_EQ_INT(v.len, 1);
  CHECK(value_field(v, STR_LIT("included_orders"), NULL) == NULL);
  /* the built-ins' values have it */
  CHECK_OK(settings_builtin_values(f.s, f.shop, &a, &v, &err));
  const Value *q_v = value_field(v, STR_LIT("included_orders"), NULL);
  CHECK_FATAL(q_v != NULL);
  CHECK_EQ_INT(value_kind(*q_v), VAL_INT);
  CHECK_EQ_INT(q_v->as.i, 0);
  arena_fini(&a);
  fx_close(&f);
}

TEST(included_orders_refused_values_leave_the_stored_one) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  CHECK_OK(settings_set(f.s, f.shop, decl, 1, "included_orders", "40", &err));
  err_init(&err);
  CHECK_EQ_INT(settings_set(f.s, f.shop, decl, 1, "included_orders", "-3", &err),
               IEX_E_INVALID);
  CHECK_CONTAINS(err_text(&err), "included_orders is a whole number, 0 or more");
  int64_t q = -1;
  CHECK_OK(settings_included_orders(f.s, f.shop, &q, &err));
  CHECK_EQ_INT(q, 40);
  /* an unknown name lists the flow's settings and the built-ins */
  err_init(&err);
  CHECK_EQ_INT(settings_set(f.s, f.shop, decl, 1, "included_order", "1", &err),
               IEX_E_INVALID);
  CHECK_CONTAINS(err_text(&err), "its settings: invoice_mode; built-in: included_orders");
  fx_close(&f);
}

TEST(included_orders_stored_raw_and_wrong_is_an_error_not_a_guess) {
  Fx f;
  CHECK_FATAL(fx_open(&f));
  const char *raw[] = {"{\"included_orders\": \"ten\"}",
                       "{\"included_orders\": -5}",
                       "{\"included_orders\": 2.5}"};
  for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
    CHECK_OK(store_settings_set(f.s, f.shop, raw[i], &err));
    int64_t q = -1;
    err_init(&err);
    CHECK_EQ_INT(settings_included_orders(f.s, f.shop, &q, &err), IEX_E_INVALID);
    CHECK_CONTAINS(err_text(&err), "iex settings set INTEGRATION included_orders N");
  }
  CHECK_OK(store_settings_set(f.s, f.shop, "{\"included_orders\": 12}", &err));
  int64_t q = -1;
  CHECK_OK(settings_included_orders(f.s, f.shop, &q, &err));
  CHECK_EQ_INT(q, 12);
  fx_close(&f);
}

int main(void) {
  check_suite = "unit/settings";
  RUN(builtin_included_orders_is_listed_and_found);
  RUN(builtin_included_orders_takes_whole_numbers_from_zero);
  RUN(included_orders_defaults_then_is_set_and_read_back);
  RUN(included_orders_refused_values_leave_the_stored_one);
  RUN(included_orders_stored_raw_and_wrong_is_an_error_not_a_guess);
  return check_done();
}
