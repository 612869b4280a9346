/*
** Exact decimal arithmetic (see decimal.h).
**
** Coefficients are below 10^18, so every intermediate result of +, - and *
** and every scale alignment fits in a 128-bit integer (below 10^37); the
** code computes exactly in __int128 and then checks once whether the
** result fits, instead of checking each step. Division is long division
** one digit at a time, which gives the exact remainder needed to round.
*/
#include "common/decimal.h"

#include "common/util.h"

#include <assert.h>
#include <string.h>

__extension__ typedef __int128 i128;

static const int64_t POW10[19] = {
    INT64_C(1),
    INT64_C(10),
    INT64_C(100),
    INT64_C(1000),
    INT64_C(10000),
    INT64_C(100000),
    INT64_C(1000000),
    INT64_C(10000000),
    INT64_C(100000000),
    INT64_C(1000000000),
    INT64_C(10000000000),
    INT64_C(100000000000),
    INT64_C(1000000000000),
    INT64_C(10000000000000),
    INT64_C(100000000000000),
    INT64_C(1000000000000000),
    INT64_C(10000000000000000),
    INT64_C(100000000000000000),
    INT64_C(1000000000000000000),
};

/* 10^k for 0 <= k <= 36, the largest power an exact product can carry. */
static i128 pow10_wide(int k) {
  assert(k >= 0 && k <= 36);
  return k <= 18 ? (i128)POW10[k] : (i128)POW10[18] * POW10[k - 18];
}

static i128 abs_wide(i128 v) { return v < 0 ? -v : v; }

static const char *const ROUNDING_NAMES[ROUNDING__COUNT] = {
    [ROUND_HALF_UP] = "half_up",
    [ROUND_HALF_EVEN] = "half_even",
    [ROUND_HALF_AWAY_FROM_ZERO] = "half_away_from_zero",
    [ROUND_HALF_DOWN] = "half_down",
    [ROUND_DOWN] = "down",
};

const char *rounding_name(Rounding mode) {
  return (unsigned)mode < ROUNDING__COUNT ? ROUNDING_NAMES[mode] : "?";
}

bool rounding_from_name(Str name, Rounding *out) {
  for (int i = 0; i < ROUNDING__COUNT; i++) {
    if (str_eq_cstr(name, ROUNDING_NAMES[i])) {
      *out = (Rounding)i;
      return true;
    }
  }
  return false;
}

const char *decimal_status_message(DecimalStatus status) {
  switch (status) {
    case DECIMAL_OK: return "ok";
    case DECIMAL_OVERFLOW: return "result has more than 18 integer digits";
    case DECIMAL_INEXACT:
      return "result needs more than 18 significant digits or decimals";
    case DECIMAL_DIV_BY_ZERO: return "division by zero";
    case DECIMAL_SYNTAX: return "not a number";
    case DECIMAL_RANGE: return "argument out of range";
  }
  return "unknown decimal status";
}

/* ---- Rounding ---------------------------------------------------------- */

/* Whether a magnitude whose dropped part compares to one half as
** `half_cmp` (<0 below, 0 exactly, >0 above; the dropped part is not
** zero) moves away from zero under `mode`. `kept_is_odd` is the parity of
** the kept digits (for half_even); `negative` is the sign of the value,
** which decides where half_up and half_down send a tie. */
static bool rounds_away(int half_cmp, bool kept_is_odd, bool negative, Rounding mode) {
  if (mode == ROUND_DOWN) return false;
  if (half_cmp != 0) return half_cmp > 0;
  switch (mode) {
    case ROUND_HALF_UP: return !negative;
    case ROUND_HALF_DOWN: return negative;
    case ROUND_HALF_AWAY_FROM_ZERO: return true;
    case ROUND_HALF_EVEN: return kept_is_odd;
    case ROUND_DOWN: return false;
  }
  return false;
}

/* n / d rounded to an integer with `mode`, for n >= 0 and d > 0 small
** enough that 2 * d fits (d <= 10^36 here). */
static i128 round_quotient(i128 n, i128 d, bool negative, Rounding mode) {
  i128 q = n / d, r = n % d;
  if (r != 0) {
    i128 twice = 2 * r;
    int half_cmp = (twice > d) - (twice < d);
    if (rounds_away(half_cmp, (q & 1) != 0, negative, mode)) q++;
  }
  return q;
}

