/*
** Runtime result codes and the Err that carries their detail.
**
** Every code is defined once in runtime/status.def with the group that
** tells the scheduler what to do (retry, fail, reconcile, skip) and one
** generic message. Functions return an IexStatus and give results back
** through out-parameters; detail for a person (which record, which file,
** what to do) goes into an Err the caller supplies: SQLite's rc + zErrMsg.
**
** Invariant: an Err message never holds a secret value (STYLE.md 3.4.6).
*/
#ifndef IEX_RUNTIME_STATUS_H
#define IEX_RUNTIME_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

typedef enum IexStatus {
#define STATUS(name, group, message) IEX_##name,
#include "runtime/status.def"
#undef STATUS
  IEX__STATUS_COUNT
} IexStatus;

/* What the scheduler does with a code (see status.def). */
typedef enum StatusGroup {
  STATUS_GROUP_OK,
  STATUS_GROUP_SKIP,
  STATUS_GROUP_RETRY,
  STATUS_GROUP_FAIL,
  STATUS_GROUP_RECONCILE,
  STATUS_GROUP_INTERNAL
} StatusGroup;

/* Detail of a failure, filled by the function that failed. The caller owns
** it, usually on the stack; the buffers are fixed so that filling an Err
** never allocates and never fails (a longer message is cut). */
typedef struct Err {
  IexStatus code;     /* the code last set; IEX_OK when nothing failed */
  int http_status;    /* HTTP status of the answer behind it; 0 if none */
  /* How long the answer asked us to wait (Retry-After of a 429 or 503,
  ** runtime/retry.h parses it), in microseconds; 0 if it did not say. */
  int64_t retry_after_us;
  char location[128]; /* "flows/shop.iexflow:22:14", or "" */
  char message[512];  /* what happened and what to do; "" if nothing */
} Err;

/* The generic message of `code` ("the store is locked"); static. */
const char *status_message(IexStatus code);
/* The group of `code`. */
StatusGroup status_group(IexStatus code);
/* The code's name as stored in the history ("E_STORE_BUSY"); static. */
const char *status_name(IexStatus code);
/* The group's name in lower case ("retry"); static. */
const char *status_group_name(StatusGroup group);
/* Look up a stored name. Returns false (and leaves `*out`) when `name` is
** not a code of this binary. */
bool status_from_name(const char *name, IexStatus *out);

/* Make `e` empty: code IEX_OK, no message, no location. */
void err_init(Err *e);
/* Set `e`'s code and message and return `code`, so a failing function can
** end with `rc = err_set(err, IEX_E_..., "…", …)`. The message is a printf
** format. `e` may be NULL (the caller wants no detail); the HTTP status and
** location are left as they are. */
IexStatus err_set(Err *e, IexStatus code, const char *fmt, ...)
    IEX_PRINTF(3, 4);
/* Put `prefix: ` in front of the message already in `e` (context added by
** an outer layer: "inbox of shop-to-books: …"). NULL `e` is allowed. */
void err_prefix(Err *e, const char *fmt, ...) IEX_PRINTF(2, 3);
/* Record the flow location the failure points at. NULL `e` is allowed. */
void err_set_location(Err *e, const char *location);
/* The message to show: `e`'s own, or the code's generic message. */
const char *err_text(const Err *e);

#endif /* IEX_RUNTIME_STATUS_H */
