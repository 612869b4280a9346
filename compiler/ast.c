/*
** AST construction and printing (ast.h). The grammar's actions each call
** one constructor here; the constructors compute spans and depths, so
** grammar.y stays a readable list of rules.
**
** Spans: a node's span runs from its first token to its last. Depth: one
** more than the deepest child; past AST_MAX_DEPTH the node is replaced by
** an ERROR node (E0106, reported once per builder), which keeps every
** recursive walk in later phases bounded.
*/
#include "compiler/ast.h"

#include "common/util.h"
#include "compiler/grammar.h"
#include "compiler/lexer.h"

#include <inttypes.h>
#include <string.h>

static const AstShape kind_shapes[] = {
#define AST(kind, shape, name) ASTSHAPE_##shape,
#include "compiler/ast.def"
#undef AST
};
_Static_assert(ARRAY_LEN(kind_shapes) == AST__COUNT, "one shape per kind");

static const char *const kind_names[] = {
#define AST(kind, shape, name) name,
#include "compiler/ast.def"
#undef AST
};
_Static_assert(ARRAY_LEN(kind_names) == AST__COUNT, "one name per kind");

static const size_t shape_sizes[] = {
  [ASTSHAPE_AstLeaf] = sizeof(AstLeaf),
  [ASTSHAPE_AstText] = sizeof(AstText),
  [ASTSHAPE_AstInt] = sizeof(AstInt),
  [ASTSHAPE_AstUnary] = sizeof(AstUnary),
  [ASTSHAPE_AstBinary] = sizeof(AstBinary),
  [ASTSHAPE_AstIf] = sizeof(AstIf),
  [ASTSHAPE_AstField] = sizeof(AstField),
  [ASTSHAPE_AstCall] = sizeof(AstCall),
  [ASTSHAPE_AstNamed] = sizeof(AstNamed),
  [ASTSHAPE_AstSeq] = sizeof(AstSeq),
  [ASTSHAPE_AstFor] = sizeof(AstFor),
  [ASTSHAPE_AstMatch] = sizeof(AstMatch),
  [ASTSHAPE_AstArm] = sizeof(AstArm),
  [ASTSHAPE_AstDoc] = sizeof(AstDoc),
  [ASTSHAPE_AstUse] = sizeof(AstUse),
  [ASTSHAPE_AstSetting] = sizeof(AstSetting),
  [ASTSHAPE_AstTrigger] = sizeof(AstTrigger),
  [ASTSHAPE_AstPoll] = sizeof(AstPoll),
  [ASTSHAPE_AstStep] = sizeof(AstStep),
  [ASTSHAPE_AstTable] = sizeof(AstTable),
  [ASTSHAPE_AstTest] = sizeof(AstTest),
  [ASTSHAPE_AstRecordDecl] = sizeof(AstRecordDecl),
  [ASTSHAPE_AstFieldDecl] = sizeof(AstFieldDecl),
  [ASTSHAPE_AstTriggerSpec] = sizeof(AstTriggerSpec),
  [ASTSHAPE_AstOperation] = sizeof(AstOperation),
};
_Static_assert(ARRAY_LEN(shape_sizes) == ASTSHAPE__COUNT, "one size per shape");

AstShape ast_kind_shape(AstKind kind) { return kind_shapes[kind]; }
const char *ast_kind_name(AstKind kind) { return kind_names[kind]; }

void *ast_as_checked(AstNode *node, AstShape shape) {
#ifdef IEX_DEBUG
  if (node && kind_shapes[node->kind] != shape)
    iex_fatal("AST node %s viewed as the wrong shape", kind_names[node->kind]);
#else
  (void)shape;
#endif
  return node;
}

/* ---- Children ---------------------------------------------------------- */

static void visit_list(const AstList *l, void (*fn)(AstNode *, void *), void *ctx) {
  for (uint32_t i = 0; i < l->n; i++) fn(l->items[i], ctx);
}

#define VISIT(n) \
  do { if (n) fn((n), ctx); } while (0)

