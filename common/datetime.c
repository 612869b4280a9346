/*
** Dates and date-times (see datetime.h).
**
** The calendar arithmetic is Howard Hinnant's, from "chrono-Compatible
** Low-Level Date Algorithms" (howardhinnant.github.io/date_algorithms.html):
** shifting the year to start on March 1st puts the leap day last, so the
** day of the year has a closed form, and 400-year eras make it exact for
** negative years without tables.
*/
#include "common/datetime.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *const MONTH_NAMES[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};
static const char *const DAY_NAMES[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* Division and remainder rounding towards -infinity, for instants and
** days before 1970. */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
static int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

/* ---- Calendar ---------------------------------------------------------- */

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;                                   /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, int *m, int *d) {
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;                                      /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

bool is_leap_year(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int days_in_month(int64_t y, int m) {
  static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  assert(m >= 1 && m <= 12);
  return m == 2 && is_leap_year(y) ? 29 : DAYS[m - 1];
}

/* 1970-01-01 was a Thursday. */
int weekday_from_days(int64_t days) { return (int)floor_mod(days + 4, 7); }

/* ---- Reading ------------------------------------------------------------ */

/* Read exactly `n` ASCII digits at s[*pos] into `*out`. */
static bool read_digits(Str s, size_t *pos, int n, int *out) {
  if (s.len - *pos < (size_t)n) return false;
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = s.ptr[*pos + (size_t)i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += (size_t)n;
  *out = v;
  return true;
}

static bool expect_char(Str s, size_t *pos, char c) {
  if (*pos < s.len && s.ptr[*pos] == c) {
    (*pos)++;
    return true;
  }
  return false;
}

/* Parsers below stop at the first problem: REQUIRE(cond, reason) sets
** `reason` and jumps to `fail` when `cond` is false. */
#define REQUIRE(cond, msg) \
  do {                     \
    if (!(cond)) {         \
      reason = (msg);      \
      goto fail;           \
    }                      \
  } while (0)

/* "YYYY-MM-DD" at the start of `s`; leaves `*pos` after it. */
static bool read_date(Str s, size_t *pos, int64_t *days, const char **why) {
  const char *reason = NULL;
  int y, m, d;
  REQUIRE(read_digits(s, pos, 4, &y), "expected a four-digit year (YYYY-MM-DD)");
  REQUIRE(expect_char(s, pos, '-'), "expected `-` after the year (YYYY-MM-DD)");
  REQUIRE(read_digits(s, pos, 2, &m), "expected a two-digit month (YYYY-MM-DD)");
  REQUIRE(expect_char(s, pos, '-'), "expected `-` after the month (YYYY-MM-DD)");
  REQUIRE(read_digits(s, pos, 2, &d), "expected a two-digit day (YYYY-MM-DD)");
  REQUIRE(m >= 1 && m <= 12, "month is not in 01..12");
  REQUIRE(d >= 1 && d <= days_in_month(y, m), "day does not exist in that month");
  *days = days_from_civil(y, m, d);
  return true;
fail:
  *why = reason;
  return false;
}

bool date_parse(Str text, int32_t *days, const char **why) {
  const char *reason = NULL;
  size_t pos = 0;
  int64_t d;
  if (!read_date(text, &pos, &d, &reason)) goto fail;
  REQUIRE(pos == text.len, "unexpected text after the date (YYYY-MM-DD)");
  *days = (int32_t)d;
  return true;
fail:
  if (why) *why = reason;
  return false;
}

bool datetime_parse(Str text, DateTime *out, const char **why) {
  const char *reason = NULL;
  size_t pos = 0;
  int64_t days;
  int hh, mm, ss = 0, usec = 0, offset = 0;
  uint8_t flags = 0;
  if (!read_date(text, &pos, &days, &reason)) goto fail;
  REQUIRE(pos < text.len, "expected `T` and a time after the date");
  REQUIRE(expect_char(text, &pos, 'T') || expect_char(text, &pos, 't') ||
              expect_char(text, &pos, ' '),
          "expected `T` between the date and the time");
  REQUIRE(read_digits(text, &pos, 2, &hh), "expected a two-digit hour");
  REQUIRE(expect_char(text, &pos, ':'), "expected `:` after the hour");
  REQUIRE(read_digits(text, &pos, 2, &mm), "expected two-digit minutes");
  if (expect_char(text, &pos, ':')) {
    REQUIRE(read_digits(text, &pos, 2, &ss), "expected two-digit seconds");
    if (expect_char(text, &pos, '.') || expect_char(text, &pos, ',')) {
      /* Keep microseconds; digits beyond are cut off, not rounded, so
      ** 23:59:59.9999999 stays on the same day. */
      int n = 0;
      while (pos < text.len && text.ptr[pos] >= '0' && text.ptr[pos] <= '9') {
        if (n < 6) usec = usec * 10 + (text.ptr[pos] - '0');
        n++;
        pos++;
      }
      REQUIRE(n > 0, "expected digits after the decimal point of the seconds");
      for (; n < 6; n++) usec *= 10;
    }
  }
  REQUIRE(hh <= 23, "hour is not in 00..23");
  REQUIRE(mm <= 59, "minutes are not in 00..59");
  REQUIRE(ss != 60, "leap seconds (:60) are not supported");
  REQUIRE(ss <= 59, "seconds are not in 00..59");
  if (pos == text.len) {
    flags = DATETIME_NO_OFFSET;
  } else if (expect_char(text, &pos, 'Z') || expect_char(text, &pos, 'z')) {
    offset = 0;
  } else {
    REQUIRE(text.ptr[pos] == '+' || text.ptr[pos] == '-',
            "expected `Z` or an offset like +01:00 after the time");
    int sign = text.ptr[pos++] == '-' ? -1 : 1, oh, om = 0;
    REQUIRE(read_digits(text, &pos, 2, &oh), "expected a two-digit offset hour");
    bool colon = expect_char(text, &pos, ':');
    if (colon || pos < text.len)
      REQUIRE(read_digits(text, &pos, 2, &om), "expected two-digit offset minutes");
    REQUIRE(oh <= 23 && om <= 59, "offset is not in -23:59..+23:59");
    offset = sign * (oh * 60 + om);
  }
  REQUIRE(pos == text.len, "unexpected text after the date-time");
  out->secs = days * SECONDS_PER_DAY + hh * 3600 + mm * 60 + ss - (int64_t)offset * 60;
  out->usec = usec;
  out->offset_min = (int16_t)offset;
  out->flags = flags;
  return true;
fail:
  if (why) *why = reason;
  return false;
}

/* ---- Writing ------------------------------------------------------------ */

/* Write `v` with at least `width` digits (zero-padded, 1..9), sign first. */
static size_t put_int(char *out, int64_t v, int width) {
  char tmp[24];
  size_t n = 0, len = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (n < (size_t)width) tmp[n++] = '0';
  if (v < 0) out[len++] = '-';
  while (n) out[len++] = tmp[--n];
  return len;
}

static size_t put_date(char *out, int64_t y, int m, int d) {
  size_t len = put_int(out, y, 4);
  out[len++] = '-';
  len += put_int(out + len, m, 2);
  out[len++] = '-';
  len += put_int(out + len, d, 2);
  return len;
}

size_t date_format_iso(int32_t days, char out[DATE_TEXT_SIZE]) {
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  size_t len = put_date(out, y, m, d);
  out[len] = '\0';
  return len;
}

size_t datetime_format_iso(DateTime dt, char out[DATETIME_TEXT_SIZE]) {
  CivilTime c = datetime_to_civil(dt);
  size_t len = put_date(out, c.year, c.month, c.day);
  out[len++] = 'T';
  len += put_int(out + len, c.hour, 2);
  out[len++] = ':';
  len += put_int(out + len, c.minute, 2);
  out[len++] = ':';
  len += put_int(out + len, c.second, 2);
  if (c.usec) {
    out[len++] = '.';
    len += c.usec % 1000 == 0 ? put_int(out + len, c.usec / 1000, 3)
                              : put_int(out + len, c.usec, 6);
  }
  if (dt.flags & DATETIME_NO_OFFSET) {
    /* written back without an offset, as it came */
  } else if (dt.offset_min == 0) {
    out[len++] = 'Z';
  } else {
    int off = dt.offset_min < 0 ? -dt.offset_min : dt.offset_min;
    out[len++] = dt.offset_min < 0 ? '-' : '+';
    len += put_int(out + len, off / 60, 2);
    out[len++] = ':';
    len += put_int(out + len, off % 60, 2);
  }
  out[len] = '\0';
  return len;
}

/* ---- Instants and offsets ------------------------------------------------ */

int datetime_cmp(DateTime a, DateTime b) {
  if (a.secs != b.secs) return a.secs < b.secs ? -1 : 1;
  return (a.usec > b.usec) - (a.usec < b.usec);
}

int32_t datetime_local_date(DateTime dt) {
  return (int32_t)floor_div(dt.secs + (int64_t)dt.offset_min * 60, SECONDS_PER_DAY);
}

DateTime datetime_at_offset(DateTime dt, int offset_min) {
  assert(offset_min > -1440 && offset_min < 1440);
  dt.offset_min = (int16_t)offset_min;
  dt.flags &= (uint8_t)~DATETIME_NO_OFFSET;
  return dt;
}

CivilTime date_to_civil(int32_t days) {
  CivilTime c;
  memset(&c, 0, sizeof c);
  civil_from_days(days, &c.year, &c.month, &c.day);
  c.weekday = weekday_from_days(days);
  c.yday = (int)(days - days_from_civil(c.year, 1, 1)) + 1;
  return c;
}

CivilTime datetime_to_civil(DateTime dt) {
  int64_t local = dt.secs + (int64_t)dt.offset_min * 60;
  int64_t days = floor_div(local, SECONDS_PER_DAY);
  int64_t sod = local - days * SECONDS_PER_DAY;
  CivilTime c = date_to_civil((int32_t)days);
  c.hour = (int)(sod / 3600);
  c.minute = (int)(sod / 60 % 60);
  c.second = (int)(sod % 60);
  c.usec = dt.usec;
  c.offset_min = dt.offset_min;
  c.has_time = true;
  return c;
}

bool civil_format(const CivilTime *c, Str format, Buf *out, const char **why) {
  const char *reason = NULL;
  char tmp[32];
  for (size_t i = 0; i < format.len; i++) {
    char ch = format.ptr[i];
    if (ch != '%') {
      buf_putc(out, ch);
      continue;
    }
    REQUIRE(++i < format.len, "format ends with a lone `%`");
    char code = format.ptr[i];
    size_t n = 0;
    bool needs_time = false;
    switch (code) {
      case 'Y': n = put_int(tmp, c->year, 4); break;
      case 'y': n = put_int(tmp, floor_mod(c->year, 100), 2); break;
      case 'm': n = put_int(tmp, c->month, 2); break;
      case 'd': n = put_int(tmp, c->day, 2); break;
      case 'j': n = put_int(tmp, c->yday, 3); break;
      case 'F': n = put_date(tmp, c->year, c->month, c->day); break;
      case 'b':
        n = (size_t)snprintf(tmp, sizeof tmp, "%.3s", MONTH_NAMES[c->month - 1]);
        break;
      case 'B':
        n = (size_t)snprintf(tmp, sizeof tmp, "%s", MONTH_NAMES[c->month - 1]);
        break;
      case 'a':
        n = (size_t)snprintf(tmp, sizeof tmp, "%.3s", DAY_NAMES[c->weekday]);
        break;
      case 'A': n = (size_t)snprintf(tmp, sizeof tmp, "%s", DAY_NAMES[c->weekday]); break;
      case '%': tmp[n++] = '%'; break;
      case 'H':
        needs_time = true;
        n = put_int(tmp, c->hour, 2);
        break;
      case 'M':
        needs_time = true;
        n = put_int(tmp, c->minute, 2);
        break;
      case 'S':
        needs_time = true;
        n = put_int(tmp, c->second, 2);
        break;
      case 'T':
        needs_time = true;
        n = put_int(tmp, c->hour, 2);
        tmp[n++] = ':';
        n += put_int(tmp + n, c->minute, 2);
        tmp[n++] = ':';
        n += put_int(tmp + n, c->second, 2);
        break;
      case 'z': {
        needs_time = true;
        int off = c->offset_min < 0 ? -c->offset_min : c->offset_min;
        tmp[n++] = c->offset_min < 0 ? '-' : '+';
        n += put_int(tmp + n, off / 60 * 100 + off % 60, 4);
        break;
      }
      default:
        reason =
            "unknown format code (known: %Y %y %m %d %j %H %M %S %z %b %B %a %A %F %T "
            "%%)";
        goto fail;
    }
    REQUIRE(!needs_time || c->has_time,
            "format code for a time (%H %M %S %T %z) used on a date");
    buf_append(out, tmp, n);
  }
  REQUIRE(buf_ok(out), "formatted text is too long");
  return true;
fail:
  if (why) *why = reason;
  return false;
}
