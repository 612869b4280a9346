/*
** Records for connectors: reading fields of decoded JSON answers and
** building request bodies, on top of runtime/value.h.
**
** Values are immutable, so "setting" a field makes a new record in the
** arena that shares the old one's field values (runtime/value.h, the
** ownership rule: everything here lives in the arena passed in, and
** nothing needs freeing). Paths are dotted ("recipient.vatZone"); a
** missing field, or a step through something that is not a record, reads
** as null. Reading never fails; building fails only when the arena's limit
** is reached, and then returns null, which the caller's next request
** refuses to encode.
*/
#ifndef IEX_CONNECTORS_REC_H
#define IEX_CONNECTORS_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/decimal.h"
#include "common/str.h"
#include "runtime/value.h"

/* The value at dotted `path` in `rec`, or null. */
Value rec_get(Value rec, const char *path);
/* The same, comparing keys without regard to ASCII case (Dinero answers
** in PascalCase what it is sent in camelCase). */
Value rec_geti(Value rec, const char *path);

/* `v` as a NUL-terminated string in `a` when it is a string, an int or
** decimal printed plainly, or a date or date-time as ISO text; NULL for
** anything else (null included). */
const char *rec_text(Arena *a, Value v);
/* `v` as a decimal: an int, a decimal, or a string holding a number
** (Shopify and WooCommerce send money as "199.00"). False otherwise. */
bool rec_decimal(Value v, Decimal *out);
/* `v` as an int64: an int, an integral decimal, or a string of digits. */
bool rec_int(Value v, int64_t *out);
/* True when `v` is the bool true. */
bool rec_true(Value v);

/* A string Value holding a copy of `s` (NUL-terminated) in `a`. */
Value rec_str(Arena *a, const char *s);
/* A string Value holding printf output, in `a`. */
Value rec_strf(Arena *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A record of the NULL-terminated key/value pairs that follow `a`:
** rec_make(a, "draftInvoiceNumber", value_int(7), "sendBy", s, NULL).
** Keys must be string literals or otherwise outlive the arena. A pair
** whose value is null is left out (e-conomic refuses null). */
Value rec_make(Arena *a, ...);
/* A copy of record `rec` (null counts as the empty record) with field
** `key` set to `v`: replaced in place when present, appended otherwise.
** `key` must outlive the arena. */
Value rec_set(Arena *a, Value rec, const char *key, Value v);
/* rec_set() at a dotted path, making the records on the way. */
Value rec_set_path(Arena *a, Value rec, const char *path, Value v);
/* A copy of `rec` without field `key`. */
Value rec_drop(Arena *a, Value rec, const char *key);
/* A deep copy of `v` without null fields in any record (e-conomic refuses
** null: a field is cleared by leaving it out). */
Value rec_drop_nulls(Arena *a, Value v);
/* A deep copy of `v` whose record keys start with a lower-case letter
** (Dinero's PascalCase answers in the schema's camelCase spelling). */
Value rec_camel(Arena *a, Value v);
/* A list of `n` values from `items` (copied into `a`). */
Value rec_list(Arena *a, const Value *items, size_t n);
/* `list` with `v` appended (null counts as the empty list). */
Value rec_append(Arena *a, Value list, Value v);

/* The REST resource a shop (Shopify, WooCommerce: both name them alike)
** lists records of `record_type` from: "order" -> "orders", "customer"
** -> "customers", "product" -> "products", and "refund" -> "orders" with
** `*refunds` set, since refunds are listed inside their orders. NULL for
** a type the shops cannot list. */
const char *rec_shop_resource(const char *record_type, bool *refunds);

/* `s` percent-encoded for a URL query or path segment (RFC 3986
** unreserved characters kept), NUL-terminated in `a`. */
const char *rec_urlencode(Arena *a, const char *s);

#endif /* IEX_CONNECTORS_REC_H */
