/* Unit tests of common/decimal: hand-written tables for the rules that
** matter most (rounding, overflow edges, parse syntax), then a differential
** run against Python's decimal module (tests/unit/data/decimal_oracle.py). */
#include "common/decimal.h"
#include "common/util.h"
#include "tests/lib/check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXC DECIMAL_MAX_COEF

static Decimal D(const char *text) {
  Decimal d = decimal_zero();
  const char *why = NULL;
  DecimalStatus st = decimal_parse(str_from_cstr(text), &d, &why);
  if (st != DECIMAL_OK) {
    fprintf(stderr, "test literal %s does not parse: %s\n", text, decimal_status_message(st));
    abort();
  }
  return d;
}

/* The text of `d` in a static buffer (one per call site is enough). */
static const char *T(Decimal d) {
  static char bufs[4][DECIMAL_TEXT_SIZE];
  static int next;
  char *b = bufs[next++ % 4];
  decimal_format(d, b);
  return b;
}

#define CHECK_DEC(expr_status, out, want_text)                                \
  do {                                                                        \
    DecimalStatus st_ = (expr_status);                                        \
    if (st_ != DECIMAL_OK)                                                    \
      check_fail(__FILE__, __LINE__, "%s failed: %s", #expr_status,           \
                 decimal_status_message(st_));                                \
    else CHECK_EQ_STR(T(out), want_text);                                     \
  } while (0)

TEST(point_one_plus_point_two_is_point_three) {
  Decimal r;
  CHECK_DEC(decimal_add(D("0.1"), D("0.2"), &r), r, "0.3");
  CHECK(decimal_eq(r, D("0.3")));
  CHECK(decimal_eq(r, D("0.30")));
  CHECK_DEC(decimal_sub(D("0.3"), D("0.1"), &r), r, "0.2");
  CHECK_DEC(decimal_mul(D("1.10"), D("3"), &r), r, "3.30");
  CHECK_DEC(decimal_mul(D("0.5"), D("0.2"), &r), r, "0.10");
  CHECK_DEC(decimal_add(D("19.99"), D("0.01"), &r), r, "20.00");
}

/* One row per input; one column per rule, in enum order. */
static const struct {
  const char *value;
  int places;
  const char *want[ROUNDING__COUNT]; /* half_up, half_even, away, half_down, down */
} ROUND_TABLE[] = {
    {"2.5", 0, {"3", "2", "3", "2", "2"}},
    {"-2.5", 0, {"-2", "-2", "-3", "-3", "-2"}},
    {"3.5", 0, {"4", "4", "4", "3", "3"}},
    {"-3.5", 0, {"-3", "-4", "-4", "-4", "-3"}},
    {"0.5", 0, {"1", "0", "1", "0", "0"}},
    {"-0.5", 0, {"0", "0", "-1", "-1", "0"}},
    {"2.4", 0, {"2", "2", "2", "2", "2"}},
    {"-2.4", 0, {"-2", "-2", "-2", "-2", "-2"}},
    {"2.6", 0, {"3", "3", "3", "3", "2"}},
    {"-2.6", 0, {"-3", "-3", "-3", "-3", "-2"}},
    {"2.51", 0, {"3", "3", "3", "3", "2"}},
    {"-2.49", 0, {"-2", "-2", "-2", "-2", "-2"}},
    {"2.45", 1, {"2.5", "2.4", "2.5", "2.4", "2.4"}},
    {"-2.45", 1, {"-2.4", "-2.4", "-2.5", "-2.5", "-2.4"}},
    {"1.005", 2, {"1.01", "1.00", "1.01", "1.00", "1.00"}},
    {"0.125", 2, {"0.13", "0.12", "0.13", "0.12", "0.12"}},
    {"-0.125", 2, {"-0.12", "-0.12", "-0.13", "-0.13", "-0.12"}},
    {"0.135", 2, {"0.14", "0.14", "0.14", "0.13", "0.13"}},
    {"0.0049", 2, {"0.00", "0.00", "0.00", "0.00", "0.00"}},
    {"-0.0051", 2, {"-0.01", "-0.01", "-0.01", "-0.01", "0.00"}},
    {"0.999999999999999999", 17,
     {"1.00000000000000000", "1.00000000000000000", "1.00000000000000000",
      "1.00000000000000000", "0.99999999999999999"}},
    {"-999999999999999999", 0,
     {"-999999999999999999", "-999999999999999999", "-999999999999999999",
      "-999999999999999999", "-999999999999999999"}},
    /* Padding: fewer decimals than asked become exactly `places`. */
    {"10", 2, {"10.00", "10.00", "10.00", "10.00", "10.00"}},
    {"-1.5", 3, {"-1.500", "-1.500", "-1.500", "-1.500", "-1.500"}},
    /* ... unless that would not fit: the value stays as it is. */
    {"12345678901234567.8", 2,
     {"12345678901234567.8", "12345678901234567.8", "12345678901234567.8",
      "12345678901234567.8", "12345678901234567.8"}},
    {"99999999999999999.9", 2,
     {"99999999999999999.9", "99999999999999999.9", "99999999999999999.9",
      "99999999999999999.9", "99999999999999999.9"}},
};

