/* Unit tests of common/datetime and common/tz: the civil calendar, ISO
** parsing and formatting, strftime codes, and time zones, including DST in
** Europe/Copenhagen and a differential run against Python's zoneinfo
** (tests/unit/data/tz_oracle.py). */
#include "common/buf.h"
#include "common/datetime.h"
#include "common/tz.h"
#include "common/util.h"
#include "tests/lib/check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static DateTime DT(const char *text) {
  DateTime dt;
  const char *why = NULL;
  if (!datetime_parse(str_from_cstr(text), &dt, &why)) {
    fprintf(stderr, "test literal %s does not parse: %s\n", text, why);
    abort();
  }
  return dt;
}

static const char *ISO(DateTime dt) {
  static char bufs[4][DATETIME_TEXT_SIZE];
  static int next;
  char *b = bufs[next++ % 4];
  datetime_format_iso(dt, b);
  return b;
}

static const char *DAY(int32_t days) {
  static char bufs[4][DATE_TEXT_SIZE];
  static int next;
  char *b = bufs[next++ % 4];
  date_format_iso(days, b);
  return b;
}

TEST(civil_known_days) {
  CHECK_EQ_INT(days_from_civil(1970, 1, 1), 0);
  CHECK_EQ_INT(days_from_civil(1969, 12, 31), -1);
  CHECK_EQ_INT(days_from_civil(2000, 3, 1), 11017);
  CHECK_EQ_INT(days_from_civil(2024, 3, 1), 19783);
  CHECK_EQ_INT(days_from_civil(0, 3, 1), -719468);
  CHECK_EQ_INT(days_from_civil(0, 1, 1), -719528);
  CHECK_EQ_INT(days_from_civil(9999, 12, 31), 2932896);
  CHECK_EQ_INT(DATE_MIN_DAYS, days_from_civil(0, 1, 1));
  CHECK_EQ_INT(DATE_MAX_DAYS, days_from_civil(9999, 12, 31));
  CHECK_EQ_INT(weekday_from_days(0), 4);                           /* Thursday */
  CHECK_EQ_INT(weekday_from_days(days_from_civil(2024, 3, 1)), 5); /* Friday */
  CHECK_EQ_INT(weekday_from_days(-1), 3);
  CHECK(is_leap_year(2000) && is_leap_year(2024) && is_leap_year(0));
  CHECK(!is_leap_year(1900) && !is_leap_year(2023) && !is_leap_year(2100));
  CHECK_EQ_INT(days_in_month(2024, 2), 29);
  CHECK_EQ_INT(days_in_month(2023, 2), 28);
  CHECK_EQ_INT(days_in_month(2023, 12), 31);
}

TEST(civil_round_trip_every_day_0000_to_9999) {
  /* Walk the calendar one day at a time and check both directions agree
  ** with plain counting, and that weekdays cycle. */
  int64_t y = 0;
  int m = 1, d = 1, bad = 0;
  int64_t first = days_from_civil(0, 1, 1), last = days_from_civil(9999, 12, 31);
  for (int64_t z = first; z <= last && bad < 5; z++) {
    int64_t yy;
    int mm, dd;
    civil_from_days(z, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d || days_from_civil(y, m, d) != z ||
        weekday_from_days(z) != (int)(((z + 4) % 7 + 7) % 7)) {
      check_fail(__FILE__, __LINE__, "day %" PRId64 ": %04" PRId64 "-%02d-%02d vs %04" PRId64 "-%02d-%02d",
                 z, yy, mm, dd, y, m, d);
      bad++;
    }
    if (++d > days_in_month(y, m)) {
      d = 1;
      if (++m > 12) m = 1, y++;
    }
  }
}

