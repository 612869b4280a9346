/*
** Fuzz target: everything `iexc --check` does with a file, on arbitrary
** bytes. Each input is compiled twice, as a flow and as a connector schema,
** through the same Compilation API that main.c uses, so later phases
** (resolve, check) are fuzzed here as soon as compile_check() runs them.
** Diagnostics are rendered in both formats, and small inputs are also
** printed as an AST, so the renderers see every odd span the parser makes.
**
** Built two ways (tests/fuzz/module.mk): with libFuzzer (MODE=fuzz, clang)
** and with replay.c's main() in the ASan/UBSan test build.
*/
#include "common/buf.h"
#include "compiler/ast.h"
#include "compiler/compile.h"
#include "compiler/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Printing the AST computes a line:col per node; keep it to inputs where
** that stays fast, so the fuzzer spends its time parsing. */
#define MAX_PRINT_BYTES 65536

#define FIXTURE_CONNECTORS "tests/check/connectors"

static void run(const uint8_t *data, size_t size, ParseMode mode, bool schemas) {
  CompileOptions opt = {0};
  opt.no_schemas = !schemas;  /* otherwise only the fixture connectors */
  opt.no_files = true;
  opt.connectors_dir = schemas ? FIXTURE_CONNECTORS : NULL;
  Compilation *c = compile_new(&opt);
  compile_set_text(c, mode == PARSE_FLOW ? "fuzz.iexflow" : "fuzz.schema",
                   (const char *)data, size, mode);
  compile_check(c);
  Buf out;
  buf_init(&out, 0);
  diags_sort(&c->diags);
  diags_render(&c->diags, &c->sources, DIAG_FORMAT_TEXT, &out);
  diags_render(&c->diags, &c->sources, DIAG_FORMAT_JSON, &out);
  if (c->flow && size <= MAX_PRINT_BYTES) ast_print(c->flow, &c->sources, &out);
  buf_fini(&out);
  compile_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int have_fixtures = -1;
  if (have_fixtures < 0) {
    struct stat st;
    have_fixtures = stat(FIXTURE_CONNECTORS, &st) == 0 && S_ISDIR(st.st_mode);
  }
  run(data, size, PARSE_FLOW, false);
  run(data, size, PARSE_SCHEMA, false);
  if (have_fixtures) run(data, size, PARSE_FLOW, true);
  return 0;
}