TEST(round_table_every_mode) {
  for (size_t i = 0; i < ARRAY_LEN(ROUND_TABLE); i++) {
    for (int m = 0; m < ROUNDING__COUNT; m++) {
      Decimal r;
      DecimalStatus st = decimal_round(D(ROUND_TABLE[i].value), ROUND_TABLE[i].places,
                                       (Rounding)m, &r);
      if (st != DECIMAL_OK || strcmp(T(r), ROUND_TABLE[i].want[m]) != 0)
        check_fail(__FILE__, __LINE__, "round(%s, %d, %s) = %s, expected %s",
                   ROUND_TABLE[i].value, ROUND_TABLE[i].places, rounding_name((Rounding)m),
                   st == DECIMAL_OK ? T(r) : decimal_status_message(st),
                   ROUND_TABLE[i].want[m]);
    }
  }
  Decimal r;
  CHECK(decimal_round(D("1.5"), -1, ROUND_HALF_UP, &r) == DECIMAL_RANGE);
  CHECK(decimal_round(D("1.5"), 19, ROUND_HALF_UP, &r) == DECIMAL_RANGE);
}

TEST(language_doc_rounding_table) {
  /* docs/language.md, "Rounding": the table the users read. */
  static const char *want_25[] = {"3", "2", "3", "2", "2"};
  static const char *want_m25[] = {"-2", "-2", "-3", "-3", "-2"};
  static const char *want_245[] = {"2.5", "2.4", "2.5", "2.4", "2.4"};
  for (int m = 0; m < ROUNDING__COUNT; m++) {
    Decimal r;
    decimal_round(D("2.5"), 0, (Rounding)m, &r);
    CHECK_EQ_STR(T(r), want_25[m]);
    decimal_round(D("-2.5"), 0, (Rounding)m, &r);
    CHECK_EQ_STR(T(r), want_m25[m]);
    decimal_round(D("2.45"), 1, (Rounding)m, &r);
    CHECK_EQ_STR(T(r), want_245[m]);
  }
}

TEST(rounding_names) {
  for (int m = 0; m < ROUNDING__COUNT; m++) {
    Rounding back;
    CHECK(rounding_from_name(str_from_cstr(rounding_name((Rounding)m)), &back));
    CHECK_EQ_INT(back, m);
  }
  Rounding r;
  CHECK(!rounding_from_name(STR_LIT("half"), &r));
  CHECK(!rounding_from_name(STR_LIT("half_up "), &r));
  CHECK_EQ_STR(rounding_name(ROUND_HALF_AWAY_FROM_ZERO), "half_away_from_zero");
}

TEST(add_overflow_boundaries) {
  Decimal r, max = decimal_make(MAXC, 0), one = decimal_make(1, 0);
  CHECK_DEC(decimal_add(max, decimal_zero(), &r), r, "999999999999999999");
  CHECK(decimal_add(max, one, &r) == DECIMAL_OVERFLOW);
  CHECK(decimal_sub(decimal_neg(max), one, &r) == DECIMAL_OVERFLOW);
  CHECK_DEC(decimal_sub(max, one, &r), r, "999999999999999998");
  CHECK_DEC(decimal_add(decimal_neg(max), max, &r), r, "0");
  /* Integer part fits, but a digit after the point does not. */
  CHECK(decimal_add(max, D("0.1"), &r) == DECIMAL_INEXACT);
  CHECK(decimal_add(D("99999999999999999.9"), D("0.01"), &r) == DECIMAL_INEXACT);
  /* Trailing zeros are dropped only when needed to fit. */
  CHECK_DEC(decimal_add(D("0.999999999999999999"), D("0.000000000000000001"), &r), r,
            "1.00000000000000000");
  CHECK_DEC(decimal_add(D("0.100000000000000000"), D("9"), &r), r, "9.10000000000000000");
  CHECK_DEC(decimal_add(D("0.5"), D("0.50"), &r), r, "1.00");
}

