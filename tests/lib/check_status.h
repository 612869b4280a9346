/*
** Checks of calls that return an IexStatus and explain a failure in an Err
** (runtime/status.h), for the unit tests of the runtime.
**
**   static Err err;
**   #define CHECK_OK(call) CHECK_IEX_OK(err, call)
**   CHECK_OK(store_open(path, &opt, &s, &err));
**
** A failed call prints its code and the Err's text, so the FAIL line says
** what went wrong, not only that it did.
*/
#ifndef IEX_TESTS_CHECK_STATUS_H
#define IEX_TESTS_CHECK_STATUS_H

#include "runtime/status.h"
#include "tests/lib/check.h"

/* `call` must return IEX_OK; `e` (an Err) is cleared before it runs. */
#define CHECK_IEX_OK(e, call)                                                 \
  do {                                                                        \
    err_init(&(e));                                                           \
    IexStatus rc_ = (call);                                                   \
    if (rc_ != IEX_OK)                                                        \
      check_fail(__FILE__, __LINE__, "%s -> %s: %s", #call, status_name(rc_), \
                 err_text(&(e)));                                             \
  } while (0)

#endif
