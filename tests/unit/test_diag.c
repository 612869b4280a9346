/* Unit tests of compiler/diag.c: the cap, de-duplication, ordering,
** quoting of user text, and rendering that survives any source text. */
#include "common/buf.h"
#include "common/util.h"
#include "compiler/diag.h"
#include "compiler/source.h"
#include "tests/lib/check.h"

#include <string.h>

static uint32_t add(Sources *s, const char *path, const char *text, size_t len) {
  uint32_t id = 0;
  CHECK(sources_add_take(s, path, xstrndup(text, len), len, &id));
  return id;
}

TEST(cap_stops_after_max_errors) {
  Diags d;
  diags_init(&d, 3);
  for (uint32_t i = 0; i < 10; i++) diag_report(&d, DIAG_E0101, (Span){0, i, 1}, "e%u", i);
  CHECK_EQ_INT(d.n_items, 3);
  CHECK_EQ_INT(d.n_errors, 3);
  CHECK(d.stopped);
  CHECK(diag_report(&d, DIAG_W0101, (Span){0, 99, 1}, "w") == NULL);
  diags_fini(&d);
}

TEST(warnings_do_not_count_towards_the_cap) {
  Diags d;
  diags_init(&d, 2);
  for (uint32_t i = 0; i < 5; i++) diag_report(&d, DIAG_W0101, (Span){0, i, 1}, "w");
  CHECK_EQ_INT(d.n_warnings, 5);
  CHECK(!d.stopped);
  diags_fini(&d);
}

TEST(same_code_at_same_place_is_reported_once) {
  Diags d;
  diags_init(&d, 0);
  CHECK(diag_report(&d, DIAG_E0101, (Span){0, 5, 1}, "a") != NULL);
  CHECK(diag_report(&d, DIAG_E0101, (Span){0, 5, 2}, "b") == NULL);
  CHECK(diag_report(&d, DIAG_E0103, (Span){0, 5, 1}, "c") != NULL);
  CHECK_EQ_INT(d.n_items, 2);
  diags_fini(&d);
}

TEST(sorted_by_file_position_then_report_order) {
  Diags d;
  diags_init(&d, 0);
  diag_report(&d, DIAG_E0101, (Span){1, 0, 1}, "third");
  diag_report(&d, DIAG_E0101, (Span){0, 9, 1}, "second");
  diag_report(&d, DIAG_E0003, (Span){0, 2, 1}, "first");
  diag_report(&d, DIAG_E0004, (Span){0, 9, 1}, "second too");
  diags_sort(&d);
  CHECK_EQ_STR(d.items[0].message, "first");
  CHECK_EQ_STR(d.items[1].message, "second");
  CHECK_EQ_STR(d.items[2].message, "second too");
  CHECK_EQ_STR(d.items[3].message, "third");
  diags_fini(&d);
}

TEST(quote_cuts_and_cleans) {
  Diags d;
  diags_init(&d, 0);
  CHECK_EQ_STR(diag_quote(&d, STR_LIT("email")), "email");
  CHECK_EQ_STR(diag_quote(&d, STR_LIT("a\nb\tc\x01")), "a\xef\xbf\xbd" "b c\xef\xbf\xbd");
  CHECK_EQ_STR(diag_quote(&d, STR_LIT("\xff")), "\xef\xbf\xbd");
  const char *long_text = "0123456789012345678901234567890123456789overflow";
  const char *q = diag_quote(&d, str_from_cstr(long_text));
  CHECK(strncmp(q, long_text, 40) == 0);
  CHECK_EQ_STR(q + 40, "\xe2\x80\xa6");
  diags_fini(&d);
}