TEST(mul_overflow_boundaries) {
  Decimal r;
  CHECK_DEC(decimal_mul(D("999999999"), D("999999999"), &r), r, "999999998000000001");
  CHECK(decimal_mul(D("1000000000"), D("1000000000"), &r) == DECIMAL_OVERFLOW);
  CHECK(decimal_mul(decimal_make(MAXC, 0), decimal_make(MAXC, 0), &r) == DECIMAL_OVERFLOW);
  CHECK(decimal_mul(decimal_make(-MAXC, 0), decimal_make(MAXC, 0), &r) == DECIMAL_OVERFLOW);
  CHECK_DEC(decimal_mul(decimal_make(MAXC, 18), decimal_make(1, 0), &r), r,
            "0.999999999999999999");
  /* 19 decimals: exact value needs more than a Decimal holds. */
  CHECK(decimal_mul(D("0.000000001"), D("0.0000000001"), &r) == DECIMAL_INEXACT);
  CHECK(decimal_mul(D("123456789.123456789"), D("2.5"), &r) == DECIMAL_INEXACT);
  /* ... but 36 decimals that are all trailing zeros are fine. */
  CHECK_DEC(decimal_mul(D("0.500000000000000000"), D("0.200000000000000000"), &r), r,
            "0.100000000000000000");
  CHECK_DEC(decimal_mul(D("-0.5"), D("0"), &r), r, "0.0");
}

TEST(mul_rounded_keeps_the_most_digits_that_fit) {
  Decimal r;
  CHECK_DEC(decimal_mul_rounded(D("123456789.123456789"), D("2.5"), ROUND_HALF_EVEN, &r), r,
            "308641972.808641972");
  CHECK_DEC(decimal_mul_rounded(D("123456789.123456789"), D("2.5"), ROUND_HALF_UP, &r), r,
            "308641972.808641973");
  CHECK_DEC(decimal_mul_rounded(D("0.000000001"), D("0.0000000001"), ROUND_HALF_UP, &r), r,
            "0.000000000000000000");
  CHECK_DEC(decimal_mul_rounded(D("0.000000005"), D("0.0000000001"), ROUND_HALF_UP, &r), r,
            "0.000000000000000001");
  /* 99999999999999999.96 rounds to 10^17: the carry needs a second digit dropped. */
  CHECK_DEC(decimal_mul_rounded(D("1.2"), D("83333333333333333.3"), ROUND_HALF_UP, &r), r,
            "100000000000000000");
  CHECK_DEC(decimal_mul_rounded(D("1.2"), D("83333333333333333.3"), ROUND_DOWN, &r), r,
            "99999999999999999.9");
  CHECK(decimal_mul_rounded(D("1000000000"), D("1000000000"), ROUND_HALF_UP, &r) ==
        DECIMAL_OVERFLOW);
  CHECK_DEC(decimal_mul_rounded(D("1.5"), D("2"), ROUND_HALF_UP, &r), r, "3.0");
}

