/*
** Numbers and money (stdlib.def, "Numbers and money"): rounding with a
** named rule, exact sums, and reading numbers from text. Everything is
** common/decimal.h arithmetic; no binary floating point anywhere. An
** integer that a result needs as a decimal must fit in 18 digits, and a
** result that does not fit is an error, never a silent loss of digits.
*/
#include <inttypes.h>
#include <string.h>

#include "stdlib/std_int.h"

bool std_round(StdCall *call, Value *out) {
  int64_t places;
  Rounding mode;
  Decimal d;
  if (!std_arg_int(call, 1, "places", &places)) return false;
  if (places < 0 || places > DECIMAL_MAX_SCALE)
    return std_fail(call, "`places` is %" PRId64 ", not in 0..18", places);
  if (!std_arg_rounding(call, 2, &mode)) return false;
  Value v = call->args[0];
  if (value_is_null(v)) return *out = v, true;
  /* An integer is already rounded to 0 places, whatever its size. */
  if (value_kind(v) == VAL_INT && places == 0) return *out = v, true;
  if (!std_arg_decimal(call, 0, "value", &d)) return false;
  DecimalStatus st = decimal_round(d, (int)places, mode, &d);
  return std_return_decimal(call, st, d, "cannot round", out);
}

bool std_abs(StdCall *call, Value *out) {
  Value v = call->args[0];
  char shown[STD_SHOW_SIZE];
  if (value_is_null(v)) return *out = v, true;
  if (value_kind(v) == VAL_INT) {
    if (v.as.i == INT64_MIN)
      return std_fail(call, "the absolute value of %s does not fit in an integer",
                      std_show(v, shown));
    *out = value_int(v.as.i < 0 ? -v.as.i : v.as.i);
    return true;
  }
  Decimal d;
  if (!std_arg_decimal(call, 0, "value", &d)) return false;
  *out = value_decimal(decimal_abs(d));
  return true;
}

/* Element `i` of a list of numbers, checked; false with a message. */
static bool number_at(StdCall *call, const Value *items, uint32_t i, Decimal *out) {
  Value v = items[i];
  char shown[STD_SHOW_SIZE];
  if (value_kind(v) == VAL_DECIMAL) {
    *out = value_as_decimal(v);
    return true;
  }
  if (value_kind(v) == VAL_INT) {
    if (decimal_from_int(v.as.i, out) == DECIMAL_OK) return true;
    return std_fail(call, "element %" PRIu32 " is %s, which has more than 18 digits", i + 1,
                    std_show(v, shown));
  }
  if (value_kind(v) == VAL_NUMTEXT)
    return std_fail(call, "element %" PRIu32 " is %.*s, which has more digits than a decimal holds",
                    i + 1, (int)IEX_MIN(v.len, 60), v.as.str);
  return std_fail(call, "element %" PRIu32 " is %s, not a number", i + 1, std_show(v, shown));
}

/* min/max: the extreme element itself (an int stays an int). Numbers
** compare by value (value_compare), so ints of 19 digits need no
** conversion. */
static bool extreme(StdCall *call, int sign, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  Value best = value_null();
  Decimal d;
  for (uint32_t i = 0; i < n; i++) {
    Value v = items[i];
    if (value_is_null(v)) continue;
    if (value_kind(v) != VAL_INT && !number_at(call, items, i, &d)) return false;
    if (value_is_null(best) || value_compare(v, best) * sign > 0) best = v;
  }
  *out = best;
  return true;
}

bool std_min(StdCall *call, Value *out) { return extreme(call, -1, out); }
bool std_max(StdCall *call, Value *out) { return extreme(call, 1, out); }

