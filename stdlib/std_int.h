/*
** Private to stdlib/: what the family files (str.c, money.c, date.c,
** list.c, vat.c, record.c) share. Reading arguments with the run-time
** type checks the calling convention asks for, writing error messages in
** one style, building results in the call's arena, and UTF-8.
**
** Every helper that can fail writes the message to call->error and
** returns false, so an implementation reads as a chain of
** `if (!std_arg_...(...)) return false;`.
*/
#ifndef IEX_STDLIB_STD_INT_H
#define IEX_STDLIB_STD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/decimal.h"
#include "common/str.h"
#include "common/utf8.h"
#include "common/util.h"
#include "runtime/value.h"
#include "stdlib/stdlib.h"

/* ---- Errors ----------------------------------------------------------- */

/* Replace call->error's content with the formatted message; returns false. */
bool std_fail(StdCall *call, const char *fmt, ...) IEX_PRINTF(2, 3);
/* "the memory limit of one record is reached"; returns false. */
bool std_fail_memory(StdCall *call);

/* A short rendering of `v` for a message, NUL-terminated in `out`: a
** string in backticks (cut to 40 characters with "…"), a number as its
** digits, a date as its ISO text, other kinds by their type. */
#define STD_SHOW_SIZE 200
const char *std_show(Value v, char out[STD_SHOW_SIZE]);

/* ---- Arguments ----------------------------------------------------------
** `i` is the position in the signature, `name` the parameter's name as
** messages use it. Each checks the kind, since values from Lua or from
** fields typed `any` reach here unchecked. */

/* An integer (VAL_INT only). */
bool std_arg_int(StdCall *call, uint32_t i, const char *name, int64_t *out);
/* A number: int (converted; more than 18 digits is an error) or decimal. */
bool std_arg_decimal(StdCall *call, uint32_t i, const char *name, Decimal *out);
/* A string. */
bool std_arg_str(StdCall *call, uint32_t i, const char *name, Str *out);
/* A list; null counts as the empty list. */
bool std_arg_list(StdCall *call, uint32_t i, const char *name, const Value **items,
                  uint32_t *n);
/* A `rounding` parameter (see stdlib.h); null and "flow" give call->rounding. */
bool std_arg_rounding(StdCall *call, uint32_t i, Rounding *out);
/* A date or datetime argument as a calendar date (a datetime's date at its
** own offset). */
bool std_arg_day(StdCall *call, uint32_t i, const char *name, int32_t *out);

/* The key list of a key function, checked to be as long as the values. */
bool std_arg_keys(StdCall *call, uint32_t i, uint32_t n_values, const Value **keys);

/* ---- Results ------------------------------------------------------------ */

/* A string result holding a copy of `s` (at most STD_MAX_TEXT_BYTES). */
bool std_return_str(StdCall *call, Str s, Value *out);
/* A string result holding the bytes of `b`, which must be within its bound
** (a Buf whose bound was hit gives the "longer than the limit" error). */
bool std_return_buf(StdCall *call, Buf *b, Value *out);
/* A decimal result, or the error `what` plus the status message. */
bool std_return_decimal(StdCall *call, DecimalStatus st, Decimal d, const char *what,
                        Value *out);

/* ---- UTF-8 ---------------------------------------------------------------
** Strings are UTF-8 (common/utf8.h). Bytes that do not form a valid
** sequence count as one character each (utf8_decode() gives UTF8_INVALID
** for them) and are passed through unchanged, so no function fails or
** misbehaves on them (they can only come from Lua). */

/* Whether `cp` is white space for trim(): ASCII blanks, no-break and the
** other Unicode spaces, and the byte-order mark. */
bool std_is_space(uint32_t cp);

#endif /* IEX_STDLIB_STD_INT_H */
