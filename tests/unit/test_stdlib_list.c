/* Unit tests of the stdlib's list and record functions (stdlib/list.c,
** stdlib/record.c): key lists, stable sorting, grouping in order of first
** appearance, de-duplication by value, nulls as empty lists. */
#include "tests/unit/test_stdlib.h"

#include <stdlib.h>

TEST(count_first_last) {
  CHECK_EQ_STR(R(STD_count, 1, LIST(3, I(1), N(), I(3))), "3");
  CHECK_EQ_STR(R(STD_count, 1, LIST(0)), "0");
  CHECK_EQ_STR(R(STD_count, 1, N()), "0");
  CHECK_EQ_STR(R(STD_count, 1, S("abc")), "error: `values` must be a list, not string `abc`");
  CHECK_EQ_STR(R(STD_first, 1, LIST(2, S("a"), S("b"))), "\"a\"");
  CHECK_EQ_STR(R(STD_last, 1, LIST(2, S("a"), S("b"))), "\"b\"");
  CHECK_EQ_STR(R(STD_first, 1, LIST(0)), "null");
  CHECK_EQ_STR(R(STD_last, 1, N()), "null");
}

TEST(find_any_all_take_condition_lists) {
  Value gateways = LIST(3, S("gift_card"), S("mobilepay"), S("manual"));
  CHECK_EQ_STR(R(STD_find, 2, gateways, LIST(3, B(false), B(true), B(true))), "\"mobilepay\"");
  CHECK_EQ_STR(R(STD_find, 2, gateways, LIST(3, B(false), B(false), B(false))), "null");
  CHECK_EQ_STR(R(STD_find, 2, N(), N()), "null");
  CHECK_EQ_STR(R(STD_any, 2, gateways, LIST(3, B(false), B(false), B(true))), "true");
  CHECK_EQ_STR(R(STD_any, 2, LIST(0), LIST(0)), "false");
  CHECK_EQ_STR(R(STD_all, 2, gateways, LIST(3, B(true), B(false), B(true))), "false");
  CHECK_EQ_STR(R(STD_all, 2, LIST(0), LIST(0)), "true");
  CHECK_EQ_STR(R(STD_all, 2, N(), LIST(0)), "true");
  CHECK_EQ_STR(R(STD_find, 2, gateways, LIST(3, B(false), N(), B(true))),
               "error: the condition gave null for element 2, not true or false");
  CHECK_EQ_STR(R(STD_any, 2, gateways, LIST(3, B(false), I(1), B(true))),
               "error: the condition gave 1 for element 2, not true or false");
  CHECK_EQ_STR(R(STD_any, 2, gateways, LIST(2, B(false), B(true))),
               "error: 2 keys were computed for 3 values");
}

TEST(sort_is_stable_both_ways) {
  Value items = LIST(5, S("a"), S("b"), S("c"), S("d"), S("e"));
  Value keys = LIST(5, I(2), DEC("1.0"), I(2), I(1), DEC("1.5"));
  CHECK_EQ_STR(R(STD_sort, 3, items, keys, B(false)), "[\"b\", \"d\", \"e\", \"a\", \"c\"]");
  CHECK_EQ_STR(R(STD_sort, 3, items, keys, B(true)), "[\"a\", \"c\", \"e\", \"b\", \"d\"]");
  /* Text by code point, null first, mixed kinds in the value_compare order. */
  CHECK_EQ_STR(R(STD_sort, 3, LIST(4, I(1), I(2), I(3), I(4)),
                 LIST(4, S("\xC3\xA6"), S("b"), N(), S("B")), B(false)), "[3, 4, 2, 1]");
  CHECK_EQ_STR(R(STD_sort, 3, LIST(0), LIST(0), B(false)), "[]");
  CHECK_EQ_STR(R(STD_sort, 3, N(), N(), B(false)), "[]");
  CHECK_EQ_STR(R(STD_sort, 3, LIST(1, I(1)), LIST(1, N()), B(false)), "[1]");
  CHECK_EQ_STR(R(STD_sort, 3, items, keys, N()), "error: `descending` must be true or false, not null");
  CHECK_EQ_STR(R(STD_sort, 3, items, LIST(1, I(1)), B(false)), "error: 1 keys were computed for 5 values");
}

TEST(sort_many_is_stable) {
  /* 10007 elements with 10 distinct keys: each key's elements must keep
  ** their original order (checked through the payload, the position). */
  enum { n = 10007 };
  Value *items = malloc(n * sizeof *items), *keys = malloc(n * sizeof *keys), out;
  for (int i = 0; i < n; i++) items[i] = I(i), keys[i] = I((i * 7919) % 10);
  Value args[3] = {value_list(items, n), value_list(keys, n), B(false)};
  StdCall call = {&A, args, 3, ROUNDING, NOW, TZ, &ERR};
  CHECK_FATAL(std_sort(&call, &out));
  CHECK_EQ_INT(out.len, n);
  bool ordered = true;
  for (int i = 1; i < n; i++) {
    int64_t a = out.as.items[i - 1].as.i, b = out.as.items[i].as.i;
    int64_t ka = (a * 7919) % 10, kb = (b * 7919) % 10;
    if (ka > kb || (ka == kb && a > b)) ordered = false;
  }
  CHECK(ordered);
  free(items);
  free(keys);
}

