/*
** iexc: the command line of the compiler. Options, output and exit status
** only; the work is done by a Compilation (compile.h) per file.
**
** Exit status: 0 when no file has errors (warnings are allowed unless
** --werror), 1 when a flow or schema has errors, 2 for a usage error, a
** file that cannot be read, or output that cannot be written.
*/
#include "common/buf.h"
#include "common/util.h"
#include "compiler/ast.h"
#include "compiler/codegen.h"
#include "compiler/compile.h"
#include "compiler/diag.h"
#include "compiler/testrun.h"
#include "runtime/bytecode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IEXC_VERSION "0.1.0"

enum { EXIT_CLEAN = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: iexc --check [OPTIONS] FILE...\n"
    "       iexc --emit=ast [OPTIONS] FILE...\n"
    "       iexc FILE -o FILE.iexb\n"
    "       iexc --emit=bytecode|graph [OPTIONS] FILE...\n"
    "       iexc --test [OPTIONS] FILE...\n"
    "       iexc --explain CODE\n"
    "\n"
    "Checks .iexflow flows (and connector .schema files) against the\n"
    "schemas of the connectors they use.\n"
    "\n"
    "  --check             check every FILE and report problems\n"
    "  --emit=ast          print each FILE's syntax tree to stdout\n"
    "  -o FILE             compile the flow to FILE (.iexb)\n"
    "  --emit=bytecode     print the compiled flow, disassembled\n"
    "  --emit=graph        print the step graph as Graphviz DOT\n"
    "  --test              run the flows' inline tests\n"
    "  --format=text       diagnostics as text on stderr (the default)\n"
    "  --format=json       diagnostics as JSON on stdout, one object per line\n"
    "  --werror            treat warnings as errors (exit status 1)\n"
    "  --connectors DIR    where connector schemas are; by default the first\n"
    "                      connectors/ folder at or above the flow's folder,\n"
    "                      else at or above iexc's own folder\n"
    "  --explain CODE      explain a diagnostic code (E0101), with an example\n"
    "  --list-diagnostics  print every code as Markdown (docs/diagnostics.md)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 no errors, 1 errors found, 2 usage or I/O error.\n";

typedef struct Options {
  bool check;
  bool emit_ast;
  bool emit_bytecode, emit_graph, test; /* codegen: see compile_to() */
  const char *output;                   /* -o FILE */
  bool werror;
  DiagFormat format;
  const char *connectors_dir;
  const char **files;  /* borrowed from argv */
  int n_files;
} Options;

static int usage_error(const char *fmt, const char *arg) {
  fputs("iexc: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n(iexc --help shows the options)\n", stderr);
  return EXIT_USAGE;
}

static int explain(const char *name) {
  DiagCode code;
  if (!diag_lookup(name, &code)) return usage_error("unknown diagnostic code `%s`", name);
  const DiagInfo *info = diag_info(code);
  printf("%s: %s (%s)\n\n%s\n", info->code, info->title,
         info->severity == DIAG_ERROR ? "error" : "warning", info->explanation);
  return EXIT_CLEAN;
}

/* Write `b` to stdout and flush it. A full disk or a closed pipe is said
** (false): output that never arrived must not look like success. */
static bool write_out(Buf *b) {
  if (fwrite(buf_cstr(b), 1, b->len, stdout) == b->len && fflush(stdout) == 0)
    return true;
  fprintf(stderr, "iexc: cannot write the output: %s\n", strerror(errno));
  return false;
}

static int list_diagnostics(void) {
  Buf b;
  buf_init(&b, 0);
  diag_write_markdown(&b);
  bool ok = write_out(&b);
  buf_fini(&b);
  return ok ? EXIT_CLEAN : EXIT_USAGE;
}

/* Generate code for a checked flow: -o, --emit=bytecode, --emit=graph. */
static int compile_to(const Options *o, Compilation *c) {
  char err[600];
  Program *p = codegen_flow(c, err, sizeof err);
  if (!p) {
    fprintf(stderr, "iexc: %s\n", err);
    return EXIT_ERRORS;
  }
  int status = EXIT_CLEAN;
  Buf b;
  buf_init(&b, 0);
  if (o->emit_bytecode) program_disasm(p, &b);
  if (o->emit_graph) program_dot(p, &b);
  if (!write_out(&b)) status = EXIT_USAGE;
  buf_fini(&b);
  if (o->output && !program_save(p, o->output, err, sizeof err)) {
    fprintf(stderr, "iexc: %s\n", err);
    status = EXIT_USAGE;
  }
  program_free(p);
  return status;
}

/* Check (or print) one file; returns its exit status. */
static int run_file(const Options *o, const char *path, const char *argv0) {
  CompileOptions copt = {0};
  copt.connectors_dir = o->connectors_dir;
  copt.exe_path = argv0;
  Compilation *c = compile_new(&copt);
  int status = EXIT_CLEAN;
  if (compile_load(c, path)) {
    if (o->check || o->output || o->emit_bytecode || o->emit_graph) {
      if (compile_check(c) && (o->output || o->emit_bytecode || o->emit_graph))
        status = compile_to(o, c);
    } else {
      compile_parse(c);  /* --emit=ast alone: the tree as written */
    }
  }
  if (o->emit_ast && c->flow) {
    Buf b;
    buf_init(&b, 0);
    ast_print(c->flow, &c->sources, &b);
    bool written = write_out(&b);
    buf_fini(&b);
    if (!written) status = EXIT_USAGE;
  }
  if (compile_report(c, o->format))
    status = EXIT_USAGE;
  else if (c->diags.n_errors > 0 || (o->werror && c->diags.n_warnings > 0))
    status = EXIT_ERRORS;
  /* else codegen's status stands */
  compile_free(c);
  return status;
}

int main(int argc, char **argv) {
  Options o = {0};
  o.files = xcalloc((size_t)argc, sizeof *o.files);
  int status = EXIT_CLEAN;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      goto done;
    } else if (strcmp(a, "--version") == 0) {
      printf("iexc %s\n", IEXC_VERSION);
      goto done;
    } else if (strcmp(a, "--check") == 0) {
      o.check = true;
    } else if (strcmp(a, "--emit=ast") == 0) {
      o.emit_ast = true;
    } else if (strcmp(a, "--emit=bytecode") == 0) {
      o.emit_bytecode = true;
    } else if (strcmp(a, "--emit=graph") == 0) {
      o.emit_graph = true;
    } else if (strcmp(a, "--test") == 0) {
      o.test = true;
    } else if (strcmp(a, "-o") == 0) {
      if (i + 1 >= argc) {
        status = usage_error("%s needs a file name", a);
        goto done;
      }
      o.output = argv[++i];
    } else if (strncmp(a, "--emit=", 7) == 0) {
      status = usage_error("unknown --emit=%s (use ast, bytecode or graph)", a + 7);
      goto done;
    } else if (strcmp(a, "--werror") == 0) {
      o.werror = true;
    } else if (strcmp(a, "--format=json") == 0) {
      o.format = DIAG_FORMAT_JSON;
    } else if (strcmp(a, "--format=text") == 0) {
      o.format = DIAG_FORMAT_TEXT;
    } else if (strncmp(a, "--format", 8) == 0) {
      status = usage_error("unknown format in `%s` (use --format=text or --format=json)", a);
      goto done;
    } else if (strcmp(a, "--connectors") == 0 || strncmp(a, "--connectors=", 13) == 0) {
      if (a[12] == '=') {
        o.connectors_dir = a + 13;
      } else if (i + 1 < argc) {
        o.connectors_dir = argv[++i];
      } else {
        status = usage_error("%s needs a folder", a);
        goto done;
      }
    } else if (strcmp(a, "--explain") == 0) {
      if (i + 1 >= argc) {
        status = usage_error("%s needs a code, such as E0101", a);
        goto done;
      }
      status = explain(argv[i + 1]);
      goto done;
    } else if (strcmp(a, "--list-diagnostics") == 0) {
      status = list_diagnostics();
      goto done;
    } else if (a[0] == '-' && a[1] != '\0') {
      status = usage_error("unknown option `%s`", a);
      goto done;
    } else {
      o.files[o.n_files++] = a;
    }
  }
  if (o.test) {
    CompileOptions copt = {0};
    copt.connectors_dir = o.connectors_dir;
    copt.exe_path = argv[0];
    status = o.n_files ? testrun_files(o.files, o.n_files, &copt, stdout)
                       : usage_error("%s", "no files given");
    goto done;
  }
  if (o.output && o.n_files != 1) {
    status = usage_error("%s", "-o compiles exactly one flow");
    goto done;
  }
  if (!o.check && !o.emit_ast && !o.output && !o.emit_bytecode && !o.emit_graph) {
    status = o.n_files ? usage_error("%s", "say what to do: --check, -o FILE, --emit or --test")
                       : usage_error("%s", "nothing to do");
    goto done;
  }
  if (o.n_files == 0) {
    status = usage_error("%s", "no files given");
    goto done;
  }
  for (int i = 0; i < o.n_files; i++) {
    int s = run_file(&o, o.files[i], argv[0]);
    if (s > status) status = s;
  }
done:
  free(o.files);
  return status;
}
