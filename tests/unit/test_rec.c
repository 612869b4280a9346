/* Unit tests of connectors/rec.h helpers that need no HTTP (the rest are
** exercised against the emulators in tests/connectors): the shops' list
** resources. */
#include <stdbool.h>
#include <string.h>

#include "connectors/rec.h"
#include "tests/lib/check.h"

TEST(shop_resources) {
  bool refunds = true;
  CHECK_EQ_STR(rec_shop_resource("order", &refunds), "orders");
  CHECK(!refunds);
  CHECK_EQ_STR(rec_shop_resource("refund", &refunds), "orders");
  CHECK(refunds);
  CHECK_EQ_STR(rec_shop_resource("customer", &refunds), "customers");
  CHECK(!refunds);
  CHECK_EQ_STR(rec_shop_resource("product", &refunds), "products");
  CHECK(rec_shop_resource("invoice", &refunds) == NULL);
  CHECK(rec_shop_resource("orders", &refunds) == NULL);
  CHECK(rec_shop_resource("", &refunds) == NULL);
}

int main(void) {
  check_suite = "unit/rec";
  RUN(shop_resources);
  return check_done();
}
