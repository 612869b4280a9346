/*
** Clocks (see clock.h) and the civil-calendar arithmetic for UTC
** timestamps. The day <-> date conversions are Howard Hinnant's
** days_from_civil / civil_from_days, exact for the proleptic Gregorian
** calendar and independent of the C library's time zone state.
*/
#include "runtime/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_PER_SEC INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)

void clock_sleep_us(int64_t us) {
  if (us <= 0) return;
  struct timespec ts = {(time_t)(us / US_PER_SEC), (long)(us % US_PER_SEC) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int64_t system_now_us(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

const Clock clock_system = {system_now_us, NULL};

int64_t clock_now_us(const Clock *c) {
  if (!c) c = &clock_system;
  return c->now_us(c->ctx);
}

static int64_t fake_now_us(void *ctx) { return ((ClockFake *)ctx)->now_us; }

void clock_fake_init(ClockFake *f, int64_t start_us) {
  f->clock.now_us = fake_now_us;
  f->clock.ctx = f;
  f->now_us = start_us;
}

void clock_fake_advance(ClockFake *f, int64_t delta_us) {
  f->now_us += delta_us;
}

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                  /* [0, 399] */
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* The civil date of `z` days since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t clock_utc_us(int year, int month, int day, int hour, int min, int sec) {
  int64_t y = year + (month - 1) / 12;
  int m = (month - 1) % 12 + 1;
  if (m <= 0) {
    m += 12;
    y--;
  }
  int64_t days = days_from_civil(y, m, day);
  return ((days * SEC_PER_DAY) + hour * 3600 + min * 60 + sec) * US_PER_SEC;
}

/* Floor division, so times before 1970 split into the right day. */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void clock_utc_month(int64_t t_us, int *year, int *month) {
  int64_t y;
  int d;
  civil_from_days(floor_div(t_us, US_PER_SEC * SEC_PER_DAY), &y, month, &d);
  *year = (int)y;
}

char *clock_format_utc(int64_t t_us, char *out, size_t out_size) {
  int64_t sec = floor_div(t_us, US_PER_SEC);
  int64_t us = t_us - sec * US_PER_SEC;
  int64_t days = floor_div(sec, SEC_PER_DAY);
  int64_t sod = sec - days * SEC_PER_DAY;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(out, out_size, "%04lld-%02d-%02dT%02d:%02d:%02d.%06lldZ",
           (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
           (int)(sod % 60), (long long)us);
  return out;
}

char *clock_format_utc_seconds(int64_t t_us, char *out, size_t out_size) {
  int64_t sec = floor_div(t_us, US_PER_SEC);
  if (sec * US_PER_SEC < t_us) sec++;
  clock_format_utc(sec * US_PER_SEC, out, out_size);
  char *dot = strchr(out, '.');
  if (dot) memcpy(dot, "Z", 2);
  return out;
}
