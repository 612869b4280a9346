/*
** Decimal: exact decimal numbers, the representation of every amount iex
** reads, computes and writes (docs/language.md, "Money and decimals").
**
** A Decimal is the value coef / 10^scale, held inline in 16 bytes so that a
** runtime Value can carry one without allocating. Invariants:
** - |coef| <= DECIMAL_MAX_COEF (10^18 - 1): at most 18 significant digits;
** - 0 <= scale <= DECIMAL_MAX_SCALE (18);
** - the scale is part of the representation, not of the value: 1.5 and
**   1.50 are equal (decimal_cmp) but print differently (decimal_format).
**
** Nothing here loses a digit silently. +, - and * are exact or return a
** status; / is exact when the quotient fits, otherwise it is rounded with
** a rounding rule the caller names. Every function that can fail returns a
** DecimalStatus and writes its result through an out-parameter only on
** DECIMAL_OK. No binary floating point is used anywhere in this module.
*/
#ifndef IEX_COMMON_DECIMAL_H
#define IEX_COMMON_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"

#define DECIMAL_MAX_DIGITS 18
#define DECIMAL_MAX_SCALE  18
#define DECIMAL_MAX_COEF   INT64_C(999999999999999999)

/* Bytes a buffer for decimal_format() or decimal_format_fixed() needs,
** including the NUL: sign, 18 integer digits, point, 18 decimals. */
#define DECIMAL_TEXT_SIZE 48

typedef struct Decimal {
  int64_t coef;  /* the digits, signed; |coef| <= DECIMAL_MAX_COEF */
  int32_t scale; /* digits after the decimal point, 0..DECIMAL_MAX_SCALE */
} Decimal;

typedef enum DecimalStatus {
  DECIMAL_OK = 0,
  DECIMAL_OVERFLOW,    /* the integer part needs more than 18 digits */
  DECIMAL_INEXACT,     /* the exact result needs more than 18 significant
                        ** digits or more than 18 decimals */
  DECIMAL_DIV_BY_ZERO, /* division by zero */
  DECIMAL_SYNTAX,      /* text is not a number (see decimal_parse) */
  DECIMAL_RANGE        /* an argument is out of range (places > 18) */
} DecimalStatus;

/* The rounding rules of docs/language.md, "Rounding". The names say where
** a tie (an exact half) goes; other values go to the nearest, except under
** ROUND_DOWN, which cuts towards zero. */
typedef enum Rounding {
  ROUND_HALF_UP,             /* ties towards +infinity: 2.5->3, -2.5->-2 */
  ROUND_HALF_EVEN,           /* ties to the even digit: 2.5->2, 3.5->4 */
  ROUND_HALF_AWAY_FROM_ZERO, /* ties away from zero: 2.5->3, -2.5->-3 */
  ROUND_HALF_DOWN,           /* ties towards -infinity: 2.5->2, -2.5->-3 */
  ROUND_DOWN                 /* towards zero: 2.9->2, -2.9->-2 */
} Rounding;
#define ROUNDING__COUNT 5

/* The rule's name as the language spells it ("half_up"); "?" if invalid. */
const char *rounding_name(Rounding mode);
/* Look a rule up by its language name. Returns false if `name` is none. */
bool rounding_from_name(Str name, Rounding *out);

/* A short lower-case description of `status` for messages
** ("result has more than 18 integer digits"). Never NULL. */
const char *decimal_status_message(DecimalStatus status);

/* Build a Decimal from parts the caller knows to be in range (asserted). */
static inline Decimal decimal_make(int64_t coef, int scale) {
  Decimal d = {coef, scale};
  return d;
}
static inline Decimal decimal_zero(void) { return decimal_make(0, 0); }

/* Parse `text` as a decimal. The accepted syntax is exactly JSON's number
** syntax, which covers the plain strings shops send ("123.45", "-3"):
**
**   -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
**
** No spaces, no '+' sign, no leading zeros, no "1." or ".5". The result
** keeps the digits written ("1.50" has scale 2; "1.5e1" is 15 with scale 0,
** "1.50e1" is 15.0), except that trailing zeros beyond what fits are
** dropped, since they carry no value.
**
** Returns DECIMAL_OK and sets `*out`; DECIMAL_SYNTAX with a short reason
** in `*why` (a static string, e.g. "leading zeros are not allowed") when
** `text` is not a number; DECIMAL_OVERFLOW or DECIMAL_INEXACT when it is a
** number that does not fit exactly (the JSON decoder keeps such numbers as
** text). `why` may be NULL. */
DecimalStatus decimal_parse(Str text, Decimal *out, const char **why);