/* ---- Fitting exact results ---------------------------------------------- */

/* Store the exact value c / 10^scale (scale 0..36) in `*out` if it fits,
** dropping trailing zeros only as far as needed to make it fit. */
static DecimalStatus fit_exact(i128 c, int scale, Decimal *out) {
  while ((scale > DECIMAL_MAX_SCALE || abs_wide(c) > DECIMAL_MAX_COEF) && scale > 0 &&
         c % 10 == 0) {
    c /= 10;
    scale--;
  }
  if (scale <= DECIMAL_MAX_SCALE && abs_wide(c) <= DECIMAL_MAX_COEF) {
    *out = decimal_make((int64_t)c, scale);
    return DECIMAL_OK;
  }
  /* Too long: the caller's message depends on whether the integer part
  ** alone is too large or only the digits after the point are too many. */
  return abs_wide(c) / pow10_wide(scale) > DECIMAL_MAX_COEF ? DECIMAL_OVERFLOW
                                                            : DECIMAL_INEXACT;
}

/* ---- Arithmetic ------------------------------------------------------- */

DecimalStatus decimal_add(Decimal a, Decimal b, Decimal *out) {
  int scale = IEX_MAX(a.scale, b.scale);
  i128 c = (i128)a.coef * POW10[scale - a.scale] + (i128)b.coef * POW10[scale - b.scale];
  return fit_exact(c, scale, out);
}

DecimalStatus decimal_sub(Decimal a, Decimal b, Decimal *out) {
  return decimal_add(a, decimal_neg(b), out);
}

DecimalStatus decimal_mul(Decimal a, Decimal b, Decimal *out) {
  return fit_exact((i128)a.coef * b.coef, a.scale + b.scale, out);
}

DecimalStatus decimal_mul_rounded(Decimal a, Decimal b, Rounding mode, Decimal *out) {
  i128 c = (i128)a.coef * b.coef;
  int scale = a.scale + b.scale;
  DecimalStatus st = fit_exact(c, scale, out);
  if (st != DECIMAL_INEXACT) return st;
  /* Drop the fewest digits that make the rounded magnitude fit. Rounding
  ** can carry into a new digit (999..9.7 -> 1000..0), hence the loop. */
  bool negative = c < 0;
  i128 mag = abs_wide(c);
  for (int drop = scale > DECIMAL_MAX_SCALE ? scale - DECIMAL_MAX_SCALE : 1;
       drop <= scale; drop++) {
    i128 q = round_quotient(mag, pow10_wide(drop), negative, mode);
    if (q <= DECIMAL_MAX_COEF) {
      *out = decimal_make(negative ? -(int64_t)q : (int64_t)q, scale - drop);
      return DECIMAL_OK;
    }
  }
  return DECIMAL_OVERFLOW;
}

DecimalStatus decimal_div(Decimal a, Decimal b, Rounding mode, Decimal *out) {
  if (b.coef == 0) return DECIMAL_DIV_BY_ZERO;
  bool negative = (a.coef < 0) != (b.coef < 0);
  uint64_t n = (uint64_t)(a.coef < 0 ? -a.coef : a.coef);
  uint64_t d = (uint64_t)(b.coef < 0 ? -b.coef : b.coef);
  /* a / b = (n / d) * 10^e. After t digits of long division q is
  ** floor(n * 10^t / d), the coefficient of the quotient at scale t - e,
  ** and r the remainder. Scale 0 is t = e; scale 18 is t = 18 + e; the
  ** preferred scale max(0, a.scale - b.scale) is t = max(e, 0). */
  int e = b.scale - a.scale;
  int t_min = e > 0 ? e : 0; /* the integer digits, then the preferred scale */
  int t_max = DECIMAL_MAX_SCALE + e;
  uint64_t q = n / d, r = n % d;
  int t = 0;
  /* r < d < 10^18, so r * 10 < 10^19 fits in 64 bits. */
  while (t < t_max && (t < t_min || r != 0)) {
    uint64_t r10 = r * 10;
    uint64_t digit = r10 / d;
    if (q > (uint64_t)(DECIMAL_MAX_COEF - (int64_t)digit) / 10) break; /* would not fit */
    q = q * 10 + digit;
    r = r10 % d;
    t++;
  }
  if (t < e) return DECIMAL_OVERFLOW; /* stopped before the point */
  if (r != 0) {
    int half_cmp = (2 * r > d) - (2 * r < d);
    if (rounds_away(half_cmp, (q & 1) != 0, negative, mode)) q++;
    /* Rounding never carries q to 10^18 (unlike in a product): that needs
    ** 10^18 * d - n * 10^t = d - r in (0, d/2], but the left side is a
    ** multiple of 10^t, which forces d >= 2 * 10^t and then n > 10^18. */
    assert(q <= (uint64_t)DECIMAL_MAX_COEF);
  }
  *out = decimal_make(negative ? -(int64_t)q : (int64_t)q, t - e);
  return DECIMAL_OK;
}