TEST(date_parse_and_format) {
  int32_t days = 0;
  const char *why = NULL;
  CHECK(date_parse(STR_LIT("2024-02-29"), &days, &why));
  CHECK_EQ_STR(DAY(days), "2024-02-29");
  CHECK(date_parse(STR_LIT("0000-01-01"), &days, &why));
  CHECK_EQ_INT(days, -719528);
  CHECK(date_parse(STR_LIT("9999-12-31"), &days, &why));
  CHECK_EQ_STR(DAY(days), "9999-12-31");
  CHECK_EQ_STR(DAY(-719529), "-0001-12-31");
  static const struct { const char *text, *why; } BAD[] = {
      {"", "expected a four-digit year (YYYY-MM-DD)"},
      {"24-01-01", "expected a four-digit year (YYYY-MM-DD)"},
      {"2024/01/01", "expected `-` after the year (YYYY-MM-DD)"},
      {"2024-1-01", "expected a two-digit month (YYYY-MM-DD)"},
      {"2024-01-1", "expected a two-digit day (YYYY-MM-DD)"},
      {"2024-13-01", "month is not in 01..12"},
      {"2024-00-10", "month is not in 01..12"},
      {"2023-02-29", "day does not exist in that month"},
      {"2024-04-31", "day does not exist in that month"},
      {"2024-01-00", "day does not exist in that month"},
      {"2024-01-01T00:00", "unexpected text after the date (YYYY-MM-DD)"},
      {"2024-01-01 ", "unexpected text after the date (YYYY-MM-DD)"},
  };
  for (size_t i = 0; i < ARRAY_LEN(BAD); i++) {
    why = NULL;
    if (date_parse(str_from_cstr(BAD[i].text), &days, &why) || !why || strcmp(why, BAD[i].why))
      check_fail(__FILE__, __LINE__, "date_parse(\"%s\"): %s, expected \"%s\"", BAD[i].text,
                 why ? why : "accepted", BAD[i].why);
  }
}

