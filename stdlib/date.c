/*
** Dates and times (stdlib.def, "Dates and times"), on common/datetime.h
** and, for zones by name, common/tz.h (the system's zone database).
**
** A datetime keeps the offset it was written with; the calendar date of a
** datetime is the date at that offset (the shop's local date). Results
** stay within the years 0000..9999 that ISO text can hold: arithmetic
** past them is an error, not a date that cannot be written back.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/datetime.h"
#include "common/tz.h"
#include "stdlib/std_int.h"

bool std_date(StdCall *call, Value *out) {
  Value v = call->args[0];
  char shown[STD_SHOW_SIZE];
  switch (value_kind(v)) {
  case VAL_NULL:
  case VAL_DATE:
    *out = v;
    return true;
  case VAL_DATETIME:
    *out = value_date(datetime_local_date(value_as_datetime(v)));
    return true;
  case VAL_STRING: {
    Str s = value_as_str(v);
    int32_t days;
    DateTime dt;
    const char *why = NULL;
    if (s.len <= 10) {
      if (date_parse(s, &days, &why)) return *out = value_date(days), true;
    } else if (datetime_parse(s, &dt, &why)) {
      *out = value_date(datetime_local_date(dt));
      return true;
    }
    return std_fail(call, "%s is not a date: %s", std_show(v, shown), why ? why : "bad syntax");
  }
  default:
    return std_fail(call, "date() needs a date, datetime or string, not %s", std_show(v, shown));
  }
}

bool std_datetime(StdCall *call, Value *out) {
  Value v = call->args[0];
  char shown[STD_SHOW_SIZE];
  if (value_is_null(v) || value_kind(v) == VAL_DATETIME) return *out = v, true;
  if (value_kind(v) != VAL_STRING)
    return std_fail(call, "datetime() needs a datetime or string, not %s", std_show(v, shown));
  DateTime dt;
  const char *why = NULL;
  if (!datetime_parse(value_as_str(v), &dt, &why))
    return std_fail(call, "%s is not a date-time: %s", std_show(v, shown),
                    why ? why : "bad syntax");
  *out = value_datetime(dt);
  return true;
}

/* ---- parse_date ---------------------------------------------------------- */

static const char *const month_names[12] = {"january", "february", "march",     "april",
                                            "may",     "june",     "july",      "august",
                                            "september", "october", "november", "december"};

/* Read 1..max digits at s[*i]; false when there is none. */
static bool read_digits(Str s, size_t *i, int max, int exact, int *out) {
  int n = 0, v = 0;
  while (*i < s.len && n < max && s.ptr[*i] >= '0' && s.ptr[*i] <= '9') {
    v = v * 10 + (s.ptr[*i] - '0');
    (*i)++;
    n++;
  }
  *out = v;
  return n > 0 && (exact == 0 || n == exact);
}

/* A month name (English, any case), full or its first three letters. */
static bool read_month(Str s, size_t *i, int *out) {
  for (int m = 0; m < 12; m++) {
    size_t full = strlen(month_names[m]);
    for (size_t len = full;; len = 3) {
      if (*i + len <= s.len && strncasecmp(s.ptr + *i, month_names[m], len) == 0) {
        *i += len;
        *out = m + 1;
        return true;
      }
      if (len == 3) break;
    }
  }
  return false;
}

bool std_parse_date(StdCall *call, Value *out) {
  Str s, fmt;
  char shown[STD_SHOW_SIZE], fshown[STD_SHOW_SIZE];
  if (!std_arg_str(call, 1, "format", &fmt)) return false;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_str(call, 0, "text", &s)) return false;
  int year = -1, month = -1, day = -1;
  size_t i = 0;
  const char *why = NULL;
  for (size_t f = 0; f < fmt.len && !why; f++) {
    char c = fmt.ptr[f];
    if (c != '%' || f + 1 == fmt.len || fmt.ptr[f + 1] == '%') {
      if (c == '%') f++;
      if (i < s.len && s.ptr[i] == c) i++;
      else why = "it does not match the format";
      continue;
    }
    switch (fmt.ptr[++f]) {
    case 'd': if (!read_digits(s, &i, 2, 0, &day)) why = "no day (%d) where the format has one"; break;
    case 'm': if (!read_digits(s, &i, 2, 0, &month)) why = "no month (%m) where the format has one"; break;
    case 'Y': if (!read_digits(s, &i, 4, 4, &year)) why = "no 4-digit year (%Y) where the format has one"; break;
    case 'y':
      if (!read_digits(s, &i, 2, 2, &year)) why = "no 2-digit year (%y) where the format has one";
      else year += year < 69 ? 2000 : 1900; /* POSIX: 69..99 are 19xx */
      break;
    case 'b':
    case 'B':
      if (!read_month(s, &i, &month)) why = "no month name (%b) where the format has one";
      break;
    default:
      return std_fail(call, "format %s has `%%%c`, which parse_date does not know (it knows %%d %%m %%Y %%y %%b %%B %%%%)",
                      std_show(call->args[1], fshown), fmt.ptr[f]);
    }
  }
  if (!why && i < s.len) why = "there is text after the date";
  if (!why && (year < 0 || month < 0 || day < 0))
    return std_fail(call, "format %s must have a day, a month and a year",
                    std_show(call->args[1], fshown));
  if (!why && (month < 1 || month > 12)) why = "the month is not in 1..12";
  if (!why && (day < 1 || day > days_in_month(year, month))) why = "that day is not in the month";
  if (why)
    return std_fail(call, "%s is not a date in the format %s: %s", std_show(call->args[0], shown),
                    std_show(call->args[1], fshown), why);
  *out = value_date((int32_t)days_from_civil(year, month, day));
  return true;
}