TEST(division) {
  Decimal r;
  CHECK_DEC(decimal_div(D("1"), D("3"), ROUND_HALF_UP, &r), r, "0.333333333333333333");
  CHECK_DEC(decimal_div(D("2"), D("3"), ROUND_HALF_UP, &r), r, "0.666666666666666667");
  CHECK_DEC(decimal_div(D("2"), D("3"), ROUND_DOWN, &r), r, "0.666666666666666666");
  CHECK_DEC(decimal_div(D("-2"), D("3"), ROUND_HALF_UP, &r), r, "-0.666666666666666667");
  CHECK_DEC(decimal_div(D("-2"), D("3"), ROUND_DOWN, &r), r, "-0.666666666666666666");
  CHECK_DEC(decimal_div(D("10"), D("3"), ROUND_HALF_UP, &r), r, "3.33333333333333333");
  CHECK_DEC(decimal_div(D("100"), D("3"), ROUND_HALF_UP, &r), r, "33.3333333333333333");
  CHECK_DEC(decimal_div(D("1"), D("7"), ROUND_HALF_UP, &r), r, "0.142857142857142857");
  /* Exact quotients keep the natural scale max(0, a.scale - b.scale). */
  CHECK_DEC(decimal_div(D("1"), D("4"), ROUND_HALF_UP, &r), r, "0.25");
  CHECK_DEC(decimal_div(D("6.00"), D("2"), ROUND_HALF_UP, &r), r, "3.00");
  CHECK_DEC(decimal_div(D("6"), D("0.02"), ROUND_HALF_UP, &r), r, "300");
  CHECK_DEC(decimal_div(D("-7.5"), D("-2.5"), ROUND_HALF_UP, &r), r, "3");
  CHECK_DEC(decimal_div(D("0"), D("-3"), ROUND_HALF_UP, &r), r, "0");
  /* Ties in the 19th decimal go by the rule. */
  CHECK_DEC(decimal_div(D("0.000000000000000001"), D("2"), ROUND_HALF_UP, &r), r,
            "0.000000000000000001");
  CHECK_DEC(decimal_div(D("0.000000000000000001"), D("2"), ROUND_HALF_EVEN, &r), r,
            "0.000000000000000000");
  CHECK_DEC(decimal_div(D("-0.000000000000000001"), D("2"), ROUND_HALF_UP, &r), r,
            "0.000000000000000000");
  CHECK_DEC(decimal_div(D("-0.000000000000000001"), D("2"), ROUND_HALF_DOWN, &r), r,
            "-0.000000000000000001");
  CHECK_DEC(decimal_div(D("-0.000000000000000003"), D("2"), ROUND_HALF_EVEN, &r), r,
            "-0.000000000000000002");
  /* Price minus a per-unit share of a discount, as the bench mapping does. */
  CHECK_DEC(decimal_div(D("1.72"), D("3"), ROUND_HALF_UP, &r), r, "0.573333333333333333");
  CHECK(decimal_div(D("1"), D("0"), ROUND_HALF_UP, &r) == DECIMAL_DIV_BY_ZERO);
  CHECK(decimal_div(D("0"), D("0.00"), ROUND_HALF_UP, &r) == DECIMAL_DIV_BY_ZERO);
  CHECK(decimal_div(decimal_make(MAXC, 0), D("0.1"), ROUND_HALF_UP, &r) == DECIMAL_OVERFLOW);
  CHECK(decimal_div(D("1"), D("0.000000000000000001"), ROUND_HALF_UP, &r) == DECIMAL_OVERFLOW);
  CHECK_DEC(decimal_div(D("0.1"), D("0.000000000000000001"), ROUND_HALF_UP, &r), r,
            "100000000000000000");
}

TEST(compare_and_equality) {
  CHECK(decimal_eq(D("1.0"), D("1.00")));
  CHECK(decimal_eq(D("1"), D("1.000000000000000000")));
  CHECK(decimal_eq(D("0"), D("-0.00")));
  CHECK_EQ_INT(decimal_cmp(D("-0.5"), D("0.25")), -1);
  CHECK_EQ_INT(decimal_cmp(D("0.25"), D("-0.5")), 1);
  CHECK_EQ_INT(decimal_cmp(decimal_make(MAXC, 0), decimal_make(MAXC, 18)), 1);
  CHECK_EQ_INT(decimal_cmp(decimal_make(-MAXC, 0), decimal_make(-MAXC, 18)), -1);
  CHECK_EQ_INT(decimal_cmp(D("0.000000000000000001"), D("0")), 1);
  CHECK_EQ_INT(decimal_sign(D("-0.01")), -1);
  CHECK_EQ_INT(decimal_sign(D("0.00")), 0);
  CHECK_EQ_STR(T(decimal_abs(D("-1.50"))), "1.50");
  CHECK_EQ_STR(T(decimal_neg(D("1.50"))), "-1.50");
  CHECK_EQ_STR(T(decimal_neg(decimal_make(-MAXC, 3))), "999999999999999.999");
}