TEST(datetime_parse_forms) {
  DateTime dt = DT("2024-03-01T10:15:00+01:00");
  CHECK_EQ_INT(dt.secs, days_from_civil(2024, 3, 1) * 86400 + 9 * 3600 + 15 * 60);
  CHECK_EQ_INT(dt.offset_min, 60);
  CHECK_EQ_INT(dt.usec, 0);
  CHECK_EQ_INT(dt.flags, 0);
  CHECK_EQ_STR(ISO(dt), "2024-03-01T10:15:00+01:00");
  CHECK_EQ_INT(datetime_cmp(dt, DT("2024-03-01T09:15:00Z")), 0);
  CHECK_EQ_INT(datetime_cmp(dt, DT("2024-03-01T09:15:00.000001Z")), -1);
  CHECK_EQ_INT(datetime_cmp(dt, DT("2024-03-01T04:14:59-05:00")), 1);
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15:00+0100")), "2024-03-01T10:15:00+01:00");
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15:00+01")), "2024-03-01T10:15:00+01:00");
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15:00-05:30")), "2024-03-01T10:15:00-05:30");
  CHECK_EQ_STR(ISO(DT("2024-03-01t10:15:00z")), "2024-03-01T10:15:00Z");
  CHECK_EQ_STR(ISO(DT("2024-03-01 10:15:00+00:00")), "2024-03-01T10:15:00Z");
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15Z")), "2024-03-01T10:15:00Z");
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15:00.5Z")), "2024-03-01T10:15:00.500Z");
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15:00,25Z")), "2024-03-01T10:15:00.250Z");
  CHECK_EQ_STR(ISO(DT("2024-03-01T10:15:00.123456Z")), "2024-03-01T10:15:00.123456Z");
  /* Digits beyond microseconds are cut off, never rounded into the next day. */
  CHECK_EQ_STR(ISO(DT("2024-12-31T23:59:59.9999999Z")), "2024-12-31T23:59:59.999999Z");
  CHECK_EQ_STR(ISO(DT("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59Z");
  CHECK_EQ_INT(DT("1969-12-31T23:59:59Z").secs, -1);
  /* WooCommerce: no offset. Read as UTC, flagged, written back as it came. */
  dt = DT("2017-03-22T16:28:02");
  CHECK_EQ_INT(dt.flags, DATETIME_NO_OFFSET);
  CHECK_EQ_INT(dt.offset_min, 0);
  CHECK_EQ_INT(datetime_cmp(dt, DT("2017-03-22T16:28:02Z")), 0);
  CHECK_EQ_STR(ISO(dt), "2017-03-22T16:28:02");
  CHECK_EQ_STR(ISO(datetime_at_offset(dt, 0)), "2017-03-22T16:28:02Z");
  CHECK_EQ_STR(ISO(datetime_at_offset(DT("2024-03-01T10:15:00+01:00"), -300)),
               "2024-03-01T04:15:00-05:00");
}

TEST(datetime_parse_errors) {
  static const struct { const char *text, *why; } BAD[] = {
      {"2024-03-01", "expected `T` and a time after the date"},
      {"2024-03-01X10:00:00Z", "expected `T` between the date and the time"},
      {"2024-03-01T1:00:00Z", "expected a two-digit hour"},
      {"2024-03-01T10-00Z", "expected `:` after the hour"},
      {"2024-03-01T10:0Z", "expected two-digit minutes"},
      {"2024-03-01T10:00:0Z", "expected two-digit seconds"},
      {"2024-03-01T10:00:00.Z", "expected digits after the decimal point of the seconds"},
      {"2024-03-01T24:00:00Z", "hour is not in 00..23"},
      {"2024-03-01T10:60:00Z", "minutes are not in 00..59"},
      {"2024-06-30T23:59:60Z", "leap seconds (:60) are not supported"},
      {"2024-03-01T10:00:61Z", "seconds are not in 00..59"},
      {"2024-03-01T10:00:00+1", "expected a two-digit offset hour"},
      {"2024-03-01T10:00:00+01:0", "expected two-digit offset minutes"},
      {"2024-03-01T10:00:00+01:", "expected two-digit offset minutes"},
      {"2024-03-01T10:00:00+24:00", "offset is not in -23:59..+23:59"},
      {"2024-03-01T10:00:00+01:60", "offset is not in -23:59..+23:59"},
      {"2024-03-01T10:00:00 CET", "expected `Z` or an offset like +01:00 after the time"},
      {"2024-03-01T10:00:00Zx", "unexpected text after the date-time"},
      {"2024-03-01T10:00:00+01:00:00", "unexpected text after the date-time"},
      {"2024-02-30T10:00:00Z", "day does not exist in that month"},
  };
  for (size_t i = 0; i < ARRAY_LEN(BAD); i++) {
    DateTime dt;
    const char *why = NULL;
    if (datetime_parse(str_from_cstr(BAD[i].text), &dt, &why) || !why || strcmp(why, BAD[i].why))
      check_fail(__FILE__, __LINE__, "datetime_parse(\"%s\"): %s, expected \"%s\"", BAD[i].text,
                 why ? why : "accepted", BAD[i].why);
  }
}

TEST(local_date_is_at_the_values_own_offset) {
  /* Just after midnight in Copenhagen is still the previous day in UTC. */
  CHECK_EQ_STR(DAY(datetime_local_date(DT("2024-03-01T00:30:00+01:00"))), "2024-03-01");
  CHECK_EQ_STR(DAY(datetime_local_date(DT("2024-02-29T23:30:00Z"))), "2024-02-29");
  CHECK_EQ_STR(DAY(datetime_local_date(DT("2024-02-29T23:30:00-05:00"))), "2024-02-29");
  CHECK_EQ_STR(DAY(datetime_local_date(DT("1969-12-31T23:30:00-05:00"))), "1969-12-31");
  CHECK_EQ_STR(DAY(datetime_local_date(DT("1970-01-01T00:30:00+01:00"))), "1970-01-01");
}

static const char *FMT(const CivilTime *c, const char *format, bool *ok) {
  static char text[256];
  Buf b;
  const char *why = NULL;
  buf_init(&b, 200);
  *ok = civil_format(c, str_from_cstr(format), &b, &why);
  snprintf(text, sizeof text, "%s", *ok ? buf_cstr(&b) : why);
  buf_fini(&b);
  return text;
}

TEST(format_codes) {
  bool ok;
  CivilTime c = datetime_to_civil(DT("2024-03-01T09:05:07+01:00"));
  CHECK_EQ_STR(FMT(&c, "%Y %y %m %d %j %H %M %S %z %b %B %a %A %F %T %%", &ok),
               "2024 24 03 01 061 09 05 07 +0100 Mar March Fri Friday 2024-03-01 09:05:07 %");
  CHECK(ok);
  c = datetime_to_civil(DT("2024-12-31T23:00:00-05:30"));
  CHECK_EQ_STR(FMT(&c, "%d.%m.%Y %H:%M %z, day %j", &ok), "31.12.2024 23:00 -0530, day 366");
  c = datetime_to_civil(DT("2023-01-01T00:00:00Z"));
  CHECK_EQ_STR(FMT(&c, "%A %d %B %Y (%a %b) %j", &ok), "Sunday 01 January 2023 (Sun Jan) 001");
  CHECK_EQ_STR(FMT(&c, "no codes", &ok), "no codes");
  c = date_to_civil((int32_t)days_from_civil(2024, 9, 14));
  CHECK_EQ_STR(FMT(&c, "%d.%m.%Y %a", &ok), "14.09.2024 Sat");
  CHECK(ok);
  CHECK_EQ_STR(FMT(&c, "%H:%M", &ok), "format code for a time (%H %M %S %T %z) used on a date");
  CHECK(!ok);
  CHECK_EQ_STR(FMT(&c, "%Q", &ok),
               "unknown format code (known: %Y %y %m %d %j %H %M %S %z %b %B %a %A %F %T %%)");
  CHECK(!ok);
  CHECK_EQ_STR(FMT(&c, "50%", &ok), "format ends with a lone `%`");
  CHECK(!ok);
  /* The output buffer's bound is an error, not a crash. */
  Buf small;
  const char *why = NULL;
  buf_init(&small, 8);
  CHECK(!civil_format(&c, STR_LIT("%B %B %B"), &small, &why));
  CHECK_EQ_STR(why, "formatted text is too long");
  buf_fini(&small);
}

/* ---- Time zones ------------------------------------------------------------ */

static const char *IN_ZONE(TzDb *db, const char *iso, const char *zone) {
  static char bufs[4][DATETIME_TEXT_SIZE + 300];
  static int next;
  char *b = bufs[next++ % 4];
  DateTime out;
  char err[256];
  if (tz_to_zone(db, DT(iso), str_from_cstr(zone), &out, err, sizeof err))
    datetime_format_iso(out, b);
  else
    snprintf(b, DATETIME_TEXT_SIZE + 300, "error: %s", err);
  return b;
}

TEST(copenhagen_dst_transitions) {
  TzDb *db = tz_db_new("/usr/share/zoneinfo");
  /* 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC. */
  CHECK_EQ_STR(IN_ZONE(db, "2024-03-31T00:59:59Z", "Europe/Copenhagen"), "2024-03-31T01:59:59+01:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-03-31T01:00:00Z", "Europe/Copenhagen"), "2024-03-31T03:00:00+02:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-10-27T00:59:59Z", "Europe/Copenhagen"), "2024-10-27T02:59:59+02:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-10-27T01:00:00Z", "Europe/Copenhagen"), "2024-10-27T02:00:00+01:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-07-01T12:00:00-04:00", "Europe/Copenhagen"), "2024-07-01T18:00:00+02:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-01-15T12:00:00Z", "Europe/Copenhagen"), "2024-01-15T13:00:00+01:00");
  /* A WooCommerce time without offset is UTC; converting clears the flag. */
  CHECK_EQ_STR(IN_ZONE(db, "2017-03-22T16:28:02", "Europe/Copenhagen"), "2017-03-22T17:28:02+01:00");
  /* Far future: past the file's transitions, from the footer rule. */
  CHECK_EQ_STR(IN_ZONE(db, "2100-03-28T00:59:59Z", "Europe/Copenhagen"), "2100-03-28T01:59:59+01:00");
  CHECK_EQ_STR(IN_ZONE(db, "2100-03-28T01:00:00Z", "Europe/Copenhagen"), "2100-03-28T03:00:00+02:00");
  CHECK_EQ_STR(IN_ZONE(db, "2100-10-31T01:00:00Z", "Europe/Copenhagen"), "2100-10-31T02:00:00+01:00");
  /* History: summer time in 1945; local mean time +00:50:20 before 1894. */
  CHECK_EQ_STR(IN_ZONE(db, "1945-07-01T00:00:00Z", "Europe/Copenhagen"), "1945-07-01T02:00:00+02:00");
  CHECK_EQ_STR(IN_ZONE(db, "1890-01-01T00:00:00Z", "Europe/Copenhagen"), "1890-01-01T00:50:00+00:50");
  /* The local date follows: an order at 23:30 UTC on 31 March is 1 April. */
  DateTime out;
  char err[256];
  CHECK(tz_to_zone(db, DT("2024-03-31T23:30:00Z"), STR_LIT("Europe/Copenhagen"), &out, err, sizeof err));
  CHECK_EQ_STR(DAY(datetime_local_date(out)), "2024-04-01");
  tz_db_free(db);
}