/* Write `d` as plain decimal text with exactly `d.scale` decimals, as it
** is carried ("1.50", "-0.05", "12"): the shortest exact text for that
** representation, never an exponent. `out` receives a NUL-terminated
** string; returns its length (at most DECIMAL_TEXT_SIZE - 1). */
size_t decimal_format(Decimal d, char out[DECIMAL_TEXT_SIZE]);
/* Like decimal_format() after decimal_reduce(): the shortest text of the
** value ("1.50" -> "1.5", "10.00" -> "10"). */
size_t decimal_format_shortest(Decimal d, char out[DECIMAL_TEXT_SIZE]);
/* Write `d` with exactly `places` decimals (0..18), rounding with `mode`
** when it has more and padding with zeros when it has fewer. Returns the
** length, or 0 (and writes "") when `places` is out of range. */
size_t decimal_format_fixed(Decimal d, int places, Rounding mode,
                            char out[DECIMAL_TEXT_SIZE]);

/* Exact sum, difference and product. The result's scale is the larger of
** the operands' scales (+, -) or their sum (*), with trailing zeros
** dropped only where that makes the result fit. Returns DECIMAL_OVERFLOW
** when the integer part does not fit and DECIMAL_INEXACT when the exact
** result needs more digits than a Decimal holds; `*out` is unchanged. */
DecimalStatus decimal_add(Decimal a, Decimal b, Decimal *out);
DecimalStatus decimal_sub(Decimal a, Decimal b, Decimal *out);
DecimalStatus decimal_mul(Decimal a, Decimal b, Decimal *out);
/* The product rounded with `mode` to the most digits that fit, for callers
** that have decided digits beyond 18 may go (a price computed by a
** division, times a quantity). Fails only with DECIMAL_OVERFLOW. */
DecimalStatus decimal_mul_rounded(Decimal a, Decimal b, Rounding mode, Decimal *out);

/* The quotient a / b. When the exact quotient has a finite decimal
** expansion that fits, that is the result, with at least
** max(0, a.scale - b.scale) decimals (6.00 / 2 = 3.00, 1 / 4 = 0.25).
** Otherwise it is rounded with `mode` to the most digits that fit: 18
** significant digits or 18 decimals, whichever is fewer (2 / 3 =
** 0.666666666666666667 with ROUND_HALF_UP). Returns DECIMAL_DIV_BY_ZERO
** when b is zero and DECIMAL_OVERFLOW when the integer part does not fit. */
DecimalStatus decimal_div(Decimal a, Decimal b, Rounding mode, Decimal *out);

/* Round to `places` decimals (0..18) with `mode`. A value with fewer
** decimals is padded with zeros to exactly `places` when the result fits
** in 18 digits (round(10, 2) = 10.00), and otherwise is returned as it
** is, which is still exact. Returns DECIMAL_RANGE if `places` is outside
** 0..18; rounding itself cannot fail. */
DecimalStatus decimal_round(Decimal a, int places, Rounding mode, Decimal *out);

/* The same value with trailing zeros after the point removed (1.50 -> 1.5,
** 10.00 -> 10). */
Decimal decimal_reduce(Decimal a);

/* -1, 0 or 1 as a < b, a == b, a > b, by value (1.0 == 1.00). */
int decimal_cmp(Decimal a, Decimal b);
static inline bool decimal_eq(Decimal a, Decimal b) { return decimal_cmp(a, b) == 0; }
/* -1, 0 or 1 by the sign of `a`. */
static inline int decimal_sign(Decimal a) { return (a.coef > 0) - (a.coef < 0); }
/* -a and |a|; they cannot fail because the coefficient range is symmetric. */
static inline Decimal decimal_neg(Decimal a) { return decimal_make(-a.coef, a.scale); }
static inline Decimal decimal_abs(Decimal a) {
  return decimal_make(a.coef < 0 ? -a.coef : a.coef, a.scale);
}

/* The integer `v` as a Decimal with scale 0. Returns DECIMAL_OVERFLOW when
** |v| > DECIMAL_MAX_COEF (ints hold 19 digits, decimals 18). */
DecimalStatus decimal_from_int(int64_t v, Decimal *out);
/* True if `a` has no fraction (1.00 is an integer). */
bool decimal_is_integer(Decimal a);
/* `a` rounded to an integer with `mode`. Cannot fail: |a| < 10^18. */
int64_t decimal_to_int(Decimal a, Rounding mode);

#endif /* IEX_COMMON_DECIMAL_H */
