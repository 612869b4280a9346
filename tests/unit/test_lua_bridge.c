/* Unit tests of runtime/lua_bridge: round trips of every value kind,
** decimal arithmetic in Lua, how Lua tables come back, every sandbox
** escape we know of, the instruction budget and the memory limit (also
** when the script catches them with pcall), and error locations. Run
** under ASan, so every failure path is also checked for leaks. */
#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "runtime/bytecode.h"
#include "runtime/json_value.h"
#include "runtime/lua_bridge.h"
#include "runtime/status.h"
#include "runtime/value.h"
#include "tests/lib/check.h"
#include "tests/unit/value_fixture.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A bridge with `src` loaded as "t.lua", small limits so tests are fast. */
static LuaBridge *bridge(const char *src) {
  LuaLimits lim = {.memory_bytes = 4 * 1024 * 1024, .instructions = 2 * 1000 * 1000};
  LuaBridge *b = lua_bridge_new(&lim, ROUND_HALF_UP);
  Err err;
  err_init(&err);
  if (lua_bridge_load_text(b, "t.lua", src, strlen(src), &err) != IEX_OK)
    iex_fatal("cannot load test chunk: %s", err_text(&err));
  return b;
}

/* Call `fn` with `argc` args; returns the status, result in *out. */
static IexStatus call(LuaBridge *b, const char *fn, Value *args, size_t argc, Value *out,
                      Err *err) {
  err_init(err);
  return lua_bridge_call(b, fn, args, argc, &A, out, "flows/x.iexflow:22:14", err);
}

/* Call a function of no arguments and render its result (or its error). */
static const char *run0(LuaBridge *b, const char *fn) {
  static char text[1024];
  Value out;
  Err err;
  IexStatus rc = call(b, fn, NULL, 0, &out, &err);
  if (rc == IEX_OK) return DEBUG(out);
  snprintf(text, sizeof text, "%s: %s", status_name(rc), err_text(&err));
  return text;
}



/* ---- Round trips ----------------------------------------------------------- */

TEST(every_kind_round_trips_unchanged) {
  LuaBridge *b = bridge("function id(...) return ... end\n"
                        "function kind(x) return iex.type(x) end\n");
  DateTime dt;
  int32_t days;
  datetime_parse(STR_LIT("2024-03-01T10:15:00.25+01:00"), &dt, NULL);
  date_parse(STR_LIT("2024-02-29"), &days, NULL);
  Value vals[] = {
      value_null(), value_bool(true), value_bool(false), value_int(0),
      value_int(INT64_MAX), value_int(INT64_MIN), J("1.50"), J("-0.000000000000000001"),
      J("99999999999999999.9"), value_string("", 0), value_string("Søren \0x", 9),
      value_date(days), value_datetime(dt), J("1e400"),
      J("[1, null, \"x\", [], {}, [null]]"),
      J("{\"z\": 1, \"a\": null, \"m\": {\"y\": 2.50, \"b\": []}, \"n\": null}"), J("[]"),
      J("{}"), J("[{\"sku\": \"A\", \"qty\": 2}, {\"sku\": \"B\", \"qty\": null}]"),
  };
  const char *kinds[] = {"null", "boolean", "boolean", "number", "number", "number",
                         "decimal", "decimal", "decimal", "string", "string", "date",
                         "datetime", "numtext", "list", "record", "list", "record", "list"};
  for (size_t i = 0; i < ARRAY_LEN(vals); i++) {
    Value out;
    Err err;
    char want[4096];
    snprintf(want, sizeof want, "%s", DEBUG(vals[i]));
    CHECK_EQ_INT(call(b, "id", &vals[i], 1, &out, &err), IEX_OK);
    /* value_debug shows the decimal scale, the datetime offset and the
    ** key order, which value_equal does not all compare. */
    CHECK_EQ_STR(DEBUG(out), want);
    CHECK(value_equal(out, vals[i]));
    CHECK_EQ_INT(call(b, "kind", &vals[i], 1, &out, &err), IEX_OK);
    snprintf(want, sizeof want, "\"%s\"", kinds[i]);
    CHECK_EQ_STR(DEBUG(out), want);
  }
  /* Several arguments, and only the first result comes back. */
  Value out;
  Err err;
  CHECK_EQ_INT(call(b, "id", vals, 4, &out, &err), IEX_OK);
  CHECK(value_is_null(out));
  lua_bridge_free(b);
}

