/* Unit tests of compiler/source.c: line tables, span -> line:col in
** characters (UTF-8), line text, UTF-8 sequence validation. */
#include "common/util.h"
#include "compiler/source.h"
#include "tests/lib/check.h"

#include <string.h>

static uint32_t add(Sources *s, const char *text) {
  uint32_t id = 0;
  size_t len = strlen(text);
  CHECK(sources_add_take(s, "t.iexflow", xstrndup(text, len), len, &id));
  return id;
}

#define CHECK_POS(s, id, offset, want_line, want_col)                 \
  do {                                                                \
    LineCol lc_ = sources_line_col((s), (id), (offset));              \
    CHECK_EQ_INT(lc_.line, (want_line));                              \
    CHECK_EQ_INT(lc_.col, (want_col));                                \
  } while (0)

TEST(ascii_positions) {
  Sources s;
  sources_init(&s);
  uint32_t id = add(&s, "ab\ncd\n\nef");
  CHECK_POS(&s, id, 0, 1, 1);
  CHECK_POS(&s, id, 1, 1, 2);
  CHECK_POS(&s, id, 2, 1, 3);  /* the line break ends line 1 */
  CHECK_POS(&s, id, 3, 2, 1);
  CHECK_POS(&s, id, 6, 3, 1);  /* an empty line */
  CHECK_POS(&s, id, 7, 4, 1);
  CHECK_POS(&s, id, 9, 4, 3);  /* the end of the file */
  CHECK_POS(&s, id, 99, 4, 3); /* past the end: clamped */
  CHECK_EQ_INT(sources_file(&s, id)->n_lines, 4);
  sources_fini(&s);
}

TEST(columns_count_characters) {
  Sources s;
  sources_init(&s);
  /* ø and æ are 2 bytes, → is 3, 🙂 is 4. */
  uint32_t id = add(&s, "Søren æ → 🙂 x");
  const char *text = sources_file(&s, id)->text;
  CHECK_POS(&s, id, (uint32_t)(strstr(text, "ren") - text), 1, 3);
  CHECK_POS(&s, id, (uint32_t)(strstr(text, "x") - text), 1, 13);
  sources_fini(&s);
}

TEST(invalid_bytes_are_one_column_each) {
  Sources s;
  sources_init(&s);
  uint32_t id = add(&s, "a\xff\xfe\xc3 b");
  CHECK_POS(&s, id, 5, 1, 6);
  CHECK_EQ_INT(source_count_columns("\xe2\x82", 2), 2);  /* a cut sequence */
  sources_fini(&s);
}

TEST(line_text_without_line_break) {
  Sources s;
  sources_init(&s);
  uint32_t id = add(&s, "first\r\nsecond\n\nlast");
  Str l1 = sources_line_text(&s, id, 1);
  CHECK(str_eq_cstr(l1, "first"));
  CHECK(str_eq_cstr(sources_line_text(&s, id, 2), "second"));
  CHECK(str_eq_cstr(sources_line_text(&s, id, 3), ""));
  CHECK(str_eq_cstr(sources_line_text(&s, id, 4), "last"));
  CHECK(str_eq_cstr(sources_line_text(&s, id, 5), ""));
  CHECK(str_eq_cstr(sources_line_text(&s, id, 0), ""));
  sources_fini(&s);
}

TEST(empty_file) {
  Sources s;
  sources_init(&s);
  uint32_t id = add(&s, "");
  CHECK_POS(&s, id, 0, 1, 1);
  CHECK(str_eq_cstr(sources_line_text(&s, id, 1), ""));
  sources_fini(&s);
}

TEST(many_lines_binary_search) {
  Sources s;
  sources_init(&s);
  size_t n = 100000;
  char *text = xmalloc(n * 2 + 1);
  for (size_t i = 0; i < n; i++) text[2 * i] = 'x', text[2 * i + 1] = '\n';
  text[2 * n] = '\0';
  uint32_t id;
  CHECK(sources_add_take(&s, "big", text, 2 * n, &id));
  CHECK_POS(&s, id, 0, 1, 1);
  CHECK_POS(&s, id, 2 * 54321 + 1, 54322, 2);
  CHECK_POS(&s, id, (uint32_t)(2 * n - 2), (uint32_t)n, 1);
  sources_fini(&s);
}

TEST(load_reports_io_errors) {
  Sources s;
  sources_init(&s);
  uint32_t id;
  char err[128];
  CHECK(!sources_load(&s, "tests/unit/no-such-file", &id, err, sizeof err));
  CHECK(strstr(err, "No such file") != NULL);
  CHECK(!sources_load(&s, "tests/unit", &id, err, sizeof err));
  CHECK_EQ_STR(err, "is a directory");
  CHECK_EQ_INT(s.n_files, 0);
  sources_fini(&s);
}

TEST(span_join_covers_both) {
  Span a = {0, 10, 3}, b = {0, 20, 5};
  Span j = span_join(a, b);
  CHECK_EQ_INT(j.offset, 10);
  CHECK_EQ_INT(j.len, 15);
  Span other_file = {1, 30, 1};
  CHECK_EQ_INT(span_join(a, other_file).len, 3);
}

int main(void) {
  check_suite = "unit/source";
  RUN(ascii_positions);
  RUN(columns_count_characters);
  RUN(invalid_bytes_are_one_column_each);
  RUN(line_text_without_line_break);
  RUN(empty_file);
  RUN(many_lines_binary_search);
  RUN(load_reports_io_errors);
  RUN(span_join_covers_both);
  return check_done();
}
