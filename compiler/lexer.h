/*
** The lexer: bytes of a flow or schema -> tokens for the Lemon parser.
**
** Two layers in one module (lexer.re):
** - the scanner (re2c) turns bytes into raw tokens: names, keywords,
**   literals, operators and line breaks; it skips comments and reports
**   lexical errors (E00xx) at their position;
** - the line filter applies the rules of docs/language.md "Lines": it
**   turns line breaks into NL tokens only where a line can end (not inside
**   parentheses or an index, not after an operator, not before a
**   continuation such as `??`, `else` or `where`), keeps the stack of open
**   brackets, and repairs bracket mistakes (E0102-E0104, E0106) so that the
**   parser sees balanced input and each mistake is reported once.
**
** A string literal is one TK_STRING token covering both quotes; its
** `{expr}` interpolations are found by brace matching and parsed later by
** parse.c, on the same file offsets, so their spans are exact.
**
** The input is a NUL-terminated buffer that the Lexer borrows; it may be a
** slice copied out of a file (an interpolation), with `base` giving the
** file offset of its first byte.
*/
#ifndef IEX_COMPILER_LEXER_H
#define IEX_COMPILER_LEXER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/str.h"
#include "compiler/diag.h"
#include "compiler/source.h"

typedef struct AstNode AstNode;

/* Brackets and string interpolations nest at most this deep (E0106). */
#define LEX_MAX_NESTING 256

/* Token flags. */
enum {
  TOKEN_SYNTHETIC = 1 << 0,   /* inserted by the filter to repair an error */
  TOKEN_LINE_START = 1 << 1,  /* first token of its line */
  TOKEN_BAD = 1 << 2,         /* a literal with a reported error (E0004-E0008) */
};

typedef struct Token {
  int kind;        /* TK_* from grammar.h; 0 is the end of the input */
  Span span;       /* the token's bytes in its file */
  Str text;        /* the same bytes; borrowed from the lexer's input */
  AstNode *node;   /* TK_STRING: the literal's AST, set by parse.c; else NULL */
  uint16_t depth;  /* brackets open before this token */
  uint16_t level;  /* of those, how many up to the innermost `{` or list `[` */
  uint8_t flags;   /* TOKEN_* */
} Token;

/* One open bracket. */
typedef struct LexBracket {
  int kind;        /* TK_LPAREN, TK_LBRACKET or TK_LBRACE */
  bool is_index;   /* a `[` that indexes (`x[0]`), not a list */
  Span span;       /* where it was opened */
} LexBracket;

/* Raw tokens the filter looks ahead at (a NL, then two more). */
#define LEX_LOOKAHEAD 4

typedef struct Lexer {
  const char *input;     /* borrowed; NUL-terminated at input[len] */
  uint32_t len;
  const char *cur;       /* scanner position */
  uint32_t file_id;
  uint32_t base;         /* file offset of input[0] */
  Diags *diags;          /* borrowed */
  const Sources *sources;/* borrowed; for "opened at line N" */
  bool expr_mode;        /* an interpolation: no NL tokens at all */
  bool stopped;          /* a fatal lexical error (E0001, E0002, E0106) */
  bool at_line_start;    /* the scanner has seen only blanks on this line */

  Token ahead[LEX_LOOKAHEAD]; /* raw tokens scanned but not yet filtered */
  int n_ahead;
  Token queue[LEX_MAX_NESTING + 2]; /* filtered tokens waiting (repairs) */
  int queue_head, queue_len;

  LexBracket brackets[LEX_MAX_NESTING]; /* the open brackets, outermost first */
  int n_brackets;
  int prev_kind;         /* last token handed out on this line, 0 if none */
  bool prev_operand;     /* that token can end an operand (for `[`) */
  uint32_t prev_end;     /* file offset just after the last real token */
  int prev_raw_kind;     /* last raw token scanned (keywords after `.`) */
  bool at_end;           /* the end has been handed out */
} Lexer;

/* Prepare to read `input` (`len` bytes, NUL at input[len]), whose first
** byte is at file offset `base` of file `file_id`. Errors go to `diags`. */
void lexer_init(Lexer *lx, const char *input, uint32_t len, uint32_t file_id,
                uint32_t base, Diags *diags, const Sources *sources, bool expr_mode);

/* The next token for the parser. After the last real token comes an NL
** (unless in expr_mode) and then kind 0, forever. */
Token lexer_next(Lexer *lx);

/* The innermost open bracket, or NULL. */
const LexBracket *lexer_open_bracket(const Lexer *lx);

/* Given `p` at the `{` of an interpolation inside a string literal (which
** the scanner has already checked), return the matching `}`. */
const char *lexer_interp_end(const char *p);

/* A short human name for token kind `kind`: "`{`", "end of line", "a
** name". For messages. */
const char *lexer_token_name(int kind);

/* True if `kind` is a keyword (spelled like a name). */
bool lexer_is_keyword(int kind);
/* True if `kind` is a reserved keyword: one that cannot name a step,
** setting, binding or connection (docs/language.md "Keywords"). */
bool lexer_is_reserved(int kind);
/* True if a line ending with `kind` continues on the next line. */
bool lexer_continues_line(int kind);
/* True if `kind` starts a declaration (`step`, `setting`, `use`, ...). */
bool lexer_starts_declaration(int kind);
/* The spelling of keyword `kind` ("step"), or NULL. */
const char *lexer_keyword_text(int kind);

#endif /* IEX_COMPILER_LEXER_H */
