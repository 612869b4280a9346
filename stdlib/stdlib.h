/*
** The standard library: the functions a mapping can call, as the VM calls
** them. The list of functions, their signatures and documentation is
** stdlib/stdlib.def (read by the checker, the VM and the docs generator);
** this header is the calling convention and the registry.
**
** Calling convention. The compiler has already checked every call against
** the signature, filled in omitted arguments with their defaults and put
** named arguments in signature order, so an implementation receives
** exactly the parameters of its signature, positionally. Types are checked
** again cheaply at run time only where the checker cannot know them (a
** value from Lua, a field typed `any`).
**
** Key functions (`where: x => …`, `by: x => …`) are not closures: the VM
** evaluates the key function once per element, in order, and passes the
** resulting list of keys (same length as the values) in the key
** parameter's place. So `sort(items, by: i => i.sku)` reaches std_sort as
** (items, [sku1, sku2, …], false).
**
** Ownership: arguments are borrowed Values of the evaluation's arena; the
** result is written to `*out` and, like every Value, lives in
** `call->arena` (see runtime/value.h). On failure an implementation writes
** one message to `call->error` — lower case, no final period, naming the
** offending value ("`abc` is not a number") — and returns false; the VM
** adds the flow location and the record. Functions never print, never
** touch global state and never depend on the wall clock (now() returns the
** run's start time), so a retry computes the same result.
*/
#ifndef IEX_STDLIB_STDLIB_H
#define IEX_STDLIB_STDLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/decimal.h"
#include "common/tz.h"
#include "runtime/value.h"

typedef struct StdCall {
  Arena *arena;         /* the evaluation's arena; results live here */
  const Value *args;    /* `argc` arguments in signature order; borrowed */
  uint32_t argc;        /* equals the signature's parameter count */
  Rounding rounding;    /* the flow's `rounding` rule */
  Value now;            /* DATETIME: when the run started (for now()) */
  TzDb *tz;             /* the time-zone database (for to_zone()); borrowed */
  Buf *error;           /* where a failure's message goes; borrowed */
} StdCall;

/* An implementation: true and `*out` set, or false and a message. */
typedef bool (*StdFn)(StdCall *call, Value *out);

/* Function numbers: the position in stdlib.def (part of the .iexb format). */
typedef enum StdFunction {
#define FN(name, family, signature, doc) STD_##name,
#include "stdlib/stdlib.def"
#undef FN
  STD__COUNT
} StdFunction;

/* One registry entry, from stdlib.def plus the C function. */
typedef struct StdEntry {
  const char *name;       /* as flows write it */
  const char *family;     /* str, money, date, list, vat, record */
  const char *signature;  /* the signature language of stdlib.def */
  const char *doc;        /* one or two sentences for docs/stdlib.md */
  StdFn fn;               /* the implementation */
} StdEntry;

/* The registry, indexed by StdFunction; STD__COUNT entries. */
extern const StdEntry std_functions[STD__COUNT];

/* The entry named `name`, or NULL. */
const StdEntry *std_lookup(Str name);

#endif /* IEX_STDLIB_STDLIB_H */
