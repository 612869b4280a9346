/*
** The abstract syntax tree of flows and connector schemas.
**
** Every node starts with an AstNode header (kind, flags, depth, span) and is
** one of a few shapes (AstBinary, AstStep, ...); ast.def lists every kind
** with its shape and says what the shape's fields mean for it. Read a node
** through its shape: AST_AS(AstStep, node)->body. Nodes are allocated at
** exactly the size of their shape.
**
** Ownership: every node, list array and identifier text lives in the
** compilation's Arena (or, for text, in its Sources); nothing is freed one
** by one, so a syntax error can never leak a half-built tree.
**
** Invariant: no tree is deeper than AST_MAX_DEPTH. Constructors enforce
** it (reporting E0106 once per builder and returning an ERROR node), so
** every later phase may recurse over the tree without a stack check.
*/
#ifndef IEX_COMPILER_AST_H
#define IEX_COMPILER_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"
#include "compiler/diag.h"
#include "compiler/source.h"

typedef struct Token Token;  /* lexer.h */
typedef struct Type Type;    /* types.h */
typedef struct Decl Decl;    /* resolve.h */

/* The deepest tree the constructors build (see the file comment). */
#define AST_MAX_DEPTH 1000

typedef enum AstKind {
#define AST(kind, shape, name) AST_##kind,
#include "compiler/ast.def"
#undef AST
  AST__COUNT
} AstKind;

typedef enum AstShape {
  ASTSHAPE_AstLeaf,
  ASTSHAPE_AstText,
  ASTSHAPE_AstInt,
  ASTSHAPE_AstUnary,
  ASTSHAPE_AstBinary,
  ASTSHAPE_AstIf,
  ASTSHAPE_AstField,
  ASTSHAPE_AstCall,
  ASTSHAPE_AstNamed,
  ASTSHAPE_AstSeq,
  ASTSHAPE_AstFor,
  ASTSHAPE_AstMatch,
  ASTSHAPE_AstArm,
  ASTSHAPE_AstDoc,
  ASTSHAPE_AstUse,
  ASTSHAPE_AstSetting,
  ASTSHAPE_AstTrigger,
  ASTSHAPE_AstPoll,
  ASTSHAPE_AstStep,
  ASTSHAPE_AstTable,
  ASTSHAPE_AstTest,
  ASTSHAPE_AstRecordDecl,
  ASTSHAPE_AstFieldDecl,
  ASTSHAPE_AstTriggerSpec,
  ASTSHAPE_AstOperation,
  ASTSHAPE__COUNT
} AstShape;

/* Node flags (AstNode.flags). */
enum {
  AST_FLAG_STRING_KEY = 1 << 0, /* FIELD_ENTRY: the key was written as a string */
  AST_FLAG_ARROW = 1 << 1,      /* FOR, IF_ELEMENT: body written `=> EXPR` */
  AST_FLAG_ELSE = 1 << 2,       /* ARM: the `else` arm */
  AST_FLAG_CREATED = 1 << 3,    /* TRIGGER, TRIGGER_SPEC: `created` event */
  AST_FLAG_LUA = 1 << 4,        /* USE: `use NAME: lua "FILE"` */
};

typedef struct AstNode {
  uint8_t kind;    /* AstKind */
  uint8_t flags;   /* AST_FLAG_* */
  uint16_t depth;  /* height of this subtree; a leaf is 1 */
  Span span;       /* the whole construct in the source */
  /* Filled in by resolve_flow() (resolve.h says what they hold); NULL
  ** before it and in parts it does not reach. */
  const Type *type;
  Decl *decl;
} AstNode;

/* A name as written, with where it was written. Absent: text.ptr == NULL. */
typedef struct Ident {
  Str text;   /* borrowed from the source, or decoded into the arena */
  Span span;
} Ident;

/* A sequence of nodes. The array is arena-owned. */
typedef struct AstList {
  AstNode **items;
  uint32_t n;
  uint32_t cap;
} AstList;

/* ---- Shapes (see ast.def for what each kind uses them for) ----------- */

