/*
** Retry policy for calls to other systems: when to try again, how fast
** to send, and when to stop sending to a connection for a while.
**
** - Backoff: exponential with full jitter, capped (docs/runtime.md,
**   "Retries"): sleep = random(0, min(cap, base * 2^attempt)). Full jitter
**   spreads the retries of many runs that failed together, so a target
**   that comes back is not hit by all of them at once.
** - Retry-After: 429 and 503 answers say when to come back, as seconds or
**   an HTTP date; that wins over the backoff (but never below it).
** - Rate limiter: a token bucket per connection, shared by every run that
**   uses it: `rate` calls per second on average, bursts up to `burst`.
** - Circuit breaker: after `threshold` consecutive transient failures a
**   connection opens: calls are refused for `pause_us`, then one trial call
**   is let through (half open); its success closes the circuit, its failure
**   opens it again. A trial that never reports (its worker died) lapses
**   after another pause, so one lost trial cannot keep a connection shut.
**   Opening is reported once, so the caller tells a person once per
**   outage, not once per run. The executor keeps a breaker per connection
**   in the store (store_circuit_allow/record, runtime/store.h), so every
**   worker and every `iex run` shares one; these functions are its logic.
**
** Nothing here reads the clock or sleeps: callers pass the time (from
** runtime/clock.h) and do the waiting, so tests drive everything with a
** fake clock.
*/
#ifndef IEX_RUNTIME_RETRY_H
#define IEX_RUNTIME_RETRY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct RetryPolicy {
  int64_t base_us;    /* first backoff ceiling; 0: 1 s */
  int64_t cap_us;     /* largest backoff; 0: 15 min */
  int64_t horizon_us; /* give up after retrying this long; 0: 24 h */
} RetryPolicy;

/* The policy of docs/runtime.md: base 1 s, cap 15 min, horizon 24 h. */
extern const RetryPolicy retry_default;

/* A small deterministic random source (xorshift64*), one per worker, so
** a test with a fixed seed sees fixed delays. A zero seed is replaced. */
typedef struct RetryRandom {
  uint64_t state;
} RetryRandom;
void retry_random_seed(RetryRandom *r, uint64_t seed);
/* A number in [0, bound] (bound >= 0). */
int64_t retry_random_upto(RetryRandom *r, int64_t bound);

/* The delay before attempt `attempt` + 1 after `attempt` failures (1 is
** the first failure): random(0, min(cap, base * 2^(attempt-1))). */
int64_t retry_backoff_us(const RetryPolicy *p, int attempt, RetryRandom *r);

/* Parse a Retry-After header value: delta seconds ("120") or an HTTP date
** ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now_us`. Returns false
** when it is neither; a date in the past gives 0. */
bool retry_after_parse(const char *value, int64_t now_us, int64_t *delay_us);

/* ---- Rate limiter ----------------------------------------------------- */

typedef struct RateLimiter {
  int64_t interval_us; /* one token per interval (1e6 / rate) */
  int64_t burst;       /* tokens the bucket holds at most */
  int64_t tokens_x;    /* tokens * interval_us, to stay in integers */
  int64_t last_us;     /* when tokens were last added; 0: never */
} RateLimiter;

/* `per_second` calls per second on average (>= 1), bursts of `burst`. */
void rate_init(RateLimiter *rl, int64_t per_second, int64_t burst);
/* Take a token at `now_us`: returns 0 when one was taken, otherwise how
** long to wait before asking again (nothing is taken). */
int64_t rate_take(RateLimiter *rl, int64_t now_us);

/* ---- Circuit breaker -------------------------------------------------- */

typedef enum CircuitState {
  CIRCUIT_CLOSED,    /* calls go through */
  CIRCUIT_OPEN,      /* calls are refused until the pause is over */
  CIRCUIT_HALF_OPEN  /* one trial call is out; others are refused */
} CircuitState;

typedef struct CircuitBreaker {
  int threshold;      /* consecutive failures that open it; 0: 5 */
  int64_t pause_us;   /* how long it stays open; 0: 60 s */
  CircuitState state;
  int failures;       /* consecutive transient failures */
  int64_t opened_at_us;
  int64_t trial_until_us; /* half open: when the trial call's claim lapses */
} CircuitBreaker;

/* May a call go out at `now_us`? An open circuit whose pause is over lets
** exactly one trial call through (and turns half open); a half-open one
** lets the next through only when that trial's claim has lapsed (a pause
** after it went out, without a result). */
bool circuit_allow(CircuitBreaker *cb, int64_t now_us);
/* When an open circuit lets the next call through (half open: when the
** trial's claim lapses); 0 when closed. */
int64_t circuit_retry_at(const CircuitBreaker *cb);
/* Record a call's result: `ok` is false for a transient failure (network,
** 429, 5xx); a refusal of the data (4xx) is no sign of an outage and is
** recorded as ok. Returns true when this call opened the circuit from
** closed: the moment to tell a person. */
bool circuit_record(CircuitBreaker *cb, bool ok, int64_t now_us);

#endif /* IEX_RUNTIME_RETRY_H */
