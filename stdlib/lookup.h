/*
** Lookup tables at run time: `layouts[order.customer_locale]`,
** `products[item.sku].number`. A table is a record from key to value,
** whether written inline in the flow (`table layouts { "da" => 19 }`),
** read from a CSV file (common/csv.h, made a table by lookup_from_csv())
** or given as a `table of K to V` setting. Keys are text; a number used as a key is looked up as the
** text it is carried with (19 finds "19", 1.50 finds "1.50"), so a table
** read from CSV answers for numeric keys too.
*/
#ifndef IEX_STDLIB_LOOKUP_H
#define IEX_STDLIB_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/csv.h"
#include "runtime/value.h"

/* The value `table` holds for `key`: null when the key is absent, null,
** or of a kind no key can be (list, record), or when `table` is null. A
** `table` that is neither a record nor null also gives null (the checker
** has typed it). `hint` is as for value_field() (may be NULL). */
Value lookup_get(Value table, Value key, uint32_t *hint);

/* The table a CSV file holds: a record from key to row, each row a record
** from column name to string, with empty fields as null (so
** `row.account ?? 1010` works). The strings point into `csv`'s fields; the
** records are made in arena `a`. False only when `a`'s limit is reached. */
bool lookup_from_csv(Arena *a, const CsvData *csv, Value *out);

#endif /* IEX_STDLIB_LOOKUP_H */
