/*
** The lexer (see lexer.h): a re2c scanner for raw tokens, and the line
** filter that decides where a line break ends something (docs/language.md
** "Lines") and keeps brackets balanced.
**
** re2c reads the NUL-terminated input with YYFILL disabled; a NUL before
** the end is reported (E0001) and ends the file. Keywords are the explicit
** rules below, so their list is here once; token_info[] gives every token
** its name in messages and the properties the filter needs.
**
** Generated into build/<mode>/compiler/lexer.c by
**   re2c -W -Werror --no-generation-date --no-version
*/
#include "compiler/lexer.h"

#include "common/utf8.h"
#include "common/util.h"
#include "compiler/grammar.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- What the filter and messages know about each token ---------------- */

enum {
  TI_RESERVED = 1 << 0,   /* a reserved keyword (cannot name a binding) */
  TI_CONTEXTUAL = 1 << 1, /* a keyword only where the grammar expects it */
  TI_OPERAND_END = 1 << 2,/* can end an operand: a `[` after it indexes */
  TI_CONTINUES = 1 << 3,  /* a line ending with it continues on the next */
  TI_CONT_START = 1 << 4, /* a line starting with it continues the one before */
  TI_DECL_START = 1 << 5, /* starts a declaration (see repair_unclosed) */
  TI_OPENER = 1 << 6,
  TI_CLOSER = 1 << 7,
};

typedef struct TokenInfo {
  const char *name;     /* for messages: "`step`", "end of line" */
  const char *spelling; /* keywords: "step"; others NULL */
  unsigned flags;
} TokenInfo;

#define KW(tk, text, flags) [TK_##tk] = {"`" text "`", text, (flags)}
#define PUNCT(tk, text, flags) [TK_##tk] = {"`" text "`", NULL, (flags)}
#define OTHER(tk, name, flags) [TK_##tk] = {name, NULL, (flags)}

