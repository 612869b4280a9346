/* Unit tests of the stdlib's number and money functions (stdlib/money.c):
** every rounding rule, exact sums, int edge cases, reading numbers from
** text, and cent_difference as the shipped flows use it. */
#include "tests/unit/test_stdlib.h"

TEST(round_with_each_rule) {
  CHECK_EQ_STR(R(STD_round, 3, DEC("2.5"), I(0), N()), "decimal(3)"); /* flow: half_up */
  CHECK_EQ_STR(R(STD_round, 3, DEC("-2.5"), I(0), S("flow")), "decimal(-2)");
  CHECK_EQ_STR(R(STD_round, 3, DEC("2.5"), I(0), S("half_even")), "decimal(2)");
  CHECK_EQ_STR(R(STD_round, 3, DEC("3.5"), I(0), S("half_even")), "decimal(4)");
  CHECK_EQ_STR(R(STD_round, 3, DEC("-2.5"), I(0), S("half_away_from_zero")), "decimal(-3)");
  CHECK_EQ_STR(R(STD_round, 3, DEC("2.5"), I(0), S("half_down")), "decimal(2)");
  CHECK_EQ_STR(R(STD_round, 3, DEC("-2.9"), I(0), S("down")), "decimal(-2)");
  CHECK_EQ_STR(R(STD_round, 3, DEC("2.45"), I(1), S("half_even")), "2.4");
  CHECK_EQ_STR(R(STD_round, 3, DEC("119.2049"), I(2), N()), "119.20");
  CHECK_EQ_STR(R(STD_round, 3, DEC("10"), I(2), N()), "10.00");
  CHECK_EQ_STR(R(STD_round, 3, I(7), I(0), N()), "7");
  CHECK_EQ_STR(R(STD_round, 3, I(INT64_MAX), I(0), N()), "9223372036854775807");
  CHECK_EQ_STR(R(STD_round, 3, I(7), I(2), N()), "7.00");
  CHECK_EQ_STR(R(STD_round, 3, I(INT64_MIN), I(2), N()),
               "error: `value` is -9223372036854775808, which has more than 18 digits");
  CHECK_EQ_STR(R(STD_round, 3, N(), I(2), N()), "null");
  CHECK_EQ_STR(R(STD_round, 3, DEC("1"), I(19), N()), "error: `places` is 19, not in 0..18");
  CHECK_EQ_STR(R(STD_round, 3, DEC("1"), I(-1), N()), "error: `places` is -1, not in 0..18");
  CHECK_PREFIX(R(STD_round, 3, DEC("1"), I(0), S("banker")),
               "error: `banker` is not a rounding rule (half_up, half_even");
  ROUNDING = ROUND_HALF_EVEN;
  CHECK_EQ_STR(R(STD_round, 3, DEC("0.125"), I(2), N()), "0.12");
  ROUNDING = ROUND_HALF_UP;
  CHECK_EQ_STR(R(STD_round, 3, DEC("0.125"), I(2), N()), "0.13");
}

TEST(abs_min_max) {
  CHECK_EQ_STR(R(STD_abs, 1, DEC("-0.05")), "0.05");
  CHECK_EQ_STR(R(STD_abs, 1, I(-3)), "3");
  CHECK_EQ_STR(R(STD_abs, 1, I(INT64_MAX)), "9223372036854775807");
  CHECK_EQ_STR(R(STD_abs, 1, I(INT64_MIN)),
               "error: the absolute value of -9223372036854775808 does not fit in an integer");
  CHECK_EQ_STR(R(STD_abs, 1, N()), "null");
  CHECK_EQ_STR(R(STD_abs, 1, S("-1")), "error: `value` must be a number, not string `-1`");
  CHECK_EQ_STR(R(STD_min, 1, LIST(4, DEC("2.50"), N(), I(2), DEC("3"))), "2");
  CHECK_EQ_STR(R(STD_max, 1, LIST(4, DEC("2.50"), N(), I(2), DEC("3"))), "decimal(3)");
  CHECK_EQ_STR(R(STD_min, 1, LIST(2, DEC("1.0"), DEC("1.00"))), "1.0"); /* the first of equals */
  CHECK_EQ_STR(R(STD_max, 1, LIST(2, I(INT64_MIN), I(INT64_MAX))), "9223372036854775807");
  CHECK_EQ_STR(R(STD_min, 1, LIST(2, I(INT64_MIN), DEC("-999999999999999999"))),
               "-9223372036854775808");
  CHECK_EQ_STR(R(STD_min, 1, LIST(0)), "null");
  CHECK_EQ_STR(R(STD_min, 1, LIST(2, N(), N())), "null");
  CHECK_EQ_STR(R(STD_max, 1, N()), "null");
  CHECK_EQ_STR(R(STD_max, 1, LIST(2, I(1), S("2"))), "error: element 2 is `2`, not a number");
  CHECK_EQ_STR(R(STD_max, 1, S("2")), "error: `values` must be a list, not string `2`");
}