DecimalStatus decimal_round(Decimal a, int places, Rounding mode, Decimal *out) {
  if (places < 0 || places > DECIMAL_MAX_SCALE) return DECIMAL_RANGE;
  if (places < a.scale) {
    bool negative = a.coef < 0;
    i128 q = round_quotient(abs_wide(a.coef), POW10[a.scale - places], negative, mode);
    *out = decimal_make(negative ? -(int64_t)q : (int64_t)q, places);
  } else if (places > a.scale) {
    int64_t mul = POW10[places - a.scale];
    int64_t mag = a.coef < 0 ? -a.coef : a.coef;
    *out = mag <= DECIMAL_MAX_COEF / mul ? decimal_make(a.coef * mul, places) : a;
  } else {
    *out = a;
  }
  return DECIMAL_OK;
}

Decimal decimal_reduce(Decimal a) {
  while (a.scale > 0 && a.coef % 10 == 0) {
    a.coef /= 10;
    a.scale--;
  }
  return a;
}

int decimal_cmp(Decimal a, Decimal b) {
  int scale = IEX_MAX(a.scale, b.scale);
  i128 x = (i128)a.coef * POW10[scale - a.scale];
  i128 y = (i128)b.coef * POW10[scale - b.scale];
  return (x > y) - (x < y);
}

DecimalStatus decimal_from_int(int64_t v, Decimal *out) {
  if (v > DECIMAL_MAX_COEF || v < -DECIMAL_MAX_COEF) return DECIMAL_OVERFLOW;
  *out = decimal_make(v, 0);
  return DECIMAL_OK;
}

bool decimal_is_integer(Decimal a) { return a.coef % POW10[a.scale] == 0; }

int64_t decimal_to_int(Decimal a, Rounding mode) {
  bool negative = a.coef < 0;
  i128 q = round_quotient(abs_wide(a.coef), POW10[a.scale], negative, mode);
  return negative ? -(int64_t)q : (int64_t)q;
}

/* ---- Text ---------------------------------------------------------------- */

