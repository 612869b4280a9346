/* Unit tests of the stdlib's date functions (stdlib/date.c): parsing with
** offsets, formats, zones from the system database (DST both ways),
** day arithmetic at the edges of the years 0000..9999, and now(). */
#include "tests/unit/test_stdlib.h"

TEST(date_and_datetime_from_values_and_text) {
  CHECK_EQ_STR(R(STD_date, 1, S("2025-03-14")), "date(2025-03-14)");
  /* The shop's local date: 00:30 at +01:00 is still the 14th locally. */
  CHECK_EQ_STR(R(STD_date, 1, S("2025-03-14T00:30:00+01:00")), "date(2025-03-14)");
  CHECK_EQ_STR(R(STD_date, 1, DT("2025-03-13T23:30:00-05:00")), "date(2025-03-13)");
  CHECK_EQ_STR(R(STD_date, 1, DAY("2024-02-29")), "date(2024-02-29)");
  CHECK_EQ_STR(R(STD_date, 1, N()), "null");
  CHECK_EQ_STR(R(STD_date, 1, S("2025-02-29")),
               "error: `2025-02-29` is not a date: day does not exist in that month");
  CHECK_PREFIX(R(STD_date, 1, S("14.03.2025")), "error: `14.03.2025` is not a date: ");
  CHECK_PREFIX(R(STD_date, 1, S("2025-03-14T25:00:00Z")), "error: `2025-03-14T25:00:00Z` is not a date: ");
  CHECK_EQ_STR(R(STD_date, 1, I(20250314)), "error: date() needs a date, datetime or string, not 20250314");
  CHECK_EQ_STR(R(STD_datetime, 1, S("2024-03-01T10:15:00+01:00")), "datetime(2024-03-01T10:15:00+01:00)");
  CHECK_EQ_STR(R(STD_datetime, 1, S("2024-03-01 10:15:00.123456Z")), "datetime(2024-03-01T10:15:00.123456Z)");
  CHECK_EQ_STR(R(STD_datetime, 1, S("2017-03-22T16:28:02")), "datetime(2017-03-22T16:28:02)");
  CHECK_EQ_STR(R(STD_datetime, 1, DT("2024-03-01T10:15:00-03:30")), "datetime(2024-03-01T10:15:00-03:30)");
  CHECK_EQ_STR(R(STD_datetime, 1, N()), "null");
  CHECK_PREFIX(R(STD_datetime, 1, S("2024-03-01")), "error: `2024-03-01` is not a date-time: ");
  CHECK_EQ_STR(R(STD_datetime, 1, DAY("2024-03-01")),
               "error: datetime() needs a datetime or string, not 2024-03-01");
}

TEST(parse_date_formats) {
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14.03.2025"), S("%d.%m.%Y")), "date(2025-03-14)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("3/1/25"), S("%m/%d/%y")), "date(2025-03-01)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("1/3/99"), S("%d/%m/%y")), "date(1999-03-01)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14 Mar 2025"), S("%d %b %Y")), "date(2025-03-14)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14 september 2025"), S("%d %B %Y")), "date(2025-09-14)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("2025%03-14"), S("%Y%%%m-%d")), "date(2025-03-14)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("29.02.2024"), S("%d.%m.%Y")), "date(2024-02-29)");
  CHECK_EQ_STR(R(STD_parse_date, 2, N(), S("%d.%m.%Y")), "null");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("29.02.2025"), S("%d.%m.%Y")),
               "error: `29.02.2025` is not a date in the format `%d.%m.%Y`: that day is not in the month");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14.13.2025"), S("%d.%m.%Y")),
               "error: `14.13.2025` is not a date in the format `%d.%m.%Y`: the month is not in 1..12");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14-03-2025"), S("%d.%m.%Y")),
               "error: `14-03-2025` is not a date in the format `%d.%m.%Y`: it does not match the format");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14.03.2025 x"), S("%d.%m.%Y")),
               "error: `14.03.2025 x` is not a date in the format `%d.%m.%Y`: there is text after the date");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14.03.25"), S("%d.%m.%Y")),
               "error: `14.03.25` is not a date in the format `%d.%m.%Y`: no 4-digit year (%Y) where the format has one");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14.03"), S("%d.%m")),
               "error: format `%d.%m` must have a day, a month and a year");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("14.03.2025"), S("%d.%m.%Q")),
               "error: format `%d.%m.%Q` has `%Q`, which parse_date does not know "
               "(it knows %d %m %Y %y %b %B %%)");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("00.03.2025"), S("%d.%m.%Y")),
               "error: `00.03.2025` is not a date in the format `%d.%m.%Y`: that day is not in the month");
  CHECK_EQ_STR(R(STD_parse_date, 2, S("2025"), S("%")),
               "error: `2025` is not a date in the format `%`: it does not match the format");
}

