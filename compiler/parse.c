/*
** The parser driver (parse.h): lexer -> Lemon -> AST, syntax-error
** messages, error recovery, and string literals with interpolation.
**
** Error recovery. Lemon's own recovery (pop to a state that can shift
** `error`, discard tokens until one fits, report nothing for three
** shifts) is coarse on its own: it would discard a `{` and then take the
** matching `}` for the end of the enclosing record, and it hides a real
** error on the next line. The grammar puts `error` only at the top level
** and directly inside `{ }` and `[ ]`, and this driver matches it:
** - after a syntax error it notes the recovery level L: the number of open
**   brackets up to the innermost `{` or list `[` (Token.level);
** - while recovering it withholds every token nested deeper than L, so
**   Lemon never sees the inside of a bracket it is skipping;
** - the first NL (or `,`, or the closing bracket) at level L ends the
**   broken declaration or entry; then grammar_resync() makes Lemon report
**   the very next error, which is therefore independent of the first.
**
** Memory: everything lives in the caller's arena except Lemon's stack,
** which is malloc'd per parser and freed here.
*/
#include "compiler/parse_int.h"

#include "common/utf8.h"
#include "compiler/grammar.h"

/* Lemon's stack grows with right-nested constructs (`not not not ...`).
** Real flows stay under a hundred entries; this bounds memory for
** generated input. */
#define MAX_PARSER_STACK 4000
/* Interpolations inside interpolations (`"{f("{x}")}"`). */
#define MAX_INTERP_DEPTH 16

static AstNode *parse_tokens(Parse *p, Lexer *lx, bool expr_mode);

void parse_set_result(Parse *p, AstNode *node) { p->result = node; }

void parse_failed(Parse *p) { p->failed = true; }

/* ---- Syntax-error messages ------------------------------------------------ */

static const int binary_ops[] = {TK_OR, TK_AND, TK_EQEQ, TK_NE, TK_LT, TK_LE, TK_GT,
                                 TK_GE, TK_IN, TK_COALESCE, TK_PLUS, TK_MINUS, TK_STAR,
                                 TK_SLASH, TK_PERCENT};
static const int expr_starts[] = {TK_NAME, TK_STRING, TK_INT, TK_DECIMAL, TK_DATE,
                                  TK_DATETIME, TK_TRUE, TK_FALSE, TK_NULL, TK_SKIP, TK_FAIL,
                                  TK_FILE, TK_SETTINGS, TK_LPAREN, TK_LBRACKET, TK_LBRACE,
                                  TK_MINUS, TK_NOT, TK_IF, TK_FOR, TK_MATCH};
static const int flow_decls[] = {TK_FLOW, TK_USE, TK_SETTING, TK_ROUNDING, TK_ON, TK_STEP,
                                 TK_LET, TK_TABLE, TK_IF, TK_TEST};
static const int schema_decls[] = {TK_CONNECTOR, TK_RECORD, TK_TRIGGER, TK_OPERATION};

static bool all_expected(const bool *expected, const int *kinds, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!expected[kinds[i]]) return false;
  return true;
}

static void clear(bool *expected, const int *kinds, size_t n) {
  for (size_t i = 0; i < n; i++) expected[kinds[i]] = false;
}

/* "end of line", "`step`", "`\"Order {x}\"`": what was found. */
static const char *describe(Parse *p, const Token *t) {
  if (t->kind == 0 && p->interp_depth > 0) return "`}`";  /* the end of an interpolation */
  if (t->kind == 0 || (t->kind == TK_NL && t->span.len == 0)) return "end of file";
  if (t->kind == TK_NL) return "end of line";
  return arena_printf(p->ast.arena, "`%s`", diag_quote(p->diags, t->text));
}