void ast_visit_children(AstNode *node, void (*fn)(AstNode *child, void *ctx), void *ctx) {
  switch (kind_shapes[node->kind]) {
    case ASTSHAPE_AstLeaf:
    case ASTSHAPE_AstText:
    case ASTSHAPE_AstInt:
    case ASTSHAPE_AstPoll:
    case ASTSHAPE_AstTriggerSpec:
    case ASTSHAPE__COUNT:
      return;
    case ASTSHAPE_AstUnary: VISIT(AST_AS(AstUnary, node)->operand); return;
    case ASTSHAPE_AstBinary: {
      AstBinary *b = AST_AS(AstBinary, node);
      VISIT(b->left);
      VISIT(b->right);
      return;
    }
    case ASTSHAPE_AstIf: {
      AstIf *x = AST_AS(AstIf, node);
      VISIT(x->cond);
      VISIT(x->then_node);
      VISIT(x->else_node);
      return;
    }
    case ASTSHAPE_AstField: VISIT(AST_AS(AstField, node)->object); return;
    case ASTSHAPE_AstCall: {
      AstCall *c = AST_AS(AstCall, node);
      VISIT(c->callee);
      visit_list(&c->args, fn, ctx);
      return;
    }
    case ASTSHAPE_AstNamed: VISIT(AST_AS(AstNamed, node)->value); return;
    case ASTSHAPE_AstSeq: visit_list(&AST_AS(AstSeq, node)->items, fn, ctx); return;
    case ASTSHAPE_AstFor: {
      AstFor *f = AST_AS(AstFor, node);
      VISIT(f->iter);
      VISIT(f->where);
      VISIT(f->body);
      return;
    }
    case ASTSHAPE_AstMatch: {
      AstMatch *m = AST_AS(AstMatch, node);
      VISIT(m->subject);
      visit_list(&m->arms, fn, ctx);
      return;
    }
    case ASTSHAPE_AstArm: {
      AstArm *a = AST_AS(AstArm, node);
      visit_list(&a->patterns, fn, ctx);
      VISIT(a->value);
      return;
    }
    case ASTSHAPE_AstDoc: VISIT(AST_AS(AstDoc, node)->doc); return;
    case ASTSHAPE_AstUse: VISIT(AST_AS(AstUse, node)->lua_file); return;
    case ASTSHAPE_AstSetting: {
      AstSetting *s = AST_AS(AstSetting, node);
      VISIT(s->type);
      VISIT(s->value);
      VISIT(s->doc);
      return;
    }
    case ASTSHAPE_AstTrigger: {
      AstTrigger *t = AST_AS(AstTrigger, node);
      visit_list(&t->stages, fn, ctx);
      visit_list(&t->clauses, fn, ctx);
      return;
    }
    case ASTSHAPE_AstStep: {
      AstStep *s = AST_AS(AstStep, node);
      visit_list(&s->args, fn, ctx);
      VISIT(s->when);
      VISIT(s->body);
      return;
    }
    case ASTSHAPE_AstTable: {
      AstTable *t = AST_AS(AstTable, node);
      VISIT(t->doc);
      visit_list(&t->arms, fn, ctx);
      VISIT(t->source);
      return;
    }
    case ASTSHAPE_AstTest: {
      AstTest *t = AST_AS(AstTest, node);
      VISIT(t->name);
      visit_list(&t->entries, fn, ctx);
      return;
    }
    case ASTSHAPE_AstRecordDecl: {
      AstRecordDecl *r = AST_AS(AstRecordDecl, node);
      VISIT(r->doc);
      visit_list(&r->fields, fn, ctx);
      return;
    }
    case ASTSHAPE_AstFieldDecl: {
      AstFieldDecl *f = AST_AS(AstFieldDecl, node);
      VISIT(f->type);
      visit_list(&f->modifiers, fn, ctx);
      VISIT(f->doc);
      return;
    }
    case ASTSHAPE_AstOperation: {
      AstOperation *o = AST_AS(AstOperation, node);
      visit_list(&o->params, fn, ctx);
      VISIT(o->takes);
      VISIT(o->returns);
      VISIT(o->doc);
      return;
    }
  }
}

/* ---- Construction helpers ---------------------------------------------- */

AstNode *ast_new(AstBuilder *b, AstKind kind, Span span) {
  AstNode *n = arena_zalloc(b->arena, shape_sizes[kind_shapes[kind]]);
  n->kind = (uint8_t)kind;
  n->depth = 1;
  n->span = span;
  return n;
}

static void depth_of_child(AstNode *child, void *ctx) {
  AstNode *parent = ctx;
  if (child->depth + 1 > parent->depth) parent->depth = (uint16_t)(child->depth + 1);
}

/* Compute `n`'s depth from its children; past the limit, report and give
** an ERROR node instead (see the file comment). */
static AstNode *done(AstBuilder *b, AstNode *n) {
  n->depth = 1;
  ast_visit_children(n, depth_of_child, n);
  if (n->depth <= AST_MAX_DEPTH) return n;
  if (!b->depth_reported) {
    b->depth_reported = true;
    Diag *d = diag_report(b->diags, DIAG_E0106, n->span,
                          "expression nested more than %d levels deep", AST_MAX_DEPTH);
    diag_help(b->diags, d, "split it into parts with `let`");
  }
  return ast_error(b, n->span);
}

void ast_list_push(AstBuilder *b, AstList *list, AstNode *node) {
  if (!node) return;  /* what a syntax error left behind */
  if (list->n == list->cap) {
    uint32_t cap = list->cap ? list->cap * 2 : 4;
    AstNode **items = arena_alloc(b->arena, cap * sizeof *items);
    if (list->n) memcpy(items, list->items, list->n * sizeof *items);
    list->items = items;
    list->cap = cap;
  }
  list->items[list->n++] = node;
}

AstList ast_list_empty(void) {
  AstList l = {0};
  return l;
}

AstList ast_list_one(AstBuilder *b, AstNode *node) {
  AstList l = {0};
  ast_list_push(b, &l, node);
  return l;
}

Token ast_no_token(void) {
  Token t = {0};
  return t;
}

static bool present(const Token *t) { return t && t->kind != 0; }

Ident ast_no_ident(void) {
  Ident id = {{NULL, 0}, {0, 0, 0}};
  return id;
}

Ident ast_ident(const Token *t) {
  if (!present(t)) return ast_no_ident();
  Ident id = {t->text, t->span};
  /* A string key is its decoded text. */
  if (t->kind == TK_STRING && t->node && t->node->kind == AST_STRING)
    id.text = AST_AS(AstText, t->node)->text;
  return id;
}

