/* Unit tests of compiler/lexer.re: the token stream the parser sees, in
** particular where the line filter keeps a line break (docs/language.md
** "Lines"), bracket repairs, and literals. */
#include "common/buf.h"
#include "common/util.h"
#include "compiler/diag.h"
#include "compiler/grammar.h"
#include "compiler/lexer.h"
#include "compiler/source.h"
#include "tests/lib/check.h"

#include <string.h>

/* The tokens of `text` in a compact form ("name = int NL"), and the codes
** of the diagnostics reported, each after a `|`. The result is static. */
static const char *lex(const char *text) {
  static Buf out;
  buf_fini(&out);
  buf_init(&out, 0);
  Sources src;
  Diags diags;
  sources_init(&src);
  diags_init(&diags, 0);
  uint32_t id;
  size_t len = strlen(text);
  sources_add_take(&src, "t.iexflow", xstrndup(text, len), len, &id);
  const SourceFile *f = sources_file(&src, id);
  Lexer lx;
  lexer_init(&lx, f->text, f->len, id, 0, &diags, &src, false);
  for (int guard = 0; guard < 1000; guard++) {
    Token t = lexer_next(&lx);
    if (out.len) buf_putc(&out, ' ');
    switch (t.kind) {
      case 0: buf_puts(&out, "EOF"); break;
      case TK_NL: buf_puts(&out, "NL"); break;
      case TK_NAME: buf_printf(&out, "%.*s", (int)t.text.len, t.text.ptr); break;
      case TK_STRING: buf_puts(&out, "str"); break;
      case TK_INT: buf_puts(&out, "int"); break;
      case TK_DECIMAL: buf_puts(&out, "dec"); break;
      case TK_DATE: buf_puts(&out, "date"); break;
      case TK_DATETIME: buf_puts(&out, "datetime"); break;
      default: {
        const char *name = lexer_token_name(t.kind);
        /* "`else`" -> "ELSE" for keywords, "`=`" -> "=" for the rest */
        const char *kw = lexer_keyword_text(t.kind);
        if (kw) {
          for (const char *p = kw; *p; p++) buf_putc(&out, (char)(*p - 'a' + 'A'));
        } else {
          buf_append(&out, name + 1, strlen(name) - 2);
        }
      }
    }
    if (t.flags & TOKEN_SYNTHETIC) buf_putc(&out, '*');
    if (t.kind == 0) break;
  }
  for (size_t i = 0; i < diags.n_items; i++)
    buf_printf(&out, " |%s", diag_info(diags.items[i].code)->code);
  diags_fini(&diags);
  sources_fini(&src);
  return buf_cstr(&out);
}

TEST(line_break_ends_declarations) {
  CHECK_EQ_STR(lex("let a = 1\nlet b = 2\n"), "LET a = int NL LET b = int NL EOF");
  /* blank and comment lines merge; a missing final newline is supplied */
  CHECK_EQ_STR(lex("\n\n# c\nlet a = 1\n\n  # c\n\nlet b = 2"),
               "LET a = int NL LET b = int NL EOF");
  CHECK_EQ_STR(lex(""), "EOF");
  CHECK_EQ_STR(lex("# only a comment"), "EOF");
}

TEST(operator_at_end_continues) {
  CHECK_EQ_STR(lex("a = b ??\n  c\n"), "a = b ?? c NL EOF");
  CHECK_EQ_STR(lex("a = b +\n c\n"), "a = b + c NL EOF");
  CHECK_EQ_STR(lex("a = x and\n y\n"), "a = x AND y NL EOF");
  CHECK_EQ_STR(lex("a = f(x,\n y)\n"), "a = f ( x , y ) NL EOF");
  CHECK_EQ_STR(lex("a =\n 1\n"), "a = int NL EOF");
  CHECK_EQ_STR(lex("x = if c then\n 1 else 2\n"), "x = IF c THEN int ELSE int NL EOF");
}

TEST(continuation_at_start_of_line) {
  CHECK_EQ_STR(lex("a = b\n  ?? c\n"), "a = b ?? c NL EOF");
  CHECK_EQ_STR(lex("a = b\n  .c\n"), "a = b . c NL EOF");
  CHECK_EQ_STR(lex("x = if c then 1\n  else 2\n"), "x = IF c THEN int ELSE int NL EOF");
  CHECK_EQ_STR(lex("on s.o reaches paid\n  where x\n  via webhook\n  updates: apply\n"),
               "ON s . o REACHES paid WHERE x VIA WEBHOOK UPDATES : apply NL EOF");
  /* a line starting with `-` is a new element, not a subtraction */
  CHECK_EQ_STR(lex("[\n1\n-2\n]\n"), "[ int NL - int NL ] NL EOF");
}

TEST(else_arrow_and_keys_are_not_continuations) {
  CHECK_EQ_STR(lex("m = match x {\n 1 => 2\n else => 3\n}\n"),
               "m = MATCH x { int => int NL ELSE => int NL } NL EOF");
  CHECK_EQ_STR(lex("r = {\n a = 1\n when = 2\n via: 3\n}\n"),
               "r = { a = int NL WHEN = int NL VIA : int NL } NL EOF");
}

