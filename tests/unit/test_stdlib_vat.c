/* Unit tests of the stdlib's EU VAT functions (stdlib/vat.c) and of the
** table itself (stdlib/vat_rates.def): all 27 member states, every rate
** change on the day before and the day it took effect, membership dates,
** VAT number prefixes, and vat_of rounding. */
#include "tests/unit/test_stdlib.h"

TEST(table_is_well_formed) {
  static const struct { const char *iso, *prefix, *joined; } members[] = {
#define EU_MEMBER(iso, prefix, joined) {#iso, #prefix, joined},
#include "stdlib/vat_rates.def"
#undef EU_MEMBER
  };
  static const struct { const char *iso, *from, *rate; } rates[] = {
#define VAT_RATE(iso, from, rate, note) {#iso, from, rate},
#include "stdlib/vat_rates.def"
#undef VAT_RATE
  };
  CHECK_EQ_INT(sizeof members / sizeof members[0], 27);
  int32_t start, prev_day = 0, day;
  CHECK_FATAL(date_parse(str_from_cstr(VAT_RATES_FROM), &start, NULL));
  const char *prev_iso = "";
  for (size_t m = 0; m < 27; m++) {
    CHECK(date_parse(str_from_cstr(members[m].joined), &day, NULL));
    int first_rows = 0;
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
      if (strcmp(rates[r].iso, members[m].iso) == 0) first_rows += strcmp(rates[r].from, VAT_RATES_FROM) == 0;
    }
    if (first_rows != 1) check_fail(__FILE__, __LINE__, "%s has %d rows from " VAT_RATES_FROM, members[m].iso, first_rows);
  }
  for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
    Decimal d;
    CHECK(decimal_parse(str_from_cstr(rates[r].rate), &d, NULL) == DECIMAL_OK);
    CHECK(date_parse(str_from_cstr(rates[r].from), &day, NULL) && day >= start);
    if (strcmp(rates[r].iso, prev_iso) == 0 && day <= prev_day)
      check_fail(__FILE__, __LINE__, "rows of %s are not in date order", rates[r].iso);
    bool known = false;
    for (size_t m = 0; m < 27; m++) known = known || strcmp(members[m].iso, rates[r].iso) == 0;
    if (!known) check_fail(__FILE__, __LINE__, "rate of %s, which is no member", rates[r].iso);
    prev_iso = rates[r].iso;
    prev_day = day;
  }
}

TEST(rates_of_all_member_states_today) {
  static const char *expected[][2] = {
      {"AT", "20"}, {"BE", "21"}, {"BG", "20"}, {"HR", "25"}, {"CY", "19"}, {"CZ", "21"},
      {"DK", "25"}, {"EE", "24"}, {"FI", "25.5"}, {"FR", "20"}, {"DE", "19"}, {"GR", "24"},
      {"HU", "27"}, {"IE", "23"}, {"IT", "22"}, {"LV", "21"}, {"LT", "21"}, {"LU", "17"},
      {"MT", "18"}, {"NL", "21"}, {"PL", "23"}, {"PT", "23"}, {"RO", "21"}, {"SK", "23"},
      {"SI", "22"}, {"ES", "21"}, {"SE", "25"}};
  for (size_t i = 0; i < 27; i++) {
    char want[32];
    snprintf(want, sizeof want, strchr(expected[i][1], '.') ? "%s" : "decimal(%s)", expected[i][1]);
    const char *got = R(STD_vat_rate, 2, S(expected[i][0]), DAY("2025-12-31"));
    if (strcmp(got, want) != 0)
      check_fail(__FILE__, __LINE__, "vat_rate(%s) is %s, expected %s", expected[i][0], got, want);
    CHECK_EQ_STR(R(STD_eu_member, 2, S(expected[i][0]), N()), "true");
  }
}

TEST(rates_change_on_the_day) {
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("FI"), DAY("2024-08-31")), "decimal(24)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("FI"), DAY("2024-09-01")), "25.5");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("EE"), DAY("2023-12-31")), "decimal(20)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("EE"), DAY("2024-01-01")), "decimal(22)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("EE"), DAY("2025-06-30")), "decimal(22)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("EE"), DAY("2025-07-01")), "decimal(24)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("RO"), DAY("2025-07-31")), "decimal(19)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("RO"), DAY("2025-08-01")), "decimal(21)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("SK"), DAY("2024-12-31")), "decimal(20)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("SK"), DAY("2025-01-01")), "decimal(23)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DE"), DAY("2020-06-30")), "decimal(19)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DE"), DAY("2020-07-01")), "decimal(16)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DE"), DAY("2021-01-01")), "decimal(19)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("IE"), DAY("2021-02-28")), "decimal(21)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("IE"), DAY("2021-03-01")), "decimal(23)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("LU"), DAY("2023-06-01")), "decimal(16)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("LU"), DAY("2024-01-01")), "decimal(17)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DK"), DAY("2017-01-01")), "decimal(25)");
  /* A datetime counts on its own local date: 23:30 at -01:00 on 31 August
  ** is 1 September in UTC but still August where it was written. */
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("FI"), DT("2024-08-31T23:30:00-01:00")), "decimal(24)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("FI"), DT("2024-09-01T00:30:00+03:00")), "25.5");
}