TEST(text_rendering_matches_the_documented_layout) {
  Sources s;
  sources_init(&s);
  const char *text = "flow x \"d\"\nlet a = 1\n";
  uint32_t id = add(&s, "flows/shop.iexflow", text, strlen(text));
  Diags d;
  diags_init(&d, 0);
  Diag *dg = diag_report(&d, DIAG_E0101, (Span){id, 15, 1}, "unknown `a`");
  diag_help(&d, dg, "did you mean `b`?");
  Buf out;
  buf_init(&out, 0);
  diags_render(&d, &s, DIAG_FORMAT_TEXT, &out);
  CHECK_EQ_STR(buf_cstr(&out),
               "flows/shop.iexflow:2:5: error[E0101]: unknown `a`\n"
               "    2 | let a = 1\n"
               "      |     ^\n"
               "   help: did you mean `b`?\n");
  buf_fini(&out);
  diags_fini(&d);
  sources_fini(&s);
}

TEST(json_escapes_everything) {
  Sources s;
  sources_init(&s);
  uint32_t id = add(&s, "we\"ird\\path\xff.iexflow", "ab\ncd", 5);
  Diags d;
  diags_init(&d, 0);
  diag_report(&d, DIAG_E0003, (Span){id, 3, 2}, "tab\there \"q\" \x01");
  Buf out;
  buf_init(&out, 0);
  diags_render(&d, &s, DIAG_FORMAT_JSON, &out);
  CHECK_EQ_STR(buf_cstr(&out),
               "{\"file\":\"we\\\"ird\\\\path\\ufffd.iexflow\",\"line\":2,\"col\":1,"
               "\"end_line\":2,\"end_col\":3,\"severity\":\"error\",\"code\":\"E0003\","
               "\"message\":\"tab\\there \\\"q\\\" \\u0001\",\"help\":null}\n");
  buf_fini(&out);
  diags_fini(&d);
  sources_fini(&s);
}

TEST(huge_line_is_shown_through_a_window) {
  Sources s;
  sources_init(&s);
  size_t n = 10 * 1024 * 1024;
  char *text = xmalloc(n + 1);
  memset(text, 'a', n);
  text[n] = '\0';
  uint32_t id;
  CHECK(sources_add_take(&s, "big.iexflow", text, n, &id));
  Diags d;
  diags_init(&d, 0);
  diag_report(&d, DIAG_E0101, (Span){id, (uint32_t)(n / 2), 3}, "here");
  Buf out;
  buf_init(&out, 0);
  diags_render(&d, &s, DIAG_FORMAT_TEXT, &out);
  CHECK(out.len < 600);
  CHECK(strstr(buf_cstr(&out), ":1:5242881: error[E0101]: here\n") != NULL);
  /* the carets sit under the window's 41st character (after the "…") */
  const char *carets = strstr(buf_cstr(&out), "^^^");
  const char *line_start = carets;
  while (line_start > buf_cstr(&out) && line_start[-1] != '\n') line_start--;
  CHECK_EQ_INT(carets - line_start, 8 + 1 + 40);
  buf_fini(&out);
  diags_fini(&d);
  sources_fini(&s);
}

TEST(lookup_and_info) {
  DiagCode c;
  CHECK(diag_lookup("E0101", &c) && c == DIAG_E0101);
  CHECK(diag_lookup("w0101", &c) && c == DIAG_W0101);
  CHECK(!diag_lookup("E9999", &c));
  CHECK(!diag_lookup("", &c));
  for (int i = 0; i < DIAG__COUNT; i++) {
    const DiagInfo *info = diag_info((DiagCode)i);
    CHECK(strlen(info->code) == 5);
    CHECK(info->title[0] != '\0' && info->explanation[0] != '\0');
    /* messages and titles start lower-case and have no final period */
    CHECK(!(info->title[0] >= 'A' && info->title[0] <= 'Z'));
    CHECK(info->title[strlen(info->title) - 1] != '.');
  }
}

int main(void) {
  check_suite = "unit/diag";
  RUN(cap_stops_after_max_errors);
  RUN(warnings_do_not_count_towards_the_cap);
  RUN(same_code_at_same_place_is_reported_once);
  RUN(sorted_by_file_position_then_report_order);
  RUN(quote_cuts_and_cleans);
  RUN(text_rendering_matches_the_documented_layout);
  RUN(json_escapes_everything);
  RUN(huge_line_is_shown_through_a_window);
  RUN(lookup_and_info);
  return check_done();
}