TEST(other_zones) {
  TzDb *db = tz_db_new("/usr/share/zoneinfo");
  CHECK_EQ_STR(IN_ZONE(db, "2024-03-10T06:59:59Z", "America/New_York"), "2024-03-10T01:59:59-05:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-03-10T07:00:00Z", "America/New_York"), "2024-03-10T03:00:00-04:00");
  /* Southern hemisphere: summer time spans the new year. */
  CHECK_EQ_STR(IN_ZONE(db, "2024-04-06T15:59:59Z", "Australia/Sydney"), "2024-04-07T02:59:59+11:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-04-06T16:00:00Z", "Australia/Sydney"), "2024-04-07T02:00:00+10:00");
  CHECK_EQ_STR(IN_ZONE(db, "2150-01-01T00:00:00Z", "Australia/Sydney"), "2150-01-01T11:00:00+11:00");
  CHECK_EQ_STR(IN_ZONE(db, "2150-07-01T00:00:00Z", "Australia/Sydney"), "2150-07-01T10:00:00+10:00");
  CHECK_EQ_STR(IN_ZONE(db, "2024-06-01T00:00:00Z", "Asia/Kathmandu"), "2024-06-01T05:45:00+05:45");
  /* Local mean time with seconds is rounded to the minute: +00:19:32. */
  CHECK_EQ_STR(IN_ZONE(db, "1850-01-01T00:00:00Z", "Europe/Amsterdam"), "1850-01-01T00:20:00+00:20");
  CHECK_EQ_STR(IN_ZONE(db, "1850-01-01T00:00:00Z", "America/New_York"), "1849-12-31T19:04:00-04:56");
  CHECK_EQ_STR(IN_ZONE(db, "2024-06-01T00:00:00+02:00", "UTC"), "2024-05-31T22:00:00Z");
  tz_db_free(db);
}