TEST(countries_codes_and_errors) {
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("dk"), DAY("2025-01-01")), "decimal(25)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("EL"), DAY("2025-01-01")), "decimal(24)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("NO"), DAY("2025-01-01")), "null");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("GB"), DAY("2025-01-01")), "null");
  CHECK_EQ_STR(R(STD_vat_rate, 2, N(), DAY("2025-01-01")), "null");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("Denmark"), DAY("2025-01-01")),
               "error: `Denmark` is not a two-letter country code (ISO 3166-1, like DK)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S(""), DAY("2025-01-01")),
               "error: `` is not a two-letter country code (ISO 3166-1, like DK)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("D1"), DAY("2025-01-01")),
               "error: `D1` is not a two-letter country code (ISO 3166-1, like DK)");
  CHECK_EQ_STR(R(STD_vat_rate, 2, I(45), DAY("2025-01-01")),
               "error: `country` must be a string, not int 45");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DK"), DAY("2016-12-31")),
               "error: VAT rates are known from 2017-01-01 on, and 2016-12-31 is earlier");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DK"), N()),
               "error: vat_rate() needs the date the rate must be valid on, not null");
  CHECK_EQ_STR(R(STD_vat_rate, 2, S("DK"), S("2025-01-01")),
               "error: `on` must be a date or datetime, not string `2025-01-01`");
  CHECK_EQ_STR(R(STD_eu_member, 2, S("HR"), DAY("2013-06-30")), "false");
  CHECK_EQ_STR(R(STD_eu_member, 2, S("HR"), DAY("2013-07-01")), "true");
  CHECK_EQ_STR(R(STD_eu_member, 2, S("HR"), DT("2013-07-01T00:30:00+02:00")), "true");
  CHECK_EQ_STR(R(STD_eu_member, 2, S("NO"), DAY("2025-01-01")), "false");
  CHECK_EQ_STR(R(STD_eu_member, 2, N(), N()), "false");
  CHECK_EQ_STR(R(STD_eu_member, 2, S("Germany"), N()),
               "error: `Germany` is not a two-letter country code (ISO 3166-1, like DK)");
  CHECK_EQ_STR(R(STD_vat_prefix, 1, S("GR")), "\"EL\"");
  CHECK_EQ_STR(R(STD_vat_prefix, 1, S("de")), "\"DE\"");
  CHECK_EQ_STR(R(STD_vat_prefix, 1, S("CH")), "null");
  CHECK_EQ_STR(R(STD_vat_prefix, 1, N()), "null");
}

TEST(vat_of_rounds_to_cents) {
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("100.00"), DEC("25")), "25.00");
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("119.20"), DEC("25")), "29.80");
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("0.10"), DEC("25")), "0.03"); /* 0.025 half_up */
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("-0.10"), DEC("25")), "-0.02"); /* -0.025 half_up */
  ROUNDING = ROUND_HALF_AWAY_FROM_ZERO;
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("-0.10"), DEC("25")), "-0.03");
  ROUNDING = ROUND_HALF_EVEN;
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("0.10"), DEC("25")), "0.02");
  ROUNDING = ROUND_HALF_UP;
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("99.99"), DEC("25.5")), "25.50");
  CHECK_EQ_STR(R(STD_vat_of, 2, I(200), I(19)), "38.00");
  CHECK_EQ_STR(R(STD_vat_of, 2, N(), DEC("25")), "null");
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("1"), N()), "null");
  CHECK_EQ_STR(R(STD_vat_of, 2, DEC("999999999999999999"), DEC("999999999999999999")),
               "error: cannot compute the VAT: result has more than 18 integer digits");
}

int main(void) {
  check_suite = "unit/stdlib_vat";
  stdlib_test_init();
  RUN(table_is_well_formed);
  RUN(rates_of_all_member_states_today);
  RUN(rates_change_on_the_day);
  RUN(countries_codes_and_errors);
  RUN(vat_of_rounds_to_cents);
  stdlib_test_fini();
  return check_done();
}
