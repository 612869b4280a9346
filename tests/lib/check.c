/* Implementation of the unit-test assertion library (see check.h). */
#include "tests/lib/check.h"

#include <stdarg.h>

const char *check_suite = "unit";
int check_failed_in_test;
int check_tests_failed;
static const char *current_test = "?";
static bool first_failure_printed;

void check_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  /* The first failure names the test on the FAIL line; later ones follow
  ** as indented detail lines so the runner counts the test once. */
  if (!check_failed_in_test) printf("FAIL %s/%s: ", check_suite, current_test);
  else printf("    ");
  printf("%s:%d: ", file, line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
  check_failed_in_test++;
  first_failure_printed = true;
}

void check_run(const char *name, void (*fn)(void)) {
  current_test = name;
  check_failed_in_test = 0;
  fn();
  if (check_failed_in_test) check_tests_failed++;
  else printf("PASS %s/%s\n", check_suite, name);
  fflush(stdout);
}

int check_done(void) { return check_tests_failed ? 1 : 0; }