TEST(result_bytes_live_in_the_callers_arena) {
  LuaBridge *b = bridge("function f() return {name = 'Søren ' .. 'K', lines = {'a'}} end");
  Arena mine;
  arena_init(&mine);
  Value out;
  Err err;
  err_init(&err);
  CHECK_EQ_INT(lua_bridge_call(b, "f", NULL, 0, &mine, &out, NULL, &err), IEX_OK);
  /* The state is closed first: nothing of the result may point into it. */
  lua_bridge_free(b);
  CHECK_EQ_STR(DEBUG(out), "{\"lines\": [\"a\"], \"name\": \"Søren K\"}");
  arena_fini(&mine);
}

/* ---- Decimals ---------------------------------------------------------------- */

TEST(decimals_are_exact_in_lua) {
  LuaBridge *b = bridge(
      "function sum() return decimal('0.1') + decimal('0.2') == decimal('0.3') end\n"
      "function floaty() return 0.1 + 0.2 == 0.3 end\n"
      "function mixed(p) return p * 3 - 1 end\n"
      "function third() return decimal(1) / 3 end\n"
      "function twothirds() return decimal(2) / 3 end\n"
      "function text(p) return tostring(p) .. '|' .. ('total ' .. p) end\n"
      "function cmp(p) return {p < 20, p <= decimal('19.99'), p > 1, -p < p, p == 19.99} end\n"
      "function rnd(p) return {p:round(1), p:round(1, 'half_even'), p:round(1, 'down'), "
      "p:round(0, 'down'), (-p):abs(), decimal('2.00'):tointeger(), p:tointeger() == nil} end\n"
      "function withfloat(p) return p + 0.5 end\n"
      "function overflow() return decimal('999999999999999999') + 1 end\n"
      "function divzero() return decimal(1) / 0 end\n"
      "function badtext() return decimal('1.') end\n");
  CHECK_EQ_STR(run0(b, "sum"), "true");
  CHECK_EQ_STR(run0(b, "floaty"), "false"); /* why decimals exist */
  Value p = J("19.95"), out;
  Err err;
  CHECK_EQ_INT(call(b, "mixed", &p, 1, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "58.85");
  /* Division rounds with the flow's rule only when it must. */
  CHECK_EQ_STR(run0(b, "third"), "0.333333333333333333");
  CHECK_EQ_STR(run0(b, "twothirds"), "0.666666666666666667");
  CHECK_EQ_INT(call(b, "text", &p, 1, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "\"19.95|total 19.95\"");
  CHECK_EQ_INT(call(b, "cmp", &p, 1, &out, &err), IEX_OK);
  /* `p == 19.99` is false whatever p is: Lua only asks __eq of two
  ** userdata (docs/lua.md). */
  CHECK_EQ_STR(DEBUG(out), "[true, true, true, true, false]");
  CHECK_EQ_INT(call(b, "rnd", &p, 1, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "[20.0, 20.0, 19.9, decimal(19), 19.95, 2, true]");
  CHECK_EQ_INT(call(b, "withfloat", &p, 1, &out, &err), IEX_E_LUA);
  CHECK_CONTAINS(err_text(&err), "float");
  CHECK_CONTAINS(err_text(&err), "t.lua:9:");
  CHECK_CONTAINS(run0(b, "overflow"), "E_LUA: t.lua:10: decimal +:");
  CHECK_CONTAINS(run0(b, "divzero"), "E_LUA: t.lua:11: decimal /:");
  CHECK_CONTAINS(run0(b, "badtext"), "E_LUA: t.lua:12: decimal(\"1.\")");
  lua_bridge_free(b);

  /* The rule is the flow's. */
  LuaLimits lim = {0};
  b = lua_bridge_new(&lim, ROUND_DOWN);
  const char *src = "function f() return decimal(2) / 3 end";
  err_init(&err);
  CHECK_EQ_INT(lua_bridge_load_text(b, "d.lua", src, strlen(src), &err), IEX_OK);
  CHECK_EQ_STR(run0(b, "f"), "0.666666666666666666");
  lua_bridge_free(b);
}

TEST(dates_in_lua) {
  LuaBridge *b = bridge(
      "function f(d, t) return {d.year, d.month, d.day, d.weekday, tostring(d:add_days(1)),\n"
      "  t.hour, t.offset, tostring(t:date()), d < d:add_days(1), d == iex.date(2024, 2, 29),\n"
      "  t == iex.datetime('2024-03-01T09:15:00.25Z'), 'on ' .. d} end\n"
      "function bad() return iex.date('2024-02-30') end\n"
      "function mk() return {iex.date('2025-01-01'), iex.datetime('2025-01-01T00:00:00Z')} end\n");
  Value args[2] = {J("0"), J("0")};
  int32_t days;
  DateTime dt;
  date_parse(STR_LIT("2024-02-29"), &days, NULL);
  datetime_parse(STR_LIT("2024-03-01T10:15:00.25+01:00"), &dt, NULL);
  args[0] = value_date(days);
  args[1] = value_datetime(dt);
  Value out;
  Err err;
  CHECK_EQ_INT(call(b, "f", args, 2, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "[2024, 2, 29, 4, \"2024-03-01\", 10, 60, \"2024-03-01\", true, "
                           "true, true, \"on 2024-02-29\"]");
  CHECK_CONTAINS(run0(b, "bad"), "E_LUA: t.lua:4: date(\"2024-02-30\")");
  CHECK_EQ_STR(run0(b, "mk"), "[date(2025-01-01), datetime(2025-01-01T00:00:00Z)]");
  lua_bridge_free(b);
}

/* ---- Tables made in Lua --------------------------------------------------- */

TEST(lua_tables_become_lists_and_records) {
  LuaBridge *b = bridge(
      "function rec() return {b = 1, a = 2, ['Order ID'] = 'x'} end\n"
      "function ordered() return iex.record({b = 1, a = 2, c = 3}, {'c', 'b', 'c'}) end\n"
      "function list() return {1, 2, 3} end\n"
      "function empty() return {} end\n"
      "function emptyrec() return iex.record({}) end\n"
      "function nulls() return {1, iex.null, 3} end\n"
      "function edit(r) r.total = r.total * 2; r.a = nil; r.new = true; r.b2 = 0; return r end\n"
      "function editlist(l) l[#l + 1] = 'd'; return l end\n"
      "function emptied(l) l[1] = nil; return l end\n"
      "function mixed() return {1, 2, x = 3} end\n"
      "function holes() local t = {}; t[1] = 1; t[3] = 3; return t end\n"
      "function floatkey() return {[1.5] = 1} end\n"
      "function fn() return print end\n"
      "function fl() return 7 / 2 end\n"
      "function fli() return 6 / 2 end\n"
      "function nan() return 0 / 0 end\n"
      "function cycle() local t = {}; t.self = t; return t end\n"
      "function badutf8() return '\\xff' end\n"
      "function deepbad() return {lines = {{price = 0.5}}} end\n");
  CHECK_EQ_STR(run0(b, "rec"), "{\"Order ID\": \"x\", \"a\": 2, \"b\": 1}");
  CHECK_EQ_STR(run0(b, "ordered"), "{\"c\": 3, \"b\": 1, \"a\": 2}");
  CHECK_EQ_STR(run0(b, "list"), "[1, 2, 3]");
  CHECK_EQ_STR(run0(b, "empty"), "[]");
  CHECK_EQ_STR(run0(b, "emptyrec"), "{}");
  CHECK_EQ_STR(run0(b, "nulls"), "[1, null, 3]");
  Value r = J("{\"z\": 1, \"a\": 5, \"total\": 2.50, \"n\": null}"), out;
  Err err;
  CHECK_EQ_INT(call(b, "edit", &r, 1, &out, &err), IEX_OK);
  /* The flow's order first (a field set to nil is null, not gone), then
  ** new fields by name. */
  CHECK_EQ_STR(DEBUG(out), "{\"z\": 1, \"a\": null, \"total\": 5.00, \"n\": null, "
                           "\"b2\": 0, \"new\": true}");
  Value l = J("[\"a\", null]");
  CHECK_EQ_INT(call(b, "editlist", &l, 1, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "[\"a\", null, \"d\"]");
  l = J("[\"a\"]");
  CHECK_EQ_INT(call(b, "emptied", &l, 1, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "[]");
  CHECK_CONTAINS(run0(b, "mixed"), "E_LUA: Lua function `mixed` returned a table with both");
  CHECK_CONTAINS(run0(b, "holes"), "a list with holes");
  CHECK_CONTAINS(run0(b, "floatkey"), "neither a string nor an index");
  CHECK_CONTAINS(run0(b, "fn"), "returned a function value");
  CHECK_CONTAINS(run0(b, "fl"), "returned the float 3.5");
  CHECK_EQ_STR(run0(b, "fli"), "3");
  CHECK_CONTAINS(run0(b, "nan"), "E_LUA");
  CHECK_CONTAINS(run0(b, "cycle"), "nested deeper than 64");
  CHECK_CONTAINS(run0(b, "badutf8"), "not valid UTF-8");
  CHECK_CONTAINS(run0(b, "deepbad"), "returned, at `result.lines[1].price`, the float 0.5");
  lua_bridge_free(b);
}

TEST(arena_limit_is_a_mapping_error) {
  LuaBridge *b = bridge("function big() return string.rep('x', 100000) end");
  Arena tiny;
  arena_init(&tiny);
  arena_set_limit(&tiny, 1000);
  Value out;
  Err err;
  err_init(&err);
  CHECK_EQ_INT(lua_bridge_call(b, "big", NULL, 0, &tiny, &out, NULL, &err), IEX_E_MAPPING);
  CHECK_CONTAINS(err_text(&err), "memory limit was reached");
  arena_fini(&tiny);
  lua_bridge_free(b);
}

/* ---- The sandbox ------------------------------------------------------------ */

TEST(sandbox_has_no_way_out) {
  LuaBridge *b = bridge(
      "function absent() return {io == nil, os == nil, debug == nil, require == nil,\n"
      "  package == nil, dofile == nil, loadfile == nil, collectgarbage == nil,\n"
      "  string.dump == nil, math.random == nil, math.randomseed == nil, coroutine == nil,\n"
      "  warn == nil, type(string.format) == 'function', type(pcall) == 'function'} end\n"
      "function binload() local f, e = load('\\27Lua\\84\\0', 'x', 'b'); return e end\n"
      "function textload() return load('return 1 + 1')() end\n"
      "function strmeta() return getmetatable('') end\n"
      "function strwrite() string.upper = nil end\n"
      "function strraw() rawset(string, 'upper', 1) end\n"
      "function gc() setmetatable({}, {__gc = function() end}) end\n"
      "function envmeta() setmetatable(_G, nil) end\n"
      "function usermeta(d) return getmetatable(d) end\n"
      "function upper() return ('abc'):upper() end\n"
      "function iexwrite() iex.decimal = nil end\n"
      "function stdout() print('hello', 1, decimal('1.50')); return 1 end\n");
  CHECK_EQ_STR(run0(b, "absent"), "[true, true, true, true, true, true, true, true, true, "
                                  "true, true, true, true, true, true]");
  CHECK_CONTAINS(run0(b, "binload"), "binary chunk");
  CHECK_EQ_STR(run0(b, "textload"), "2");
  CHECK_EQ_STR(run0(b, "strmeta"), "false");
  CHECK_CONTAINS(run0(b, "strwrite"), "read-only");
  CHECK_CONTAINS(run0(b, "strraw"), "read-only");
  CHECK_CONTAINS(run0(b, "gc"), "__gc");
  CHECK_CONTAINS(run0(b, "envmeta"), "protected metatable");
  Value d = J("1.5"), out;
  Err err;
  CHECK_EQ_INT(call(b, "usermeta", &d, 1, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "\"decimal\"");
  CHECK_CONTAINS(run0(b, "iexwrite"), "read-only");
  CHECK_EQ_STR(run0(b, "upper"), "\"ABC\""); /* what the sandbox leaves works */
  CHECK_EQ_STR(run0(b, "stdout"), "1");
  CHECK_EQ_STR(lua_bridge_printed(b), "hello\t1\t1.50\n");
  lua_bridge_free(b);

  /* A binary chunk is refused as a file too. */
  b = lua_bridge_new(NULL, ROUND_HALF_UP);
  err_init(&err);
  CHECK_EQ_INT(lua_bridge_load_text(b, "bin.lua", "\x1bLua\x54", 5, &err), IEX_E_LUA);
  CHECK_CONTAINS(err_text(&err), "binary chunk");
  lua_bridge_free(b);
}

TEST(globals_do_not_persist_between_calls) {
  LuaBridge *b = bridge("local hidden = 0\n"
                        "RATES = {DK = 25}\n"
                        "function count() counter = (counter or 0) + 1; return counter end\n"
                        "function viaG() _G.x = (_G.x or 0) + 1; rawset(_G, 'y', 1); return x end\n"
                        "function clobber() count = nil; return 1 end\n"
                        "function rate() return RATES.DK end\n");
  CHECK_EQ_STR(run0(b, "count"), "1");
  CHECK_EQ_STR(run0(b, "count"), "1");
  CHECK_EQ_STR(run0(b, "viaG"), "1");
  CHECK_EQ_STR(run0(b, "viaG"), "1");
  /* Replacing a function of the file lasts for that call only. */
  CHECK_EQ_STR(run0(b, "clobber"), "1");
  CHECK(lua_bridge_has(b, "count"));
  CHECK_EQ_STR(run0(b, "count"), "1");
  CHECK_EQ_STR(run0(b, "rate"), "25");
  CHECK(lua_bridge_has(b, "rate"));
  CHECK(!lua_bridge_has(b, "RATES"));   /* not a function */
  CHECK(!lua_bridge_has(b, "string"));
  CHECK(!lua_bridge_has(b, "nope"));
  CHECK_CONTAINS(run0(b, "nope"), "E_NOT_FOUND: no Lua function `nope`");
  lua_bridge_free(b);
}

/* ---- Limits ------------------------------------------------------------------ */

TEST(instruction_budget_cannot_be_caught) {
  LuaBridge *b = bridge(
      "function spin()\n"
      "  while true do end\n"
      "end\n"
      "function caught()\n"
      "  local ok = pcall(function() while true do end end)\n"
      "  return 'escaped'\n"
      "end\n"
      "function stubborn()\n"
      "  while true do pcall(function() while true do end end) end\n"
      "end\n"
      "function handler()\n"
      "  return xpcall(function() while true do end end, function() return 'h' end)\n"
      "end\n"
      "function fine() local s = 0; for i = 1, 1000 do s = s + i end; return s end\n");
  const char *r = run0(b, "spin");
  CHECK_CONTAINS(r, "E_LUA_BUDGET: t.lua:2: instruction budget exceeded");
  CHECK_CONTAINS(r, "in Lua function `spin`");
  CHECK_CONTAINS(run0(b, "caught"), "E_LUA_BUDGET: t.lua:5:");
  CHECK_CONTAINS(run0(b, "stubborn"), "E_LUA_BUDGET: t.lua:9:");
  CHECK_CONTAINS(run0(b, "handler"), "E_LUA_BUDGET");
  CHECK(lua_bridge_instructions_used(b) <= 2 * 1000 * 1000 + 10000);
  /* The bridge is fine afterwards, and the budget is per call. */
  for (int i = 0; i < 3; i++) CHECK_EQ_STR(run0(b, "fine"), "500500");
  CHECK(lua_bridge_instructions_used(b) < 10000);
  /* The location of the flow rule is the caller's. */
  Value out;
  Err err;
  CHECK_EQ_INT(call(b, "spin", NULL, 0, &out, &err), IEX_E_LUA_BUDGET);
  CHECK_EQ_STR(err.location, "flows/x.iexflow:22:14");
  lua_bridge_free(b);
}

TEST(memory_limit_cannot_be_caught) {
  LuaBridge *b = bridge(
      "function bomb()\n"
      "  local t = {}\n"
      "  while true do t[#t + 1] = string.rep('x', 1000) .. #t end\n"
      "end\n"
      "function caught()\n"
      "  local ok = pcall(function() local t = {} while true do t[#t + 1] = {} end end)\n"
      "  return 1\n"
      "end\n"
      "function rep() return #string.rep('x', 1000000000) end\n"
      "function concat()\n"
      "  local s = 'x'\n"
      "  while true do s = s .. s end\n"
      "end\n"
      "function fine() return #string.rep('y', 1000) end\n"
      "function caught_then_spin()\n"
      "  pcall(function() local t = {} while true do t[#t + 1] = {} end end)\n"
      "  while true do end\n"
      "end\n"
      "function stubborn()\n"
      "  while true do pcall(function() local t = {} while true do t[#t + 1] = {} end end) end\n"
      "end\n");
  size_t before = lua_bridge_memory_bytes(b);
  CHECK_CONTAINS(run0(b, "bomb"), "E_LUA_MEMORY: t.lua:3: memory limit exceeded (4096 KiB)");
  CHECK(lua_bridge_memory_bytes(b) < before + 64 * 1024); /* collected afterwards */
  CHECK_CONTAINS(run0(b, "caught"), "E_LUA_MEMORY: t.lua:6:");
  CHECK_CONTAINS(run0(b, "rep"), "E_LUA_MEMORY: t.lua:9:");
  CHECK_CONTAINS(run0(b, "concat"), "E_LUA_MEMORY: t.lua:12:");
  CHECK_EQ_STR(run0(b, "fine"), "1000");
  /* Catching the error again and again does not get round the limit. */
  CHECK_CONTAINS(run0(b, "stubborn"), "E_LUA_MEMORY: t.lua:20:");
  /* Nor does catching it and carrying on without allocating. */
  CHECK_CONTAINS(run0(b, "caught_then_spin"), "E_LUA_MEMORY: t.lua:16:");
  CHECK(lua_bridge_memory_bytes(b) <= 4 * 1024 * 1024);
  lua_bridge_free(b);

  /* Arguments that do not fit are the memory limit too, not a crash. */
  LuaLimits lim = {.memory_bytes = 256 * 1024};
  b = lua_bridge_new(&lim, ROUND_HALF_UP);
  const char *src = "function id(x) return x end";
  Err err;
  err_init(&err);
  CHECK_EQ_INT(lua_bridge_load_text(b, "id.lua", src, strlen(src), &err), IEX_OK);
  char *big = xmalloc(512 * 1024);
  memset(big, 'a', 512 * 1024);
  Value arg = value_string(big, 512 * 1024), out;
  CHECK_EQ_INT(call(b, "id", &arg, 1, &out, &err), IEX_E_LUA_MEMORY);
  arg = value_string(big, 1000);
  CHECK_EQ_INT(call(b, "id", &arg, 1, &out, &err), IEX_OK);
  free(big);
  lua_bridge_free(b);
}

TEST(limits_apply_while_loading) {
  LuaLimits lim = {.memory_bytes = 1024 * 1024, .instructions = 100000};
  LuaBridge *b = lua_bridge_new(&lim, ROUND_HALF_UP);
  Err err;
  err_init(&err);
  const char *spin = "x = 1\nwhile true do end\n";
  CHECK_EQ_INT(lua_bridge_load_text(b, "spin.lua", spin, strlen(spin), &err),
               IEX_E_LUA_BUDGET);
  CHECK_CONTAINS(err_text(&err), "spin.lua:2: instruction budget exceeded");
  CHECK_CONTAINS(err_text(&err), "loading spin.lua");
  const char *bomb = "local t = {}\nwhile true do t[#t + 1] = {} end\n";
  CHECK_EQ_INT(lua_bridge_load_text(b, "bomb.lua", bomb, strlen(bomb), &err),
               IEX_E_LUA_MEMORY);
  /* A failed load defines nothing, not even what ran before the failure. */
  const char *probe = "function probe() return x == nil end";
  CHECK_EQ_INT(lua_bridge_load_text(b, "probe.lua", probe, strlen(probe), &err), IEX_OK);
  CHECK_EQ_STR(run0(b, "probe"), "true");
  lua_bridge_free(b);
}

/* ---- Errors and their locations ------------------------------------------------ */

TEST(errors_name_the_lua_line_and_the_flow_rule) {
  LuaLimits lim = {0};
  LuaBridge *b = lua_bridge_new(&lim, ROUND_HALF_UP);
  Err err;
  err_init(&err);
  CHECK_EQ_INT(lua_bridge_load(b, "tests/lua/helpers.lua", &err), IEX_OK);
  CHECK(lua_bridge_has(b, "normalize_phone"));
  Value args[2] = {J("\"+45 12 34 56 78\""), J("\"DK\"")}, out;
  CHECK_EQ_INT(call(b, "normalize_phone", args, 2, &out, &err), IEX_OK);
  CHECK_EQ_STR(DEBUG(out), "\"+4512345678\"");
  args[0] = J("\"12\"");
  CHECK_EQ_INT(call(b, "normalize_phone", args, 2, &out, &err), IEX_E_LUA);
  CHECK_EQ_STR(err.message, "tests/lua/helpers.lua:8: phone number `12` is too short "
                            "(in Lua function `normalize_phone`)");
  CHECK_EQ_STR(err.location, "flows/x.iexflow:22:14");
  /* error(msg, 0) carries no position; the bridge adds the line. */
  CHECK_EQ_INT(call(b, "no_position", NULL, 0, &out, &err), IEX_E_LUA);
  CHECK_CONTAINS(err.message, "tests/lua/helpers.lua:14: bare message");
  /* A runtime error in a nested function: the innermost line. */
  CHECK_EQ_INT(call(b, "outer", NULL, 0, &out, &err), IEX_E_LUA);
  CHECK_CONTAINS(err.message, "tests/lua/helpers.lua:18: attempt to index a nil value");
  /* A table as the error object. */
  CHECK_EQ_INT(call(b, "table_error", NULL, 0, &out, &err), IEX_E_LUA);
  CHECK_CONTAINS(err.message, "tests/lua/helpers.lua:25: (error object is a table value)");
  lua_bridge_free(b);

  /* Loading: a syntax error has its line; a missing file is not found. */
  b = lua_bridge_new(NULL, ROUND_HALF_UP);
  const char *bad = "function f()\n  return 1 +\nend\n";
  CHECK_EQ_INT(lua_bridge_load_text(b, "bad.lua", bad, strlen(bad), &err), IEX_E_LUA);
  CHECK_CONTAINS(err_text(&err), "bad.lua:3:");
  CHECK_EQ_INT(lua_bridge_load(b, "tests/lua/no-such-file.lua", &err), IEX_E_NOT_FOUND);
  CHECK_CONTAINS(err_text(&err), "no-such-file.lua");
  const char *top = "local x = nil\nlocal y = x.field\n";
  CHECK_EQ_INT(lua_bridge_load_text(b, "top.lua", top, strlen(top), &err), IEX_E_LUA);
  CHECK_CONTAINS(err_text(&err), "top.lua:2: attempt to index a nil value");
  lua_bridge_free(b);
}

/* ---- A compiled flow's Lua files (the VM's VmLuaFn) ---------------------- */

TEST(flow_files_each_get_a_bridge) {
  Program *p = program_new();
  p->source_path = program_str(p, STR_LIT("flows/shop.iexflow"));
  p->rounding = ROUND_DOWN;
  ProgUse *u = program_add_use(p);
  u->name = program_str(p, STR_LIT("shop"));
  u->system = program_str(p, STR_LIT("shopify"));
  u = program_add_use(p);
  u->name = program_str(p, STR_LIT("a"));
  u->lua_file = program_str(p, STR_LIT("a.lua"));
  u->lua_source = program_str(p, STR_LIT("function f(x) return x * 2 end\n"
                                         "function third() return decimal(2) / 3 end\n"));
  u = program_add_use(p);
  u->name = program_str(p, STR_LIT("b"));
  u->lua_file = program_str(p, STR_LIT("lib/b.lua"));
  u->lua_source = program_str(p, STR_LIT("function f(x) return x + 1 end\n"
                                         "function boom() error('no') end\n"));
  LuaFlow *lf = NULL;
  Err err;
  err_init(&err);
  CHECK_FATAL(lua_flow_new(p, NULL, &lf, &err) == IEX_OK);
  Value arg = value_int(20), out;
  Buf why;
  buf_init(&why, 0);
  /* The same name in two files: each use has its own. */
  CHECK(lua_flow_call(lf, STR_LIT("a.f"), &arg, 1, &A, &out, &why));
  CHECK_EQ_STR(DEBUG(out), "40");
  CHECK(lua_flow_call(lf, STR_LIT("b.f"), &arg, 1, &A, &out, &why));
  CHECK_EQ_STR(DEBUG(out), "21");
  CHECK(lua_flow_call(lf, STR_LIT("a.third"), NULL, 0, &A, &out, &why));
  CHECK_EQ_STR(DEBUG(out), "0.666666666666666666"); /* the flow's rounding */
  CHECK(!lua_flow_call(lf, STR_LIT("b.boom"), NULL, 0, &A, &out, &why));
  CHECK_CONTAINS(buf_cstr(&why), "flows/lib/b.lua:2: no");
  buf_reset(&why);
  CHECK(!lua_flow_call(lf, STR_LIT("shop.f"), &arg, 1, &A, &out, &why));
  CHECK_CONTAINS(buf_cstr(&why), "no Lua file is used as `shop`");
  buf_reset(&why);
  CHECK(!lua_flow_call(lf, STR_LIT("a.nope"), &arg, 1, &A, &out, &why));
  CHECK_CONTAINS(buf_cstr(&why), "no Lua function `nope`");
  buf_fini(&why);
  lua_flow_free(lf);
  /* A file that does not load fails the whole set, naming the file. */
  u->lua_source = program_str(p, STR_LIT("function f(\n"));
  CHECK_EQ_INT(lua_flow_new(p, NULL, &lf, &err), IEX_E_LUA);
  CHECK_CONTAINS(err_text(&err), "flows/lib/b.lua:2:");
  program_free(p);
}

int main(void) {
  check_suite = "unit/lua_bridge";
  /* A limit that stops working shows up as a script that never ends: die
  ** instead of hanging `make test` (the runner reports the exit status). */
  alarm(60);
  arena_init(&A);
  RUN(every_kind_round_trips_unchanged);
  RUN(result_bytes_live_in_the_callers_arena);
  RUN(decimals_are_exact_in_lua);
  RUN(dates_in_lua);
  RUN(lua_tables_become_lists_and_records);
  RUN(arena_limit_is_a_mapping_error);
  RUN(sandbox_has_no_way_out);
  RUN(globals_do_not_persist_between_calls);
  RUN(instruction_budget_cannot_be_caught);
  RUN(memory_limit_cannot_be_caught);
  RUN(limits_apply_while_loading);
  RUN(errors_name_the_lua_line_and_the_flow_rule);
  RUN(flow_files_each_get_a_bridge);
  arena_fini(&A);
  return check_done();
}