static const TokenInfo token_info[] = {
  [0] = {"end of file", NULL, 0},
  OTHER(NL, "end of line", 0),
  PUNCT(COMMA, ",", TI_CONTINUES),
  PUNCT(EQ, "=", TI_CONTINUES | TI_CONT_START),
  PUNCT(COLON, ":", TI_CONTINUES),
  PUNCT(ARROW, "=>", TI_CONTINUES),
  PUNCT(LBRACE, "{", TI_CONTINUES | TI_OPENER),
  PUNCT(RBRACE, "}", TI_OPERAND_END | TI_CLOSER),
  PUNCT(LBRACKET, "[", TI_CONTINUES | TI_OPENER),
  PUNCT(RBRACKET, "]", TI_OPERAND_END | TI_CLOSER),
  PUNCT(LPAREN, "(", TI_CONTINUES | TI_OPENER),
  PUNCT(RPAREN, ")", TI_OPERAND_END | TI_CLOSER),
  PUNCT(DOT, ".", TI_CONTINUES | TI_CONT_START),
  PUNCT(ELLIPSIS, "...", TI_CONTINUES),
  PUNCT(PIPE, "|", TI_CONTINUES | TI_CONT_START),
  OTHER(NAME, "a name", TI_OPERAND_END),
  OTHER(STRING, "a string", TI_OPERAND_END),
  OTHER(INT, "an integer", TI_OPERAND_END),
  OTHER(DECIMAL, "a decimal number", TI_OPERAND_END),
  OTHER(DATE, "a date", TI_OPERAND_END),
  OTHER(DATETIME, "a date-time", TI_OPERAND_END),
  KW(FLOW, "flow", TI_RESERVED | TI_DECL_START),
  KW(USE, "use", TI_RESERVED | TI_DECL_START),
  KW(SETTING, "setting", TI_RESERVED | TI_DECL_START),
  KW(ROUNDING, "rounding", TI_RESERVED | TI_DECL_START),
  KW(ON, "on", TI_RESERVED | TI_DECL_START),
  KW(STEP, "step", TI_RESERVED | TI_DECL_START),
  KW(LET, "let", TI_RESERVED | TI_DECL_START),
  KW(TABLE, "table", TI_RESERVED | TI_DECL_START),
  KW(IF, "if", TI_RESERVED | TI_CONTINUES),
  KW(TEST, "test", TI_RESERVED | TI_DECL_START),
  KW(THEN, "then", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(ELSE, "else", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(FOR, "for", TI_RESERVED | TI_CONTINUES),
  KW(MATCH, "match", TI_RESERVED | TI_CONTINUES),
  KW(WHERE, "where", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(WHEN, "when", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(VIA, "via", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(UPDATES, "updates", TI_RESERVED | TI_CONT_START),
  KW(REACHES, "reaches", TI_RESERVED | TI_CONTINUES),
  KW(TRUE, "true", TI_RESERVED | TI_OPERAND_END),
  KW(FALSE, "false", TI_RESERVED | TI_OPERAND_END),
  KW(NULL, "null", TI_RESERVED | TI_OPERAND_END),
  KW(SKIP, "skip", TI_RESERVED | TI_OPERAND_END),
  KW(FAIL, "fail", TI_RESERVED | TI_OPERAND_END),
  KW(FILE, "file", TI_RESERVED | TI_OPERAND_END),
  KW(SETTINGS, "settings", TI_RESERVED | TI_OPERAND_END),
  KW(INPUT, "input", TI_RESERVED),
  KW(GIVEN, "given", TI_RESERVED),
  KW(EXPECT, "expect", TI_RESERVED),
  KW(LUA, "lua", TI_RESERVED),
  KW(OR, "or", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(AND, "and", TI_RESERVED | TI_CONTINUES | TI_CONT_START),
  KW(NOT, "not", TI_RESERVED | TI_CONTINUES),
  KW(IN, "in", TI_RESERVED | TI_CONTINUES),
  KW(AS, "as", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(CREATED, "created", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(WEBHOOK, "webhook", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(POLL, "poll", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(EVERY, "every", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(NO, "no", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(LIST, "list", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(OF, "of", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(TO, "to", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(ENUM, "enum", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(NOTHING, "nothing", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(CONNECTOR, "connector", TI_CONTEXTUAL | TI_OPERAND_END | TI_DECL_START),
  KW(RECORD, "record", TI_CONTEXTUAL | TI_OPERAND_END | TI_DECL_START),
  KW(TRIGGER, "trigger", TI_CONTEXTUAL | TI_OPERAND_END | TI_DECL_START),
  KW(OPERATION, "operation", TI_CONTEXTUAL | TI_OPERAND_END | TI_DECL_START),
  KW(REQUIRED, "required", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(READONLY, "readonly", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(MAX, "max", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(MIN, "min", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(DECIMALS, "decimals", TI_CONTEXTUAL | TI_OPERAND_END),
  KW(TAKES, "takes", TI_CONTEXTUAL | TI_OPERAND_END | TI_CONT_START),
  KW(RETURNS, "returns", TI_CONTEXTUAL | TI_OPERAND_END | TI_CONT_START),
  PUNCT(EQEQ, "==", TI_CONTINUES | TI_CONT_START),
  PUNCT(NE, "!=", TI_CONTINUES | TI_CONT_START),
  PUNCT(LT, "<", TI_CONTINUES | TI_CONT_START),
  PUNCT(LE, "<=", TI_CONTINUES | TI_CONT_START),
  PUNCT(GT, ">", TI_CONTINUES | TI_CONT_START),
  PUNCT(GE, ">=", TI_CONTINUES | TI_CONT_START),
  PUNCT(COALESCE, "??", TI_CONTINUES | TI_CONT_START),
  PUNCT(PLUS, "+", TI_CONTINUES | TI_CONT_START),
  PUNCT(MINUS, "-", TI_CONTINUES),
  PUNCT(STAR, "*", TI_CONTINUES | TI_CONT_START),
  PUNCT(SLASH, "/", TI_CONTINUES | TI_CONT_START),
  PUNCT(PERCENT, "%", TI_CONTINUES | TI_CONT_START),
  OTHER(XEXPR, "the start of an interpolation", 0),
  OTHER(UMINUS, "`-`", 0),
};

static unsigned info_flags(int kind) {
  if (kind < 0 || (size_t)kind >= ARRAY_LEN(token_info)) return 0;
  return token_info[kind].flags;
}

const char *lexer_token_name(int kind) {
  if (kind < 0 || (size_t)kind >= ARRAY_LEN(token_info) || !token_info[kind].name)
    return "a token";
  return token_info[kind].name;
}

bool lexer_is_keyword(int kind) {
  return (info_flags(kind) & (TI_RESERVED | TI_CONTEXTUAL)) != 0;
}

bool lexer_is_reserved(int kind) { return (info_flags(kind) & TI_RESERVED) != 0; }

bool lexer_continues_line(int kind) { return (info_flags(kind) & TI_CONTINUES) != 0; }

bool lexer_starts_declaration(int kind) { return (info_flags(kind) & TI_DECL_START) != 0; }

const char *lexer_keyword_text(int kind) {
  if (!lexer_is_keyword(kind)) return NULL;
  return token_info[kind].spelling;
}

/* ---- Scanner ------------------------------------------------------------ */

/* Strings inside interpolations nest at most this deep. */
#define MAX_STRING_NESTING 16

static Span span_at(const Lexer *lx, const char *start, const char *end) {
  Span s = {lx->file_id, lx->base + (uint32_t)(start - lx->input), (uint32_t)(end - start)};
  return s;
}

static Token make(Lexer *lx, int kind, const char *start, const char *end) {
  Token t = {0};
  t.kind = kind;
  t.span = span_at(lx, start, end);
  t.text = str_make(start, (size_t)(end - start));
  if (lx->at_line_start) t.flags |= TOKEN_LINE_START;
  lx->at_line_start = kind == TK_NL;
  lx->cur = end;
  return t;
}

/* The end of the input, as a token. */
static Token end_token(Lexer *lx) {
  return make(lx, 0, lx->input + lx->len, lx->input + lx->len);
}

/* The line of file offset `offset`, for "opened at line N". */
static uint32_t line_of(const Lexer *lx, uint32_t offset) {
  return sources_line_col(lx->sources, lx->file_id, offset).line;
}

/* End the file: a fatal lexical error was reported. */
static void stop(Lexer *lx) {
  lx->stopped = true;
  lx->cur = lx->input + lx->len;
}

static void invalid_utf8(Lexer *lx, const char *p) {
  Diag *d = diag_report(lx->diags, DIAG_E0002, span_at(lx, p, p + 1),
                        "invalid UTF-8 (byte 0x%02x); iexc stops reading this file here",
                        (unsigned char)*p);
  diag_help(lx->diags, d, "save the file as UTF-8");
  stop(lx);
}

static void nul_byte(Lexer *lx, const char *p) {
  Diag *d = diag_report(lx->diags, DIAG_E0001, span_at(lx, p, p + 1),
                        "file contains a NUL byte; it is not a text file");
  diag_help(lx->diags, d, "flows and schemas are UTF-8 text files");
  stop(lx);
}

/* Check that [p, end) (a comment) is UTF-8. */
static bool check_utf8(Lexer *lx, const char *p, const char *end) {
  size_t bad = utf8_first_invalid(p, (size_t)(end - p));
  if (bad == (size_t)(end - p)) return true;
  invalid_utf8(lx, p + bad);
  return false;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Read exactly four hex digits at `p`; -1 if they are not there. */
static long hex4(const char *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Check the escape at `p` (just after a backslash) and return the byte
** after it; NULL when the line or file ends inside it. */
static const char *check_escape(Lexer *lx, const char *p, bool report) {
  char c = *p;
  if (c == '\n' || c == '\0') return NULL;
  if (strchr("\"\\ntr{}", c)) return p + 1;
  if (c == 'u' && p[1] == '{') {
    const char *q = p + 2;
    long v = 0;
    int digits = 0;
    while (hex_value(*q) >= 0 && digits < 7) v = v * 16 + hex_value(*q++), digits++;
    bool ok = *q == '}' && digits >= 1 && digits <= 6 && v <= 0x10ffff &&
              !(v >= 0xd800 && v <= 0xdfff);
    if (*q == '}') q++;
    if (!ok && report)
      diag_report(lx->diags, DIAG_E0006, span_at(lx, p - 1, q),
                  "invalid unicode escape `%s`",
                  diag_quote(lx->diags, str_make(p - 1, (size_t)(q - p + 1))));
    return q;
  }
  if (c == 'u') {
    long v = hex4(p + 1);
    if (v < 0) {
      if (report) {
        Diag *d = diag_report(lx->diags, DIAG_E0006, span_at(lx, p - 1, p + 1),
                              "`\\u` needs four hex digits");
        diag_help(lx->diags, d, "write `\\u00e6` or `\\u{e6}`");
      }
      return p + 1;
    }
    /* A surrogate is valid only as a pair, as in JSON. */
    if (v >= 0xd800 && v <= 0xdbff && p[5] == '\\' && p[6] == 'u') {
      long lo = hex4(p + 7);
      if (lo >= 0xdc00 && lo <= 0xdfff) return p + 11;
    }
    if (v >= 0xd800 && v <= 0xdfff && report)
      diag_report(lx->diags, DIAG_E0006, span_at(lx, p - 1, p + 5),
                  "unpaired surrogate `%s` in unicode escape",
                  diag_quote(lx->diags, str_make(p - 1, 6)));
    return p + 5;
  }
  size_t n = utf8_len(p, (size_t)(lx->input + lx->len - p));
  if (n == 0) n = 1;
  if (report) {
    Diag *d = diag_report(lx->diags, DIAG_E0005, span_at(lx, p - 1, p + n),
                          "unknown escape `\\%s` in string",
                          diag_quote(lx->diags, str_make(p, n)));
    diag_help(lx->diags, d, "a backslash is written `\\\\`");
  }
  return p + n;
}

/* Scan a string body: `p` is just after the opening quote. Returns the
** byte after the closing quote, or NULL if the string does not end on its
** line (then *stop_at is where it stopped). With `report`, escapes and
** UTF-8 are checked; strings nested in interpolations are only matched
** here and checked when the interpolation itself is lexed (parse.c). */
static const char *scan_string_body(Lexer *lx, const char *p, bool report, int nesting,
                                    const char **stop_at) {
  if (nesting > MAX_STRING_NESTING) {
    diag_report(lx->diags, DIAG_E0106, span_at(lx, p - 1, p),
                "strings nested more than %d deep in interpolations; iexc stops "
                "reading this file here", MAX_STRING_NESTING);
    stop(lx);
    return NULL;
  }
  for (;;) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c == '\n' || c == '\0') {
      *stop_at = p;
      return NULL;
    }
    if (c == '\\') {
      const char *q = report ? check_escape(lx, p + 1, true)
                             : (p[1] == '\n' || p[1] == '\0' ? NULL : p + 2);
      if (!q) {
        *stop_at = p + 1;
        return NULL;
      }
      p = q;
    } else if (c == '{') {
      /* An interpolation: find its `}`, stepping over nested strings. */
      int depth = 1;
      p++;
      while (depth > 0) {
        char d = *p;
        if (d == '\n' || d == '\0') {
          *stop_at = p;
          return NULL;
        }
        if (d == '"') {
          p = scan_string_body(lx, p + 1, false, nesting + 1, stop_at);
          if (!p) return NULL;
          continue;
        }
        if (d == '{') depth++;
        if (d == '}') depth--;
        p++;
      }
    } else if (c >= 0x80 && report) {
      size_t n = utf8_len(p, (size_t)(lx->input + lx->len - p));
      if (n == 0) {
        invalid_utf8(lx, p);
        *stop_at = p;
        return NULL;
      }
      p += n;
    } else {
      p++;
    }
  }
}

const char *lexer_interp_end(const char *p) {
  int depth = 0;
  for (;;) {
    char c = *p;
    if (c == '\0' || c == '\n') return p;  /* cannot happen after scanning */
    if (c == '"') {
      p++;
      while (*p && *p != '"' && *p != '\n') {
        if (*p == '\\' && p[1]) p++;
        else if (*p == '{') p = lexer_interp_end(p);
        p++;
      }
      if (*p == '"') p++;
      continue;
    }
    if (c == '{') depth++;
    if (c == '}' && --depth == 0) return p;
    p++;
  }
}

static Token scan_string(Lexer *lx, const char *start) {
  const char *stop_at = NULL;
  const char *end = scan_string_body(lx, start + 1, true, 0, &stop_at);
  if (end) return make(lx, TK_STRING, start, end);
  if (lx->stopped) return end_token(lx);
  /* Unterminated: the token runs to the end of the line, so the parser
  ** goes on with the next line. */
  const char *eol = stop_at;
  while (*eol && *eol != '\n') eol++;
  if (eol > start && eol[-1] == '\r') eol--;
  Diag *d = diag_report(lx->diags, DIAG_E0004, span_at(lx, start, eol), "unterminated string");
  diag_help(lx->diags, d, "close the string with `\"` before the end of the line");
  Token t = make(lx, TK_STRING, start, eol);
  t.flags |= TOKEN_BAD;
  return t;
}

static bool leap_year(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static long digits_at(const char *p, int n) {
  long v = 0;
  for (int i = 0; i < n; i++) v = v * 10 + (p[i] - '0');
  return v;
}

/* Is the date-time literal [start, end) (starting with `@`) valid? The
** scanner has matched its shape. */
static bool valid_date_time(const char *start, const char *end) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const char *p = start + 1;
  long y = digits_at(p, 4), m = digits_at(p + 5, 2), d = digits_at(p + 8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  if (d > days[m - 1] + (m == 2 && leap_year(y))) return false;
  p += 10;
  if (p == end) return true;
  /* Thh:mm[:ss[.fff]] then Z or +hh:mm */
  if (digits_at(p + 1, 2) > 23 || digits_at(p + 4, 2) > 59) return false;
  p += 6;
  if (*p == ':') {
    if (digits_at(p + 1, 2) > 59) return false;
    p += 3;
    if (*p == '.') {
      p++;
      while (*p >= '0' && *p <= '9') p++;
    }
  }
  if (*p == 'Z') return true;
  return digits_at(p + 1, 2) <= 14 && digits_at(p + 4, 2) <= 59;
}

static Token date_token(Lexer *lx, int kind, const char *start, const char *end) {
  Token t = make(lx, kind, start, end);
  if (!valid_date_time(start, end)) {
    diag_report(lx->diags, DIAG_E0008, t.span, "invalid %s `%s`",
                kind == TK_DATE ? "date" : "date-time",
                diag_quote(lx->diags, t.text));
    t.flags |= TOKEN_BAD;
  }
  return t;
}

static Token int_token(Lexer *lx, const char *start, const char *end) {
  Token t = make(lx, TK_INT, start, end);
  uint64_t v = 0;
  for (const char *p = start; p < end; p++) {
    if (v > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10) {
      Diag *d = diag_report(lx->diags, DIAG_E0007, t.span,
                            "integer `%s` does not fit in 64 bits",
                            diag_quote(lx->diags, t.text));
      diag_help(lx->diags, d, "write it as a decimal (`%s.0`) or, for a code, as a string",
                diag_quote(lx->diags, t.text));
      t.flags |= TOKEN_BAD;
      break;
    }
    v = v * 10 + (uint64_t)(*p - '0');
  }
  return t;
}

/* A keyword or name; right after `.` every word is a field name. */
static Token word(Lexer *lx, int kind, const char *start, const char *end) {
  if (lx->prev_raw_kind == TK_DOT) kind = TK_NAME;
  return make(lx, kind, start, end);
}

/* Report a character that starts no token. Some have a likely meaning;
** for those the intended token is returned (as `*kind_out`) so that
** parsing goes on; otherwise *kind_out is -1. */
static void stray(Lexer *lx, const char *start, const char *end, int *kind_out) {
  Span sp = span_at(lx, start, end);
  Str text = str_make(start, (size_t)(end - start));
  Diag *d;
  *kind_out = -1;
  switch (*start) {
    case '&':
      d = diag_report(lx->diags, DIAG_E0003, sp, "unexpected `%s`", diag_quote(lx->diags, text));
      diag_help(lx->diags, d, "write `and`");
      if (text.len == 2) *kind_out = TK_AND;
      return;
    case '|':
      d = diag_report(lx->diags, DIAG_E0003, sp, "unexpected `||`");
      diag_help(lx->diags, d, "write `or`");
      *kind_out = TK_OR;
      return;
    case '!':
      d = diag_report(lx->diags, DIAG_E0003, sp, "unexpected `!`");
      diag_help(lx->diags, d, "write `not`, or `!=` to compare");
      *kind_out = TK_NOT;
      return;
    case ';':
      d = diag_report(lx->diags, DIAG_E0003, sp, "unexpected `;`");
      diag_help(lx->diags, d, "no `;` is needed: a line break ends a declaration or entry");
      return;
    case '?':
      d = diag_report(lx->diags, DIAG_E0003, sp, "unexpected `?`");
      diag_help(lx->diags, d, "`??` gives a default for null: `a ?? b`");
      *kind_out = TK_COALESCE;
      return;
    case '`':
      diag_report(lx->diags, DIAG_E0003, sp, "unexpected character `` ` ``");
      return;
    default:
      break;
  }
  unsigned char c = (unsigned char)*start;
  if (c < 0x20 || c == 0x7f) {
    diag_report(lx->diags, DIAG_E0003, sp, "unexpected control character U+%04X", c);
  } else if (c >= 0x80) {
    d = diag_report(lx->diags, DIAG_E0003, sp, "unexpected character `%s`",
                    diag_quote(lx->diags, text));
    diag_help(lx->diags, d, "names use only ASCII letters, digits and `_`; a key with other "
                            "letters is written as a string: `\"%s\" = ...`",
              diag_quote(lx->diags, text));
  } else {
    diag_report(lx->diags, DIAG_E0003, sp, "unexpected character `%s`",
                diag_quote(lx->diags, text));
  }
}

/* A name with letters outside ASCII (`beløb`): reported once, and kept as
** one name so that parsing goes on as the writer meant. */
static Token foreign_name(Lexer *lx, const char *start, const char *end) {
  if (!check_utf8(lx, start, end)) return end_token(lx);
  Token t = make(lx, TK_NAME, start, end);
  Diag *d = diag_report(lx->diags, DIAG_E0003, t.span, "`%s` is not a name: names use only "
                        "ASCII letters, digits and `_`", diag_quote(lx->diags, t.text));
  diag_help(lx->diags, d, "a key with other letters is written as a string: `\"%s\" = ...`",
            diag_quote(lx->diags, t.text));
  t.flags |= TOKEN_BAD;
  return t;
}

/* The next raw token: NL for every line break; kind 0 at the end. */
static Token scan(Lexer *lx) {
  const unsigned char *cur = (const unsigned char *)lx->cur, *mar, *start;
  for (;;) {
    start = cur;
    lx->cur = (const char *)cur;
    /* Past the error cap nothing more is reported, so stop scanning:
    ** 10 MB of stray characters must not cost 10 million reports. */
    if (lx->diags->stopped) {
      stop(lx);
      return end_token(lx);
    }
#define TOK(kind) return make(lx, (kind), (const char *)start, (const char *)cur)
#define WORD(kind) return word(lx, (kind), (const char *)start, (const char *)cur)
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:define:YYCURSOR = cur;
      re2c:define:YYMARKER = mar;
      re2c:yyfill:enable = 0;

      d2     = [0-9]{2};
      date   = "@" [0-9]{4} "-" d2 "-" d2;
      time   = "T" d2 ":" d2 (":" d2 ("." [0-9]{1,9})?)?;
      offset = "Z" | [+-] d2 ":" d2;
      digits = [0-9]+;
      exp    = [eE] [+-]? digits;
      name   = [a-zA-Z_][a-zA-Z0-9_]*;

      [ \t\r]+ { continue; }
      "#" [^\n\x00]* {
        if (!check_utf8(lx, (const char *)start, (const char *)cur)) return end_token(lx);
        continue;
      }
      "\n" { TOK(TK_NL); }
      "\x00" {
        if ((const char *)start != lx->input + lx->len) nul_byte(lx, (const char *)start);
        return end_token(lx);
      }

      "flow"      { WORD(TK_FLOW); }
      "use"       { WORD(TK_USE); }
      "setting"   { WORD(TK_SETTING); }
      "rounding"  { WORD(TK_ROUNDING); }
      "on"        { WORD(TK_ON); }
      "step"      { WORD(TK_STEP); }
      "let"       { WORD(TK_LET); }
      "table"     { WORD(TK_TABLE); }
      "if"        { WORD(TK_IF); }
      "test"      { WORD(TK_TEST); }
      "then"      { WORD(TK_THEN); }
      "else"      { WORD(TK_ELSE); }
      "for"       { WORD(TK_FOR); }
      "match"     { WORD(TK_MATCH); }
      "where"     { WORD(TK_WHERE); }
      "when"      { WORD(TK_WHEN); }
      "via"       { WORD(TK_VIA); }
      "updates"   { WORD(TK_UPDATES); }
      "reaches"   { WORD(TK_REACHES); }
      "true"      { WORD(TK_TRUE); }
      "false"     { WORD(TK_FALSE); }
      "null"      { WORD(TK_NULL); }
      "skip"      { WORD(TK_SKIP); }
      "fail"      { WORD(TK_FAIL); }
      "file"      { WORD(TK_FILE); }
      "settings"  { WORD(TK_SETTINGS); }
      "input"     { WORD(TK_INPUT); }
      "given"     { WORD(TK_GIVEN); }
      "expect"    { WORD(TK_EXPECT); }
      "lua"       { WORD(TK_LUA); }
      "or"        { WORD(TK_OR); }
      "and"       { WORD(TK_AND); }
      "not"       { WORD(TK_NOT); }
      "in"        { WORD(TK_IN); }
      "as"        { WORD(TK_AS); }
      "created"   { WORD(TK_CREATED); }
      "webhook"   { WORD(TK_WEBHOOK); }
      "poll"      { WORD(TK_POLL); }
      "every"     { WORD(TK_EVERY); }
      "no"        { WORD(TK_NO); }
      "list"      { WORD(TK_LIST); }
      "of"        { WORD(TK_OF); }
      "to"        { WORD(TK_TO); }
      "enum"      { WORD(TK_ENUM); }
      "nothing"   { WORD(TK_NOTHING); }
      "connector" { WORD(TK_CONNECTOR); }
      "record"    { WORD(TK_RECORD); }
      "trigger"   { WORD(TK_TRIGGER); }
      "operation" { WORD(TK_OPERATION); }
      "required"  { WORD(TK_REQUIRED); }
      "readonly"  { WORD(TK_READONLY); }
      "max"       { WORD(TK_MAX); }
      "min"       { WORD(TK_MIN); }
      "decimals"  { WORD(TK_DECIMALS); }
      "takes"     { WORD(TK_TAKES); }
      "returns"   { WORD(TK_RETURNS); }
      name        { WORD(TK_NAME); }
      [a-zA-Z_] [a-zA-Z0-9_]* [\x80-\xff] [a-zA-Z0-9_\x80-\xff]* {
        return foreign_name(lx, (const char *)start, (const char *)cur);
      }

      digits      { return int_token(lx, (const char *)start, (const char *)cur); }
      digits "." digits exp? | digits exp { TOK(TK_DECIMAL); }
      date        { return date_token(lx, TK_DATE, (const char *)start, (const char *)cur); }
      date time offset {
        return date_token(lx, TK_DATETIME, (const char *)start, (const char *)cur);
      }
      "@" [0-9A-Za-z:.+-]* {
        Token t = make(lx, TK_DATE, (const char *)start, (const char *)cur);
        Diag *d = diag_report(lx->diags, DIAG_E0008, t.span, "invalid date literal `%s`",
                              diag_quote(lx->diags, t.text));
        diag_help(lx->diags, d, "write `@YYYY-MM-DD` or `@YYYY-MM-DDThh:mm:ss+hh:mm`");
        t.flags |= TOKEN_BAD;
        return t;
      }

      "\"" { return scan_string(lx, (const char *)start); }
      "'" [^'\n\x00]* "'"? {
        Token t = make(lx, TK_STRING, (const char *)start, (const char *)cur);
        Diag *d = diag_report(lx->diags, DIAG_E0003, t.span, "strings are written in double quotes");
        diag_help(lx->diags, d, "write \"%s\"",
                  diag_quote(lx->diags, str_make(t.text.ptr + 1,
                                                 t.text.len > 1 && t.text.ptr[t.text.len - 1] == '\''
                                                     ? t.text.len - 2 : t.text.len - 1)));
        t.flags |= TOKEN_BAD;
        return t;
      }

      "=="  { TOK(TK_EQEQ); }
      "!="  { TOK(TK_NE); }
      "<="  { TOK(TK_LE); }
      ">="  { TOK(TK_GE); }
      "=>"  { TOK(TK_ARROW); }
      "??"  { TOK(TK_COALESCE); }
      "..." { TOK(TK_ELLIPSIS); }
      "="   { TOK(TK_EQ); }
      "<"   { TOK(TK_LT); }
      ">"   { TOK(TK_GT); }
      "+"   { TOK(TK_PLUS); }
      "-"   { TOK(TK_MINUS); }
      "*"   { TOK(TK_STAR); }
      "/"   { TOK(TK_SLASH); }
      "%"   { TOK(TK_PERCENT); }
      "."   { TOK(TK_DOT); }
      ","   { TOK(TK_COMMA); }
      ":"   { TOK(TK_COLON); }
      "|"   { TOK(TK_PIPE); }
      "("   { TOK(TK_LPAREN); }
      ")"   { TOK(TK_RPAREN); }
      "["   { TOK(TK_LBRACKET); }
      "]"   { TOK(TK_RBRACKET); }
      "{"   { TOK(TK_LBRACE); }
      "}"   { TOK(TK_RBRACE); }

      "&&" | "&" | "||" | "!" | "?" | ";" | "`" | [\x01-\x08\x0b\x0c\x0e-\x1f\x7f] | [$^~\\] {
        int kind;
        stray(lx, (const char *)start, (const char *)cur, &kind);
        if (kind >= 0) TOK(kind);
        continue;
      }
      [\x80-\xff] {
        size_t n =
            utf8_len((const char *)start, (size_t)(lx->input + lx->len - (const char *)start));
        if (n == 0) {
          invalid_utf8(lx, (const char *)start);
          return end_token(lx);
        }
        cur = start + n;
        int kind;
        stray(lx, (const char *)start, (const char *)cur, &kind);
        continue;
      }
      * {
        int kind;
        stray(lx, (const char *)start, (const char *)cur, &kind);
        continue;
      }
    */
#undef TOK
#undef WORD
  }
}

/* ---- Line filter -------------------------------------------------------- */

/* The k-th raw token ahead (k < LEX_LOOKAHEAD - 1), scanning as needed.
** Line breaks after a line break are merged into it. */
static Token *peek(Lexer *lx, int k) {
  while (lx->n_ahead <= k) {
    Token t;
    if (lx->stopped) {
      t = end_token(lx);
    } else {
      t = scan(lx);
      /* Blank and comment-only lines: one NL stands for them all. */
      if (t.kind == TK_NL && lx->prev_raw_kind == TK_NL) continue;
    }
    lx->prev_raw_kind = t.kind;
    lx->ahead[lx->n_ahead++] = t;
  }
  return &lx->ahead[k];
}

static Token take(Lexer *lx) {
  peek(lx, 0);
  Token t = lx->ahead[0];
  memmove(lx->ahead, lx->ahead + 1, (size_t)(lx->n_ahead - 1) * sizeof *lx->ahead);
  lx->n_ahead--;
  return t;
}

static void enqueue(Lexer *lx, Token t) {
  /* The queue holds at most one closer per open bracket plus NL and the
  ** end, so it cannot overflow. */
  int i = (lx->queue_head + lx->queue_len) % (int)ARRAY_LEN(lx->queue);
  lx->queue[i] = t;
  lx->queue_len++;
}

static Token dequeue(Lexer *lx) {
  Token t = lx->queue[lx->queue_head];
  lx->queue_head = (lx->queue_head + 1) % (int)ARRAY_LEN(lx->queue);
  lx->queue_len--;
  return t;
}

static int closer_of(int opener) {
  return opener == TK_LPAREN ? TK_RPAREN : opener == TK_LBRACKET ? TK_RBRACKET : TK_RBRACE;
}

static const char *closer_text(int opener) {
  return opener == TK_LPAREN ? ")" : opener == TK_LBRACKET ? "]" : "}";
}

static const char *opener_text(int opener) {
  return opener == TK_LPAREN ? "(" : opener == TK_LBRACKET ? "[" : "{";
}

/* Brackets up to and including the innermost `{` or list `[`: where the
** parser's error recovery resynchronises (see parse.c). */
static uint16_t recovery_level(const Lexer *lx) {
  for (int i = lx->n_brackets; i > 0; i--) {
    const LexBracket *b = &lx->brackets[i - 1];
    if (b->kind == TK_LBRACE || (b->kind == TK_LBRACKET && !b->is_index)) return (uint16_t)i;
  }
  return 0;
}

/* Hand a token to the parser, keeping the bracket stack. */
static Token emit(Lexer *lx, Token t) {
  t.depth = (uint16_t)lx->n_brackets;
  t.level = recovery_level(lx);
  unsigned f = info_flags(t.kind);
  if (f & TI_OPENER) {
    LexBracket b = {t.kind, t.kind == TK_LBRACKET && lx->prev_operand, t.span};
    lx->brackets[lx->n_brackets++] = b;
  } else if ((f & TI_CLOSER) && lx->n_brackets > 0) {
    lx->n_brackets--;
  }
  if (t.kind == TK_NL) {
    lx->prev_kind = 0;
    lx->prev_operand = false;
  } else if (t.kind != 0) {
    lx->prev_kind = t.kind;
    lx->prev_operand = (f & TI_OPERAND_END) != 0;
    if (!(t.flags & TOKEN_SYNTHETIC)) lx->prev_end = t.span.offset + t.span.len;
  }
  if (t.kind == 0) lx->at_end = true;
  return t;
}

static Token synthetic(Lexer *lx, int kind, Span at) {
  Token t = {0};
  t.kind = kind;
  t.span = at;
  t.span.len = 0;
  t.text = str_make(lx->input + (at.offset - lx->base), 0);
  t.flags = TOKEN_SYNTHETIC;
  return t;
}

/* Queue closers for the open brackets above `keep` (innermost first). */
static void enqueue_closers(Lexer *lx, int keep, Span at) {
  for (int i = lx->n_brackets; i > keep; i--)
    enqueue(lx, synthetic(lx, closer_of(lx->brackets[i - 1].kind), at));
}

/* Where the last real token ended: the place a missing `}` belongs. */
static Span after_prev(const Lexer *lx) {
  Span s = {lx->file_id, lx->prev_end, 0};
  return s;
}

static Diag *report_unclosed(Lexer *lx, Span at, const char *found) {
  const LexBracket *b = &lx->brackets[lx->n_brackets - 1];
  return diag_report(lx->diags, DIAG_E0103, at, "expected `%s` to close `%s` at line %u%s%s",
                     closer_text(b->kind), opener_text(b->kind),
                     line_of(lx, b->span.offset), found ? ", found " : "", found ? found : "");
}

static bool at_column_1(const Lexer *lx, const Token *t) {
  uint32_t i = t->span.offset - lx->base;
  return i == 0 || lx->input[i - 1] == '\n';
}

/* A declaration keyword at column 1 followed by a name or string while a
** bracket is open almost always means a `}` is missing before it: report
** that, close everything, and let the new declaration parse normally. */
static bool repair_unclosed(Lexer *lx, const Token *nl, const Token *next) {
  if (lx->n_brackets == 0 || !(info_flags(next->kind) & TI_DECL_START)) return false;
  if (!at_column_1(lx, next)) return false;
  int after = peek(lx, 1)->kind;
  if (after != TK_NAME && after != TK_STRING && !lexer_is_keyword(after)) return false;
  Diag *d = report_unclosed(lx, after_prev(lx), NULL);
  diag_help(lx->diags, d, "%s at the start of line %u begins a new declaration",
            lexer_token_name(next->kind), line_of(lx, next->span.offset));
  enqueue_closers(lx, 0, after_prev(lx));
  enqueue(lx, *nl);
  return true;
}

/* Does a line starting with `next` continue the line before? */
static bool continues_previous(Lexer *lx, const Token *next) {
  unsigned f = info_flags(next->kind);
  if (next->kind == TK_STRING) return lx->n_brackets == 0;  /* a description */
  if (!(f & TI_CONT_START)) return false;
  if (!lexer_is_keyword(next->kind)) return true;
  int after = peek(lx, 1)->kind;
  if (next->kind == TK_ELSE && after == TK_ARROW) return false;  /* a match arm */
  /* `when = ...` inside a record is a key, not a clause. */
  if (lx->n_brackets > 0 && (after == TK_EQ || after == TK_COLON)) return false;
  return true;
}

/* Decide whether line break `nl` ends something (docs/language.md "Lines").
** May queue repairs instead; returns true to hand `nl` to the parser. */
static bool keep_line_break(Lexer *lx, const Token *nl) {
  const Token *next = peek(lx, 0);
  if (lx->expr_mode || next->kind == 0) return false;  /* the end adds its own NL */
  if (repair_unclosed(lx, nl, next)) return false;
  const LexBracket *b = lexer_open_bracket(lx);
  if (b && (b->kind == TK_LPAREN || b->is_index)) return false;
  if (lx->prev_kind == 0) return false;
  if (info_flags(lx->prev_kind) & TI_CONTINUES) return false;
  if (continues_previous(lx, next)) return false;
  if (next->kind == TK_LBRACE && !(b && b->kind == TK_LBRACKET)) {
    Diag *d = diag_report(lx->diags, DIAG_E0102, next->span,
                          "`{` must end the line before it, not start a new line");
    diag_help(lx->diags, d, "move `{` up to the end of line %u", line_of(lx, lx->prev_end));
    return false;
  }
  return true;
}

/* The end of the input: close what is open, end the last line, stop. */
static void finish(Lexer *lx, const Token *end) {
  if (lx->stopped) {
    enqueue(lx, *end);
    return;
  }
  if (lx->n_brackets > 0) {
    Span at = after_prev(lx);
    report_unclosed(lx, at, lx->expr_mode ? "`}`" : "end of file");
    enqueue_closers(lx, 0, at);
  }
  if (!lx->expr_mode && (lx->prev_kind != 0 || lx->queue_len > 0)) {
    /* A real end of line (errors on it are reported), placed just after
    ** the last token so that a caret there points at what is unfinished. */
    Token nl = synthetic(lx, TK_NL, after_prev(lx));
    nl.flags = 0;
    enqueue(lx, nl);
  }
  enqueue(lx, *end);
}

/* A closing bracket. Returns true with the token to emit in *out, or
** false when it was queued behind repairs or dropped (both reported). */
static bool close_bracket(Lexer *lx, Token t, Token *out) {
  int n = lx->n_brackets;
  if (n > 0 && closer_of(lx->brackets[n - 1].kind) == t.kind) {
    *out = t;
    return true;
  }
  char found[16];
  snprintf(found, sizeof found, "`%.*s`", (int)t.text.len, t.text.ptr);
  /* It closes a bracket further out: the ones in between were never
  ** closed. Report the innermost and close them all here. */
  for (int i = n - 1; i > 0; i--) {
    if (closer_of(lx->brackets[i - 1].kind) != t.kind) continue;
    report_unclosed(lx, t.span, found);
    enqueue_closers(lx, i, t.span);
    enqueue(lx, t);
    return false;
  }
  /* It matches nothing open. If the next token closes the bracket further
  ** out, this one was probably meant to close the innermost: take it so. */
  const Token *next = peek(lx, 0);
  bool line_ends = next->kind == TK_NL || next->kind == 0;
  if (next->kind == TK_NL) next = peek(lx, 1);
  int inner = n > 0 ? lx->brackets[n - 1].kind : 0;
  /* `(1 + 2]` at the end of a line: the `]` was meant to close the `(`.
  ** Not done for `{`, where an extra `)` is far more likely than a typo. */
  bool meant_inner = n > 0 && inner != TK_LBRACE && line_ends;
  if (meant_inner || (n >= 2 && closer_of(lx->brackets[n - 2].kind) == next->kind)) {
    const LexBracket *b = &lx->brackets[n - 1];
    diag_report(lx->diags, DIAG_E0104, t.span, "expected `%s` to close `%s` at line %u, found %s",
                closer_text(b->kind), opener_text(b->kind), line_of(lx, b->span.offset), found);
    t.kind = closer_of(b->kind);
    t.flags |= TOKEN_SYNTHETIC;
    *out = t;
    return true;
  }
  diag_report(lx->diags, DIAG_E0104, t.span, "unexpected %s: no `%s` is open here", found,
              t.kind == TK_RPAREN ? "(" : t.kind == TK_RBRACKET ? "[" : "{");
  return false;
}

Token lexer_next(Lexer *lx) {
  for (;;) {
    if (lx->queue_len) return emit(lx, dequeue(lx));
    if (lx->at_end) return synthetic(lx, 0, span_at(lx, lx->input + lx->len, lx->input + lx->len));
    Token t = take(lx);
    unsigned f = info_flags(t.kind);
    if (t.kind == 0) {
      finish(lx, &t);
      continue;
    }
    if (t.kind == TK_NL) {
      if (keep_line_break(lx, &t)) return emit(lx, t);
      continue;
    }
    if (f & TI_OPENER) {
      if (lx->n_brackets == LEX_MAX_NESTING) {
        diag_report(lx->diags, DIAG_E0106, t.span,
                    "brackets nested more than %d deep; iexc stops reading this file here",
                    LEX_MAX_NESTING);
        stop(lx);
        lx->n_ahead = 0;
        continue;
      }
      return emit(lx, t);
    }
    if (f & TI_CLOSER) {
      Token out;
      if (close_bracket(lx, t, &out)) return emit(lx, out);
      continue;
    }
    return emit(lx, t);
  }
}

const LexBracket *lexer_open_bracket(const Lexer *lx) {
  return lx->n_brackets ? &lx->brackets[lx->n_brackets - 1] : NULL;
}

void lexer_init(Lexer *lx, const char *input, uint32_t len, uint32_t file_id,
                uint32_t base, Diags *diags, const Sources *sources, bool expr_mode) {
  memset(lx, 0, sizeof *lx);
  lx->input = input;
  lx->len = len;
  lx->cur = input;
  lx->file_id = file_id;
  lx->base = base;
  lx->prev_end = base;
  lx->diags = diags;
  lx->sources = sources;
  lx->expr_mode = expr_mode;
  lx->at_line_start = true;
  /* A UTF-8 byte order mark is allowed and ignored. */
  if (!expr_mode && len >= 3 && memcmp(input, "\xef\xbb\xbf", 3) == 0) lx->cur += 3;
}
