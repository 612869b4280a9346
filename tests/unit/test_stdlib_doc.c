/* Unit tests of the stdlib registry and its documentation: docs/stdlib.md
** is exactly what `make docs` writes (a stale file fails here), every
** entry is complete and found by name, and every stdlib call in the
** shipped flows (the .iexflow files in flows/) names a function that exists, with no
** more arguments than its signature and only named arguments it has. */
#include "tests/unit/test_stdlib.h"

#include <ctype.h>
#include <glob.h>
#include <stdlib.h>

static const char *root(void) {
  const char *r = getenv("IEX_ROOT");
  return r && *r ? r : ".";
}

TEST(docs_are_up_to_date) {
  char path[4096], err[256];
  size_t len;
  snprintf(path, sizeof path, "%s/docs/stdlib.md", root());
  char *committed = read_file(path, 1 << 24, &len, err, sizeof err);
  if (!committed) {
    check_fail(__FILE__, __LINE__, "cannot read %s: %s (run `make docs`)", path, err);
    return;
  }
  Buf b;
  buf_init(&b, 0);
  std_doc_write(&b);
  if (b.len != len || memcmp(b.data, committed, len) != 0)
    check_fail(__FILE__, __LINE__, "docs/stdlib.md is stale: run `make docs` and commit it");
  buf_fini(&b);
  free(committed);
}

TEST(registry_entries_are_complete) {
  CHECK(STD__COUNT > 50);
  for (size_t i = 0; i < STD__COUNT; i++) {
    const StdEntry *e = &std_functions[i];
    if (!e->fn || !e->doc[0] || e->signature[0] != '(' || !strstr(e->signature, ") -> "))
      check_fail(__FILE__, __LINE__, "entry %s is incomplete", e->name);
    if (std_lookup(str_from_cstr(e->name)) != e)
      check_fail(__FILE__, __LINE__, "std_lookup(%s) does not find its entry", e->name);
    if (strlen(e->doc) > 0 && e->doc[strlen(e->doc) - 1] != '.')
      check_fail(__FILE__, __LINE__, "doc of %s does not end a sentence", e->name);
  }
  CHECK(std_lookup(STR_LIT("trim")) == &std_functions[STD_trim]);
  CHECK(std_lookup(STR_LIT("to_json")) == &std_functions[STD_to_json]);
  CHECK(std_lookup(STR_LIT("nope")) == NULL);
  CHECK(std_lookup(STR_LIT("")) == NULL);
  CHECK(std_lookup(STR_LIT("tri")) == NULL);
}

/* Whether parameter `name` (len bytes) is in signature `sig`. */
static bool has_param(const char *sig, const char *name, size_t len) {
  int depth = 0;
  bool at_start = true;
  for (const char *p = sig; *p; p++) {
    if (*p == '(' || *p == '{') {
      depth++;
      at_start = depth == 1;
      continue;
    }
    if (*p == ')' || *p == '}') depth--;
    if (depth == 1 && *p == ',') {
      at_start = true;
      continue;
    }
    if (depth == 1 && at_start && *p != ' ') {
      if (strncmp(p, name, len) == 0 && p[len] == ':') return true;
      at_start = false;
    }
  }
  return false;
}

