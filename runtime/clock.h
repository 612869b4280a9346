/*
** The time source: every timestamp iex records comes from a Clock.
**
** Time is UTC microseconds since the Unix epoch in an int64_t ("_us"
** names): exact to compare and subtract (leases, backoff, month bounds),
** free of time zones and leap-second smearing questions. Text is produced
** only when a person reads it (clock_format_utc).
**
** A Clock is a function pointer and its context, so tests swap in a fake
** one (ClockFake) and move time by hand: leases expire, months end.
*/
#ifndef IEX_RUNTIME_CLOCK_H
#define IEX_RUNTIME_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct Clock {
  int64_t (*now_us)(void *ctx); /* current UTC time in microseconds */
  void *ctx; /* passed to now_us; owned by whoever made the Clock */
} Clock;

/* The system clock (CLOCK_REALTIME). */
extern const Clock clock_system;

/* The time now according to `c` (NULL: the system clock). */
int64_t clock_now_us(const Clock *c);

/* Sleep `us` microseconds of real time (through signals; 0 or less: not
** at all). Who waits on a Clock that is fake must move it instead. */
void clock_sleep_us(int64_t us);

/* A fake clock for tests: returns `now_us` until changed. */
typedef struct ClockFake {
  Clock clock;    /* pass &fake.clock wherever a Clock is wanted */
  int64_t now_us; /* the time it reports */
} ClockFake;

/* Make `f` report `start_us`. */
void clock_fake_init(ClockFake *f, int64_t start_us);
/* Move `f` forward (or back) by `delta_us`. */
void clock_fake_advance(ClockFake *f, int64_t delta_us);

/* Microseconds of the UTC instant year-month-day hour:min:sec. Fields are
** not range-checked beyond what the arithmetic needs; month 13 is January
** of the next year, so month bounds are clock_utc_us(y, m + 1, 1, 0, 0, 0). */
int64_t clock_utc_us(int year, int month, int day, int hour, int min, int sec);

/* Write `t_us` as ISO-8601 UTC, "2024-05-01T12:00:00.123456Z", into `out`
** (at least CLOCK_TEXT_SIZE bytes). Returns `out`. */
#define CLOCK_TEXT_SIZE 32
char *clock_format_utc(int64_t t_us, char *out, size_t out_size);

/* The same to the whole second, rounded up, "2024-05-01T12:00:01Z": for
** telling people until when something waits (never earlier than it). */
char *clock_format_utc_seconds(int64_t t_us, char *out, size_t out_size);

/* Split `t_us` into its UTC year and month (1-12). */
void clock_utc_month(int64_t t_us, int *year, int *month);

#endif /* IEX_RUNTIME_CLOCK_H */