typedef struct AstLeaf { AstNode base; } AstLeaf;
typedef struct AstText { AstNode base; Str text; } AstText;
typedef struct AstInt { AstNode base; int64_t value; } AstInt;
typedef struct AstUnary { AstNode base; AstNode *operand; } AstUnary;
typedef struct AstBinary { AstNode base; AstNode *left, *right; } AstBinary;
typedef struct AstIf {
  AstNode base;
  AstNode *cond;
  AstNode *then_node;
  AstNode *else_node;  /* NULL when there is no else */
} AstIf;
typedef struct AstField { AstNode base; AstNode *object; Ident name; } AstField;
typedef struct AstCall {
  AstNode base;
  AstNode *callee;
  AstList args;
  /* resolve_flow(): for stdlib calls, the argument values in signature
  ** order with defaults filled in (argc = the signature's parameter
  ** count); for Lua calls and builtins the positional values as written. */
  AstNode **argv;
  uint32_t argc;
} AstCall;
typedef struct AstNamed {
  AstNode base;
  Ident name;      /* absent for positional ARGs */
  AstNode *value;  /* NULL for TEST_EXPECT_NO */
} AstNamed;
typedef struct AstSeq { AstNode base; AstList items; } AstSeq;
typedef struct AstFor {
  AstNode base;
  Ident var;       /* the element */
  Ident index;     /* `for x, n in ...`: the position from 1; else absent */
  AstNode *iter;   /* the list */
  AstNode *where;  /* filter condition or NULL */
  AstNode *body;   /* RECORD, or any expression with AST_FLAG_ARROW */
} AstFor;
typedef struct AstMatch { AstNode base; AstNode *subject; AstList arms; } AstMatch;
typedef struct AstArm { AstNode base; AstList patterns; AstNode *value; } AstArm;
typedef struct AstDoc {
  AstNode base;
  Ident name;
  AstNode *doc;    /* STRING (or INTERP) node, or NULL */
} AstDoc;
typedef struct AstUse {
  AstNode base;
  Ident name;         /* the connection */
  Ident system;       /* the connector; absent for Lua (AST_FLAG_LUA) */
  AstNode *lua_file;  /* STRING node for Lua, else NULL */
} AstUse;
typedef struct AstSetting {
  AstNode base;
  Ident name;
  AstNode *type;   /* a TYPE_* node */
  AstNode *value;  /* the default, or NULL */
  AstNode *doc;    /* STRING node or NULL */
} AstSetting;
typedef struct AstTrigger {
  AstNode base;
  Ident connection;  /* `shop` in `on shop.order` */
  Ident record;      /* `order` */
  Ident binding;     /* `as NAME`, or absent (the record's name binds) */
  AstList stages;    /* the `reaches` expressions; empty for `created` */
  AstList clauses;   /* WHERE, VIA, UPDATES nodes in order */
} AstTrigger;
typedef struct AstPoll { AstNode base; int64_t every; Ident unit; } AstPoll;
typedef struct AstStep {
  AstNode base;
  Ident name;
  Ident connection;  /* the three parts of CONN.RECORD.OP; all absent for */
  Ident record;      /* a step that only computes a record */
  Ident operation;
  AstList args;      /* ARG nodes of the operation */
  AstNode *when;     /* condition or NULL */
  AstNode *body;     /* RECORD */
} AstStep;
typedef struct AstTable {
  AstNode base;
  Ident name;
  AstNode *doc;      /* STRING node or NULL */
  AstList arms;      /* ARM nodes of `table NAME { ... }` */
  AstNode *source;   /* the expression of `table NAME = ...`, else NULL */
} AstTable;
typedef struct AstTest { AstNode base; AstNode *name; AstList entries; } AstTest;
typedef struct AstRecordDecl {
  AstNode base;
  Ident name;
  AstNode *doc;
  AstList fields;    /* FIELD_DECL nodes */
} AstRecordDecl;
typedef struct AstFieldDecl {
  AstNode base;
  Ident name;
  AstNode *type;
  AstList modifiers; /* MOD_* nodes */
  AstNode *doc;      /* NULL for PARAM */
} AstFieldDecl;
typedef struct AstTriggerSpec {
  AstNode base;
  Ident record;
  Ident field;       /* the stage field of `reaches`; absent for created */
} AstTriggerSpec;
typedef struct AstOperation {
  AstNode base;
  Ident record;
  Ident name;
  AstList params;    /* PARAM nodes */
  AstNode *takes;    /* a type, TYPE_NOTHING, or NULL (defaults to record) */
  AstNode *returns;  /* a type or NULL (defaults to record) */
  AstNode *doc;
} AstOperation;

