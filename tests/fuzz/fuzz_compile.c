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

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Printing the AST computes a line:col per node; keep it to inputs where
** that stays fast, so the fuzzer spends its time parsing. */
#define MAX_PRINT_BYTES 65536

static void run(const uint8_t *data, size_t size, ParseMode mode) {
  CompileOptions opt = {0};
  opt.no_schemas = true;  /* no file system access */
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
  run(data, size, PARSE_FLOW);
  run(data, size, PARSE_SCHEMA);
  return 0;
}