/* ---- Formatting and zones -------------------------------------------------- */

bool std_format_date(StdCall *call, Value *out) {
  Str fmt;
  char shown[STD_SHOW_SIZE];
  if (!std_arg_str(call, 1, "format", &fmt)) return false;
  Value v = call->args[0];
  CivilTime c;
  if (value_is_null(v)) return *out = v, true;
  if (value_kind(v) == VAL_DATE) c = date_to_civil(v.as.days);
  else if (value_kind(v) == VAL_DATETIME) c = datetime_to_civil(value_as_datetime(v));
  else return std_fail(call, "format_date() needs a date or datetime, not %s", std_show(v, shown));
  Buf b;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  const char *why = NULL;
  bool ok;
  if (!civil_format(&c, fmt, &b, &why))
    ok = std_fail(call, "cannot format with %s: %s", std_show(call->args[1], shown),
                  why ? why : "bad format");
  else
    ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}

static bool arg_datetime(StdCall *call, uint32_t i, DateTime *out) {
  Value v = call->args[i];
  char shown[STD_SHOW_SIZE];
  if (value_kind(v) != VAL_DATETIME)
    return std_fail(call, "`value` must be a datetime, not %s", std_show(v, shown));
  *out = value_as_datetime(v);
  return true;
}

bool std_to_zone(StdCall *call, Value *out) {
  Str zone;
  DateTime dt;
  char err[160];
  if (!std_arg_str(call, 1, "zone", &zone)) return false;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!arg_datetime(call, 0, &dt)) return false;
  if (!call->tz) return std_fail(call, "no time-zone database is available");
  if (!tz_to_zone(call->tz, dt, zone, &dt, err, sizeof err)) return std_fail(call, "%s", err);
  *out = value_datetime(dt);
  return true;
}

bool std_to_utc(StdCall *call, Value *out) {
  DateTime dt;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!arg_datetime(call, 0, &dt)) return false;
  *out = value_datetime(datetime_at_offset(dt, 0));
  return true;
}

bool std_add_days(StdCall *call, Value *out) {
  int64_t days;
  char shown[STD_SHOW_SIZE];
  if (!std_arg_int(call, 1, "days", &days)) return false;
  Value v = call->args[0];
  if (value_is_null(v)) return *out = v, true;
  /* Beyond this no date in 0000..9999 can result; it keeps sums in range. */
  const int64_t span = (int64_t)DATE_MAX_DAYS - DATE_MIN_DAYS;
  if (value_kind(v) == VAL_DATE) {
    int64_t r = days > span || days < -span ? INT64_MAX : (int64_t)v.as.days + days;
    if (r < DATE_MIN_DAYS || r > DATE_MAX_DAYS)
      return std_fail(call, "%s plus %" PRId64 " days is outside the years 0000..9999",
                      std_show(v, shown), days);
    *out = value_date((int32_t)r);
    return true;
  }
  if (value_kind(v) != VAL_DATETIME)
    return std_fail(call, "add_days() needs a date or datetime, not %s", std_show(v, shown));
  DateTime dt = value_as_datetime(v);
  int64_t local = datetime_local_date(dt);
  if (days > span || days < -span || local + days < DATE_MIN_DAYS || local + days > DATE_MAX_DAYS)
    return std_fail(call, "%s plus %" PRId64 " days is outside the years 0000..9999",
                    std_show(v, shown), days);
  /* The offset is fixed, so adding whole days keeps the local time. */
  dt.secs += days * SECONDS_PER_DAY;
  *out = value_datetime(dt);
  return true;
}

bool std_days_between(StdCall *call, Value *out) {
  int32_t from, to;
  if (value_is_null(call->args[0]) || value_is_null(call->args[1]))
    return *out = value_null(), true;
  if (!std_arg_day(call, 0, "from", &from) || !std_arg_day(call, 1, "to", &to)) return false;
  *out = value_int((int64_t)to - from);
  return true;
}

bool std_now(StdCall *call, Value *out) {
  *out = call->now;
  return true;
}