/* ---- Access ------------------------------------------------------------ */

/* The shape of a kind, and its printable name (ast.def). */
AstShape ast_kind_shape(AstKind kind);
const char *ast_kind_name(AstKind kind);

/* `node` viewed as `Shape`; checked in IEX_DEBUG builds. */
#define AST_AS(Shape, node) ((Shape *)ast_as_checked((node), ASTSHAPE_##Shape))
void *ast_as_checked(AstNode *node, AstShape shape);

/* Call `fn` on every direct child of `node` in source order (NULL
** children are skipped). For generic walks; a phase that cares about
** kinds switches on them instead. */
void ast_visit_children(AstNode *node, void (*fn)(AstNode *child, void *ctx), void *ctx);

/* ---- Construction ------------------------------------------------------ */

/* What constructors need besides their arguments. The grammar's actions
** call the ast_* functions below with the parser's builder; later phases
** may make their own. */
typedef struct AstBuilder {
  Arena *arena;      /* owns the nodes (the compilation's arena) */
  Diags *diags;      /* for E0101, E0105, E0106 and W0101 */
  const Sources *sources; /* for finding operators in messages; may be NULL */
  bool depth_reported; /* E0106 was reported through this builder */
} AstBuilder;

/* A node of `kind` with every field zero, sized for its shape. */
AstNode *ast_new(AstBuilder *b, AstKind kind, Span span);

/* Append `node` to `list` (growing it in the arena). A NULL node (what a
** syntax error leaves in the grammar) is not appended. */
void ast_list_push(AstBuilder *b, AstList *list, AstNode *node);
/* An empty list; a list of one node. */
AstList ast_list_empty(void);
AstList ast_list_one(AstBuilder *b, AstNode *node);
/* A token of kind 0: an optional part that is absent. */
Token ast_no_token(void);

/* Identifiers from tokens. ast_decl_name() is for names that declare
** something (`what`: "a step", "a setting", ...): a keyword there is
** reported (E0105) and still used, so parsing goes on. */
Ident ast_ident(const Token *t);
Ident ast_decl_name(AstBuilder *b, const Token *t, const char *what);
/* An absent identifier. */
Ident ast_no_ident(void);

/* Expressions. */
AstNode *ast_leaf(AstBuilder *b, AstKind kind, const Token *t);
AstNode *ast_name(AstBuilder *b, const Token *t);
AstNode *ast_int(AstBuilder *b, const Token *t);
AstNode *ast_text(AstBuilder *b, AstKind kind, const Token *t);  /* DECIMAL, DATE, DATETIME */
AstNode *ast_string(AstBuilder *b, const Token *t);               /* the token's literal */
AstNode *ast_unary(AstBuilder *b, AstKind kind, const Token *op, AstNode *operand);
AstNode *ast_binary(AstBuilder *b, AstKind kind, AstNode *left, AstNode *right);
AstNode *ast_paren(AstBuilder *b, const Token *open, AstNode *inner, const Token *close);
AstNode *ast_field(AstBuilder *b, AstNode *object, const Token *name);
AstNode *ast_index(AstBuilder *b, AstNode *object, AstNode *index, const Token *close);
AstNode *ast_call(AstBuilder *b, AstNode *callee, AstList args, const Token *close);
/* An ARG; `name` is NULL or absent for a positional argument. */
AstNode *ast_arg(AstBuilder *b, const Token *name, AstNode *value);
/* An ARG whose value is a LAMBDA `param => body`. */
AstNode *ast_lambda(AstBuilder *b, const Token *name, const Token *param, AstNode *body);
AstNode *ast_if(AstBuilder *b, const Token *kw, AstNode *cond, AstNode *then_node,
                AstNode *else_node);
AstNode *ast_for(AstBuilder *b, const Token *kw, const Token *var, const Token *index,
                 AstNode *iter, AstNode *where, AstNode *body, bool arrow);
AstNode *ast_match(AstBuilder *b, const Token *kw, AstNode *subject, AstList arms,
                   const Token *close);
