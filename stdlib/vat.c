/*
** EU VAT (stdlib.def, "EU VAT"): which countries are member states, the
** standard rate valid on a date, and VAT amounts. The facts live in
** stdlib/vat_rates.def; this file only looks them up.
**
** Country codes are ISO 3166-1 alpha-2, in either case; "EL" (what VIES
** calls Greece) is accepted for GR. Anything that is not two letters is
** an error rather than "not in the EU", because it is almost always a
** country name passed where the code was meant ("Denmark" for "DK").
*/
#include <ctype.h>
#include <string.h>

#include "stdlib/std_int.h"

typedef struct Member {
  const char *iso;    /* "DK" */
  const char *prefix; /* of VAT numbers: "EL" for GR */
  const char *joined; /* "YYYY-MM-DD" */
} Member;

static const Member members[] = {
#define EU_MEMBER(iso, prefix, joined) {#iso, #prefix, joined},
#include "stdlib/vat_rates.def"
#undef EU_MEMBER
};

typedef struct Rate {
  const char *iso;
  const char *from; /* "YYYY-MM-DD" */
  const char *rate; /* percent, as decimal text */
} Rate;

static const Rate rates[] = {
#define VAT_RATE(iso, from, rate, note) {#iso, from, rate},
#include "stdlib/vat_rates.def"
#undef VAT_RATE
};

/* The day of a "YYYY-MM-DD" literal of the table (checked by the test). */
static int32_t day_of(const char *text) {
  int32_t days = 0;
  date_parse(str_from_cstr(text), &days, NULL);
  return days;
}

/* The country argument: true with `*m` the member (NULL outside the EU),
** false with a message when it is not a two-letter code. `*m` is also
** NULL for a null argument, with `*is_null` set. */
static bool arg_country(StdCall *call, const Member **m, bool *is_null) {
  Value v = call->args[0];
  Str s;
  char shown[STD_SHOW_SIZE];
  *m = NULL;
  *is_null = value_is_null(v);
  if (*is_null) return true;
  if (!std_arg_str(call, 0, "country", &s)) return false;
  if (s.len != 2 || !isalpha((unsigned char)s.ptr[0]) || !isalpha((unsigned char)s.ptr[1]))
    return std_fail(call, "%s is not a two-letter country code (ISO 3166-1, like DK)",
                    std_show(v, shown));
  char code[3] = {(char)toupper((unsigned char)s.ptr[0]), (char)toupper((unsigned char)s.ptr[1]), 0};
  if (strcmp(code, "EL") == 0) code[0] = 'G', code[1] = 'R';
  for (size_t i = 0; i < ARRAY_LEN(members); i++) {
    if (strcmp(members[i].iso, code) == 0) *m = &members[i];
  }
  return true;
}

bool std_vat_rate(StdCall *call, Value *out) {
  const Member *m;
  bool is_null;
  int32_t on;
  char shown[STD_SHOW_SIZE];
  if (!arg_country(call, &m, &is_null)) return false;
  if (value_is_null(call->args[1]))
    return std_fail(call, "vat_rate() needs the date the rate must be valid on, not null");
  if (!std_arg_day(call, 1, "on", &on)) return false;
  if (on < day_of(VAT_RATES_FROM))
    return std_fail(call, "VAT rates are known from %s on, and %s is earlier", VAT_RATES_FROM,
                    std_show(value_date(on), shown));
  if (!m || on < day_of(m->joined)) return *out = value_null(), true;
  const Rate *found = NULL;
  for (size_t i = 0; i < ARRAY_LEN(rates); i++) {
    if (strcmp(rates[i].iso, m->iso) == 0 && day_of(rates[i].from) <= on) found = &rates[i];
  }
  Decimal d;
  if (!found || decimal_parse(str_from_cstr(found->rate), &d, NULL) != DECIMAL_OK)
    return std_fail(call, "the VAT table has no rate for %s", m->iso); /* a table bug */
  *out = value_decimal(d);
  return true;
}

bool std_eu_member(StdCall *call, Value *out) {
  const Member *m;
  bool is_null;
  int32_t on;
  if (!arg_country(call, &m, &is_null)) return false;
  bool member = m != NULL;
  if (member && !value_is_null(call->args[1])) {
    if (!std_arg_day(call, 1, "on", &on)) return false;
    member = on >= day_of(m->joined);
  }
  *out = value_bool(member);
  return true;
}

bool std_vat_prefix(StdCall *call, Value *out) {
  const Member *m;
  bool is_null;
  if (!arg_country(call, &m, &is_null)) return false;
  *out = m ? value_string(m->prefix, 2) : value_null();
  return true;
}

bool std_vat_of(StdCall *call, Value *out) {
  Decimal net, rate, vat;
  if (value_is_null(call->args[0]) || value_is_null(call->args[1]))
    return *out = value_null(), true;
  if (!std_arg_decimal(call, 0, "net", &net)) return false;
  if (!std_arg_decimal(call, 1, "rate", &rate)) return false;
  /* net × rate is exact for amounts and rates; digits beyond 18 would be
  ** far below a cent, so the rounded product loses nothing that counts. */
  DecimalStatus st = decimal_mul_rounded(net, rate, call->rounding, &vat);
  if (st == DECIMAL_OK) st = decimal_div(vat, decimal_make(100, 0), call->rounding, &vat);
  if (st == DECIMAL_OK) st = decimal_round(vat, 2, call->rounding, &vat);
  return std_return_decimal(call, st, vat, "cannot compute the VAT", out);
}
