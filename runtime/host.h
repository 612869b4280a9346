/*
** The host: what a running flow asks of the world around it.
**
** The VM (runtime/vm.c) evaluates a flow's step graph for one source
** record. Everything outside pure computation goes through a Host the
** caller supplies, so the same compiled flow runs in four places without
** the VM knowing which:
**
**   iexc --test   given/expect blocks answer operations   (compiler/testrun.c)
**   iex preview   fixtures or "would create", no effects  (runtime/preview.c)
**   iex run/serve effects protocol, store, connectors      (runtime/executor.c)
**   bench         a host that discards                     (bench/)
**
** The VM calls `operation` once per step that runs a connector operation,
** in step order, after it has mapped the step's input record and evaluated
** the operation's parameters. It calls `stage` for every stage a support
** person may want to see (the mapped record before it is sent). It never
** retries, sleeps or reads the clock: retrying, backoff, exactly-once and
** the transfer history are the host's business.
**
** Ownership: everything in an OpCall is borrowed from the VM's arena for
** the duration of the call. A host writes its result Value into
** `call->arena` (the same arena), so the result lives as long as the
** evaluation. A host keeps nothing after it returns except by copying.
*/
#ifndef IEX_RUNTIME_HOST_H
#define IEX_RUNTIME_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/str.h"
#include "runtime/status.h"
#include "runtime/value.h"

/* Whether an operation changes the target system. Reads may be repeated
** freely; writes go through the effects protocol (reserve, start, outcome)
** so that each happens exactly once. The schema says which is which
** (an operation whose name ends in create, update, book, match_or_create,
** or that is declared `writes`); the compiler records it in the .iexb. */
typedef enum OpEffect {
  OP_READS = 0,
  OP_WRITES = 1
} OpEffect;

/* A line a connector leaves for the transfer history (OpCall.note). */
typedef struct OpNote {
  char text[400];
} OpNote;

/* One connector operation a step asks for. */
typedef struct OpCall {
  Arena *arena;        /* the evaluation's arena: put the result here */
  Str step;            /* the step's name in the flow ("invoice") */
  Str connection;      /* the `use` alias ("books") */
  Str system;          /* the connector ("economic") */
  Str operation;       /* the operation ("invoice.create") */
  OpEffect effect;     /* reads or writes */
  Value params;        /* RECORD of the named parameters, defaults filled */
  Value input;         /* the mapped record it takes, or null (`takes nothing`) */
  /* Stable identity of this effect within the transfer: the step name,
  ** plus the iteration index for steps inside `for`. Equal across
  ** retries and replays of the same revision, so the host can find a
  ** reservation made before a crash. */
  Str effect_key;
  const char *location; /* "flows/x.iexflow:175:16" of the step */
  /* Where a connector says what it did instead of what was asked, for
  ** people ("booked invoice 20001 is left alone: e-conomic cannot change
  ** a booked invoice"). NULL: nobody listens (the VM's own calls); the
  ** executor points it at its own OpNote before a write. */
  OpNote *note;
} OpCall;

/* How the host answered. */
typedef enum HostAnswer {
  HOST_DONE = 0,     /* *result is the record the system returned */
  HOST_SKIP = 1,     /* the transfer stops as skipped; err->message says why */
  HOST_FAIL = 2      /* the transfer stops; *err says why (its code says
                        whether to retry: see runtime/status.def) */
} HostAnswer;

typedef struct Host {
  void *ctx;

  /* Run one operation. On HOST_DONE `*result` holds the returned record
  ** (a RECORD, or null for an operation that returns nothing). */
  HostAnswer (*operation)(void *ctx, const OpCall *call, Value *result,
                          Err *err);

  /* A stage worth keeping: `name` is "mapped:<step>" for the record a
  ** step is about to send, "binding:<name>" for top-level bindings in
  ** preview. May be NULL (the VM then skips the calls). */
  void (*stage)(void *ctx, const char *name, Value data);
} Host;

#endif /* IEX_RUNTIME_HOST_H */
