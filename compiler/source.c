/*
** Loaded source files, line-start tables and span -> line:col (source.h).
**
** The line table is built once per file in one pass; a lookup is a binary
** search for the line and a character count within it, so reporting stays
** cheap even for a 10 MB file on one line.
*/
#include "compiler/source.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

void sources_init(Sources *s) { memset(s, 0, sizeof *s); }

void sources_fini(Sources *s) {
  for (uint32_t i = 0; i < s->n_files; i++) {
    SourceFile *f = s->files[i];
    free(f->path);
    free(f->text);
    free(f->line_starts);
    free(f);
  }
  free(s->files);
  sources_init(s);
}

static void build_line_table(SourceFile *f) {
  uint32_t n = 1;
  for (uint32_t i = 0; i < f->len; i++)
    if (f->text[i] == '\n') n++;
  f->line_starts = xmalloc(n * sizeof *f->line_starts);
  f->line_starts[0] = 0;
  uint32_t k = 1;
  for (uint32_t i = 0; i < f->len; i++)
    if (f->text[i] == '\n') f->line_starts[k++] = i + 1;
  f->n_lines = n;
}

bool sources_add_take(Sources *s, const char *path, char *text, size_t len,
                      uint32_t *file_id_out) {
  if (len > SOURCE_MAX_BYTES) {
    free(text);
    return false;
  }
  SourceFile *f = xcalloc(1, sizeof *f);
  f->path = xstrdup(path);
  f->text = text;
  f->len = (uint32_t)len;
  build_line_table(f);
  VEC_PUSH(s->files, s->n_files, s->cap_files, f);
  *file_id_out = s->n_files - 1;
  return true;
}

bool sources_load(Sources *s, const char *path, uint32_t *file_id_out,
                  char *err, size_t err_size) {
  size_t len;
  char *text = read_file(path, SOURCE_MAX_BYTES, &len, err, err_size);
  if (!text) return false;
  /* read_file() enforces the same limit, so this cannot fail. */
  return sources_add_take(s, path, text, len, file_id_out);
}

const SourceFile *sources_file(const Sources *s, uint32_t file_id) {
  if (file_id >= s->n_files) iex_fatal("no source file %u", file_id);
  return s->files[file_id];
}

uint32_t source_count_columns(const char *p, size_t len) {
  return (uint32_t)utf8_count(p, len);
}

/* The 0-based index of the line that contains `offset`. */
static uint32_t line_index(const SourceFile *f, uint32_t offset) {
  uint32_t lo = 0, hi = f->n_lines;  /* answer in [lo, hi) */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (f->line_starts[mid] <= offset) lo = mid;
    else hi = mid;
  }
  return lo;
}

LineCol sources_line_col(const Sources *s, uint32_t file_id, uint32_t offset) {
  const SourceFile *f = sources_file(s, file_id);
  if (offset > f->len) offset = f->len;
  uint32_t li = line_index(f, offset);
  uint32_t start = f->line_starts[li];
  LineCol lc = {li + 1, 1 + source_count_columns(f->text + start, offset - start)};
  return lc;
}

Str sources_line_text(const Sources *s, uint32_t file_id, uint32_t line) {
  const SourceFile *f = sources_file(s, file_id);
  if (line == 0 || line > f->n_lines) return str_make("", 0);
  uint32_t start = f->line_starts[line - 1];
  uint32_t end = line < f->n_lines ? f->line_starts[line] - 1 : f->len;
  if (end > start && f->text[end - 1] == '\r') end--;
  return str_make(f->text + start, end - start);
}

Span span_join(Span a, Span b) {
  Span s = a;
  if (b.file_id == a.file_id && b.offset + b.len > a.offset)
    s.len = b.offset + b.len - a.offset;
  return s;
}
