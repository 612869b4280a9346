/*
** CSV lookup tables: `table products = csv("products.csv")` in a flow.
** The compiler reads the file next to the flow when it compiles (so a
** broken file is a compile error, never a half-used table) and the VM
** looks rows up with lookup_get() (stdlib/lookup.h).
**
** The text is RFC 4180, read strictly:
** - the first row names the columns (unique, not empty); the key is the
**   first column unless CsvOptions.key_column names another;
** - fields are separated by `,`, or by `;` or a tab when the header row
**   has more of those than commas (Danish and German spreadsheets); a
**   field may be quoted with `"`, inside which `""` is a quote and
**   separators and line breaks are text;
** - lines end with LF, CRLF or CR; a UTF-8 byte-order mark is skipped;
**   blank lines are ignored; the text must be valid UTF-8;
** - every row has as many fields as the header; keys are unique and not
**   empty.
** Every error names the file and line ("products.csv:7: row has 2
** fields, the header has 3"); an unclosed quote names the line it
** opened on.
**
** The result is a record from key to row, each row a record from column
** name to string, with empty fields as null (so `row.account ?? 1010`
** works). Everything lives in the given arena: one copy of the text, which
** the strings point into (see runtime/value.h).
*/
#ifndef IEX_STDLIB_CSV_H
#define IEX_STDLIB_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"
#include "runtime/value.h"

#define CSV_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define CSV_DEFAULT_MAX_ROWS 1000000u

typedef struct CsvOptions {
  char separator;         /* ',', ';' or '\t'; 0: detect from the header */
  const char *key_column; /* the key column's name; NULL: the first column */
  size_t max_bytes;       /* largest text accepted; 0: CSV_DEFAULT_MAX_BYTES */
  uint32_t max_rows;      /* most data rows accepted; 0: CSV_DEFAULT_MAX_ROWS */
} CsvOptions;

typedef struct CsvTable {
  Value rows;      /* RECORD: key -> row (RECORD: column -> STRING or null) */
  Value columns;   /* LIST of STRING: the header, in order */
  uint32_t n_rows; /* data rows (= rows.len) */
  char separator;  /* the separator used */
} CsvTable;

/* Parse CSV `text` into `*out`, all in arena `a`. `name` is the file name
** messages use ("products.csv"); `opt` may be NULL for the defaults. On
** failure returns false, writes "NAME:LINE: message" (or "NAME: message"
** for the whole file) to `err` (replacing its content) and sets
** `*err_line` (0 for the whole file; may be NULL). */
bool csv_parse(Arena *a, const char *name, Str text, const CsvOptions *opt, CsvTable *out,
               Buf *err, uint32_t *err_line);

/* Read the file at `path` and parse it as csv_parse() does; messages use
** `name` (the path as the flow wrote it), or `path` when `name` is NULL. */
bool csv_load(Arena *a, const char *path, const char *name, const CsvOptions *opt,
              CsvTable *out, Buf *err, uint32_t *err_line);

#endif /* IEX_STDLIB_CSV_H */