TEST(integer_conversions) {
  Decimal d;
  CHECK(decimal_from_int(MAXC, &d) == DECIMAL_OK && d.coef == MAXC && d.scale == 0);
  CHECK(decimal_from_int(-MAXC, &d) == DECIMAL_OK);
  CHECK(decimal_from_int(MAXC + 1, &d) == DECIMAL_OVERFLOW);
  CHECK(decimal_from_int(-MAXC - 1, &d) == DECIMAL_OVERFLOW);
  CHECK(decimal_from_int(INT64_MIN, &d) == DECIMAL_OVERFLOW);
  CHECK(decimal_from_int(INT64_MAX, &d) == DECIMAL_OVERFLOW);
  CHECK(decimal_is_integer(D("12.000")));
  CHECK(!decimal_is_integer(D("12.001")));
  CHECK(decimal_is_integer(D("-3")));
  CHECK_EQ_INT(decimal_to_int(D("2.5"), ROUND_HALF_UP), 3);
  CHECK_EQ_INT(decimal_to_int(D("-2.5"), ROUND_HALF_UP), -2);
  CHECK_EQ_INT(decimal_to_int(D("-2.5"), ROUND_HALF_DOWN), -3);
  CHECK_EQ_INT(decimal_to_int(D("-2.9"), ROUND_DOWN), -2);
  CHECK_EQ_INT(decimal_to_int(decimal_make(MAXC, 0), ROUND_DOWN), MAXC);
  CHECK_EQ_INT(decimal_to_int(decimal_make(MAXC, 18), ROUND_HALF_EVEN), 1);
  CHECK_EQ_STR(T(decimal_reduce(D("1.500"))), "1.5");
  CHECK_EQ_STR(T(decimal_reduce(D("10.00"))), "10");
  CHECK_EQ_STR(T(decimal_reduce(D("100"))), "100");
  CHECK_EQ_STR(T(decimal_reduce(D("0.000"))), "0");
}

static const struct {
  const char *text;
  DecimalStatus status;
  int64_t coef;
  int scale;
} PARSE_TABLE[] = {
    {"0", DECIMAL_OK, 0, 0},
    {"-0", DECIMAL_OK, 0, 0},
    {"0.00", DECIMAL_OK, 0, 2},
    {"123.45", DECIMAL_OK, 12345, 2},
    {"-0.05", DECIMAL_OK, -5, 2},
    {"19.90", DECIMAL_OK, 1990, 2},
    {"1e2", DECIMAL_OK, 100, 0},
    {"1E+2", DECIMAL_OK, 100, 0},
    {"1.5e1", DECIMAL_OK, 15, 0},
    {"1.50e1", DECIMAL_OK, 150, 1},
    {"1E-2", DECIMAL_OK, 1, 2},
    {"25e-1", DECIMAL_OK, 25, 1},
    {"999999999999999999", DECIMAL_OK, MAXC, 0},
    {"-999999999999999999", DECIMAL_OK, -MAXC, 0},
    {"0.999999999999999999", DECIMAL_OK, MAXC, 18},
    {"99999999999999999.9", DECIMAL_OK, MAXC, 1},
    {"1e-18", DECIMAL_OK, 1, 18},
    {"0.1e-17", DECIMAL_OK, 1, 18},
    {"1.5000000000000000000000", DECIMAL_OK, INT64_C(150000000000000000), 17},
    {"100000000000000000.00", DECIMAL_OK, INT64_C(100000000000000000), 0},
    {"0e-100", DECIMAL_OK, 0, 18},
    {"0e99999999999999999999", DECIMAL_OK, 0, 0},
    {"0.0e5", DECIMAL_OK, 0, 0},
    {"1000000000000000000", DECIMAL_OVERFLOW, 0, 0},
    {"1e18", DECIMAL_OVERFLOW, 0, 0},
    {"1e99999999999999999999", DECIMAL_OVERFLOW, 0, 0},
    {"123456789012345678.9", DECIMAL_INEXACT, 0, 0},
    {"0.1234567890123456789", DECIMAL_INEXACT, 0, 0},
    {"1e-19", DECIMAL_INEXACT, 0, 0},
    {"1e-99999999999999999999", DECIMAL_INEXACT, 0, 0},
    {"3.14159265358979323846", DECIMAL_INEXACT, 0, 0},
};

static const struct {
  const char *text;
  const char *why;
} PARSE_ERRORS[] = {
    {"", "empty text"},
    {"-", "expected a digit"},
    {"+1", "expected a digit"},
    {".5", "expected a digit"},
    {"-.5", "expected a digit"},
    {" 1", "expected a digit"},
    {"Infinity", "expected a digit"},
    {"NaN", "expected a digit"},
    {"--1", "expected a digit"},
    {"01", "leading zeros are not allowed"},
    {"-00", "leading zeros are not allowed"},
    {"1.", "expected a digit after `.`"},
    {"1.e5", "expected a digit after `.`"},
    {"1e", "expected a digit in the exponent"},
    {"1e+", "expected a digit in the exponent"},
    {"1E-", "expected a digit in the exponent"},
    {"1 ", "unexpected character after the number"},
    {"1.5.2", "unexpected character after the number"},
    {"1,5", "unexpected character after the number"},
    {"0x10", "unexpected character after the number"},
    {"1e5.5", "unexpected character after the number"},
    {"1_000", "unexpected character after the number"},
    {"12abc", "unexpected character after the number"},
};

