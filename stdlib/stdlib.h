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
** `call->arena` (see runtime/value.h). A result may share bytes with an
** argument (trim, substring and split return views into their text) or
** with static memory (vat_prefix), which is as long-lived. On failure an implementation writes
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

/* The implementations, one per line of stdlib.def (in stdlib/<family>.c).
** The VM calls them through std_functions; tests call them directly. */
#define FN(name, family, signature, doc) bool std_##name(StdCall *call, Value *out);
#include "stdlib/stdlib.def"
#undef FN

/* ---- Limits ------------------------------------------------------------
** Every function bounds what it builds, so that no input (a pad width of
** a billion, a replace that multiplies the text) can take more memory
** than this; going over is an error naming the limit. The record's
** arena limit applies as well. */
#define STD_MAX_TEXT_BYTES ((size_t)16 * 1024 * 1024) /* any string result */
#define STD_MAX_PAD_WIDTH 1000000                     /* pad_left/right width */

/* ---- Arguments the checker fills in ------------------------------------
** A parameter of type `rounding` arrives as the rule's name as a string
** ("half_even"); its default `flow` arrives as null or the string "flow",
** both meaning StdCall.rounding. Key functions arrive as lists of keys
** (see above). A `date | datetime` argument may be either kind. */

/* ---- Text, as interpolation writes it -----------------------------------
** Append `v` to `out` as "{v}" inside a string shows it, and as string(v)
** returns it: null as nothing, bool as true/false, int and decimal as
** their digits (a decimal keeps its scale: 1.50), numtext as its text,
** dates as 2024-03-01, datetimes as ISO-8601 at their own offset, lists
** and records as compact JSON. Returns false when `out` reaches its bound
** or a string inside a list or record is not valid UTF-8. The VM uses
** this for interpolation so that both always agree. */
bool std_write_text(Value v, Buf *out);

/* ---- Documentation --------------------------------------------------------
** Append docs/stdlib.md, generated from the registry (so from stdlib.def),
** to `out`. Printed by build/.../bin/gendoc (`make docs`); a unit test
** fails when the committed docs/stdlib.md differs. */
void std_doc_write(Buf *out);

#endif /* IEX_STDLIB_STDLIB_H */