Ident ast_decl_name(AstBuilder *b, const Token *t, const char *what) {
  if (present(t) && lexer_is_reserved(t->kind)) {
    Diag *d = diag_report(b->diags, DIAG_E0105, t->span,
                          "`%.*s` is a keyword and cannot name a %s", STR_FMT(t->text), what);
    diag_help(b->diags, d, "choose another name, such as `%.*s_%s`", STR_FMT(t->text),
              strchr(what, ' ') ? "1" : what);
  }
  return ast_ident(t);
}

void ast_extend(AstNode *node, Span end) {
  if (end.file_id == node->span.file_id && end.offset + end.len > node->span.offset)
    node->span.len = end.offset + end.len - node->span.offset;
}

static Span span_from(const Token *start, const AstNode *end) {
  return span_join(start->span, end->span);
}

/* ---- Expressions --------------------------------------------------------- */

AstNode *ast_error(AstBuilder *b, Span span) { return ast_new(b, AST_ERROR, span); }

AstNode *ast_leaf(AstBuilder *b, AstKind kind, const Token *t) {
  return ast_new(b, kind, t->span);
}

AstNode *ast_name(AstBuilder *b, const Token *t) { return ast_text(b, AST_NAME, t); }

AstNode *ast_text(AstBuilder *b, AstKind kind, const Token *t) {
  AstNode *n = ast_new(b, kind, t->span);
  Str text = t->text;
  if ((kind == AST_DATE || kind == AST_DATETIME) && text.len > 0) text = str_make(text.ptr + 1, text.len - 1);
  AST_AS(AstText, n)->text = text;
  return n;
}

/* The value of an INT token. The lexer has reported literals that do not
** fit (TOKEN_BAD); they become 0 so that later phases need not care. */
static int64_t int_value(const Token *t) {
  int64_t v = 0;
  if (!(t->flags & TOKEN_BAD))
    for (size_t i = 0; i < t->text.len; i++) v = v * 10 + (t->text.ptr[i] - '0');
  return v;
}

AstNode *ast_int(AstBuilder *b, const Token *t) {
  AstNode *n = ast_new(b, AST_INT, t->span);
  AST_AS(AstInt, n)->value = int_value(t);
  return n;
}

AstNode *ast_string(AstBuilder *b, const Token *t) {
  if (t->node) return t->node;  /* built by parse.c with its interpolations */
  AstNode *n = ast_new(b, AST_STRING, t->span);
  AST_AS(AstText, n)->text = str_make("", 0);
  return n;
}

AstNode *ast_unary(AstBuilder *b, AstKind kind, const Token *op, AstNode *operand) {
  AstNode *n = ast_new(b, kind, op ? span_from(op, operand) : operand->span);
  AST_AS(AstUnary, n)->operand = operand;
  return done(b, n);
}

AstNode *ast_binary(AstBuilder *b, AstKind kind, AstNode *left, AstNode *right) {
  AstNode *n = ast_new(b, kind, span_join(left->span, right->span));
  AstBinary *x = AST_AS(AstBinary, n);
  x->left = left;
  x->right = right;
  return done(b, n);
}

AstNode *ast_guard(AstBuilder *b, const Token *kw, AstNode *cond, AstNode *body) {
  AstNode *n = ast_binary(b, AST_GUARD, cond, body);
  if (n->kind == AST_GUARD) n->span = span_from(kw, body);
  return n;
}

AstNode *ast_type_table(AstBuilder *b, const Token *kw, AstNode *key, AstNode *value) {
  AstNode *n = ast_binary(b, AST_TYPE_TABLE, key, value);
  n->span = span_from(kw, value);
  return n;
}

AstNode *ast_paren(AstBuilder *b, const Token *open, AstNode *inner, const Token *close) {
  /* Parentheses leave no node; the inner node's span grows to cover them,
  ** so a message about `(a + b)` underlines the brackets too. */
  (void)b;
  inner->span = span_join(open->span, close->span);
  return inner;
}

AstNode *ast_field(AstBuilder *b, AstNode *object, const Token *name) {
  AstNode *n = ast_new(b, AST_FIELD, span_join(object->span, name->span));
  AstField *f = AST_AS(AstField, n);
  f->object = object;
  f->name = ast_ident(name);
  return done(b, n);
}

AstNode *ast_index(AstBuilder *b, AstNode *object, AstNode *index, const Token *close) {
  AstNode *n = ast_binary(b, AST_INDEX, object, index);
  ast_extend(n, close->span);
  return n;
}

AstNode *ast_call(AstBuilder *b, AstNode *callee, AstList args, const Token *close) {
  AstNode *n = ast_new(b, AST_CALL, span_join(callee->span, close->span));
  AstCall *c = AST_AS(AstCall, n);
  c->callee = callee;
  c->args = args;
  return done(b, n);
}

AstNode *ast_arg(AstBuilder *b, const Token *name, AstNode *value) {
  AstNode *n = ast_new(b, AST_ARG, present(name) ? span_from(name, value) : value->span);
  AstNamed *a = AST_AS(AstNamed, n);
  a->name = ast_ident(name);
  a->value = value;
  return done(b, n);
}

AstNode *ast_lambda(AstBuilder *b, const Token *name, const Token *param, AstNode *body) {
  AstNode *n = ast_new(b, AST_LAMBDA, span_from(param, body));
  AstNamed *l = AST_AS(AstNamed, n);
  l->name = ast_decl_name(b, param, "variable");
  l->value = body;
  return ast_arg(b, name, done(b, n));
}