AstNode *ast_arm(AstBuilder *b, AstList patterns, const Token *else_kw, AstNode *value);
AstNode *ast_neg_pattern(AstBuilder *b, const Token *minus, AstNode *literal);

/* Records and lists. */
AstNode *ast_seq(AstBuilder *b, AstKind kind, const Token *open, AstList items,
                 const Token *close);
AstNode *ast_field_entry(AstBuilder *b, const Token *key, AstNode *value);
/* An expression standing as a record entry: only a call (`skip(...)`,
** `fail(...)`) may; anything else is reported. */
AstNode *ast_expr_entry(AstBuilder *b, AstNode *expr);
AstNode *ast_let(AstBuilder *b, const Token *kw, const Token *name, AstNode *value);
AstNode *ast_if_entry(AstBuilder *b, AstKind kind, const Token *kw, AstNode *cond,
                      AstNode *then_node, AstNode *else_node, bool arrow);
AstNode *ast_error(AstBuilder *b, Span span);

/* Declarations. Each takes the keyword token that starts it. */
AstNode *ast_file(AstBuilder *b, uint32_t file_id, AstList decls);
AstNode *ast_doc_decl(AstBuilder *b, AstKind kind, const Token *kw, const Token *name,
                      AstNode *doc, const char *what);
AstNode *ast_use(AstBuilder *b, const Token *kw, const Token *name, const Token *system,
                 AstNode *lua_file);
AstNode *ast_setting(AstBuilder *b, const Token *kw, const Token *name, AstNode *type,
                     AstNode *value, AstNode *doc);
AstNode *ast_trigger(AstBuilder *b, const Token *kw, const Token *conn, const Token *rec,
                     const Token *binding, AstList stages, const Token *created,
                     AstList clauses);
AstNode *ast_clause(AstBuilder *b, AstKind kind, const Token *kw, AstNode *operand);
AstNode *ast_poll(AstBuilder *b, const Token *kw, const Token *every, const Token *unit);
AstNode *ast_step(AstBuilder *b, const Token *kw, const Token *name, const Token *conn,
                  const Token *rec, const Token *op, AstList args, AstNode *when,
                  AstNode *body);
AstNode *ast_guard(AstBuilder *b, const Token *kw, AstNode *cond, AstNode *body);
AstNode *ast_table(AstBuilder *b, const Token *kw, const Token *name, AstNode *doc,
                   AstList arms, AstNode *source, const Token *end);
AstNode *ast_test(AstBuilder *b, const Token *kw, AstNode *name, AstList entries,
                  const Token *close);
AstNode *ast_test_entry(AstBuilder *b, AstKind kind, const Token *kw, const Token *name,
                        AstNode *value);

/* Types and connector schemas. */
AstNode *ast_type_name(AstBuilder *b, const Token *name);
AstNode *ast_enum_value(AstBuilder *b, const Token *name);
AstNode *ast_type_table(AstBuilder *b, const Token *kw, AstNode *key, AstNode *value);
AstNode *ast_record_decl(AstBuilder *b, const Token *kw, const Token *name, AstNode *doc,
                         AstList fields, const Token *close);
AstNode *ast_field_decl(AstBuilder *b, AstKind kind, const Token *name, AstNode *type,
                        AstList modifiers, AstNode *doc);
AstNode *ast_modifier(AstBuilder *b, AstKind kind, const Token *kw, const Token *arg);
AstNode *ast_trigger_spec(AstBuilder *b, const Token *kw, const Token *rec,
                          const Token *field, const Token *created);
AstNode *ast_operation(AstBuilder *b, const Token *kw, const Token *rec, const Token *name,
                       AstList params, AstNode *takes, AstNode *returns, AstNode *doc,
                       const Token *close);

/* Widen `node`'s span to end where `end` ends (for nodes whose last token
** is only known to the caller). */
void ast_extend(AstNode *node, Span end);

/* ---- Printing ---------------------------------------------------------- */

/* Append the tree under `node` to `out`, one node per line, indented two
** spaces per level, each with its position (`@line:col-line:col`). This is
** `iexc --emit=ast`, golden-tested in tests/check/ok/. */
void ast_print(const AstNode *node, const Sources *src, Buf *out);

#endif /* IEX_COMPILER_AST_H */
