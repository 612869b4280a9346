/*
** Unit tests of the poller's connections (runtime/poller.h): a source
** connection's credentials are resolved from their references and wiped
** from the arena before its memory goes back to malloc.
*/
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "runtime/poller.h"
#include "tests/lib/check_status.h"

static Err err;
#define CHECK_OK(call) CHECK_IEX_OK(err, call)

/* Registered before the connection is made, so it runs after the
** connection's own cleanups and before the memory is freed. */
typedef struct Seen {
  const char *value;
  bool wiped;
} Seen;

static void look(void *p) {
  Seen *s = p;
  s->wiped = s->value && s->value[0] == '\0';
}

TEST(source_connection_secrets_resolved_then_wiped) {
  setenv("IEX_TEST_SHOP_TOKEN", "shpat_poller_secret_1", 1);
  const char *conns =
      "{\"shop\": {\"system\": \"shopify\", \"base_url\": \"http://127.0.0.1:9\","
      " \"secrets\": {\"access_token\": \"env:IEX_TEST_SHOP_TOKEN\"}}}";
  Arena a;
  arena_init(&a);
  Seen seen = {0};
  arena_on_free(&a, look, &seen);
  Connection c;
  CHECK_OK(poller_connection(conns, "shop", NULL, &a, &c, &err));
  CHECK_FATAL(c.n_secrets == 1);
  CHECK_EQ_STR(c.secret_names[0], "access_token");
  CHECK_EQ_STR(c.secret_values[0], "shpat_poller_secret_1");
  CHECK_EQ_STR(c.system, "shopify");
  seen.value = c.secret_values[0];
  arena_fini(&a);
  CHECK(seen.wiped);
  unsetenv("IEX_TEST_SHOP_TOKEN");
}

TEST(unknown_connection_is_not_found) {
  Arena a;
  arena_init(&a);
  Connection c;
  err_init(&err);
  CHECK_EQ_INT(poller_connection("{}", "shop", NULL, &a, &c, &err), IEX_E_NOT_FOUND);
  arena_fini(&a);
}

int main(void) {
  check_suite = "unit/poller";
  RUN(source_connection_secrets_resolved_then_wiped);
  RUN(unknown_connection_is_not_found);
  return check_done();
}