TEST(format_date_codes) {
  CHECK_EQ_STR(R(STD_format_date, 2, DAY("2025-03-14"), S("%d.%m.%Y")), "\"14.03.2025\"");
  CHECK_EQ_STR(R(STD_format_date, 2, DAY("2025-03-14"), S("%Y-%m-%d")), "\"2025-03-14\"");
  CHECK_EQ_STR(R(STD_format_date, 2, DT("2025-03-14T09:05:07+01:00"), S("%A %d %B %Y %H:%M:%S %z")),
               "\"Friday 14 March 2025 09:05:07 +0100\"");
  CHECK_EQ_STR(R(STD_format_date, 2, DAY("2025-03-14"), S("%a %b %j")), "\"Fri Mar 073\"");
  CHECK_EQ_STR(R(STD_format_date, 2, N(), S("%Y")), "null");
  CHECK_PREFIX(R(STD_format_date, 2, DAY("2025-03-14"), S("%H")), "error: cannot format with `%H`: ");
  CHECK_PREFIX(R(STD_format_date, 2, DAY("2025-03-14"), S("%Q")), "error: cannot format with `%Q`: ");
  CHECK_EQ_STR(R(STD_format_date, 2, S("2025-03-14"), S("%Y")),
               "error: format_date() needs a date or datetime, not `2025-03-14`");
}

TEST(zones_from_the_system_database) {
  /* Copenhagen: +01:00 in winter, +02:00 in summer (DST from 2025-03-30). */
  CHECK_EQ_STR(R(STD_to_zone, 2, DT("2025-03-14T08:30:00Z"), S("Europe/Copenhagen")),
               "datetime(2025-03-14T09:30:00+01:00)");
  CHECK_EQ_STR(R(STD_to_zone, 2, DT("2025-07-01T22:30:00Z"), S("Europe/Copenhagen")),
               "datetime(2025-07-02T00:30:00+02:00)");
  CHECK_EQ_STR(R(STD_to_zone, 2, DT("2025-03-30T00:59:59Z"), S("Europe/Copenhagen")),
               "datetime(2025-03-30T01:59:59+01:00)");
  CHECK_EQ_STR(R(STD_to_zone, 2, DT("2025-03-30T01:00:00Z"), S("Europe/Copenhagen")),
               "datetime(2025-03-30T03:00:00+02:00)");
  CHECK_EQ_STR(R(STD_to_zone, 2, DT("2025-01-15T12:00:00+01:00"), S("America/New_York")),
               "datetime(2025-01-15T06:00:00-05:00)");
  /* The date of a late-evening UTC order is the next day in Copenhagen. */
  CHECK_EQ_STR(R(STD_date, 1, DT("2025-03-13T23:30:00Z")), "date(2025-03-13)");
  CHECK_EQ_STR(R(STD_to_zone, 2, N(), S("Europe/Copenhagen")), "null");
  CHECK_PREFIX(R(STD_to_zone, 2, DT("2025-03-14T08:30:00Z"), S("Europe/Copenhagn")),
               "error: unknown time zone `Europe/Copenhagn`");
  CHECK_PREFIX(R(STD_to_zone, 2, DT("2025-03-14T08:30:00Z"), S("../../etc/passwd")), "error: ");
  CHECK_EQ_STR(R(STD_to_zone, 2, DAY("2025-03-14"), S("UTC")),
               "error: `value` must be a datetime, not 2025-03-14");
  CHECK_EQ_STR(R(STD_to_utc, 1, DT("2025-03-14T09:30:00+01:00")), "datetime(2025-03-14T08:30:00Z)");
  CHECK_EQ_STR(R(STD_to_utc, 1, DT("2017-03-22T16:28:02")), "datetime(2017-03-22T16:28:02Z)");
  CHECK_EQ_STR(R(STD_to_utc, 1, N()), "null");
  TzDb *saved = TZ;
  TZ = NULL;
  CHECK_EQ_STR(R(STD_to_zone, 2, DT("2025-03-14T08:30:00Z"), S("UTC")),
               "error: no time-zone database is available");
  TZ = saved;
}