AstNode *ast_if(AstBuilder *b, const Token *kw, AstNode *cond, AstNode *then_node,
                AstNode *else_node) {
  AstNode *n = ast_new(b, AST_IF, span_from(kw, else_node));
  AstIf *x = AST_AS(AstIf, n);
  x->cond = cond;
  x->then_node = then_node;
  x->else_node = else_node;
  return done(b, n);
}

AstNode *ast_for(AstBuilder *b, const Token *kw, const Token *var, const Token *index,
                 AstNode *iter, AstNode *where, AstNode *body, bool arrow) {
  AstNode *n = ast_new(b, AST_FOR, span_from(kw, body));
  if (arrow) n->flags |= AST_FLAG_ARROW;
  AstFor *f = AST_AS(AstFor, n);
  f->var = ast_decl_name(b, var, "variable");
  f->index = present(index) ? ast_decl_name(b, index, "variable") : ast_no_ident();
  f->iter = iter;
  f->where = where;
  f->body = body;
  return done(b, n);
}

static void check_arms(AstBuilder *b, const AstList *arms);

AstNode *ast_match(AstBuilder *b, const Token *kw, AstNode *subject, AstList arms,
                   const Token *close) {
  AstNode *n = ast_new(b, AST_MATCH, span_join(kw->span, close->span));
  AstMatch *m = AST_AS(AstMatch, n);
  m->subject = subject;
  m->arms = arms;
  check_arms(b, &arms);
  return done(b, n);
}

static void check_arms(AstBuilder *b, const AstList *arms) {
  /* docs/language.md "match": `else` matches everything, so an arm after
  ** it can never be chosen. */
  bool seen_else = false;
  for (uint32_t i = 0; i < arms->n; i++) {
    AstNode *arm = arms->items[i];
    if (seen_else) {
      Diag *d = diag_report(b->diags, DIAG_W0101, arm->span,
                            "this arm comes after `else` and is never used");
      diag_help(b->diags, d, "move the `else` arm to the end");
      return;
    }
    if (arm->flags & AST_FLAG_ELSE) seen_else = true;
  }
}

AstNode *ast_arm(AstBuilder *b, AstList patterns, const Token *else_kw, AstNode *value) {
  Span start = present(else_kw) ? else_kw->span
               : patterns.n ? patterns.items[0]->span : value->span;
  AstNode *n = ast_new(b, AST_ARM, span_join(start, value->span));
  if (present(else_kw)) n->flags |= AST_FLAG_ELSE;
  AstArm *a = AST_AS(AstArm, n);
  a->patterns = patterns;
  a->value = value;
  return done(b, n);
}

AstNode *ast_neg_pattern(AstBuilder *b, const Token *minus, AstNode *literal) {
  return ast_unary(b, AST_NEG, minus, literal);
}

/* ---- Records and lists ----------------------------------------------------- */

static void check_expr_entries(AstBuilder *b, const AstList *entries);

AstNode *ast_seq(AstBuilder *b, AstKind kind, const Token *open, AstList items,
                 const Token *close) {
  Span span;
  if (present(open)) span = open->span;
  else if (items.n) span = items.items[0]->span;
  else span = (Span){0, 0, 0};
  if (present(close)) span = span_join(span, close->span);
  else if (items.n) span = span_join(span, items.items[items.n - 1]->span);
  AstNode *n = ast_new(b, kind, span);
  AST_AS(AstSeq, n)->items = items;
  if (kind == AST_RECORD) check_expr_entries(b, &items);
  return done(b, n);
}

AstNode *ast_field_entry(AstBuilder *b, const Token *key, AstNode *value) {
  AstNode *n = ast_new(b, AST_FIELD_ENTRY, span_from(key, value));
  if (key->kind == TK_STRING) n->flags |= AST_FLAG_STRING_KEY;
  AstNamed *e = AST_AS(AstNamed, n);
  e->name = ast_ident(key);
  e->value = value;
  return done(b, n);
}

/* The span of operator `op` between two operands, if it can be found. */
static Span operator_span(AstBuilder *b, const AstNode *left, const AstNode *right,
                          const char *op) {
  Span gap = {left->span.file_id, left->span.offset + left->span.len, 0};
  if (right->span.offset > gap.offset) gap.len = right->span.offset - gap.offset;
  if (!b->sources || gap.len == 0) return gap;
  const SourceFile *f = sources_file(b->sources, gap.file_id);
  size_t n = strlen(op);
  for (uint32_t i = gap.offset; i + n <= gap.offset + gap.len; i++)
    if (memcmp(f->text + i, op, n) == 0) return (Span){gap.file_id, i, (uint32_t)n};
  return gap;
}

AstNode *ast_expr_entry(AstBuilder *b, AstNode *expr) {
  return ast_unary(b, AST_EXPR_ENTRY, NULL, expr);
}

