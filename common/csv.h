/*
** The CSV reader of lookup tables: `table products = csv("products.csv")`
** in a flow. One reader, so the checker (compiler/check.c, which types a
** table's rows by its header) and the table iexc compiles into the flow
** (stdlib/lookup.h turns what this reads into the table's value) accept
** exactly the same files. It lives in common/ because the checker is
** linked without stdlib/ (the fuzz targets link common/ and compiler/
** alone).
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
** The result is the header and the fields, as views into one copy of the
** text in the given arena (a quoted field is unescaped there).
*/
#ifndef IEX_COMMON_CSV_H
#define IEX_COMMON_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"

#define CSV_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define CSV_DEFAULT_MAX_ROWS 1000000u

typedef struct CsvOptions {
  char separator;         /* ',', ';' or '\t'; 0: detect from the header */
  const char *key_column; /* the key column's name; NULL: the first column */
  size_t max_bytes;       /* largest text accepted; 0: CSV_DEFAULT_MAX_BYTES */
  uint32_t max_rows;      /* most data rows accepted; 0: CSV_DEFAULT_MAX_ROWS */
} CsvOptions;

typedef struct CsvData {
  Str *columns;        /* n_columns names, the header in order (arena) */
  Str *cells;          /* n_rows * n_columns fields, row after row (arena);
                          an empty field has length 0 */
  uint32_t n_columns;  /* >= 1 */
  uint32_t n_rows;     /* data rows */
  uint32_t key_column; /* index of the key column in `columns` */
  char separator;      /* the separator used */
} CsvData;

/* What went wrong, for callers that word their own messages (the
** checker's diagnostics); the message in `err` says the same. */
typedef enum CsvErrorKind {
  CSV_OK,
  CSV_CANNOT_READ,       /* csv_load(): the file cannot be read */
  CSV_TOO_LARGE,         /* larger than max_bytes */
  CSV_NOT_UTF8,
  CSV_NO_MEMORY,         /* the arena's limit is reached */
  CSV_EMPTY,             /* no header row */
  CSV_UNCLOSED_QUOTE,    /* `line` is where the quote opened */
  CSV_TEXT_AFTER_QUOTE,  /* "x"y */
  CSV_STRAY_QUOTE,       /* x"y */
  CSV_UNNAMED_COLUMN,    /* `column` has no name */
  CSV_REPEATED_COLUMN,   /* `column` repeats an earlier name */
  CSV_NO_KEY_COLUMN,     /* CsvOptions.key_column is not in the header */
  CSV_FIELD_COUNT,       /* a row has `n_fields` fields, the header `n_columns` */
  CSV_TOO_MANY_ROWS,
  CSV_EMPTY_KEY,
  CSV_REPEATED_KEY,      /* the key is also on `first_line` */
} CsvErrorKind;

typedef struct CsvError {
  CsvErrorKind kind;
  uint32_t line;       /* 1-based; 0 for the whole file */
  bool in_header;      /* the error is in the header row */
  uint32_t column;     /* 1-based, for the column errors */
  uint32_t n_fields;   /* CSV_FIELD_COUNT: the row's fields */
  uint32_t n_columns;  /* CSV_FIELD_COUNT: the header's */
  uint32_t first_line; /* CSV_REPEATED_KEY: the line the key is first on */
  Str text;            /* CSV_REPEATED_KEY: the key; CSV_EMPTY_KEY: the key
                          column's name (views into the arena's copy) */
} CsvError;

/* Parse CSV `text` into `*out`, all in arena `a`. `name` is the file name
** messages use ("products.csv"); `opt` may be NULL for the defaults. On
** failure returns false, writes "NAME:LINE: message" (or "NAME: message"
** for the whole file) to `err` (replacing its content) and fills `*why`
** (may be NULL). */
bool csv_parse(Arena *a, const char *name, Str text, const CsvOptions *opt, CsvData *out,
               Buf *err, CsvError *why);

/* Read the file at `path` and parse it as csv_parse() does; messages use
** `name` (the path as the flow wrote it), or `path` when `name` is NULL. */
bool csv_load(Arena *a, const char *path, const char *name, const CsvOptions *opt,
              CsvData *out, Buf *err, CsvError *why);

#endif /* IEX_COMMON_CSV_H */
