/*
** The Compilation object and its phases (compile.h), and finding connector
** schemas on disk.
**
** Where schemas are looked for (docs/language.md "Connector schemas"):
** `--connectors DIR` if given; otherwise the first `connectors/` folder in
** the flow's folder or a folder above it; otherwise the first above
** iexc's own location (so a built iexc finds the repository's connectors).
** Paths in messages are shown relative to the current directory when they
** are below it, so output does not depend on where the repository lives.
*/
#include "compiler/compile.h"

#include "common/util.h"
#include "compiler/check.h"
#include "compiler/resolve.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Connector names are short; a longer one is a mistake, not a path. */
#define MAX_SYSTEM_NAME 64

Compilation *compile_new(const CompileOptions *opt) {
  Compilation *c = xcalloc(1, sizeof *c);
  if (opt) c->opt = *opt;
  arena_init(&c->arena);
  sources_init(&c->sources);
  diags_init(&c->diags, c->opt.max_errors);
  c->main_file = UINT32_MAX;
  return c;
}

void compile_free(Compilation *c) {
  if (!c) return;
  free(c->schemas);
  free(c->connectors_dir);
  diags_fini(&c->diags);
  sources_fini(&c->sources);
  arena_fini(&c->arena);
  free(c);
}

/* Record an I/O error (a one-line reason; long paths are cut). */
static void set_io_error(Compilation *c, const char *fmt, ...) IEX_PRINTF(2, 3);
static void set_io_error(Compilation *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->io_error, sizeof c->io_error, fmt, ap);
  va_end(ap);
  c->has_io_error = true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool compile_load(Compilation *c, const char *path) {
  char err[256];
  if (!sources_load(&c->sources, path, &c->main_file, err, sizeof err)) {
    set_io_error(c, "cannot read `%s`: %s", path, err);
    return false;
  }
  c->main_mode = ends_with(path, ".schema") ? PARSE_SCHEMA : PARSE_FLOW;
  return true;
}

void compile_set_text(Compilation *c, const char *name, const char *text, size_t len,
                      ParseMode mode) {
  char *copy = xmalloc(len + 1);
  memcpy(copy, text, len);
  copy[len] = '\0';
  if (!sources_add_take(&c->sources, name, copy, len, &c->main_file)) {
    set_io_error(c, "`%s` is larger than %zu bytes", name,
             (size_t)SOURCE_MAX_BYTES);
    return;
  }
  c->main_mode = mode;
}

void compile_parse(Compilation *c) {
  if (c->main_file == UINT32_MAX) return;
  c->flow = parse_file(&c->arena, &c->diags, &c->sources, c->main_file, c->main_mode);
}

/* ---- Finding connectors/ ---------------------------------------------------- */

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* `path` relative to the current directory when it lies below it; the
** result is malloc'd. */
static char *display_path(const char *path) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd)) {
    size_t n = strlen(cwd);
    if (strncmp(path, cwd, n) == 0 && path[n] == '/') return xstrdup(path + n + 1);
  }
  return xstrdup(path);
}

/* Look for `connectors/` in `dir` (an absolute path) and the folders above
** it. Returns the malloc'd display path of the first found, or NULL. */
static char *search_upward(const char *dir) {
  char path[PATH_MAX + 16];
  char here[PATH_MAX];
  snprintf(here, sizeof here, "%s", dir);
  for (;;) {
    snprintf(path, sizeof path, "%s/connectors", strcmp(here, "/") == 0 ? "" : here);
    if (is_dir(path)) return display_path(path);
    char *slash = strrchr(here, '/');
    if (!slash || slash == here) {
      if (strcmp(here, "/") == 0) return NULL;
      snprintf(here, sizeof here, "/");
      continue;
    }
    *slash = '\0';
  }
}

/* The absolute folder that holds `path`, or false. */
static bool folder_of(const char *path, char *out, size_t out_size) {
  char real[PATH_MAX];
  if (!realpath(path, real)) return false;
  char *slash = strrchr(real, '/');
  if (slash == real) slash[1] = '\0';
  else if (slash) *slash = '\0';
  snprintf(out, out_size, "%s", real);
  return true;
}

static void find_connectors(Compilation *c) {
  if (c->connectors_searched) return;
  c->connectors_searched = true;
  if (c->opt.connectors_dir) {
    if (!is_dir(c->opt.connectors_dir)) {
      set_io_error(c, "--connectors `%s` is not a folder",
               c->opt.connectors_dir);
      return;
    }
    c->connectors_dir = xstrdup(c->opt.connectors_dir);
    return;
  }
  char dir[PATH_MAX];
  const SourceFile *f = sources_file(&c->sources, c->main_file);
  if (folder_of(f->path, dir, sizeof dir) && (c->connectors_dir = search_upward(dir)))
    return;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
  } else if (c->opt.exe_path) {
    snprintf(exe, sizeof exe, "%s", c->opt.exe_path);
  } else {
    return;
  }
  if (folder_of(exe, dir, sizeof dir)) c->connectors_dir = search_upward(dir);
}