TEST(add_days_and_days_between) {
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("2025-02-20"), I(14)), "date(2025-03-06)");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("2024-02-20"), I(14)), "date(2024-03-05)");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("2025-01-01"), I(-1)), "date(2024-12-31)");
  CHECK_EQ_STR(R(STD_add_days, 2, DT("2025-03-14T09:30:00+01:00"), I(30)),
               "datetime(2025-04-13T09:30:00+01:00)");
  CHECK_EQ_STR(R(STD_add_days, 2, N(), I(3)), "null");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("9999-12-31"), I(0)), "date(9999-12-31)");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("9999-12-31"), I(1)),
               "error: 9999-12-31 plus 1 days is outside the years 0000..9999");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("0000-01-01"), I(-1)),
               "error: 0000-01-01 plus -1 days is outside the years 0000..9999");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("2025-01-01"), I(INT64_MAX)),
               "error: 2025-01-01 plus 9223372036854775807 days is outside the years 0000..9999");
  CHECK_EQ_STR(R(STD_add_days, 2, DAY("2025-01-01"), I(INT64_MIN)),
               "error: 2025-01-01 plus -9223372036854775808 days is outside the years 0000..9999");
  CHECK_EQ_STR(R(STD_add_days, 2, DT("2025-01-01T00:00:00Z"), I(INT64_MIN)),
               "error: 2025-01-01T00:00:00Z plus -9223372036854775808 days is outside the years 0000..9999");
  CHECK_EQ_STR(R(STD_add_days, 2, DT("9999-12-31T10:00:00+01:00"), I(1)),
               "error: 9999-12-31T10:00:00+01:00 plus 1 days is outside the years 0000..9999");
  CHECK_EQ_STR(R(STD_add_days, 2, S("2025-01-01"), I(1)),
               "error: add_days() needs a date or datetime, not `2025-01-01`");
  CHECK_EQ_STR(R(STD_days_between, 2, DAY("2025-03-01"), DAY("2025-03-15")), "14");
  CHECK_EQ_STR(R(STD_days_between, 2, DAY("2025-03-15"), DAY("2025-03-01")), "-14");
  CHECK_EQ_STR(R(STD_days_between, 2, DT("2025-03-14T23:30:00+01:00"), DAY("2025-03-15")), "1");
  CHECK_EQ_STR(R(STD_days_between, 2, DAY("0000-01-01"), DAY("9999-12-31")), "3652424");
  CHECK_EQ_STR(R(STD_days_between, 2, N(), DAY("2025-03-15")), "null");
  CHECK_EQ_STR(R(STD_days_between, 2, DAY("2025-03-15"), S("x")),
               "error: `to` must be a date or datetime, not string `x`");
}

TEST(now_is_the_run_start) {
  CHECK_EQ_STR(R(STD_now, 0), "datetime(2025-03-14T09:30:00+01:00)");
  CHECK_EQ_STR(R(STD_now, 0), "datetime(2025-03-14T09:30:00+01:00)");
}

int main(void) {
  check_suite = "unit/stdlib_date";
  stdlib_test_init();
  RUN(date_and_datetime_from_values_and_text);
  RUN(parse_date_formats);
  RUN(format_date_codes);
  RUN(zones_from_the_system_database);
  RUN(add_days_and_days_between);
  RUN(now_is_the_run_start);
  stdlib_test_fini();
  return check_done();
}