/* Join phrases: "a", "a or b", "a, b or c". */
static const char *join(Parse *p, const char **items, size_t n) {
  Buf b;
  buf_init(&b, 0);
  for (size_t i = 0; i < n; i++) {
    if (i > 0) buf_puts(&b, i + 1 == n ? " or " : ", ");
    buf_puts(&b, items[i]);
  }
  char *s = arena_strndup(p->ast.arena, buf_cstr(&b), b.len);
  buf_fini(&b);
  return s;
}

/* The expected set in words. Operators and expression starts are folded
** into "an operator" and "an expression": listing twenty tokens helps
** nobody. */
static const char *describe_expected(Parse *p, bool *expected, int n_terminals) {
  const char *items[16];
  size_t n = 0;
  bool any_op = all_expected(expected, binary_ops, ARRAY_LEN(binary_ops));
  bool any_expr = all_expected(expected, expr_starts, ARRAY_LEN(expr_starts));
  if (all_expected(expected, flow_decls, ARRAY_LEN(flow_decls))) {
    clear(expected, flow_decls, ARRAY_LEN(flow_decls));
    clear(expected, schema_decls, ARRAY_LEN(schema_decls));
    items[n++] = p->mode == PARSE_SCHEMA
                     ? "a declaration (`connector`, `record`, `trigger` or `operation`)"
                     : "a declaration (`flow`, `use`, `setting`, `on`, `step`, `let`, "
                       "`table`, `if` or `test`)";
  }
  if (any_op) {
    clear(expected, binary_ops, ARRAY_LEN(binary_ops));
    expected[TK_DOT] = expected[TK_LBRACKET] = expected[TK_LPAREN] = false;
  }
  if (any_expr) {
    clear(expected, expr_starts, ARRAY_LEN(expr_starts));
    items[n++] = "an expression";
  }
  if (expected[TK_ELLIPSIS] && any_expr) {
    /* The start of a record entry. */
    n--;
    items[n++] = "a field (`name = value`)";
    expected[TK_ELLIPSIS] = expected[TK_LET] = false;
  }
  if (expected[TK_NAME]) {
    items[n++] = "a name";
    expected[TK_NAME] = false;
  }
  bool nl = expected[TK_NL];
  expected[TK_NL] = expected[TK_XEXPR] = false;
  for (int t = 1; t < n_terminals && n < ARRAY_LEN(items) - 3; t++)
    if (expected[t]) items[n++] = lexer_token_name(t);
  if (any_op) items[n++] = "an operator";
  if (nl) items[n++] = "end of line";
  if (n == 0) return "something else";
  return join(p, items, n);
}

/* A keyword that `t` may be a misspelling of, among those expected. */
static const char *suggest_keyword(const Token *t, const bool *expected, int n_terminals) {
  if (t->kind != TK_NAME || t->text.len < 2) return NULL;
  const char *best = NULL;
  size_t best_d = 3;
  for (int k = 1; k < n_terminals; k++) {
    const char *kw = expected[k] ? lexer_keyword_text(k) : NULL;
    if (!kw) continue;
    size_t limit = strlen(kw) <= 3 ? 1 : 2;
    size_t d = str_edit_distance(t->text, str_from_cstr(kw), limit);
    if (d <= limit && d < best_d) best = kw, best_d = d;
  }
  return best;
}

/* Is `t` something that can be a record key (a name, string or keyword)? */
static bool is_key(const Token *t) {
  return t && (t->kind == TK_NAME || t->kind == TK_STRING || lexer_is_keyword(t->kind));
}

