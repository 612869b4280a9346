/*
** LuaBridge: the Lua 5.4 escape hatch (docs/lua.md, docs/language.md "Lua
** functions"). A flow's `use NAME: lua "FILE"` makes the global functions
** of a .lua file beside the flow callable like stdlib functions; the VM
** calls them through this module.
**
** One LuaBridge is one sandboxed lua_State with its own capped allocator,
** for one flow evaluation context (one thread). It loads source text only
** (binary chunks are refused), opens only base/string/table/math/utf8
** without anything that reaches files, the OS, the clock or randomness, and
** converts runtime Values to Lua values and back without loss (decimals
** stay exact, as `decimal` userdata). Two limits cannot be caught by the
** script's own pcall: an instruction budget per call and a memory limit;
** once hit they stay hit until the call returns, and the call fails with
** IEX_E_LUA_BUDGET / IEX_E_LUA_MEMORY whatever the script did.
**
** Invariant: no Value and no arena pointer is kept in the lua_State after
** a call returns; results are copied into the caller's arena.
*/
#ifndef IEX_RUNTIME_LUA_BRIDGE_H
#define IEX_RUNTIME_LUA_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/decimal.h"
#include "runtime/status.h"
#include "runtime/value.h"

/* Defaults used when a LuaLimits field is 0. Chosen so that a helper that
** normalises a phone number or a SKU never comes near them, while a
** runaway loop fails within a fraction of a second. */
#define LUA_BRIDGE_DEFAULT_MEMORY_BYTES ((size_t)32 * 1024 * 1024)
#define LUA_BRIDGE_DEFAULT_INSTRUCTIONS ((uint64_t)10 * 1000 * 1000)
/* How deeply lists and records may nest when crossing the bridge (either
** way); also what stops a Lua table that contains itself. */
#define LUA_BRIDGE_MAX_DEPTH 64
/* Bytes of print() output kept per call (see lua_bridge_printed). */
#define LUA_BRIDGE_PRINT_BYTES 4096

typedef struct LuaLimits {
  size_t memory_bytes;   /* live bytes the lua_State may hold, libraries
                         ** included; 0 = LUA_BRIDGE_DEFAULT_MEMORY_BYTES */
  uint64_t instructions; /* VM instructions per call (and for loading a
                         ** file), counted in steps of 1000; 0 = default */
} LuaLimits;

typedef struct LuaBridge LuaBridge;

/* A new bridge with an empty sandbox. `limits` may be NULL (defaults).
** `rounding` is the flow's `rounding` rule, used when a decimal division
** in Lua has no exact result. The caller owns the bridge and releases it
** with lua_bridge_free(). Aborts (like xmalloc) only if even the empty
** state does not fit in the memory limit, which is a configuration bug. */
LuaBridge *lua_bridge_new(const LuaLimits *limits, Rounding rounding);
/* Close the lua_State (freeing every Lua object) and the bridge. NULL is
** allowed. */
void lua_bridge_free(LuaBridge *b);

/* Read the .lua file at `path` and run it (defining its functions) in the
** sandbox. `path` is also the name errors use ("flows/helpers.lua:12:").
** A file may be loaded only once per bridge, and several files share one
** global namespace. Fails with IEX_E_NOT_FOUND (cannot read), IEX_E_LUA
** (syntax error, binary chunk, runtime error at top level),
** IEX_E_LUA_BUDGET or IEX_E_LUA_MEMORY, with the detail in `err`. */
IexStatus lua_bridge_load(LuaBridge *b, const char *path, Err *err);
/* Like lua_bridge_load() for `len` bytes of source `text`; `name` is what
** errors call the chunk ("helpers.lua"). The text is copied by Lua. */
IexStatus lua_bridge_load_text(LuaBridge *b, const char *name,
                               const char *text, size_t len, Err *err);

/* Whether the loaded files define a global function `function`. */
bool lua_bridge_has(LuaBridge *b, const char *function);

/* Call the global Lua function `function` with `argc` arguments `args`
** (borrowed) and store its first result in `*out`, converted to a Value
** whose every byte lives in `arena` (no result, or nil, is null). Globals
** the call assigns are discarded when it returns (docs/lua.md).
**
** `caller_location` is the flow rule that called ("flows/x.iexflow:22:14")
** and goes into err->location on failure; NULL or "" if unknown. Fails
** with IEX_E_NOT_FOUND (no such function), IEX_E_LUA (a Lua error, or a
** result that has no Value: a float with a fraction, a function, a table
** with mixed keys, invalid UTF-8), IEX_E_LUA_BUDGET, IEX_E_LUA_MEMORY, or
** IEX_E_MAPPING when `arena`'s own limit refuses the result. The message
** names the Lua file and line where that is known. `*out` is set only on
** IEX_OK. The bridge stays usable after any failure. */
IexStatus lua_bridge_call(LuaBridge *b, const char *function,
                          const Value *args, size_t argc, Arena *arena,
                          Value *out, const char *caller_location, Err *err);

/* What the last call (or load) printed with print(), at most
** LUA_BRIDGE_PRINT_BYTES; "" if nothing. Owned by the bridge, valid until
** its next call. For `iexc --test` and `iex preview` to show; print()
** never reaches stdout. */
const char *lua_bridge_printed(LuaBridge *b);

/* Bytes the lua_State holds now (for tests and `iex stats`). */
size_t lua_bridge_memory_bytes(const LuaBridge *b);
/* Instructions the last call used, counted in the hook's steps (so a
** multiple of the step, at most the budget plus one step). */
uint64_t lua_bridge_instructions_used(const LuaBridge *b);

/* ---- Lua for a compiled flow ------------------------------------------- */

/* The Lua files of one compiled flow (runtime/bytecode.h: a ProgUse with
** `use NAME: lua "FILE"` carries the file's text), one bridge per file so
** that two files may define functions of the same name. Plugs into the VM
** with vm_set_lua(vm, lua_flow_call, lf). */
typedef struct Program Program;
typedef struct LuaFlow LuaFlow;

/* Load every Lua file of `p` into its own bridge with `limits` (NULL:
** defaults) and the flow's rounding. Errors name the file as the flow's
** folder plus the name written ("flows/helpers.lua"). On success `*out`
** is the caller's (lua_flow_free); a flow without Lua gets an empty one.
** `p` must outlive it. Fails as lua_bridge_load_text() does. */
IexStatus lua_flow_new(const Program *p, const LuaLimits *limits, LuaFlow **out, Err *err);
void lua_flow_free(LuaFlow *lf);

/* A VmLuaFn (runtime/vm.h): call "NAME.function" with `argc` arguments;
** the result lives in `arena`. On failure writes the message (Lua file
** and line first; the VM adds the flow rule) to `error` and returns
** false. `lua_flow` is the LuaFlow. */
bool lua_flow_call(void *lua_flow, Str name, const Value *args, uint32_t argc, Arena *arena,
                   Value *out, Buf *error);

/* The usual way to give a VM its Lua: lua_flow_new() for `p`, plugged into
** `vm` with vm_set_lua(), and freed when `p` is freed (a cleanup on its
** arena), so callers need no extra clean-up path. Free the VM before the
** Program, as every caller does anyway. Fails as lua_flow_new() does, and
** then changes nothing. */
typedef struct Vm Vm;
IexStatus lua_flow_attach(Vm *vm, Program *p, const LuaLimits *limits, Err *err);

#endif /* IEX_RUNTIME_LUA_BRIDGE_H */
