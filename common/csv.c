/*
** The CSV reader of lookup tables (see csv.h for the accepted text and
** the result).
**
** The text is copied into the arena once; fields are views into the copy,
** and a quoted field is unescaped in place there (unescaping only ever
** shortens it). Scratch vectors are malloc'd and freed before returning.
*/
#include "common/csv.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/utf8.h"
#include "common/util.h"

typedef struct Parser {
  char *p, *end;       /* unread part of the arena copy */
  uint32_t line;       /* 1-based line of `p` */
  char sep;            /* field separator */
  bool in_header;      /* reading the header row */
  const char *name;    /* file name for messages */
  Buf *err;            /* where the message goes */
  CsvError *why;       /* may be NULL */
} Parser;

/* Report `e` (its line: `line`) with the message `fmt`; returns false. */
static bool fail_at(Parser *ps, uint32_t line, CsvError e, const char *fmt, ...) IEX_PRINTF(4, 5);
static bool fail_at(Parser *ps, uint32_t line, CsvError e, const char *fmt, ...) {
  va_list ap;
  buf_reset(ps->err);
  if (line) buf_printf(ps->err, "%s:%u: ", ps->name, line);
  else buf_printf(ps->err, "%s: ", ps->name);
  va_start(ap, fmt);
  buf_vprintf(ps->err, fmt, ap);
  va_end(ap);
  if (ps->why) {
    e.line = line;
    e.in_header = ps->in_header;
    *ps->why = e;
  }
  return false;
}
#define KIND(k) ((CsvError){.kind = (k)})

/* Consume a line break at p, if there is one; true if there was. */
static bool eat_newline(Parser *ps) {
  if (ps->p < ps->end && *ps->p == '\r') {
    ps->p++;
    if (ps->p < ps->end && *ps->p == '\n') ps->p++;
  } else if (ps->p < ps->end && *ps->p == '\n') {
    ps->p++;
  } else {
    return false;
  }
  ps->line++;
  return true;
}

/* One field at p. `*row_end` is set when the field ends its row (a line
** break, consumed, or the end of the text). */
static bool read_field(Parser *ps, Str *field, bool *row_end) {
  char *q = ps->p;
  if (q < ps->end && *q == '"') {
    uint32_t opened = ps->line;
    char *w = ++q, *start = q;
    for (;;) {
      if (q == ps->end)
        return fail_at(ps, opened, KIND(CSV_UNCLOSED_QUOTE),
                       "the quoted field that starts on this line is not closed");
      if (*q == '"') {
        if (q + 1 < ps->end && q[1] == '"') {
          *w++ = '"';
          q += 2;
          continue;
        }
        q++;
        break;
      }
      if (*q == '\n' || (*q == '\r' && (q + 1 == ps->end || q[1] != '\n'))) ps->line++;
      *w++ = *q++;
    }
    *field = str_make(start, (size_t)(w - start));
    ps->p = q;
    if (q < ps->end && *q != ps->sep && *q != '\n' && *q != '\r')
      return fail_at(ps, ps->line, KIND(CSV_TEXT_AFTER_QUOTE),
                     "text after the closing quote of a field (a quote inside a "
                     "quoted field is written twice: \"\")");
  } else {
    char *start = q;
    while (q < ps->end && *q != ps->sep && *q != '\n' && *q != '\r') {
      if (*q == '"')
        return fail_at(ps, ps->line, KIND(CSV_STRAY_QUOTE),
                       "a quote in a field that does not start with one (quote the "
                       "whole field and write the quote twice)");
      q++;
    }
    *field = str_make(start, (size_t)(q - start));
    ps->p = q;
  }
  *row_end = true;
  if (ps->p == ps->end) return true;
  if (*ps->p == ps->sep) {
    ps->p++;
    *row_end = false;
    return true;
  }
  eat_newline(ps);
  return true;
}

typedef struct Row {
  Str *fields; /* owned, malloc'd */
  size_t n, cap;
  uint32_t line; /* where the row starts */
} Row;

/* The next row that is not blank: 1, 0 at the end of the text, -1 on error. */
static int read_row(Parser *ps, Row *row) {
  while (eat_newline(ps)) {
  }
  if (ps->p == ps->end) return 0;
  row->n = 0;
  row->line = ps->line;
  bool row_end = false;
  while (!row_end) {
    Str f;
    if (!read_field(ps, &f, &row_end)) return -1;
    VEC_PUSH(row->fields, row->n, row->cap, f);
  }
  return 1;
}

/* The separator: the header row's most frequent of `;` and tab when it
** beats the commas, else `,`. Counted outside quotes. */
static char detect_separator(const char *p, const char *end) {
  size_t commas = 0, semis = 0, tabs = 0;
  bool quoted = false;
  for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
    if (*p == '"') quoted = !quoted;
    else if (!quoted) commas += *p == ',', semis += *p == ';', tabs += *p == '\t';
  }
  if (semis > commas && semis >= tabs) return ';';
  if (tabs > commas && tabs > semis) return '\t';
  return ',';
}