TEST(zone_errors_are_clear_and_cached) {
  TzDb *db = tz_db_new("/usr/share/zoneinfo");
  char err[256];
  CHECK(tz_db_zone(db, STR_LIT("Europe/Copenhagn"), err, sizeof err) == NULL);
  CHECK_EQ_STR(err, "unknown time zone `Europe/Copenhagn` (not in /usr/share/zoneinfo)");
  CHECK(tz_db_zone(db, STR_LIT("Europe/Copenhagn"), err, sizeof err) == NULL);
  CHECK_EQ_STR(err, "unknown time zone `Europe/Copenhagn` (not in /usr/share/zoneinfo)");
  CHECK(tz_db_zone(db, STR_LIT("Europe"), err, sizeof err) == NULL);  /* a directory */
  CHECK_EQ_STR(err, "unknown time zone `Europe` (not in /usr/share/zoneinfo)");
  static const char *const INVALID[] = {"", "../etc/passwd", "/etc/passwd", "Europe//Paris",
                                        "Europe/../../etc", "Europe/Copenhagen/", "Europe/Copen hagen",
                                        "Europe/Copenhagen;rm"};
  for (size_t i = 0; i < ARRAY_LEN(INVALID); i++) {
    char want[300];
    snprintf(want, sizeof want, "`%s` is not a valid time zone name", INVALID[i]);
    CHECK(tz_db_zone(db, str_from_cstr(INVALID[i]), err, sizeof err) == NULL);
    CHECK_EQ_STR(err, want);
  }
  /* A NUL makes a name invalid; it must not find (or poison) its prefix. */
  CHECK(tz_db_zone(db, str_make("Europe/Copenhagen\0x", 19), err, sizeof err) == NULL);
  const TzZone *a = tz_db_zone(db, STR_LIT("Europe/Copenhagen"), err, sizeof err);
  const TzZone *b = tz_db_zone(db, STR_LIT("Europe/Copenhagen"), err, sizeof err);
  CHECK(a != NULL && a == b);
  CHECK_EQ_STR(tz_zone_name(a), "Europe/Copenhagen");
  bool dst = false;
  CHECK_EQ_INT(tz_zone_offset(a, DT("2024-07-01T00:00:00Z").secs, &dst), 7200);
  CHECK(dst);
  CHECK_EQ_INT(tz_zone_offset(a, DT("2024-01-01T00:00:00Z").secs, &dst), 3600);
  CHECK(!dst);
  DateTime out;
  CHECK(!tz_to_zone(db, DT("2024-01-01T00:00:00Z"), STR_LIT("Mars/Olympus_Mons"), &out, err, sizeof err));
  CHECK_EQ_STR(err, "unknown time zone `Mars/Olympus_Mons` (not in /usr/share/zoneinfo)");
  tz_db_free(db);
}

