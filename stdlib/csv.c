/*
** CSV lookup tables (see csv.h for the accepted text and the result).
**
** The text is copied into the arena once; fields are views into the copy,
** and a quoted field is unescaped in place there (unescaping only ever
** shortens it). Scratch vectors are malloc'd and freed before returning.
*/
#include "stdlib/csv.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/util.h"
#include "stdlib/std_int.h"

typedef struct Parser {
  char *p, *end;       /* unread part of the arena copy */
  uint32_t line;       /* 1-based line of `p` */
  char sep;            /* field separator */
  const char *name;    /* file name for messages */
  Buf *err;            /* where the message goes */
  uint32_t *err_line;  /* may be NULL */
} Parser;

static bool fail_at(Parser *ps, uint32_t line, const char *fmt, ...) IEX_PRINTF(3, 4);
static bool fail_at(Parser *ps, uint32_t line, const char *fmt, ...) {
  va_list ap;
  buf_reset(ps->err);
  if (line) buf_printf(ps->err, "%s:%u: ", ps->name, line);
  else buf_printf(ps->err, "%s: ", ps->name);
  va_start(ap, fmt);
  buf_vprintf(ps->err, fmt, ap);
  va_end(ap);
  if (ps->err_line) *ps->err_line = line;
  return false;
}

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
        return fail_at(ps, opened, "the quoted field that starts on this line is not closed");
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
      return fail_at(ps, ps->line, "text after the closing quote of a field (a quote inside a "
                                   "quoted field is written twice: \"\")");
  } else {
    char *start = q;
    while (q < ps->end && *q != ps->sep && *q != '\n' && *q != '\r') {
      if (*q == '"')
        return fail_at(ps, ps->line, "a quote in a field that does not start with one (quote the "
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

bool csv_parse(Arena *a, const char *name, Str text, const CsvOptions *opt, CsvTable *out,
               Buf *err, uint32_t *err_line) {
  CsvOptions o = opt ? *opt : (CsvOptions){0};
  if (!o.max_bytes) o.max_bytes = CSV_DEFAULT_MAX_BYTES;
  if (!o.max_rows) o.max_rows = CSV_DEFAULT_MAX_ROWS;
  Parser ps = {NULL, NULL, 1, ',', name, err, err_line};
  if (err_line) *err_line = 0;
  if (text.len > o.max_bytes)
    return fail_at(&ps, 0, "the file is larger than the limit of %zu bytes", o.max_bytes);
  if (text.len >= 3 && memcmp(text.ptr, "\xEF\xBB\xBF", 3) == 0) text.ptr += 3, text.len -= 3;
  /* Valid UTF-8 first, so every string in the table is. */
  uint32_t line = 1;
  size_t n;
  for (size_t i = 0; i < text.len; i += n) {
    if (std_utf8_next((const unsigned char *)text.ptr + i, text.len - i, &n) == STD_INVALID_CP)
      return fail_at(&ps, line, "the text is not UTF-8 (save the file as UTF-8)");
    line += text.ptr[i] == '\n';
  }
  char *copy = arena_strndup(a, text.ptr, text.len);
  if (!copy) return fail_at(&ps, 0, "the memory limit is reached");
  ps.p = copy;
  ps.end = copy + text.len;
  ps.sep = o.separator ? o.separator : detect_separator(ps.p, ps.end);

  bool ok = false;
  Row header = {0}, row = {0};
  Field *rows = NULL;
  size_t n_rows = 0, cap_rows = 0;
  StrMap seen; /* key -> line of its row */
  strmap_init(&seen);

  int r = read_row(&ps, &header);
  if (r <= 0) {
    if (r == 0) fail_at(&ps, 0, "the file is empty: its first row must name the columns");
    goto done;
  }
  size_t key_col = 0;
  Value *columns = arena_alloc(a, (header.n + 1) * sizeof *columns);
  if (!columns) {
    fail_at(&ps, 0, "the memory limit is reached");
    goto done;
  }
  for (size_t c = 0; c < header.n; c++) {
    Str h = header.fields[c];
    if (h.len == 0) {
      fail_at(&ps, header.line, "column %zu has no name in the header row", c + 1);
      goto done;
    }
    for (size_t d = 0; d < c; d++) {
      if (str_eq(header.fields[d], h)) {
        fail_at(&ps, header.line, "the header names column `%.*s` twice", STR_FMT(h));
        goto done;
      }
    }
    if (o.key_column && str_eq_cstr(h, o.key_column)) key_col = c;
    columns[c] = value_string(h.ptr, h.len);
  }
  if (o.key_column && !str_eq_cstr(header.fields[key_col], o.key_column)) {
    fail_at(&ps, header.line, "the header has no column `%s`", o.key_column);
    goto done;
  }

  while ((r = read_row(&ps, &row)) == 1) {
    if (row.n != header.n) {
      fail_at(&ps, row.line, "row has %zu field%s, the header has %zu", row.n,
              row.n == 1 ? "" : "s", header.n);
      goto done;
    }
    if (n_rows == o.max_rows) {
      fail_at(&ps, row.line, "more than %u rows", o.max_rows);
      goto done;
    }
    Str key = row.fields[key_col];
    if (key.len == 0) {
      fail_at(&ps, row.line, "the key (column `%.*s`) is empty", STR_FMT(header.fields[key_col]));
      goto done;
    }
    void *first = strmap_get(&seen, key);
    if (first) {
      fail_at(&ps, row.line, "key `%.*s` is also on line %u; keys must be unique", STR_FMT(key),
              (unsigned)(uintptr_t)first);
      goto done;
    }
    strmap_put(&seen, key, (void *)(uintptr_t)row.line);
    Record *rec = record_new(a, (uint32_t)header.n);
    if (!rec) {
      fail_at(&ps, row.line, "the memory limit is reached");
      goto done;
    }
    for (size_t c = 0; c < header.n; c++) {
      Str f = row.fields[c];
      rec->fields[c].key = header.fields[c];
      rec->fields[c].value = f.len ? value_string(f.ptr, f.len) : value_null();
    }
    Field entry = {key, value_record(rec)};
    VEC_PUSH(rows, n_rows, cap_rows, entry);
  }
  if (r < 0) goto done;

  Record *table = record_new(a, (uint32_t)n_rows);
  if (!table) {
    fail_at(&ps, 0, "the memory limit is reached");
    goto done;
  }
  if (n_rows) memcpy(table->fields, rows, n_rows * sizeof *rows);
  out->rows = value_record(table);
  out->columns = value_list(columns, header.n);
  out->n_rows = (uint32_t)n_rows;
  out->separator = ps.sep;
  ok = true;

done:
  strmap_fini(&seen);
  free(rows);
  free(row.fields);
  free(header.fields);
  return ok;
}

bool csv_load(Arena *a, const char *path, const char *name, const CsvOptions *opt,
              CsvTable *out, Buf *err, uint32_t *err_line) {
  char why[256];
  size_t len;
  size_t max = opt && opt->max_bytes ? opt->max_bytes : CSV_DEFAULT_MAX_BYTES;
  if (!name) name = path;
  if (err_line) *err_line = 0;
  char *text = read_file(path, max, &len, why, sizeof why);
  if (!text) {
    buf_reset(err);
    buf_printf(err, "%s: cannot read the file: %s", name, why);
    return false;
  }
  bool ok = csv_parse(a, name, str_make(text, len), opt, out, err, err_line);
  free(text);
  return ok;
}