TEST(parse_table) {
  for (size_t i = 0; i < ARRAY_LEN(PARSE_TABLE); i++) {
    Decimal d = decimal_make(7, 7);
    DecimalStatus st = decimal_parse(str_from_cstr(PARSE_TABLE[i].text), &d, NULL);
    if (st != PARSE_TABLE[i].status)
      check_fail(__FILE__, __LINE__, "parse(%s): %s, expected %s", PARSE_TABLE[i].text,
                 decimal_status_message(st), decimal_status_message(PARSE_TABLE[i].status));
    else if (st == DECIMAL_OK && (d.coef != PARSE_TABLE[i].coef || d.scale != PARSE_TABLE[i].scale))
      check_fail(__FILE__, __LINE__, "parse(%s) = %" PRId64 "e-%d, expected %" PRId64 "e-%d",
                 PARSE_TABLE[i].text, d.coef, d.scale, PARSE_TABLE[i].coef,
                 PARSE_TABLE[i].scale);
    else if (st != DECIMAL_OK && (d.coef != 7 || d.scale != 7))
      check_fail(__FILE__, __LINE__, "parse(%s) failed but wrote its output", PARSE_TABLE[i].text);
  }
}

TEST(parse_errors_say_why) {
  for (size_t i = 0; i < ARRAY_LEN(PARSE_ERRORS); i++) {
    Decimal d;
    const char *why = NULL;
    DecimalStatus st = decimal_parse(str_from_cstr(PARSE_ERRORS[i].text), &d, &why);
    if (st != DECIMAL_SYNTAX || !why || strcmp(why, PARSE_ERRORS[i].why) != 0)
      check_fail(__FILE__, __LINE__, "parse(\"%s\"): %s (%s), expected syntax error (%s)",
                 PARSE_ERRORS[i].text, decimal_status_message(st), why ? why : "-",
                 PARSE_ERRORS[i].why);
  }
  /* The length is the Str's, not strlen's: an embedded NUL is a character. */
  Decimal d;
  CHECK(decimal_parse(str_make("1\0", 2), &d, NULL) == DECIMAL_SYNTAX);
  CHECK(decimal_parse(str_make("12", 1), &d, NULL) == DECIMAL_OK && d.coef == 1);
  CHECK(decimal_parse(str_make("\xd9\xa3", 2), &d, NULL) == DECIMAL_SYNTAX);
}

TEST(format_plain_and_fixed) {
  char buf[DECIMAL_TEXT_SIZE];
  CHECK_EQ_STR(T(decimal_make(0, 0)), "0");
  CHECK_EQ_STR(T(decimal_make(0, 2)), "0.00");
  CHECK_EQ_STR(T(decimal_make(5, 3)), "0.005");
  CHECK_EQ_STR(T(decimal_make(-5, 3)), "-0.005");
  CHECK_EQ_STR(T(decimal_make(12345, 2)), "123.45");
  CHECK_EQ_STR(T(decimal_make(-12345, 5)), "-0.12345");
  CHECK_EQ_STR(T(decimal_make(MAXC, 18)), "0.999999999999999999");
  CHECK_EQ_STR(T(decimal_make(-MAXC, 0)), "-999999999999999999");
  CHECK_EQ_INT(decimal_format(decimal_make(-MAXC, 9), buf), 20);
  CHECK_EQ_STR(buf, "-999999999.999999999");
  decimal_format_shortest(D("1.50"), buf);
  CHECK_EQ_STR(buf, "1.5");
  decimal_format_shortest(D("10.00"), buf);
  CHECK_EQ_STR(buf, "10");
  decimal_format_shortest(D("-0.00"), buf);
  CHECK_EQ_STR(buf, "0");
  decimal_format_fixed(D("1.005"), 2, ROUND_HALF_EVEN, buf);
  CHECK_EQ_STR(buf, "1.00");
  decimal_format_fixed(D("1.005"), 2, ROUND_HALF_UP, buf);
  CHECK_EQ_STR(buf, "1.01");
  decimal_format_fixed(D("10"), 2, ROUND_HALF_UP, buf);
  CHECK_EQ_STR(buf, "10.00");
  decimal_format_fixed(D("-2.5"), 0, ROUND_HALF_UP, buf);
  CHECK_EQ_STR(buf, "-2");
  CHECK_EQ_INT(decimal_format_fixed(decimal_make(-MAXC, 0), 18, ROUND_HALF_UP, buf), 38);
  CHECK_EQ_STR(buf, "-999999999999999999.000000000000000000");
  CHECK_EQ_INT(decimal_format_fixed(D("1"), 19, ROUND_HALF_UP, buf), 0);
  CHECK_EQ_STR(buf, "");
}