/* docs/language.md "Mappings": an expression stands alone in a record only
** to stop the transfer (`skip(...)`, `fail(...)`). Checked when the record
** is complete: Lemon may build an entry just before it finds a syntax error
** after it, and that error is the one to report. */
static void check_expr_entries(AstBuilder *b, const AstList *entries) {
  for (uint32_t i = 0; i < entries->n; i++) {
    if (entries->items[i]->kind != AST_EXPR_ENTRY) continue;
    AstNode *expr = AST_AS(AstUnary, entries->items[i])->operand;
    if (expr->kind == AST_CALL || expr->kind == AST_ERROR) continue;
    Diag *d;
    AstBinary *cmp = expr->kind == AST_EQ ? AST_AS(AstBinary, expr) : NULL;
    if (cmp && cmp->left->kind == AST_NAME) {
      Span op = operator_span(b, cmp->left, cmp->right, "==");
      d = diag_report(b->diags, DIAG_E0101, op, "expected `=` after field name `%.*s`, found `==`",
                      STR_FMT(AST_AS(AstText, cmp->left)->text));
      diag_help(b->diags, d, "`==` compares two values; `=` sets a field");
    } else {
      d = diag_report(b->diags, DIAG_E0101, expr->span,
                      "expected a field (`name = value`), found an expression");
      diag_help(b->diags, d, "only calls such as `skip(\"...\")` and `fail(\"...\")` stand alone "
                             "in a record");
    }
  }
}

AstNode *ast_let(AstBuilder *b, const Token *kw, const Token *name, AstNode *value) {
  AstNode *n = ast_new(b, AST_LET, span_from(kw, value));
  AstNamed *l = AST_AS(AstNamed, n);
  l->name = ast_decl_name(b, name, "binding");
  l->value = value;
  return done(b, n);
}

AstNode *ast_if_entry(AstBuilder *b, AstKind kind, const Token *kw, AstNode *cond,
                      AstNode *then_node, AstNode *else_node, bool arrow) {
  AstNode *n = ast_new(b, kind, span_from(kw, else_node ? else_node : then_node));
  if (arrow) n->flags |= AST_FLAG_ARROW;
  AstIf *x = AST_AS(AstIf, n);
  x->cond = cond;
  x->then_node = then_node;
  x->else_node = else_node;
  return done(b, n);
}

/* ---- Declarations ------------------------------------------------------------ */

AstNode *ast_file(AstBuilder *b, uint32_t file_id, AstList decls) {
  Span span = {file_id, 0, 0};
  if (decls.n) span = span_join(decls.items[0]->span, decls.items[decls.n - 1]->span);
  span.file_id = file_id;
  AstNode *n = ast_new(b, AST_FILE, span);
  AST_AS(AstSeq, n)->items = decls;
  return done(b, n);
}

AstNode *ast_doc_decl(AstBuilder *b, AstKind kind, const Token *kw, const Token *name,
                      AstNode *doc, const char *what) {
  AstNode *n = ast_new(b, kind, doc ? span_from(kw, doc) : span_join(kw->span, name->span));
  AstDoc *d = AST_AS(AstDoc, n);
  d->name = what ? ast_decl_name(b, name, what) : ast_ident(name);
  d->doc = doc;
  return done(b, n);
}

AstNode *ast_use(AstBuilder *b, const Token *kw, const Token *name, const Token *system,
                 AstNode *lua_file) {
  AstNode *n = ast_new(b, AST_USE, lua_file ? span_from(kw, lua_file)
                                            : span_join(kw->span, system->span));
  AstUse *u = AST_AS(AstUse, n);
  u->name = ast_decl_name(b, name, "connection");
  u->system = ast_ident(system);
  u->lua_file = lua_file;
  if (lua_file) n->flags |= AST_FLAG_LUA;
  return done(b, n);
}

AstNode *ast_setting(AstBuilder *b, const Token *kw, const Token *name, AstNode *type,
                     AstNode *value, AstNode *doc) {
  AstNode *last = doc ? doc : value ? value : type;
  AstNode *n = ast_new(b, AST_SETTING, span_from(kw, last));
  AstSetting *s = AST_AS(AstSetting, n);
  s->name = ast_decl_name(b, name, "setting");
  s->type = type;
  s->value = value;
  s->doc = doc;
  return done(b, n);
}

AstNode *ast_trigger(AstBuilder *b, const Token *kw, const Token *conn, const Token *rec,
                     const Token *binding, AstList stages, const Token *created,
                     AstList clauses) {
  Span span = span_join(kw->span, rec->span);
  if (present(created)) span = span_join(span, created->span);
  if (stages.n) span = span_join(span, stages.items[stages.n - 1]->span);
  if (clauses.n) span = span_join(span, clauses.items[clauses.n - 1]->span);
  AstNode *n = ast_new(b, AST_TRIGGER, span);
  if (present(created)) n->flags |= AST_FLAG_CREATED;
  AstTrigger *t = AST_AS(AstTrigger, n);
  t->connection = ast_ident(conn);
  t->record = ast_ident(rec);
  t->binding = present(binding) ? ast_decl_name(b, binding, "binding") : ast_no_ident();
  t->stages = stages;
  t->clauses = clauses;
  return done(b, n);
}

AstNode *ast_clause(AstBuilder *b, AstKind kind, const Token *kw, AstNode *operand) {
  return ast_unary(b, kind, kw, operand);
}

AstNode *ast_poll(AstBuilder *b, const Token *kw, const Token *every, const Token *unit) {
  AstNode *n = ast_new(b, AST_POLL, span_join(kw->span, unit->span));
  AstPoll *p = AST_AS(AstPoll, n);
  p->every = int_value(every);
  p->unit = ast_ident(unit);
  return n;
}