DecimalStatus decimal_parse(Str text, Decimal *out, const char **why) {
  const char *p = text.ptr, *end = text.ptr + text.len;
  const char *reason = NULL;
  bool negative = false;
  uint64_t c = 0;      /* significant digits so far, while they fit */
  int64_t n_sig = 0;   /* significant digits: first non-zero to last non-zero */
  int64_t n_zeros = 0; /* zeros after the last non-zero digit, not yet in c */
  int64_t n_frac = 0;  /* digits after the point */
  int64_t exp = 0;     /* the exponent, saturated at +-10^9 */
  bool too_long = false;

#define IS_DIGIT(ch) ((ch) >= '0' && (ch) <= '9')
  /* Fold one digit into (c, n_sig, n_zeros). Zeros are held back so that
  ** trailing zeros, which carry no value, never count against the 18
  ** digits: "1.50000000000000000000" is exactly 1.5. */
#define TAKE_DIGIT(ch)                                                       \
  do {                                                                       \
    int dig_ = (ch) - '0';                                                   \
    if (dig_ == 0) {                                                         \
      if (n_sig > 0) n_zeros++;                                              \
    } else {                                                                 \
      if (n_sig + n_zeros + 1 > DECIMAL_MAX_DIGITS) too_long = true;         \
      if (!too_long) c = c * (uint64_t)POW10[n_zeros] * 10 + (uint64_t)dig_; \
      n_sig += n_zeros + 1;                                                  \
      n_zeros = 0;                                                           \
    }                                                                        \
  } while (0)

#define REQUIRE(cond, msg) \
  do {                     \
    if (!(cond)) {         \
      reason = (msg);      \
      goto syntax;         \
    }                      \
  } while (0)
  REQUIRE(p < end, "empty text");
  if (*p == '-') {
    negative = true;
    p++;
  }
  REQUIRE(p < end && IS_DIGIT(*p), "expected a digit");
  if (*p == '0') {
    p++;
    REQUIRE(p == end || !IS_DIGIT(*p), "leading zeros are not allowed");
  } else {
    while (p < end && IS_DIGIT(*p)) {
      TAKE_DIGIT(*p);
      p++;
    }
  }
  if (p < end && *p == '.') {
    p++;
    REQUIRE(p < end && IS_DIGIT(*p), "expected a digit after `.`");
    while (p < end && IS_DIGIT(*p)) {
      TAKE_DIGIT(*p);
      n_frac++;
      p++;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    bool exp_negative = false;
    p++;
    if (p < end && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
    REQUIRE(p < end && IS_DIGIT(*p), "expected a digit in the exponent");
    while (p < end && IS_DIGIT(*p)) {
      if (exp < 1000000000) exp = exp * 10 + (*p - '0');
      p++;
    }
    if (exp_negative) exp = -exp;
  }
  REQUIRE(p == end, "unexpected character after the number");
#undef REQUIRE
#undef TAKE_DIGIT
#undef IS_DIGIT

  /* The value is c * 10^power; the text asked for `wanted` decimals. */
  int64_t power = n_zeros + exp - n_frac;
  int64_t wanted = n_frac - exp;
  if (n_sig == 0) {
    *out = decimal_make(0, (int)(wanted < 0                   ? 0
                                 : wanted > DECIMAL_MAX_SCALE ? DECIMAL_MAX_SCALE
                                                              : wanted));
    return DECIMAL_OK;
  }
  if (n_sig + power > DECIMAL_MAX_DIGITS) return DECIMAL_OVERFLOW;
  if (too_long || -power > DECIMAL_MAX_SCALE) return DECIMAL_INEXACT;
  /* Keep the written scale where it fits, never less than exactness needs. */
  int64_t need = power < 0 ? -power : 0;
  int64_t scale = wanted;
  if (scale > DECIMAL_MAX_SCALE) scale = DECIMAL_MAX_SCALE;
  if (scale > DECIMAL_MAX_DIGITS - n_sig - power)
    scale = DECIMAL_MAX_DIGITS - n_sig - power;
  if (scale < need) scale = need;
  int64_t coef = (int64_t)c * POW10[power + scale];
  *out = decimal_make(negative ? -coef : coef, (int)scale);
  return DECIMAL_OK;

syntax:
  if (why) *why = reason;
  return DECIMAL_SYNTAX;
}

/* Write the digits of `v` and return how many (1..20). */
static int write_digits(uint64_t v, char *out) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

size_t decimal_format(Decimal d, char out[DECIMAL_TEXT_SIZE]) {
  assert(d.scale >= 0 && d.scale <= DECIMAL_MAX_SCALE);
  char digits[20];
  int n = write_digits((uint64_t)(d.coef < 0 ? -d.coef : d.coef), digits);
  size_t len = 0;
  if (d.coef < 0) out[len++] = '-';
  if (n > d.scale) {
    memcpy(out + len, digits, (size_t)(n - d.scale));
    len += (size_t)(n - d.scale);
  } else {
    out[len++] = '0';
  }
  if (d.scale > 0) {
    out[len++] = '.';
    for (int i = n; i < d.scale; i++) out[len++] = '0';
    int frac = n < d.scale ? n : d.scale;
    memcpy(out + len, digits + n - frac, (size_t)frac);
    len += (size_t)frac;
  }
  out[len] = '\0';
  return len;
}

size_t decimal_format_shortest(Decimal d, char out[DECIMAL_TEXT_SIZE]) {
  return decimal_format(decimal_reduce(d), out);
}

size_t decimal_format_fixed(Decimal d, int places, Rounding mode,
                            char out[DECIMAL_TEXT_SIZE]) {
  if (places < 0 || places > DECIMAL_MAX_SCALE) {
    out[0] = '\0';
    return 0;
  }
  if (places < d.scale) decimal_round(d, places, mode, &d);
  size_t len = decimal_format(d, out);
  /* Pad in the text rather than in the coefficient, which could overflow. */
  if (places > d.scale) {
    if (d.scale == 0) out[len++] = '.';
    for (int i = d.scale; i < places; i++) out[len++] = '0';
    out[len] = '\0';
  }
  return len;
}