TEST(sum_is_exact) {
  CHECK_EQ_STR(R(STD_sum, 1, LIST(2, DEC("0.1"), DEC("0.2"))), "0.3");
  CHECK_EQ_STR(R(STD_sum, 1, LIST(4, DEC("15.92"), N(), I(2), DEC("0.005"))), "17.925");
  CHECK_EQ_STR(R(STD_sum, 1, LIST(0)), "decimal(0)");
  CHECK_EQ_STR(R(STD_sum, 1, N()), "decimal(0)");
  CHECK_EQ_STR(R(STD_sum, 1, LIST(2, DEC("999999999999999999"), I(1))),
               "error: the sum does not fit in a decimal at element 2: "
               "result has more than 18 integer digits");
  CHECK_EQ_STR(R(STD_sum, 1, LIST(1, I(INT64_MAX))),
               "error: element 1 is 9223372036854775807, which has more than 18 digits");
  Value numtext = value_numtext("1e400", 5);
  CHECK_EQ_STR(R(STD_sum, 1, LIST(1, numtext)),
               "error: element 1 is 1e400, which has more digits than a decimal holds");
  CHECK_EQ_STR(R(STD_sum, 1, LIST(1, B(true))), "error: element 1 is true, not a number");
}

TEST(decimal_and_int_from_text) {
  CHECK_EQ_STR(R(STD_decimal, 1, S("1234.50")), "1234.50");
  CHECK_EQ_STR(R(STD_decimal, 1, S(" -3 ")), "decimal(-3)");
  CHECK_EQ_STR(R(STD_decimal, 1, I(4)), "decimal(4)");
  CHECK_EQ_STR(R(STD_decimal, 1, DEC("0.5")), "0.5");
  CHECK_EQ_STR(R(STD_decimal, 1, N()), "null");
  CHECK_PREFIX(R(STD_decimal, 1, S("12,50")), "error: `12,50` is not a number: ");
  CHECK_PREFIX(R(STD_decimal, 1, S("")), "error: `` is not a number: ");
  CHECK_EQ_STR(R(STD_decimal, 1, S("1234567890123456789012")),
               "error: `1234567890123456789012` has more digits than a decimal holds (18)");
  CHECK_EQ_STR(R(STD_decimal, 1, DAY("2025-01-01")),
               "error: `value` must be a number, not date 2025-01-01");
  CHECK_EQ_STR(R(STD_int, 1, S("20417")), "20417");
  CHECK_EQ_STR(R(STD_int, 1, S("007")), "7");
  CHECK_EQ_STR(R(STD_int, 1, S("-9223372036854775808")), "-9223372036854775808");
  CHECK_EQ_STR(R(STD_int, 1, S("9223372036854775807")), "9223372036854775807");
  CHECK_EQ_STR(R(STD_int, 1, S("9223372036854775808")),
               "error: `9223372036854775808` does not fit in an integer");
  CHECK_EQ_STR(R(STD_int, 1, S("-9223372036854775809")),
               "error: `-9223372036854775809` does not fit in an integer");
  CHECK_EQ_STR(R(STD_int, 1, S("2.00")), "2");
  CHECK_EQ_STR(R(STD_int, 1, S("2.5")), "error: `2.5` is not a whole number");
  CHECK_EQ_STR(R(STD_int, 1, DEC("2.5")), "error: 2.5 is not a whole number");
  CHECK_EQ_STR(R(STD_int, 1, DEC("-12.000")), "-12");
  CHECK_EQ_STR(R(STD_int, 1, I(INT64_MIN)), "-9223372036854775808");
  CHECK_PREFIX(R(STD_int, 1, S("-")), "error: `-` is not a number");
  CHECK_PREFIX(R(STD_int, 1, S("12a")), "error: `12a` is not a number");
  CHECK_EQ_STR(R(STD_int, 1, N()), "null");
}

TEST(cent_difference_as_flows_use_it) {
  /* order-1004: total 235.88 - tax 47.18 = 188.70 net; lines 3 × 71.96 +
  ** 20.00 tip = 235.88 - ... the rounding lost one cent. */
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("188.70"),
                 LIST(2, DEC("215.88"), DEC("-27.19"))), "0.01");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("100"), LIST(3, DEC("33.33"), DEC("33.33"), DEC("33.33"))),
               "0.01");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("100"), LIST(2, DEC("50"), DEC("50"))), "0.00");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("10"), LIST(1, DEC("10.005"))), "0.00"); /* -0.005 half_up */
  ROUNDING = ROUND_HALF_AWAY_FROM_ZERO;
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("10"), LIST(1, DEC("10.005"))), "-0.01");
  ROUNDING = ROUND_HALF_UP;
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("5"), LIST(2, N(), DEC("4.99"))), "0.01");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("5"), LIST(0)), "5.00");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("5"), N()), "5.00");
  CHECK_EQ_STR(R(STD_cent_difference, 2, N(), LIST(1, DEC("1"))), "null");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("-999999999999999999"), LIST(1, DEC("1"))),
               "error: cannot compute the difference: result has more than 18 integer digits");
  CHECK_EQ_STR(R(STD_cent_difference, 2, DEC("1"), LIST(1, S("x"))),
               "error: element 1 is `x`, not a number");
}

int main(void) {
  check_suite = "unit/stdlib_money";
  stdlib_test_init();
  RUN(round_with_each_rule);
  RUN(abs_min_max);
  RUN(sum_is_exact);
  RUN(decimal_and_int_from_text);
  RUN(cent_difference_as_flows_use_it);
  stdlib_test_fini();
  return check_done();
}