/* The exact sum of the numbers in `items` that are not null. */
static bool sum_of(StdCall *call, const Value *items, uint32_t n, Decimal *sum) {
  Decimal d;
  *sum = decimal_zero();
  for (uint32_t i = 0; i < n; i++) {
    if (value_is_null(items[i])) continue;
    if (!number_at(call, items, i, &d)) return false;
    DecimalStatus st = decimal_add(*sum, d, sum);
    if (st != DECIMAL_OK)
      return std_fail(call, "the sum does not fit in a decimal at element %" PRIu32 ": %s",
                      i + 1, decimal_status_message(st));
  }
  return true;
}

bool std_sum(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  Decimal sum;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  if (!sum_of(call, items, n, &sum)) return false;
  *out = value_decimal(sum);
  return true;
}

/* `s` without ASCII blanks around it: " 12.50 " reads as 12.50. */
static Str strip(Str s) {
  while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) s.ptr++, s.len--;
  while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) s.len--;
  return s;
}

/* Read text as a decimal, with a message naming it when it is none. */
static bool parse_number(StdCall *call, Value text, Decimal *out) {
  char shown[STD_SHOW_SIZE];
  const char *why = NULL;
  DecimalStatus st = decimal_parse(strip(value_as_str(text)), out, &why);
  if (st == DECIMAL_OK) return true;
  if (st == DECIMAL_SYNTAX)
    return std_fail(call, "%s is not a number: %s", std_show(text, shown),
                    why ? why : "unexpected character");
  return std_fail(call, "%s has more digits than a decimal holds (18)", std_show(text, shown));
}

bool std_decimal(StdCall *call, Value *out) {
  Value v = call->args[0];
  Decimal d;
  if (value_is_null(v)) return *out = v, true;
  if (value_kind(v) == VAL_STRING) {
    if (!parse_number(call, v, &d)) return false;
    *out = value_decimal(d);
    return true;
  }
  if (!std_arg_decimal(call, 0, "value", &d)) return false;
  *out = value_decimal(d);
  return true;
}

bool std_int(StdCall *call, Value *out) {
  Value v = call->args[0];
  char shown[STD_SHOW_SIZE];
  Decimal d;
  if (value_is_null(v) || value_kind(v) == VAL_INT) return *out = v, true;
  if (value_kind(v) == VAL_STRING) {
    /* Plain digits, leading zeros allowed ("007"), all 19 of an int. */
    Str s = strip(value_as_str(v));
    size_t i = s.len > 0 && s.ptr[0] == '-';
    bool digits = s.len > i;
    for (size_t k = i; k < s.len; k++) digits = digits && s.ptr[k] >= '0' && s.ptr[k] <= '9';
    if (digits) {
      uint64_t mag = 0, limit = i ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
      for (size_t k = i; k < s.len; k++) {
        unsigned digit = (unsigned)(s.ptr[k] - '0');
        if (mag > (limit - digit) / 10)
          return std_fail(call, "%s does not fit in an integer", std_show(v, shown));
        mag = mag * 10 + digit;
      }
      *out = value_int(i ? (int64_t)(0 - mag) : (int64_t)mag);
      return true;
    }
    if (!parse_number(call, v, &d)) return false;
  } else if (!std_arg_decimal(call, 0, "value", &d)) {
    return false;
  }
  if (!decimal_is_integer(d))
    return std_fail(call, "%s is not a whole number", std_show(v, shown));
  *out = value_int(decimal_to_int(d, ROUND_DOWN));
  return true;
}

bool std_cent_difference(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  Decimal expected, sum, diff;
  if (!std_arg_list(call, 1, "amounts", &items, &n)) return false;
  if (value_is_null(call->args[0])) return *out = value_null(), true;
  if (!std_arg_decimal(call, 0, "expected", &expected)) return false;
  if (!sum_of(call, items, n, &sum)) return false;
  DecimalStatus st = decimal_sub(expected, sum, &diff);
  if (st == DECIMAL_OK) st = decimal_round(diff, 2, call->rounding, &diff);
  return std_return_decimal(call, st, diff, "cannot compute the difference", out);
}
