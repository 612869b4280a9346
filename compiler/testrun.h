/*
** `iexc --test FILES...`: runs the inline `test` blocks of flows
** (docs/language.md, Tests) on the VM, with a Host that answers each
** step from the test's `given` (or with what the step sent) and records
** what each step sent, then compares that with `expect`.
**
** Output: one line per test, "PASS FILE: NAME" or "FAIL FILE: NAME",
** a failure followed by indented lines naming every field that differs
** ("    invoice.lines[1].unitNetPrice: expected 143.28, got 143.2"), and
** at the end "N passed, N failed".
*/
#ifndef IEX_COMPILER_TESTRUN_H
#define IEX_COMPILER_TESTRUN_H

#include <stdio.h>

#include "compiler/compile.h"

/* Run the tests of every file in `files` (`n_files` of them), printing to
** `out` and diagnostics to stderr. Returns the exit status: 0 when every
** test passed, 1 when one failed or a flow does not compile, 2 when a file
** cannot be read. */
int testrun_files(const char *const *files, int n_files, const CompileOptions *opt, FILE *out);

#endif /* IEX_COMPILER_TESTRUN_H */
