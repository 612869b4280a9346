/*
** The tiny assertion library of the C unit tests.
**
** A test file defines test functions with TEST(name), lists them in main()
** with RUN(name), and ends with `return check_done();`. Each test prints
** one line, "PASS <suite>/<name>" or "FAIL <suite>/<name>: file:line: what",
** which tests/run counts. A failed CHECK does not stop the test (so one run
** shows every broken expectation); CHECK_FATAL does.
*/
#ifndef IEX_TESTS_CHECK_H
#define IEX_TESTS_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern const char *check_suite;   /* set by CHECK_MAIN's caller, e.g. "unit/arena" */
extern int check_failed_in_test;  /* expectations failed in the running test */
extern int check_tests_failed;    /* tests with at least one failure */

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_run(const char *name, void (*fn)(void));
int check_done(void);

#define TEST(name) static void name(void)
#define RUN(name) check_run(#name, name)

#define CHECK(cond) \
  do { if (!(cond)) check_fail(__FILE__, __LINE__, "expected %s", #cond); } while (0)
#define CHECK_FATAL(cond) \
  do { if (!(cond)) { check_fail(__FILE__, __LINE__, "expected %s", #cond); return; } } while (0)
#define CHECK_EQ_INT(a, b)                                                         \
  do { long long a_ = (long long)(a), b_ = (long long)(b);                          \
       if (a_ != b_) check_fail(__FILE__, __LINE__, "%s == %lld, expected %lld (%s)", \
                                #a, a_, b_, #b); } while (0)
#define CHECK_EQ_STR(a, b)                                                        \
  do { const char *a_ = (a), *b_ = (b);                                            \
       if (!a_ || !b_ || strcmp(a_, b_) != 0)                                      \
         check_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #a,         \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

#define CHECK_CONTAINS(haystack, needle)                               \
  do {                                                                 \
    const char *h_ = (haystack);                                       \
    if (!h_ || !strstr(h_, (needle)))                                  \
      check_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
                 h_ ? h_ : "(null)", (needle));                        \
  } while (0)

#endif
