/*
** stdlib.def's signatures for the resolver (resolve_int.h): the table of
** functions compiled in from stdlib/stdlib.def, lookup by name, and the
** signature language ("(s: string?, n: int = 1) -> string?") parsed into
** types, which resolve_expr.c checks calls against.
*/
#include "compiler/resolve_int.h"

#include "common/util.h"

#include <ctype.h>
#include <string.h>

static const struct { const char *name, *family, *sig; } std_table[] = {
#define FN(name, family, signature, doc) {#name, #family, signature},
#include "stdlib/stdlib.def"
#undef FN
};
#define N_STD ((int)ARRAY_LEN(std_table))

int resolve_stdlib_lookup(Str name) {
  for (int i = 0; i < N_STD; i++)
    if (str_eq_cstr(name, std_table[i].name)) return i;
  return -1;
}

/* The signature language of stdlib.def, parsed with a tiny scanner. */
typedef struct SigParser {
  Arena *a;
  const char *p;
  const Type *rounding;
  bool ok;
} SigParser;

static void sig_space(SigParser *s) { while (*s->p == ' ') s->p++; }
static bool sig_eat(SigParser *s, const char *tok) {
  sig_space(s);
  size_t n = strlen(tok);
  if (strncmp(s->p, tok, n) != 0) return false;
  if (isalpha((unsigned char)tok[0]) && (isalnum((unsigned char)s->p[n]) || s->p[n] == '_'))
    return false;
  s->p += n;
  return true;
}
static Str sig_name(SigParser *s) {
  sig_space(s);
  const char *b = s->p;
  while (isalnum((unsigned char)*s->p) || *s->p == '_') s->p++;
  if (s->p == b) s->ok = false;
  return str_make(b, (size_t)(s->p - b));
}

static const Type *sig_type(SigParser *s);

static const Type *sig_base(SigParser *s) {
  const Type *t;
  if (sig_eat(s, "list")) {
    sig_eat(s, "of");
    const Type *e = sig_base(s);
    if (sig_eat(s, "?")) e = type_nullable(s->a, e);
    t = type_list(s->a, e);
  } else if (sig_eat(s, "{")) {
    Type *rec = type_record(s->a, (Str){0}, 4);
    do {
      Str n = sig_name(s);
      sig_eat(s, ":");
      TypeField *f = type_record_add(s->a, rec, n, sig_type(s));
      f->required = true;
    } while (sig_eat(s, ",") && s->ok);
    if (!sig_eat(s, "}")) s->ok = false;
    t = rec;
  } else {
    Str n = sig_name(s);
    static const struct { const char *n; TypeKind k; } prim[] = {
      {"bool", TY_BOOL}, {"int", TY_INT}, {"decimal", TY_DECIMAL}, {"money", TY_MONEY},
      {"string", TY_STRING}, {"date", TY_DATE}, {"datetime", TY_DATETIME}, {"any", TY_ANY}};
    t = NULL;
    for (size_t i = 0; i < ARRAY_LEN(prim); i++)
      if (str_eq_cstr(n, prim[i].n)) t = type_prim(prim[i].k);
    if (!t && str_eq_cstr(n, "rounding")) t = s->rounding;
    if (!t && n.len == 1 && isupper((unsigned char)n.ptr[0])) {
      Type *v = ARENA_NEW(s->a, Type);
      v->kind = TY_VAR;
      v->name = n;
      t = v;
    }
    if (!t) {  /* an enumeration value */
      t = type_enum(s->a, (Str){0}, &n, 1);
    }
  }
  if (sig_eat(s, "=>")) {
    Type *k = ARENA_NEW(s->a, Type);
    k->kind = TY_KEYFN;
    k->key = t;
    k->elem = sig_base(s);
    t = k;
  }
  return t;
}

/* alt { | alt } [?]: all enumeration values make an enum, else a union; a
** final `?` makes the whole type nullable. */
static const Type *sig_type(SigParser *s) {
  const Type *alts[8];
  uint32_t n = 0;
  bool nullable = false;
  do {
    const Type *t = sig_base(s);
    if (sig_eat(s, "?")) nullable = true;
    if (n < ARRAY_LEN(alts)) alts[n++] = t;
  } while (sig_eat(s, "|") && s->ok);
  const Type *r;
  if (n == 1) {
    r = alts[0];
  } else {
    bool all_enum = true;
    for (uint32_t i = 0; i < n; i++) all_enum &= alts[i]->kind == TY_ENUM;
    if (all_enum) {
      Str v[8];
      for (uint32_t i = 0; i < n; i++) v[i] = alts[i]->values[0];
      r = type_enum(s->a, (Str){0}, v, n);
    } else {
      Type *u = ARENA_NEW(s->a, Type);
      u->kind = TY_UNION;
      u->members = ARENA_NEW_ARRAY(s->a, const Type *, n);
      memcpy(u->members, alts, sizeof alts[0] * n);
      u->n_members = n;
      r = u;
    }
  }
  return nullable ? type_nullable(s->a, r) : r;
}

static bool parse_sig(Arena *a, const Type *rounding, const char *text, StdSig *out) {
  SigParser s = {a, text, rounding, true};
  if (!sig_eat(&s, "(")) return false;
  if (!sig_eat(&s, ")")) {
    do {
      if (out->n_params == ARRAY_LEN(out->params)) return false;
      StdParam *p = &out->params[out->n_params++];
      p->name = sig_name(&s);
      sig_eat(&s, ":");
      p->type = sig_type(&s);
      if (sig_eat(&s, "=")) {
        sig_space(&s);
        const char *b = s.p;
        if (*s.p == '"') {
          s.p++;
          while (*s.p && *s.p != '"') s.p += (*s.p == '\\' && s.p[1]) ? 2 : 1;
          if (*s.p) s.p++;
        } else {
          while (*s.p && *s.p != ',' && *s.p != ')') s.p++;
        }
        p->deflt = b;
        p->deflt_len = (size_t)(s.p - b);
      }
    } while (sig_eat(&s, ",") && s.ok);
    if (!sig_eat(&s, ")")) return false;
  }
  if (!sig_eat(&s, "->")) return false;
  out->ret = sig_type(&s);
  return s.ok;
}

uint32_t resolve_stdlib_arity(int fn) {
  if (fn < 0 || fn >= N_STD) return 0;
  const char *p = std_table[fn].sig;
  if (strncmp(p, "()", 2) == 0) return 0;
  uint32_t n = 1, depth = 0;
  for (; *p && !(depth == 1 && *p == ')'); p++) {
    if (*p == '(' || *p == '{') depth++;
    else if (*p == '}') depth--;
    else if (*p == '"') { p++; while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1; }
    else if (*p == ',' && depth == 1) n++;
  }
  return n;
}

StdSig *resolve_stdlib_signatures(Arena *a, const Type *rounding, uint32_t *n) {
  StdSig *sigs = ARENA_NEW_ARRAY(a, StdSig, N_STD);
  for (int i = 0; i < N_STD; i++) {
    StdSig *s = &sigs[i];
    s->name = std_table[i].name;
    s->family = std_table[i].family;
    s->text = std_table[i].sig;
    if (!parse_sig(a, rounding, std_table[i].sig, s)) s->ret = NULL;
    s->always_nullable = strcmp(s->name, "nonempty") == 0 || strcmp(s->name, "vat_rate") == 0 ||
                         strcmp(s->name, "vat_prefix") == 0;
  }
  *n = (uint32_t)N_STD;
  return sigs;
}