/* Check the calls in one flow's text (comments blanked); each problem is
** one line in `problems`. Returns the number of problems. */
static int check_calls(const char *file, const char *text, Buf *problems) {
  int n_problems = 0;
  static const char *not_stdlib[] = {"fail", "skip", "file", "csv"};
  for (const char *p = text; *p; p++) {
    if (!(isalpha((unsigned char)*p) || *p == '_') || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.')))
      continue;
    const char *q = p;
    while (isalnum((unsigned char)*q) || *q == '_') q++;
    if (*q != '(') {
      p = q - 1;
      continue;
    }
    size_t len = (size_t)(q - p);
    bool skip = false;
    for (size_t k = 0; k < sizeof not_stdlib / sizeof *not_stdlib; k++)
      skip = skip || (strlen(not_stdlib[k]) == len && strncmp(p, not_stdlib[k], len) == 0);
    const StdEntry *e = std_lookup(str_make(p, len));
    if (!skip && !e) {
      n_problems++;
      buf_printf(problems, "%s calls %.*s(), which stdlib.def does not have\n", file, (int)len, p);
    } else if (e) {
      /* Arguments: count top-level commas; check `name:` at top level. */
      int depth = 0;
      uint32_t args = 0;
      bool any = false;
      for (const char *a = q + 1; *a && depth >= 0; a++) {
        if (*a == '(' || *a == '[' || *a == '{') depth++;
        else if (*a == ')' || *a == ']' || *a == '}') depth--;
        else if (*a == '"') {
          for (a++; *a && *a != '"'; a++) if (*a == '\\' && a[1]) a++;
          any = true;
        } else if (depth == 0 && *a == ',') args++;
        else if (depth == 0 && !isspace((unsigned char)*a)) {
          any = true;
          if ((isalpha((unsigned char)*a) || *a == '_') && !isalnum((unsigned char)a[-1]) && a[-1] != '_' && a[-1] != '.') {
            const char *n = a;
            while (isalnum((unsigned char)*n) || *n == '_') n++;
            if (*n == ':' && n[1] != ':' && !has_param(e->signature, a, (size_t)(n - a))) {
              n_problems++;
              buf_printf(problems, "%s calls %s(%.*s: …), which has no such parameter\n", file,
                         e->name, (int)(n - a), a);
            }
            a = n - 1;
          }
        }
      }
      uint32_t n_args = any ? args + 1 : 0;
      if (n_args > signature_params(e->signature)) {
        n_problems++;
        buf_printf(problems, "%s calls %s() with %u arguments; it takes %u\n", file, e->name,
                   n_args, signature_params(e->signature));
      }
    }
    p = q;
  }
  return n_problems;
}

TEST(shipped_flows_call_only_what_exists) {
  char pattern[4096];
  glob_t g;
  snprintf(pattern, sizeof pattern, "%s/flows/*.iexflow", root());
  CHECK_FATAL(glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc >= 4);
  for (size_t i = 0; i < g.gl_pathc; i++) {
    char err[256];
    size_t len;
    char *text = read_file(g.gl_pathv[i], 1 << 24, &len, err, sizeof err);
    CHECK_FATAL(text);
    /* Blank out comments (a `#` outside a string runs to the line's end). */
    bool quoted = false;
    for (char *c = text; *c; c++) {
      if (*c == '\\' && quoted && c[1]) c++;
      else if (*c == '"') quoted = !quoted;
      else if (*c == '\n') quoted = false;
      else if (*c == '#' && !quoted) while (*c && *c != '\n') *c++ = ' ';
      if (!*c) break;
    }
    Buf problems;
    buf_init(&problems, 0);
    if (check_calls(g.gl_pathv[i], text, &problems) > 0)
      check_fail(__FILE__, __LINE__, "calls that stdlib.def does not cover:\n%s", buf_cstr(&problems));
    buf_fini(&problems);
    free(text);
  }
  globfree(&g);
  /* The scan above must catch what it is for. */
  Buf problems;
  buf_init(&problems, 0);
  CHECK_EQ_INT(check_calls("(made up)",
                           "x = trimm(a)\ny = round(a, 2, mode: half_up, 3, 4)\n"
                           "z = vat_rate(c, at: d)\nw = shop.order.get(id: 1) + sum([abs(1), 2])",
                           &problems), 3);
  buf_fini(&problems);
}

int main(void) {
  check_suite = "unit/stdlib_doc";
  stdlib_test_init();
  RUN(docs_are_up_to_date);
  RUN(registry_entries_are_complete);
  RUN(shipped_flows_call_only_what_exists);
  stdlib_test_fini();
  return check_done();
}