/* ---- Differential test against Python's decimal module ------------------ */

static char *oracle_text;   /* the script's whole output, malloc'd */
static char **oracle_lines; /* pointers into oracle_text, one per case */
static size_t n_oracle_lines;

static void load_oracle(void) {
  const char *root = getenv("IEX_ROOT");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "python3 '%s/tests/unit/data/decimal_oracle.py' --seed 1 --n 3000",
           root ? root : ".");
  FILE *p = popen(cmd, "r");
  if (!p) return;
  size_t len = 0, cap = 1 << 20;
  oracle_text = xmalloc(cap);
  size_t got;
  while ((got = fread(oracle_text + len, 1, cap - len - 1, p)) > 0) {
    len += got;
    if (cap - len < 4096) oracle_text = xrealloc(oracle_text, cap *= 2);
  }
  oracle_text[len] = '\0';
  if (pclose(p) != 0) len = 0, oracle_text[0] = '\0';
  size_t cap_lines = 0;
  for (char *line = oracle_text; *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    VEC_PUSH(oracle_lines, n_oracle_lines, cap_lines, line);
    if (!nl) break;
    line = nl + 1;
  }
}

static const char *status_word(DecimalStatus st) {
  switch (st) {
    case DECIMAL_OK: return "ok";
    case DECIMAL_OVERFLOW: return "overflow";
    case DECIMAL_INEXACT: return "inexact";
    case DECIMAL_DIV_BY_ZERO: return "divzero";
    case DECIMAL_SYNTAX: return "syntax";
    case DECIMAL_RANGE: return "range";
  }
  return "?";
}

static Rounding mode_of(const char *name) {
  Rounding m = ROUND_HALF_UP;
  if (!rounding_from_name(str_from_cstr(name), &m)) iex_fatal("oracle: bad mode %s", name);
  return m;
}