void parse_syntax_error(Parse *p, int major, const Token *t, void *lemon) {
  (void)major;
  const Token *before = p->last.kind ? &p->last : NULL;
  p->had_syntax_error = true;
  p->recovering = true;
  p->recover_level = t->level;
  /* The lexer reported what made these tokens (a repair, a bad literal). */
  if (t->flags & (TOKEN_SYNTHETIC | TOKEN_BAD)) return;

  int n_terminals = grammar_terminal_count();
  bool *expected = arena_zalloc(p->ast.arena, (size_t)n_terminals * sizeof *expected);
  grammar_expected(lemon, &p->snap, expected);
  const char *found = describe(p, t);
  Diags *dg = p->diags;
  Diag *d;

  /* A declaration keyword starting a line inside an open bracket: the
  ** bracket was not closed (the lexer catches the common case of one at
  ** column 1). Inside a record the keyword reads as a field name, so the
  ** error comes on the token after it. */
  const Token *kw = lexer_starts_declaration(t->kind) ? t : before;
  const LexBracket *open = t->depth > 0 ? &p->lex->brackets[t->depth - 1] : NULL;
  if (open && kw && lexer_starts_declaration(kw->kind) && (kw->flags & TOKEN_LINE_START) &&
      kw->kind != TK_LET) {
    const char *closer = open->kind == TK_LPAREN ? ")" : open->kind == TK_LBRACKET ? "]" : "}";
    const char *opener = open->kind == TK_LPAREN ? "(" : open->kind == TK_LBRACKET ? "[" : "{";
    diag_report(dg, DIAG_E0103, kw->span, "expected `%s` to close `%s` at line %u, found %s",
                closer, opener, sources_line_col(p->sources, open->span.file_id,
                                                 open->span.offset).line, describe(p, kw));
    return;
  }

  /* A line that ended with an operator continued onto this one, which
  ** then made no sense: the operator is the likely mistake. */
  const Token *op = &p->before_last;
  bool op_is_operator = op->kind == TK_DOT;
  for (size_t i = 0; i < ARRAY_LEN(binary_ops); i++) op_is_operator |= op->kind == binary_ops[i];
  if (before && (before->flags & TOKEN_LINE_START) && op_is_operator &&
      !lexer_continues_line(before->kind)) {
    unsigned line = sources_line_col(p->sources, op->span.file_id, op->span.offset).line;
    d = diag_report(dg, DIAG_E0101, t->span, "unexpected %s: line %u ends with `%s`, so this "
                    "line continues it", found, line, diag_quote(dg, op->text));
    diag_help(dg, d, "finish the expression on line %u, or remove the `%s`", line,
              diag_quote(dg, op->text));
    return;
  }

  /* `=` where a comparison fits. */
  if (t->kind == TK_EQ && expected[TK_EQEQ]) {
    d = diag_report(dg, DIAG_E0101, t->span, "expected `==` to compare, found `=`");
    diag_help(dg, d, "`=` sets a field; `==` compares two values");
    return;
  }

  /* After a field name: `=` (or `:`). */
  if (expected[TK_EQ] && expected[TK_COLON] && is_key(before) &&
      t->kind != TK_EQ && t->kind != TK_COLON) {
    d = diag_report(dg, DIAG_E0101, t->span, "expected `=` after field name `%s`, found %s",
                    diag_quote(dg, before->text), found);
    if (t->kind == TK_EQEQ) diag_help(dg, d, "`==` compares two values; `=` sets a field");
    return;
  }
  if (expected[TK_EQ] && !expected[TK_COLON] && before && before->kind != TK_NL) {
    d = diag_report(dg, DIAG_E0101, t->span, "expected `=` after `%s`, found %s",
                    diag_quote(dg, before->text), found);
    if (t->kind == TK_EQEQ) diag_help(dg, d, "`==` compares two values; `=` gives a value");
    return;
  }

  /* `if C then A else B`: a missing `then` or `else`. */
  if (expected[TK_ELSE] && !expected[TK_NL] && !expected[TK_RBRACE] && !expected[TK_COMMA]) {
    d = diag_report(dg, DIAG_E0101, t->span, "expected `else` after `if ... then ...`, found %s",
                    found);
    diag_help(dg, d, "an `if` expression needs both branches: `if C then A else B`");
    return;
  }
  if (expected[TK_THEN] && t->kind != TK_THEN) {
    const char *what = expected[TK_LBRACE] ? "`{` or `then`" : "`then`";
    d = diag_report(dg, DIAG_E0101, t->span, "expected %s after the condition of `if`, found %s",
                    what, found);
    if (t->kind == TK_LBRACE || expected[TK_LBRACE])
      diag_help(dg, d, "`if C { entries }` sets fields; `if C then A else B` is a value");
    else
      diag_help(dg, d, "an `if` expression is written `if C then A else B`");
    return;
  }

  /* A `{` at the start of the next line, inside a list. */
  if (t->kind == TK_NL && expected[TK_LBRACE] && p->lex->n_ahead > 0 &&
      p->lex->ahead[0].kind == TK_LBRACE) {
    d = diag_report(dg, DIAG_E0102, p->lex->ahead[0].span,
                    "`{` must end the line before it, not start a new line");
    diag_help(dg, d, "move `{` up to the end of line %u",
              sources_line_col(p->sources, t->span.file_id, t->span.offset).line);
    return;
  }

  const char *suggestion = suggest_keyword(t, expected, n_terminals);
  const char *wanted = describe_expected(p, expected, n_terminals);
  if (before && before->kind != TK_NL && !(before->flags & TOKEN_SYNTHETIC))
    d = diag_report(dg, DIAG_E0101, t->span, "expected %s after `%s`, found %s", wanted,
                    diag_quote(dg, before->text), found);
  else
    d = diag_report(dg, DIAG_E0101, t->span, "expected %s, found %s", wanted, found);
  if (suggestion) diag_help(dg, d, "did you mean `%s`?", suggestion);
  else if (t->kind == TK_STRING && before && before->kind == TK_STRING)
    diag_help(dg, d, "join strings with `+`, or put values inside one string with `{...}`");
}

