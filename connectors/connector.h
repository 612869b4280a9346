/*
** A connector: the C side of one system under connectors/<system>/.
**
** The folder holds the schema (*.schema, read by iexc) and one C file,
** <system>.c, that defines a `const Connector connector_<system>` and is
** listed in connectors/registry.def. The shared core (connectors/http.h:
** libcurl, auth styles, pagination, rate limits, error shapes) does the
** HTTP; a connector says which paths, which fields and what the vendor's
** answers mean.
**
** Who calls what:
**   - the executor (runtime/executor.c) calls `operation` for each
**     OpCall (runtime/host.h) and, for a write whose outcome is unknown
**     (timeout, crash between "started" and "done"), `find` before it
**     would send again: exactly-once rests on `find` (see
**     docs/runtime.md, "Effects").
**   - the poller and `iex import` call `list` with a stored cursor.
**   - `iex serve` calls `verify_webhook` on the raw body before storing
**     anything.
**
** Errors: a connector turns the vendor's error shape into an Err whose
** message a support person can act on ("e-conomic refused the invoice:
** product 'SKU-9' does not exist") and whose code says what the scheduler
** does (runtime/status.def): IEX_E_NETWORK, IEX_E_HTTP_429, IEX_E_HTTP_5XX
** retry; IEX_E_VALIDATION, IEX_E_AUTH, IEX_E_HTTP_4XX fail; a lost answer
** to a write is IEX_E_OUTCOME_UNKNOWN (reconcile). Secrets
** never enter an Err.
*/
#ifndef IEX_CONNECTORS_CONNECTOR_H
#define IEX_CONNECTORS_CONNECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"
#include "common/util.h"
#include "runtime/host.h"
#include "runtime/status.h"
#include "runtime/value.h"

typedef struct HttpClient HttpClient;  /* connectors/http.h */

/* One configured connection: where the system is and how to sign in.
** Secrets are resolved by the executor (environment or an owner-only
** file) just before use and never stored in the Connection record that
** the store keeps. */
typedef struct Connection {
  const char *name;        /* the integration's alias ("books") */
  const char *system;      /* "economic" */
  const char *base_url;    /* "https://restapi.e-conomic.com" or an emulator */
  const char *const *secret_names;  /* parallel to secret_values */
  const char *const *secret_values; /* e.g. "app_secret_token", "agreement_grant_token" */
  size_t n_secrets;
  HttpClient *http;        /* shared client (connection reuse) */
  /* Called before every HTTP request of this connection (each page, each
  ** token request): waits as long as the connection's rate limit says,
  ** so `rate_per_second` counts the calls the target sees, not the
  ** operations. NULL: no limit. */
  void (*pace)(void *pace_ctx);
  void *pace_ctx;
} Connection;

/* Records one `list` call returned, and where to go on from. */
typedef struct ListPage {
  Value records;           /* LIST of RECORD, in the source's order */
  char next_cursor[512];   /* opaque; "" when there is nothing more */
} ListPage;

/* What running a write again for a changed source record does
** (`updates: apply`, docs/runtime.md "Updates"). */
typedef enum OpUpdate {
  /* What the first run made stays as it is; a later revision reuses its
  ** stored answer (a payment, a sent e-mail, a created customer). */
  OP_UPDATE_KEEPS = 0,
  /* Running it again with the same reference changes the record the
  ** first run made, where the system still allows it (a draft invoice is
  ** replaced; a booked one is left alone and OpCall.note says so), or
  ** finds the same record again (match_or_create). Running it twice with
  ** the same input changes nothing more, so after an unknown outcome it
  ** is simply run again: its `find` would find the old record. */
  OP_UPDATE_REPLACES = 1
} OpUpdate;

typedef struct ConnectorOp {
  const char *name;        /* as the schema declares it: "invoice.create" */
  OpEffect effect;         /* must agree with the schema */

  /* Perform the operation. Returns IEX_OK and the returned record in
  ** `*result` (allocated in call->arena), or a code and `err`. */
  IexStatus (*run)(const Connection *conn, const OpCall *call, Value *result,
                   Err *err);

  /* For writes: look for the record an earlier attempt of this call may
  ** have created, by the reference the call carries (e-conomic:
  ** references.other; Dinero: externalReference). IEX_OK with `*found`
  ** and `*result` set when the lookup itself succeeded. NULL for reads. */
  IexStatus (*find)(const Connection *conn, const OpCall *call, bool *found,
                    Value *result, Err *err);

  OpUpdate update;         /* for writes; see OpUpdate */
} ConnectorOp;

typedef struct Connector {
  const char *system;      /* folder name: "economic" */
  const char *title;       /* "Visma e-conomic" */
  const ConnectorOp *ops;
  size_t n_ops;

  /* Source side (NULL for pure targets). `record_type` is the schema's
  ** record ("order"); `cursor` is "" on the first call; `since` is an ISO
  ** date-time or "" (activation or `import --since`). */
  IexStatus (*list)(const Connection *conn, Arena *arena, const char *record_type,
                    const char *cursor, const char *since, ListPage *page,
                    Err *err);

  /* Check a webhook's signature over the raw body with a constant-time
  ** compare. `headers` is a RECORD of lower-cased header names. Sets
  ** `*dedup_key` (arena) to what makes a delivery unique, `*record_type`
  ** to the topic's record type, and `*ping` for unsigned pings. */
  IexStatus (*verify_webhook)(const Connection *conn, Arena *arena,
                              Value headers, const char *body, size_t len,
                              Str *dedup_key, Str *record_type, bool *ping,
                              Err *err);
} Connector;

/* Every connector linked into iex, by system name; NULL when unknown. */
const Connector *connector_find(const char *system);
/* The operation `name` of `c`, or NULL. */
const ConnectorOp *connector_op(const Connector *c, Str name);
/* Leave a line for the transfer history in call->note (when someone
** listens): what the operation did instead of what was asked. No secrets. */
void connector_note(const OpCall *call, const char *fmt, ...)
    IEX_PRINTF(2, 3);

#endif /* IEX_CONNECTORS_CONNECTOR_H */
