/*
** Collecting, sorting and rendering diagnostics (diag.h), and the table of
** codes built from diag.def.
**
** Rendering never trusts the source: lines are shown through a window of
** at most WINDOW_COLS characters around the caret (a 10 MB line prints as
** one short line), and control characters and invalid UTF-8 are shown as
** U+FFFD so that a diagnostic about binary garbage cannot garble a
** terminal or produce invalid JSON.
*/
#include "compiler/diag.h"

#include "common/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const DiagInfo infos[] = {
#define DIAG(code, severity, title, explanation) {#code, DIAG_##severity, title, explanation},
#include "compiler/diag.def"
#undef DIAG
};
_Static_assert(ARRAY_LEN(infos) == DIAG__COUNT, "one DiagInfo per code");

/* Characters of a source line shown around the caret, and how many of
** them come before it when the line has to be cut. */
#define WINDOW_COLS 120
#define WINDOW_BEFORE 40
/* Characters of user text quoted in a message. */
#define QUOTE_COLS 40

static const char REPLACEMENT[] = "\xef\xbf\xbd";  /* U+FFFD */
static const char ELLIPSIS[] = "\xe2\x80\xa6";     /* U+2026 */

const DiagInfo *diag_info(DiagCode code) {
  if ((unsigned)code >= DIAG__COUNT) iex_fatal("bad diagnostic code %d", (int)code);
  return &infos[code];
}

bool diag_lookup(const char *name, DiagCode *code_out) {
  for (size_t i = 0; i < ARRAY_LEN(infos); i++) {
    if (strcasecmp(infos[i].code, name) == 0) {
      *code_out = (DiagCode)i;
      return true;
    }
  }
  return false;
}

void diags_init(Diags *d, size_t max_errors) {
  memset(d, 0, sizeof *d);
  arena_init(&d->arena);
  d->max_errors = max_errors ? max_errors : DIAG_MAX_ERRORS;
}

void diags_fini(Diags *d) {
  arena_fini(&d->arena);
  free(d->items);
  memset(d, 0, sizeof *d);
}