/* ---- String literals -------------------------------------------------------- */

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode the escape after the backslash at `s` into `b`; returns the byte
** after it. The lexer has reported bad escapes; they decode to U+FFFD. */
static const char *decode_escape(const char *s, const char *end, Buf *b) {
  char c = s[1];
  switch (c) {
    case 'n': buf_putc(b, '\n'); return s + 2;
    case 't': buf_putc(b, '\t'); return s + 2;
    case 'r': buf_putc(b, '\r'); return s + 2;
    case '"': case '\\': case '{': case '}': buf_putc(b, c); return s + 2;
    case 'u': break;
    default: {
      size_t n = utf8_len(s + 1, (size_t)(end - s - 1));
      utf8_put(b, UTF8_REPLACEMENT);
      return s + 1 + (n ? n : 1);
    }
  }
  const char *q = s + 2;
  uint32_t cp = 0;
  if (q < end && *q == '{') {
    q++;
    int digits = 0;
    while (q < end && hex(*q) >= 0 && digits < 7) cp = cp * 16 + (uint32_t)hex(*q++), digits++;
    if (q < end && *q == '}') q++;
    /* utf8_put() writes a surrogate or anything above U+10FFFF as U+FFFD. */
    utf8_put(b, digits == 0 || digits > 6 ? UTF8_REPLACEMENT : cp);
    return q;
  }
  for (int i = 0; i < 4; i++) {
    if (q >= end || hex(*q) < 0) {
      utf8_put(b, UTF8_REPLACEMENT);
      return q;
    }
    cp = cp * 16 + (uint32_t)hex(*q++);
  }
  if (cp >= 0xd800 && cp <= 0xdbff && end - q >= 6 && q[0] == '\\' && q[1] == 'u') {
    uint32_t lo = 0;
    int i;
    for (i = 0; i < 4 && hex(q[2 + i]) >= 0; i++) lo = lo * 16 + (uint32_t)hex(q[2 + i]);
    if (i == 4 && lo >= 0xdc00 && lo <= 0xdfff) {
      utf8_put(b, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
      return q + 6;
    }
  }
  utf8_put(b, cp); /* an unpaired surrogate becomes U+FFFD */
  return q;
}

/* The file offset of byte `at` of token `t`'s text. */
static uint32_t offset_in(const Token *t, const char *at) {
  return t->span.offset + (uint32_t)(at - t->text.ptr);
}

/* A STRING node for decoded text `b` covering [from, to) of token `t`. */
static AstNode *text_part(Parse *p, const Token *t, const char *from, const char *to, Buf *b) {
  Span span = {t->span.file_id, offset_in(t, from), (uint32_t)(to - from)};
  AstNode *n = ast_new(&p->ast, AST_STRING, span);
  AST_AS(AstText, n)->text = arena_str(p->ast.arena, buf_str(b));
  buf_reset(b);
  return n;
}

/* Parse the expression between the braces of an interpolation. */
static AstNode *interpolation(Parse *p, const Token *t, const char *from, const char *to) {
  Span span = {t->span.file_id, offset_in(t, from - 1), (uint32_t)(to - from + 2)};
  const char *s = from;
  while (s < to && (*s == ' ' || *s == '\t')) s++;
  if (s == to) {
    Diag *d = diag_report(p->diags, DIAG_E0101, span, "expected an expression inside `{}`");
    diag_help(p->diags, d, "a `{` in text is written `\\{`");
    return ast_error(&p->ast, span);
  }
  if (p->interp_depth >= MAX_INTERP_DEPTH) {
    diag_report(p->diags, DIAG_E0106, span, "interpolations nested more than %d deep",
                MAX_INTERP_DEPTH);
    return ast_error(&p->ast, span);
  }
  /* The lexer needs a NUL-terminated buffer; spans stay file offsets. */
  size_t len = (size_t)(to - from);
  char *copy = arena_strndup(p->ast.arena, from, len);
  Lexer lx;
  lexer_init(&lx, copy, (uint32_t)len, t->span.file_id, offset_in(t, from), p->diags,
             p->sources, true);
  /* A parse of its own: it must not inherit the enclosing parser's
  ** recovery state or side parser (found by the fuzzer). */
  Parse sub = *p;
  sub.interp_depth = p->interp_depth + 1;
  sub.side = NULL;
  sub.recovering = false;
  sub.last = sub.before_last = ast_no_token();
  AstNode *n = parse_tokens(&sub, &lx, true);
  p->ast.depth_reported = sub.ast.depth_reported;
  return n ? n : ast_error(&p->ast, span);
}

/* The AST of string token `t`: a STRING, or an INTERP of STRING parts and
** expressions. */
static AstNode *string_literal(Parse *p, const Token *t) {
  AstNode *n;
  if (t->flags & TOKEN_BAD || t->text.len < 2) {
    n = ast_new(&p->ast, AST_STRING, t->span);
    AST_AS(AstText, n)->text = str_make("", 0);
    return n;
  }
  const char *s = t->text.ptr + 1, *end = t->text.ptr + t->text.len - 1;
  if (!memchr(s, '\\', (size_t)(end - s)) && !memchr(s, '{', (size_t)(end - s))) {
    n = ast_new(&p->ast, AST_STRING, t->span);
    AST_AS(AstText, n)->text = str_make(s, (size_t)(end - s));  /* borrowed from the source */
    return n;
  }
  AstList parts = ast_list_empty();
  Buf b;
  buf_init(&b, 0);
  const char *part = s;
  while (s < end) {
    if (*s == '\\') {
      s = decode_escape(s, end, &b);
    } else if (*s == '{') {
      if (b.len) ast_list_push(&p->ast, &parts, text_part(p, t, part, s, &b));
      const char *close = lexer_interp_end(s);
      ast_list_push(&p->ast, &parts, interpolation(p, t, s + 1, close));
      s = close + 1;
      part = s;
    } else {
      buf_putc(&b, *s++);
    }
  }
  if (b.len || parts.n == 0) ast_list_push(&p->ast, &parts, text_part(p, t, part, end, &b));
  buf_fini(&b);
  if (parts.n == 1 && parts.items[0]->kind == AST_STRING) {
    parts.items[0]->span = t->span;
    return parts.items[0];
  }
  Token open = *t, close = *t;
  open.span.len = 1;
  close.span.offset += t->span.len - 1;
  close.span.len = 1;
  return ast_seq(&p->ast, AST_INTERP, &open, parts, &close);
}

/* ---- Driving Lemon ------------------------------------------------------------ */

static bool is_opener(int kind) {
  return kind == TK_LBRACE || kind == TK_LBRACKET || kind == TK_LPAREN;
}

static bool is_closer(int kind) {
  return kind == TK_RBRACE || kind == TK_RBRACKET || kind == TK_RPAREN;
}

static void feed(Parse *p, Token t);

/* Start parsing a bracketed group that recovery skips, on its own, as an
** expression (a record or a list): the broken header of a step must not
** hide independent mistakes in its body. */
static void start_side(Parse *p, Token open) {
  Parse *side = arena_alloc(p->ast.arena, sizeof *side);
  *side = *p;
  side->side = NULL;
  side->recovering = false;
  side->failed = false;
  side->last = ast_no_token();
  side->lemon = iex_parseAlloc(xmalloc, side);
  Token start = ast_no_token();
  start.kind = TK_XEXPR;
  start.span = open.span;
  iex_parse(side->lemon, TK_XEXPR, start);
  p->side = side;
  p->side_depth = open.depth;
  feed(side, open);
}

static void feed_side(Parse *p, Token t) {
  Parse *side = p->side;
  if (!side->failed) feed(side, t);
  if (is_closer(t.kind) && t.depth == p->side_depth + 1) {
    if (!side->failed) iex_parse(side->lemon, 0, ast_no_token());
    iex_parseFree(side->lemon, free);
    p->ast.depth_reported |= side->ast.depth_reported;
    p->side = NULL;
  }
}

/* Hand one token to Lemon, applying the recovery rules (file comment). */
static void feed(Parse *p, Token t) {
  if (p->side) {
    feed_side(p, t);
    return;
  }
  if (p->recovering) {
    unsigned level = p->recover_level;
    if (t.depth == level && (t.kind == TK_LBRACE || t.kind == TK_LBRACKET)) {
      start_side(p, t);
      return;
    }
    if (t.depth > level || (is_opener(t.kind) && t.depth == level)) return;
  }
  grammar_snapshot(p->lemon, &p->snap);
  iex_parse(p->lemon, t.kind, t);
  p->before_last = p->last;
  p->last = t;
  if (p->recovering && t.depth == p->recover_level &&
      (t.kind == TK_NL || is_closer(t.kind) || (t.kind == TK_COMMA && t.depth > 0))) {
    p->recovering = false;
    grammar_resync(p->lemon);
  }
}

/* Parse the tokens of `lx` with a new Lemon parser. Returns the start
** rule's result, or NULL if the parse failed. */
static AstNode *parse_tokens(Parse *p, Lexer *lx, bool expr_mode) {
  p->lex = lx;
  p->result = NULL;
  p->failed = false;
  p->recovering = false;
  p->lemon = iex_parseAlloc(xmalloc, p);
  if (expr_mode) {
    Token start = ast_no_token();
    start.kind = TK_XEXPR;
    start.span = (Span){lx->file_id, lx->base, 0};
    iex_parse(p->lemon, TK_XEXPR, start);
  }
  for (;;) {
    Token t = lexer_next(lx);
    if (lx->stopped) {
      p->failed = true;  /* a fatal lexical error; it has been reported */
      break;
    }
    if (t.kind == TK_STRING) t.node = string_literal(p, &t);
    feed(p, t);
    if (p->failed || t.kind == 0) break;
    if (p->diags->stopped) {
      p->failed = true;  /* "N errors, stopping": the rest is not read */
      break;
    }
    if (grammar_stack_depth(p->lemon) > MAX_PARSER_STACK) {
      Diag *d = diag_report(p->diags, DIAG_E0106, t.span,
                            "expression nested too deeply; iexc stops reading this file here");
      diag_help(p->diags, d, "split it into parts with `let`");
      p->failed = true;
      break;
    }
  }
  for (Parse *q = p; q->side; q = q->side) {
    /* A group still open when parsing stopped. */
    iex_parseFree(q->side->lemon, free);
  }
  iex_parseFree(p->lemon, free);
  p->lemon = NULL;
  return p->failed ? NULL : p->result;
}

/* docs/language.md "The flow header": a flow file starts with `flow`.
** Checked only when nothing before the first declaration was already
** reported, so a broken first line gives one error, not two. */
static void check_flow_header(Parse *p, AstNode *file, size_t diags_before) {
  AstSeq *f = AST_AS(AstSeq, file);
  if (f->items.n > 0 && f->items.items[0]->kind == AST_FLOW) return;
  uint32_t first = f->items.n ? f->items.items[0]->span.offset : UINT32_MAX;
  for (size_t i = diags_before; i < p->diags->n_items; i++) {
    const Diag *d = &p->diags->items[i];
    if (d->span.file_id == p->file_id && d->span.offset <= first) return;
  }
  if (f->items.n == 0) {
    Span at = {p->file_id, 0, 0};
    Diag *d = diag_report(p->diags, DIAG_E0107, at, "empty flow file: no `flow` declaration");
    diag_help(p->diags, d, "a flow starts with `flow NAME \"description\"`");
    return;
  }
  AstNode *decl = f->items.items[0];
  const SourceFile *src = sources_file(p->sources, p->file_id);
  Span at = decl->span;
  at.len = 0;
  while (at.offset + at.len < src->len && src->text[at.offset + at.len] >= 'a' &&
         src->text[at.offset + at.len] <= 'z')
    at.len++;
  Diag *d = diag_report(p->diags, DIAG_E0107, at,
                        "expected the flow header `flow NAME \"description\"` before this");
  diag_help(p->diags, d, "a flow file starts with its `flow` declaration");
}

/* A file that is not UTF-8 text (a binary file, Latin-1) gets one message
** at its first bad byte instead of a parse of garbage. */
static bool is_text(Diags *diags, const SourceFile *f, uint32_t file_id) {
  const char *nul = memchr(f->text, '\0', f->len);
  uint32_t limit = nul ? (uint32_t)(nul - f->text) : f->len;
  uint32_t bad = (uint32_t)utf8_first_invalid(f->text, limit);
  if (bad < limit) {
    Diag *d = diag_report(diags, DIAG_E0002, (Span){file_id, bad, 1},
                          "invalid UTF-8 (byte 0x%02x); iexc stops reading this file here",
                          (unsigned char)f->text[bad]);
    diag_help(diags, d, "save the file as UTF-8");
    return false;
  }
  if (nul) {
    Diag *d = diag_report(diags, DIAG_E0001, (Span){file_id, limit, 1},
                          "file contains a NUL byte; it is not a text file");
    diag_help(diags, d, "flows and schemas are UTF-8 text files");
    return false;
  }
  return true;
}

AstNode *parse_file(Arena *arena, Diags *diags, const Sources *sources, uint32_t file_id,
                    ParseMode mode) {
  const SourceFile *f = sources_file(sources, file_id);
  size_t diags_before = diags->n_items;
  Parse p;
  memset(&p, 0, sizeof p);
  p.ast.arena = arena;
  p.ast.diags = diags;
  p.ast.sources = sources;
  p.diags = diags;
  p.sources = sources;
  p.file_id = file_id;
  p.mode = mode;
  if (!is_text(diags, f, file_id)) return ast_file(&p.ast, file_id, ast_list_empty());
  Lexer lx;
  lexer_init(&lx, f->text, f->len, file_id, 0, diags, sources, false);
  AstNode *file = parse_tokens(&p, &lx, false);
  bool stopped = lx.stopped;
  if (!file) file = ast_file(&p.ast, file_id, ast_list_empty());
  if (mode == PARSE_FLOW && !stopped && !diags->stopped) check_flow_header(&p, file, diags_before);
  return file;
}