/* A temporary directory for hand-made zone files; removed by the test. */
static char tmpdir[64];

static void write_bytes(const char *rel, const void *data, size_t len) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
  FILE *f = fopen(path, "wb");
  if (!f) iex_fatal("cannot write %s", path);
  fwrite(data, 1, len, f);
  fclose(f);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A minimal TZif version 2 file: no transitions, one local time type with
** offset `off` seconds, and `footer` as the POSIX rule. Returns its size. */
static size_t make_tzif(uint8_t *out, int32_t off, const char *footer) {
  size_t n = 0;
  for (int block = 0; block < 2; block++) {
    memset(out + n, 0, 44);
    memcpy(out + n, "TZif2", 5);
    put32(out + n + 36, 1); /* typecnt */
    put32(out + n + 40, 4); /* charcnt */
    n += 44;
    put32(out + n, (uint32_t)off);
    out[n + 4] = 0, out[n + 5] = 0;
    memcpy(out + n + 6, "XXX", 4);
    n += 10;
  }
  out[n++] = '\n';
  memcpy(out + n, footer, strlen(footer));
  n += strlen(footer);
  out[n++] = '\n';
  return n;
}

static int32_t rule_offset(TzDb *db, const char *zone, const char *iso) {
  char err[256];
  const TzZone *z = tz_db_zone(db, str_from_cstr(zone), err, sizeof err);
  if (!z) {
    check_fail(__FILE__, __LINE__, "%s: %s", zone, err);
    return -1;
  }
  return tz_zone_offset(z, DT(iso).secs, NULL);
}