/* Our answer, in the oracle's words, for one line; "" if not this op. */
static void answer(const char *line, const char *op, char *out, size_t out_size) {
  char name[16], mode[32];
  long long ca, cb;
  int sa, sb, places;
  Decimal r = decimal_make(0, 0);
  DecimalStatus st;
  out[0] = '\0';
  if (sscanf(line, "%15s", name) != 1 || strcmp(name, op) != 0) return;
  if (strcmp(op, "parse") == 0) {
    /* parse STATUS COEF SCALE TEXT: TEXT is everything after the 4th space. */
    const char *text = line;
    for (int spaces = 0; spaces < 4 && text; spaces++) {
      text = strchr(text, ' ');
      if (text) text++;
    }
    st = decimal_parse(str_from_cstr(text ? text : ""), &r, NULL);
    if (st != DECIMAL_OK) r = decimal_make(0, 0);
    snprintf(out, out_size, "parse %s %" PRId64 " %d %s", status_word(st), r.coef, r.scale,
             text ? text : "");
  } else if (strcmp(op, "fmt") == 0 && sscanf(line, "fmt %lld %d", &ca, &sa) == 2) {
    char buf[DECIMAL_TEXT_SIZE];
    decimal_format(decimal_make(ca, sa), buf);
    snprintf(out, out_size, "fmt %lld %d %s", ca, sa, buf);
  } else if (strcmp(op, "fixed") == 0 &&
             sscanf(line, "fixed %31s %lld %d %d", mode, &ca, &sa, &places) == 4) {
    char buf[DECIMAL_TEXT_SIZE];
    decimal_format_fixed(decimal_make(ca, sa), places, mode_of(mode), buf);
    snprintf(out, out_size, "fixed %s %lld %d %d %s", mode, ca, sa, places, buf);
  } else if (strcmp(op, "round") == 0 &&
             sscanf(line, "round %31s %lld %d %d", mode, &ca, &sa, &places) == 4) {
    st = decimal_round(decimal_make(ca, sa), places, mode_of(mode), &r);
    snprintf(out, out_size, "round %s %lld %d %d %s %" PRId64 " %d", mode, ca, sa, places,
             status_word(st), r.coef, r.scale);
  } else if (strcmp(op, "toint") == 0 && sscanf(line, "toint %31s %lld %d", mode, &ca, &sa) == 3) {
    snprintf(out, out_size, "toint %s %lld %d %" PRId64, mode, ca, sa,
             decimal_to_int(decimal_make(ca, sa), mode_of(mode)));
  } else if (strcmp(op, "cmp") == 0 && sscanf(line, "cmp %lld %d %lld %d", &ca, &sa, &cb, &sb) == 4) {
    snprintf(out, out_size, "cmp %lld %d %lld %d %d", ca, sa, cb, sb,
             decimal_cmp(decimal_make(ca, sa), decimal_make(cb, sb)));
  } else if (sscanf(line, "%15s %31s %lld %d %lld %d", name, mode, &ca, &sa, &cb, &sb) == 6) {
    Decimal a = decimal_make(ca, sa), b = decimal_make(cb, sb);
    Rounding m = mode_of(mode);
    if (strcmp(op, "add") == 0) st = decimal_add(a, b, &r);
    else if (strcmp(op, "sub") == 0) st = decimal_sub(a, b, &r);
    else if (strcmp(op, "mul") == 0) st = decimal_mul(a, b, &r);
    else if (strcmp(op, "mulr") == 0) st = decimal_mul_rounded(a, b, m, &r);
    else st = decimal_div(a, b, m, &r);
    if (st != DECIMAL_OK) r = decimal_make(0, 0);
    snprintf(out, out_size, "%s %s %lld %d %lld %d %s %" PRId64 " %d", op, mode, ca, sa, cb, sb,
             status_word(st), r.coef, r.scale);
  }
}

/* Compare every oracle line of operation `op` with our answer. */
static void differential(const char *op) {
  if (!oracle_lines) load_oracle();
  if (n_oracle_lines == 0) {
    check_fail(__FILE__, __LINE__, "no output from tests/unit/data/decimal_oracle.py");
    return;
  }
  int cases = 0, shown = 0;
  char ours[512];
  for (size_t i = 0; i < n_oracle_lines; i++) {
    answer(oracle_lines[i], op, ours, sizeof ours);
    if (!ours[0]) continue;
    cases++;
    if (strcmp(ours, oracle_lines[i]) != 0 && shown++ < 10)
      check_fail(__FILE__, __LINE__, "python: %s\n      iex:    %s", oracle_lines[i], ours);
  }
  CHECK(cases >= 1000);
}

TEST(differential_parse) { differential("parse"); }
TEST(differential_format) { differential("fmt"); }
TEST(differential_format_fixed) { differential("fixed"); }
TEST(differential_add) { differential("add"); }
TEST(differential_sub) { differential("sub"); }
TEST(differential_mul) { differential("mul"); }
TEST(differential_mul_rounded) { differential("mulr"); }
TEST(differential_div) { differential("div"); }
TEST(differential_round) { differential("round"); }
TEST(differential_to_int) { differential("toint"); }
TEST(differential_compare) { differential("cmp"); }

int main(void) {
  check_suite = "unit/decimal";
  RUN(point_one_plus_point_two_is_point_three);
  RUN(round_table_every_mode);
  RUN(language_doc_rounding_table);
  RUN(rounding_names);
  RUN(add_overflow_boundaries);
  RUN(mul_overflow_boundaries);
  RUN(mul_rounded_keeps_the_most_digits_that_fit);
  RUN(division);
  RUN(compare_and_equality);
  RUN(integer_conversions);
  RUN(parse_table);
  RUN(parse_errors_say_why);
  RUN(format_plain_and_fixed);
  RUN(differential_parse);
  RUN(differential_format);
  RUN(differential_format_fixed);
  RUN(differential_add);
  RUN(differential_sub);
  RUN(differential_mul);
  RUN(differential_mul_rounded);
  RUN(differential_div);
  RUN(differential_round);
  RUN(differential_to_int);
  RUN(differential_compare);
  free(oracle_lines);
  free(oracle_text);
  return check_done();
}
