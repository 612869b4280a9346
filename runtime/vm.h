/*
** The VM: runs a compiled flow (runtime/bytecode.h) on one source record.
**
** A Vm is made once per Program (and per thread) and reused for record
** after record: it owns the record arena, the value stack, the slots and
** the settings. For each record:
**
**   Arena *a = vm_begin(vm);             reset the arena from the last record
**   jsonv_decode_with(&dec, a, line, &order, &jerr);   the record, into it
**   VmOutcome o = vm_run(vm, order, &host, &err);
**   ... read vm_result(vm, i) / the host's copies before the next vm_begin
**
** vm_run() checks the trigger's stage and `where`, then runs the flow's
** nodes in order: top-level `let`s, guards and steps. A step maps its
** record, evaluates its parameters, reports the stage "mapped:<step>" and
** calls host->operation(); its answer becomes the step's value for the
** nodes after it. A `let` is reported as the stage "binding:<name>".
**
** Outcomes: VM_DONE; VM_SKIPPED (err->code IEX_SKIP_STATE, IEX_SKIP_WHERE,
** IEX_SKIP for `skip(...)`, or a host's skip); VM_FAILED (IEX_FAIL for
** `fail(...)`, IEX_E_MAPPING for an error evaluating the flow, or the
** host's code). err->message is the reason as the flow wrote it (or what
** went wrong, naming the values); err->location the rule:
** "flows/x.iexflow:42:17". Print them as "LOCATION: MESSAGE".
**
** Ownership: the Program is borrowed and must outlive the Vm. Every Value
** the VM makes lives in its record arena until the next vm_begin() or
** vm_free(). Settings are copied into an arena of their own that lives
** until they change.
*/
#ifndef IEX_RUNTIME_VM_H
#define IEX_RUNTIME_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/datetime.h"
#include "common/str.h"
#include "common/tz.h"
#include "runtime/bytecode.h"
#include "runtime/host.h"
#include "runtime/status.h"
#include "runtime/value.h"

typedef struct Vm Vm;

typedef enum VmOutcome {
  VM_DONE = 0,
  VM_SKIPPED = 1,
  VM_FAILED = 2
} VmOutcome;

/* A Lua function call (runtime/lua_bridge.h plugs in here): call the
** function `name` ("helpers.normalize_phone") with `argc` arguments, put
** the result in `*out` (in `arena`). On failure write a message to
** `error` (with the Lua file and line) and return false. */
typedef bool (*VmLuaFn)(void *ctx, Str name, const Value *args, uint32_t argc,
                        Arena *arena, Value *out, Buf *error);

/* A VM for `p`, with every setting at its default. The caller owns it. */
Vm *vm_new(const Program *p);
void vm_free(Vm *vm);

/* The Program the VM runs. */
const Program *vm_program(const Vm *vm);

/* Cap the bytes one record may allocate (0: no cap, the default). A flow
** that passes it fails with a message instead of exhausting memory. */
void vm_set_memory_limit(Vm *vm, size_t bytes);
/* The run's start time, which now() returns (default: the Unix epoch). */
void vm_set_now(Vm *vm, DateTime now);
/* The time-zone database for to_zone() (borrowed); NULL: the VM's own,
** which reads the system's zones ($TZDIR or /usr/share/zoneinfo). */
void vm_set_tz(Vm *vm, TzDb *tz);
/* How CALL_LUA instructions reach Lua (without it they fail with a message). */
void vm_set_lua(Vm *vm, VmLuaFn fn, void *ctx);

/* ---- Settings ---------------------------------------------------------- */

/* Set setting `name` to `v` (deep-copied). Checks that the value fits the
** setting's type: an enumeration value must be one of its values, a list
** of them each, a number must be a number ("19.99" as text is read as a
** decimal). Returns false with a message in `err` for an unknown setting
** or a value that does not fit. */
bool vm_set_setting(Vm *vm, Str name, Value v, char *err, size_t err_size);
/* The same with the value given as JSON text (`iex settings set`). */
bool vm_set_setting_json(Vm *vm, Str name, Str json, char *err, size_t err_size);
/* Every setting back to its default. */
void vm_reset_settings(Vm *vm);
/* The current value of setting `i` (program order); null when it has no
** default and was not set. */
Value vm_setting(const Vm *vm, uint32_t i);
/* Whether every setting without a default has been set; if not, `*missing`
** is the first such setting's index. */
bool vm_settings_complete(const Vm *vm, uint32_t *missing);

/* ---- Running ----------------------------------------------------------- */

/* Start a new record: resets the record arena (everything from the last
** record dies) and returns it, so the caller can decode the record there. */
Arena *vm_begin(Vm *vm);
/* The record arena (for hosts that need it outside OpCall). */
Arena *vm_arena(Vm *vm);

/* Run the flow on `record` (which must live in vm_arena() or longer) with
** `host` (see runtime/host.h). Returns the outcome; `err` (required) says
** why for a skip or a failure and is initialised on VM_DONE. */
VmOutcome vm_run(Vm *vm, Value record, const Host *host, Err *err);

/* After vm_run(): the value of node `i` (a let's value, a step's result;
** null for a guard, a step that did not run, or one not reached). */
Value vm_result(const Vm *vm, uint32_t node);
/* After vm_run(): whether step node `i` ran (false when its `when` was
** false or the run stopped before it). */
bool vm_node_ran(const Vm *vm, uint32_t node);
/* After vm_run(): the record step node `i` mapped (what it sent), or null. */
Value vm_mapped(const Vm *vm, uint32_t node);

/* Evaluate block `block` of the program on its own, with slot 0 set to
** `record` (null allowed), and put its value in `*out`. For test inputs,
** expected records and settings blocks (compiler/testrun.c). Returns false
** with the reason in `err` when the block skips, fails or errs. */
bool vm_eval_block(Vm *vm, uint32_t block, Value record, Value *out, Err *err);

#endif /* IEX_RUNTIME_VM_H */