AstNode *ast_step(AstBuilder *b, const Token *kw, const Token *name, const Token *conn,
                  const Token *rec, const Token *op, AstList args, AstNode *when,
                  AstNode *body) {
  AstNode *n = ast_new(b, AST_STEP, span_from(kw, body));
  AstStep *s = AST_AS(AstStep, n);
  s->name = ast_decl_name(b, name, "step");
  s->connection = ast_ident(conn);
  s->record = ast_ident(rec);
  s->operation = ast_ident(op);
  s->args = args;
  s->when = when;
  s->body = body;
  return done(b, n);
}

AstNode *ast_table(AstBuilder *b, const Token *kw, const Token *name, AstNode *doc,
                   AstList arms, AstNode *source, const Token *end) {
  Span span = span_join(kw->span, name->span);
  if (source) span = span_join(span, source->span);
  if (doc) span = span_join(span, doc->span);
  if (present(end)) span = span_join(span, end->span);
  AstNode *n = ast_new(b, AST_TABLE, span);
  AstTable *t = AST_AS(AstTable, n);
  t->name = ast_decl_name(b, name, "table");
  t->doc = doc;
  t->arms = arms;
  t->source = source;
  check_arms(b, &arms);
  return done(b, n);
}

AstNode *ast_test(AstBuilder *b, const Token *kw, AstNode *name, AstList entries,
                  const Token *close) {
  AstNode *n = ast_new(b, AST_TEST, span_join(kw->span, close->span));
  AstTest *t = AST_AS(AstTest, n);
  t->name = name;
  t->entries = entries;
  return done(b, n);
}

AstNode *ast_test_entry(AstBuilder *b, AstKind kind, const Token *kw, const Token *name,
                        AstNode *value) {
  if (kind == AST_TEST_SETTINGS || kind == AST_TEST_EXPECT_SKIP || kind == AST_TEST_EXPECT_FAIL)
    return ast_unary(b, kind, kw, value);
  AstNode *n = ast_new(b, kind, value ? span_from(kw, value) : span_join(kw->span, name->span));
  AstNamed *e = AST_AS(AstNamed, n);
  e->name = ast_ident(name);
  e->value = value;
  return done(b, n);
}

/* ---- Types and connector schemas ------------------------------------------- */

AstNode *ast_type_name(AstBuilder *b, const Token *name) {
  return ast_text(b, AST_TYPE_NAME, name);
}

AstNode *ast_enum_value(AstBuilder *b, const Token *name) { return ast_name(b, name); }

AstNode *ast_record_decl(AstBuilder *b, const Token *kw, const Token *name, AstNode *doc,
                         AstList fields, const Token *close) {
  AstNode *n = ast_new(b, AST_RECORD_DECL, span_join(kw->span, close->span));
  AstRecordDecl *r = AST_AS(AstRecordDecl, n);
  r->name = ast_decl_name(b, name, "record");
  r->doc = doc;
  r->fields = fields;
  return done(b, n);
}

AstNode *ast_field_decl(AstBuilder *b, AstKind kind, const Token *name, AstNode *type,
                        AstList modifiers, AstNode *doc) {
  AstNode *last = doc ? doc : modifiers.n ? modifiers.items[modifiers.n - 1] : type;
  AstNode *n = ast_new(b, kind, span_from(name, last));
  AstFieldDecl *f = AST_AS(AstFieldDecl, n);
  f->name = ast_ident(name);
  f->type = type;
  f->modifiers = modifiers;
  f->doc = doc;
  return done(b, n);
}

AstNode *ast_modifier(AstBuilder *b, AstKind kind, const Token *kw, const Token *arg) {
  AstNode *n = ast_new(b, kind, present(arg) ? span_join(kw->span, arg->span) : kw->span);
  if (kind == AST_MOD_AS) AST_AS(AstText, n)->text = arg->text;
  else if (present(arg)) AST_AS(AstInt, n)->value = int_value(arg);
  return n;
}

AstNode *ast_trigger_spec(AstBuilder *b, const Token *kw, const Token *rec,
                          const Token *field, const Token *created) {
  AstNode *n = ast_new(b, AST_TRIGGER_SPEC,
                       span_join(kw->span, present(field) ? field->span : created->span));
  if (present(created)) n->flags |= AST_FLAG_CREATED;
  AstTriggerSpec *t = AST_AS(AstTriggerSpec, n);
  t->record = ast_ident(rec);
  t->field = ast_ident(field);
  return n;
}

AstNode *ast_operation(AstBuilder *b, const Token *kw, const Token *rec, const Token *name,
                       AstList params, AstNode *takes, AstNode *returns, AstNode *doc,
                       const Token *close) {
  Span span = span_join(kw->span, close->span);
  if (takes) span = span_join(span, takes->span);
  if (returns) span = span_join(span, returns->span);
  if (doc) span = span_join(span, doc->span);
  AstNode *n = ast_new(b, AST_OPERATION, span);
  AstOperation *o = AST_AS(AstOperation, n);
  o->record = ast_ident(rec);
  o->name = ast_ident(name);
  o->params = params;
  o->takes = takes;
  o->returns = returns;
  o->doc = doc;
  return done(b, n);
}

/* ---- Printing (--emit=ast) ---------------------------------------------------- */

typedef struct Printer {
  const Sources *src;
  Buf *out;
} Printer;