TEST(tzdir_and_posix_rules) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iex-tz-XXXXXX");
  CHECK_FATAL(mkdtemp(tmpdir) != NULL);
  char sub[128];
  snprintf(sub, sizeof sub, "%s/Test", tmpdir);
  mkdir(sub, 0700);
  uint8_t file[512];
  static const struct { const char *name, *footer; } RULES[] = {
      {"Test/US", "EST5EDT,M3.2.0,M11.1.0"},
      {"Test/USDefault", "EST5EDT"},
      {"Test/Julian", "AAA3BBB,J60/0,J300"},
      {"Test/ZeroBased", "AAA3BBB,59/0,299"},
      {"Test/Nuuk", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"},
      {"Test/Israel", "IST-2IDT,M3.4.4/26,M10.5.0"},
      {"Test/Dublin", "IST-1GMT0,M10.5.0,M3.5.0/1"},
      {"Test/Fixed", "<+0330>-3:30"},
      {"Test/Permanent", "EST5EDT,0/0,J365/25"},
      {"Test/Bad1", "EST"},
      {"Test/Bad2", "EST5EDT,M13.1.0,M11.1.0"},
      {"Test/Bad3", "EST5EDT,M3.2.0"},
      {"Test/Bad4", "<EST5"},
  };
  for (size_t i = 0; i < ARRAY_LEN(RULES); i++)
    write_bytes(RULES[i].name, file, make_tzif(file, 0, RULES[i].footer));
  write_bytes("Test/Truncated", "TZif2\0\0\0", 8);
  write_bytes("Test/Garbage", "not a zone file at all, but long enough to have a header in it......", 60);
  size_t n = make_tzif(file, 0, "UTC0");
  file[n - 1] = 'x'; /* footer without its final newline */
  write_bytes("Test/NoFooterEnd", file, n);

  setenv("TZDIR", tmpdir, 1);
  TzDb *db = tz_db_new(NULL);
  unsetenv("TZDIR");
  char err[512];
  /* 2030: second Sunday of March is the 10th, first Sunday of November the 3rd. */
  CHECK_EQ_INT(rule_offset(db, "Test/US", "2030-03-10T06:59:59Z"), -5 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/US", "2030-03-10T07:00:00Z"), -4 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/US", "2030-11-03T05:59:59Z"), -4 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/US", "2030-11-03T06:00:00Z"), -5 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/USDefault", "2030-03-10T07:00:00Z"), -4 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/USDefault", "2030-11-03T06:00:00Z"), -5 * 3600);
  /* J60 is 1 March in every year; day 59 (zero-based) is 29 Feb in a leap year. */
  CHECK_EQ_INT(rule_offset(db, "Test/Julian", "2028-03-01T02:59:59Z"), -3 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/Julian", "2028-03-01T03:00:00Z"), -2 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/ZeroBased", "2028-02-29T02:59:59Z"), -3 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/ZeroBased", "2028-02-29T03:00:00Z"), -2 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/ZeroBased", "2029-03-01T03:00:00Z"), -2 * 3600);
  /* Negative rule times. Nuuk: -1:00 on the last Sunday of March (the
  ** 31st in 2030), which is 23:00 on Saturday, 01:00 UTC on Sunday. */
  CHECK_EQ_INT(rule_offset(db, "Test/Nuuk", "2030-03-31T00:59:59Z"), -2 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/Nuuk", "2030-03-31T01:00:00Z"), -1 * 3600);
  /* Hours past 24. Israel: 26:00 on the fourth Thursday of March (the
  ** 28th in 2030), which is 02:00 on Friday, 00:00 UTC. */
  CHECK_EQ_INT(rule_offset(db, "Test/Israel", "2030-03-28T23:59:59Z"), 2 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/Israel", "2030-03-29T00:00:00Z"), 3 * 3600);
  /* Dublin: "standard" is summer, "daylight" is winter (negative DST). */
  CHECK_EQ_INT(rule_offset(db, "Test/Dublin", "2030-01-15T12:00:00Z"), 0);
  CHECK_EQ_INT(rule_offset(db, "Test/Dublin", "2030-07-15T12:00:00Z"), 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/Fixed", "2030-07-15T12:00:00Z"), 3 * 3600 + 1800);
  CHECK_EQ_INT(rule_offset(db, "Test/Permanent", "2030-01-01T05:00:00Z"), -4 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/Permanent", "2030-07-01T05:00:00Z"), -4 * 3600);
  CHECK_EQ_INT(rule_offset(db, "Test/Permanent", "2030-12-31T23:00:00Z"), -4 * 3600);
  /* Bad files are errors naming the file and the problem. */
  static const struct { const char *name, *why; } BAD[] = {
      {"Test/Bad1", "footer is not a valid POSIX TZ rule"},
      {"Test/Bad2", "footer is not a valid POSIX TZ rule"},
      {"Test/Bad3", "footer is not a valid POSIX TZ rule"},
      {"Test/Bad4", "footer is not a valid POSIX TZ rule"},
      {"Test/Truncated", "not a TZif file"},
      {"Test/Garbage", "not a TZif file"},
      {"Test/NoFooterEnd", "unterminated footer"},
  };
  for (size_t i = 0; i < ARRAY_LEN(BAD); i++) {
    char want[512];
    snprintf(want, sizeof want, "time zone file %s/%s is not valid: %s", tmpdir, BAD[i].name, BAD[i].why);
    CHECK(tz_db_zone(db, str_from_cstr(BAD[i].name), err, sizeof err) == NULL);
    CHECK_EQ_STR(err, want);
  }
  /* TZDIR replaced the system directory entirely. */
  CHECK(tz_db_zone(db, STR_LIT("Europe/Copenhagen"), err, sizeof err) == NULL);
  tz_db_free(db);

  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  CHECK(system(cmd) == 0);
}

TEST(differential_zoneinfo) {
  const char *root = getenv("IEX_ROOT");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "python3 '%s/tests/unit/data/tz_oracle.py' --seed 1 --n 300",
           root ? root : ".");
  FILE *p = popen(cmd, "r");
  CHECK_FATAL(p != NULL);
  TzDb *db = tz_db_new("/usr/share/zoneinfo");
  char line[256], zone[128];
  long long t, want;
  int cases = 0, shown = 0;
  while (fgets(line, sizeof line, p)) {
    if (sscanf(line, "%127s %lld %lld", zone, &t, &want) != 3) continue;
    char err[256];
    const TzZone *z = tz_db_zone(db, str_from_cstr(zone), err, sizeof err);
    cases++;
    if (!z) {
      if (shown++ < 10) check_fail(__FILE__, __LINE__, "%s", err);
      continue;
    }
    int32_t got = tz_zone_offset(z, t, NULL);
    if (got != want && shown++ < 10)
      check_fail(__FILE__, __LINE__, "%s at %lld: python %lld, iex %d", zone, t, want, got);
  }
  CHECK(pclose(p) == 0);
  CHECK(cases > 5000);
  tz_db_free(db);
}

int main(void) {
  check_suite = "unit/datetime";
  RUN(civil_known_days);
  RUN(civil_round_trip_every_day_0000_to_9999);
  RUN(date_parse_and_format);
  RUN(datetime_parse_forms);
  RUN(datetime_parse_errors);
  RUN(local_date_is_at_the_values_own_offset);
  RUN(format_codes);
  RUN(copenhagen_dst_transitions);
  RUN(other_zones);
  RUN(zone_errors_are_clear_and_cached);
  RUN(tzdir_and_posix_rules);
  RUN(differential_zoneinfo);
  return check_done();
}