TEST(settings_continue_with_equals_pipe_and_description) {
  CHECK_EQ_STR(lex("setting s: a\n  | b\n  = a\n  \"doc\"\n"),
               "SETTING s : a | b = a str NL EOF");
  /* inside a record a string starts an entry */
  CHECK_EQ_STR(lex("r = {\n a = 1\n \"B\" = 2\n}\n"), "r = { a = int NL str = int NL } NL EOF");
}

TEST(parentheses_hide_line_breaks_but_braces_inside_do_not) {
  CHECK_EQ_STR(lex("x = sum(\n  for i in l {\n    a = 1\n    b = 2\n  }\n)\n"),
               "x = sum ( FOR i IN l { a = int NL b = int NL } ) NL EOF");
}

TEST(index_brackets_hide_line_breaks_lists_do_not) {
  CHECK_EQ_STR(lex("x = a[\n0\n]\n"), "x = a [ int ] NL EOF");
  CHECK_EQ_STR(lex("x = [\n0\n1\n]\n"), "x = [ int NL int NL ] NL EOF");
  CHECK_EQ_STR(lex("x = y in [\n0\n]\n"), "x = y IN [ int NL ] NL EOF");
}

TEST(keywords_after_dot_are_names) {
  CHECK_EQ_STR(lex("x = order.test.if.for\n"), "x = order . test . if . for NL EOF");
  CHECK_EQ_STR(lex("x = max(a)\n"), "x = MAX ( a ) NL EOF");  /* fallback is the parser's */
}

TEST(brace_at_start_of_line) {
  CHECK_EQ_STR(lex("step s = x.y.z()\n{\n}\n"), "STEP s = x . y . z ( ) { } NL EOF |E0102");
  CHECK_EQ_STR(lex("l = [\n  {}\n  {}\n]\n"), "l = [ { } NL { } NL ] NL EOF");
}

TEST(forgotten_brace_is_closed_before_a_declaration) {
  CHECK_EQ_STR(lex("step a = {\n  x = 1\n\nstep b = {\n}\n"),
               "STEP a = { x = int }* NL STEP b = { } NL EOF |E0103");
  /* indented, or followed by `=`: not a new declaration */
  CHECK_EQ_STR(lex("r = {\n  step = 1\n}\n"), "r = { STEP = int NL } NL EOF");
  CHECK_EQ_STR(lex("r = {\nstep = 1\n}\n"), "r = { STEP = int NL } NL EOF");
}

TEST(brackets_repaired) {
  CHECK_EQ_STR(lex("x = (1]\n"), "x = ( int )* NL EOF |E0104");
  CHECK_EQ_STR(lex("x = [(1]\n"), "x = [ ( int )* ] NL EOF |E0103");
  CHECK_EQ_STR(lex("x = 1)\n"), "x = int NL EOF |E0104");
  CHECK_EQ_STR(lex("x = {\n"), "x = { }* NL EOF |E0103");
}

TEST(literals) {
  CHECK_EQ_STR(lex("x = 1 1.5 1e3 2.5E-2 @2024-02-29 @2025-07-01T10:00:00Z \"s\"\n"),
               "x = int dec dec dec date datetime str NL EOF");
  CHECK_EQ_STR(lex("x = \"a {\"}\"} b\"\n"), "x = str NL EOF");
  CHECK_EQ_STR(lex("x = \"open\n"), "x = str NL EOF |E0004");
  CHECK_EQ_STR(lex("x = 99999999999999999999\n"), "x = int NL EOF |E0007");
  CHECK_EQ_STR(lex("x = @2023-02-29\n"), "x = date NL EOF |E0008");
}

TEST(stray_characters_with_a_meaning_become_tokens) {
  CHECK_EQ_STR(lex("x = a && b || !c\n"), "x = a AND b OR NOT c NL EOF |E0003 |E0003 |E0003");
  CHECK_EQ_STR(lex("x = 1;\n"), "x = int NL EOF |E0003");
}

TEST(nesting_limit_stops_the_file) {
  char text[600];
  memset(text, '(', 300);
  text[300] = '\0';
  const char *got = lex(text);
  CHECK(strstr(got, "|E0106") != NULL);
  CHECK(strstr(got, "E0103") == NULL);  /* no complaint about the unclosed ones */
}

TEST(interp_end_skips_nested_strings) {
  const char *s = "{f(\"}\", {a = \"{x}\"})} rest";
  CHECK_EQ_STR(lexer_interp_end(s), "} rest");
}

int main(void) {
  check_suite = "unit/lexer";
  RUN(line_break_ends_declarations);
  RUN(operator_at_end_continues);
  RUN(continuation_at_start_of_line);
  RUN(else_arrow_and_keys_are_not_continuations);
  RUN(settings_continue_with_equals_pipe_and_description);
  RUN(parentheses_hide_line_breaks_but_braces_inside_do_not);
  RUN(index_brackets_hide_line_breaks_lists_do_not);
  RUN(keywords_after_dot_are_names);
  RUN(brace_at_start_of_line);
  RUN(forgotten_brace_is_closed_before_a_declaration);
  RUN(brackets_repaired);
  RUN(literals);
  RUN(stray_characters_with_a_meaning_become_tokens);
  RUN(nesting_limit_stops_the_file);
  RUN(interp_end_skips_nested_strings);
  return check_done();
}