static void put_str(Buf *out, Str s) {
  /* Quoted, with the escapes of the language, so the output is one line. */
  buf_putc(out, '"');
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char)s.ptr[i];
    if (c == '"' || c == '\\') buf_printf(out, "\\%c", c);
    else if (c == '\n') buf_puts(out, "\\n");
    else if (c == '\t') buf_puts(out, "\\t");
    else if (c == '\r') buf_puts(out, "\\r");
    else if (c < 0x20 || c == 0x7f) buf_printf(out, "\\u{%x}", c);
    else buf_putc(out, (char)c);
  }
  buf_putc(out, '"');
}

static void put_ident(Buf *out, Ident id) {
  if (id.text.ptr) buf_append(out, id.text.ptr, id.text.len);
}

static void put_pos(Printer *pr, Span span) {
  LineCol a = sources_line_col(pr->src, span.file_id, span.offset);
  LineCol b = sources_line_col(pr->src, span.file_id, span.offset + span.len);
  buf_printf(pr->out, " @%u:%u-%u:%u\n", a.line, a.col, b.line, b.col);
}

static void print_node(Printer *pr, int indent, const char *label, const AstNode *n);

static void print_list(Printer *pr, int indent, const char *label, const AstList *l) {
  for (uint32_t i = 0; i < l->n; i++) print_node(pr, indent, label, l->items[i]);
}