/* ---- Loading schemas ------------------------------------------------------------ */

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the .schema files in `dir`, sorted (malloc'd, with their
** count in *n); NULL if the folder cannot be opened. */
static char **list_schema_files(const char *dir, size_t *n_out) {
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !ends_with(e->d_name, ".schema")) continue;
    VEC_PUSH(names, n, cap, xstrdup(e->d_name));
  }
  closedir(d);
  if (n > 1) qsort(names, n, sizeof *names, compare_names);
  *n_out = n;
  return names ? names : xcalloc(1, sizeof *names);
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* "did you mean" among the connector folders. */
static void suggest_connector(Compilation *c, Diag *d, Str system) {
  DIR *dir = c->connectors_dir ? opendir(c->connectors_dir) : NULL;
  if (!dir) return;
  char best[MAX_SYSTEM_NAME + 1] = "";
  size_t best_d = 3;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.' || strlen(e->d_name) > MAX_SYSTEM_NAME) continue;
    size_t dist = str_edit_distance(system, str_from_cstr(e->d_name), 2);
    /* Ties go to the smaller name, so the hint does not depend on the
    ** order readdir() returns. */
    if (dist < best_d || (dist == best_d && strcmp(e->d_name, best) < 0)) {
      best_d = dist;
      memcpy(best, e->d_name, strlen(e->d_name) + 1);
    }
  }
  closedir(dir);
  if (best_d <= 2) diag_help(&c->diags, d, "did you mean `%s`?", best);
}

static void load_connector(Compilation *c, ConnectorSchema *cs) {
  Diags *dg = &c->diags;
  const char *sys = arena_strndup(&c->arena, cs->system.ptr, cs->system.len);
  if (!c->connectors_dir) {
    Diag *d = diag_report(dg, DIAG_E0201, cs->used_at,
                          "cannot find connector `%s`: no `connectors/` folder was found",
                          diag_quote(dg, cs->system));
    diag_help(dg, d, "give the folder with `--connectors DIR`");
    return;
  }
  char dir[PATH_MAX + 2 * MAX_SYSTEM_NAME];
  snprintf(dir, sizeof dir, "%s/%s", c->connectors_dir, sys);
  size_t n = 0;
  char **names = cs->system.len <= MAX_SYSTEM_NAME && is_dir(dir) ? list_schema_files(dir, &n) : NULL;
  if (!names || n == 0) {
    Diag *d = names ? diag_report(dg, DIAG_E0201, cs->used_at,
                                  "connector `%s` has no schema: no .schema file in `%s`", sys, dir)
                    : diag_report(dg, DIAG_E0201, cs->used_at,
                                  "unknown connector `%s`: there is no folder `%s`",
                                  diag_quote(dg, cs->system), diag_quote(dg, str_from_cstr(dir)));
    if (!names) suggest_connector(c, d, cs->system);
    free_names(names, n);
    return;
  }
  cs->found = true;
  AstBuilder b = {&c->arena, dg, &c->sources, false};
  for (size_t i = 0; i < n && !dg->stopped; i++) {
    char path[sizeof dir + 256 + 2];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    uint32_t id;
    char err[256];
    if (!sources_load(&c->sources, path, &id, err, sizeof err)) {
      set_io_error(c, "cannot read `%s`: %s", path, err);
      break;
    }
    ast_list_push(&b, &cs->files, parse_file(&c->arena, dg, &c->sources, id, PARSE_SCHEMA));
  }
  free_names(names, n);
}

const ConnectorSchema *compile_schema(const Compilation *c, Str system) {
  for (size_t i = 0; i < c->n_schemas; i++)
    if (str_eq(c->schemas[i].system, system)) return &c->schemas[i];
  return NULL;
}

void compile_load_schemas(Compilation *c) {
  if (!c->flow || c->main_mode != PARSE_FLOW || c->opt.no_schemas) return;
  AstSeq *file = AST_AS(AstSeq, c->flow);
  for (uint32_t i = 0; i < file->items.n && !c->has_io_error && !c->diags.stopped; i++) {
    AstNode *decl = file->items.items[i];
    if (decl->kind != AST_USE || (decl->flags & AST_FLAG_LUA)) continue;
    AstUse *use = AST_AS(AstUse, decl);
    if (compile_schema(c, use->system.text)) continue;  /* already loaded */
    ConnectorSchema cs = {0};
    cs.system = arena_str(&c->arena, use->system.text);
    cs.used_at = use->system.span;
    find_connectors(c);
    if (c->has_io_error) return;
    load_connector(c, &cs);
    VEC_PUSH(c->schemas, c->n_schemas, c->cap_schemas, cs);
  }
}

bool compile_report(Compilation *c, DiagFormat format) {
  Buf out;
  buf_init(&out, 0);
  diags_sort(&c->diags);
  diags_render(&c->diags, &c->sources, format, &out);
  fwrite(buf_cstr(&out), 1, out.len, format == DIAG_FORMAT_JSON ? stdout : stderr);
  buf_fini(&out);
  if (c->has_io_error) fprintf(stderr, "iexc: %s\n", c->io_error);
  return c->has_io_error;
}

const char *compile_path_beside(Compilation *c, Str name) {
  if (name.len && name.ptr[0] == '/') return arena_strndup(&c->arena, name.ptr, name.len);
  const SourceFile *f = sources_file(&c->sources, c->main_file);
  const char *slash = strrchr(f->path, '/');
  return arena_printf(&c->arena, "%.*s%.*s", slash ? (int)(slash - f->path + 1) : 0, f->path,
                      STR_FMT(name));
}

bool compile_check(Compilation *c) {
  if (!c->has_io_error) compile_parse(c);
  if (!c->has_io_error && !c->diags.stopped) compile_load_schemas(c);
  /* Later phases, each only if the ones before left no errors (STYLE.md
  ** 3.4). */
  if (!c->has_io_error && c->flow && c->diags.n_errors == 0) {
    if (c->main_mode == PARSE_SCHEMA) {
      resolve_schema(c);
    } else {
      resolve_flow(c);
      if (c->resolved && !c->diags.stopped) check_flow(c);
    }
  }
  return !c->has_io_error && c->diags.n_errors == 0;
}