static char *vformat(Arena *a, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  char *s = arena_alloc(a, (size_t)n + 1);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

Diag *diag_report(Diags *d, DiagCode code, Span span, const char *fmt, ...) {
  if (d->stopped) return NULL;
  /* One mistake seen twice (by the lexer and again by the parser, say) is
  ** reported once. */
  if (d->n_items) {
    const Diag *last = &d->items[d->n_items - 1];
    if (last->code == code && last->span.file_id == span.file_id &&
        last->span.offset == span.offset)
      return NULL;
  }
  Diag dg = {0};
  dg.code = code;
  dg.severity = diag_info(code)->severity;
  dg.span = span;
  dg.seq = (uint32_t)d->n_items;
  va_list ap;
  va_start(ap, fmt);
  dg.message = vformat(&d->arena, fmt, ap);
  va_end(ap);
  VEC_PUSH(d->items, d->n_items, d->cap_items, dg);
  if (dg.severity == DIAG_ERROR) {
    if (++d->n_errors >= d->max_errors) d->stopped = true;
  } else {
    d->n_warnings++;
  }
  return &d->items[d->n_items - 1];
}

void diag_help(Diags *d, Diag *dg, const char *fmt, ...) {
  if (!dg) return;
  va_list ap;
  va_start(ap, fmt);
  dg->help = vformat(&d->arena, fmt, ap);
  va_end(ap);
}

/* Append one character of source text, made safe for a terminal: returns
** the number of bytes consumed. Tabs are kept (the caret line copies them
** so that columns stay aligned). */
static size_t put_safe_char(Buf *out, const char *p, size_t avail) {
  unsigned char c = (unsigned char)*p;
  size_t n = utf8_len(p, avail);
  if (n == 0) {
    buf_puts(out, REPLACEMENT);
    return 1;
  }
  if (n == 1 && ((c < 0x20 && c != '\t') || c == 0x7f)) {
    buf_puts(out, REPLACEMENT);
    return 1;
  }
  buf_append(out, p, n);
  return n;
}

const char *diag_quote(Diags *d, Str text) {
  Buf b;
  buf_init(&b, 0);
  size_t i = 0, cols = 0;
  while (i < text.len && cols < QUOTE_COLS) {
    if (text.ptr[i] == '\t') {
      buf_putc(&b, ' ');
      i++;
    } else {
      i += put_safe_char(&b, text.ptr + i, text.len - i);
    }
    cols++;
  }
  if (i < text.len) buf_puts(&b, ELLIPSIS);
  char *s = arena_strndup(&d->arena, buf_cstr(&b), b.len);
  buf_fini(&b);
  return s;
}

static int compare_diags(const void *pa, const void *pb) {
  const Diag *a = pa, *b = pb;
  if (a->span.file_id != b->span.file_id) return a->span.file_id < b->span.file_id ? -1 : 1;
  if (a->span.offset != b->span.offset) return a->span.offset < b->span.offset ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void diags_sort(Diags *d) {
  if (d->n_items > 1) qsort(d->items, d->n_items, sizeof *d->items, compare_diags);
}

static const char *severity_name(DiagSeverity s) {
  switch (s) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
  }
  return "error";
}

/* Step back over at most `cols` characters from byte `pos` of `line`. */
static size_t back_columns(Str line, size_t pos, size_t cols) {
  while (pos > 0 && cols > 0) {
    pos--;
    /* Continuation bytes belong to the character before them. */
    int k = 0;
    while (pos > 0 && k < 3 && ((unsigned char)line.ptr[pos] & 0xc0) == 0x80) pos--, k++;
    cols--;
  }
  return pos;
}

/* Does `p` (`len` bytes) hold more than `cols` characters? Stops counting
** early, so a 10 MB line costs no more than a short one. */
static bool more_columns_than(const char *p, size_t len, size_t cols) {
  if (len <= cols) return false;
  size_t i = 0, n = 0;
  while (i < len && n <= cols) {
    size_t k = utf8_len(p + i, len - i);
    i += k ? k : 1;
    n++;
  }
  return n > cols;
}

/* The source line and the caret line under it. `start` and `end` are byte
** positions in `line` (end >= start; the carets cover at least one
** column). */
static void render_snippet(Buf *out, uint32_t line_no, Str line, size_t start,
                           size_t end) {
  char num[16];
  int w = snprintf(num, sizeof num, "%u", line_no);
  if (w < 5) w = 5;
  size_t from = 0;
  if (more_columns_than(line.ptr, line.len, WINDOW_COLS) &&
      more_columns_than(line.ptr, start, WINDOW_BEFORE))
    from = back_columns(line, start, WINDOW_BEFORE);

  /* The source line, cut to the window. */
  buf_printf(out, "%*u |", w, line_no);
  if (line.len) buf_putc(out, ' ');
  if (from > 0) buf_puts(out, ELLIPSIS);
  size_t i = from, cols = 0;
  while (i < line.len && cols < WINDOW_COLS) {
    i += put_safe_char(out, line.ptr + i, line.len - i);
    cols++;
  }
  if (i < line.len) buf_puts(out, ELLIPSIS);
  size_t shown_end = i;
  buf_putc(out, '\n');

  /* The carets. */
  buf_printf(out, "%*s | ", w, "");
  if (from > 0) buf_putc(out, ' ');
  for (i = from; i < start && i < shown_end;) {
    if (line.ptr[i] == '\t') {
      buf_putc(out, '\t');
      i++;
    } else {
      size_t n = utf8_len(line.ptr + i, line.len - i);
      buf_putc(out, ' ');
      i += n ? n : 1;
    }
  }
  size_t carets = 0;
  if (end > start) {
    size_t stop = end < shown_end ? end : shown_end;
    if (stop > start) carets = source_count_columns(line.ptr + start, stop - start);
  }
  if (carets == 0) carets = 1;
  for (size_t k = 0; k < carets; k++) buf_putc(out, '^');
  buf_putc(out, '\n');
}

static void render_text(const Diag *dg, const Sources *src, Buf *out) {
  const SourceFile *f = sources_file(src, dg->span.file_id);
  LineCol lc = sources_line_col(src, dg->span.file_id, dg->span.offset);
  buf_printf(out, "%s:%u:%u: %s[%s]: %s\n", f->path, lc.line, lc.col,
             severity_name(dg->severity), diag_info(dg->code)->code, dg->message);
  Str line = sources_line_text(src, dg->span.file_id, lc.line);
  size_t line_start = f->line_starts[lc.line - 1];
  size_t start = dg->span.offset - line_start;
  if (start > line.len) start = line.len;  /* at a line break */
  size_t end = start + dg->span.len;
  if (end > line.len) end = line.len;
  render_snippet(out, lc.line, line, start, end);
  if (dg->help) buf_printf(out, "   help: %s\n", dg->help);
}

/* A JSON string literal of `s`, with invalid UTF-8 as U+FFFD. */
static void put_json_string(Buf *out, const char *s) {
  size_t len = strlen(s);
  buf_putc(out, '"');
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)c);
      i++;
    } else if (c == '\n') {
      buf_puts(out, "\\n");
      i++;
    } else if (c == '\t') {
      buf_puts(out, "\\t");
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      buf_printf(out, "\\u%04x", c);
      i++;
    } else {
      size_t n = utf8_len(s + i, len - i);
      if (n == 0) {
        buf_puts(out, "\\ufffd");
        i++;
      } else {
        buf_append(out, s + i, n);
        i += n;
      }
    }
  }
  buf_putc(out, '"');
}

