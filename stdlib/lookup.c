/*
** Lookup tables at run time (see lookup.h).
*/
#include "stdlib/lookup.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/decimal.h"

Value lookup_get(Value table, Value key, uint32_t *hint) {
  if (value_kind(table) != VAL_RECORD) return value_null();
  char text[DECIMAL_TEXT_SIZE + DATETIME_TEXT_SIZE];
  Str k;
  switch (value_kind(key)) {
  case VAL_STRING:
  case VAL_NUMTEXT:
    k = value_as_str(key);
    break;
  case VAL_INT:
    k = str_make(text, (size_t)snprintf(text, sizeof text, "%" PRId64, key.as.i));
    break;
  case VAL_DECIMAL:
    k = str_make(text, decimal_format(value_as_decimal(key), text));
    break;
  case VAL_BOOL:
    k = key.as.b ? STR_LIT("true") : STR_LIT("false");
    break;
  case VAL_DATE:
    k = str_make(text, date_format_iso(key.as.days, text));
    break;
  default:
    return value_null();
  }
  const Value *v = value_field(table, k, hint);
  return v ? *v : value_null();
}

bool lookup_from_csv(Arena *a, const CsvData *csv, Value *out) {
  Record *table = record_new(a, csv->n_rows);
  if (!table) return false;
  for (uint32_t r = 0; r < csv->n_rows; r++) {
    const Str *cells = csv->cells + (size_t)r * csv->n_columns;
    Record *row = record_new(a, csv->n_columns);
    if (!row) return false;
    for (uint32_t c = 0; c < csv->n_columns; c++) {
      row->fields[c].key = csv->columns[c];
      row->fields[c].value = cells[c].len ? value_string(cells[c].ptr, cells[c].len) : value_null();
    }
    table->fields[r].key = cells[csv->key_column];
    table->fields[r].value = value_record(row);
  }
  *out = value_record(table);
  return true;
}
