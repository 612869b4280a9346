/*
** Dates and date-times (docs/language.md, "Dates and times").
**
** A date is a count of days since 1970-01-01 (negative before), an
** int32_t. A DateTime is an instant, seconds and microseconds since
** 1970-01-01T00:00:00Z, together with the UTC offset the source wrote it
** with: "2024-03-01T10:15:00+01:00" stays "10:15 at +01:00" when printed,
** and compares equal to "09:15:00Z". Both fit inline in a runtime Value.
**
** The calendar is the proleptic Gregorian one, computed with Howard
** Hinnant's days_from_civil/civil_from_days (exact for every int32 year).
** Text is read and written in ISO-8601 / RFC 3339 form; years 0000..9999.
** Time zones by name ("Europe/Copenhagen") are in common/tz.h.
*/
#ifndef IEX_COMMON_DATETIME_H
#define IEX_COMMON_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/str.h"

#define SECONDS_PER_DAY 86400

/* DateTime.flags: the text had no UTC offset ("2017-03-22T16:28:02", as
** WooCommerce sends it). The value is read as UTC; the flag lets callers
** warn and lets the encoder write the value back the way it came. */
#define DATETIME_NO_OFFSET 0x01

typedef struct DateTime {
  int64_t secs;       /* seconds since 1970-01-01T00:00:00Z; the instant */
  int32_t usec;       /* microseconds within the second, 0..999999 */
  int16_t offset_min; /* UTC offset to display in, minutes east, -1439..1439 */
  uint8_t flags;      /* DATETIME_NO_OFFSET or 0 */
} DateTime;

/* A date-time taken apart at its own offset, for formatting. */
typedef struct CivilTime {
  int64_t year;             /* proleptic Gregorian; 0 is 1 BC */
  int month;                /* 1..12 */
  int day;                  /* 1..31 */
  int hour, minute, second; /* 0..23, 0..59, 0..59 */
  int usec;                 /* 0..999999 */
  int weekday;              /* 0 = Sunday .. 6 = Saturday */
  int yday;                 /* day of the year, 1..366 */
  int offset_min;           /* the offset the fields are at */
  bool has_time;            /* false for a date: time fields are 0 and unused */
} CivilTime;

/* ---- Calendar ---------------------------------------------------------- */

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31; not
** checked: 2024-02-30 is 2024-03-01). */
int64_t days_from_civil(int64_t y, int m, int d);
/* The civil date of day `days` since 1970-01-01. */
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);
bool is_leap_year(int64_t y);
/* Days in month `m` (1..12) of year `y`. */
int days_in_month(int64_t y, int m);
/* 0 = Sunday .. 6 = Saturday. */
int weekday_from_days(int64_t days);

/* ---- Dates ----------------------------------------------------------- */

/* The dates ISO text can hold, 0000-01-01 .. 9999-12-31, as days. Date
** arithmetic (add_days) should fail outside them rather than make a date
** that cannot be written back. */
#define DATE_MIN_DAYS (-719528)
#define DATE_MAX_DAYS 2932896

/* Parse "YYYY-MM-DD" (exactly that: 10 characters, a real calendar day).
** On success sets `*days` and returns true; otherwise returns false with
** a static reason in `*why` ("month 13 is not in 1..12"). `why` may be
** NULL. */
bool date_parse(Str text, int32_t *days, const char **why);
/* Write `days` as "YYYY-MM-DD" into `out` (NUL-terminated); returns the
** length. Years outside 0..9999 get a sign or more digits. */
#define DATE_TEXT_SIZE 24
size_t date_format_iso(int32_t days, char out[DATE_TEXT_SIZE]);

/* ---- Date-times ------------------------------------------------------ */

/* Parse an ISO-8601 / RFC 3339 date-time:
**
**   YYYY-MM-DD (T|t|space) hh:mm[:ss[(.|,)fraction]] [Z|z|+hh:mm|-hh:mm|+hhmm|-hhmm|+hh|-hh]
**
** Fractions keep microseconds; further digits are cut off. Without an
** offset the time is read as UTC and DATETIME_NO_OFFSET is set. Leap
** seconds (:60) and 24:00 are refused. On failure returns false with a
** static reason in `*why` (may be NULL). */
bool datetime_parse(Str text, DateTime *out, const char **why);
/* Write `dt` as ISO-8601 at its own offset: "2024-03-01T10:15:00+01:00",
** "Z" for offset 0, no offset when DATETIME_NO_OFFSET is set, and ".123"
** or ".123456" when there are microseconds. Returns the length. */
#define DATETIME_TEXT_SIZE 48
size_t datetime_format_iso(DateTime dt, char out[DATETIME_TEXT_SIZE]);

/* Compare two instants, ignoring offsets: -1, 0 or 1. */
int datetime_cmp(DateTime a, DateTime b);
/* The calendar date at the value's own offset (the shop's local date). */
int32_t datetime_local_date(DateTime dt);
/* The same instant shown at `offset_min` (clears DATETIME_NO_OFFSET).
** `offset_min` must be within -1439..1439 (asserted). */
DateTime datetime_at_offset(DateTime dt, int offset_min);

/* Take `dt` apart at its own offset / take date `days` apart. */
CivilTime datetime_to_civil(DateTime dt);
CivilTime date_to_civil(int32_t days);

/* Append `c` formatted with strftime-like codes to `out`:
**   %Y year  %y two-digit year  %m month  %d day  %j day of the year
**   %H hour  %M minute  %S second  %z offset (+hhmm)
**   %b Jan  %B January  %a Mon  %A Monday  (always English)
**   %F %Y-%m-%d  %T %H:%M:%S  %% a percent sign
** Returns false with a static reason in `*why` for an unknown code, a
** time code applied to a date, or when `out` is full. */
bool civil_format(const CivilTime *c, Str format, Buf *out, const char **why);

#endif /* IEX_COMMON_DATETIME_H */
