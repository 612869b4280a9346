/*
** Diagnostics: collecting and rendering what iexc tells the user.
**
** Phases append to a Diags list and keep going ("collect, don't unwind",
** STYLE.md 3.4); nothing is printed until the caller renders the list.
** Every code is defined once in diag.def. After `max_errors` errors the
** list stops accepting reports (`stopped` turns true) and phases should
** stop early; the rendered output then ends with "N errors, stopping".
**
** Text format (stderr):
**   flows/shop.iexflow:14:29: error[E0212]: unknown field `line_itmes` on shopify.order
**      14 |   lines = for item in order.line_itmes {
**         |                             ^^^^^^^^^^
**      help: did you mean `line_items`?
** JSON format (stdout, --format=json): one object per line with file, line,
** col, end_line, end_col (just past the last character), severity, code,
** message and help (null when there is none).
**
** Messages start lower-case, have no final period, and quote what the user
** wrote in backticks (use diag_quote() for the quoted text).
*/
#ifndef IEX_COMPILER_DIAG_H
#define IEX_COMPILER_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "compiler/source.h"

typedef enum DiagSeverity {
  DIAG_ERROR,
  DIAG_WARNING,
} DiagSeverity;

typedef enum DiagCode {
#define DIAG(code, severity, title, explanation) DIAG_##code,
#include "compiler/diag.def"
#undef DIAG
  DIAG__COUNT
} DiagCode;

/* What diag.def says about one code. */
typedef struct DiagInfo {
  const char *code;         /* "E0101" */
  DiagSeverity severity;
  const char *title;        /* short summary */
  const char *explanation;  /* for --explain and docs/diagnostics.md */
} DiagInfo;

typedef struct Diag {
  DiagCode code;
  DiagSeverity severity;
  Span span;            /* what the carets underline */
  const char *message;  /* owned by the Diags' arena */
  const char *help;     /* NULL, or owned by the Diags' arena */
  uint32_t seq;         /* report order; breaks ties when sorting */
} Diag;

typedef struct Diags {
  Arena arena;          /* owns messages, help texts and quoted strings */
  Diag *items;          /* owned (malloc'd array) */
  size_t n_items;
  size_t cap_items;
  size_t n_errors;      /* items with DIAG_ERROR */
  size_t n_warnings;    /* items with DIAG_WARNING */
  size_t max_errors;    /* stop accepting reports after this many errors */
  bool stopped;         /* max_errors was reached */
} Diags;

/* The default for Diags.max_errors. */
#define DIAG_MAX_ERRORS 50

typedef enum DiagFormat {
  DIAG_FORMAT_TEXT,
  DIAG_FORMAT_JSON,
} DiagFormat;

/* Start an empty list that stops after `max_errors` errors (0: default). */
void diags_init(Diags *d, size_t max_errors);
/* Free every diagnostic and its text. */
void diags_fini(Diags *d);

/* Report `code` at `span` with a printf-style message. Returns the new
** diagnostic (to attach help to), or NULL when it was dropped: because the
** list has stopped, or because the same code was just reported at the same
** span. The severity comes from diag.def. */
Diag *diag_report(Diags *d, DiagCode code, Span span, const char *fmt, ...)
    IEX_PRINTF(4, 5);
/* Attach a help line to `dg` (which may be NULL; then nothing happens). */
void diag_help(Diags *d, Diag *dg, const char *fmt, ...) IEX_PRINTF(3, 4);

/* User text made safe to quote in a message: at most 40 characters (then
** "…"), with line breaks, control characters and invalid UTF-8 shown as
** U+FFFD. The result is owned by the Diags' arena. */
const char *diag_quote(Diags *d, Str text);

/* Order the list by file, position and report order. Renderers print in
** list order, so call this first. */
void diags_sort(Diags *d);

/* Append every diagnostic to `out` in `format`, then, if the list stopped,
** the line "N errors, stopping". */
void diags_render(const Diags *d, const Sources *src, DiagFormat format, Buf *out);

/* The diag.def entry of `code`. */
const DiagInfo *diag_info(DiagCode code);
/* Find a code by its name ("E0101", any case). Returns false if unknown. */
bool diag_lookup(const char *name, DiagCode *code_out);
/* Append docs/diagnostics.md (every code, its title and explanation). */
void diag_write_markdown(Buf *out);

#endif /* IEX_COMPILER_DIAG_H */