static void render_json(const Diag *dg, const Sources *src, Buf *out) {
  const SourceFile *f = sources_file(src, dg->span.file_id);
  LineCol a = sources_line_col(src, dg->span.file_id, dg->span.offset);
  LineCol b = sources_line_col(src, dg->span.file_id, dg->span.offset + dg->span.len);
  buf_puts(out, "{\"file\":");
  put_json_string(out, f->path);
  buf_printf(out, ",\"line\":%u,\"col\":%u,\"end_line\":%u,\"end_col\":%u,\"severity\":\"%s\",\"code\":\"%s\",\"message\":",
             a.line, a.col, b.line, b.col, severity_name(dg->severity),
             diag_info(dg->code)->code);
  put_json_string(out, dg->message);
  buf_puts(out, ",\"help\":");
  if (dg->help) put_json_string(out, dg->help);
  else buf_puts(out, "null");
  buf_puts(out, "}\n");
}

void diags_render(const Diags *d, const Sources *src, DiagFormat format, Buf *out) {
  for (size_t i = 0; i < d->n_items; i++) {
    if (format == DIAG_FORMAT_JSON) render_json(&d->items[i], src, out);
    else render_text(&d->items[i], src, out);
  }
  if (d->stopped) {
    if (format == DIAG_FORMAT_JSON)
      buf_printf(out, "{\"file\":null,\"line\":null,\"col\":null,\"end_line\":null,"
                      "\"end_col\":null,\"severity\":\"note\",\"code\":null,"
                      "\"message\":\"%zu errors, stopping\",\"help\":null}\n",
                 d->n_errors);
    else
      buf_printf(out, "%zu errors, stopping\n", d->n_errors);
  }
}

void diag_write_markdown(Buf *out) {
  buf_puts(out,
           "# Diagnostics\n"
           "\n"
           "<!-- Generated from compiler/diag.def by `make docs`; do not edit. -->\n"
           "\n"
           "Every diagnostic `iexc` can report. `iexc --explain CODE` prints the\n"
           "same explanation in a terminal. Codes: E00xx lexical, E01xx syntax,\n"
           "E02xx names and fields, E03xx types, E04xx settings, E05xx steps,\n"
           "triggers and the step graph, E06xx files, Lua, tests and tables;\n"
           "warnings (W) use the same ranges.\n"
           "\n"
           "| Code | Severity | Title |\n"
           "|---|---|---|\n");
  for (size_t i = 0; i < ARRAY_LEN(infos); i++)
    buf_printf(out, "| [%s](#%s) | %s | %s |\n", infos[i].code, infos[i].code,
               severity_name(infos[i].severity), infos[i].title);
  for (size_t i = 0; i < ARRAY_LEN(infos); i++) {
    buf_printf(out, "\n<a id=\"%s\"></a>\n## %s: %s\n\n*%s*\n\n%s\n", infos[i].code,
               infos[i].code, infos[i].title, severity_name(infos[i].severity),
               infos[i].explanation);
  }
}