bool csv_parse(Arena *a, const char *name, Str text, const CsvOptions *opt, CsvData *out,
               Buf *err, CsvError *why) {
  CsvOptions o = opt ? *opt : (CsvOptions){0};
  if (!o.max_bytes) o.max_bytes = CSV_DEFAULT_MAX_BYTES;
  if (!o.max_rows) o.max_rows = CSV_DEFAULT_MAX_ROWS;
  Parser ps = {NULL, NULL, 1, ',', false, name, err, why};
  if (why) *why = KIND(CSV_OK);
  if (text.len > o.max_bytes)
    return fail_at(&ps, 0, KIND(CSV_TOO_LARGE), "the file is larger than the limit of %zu bytes",
                   o.max_bytes);
  if (text.len >= 3 && memcmp(text.ptr, "\xEF\xBB\xBF", 3) == 0) text.ptr += 3, text.len -= 3;
  /* Valid UTF-8 first, so every field is. */
  size_t bad = utf8_first_invalid(text.ptr, text.len);
  if (bad < text.len) {
    uint32_t line = 1;
    for (size_t i = 0; i < bad; i++) line += text.ptr[i] == '\n';
    return fail_at(&ps, line, KIND(CSV_NOT_UTF8), "the text is not UTF-8 (save the file as UTF-8)");
  }
  char *copy = arena_strndup(a, text.ptr, text.len);
  if (!copy) return fail_at(&ps, 0, KIND(CSV_NO_MEMORY), "the memory limit is reached");
  ps.p = copy;
  ps.end = copy + text.len;
  ps.sep = o.separator ? o.separator : detect_separator(ps.p, ps.end);

  bool ok = false;
  Row header = {0}, row = {0};
  Str *cells = NULL;
  size_t n_cells = 0, cap_cells = 0;
  uint32_t n_rows = 0;
  StrMap seen; /* key -> line of its row */
  strmap_init(&seen);

  ps.in_header = true;
  int r = read_row(&ps, &header);
  if (r <= 0) {
    if (r == 0)
      fail_at(&ps, 0, KIND(CSV_EMPTY), "the file is empty: its first row must name the columns");
    goto done;
  }
  size_t key_col = 0;
  for (size_t c = 0; c < header.n; c++) {
    Str h = header.fields[c];
    if (h.len == 0) {
      fail_at(&ps, header.line, ((CsvError){.kind = CSV_UNNAMED_COLUMN, .column = (uint32_t)c + 1}),
              "column %zu has no name in the header row", c + 1);
      goto done;
    }
    for (size_t d = 0; d < c; d++) {
      if (str_eq(header.fields[d], h)) {
        fail_at(&ps, header.line, ((CsvError){.kind = CSV_REPEATED_COLUMN, .column = (uint32_t)c + 1}),
                "the header names column `%.*s` twice", STR_FMT(h));
        goto done;
      }
    }
    if (o.key_column && str_eq_cstr(h, o.key_column)) key_col = c;
  }
  if (o.key_column && !str_eq_cstr(header.fields[key_col], o.key_column)) {
    fail_at(&ps, header.line, KIND(CSV_NO_KEY_COLUMN), "the header has no column `%s`", o.key_column);
    goto done;
  }
  ps.in_header = false;

  while ((r = read_row(&ps, &row)) == 1) {
    if (row.n != header.n) {
      fail_at(&ps, row.line,
              ((CsvError){.kind = CSV_FIELD_COUNT, .n_fields = (uint32_t)row.n,
                          .n_columns = (uint32_t)header.n}),
              "row has %zu field%s, the header has %zu", row.n, row.n == 1 ? "" : "s", header.n);
      goto done;
    }
    if (n_rows == o.max_rows) {
      fail_at(&ps, row.line, KIND(CSV_TOO_MANY_ROWS), "more than %u rows", o.max_rows);
      goto done;
    }
    Str key = row.fields[key_col];
    if (key.len == 0) {
      fail_at(&ps, row.line, ((CsvError){.kind = CSV_EMPTY_KEY, .text = header.fields[key_col]}),
              "the key (column `%.*s`) is empty", STR_FMT(header.fields[key_col]));
      goto done;
    }
    void *first = strmap_get(&seen, key);
    if (first) {
      fail_at(&ps, row.line,
              ((CsvError){.kind = CSV_REPEATED_KEY, .first_line = (uint32_t)(uintptr_t)first,
                          .text = key}),
              "key `%.*s` is also on line %u; keys must be unique", STR_FMT(key),
              (unsigned)(uintptr_t)first);
      goto done;
    }
    strmap_put(&seen, key, (void *)(uintptr_t)row.line);
    for (size_t c = 0; c < row.n; c++) VEC_PUSH(cells, n_cells, cap_cells, row.fields[c]);
    n_rows++;
  }
  if (r < 0) goto done;

  out->columns = arena_alloc(a, header.n * sizeof *out->columns);
  out->cells = arena_alloc(a, (n_cells + 1) * sizeof *out->cells);
  if (!out->columns || !out->cells) {
    fail_at(&ps, 0, KIND(CSV_NO_MEMORY), "the memory limit is reached");
    goto done;
  }
  memcpy(out->columns, header.fields, header.n * sizeof *out->columns);
  if (n_cells) memcpy(out->cells, cells, n_cells * sizeof *cells);
  out->n_columns = (uint32_t)header.n;
  out->n_rows = n_rows;
  out->key_column = (uint32_t)key_col;
  out->separator = ps.sep;
  ok = true;

done:
  strmap_fini(&seen);
  free(cells);
  free(row.fields);
  free(header.fields);
  return ok;
}

bool csv_load(Arena *a, const char *path, const char *name, const CsvOptions *opt,
              CsvData *out, Buf *err, CsvError *why) {
  char reason[256];
  size_t len;
  size_t max = opt && opt->max_bytes ? opt->max_bytes : CSV_DEFAULT_MAX_BYTES;
  if (!name) name = path;
  char *text = read_file(path, max, &len, reason, sizeof reason);
  if (!text) {
    buf_reset(err);
    buf_printf(err, "%s: cannot read the file: %s", name, reason);
    if (why) *why = KIND(CSV_CANNOT_READ);
    return false;
  }
  bool ok = csv_parse(a, name, str_make(text, len), opt, out, err, why);
  free(text);
  return ok;
}