static void print_node(Printer *pr, int indent, const char *label, const AstNode *cn) {
  Buf *out = pr->out;
  if (!cn) return;
  AstNode *n = (AstNode *)cn;  /* AST_AS takes a mutable node; nothing is changed */
  buf_printf(out, "%*s", indent * 2, "");
  if (label) buf_printf(out, "%s: ", label);
  buf_puts(out, kind_names[n->kind]);
  int in = indent + 1;
  switch (kind_shapes[n->kind]) {
    case ASTSHAPE_AstLeaf:
    case ASTSHAPE__COUNT:
      put_pos(pr, n->span);
      return;
    case ASTSHAPE_AstText:
      buf_putc(out, ' ');
      if (n->kind == AST_STRING) put_str(out, AST_AS(AstText, n)->text);
      else buf_append_str(out, AST_AS(AstText, n)->text);
      put_pos(pr, n->span);
      return;
    case ASTSHAPE_AstInt:
      buf_printf(out, " %" PRId64, AST_AS(AstInt, n)->value);
      put_pos(pr, n->span);
      return;
    case ASTSHAPE_AstUnary:
      put_pos(pr, n->span);
      print_node(pr, in, NULL, AST_AS(AstUnary, n)->operand);
      return;
    case ASTSHAPE_AstBinary: {
      AstBinary *x = AST_AS(AstBinary, n);
      put_pos(pr, n->span);
      print_node(pr, in, n->kind == AST_GUARD ? "if" : NULL, x->left);
      print_node(pr, in, NULL, x->right);
      return;
    }
    case ASTSHAPE_AstIf: {
      AstIf *x = AST_AS(AstIf, n);
      put_pos(pr, n->span);
      print_node(pr, in, "cond", x->cond);
      print_node(pr, in, "then", x->then_node);
      print_node(pr, in, "else", x->else_node);
      return;
    }
    case ASTSHAPE_AstField: {
      AstField *f = AST_AS(AstField, n);
      buf_putc(out, ' ');
      put_ident(out, f->name);
      put_pos(pr, n->span);
      print_node(pr, in, NULL, f->object);
      return;
    }
    case ASTSHAPE_AstCall: {
      AstCall *c = AST_AS(AstCall, n);
      put_pos(pr, n->span);
      print_node(pr, in, "callee", c->callee);
      print_list(pr, in, NULL, &c->args);
      return;
    }
    case ASTSHAPE_AstNamed: {
      AstNamed *x = AST_AS(AstNamed, n);
      if (x->name.text.ptr) {
        buf_putc(out, ' ');
        if (n->flags & AST_FLAG_STRING_KEY) put_str(out, x->name.text);
        else put_ident(out, x->name);
      }
      put_pos(pr, n->span);
      print_node(pr, in, NULL, x->value);
      return;
    }
    case ASTSHAPE_AstSeq:
      if (n->kind == AST_FILE) {
        buf_printf(out, " %s\n", sources_file(pr->src, n->span.file_id)->path);
      } else {
        put_pos(pr, n->span);
      }
      print_list(pr, in, NULL, &AST_AS(AstSeq, n)->items);
      return;
    case ASTSHAPE_AstFor: {
      AstFor *f = AST_AS(AstFor, n);
      buf_putc(out, ' ');
      put_ident(out, f->var);
      if (f->index.text.ptr) {
        buf_puts(out, ", ");
        put_ident(out, f->index);
      }
      put_pos(pr, n->span);
      print_node(pr, in, "in", f->iter);
      print_node(pr, in, "where", f->where);
      print_node(pr, in, n->flags & AST_FLAG_ARROW ? "=>" : "body", f->body);
      return;
    }
    case ASTSHAPE_AstMatch: {
      AstMatch *m = AST_AS(AstMatch, n);
      put_pos(pr, n->span);
      print_node(pr, in, "subject", m->subject);
      print_list(pr, in, NULL, &m->arms);
      return;
    }
    case ASTSHAPE_AstArm: {
      AstArm *a = AST_AS(AstArm, n);
      if (n->flags & AST_FLAG_ELSE) buf_puts(out, " else");
      put_pos(pr, n->span);
      print_list(pr, in, "pattern", &a->patterns);
      print_node(pr, in, "=>", a->value);
      return;
    }
    case ASTSHAPE_AstDoc: {
      AstDoc *d = AST_AS(AstDoc, n);
      buf_putc(out, ' ');
      put_ident(out, d->name);
      put_pos(pr, n->span);
      print_node(pr, in, "doc", d->doc);
      return;
    }
    case ASTSHAPE_AstUse: {
      AstUse *u = AST_AS(AstUse, n);
      buf_putc(out, ' ');
      put_ident(out, u->name);
      buf_puts(out, ": ");
      if (n->flags & AST_FLAG_LUA) buf_puts(out, "lua");
      else put_ident(out, u->system);
      put_pos(pr, n->span);
      print_node(pr, in, "file", u->lua_file);
      return;
    }
    case ASTSHAPE_AstSetting: {
      AstSetting *s = AST_AS(AstSetting, n);
      buf_putc(out, ' ');
      put_ident(out, s->name);
      put_pos(pr, n->span);
      print_node(pr, in, "type", s->type);
      print_node(pr, in, "default", s->value);
      print_node(pr, in, "doc", s->doc);
      return;
    }
    case ASTSHAPE_AstTrigger: {
      AstTrigger *t = AST_AS(AstTrigger, n);
      buf_putc(out, ' ');
      put_ident(out, t->connection);
      buf_putc(out, '.');
      put_ident(out, t->record);
      if (t->binding.text.ptr) {
        buf_puts(out, " as ");
        put_ident(out, t->binding);
      }
      buf_puts(out, n->flags & AST_FLAG_CREATED ? " created" : " reaches");
      put_pos(pr, n->span);
      print_list(pr, in, "stage", &t->stages);
      print_list(pr, in, NULL, &t->clauses);
      return;
    }
    case ASTSHAPE_AstPoll: {
      AstPoll *p = AST_AS(AstPoll, n);
      buf_printf(out, " every %" PRId64 " ", p->every);
      put_ident(out, p->unit);
      put_pos(pr, n->span);
      return;
    }
    case ASTSHAPE_AstStep: {
      AstStep *s = AST_AS(AstStep, n);
      buf_putc(out, ' ');
      put_ident(out, s->name);
      if (s->operation.text.ptr) {
        buf_puts(out, " = ");
        put_ident(out, s->connection);
        buf_putc(out, '.');
        put_ident(out, s->record);
        buf_putc(out, '.');
        put_ident(out, s->operation);
      }
      put_pos(pr, n->span);
      print_list(pr, in, NULL, &s->args);
      print_node(pr, in, "when", s->when);
      print_node(pr, in, "body", s->body);
      return;
    }
    case ASTSHAPE_AstTable: {
      AstTable *t = AST_AS(AstTable, n);
      buf_putc(out, ' ');
      put_ident(out, t->name);
      put_pos(pr, n->span);
      print_node(pr, in, "doc", t->doc);
      print_list(pr, in, NULL, &t->arms);
      print_node(pr, in, "source", t->source);
      return;
    }
    case ASTSHAPE_AstTest: {
      AstTest *t = AST_AS(AstTest, n);
      put_pos(pr, n->span);
      print_node(pr, in, "name", t->name);
      print_list(pr, in, NULL, &t->entries);
      return;
    }
    case ASTSHAPE_AstRecordDecl: {
      AstRecordDecl *r = AST_AS(AstRecordDecl, n);
      buf_putc(out, ' ');
      put_ident(out, r->name);
      put_pos(pr, n->span);
      print_node(pr, in, "doc", r->doc);
      print_list(pr, in, NULL, &r->fields);
      return;
    }
    case ASTSHAPE_AstFieldDecl: {
      AstFieldDecl *f = AST_AS(AstFieldDecl, n);
      buf_putc(out, ' ');
      put_ident(out, f->name);
      put_pos(pr, n->span);
      print_node(pr, in, "type", f->type);
      print_list(pr, in, NULL, &f->modifiers);
      print_node(pr, in, "doc", f->doc);
      return;
    }
    case ASTSHAPE_AstTriggerSpec: {
      AstTriggerSpec *t = AST_AS(AstTriggerSpec, n);
      buf_putc(out, ' ');
      put_ident(out, t->record);
      if (n->flags & AST_FLAG_CREATED) {
        buf_puts(out, " created");
      } else {
        buf_puts(out, " reaches ");
        put_ident(out, t->field);
      }
      put_pos(pr, n->span);
      return;
    }
    case ASTSHAPE_AstOperation: {
      AstOperation *o = AST_AS(AstOperation, n);
      buf_putc(out, ' ');
      put_ident(out, o->record);
      buf_putc(out, '.');
      put_ident(out, o->name);
      put_pos(pr, n->span);
      print_list(pr, in, NULL, &o->params);
      print_node(pr, in, "takes", o->takes);
      print_node(pr, in, "returns", o->returns);
      print_node(pr, in, "doc", o->doc);
      return;
    }
  }
}

void ast_print(const AstNode *node, const Sources *src, Buf *out) {
  Printer pr = {src, out};
  print_node(&pr, 0, NULL, node);
}
