/*
** The effects protocol: one write to another system, exactly once.
**
** Every write goes through the effect ledger of the store
** (docs/runtime.md, "Steps and effects"):
**
**   reserve (durable)  the effect (transfer, key) exists with its
**                      reference; nothing sent. Or it existed already:
**                      then its state says what to do.
**   start (durable)    committed before the request is written: from
**                      here on the target may have the record.
**   outcome (durable)  done with the answer, refused (nothing created),
**                      or unknown (the answer was lost).
**
** An effect found started (the process died mid-call) or unknown is looked
** up in the target by its reference (ConnectorOp.find) before anything is
** sent again: found, the record is adopted as the result; not found, it
** is sent again (after the reconcile window, for systems whose search
** lags); the lookup failing leaves it unknown and the run waiting. A done
** effect is never sent again: its stored answer is the result. An update
** of what an earlier revision made (EffectCall.rerun_when_unknown) is sent
** again instead of looked up: the lookup would find the old record.
**
** Each step of the protocol has its named crash point (crashpoints.def):
** effect_reserved, effect_started, response_received, effect_done; the
** connector's request_sent sits between start and the answer.
*/
#ifndef IEX_RUNTIME_EFFECTS_H
#define IEX_RUNTIME_EFFECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "runtime/host.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "runtime/value.h"

/* One write to perform. */
typedef struct EffectCall {
  Store *store;
  int64_t transfer_id, revision_id, run_id;
  const char *key;        /* unique in the transfer: "invoice", "invoice@r2" */
  const char *reference;  /* what the target keeps to find it by */
  bool counts_usage;      /* a created order (runtime/effects.h) */
  int64_t reconcile_window_us; /* see ExecutorOptions */
  int64_t now_us;         /* the time now, for the window */
  /* After an unknown outcome, run it again instead of looking it up: for
  ** an operation that replaces by its reference (OP_UPDATE_REPLACES)
  ** carrying a newer revision's data, whose lookup would find the record
  ** as an earlier revision left it and so lose the change. */
  bool rerun_when_unknown;
  const Connection *conn;
  const ConnectorOp *op;  /* op->effect == OP_WRITES */
  const OpCall *call;
} EffectCall;

/* How a write ended, for the stages and the counts. */
typedef enum EffectHow {
  EFFECT_SENT,     /* sent now and answered */
  EFFECT_REUSED,   /* done before: the stored answer is the result */
  EFFECT_ADOPTED,  /* found by its reference after an unknown outcome */
  EFFECT_NOT_SENT  /* it failed; see the returned code */
} EffectHow;

/* What happened, for the caller's stages. Strings live in call->arena. */
typedef struct EffectReport {
  EffectHow how;
  int64_t effect_id;
  const char *result_json; /* the answer or adopted record; NULL if none */
  bool counted;            /* this call counted usage */
  bool looked_up;          /* a lookup by reference was made */
  bool lookup_found;
} EffectReport;

/* Perform `ec`. IEX_OK with the target's record in `*result` (in
** call->arena); otherwise the code says what the run does (status.def):
** RETRY codes (nothing was created, or the lookup failed), FAIL codes
** (refused), IEX_E_OUTCOME_UNKNOWN (the answer was lost; the effect is
** unknown and will be looked up), INTERNAL (the store failed). */
IexStatus effect_perform(const EffectCall *ec, Value *result,
                         EffectReport *rep, Err *err);

/* Whether a write counts as an order for usage: a create of an invoice or
** an order ("invoice.create", "order.create"); customers, payments and
** credit notes do not. */
bool effect_counts_usage(Str operation);

#endif /* IEX_RUNTIME_EFFECTS_H */
