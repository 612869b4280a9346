/*
** Backoff, Retry-After, the token bucket and the circuit breaker
** (runtime/retry.h). All in integers of microseconds.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/retry.h"

#define SEC INT64_C(1000000)

const RetryPolicy retry_default = {
    .base_us = 1 * SEC, .cap_us = 15 * 60 * SEC, .horizon_us = 24 * 3600 * SEC};

void retry_random_seed(RetryRandom *r, uint64_t seed) {
  r->state = seed ? seed : UINT64_C(0x9E3779B97F4A7C15);
}

static uint64_t next_random(RetryRandom *r) {
  uint64_t x = r->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->state = x;
  return x * UINT64_C(2685821657736338717);
}

int64_t retry_random_upto(RetryRandom *r, int64_t bound) {
  if (bound <= 0) return 0;
  return (int64_t)(next_random(r) % ((uint64_t)bound + 1));
}

int64_t retry_backoff_us(const RetryPolicy *p, int attempt, RetryRandom *r) {
  int64_t base = p->base_us > 0 ? p->base_us : retry_default.base_us;
  int64_t cap = p->cap_us > 0 ? p->cap_us : retry_default.cap_us;
  int64_t ceiling = base;
  /* Double without overflowing: stop as soon as the cap is reached. */
  for (int i = 1; i < attempt && ceiling < cap; i++)
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  if (ceiling > cap) ceiling = cap;
  return retry_random_upto(r, ceiling);
}

bool retry_after_parse(const char *value, int64_t now_us, int64_t *delay_us) {
  if (!value) return false;
  while (*value == ' ') value++;
  if (isdigit((unsigned char)*value)) {
    char *end;
    long long secs = strtoll(value, &end, 10);
    while (*end == ' ') end++;
    if (*end != '\0' || secs < 0) return false;
    /* A day is more than any sane answer; keep the arithmetic bounded. */
    if (secs > 86400) secs = 86400;
    *delay_us = (int64_t)secs * SEC;
    return true;
  }
  /* IMF-fixdate, the only form RFC 9110 lets senders produce. */
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end) return false;
  while (*end == ' ') end++;
  if (*end != '\0') return false;
  int64_t at = (int64_t)timegm(&tm) * SEC;
  *delay_us = at > now_us ? at - now_us : 0;
  return true;
}

/* ---- Rate limiter ----------------------------------------------------- */

void rate_init(RateLimiter *rl, int64_t per_second, int64_t burst) {
  if (per_second < 1) per_second = 1;
  if (burst < 1) burst = 1;
  rl->interval_us = SEC / per_second;
  if (rl->interval_us < 1) rl->interval_us = 1;
  rl->burst = burst;
  rl->tokens_x = burst * rl->interval_us; /* starts full */
  rl->last_us = 0;
}

int64_t rate_take(RateLimiter *rl, int64_t now_us) {
  int64_t full = rl->burst * rl->interval_us;
  if (rl->last_us != 0 && now_us > rl->last_us) {
    int64_t add = now_us - rl->last_us;
    rl->tokens_x = add >= full - rl->tokens_x ? full : rl->tokens_x + add;
  }
  if (rl->last_us == 0 || now_us > rl->last_us) rl->last_us = now_us;
  if (rl->tokens_x >= rl->interval_us) {
    rl->tokens_x -= rl->interval_us;
    return 0;
  }
  return rl->interval_us - rl->tokens_x;
}

/* ---- Circuit breaker -------------------------------------------------- */

static int threshold_of(const CircuitBreaker *cb) {
  return cb->threshold > 0 ? cb->threshold : 5;
}

static int64_t pause_of(const CircuitBreaker *cb) {
  return cb->pause_us > 0 ? cb->pause_us : 60 * SEC;
}

bool circuit_allow(CircuitBreaker *cb, int64_t now_us) {
  switch (cb->state) {
  case CIRCUIT_CLOSED:
    return true;
  case CIRCUIT_OPEN:
    if (now_us < cb->opened_at_us + pause_of(cb)) return false;
    cb->state = CIRCUIT_HALF_OPEN; /* this caller makes the trial call */
    cb->trial_until_us = now_us + pause_of(cb);
    return true;
  case CIRCUIT_HALF_OPEN:
    /* The trial's worker died, or its call ended without a verdict: the
    ** claim lapses, or the connection would stay shut for good. */
    if (now_us < cb->trial_until_us) return false;
    cb->trial_until_us = now_us + pause_of(cb);
    return true;
  }
  return false;
}

int64_t circuit_retry_at(const CircuitBreaker *cb) {
  switch (cb->state) {
  case CIRCUIT_CLOSED:
    return 0;
  case CIRCUIT_OPEN:
    return cb->opened_at_us + pause_of(cb);
  case CIRCUIT_HALF_OPEN:
    return cb->trial_until_us;
  }
  return 0;
}

bool circuit_record(CircuitBreaker *cb, bool ok, int64_t now_us) {
  if (ok) {
    cb->state = CIRCUIT_CLOSED;
    cb->failures = 0;
    cb->trial_until_us = 0;
    return false;
  }
  cb->failures++;
  if (cb->state == CIRCUIT_HALF_OPEN) { /* the trial failed: pause again */
    cb->state = CIRCUIT_OPEN;
    cb->opened_at_us = now_us;
    cb->trial_until_us = 0;
    return false;
  }
  if (cb->state == CIRCUIT_CLOSED && cb->failures >= threshold_of(cb)) {
    cb->state = CIRCUIT_OPEN;
    cb->opened_at_us = now_us;
    return true;
  }
  return false;
}