TEST(group_in_order_of_first_appearance) {
  Value lines = LIST(5, S("l1"), S("l2"), S("l3"), S("l4"), S("l5"));
  Value rates = LIST(5, DEC("0.25"), I(0), DEC("0.250"), N(), I(0));
  CHECK_EQ_STR(R(STD_group, 2, lines, rates),
               "[{\"key\": 0.25, \"items\": [\"l1\", \"l3\"]}, "
               "{\"key\": 0, \"items\": [\"l2\", \"l5\"]}, "
               "{\"key\": null, \"items\": [\"l4\"]}]");
  CHECK_EQ_STR(R(STD_group, 2, LIST(0), LIST(0)), "[]");
  CHECK_EQ_STR(R(STD_group, 2, lines, LIST(0)), "error: 0 keys were computed for 5 values");
}

TEST(flatten_unique_compact) {
  CHECK_EQ_STR(R(STD_flatten, 1, LIST(4, LIST(2, I(1), I(2)), LIST(0), N(), LIST(1, LIST(1, I(3))))),
               "[1, 2, [3]]");
  CHECK_EQ_STR(R(STD_flatten, 1, LIST(0)), "[]");
  CHECK_EQ_STR(R(STD_flatten, 1, LIST(2, LIST(0), S("x"))), "error: element 2 is `x`, not a list");
  CHECK_EQ_STR(R(STD_unique, 1, LIST(6, S("a"), I(1), DEC("1.00"), S("a"), N(), N())),
               "[\"a\", 1, null]");
  CHECK_EQ_STR(R(STD_unique, 1, LIST(2, REC(1, "a", I(1)), REC(1, "a", I(1)))), "[{\"a\": 1}]");
  CHECK_EQ_STR(R(STD_unique, 1, LIST(2, S("a"), S("b"))), "[\"a\", \"b\"]");
  CHECK_EQ_STR(R(STD_unique, 1, N()), "[]");
  CHECK_EQ_STR(R(STD_compact, 1, LIST(5, S("a"), N(), S(""), I(0), B(false))), "[\"a\", 0, false]");
  CHECK_EQ_STR(R(STD_compact, 1, N()), "[]");
}

TEST(records_and_values) {
  Value rec = REC(3, "name", S("Mette"), "company", N(), "zip", S("2200"));
  CHECK_EQ_STR(R(STD_keys, 1, rec), "[\"name\", \"company\", \"zip\"]");
  CHECK_EQ_STR(R(STD_keys, 1, N()), "[]");
  CHECK_EQ_STR(R(STD_keys, 1, LIST(0)), "error: keys() needs a record, not an empty list");
  CHECK_EQ_STR(R(STD_has, 2, rec, S("name")), "true");
  CHECK_EQ_STR(R(STD_has, 2, rec, S("company")), "false");
  CHECK_EQ_STR(R(STD_has, 2, rec, S("email")), "false");
  CHECK_EQ_STR(R(STD_has, 2, N(), S("name")), "false");
  CHECK_EQ_STR(R(STD_has, 2, S("x"), S("name")), "false");
  CHECK_EQ_STR(R(STD_coalesce, 1, LIST(3, N(), S(""), S("x"))), "\"\"");
  CHECK_EQ_STR(R(STD_coalesce, 1, LIST(2, N(), N())), "null");
  CHECK_EQ_STR(R(STD_to_json, 1, REC(3, "a", DEC("1.50"), "d", DAY("2025-03-14"), "s", S("\"q\""))),
               "\"{\\\"a\\\":1.50,\\\"d\\\":\\\"2025-03-14\\\",\\\"s\\\":\\\"\\\\\\\"q\\\\\\\"\\\"}\"");
  CHECK_EQ_STR(R(STD_to_json, 1, N()), "\"null\"");
  CHECK_PREFIX(R(STD_to_json, 1, S("\xFF")), "error: cannot write the value as JSON: ");
}

int main(void) {
  check_suite = "unit/stdlib_list";
  stdlib_test_init();
  RUN(count_first_last);
  RUN(find_any_all_take_condition_lists);
  RUN(sort_is_stable_both_ways);
  RUN(sort_many_is_stable);
  RUN(group_in_order_of_first_appearance);
  RUN(flatten_unique_compact);
  RUN(records_and_values);
  stdlib_test_fini();
  return check_done();
}
