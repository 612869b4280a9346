/*
** Sources: the files one compilation reads, and where things are in them.
**
** Every token, AST node and diagnostic carries a Span {file_id, offset, len}:
** a byte range in one loaded file. Line and column are computed only when a
** message is printed (STYLE.md 3.4), from a line-start table built when the
** file is added. Columns count characters, not bytes: a valid UTF-8 sequence
** is one column, and so is each byte that is not part of one, so carets line
** up under text such as "Søren" in a terminal.
**
** Invariants: a file's text is NUL-terminated and lives (unchanged) until
** sources_fini(); offsets are 32-bit, so files are limited to
** SOURCE_MAX_BYTES.
*/
#ifndef IEX_COMPILER_SOURCE_H
#define IEX_COMPILER_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"
#include "common/utf8.h"

/* The largest file iexc reads (a flow, a schema, a fixture). */
#define SOURCE_MAX_BYTES ((size_t)64 * 1024 * 1024)

typedef struct Span {
  uint32_t file_id;  /* index into Sources.files */
  uint32_t offset;   /* first byte */
  uint32_t len;      /* number of bytes; 0 for a position (end of file) */
} Span;

typedef struct SourceFile {
  char *path;            /* owned; as given on the command line or found */
  char *text;            /* owned; NUL-terminated file contents */
  uint32_t len;          /* bytes of text, excluding the NUL */
  uint32_t *line_starts; /* owned; offset of the first byte of each line */
  uint32_t n_lines;      /* entries in line_starts (at least 1) */
} SourceFile;

typedef struct Sources {
  SourceFile **files;  /* owned; indexed by file_id */
  uint32_t n_files;
  size_t cap_files;
} Sources;

/* A position for people: 1-based line and column (in characters). */
typedef struct LineCol {
  uint32_t line;
  uint32_t col;
} LineCol;

void sources_init(Sources *s);
/* Free every file. */
void sources_fini(Sources *s);

/* Add a file whose contents the caller already has. `text` (of `len`
** bytes, NUL-terminated at text[len]) must come from malloc(); Sources
** takes ownership of it. `path` is copied. Returns the new file_id. Fails
** (returns false) only when `len` exceeds SOURCE_MAX_BYTES; then `text`
** is freed. */
bool sources_add_take(Sources *s, const char *path, char *text, size_t len,
                      uint32_t *file_id_out);
/* Read `path` from disk and add it. On failure returns false and writes a
** one-line reason ("No such file or directory", "is a directory") into
** `err`. */
bool sources_load(Sources *s, const char *path, uint32_t *file_id_out,
                  char *err, size_t err_size);

/* The file with this id (which must exist). */
const SourceFile *sources_file(const Sources *s, uint32_t file_id);

/* The line and column of byte `offset` in file `file_id`. An offset at the
** end of the file is the position just after the last character. */
LineCol sources_line_col(const Sources *s, uint32_t file_id, uint32_t offset);
/* The text of 1-based line `line`, without its line break (and without a
** trailing '\r'). */
Str sources_line_text(const Sources *s, uint32_t file_id, uint32_t line);

/* The number of columns (characters, as the header comment defines them) in
** `len` bytes. */
uint32_t source_count_columns(const char *p, size_t len);

/* A span covering `a` through `b` (same file; `b` ends at or after `a`). */
Span span_join(Span a, Span b);

#endif /* IEX_COMPILER_SOURCE_H */
