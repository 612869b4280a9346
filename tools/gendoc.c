/*
** gendoc: print docs/stdlib.md, generated from stdlib/stdlib.def and
** stdlib/vat_rates.def (std_doc_write). Run by tools/gendocs.sh (`make
** docs`); tests/unit/test_stdlib_doc.c fails when the committed file is
** stale.
*/
#include <stdio.h>

#include "common/buf.h"
#include "stdlib/stdlib.h"

int main(void) {
  Buf b;
  buf_init(&b, 0);
  std_doc_write(&b);
  int ok = buf_ok(&b) && fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0;
  buf_fini(&b);
  if (!ok) {
    fputs("gendoc: cannot write docs/stdlib.md\n", stderr);
    return 1;
  }
  return 0;
}
